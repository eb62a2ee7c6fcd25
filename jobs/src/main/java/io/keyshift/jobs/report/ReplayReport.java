package io.keyshift.jobs.report;

import io.keyshift.avro.Migration;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.jobs.input.ReplayInput;
import io.keyshift.jobs.replay.ReplayRunner;
import io.keyshift.jobs.replay.Strategy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The replay report: reads what each strategy's job wrote (see {@link io.keyshift.jobs.replay.ReplayJob}), writes
 * {@code results-<strategy>.csv} and {@code report.json}, and prints a summary table. Measures follow
 * ../shared/DESIGN.md, "Measures every report uses": loads are the records each window-operator subtask processed
 * (shadow copies included), references are computed from the realized per-key loads of the {@code hash} run.
 */
public final class ReplayReport {
    private final Path out;
    private final ObjectNode json;
    private final List<String> table;
    private ReportCharts.Data charts;

    private ReplayReport(Path out, ObjectNode json, List<String> table, ReportCharts.Data charts) {
        this.out = out;
        this.json = json;
        this.table = table;
        this.charts = charts;
    }

    /** The report as JSON (the content of report.json). */
    public ObjectNode json() {
        return json;
    }

    /** Writes report.json, report.html and charts/*.png. */
    public void write() throws IOException {
        ReportCharts.write(out, charts);
        // published last and atomically: a report.json is always whole and from this run
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        java.nio.file.Path tmp = out.resolve(".report.json.tmp");
        mapper.writeValue(tmp.toFile(), finiteOrNull(json.deepCopy()));
        java.nio.file.Files.move(tmp, out.resolve("report.json"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * {@code node} with every number that is not finite (an undefined measure: a headroom without room, a p95 without
     * eligible windows) as JSON null, as the other undefined measures are; Jackson would write "NaN" as a string.
     */
    public static com.fasterxml.jackson.databind.JsonNode finiteOrNull(com.fasterxml.jackson.databind.JsonNode node) {
        if (node instanceof ObjectNode o) {
            List<String> names = new ArrayList<>();
            o.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                com.fasterxml.jackson.databind.JsonNode v = o.get(name);
                if (v.isNumber() && !Double.isFinite(v.asDouble())) {
                    o.putNull(name);
                } else {
                    finiteOrNull(v);
                }
            }
        } else if (node instanceof com.fasterxml.jackson.databind.node.ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                if (a.get(i).isNumber() && !Double.isFinite(a.get(i).asDouble())) {
                    a.set(i, com.fasterxml.jackson.databind.node.NullNode.getInstance());
                } else {
                    finiteOrNull(a.get(i));
                }
            }
        }
        return node;
    }

    /** Adds the parallelism-over-time chart (series name -> window start -> parallelism). */
    public void addParallelismChart(Map<String, SortedMap<Long, Double>> parallelism) {
        charts = new ReportCharts.Data(charts.title(), charts.summary(), charts.loads(), charts.imbalance(),
                charts.forecasts(), charts.migrations(), parallelism, charts.windowMillis());
    }

    /** What the charts show: per strategy id, each window's loads per subtask and its imbalance. */
    ReportCharts.Data charts() {
        return charts;
    }

    /** Appends lines to the summary table (printed and on the HTML page). */
    public void addSummary(List<String> lines) {
        table.addAll(lines);
    }

    /**
     * The strategies whose results differ from hash's (lost, doubled or wrong results), with their mismatch counts;
     * empty for an exact replay.
     */
    public Map<String, Long> resultMismatches() {
        return resultMismatches(json);
    }

    /**
     * {@link #resultMismatches()} of a report's JSON: {@code strategies.<id>.result_mismatches} and, for runs with
     * rescales ({@code --scale}), {@code scaling.runs.<id>.result_mismatches}.
     */
    public static Map<String, Long> resultMismatches(com.fasterxml.jackson.databind.JsonNode report) {
        Map<String, Long> out = new java.util.TreeMap<>();
        for (com.fasterxml.jackson.databind.JsonNode runs : List.of(report.path("strategies"),
                report.path("scaling").path("runs"))) {
            runs.properties().forEach(e -> {
                long m = e.getValue().path("result_mismatches").asLong(0);
                if (m > 0) {
                    out.put(e.getKey(), m);
                }
            });
        }
        return out;
    }

    /**
     * The strategies whose loads count a number of records other than the input's as authoritative copies (hash: its
     * keyed windows' counts; keyshift's strategies: their routers'; {@code strategies.<id>.records_unaccounted}: input
     * records minus those copies; positive: records lost, negative: doubled), with that number; empty when every record
     * was counted once.
     */
    public Map<String, Long> recordsUnaccounted() {
        return recordsUnaccounted(json);
    }

    /** {@link #recordsUnaccounted()} of a report's JSON. */
    public static Map<String, Long> recordsUnaccounted(com.fasterxml.jackson.databind.JsonNode report) {
        Map<String, Long> out = new java.util.TreeMap<>();
        report.path("strategies").properties().forEach(e -> {
            long m = e.getValue().path("records_unaccounted").asLong(0);
            if (m != 0) {
                out.put(e.getKey(), m);
            }
        });
        return out;
    }

    /** Prints the summary table to {@code pw} (a command's {@code CommandLine.getOut()}), then flushes it. */
    public void print(java.io.PrintWriter pw) {
        for (String line : table) {
            pw.println(line);
        }
        pw.flush();
    }

    /**
     * Plans whose control overrides satisfy {@code test}, the final lease left out: it plans nothing and carries the
     * overrides in force at the input's end (a freeze never lifted counted one plan more than were frozen), as
     * {@code scale_in_plans} leaves it out.
     */
    static long controlPlans(List<RoutingPlan> plans,
                             java.util.function.Predicate<io.keyshift.avro.PlanControl> test) {
        return plans.stream().filter(p -> p.getValidUntil() != Long.MAX_VALUE && p.getControl() != null
                && test.test(p.getControl())).count();
    }

    /** Reads the runs' outputs under {@code work} and computes the report. */
    public static ReplayReport build(Path work, Path out, List<Strategy> strategies,
                                     Map<Strategy, ReplayRunner.RunTiming> timings, ReplayInput.Stats stats,
                                     int parallelism, int maxParallelism, Duration window, boolean withSum)
            throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        ObjectNode input = root.putObject("input");
        input.put("records", stats.records());
        input.put("dead_letters", stats.deadLetters());
        input.put("keys", stats.keys());
        input.put("first_event", stats.records() == 0 ? null : Instant.ofEpochMilli(stats.firstEvent()).toString());
        input.put("last_event", stats.records() == 0 ? null : Instant.ofEpochMilli(stats.lastEvent()).toString());
        root.put("parallelism", parallelism);
        root.put("max_parallelism", maxParallelism);
        root.put("window", window.toString());
        jvm(root.putObject("jvm"));

        // Reference loads per key and window, from the hash run (plain keyBy processes every record once).
        LoadMeasures.Builder mb = LoadMeasures.builder()
                .parallelism(parallelism)
                .windowMillis(window.toMillis())
                .naturalSubtask(k -> KeyGroupRangeAssignment.assignKeyToParallelOperator(k, maxParallelism, parallelism));
        for (String line : lines(work.resolve("hash").resolve("window-results"))) {
            LoadLine l = LoadLine.parse(line);
            mb.add(l.windowStart, l.key, l.count);
        }
        LoadMeasures measures = mb.build();
        LoadMeasures.Summary lower = measures.lowerBound();
        LoadMeasures.Summary oracle = measures.oracle();
        LoadMeasures.Summary staticOracle = measures.staticOracle();
        LoadMeasures.Summary trendOracle = measures.trendOracle();
        double reference = Math.min(staticOracle.mean(), trendOracle.mean());

        Map<String, String> hashResults = results(work.resolve("hash").resolve("results"));
        Map<String, SortedMap<Long, long[]>> chartLoads = new LinkedHashMap<>();
        Map<String, SortedMap<Long, Double>> chartImbalance = new LinkedHashMap<>();
        Map<String, List<ReportCharts.ForecastPoint>> chartForecasts = new LinkedHashMap<>();
        Map<String, List<ReportCharts.MigrationSpan>> chartMigrations = new LinkedHashMap<>();
        ObjectNode strategiesNode = root.putObject("strategies");
        Map<Strategy, ObjectNode> nodes = new LinkedHashMap<>();
        double hashImbalance = Double.NaN;
        for (Strategy st : strategies) {
            Path run = work.resolve(st.id());
            Map<String, String> res = results(run.resolve("results"));
            writeResults(out.resolve("results-" + st.id() + ".csv"), res, withSum);

            SortedMap<Long, long[]> processed = new TreeMap<>();
            Map<Long, Long> shadowByWindow = new HashMap<>();
            long shadow = 0;
            for (String line : lines(run.resolve("window-results"))) {
                LoadLine l = LoadLine.parse(line);
                processed.computeIfAbsent(l.windowStart, k -> new long[parallelism])[l.subtask] += l.count;
                if (l.shadow) {
                    shadow += l.count;
                    shadowByWindow.merge(l.windowStart, l.count, Long::sum);
                }
            }
            LoadMeasures.Summary sum = measures.strategy(processed);
            writeLoads(out.resolve("loads-" + st.id() + ".csv"), parallelism, processed, shadowByWindow, sum);
            chartLoads.put(st.id(), processed);
            chartImbalance.put(st.id(), sum.perWindow());
            if (st == Strategy.HASH) {
                hashImbalance = sum.mean();
            }
            ObjectNode n = strategiesNode.putObject(st.id());
            n.put("imbalance_mean", sum.mean());
            n.put("imbalance_p95", sum.p95());
            n.put("lower_bound_mean", lower.mean());
            n.put("oracle_mean", oracle.mean());
            n.put("static_oracle_mean", staticOracle.mean());
            n.put("trend_oracle_mean", trendOracle.mean());
            n.put("results", res.size());
            n.put("result_mismatches", mismatches(hashResults, res));
            // every input record is in the loads once as its authoritative copy (shadow copies aside): imbalance is
            // measured on them. For hash they are its keyed windows' counts (results that agree with hash's cannot
            // show a record every strategy lost); for keyshift's strategies, what their routers routed
            long primaryCopies = -shadow;
            for (long[] l : processed.values()) {
                for (long c : l) {
                    primaryCopies += c;
                }
            }
            n.put("records_unaccounted", stats.records() - primaryCopies);
            n.put("shadow_overhead", stats.records() == 0 ? 0.0 : (double) shadow / stats.records());

            List<PlanLine> planLines = planLines(run.resolve("plans")).stream()
                    .filter(l -> io.keyshift.plan.RepartitionPlanner.isHistory(l.plan())).toList();
            List<RoutingPlan> plans = planLines.stream().map(PlanLine::plan).toList();
            long started = 0;
            Set<String> completed = new HashSet<>();
            Set<String> validatedCompleted = new HashSet<>();
            for (RoutingPlan p : plans) {
                started += p.getMigrationsStarted();
                for (RouteEntry e : p.getEntries()) {
                    Migration m = e.getMigration();
                    if (m != null && m.getSwitchAt() <= stats.lastEvent()) {
                        completed.add(e.getKey() + "@" + m.getPlannedInVersion());
                        if (m.getSwitchAt() > m.getShadowFrom()) {
                            validatedCompleted.add(e.getKey() + "@" + m.getPlannedInVersion());
                        }
                    }
                }
            }
            List<ReportCharts.MigrationSpan> spans = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            // moves-<strategy>.csv: every move with its predicted loads and its plan's cost terms
            StringBuilder moves = new StringBuilder("plan_version,key,from_key_group,from_subtask,to_key_group,to_subtask,"
                    + "shadow_from,switch_at,predicted_load,from_load_before,from_load_after,to_load_before,to_load_after,"
                    + "plan_cost_imbalance,plan_cost_state_moved,plan_cost_migrations,plan_cost_overload\n");
            long scaleInPlans = 0;
            long anomalyReplans = 0;
            for (RoutingPlan p : plans) {
                // (not the final lease, which carries the last plan's opportunity on for the planner's gauges)
                scaleInPlans += p.getScaleInOpportunity() && p.getValidUntil() != Long.MAX_VALUE ? 1 : 0;
                anomalyReplans += p.getAnomalyReplan() ? 1 : 0;
                for (RouteEntry e : p.getEntries()) {
                    Migration m = e.getMigration();
                    if (m != null && seen.add(e.getKey() + "@" + m.getPlannedInVersion())) {
                        spans.add(new ReportCharts.MigrationSpan(e.getKey(), m.getShadowFrom(), m.getSwitchAt()));
                        if (m.getPlannedInVersion() == p.getVersion()) {
                            int maxP = p.getMaxParallelism();
                            moves.append(p.getVersion()).append(',').append(io.keyshift.jobs.workload.Csv.quote(e.getKey()))
                                    .append(',').append(e.getKeyGroup()).append(',')
                                    .append(org.apache.flink.runtime.state.KeyGroupRangeAssignment
                                            .computeOperatorIndexForKeyGroup(maxP, p.getParallelism(), e.getKeyGroup()))
                                    .append(',').append(m.getToKeyGroup()).append(',')
                                    .append(org.apache.flink.runtime.state.KeyGroupRangeAssignment
                                            .computeOperatorIndexForKeyGroup(maxP, p.getParallelism(), m.getToKeyGroup()))
                                    .append(',').append(m.getShadowFrom()).append(',').append(m.getSwitchAt())
                                    .append(',').append(m.getPredictedLoad()).append(',').append(m.getFromSubtaskLoadBefore())
                                    .append(',').append(m.getFromSubtaskLoadAfter()).append(',').append(m.getToSubtaskLoadBefore())
                                    .append(',').append(m.getToSubtaskLoadAfter()).append(',').append(p.getCostImbalance())
                                    .append(',').append(p.getCostStateMoved()).append(',').append(p.getCostMigrations())
                                    .append(',').append(p.getCostOverload()).append('\n');
                        }
                    }
                }
            }
            List<String> scaling = lines(run.resolve("scaling"));
            if (!scaling.isEmpty()) {
                scaling.sort(Comparator.comparingLong((String l) -> Long.parseLong(l.substring(0, l.indexOf(',')))));
                Files.writeString(out.resolve("scaling-" + st.id() + ".csv"), "window_end,policy,kind,from_parallelism,"
                        + "to_parallelism,load,utilization_before,utilization_after,reason\n" + String.join("\n", scaling) + "\n");
                ObjectNode sd = n.putObject("scaling_decisions");
                for (String policy : List.of("PREDICTIVE", "REACTIVE")) {
                    sd.put(policy.toLowerCase(java.util.Locale.ROOT),
                            scaling.stream().filter(l -> l.contains("," + policy + ",")).count());
                }
            }
            // with a control input: control-<strategy>.csv, the overrides each plan was made under, and
            // control-rejected-<strategy>.csv, the refused commands with their reasons
            if (plans.stream().anyMatch(p -> p.getControl() != null)) {
                StringBuilder control = new StringBuilder("plan_version,based_on_window_end,frozen,pinned_keys,"
                        + "rollback_to_version,commands_applied,commands_rejected,forced_parallelism,anomaly_z,"
                        + "sampling_rates\n");
                io.keyshift.avro.PlanControl last = null;
                for (RoutingPlan p : plans) {
                    io.keyshift.avro.PlanControl c = p.getControl();
                    if (c != null) {
                        control.append(p.getVersion()).append(',').append(p.getBasedOnWindowEnd()).append(',')
                                .append(c.getFrozen()).append(',')
                                .append(io.keyshift.jobs.workload.Csv.quote(String.join(";", c.getPinnedKeys())))
                                .append(',').append(c.getRollbackToVersion()).append(',').append(c.getCommandsApplied())
                                .append(',').append(c.getCommandsRejected()).append(',')
                                .append(c.getForcedParallelism()).append(',').append(c.getAnomalyZ()).append(',')
                                .append(c.getSamplingRates().stream().map(r -> r.getFrom() + "=" + r.getRate())
                                        .collect(java.util.stream.Collectors.joining(";"))).append('\n');
                        last = c;
                    }
                }
                Files.writeString(out.resolve("control-" + st.id() + ".csv"), control);
                List<String> rejected = lines(run.resolve("control-rejected"));
                Files.writeString(out.resolve("control-rejected-" + st.id() + ".csv"),
                        "reason,command\n" + (rejected.isEmpty() ? "" : String.join("\n", rejected) + "\n"));
                ObjectNode cn = n.putObject("control");
                cn.put("commands_applied", last.getCommandsApplied());
                cn.put("commands_rejected", rejected.size());
                cn.put("pinned_keys", last.getPinnedKeys().size());
                cn.put("frozen_plans", controlPlans(plans, c -> c.getFrozen()));
                cn.put("rollback_plans", controlPlans(plans, c -> c.getRollbackToVersion() >= 0));
                cn.put("forced_parallelism_plans", controlPlans(plans, c -> c.getForcedParallelism() > 0));
                StringBuilder reverts = new StringBuilder("plan_version,key,key_group,reason\n");
                int revertCount = 0;
                for (RoutingPlan p : plans) {
                    if (p.getControl() != null) {
                        for (String r : p.getControl().getReverts()) {
                            reverts.append(p.getVersion()).append(',').append(r).append('\n');
                            revertCount++;
                        }
                    }
                }
                cn.put("reverts", revertCount);
                if (revertCount > 0) {
                    Files.writeString(out.resolve("reverts-" + st.id() + ".csv"), reverts);
                }
            }
            // the profiler's view, window by window, and the forecasts made after each window (bin/keyshift profile)
            List<String> profileLines = lines(run.resolve("profiles"));
            if (!profileLines.isEmpty()) {
                ObjectMapper pj = new ObjectMapper();
                Map<String, Long> starts = new HashMap<>();
                for (String l : profileLines) {
                    starts.put(l, pj.readTree(l).get("window_start").asLong());
                }
                profileLines.sort(Comparator.comparingLong(starts::get));
                Files.writeString(out.resolve("profiles-" + st.id() + ".jsonl"), String.join("\n", profileLines) + "\n");
                // in window order (stable): part files of several attempts (a restore, a rescale) are in no order
                List<String> units = csvRows(lines(run.resolve("forecast-units")));
                units.sort(Comparator.comparingLong(ReplayReport::leadingLong));
                Files.writeString(out.resolve("forecast-units-" + st.id() + ".csv"),
                        "window_end,observed,forecast_next,lower_next,upper_next,key\n"
                                + String.join("\n", units) + "\n");
            }
            if (!plans.isEmpty()) {
                Files.writeString(out.resolve("moves-" + st.id() + ".csv"), moves);
                n.put("scale_in_plans", scaleInPlans);
                n.put("anomaly_replans", anomalyReplans);
            }
            if (!spans.isEmpty()) {
                chartMigrations.put(st.id(), spans);
            }
            if (st == Strategy.PREDICTIVE) {
                chartForecasts.putAll(topKeyForecasts(run.resolve("forecast-units"), 3, window.toMillis()));
            }
            n.put("migrations_started", started);
            n.put("migrations_completed", completed.size());
            // completed migrations that had a (validation) shadow phase, and their share of all completed ones
            n.put("migrations_validated", validatedCompleted.size());
            n.put("validation_coverage", completed.isEmpty() ? null
                    : (double) validatedCompleted.size() / completed.size());
            n.put("plan_versions", plans.size());
            n.put("plan_digest", plans.isEmpty() ? null : digestOfLines(planLines));
            // hot keys split over several key groups (window aggregates): key -> key groups, in the last plan
            com.fasterxml.jackson.databind.node.ObjectNode splits = n.putObject("split_keys");
            RoutingPlan lastPlan = plans.stream().max(Comparator.comparingLong(RoutingPlan::getVersion)).orElse(null);
            if (lastPlan != null) {
                for (io.keyshift.avro.RouteEntry e : lastPlan.getEntries()) {
                    if (e.getSplit() != null) {
                        com.fasterxml.jackson.databind.node.ArrayNode groups = splits.putArray(e.getKey());
                        e.getSplit().getKeyGroups().forEach(groups::add);
                    }
                }
            }
            ReplayRunner.RunTiming t = timings.get(st);
            n.put("wall_seconds", t == null ? Double.NaN : t.wallSeconds());
            n.put("records_per_second", t == null ? Double.NaN : t.recordsPerSecond());
            n.put("start_seconds", t == null ? Double.NaN : t.startSeconds());
            n.put("flow_seconds", t == null ? Double.NaN : t.flowSeconds());
            n.put("flow_records_per_second", t == null ? Double.NaN : t.flowRecordsPerSecond());
            Mase mase = mase(run.resolve("forecasts"));
            if (mase == null) {
                n.putNull("forecast_mase");
                n.putNull("forecast_mase_seasonal");
            } else {
                n.put("forecast_mase", mase.value());
                // scaled by the seasonal naive forecast's error, or by the naive one's (m = 1) where no window had a
                // season of history before it (a run of at most one season)
                n.put("forecast_mase_seasonal", mase.seasonal());
            }
            long anomalies = 0;
            for (String line : lines(run.resolve("forecasts"))) {
                anomalies += Long.parseLong(line.substring(line.lastIndexOf(',') + 1));
            }
            n.put("forecast_anomalies", anomalies);
            ObjectNode validation = n.putObject("validation");
            Map<String, Long> outcomes = validation(run.resolve("validation"));
            validation.put("matches", outcomes.getOrDefault("MATCH", 0L));
            validation.put("mismatches", outcomes.entrySet().stream()
                    .filter(e -> !e.getKey().equals("MATCH")).mapToLong(Map.Entry::getValue).sum());
            nodes.put(st, n);
        }
        for (ObjectNode n : nodes.values()) {
            n.put("headroom_captured", LoadMeasures.headroomCaptured(hashImbalance, n.get("imbalance_mean").asDouble(),
                    reference));
        }
        chartImbalance.put("lower bound", lower.perWindow());
        chartImbalance.put("oracle (knows each window)", oracle.perWindow());
        List<String> summary = table(root, nodes);
        ReportCharts.Data data = new ReportCharts.Data("keyshift replay report", summary, chartLoads, chartImbalance,
                chartForecasts, chartMigrations, new LinkedHashMap<>(), window.toMillis());
        return new ReplayReport(out, root, summary, data);
    }

