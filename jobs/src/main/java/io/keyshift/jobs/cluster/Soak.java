package io.keyshift.jobs.cluster;

import io.keyshift.config.JobOptions;
import io.keyshift.jobs.KeyshiftJob;
import io.keyshift.jobs.cli.FlinkConfig;
import io.keyshift.jobs.replay.ReplayJob;
import io.keyshift.jobs.replay.ReplayRunner;
import io.keyshift.jobs.replay.Strategy;
import io.keyshift.jobs.report.ReplayReport;
import io.keyshift.jobs.source.EventSpace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A soak run: the predictive job on the standalone cluster for a given time, sampled at a fixed interval, then its
 * results compared with {@code hash}'s line for line.
 *
 * <p>Each sample (from Flink's REST API and {@code jcmd}) holds: the latest completed checkpoint's size per job vertex
 * (full and incremental bytes), the routing-table size (entries, max over router subtasks), records waiting for a
 * lease, heap used right after a full GC of every JVM the soak started ({@code jcmd PID GC.run}, then
 * {@code GC.heap_info}), the largest p99 of Flink's latency markers over the job's operators (ms, with
 * {@code metrics.latency.interval}), completed migrations and validation matches and mismatches. Output:
 * {@code soak.json} and {@code soak.png} (four panels over time) in the output directory; the job's own output
 * under {@code job/}, the cluster's run directory (logs) under {@code cluster/}, the reference under {@code hash/}.
 */
public final class Soak {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");

    /**
     * What to run.
     *
     * @param out output directory (must be empty)
     * @param confDir directory with config.yaml (the cluster's and the job's)
     * @param classpath the cluster classpath (jobs/target/cluster-classpath.txt)
     * @param jobJar the job jar
     * @param duration how long the job runs: its generator holds {@code rate × duration} records
     * @param sampleEvery sampling interval
     * @param jobArgs the job's arguments without --out (generator, window, rate, parallelism, -D options)
     * @param reference the same generator, for the hash reference run
     * @param window the tumbling window (for the reference)
     * @param parallelism job parallelism (the TaskManager gets max(4, parallelism) slots)
     */
    public record Settings(Path out, Path confDir, String classpath, Path jobJar, Duration duration,
                           Duration sampleEvery, List<String> jobArgs, EventSpace reference, Duration window,
                           int parallelism, PrintStream log) {}

    /** What the soak found. */
    public record Outcome(long results, long resultMismatches, long validationMismatches, long migrations,
                          ObjectNode report) {
        /** Every result equal to hash's and no validation mismatch. */
        public boolean exact() {
            return resultMismatches == 0 && validationMismatches == 0;
        }
    }

    private Soak() {}

    /** Runs the soak; the cluster it starts is stopped before it returns or throws. */
    public static Outcome run(Settings s) throws Exception {
        Path run = s.out().resolve("cluster");
        // an interrupted soak (Ctrl-C, or a SIGTERM to this process alone) stops the cluster it started, also while
        // the cluster is still starting (start records each process as it launches it; stop without a record stops
        // nothing)
        Thread stopper = new Thread(() -> {
            try {
                StandaloneCluster.stop(run, Duration.ofSeconds(10), s.log());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "keyshift-soak-stop");
        Runtime.getRuntime().addShutdownHook(stopper);
        // REST and RPC on two distinct ports (two free ports taken one after the other can be the same)
        int[] ports = StandaloneCluster.freeLoopbackPorts(2);
        StandaloneCluster.Status st = StandaloneCluster.start(new StandaloneCluster.Settings(s.confDir(), run,
                s.classpath(), ports[0], ports[1],
                Map.of("taskmanager.numberOfTaskSlots", Integer.toString(Math.max(4, s.parallelism())),
                        "metrics.fetcher.update-interval", "2000")), Duration.ofSeconds(120), s.log());
        ObjectNode report = JSON.createObjectNode();
        ArrayNode samples = report.putArray("samples");
        String job;
        long lastMigrations = 0;
        long lastValidationMismatches = 0;
        try {
            FlinkRest api = new FlinkRest(st.restAddress());
            List<java.net.URI> prometheus = prometheusEndpoints(FlinkConfig.readConfigYaml(run.resolve("conf")));
            if (prometheus.isEmpty()) {
                s.log().println("soak: the cluster's config.yaml configures no Prometheus reporter: p99 latency is "
                        + "not sampled (-1 in soak.json)");
            }
            List<String> args = new ArrayList<>(s.jobArgs());
            args.addAll(List.of("--out", s.out().resolve("job").toString(), "--strategy", "predictive",
                    "--job-name", "keyshift soak"));
            job = JobSubmitter.submit(st.restAddress(), s.jobJar(), KeyshiftJob.class.getName(), args,
                    FlinkConfig.loadForCluster(s.confDir(), windowOf(s)), null, false);
            report.put("job_id", job);
            report.putPOJO("job_args", args);
            s.log().printf("soak: job %s submitted (web UI %s), sampling every %s for about %s%n", job,
                    st.restAddress(), s.sampleEvery(), s.duration());
            long started = System.nanoTime();
            long limit = started + s.duration().multipliedBy(3).plusMinutes(5).toNanos();
            long next = started + s.sampleEvery().toNanos();
            Restarts restarts = new Restarts();
            String state = restarts.observe(api.jobState(job));
            restarts.reported(api.jobMetric(job, "numRestarts"));
            while (!isTerminal(state)) {
                if (System.nanoTime() > limit) {
                    String cause = api.rootCause(job);
                    throw failed(s.out(), report, state, "the soak job is still " + state + " three times its "
                            + "planned duration and 5 minutes after its start" + (restarts.count() > 0 ? ", after "
                            + restarts.count() + " restarts" : "") + (cause.isEmpty() ? "" : "; its last failure: "
                            + cause) + ": see " + run.resolve("log"));
                }
                report.put("job_restarts", restarts.count());
                if (restarts.count() > Restarts.MAX) {
                    // Flink's default restart strategy for a submitted job retries without end: a job that fails at
                    // every attempt (a full disk under --out) was sampled for three times the soak's duration
                    throw failed(s.out(), report, state, "the soak job restarted " + restarts.count() + " times: "
                            + api.rootCause(job));
                }
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(Math.min(wait / 1_000_000 + 1, 1000));
                    state = restarts.observe(api.jobState(job));
                    restarts.reported(api.jobMetric(job, "numRestarts"));
                    continue;
                }
                next += s.sampleEvery().toNanos();
                ObjectNode sample = sample(api, job, StandaloneCluster.status(run), (System.nanoTime() - started) / 1e9,
                        prometheus);
                samples.add(sample);
                lastMigrations = Math.max(lastMigrations, sample.path("migrations_completed").asLong());
                lastValidationMismatches = Math.max(lastValidationMismatches,
                        sample.path("validation_mismatches").asLong());
                s.log().println("soak: " + describe(sample));
                // the samples so far survive an interrupted soak
                writeJson(s.out(), report);
                state = restarts.observe(api.jobState(job));
                restarts.reported(api.jobMetric(job, "numRestarts"));
            }
            report.put("job_restarts", restarts.count());
            if (!"FINISHED".equals(state)) {
                String cause = api.rootCause(job);
                throw failed(s.out(), report, state, "the soak job ended " + state + (cause.isEmpty()
                        ? " (its exception history is empty: cancelled from outside?)" : ": " + cause));
            }
            report.put("job_state", state);
            report.put("job_seconds", (System.nanoTime() - started) / 1e9);
            // (a failure of the hash run after it leaves a soak.json that says the job finished)
            writeJson(s.out(), report);
        } catch (Exception e) {
            if (!report.has("failure")) {
                // the JobManager unreachable (gone, or no answer within FlinkRest's timeout), the submission refused:
                // soak.json read as a run cut short at its last sample
                failed(s.out(), report, report.has("job_id") ? "UNKNOWN" : "NOT_SUBMITTED",
                        "the soak job could not be followed: " + (e.getMessage() != null ? e.getMessage()
                                : e.toString()));
            }
            throw e;
        } finally {
            StandaloneCluster.stop(run, Duration.ofSeconds(20), s.log());
            try {
                Runtime.getRuntime().removeShutdownHook(stopper);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs anyway
            }
        }

        s.log().println("soak: job finished; running hash on the same records for the reference");
        Map<String, String> keyshift = ReplayReport.results(s.out().resolve("job").resolve("results"));
        List<String> lines = ReplayReport.lines(s.out().resolve("job").resolve("results"));
        Map<String, String> hash = hashResults(s);
        // a result fired more or fewer times than hash's (doubled, lost) differs from it (ReplayReport.results)
        long mismatches = ReplayReport.mismatches(hash, keyshift);
        List<String> validation = ReplayReport.lines(s.out().resolve("job").resolve("validation"));
        // every outcome but MATCH (a side missing is a failure too), as the replay's report counts them
        long validationMismatches = validation.stream().filter(l -> !l.startsWith("MATCH,")).count();
        long validationMatches = validation.stream().filter(l -> l.startsWith("MATCH")).count();
        ObjectNode result = report.putObject("result");
        result.put("results", keyshift.size());
        result.put("result_lines", lines.size());
        result.put("hash_results", hash.size());
        result.put("result_mismatches", mismatches);
        result.put("validation_matches", validationMatches);
        result.put("validation_mismatches", validationMismatches);
        result.put("migrations_completed_last_sample", lastMigrations);
        report.set("first_vs_last", firstVsLast(samples, s.sampleEvery()));
        write(s.out(), report);
        return new Outcome(keyshift.size(), mismatches, Math.max(validationMismatches, lastValidationMismatches),
                lastMigrations, report);
    }

    /**
     * The restarts of the soak job: the JobManager's {@code numRestarts} where it reports one, else as its polled
     * states show them (each entry into RESTARTING once), whichever is more; a soak ends once there were more than
     * {@link #MAX}. The states alone missed restarts: under Flink's default restart strategy a job is RESTARTING for
     * about a second, and a sample (REST calls, scrapes, jcmd) takes several.
     */
    static final class Restarts {
        /** Restarts a soak tolerates (a failover it recovers from is part of a long run; one at every attempt is not). */
        static final int MAX = 5;
        /** Entries into RESTARTING the polled states showed (at most the true count: some fall between polls). */
        private int observed;
        /** The largest {@code numRestarts} the JobManager reported (at most the true count: its fetcher lags). */
        private int reported;
        private String previous = "";

        /** Takes the job's state as polled; returns it. */
        String observe(String state) {
            if ("RESTARTING".equals(state) && !"RESTARTING".equals(previous)) {
                observed++;
            }
            previous = state;
            return state;
        }

        /** Takes the JobManager's {@code numRestarts} (NaN: not reported yet). */
        void reported(double numRestarts) {
            if (numRestarts > reported && numRestarts < Integer.MAX_VALUE) {
                reported = (int) numRestarts;
            }
        }

        int count() {
            return Math.max(observed, reported);
        }
    }

    private static boolean isTerminal(String state) {
        return switch (state) {
            case "FINISHED", "FAILED", "CANCELED", "SUSPENDED" -> true;
            default -> false;
        };
    }

    /** One sample of the running job and of every JVM the soak started. */
    static ObjectNode sample(FlinkRest api, String job, StandaloneCluster.Status cluster, double seconds,
                             List<java.net.URI> prometheus) throws IOException, InterruptedException {
        ObjectNode o = JSON.createObjectNode();
        o.put("seconds", Math.round(seconds * 10) / 10.0);
        o.put("records", number(api.operatorMetric(job, "keyshiftPrimaryRecords", "sum")));
        o.put("routing_table_entries", number(api.operatorMetric(job, "keyshiftRoutingTableEntries", "max")));
        o.put("waiting_records", number(api.operatorMetric(job, "keyshiftWaitingRecords", "sum")));
        o.put("migrations_completed", number(api.operatorMetric(job, "keyshiftMigrationsCompleted", "sum")));
        o.put("migrations_in_shadow_phase", number(api.operatorMetric(job, "keyshiftMigrationsInShadowPhase", "sum")));
        o.put("validation_matches", number(api.operatorMetric(job, "keyshiftValidationMatches", "sum")));
        o.put("validation_mismatches", number(api.operatorMetric(job, "keyshiftValidationMismatches", "sum")));
        o.put("latency_p99_ms", number(latencyP99(job, prometheus)));
        o.set("checkpoint", checkpoint(api, job));
        ObjectNode heap = o.putObject("heap_after_gc_bytes");
        List<StandaloneCluster.Member> members = new ArrayList<>();
        members.add(cluster.jobManager());
        members.addAll(cluster.taskManagers());
        for (StandaloneCluster.Member m : members) {
            if (m != null && m.alive()) {
                heap.put(m.role(), heapAfterGc(m.pid()));
            }
        }
        return o;
    }

    private static double number(double x) {
        return Double.isFinite(x) ? x : -1;
    }

    /**
     * The {@code /metrics} endpoints of the Prometheus reporters {@code conf} (the cluster's config.yaml) configures:
     * each {@code metrics.reporter.NAME.*} whose factory is a Prometheus (not push gateway) reporter, at its {@code
     * host} (127.0.0.1 for none or a wildcard address) and every port of its {@code port} range (Flink's default
     * 9249; at most 64 a reporter), of the reporters Flink starts ({@code metrics.reporters} lists them where it is
     * set); empty where none is configured. The soak scraped 127.0.0.1:9250-9270 whatever the
     * file said, and sampled no latency without a word where it said otherwise.
     */
    static List<java.net.URI> prometheusEndpoints(org.apache.flink.configuration.Configuration conf) {
        List<java.net.URI> endpoints = new ArrayList<>();
        Map<String, String> m = conf.toMap();
        String listed = m.get("metrics.reporters");
        java.util.Set<String> enabled = listed == null || listed.isBlank() ? null
                : java.util.Arrays.stream(listed.split(",")).map(String::strip).collect(java.util.stream.Collectors.toSet());
        for (Map.Entry<String, String> e : new java.util.TreeMap<>(m).entrySet()) {
            String key = e.getKey();
            if (!key.startsWith("metrics.reporter.") || !key.endsWith(".factory.class")
                    || !e.getValue().contains("Prometheus") || e.getValue().contains("PushGateway")) {
                continue;
            }
            String prefix = key.substring(0, key.length() - "factory.class".length());
            String name = prefix.substring("metrics.reporter.".length(), prefix.length() - 1);
            if (name.contains(".") || enabled != null && !enabled.contains(name)) {
                // not a reporter Flink starts: a name it does not take, or one metrics.reporters leaves out
                continue;
            }
            String host = m.getOrDefault(prefix + "host", "127.0.0.1").strip();
            if (host.isEmpty() || host.equals("0.0.0.0") || host.equals("::")) {
                host = "127.0.0.1";
            }
            java.util.Iterator<Integer> ports;
            try {
                ports = org.apache.flink.util.NetUtils.getPortRangeFromString(m.getOrDefault(prefix + "port",
                        "9249").strip());
            } catch (RuntimeException unreadable) {
                continue;
            }
            for (int i = 0; i < 64 && ports.hasNext(); i++) {
                endpoints.add(java.net.URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":"
                        + ports.next() + "/metrics"));
            }
        }
        return endpoints;
    }

    /**
     * The largest p99 (ms) of Flink's latency-marker histograms of the job, over its operators and subtasks, as a
     * Prometheus server sees them: the TaskManagers' reporters at {@code endpoints} ({@link #prometheusEndpoints}),
     * lines of the job's id (NaN if none: latency tracking off, no reporter, or no marker through yet).
     */
    static double latencyP99(String job, List<java.net.URI> endpoints) {
        java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
        double max = Double.NaN;
        for (java.net.URI endpoint : endpoints) {
            String body;
            try {
                var r = http.send(java.net.http.HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(5)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    continue;
                }
                body = r.body();
            } catch (IOException e) {
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return max;
            }
            for (String line : body.split("\n")) {
                int brace = line.indexOf('{');
                if (brace > 0 && LATENCY_METRIC.matcher(line.substring(0, brace)).matches()
                        && line.contains("job_id=\"" + job + "\"")
                        && line.contains("quantile=\"0.99\"")) {
                    double v = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                    if (!Double.isNaN(v) && (Double.isNaN(max) || v > max)) {
                        max = v;
                    }
                }
            }
        }
        return max;
    }

    /** Flink's latency histogram (scope per metrics.latency.granularity), e.g. flink_taskmanager_job_task_latency_.... */
    private static final Pattern LATENCY_METRIC =
            Pattern.compile("flink_taskmanager_job(_task)?_latency_source_id.*_latency");

    /** The latest completed checkpoint: id, full and incremental size in total and per job vertex (by name). */
    static ObjectNode checkpoint(FlinkRest api, String job) throws IOException, InterruptedException {
        ObjectNode out = JSON.createObjectNode();
        JsonNode latest = api.get("/jobs/" + job + "/checkpoints").path("latest").path("completed");
        if (latest.isMissingNode() || latest.isNull()) {
            return out;
        }
        long id = latest.path("id").asLong();
        out.put("id", id);
        out.put("state_size", latest.path("state_size").asLong());
        out.put("checkpointed_size", latest.path("checkpointed_size").asLong());
        Map<String, String> names = new java.util.HashMap<>();
        for (JsonNode v : api.job(job).path("vertices")) {
            names.put(v.path("id").asText(), v.path("name").asText());
        }
        ObjectNode perVertex = out.putObject("state_size_per_vertex");
        ObjectNode checkpointedPerVertex = out.putObject("checkpointed_size_per_vertex");
        JsonNode tasks = api.get("/jobs/" + job + "/checkpoints/details/" + id).path("tasks");
        tasks.fields().forEachRemaining(e -> {
            String name = shortName(names.getOrDefault(e.getKey(), e.getKey()));
            perVertex.put(name, e.getValue().path("state_size").asLong());
            checkpointedPerVertex.put(name, e.getValue().path("checkpointed_size").asLong());
        });
        return out;
    }

    private static String shortName(String vertexName) {
        String n = vertexName.replaceAll("\\s+", " ");
        return n.length() > 80 ? n.substring(0, 77) + "..." : n;
    }

    /**
     * The heap used (bytes) that {@code jcmd PID GC.heap_info} prints: the sum over its generations ("used NK" on every
     * line but Metaspace's and class space's: G1 prints one heap line, Serial and Parallel a young and an old one,
     * and the first alone was the young generation, nearly empty after a full GC); -1 if none.
     */
    static long heapUsed(String heapInfo) {
        long kb = 0;
        boolean any = false;
        for (String line : heapInfo.split("\\R")) {
            if (line.contains("Metaspace") || line.contains("class space")) {
                continue;
            }
            Matcher m = HEAP_USED.matcher(line);
            while (m.find()) {
                kb += Long.parseLong(m.group(1));
                any = true;
            }
        }
        return any ? kb * 1024 : -1;
    }

    /** Heap used (bytes) right after a full GC of the JVM {@code pid}, with the JDK's jcmd; -1 if jcmd fails. */
    static long heapAfterGc(long pid) {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        try {
            run(jcmd, Long.toString(pid), "GC.run");
            return heapUsed(run(jcmd, Long.toString(pid), "GC.heap_info"));
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Runs {@code cmd} (jcmd) for at most 60 s: its output, or IOException (a hung command is killed). */
    private static String run(String... cmd) throws IOException, InterruptedException {
        Path output = Files.createTempFile("keyshift-soak-cmd-", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not answer within 60 s");
            }
            String out = Files.readString(output, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", cmd) + " failed: " + out);
            }
            return out;
        } finally {
            Files.deleteIfExists(output);
        }
    }

    static String describe(ObjectNode s) {
        StringBuilder heap = new StringBuilder();
        s.path("heap_after_gc_bytes").fields().forEachRemaining(e -> heap.append(heap.length() == 0 ? "" : ", ")
                .append(e.getKey()).append(' ').append(e.getValue().asLong() / (1 << 20)).append(" MiB"));
        return String.format("%5.0f s: %,d records, %,d migrations (%d planned or in shadow phase), checkpoint %,d bytes, "
                        + "routing table %d, waiting %d, p99 %.0f ms, heap after GC [%s], validation %d/%d mismatches",
                s.path("seconds").asDouble(), s.path("records").asLong(), s.path("migrations_completed").asLong(),
                s.path("migrations_in_shadow_phase").asLong(), s.path("checkpoint").path("state_size").asLong(),
                s.path("routing_table_entries").asLong(), s.path("waiting_records").asLong(),
                s.path("latency_p99_ms").asDouble(), heap, s.path("validation_mismatches").asLong(),
                s.path("validation_matches").asLong() + s.path("validation_mismatches").asLong());
    }

    /**
     * Medians of the samples of the first and of the last five minutes (or fifth of the run, if shorter), by the
     * samples' {@code seconds} (a sample's index × {@code every} where it has none): checkpoint size, routing-table
     * size, heap after GC of each JVM, p99 latency. (Counted in samples, as until 2026-12-05, the minutes stretched
     * where samples fell behind {@code every}: ten minutes each at 5 s samples that took 10.)
     */
    static ObjectNode firstVsLast(ArrayNode samples, Duration every) {
        ObjectNode out = JSON.createObjectNode();
        int n = samples.size();
        if (n == 0) {
            return out;
        }
        double step = every.toMillis() / 1000.0;
        double[] t = new double[n];
        for (int i = 0; i < n; i++) {
            JsonNode sec = samples.get(i).path("seconds");
            t[i] = sec.isNumber() ? sec.asDouble() : i * step;
        }
        double each = Math.min(Duration.ofMinutes(5).toSeconds(), (t[n - 1] - t[0]) / 5);
        List<JsonNode> first = new ArrayList<>();
        List<JsonNode> last = new ArrayList<>();
        // half a step of slack: samples come a few milliseconds after their grid times, so a sample one whole span
        // after the first (360.0 s against 60.1 s) fell inside it now and then, six samples instead of five
        double within = each - step / 2;
        for (int i = 0; i < n; i++) {
            if (i == 0 || t[i] - t[0] < within) {
                first.add(samples.get(i));
            }
            if (i == n - 1 || t[n - 1] - t[i] < within) {
                last.add(samples.get(i));
            }
        }
        out.put("seconds_each", each);
        out.put("samples_first", first.size());
        out.put("samples_last", last.size());
        List<String> measures = new ArrayList<>(List.of("/checkpoint/state_size", "/routing_table_entries",
                "/latency_p99_ms", "/waiting_records"));
        samples.get(n - 1).path("heap_after_gc_bytes").fieldNames().forEachRemaining(f -> measures.add("/heap_after_gc_bytes/" + f));
        for (String m : measures) {
            ObjectNode o = out.putObject(m.substring(1).replace('/', '.'));
            o.put("first", median(first, m));
            o.put("last", median(last, m));
        }
        return out;
    }

    /** Median of the samples' values at {@code pointer}, without the -1 of a value not there yet; -1 if none. */
    static double median(List<JsonNode> xs, String pointer) {
        double[] v = xs.stream().map(x -> x.at(pointer)).filter(JsonNode::isNumber).mapToDouble(JsonNode::asDouble)
                .filter(d -> d >= 0).sorted().toArray();
        if (v.length == 0) {
            return -1;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** soak.json, then soak.png: checkpoint size, routing table, heap after GC, p99 latency over minutes. */
    static void write(Path out, ObjectNode report) throws IOException {
        writeJson(out, report);
        JsonNode samples = report.path("samples");
        if (samples.size() == 0) {
            return;
        }
        List<Double> minutes = new ArrayList<>();
        for (JsonNode sm : samples) {
            minutes.add(sm.path("seconds").asDouble() / 60);
        }
        XYChart cp = panel("checkpointed state of the job", "MiB (full size)");
        List<Double> cpMb = values(samples, "/checkpoint/state_size");
        cpMb.replaceAll(b -> b == null ? null : b / (1 << 20));
        cp.addSeries("all vertices", minutes, cpMb);
        XYChart rt = panel("routing table", "entries");
        rt.addSeries("routing table", minutes, values(samples, "/routing_table_entries"));
        rt.addSeries("waiting records", minutes, values(samples, "/waiting_records"));
        XYChart heap = panel("heap after GC", "MiB");
        samples.get(samples.size() - 1).path("heap_after_gc_bytes").fieldNames().forEachRemaining(f -> {
            List<Double> mb = values(samples, "/heap_after_gc_bytes/" + f);
            mb.replaceAll(b -> b == null ? null : b / (1 << 20));
            heap.addSeries(f, minutes, mb);
        });
        XYChart lat = panel("latency markers, largest p99", "ms");
        lat.addSeries("p99", minutes, values(samples, "/latency_p99_ms"));
        BitmapEncoder.saveBitmap(List.of(cp, rt, heap, lat), 2, 2, out.resolve("soak.png").toString(),
                BitmapEncoder.BitmapFormat.PNG);
    }

    /**
     * Records how the soak job ended in soak.json ({@code job_state}, {@code failure}) beside the samples so far,
     * which a soak that fails keeps (without it, soak.json read as a run cut short at its last sample), and returns
     * the exception that says it.
     *
     * @param state the job's last polled state (FAILED, CANCELED, RUNNING past the time limit, ...), UNKNOWN where
     *              the REST API stopped answering, NOT_SUBMITTED where the submission failed
     */
    static IllegalStateException failed(Path out, ObjectNode report, String state, String message) {
        report.put("job_state", state);
        report.put("failure", message);
        try {
            writeJson(out, report);
        } catch (IOException e) {
            message += " (and soak.json could not be written: " + e.getMessage() + ")";
        }
        return new IllegalStateException(message);
    }

    /** soak.json, replaced atomically (a reader never sees half a file). */
    private static void writeJson(Path out, ObjectNode report) throws IOException {
        Path tmp = out.resolve("soak.json.tmp");
        JSON.writeValue(tmp.toFile(), report);
        Files.move(tmp, out.resolve("soak.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static XYChart panel(String title, String y) {
        XYChart c = new XYChartBuilder().width(640).height(400).title(title).xAxisTitle("minutes").yAxisTitle(y).build();
        c.getStyler().setMarkerSize(4);
        c.getStyler().setXAxisDecimalPattern("0.#");
        c.getStyler().setYAxisMin(0.0);
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideSW);
        return c;
    }

    /**
     * The samples' values at {@code pointer}, null (a gap in the chart) where a sample has none or the -1 of a value
     * not there yet (no completed checkpoint, no latency marker through, jcmd failed): they were drawn as 0 and -1,
     * while soak.json's medians leave them out. A series with no value at all is drawn as zeros (XChart draws no
     * series of nulls only).
     */
    static List<Double> values(JsonNode samples, String pointer) {
        List<Double> out = new ArrayList<>();
        boolean any = false;
        for (JsonNode sm : samples) {
            JsonNode v = sm.at(pointer);
            boolean there = v.isNumber() && v.asDouble() >= 0;
            out.add(there ? v.asDouble() : null);
            any |= there;
        }
        if (!any) {
            out.replaceAll(v -> 0.0);
        }
        return out;
    }

    /**
     * The soak's window as the options' window: the options that depend on it (seasons, models, the calendar) are
     * checked against it, as the soak command checked them (config.yaml's window is the same or none).
     */
    private static Map<String, String> windowOf(Settings s) {
        return Map.of(JobOptions.WINDOW.key(), s.window().toMillis() + " ms");
    }

    /** hash on a local cluster over the same generator, window and parallelism. */
    private static Map<String, String> hashResults(Settings s) throws Exception {
        Path work = s.out().resolve("hash");
        ReplayRunner.deleteRecursively(work);
        Files.createDirectories(work);
        Configuration c = FlinkConfig.load(s.confDir(), windowOf(s));
        c.set(JobOptions.WINDOW, s.window());
        c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, io.keyshift.jobs.LocalPaths.uri(work.resolve("checkpoints")));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(s.parallelism(), c);
        ReplayJob.build(env, s.reference(), Strategy.HASH, c, work.resolve("run"), false, 0, null);
        env.execute("keyshift soak: hash reference");
        return ReplayReport.results(work.resolve("run").resolve("results"));
    }
}
