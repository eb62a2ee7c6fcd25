package io.keyshift.jobs.bench;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.UnitForecast;
import io.keyshift.avro.UnitType;
import io.keyshift.config.ProfilerOptions;
import io.keyshift.jobs.event.Event;
import io.keyshift.forecast.LoadForecastEngine;
import io.keyshift.forecast.ModelSpec;
import io.keyshift.jobs.source.EventSpace;
import io.keyshift.jobs.source.StridedSource;
import io.keyshift.api.Keyshift;
import io.keyshift.api.KeyshiftStream;
import io.keyshift.profiler.KeyDistributionProfiler;
import io.keyshift.profiler.KeySampler;
import io.keyshift.profiler.WindowProfile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * The forecasting benchmark: runs the real {@link KeySampler} and {@link KeyDistributionProfiler} operators over a
 * replayed input on a local MiniCluster, then feeds the window profiles to one {@link LoadForecastEngine} per single
 * model and one that selects per series ("auto"), and scores every forecast against the load that arrived.
 *
 * <p>Measures, pooled over all series (so larger series weigh more): MASE at horizon h = mean |forecast − actual| /
 * mean |y(t) − y(t−m)| (m = the first season if any series spans it, else 1; FPP3 §5.8); the numerator over the
 * points that have a forecast made h windows before and a value m windows before, the scale over every point with a
 * value m windows before (the one-step lag-m naive error in sample, as Hyndman and Koehler 2006 scale it, the same
 * for every horizon; a gap in a series starts it anew); sMAPE = mean 2|f − a| / (|f| + |a|) (0 when both are 0). Heavy-hitter recall:
 * per window with at least 20 distinct keys, the share of the profile's top 20 whose true count reaches the true
 * 20th largest count. Timing: wall time of the auto engine per window; a synthetic run times 10,000 series.
 */
public final class ForecastBench {
    private ForecastBench() {}

    /** Settings of one bench run. */
    public record Settings(EventSpace space, int parallelism, long windowMillis, List<Integer> seasons, int horizon,
                           Configuration config) {}

    /**
     * Runs the input through a keyshift stage keyed by the String key (the built-in count per planning window,
     * results discarded) and returns the profiles its profiler saw, in window order.
     */
    public static List<WindowProfile> profiles(Settings s) throws Exception {
        return profiles(s, KeyType.STRING);
    }

    /**
     * The type a stage is keyed by, as far as profiles depend on it: a key's key group is the hash of the key as that
     * type (Flink's {@code KeyGroupRangeAssignment}), so the string "42" and the long 42 land in different key groups.
     */
    public enum KeyType {
        STRING, LONG, INT;

        /**
         * Null if every key of {@code space} reads as this type, else why not (the count, and the first such key
         * unless {@code keySecret}: keyshift prints no key under {@code keyshift.privacy.key-secret}).
         */
        public String unreadable(EventSpace space, boolean keySecret) throws java.io.IOException {
            if (this == STRING) {
                return null;
            }
            long bad = 0;
            String first = null;
            try (EventSpace.Cursor c = space.open(0, 1, 0)) {
                while (c.hasNext()) {
                    String key = c.next().key;
                    try {
                        if (this == LONG) {
                            Long.parseLong(key);
                        } else {
                            Integer.parseInt(key);
                        }
                    } catch (NumberFormatException e) {
                        bad++;
                        first = first == null ? key : first;
                    }
                }
            }
            return bad == 0 ? null : String.format(java.util.Locale.ROOT, "%,d %s a key that is not %s %s, "
                    + "%s", bad, bad == 1 ? "row has" : "rows have", this == INT ? "an" : "a",
                    name().toLowerCase(java.util.Locale.ROOT), keySecret
                            ? "the first not shown under keyshift.privacy.key-secret" : "the first '" + first + "'");
        }
    }

    /**
     * As {@link #profiles(Settings)}, the stage keyed by the key read as {@code keyType} (every key must read as it:
     * {@link KeyType#unreadable}).
     */
    public static List<WindowProfile> profiles(Settings s, KeyType keyType) throws Exception {
        return io.keyshift.savepoint.ForecasterBootstrap.profiles(stage(s, keyType));
    }

