package io.keyshift.jobs.replay;

import io.keyshift.config.JobOptions;
import io.keyshift.jobs.input.ReplayInput;
import io.keyshift.jobs.report.ReplayReport;
import io.keyshift.jobs.source.EventSpace;
import io.keyshift.jobs.source.Progress;
import io.keyshift.jobs.replay.Strategy;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Runs one replay: prepares the input once, then runs each strategy's job on a local MiniCluster (RocksDB,
 * checkpoints, as configured), one after another, and builds the report. {@code hash} always runs first: it is the
 * reference for results.
 */
public final class ReplayRunner {

    /** What to replay and how. */
    public record Settings(InputSource input, List<Strategy> strategies, int parallelism, Path out,
                           Configuration flinkConfig, boolean withSum, double recordsPerSecond, PrintStream log,
                           List<io.keyshift.avro.ScalingPolicy> scaled) {
        /** Without scaling runs. */
        public Settings(InputSource input, List<Strategy> strategies, int parallelism, Path out,
                        Configuration flinkConfig, boolean withSum, double recordsPerSecond, PrintStream log) {
            this(input, strategies, parallelism, out, flinkConfig, withSum, recordsPerSecond, log, List.of());
        }
    }

    /** The input: a prepared file or the generator, with its statistics. */
    public record InputSource(EventSpace space, ReplayInput.Stats stats, String description) {}

    /**
     * Timing of one strategy's job, seconds: {@code wallSeconds} from submission to the job's end, of which
     * {@code startSeconds} until the first record was read (starting the local cluster, deploying the tasks, opening
     * state) and {@code flowSeconds} from then to the end (records through the dataflow, the job's end).
     * {@code recordsPerSecond} = records / wall; {@code flowRecordsPerSecond} = records / flow.
     */
    public record RunTiming(double wallSeconds, double recordsPerSecond, double startSeconds, double flowSeconds,
                            double flowRecordsPerSecond) {
        /** The timing of a job submitted at {@code submitted}, first record at {@code firstRecord} (null if none). */
        static RunTiming of(long records, long submitted, Long firstRecord, long ended) {
            double wall = (ended - submitted) / 1e9;
            long first = firstRecord == null ? submitted : Math.max(submitted, Math.min(firstRecord, ended));
            double start = (first - submitted) / 1e9;
            double flow = (ended - first) / 1e9;
            return new RunTiming(wall, records / Math.max(wall, 1e-9), start, flow, records / Math.max(flow, 1e-9));
        }
    }

    private ReplayRunner() {}

