package io.keyshift.scaling;

import io.keyshift.avro.ScalingDecision;
import io.keyshift.avro.ScalingKind;
import io.keyshift.avro.ScalingPolicy;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

class ReplayScalingGateTest {

    private static ScalingDecision decision(ScalingPolicy policy, long windowEnd) {
        return ScalingDecision.newBuilder().setWindowEnd(windowEnd).setPolicy(policy).setKind(ScalingKind.SCALE_OUT)
                .setFromParallelism(2).setToParallelism(3).setCapacity(10).setLoad(30).setUtilizationBefore(1.5)
                .setUtilizationAfter(1.0).setReason("test").build();
    }

    @Test
    void boundMovesOneWindowPerWatermarkAndStaysShutOnTheActuatedPolicysDecisionUntilReleased() {
        ReplayScalingGate.Gate g = ReplayScalingGate.create("t1", 10, ScalingPolicy.PREDICTIVE, 3);
        try {
            assertThat(g.bound()).isEqualTo(10);
            CompletableFuture<Void> waiting = g.whenPast(10);
            assertThat(waiting).isNotDone();
            g.onWatermark(8);                       // window [0, 10) not closed yet
            assertThat(waiting).isNotDone();
            g.onWatermark(9);                       // closed: next window
            assertThat(waiting).isDone();
            assertThat(g.bound()).isEqualTo(20);

            g.onDecision(decision(ScalingPolicy.REACTIVE, 20));   // not the actuated policy: ignored
            assertThat(g.pending()).isNull();
            g.onDecision(decision(ScalingPolicy.PREDICTIVE, 20));
            CompletableFuture<Void> shut = g.whenPast(20);
            g.onWatermark(19);
            assertThat(g.pending()).isNotNull();
            assertThat(g.bound()).isEqualTo(20);
            assertThat(shut).isNotDone();
            g.release();
            assertThat(g.pending()).isNull();
            assertThat(g.bound()).isEqualTo(30);
            assertThat(shut).isDone();

            g.onWatermark(57);                      // a jump over empty windows
            assertThat(g.bound()).isEqualTo(60);
            g.onWatermark(Long.MAX_VALUE);          // end of input
            assertThat(g.bound()).isEqualTo(Long.MAX_VALUE);
            assertThat(ReplayScalingGate.get("t1")).isSameAs(g);
        } finally {
            ReplayScalingGate.remove("t1");
        }
        assertThat(ReplayScalingGate.get("t1")).isNull();
        assertThat(ReplayScalingGate.get(null)).isNull();
    }
}
