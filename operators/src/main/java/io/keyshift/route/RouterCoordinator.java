package io.keyshift.route;

import io.keyshift.plan.PlanChannel;
import io.keyshift.plan.PlanEvent;

import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;

import javax.annotation.Nullable;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The router's operator coordinator: forwards every plan published on the stage's {@link PlanChannel} to every
 * router subtask, and the last one to a subtask (attempt) that becomes ready. Holds no state: a restored router keeps
 * its own plan in its operator state and the planner publishes its restored plan again.
 */
public final class RouterCoordinator implements OperatorCoordinator {
    private final Context context;
    private final String storeKey;
    private final Map<Integer, SubtaskGateway> gateways = new HashMap<>();
    private final Consumer<byte[]> forward = this::forward;
    private PlanChannel channel;

    RouterCoordinator(Context context, String storeKey) {
        this.context = context;
        this.storeKey = storeKey;
    }

    @Override
    public void start() {
        channel = (PlanChannel) context.getCoordinatorStore().compute(storeKey,
                (k, v) -> v == null ? new PlanChannel() : v);
        channel.subscribe(forward);
    }

    private void forward(byte[] plan) {
        for (SubtaskGateway g : gateways.values()) {
            g.sendEvent(PlanEvent.ofBytes(plan));
        }
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.unsubscribe(forward);
        }
    }

    @Override
    public void handleEventFromOperator(int subtask, int attemptNumber, OperatorEvent event) {}

    @Override
    public void checkpointCoordinator(long checkpointId, CompletableFuture<byte[]> result) {
        result.complete(new byte[0]);
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {}

    @Override
    public void resetToCheckpoint(long checkpointId, @Nullable byte[] checkpointData) {
        gateways.clear();
    }

    @Override
    public void subtaskReset(int subtask, long checkpointId) {
        gateways.remove(subtask);
    }

    @Override
    public void executionAttemptFailed(int subtask, int attemptNumber, @Nullable Throwable reason) {
        SubtaskGateway g = gateways.get(subtask);
        if (g != null && g.getExecution().getAttemptNumber() == attemptNumber) {
            gateways.remove(subtask);
        }
    }

    @Override
    public void executionAttemptReady(int subtask, int attemptNumber, SubtaskGateway gateway) {
        gateways.put(subtask, gateway);
        byte[] latest = channel == null ? null : channel.latest();
        if (latest != null) {
            gateway.sendEvent(PlanEvent.ofBytes(latest));
        }
    }

    /** Creates the coordinator of one router operator. */
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
            return new RouterCoordinator(context, storeKey);
        }
    }
}
