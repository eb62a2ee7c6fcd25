package io.keyshift.jobs.bench;

import io.keyshift.jobs.workload.BenchOptions;
import io.keyshift.config.JobOptions;
import io.keyshift.jobs.event.Event;
import io.keyshift.jobs.source.EventSpace;
import io.keyshift.jobs.source.StridedSource;
import io.keyshift.jobs.source.ZipfDriftGenerator;
import io.keyshift.jobs.replay.Strategy;
import io.keyshift.jobs.workload.CapacityModel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.UUID;

/**
 * The throughput benchmark: the built-in generator at full speed through {@code hash} and {@code predictive}, one
 * after the other in one JVM, for uniform keys (pure overhead of sampling and routing) and for a skewed hot set that
 * drifts slowly (a daily cycle spread over many seconds of wall time, so that the skew reaches the network buffers).
 * A capacity model makes the window operator wait a fixed service time per record, so that p subtasks act as p
 * servers even on 2 cores and a hot subtask is a real bottleneck. Throughput = records / the job's net runtime;
 * latency = window operator time − emission time at the source (p50, p99).
 */
public final class ThroughputBench {
    private ThroughputBench() {}

    /** Windows a plan's lease reaches ahead in the bench (keyshift.plan.lease-lead). */
    static final int LEASE_LEAD = 3;
    /** Source watermark interval in the bench (pipeline.auto-watermark-interval), both strategies. */
    static final java.time.Duration WATERMARK_INTERVAL = java.time.Duration.ofMillis(50);

    /** Bench settings. */
    /**
     * @param latencyRate records per second of an extra skewed pair of runs at that offered load (0 = none): latency
     *                    where hashing's hot subtask saturates but balanced subtasks need not
     */
    public record Settings(long records, double days, int keys, double skewExponent, int drift, int parallelism,
                           Duration serviceTime, Duration window, Configuration config, double latencyRate) {}

    /** Result of one run. */
    public record Run(double recordsPerSecond, double p50Millis, double p99Millis, double seconds) {}

    /** The generator with each record's value set to its emission time (System.nanoTime). */
    static final class Stamped implements EventSpace {
        private static final long serialVersionUID = 1L;
        private final EventSpace inner;

        Stamped(EventSpace inner) {
            this.inner = inner;
        }

        @Override
        public long size() {
            return inner.size();
        }

        @Override
        public Cursor open(int offset, int stride, long position) throws IOException {
            Cursor c = inner.open(offset, stride, position);
            return new Cursor() {
                @Override
                public boolean hasNext() {
                    return c.hasNext();
                }

                @Override
                public Event next() {
                    Event e = c.next();
                    e.value = System.nanoTime();
                    return e;
                }

                @Override
                public void close() throws IOException {
                    c.close();
                }
            };
        }
    }

    static Run run(Settings s, double exponent, Strategy strategy) throws Exception {
        return run(s, exponent, strategy, 0);
    }

    static Run run(Settings s, double exponent, Strategy strategy, double rate) throws Exception {
        ZipfDriftGenerator gen = new ZipfDriftGenerator(s.records(), 1_767_571_200_000L,
                s.records() / (s.days() * 86_400.0), s.keys(), exponent, exponent > 0 ? s.drift() : 0, 42);
        Configuration c = new Configuration(s.config());
        String latencyId = "bench-" + UUID.randomUUID();
        c.set(BenchOptions.SERVICE_TIME, s.serviceTime());
        c.set(BenchOptions.LATENCY_ID, latencyId);
        c.set(JobOptions.WINDOW, s.window());
        // The capacity model, not state access, should bound each subtask: keyed state on the heap.
        c.setString("state.backend.type", "hashmap");
        // At full speed a window passes in about a third of a second, and the plan loop (source watermark -> sampler
        // -> profiler -> forecaster -> planner -> router) trails the data by about one window: a lease three windows
        // ahead, and source watermarks every 50 ms (both strategies), keep records from waiting for plans.
        c.set(io.keyshift.config.PlanOptions.LEASE_LEAD, LEASE_LEAD);
        c.set(org.apache.flink.configuration.PipelineOptions.AUTO_WATERMARK_INTERVAL, WATERMARK_INTERVAL);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(s.parallelism(), c);
        env.setMaxParallelism(128);
        // Source subtasks stay within one window of event time of each other (Flink's watermark alignment), for
        // both strategies: otherwise at full speed the fastest ones run far ahead of the slowest.
        var events = env.fromSource(new StridedSource(new Stamped(gen), s.parallelism(), rate, null),
                WatermarkStrategy.<Event>forMonotonousTimestamps().withTimestampAssigner((e, ts) -> e.timestamp)
                        .withWatermarkAlignment("keyshift-bench-source", s.window(), java.time.Duration.ofMillis(50)),
                "bench generator").uid(io.keyshift.jobs.replay.ReplayJob.SOURCE_UID);
        io.keyshift.jobs.replay.Workload.Outputs out = io.keyshift.jobs.replay.Workload.build(events, strategy, c,
                s.parallelism());
        out.results().sinkTo(new DiscardingSink<>()).name("discard results");
        if (out.validation() != null) {
            out.validation().sinkTo(new DiscardingSink<>()).name("discard validation");
        }
        JobExecutionResult r = env.execute("keyshift bench [" + strategy.id() + ", zipf " + exponent + "]");
        double seconds = r.getNetRuntime() / 1000.0;
        return new Run(s.records() / seconds, CapacityModel.quantileMillis(latencyId, 0.5),
                CapacityModel.quantileMillis(latencyId, 0.99), seconds);
    }

