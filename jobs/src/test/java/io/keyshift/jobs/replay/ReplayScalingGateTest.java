package io.keyshift.jobs.replay;

import io.keyshift.avro.ScalingDecision;
import io.keyshift.avro.ScalingKind;
import io.keyshift.avro.ScalingPolicy;

import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The replay's lockstep gate moves its bound one window per watermark, stays shut on the actuated policy's decision
 * until released, and its follower hands the job's decisions and watermarks to it.
 */
class ReplayScalingGateTest {

    private static ScalingDecision decision(ScalingPolicy policy, long windowEnd) {
        return ScalingDecision.newBuilder().setWindowEnd(windowEnd).setPolicy(policy).setKind(ScalingKind.SCALE_OUT)
                .setFromParallelism(2).setToParallelism(3).setCapacity(10).setLoad(30).setUtilizationBefore(1.5)
                .setUtilizationAfter(1.0).setReason("test").build();
    }

    @Test
    void boundMovesOneWindowPerWatermarkAndStaysShutOnTheActuatedPolicysDecisionUntilReleased() {
        ReplayScalingGate.Gate g = ReplayScalingGate.create("gate-test-1", 10, ScalingPolicy.PREDICTIVE, 3);
        try {
            assertThat(g.bound()).isEqualTo(10);
            CompletableFuture<Void> waiting = g.whenPast(10);
            assertThat(waiting).isNotDone();
            assertThat(g.whenPast(9)).isDone();     // already past
            g.onWatermark(8);                       // window [0, 10) not closed yet
            assertThat(waiting).isNotDone();
            assertThat(g.bound()).isEqualTo(10);
            g.onWatermark(9);                       // closed: next window
            assertThat(waiting).isDone();
            assertThat(g.bound()).isEqualTo(20);

            g.onDecision(decision(ScalingPolicy.REACTIVE, 20));   // not the actuated policy: ignored
            assertThat(g.pending()).isNull();
            g.onDecision(decision(ScalingPolicy.PREDICTIVE, 20));
            CompletableFuture<Void> shut = g.whenPast(20);
            g.onWatermark(19);
            assertThat(g.pending()).isNotNull();
            assertThat(g.pending().getWindowEnd()).isEqualTo(20);
            assertThat(g.bound()).isEqualTo(20);
            assertThat(shut).isNotDone();
            g.onWatermark(25);                      // still shut, however far the watermark goes
            assertThat(g.bound()).isEqualTo(20);
            g.release();
            assertThat(g.pending()).isNull();
            assertThat(g.bound()).isEqualTo(30);    // the highest watermark seen (25) is in [20, 30)
            assertThat(shut).isDone();

            g.onWatermark(57);                      // a jump over empty windows
            assertThat(g.bound()).isEqualTo(60);
            g.onWatermark(40);                      // watermarks never go back
            assertThat(g.bound()).isEqualTo(60);
            g.onWatermark(Long.MAX_VALUE);          // end of input
            assertThat(g.bound()).isEqualTo(Long.MAX_VALUE);
            assertThat(ReplayScalingGate.get("gate-test-1")).isSameAs(g);
        } finally {
            ReplayScalingGate.remove("gate-test-1");
        }
        assertThat(ReplayScalingGate.get("gate-test-1")).isNull();
        assertThat(ReplayScalingGate.get(null)).isNull();
    }

    /**
     * Two decisions before the driver acts (a watermark that closes a run of empty windows at once): each is applied
     * in turn, the gate shut until the last is (the last one replaced the first: one was lost or left out).
     */
    @Test
    void decisionsThatComeTogetherAreAppliedInTurn() {
        ReplayScalingGate.Gate g = ReplayScalingGate.create("gate-test-5", 10, ScalingPolicy.PREDICTIVE, 0);
        try {
            ScalingDecision first = decision(ScalingPolicy.PREDICTIVE, 10);
            g.onDecision(first);
            assertThat(g.pending()).isSameAs(first);
            ScalingDecision second = decision(ScalingPolicy.PREDICTIVE, 50);
            g.onDecision(second);
            g.onWatermark(59);
            assertThat(g.pending()).as("the driver applies the first first").isSameAs(first);
            g.release();
            assertThat(g.pending()).isSameAs(second);
            assertThat(g.bound()).as("shut until the second is applied").isEqualTo(10);
            assertThat(g.passedBeforeRestore(10)).as("the restored readers wait without a record past it").isTrue();
            g.release();
            assertThat(g.passedBeforeRestore(10)).as("the last job's readers may pass it again").isFalse();
            assertThat(g.pending()).isNull();
            assertThat(g.bound()).as("window [50, 60) closed").isEqualTo(70);
        } finally {
            ReplayScalingGate.remove("gate-test-5");
        }
    }

