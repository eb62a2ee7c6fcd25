package io.keyshift.jobs.bench;

import io.keyshift.jobs.workload.BenchOptions;
import io.keyshift.config.JobOptions;
import io.keyshift.jobs.event.Event;
import io.keyshift.jobs.source.EventSpace;
import io.keyshift.jobs.source.StridedSource;
import io.keyshift.jobs.source.ZipfDriftGenerator;
import io.keyshift.jobs.replay.Strategy;
import io.keyshift.jobs.workload.CapacityModel;
import io.keyshift.jobs.source.WindowBoundaryWatermarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import com.fasterxml.jackson.databind.node.ArrayNode;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The throughput benchmark: the built-in generator at full speed through plain {@code keyBy}, keyshift and Flink
 * SQL's two-phase window aggregation, in one JVM, over a matrix of key distributions (uniform: keyshift's pure overhead; a Zipf hot set held for the whole run;
 * one that drifts) and service times. The service time is a capacity model: the window operator waits (does not
 * burn CPU) a fixed time per record, so that p subtasks act as p servers even on 2 cores and a hot subtask is a real
 * bottleneck; at service time 0 the job is CPU-bound and what each record costs decides. Throughput = records / the
 * job's net runtime; latency = window operator time − emission time at the source (p50, p99; SQL's at its local
 * aggregate, on the source subtasks before the exchange: not the same measure); CPU = the JVM's
 * process CPU time during the job per record. Method: an unmeasured warm-up run per system and cell, then rounds in
 * alternating order, medians and ranges.
 */
public final class ThroughputBench {
    private ThroughputBench() {}

    /** The bench jobs' max parallelism (key groups); {@code --parallelism} is at most this. */
    public static final int MAX_PARALLELISM = 128;

    /**
     * Windows a plan's lease reaches ahead in the bench (keyshift.plan.lease-lead): the library's default, as a job
     * runs keyshift. Until 2026-12-04 the bench took 3, so that routers at full speed would not wait for plans; at 1
     * keyshift was as fast on the CPU-bound cells (uniform keys 2.10M against 2.05M records/s, drifting 2.49M against
     * 2.10M, one round each) and its moves take effect two windows sooner (the held hot set at 20 us, 8M records:
     * 2.20 against 2.15 times keyBy, three rounds each).
     */
    public static final int LEASE_LEAD = io.keyshift.config.PlanOptions.LEASE_LEAD.defaultValue();
    /** Source watermark interval in the bench (pipeline.auto-watermark-interval), both strategies. */
    static final java.time.Duration WATERMARK_INTERVAL = java.time.Duration.ofMillis(50);

    /** The key distributions of the matrix. */
    public enum Keys {
        /** Every key equally likely: keyshift's pure overhead (sampling, routing, envelope, ownership). */
        UNIFORM("uniform"),
        /** A Zipf hot set that stays put for the whole run: one fixed assignment fixes it. */
        HELD("held"),
        /** A Zipf hot set that drifts (the hottest key changes during the run). */
        DRIFTING("drifting");

        public final String id;

        Keys(String id) {
            this.id = id;
        }

        public static Keys of(String id) {
            for (Keys k : values()) {
                if (k.id.equals(id)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("unknown key distribution '" + id + "' (uniform, held, drifting)");
        }
    }

    /** The systems compared in one cell. */
    public enum Contender {
        /** Flink's plain keyBy (keyshift's {@code hash} strategy). */
        KEYBY("keyBy", Strategy.HASH),
        /** keyshift's public API with the predictive planner. */
        KEYSHIFT("keyshift", Strategy.PREDICTIVE),
        /** Flink SQL's two-phase (local-global) window aggregation with mini-batch ({@link SqlTwoPhase}). */
        SQL_TWO_PHASE("sql-two-phase", null);

        public final String id;
        final Strategy strategy;

        Contender(String id, Strategy strategy) {
            this.id = id;
            this.strategy = strategy;
        }
    }

    /**
     * Bench settings.
     *
     * @param records records per measured run; 0 = by service time ({@link #defaultRecords}: 24M at 0, 16M above 0 up
     *                to 20 us, 1M above)
     * @param repetitions measured runs per system and cell (after one unmeasured warm-up run each), >= 1
     * @param latencyRate records per second of extra runs of the drifting keys at that offered load, at the first
     *                    service time (0 = none): latency where hashing's hot subtask saturates but balanced subtasks
     *                    need not; keyBy and keyshift, one warm-up run each, then {@code repetitions} rounds in
     *                    alternating order, medians, results checked against keyBy's
     */
    public record Settings(long records, double days, int keys, double skewExponent, int drift, int parallelism,
                           List<Duration> serviceTimes, List<Keys> workloads, int repetitions, Duration window,
                           Configuration config, double latencyRate) {}

    /**
     * Result of one run.
     *
     * @param cpuMicrosPerRecord CPU time of the whole JVM (all threads) during the job, per record, us
     */
    public record Run(double recordsPerSecond, double p50Millis, double p99Millis, double seconds,
                      double cpuMicrosPerRecord, Map<String, Double> cpuMicrosPerRecordByTask, long results,
                      long migrations, long resultsDigest) {}

    /** Sums the migrations each plan started (a Flink accumulator), for keyshift's runs. */
    static final class CountMigrations
            extends org.apache.flink.api.common.functions.RichMapFunction<io.keyshift.avro.RoutingPlan, Integer> {
        private static final long serialVersionUID = 1L;
        static final String STARTED = "bench-migrations-started";
        private transient org.apache.flink.api.common.accumulators.LongCounter started;

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext ctx) {
            started = new org.apache.flink.api.common.accumulators.LongCounter();
            getRuntimeContext().addAccumulator(STARTED, started);
        }

        @Override
        public Integer map(io.keyshift.avro.RoutingPlan plan) {
            started.add(plan.getMigrationsStarted());
            return plan.getMigrationsStarted();
        }
    }