    /** A measure formatted with {@code format}, or "-" where it is undefined (null, absent, NaN). */
    private static String cell(com.fasterxml.jackson.databind.JsonNode v, String format) {
        return v == null || !v.isNumber() || !Double.isFinite(v.asDouble()) ? "-"
                : String.format(format, v.asDouble());
    }

    private static List<String> table(ObjectNode root, Map<Strategy, ObjectNode> nodes) {
        List<String> t = new ArrayList<>();
        ObjectNode in = (ObjectNode) root.get("input");
        // an input without data rows: no event time, and every imbalance undefined ("-", null in report.json)
        t.add(String.format("input: %,d records, %,d dead letters, %,d keys, %s; parallelism %d, window %s",
                in.get("records").asLong(), in.get("dead_letters").asLong(), in.get("keys").asLong(),
                in.path("first_event").isTextual() ? in.get("first_event").asText() + " .. "
                        + in.path("last_event").asText() : "no event time", root.get("parallelism").asInt(),
                root.get("window").asText()));
        ObjectNode any = nodes.values().iterator().next();
        t.add(String.format("references (imbalance, load-weighted mean): lower bound %s, oracle %s, static oracle %s, "
                        + "trend oracle %s", cell(any.get("lower_bound_mean"), "%.3f"), cell(any.get("oracle_mean"),
                        "%.3f"), cell(any.get("static_oracle_mean"), "%.3f"), cell(any.get("trend_oracle_mean"),
                        "%.3f")));
        t.add(String.format("%-11s %9s %9s %9s %10s %9s %9s %9s %8s %8s %8s %10s", "strategy", "imbalance", "p95",
                "headroom", "mismatch", "results", "shadow", "migr.", "done", "MASE", "start s", "flow rec/s"));
        for (Map.Entry<Strategy, ObjectNode> e : nodes.entrySet()) {
            ObjectNode n = e.getValue();
            com.fasterxml.jackson.databind.JsonNode headroom = n.get("headroom_captured");
            t.add(String.format("%-11s %9s %9s %9s %10d %9d %9.4f %9d %8d %8s %8.1f %10.0f", e.getKey().id(),
                    cell(n.get("imbalance_mean"), "%.3f"), cell(n.get("imbalance_p95"), "%.3f"),
                    cell(headroom, "%.2f"),
                    n.get("result_mismatches").asLong(),
                    n.get("results").asLong(), n.get("shadow_overhead").asDouble(),
                    n.get("migrations_started").asLong(), n.get("migrations_completed").asLong(),
                    n.get("forecast_mase").isNull() ? "-" : String.format("%.3f", n.get("forecast_mase").asDouble()),
                    n.get("start_seconds").asDouble(), n.get("flow_records_per_second").asDouble()));
        }
        if (root.has("jvm")) {
            t.add(String.format("start s: submission to the first record read; flow rec/s: records / (first record "
                            + "read to the job's end). The strategies ran one after another in one JVM (Java %s, JIT "
                            + "compilers %s), %s first", root.get("jvm").get("java_version").asText(),
                    root.get("jvm").get("compilers").asText(), nodes.keySet().iterator().next().id()));
        }
        for (Map.Entry<Strategy, ObjectNode> e : nodes.entrySet()) {
            if (e.getValue().has("control")) {
                ObjectNode c = (ObjectNode) e.getValue().get("control");
                t.add(String.format("control [%s]: %d commands applied, %d refused (control-rejected-%s.csv), %d keys "
                                + "pinned at the end, %d plans frozen, %d plans under a rollback (control-%s.csv), "
                                + "%d reverts after a validation mismatch%s",
                        e.getKey().id(), c.get("commands_applied").asLong(), c.get("commands_rejected").asLong(),
                        e.getKey().id(), c.get("pinned_keys").asLong(), c.get("frozen_plans").asLong(),
                        c.get("rollback_plans").asLong(), e.getKey().id(), c.get("reverts").asLong(),
                        c.get("reverts").asLong() > 0 ? " (reverts-" + e.getKey().id() + ".csv)" : ""));
            }
        }
        return t;
    }

