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

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The control path (forecaster and planner, the parallelism-1 operators) at scale: {@code keys} tracked hot keys over
 * {@code maxParallelism} key groups, one-minute windows with a daily season, fed window by window with seeded
 * synthetic profiles (Zipf(1.0) key weights, each key with its own daily phase, Gaussian noise, and a quarter of the
 * records from untracked keys spread over every key group, which the forecaster follows as key-group series) as the
 * profiler hands them on. Measures per window the forecaster's and the planner's time, and every
 * {@code checkpointEvery} windows the bytes of their operator state as a checkpoint writes it (operator list state
 * is written whole at every checkpoint, incremental or not).
 */
public final class ControlPathBench {
    private ControlPathBench() {}

    /**
     * Runs the benchmark.
     *
     * @param maxParallelism key groups, >= parallelism
     * @param keys tracked hot keys (the profiler's top-k), >= 1
     * @param window planning window
     * @param windows windows fed; a daily season of one-minute windows is 1,440
     * @param parallelism subtasks the planner balances
     * @param checkpointEvery windows between state measurements, >= 1
     * @return the figures, as JSON
     */
    public static ObjectNode run(int maxParallelism, int keys, Duration window, int windows, int parallelism,
                                 int checkpointEvery, PrintStream log) throws IOException {
        Configuration c = new Configuration();
        c.set(JobOptions.WINDOW, window);
        c.set(ProfilerOptions.TOP_K, keys);
        LoadForecastEngine.Settings fs = KeyshiftConfig.forecastSettings(c, maxParallelism);
        RepartitionPlanner.Settings ps = KeyshiftConfig.planSettings(c, maxParallelism, parallelism,
                window.toMillis(), 0.0, true, false);
        LoadForecastEngine engine = new LoadForecastEngine(fs);
        RepartitionPlanner planner = new RepartitionPlanner(ps);

        Random random = new Random(42);
        String[] ids = new String[keys];
        int[] groups = new int[keys];
        double[] weight = new double[keys];
        double[] phase = new double[keys];
        double sum = 0;
        for (int i = 0; i < keys; i++) {
            ids[i] = "key-" + i;
            groups[i] = KeyGroupRangeAssignment.assignToKeyGroup(ids[i], maxParallelism);
            weight[i] = 1.0 / (i + 1);
            sum += weight[i];
            phase[i] = random.nextDouble() * 2 * Math.PI;
        }
        double recordsPerWindow = 2_000_000;
        long w = window.toMillis();
        long season = Duration.ofDays(1).toMillis();
        long start = 0;
        List<Double> forecastMs = new ArrayList<>();
        List<Double> planMs = new ArrayList<>();
        List<long[]> checkpoints = new ArrayList<>();
        ArrayList<RoutingPlan> history = new ArrayList<>();
        long lastPrint = System.nanoTime();
        for (int t = 0; t < windows; t++) {
            long ws = start + t * w;
            double day = 2 * Math.PI * (ws % season) / season;
            WindowProfile p = new WindowProfile();
            p.windowStart = ws;
            p.windowEnd = ws + w;
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
            // the long tail: keys too cold to track, a quarter of the records, spread over every key group
            for (int g = 0; g < maxParallelism; g++) {
                double mean = recordsPerWindow / 3 / maxParallelism * (1 + 0.3 * Math.sin(day));
                long n = Math.max(0, Math.round(mean + Math.sqrt(mean) * random.nextGaussian()));
                p.keyGroupCounts[g] += n;
                records += n;
            }
            p.records = records;
            p.maxError = 0;

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
            if ((t + 1) % checkpointEvery == 0 || t == windows - 1) {
                long forecasterBytes = engine.toBytes().length;
                long plannerBytes = 0;
                for (RoutingPlan h : history) {
                    plannerBytes += avroBytes(h);
                }
                checkpoints.add(new long[] {t + 1, forecasterBytes, plannerBytes});
            }
            if (System.nanoTime() - lastPrint > 10_000_000_000L) {
                lastPrint = System.nanoTime();
                log.printf("control-path bench: window %,d of %,d, %,d series, forecast %.1f ms, plan %.1f ms%n",
                        t + 1, windows, engine.seriesCount(), forecastMs.get(t), planMs.get(t));
            }
        }
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
        long[] last = checkpoints.get(checkpoints.size() - 1);
        out.put("forecaster_state_bytes", last[1]);
        out.put("planner_state_bytes", last[2]);
        out.put("state_bytes_per_series", (double) last[1] / Math.max(1, engine.seriesCount()));
        var cps = out.putArray("checkpoints");
        for (long[] cp : checkpoints) {
            ObjectNode n = cps.addObject();
            n.put("after_windows", cp[0]);
            n.put("forecaster_bytes", cp[1]);
            n.put("planner_bytes", cp[2]);
        }
        out.put("note", "operator list state: every checkpoint writes these bytes whole (not incremental)");
        return out;
    }

    private static long avroBytes(RoutingPlan plan) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(bytes, null);
        new SpecificDatumWriter<>(RoutingPlan.class).write(plan, enc);
        enc.flush();
        return bytes.size();
    }

    private static double quantile(List<Double> v, double q) {
        List<Double> s = new ArrayList<>(v);
        Collections.sort(s);
        return s.isEmpty() ? Double.NaN : s.get((int) Math.min(s.size() - 1, Math.floor(q * s.size())));
    }
}