    public static ReplayReport run(Settings s) throws Exception {
        Path work = s.out().resolve(".work");
        deleteRecursively(work);
        Files.createDirectories(work);
        List<Strategy> order = new ArrayList<>();
        order.add(Strategy.HASH);
        for (Strategy st : s.strategies()) {
            if (!order.contains(st)) {
                order.add(st);
            }
        }
        Configuration base = new Configuration(s.flinkConfig());
        int maxP = base.getOptional(PipelineOptions.MAX_PARALLELISM).orElse(base.get(JobOptions.DEFAULT_MAX_PARALLELISM));
        Duration window = base.get(JobOptions.WINDOW);
        Map<Strategy, RunTiming> timings = new LinkedHashMap<>();
        for (Strategy st : order) {
            Path runDir = work.resolve(st.id());
            Configuration conf = new Configuration(base);
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, io.keyshift.jobs.LocalPaths.uri(work.resolve("checkpoints").resolve(st.id())));
            // a -Drest.bind-port (a port or a range) is where Flink binds the web UI whatever rest.port says: given
            // too (the URL printed was the runner's rest.port, where nothing listened, and its retries changed nothing)
            String bindPort = conf.getOptional(org.apache.flink.configuration.RestOptions.BIND_PORT).orElse(null);
            boolean portGiven = bindPort != null
                    || conf.getOptional(org.apache.flink.configuration.RestOptions.PORT).isPresent();
            long t0 = 0;
            String progressId = s.out().toAbsolutePath() + "#" + st.id();
            for (int attempt = 1; ; attempt++) {
                int restPort = conf.getOptional(org.apache.flink.configuration.RestOptions.PORT)
                        .filter(x -> portGiven).orElse(io.keyshift.jobs.cluster.StandaloneCluster.freeLoopbackPort());
                conf.set(org.apache.flink.configuration.RestOptions.PORT, restPort);
                StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
                env.setParallelism(s.parallelism());
                env.setMaxParallelism(maxP);
                Progress.reset(progressId);
                ReplayJob.build(env, s.input().space(), st, conf, runDir, s.withSum(), s.recordsPerSecond(), progressId);
                s.log().printf("replay [%s]: %s, window %s, parallelism %d, max parallelism %d; web UI with the "
                                + "keyshift metrics while it runs: %s%n", st.id(),
                        s.input().description(), window, s.parallelism(), maxP,
                        bindPort == null ? "http://127.0.0.1:" + restPort : bindPort.strip().matches("[1-9][0-9]*")
                                ? "http://127.0.0.1:" + bindPort.strip()
                                : "http://127.0.0.1 at a port of rest.bind-port " + bindPort);
                t0 = System.nanoTime();
                Thread progress = progressPrinter(s.log(), st.id(), progressId, s.input().stats().records(), t0);
                try {
                    env.execute("keyshift replay [" + st.id() + "]");
                    break;
                } catch (Exception e) {
                    // the free port found above can be taken (by any socket of this machine) before the local
                    // cluster binds it: that start is tried again on another port, before any record was read
                    if (portGiven || attempt >= 3 || !restPortTaken(e)) {
                        throw e;
                    }
                    s.log().printf("replay [%s]: port %d was taken before the web UI could bind it; trying another%n",
                            st.id(), restPort);
                    deleteRecursively(runDir);
                } finally {
                    progress.interrupt();
                    progress.join();
                }
            }
            RunTiming timing = RunTiming.of(s.input().stats().records(), t0,
                    Progress.firstRecordNanos(progressId), System.nanoTime());
            timings.put(st, timing);
            s.log().printf("replay [%s]: done in %.1f s (%.1f s to the first record, %.1f s from there)%n", st.id(),
                    timing.wallSeconds(), timing.startSeconds(), timing.flowSeconds());
        }
        List<io.keyshift.jobs.report.ScalingReport.Run> scalingRuns = new ArrayList<>();
        if (!s.scaled().isEmpty()) {
            for (Strategy st : order) {
                scalingRuns.add(new io.keyshift.jobs.report.ScalingReport.Run(st.id(), s.parallelism(), List.of()));
            }
        }
        for (io.keyshift.avro.ScalingPolicy policy : s.scaled()) {
            String id = ScaledReplay.runId(policy);
            String progressId = s.out().toAbsolutePath() + "#" + id;
            Progress.reset(progressId);
            long t0 = System.nanoTime();
            Thread progress = progressPrinter(s.log(), id, progressId, s.input().stats().records(), t0);
            ScaledReplay.Outcome o;
            try {
                o = ScaledReplay.run(s.input().space(), s.input().stats().firstEvent(), s.input().stats().lastEvent(), base,
                        policy, s.parallelism(),
                        maxP, window.toMillis(), work.resolve(id), work, s.withSum(), s.recordsPerSecond(), progressId,
                        s.log());
            } finally {
                progress.interrupt();
                progress.join();
            }
            s.log().printf("replay [%s]: done in %.1f s, %d rescales%n", id, o.wallSeconds(), o.rescales().size());
            scalingRuns.add(new io.keyshift.jobs.report.ScalingReport.Run(id, s.parallelism(), o.rescales()));
        }
        ReplayReport report = ReplayReport.build(work, s.out(), order, timings, s.input().stats(), s.parallelism(),
                maxP, window, s.withSum());
        if (!scalingRuns.isEmpty()) {
            io.keyshift.jobs.report.ScalingReport.add(report, work, s.out(), scalingRuns,
                    base.get(io.keyshift.config.ScalingOptions.CAPACITY), window.toMillis(),
                    s.input().stats().firstEvent(), s.input().stats().lastEvent(),
                    base.getOptional(Workload.CONTROL_FILE).isPresent());
        }
        io.keyshift.forecast.ForecastCalendar calendar = io.keyshift.config.KeyshiftConfig.calendar(base,
                window.toMillis());
        if (calendar != null) {
            io.keyshift.jobs.report.CalendarReport.add(report, work, calendar, window.toMillis());
        }
        report.write();
        return report;
    }

    /**
     * True if {@code e} says the local cluster's REST endpoint could not bind its port (the cluster's start, before
     * the job runs: Flink's "Could not start rest endpoint on any port").
     */
    static boolean restPortTaken(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains("Could not start rest endpoint")) {
                return true;
            }
        }
        return false;
    }

    private static Thread progressPrinter(PrintStream log, String name, String id, long total, long t0) {
        Thread t = new Thread(() -> {
            try {
                while (true) {
                    Thread.sleep(2000);
                    long n = Math.min(Progress.get(id), total);
                    double secs = (System.nanoTime() - t0) / 1e9;
                    String eta = n > 0 && n < total ? String.format(", ETA %.0f s", secs * (total - n) / n) : "";
                    log.printf("replay [%s]: %,d / %,d records replayed (%.0f%%), %.0f s%s%n", name, n, total,
                            total == 0 ? 100.0 : 100.0 * n / total, secs, eta);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "keyshift-progress-" + name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    public static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