    /** Runs hash and predictive on uniform and skewed keys; returns bench.json. */
    public static ObjectNode run(Settings s, PrintStream log) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        ObjectNode model = root.putObject("capacity_model");
        model.put("service_time_us", s.serviceTime().toNanos() / 1000.0);
        model.put("waits", "the window operator parks the thread for the service time per record (no CPU burnt)");
        model.put("parallelism", s.parallelism());
        model.put("records", s.records());
        model.put("keys", s.keys());
        model.put("event_time_days", s.days());
        model.put("window", s.window().toString());
        model.put("state_backend", "hashmap");
        model.put("lease_lead_windows", LEASE_LEAD);
        model.put("watermark_interval_ms", WATERMARK_INTERVAL.toMillis());
        log.printf("capacity model ON: %.0f us per record in the window operator (waits, does not burn CPU), p=%d%n",
                s.serviceTime().toNanos() / 1000.0, s.parallelism());
        for (String name : new String[] {"uniform", "skewed"}) {
            double exponent = name.equals("uniform") ? 0 : s.skewExponent();
            Run hash = run(s, exponent, Strategy.HASH);
            log.printf("%-8s hash       %,10.0f records/s  p50 %8.1f ms  p99 %8.1f ms  (%.1f s)%n", name,
                    hash.recordsPerSecond(), hash.p50Millis(), hash.p99Millis(), hash.seconds());
            Run pred = run(s, exponent, Strategy.PREDICTIVE);
            log.printf("%-8s predictive %,10.0f records/s  p50 %8.1f ms  p99 %8.1f ms  (%.1f s)  ratio %.2f%n", name,
                    pred.recordsPerSecond(), pred.p50Millis(), pred.p99Millis(), pred.seconds(),
                    pred.recordsPerSecond() / hash.recordsPerSecond());
            ObjectNode n = root.putObject(name);
            n.put("zipf", exponent);
            n.put("drift_keys", exponent > 0 ? s.drift() : 0);
            n.put("hash_rps", hash.recordsPerSecond());
            n.put("predictive_rps", pred.recordsPerSecond());
            n.put("ratio", pred.recordsPerSecond() / hash.recordsPerSecond());
            n.put("hash_p50_ms", hash.p50Millis());
            n.put("hash_p99_ms", hash.p99Millis());
            n.put("predictive_p50_ms", pred.p50Millis());
            n.put("predictive_p99_ms", pred.p99Millis());
        }
        if (s.latencyRate() > 0) {
            Run hash = run(s, s.skewExponent(), Strategy.HASH, s.latencyRate());
            Run pred = run(s, s.skewExponent(), Strategy.PREDICTIVE, s.latencyRate());
            log.printf("skewed at %,.0f records/s offered: hash p50 %.1f ms p99 %.1f ms (%,.0f records/s); predictive "
                            + "p50 %.1f ms p99 %.1f ms (%,.0f records/s)%n", s.latencyRate(), hash.p50Millis(),
                    hash.p99Millis(), hash.recordsPerSecond(), pred.p50Millis(), pred.p99Millis(), pred.recordsPerSecond());
            ObjectNode n = root.putObject("skewed_at_offered_rate");
            n.put("offered_rps", s.latencyRate());
            n.put("hash_rps", hash.recordsPerSecond());
            n.put("predictive_rps", pred.recordsPerSecond());
            n.put("hash_p50_ms", hash.p50Millis());
            n.put("hash_p99_ms", hash.p99Millis());
            n.put("predictive_p50_ms", pred.p50Millis());
            n.put("predictive_p99_ms", pred.p99Millis());
        }
        return root;
    }
}
