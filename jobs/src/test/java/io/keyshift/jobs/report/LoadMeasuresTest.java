package io.keyshift.jobs.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

class LoadMeasuresTest {

    private static final double EPS = 1e-12;

    private static LoadMeasures.Builder measures(int p) {
        return LoadMeasures.builder().parallelism(p).naturalSubtask(k -> 0);
    }

    // ---------------------------------------------------------------- imbalance

    @Test
    void imbalanceIsMaxOverMean() {
        LoadMeasures m = measures(4).build();
        // total 8, mean 8/4 = 2, max 4 -> 4/2 = 2.0
        assertThat(m.imbalance(new long[] {4, 2, 2, 0})).isCloseTo(2.0, within(EPS));
        // total 12, mean 3, max 3 -> 1.0
        assertThat(m.imbalance(new long[] {3, 3, 3, 3})).isCloseTo(1.0, within(EPS));
    }

    @Test
    void imbalanceOfNothingIsOne() {
        assertThat(measures(4).build().imbalance(new long[4])).isEqualTo(1.0);
    }

    @Test
    void imbalanceRejectsWrongLength() {
        LoadMeasures m = measures(4).build();
        assertThatThrownBy(() -> m.imbalance(new long[] {1, 2, 3})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> m.imbalance(new long[5])).isInstanceOf(IllegalArgumentException.class);
    }

    // ---------------------------------------------------------------- strategy

    @Test
    void strategyMeanIsLoadWeightedAndP95SkipsSmallWindows() {
        // p = 2, so the p95 only counts windows with >= 10 * 2 = 20 input records.
        LoadMeasures m = measures(2)
                .window(0L, Map.of("a", 60L, "b", 40L))   // 100 input records
                .window(1000L, Map.of("a", 10L))          // 10 input records (< 20)
                .build();
        SortedMap<Long, long[]> processed = new TreeMap<>();
        processed.put(0L, new long[] {60, 40});    // mean 50, max 60 -> 1.2
        processed.put(1000L, new long[] {10, 0});  // mean 5,  max 10 -> 2.0
        LoadMeasures.Summary s = m.strategy(processed);

        assertThat(s.perWindow()).containsOnlyKeys(0L, 1000L);
        assertThat(s.perWindow().get(0L)).isCloseTo(1.2, within(EPS));
        assertThat(s.perWindow().get(1000L)).isCloseTo(2.0, within(EPS));
        // weighted: (100 * 1.2 + 10 * 2.0) / 110 = 140 / 110 = 1.2727...; a plain mean would be 1.6
        assertThat(s.mean()).isCloseTo(140.0 / 110.0, within(EPS));
        // only window 0 qualifies -> 1.2; with window 1000 the nearest-rank p95 of {1.2, 2.0} would be 2.0
        assertThat(s.p95()).isCloseTo(1.2, within(EPS));
    }

    @Test
    void strategyP95IsNaNWhenNoWindowIsLargeEnough() {
        LoadMeasures m = measures(2).window(0L, Map.of("a", 19L)).build();  // 19 < 20
        SortedMap<Long, long[]> processed = new TreeMap<>(Map.of(0L, new long[] {19, 0}));
        LoadMeasures.Summary s = m.strategy(processed);
        assertThat(s.p95()).isNaN();
        assertThat(s.mean()).isCloseTo(2.0, within(EPS));  // 19 / 9.5
    }

    @Test
    void strategyP95IsNearestRank() {
        // 20 windows of 100 records each at p = 2; window i processes {50 + i, 50 - i} -> imbalance (50 + i) / 50.
        LoadMeasures.Builder b = measures(2);
        SortedMap<Long, long[]> processed = new TreeMap<>();
        for (int i = 1; i <= 20; i++) {
            b.window(i * 1000L, Map.of("a", 100L));
            processed.put(i * 1000L, new long[] {50 + i, 50 - i});
        }
        LoadMeasures.Summary s = b.build().strategy(processed);
        // nearest rank: ceil(0.95 * 20) = 19th smallest -> i = 19 -> 69 / 50 = 1.38
        // (linear interpolation would give 1.38 + 0.05 * 0.02 = 1.381, the max 1.40)
        assertThat(s.p95()).isCloseTo(1.38, within(EPS));
        // all weights equal -> mean of (50 + i) / 50 for i = 1..20 = 1 + 10.5 / 50 = 1.21
        assertThat(s.mean()).isCloseTo(1.21, within(EPS));
    }

