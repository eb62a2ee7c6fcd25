package io.keyshift.route;

import io.keyshift.plan.PlanChannel;
import io.keyshift.plan.PlanEvent;

import org.apache.flink.runtime.executiongraph.ExecutionAttemptID;
import org.apache.flink.runtime.executiongraph.ExecutionGraphID;
import org.apache.flink.runtime.jobgraph.JobVertexID;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.messages.Acknowledge;
import org.apache.flink.runtime.operators.coordination.MockOperatorCoordinatorContext;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
import org.apache.flink.runtime.scheduler.strategy.ExecutionVertexID;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Plans go only to router attempts that are ready and announced themselves: a subtask that Flink restores as finished
 * (its input had ended before the checkpoint) is ready but never opens its router, and a plan sent to it would fail
 * its task ({@code FinishedOperatorChain#dispatchOperatorEvent} throws), restarting the job from the same checkpoint
 * again and again.
 */
class RouterCoordinatorTest {
    /** A subtask gateway that records the plan versions sent to it. */
    private static final class Gateway implements OperatorCoordinator.SubtaskGateway {
        final int subtask;
        final ExecutionAttemptID attempt;
        final List<Long> versions = new ArrayList<>();

        Gateway(int subtask, int attemptNumber) {
            this.subtask = subtask;
            this.attempt = new ExecutionAttemptID(new ExecutionGraphID(),
                    new ExecutionVertexID(new JobVertexID(), subtask), attemptNumber);
        }

        @Override
        public CompletableFuture<Acknowledge> sendEvent(OperatorEvent evt) {
            versions.add(((PlanEvent) evt).plan().getVersion());
            return CompletableFuture.completedFuture(Acknowledge.get());
        }

        @Override
        public ExecutionAttemptID getExecution() {
            return attempt;
        }

        @Override
        public int getSubtask() {
            return subtask;
        }
    }

    private static byte[] plan(long version) {
        return PlanEvent.encode(Plans.plan(version, 1_000 * version, 128));
    }

    private record Started(RouterCoordinator coordinator, PlanChannel channel) {}

    /** A started coordinator of a router stage with uid prefix {@code prefix}, and the stage's plan channel. */
    private static Started start(String prefix) throws Exception {
        OperatorID id = new OperatorID();
        MockOperatorCoordinatorContext context = new MockOperatorCoordinatorContext(id, 2);
        String key = PlanChannel.storeKey(prefix);
        RouterCoordinator coordinator = (RouterCoordinator) new RouterCoordinator.Provider(id, key).create(context);
        coordinator.start();
        return new Started(coordinator, (PlanChannel) context.getCoordinatorStore().get(key));
    }

    @Test
    void onlyAnnouncedAttemptsGetPlansAndAReannouncedAttemptGetsTheHistory() throws Exception {
        Started started = start("test");
        RouterCoordinator coordinator = started.coordinator();
        PlanChannel channel = started.channel();
        channel.publish(plan(1), 0);

        Gateway live = new Gateway(0, 0);
        Gateway finishedOnRestore = new Gateway(1, 0);
        coordinator.executionAttemptReady(0, 0, live);
        coordinator.executionAttemptReady(1, 0, finishedOnRestore);
        assertThat(live.versions).as("ready, not yet announced").isEmpty();

        coordinator.handleEventFromOperator(0, 0, new RouterReady());
        assertThat(live.versions).as("the history once announced").containsExactly(1L);

        channel.publish(plan(2), 0);
        assertThat(live.versions).containsExactly(1L, 2L);
        assertThat(finishedOnRestore.versions).as("never announced: never a plan").isEmpty();

        // an announcement of an earlier attempt does not open the gate for a later one
        coordinator.executionAttemptFailed(0, 0, new RuntimeException("failover"));
        Gateway retry = new Gateway(0, 1);
        coordinator.executionAttemptReady(0, 1, retry);
        channel.publish(plan(3), 0);
        assertThat(retry.versions).isEmpty();
        // the announcement may also come before Flink reports the attempt ready
        coordinator.subtaskReset(0, 7);
        coordinator.handleEventFromOperator(0, 2, new RouterReady());
        Gateway third = new Gateway(0, 2);
        coordinator.executionAttemptReady(0, 2, third);
        assertThat(third.versions).containsExactly(1L, 2L, 3L);
        coordinator.close();
    }

    @Test
    void aSubtasksNewerPollSupersedesItsOlderOneAndAFailedSubtasksPollsGo() throws Exception {
        Started started = start("polls");
        RouterCoordinator coordinator = started.coordinator();
        PlanChannel channel = started.channel();
        // a paced router asks again after each RPC timeout while no plan comes
        var first = coordinator.handleCoordinationRequest(new io.keyshift.plan.PlanRequest(0, 0));
        var second = coordinator.handleCoordinationRequest(new io.keyshift.plan.PlanRequest(0, 0));
        var other = coordinator.handleCoordinationRequest(new io.keyshift.plan.PlanRequest(0, 1));
        assertThat(coordinator.openPolls()).isEqualTo(2);
        assertThat(first).isCompletedExceptionally();
        channel.publish(plan(1), 0);
        assertThat(second).isCompleted();
        assertThat(other).isCompleted();
        assertThat(coordinator.openPolls()).isZero();
        var stale = coordinator.handleCoordinationRequest(new io.keyshift.plan.PlanRequest(1, 1));
        coordinator.executionAttemptFailed(1, 0, new RuntimeException("lost"));
        assertThat(stale).isCompletedExceptionally();
        assertThat(coordinator.openPolls()).isZero();
        coordinator.close();
    }
}
