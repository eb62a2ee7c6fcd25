package io.keyshift.jobs.bench;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.config.JobOptions;
import io.keyshift.config.KeyshiftConfig;
import io.keyshift.config.ProfilerOptions;
import io.keyshift.forecast.LoadForecastEngine;
import io.keyshift.plan.PlannerOperator;
import io.keyshift.plan.RepartitionPlanner;
import io.keyshift.profiler.WindowProfile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import io.keyshift.forecast.LoadForecaster;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CheckpointStatsStatus;
import org.apache.flink.runtime.executiongraph.ArchivedExecutionGraph;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The control path (forecaster and planner, the parallelism-1 operators) at scale: {@code keys} tracked hot keys over
 * {@code maxParallelism} key groups, one-minute windows with a daily season, fed window by window with seeded
 * synthetic profiles ({@link SyntheticProfiles}) as the profiler hands them on.
 *
 * <p>Two measurements. (1) Time: the forecaster's engine and the planner fed directly, per window. (2) Checkpoints:
 * the real forecaster operator ({@link LoadForecaster}, keyed state) in a job on a local MiniCluster with RocksDB and
 * incremental checkpoints, its input released {@code windowsPerCheckpoint} windows per checkpoint (Flink's
 * {@code DataGeneratorSource} with {@code RateLimiterStrategy.perCheckpoint}); per completed checkpoint Flink's own
 * checkpoint statistics: the bytes it uploaded ({@code checkpointed_size}, incremental) and the full state size.
 */
public final class ControlPathBench {
    private ControlPathBench() {}

    /**
     * Seeded synthetic window profiles: Zipf(1.0) key weights, each key with its own daily phase, Poisson-like noise,
     * and a third more records from untracked keys spread over every key group (followed as key-group series). Window
     * t depends on t and the seed only, so the profiles are the same in a loop and in a Flink job.
     */
    public static final class SyntheticProfiles implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        private final int maxParallelism;
        private final int keys;
        private final long windowMillis;
        private final String[] ids;
        private final int[] groups;
        private final double[] weight;
        private final double[] phase;
        private final double sum;

        public SyntheticProfiles(int maxParallelism, int keys, Duration window) {
            this.maxParallelism = maxParallelism;
            this.keys = keys;
            this.windowMillis = window.toMillis();
            Random random = new Random(42);
            ids = new String[keys];
            groups = new int[keys];
            weight = new double[keys];
            phase = new double[keys];
            double s = 0;
            for (int i = 0; i < keys; i++) {
                ids[i] = "key-" + i;
                groups[i] = KeyGroupRangeAssignment.assignToKeyGroup(ids[i], maxParallelism);
                weight[i] = 1.0 / (i + 1);
                s += weight[i];
                phase[i] = random.nextDouble() * 2 * Math.PI;
            }
            sum = s;
        }