    /**
     * CSV rows of {@code lines}: a row whose quoted field holds a line break (a key with one) spans several lines,
     * joined again here with a line feed, so that rows can be sorted whole.
     */
    static List<String> csvRows(List<String> lines) {
        List<String> rows = new ArrayList<>(lines.size());
        StringBuilder open = null;
        for (String line : lines) {
            if (open == null) {
                open = new StringBuilder(line);
            } else {
                open.append('\n').append(line);
            }
            // an odd number of quotes so far: a quoted field goes on in the next line ("" escapes a quote)
            if (open.chars().filter(c -> c == '"').count() % 2 == 0) {
                rows.add(open.toString());
                open = null;
            }
        }
        if (open != null) {
            rows.add(open.toString());
        }
        return rows;
    }

    /** The number a CSV line starts with (its first field), or Long.MAX_VALUE where it starts with none. */
    static long leadingLong(String line) {
        int comma = line.indexOf(',');
        try {
            return Long.parseLong(comma < 0 ? line : line.substring(0, comma));
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    private static final java.util.regex.Pattern PART = java.util.regex.Pattern.compile("(.*)-(\\d+)-(\\d+)(\\..*)?");

    /** A part file's name as (name before subtask and counter, subtask, counter), numbers zero-padded to sort. */
    static String partOrder(String name) {
        java.util.regex.Matcher m = PART.matcher(name);
        if (!m.matches() || m.group(2).length() > 18 || m.group(3).length() > 18) {
            return name;
        }
        return m.group(1) + String.format("-%019d-%019d", Long.parseLong(m.group(2)), Long.parseLong(m.group(3)));
    }

    /**
     * Lines of every committed part file under {@code dir} (hidden in-progress files are skipped). Safe to call while
     * a job still writes there: an in-progress file that a checkpoint renames or removes between listing and reading
     * is skipped, not an error.
     */
    public static List<String> lines(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        List<Path> files = new ArrayList<>();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile() && !file.getFileName().toString().startsWith(".")) {
                    files.add(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
        // in the order one attempt wrote them: Flink's file sink names parts <prefix>-<uuid>-<subtask>-<counter>, whose
        // counters sort by name as text (part-...-0-10 before part-...-0-2); a restore's attempt has another uuid
        files.sort(Comparator.comparing((Path f) -> f.getParent()).thenComparing(f -> partOrder(f.getFileName()
                .toString())).thenComparing(Comparator.naturalOrder()));
        for (Path f : files) {
            List<String> read;
            try {
                read = Files.readAllLines(f, StandardCharsets.UTF_8);
            } catch (NoSuchFileException gone) {
                continue;
            }
            for (String line : read) {
                if (!line.isEmpty()) {
                    out.add(line);
                }
            }
        }
        return out;
    }

    /**
     * Results by "key\u0000windowStart" to the rest of the CSV line (windowEnd,count[,sum]). A window that fired more
     * than once for a key (late firings under allowed lateness, or a result doubled) maps to all its firings, ordered
     * by count and joined by {@code ';'}: two strategies agree on it only if they fired it as often, with equal
     * results.
     */
    public static Map<String, String> results(Path dir) throws IOException {
        Map<String, List<String>> firings = new TreeMap<>();
        for (String line : lines(dir)) {
            List<String> f = fields(line);
            String id = f.get(0) + '\u0000' + f.get(1);
            firings.computeIfAbsent(id, k -> new ArrayList<>(1)).add(String.join(",", f.subList(2, f.size())));
        }
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<String, List<String>> e : firings.entrySet()) {
            List<String> all = e.getValue();
            if (all.size() > 1) {
                all.sort(Comparator.<String>comparingLong(ReplayReport::firingCount)
                        .thenComparingDouble(ReplayReport::firingSum).thenComparing(r -> r));
            }
            out.put(e.getKey(), String.join(";", all));
        }
        return out;
    }

    /** The sum of a result's rest (windowEnd,count,sum); 0 if it has none (a tie broken by the text). */
    private static double firingSum(String rest) {
        String[] x = rest.split(",");
        try {
            return x.length > 2 ? Double.parseDouble(x[2]) : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The count of a result's rest (windowEnd,count[,sum]); Long.MAX_VALUE if it has none. */
    private static long firingCount(String rest) {
        String[] x = rest.split(",");
        try {
            return x.length > 1 ? Long.parseLong(x[1]) : Long.MAX_VALUE;
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    public static long mismatches(Map<String, String> reference, Map<String, String> results) {
        long n = 0;
        for (Map.Entry<String, String> e : reference.entrySet()) {
            String other = results.get(e.getKey());
            if (other == null || !sameResult(e.getValue(), other)) {
                n++;
            }
        }
        for (String id : results.keySet()) {
            if (!reference.containsKey(id)) {
                n++;
            }
        }
        return n;
    }

    /**
     * As often fired ({@link #results}), and each firing with equal window end and count; sums equal up to a relative
     * 1e-9 (floating-point order of addition: {@link io.keyshift.jobs.workload.CountSum} sums with compensation, to
     * within a few ulps of the exact sum, so a tolerance relative to the sum holds also where values cancel).
     */
    static boolean sameResult(String a, String b) {
        if (a.equals(b)) {
            return true;
        }
        if (a.indexOf(';') >= 0 || b.indexOf(';') >= 0) {
            String[] x = a.split(";");
            String[] y = b.split(";");
            if (x.length != y.length) {
                return false;
            }
            for (int i = 0; i < x.length; i++) {
                if (!sameResult(x[i], y[i])) {
                    return false;
                }
            }
            return true;
        }
        String[] x = a.split(",");
        String[] y = b.split(",");
        if (x.length != y.length || x.length < 2 || !x[0].equals(y[0]) || !x[1].equals(y[1])) {
            return false;
        }
        if (x.length == 3) {
            double u = Double.parseDouble(x[2]);
            double v = Double.parseDouble(y[2]);
            if (!Double.isFinite(u) || !Double.isFinite(v)) {
                // a sum that overflowed: the tolerance, infinite with it, took it for equal to any finite sum
                return Double.compare(u, v) == 0;
            }
            return Math.abs(u - v) <= 1e-9 * Math.max(1, Math.max(Math.abs(u), Math.abs(v)));
        }
        return false;
    }

    /**
     * {@code loads-<strategy>.csv}: one row per window the report measures (a window of the input that the strategy
     * processed nothing of has zeros), ordered by window start (epoch ms): the records the
     * window-operator subtasks processed in it ({@code records}, shadow copies included), the shadow copies among them,
     * each subtask's records ({@code subtask_0..subtask_{p-1}}) and the window's imbalance (max / mean) as the report's
     * measures use it (their mean is weighted by the window's input records, which equal {@code records - shadow}
     * where no record went missing).
     */
    private static void writeLoads(Path file, int p, SortedMap<Long, long[]> processed, Map<Long, Long> shadow,
                                   LoadMeasures.Summary sum) throws IOException {
        java.util.TreeSet<Long> windows = new java.util.TreeSet<>(sum.perWindow().keySet());
        windows.addAll(processed.keySet());
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            StringBuilder h = new StringBuilder("window_start,records,shadow");
            for (int i = 0; i < p; i++) {
                h.append(",subtask_").append(i);
            }
            w.write(h.append(",imbalance\n").toString());
            for (long window : windows) {
                long[] loads = processed.getOrDefault(window, new long[p]);
                StringBuilder r = new StringBuilder().append(window).append(',')
                        .append(java.util.Arrays.stream(loads).sum()).append(',')
                        .append(shadow.getOrDefault(window, 0L));
                for (long l : loads) {
                    r.append(',').append(l);
                }
                Double imb = sum.perWindow().get(window);
                w.write(r.append(',').append(imb == null ? "" : String.format(java.util.Locale.ROOT, "%.6f", imb))
                        .append('\n').toString());
            }
        }
    }

    private static void writeResults(Path file, Map<String, String> results, boolean withSum) throws IOException {
        List<String[]> rows = new ArrayList<>(results.size());
        for (Map.Entry<String, String> e : results.entrySet()) {
            int z = e.getKey().indexOf('\u0000');
            for (String firing : e.getValue().split(";")) {
                rows.add(new String[] {e.getKey().substring(0, z), e.getKey().substring(z + 1), firing});
            }
        }
        rows.sort(Comparator.<String[]>comparingLong(r -> Long.parseLong(r[1])).thenComparing(r -> r[0]));
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write(withSum ? "key,window_start,window_end,count,sum\n" : "key,window_start,window_end,count\n");
            for (String[] r : rows) {
                w.write(io.keyshift.jobs.workload.Csv.quote(r[0]) + "," + r[1] + "," + r[2] + "\n");
            }
        }
    }

    public static List<RoutingPlan> plans(Path dir) throws IOException {
        return planLines(dir).stream().map(PlanLine::plan).toList();
    }

    /** A plan as read from a line of the plan files: the plan, and the line (its Avro JSON encoding). */
    record PlanLine(RoutingPlan plan, String json) {}

    /** The plans under {@code dir} with their lines, in version order. */
    static List<PlanLine> planLines(Path dir) throws IOException {
        io.keyshift.config.AvroTrust.install();
        List<String> lines = lines(dir);
        // decoded in parallel, in chunks of consecutive lines, each with one reader and one JSON decoder (building a
        // decoder compiles the schema's JSON grammar); a year of hourly plans is 100+ MB of JSON
        int chunk = 256;
        PlanLine[] plans = new PlanLine[lines.size()];
        try {
            java.util.stream.IntStream.range(0, (lines.size() + chunk - 1) / chunk).parallel().forEach(c -> {
                SpecificDatumReader<RoutingPlan> reader = new SpecificDatumReader<>(RoutingPlan.class);
                org.apache.avro.io.JsonDecoder decoder = null;
                for (int i = c * chunk; i < Math.min(lines.size(), (c + 1) * chunk); i++) {
                    try {
                        if (decoder == null) {
                            decoder = DecoderFactory.get().jsonDecoder(RoutingPlan.getClassSchema(), lines.get(i));
                        } else {
                            decoder.configure(lines.get(i));
                        }
                        plans[i] = new PlanLine(reader.read(null, decoder), lines.get(i));
                    } catch (IOException e) {
                        throw new UncheckedIOException(dir + ": plan line " + (i + 1) + " does not decode", e);
                    }
                }
            });
        } catch (UncheckedIOException e) {
            throw new IOException(e.getMessage(), e.getCause());
        }
        List<PlanLine> out = new ArrayList<>(java.util.Arrays.asList(plans));
        out.sort(Comparator.comparingLong(l -> l.plan().getVersion()));
        return out;
    }

    /**
     * {@link #digest} of plans read from their lines, from the lines as written ({@link io.keyshift.jobs.replay.ReplayJob#planJson} of each
     * plan) instead of encoding each plan again.
     */
    static String digestOfLines(List<PlanLine> lines) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (PlanLine l : lines) {
                if (!io.keyshift.plan.RepartitionPlanner.isHistory(l.plan())) {
                    continue;
                }
                md.update(l.json().getBytes(StandardCharsets.UTF_8));
                md.update((byte) '\n');
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * SHA-256 (first 16 hex digits) of the plan history in version order, Avro JSON encoding; the version-0
     * bootstrap lease (issued or not depending on timing, routing the same either way) is not part of it.
     */
    public static String digest(List<RoutingPlan> plans) {
        List<PlanLine> lines = new ArrayList<>(plans.size());
        for (RoutingPlan p : plans) {
            lines.add(new PlanLine(p, io.keyshift.jobs.replay.ReplayJob.planJson(p)));
        }
        return digestOfLines(lines);
    }

    /** A run's MASE and whether its scale is the seasonal naive forecast's error (else the naive one's, m = 1). */
    record Mase(double value, boolean seasonal) {}

    private static Mase mase(Path dir) throws IOException {
        List<String> lines = lines(dir);
        if (lines.isEmpty()) {
            return null;
        }
        String[] last = null;
        long lastEnd = Long.MIN_VALUE;
        for (String line : lines) {
            String[] f = line.split(",");
            long end = Long.parseLong(f[0]);
            if (end >= lastEnd) {
                lastEnd = end;
                last = f;
            }
        }
        double abs = Double.parseDouble(last[1]);
        double naive = Double.parseDouble(last[2]);
        double seasonalAbs = Double.parseDouble(last[3]);
        double seasonalNaive = Double.parseDouble(last[4]);
        if (seasonalNaive > 0) {
            return new Mase(seasonalAbs / seasonalNaive, true);
        }
        return naive > 0 ? new Mase(abs / naive, false) : null;
    }

    /**
     * The +1-window forecasts of the {@code n} keys with the most observed load, each point pairing a window's observed
     * with the forecast made one window before it (a window whose previous one has no line for the key, as when the
     * key was not tracked then, has no point).
     */
    static Map<String, List<ReportCharts.ForecastPoint>> topKeyForecasts(Path dir, int n, long windowMillis)
            throws IOException {
        // first the keys' totals (the observed column alone), then the whole lines of the n largest keys
        List<String> lines = lines(dir);
        List<String[]> split = new ArrayList<>(lines.size());
        List<String> keys = new ArrayList<>(lines.size());
        Map<String, Double> totals = new HashMap<>();
        for (String line : lines) {
            String[] f = line.split(",", 6);
            String key = f[5].startsWith("\"") ? fields(f[5]).get(0) : f[5];
            split.add(f);
            keys.add(key);
            totals.merge(key, Double.parseDouble(f[1]), Double::sum);
        }
        Set<String> top = new HashSet<>();
        totals.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue())).limit(n)
                .forEach(e -> top.add(e.getKey()));
        Map<String, TreeMap<Long, double[]>> byKey = new HashMap<>();
        for (int i = 0; i < split.size(); i++) {
            if (top.contains(keys.get(i))) {
                String[] f = split.get(i);
                double[] v = {Double.parseDouble(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3]),
                    Double.parseDouble(f[4])};
                byKey.computeIfAbsent(keys.get(i), k -> new TreeMap<>()).put(Long.parseLong(f[0]), v);
            }
        }
        Map<String, List<ReportCharts.ForecastPoint>> out = new LinkedHashMap<>();
        totals.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue(), a.getValue())).limit(n).forEach(e -> {
            List<ReportCharts.ForecastPoint> pts = new ArrayList<>();
            double[] prev = null;
            long prevEnd = Long.MIN_VALUE;
            for (Map.Entry<Long, double[]> w : byKey.get(e.getKey()).entrySet()) {
                if (prev != null && w.getKey() == prevEnd + windowMillis) {
                    pts.add(new ReportCharts.ForecastPoint(w.getKey() - windowMillis, w.getValue()[0], prev[1], prev[2],
                            prev[3]));
                }
                prev = w.getValue();
                prevEnd = w.getKey();
            }
            out.put(e.getKey(), pts);
        });
        return out;
    }

