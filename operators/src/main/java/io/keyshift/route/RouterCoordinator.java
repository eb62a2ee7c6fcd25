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
 * router subtask attempt that is ready and has announced itself ({@link RouterReady}), and the last ones (oldest
 * first) to an attempt when it becomes both; answers a router's {@link PlanRequest} (a long poll) with the plan that
 * follows the one it has. Holds no state: a restored router keeps its own plan in its operator state and the planner
 * publishes every plan it kept again, oldest first. A subtask restored as finished never announces itself and gets no plan.
 */
public final class RouterCoordinator implements OperatorCoordinator, CoordinationRequestHandler {
    private final Context context;
    private final String storeKey;
    private final Map<Integer, SubtaskGateway> gateways = new HashMap<>();
    /** Per subtask, the attempt that announced itself ({@link RouterReady}). */
    private final Map<Integer, Integer> announced = new HashMap<>();
    private final Consumer<byte[]> forward = this::forward;
    /** An open long poll: the asking subtask (-1: unknown), the version it knows, and the answer. */
    private record Poll(int subtask, long knownVersion, CompletableFuture<CoordinationResponse> answer) {}

    /**
     * Open long polls. A subtask's newer poll supersedes its older one (the router gave that one up after the RPC
     * timeout), and a failed or reset subtask's polls go with it, so polls do not pile up during a long wait.
     */
    private final List<Poll> polls = new ArrayList<>();
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

    /** True if subtask's ready gateway is the attempt that announced itself. */
    private boolean takesPlans(int subtask) {
        SubtaskGateway g = gateways.get(subtask);
        Integer attempt = announced.get(subtask);
        return g != null && attempt != null && g.getExecution().getAttemptNumber() == attempt;
    }

    private void sendHistory(int subtask) {
        if (channel != null && takesPlans(subtask)) {
            SubtaskGateway g = gateways.get(subtask);
            for (byte[] plan : channel.history()) {
                g.sendEvent(PlanEvent.ofBytes(plan));
            }
        }
    }

    private void forward(byte[] plan) {
        for (Map.Entry<Integer, SubtaskGateway> g : gateways.entrySet()) {
            if (takesPlans(g.getKey())) {
                g.getValue().sendEvent(PlanEvent.ofBytes(plan));
            }
        }
        // one response per version, however many polls it answers
        Map<Long, CoordinationResponse> responses = new HashMap<>();
        polls.removeIf(p -> {
            Map.Entry<Long, byte[]> next = channel.after(p.knownVersion());
            if (next != null) {
                p.answer().complete(responses.computeIfAbsent(next.getKey(),
                        v -> PlanRequest.response(v, next.getValue())));
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
            if (r.subtask() >= 0) {
                dropPolls(r.subtask());
            }
            polls.add(new Poll(r.subtask(), r.knownVersion(), answer));
        }
        return answer;
    }

    /** Forgets the open polls of {@code subtask}: superseded, or their attempt is gone. */
    private void dropPolls(int subtask) {
        polls.removeIf(p -> {
            if (p.subtask() == subtask) {
                p.answer().completeExceptionally(new IllegalStateException("plan request superseded"));
                return true;
            }
            return false;
        });
    }

    /** Open long polls (for tests). */
    int openPolls() {
        return polls.size();
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.unsubscribe(forward);
        }
    }

    @Override
    public void handleEventFromOperator(int subtask, int attemptNumber, OperatorEvent event) {
        if (event instanceof RouterReady) {
            announced.put(subtask, attemptNumber);
            sendHistory(subtask);
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
        gateways.clear();
        announced.clear();
        polls.clear();
    }

    @Override
    public void subtaskReset(int subtask, long checkpointId) {
        gateways.remove(subtask);
        announced.remove(subtask);
        dropPolls(subtask);
    }

    @Override
    public void executionAttemptFailed(int subtask, int attemptNumber, @Nullable Throwable reason) {
        SubtaskGateway g = gateways.get(subtask);
        if (g != null && g.getExecution().getAttemptNumber() == attemptNumber) {
            gateways.remove(subtask);
        }
        if (Integer.valueOf(attemptNumber).equals(announced.get(subtask))) {
            announced.remove(subtask);
        }
        dropPolls(subtask);
    }

    @Override
    public void executionAttemptReady(int subtask, int attemptNumber, SubtaskGateway gateway) {
        gateways.put(subtask, gateway);
        // the attempt may have announced itself first (its open() ran while Flink reported it ready)
        sendHistory(subtask);
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
