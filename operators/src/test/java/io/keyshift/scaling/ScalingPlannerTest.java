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
        ScalingPlanner p = planner(2);
        List<ScalingDecision> out = new ArrayList<>();
        for (int w = 1; w <= 2; w++) {
            assertThat(p.onWindow(w * W, 100, 5)).isNull(); // 25 of 100 per subtask, quiet but only 2 windows
        }
        ScalingDecision in = p.onWindow(3 * W, 100, 5);
        assertThat(in.getKind()).isEqualTo(ScalingKind.SCALE_IN);
        assertThat(in.getToParallelism()).isEqualTo(2); // 100 / 2 = 50 <= 75, a divisor
        // a surge right after: the cooldown (2 windows) holds the decision back, then it scales out
        assertThat(p.onWindow(4 * W, 400, 5)).isNull();
        assertThat(p.onWindow(5 * W, 400, 5)).isNull();
        ScalingDecision outAgain = p.onWindow(6 * W, 400, 5);
        assertThat(outAgain.getKind()).isEqualTo(ScalingKind.SCALE_OUT);
        assertThat(outAgain.getFromParallelism()).isEqualTo(2);
        assertThat(outAgain.getToParallelism()).isEqualTo(6);
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
}