    /**
     * The result check of every contender: counts the window results, sums their record counts and sums a 64-bit mix
     * of each result's (key, window start in epoch milliseconds, count) (Flink accumulators; the sum wraps, so the
     * digest does not depend on the order results arrive in). A run whose counts do not add up to the records read
     * fails; the bench then requires every contender's digest to equal keyBy's, so a record counted in the wrong key
     * or window fails too, not only a lost or doubled one.
     */
    static final class Check<X> extends org.apache.flink.api.common.functions.RichMapFunction<X, X> {
        private static final long serialVersionUID = 1L;
        static final String RESULTS = "bench-results";
        static final String COUNTED = "bench-counted";
        static final String DIGEST = "bench-results-digest";
        /** Subtasks of the check that run in a later attempt than the first: the job restarted. */
        static final String RESTARTS = "bench-restarted-subtasks";

        /** A result's key, window start (epoch milliseconds, UTC) and record count. */
        interface Fields<X> extends java.io.Serializable {
            String key(X x);

            long windowStart(X x);

            long count(X x);
        }

        private final Fields<X> fields;
        private transient org.apache.flink.api.common.accumulators.LongCounter results;
        private transient org.apache.flink.api.common.accumulators.LongCounter counted;
        private transient org.apache.flink.api.common.accumulators.LongCounter digest;

        Check(Fields<X> fields) {
            this.fields = fields;
        }

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext ctx) {
            results = new org.apache.flink.api.common.accumulators.LongCounter();
            counted = new org.apache.flink.api.common.accumulators.LongCounter();
            digest = new org.apache.flink.api.common.accumulators.LongCounter();
            getRuntimeContext().addAccumulator(RESULTS, results);
            getRuntimeContext().addAccumulator(COUNTED, counted);
            getRuntimeContext().addAccumulator(DIGEST, digest);
            // Flink reports the accumulators of each task's current attempt only: a restart after a checkpoint lost
            // the earlier attempt's counts (and read as a contender losing records), one before it counted the
            // failed attempt's time, CPU and latencies in the run
            org.apache.flink.api.common.accumulators.LongCounter restarts =
                    new org.apache.flink.api.common.accumulators.LongCounter();
            getRuntimeContext().addAccumulator(RESTARTS, restarts);
            if (getRuntimeContext().getTaskInfo().getAttemptNumber() > 0) {
                restarts.add(1);
            }
        }

        @Override
        public X map(X x) {
            long count = fields.count(x);
            results.add(1);
            counted.add(count);
            digest.add(mix(fields.key(x), fields.windowStart(x), count));
            return x;
        }

        /** One result's term of the digest: 64-bit FNV-1a over the key's chars, then the window start and count,
         * finished with SplitMix64's mixer. */
        static long mix(String key, long windowStart, long count) {
            long h = 0xCBF29CE484222325L;
            for (int i = 0; i < key.length(); i++) {
                h = (h ^ key.charAt(i)) * 0x100000001B3L;
            }
            h = (h ^ windowStart) * 0x100000001B3L;
            h = (h ^ count) * 0x100000001B3L;
            h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
            h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
            return h ^ (h >>> 31);
        }

        /** keyBy's and keyshift's results. */
        static final class Results implements Fields<io.keyshift.jobs.workload.WindowResult> {
            private static final long serialVersionUID = 1L;

            @Override
            public String key(io.keyshift.jobs.workload.WindowResult r) {
                return r.key;
            }

            @Override
            public long windowStart(io.keyshift.jobs.workload.WindowResult r) {
                return r.windowStart;
            }

            @Override
            public long count(io.keyshift.jobs.workload.WindowResult r) {
                return r.count;
            }
        }

