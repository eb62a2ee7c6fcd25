package io.keyshift.plan;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Carries routing-plan versions from the planner's operator coordinator to the router's, on the JobManager: one
 * channel per keyshift stage, kept in the job's {@link org.apache.flink.runtime.operators.coordination.CoordinatorStore}
 * under {@link #storeKey}. Flink calls every coordinator method in the JobManager's main thread, so the channel is
 * used by one thread at a time; its methods are synchronized anyway.
 *
 * <p>Why plans travel this way, not as a broadcast stream: a router that read plans from a second input would be a
 * two-input operator, which Flink cannot chain to the user's stream, so every record would cross an extra exchange
 * (serialization, a network buffer, another task). A one-input router chained to the user's stream gets the plans as
 * operator events instead. Delivery order does not matter for correctness: routing is a function of the plan version
 * a record falls under (leases), every plan is self-contained, and the router keeps the newest version it has seen.
 */
public final class PlanChannel {
    private final List<Consumer<byte[]>> listeners = new ArrayList<>();
    private byte[] latest;

    /** The channel of the stage whose operator uids start with {@code uidPrefix}. */
    public static String storeKey(String uidPrefix) {
        return "io.keyshift.plan.PlanChannel/" + uidPrefix;
    }

    /** Publishes a plan (Avro binary) to every listener and keeps it for listeners that come later. */
    public synchronized void publish(byte[] plan) {
        latest = plan;
        for (Consumer<byte[]> l : List.copyOf(listeners)) {
            l.accept(plan);
        }
    }

    /** The last plan published since the last reset, or null. */
    public synchronized byte[] latest() {
        return latest;
    }

    /** Forgets the last plan (the job restores from a checkpoint; the planner publishes its restored plan anew). */
    public synchronized void reset() {
        latest = null;
    }

    public synchronized void subscribe(Consumer<byte[]> listener) {
        listeners.add(listener);
    }

    public synchronized void unsubscribe(Consumer<byte[]> listener) {
        listeners.remove(listener);
    }
}
