package io.keyshift.route;

import io.keyshift.plan.PlanChannel;
import io.keyshift.plan.PlanEvent;
import io.keyshift.plan.PlanRequest;

import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.CoordinationRequest;
import org.apache.flink.runtime.operators.coordination.CoordinationRequestHandler;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;

import javax.annotation.Nullable;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The router's operator coordinator: forwards every plan published on the stage's {@link PlanChannel} to every
 * router subtask, and the last ones (oldest first) to a subtask (attempt) that becomes ready; answers a router's {@link PlanRequest}
 * (a long poll) with the plan that follows the one it has. Holds no state: a restored router keeps its own plan
 * in its operator state and the planner publishes its restored plan again.
 */
public final class RouterCoordinator implements OperatorCoordinator, CoordinationRequestHandler {
    private final Context context;
    private final String storeKey;
    private final Map<Integer, SubtaskGateway> gateways = new HashMap<>();
    private final Consumer<byte[]> forward = this::forward;
    /** Open long polls: the version the router knows, and the answer. */
    private final List<Map.Entry<Long, CompletableFuture<CoordinationResponse>>> polls = new ArrayList<>();
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
        polls.removeIf(p -> {
            Map.Entry<Long, byte[]> next = channel.after(p.getKey());
            if (next != null) {
                p.getValue().complete(PlanRequest.response(next.getKey(), next.getValue()));
                return true;
            }
            return false;
        });
    }

    @Override
    public CompletableFuture<CoordinationResponse> handleCoordinationRequest(CoordinationRequest request) {
        CompletableFuture<CoordinationResponse> answer = new CompletableFuture<>();
        if (!(request instanceof PlanRequest r)) {
            answer.completeExceptionally(new IllegalArgumentException("unknown request " + request));
            return answer;
        }
        Map.Entry<Long, byte[]> next = channel == null ? null : channel.after(r.knownVersion());
        if (next != null) {
            answer.complete(PlanRequest.response(next.getKey(), next.getValue()));
        } else {
            polls.add(Map.entry(r.knownVersion(), answer));
        }
        return answer;
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
        polls.clear();
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
        if (channel != null) {
            for (byte[] plan : channel.history()) {
                gateway.sendEvent(PlanEvent.ofBytes(plan));
            }
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
