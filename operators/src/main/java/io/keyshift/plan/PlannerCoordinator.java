package io.keyshift.plan;

import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;

import javax.annotation.Nullable;

import java.util.concurrent.CompletableFuture;

/**
 * The planner's operator coordinator: publishes every plan the planner subtask sends ({@link PlanEvent}) to the
 * stage's {@link PlanChannel}. Holds no state of its own: after a restore the channel is reset and the planner
 * operator, restored from the same checkpoint, publishes every plan it kept again, oldest first, before any new one
 * (a router restored at an older version, or holding records a rescale handed it, takes them from the version it
 * has).
 */
public final class PlannerCoordinator implements OperatorCoordinator {
    private final Context context;
    private final String storeKey;
    private PlanChannel channel;

    PlannerCoordinator(Context context, String storeKey) {
        this.context = context;
        this.storeKey = storeKey;
    }

    static PlanChannel channel(Context context, String storeKey) {
        return (PlanChannel) context.getCoordinatorStore().compute(storeKey,
                (k, v) -> v == null ? new PlanChannel() : v);
    }

    @Override
    public void start() {
        channel = channel(context, storeKey);
    }

    @Override
    public void close() {}

    @Override
    public void handleEventFromOperator(int subtask, int attemptNumber, OperatorEvent event) {
        if (event instanceof PlanEvent) {
            channel.publish(((PlanEvent) event).bytes(), ((PlanEvent) event).keepFrom());
        }
    }

    @Override
    public void checkpointCoordinator(long checkpointId, CompletableFuture<byte[]> result) {
        result.complete(new byte[0]);
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {}

    @Override
    public void resetToCheckpoint(long checkpointId, @Nullable byte[] checkpointData) {
        if (channel == null) {
            channel = channel(context, storeKey);
        }
        channel.reset();
    }

    @Override
    public void subtaskReset(int subtask, long checkpointId) {
        channel.reset();
    }

    @Override
    public void executionAttemptFailed(int subtask, int attemptNumber, @Nullable Throwable reason) {}

    @Override
    public void executionAttemptReady(int subtask, int attemptNumber, SubtaskGateway gateway) {}

    /** Creates the coordinator of one planner operator. */
    public static final class Provider implements OperatorCoordinator.Provider {
        private static final long serialVersionUID = 1L;
        private final OperatorID operatorId;
        private final String storeKey;

        public Provider(OperatorID operatorId, String storeKey) {
            this.operatorId = operatorId;
            this.storeKey = storeKey;
        }

        @Override
        public OperatorID getOperatorId() {
            return operatorId;
        }

        @Override
        public OperatorCoordinator create(Context context) {
            return new PlannerCoordinator(context, storeKey);
        }
    }
}
