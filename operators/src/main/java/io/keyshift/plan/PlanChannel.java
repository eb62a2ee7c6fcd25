package io.keyshift.plan;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Carries routing-plan versions from the planner's operator coordinator to the router's, on the JobManager: one
 * channel per keyshift stage, kept in the job's {@link org.apache.flink.runtime.operators.coordination.CoordinatorStore}
 * under {@link #storeKey}. Flink calls every coordinator method in the JobManager's main thread, so the channel is
 * used by one thread at a time; its methods are synchronized anyway.
 *
 * <p>A router applies plan versions strictly in order (a plan keeps a folded migration for only one more version, so
 * a router that jumped versions could route a record that waited for a lease by a plan that no longer knows the
 * migration the record falls in); the channel therefore keeps the plans the planner keeps (from the oldest version a
 * router routes by), for routers that start late or ask for the next one.
 *
 * <p>Why plans travel this way, not as a broadcast stream: a router that read plans from a second input would be a
 * two-input operator, which Flink cannot chain to the user's stream, so every record would cross an extra exchange
 * (serialization, a network buffer, another task). A one-input router chained to the user's stream gets the plans as
 * operator events instead. Routing stays a function of the input: a record is routed by the plan version whose lease
 * first covers it, whenever that version arrives.
 */
public final class PlanChannel {
    private final List<Consumer<byte[]>> listeners = new ArrayList<>();
    /** The plans published since the last reset that the planner still keeps, by version. */
    private final TreeMap<Long, byte[]> history = new TreeMap<>();

    /** The channel of the stage whose operator uids start with {@code uidPrefix}. */
    public static String storeKey(String uidPrefix) {
        return "io.keyshift.plan.PlanChannel/" + uidPrefix;
    }

    /**
     * Publishes a plan (Avro binary) to every listener and keeps it, with every earlier one from {@code keepFrom} on,
     * for routers that come later or lag behind.
     */
    public synchronized void publish(byte[] plan, long keepFrom) {
        long version = PlanEvent.version(plan);
        history.put(version, plan);
        history.headMap(keepFrom).clear();
        for (Consumer<byte[]> l : List.copyOf(listeners)) {
            l.accept(plan);
        }
    }

    /** The plans kept, oldest first. */
    public synchronized List<byte[]> history() {
        return new ArrayList<>(history.values());
    }

    /** The oldest kept plan with a version above {@code version}, or null. */
    public synchronized Map.Entry<Long, byte[]> after(long version) {
        return history.higherEntry(version);
    }

    /** Forgets the plans (the job restores from a checkpoint; the planner publishes its restored plans anew). */
    public synchronized void reset() {
        history.clear();
    }

    public synchronized void subscribe(Consumer<byte[]> listener) {
        listeners.add(listener);
    }

    public synchronized void unsubscribe(Consumer<byte[]> listener) {
        listeners.remove(listener);
    }
}
