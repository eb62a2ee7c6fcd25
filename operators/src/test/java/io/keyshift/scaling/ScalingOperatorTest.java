package io.keyshift.scaling;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.ScalingDecision;
import io.keyshift.avro.ScalingKind;
import io.keyshift.avro.ScalingPolicy;
import io.keyshift.avro.UnitForecast;
import io.keyshift.avro.UnitType;
import io.keyshift.avro.WindowLoad;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The scaling operator decides a window once its forecast and its measured load (or a later window's load, or the end
 * of the input) are in, measures the imbalance at the parallelism the window ran at, never lets its watermark pass an
 * undecided window, and keeps planners and undecided windows in its state.
 */
class ScalingOperatorTest {
    private static final long W = 3_600_000L;
    private static final int MAX_P = 128;
    private static final Offset<Double> EXACT = Offset.offset(1e-9);
    /** capacity 100 per window and subtask; 0.75 / 0.90 / 0.60; p in 1..8 of 128 key groups; no cooldown. */
    private static final ScalingPlanner.Settings SETTINGS =
            new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 8, MAX_P, 0, 3);

    private static TwoInputStreamOperatorTestHarness<LoadForecast, WindowLoad, ScalingDecision> harness(
            OperatorSubtaskState restore, int parallelism, boolean followJobOnRestore) throws Exception {
        return harness(restore, parallelism, followJobOnRestore, SETTINGS);
    }

    private static TwoInputStreamOperatorTestHarness<LoadForecast, WindowLoad, ScalingDecision> harness(
            OperatorSubtaskState restore, int parallelism, boolean followJobOnRestore, ScalingPlanner.Settings settings)
            throws Exception {
        var h = new TwoInputStreamOperatorTestHarness<>(
                new ScalingOperator(settings, parallelism, followJobOnRestore, ScalingPolicy.PREDICTIVE));
        h.setup();
        if (restore != null) {
            h.initializeState(restore);
        }
        h.open();
        return h;
    }

    /** One key group unit carrying the window's whole load, forecast flat at {@code next}. */
    private static LoadForecast forecast(long end, double observed, double next) {
        List<Double> f = Collections.nCopies(2, next);
        UnitForecast u = UnitForecast.newBuilder().setUnitType(UnitType.KEY_GROUP).setKeyGroup(0)
                .setObserved(observed).setForecast(f).setLower(f).setUpper(f).setModel("NAIVE").setAnomaly(false)
                .build();
        return LoadForecast.newBuilder().setWindowStart(end - W).setWindowEnd(end).setHorizon(2)
                .setTotalObserved(observed).setUnits(List.of(u)).setAbsoluteErrorSum(0).setNaiveErrorSum(0)
                .setSeasonalAbsoluteErrorSum(0).setSeasonalNaiveErrorSum(0).setAnomalies(0).build();
    }

    /**
     * The copies the keyed stage got in the window ending at {@code end}, run at parallelism {@code p}: subtask i's
     * routed copies spread over the first two key groups of its range, its shadow copies in its last.
     */
    private static WindowLoad load(long end, int p, long[] routed, long[] shadow) {
        List<Long> r = new ArrayList<>(Collections.nCopies(MAX_P, 0L));
        List<Long> s = new ArrayList<>(Collections.nCopies(MAX_P, 0L));
        for (int i = 0; i < p; i++) {
            KeyGroupRange range = KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(MAX_P, p, i);
            r.set(range.getStartKeyGroup(), routed[i] / 2);
            r.set(range.getStartKeyGroup() + 1, routed[i] - routed[i] / 2);
            s.set(range.getEndKeyGroup(), shadow[i]);
        }
        return WindowLoad.newBuilder().setWindowStart(end - W).setWindowEnd(end).setParallelism(p)
                .setRoutedKeyGroupCounts(r).setShadowKeyGroupCounts(s).build();
    }

    private static long[] each(int p, long copies) {
        long[] a = new long[p];
        java.util.Arrays.fill(a, copies);
        return a;
    }

    private static List<ScalingDecision> decisions(TwoInputStreamOperatorTestHarness<?, ?, ScalingDecision> h) {
        List<ScalingDecision> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                out.add((ScalingDecision) r.getValue());
            }
        }
        return out;
    }

    private static List<ScalingDecision> predictive(TwoInputStreamOperatorTestHarness<?, ?, ScalingDecision> h) {
        return decisions(h).stream().filter(d -> d.getPolicy() == ScalingPolicy.PREDICTIVE).toList();
    }

    private static List<Long> watermarks(TwoInputStreamOperatorTestHarness<?, ?, ?> h) {
        List<Long> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof Watermark w) {
                out.add(w.getTimestamp());
            }
        }
        return out;
    }

    /** Every decision is stamped with its window's max timestamp and comes before any watermark that passes it. */
    private static void assertNoDecisionBehindTheWatermark(TwoInputStreamOperatorTestHarness<?, ?, ?> h) {
        long watermark = Long.MIN_VALUE;
        for (Object o : h.getOutput()) {
            if (o instanceof Watermark w) {
                watermark = Math.max(watermark, w.getTimestamp());
            } else if (o instanceof StreamRecord<?> r) {
                ScalingDecision d = (ScalingDecision) r.getValue();
                assertThat(r.getTimestamp()).isEqualTo(d.getWindowEnd() - 1);
                assertThat(r.getTimestamp()).isGreaterThan(watermark);
            }
        }
    }

    /**
     * The policy the stage actuates (keyshift.scaling.policy) is what the gauge autoscale reads shows, and only its
     * decisions are counted: a balanced window at 0.64 of capacity whose forecast rises to 400 scales out under
     * PREDICTIVE and stays under REACTIVE (which acts on what it measured).
     */
    @Test
    void theGaugeAndCounterFollowTheActuatedPolicy() throws Exception {
        java.util.Map<ScalingPolicy, Integer> gauge = new java.util.EnumMap<>(ScalingPolicy.class);
        for (ScalingPolicy policy : ScalingPolicy.values()) {
            ScalingOperator op = new ScalingOperator(SETTINGS, 4, false, policy);
            try (var h = new TwoInputStreamOperatorTestHarness<>(op)) {
                h.setup();
                h.open();
                h.processElement2(load(W, 4, new long[] {48, 48, 48, 48}, new long[] {0, 0, 0, 0}), W - 1);
                h.processElement1(forecast(W, 192, 400), W - 1);
                List<ScalingDecision> all = decisions(h);
                assertThat(all).filteredOn(d -> d.getPolicy() == ScalingPolicy.PREDICTIVE).singleElement()
                        .satisfies(d -> assertThat(d.getToParallelism()).isGreaterThan(4));
                assertThat(all).filteredOn(d -> d.getPolicy() == ScalingPolicy.REACTIVE)
                        .allSatisfy(d -> assertThat(d.getToParallelism()).isEqualTo(4));
                gauge.put(policy, op.actuatedParallelism());
                assertThat(op.actuatedDecisions()).as(policy.toString())
                        .isEqualTo(all.stream().filter(d -> d.getPolicy() == policy).count());
            }
        }
        assertThat(gauge.get(ScalingPolicy.REACTIVE)).isEqualTo(4);
        assertThat(gauge.get(ScalingPolicy.PREDICTIVE)).isGreaterThan(4);
        // the option's names
        org.apache.flink.configuration.Configuration c = new org.apache.flink.configuration.Configuration();
        c.setString(io.keyshift.config.ScalingOptions.POLICY.key(), "reactive");
        assertThat(io.keyshift.config.ScalingOptions.policy(c)).isEqualTo(ScalingPolicy.REACTIVE);
    }

    /**
     * Window 1 ran at p = 4 (240 copies, subtask 2 busiest with 96: imbalance 1.6) and is decided: out to 6. Window 2's
     * forecast waits for its load. Returns the snapshot taken then.
     */
    private static OperatorSubtaskState windowOneDecidedWindowTwoPending() throws Exception {
        try (var h = harness(null, 4, false)) {
            // the load first: subtask 2 processed 80 routed copies and 16 shadow copies
            h.processElement2(load(W, 4, new long[] {48, 48, 80, 48}, new long[] {0, 0, 16, 0}), W - 1);
            assertThat(decisions(h)).isEmpty(); // no forecast yet

            h.processElement1(forecast(W, 240, 240), W - 1);
            // evenly 240 / 4 = 0.60 of capacity would be fine; with the measured 1.6 it is 0.96 > 0.90: out
            assertThat(predictive(h)).singleElement().satisfies(d -> {
                assertThat(d.getWindowEnd()).isEqualTo(W);
                assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
                assertThat(d.getFromParallelism()).isEqualTo(4);
                assertThat(d.getImbalance()).isCloseTo(1.6, EXACT);
                assertThat(d.getToParallelism()).isEqualTo(6); // 240 x 1.6 / p <= 75: p >= 5.12
            });
            // REACTIVE measured the busiest subtask at 0.96 too and acts on it
            assertThat(decisions(h)).filteredOn(d -> d.getPolicy() == ScalingPolicy.REACTIVE).singleElement()
                    .satisfies(d -> {
                        assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
                        assertThat(d.getToParallelism()).isEqualTo(6);
                    });

            // window 2: the forecast is in, the load is not
            h.processElement1(forecast(2 * W, 240, 240), 2 * W - 1);
            h.processBothWatermarks(new Watermark(2 * W - 1));
            assertThat(decisions(h)).hasSize(2);
            // the watermark waits below the undecided window's decision
            assertThat(watermarks(h)).containsExactly(2 * W - 2);
            assertNoDecisionBehindTheWatermark(h);
            return h.snapshot(1L, 1L);
        }
    }

    @Test
    void aDecisionReadsOnlyTheForecastStepsOfItsLookAhead() throws Exception {
        // p = 6, one window measured quiet (40 of 100 per subtask), a flat forecast of 240 (0.40) for 2 steps
        for (int lookAhead : new int[] {0, 2, 1}) {
            ScalingOperator op = new ScalingOperator(SETTINGS, 6, false, ScalingPolicy.PREDICTIVE);
            try (var h = new TwoInputStreamOperatorTestHarness<>(lookAhead > 0 ? op.withLookAhead(lookAhead) : op)) {
                h.setup();
                h.open();
                h.processElement2(load(W, 6, each(6, 40), each(6, 0)), W - 1);
                h.processElement1(forecast(W, 240, 240), W - 1);
                if (lookAhead == 1) {
                    // 1 measured + 1 forecast quiet window: short of the 3 a scale-in needs
                    assertThat(predictive(h)).as("look-ahead 1").isEmpty();
                } else {
                    // 1 measured + 2 forecast: in
                    assertThat(predictive(h)).as("look-ahead %d", lookAhead).singleElement()
                            .satisfies(d -> assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_IN));
                }
            }
        }
        assertThatThrownBy(() -> new ScalingOperator(SETTINGS, 6).withLookAhead(0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void decidesOnceTheLoadIsInWithTheImbalanceMeasuredAtTheParallelismTheWindowRanAt() throws Exception {
        OperatorSubtaskState snapshot = windowOneDecidedWindowTwoPending();
        // restored into a job declared at 4: the planners continue from their own decision, 6
        try (var h = harness(snapshot, 4, false)) {
            assertThat(decisions(h)).isEmpty();
            // window 2 ran at p = 6: 40 per subtask (0.40)
            h.processElement2(load(2 * W, 6, each(6, 40), each(6, 0)), 2 * W - 1);
            // PREDICTIVE: 1 quiet window measured + 2 forecast (240 x 1.3 / 6 = 0.52) make the 3 it needs: in to 5
            // (240 x 1.3 / 5 = 0.62 <= 0.75); REACTIVE has seen 1 quiet window and waits
            assertThat(decisions(h)).singleElement().satisfies(in -> {
                assertThat(in.getPolicy()).isEqualTo(ScalingPolicy.PREDICTIVE);
                assertThat(in.getWindowEnd()).isEqualTo(2 * W);
                assertThat(in.getKind()).isEqualTo(ScalingKind.SCALE_IN);
                assertThat(in.getFromParallelism()).isEqualTo(6);
                assertThat(in.getToParallelism()).isEqualTo(5);
                assertThat(in.getReason()).contains("1 measured, 2 forecast");
                // load-weighted over both windows, each at its own parallelism: (96 x 4 + 40 x 6) / (240 + 240)
                assertThat(in.getImbalance()).isCloseTo(1.3, EXACT);
            });
            assertNoDecisionBehindTheWatermark(h);
        }
    }

    @Test
    void afterARestoreDecisionsUseTheRestoredJobsOptions() throws Exception {
        OperatorSubtaskState snapshot = windowOneDecidedWindowTwoPending();
        // the job is restored with ten times the capacity per subtask and at most 5 subtasks
        ScalingPlanner.Settings changed = new ScalingPlanner.Settings(1000, 0.75, 0.90, 0.60, 1, 5, MAX_P, 0, 3);
        try (var h = harness(snapshot, 4, false, changed)) {
            h.processElement2(load(2 * W, 6, each(6, 40), each(6, 0)), 2 * W - 1);
            // from its decision 6, clamped to the new maximum 5; 240 x 1.3 over 750 per subtask: in to 1 (with the
            // checkpoint's capacity of 100 it went in to 5, see above)
            assertThat(decisions(h)).singleElement().satisfies(in -> {
                assertThat(in.getPolicy()).isEqualTo(ScalingPolicy.PREDICTIVE);
                assertThat(in.getKind()).isEqualTo(ScalingKind.SCALE_IN);
                assertThat(in.getFromParallelism()).isEqualTo(5);
                assertThat(in.getToParallelism()).isEqualTo(1);
            });
        }
    }

    @Test
    void followingTheJobOnRestoreContinuesFromTheJobsParallelism() throws Exception {
        OperatorSubtaskState snapshot = windowOneDecidedWindowTwoPending();
        // the job was restarted at 8
        try (var h = harness(snapshot, 8, true)) {
            h.processElement2(load(2 * W, 8, each(8, 30), each(8, 0)), 2 * W - 1);
            // (96 x 4 + 30 x 8) / 480 = 1.3; at 8: 0.39, quiet; in to the smallest that carries 240 x 1.3: 5
            assertThat(decisions(h)).singleElement().satisfies(in -> {
                assertThat(in.getPolicy()).isEqualTo(ScalingPolicy.PREDICTIVE);
                assertThat(in.getKind()).isEqualTo(ScalingKind.SCALE_IN);
                assertThat(in.getFromParallelism()).isEqualTo(8);
                assertThat(in.getToParallelism()).isEqualTo(5);
                assertThat(in.getImbalance()).isCloseTo(1.3, EXACT);
            });
        }
    }

    @Test
    void aWindowWithoutLoadIsDecidedWhenALaterWindowsLoadArrives() throws Exception {
        try (var h = harness(null, 4, false)) {
            h.processElement1(forecast(W, 240, 400), W - 1);
            h.processBothWatermarks(new Watermark(W + 10));
            // a window whose load has not come (it had records): it waits, and so does the watermark
            assertThat(decisions(h)).isEmpty();
            assertThat(watermarks(h)).containsExactly(W - 2);

            h.processElement1(forecast(2 * W, 240, 240), 2 * W - 1);
            assertThat(decisions(h)).isEmpty();
            // window 2's load shows that window 1 will have none: both are decided, in order
            h.processElement2(load(2 * W, 6, each(6, 40), each(6, 0)), 2 * W - 1);
            List<ScalingDecision> d = decisions(h);
            assertThat(d).extracting(ScalingDecision::getWindowEnd).containsExactly(W, 2 * W);
            assertThat(d).allSatisfy(x -> assertThat(x.getPolicy()).isEqualTo(ScalingPolicy.PREDICTIVE));
            // window 1, not measured: the forecast 400 / 4 = 1.0 > 0.90 at an assumed imbalance of 1
            assertThat(d.get(0).getKind()).isEqualTo(ScalingKind.SCALE_OUT);
            assertThat(d.get(0).getImbalance()).isCloseTo(1.0, EXACT);
            assertThat(d.get(0).getToParallelism()).isEqualTo(6);
            // window 2, measured at 6 (40 each: 1.0), quiet with a quiet forecast: in to 240 / 4 = 0.60 <= 0.75
            assertThat(d.get(1).getKind()).isEqualTo(ScalingKind.SCALE_IN);
            assertThat(d.get(1).getFromParallelism()).isEqualTo(6);
            assertThat(d.get(1).getToParallelism()).isEqualTo(4);
            // nothing undecided: the watermark follows the input
            assertThat(watermarks(h)).containsExactly(W - 2, W + 10);
            assertNoDecisionBehindTheWatermark(h);
        }
    }

    /**
     * A window without records (its forecast observed nothing) gets no load from the routers: it is decided when its
     * forecast is next, not when a later window's load arrives, and the watermark moves on past it. Waiting had held
     * the watermark that a replay's source waits for at each window end, and a replay with --scale stopped at the
     * first empty window (bike share at hourly windows, at night).
     */
    @Test
    void aWindowWithoutRecordsIsDecidedWithoutWaitingForALoad() throws Exception {
        try (var h = harness(null, 4, false)) {
            h.processElement2(load(W, 4, each(4, 40), each(4, 0)), W - 1);
            h.processElement1(forecast(W, 160, 160), W - 1);
            assertThat(decisions(h)).extracting(ScalingDecision::getWindowEnd).containsOnly(W);
            // window 2 had no records; window 3's forecast comes behind it
            h.processElement1(forecast(2 * W, 0, 400), 2 * W - 1);
            h.processBothWatermarks(new Watermark(2 * W - 1));
            assertThat(decisions(h)).extracting(ScalingDecision::getWindowEnd).contains(2 * W);
            // not measured: the forecast 400 / 4 = 1.0 > 0.90 at an assumed imbalance of 1
            assertThat(predictive(h)).filteredOn(d -> d.getWindowEnd() == 2 * W).singleElement()
                    .satisfies(d -> assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_OUT));
            assertThat(watermarks(h)).last().isEqualTo(2 * W - 1);
            // a window with records still waits for its load
            h.processElement1(forecast(3 * W, 160, 160), 3 * W - 1);
            h.processBothWatermarks(new Watermark(3 * W + 10));
            assertThat(decisions(h)).extracting(ScalingDecision::getWindowEnd).doesNotContain(3 * W);
            assertThat(watermarks(h)).last().isEqualTo(3 * W - 2);
            assertNoDecisionBehindTheWatermark(h);
        }
    }

    /**
     * Window 2 of {@link #aWindowWithoutLoadIsDecidedWhenALaterWindowsLoadArrives} with a hot key of 200 records in
     * its 240 (twice the capacity): taken whole it kept the quiet stage from scaling in (and no parallelism could
     * ever carry it); where the planner splits hot keys it spreads over the subtasks (measured: 40 each), and the
     * stage scales in as it would without it.
     */
    @Test
    void aSplitHotKeyIsNoUnitForScaling() throws Exception {
        for (boolean splitting : new boolean[] {false, true}) {
            var op = new ScalingOperator(SETTINGS, 6, false, ScalingPolicy.PREDICTIVE).withSplitting(splitting);
            try (var h = new TwoInputStreamOperatorTestHarness<>(op)) {
                h.setup();
                h.open();
                List<Double> cold = Collections.nCopies(2, 40.0);
                List<Double> hot = Collections.nCopies(2, 200.0);
                UnitForecast group = UnitForecast.newBuilder().setUnitType(UnitType.KEY_GROUP).setKeyGroup(0)
                        .setObserved(40).setForecast(cold).setLower(cold).setUpper(cold).setModel("NAIVE")
                        .setAnomaly(false).build();
                UnitForecast key = UnitForecast.newBuilder().setUnitType(UnitType.HOT_KEY).setKey("hot")
                        .setKeyGroup(1).setObserved(200).setForecast(hot).setLower(hot).setUpper(hot)
                        .setModel("NAIVE").setAnomaly(false).build();
                h.processElement1(LoadForecast.newBuilder().setWindowStart(0).setWindowEnd(W).setHorizon(2)
                        .setTotalObserved(240).setUnits(List.of(group, key)).setAbsoluteErrorSum(0)
                        .setNaiveErrorSum(0).setSeasonalAbsoluteErrorSum(0).setSeasonalNaiveErrorSum(0)
                        .setAnomalies(0).build(), W - 1);
                h.processElement2(load(W, 6, each(6, 40), each(6, 0)), W - 1);
                if (splitting) {
                    assertThat(predictive(h)).singleElement().satisfies(d -> {
                        assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_IN);
                        assertThat(d.getToParallelism()).isEqualTo(4);
                    });
                } else {
                    assertThat(predictive(h)).noneMatch(d -> d.getKind() == ScalingKind.SCALE_IN);
                }
            }
        }
    }

    /**
     * At the final watermark a window with records still waits for its load, which follows once the routers have the
     * final lease: decided then from the measured busiest subtask (until 2026-12-06 it was decided at the watermark
     * from the estimate alone, and the load that came after was dropped: which windows went without theirs depended
     * on the plans' timing).
     */
    @Test
    void aLoadThatFollowsTheFinalWatermarkIsWaitedFor() throws Exception {
        try (var h = harness(null, 4, false)) {
            // 240 over 4 subtasks of capacity 100: 0.6 estimated; the measured busiest carries 120, 1.2
            h.processElement1(forecast(W, 240, 240), W - 1);
            h.processBothWatermarks(Watermark.MAX_WATERMARK);
            assertThat(decisions(h)).isEmpty();
            h.processElement2(load(W, 4, new long[] {120, 40, 40, 40}, each(4, 0)), W - 1);
            assertThat(predictive(h)).singleElement().satisfies(d -> {
                assertThat(d.getWindowEnd()).isEqualTo(W);
                assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
            });
            // held just below the pending window until it is decided
            assertThat(watermarks(h)).containsExactly(W - 2, Long.MAX_VALUE);
            assertNoDecisionBehindTheWatermark(h);
        }
    }

    @Test
    void theEndOfTheInputDecidesWhatIsStillPending() throws Exception {
        try (var h = harness(null, 4, false)) {
            h.processElement1(forecast(W, 240, 400), W - 1);
            assertThat(decisions(h)).isEmpty();
            h.processBothWatermarks(Watermark.MAX_WATERMARK);
            assertThat(decisions(h)).isEmpty();
            h.endInput2();
            h.endInput1();
            assertThat(decisions(h)).singleElement().satisfies(d -> {
                assertThat(d.getPolicy()).isEqualTo(ScalingPolicy.PREDICTIVE);
                assertThat(d.getWindowEnd()).isEqualTo(W);
                assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
            });
            assertThat(watermarks(h)).containsExactly(W - 2, Long.MAX_VALUE);
            assertNoDecisionBehindTheWatermark(h);
        }
    }
}
