package io.keyshift.jobs.report;

import io.keyshift.jobs.replay.ScaledReplay;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The replay report's scaling section (replay {@code --scale}): per run, fixed-parallelism strategies and runs with
 * a simulated actuator alike,
 * <ul>
 *   <li>{@code overload_windows}: windows in which some subtask processed (shadow copies included) more records than
 *       {@code keyshift.scaling.capacity};</li>
 *   <li>{@code rescales}: decisions applied;</li>
 *   <li>{@code slot_hours}: parallelism times event time, summed over the windows from the first event's to the
 *       last event's;</li>
 *   <li>{@code peak_utilization}: the busiest subtask's records over the capacity, largest over windows;</li>
 *   <li>{@code result_mismatches} against {@code hash} and validation mismatches.</li>
 * </ul>
 * and {@code utilization-<run>.csv}: per window (start, epoch ms) its parallelism, the records processed (shadow
 * copies included), the busiest subtask's records and their share of the capacity. Adds the parallelism-over-time
 * chart, with the parallelism the load needed at the capacity ({@code ceil(total /
 * capacity)}, from the hash run) for reference. A window runs at the parallelism decided at or before its start.
 * With a control file, each scaled run's refused commands go to {@code control-rejected-<run>.csv} (reason, command)
 * and their count to {@code control_commands_rejected} (the fixed-parallelism strategies' are in their own section).
 */
public final class ScalingReport {
    private ScalingReport() {}

    /** A run to measure: its directory under work/, and its rescales (empty for a fixed parallelism). */
    public record Run(String id, int initialParallelism, List<ScaledReplay.Rescale> rescales) {}

    /**
     * Adds {@code "scaling"} to the report's JSON and the parallelism chart; writes {@code rescales-<run>.csv} and
     * {@code utilization-<run>.csv}.
     *
     * @param windowMillis window length; {@code firstEvent}, {@code lastEvent} bound the windows counted (ms)
     * @param controlled   whether the runs had a control file (replay {@code --control})
     */
    public static void add(ReplayReport report, Path work, Path out, List<Run> runs, double capacity,
                           long windowMillis, long firstEvent, long lastEvent, boolean controlled) throws IOException {
        // an input without records (its first and last event are Long.MIN_VALUE) has no window: rounding MIN_VALUE
        // down to a window start overflowed, and the loops below ran until memory ran out
        boolean none = firstEvent == Long.MIN_VALUE || firstEvent > lastEvent;
        long first = none ? 0 : Math.floorDiv(firstEvent, windowMillis) * windowMillis;
        long last = none ? -windowMillis : Math.floorDiv(lastEvent, windowMillis) * windowMillis;
        Map<String, String> hash = ReplayReport.results(work.resolve("hash").resolve("results"));
        ObjectNode section = report.json().putObject("scaling");
        section.put("capacity_records_per_window", capacity);
        ObjectNode runsNode = section.putObject("runs");
        Map<String, SortedMap<Long, Double>> chart = new LinkedHashMap<>();

        SortedMap<Long, Double> needed = new TreeMap<>();
        Map<Long, Long> totals = new HashMap<>();
        for (String line : ReplayReport.lines(work.resolve("hash").resolve("window-results"))) {
            ReplayReport.LoadLine l = ReplayReport.LoadLine.parse(line);
            totals.merge(l.windowStart(), l.count(), Long::sum);
        }
        for (long w = first; w <= last; w += windowMillis) {
            needed.put(w, Math.ceil(totals.getOrDefault(w, 0L) / capacity));
        }
        for (Run r : runs) {
            Path dir = work.resolve(r.id());
            Map<Long, Map<Integer, Long>> perSubtask = new HashMap<>();
            for (String line : ReplayReport.lines(dir.resolve("window-results"))) {
                ReplayReport.LoadLine l = ReplayReport.LoadLine.parse(line);
                perSubtask.computeIfAbsent(l.windowStart(), k -> new HashMap<>()).merge(l.subtask(), l.count(), Long::sum);
            }
            long overload = 0;
            double slotHours = 0;
            double peak = 0;
            SortedMap<Long, Double> parallelism = new TreeMap<>();
            StringBuilder utilization = new StringBuilder("window_start,parallelism,records,busiest,utilization\n");
            for (long w = first; w <= last; w += windowMillis) {
                int p = r.initialParallelism();
                for (ScaledReplay.Rescale x : r.rescales()) {
                    if (x.windowEnd() <= w) {
                        p = x.to();
                    }
                }
                parallelism.put(w, (double) p);
                slotHours += p * windowMillis / 3_600_000.0;
                java.util.LongSummaryStatistics subtasks = perSubtask.getOrDefault(w, Map.of()).values().stream()
                        .mapToLong(Long::longValue).summaryStatistics();
                long busiest = subtasks.getCount() == 0 ? 0 : subtasks.getMax();
                peak = Math.max(peak, busiest / capacity);
                utilization.append(w).append(',').append(p).append(',')
                        .append(subtasks.getSum())
                        .append(',').append(busiest).append(',')
                        .append(String.format(java.util.Locale.ROOT, "%.4f", busiest / capacity)).append('\n');
                if (busiest > capacity) {
                    overload++;
                }
            }
            Map<String, String> res = ReplayReport.results(dir.resolve("results"));
            // every outcome but MATCH, as the replay's report counts them (a side missing is a failure too)
            long validationMismatches = ReplayReport.validation(dir.resolve("validation")).entrySet().stream()
                    .filter(e -> !e.getKey().equals("MATCH")).mapToLong(Map.Entry::getValue).sum();
            ObjectNode n = runsNode.putObject(r.id());
            n.put("overload_windows", overload);
            n.put("windows", (last - first) / windowMillis + 1);
            n.put("rescales", r.rescales().size());
            n.put("slot_hours", slotHours);
            n.put("peak_utilization", peak);
            n.put("results", res.size());
            n.put("result_mismatches", ReplayReport.mismatches(hash, res));
            n.put("validation_mismatches", validationMismatches);
            if (controlled && r.id().startsWith("scaled-")) {
                List<String> rejected = Files.isDirectory(dir.resolve("control-rejected"))
                        ? ReplayReport.lines(dir.resolve("control-rejected")) : List.of();
                Files.writeString(out.resolve("control-rejected-" + r.id() + ".csv"),
                        "reason,command\n" + (rejected.isEmpty() ? "" : String.join("\n", rejected) + "\n"));
                n.put("control_commands_rejected", rejected.size());
            }
            double restoreSeconds = r.rescales().stream().mapToDouble(ScaledReplay.Rescale::seconds).sum();
            n.put("rescale_wall_seconds", restoreSeconds);
            if (!r.rescales().isEmpty()) {
                StringBuilder csv = new StringBuilder("window_end,from_parallelism,to_parallelism,load,"
                        + "utilization_before,utilization_after,savepoint,stop_and_restore_seconds,reason\n");
                for (ScaledReplay.Rescale x : r.rescales()) {
                    csv.append(x.windowEnd()).append(',').append(x.from()).append(',').append(x.to()).append(',')
                            .append(x.load()).append(',').append(x.utilizationBefore()).append(',')
                            .append(x.utilizationAfter()).append(',').append(io.keyshift.jobs.workload.Csv.quote(x.savepoint()))
                            .append(',').append(String.format(java.util.Locale.ROOT, "%.3f", x.seconds())).append(',')
                            .append(io.keyshift.jobs.workload.Csv.quote(x.reason())).append('\n');
                }
                Files.writeString(out.resolve("rescales-" + r.id() + ".csv"), csv);
            }
            Files.writeString(out.resolve("utilization-" + r.id() + ".csv"), utilization);
            chart.put(r.id(), parallelism);
        }
        chart.put("needed at capacity (hash's load)", needed);
        report.addParallelismChart(chart);
        report.addSummary(summary(section));
    }

    private static List<String> summary(ObjectNode section) {
        List<String> t = new java.util.ArrayList<>();
        t.add("");
        t.add(String.format("scaling, capacity %.0f records per window and subtask:", section.get("capacity_records_per_window").asDouble()));
        // result mismatches (against hash) and shadow validation mismatches apart, as report.json has them (the
        // column summed them: a run whose results equal hash's showed a mismatch for a corrupted shadow)
        t.add(String.format("  %-20s %9s %9s %11s %9s %9s %11s", "run", "overload", "rescales", "slot-hours",
                "peak util", "mismatch", "validation"));
        section.get("runs").fields().forEachRemaining(e -> t.add(String.format(
                "  %-20s %5d/%-4d %8d %11.1f %9.2f %9d %11d",
                e.getKey(), e.getValue().get("overload_windows").asLong(), e.getValue().get("windows").asLong(),
                e.getValue().get("rescales").asLong(), e.getValue().get("slot_hours").asDouble(),
                e.getValue().get("peak_utilization").asDouble(), e.getValue().get("result_mismatches").asLong(),
                e.getValue().get("validation_mismatches").asLong())));
        return t;
    }
}