    static Map<String, Long> validation(Path dir) throws IOException {
        Map<String, Long> out = new TreeMap<>();
        for (String line : lines(dir)) {
            out.merge(line.substring(0, line.indexOf(',')), 1L, Long::sum);
        }
        return out;
    }

    static List<String> fields(String line) throws IOException {
        return io.keyshift.jobs.input.EventParser.fields(line);
    }

    record LoadLine(long windowStart, int subtask, long count, boolean shadow, String key) {
        static LoadLine parse(String line) throws IOException {
            // windowStart,subtask,count,role,keyGroup,key (key last: it may be quoted)
            int a = line.indexOf(',');
            int b = line.indexOf(',', a + 1);
            int c = line.indexOf(',', b + 1);
            int d = line.indexOf(',', c + 1);
            int e = line.indexOf(',', d + 1);
            String keyField = line.substring(e + 1);
            String key = keyField.startsWith("\"") ? fields(keyField).get(0) : keyField;
            return new LoadLine(Long.parseLong(line.substring(0, a)), Integer.parseInt(line.substring(a + 1, b)),
                    Long.parseLong(line.substring(b + 1, c)), line.startsWith("SHADOW", c + 1), key);
        }
    }

    /**
     * The JVM the runs' records/s were measured in: Java version, the JIT compilers in use ({@link #compilers}: "C1"
     * when started with {@code -XX:TieredStopAtLevel} 1 to 3, as {@code bin/keyshift replay} is by default) and the
     * maximum heap in bytes.
     */
    static void jvm(com.fasterxml.jackson.databind.node.ObjectNode n) {
        n.put("java_version", Runtime.version().toString());
        n.put("compilers", compilers(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()));
        n.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
    }