        /** The SQL peer's rows {@code k, window_start, cnt, s} (window_start in UTC: {@link SqlTwoPhase#build}). */
        static final class SqlRows implements Fields<org.apache.flink.types.Row> {
            private static final long serialVersionUID = 1L;

            @Override
            public String key(org.apache.flink.types.Row r) {
                return (String) r.getField("k");
            }

            @Override
            public long windowStart(org.apache.flink.types.Row r) {
                return ((java.time.LocalDateTime) r.getField("window_start")).toInstant(java.time.ZoneOffset.UTC)
                        .toEpochMilli();
            }

            @Override
            public long count(org.apache.flink.types.Row r) {
                return ((Number) r.getField("cnt")).longValue();
            }
        }
    }

    /**
     * CPU time of the JVM's threads during a job, grouped by Flink task (from the thread names): samples every
     * thread's CPU time every 50 ms and keeps each thread's last value (a task thread ends with the job).
     */
    static final class ThreadCpu implements AutoCloseable {
        /** The name of the thread that samples. */
        static final String SAMPLER_THREAD = "bench-thread-cpu";
        private final java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        private final Map<Long, long[]> start = new java.util.HashMap<>();
        private final Map<Long, Long> last = new java.util.concurrent.ConcurrentHashMap<>();
        private final Map<Long, String> names = new java.util.concurrent.ConcurrentHashMap<>();
        private final java.util.concurrent.ScheduledExecutorService timer =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, SAMPLER_THREAD);
                    t.setDaemon(true);
                    return t;
                });

        ThreadCpu() {
            for (long id : mx.getAllThreadIds()) {
                long cpu = mx.getThreadCpuTime(id);
                if (cpu >= 0) {
                    start.put(id, new long[] {cpu});
                }
            }
            timer.scheduleAtFixedRate(this::sample, 0, 50, java.util.concurrent.TimeUnit.MILLISECONDS);
        }

        private void sample() {
            for (java.lang.management.ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
                if (info == null) {
                    continue;
                }
                long cpu = mx.getThreadCpuTime(info.getThreadId());
                if (cpu >= 0) {
                    last.put(info.getThreadId(), cpu);
                    names.putIfAbsent(info.getThreadId(), info.getThreadName());
                }
            }
        }

        /** CPU us per record by task group, over {@code records}. */
        Map<String, Double> perRecord(long records) {
            sample();
            Map<String, Double> out = new java.util.TreeMap<>();
            for (Map.Entry<Long, Long> e : last.entrySet()) {
                long[] s0 = start.get(e.getKey());
                long cpu = e.getValue() - (s0 == null ? 0 : s0[0]);
                out.merge(group(names.get(e.getKey())), cpu / 1000.0 / records, Double::sum);
            }
            return out;
        }

        static String group(String name) {
            if (name == null) {
                return "other";
            }
            if (name.startsWith("OutputFlusher")) {
                return "network output flushers";
            }
            if (name.equals(SAMPLER_THREAD)) {
                // this bench's own sampling (every thread's CPU time, 20 times a second): no Flink thread's
                return "bench's CPU sampler";
            }
            if (name.startsWith("Source:") || name.contains("router")) {
                // keyshift's router, and SQL's local aggregate, are chained to the source
                return "source (-> router | local aggregate)";
            }
            if (name.contains("GlobalWindowAggregate")) {
                return "keyed window";
            }
            if (name.startsWith("OutputFlusher")) {
                return "network output flushers";
            }
            if (name.contains("window")) {
                return "keyed window";
            }
            if (name.contains("profiler") || name.contains("planner")) {
                return "control path (profiler, forecaster, planner)";
            }
            if (name.contains("split merger") || name.contains("validator") || name.contains("discard")
                    || name.contains("load lines")) {
                return "results path (merger, validator, sinks)";
            }
            // the JIT compilers' and the garbage collector's threads are not Java threads ThreadMXBean lists: their
            // CPU is in the whole JVM's figure only
            return "Flink runtime threads (RPC, checkpoints, timers)";
        }

        @Override
        public void close() {
            timer.shutdownNow();
        }
    }

    /**
     * Records per run when none are given: long enough that the job's start (about 1 s) is a small share (on 2 cores
     * keyBy takes about 7 s for 24M records at service time 0, 2 s for the 6M this was until 2026-12-03). At 20 us
     * 16M (2M until 2026-12-04: keyshift's run took 7 s, and its deployment, its JIT warm-up and the first windows,
     * routed as keyBy routes them before the first plan, were a tenth of it; see {@link #defaultDays}).
     */
    public static long defaultRecords(Duration serviceTime) {
        long ns = serviceTime.toNanos();
        return ns == 0 ? 24_000_000 : ns <= 20_000 ? 16_000_000 : 1_000_000;
    }

    /**
     * Event-time days a run's records span when {@code --days} is not given: 16 at service times above 0 up to 20 us
     * (a million records a day, 384 windows of an hour: the two windows before keyshift's first moves take effect are
     * half a percent of the records), 2 otherwise (at service time 0 more windows mean more window firings per
     * record for every contender, and the 100 us runs are short).
     */
    public static double defaultDays(Duration serviceTime) {
        long ns = serviceTime.toNanos();
        return ns > 0 && ns <= 20_000 ? 16 : 2;
    }

    /** The days of a cell: {@code --days}, or {@link #defaultDays} when it is 0. */
    static double days(Settings s, Duration serviceTime) {
        return s.days() > 0 ? s.days() : defaultDays(serviceTime);
    }

    /**
     * The generator with each record's value set to its emission time (System.nanoTime), when the source emits it:
     * not when the source reads it, one record ahead (before a throttled source's wait for the record, which added
     * about parallelism / rate to every latency of the offered-rate runs); a throttled source's records get the time
     * its schedule made them due, so a wait that backpressure imposed on the source counts.
     */
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
            return new ForwardingCursor(inner.open(offset, stride, position)) {
                @Override
                public void emitting(Event e, long dueNanos) {
                    super.emitting(e, dueNanos);
                    // an offered load's record arrives when due: a source that backpressure held back counts the
                    // wait (no coordinated omission, Tene's term)
                    e.value = dueNanos == UNSCHEDULED ? System.nanoTime() : dueNanos;
                }
            };
        }
    }

    /**
     * Checks that every contender can window by {@code window} before any run.
     *
     * @throws IllegalArgumentException unless it is a whole number of seconds (the SQL peer's interval literal)
     */
    public static void checkWindow(Duration window) {
        SqlTwoPhase.checkWindow(window);
    }

    /**
     * Builds the SQL contender's plan once, on no run, with the bench's configuration {@code config} (config.yaml and
     * every {@code -D}): a {@code table.*} option the table planner refuses (a dialect it does not know, a value that
     * does not parse) fails here, before any run and before an earlier output is replaced; it failed when the first
     * SQL run was built, after keyBy's and keyshift's, with the planner's message naming no option.
     *
     * @throws IllegalArgumentException with the planner's message
     */
    public static void checkSqlPlan(Configuration config, Duration window) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1,
                new Configuration(config));
        var events = env.fromSource(new StridedSource(new ZipfDriftGenerator(1, 0, 1, 1, 0, 0, 1), 1, 0, null),
                WindowBoundaryWatermarks.strategy(window), "plan check");
        try {
            SqlTwoPhase.build(env, events, window, new CapacityModel(0, "plan-check"))
                    .sinkTo(new DiscardingSink<>());
        } catch (RuntimeException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            List<String> table = new ArrayList<>();
            config.toMap().forEach((k, v) -> {
                if (k.startsWith("table.")) {
                    table.add(k + "=" + v);
                }
            });
            Collections.sort(table);
            throw new IllegalArgumentException("the SQL contender's plan" + (table.isEmpty() ? "" : " with "
                    + String.join(", ", table)) + ": " + root.getMessage(), e);
        }
    }

    /** The bench's lease lead ({@value #LEASE_LEAD} windows) unless {@code -Dkeyshift.plan.lease-lead} sets one. */
    static int leaseLead(Settings s) {
        return leaseLead(s.config());
    }

    /** As {@link #leaseLead(Settings)}, from the bench's configuration. */
    public static int leaseLead(org.apache.flink.configuration.ReadableConfig config) {
        return config.getOptional(io.keyshift.config.PlanOptions.LEASE_LEAD).orElse(LEASE_LEAD);
    }

    static Run run(Settings s, Keys keys, Duration serviceTime, long records, Contender system, double rate)
            throws Exception {
        double exponent = keys == Keys.UNIFORM ? 0 : s.skewExponent();
        int drift = keys == Keys.DRIFTING ? s.drift() : 0;
        ZipfDriftGenerator gen = new ZipfDriftGenerator(records, 1_767_571_200_000L,
                records / (days(s, serviceTime) * 86_400.0), s.keys(), exponent, drift, 42);
        Configuration c = new Configuration(s.config());
        // the bench sets the key groups itself (below): config.yaml's keyshift.max-parallelism is not the stage's
        c.removeConfig(JobOptions.DEFAULT_MAX_PARALLELISM);
        String latencyId = "bench-" + UUID.randomUUID();
        c.set(BenchOptions.SERVICE_TIME, serviceTime);
        c.set(BenchOptions.LATENCY_ID, latencyId);
        c.set(JobOptions.WINDOW, s.window());
        // The capacity model, not state access, should bound each subtask: keyed state on the heap.
        c.setString("state.backend.type", "hashmap");
        // At full speed a window passes in a fraction of a second, and the plan loop (source watermark -> sampler
        // -> profiler -> forecaster -> planner -> router) trails the data by about one window: a lease of LEASE_LEAD
        // windows ahead (unless -D sets one), and source watermarks every 50 ms (both systems), keep records from waiting for plans.
        c.set(io.keyshift.config.PlanOptions.LEASE_LEAD, leaseLead(s));
        c.set(org.apache.flink.configuration.PipelineOptions.AUTO_WATERMARK_INTERVAL, WATERMARK_INTERVAL);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(s.parallelism(), c);
        env.setMaxParallelism(MAX_PARALLELISM);
        // No watermark alignment: a source subtask that ends while its router still holds records waiting for a
        // lease does not report its end to the alignment, and the others stay paused behind it (README, "Known
        // limitations"); keyshift's router paces its own input against the plans.
        var events = env.fromSource(new StridedSource(new Stamped(gen), s.parallelism(), rate, null),
                WindowBoundaryWatermarks.strategy(s.window()),
                "bench generator").uid(io.keyshift.jobs.replay.ReplayJob.SOURCE_UID);
        if (system == Contender.SQL_TWO_PHASE) {
            SqlTwoPhase.build(env, events, s.window(), new CapacityModel(serviceTime.toNanos(), latencyId))
                    .map(new Check<>(new Check.SqlRows()))
                    .returns(org.apache.flink.api.common.typeinfo.Types.ROW_NAMED(new String[] {"k", "window_start",
                            "cnt", "s"}, org.apache.flink.api.common.typeinfo.Types.STRING,
                            org.apache.flink.api.common.typeinfo.Types.LOCAL_DATE_TIME,
                            org.apache.flink.api.common.typeinfo.Types.LONG,
                            org.apache.flink.api.common.typeinfo.Types.DOUBLE))
                    .name("result check").sinkTo(new DiscardingSink<>()).name("discard results");
        } else {
            io.keyshift.jobs.replay.Workload.Outputs out = io.keyshift.jobs.replay.Workload.build(events,
                    system.strategy, c, s.parallelism());
            out.results().map(new Check<>(new Check.Results())).name("result check")
                    .sinkTo(new DiscardingSink<>()).name("discard results");
            if (out.validation() != null) {
                out.validation().sinkTo(new DiscardingSink<>()).name("discard validation");
            }
            if (out.plans() != null) {
                out.plans().map(new CountMigrations()).name("count migrations").setParallelism(1)
                        .sinkTo(new DiscardingSink<>()).name("discard plans").setParallelism(1);
            }
        }
        long cpu0 = processCpuNanos();
        JobExecutionResult r;
        Map<String, Double> byTask;
        try (ThreadCpu threads = new ThreadCpu()) {
            r = env.execute("keyshift bench [" + system.id + ", " + keys.id + ", " + micros(serviceTime)
                    + " us]");
            byTask = threads.perRecord(records);
        }
        long cpu = processCpuNanos() - cpu0;
        double seconds = r.getNetRuntime() / 1000.0;
        long results = r.<Long>getAccumulatorResult(Check.RESULTS);
        long counted = r.<Long>getAccumulatorResult(Check.COUNTED);
        Long restarted = r.<Long>getAccumulatorResult(Check.RESTARTS);
        if (restarted != null && restarted > 0) {
            throw new IllegalStateException(system.id + " restarted during its run (" + restarted + " subtasks of "
                    + "its results in a later attempt; the log says why): a run with a restart is not measured");
        }
        if (counted != records) {
            throw new IllegalStateException(system.id + " counted " + counted + " records in its " + results
                    + " window results, not the " + records + " it read");
        }
        Long migrations = r.<Long>getAccumulatorResult(CountMigrations.STARTED);
        double p50 = CapacityModel.quantileMillis(latencyId, 0.5);
        double p99 = CapacityModel.quantileMillis(latencyId, 0.99);
        // 4.8 MB a run: kept, a whole matrix's runs would crowd the heap of the later cells
        CapacityModel.release(latencyId);
        return new Run(records / seconds, p50, p99, seconds, cpu / 1000.0 / records, byTask, results,
                migrations == null ? -1 : migrations, r.<Long>getAccumulatorResult(Check.DIGEST));
    }

    private static long processCpuNanos() {
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
    }

    /** Median of a non-empty list. */
    static double median(List<Double> xs) {
        List<Double> sorted = new ArrayList<>(xs);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /**
     * Runs the matrix (service times x key distributions); in each cell an unmeasured warm-up run per system (a
     * quarter of the records), then {@code repetitions} rounds in alternating order (keyBy, keyshift, SQL two-phase
     * in even rounds, the reverse in odd ones: a drift over time cancels out; keyshift runs second in every round).
     * Prints one line per run and per cell (medians, ratios of medians; the ranges are in bench.json); returns
     * bench.json.
     */
    public static ObjectNode run(Settings s, PrintStream log) throws Exception {
        return run(s, log, root -> { });
    }

    /**
     * As {@link #run(Settings, PrintStream)}, handing bench.json as it stands to {@code afterCell} after each cell of
     * the matrix, with {@code "complete": false} until the matrix is done: a failure in a later cell
     * (the whole matrix takes about 50 minutes) leaves the cells measured before it.
     */
    public static ObjectNode run(Settings s, PrintStream log, java.util.function.Consumer<ObjectNode> afterCell)
            throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("complete", false);
        ObjectNode model = root.putObject("settings");
        model.put("waits", "the window operator parks the thread for the service time per record (no CPU burnt)");
        model.put("parallelism", s.parallelism());
        model.put("keys", s.keys());
        model.put("zipf", s.skewExponent());
        model.put("drift_keys_per_day", s.drift());
        if (s.days() > 0) {
            model.put("event_time_days", s.days());
        } else {
            // a number where --days set one; each cell (and the offered-rate runs) carries its own
            model.putNull("event_time_days");
            model.put("event_time_days_rule", "by service time: 16 above 0 up to 20 us, 2 otherwise");
        }
        model.put("window", s.window().toString());
        model.put("state_backend", "hashmap");
        model.put("lease_lead_windows", leaseLead(s));
        model.put("watermark_interval_ms", WATERMARK_INTERVAL.toMillis());
        model.put("repetitions", s.repetitions());
        model.put("warm_up", "one unmeasured run per system and cell (a quarter of the records), then rounds in "
                + "alternating order");
        model.put("cores", Runtime.getRuntime().availableProcessors());
        ArrayNode cells = root.putArray("cells");
        for (Duration service : s.serviceTimes()) {
            long records = s.records() > 0 ? s.records() : defaultRecords(service);
            for (Keys keys : s.workloads()) {
                String cell = String.format("%s keys, service time %s us, %,d records over %s days", keys.id,
                        micros(service), records, new java.text.DecimalFormat("0.###").format(days(s, service)));
                log.println(cell + ": warming up");
                Run warmKeyBy = null;
                for (Contender system : Contender.values()) {
                    Run warm = run(s, keys, service, Math.max(1, records / 4), system, 0);
                    // the warm-up runs are not measured, but checked as every run is: each contender gives keyBy's
                    // results
                    if (warmKeyBy == null) {
                        warmKeyBy = warm;
                    } else if (warm.results() != warmKeyBy.results()
                            || warm.resultsDigest() != warmKeyBy.resultsDigest()) {
                        throw new IllegalStateException(cell + ", warm-up: " + system.id + " gave " + warm.results()
                                + " window results (digest " + Long.toHexString(warm.resultsDigest()) + "), keyBy "
                                + warmKeyBy.results() + " (digest " + Long.toHexString(warmKeyBy.resultsDigest()) + ")");
                    }
                }
                Map<Contender, List<Run>> runs = new EnumMap<>(Contender.class);
                for (int rep = 0; rep < s.repetitions(); rep++) {
                    List<Contender> order = new ArrayList<>(List.of(Contender.values()));
                    if (rep % 2 == 1) {
                        Collections.reverse(order);
                    }
                    for (Contender system : order) {
                        Run r = run(s, keys, service, records, system, 0);
                        runs.computeIfAbsent(system, k -> new ArrayList<>()).add(r);
                        log.printf("  round %d %-9s %,11.0f records/s  %6.2f us CPU/record  p50 %8.1f ms  p99 %8.1f ms"
                                + "  (%.1f s)%s%n", rep + 1, system.id, r.recordsPerSecond(), r.cpuMicrosPerRecord(),
                                r.p50Millis(), r.p99Millis(), r.seconds(),
                                r.migrations() >= 0 ? String.format("  %,d migrations", r.migrations()) : "");
                    }
                }
                ObjectNode n = cells.addObject();
                n.put("keys", keys.id);
                n.put("service_time_us", service.toNanos() / 1000.0);
                n.put("records", records);
                n.put("event_time_days", days(s, service));
                double base = median(field(runs.get(Contender.KEYBY), Run::recordsPerSecond));
                double baseCpu = median(field(runs.get(Contender.KEYBY), Run::cpuMicrosPerRecord));
                for (Contender system : Contender.values()) {
                    List<Run> rs = runs.get(system);
                    ObjectNode o = n.putObject(system.id);
                    List<Double> rps = field(rs, Run::recordsPerSecond);
                    o.put("records_per_s_median", median(rps));
                    o.put("records_per_s_min", Collections.min(rps));
                    o.put("records_per_s_max", Collections.max(rps));
                    o.put("cpu_us_per_record_median", median(field(rs, Run::cpuMicrosPerRecord)));
                    o.put("p50_ms_median", median(field(rs, Run::p50Millis)));
                    o.put("p99_ms_median", median(field(rs, Run::p99Millis)));
                    // SQL's capacity model and latency stamp sit in its local aggregate, on the source subtasks,
                    // before the skewed exchange: not the same measure as keyBy's and keyshift's (the window operator)
                    o.put("latency_measured_at", system == Contender.SQL_TWO_PHASE ? "local aggregate"
                            : "window operator");
                    o.put("ratio_to_keyby", median(rps) / base);
                    long expected = runs.get(Contender.KEYBY).get(0).results();
                    long expectedDigest = runs.get(Contender.KEYBY).get(0).resultsDigest();
                    for (Run r : rs) {
                        if (r.results() != expected || r.resultsDigest() != expectedDigest) {
                            throw new IllegalStateException(cell + ": " + system.id + " gave " + r.results()
                                    + " window results (digest " + Long.toHexString(r.resultsDigest()) + "), keyBy "
                                    + expected + " (digest " + Long.toHexString(expectedDigest) + ")");
                        }
                    }
                    o.put("window_results", expected);
                    o.put("window_results_digest", Long.toHexString(expectedDigest));
                    ObjectNode tasks = o.putObject("cpu_us_per_record_by_task_median");
                    java.util.Set<String> groups = new java.util.TreeSet<>();
                    rs.forEach(r -> groups.addAll(r.cpuMicrosPerRecordByTask().keySet()));
                    StringBuilder line = new StringBuilder();
                    for (String g : groups) {
                        double m = median(field(rs, r -> r.cpuMicrosPerRecordByTask().getOrDefault(g, 0.0)));
                        tasks.put(g, m);
                        line.append(String.format("%s %.3f; ", g, m));
                    }
                    log.printf("  %s CPU us per record by task (medians): %s%n", system.id, line);
                    ArrayNode each = o.putArray("runs");
                    for (Run r : rs) {
                        ObjectNode x = each.addObject();
                        x.put("records_per_s", r.recordsPerSecond());
                        x.put("cpu_us_per_record", r.cpuMicrosPerRecord());
                        x.put("p50_ms", r.p50Millis());
                        x.put("p99_ms", r.p99Millis());
                        x.put("seconds", r.seconds());
                        if (r.migrations() >= 0) {
                            x.put("migrations_started", r.migrations());
                        }
                    }
                    if (system == Contender.KEYSHIFT) {
                        o.put("migrations_started_median", median(field(rs, r -> (double) r.migrations())));
                    }
                    if (system != Contender.KEYBY) {
                        log.printf("%s: %s/keyBy throughput %.2f (medians; keyBy %,.0f, %s %,.0f records/s), CPU per "
                                        + "record %.2f us vs %.2f us, p99 %.1f ms vs %.1f ms%s%n", cell, system.id,
                                median(rps) / base, base, system.id, median(rps), median(field(rs,
                                        Run::cpuMicrosPerRecord)), baseCpu, median(field(rs, Run::p99Millis)),
                                median(field(runs.get(Contender.KEYBY), Run::p99Millis)),
                                system == Contender.SQL_TWO_PHASE ? " (SQL's measured at its local aggregate, "
                                        + "before the skewed exchange: not the same measure)" : "");
                    }
                }
                afterCell.accept(root);
            }
        }
        if (s.latencyRate() > 0) {
            Duration service = s.serviceTimes().get(0);
            long records = s.records() > 0 ? s.records() : defaultRecords(service);
            log.printf("drifting keys at %,.0f records/s offered, service time %s us: warming up%n", s.latencyRate(),
                    micros(service));
            Run warmKeyBy = run(s, Keys.DRIFTING, service, Math.max(1, records / 4), Contender.KEYBY,
                    s.latencyRate());
            Run warmKeyshift = run(s, Keys.DRIFTING, service, Math.max(1, records / 4), Contender.KEYSHIFT,
                    s.latencyRate());
            // checked as the matrix's warm-ups are: keyshift gives keyBy's results (only the count read was checked)
            if (warmKeyshift.results() != warmKeyBy.results()
                    || warmKeyshift.resultsDigest() != warmKeyBy.resultsDigest()) {
                throw new IllegalStateException("offered rate, warm-up: keyshift gave " + warmKeyshift.results()
                        + " window results (digest " + Long.toHexString(warmKeyshift.resultsDigest()) + "), keyBy "
                        + warmKeyBy.results() + " (digest " + Long.toHexString(warmKeyBy.resultsDigest()) + ")");
            }
            List<Run> hash = new ArrayList<>();
            List<Run> pred = new ArrayList<>();
            for (int rep = 0; rep < s.repetitions(); rep++) {
                // alternating order, as the matrix's rounds
                List<Contender> order = rep % 2 == 0 ? List.of(Contender.KEYBY, Contender.KEYSHIFT)
                        : List.of(Contender.KEYSHIFT, Contender.KEYBY);
                for (Contender system : order) {
                    Run r = run(s, Keys.DRIFTING, service, records, system, s.latencyRate());
                    (system == Contender.KEYBY ? hash : pred).add(r);
                    log.printf("  round %d %-9s p50 %8.1f ms  p99 %8.1f ms  (%,.0f records/s)%n", rep + 1, system.id,
                            r.p50Millis(), r.p99Millis(), r.recordsPerSecond());
                }
            }
            List<Run> all = new ArrayList<>(hash);
            all.addAll(pred);
            for (Run r : all) {
                if (r.results() != hash.get(0).results() || r.resultsDigest() != hash.get(0).resultsDigest()) {
                    throw new IllegalStateException("drifting keys at the offered rate: a run gave " + r.results()
                            + " window results (digest " + Long.toHexString(r.resultsDigest()) + "), keyBy "
                            + hash.get(0).results() + " (digest " + Long.toHexString(hash.get(0).resultsDigest())
                            + ")");
                }
            }
            log.printf("drifting keys at %,.0f records/s offered (medians of %d): keyBy p50 %.1f ms p99 %.1f ms "
                            + "(%,.0f records/s); keyshift p50 %.1f ms p99 %.1f ms (%,.0f records/s)%n",
                    s.latencyRate(), s.repetitions(), median(field(hash, Run::p50Millis)),
                    median(field(hash, Run::p99Millis)), median(field(hash, Run::recordsPerSecond)),
                    median(field(pred, Run::p50Millis)), median(field(pred, Run::p99Millis)),
                    median(field(pred, Run::recordsPerSecond)));
            ObjectNode n = root.putObject("drifting_at_offered_rate");
            n.put("offered_rps", s.latencyRate());
            n.put("service_time_us", service.toNanos() / 1000.0);
            n.put("records", records);
            n.put("event_time_days", days(s, service));
            n.put("repetitions", s.repetitions());
            n.put("window_results", hash.get(0).results());
            n.put("window_results_digest", Long.toHexString(hash.get(0).resultsDigest()));
            n.put("keyby_rps", median(field(hash, Run::recordsPerSecond)));
            n.put("keyshift_rps", median(field(pred, Run::recordsPerSecond)));
            n.put("keyby_p50_ms", median(field(hash, Run::p50Millis)));
            n.put("keyby_p99_ms", median(field(hash, Run::p99Millis)));
            n.put("keyshift_p50_ms", median(field(pred, Run::p50Millis)));
            n.put("keyshift_p99_ms", median(field(pred, Run::p99Millis)));
            ArrayNode hashRuns = n.putArray("keyby_p99_ms_runs");
            hash.forEach(r -> hashRuns.add(r.p99Millis()));
            ArrayNode predRuns = n.putArray("keyshift_p99_ms_runs");
            pred.forEach(r -> predRuns.add(r.p99Millis()));
        }
        root.put("complete", true);
        return root;
    }

    /** A service time in microseconds as printed: {@code 20}, {@code 0.5}. */
    static String micros(Duration d) {
        return new java.text.DecimalFormat("0.###").format(d.toNanos() / 1000.0);
    }

    private static List<Double> field(List<Run> runs, java.util.function.ToDoubleFunction<Run> f) {
        List<Double> out = new ArrayList<>();
        for (Run r : runs) {
            out.add(f.applyAsDouble(r));
        }
        return out;
    }

    /**
     * A bar chart of bench.json: per cell, each system's median throughput relative to keyBy's (keyBy = 1), with
     * the range of the per-run throughputs divided by keyBy's median as error bars.
     */
    public static void chart(ObjectNode bench, Path png) throws IOException {
        List<String> cells = new ArrayList<>();
        Map<Contender, List<Double>> ratios = new EnumMap<>(Contender.class);
        Map<Contender, List<Double>> errors = new EnumMap<>(Contender.class);
        for (var n : bench.get("cells")) {
            cells.add(n.get("keys").asText() + ", " + new java.text.DecimalFormat("0.###").format(
                    n.get("service_time_us").asDouble()) + " us");
            double base = n.get(Contender.KEYBY.id).get("records_per_s_median").asDouble();
            for (Contender system : Contender.values()) {
                var o = n.get(system.id);
                ratios.computeIfAbsent(system, k -> new ArrayList<>()).add(o.get("ratio_to_keyby").asDouble());
                errors.computeIfAbsent(system, k -> new ArrayList<>()).add(
                        (o.get("records_per_s_max").asDouble() - o.get("records_per_s_min").asDouble()) / 2 / base);
            }
        }
        CategoryChart c = new CategoryChartBuilder().width(900).height(420)
                .title("Throughput relative to keyBy (medians of " + bench.get("settings").get("repetitions").asInt()
                        + " runs, p=" + bench.get("settings").get("parallelism").asInt() + ")")
                .xAxisTitle("key distribution, service time per record").yAxisTitle("records/s / keyBy's").build();
        c.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNW);
        for (Contender system : Contender.values()) {
            c.addSeries(system.id, cells, ratios.get(system), errors.get(system));
        }
        BitmapEncoder.saveBitmap(c, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