    @Test
    void strategyCountsAbsentWindowsAsZeroAndWeighsExtraWindowsByProcessedRecords() {
        LoadMeasures m = measures(2)
                .window(0L, Map.of("a", 30L))
                .window(1000L, Map.of("a", 20L))
                .build();
        SortedMap<Long, long[]> processed = new TreeMap<>();
        processed.put(0L, new long[] {15, 15});     // 1.0, weight 30 (input)
        // window 1000 absent -> all zero -> 1.0, weight 20 (input)
        processed.put(5000L, new long[] {30, 10});  // not in the input: 30 / 20 = 1.5, weight 40 (processed)
        LoadMeasures.Summary s = m.strategy(processed);

        assertThat(s.perWindow()).containsOnlyKeys(0L, 1000L, 5000L);
        assertThat(s.perWindow().get(1000L)).isEqualTo(1.0);
        assertThat(s.perWindow().get(5000L)).isCloseTo(1.5, within(EPS));
        // (30 * 1.0 + 20 * 1.0 + 40 * 1.5) / 90 = 110 / 90; weight 0 for window 5000 would give 1.0
        assertThat(s.mean()).isCloseTo(110.0 / 90.0, within(EPS));
        // all three have >= 20 records: sorted {1.0, 1.0, 1.5}, rank ceil(2.85) = 3 -> 1.5
        assertThat(s.p95()).isCloseTo(1.5, within(EPS));
    }

    @Test
    void strategyRejectsArraysOfTheWrongLength() {
        LoadMeasures m = measures(2).window(0L, Map.of("a", 30L)).build();
        SortedMap<Long, long[]> processed = new TreeMap<>(Map.of(0L, new long[] {10, 10, 10}));
        assertThatThrownBy(() -> m.strategy(processed)).isInstanceOf(IllegalArgumentException.class);
    }

    // ---------------------------------------------------------------- lower bound

    @Test
    void lowerBoundOfAKeyHoldingHalfTheLoad() {
        // p = 4, total 16 -> mean 4 per subtask; key a holds 8 -> 8 / 4 = 2.0
        LoadMeasures m = measures(4)
                .window(0L, Map.of("a", 8L, "b", 2L, "c", 2L, "d", 2L, "e", 2L))
                .build();
        LoadMeasures.Summary s = m.lowerBound();
        assertThat(s.perWindow().get(0L)).isCloseTo(2.0, within(EPS));
        assertThat(s.mean()).isCloseTo(2.0, within(EPS));
    }

    @Test
    void lowerBoundIsAtLeastOne() {
        // p = 4, eight keys of 2: total 16, mean 4, largest 2 -> 2 / 4 = 0.5, clamped to 1.0
        LoadMeasures.Builder b = measures(4);
        for (char k = 'a'; k <= 'h'; k++) {
            b.add(0L, String.valueOf(k), 2L);
        }
        assertThat(b.build().lowerBound().perWindow().get(0L)).isEqualTo(1.0);
    }

    // ---------------------------------------------------------------- oracle

    @Test
    void oracleOnEqualKeysIsPerfect() {
        LoadMeasures m = measures(4).window(0L, Map.of("a", 5L, "b", 5L, "c", 5L, "d", 5L)).build();
        assertThat(m.oracle().perWindow().get(0L)).isCloseTo(1.0, within(EPS));
    }

    @Test
    void oracleIsLpt() {
        // LPT at p = 2 on {a:5, b:3, c:2, d:2}:
        //   a(5) -> s0 {5, 0};  b(3) -> s1 {5, 3};  c(2) -> s1 {5, 5};  d(2): tie -> lowest index s0 {7, 5}
        //   total 12, mean 6, max 7 -> 7/6
        Map<String, Long> loads = Map.of("a", 5L, "b", 3L, "c", 2L, "d", 2L);
        assertThat(LoadMeasures.lptAssignment(loads, 2)).isEqualTo(Map.of("a", 0, "b", 1, "c", 1, "d", 0));
        LoadMeasures m = measures(2).window(0L, loads).build();
        assertThat(m.oracle().perWindow().get(0L)).isCloseTo(7.0 / 6.0, within(EPS));
    }

    @Test
    void lptBreaksLoadTiesByKeyAscending() {
        // p = 2, all loads 1: keys in order a, b, c -> a -> s0, b -> s1, c -> s0 (tie 1 vs 1, lowest index)
        // (a hash-map or reverse order would put a different key alone on s1)
        Map<String, Long> loads = Map.of("c", 1L, "b", 1L, "a", 1L);
        assertThat(LoadMeasures.lptAssignment(loads, 2)).isEqualTo(Map.of("a", 0, "b", 1, "c", 0));
    }

    @Test
    void oracleIsGreedyNotOptimal() {
        // Graham's classic case at p = 2, {3, 3, 2, 2, 2}: LPT gives 3+2+2 = 7 vs 3+2 = 5 -> 7/6,
        // although {3, 3} vs {2, 2, 2} would be 6 vs 6 -> 1.0.
        LoadMeasures m = measures(2).window(0L, Map.of("a", 3L, "b", 3L, "c", 2L, "d", 2L, "e", 2L)).build();
        assertThat(m.oracle().perWindow().get(0L)).isCloseTo(7.0 / 6.0, within(EPS));
    }