        /** The profile of window t (from time 0). */
        public WindowProfile profile(long t) {
            Random random = new Random(42L * 1_000_003L + t);
            double recordsPerWindow = 2_000_000;
            long season = Duration.ofDays(1).toMillis();
            long ws = t * windowMillis;
            double day = 2 * Math.PI * (ws % season) / season;
            WindowProfile p = new WindowProfile();
            p.windowStart = ws;
            p.windowEnd = ws + windowMillis;
            p.samplingRate = 1.0;
            p.keyGroupCounts = new long[maxParallelism];
            double[] est = new double[keys];
            Integer[] order = new Integer[keys];
            long records = 0;
            for (int i = 0; i < keys; i++) {
                double mean = recordsPerWindow * weight[i] / sum * (1 + 0.5 * Math.sin(day + phase[i]));
                long n = Math.max(0, Math.round(mean + Math.sqrt(Math.max(mean, 1)) * random.nextGaussian()));
                est[i] = n;
                order[i] = i;
                p.keyGroupCounts[groups[i]] += n;
                records += n;
            }
            Arrays.sort(order, (a, b) -> Double.compare(est[b], est[a]) != 0 ? Double.compare(est[b], est[a])
                    : ids[a].compareTo(ids[b]));
            p.hotKeys = new String[keys];
            p.hotKeyGroups = new int[keys];
            p.hotEstimates = new double[keys];
            p.hotLowerBounds = new double[keys];
            p.hotUpperBounds = new double[keys];
            for (int r = 0; r < keys; r++) {
                int i = order[r];
                p.hotKeys[r] = ids[i];
                p.hotKeyGroups[r] = groups[i];
                p.hotEstimates[r] = est[i];
                p.hotLowerBounds[r] = est[i];
                p.hotUpperBounds[r] = est[i];
            }
            // the long tail: keys too cold to track, spread over every key group
            for (int g = 0; g < maxParallelism; g++) {
                double mean = recordsPerWindow / 3 / maxParallelism * (1 + 0.3 * Math.sin(day));
                long n = Math.max(0, Math.round(mean + Math.sqrt(mean) * random.nextGaussian()));
                p.keyGroupCounts[g] += n;
                records += n;
            }
            p.records = records;
            p.maxError = 0;
            return p;
        }
    }

    /**
     * Bytes one series of the forecaster's engine takes after {@code windows} one-minute windows, about: 0.7 KB of
     * models and 4 bytes a window of history, up to the daily season's 1,441 windows (6.5 KB in all, measured).
     */
    public static long seriesBytes(int windows) {
        return 700L + 4L * Math.min(windows, 24 * 60 + 1);
    }

    /**
     * Heap a {@link #run} needs, about: its forecaster's series (every tracked key and key group), twice over (the
     * engine's objects, and what the forecast loop and the checkpointed job hold beside them).
     */
    public static long heapNeeded(int maxParallelism, int keys, int windows) {
        return 2L * ((long) keys + maxParallelism) * seriesBytes(windows);
    }

    /**
     * Runs both measurements.
     *
     * @param maxParallelism key groups, >= parallelism
     * @param keys tracked hot keys (the profiler's top-k), >= 1
     * @param window planning window
     * @param windows windows fed; a daily season of one-minute windows is 1,440
     * @param parallelism subtasks the planner balances
     * @param windowsPerCheckpoint windows the checkpointed job processes between two checkpoints, >= 1
     * @param work directory for the job's checkpoints (deleted afterwards)
     * @return the figures, as JSON
     */
    public static ObjectNode run(int maxParallelism, int keys, Duration window, int windows, int parallelism,
                                 int windowsPerCheckpoint, Path work, PrintStream log) throws Exception {
        Configuration c = new Configuration();
        c.set(JobOptions.WINDOW, window);
        c.set(ProfilerOptions.TOP_K, keys);
        LoadForecastEngine.Settings fs = KeyshiftConfig.forecastSettings(c, maxParallelism);
        RepartitionPlanner.Settings ps = KeyshiftConfig.planSettings(c, maxParallelism, parallelism,
                window.toMillis(), 0.0, true, false);
        LoadForecastEngine engine = new LoadForecastEngine(fs);
        RepartitionPlanner planner = new RepartitionPlanner(ps);
        SyntheticProfiles profiles = new SyntheticProfiles(maxParallelism, keys, window);

        List<Double> forecastMs = new ArrayList<>();
        List<Double> planMs = new ArrayList<>();
        ArrayList<RoutingPlan> history = new ArrayList<>();
        long lastPrint = System.nanoTime();
        for (int t = 0; t < windows; t++) {
            WindowProfile p = profiles.profile(t);
            long t0 = System.nanoTime();
            LoadForecast f = engine.observe(p);
            long t1 = System.nanoTime();
            RoutingPlan plan = planner.onForecast(f);
            long t2 = System.nanoTime();
            forecastMs.add((t1 - t0) / 1e6);
            planMs.add((t2 - t1) / 1e6);
            history.add(plan);
            if (history.size() > PlannerOperator.HISTORY) {
                history.remove(0);
            }
            if (System.nanoTime() - lastPrint > 10_000_000_000L) {
                lastPrint = System.nanoTime();
                log.printf("control-path bench: window %,d of %,d, %,d series, forecast %.1f ms, plan %.1f ms%n",
                        t + 1, windows, engine.seriesCount(), forecastMs.get(t), planMs.get(t));
            }
        }
        // the planner operator's state: its plan history and its units' long-run loads (one entry per unit it has
        // seen; the plans alone were reported until 2026-12-06, a hundredth of it)
        long planHistoryBytes = 0;
        for (RoutingPlan h : history) {
            planHistoryBytes += avroBytes(h);
        }
        long longRunBytes = planner.longRunLoads().toBytes().length;
        long plannerBytes = planHistoryBytes + longRunBytes;
        // counted, not held: a few hundred thousand series over a season serialize to more than an array holds
        long engineBytes = engine.serializedSize();
        // steady state: the last quarter of the run (after the daily season's models have history)
        int from = windows - Math.max(1, windows / 4);
        ObjectNode out = new ObjectMapper().createObjectNode();
        out.put("max_parallelism", maxParallelism);
        out.put("tracked_keys", keys);
        out.put("window", window.toString());
        out.put("windows", windows);
        out.put("parallelism", parallelism);
        out.put("series", engine.seriesCount());
        out.put("forecast_ms_median", quantile(forecastMs.subList(from, windows), 0.5));
        out.put("forecast_ms_p95", quantile(forecastMs.subList(from, windows), 0.95));
        out.put("plan_ms_median", quantile(planMs.subList(from, windows), 0.5));
        out.put("plan_ms_p95", quantile(planMs.subList(from, windows), 0.95));
        out.put("forecaster_engine_bytes", engineBytes);
        out.put("engine_bytes_per_series", (double) engineBytes / Math.max(1, engine.seriesCount()));
        out.put("planner_state_bytes", plannerBytes);
        out.put("planner_plan_history_bytes", planHistoryBytes);
        out.put("planner_long_run_loads_bytes", longRunBytes);

        log.printf("control-path bench: the forecaster operator in a job, RocksDB with incremental checkpoints, "
                + "%d windows per checkpoint%n", windowsPerCheckpoint);
        List<long[]> cps = checkpoints(profiles, fs, windows, windowsPerCheckpoint, work, log);
        var arr = out.putArray("checkpoints");
        List<Double> incremental = new ArrayList<>();
        long total = 0;
        for (long[] cp : cps) {
            ObjectNode n = arr.addObject();
            n.put("id", cp[0]);
            n.put("checkpointed_bytes", cp[1]);
            n.put("state_bytes", cp[2]);
            total += cp[1];
            incremental.add((double) cp[1]);
        }
        out.put("windows_per_checkpoint", windowsPerCheckpoint);
        out.put("checkpoints_completed", cps.size());
        if (cps.isEmpty()) {
            throw new IllegalStateException("the control-path checkpoint job completed no checkpoint: give it more "
                    + "windows or fewer --windows-per-checkpoint");
        }
        int steady = cps.size() - Math.max(1, cps.size() / 4);
        out.put("checkpointed_bytes_median", quantile(incremental.subList(steady, incremental.size()), 0.5));
        out.put("checkpointed_bytes_p95", quantile(incremental.subList(steady, incremental.size()), 0.95));
        out.put("checkpointed_bytes_max", incremental.stream().mapToDouble(Double::doubleValue).max().orElse(0));
        out.put("checkpointed_bytes_total", total);
        out.put("state_bytes_last", cps.isEmpty() ? 0 : cps.get(cps.size() - 1)[2]);
        out.put("note", "checkpointed_bytes: what each incremental checkpoint uploaded (Flink's checkpointed size, the"
                + " whole job; the forecaster's keyed state is nearly all of it); state_bytes: the full state it"
                + " references, what a full checkpoint would write");
        return out;
    }

    /**
     * The checkpoint job's configuration: RocksDB with incremental checkpoints into {@code dir} every 200 ms,
     * the statistics of the last {@link #HISTORY} checkpoints kept (read every second while it runs), everything bound
     * to 127.0.0.1, and the local runs' restart strategy.
     */
    static Configuration checkpointJobConfiguration(Path dir) {
        Configuration conf = new Configuration();
        conf.setString("state.backend.type", "rocksdb");
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, io.keyshift.jobs.LocalPaths.uri(dir));
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(200));
        // the statistics of the last HISTORY checkpoints, read every second while the job runs (see checkpoints)
        conf.set(WebOptions.CHECKPOINTS_HISTORY_SIZE, HISTORY);
        conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, org.apache.flink.configuration.MemorySize.ofMebiBytes(256));
        conf.setString("rest.bind-address", "127.0.0.1");
        conf.setString("rest.address", "127.0.0.1");
        conf.setString("jobmanager.bind-host", "127.0.0.1");
        conf.setString("taskmanager.bind-host", "127.0.0.1");
        conf.setString("taskmanager.host", "127.0.0.1");
        conf.set(RestOptions.PORT, io.keyshift.jobs.cluster.StandaloneCluster.freeLoopbackPort());
        // a failure that comes back at every attempt (a checkpoint that cannot be written, memory) ends the run with
        // its reason: with checkpointing on, Flink's default restart strategy would retry for ever
        io.keyshift.jobs.cli.FlinkConfig.LOCAL_RESTART_STRATEGY.forEach(conf::setString);
        return conf;
    }

    /** Name prefix of the directory in {@code work} that holds the checkpoints while they are taken. */
    public static final String CHECKPOINTS_PREFIX = "control-path-checkpoints-";

    /**
     * Runs the forecaster operator in a job on a MiniCluster with RocksDB and incremental checkpoints, releasing
     * {@code perCheckpoint} windows per checkpoint, and returns per completed checkpoint {id, checkpointed bytes,
     * state bytes}, from Flink's checkpoint statistics, gathered every second while the job runs (Flink keeps the
     * last {@link #HISTORY}; a checkpoint whose barrier comes before its cycle's windows were all released covers
     * fewer of them, so there are more checkpoints than windows / perCheckpoint, 606 for 180 cycles in the README's
     * run, 265 in the run before), with the job's progress on {@code log} every 10 s.
     */
    static List<long[]> checkpoints(SyntheticProfiles profiles, LoadForecastEngine.Settings settings, int windows,
                                    int perCheckpoint, Path work, PrintStream log) throws Exception {
        Path dir = java.nio.file.Files.createTempDirectory(work, CHECKPOINTS_PREFIX);
        Configuration conf = checkpointJobConfiguration(dir);
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setConfiguration(conf)
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(1).build());
        try {
            cluster.start();
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            env.setParallelism(1);
            env.setMaxParallelism(settings.maxParallelism());
            DataGeneratorSource<Long> source = new DataGeneratorSource<>(t -> t, windows,
                    RateLimiterStrategy.perCheckpoint(perCheckpoint), Types.LONG);
            env.fromSource(source, WatermarkStrategy.noWatermarks(), "windows")
                    .map(new ProfileOf(profiles)).returns(TypeInformation.of(WindowProfile.class))
                    .keyBy(new LoadForecaster.SingleKey())
                    .transform("forecaster", new AvroTypeInfo<>(LoadForecast.class), new LoadForecaster(settings))
                    .uid("control-path-forecaster")
                    .sinkTo(new DiscardingSink<>());
            JobGraph graph = env.getStreamGraph().getJobGraph();
            JobID job = cluster.submitJob(graph).get().getJobID();
            var done = cluster.requestJobResult(job);
            java.util.TreeMap<Long, long[]> completed = new java.util.TreeMap<>();
            long lastPrint = System.nanoTime();
            while (!done.isDone()) {
                try {
                    done.get(1, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException stillRunning) {
                    gather(cluster.getArchivedExecutionGraph(job).get(), completed);
                    if (System.nanoTime() - lastPrint > 10_000_000_000L) {
                        lastPrint = System.nanoTime();
                        log.printf("control-path bench: checkpoint job: %,d checkpoints completed, up to %,d of %,d "
                                + "windows released%n", completed.size(),
                                Math.min((long) windows, (completed.size() + 1L) * perCheckpoint), windows);
                    }
                }
            }
            JobResult result = done.get();
            if (!result.isSuccess()) {
                throw new IllegalStateException("control-path checkpoint job failed",
                        result.getSerializedThrowable().map(t -> (Throwable) t).orElse(null));
            }
            long count = gather(cluster.getArchivedExecutionGraph(job).get(), completed);
            if (completed.size() < count) {
                // more checkpoints completed within a second than Flink keeps the statistics of
                throw new IllegalStateException("the control-path checkpoint job completed " + count
                        + " checkpoints, but the statistics of only " + completed.size() + " were read");
            }
            return new ArrayList<>(completed.values());
        } finally {
            cluster.close();
            org.apache.flink.util.FileUtils.deleteDirectory(dir.toFile());
        }
    }

    /** Checkpoints whose statistics the checkpoint job keeps (Flink's {@code web.checkpoints.history}). */
    static final int HISTORY = 1_000;

    /**
     * Adds the completed checkpoints of {@code graph}'s statistics to {@code completed} (by id: {id, checkpointed
     * bytes, state bytes}); returns how many checkpoints the job has completed in all.
     */
    private static long gather(ArchivedExecutionGraph graph, java.util.Map<Long, long[]> completed) {
        var stats = graph.getCheckpointStatsSnapshot();
        if (stats == null) {
            return 0;
        }
        for (AbstractCheckpointStats cp : stats.getHistory().getCheckpoints()) {
            if (cp.getStatus() == CheckpointStatsStatus.COMPLETED) {
                completed.putIfAbsent(cp.getCheckpointId(),
                        new long[] {cp.getCheckpointId(), cp.getCheckpointedSize(), cp.getStateSize()});
            }
        }
        return stats.getCounts().getNumberOfCompletedCheckpoints();
    }

    /** Window index to its synthetic profile. */
    static final class ProfileOf implements MapFunction<Long, WindowProfile> {
        private static final long serialVersionUID = 1L;
        private final SyntheticProfiles profiles;

        ProfileOf(SyntheticProfiles profiles) {
            this.profiles = profiles;
        }

        @Override
        public WindowProfile map(Long t) {
            return profiles.profile(t);
        }
    }

    private static long avroBytes(RoutingPlan plan) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(bytes, null);
        new SpecificDatumWriter<>(RoutingPlan.class).write(plan, enc);
        enc.flush();
        return bytes.size();
    }

    /** The median (mean of the middle two for an even count), else the nearest-rank percentile; NaN for none. */
    private static double quantile(List<Double> v, double q) {
        if (v.isEmpty()) {
            return Double.NaN;
        }
        return q == 0.5 ? ThroughputBench.median(v) : io.keyshift.jobs.report.LoadMeasures.nearestRank(v, q);
    }
}
