package io.keyshift.jobs.bench;

import io.keyshift.forecast.ForecastModelKind;
import io.keyshift.forecast.ModelSpec;
import io.keyshift.profiler.WindowProfile;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ForecastBenchTest {
    private static final long W = 60_000;

    /** Two keys, period-6 pattern plus noise, for 120 windows. */
    private static List<WindowProfile> profiles(TreeMap<Long, Map<String, Long>> truth) {
        return profiles(truth, 1);
    }

    /** As {@link #profiles(TreeMap)}, the noise scaled by {@code noise} (0: the pattern repeats exactly). */
    private static List<WindowProfile> profiles(TreeMap<Long, Map<String, Long>> truth, double noise) {
        Random r = new Random(9);
        double[] pattern = {50, 80, 120, 90, 40, 20};
        List<WindowProfile> out = new ArrayList<>();
        for (int w = 0; w < 120; w++) {
            WindowProfile p = WindowProfile.empty(w * W, (w + 1) * W, 16, 1.0);
            long a = Math.round(pattern[w % 6] + r.nextGaussian() * 5 * noise);
            long b = Math.round(30 + r.nextGaussian() * 3 * noise);
            p.hotKeys = new String[] {"a", "b"};
            p.hotKeyGroups = new int[] {org.apache.flink.runtime.state.KeyGroupRangeAssignment.assignToKeyGroup("a", 16),
                org.apache.flink.runtime.state.KeyGroupRangeAssignment.assignToKeyGroup("b", 16)};
            p.hotEstimates = new double[] {a, b};
            p.hotLowerBounds = p.hotEstimates.clone();
            p.hotUpperBounds = p.hotEstimates.clone();
            p.keyGroupCounts[org.apache.flink.runtime.state.KeyGroupRangeAssignment.assignToKeyGroup("a", 16)] += a;
            p.keyGroupCounts[org.apache.flink.runtime.state.KeyGroupRangeAssignment.assignToKeyGroup("b", 16)] += b;
            p.records = a + b;
            out.add(p);
            Map<String, Long> t = new HashMap<>();
            t.put("a", a);
            t.put("b", b);
            truth.put(w * W, t);
        }
        return out;
    }

    @Test
    void seasonalNaiveScoresExactlyOneAndAutoBeatsIt() {
        TreeMap<Long, Map<String, Long>> truth = new TreeMap<>();
        List<WindowProfile> profiles = profiles(truth);
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.MAX_PARALLELISM, 16);
        List<String> progress = new java.util.ArrayList<>();
        var json = ForecastBench.run(profiles, truth, conf, List.of(6), 2, progress::add);
        String sn = new ModelSpec(ForecastModelKind.SEASONAL_NAIVE, 6).name();
        // a line each tenth of the windows, and one when every model is scored (a long input was scored for minutes
        // without a word)
        int candidates = ModelSpec.candidates(List.of(6)).size();
        assertThat(progress).hasSize(10);
        assertThat(progress.get(0)).startsWith("12 of 120 windows scored");
        assertThat(progress.get(9)).startsWith(candidates + " models and auto scored");
        // Seasonal naive's one-step errors are the MASE scale itself, point for point.
        assertThat(json.at("/models/" + sn.replace("/", "~1") + "/mase").asDouble()).isCloseTo(1.0, within(1e-12));
        assertThat(json.get("mase_season").asInt()).isEqualTo(6);
        assertThat(json.at("/auto/mase").requireNonNull().asDouble()).isLessThan(1.0);
        assertThat(json.at("/models/naive/mase").requireNonNull().asDouble()).isGreaterThan(1.0);
        assertThat(json.get("heavy_hitter_recall").asDouble()).isNaN();
        assertThat(json.at("/scaling/series").requireNonNull().asInt()).isEqualTo(10_000);
    }

    /**
     * A load that repeats each season exactly has a seasonal-naive error of 0: MASE then scales by the one-step naive
     * error (m = 1), as the engine's own MASE does; it was NaN for every model.
     */
    @Test
    void aSeasonThatRepeatsExactlyFallsBackToTheOneStepScale() {
        TreeMap<Long, Map<String, Long>> truth = new TreeMap<>();
        List<WindowProfile> profiles = profiles(truth, 0);
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.MAX_PARALLELISM, 16);
        var json = ForecastBench.run(profiles, truth, conf, List.of(6), 2);
        assertThat(json.get("mase_season").asInt()).isEqualTo(1);
        String sn = new ModelSpec(ForecastModelKind.SEASONAL_NAIVE, 6).name();
        // seasonal naive is exact here (after its first season): far below the naive forecast's scale
        assertThat(json.at("/models/" + sn.replace("/", "~1") + "/mase").asDouble()).isFinite().isLessThan(0.5);
        assertThat(json.at("/models/naive/mase").asDouble()).isCloseTo(1.0, within(0.05));
    }

    @Test
    void recallCountsKeysThatReachTheTrueTopN() {
        TreeMap<Long, Map<String, Long>> truth = new TreeMap<>();
        Map<String, Long> t = new HashMap<>();
        for (int i = 0; i < 25; i++) {
            t.put("k" + i, 100L - i);
        }
        truth.put(0L, t);
        WindowProfile p = WindowProfile.empty(0, W, 16, 1.0);
        p.hotKeys = new String[20];
        for (int i = 0; i < 20; i++) {
            p.hotKeys[i] = "k" + (i < 18 ? i : i + 4);
        }
        // 18 of the profile's 20 are in the true top 20 (counts 100..81); k22 and k23 (78, 77) are not.
        assertThat(ForecastBench.heavyHitterRecall(List.of(p), truth, 20, false)).isCloseTo(0.9, within(1e-12));
    }
    /**
     * Every model is scored over the same points: with more keys hot than the engine tracks (2 × top-k), engines whose
     * models keep histories of different lengths aged out different keys (a key quiet for longer than the shorter
     * history but within the age-out span), and each model was scored over its own series (51 points against 74).
     */
    @Test
    void everyModelIsScoredOverTheSamePoints() {
        List<WindowProfile> profiles = new ArrayList<>();
        for (int w = 0; w < 30; w++) {
            WindowProfile p = WindowProfile.empty(w * W, (w + 1) * W, 16, 1.0);
            String[] keys = w == 0 ? new String[] {"a"} : w < 5 ? new String[] {"b"} : new String[] {"c", "b"};
            p.hotKeys = keys;
            p.hotKeyGroups = new int[keys.length];
            p.hotEstimates = new double[keys.length];
            for (int i = 0; i < keys.length; i++) {
                p.hotKeyGroups[i] = keys[i].charAt(0) - 'a';
                p.hotEstimates[i] = 100 + (w % 3) * 10;
                p.keyGroupCounts[p.hotKeyGroups[i]] += p.hotEstimates[i];
                p.records += (long) p.hotEstimates[i];
            }
            p.hotLowerBounds = p.hotEstimates.clone();
            p.hotUpperBounds = p.hotEstimates.clone();
            profiles.add(p);
        }
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.MAX_PARALLELISM, 16);
        conf.set(io.keyshift.config.ProfilerOptions.TOP_K, 1);
        conf.set(io.keyshift.config.ProfilerOptions.AGE_OUT_WINDOWS, 8);
        var json = ForecastBench.run(profiles, new TreeMap<>(), conf, List.of(2, 10), 1);
        long points = json.at("/auto/points").asLong();
        assertThat(points).isPositive();
        json.get("models").fields().forEachRemaining(e -> {
            assertThat(e.getValue().get("points").asLong()).as(e.getKey()).isEqualTo(points);
            assertThat(e.getValue().get("mase").asDouble()).as(e.getKey()).isFinite();
        });
    }
}