    // ---------------------------------------------------------------- static oracle

    @Test
    void staticOracleCannotFollowAPopularityFlip() {
        // p = 2. Window 0: a is hot; window 1000: b is hot.
        LoadMeasures m = measures(2)
                .window(0L, Map.of("a", 3L, "b", 1L, "c", 1L, "d", 1L))
                .window(1000L, Map.of("a", 1L, "b", 3L, "c", 1L, "d", 1L))
                .build();
        // oracle, window 0:    a(3) -> s0; b -> s1 (1); c -> s1 (2); d -> s1 (3) -> {3, 3} -> 1.0
        // oracle, window 1000: b(3) -> s0; a, c, d -> s1 -> {3, 3} -> 1.0
        LoadMeasures.Summary oracle = m.oracle();
        assertThat(oracle.perWindow().values()).allSatisfy(v -> assertThat(v).isCloseTo(1.0, within(EPS)));
        assertThat(oracle.mean()).isCloseTo(1.0, within(EPS));
        // static: totals a:4, b:4, c:2, d:2 -> a -> s0, b -> s1, c -> s0 (tie 4, 4), d -> s1
        //   window 0:    s0 = a + c = 3 + 1 = 4, s1 = b + d = 2 -> mean 3 -> 4/3
        //   window 1000: s0 = 1 + 1 = 2, s1 = 3 + 1 = 4 -> 4/3
        LoadMeasures.Summary stat = m.staticOracle();
        assertThat(stat.perWindow().get(0L)).isCloseTo(4.0 / 3.0, within(EPS));
        assertThat(stat.perWindow().get(1000L)).isCloseTo(4.0 / 3.0, within(EPS));
        assertThat(stat.mean()).isCloseTo(4.0 / 3.0, within(EPS));
    }

    // ---------------------------------------------------------------- trend oracle

    @Test
    void trendOracleExcludesTheWindowItself() {
        // p = 2, windows 0, 1000, 2000.
        LoadMeasures m = measures(2)
                .window(0L, Map.of("a", 2L, "b", 1L, "c", 1L))
                .window(1000L, Map.of("a", 1L, "b", 4L, "c", 1L))
                .window(2000L, Map.of("a", 2L, "b", 1L, "c", 1L))
                .build();
        // window 1000, neighbours 0 and 2000: means a:2, b:1, c:1 -> a -> s0, b -> s1, c -> s1.
        //   on window 1000: s0 = 1, s1 = 4 + 1 = 5 -> mean 3 -> 5/3.
        // Including window 1000 itself: sums a:5, b:6, c:3 -> b -> s0, a -> s1, c -> s1 -> {4, 2} -> 4/3.
        LoadMeasures.Summary trend = m.trendOracle();
        assertThat(trend.perWindow().get(1000L)).isCloseTo(5.0 / 3.0, within(EPS));
        // window 0, neighbours 1000 and 2000: sums a:3, b:5, c:2 -> b -> s0, a -> s1, c -> s1.
        //   on window 0: s0 = b = 1, s1 = a + c = 3 -> mean 2 -> 3/2.
        assertThat(trend.perWindow().get(0L)).isCloseTo(1.5, within(EPS));
        assertThat(trend.perWindow().get(2000L)).isCloseTo(1.5, within(EPS));  // mirror of window 0
    }

    @Test
    void trendOracleLooksAtMostThreeWindowsEachWay() {
        // p = 2, windows 0..4. Window 0's neighbours are windows 1, 2, 3 (not 4).
        LoadMeasures m = measures(2)
                .window(0L, Map.of("a", 1L, "b", 4L, "c", 1L))
                .window(1L, Map.of("a", 2L, "b", 1L, "c", 1L))
                .window(2L, Map.of("a", 2L, "b", 1L, "c", 1L))
                .window(3L, Map.of("a", 2L, "b", 1L, "c", 1L))
                .window(4L, Map.of("b", 100L))
                .build();
        // windows 1..3: sums a:6, b:3, c:3 -> a -> s0, b -> s1, c -> s1.
        //   on window 0: s0 = 1, s1 = 5 -> 5/3.
        // With window 4: b:103 -> b -> s0, a -> s1, c -> s1 -> {4, 2} -> 4/3.
        assertThat(m.trendOracle().perWindow().get(0L)).isCloseTo(5.0 / 3.0, within(EPS));
    }