    /**
     * The JIT compilers these HotSpot arguments leave (the last of each flag counts): "interpreter" (none: {@code
     * -Xint}, {@code -XX:-UseCompiler}, or stopped at level 0), "C1" ({@code -XX:CompilationMode=quick-only}, or
     * tiered and stopped at level 1 to 3), "C2" (a high-only compilation mode, or tiered compilation off), else
     * "C1+C2". It said "C1+C2" for the last two
     * kinds and for no compiler at all.
     */
    static String compilers(List<String> jvmArguments) {
        int level = 4;
        boolean tiered = true;
        boolean compiler = true;
        // -XX:CompilationMode (JDK 14+): quick-only is C1 alone, high-only C2 alone
        String mode = "default";
        for (String a : jvmArguments) {
            if (a.startsWith("-XX:TieredStopAtLevel=")) {
                try {
                    level = Integer.parseInt(a.substring("-XX:TieredStopAtLevel=".length()).trim());
                } catch (NumberFormatException e) {
                    // (the JVM would not have started)
                }
            } else if (a.equals("-XX:-TieredCompilation") || a.equals("-XX:+TieredCompilation")) {
                tiered = a.startsWith("-XX:+");
            } else if (a.equals("-Xint") || a.equals("-XX:-UseCompiler")) {
                compiler = false;
            } else if (a.equals("-Xmixed") || a.equals("-XX:+UseCompiler")) {
                compiler = true;
            } else if (a.startsWith("-XX:CompilationMode=")) {
                mode = a.substring("-XX:CompilationMode=".length()).trim();
            }
        }
        // as HotSpot (JDK 16+) reads them: no compiler with -Xint or level 0 whatever the mode; C1 alone in quick-only
        // mode or stopped at levels 1-3; C2 alone in a high-only mode or without tiered compilation
        if (!compiler || level <= 0) {
            return "interpreter";
        }
        if (mode.equals("quick-only") || tiered && level < 4) {
            return "C1";
        }
        if (mode.startsWith("high-only") || !tiered) {
            return "C2";
        }
        return "C1+C2";
    }

}