    /**
     * As {@link #profiles(Settings)}, printing to {@code log} every 2 s how many of the input's records the profiling
     * job has read (a run in this JVM's local cluster).
     */
    public static List<WindowProfile> profiles(Settings s, java.io.PrintStream log) throws Exception {
        String id = "forecast-bench-" + java.util.UUID.randomUUID();
        long total = s.space().size();
        long t0 = System.nanoTime();
        Thread printer = new Thread(() -> {
            try {
                while (true) {
                    Thread.sleep(2000);
                    long n = Math.min(io.keyshift.jobs.source.Progress.get(id), total);
                    log.printf(java.util.Locale.ROOT, "forecast-bench: %,d / %,d records profiled (%.0f%%), %.0f s%n",
                            n, total, total == 0 ? 100.0 : 100.0 * n / total, (System.nanoTime() - t0) / 1e9);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "keyshift-forecast-bench-progress");
        printer.setDaemon(true);
        printer.start();
        try {
            return io.keyshift.savepoint.ForecasterBootstrap.profiles(stage(s, KeyType.STRING, id));
        } finally {
            printer.interrupt();
            io.keyshift.jobs.source.Progress.reset(id);
        }
    }

    /**
     * The keyshift stage (before its terminal call) that reads {@code s}'s input in a local environment of its own,
     * keyed by the key read as {@code keyType}, with {@code s}'s keyshift options and planning window.
     */
    public static KeyshiftStream<Event, ?> stage(Settings s, KeyType keyType) {
        return stage(s, keyType, null);
    }

    /** As {@link #stage(Settings, KeyType)}, its source counting its records under {@code progressId} (or none). */
    static KeyshiftStream<Event, ?> stage(Settings s, KeyType keyType, String progressId) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(s.parallelism(), s.config());
        int maxP = s.config().get(org.apache.flink.configuration.PipelineOptions.MAX_PARALLELISM);
        env.setMaxParallelism(maxP);
        var events = env.fromSource(new StridedSource(s.space(), s.parallelism(), 0, progressId),
                        WatermarkStrategy.<Event>forMonotonousTimestamps().withTimestampAssigner((e, ts) -> e.timestamp),
                        "bench source").uid(io.keyshift.jobs.replay.ReplayJob.SOURCE_UID);
        Configuration library = io.keyshift.config.KeyshiftConfig.libraryOptions(s.config());
        library.set(io.keyshift.config.JobOptions.WINDOW, java.time.Duration.ofMillis(s.windowMillis()));
        return switch (keyType) {
            case STRING -> Keyshift.keyBy(events, e -> e.key, Types.STRING).configure(library);
            case LONG -> Keyshift.keyBy(events, e -> Long.parseLong(e.key), Types.LONG).configure(library);
            case INT -> Keyshift.keyBy(events, e -> Integer.parseInt(e.key), Types.INT).configure(library);
        };
    }

    /** Exact records per key per window start. */
    public static TreeMap<Long, Map<String, Long>> truth(EventSpace space, long windowMillis) throws Exception {
        TreeMap<Long, Map<String, Long>> out = new TreeMap<>();
        try (EventSpace.Cursor c = space.open(0, 1, 0)) {
            while (c.hasNext()) {
                Event e = c.next();
                out.computeIfAbsent(Math.floorDiv(e.timestamp, windowMillis) * windowMillis, k -> new HashMap<>())
                        .merge(e.key, 1L, Long::sum);
            }
        }
        return out;
    }

    /**
     * Mean recall of the true top-n heavy hitters over windows with at least n distinct keys (NaN if none): the share
     * of the profile's first n keys whose true count reaches the true n-th largest count. With {@code weighted},
     * each hit counts its true records, over the records of the true top n (the share of heavy-hitter load found).
     */
    public static double heavyHitterRecall(List<WindowProfile> profiles, TreeMap<Long, Map<String, Long>> truth, int n,
                                           boolean weighted) {
        double sum = 0;
        int windows = 0;
        for (WindowProfile p : profiles) {
            Map<String, Long> t = truth.get(p.windowStart);
            if (t == null || t.size() < n) {
                continue;
            }
            long[] counts = t.values().stream().mapToLong(Long::longValue).sorted().toArray();
            long threshold = counts[counts.length - n];
            double hits = 0;
            for (int i = 0; i < Math.min(n, p.hotKeys.length); i++) {
                long c = t.getOrDefault(p.hotKeys[i], 0L);
                if (c >= threshold) {
                    hits += weighted ? c : 1;
                }
            }
            double top = 0;
            for (int i = counts.length - n; i < counts.length; i++) {
                top += counts[i];
            }
            sum += Math.min(1.0, hits / (weighted ? top : n));
            windows++;
        }
        return windows == 0 ? Double.NaN : sum / windows;
    }

    /** Error sums of one engine at each horizon. */
    static final class Score {
        final double[] abs;
        final double[] smape;
        final long[] points;
        final Map<String, Long> mix = new TreeMap<>();
        long nanos;

        Score(int horizon) {
            abs = new double[horizon + 1];
            smape = new double[horizon + 1];
            points = new long[horizon + 1];
        }
    }

    /**
     * Scores {@code engines} together on the profiles, over the points they share: a (series, window) counts only
     * where every engine emitted the series with the same observed load (an engine that tracks more than 2 × top-k
     * keys ages some out, by a peak over its own history and a forecast of its own model, so engines of different
     * models could track different keys, and a key group's load then holds different residuals) and every engine
     * forecast it for that horizon, and where the MASE scale with season {@code m} exists for it (the series has been
     * seen for at least m windows). Each engine's time is measured on its own.
     *
     * @param scale receives the sum and count of |y(t) − y(t−m)| over the one-step points when non-null
     * @param progress a line each tenth of the windows
     * @return one score per engine, in their order
     */
    static Score[] score(List<LoadForecastEngine> engines, List<WindowProfile> profiles, int horizon, int m,
                         double[] scale, java.util.function.Consumer<String> progress) {
        int n = engines.size();
        Score[] s = new Score[n];
        // due.get(e).get(target % (H + 1)): unit -> engine e's forecasts for window `target` by horizon h (index h)
        List<List<Map<String, double[]>>> due = new ArrayList<>();
        for (int e = 0; e < n; e++) {
            s[e] = new Score(horizon);
            List<Map<String, double[]>> d = new ArrayList<>();
            for (int i = 0; i <= horizon; i++) {
                d.add(new HashMap<>());
            }
            due.add(d);
        }
        Map<String, double[]> rings = new HashMap<>();
        Map<String, Integer> firstSeen = new HashMap<>();
        Map<String, Integer> lastSeen = new HashMap<>();
        long started = System.nanoTime();
        int t = 0;
        for (WindowProfile p : profiles) {
            List<Map<String, UnitForecast>> emitted = new ArrayList<>(n);
            for (int e = 0; e < n; e++) {
                long t0 = System.nanoTime();
                LoadForecast f = engines.get(e).observe(p);
                s[e].nanos += System.nanoTime() - t0;
                Map<String, UnitForecast> units = new HashMap<>();
                for (UnitForecast u : f.getUnits()) {
                    units.put(u.getUnitType() == UnitType.HOT_KEY ? "k:" + u.getKey() : "g:" + u.getKeyGroup(), u);
                    s[e].mix.merge(u.getModel(), 1L, Long::sum);
                }
                emitted.add(units);
            }
            Map<String, double[]> dueNow0 = due.get(0).get(t % (horizon + 1));
            for (Map.Entry<String, UnitForecast> entry : emitted.get(0).entrySet()) {
                String id = entry.getKey();
                double y = entry.getValue().getObserved();
                boolean common = true;
                for (int e = 1; e < n && common; e++) {
                    UnitForecast other = emitted.get(e).get(id);
                    common = other != null && other.getObserved() == y;
                }
                if (!common) {
                    continue;
                }
                // a series' season ring is valid from its first window; a gap (series not shared) restarts it
                Integer last = lastSeen.put(id, t);
                if (last == null || last != t - 1) {
                    firstSeen.put(id, t);
                }
                int first = firstSeen.get(id);
                double[] ring = rings.computeIfAbsent(id, k -> new double[m]);
                if (t - first >= m && dueNow0.containsKey(id)) {
                    for (int h = 1; h <= horizon; h++) {
                        boolean everyEngine = true;
                        for (int e = 0; e < n && everyEngine; e++) {
                            double[] fc = due.get(e).get(t % (horizon + 1)).get(id);
                            everyEngine = fc != null && !Double.isNaN(fc[h]);
                        }
                        if (!everyEngine) {
                            continue;
                        }
                        if (h == 1 && scale != null) {
                            scale[0] += Math.abs(y - ring[t % m]);
                            scale[1] += 1;
                        }
                        for (int e = 0; e < n; e++) {
                            double fc = due.get(e).get(t % (horizon + 1)).get(id)[h];
                            s[e].abs[h] += Math.abs(fc - y);
                            double den = Math.abs(fc) + Math.abs(y);
                            s[e].smape[h] += den == 0 ? 0 : 2 * Math.abs(fc - y) / den;
                            s[e].points[h]++;
                        }
                    }
                }
                ring[t % m] = y;
            }
            for (int e = 0; e < n; e++) {
                due.get(e).get(t % (horizon + 1)).clear();
                for (Map.Entry<String, UnitForecast> entry : emitted.get(e).entrySet()) {
                    UnitForecast u = entry.getValue();
                    for (int h = 1; h <= horizon; h++) {
                        double[] slot = due.get(e).get((t + h) % (horizon + 1)).computeIfAbsent(entry.getKey(),
                                k -> {
                                    double[] a = new double[horizon + 1];
                                    Arrays.fill(a, Double.NaN);
                                    return a;
                                });
                        slot[h] = u.getForecast().get(h - 1);
                    }
                }
            }
            t++;
            if (profiles.size() >= 10 && t % (profiles.size() / 10) == 0 && t < profiles.size()) {
                progress.accept(String.format(java.util.Locale.ROOT, "%d of %d windows scored, %.0f s", t,
                        profiles.size(), (System.nanoTime() - started) / 1e9));
            }
        }
        return s;
    }

    /** Builds forecast.json for the given profiles and truth. */
    public static ObjectNode run(List<WindowProfile> profiles, TreeMap<Long, Map<String, Long>> truth,
                                 Configuration config, List<Integer> seasons, int horizon) {
        return run(profiles, truth, config, seasons, horizon, line -> { });
    }

    /**
     * As {@link #run(List, TreeMap, Configuration, List, int)}, giving {@code progress} a line each tenth of the
     * windows and as every model has been scored.
     */
    public static ObjectNode run(List<WindowProfile> profiles, TreeMap<Long, Map<String, Long>> truth,
                                 Configuration config, List<Integer> seasons, int horizon,
                                 java.util.function.Consumer<String> progress) {
        int maxParallelism = config.get(org.apache.flink.configuration.PipelineOptions.MAX_PARALLELISM);
        int topK = config.get(ProfilerOptions.TOP_K);
        double samplingRate = config.get(ProfilerOptions.SAMPLING_RATE);
        int season = seasons.stream().filter(x -> x >= 2).findFirst().orElse(0);
        double decay = io.keyshift.config.ForecastOptions.selectionDecay(config, season);
        // MASE scale: the first season if any series spans it and its seasonal-naive error is not 0 (a log that
        // repeats each day exactly), else m = 1, as the engine's own MASE falls back (LoadForecastEngine#mase). Every
        // model, and auto, is scored in one pass over the same points; a scale that does not exist takes a second.
        List<ModelSpec> candidates = ModelSpec.candidates(seasons);
        int m = season >= 2 ? season : 1;
        double[] scale = new double[2];
        long t0 = System.nanoTime();
        List<LoadForecastEngine> engines = engines(decay, maxParallelism, topK, candidates, seasons, season, horizon,
                config);
        Score[] scores = score(engines, profiles, horizon, m, scale, progress);
        if (m >= 2 && (scale[1] == 0 || scale[0] == 0)) {
            progress.accept(String.format(java.util.Locale.ROOT, "no seasonal-naive error at season %d: scored "
                    + "again with the one-step naive scale, %.0f s", m, (System.nanoTime() - t0) / 1e9));
            m = 1;
            scale = new double[2];
            engines = engines(decay, maxParallelism, topK, candidates, seasons, season, horizon, config);
            scores = score(engines, profiles, horizon, m, scale, progress);
        }
        double scaleMean = scale[0] / Math.max(1, scale[1]);

        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("windows", profiles.size());
        root.put("horizon", horizon);
        root.put("mase_season", m);
        root.putPOJO("seasons", seasons);
        root.put("sampling_rate", samplingRate);
        ObjectNode models = root.putObject("models");
        for (int i = 0; i < candidates.size(); i++) {
            models.set(candidates.get(i).name(), measures(mapper, scores[i], scaleMean, horizon));
        }
        LoadForecastEngine auto = engines.get(candidates.size());
        Score sc = scores[candidates.size()];
        ObjectNode autoNode = measures(mapper, sc, scaleMean, horizon);
        ObjectNode mix = autoNode.putObject("mix");
        long total = sc.mix.values().stream().mapToLong(Long::longValue).sum();
        for (Map.Entry<String, Long> e : sc.mix.entrySet()) {
            mix.put(e.getKey(), (double) e.getValue() / total);
        }
        root.set("auto", autoNode);
        progress.accept(String.format(java.util.Locale.ROOT, "%d models and auto scored, %.0f s; heavy-hitter recall "
                + "and the scaling benchmark next", candidates.size(), (System.nanoTime() - t0) / 1e9));
        root.put("heavy_hitter_recall", heavyHitterRecall(profiles, truth, 20, false));
        root.put("heavy_hitter_load_recall", heavyHitterRecall(profiles, truth, 20, true));
        root.put("ms_per_window", sc.nanos / 1e6 / Math.max(1, profiles.size()));
        root.put("series", auto.seriesCount());
        try {
            root.put("state_bytes", auto.toBytes().length);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        root.set("scaling", scaling(mapper, seasons, horizon));
        return root;
    }

    /** One engine per candidate model, then auto's (every candidate), as {@link #run} scores them. */
    private static List<LoadForecastEngine> engines(double decay, int maxParallelism, int topK,
                                                    List<ModelSpec> candidates, List<Integer> seasons, int season,
                                                    int horizon, Configuration config) {
        List<LoadForecastEngine> engines = new ArrayList<>();
        for (ModelSpec spec : candidates) {
            engines.add(engine(decay, maxParallelism, topK, List.of(spec), season, horizon, config));
        }
        engines.add(engine(decay, maxParallelism, topK, ModelSpec.candidates(seasons), season, horizon, config));
        return engines;
    }

    private static ObjectNode measures(ObjectMapper mapper, Score sc, double scaleMean, int horizon) {
        ObjectNode n = mapper.createObjectNode();
        n.put("mase", mase(sc, 1, scaleMean));
        n.put("smape", sc.points[1] == 0 ? Double.NaN : sc.smape[1] / sc.points[1]);
        n.put("points", sc.points[1]);
        ObjectNode byH = n.putObject("by_horizon");
        for (int h = 1; h <= horizon; h++) {
            ObjectNode x = byH.putObject(String.valueOf(h));
            x.put("mase", mase(sc, h, scaleMean));
            x.put("smape", sc.points[h] == 0 ? Double.NaN : sc.smape[h] / sc.points[h]);
        }
        return n;
    }

    private static double mase(Score sc, int h, double scaleMean) {
        return sc.points[h] == 0 || scaleMean == 0 ? Double.NaN : (sc.abs[h] / sc.points[h]) / scaleMean;
    }

    static LoadForecastEngine engine(double decay, int maxParallelism, int topK, List<ModelSpec> models, int season,
                                     int horizon) {
        return engine(decay, maxParallelism, topK, models, season, horizon, new Configuration());
    }

    /** An engine with the age-out span and the interval and anomaly z of {@code config} (their defaults if unset). */
    static LoadForecastEngine engine(double decay, int maxParallelism, int topK, List<ModelSpec> models, int season,
                                     int horizon, Configuration config) {
        return new LoadForecastEngine(new LoadForecastEngine.Settings(maxParallelism, topK,
                config.get(ProfilerOptions.AGE_OUT_WINDOWS), models, season, horizon, decay,
                config.get(io.keyshift.config.ForecastOptions.INTERVAL_Z),
                config.get(io.keyshift.config.ForecastOptions.ANOMALY_Z)));
    }

    /**
     * Times the auto engine on 10,000 synthetic series (9,872 tracked keys + 128 key groups): Poisson-like loads
     * around per-key levels with a daily cycle of 24 windows; 48 windows of warm-up, then the mean, median and maximum
     * of 48 (wall-clock, one thread).
     */
    static ObjectNode scaling(ObjectMapper mapper, List<Integer> seasons, int horizon) {
        int maxP = 128;
        int keys = 10_000 - maxP;
        LoadForecastEngine e = engine(0.986, maxP, keys, ModelSpec.candidates(seasons.isEmpty() ? List.of(24) : seasons),
                seasons.stream().filter(x -> x >= 2).findFirst().orElse(24), horizon);
        Random r = new Random(7);
        double[] level = new double[keys];
        String[] names = new String[keys];
        for (int i = 0; i < keys; i++) {
            level[i] = 20 + 1000.0 / (i + 1);
            names[i] = "key-" + i;
        }
        long nanos = 0;
        int timed = 0;
        double[] windowMs = new double[48];
        for (int w = 0; w < 96; w++) {
            WindowProfile p = WindowProfile.empty(w * 3_600_000L, (w + 1) * 3_600_000L, maxP, 1.0);
            double cycle = 1 + 0.5 * Math.sin(2 * Math.PI * w / 24);
            Integer[] order = new Integer[keys];
            double[] est = new double[keys];
            for (int i = 0; i < keys; i++) {
                order[i] = i;
                est[i] = Math.max(1, Math.round(level[i] * cycle + r.nextGaussian() * Math.sqrt(level[i])));
            }
            Arrays.sort(order, (a, b) -> Double.compare(est[b], est[a]));
            p.hotKeys = new String[keys];
            p.hotKeyGroups = new int[keys];
            p.hotEstimates = new double[keys];
            p.hotLowerBounds = new double[keys];
            p.hotUpperBounds = new double[keys];
            for (int j = 0; j < keys; j++) {
                int i = order[j];
                p.hotKeys[j] = names[i];
                p.hotEstimates[j] = est[i];
                p.hotLowerBounds[j] = est[i];
                p.hotUpperBounds[j] = est[i];
                int g = org.apache.flink.runtime.state.KeyGroupRangeAssignment.assignToKeyGroup(names[i], maxP);
                p.hotKeyGroups[j] = g;
                p.keyGroupCounts[g] += (long) est[i] + 5;
            }
            long t0 = System.nanoTime();
            e.observe(p);
            long dt = System.nanoTime() - t0;
            if (w >= 48) {
                nanos += dt;
                windowMs[timed++] = dt / 1e6;
            }
        }
        Arrays.sort(windowMs);
        ObjectNode n = mapper.createObjectNode();
        n.put("series", e.seriesCount());
        n.put("models_per_series", ModelSpec.candidates(seasons.isEmpty() ? List.of(24) : seasons).size());
        n.put("ms_per_window", nanos / 1e6 / timed);
        // the median is robust to a garbage collection of the preceding replay landing in one window
        n.put("ms_per_window_median", (windowMs[23] + windowMs[24]) / 2);
        n.put("ms_per_window_max", windowMs[47]);
        return n;
    }

}