    @Test
    void withTheWindowLengthTheTrendOraclesNeighboursAreTakenByTimeEmptyWindowsIncluded() {
        long h = 3_600_000L;
        // p = 2, windows at 0, 1 h and 5 h (2 h to 4 h hold no record); a and b go to subtask 0 by hashing
        java.util.function.Supplier<LoadMeasures.Builder> windows = () -> LoadMeasures.builder().parallelism(2)
                .naturalSubtask(k -> 0)
                .window(0L, Map.of("a", 10L))
                .window(h, Map.of("b", 10L))
                .window(5 * h, Map.of("a", 5L, "b", 5L));
        // by position, the window at 5 h has the two before it as neighbours: a and b apart, {5, 5}
        assertThat(windows.get().build().trendOracle().perWindow().get(5 * h)).isCloseTo(1.0, within(EPS));
        // by time its neighbours are the empty 2 h to 4 h: no trend, both keys where hashing puts them, {10, 0}
        assertThat(windows.get().windowMillis(h).build().trendOracle().perWindow().get(5 * h))
                .isCloseTo(2.0, within(EPS));
    }

    @Test
    void trendOracleSendsKeysWithoutHistoryToTheirNaturalSubtask() {
        // p = 2. z appears only in window 1000, so its neighbour mean is 0 and it goes to naturalSubtask(z) = 1.
        LoadMeasures m = LoadMeasures.builder()
                .parallelism(2)
                .naturalSubtask(k -> k.equals("z") ? 1 : 0)
                .window(0L, Map.of("a", 4L))
                .window(1000L, Map.of("a", 4L, "z", 4L))
                .window(2000L, Map.of("a", 4L))
                .build();
        // window 1000: a -> s0 (LPT), z -> s1 (natural) -> {4, 4} -> 1.0; z on s0 would give {8, 0} -> 2.0
        assertThat(m.trendOracle().perWindow().get(1000L)).isCloseTo(1.0, within(EPS));
    }

    @Test
    void trendOracleOfASingleWindowUsesItsOwnLoads() {
        LoadMeasures m = measures(2).window(0L, Map.of("a", 5L, "b", 3L, "c", 2L, "d", 2L)).build();
        // same as the oracle: 7/6 (an empty neighbourhood would put everything on natural subtask 0 -> 2.0)
        assertThat(m.trendOracle().perWindow().get(0L)).isCloseTo(7.0 / 6.0, within(EPS));
    }

    // ---------------------------------------------------------------- headroom

    @Test
    void headroomCaptured() {
        // (2.0 - 1.5) / (2.0 - 1.0) = 0.5
        assertThat(LoadMeasures.headroomCaptured(2.0, 1.5, 1.0)).isCloseTo(0.5, within(EPS));
        // worse than hash: (2.0 - 2.5) / (2.0 - 1.0) = -0.5
        assertThat(LoadMeasures.headroomCaptured(2.0, 2.5, 1.0)).isCloseTo(-0.5, within(EPS));
    }

    @Test
    void headroomCapturedIsNaNWithoutHeadroom() {
        assertThat(LoadMeasures.headroomCaptured(1.5, 1.2, 1.5)).isNaN();          // hash - reference = 0
        assertThat(LoadMeasures.headroomCaptured(1.5, 1.2, 1.5 - 1e-13)).isNaN();  // below 1e-3
        // hash 1.010, reference 1.0095: a headroom of rounding size, no ratio (it would say -40)
        assertThat(LoadMeasures.headroomCaptured(1.010, 1.030, 1.0095)).isNaN();
        assertThat(LoadMeasures.headroomCaptured(1.012, 1.011, 1.010)).isCloseTo(0.5, within(1e-9));
        assertThat(LoadMeasures.headroomCaptured(1.0, 1.2, 1.5)).isNaN();          // negative headroom
    }

    // ---------------------------------------------------------------- construction

    @Test
    void builderRejectsBadInput() {
        assertThatThrownBy(() -> LoadMeasures.builder().parallelism(0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> measures(2).add(0L, "a", -1L))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LoadMeasures.builder().parallelism(2).build())
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void naturalSubtaskOutOfRangeIsAnError() {
        LoadMeasures m = LoadMeasures.builder()
                .parallelism(2)
                .naturalSubtask(k -> 2)
                .window(0L, Map.of("a", 4L))
                .window(1000L, Map.of("a", 4L, "z", 4L))
                .build();
        assertThatThrownBy(m::trendOracle).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void inputIsCopied() {
        Map<String, Long> window = new java.util.HashMap<>(Map.of("a", 8L));
        LoadMeasures m = measures(4).window(0L, window).build();
        window.put("b", 8L);
        assertThat(m.inputRecords()).containsExactly(Map.entry(0L, 8L));
        assertThat(m.lowerBound().perWindow().get(0L)).isCloseTo(4.0, within(EPS));  // 8 / (8 / 4)
    }
}