    /**
     * A failover while a decision is queued (Flink's, when a stop-with-savepoint fails): the job, restored from an
     * earlier checkpoint, makes the decision again. Queued twice, it was applied twice (a second stop, a rescale to
     * the parallelism in force).
     */
    @Test
    void aDecisionMadeAgainAfterAFailoverIsQueuedOnce() {
        ReplayScalingGate.Gate g = ReplayScalingGate.create("gate-test-6", 10, ScalingPolicy.PREDICTIVE, 0);
        try {
            ScalingDecision d = decision(ScalingPolicy.PREDICTIVE, 20);
            g.onDecision(d);
            g.onWatermark(19);
            g.onDecision(decision(ScalingPolicy.PREDICTIVE, 20));
            assertThat(g.pending()).isSameAs(d);
            g.release();
            assertThat(g.pending()).isNull();
            g.onDecision(decision(ScalingPolicy.PREDICTIVE, 20));
            assertThat(g.pending()).as("applied already").isNull();
            assertThat(g.bound()).isEqualTo(30);
        } finally {
            ReplayScalingGate.remove("gate-test-6");
        }
    }

    @Test
    void theFirstBoundIsTheEndOfTheFirstEventsWindowAlsoBeforeTheEpoch() {
        try {
            assertThat(ReplayScalingGate.create("gate-test-2", 10, ScalingPolicy.REACTIVE, 10).bound()).isEqualTo(20);
            assertThat(ReplayScalingGate.create("gate-test-2", 10, ScalingPolicy.REACTIVE, -1).bound()).isZero();
            // create replaces a gate of the same id
            ReplayScalingGate.Gate g = ReplayScalingGate.create("gate-test-2", 10, ScalingPolicy.REACTIVE, 0);
            assertThat(ReplayScalingGate.get("gate-test-2")).isSameAs(g);
            // the actuated policy here is REACTIVE
            g.onDecision(decision(ScalingPolicy.PREDICTIVE, 10));
            assertThat(g.pending()).isNull();
            g.onDecision(decision(ScalingPolicy.REACTIVE, 10));
            assertThat(g.pending()).isNotNull();
        } finally {
            ReplayScalingGate.remove("gate-test-2");
        }
        assertThatThrownBy(() -> ReplayScalingGate.create("gate-test-3", 0, ScalingPolicy.PREDICTIVE, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(ReplayScalingGate.get("gate-test-3")).isNull();
    }

    @Test
    void theFollowerHandsTheJobsDecisionsAndWatermarksToItsGate() throws Exception {
        ReplayScalingGate.Gate g = ReplayScalingGate.create("gate-test-4", 10, ScalingPolicy.PREDICTIVE, 0);
        try (var h = new OneInputStreamOperatorTestHarness<ScalingDecision, Void>(
                new ReplayScalingGate.Follower("gate-test-4"), 1, 1, 0)) {
            h.open();
            h.processWatermark(new Watermark(9));
            assertThat(g.bound()).isEqualTo(20);
            h.processElement(decision(ScalingPolicy.PREDICTIVE, 20), 19);
            assertThat(g.pending()).isNotNull();
            h.processWatermark(new Watermark(19));
            assertThat(g.bound()).isEqualTo(20);
            g.release();
            assertThat(g.bound()).isEqualTo(30);
            // the follower is a sink for the gate: it emits nothing
            assertThat(h.getOutput()).isEmpty();
        } finally {
            ReplayScalingGate.remove("gate-test-4");
        }
    }

    @Test
    void aFollowerWithoutAGateDoesNothing() throws Exception {
        try (var h = new OneInputStreamOperatorTestHarness<ScalingDecision, Void>(
                new ReplayScalingGate.Follower("no-such-gate"), 1, 1, 0)) {
            h.open();
            h.processElement(decision(ScalingPolicy.PREDICTIVE, 20), 19);
            h.processWatermark(new Watermark(19));
            assertThat(h.getOutput()).isEmpty();
            assertThat(ReplayScalingGate.get("no-such-gate")).isNull();
        }
    }
}
