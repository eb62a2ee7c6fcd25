package io.keyshift.scaling;

import io.keyshift.avro.ScalingDecision;
import io.keyshift.avro.ScalingKind;
import io.keyshift.avro.ScalingPolicy;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ScalingPlannerTest {
    private static final long W = 3_600_000L;

    private static ScalingPlanner planner(int cooldown) {
        // capacity 100 records per window per subtask, thresholds 0.75 / 0.90 / 0.60, parallelism 1..16 of 128 groups
        return new ScalingPlanner(new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 16, 128, cooldown, 3),
                ScalingPolicy.PREDICTIVE, 4);
    }

    @Test
    void scalesOutWhenTheBusiestSubtaskWouldPassTheCriticalUtilization() {
        ScalingPlanner p = planner(0);
        assertThat(p.onWindow(W, 350, 10)).isNull(); // 350 / 4 = 87.5 of 100: below critical
        ScalingDecision d = p.onWindow(2 * W, 380, 10); // 95 > 90
        assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
        assertThat(d.getFromParallelism()).isEqualTo(4);
        // smallest p with 380 / p <= 75 is 6 (63.3); the divisor 8 of 128 would cost a third more subtasks
        assertThat(d.getToParallelism()).isEqualTo(6);
        assertThat(d.getUtilizationAfter()).isLessThanOrEqualTo(0.75);
        assertThat(p.parallelism()).isEqualTo(6);
    }

    /**
     * A window measured overloaded at the parallelism before a scale out (the rescale is slower than the cooldown)
     * is judged at the parallelism in force: it does not scale out again and again up to the maximum. Measured at a
     * higher parallelism than the one in force (after a scale in), the overload counts the more.
     */
    @Test
    void anOverloadMeasuredAtAnotherParallelismIsScaledToTheOneInForce() {
        ScalingPlanner p = planner(0);
        double[] flat = {300, 300, 300, 300};
        // 300 at p = 2: the busiest subtask at 1.30 of capacity, the forecast sees 300 too (0.75 at p = 4)
        ScalingDecision out = p.onWindow(new ScalingPlanner.Window(W, 300, 130, 2, 10, flat, 10));
        assertThat(out).isNull(); // at p = 4 (in force) 1.30 x 2 / 4 = 0.65: the window ran before the scale out
        // the same measurement at the parallelism in force is an overload
        ScalingDecision here = p.onWindow(new ScalingPlanner.Window(2 * W, 300, 130, 4, 10, flat, 10));
        assertThat(here.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
        assertThat(here.getFromParallelism()).isEqualTo(4);
        // measured at 8 while 6 is in force (a scale in not yet in effect): 0.95 x 8 / 6 = 1.27
        ScalingPlanner q = new ScalingPlanner(new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 16, 128, 0, 3),
                ScalingPolicy.PREDICTIVE, 6);
        ScalingDecision after = q.onWindow(new ScalingPlanner.Window(W, 400, 95, 8, 10, new double[] {400, 400}, 10));
        assertThat(after.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
        assertThat(after.getFromParallelism()).isEqualTo(6);

        // REACTIVE the same: 0.95 measured at 2 while 4 is in force is 0.475, no scale out
        ScalingPlanner r = new ScalingPlanner(new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 16, 128, 0, 3),
                ScalingPolicy.REACTIVE, 4);
        assertThat(r.onWindow(new ScalingPlanner.Window(W, 190, 95, 2, 10, new double[] {190}, 10))).isNull();
        ScalingDecision reactiveHere = r.onWindow(new ScalingPlanner.Window(2 * W, 380, 95, 4, 10,
                new double[] {380}, 10));
        assertThat(reactiveHere.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
    }

    /**
     * Windows measured at the parallelism before a scale in (the rescale slower than the cooldown) count as quiet only
     * at the parallelism in force: 0.35 at 8 is 0.70 at 4. Counted as measured, three of them let the next scale in
     * come one window after the rescale, not scale-in-windows (3) after it.
     */
    @Test
    void quietWindowsMeasuredAtAnotherParallelismAreJudgedAtTheOneInForce() {
        ScalingPlanner r = new ScalingPlanner(new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 16, 128, 0, 3),
                ScalingPolicy.REACTIVE, 4);
        for (int w = 1; w <= 3; w++) {
            assertThat(r.onWindow(new ScalingPlanner.Window(w * W, 280, 35, 8, 5, new double[] {280}, 5))).isNull();
        }
        // the first windows at 4, quiet
        assertThat(r.onWindow(new ScalingPlanner.Window(4 * W, 140, 35, 4, 5, new double[] {140}, 5))).isNull();
        assertThat(r.onWindow(new ScalingPlanner.Window(5 * W, 140, 35, 4, 5, new double[] {140}, 5))).isNull();
        ScalingDecision in = r.onWindow(new ScalingPlanner.Window(6 * W, 140, 35, 4, 5, new double[] {140}, 5));
        assertThat(in.getKind()).isEqualTo(ScalingKind.SCALE_IN);
        assertThat(in.getToParallelism()).isEqualTo(2);
    }

    /**
     * A scale out for a measured overload sizes for the larger of forecast and measured load, largest unit included,
     * and its decision reports the utilizations of what it sized for: a hot key measured at 90 (forecast 10) bounds
     * the busiest subtask at 0.90 of capacity after any scale out (it had reported the forecast's 0.10 bound).
     */
    @Test
    void aScaleOutForAMeasuredOverloadReportsTheUtilizationItSizedFor() {
        ScalingPlanner p = planner(0);
        ScalingDecision d = p.onWindow(new ScalingPlanner.Window(W, 500, 160, 4, 90, new double[] {300, 300}, 10));
        assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
        assertThat(d.getLoad()).isEqualTo(500.0);
        assertThat(d.getUtilizationAfter()).isGreaterThanOrEqualTo(0.90);
    }

    @Test
    void prefersADivisorOfTheKeyGroupsWhenItCostsLittle() {
        ScalingPlanner p = planner(0);
        ScalingDecision d = p.onWindow(W, 450, 10);
        // 450 / 6 = 75.0 <= 75 meets at p = 6, the divisor 8 costs 33% more: 6 is kept
        assertThat(d.getToParallelism()).isEqualTo(6);
        ScalingPlanner q = new ScalingPlanner(new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 16, 128, 0, 3),
                ScalingPolicy.PREDICTIVE, 4);
        // 520 / 75 = 6.9: p = 7 meets; the divisor 8 costs 14% more and is preferred
        assertThat(q.onWindow(W, 520, 10).getToParallelism()).isEqualTo(8);
    }

    @Test
    void scalesInOnlyAfterEnoughQuietWindowsAndRespectsTheCooldown() {
        // REACTIVE counts measured windows only: 3 quiet ones
        ScalingPlanner r = new ScalingPlanner(new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 16, 128, 2, 3),
                ScalingPolicy.REACTIVE, 4);
        for (int w = 1; w <= 2; w++) {
            assertThat(r.onWindow(w * W, 100, 5)).isNull(); // 25 of 100 per subtask, quiet but only 2 windows
        }
        ScalingDecision in = r.onWindow(3 * W, 100, 5);
        assertThat(in.getKind()).isEqualTo(ScalingKind.SCALE_IN);
        assertThat(in.getToParallelism()).isEqualTo(2); // 100 / 2 = 50 <= 75, a divisor
        // a surge right after: the cooldown (2 windows) holds the decision back, then it scales out
        assertThat(r.onWindow(4 * W, 400, 5)).isNull();
        assertThat(r.onWindow(5 * W, 400, 5)).isNull();
        ScalingDecision outAgain = r.onWindow(6 * W, 400, 5);
        assertThat(outAgain.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
        assertThat(outAgain.getFromParallelism()).isEqualTo(2);
        assertThat(outAgain.getToParallelism()).isEqualTo(6);

        // PREDICTIVE counts the forecast window ahead as well: 2 measured + 1 forecast quiet windows suffice
        ScalingPlanner p = planner(2);
        assertThat(p.onWindow(W, 100, 5)).isNull();
        ScalingDecision early = p.onWindow(2 * W, 100, 5);
        assertThat(early.getKind()).isEqualTo(ScalingKind.SCALE_IN);
        assertThat(early.getReason()).contains("2 measured, 1 forecast");
    }

    @Test
    void predictiveScalesInForAForecastTroughAndOutBeforeThePeak() {
        // cooldown 1, scale-in after 2 quiet windows; horizon 4: like a weekend between weekdays
        ScalingPlanner p = new ScalingPlanner(new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 16, 128, 1, 2),
                ScalingPolicy.PREDICTIVE, 6);
        // Friday: 400 measured at p = 6 (0.67, busy); forecast Saturday 120, Sunday 100, Monday 420, Tuesday 410
        ScalingDecision in = p.onWindow(new ScalingPlanner.Window(W, 400, 70, 0, 10,
                new double[] {120, 100, 420, 410}, 10));
        assertThat(in.getKind()).isEqualTo(ScalingKind.SCALE_IN);
        // sized for the windows it must carry until the next decision can be made (+1, +2): 120 / 2 = 60 <= 75
        assertThat(in.getToParallelism()).isEqualTo(2);
        assertThat(in.getLoad()).isEqualTo(120);
        // Saturday closes: within the cooldown
        assertThat(p.onWindow(new ScalingPlanner.Window(2 * W, 118, 62, 0, 10, new double[] {100, 420, 410, 400}, 10)))
                .isNull();
        // Sunday closes: Monday's forecast 420 / 2 = 2.1 of capacity: out before it arrives, sized for Mon and Tue
        ScalingDecision out = p.onWindow(new ScalingPlanner.Window(3 * W, 101, 52, 0, 10,
                new double[] {420, 410, 400, 390}, 10));
        assertThat(out.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
        assertThat(out.getLoad()).isEqualTo(420);
        assertThat(out.getToParallelism()).isGreaterThanOrEqualTo(6); // 420 x imbalance / p <= 75
        // a REACTIVE planner fed the same windows waits for measured quiet windows and misses Monday
        ScalingPlanner r = new ScalingPlanner(new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 16, 128, 1, 2),
                ScalingPolicy.REACTIVE, 6);
        assertThat(r.onWindow(new ScalingPlanner.Window(W, 400, 70, 0, 10, new double[] {120}, 10))).isNull();
        assertThat(r.onWindow(new ScalingPlanner.Window(2 * W, 118, 21, 0, 10, new double[] {100}, 10))).isNull();
        assertThat(r.onWindow(new ScalingPlanner.Window(3 * W, 101, 18, 0, 10, new double[] {420}, 10)).getKind())
                .isEqualTo(ScalingKind.SCALE_IN);
    }

    @Test
    void theMeasuredImbalanceRaisesTheEstimate() {
        ScalingPlanner p = planner(0);
        assertThat(p.imbalance()).isEqualTo(1.0); // nothing measured yet
        // 300 records at p = 4: mean 75, but the busiest subtask processed 90 (1.2 x the mean)
        assertThat(p.onWindow(new ScalingPlanner.Window(W, 300, 90, 0, 10, new double[] {300}, 10))).isNull();
        assertThat(p.imbalance()).isCloseTo(1.2, org.assertj.core.data.Offset.offset(1e-9));
        // a forecast of 320 fits 4 subtasks evenly (0.80) but not with the measured imbalance (0.96 > 0.90)
        ScalingDecision d = p.onWindow(new ScalingPlanner.Window(2 * W, 300, 90, 0, 10, new double[] {320}, 10));
        assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
        assertThat(d.getImbalance()).isCloseTo(1.2, org.assertj.core.data.Offset.offset(1e-9));
        // 320 x 1.2 / p <= 75 from p = 5.12: 6
        assertThat(d.getToParallelism()).isEqualTo(6);
        // the weighting is by load: a near-empty window with a lopsided split hardly moves it
        p.onWindow(new ScalingPlanner.Window(3 * W, 2, 2, 0, 2, new double[] {320}, 10));
        assertThat(p.imbalance()).isLessThan(1.25);
    }

    @Test
    void predictiveActsOnAMeasuredCriticalWindowUnlessTheForecastSeesTheLoadFall() {
        for (double nextTotal : new double[] {300, 250}) {
            ScalingPlanner p = planner(0);
            for (int w = 1; w <= 3; w++) {
                assertThat(p.onWindow(new ScalingPlanner.Window(w * W, 300, 76, 0, 10, new double[] {300}, 10))).isNull();
            }
            // the busiest subtask processed 95 of 100 (> critical 0.90); at the usual imbalance (4 windows' κ 1.08)
            // the forecast puts it at 0.81 only
            ScalingDecision d = p.onWindow(new ScalingPlanner.Window(4 * W, 300, 95, 0, 10, new double[] {nextTotal}, 10));
            if (nextTotal == 300) {
                // a flat forecast: 95 x 300 / 300 stays above critical, so predictive is not behind reactive
                assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
                assertThat(d.getReason()).contains("measured at 0.95").contains("not forecast to fall");
            } else {
                // a forecast fall to 250: 0.95 x 250 / 300 = 0.79, below critical: no scale-out
                assertThat(d).isNull();
            }
        }
    }

    @Test
    void reactiveActsOnTheMeasuredBusiestSubtaskNotTheMean() {
        ScalingPlanner r = new ScalingPlanner(new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 16, 128, 0, 3),
                ScalingPolicy.REACTIVE, 4);
        // 300 at p = 4 is 0.75 of capacity on average, but one subtask processed 95: above critical
        ScalingDecision d = r.onWindow(new ScalingPlanner.Window(W, 300, 95, 0, 10, new double[] {300}, 10));
        assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
        assertThat(d.getUtilizationBefore()).isGreaterThan(0.9);
        assertThat(d.getReason()).contains("measured at 0.95");
    }

    @Test
    void aKeyThatCannotBeSplitBoundsTheUtilization() {
        ScalingPlanner p = planner(0);
        // 200 records spread would fit 4 subtasks (50 each), but one key carries 95: 0.95 > critical, and no
        // parallelism lowers that: no decision
        assertThat(p.onWindow(W, 200, 95)).isNull();
        // 400 with that key: 4 subtasks carry 100 each (1.0); from 5 on the key bounds it at 0.95: out to 5 only
        ScalingDecision d = p.onWindow(2 * W, 400, 95);
        assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
        assertThat(d.getToParallelism()).isEqualTo(5);
    }

    /** Control input (issue 15): scale N forces one decision to N (clamped), holds it, and unscale lets the policy act. */
    @Test
    void aForcedParallelismIsDecidedOnceHeldAndReleased() {
        ScalingPlanner p = planner(0);
        // quiet load: the policy alone would scale in after 3 quiet windows; forced to 12 it scales out at once
        ScalingDecision forced = p.onWindow(ScalingPlanner.Window.ofLoad(W, 100, 5), 12);
        assertThat(forced.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
        assertThat(forced.getToParallelism()).isEqualTo(12);
        assertThat(forced.getReason()).startsWith("control: scale 12");
        for (int w = 2; w <= 6; w++) {
            assertThat(p.onWindow(ScalingPlanner.Window.ofLoad(w * W, 100, 5), 12)).as("window %d", w).isNull();
        }
        // beyond maxParallelism 16: clamped, and the reason says so
        ScalingDecision clamped = p.onWindow(ScalingPlanner.Window.ofLoad(7 * W, 100, 5), 40);
        assertThat(clamped.getToParallelism()).isEqualTo(16);
        assertThat(clamped.getReason()).contains("clamped");
        // released: the policy decides again, and scales in once it has seen its quiet windows (3 after a decision)
        ScalingDecision in = null;
        int w = 8;
        while (in == null && w <= 12) {
            in = p.onWindow(ScalingPlanner.Window.ofLoad(w++ * W, 100, 5), 0);
        }
        assertThat(in).isNotNull();
        assertThat(in.getKind()).isEqualTo(ScalingKind.SCALE_IN);
        assertThat(in.getToParallelism()).isLessThan(16);
        assertThat(in.getReason()).doesNotStartWith("control");
    }

    @Test
    void aMeasuredOverloadTheForecastMissedScalesOutToo() {
        ScalingPlanner p = planner(0);
        // the busiest subtask measured 98 of 100 (above critical, within the capacity; κ = 98 x 4 / 300 = 1.31) and
        // the forecast of 200 puts it at 200 x 1.31 / 4 = 0.65: the forecast's margin covers it, nothing to do
        assertThat(p.onWindow(new ScalingPlanner.Window(W, 300, 98, 4, 10, new double[] {200}, 10))).isNull();
        // 110 of 100 measured (overloaded; κ now (392 + 440) / 600 = 1.39), the forecast of 200 says 0.69
        ScalingDecision d = p.onWindow(new ScalingPlanner.Window(2 * W, 300, 110, 4, 10, new double[] {200}, 10));
        assertThat(d).isNotNull();
        assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
        assertThat(d.getReason()).contains("measured at 1.10").contains("above the forecast's 0.69");
        // sized for the larger of forecast and measured load: 300 x 1.39 / p <= 75 from p = 5.5: 6
        assertThat(d.getLoad()).isEqualTo(300);
        assertThat(d.getToParallelism()).isEqualTo(6);
        assertThat(d.getUtilizationAfter()).isLessThanOrEqualTo(0.75);
    }

    /**
     * At the maximum parallelism a window measured overloaded cannot scale out; it fell through to the scale-in rule,
     * which counted the quiet forecast windows (scale-in windows no more than the forecast's) and took half the
     * subtasks away from an overloaded job.
     */
    @Test
    void aMeasuredOverloadAtTheMaximumParallelismNeverScalesIn() {
        ScalingPlanner p = new ScalingPlanner(new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 4, 128, 0, 3),
                ScalingPolicy.PREDICTIVE, 4);
        // busiest 110 of 100 (overloaded), the forecast of 100 per window says 0.37 at p = 4 for 4 windows
        assertThat(p.onWindow(new ScalingPlanner.Window(W, 300, 110, 4, 10, new double[] {100, 100, 100, 100}, 10)))
                .isNull();
        assertThat(p.parallelism()).isEqualTo(4);
        // the same forecast after a quiet measured window does scale in
        ScalingDecision in = p.onWindow(new ScalingPlanner.Window(2 * W, 100, 26, 4, 10,
                new double[] {100, 100, 100, 100}, 10));
        assertThat(in).isNotNull();
        assertThat(in.getKind()).isEqualTo(ScalingKind.SCALE_IN);
    }

    /** The first decision is never held by a cooldown, however long (from Integer.MAX_VALUE / 2 on, it was). */
    @Test
    void aHugeCooldownDoesNotHoldTheFirstDecision() {
        for (ScalingPolicy policy : ScalingPolicy.values()) {
            ScalingPlanner p = new ScalingPlanner(new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 16, 128,
                    Integer.MAX_VALUE, 3), policy, 4);
            ScalingDecision d = p.onWindow(new ScalingPlanner.Window(W, 380, 100, 4, 10, new double[] {380}, 10));
            assertThat(d).as(policy.name()).isNotNull();
            assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
            // and the next is held
            assertThat(p.onWindow(new ScalingPlanner.Window(2 * W, 380, 100, 0, 10, new double[] {380}, 10)))
                    .isNull();
        }
    }

    /**
     * A window measured above the critical utilization (but not overloaded) whose load the forecast sees fall to a
     * third: not a scale-out, and no scale-in either (it took two of four subtasks away from a job measured at 0.95).
     */
    @Test
    void aWindowMeasuredAboveTheCriticalUtilizationNeverScalesIn() {
        ScalingPlanner p = new ScalingPlanner(new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 4, 128, 0, 3),
                ScalingPolicy.PREDICTIVE, 4);
        assertThat(p.onWindow(new ScalingPlanner.Window(W, 300, 95, 4, 10, new double[] {100, 100, 100, 100}, 10)))
                .isNull();
        assertThat(p.parallelism()).isEqualTo(4);
        // measured at 0.85, below critical: the quiet forecast over its whole horizon scales in
        ScalingDecision in = p.onWindow(new ScalingPlanner.Window(2 * W, 300, 85, 4, 10,
                new double[] {100, 100, 100, 100}, 10));
        assertThat(in).isNotNull();
        assertThat(in.getKind()).isEqualTo(ScalingKind.SCALE_IN);
    }

    /**
     * Forecast and measurement both critical, the measured load the larger: the decision sizes for it (it sized for
     * the forecast alone, and the job ran at about its capacity through the cooldown).
     */
    @Test
    void aScaleOutTheForecastTriggersSizesForTheMeasuredLoadWhenThatIsLarger() {
        ScalingPlanner p = planner(0);
        // 600 measured at p = 4, busiest 150 (1.50 of capacity, κ 1.0); the forecast of 380 says 0.95 > 0.90
        ScalingDecision d = p.onWindow(new ScalingPlanner.Window(W, 600, 150, 4, 10, new double[] {380}, 10));
        assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
        assertThat(d.getReason()).contains("next window forecast");
        // 600 / p <= 75 from p = 8 (for the forecast alone, 380 / p <= 75: 6)
        assertThat(d.getLoad()).isEqualTo(600);
        assertThat(d.getToParallelism()).isEqualTo(8);
    }

    @Test
    void theImbalanceOfTheSameWindowASeasonAgoRaisesTheEstimate() {
        // a season of 4 windows, no scale-in (100 quiet windows needed); κ 1.0 in every window but the one ending
        // at 3W, where the busiest subtask took 1.6x the mean
        ScalingPlanner seasonal = new ScalingPlanner(new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 16, 128,
                0, 100, W, 4), ScalingPolicy.PREDICTIVE, 4);
        ScalingPlanner plain = new ScalingPlanner(new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 16, 128,
                0, 100), ScalingPolicy.PREDICTIVE, 4);
        List<ScalingDecision> last = new ArrayList<>();
        for (ScalingPlanner p : List.of(seasonal, plain)) {
            for (int w = 1; w <= 5; w++) {
                double busiest = w == 3 ? 80 : 50;
                assertThat(p.onWindow(new ScalingPlanner.Window(w * W, 200, busiest, 4, 10,
                        new double[] {200}, 10))).as("window %d", w).isNull();
            }
            // the window ending at 6W closes; forecast 250 for the next one, which is a season after the one at 3W
            last.add(p.onWindow(new ScalingPlanner.Window(6 * W, 200, 50, 4, 10, new double[] {250}, 10)));
        }
        // the recent κ (load-weighted over the last 8 windows) is 1.1
        assertThat(seasonal.imbalance()).isCloseTo(1.1, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(plain.imbalanceFor(7 * W)).isCloseTo(1.1, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(seasonal.imbalanceFor(8 * W)).isCloseTo(1.1, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(seasonal.imbalanceFor(7 * W)).isCloseTo(1.6, org.assertj.core.data.Offset.offset(1e-9));
        // plain: 250 x 1.1 / 4 = 0.69 of capacity, nothing to do; seasonal: 250 x 1.6 / 4 = 1.0 > 0.90, out to
        // the smallest p with 250 x 1.6 / p <= 75: 6
        assertThat(last.get(1)).isNull();
        ScalingDecision d = last.get(0);
        assertThat(d.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
        assertThat(d.getImbalance()).isCloseTo(1.6, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(d.getToParallelism()).isEqualTo(6);
        assertThat(d.getUtilizationAfter()).isLessThanOrEqualTo(0.75);
    }

    @Test
    void aPlannerRestoredFromItsAvroStateDecidesAsTheOriginalWould() throws Exception {
        io.keyshift.config.AvroTrust.install();
        ScalingPlanner.Settings settings = new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 16, 128, 0, 100, W, 4);
        ScalingPlanner original = new ScalingPlanner(settings, ScalingPolicy.PREDICTIVE, 4);
        for (int w = 1; w <= 5; w++) {
            original.onWindow(new ScalingPlanner.Window(w * W, 200, w == 3 ? 80 : 50, 4, 10, new double[] {200}, 10));
        }
        // through Avro's binary form, as a checkpoint keeps it
        var writer = new org.apache.avro.specific.SpecificDatumWriter<>(io.keyshift.avro.ScalingPlannerState.class);
        var bytes = new java.io.ByteArrayOutputStream();
        var encoder = org.apache.avro.io.EncoderFactory.get().binaryEncoder(bytes, null);
        writer.write(original.toState(), encoder);
        encoder.flush();
        var reader = new org.apache.avro.specific.SpecificDatumReader<>(io.keyshift.avro.ScalingPlannerState.class);
        io.keyshift.avro.ScalingPlannerState read = reader.read(null,
                org.apache.avro.io.DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
        ScalingPlanner restored = ScalingPlanner.fromState(settings, ScalingPolicy.PREDICTIVE, read);
        assertThat(restored.imbalanceFor(7 * W)).isEqualTo(original.imbalanceFor(7 * W)).isCloseTo(1.6,
                org.assertj.core.data.Offset.offset(1e-9));
        ScalingPlanner.Window next = new ScalingPlanner.Window(6 * W, 200, 50, 4, 10, new double[] {250}, 10);
        assertThat(restored.onWindow(next)).isEqualTo(original.onWindow(next)).isNotNull();
        // restored without a season, the season's history is dropped: only the recent imbalance of the 5 windows
        // written is left, (80 x 4 + 4 x 50 x 4) / (5 x 200)
        ScalingPlanner.Settings noSeason = new ScalingPlanner.Settings(100, 0.75, 0.90, 0.60, 1, 16, 128, 0, 100);
        assertThat(ScalingPlanner.fromState(noSeason, ScalingPolicy.PREDICTIVE, read).imbalanceFor(7 * W))
                .isCloseTo(1.12, org.assertj.core.data.Offset.offset(1e-9));
    }
}
