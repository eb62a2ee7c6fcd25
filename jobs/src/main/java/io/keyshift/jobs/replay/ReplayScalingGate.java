package io.keyshift.jobs.replay;

import io.keyshift.avro.ScalingDecision;
import io.keyshift.avro.ScalingPolicy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The replay's event-time lockstep between the source and the scaling decisions, so that a simulated actuator can
 * apply a decision at the window it was made for. Local (MiniCluster) replays only: source readers and the
 * keyshift's scaling decisions run in the driver's JVM and meet here by id.
 *
 * <p>Readers emit records below {@link Gate#bound()} (plus, per reader, the first record at or past it, which moves
 * the watermark over the bound so the window closes; not again in a job the driver restored while the bound stays
 * shut for a further decision) and then wait. When the scaling operator's watermark passes the
 * bound, the gate moves the bound one window on, unless the actuated policy decided to rescale in the windows that
 * closed: then it stays shut until the driver has rescaled the job (stop-with-savepoint, restore at the new
 * parallelism) and calls {@link Gate#release()}. Windows are aligned to the epoch, {@code windowMillis} long.
 */
public final class ReplayScalingGate {
    private static final Map<String, Gate> GATES = new ConcurrentHashMap<>();

    /** The replay's lockstep gate id (set by replay --scale, never by users). */
    public static final org.apache.flink.configuration.ConfigOption<String> GATE_OPTION =
            org.apache.flink.configuration.ConfigOptions.key("keyshift.scaling.internal.replay-gate")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("Internal, set by replay --scale: the id of the in-JVM gate between the replay "
                            + "source and the scaling decisions.");

    /**
     * Follows the scaling decisions stream of the job (keyshift's public output {@code scalingDecisions()}): hands
     * every decision and every watermark to the gate.
     */
    public static final class Follower
            extends org.apache.flink.streaming.api.operators.AbstractStreamOperator<Void>
            implements org.apache.flink.streaming.api.operators.OneInputStreamOperator<ScalingDecision, Void> {
        private static final long serialVersionUID = 1L;
        private final String gateId;
        private transient Gate gate;

        public Follower(String gateId) {
            this.gateId = gateId;
        }

        @Override
        public void open() throws Exception {
            super.open();
            gate = get(gateId);
        }

        @Override
        public void processElement(org.apache.flink.streaming.runtime.streamrecord.StreamRecord<ScalingDecision> r) {
            if (gate != null) {
                gate.onDecision(r.getValue());
            }
        }

        @Override
        public void processWatermark(org.apache.flink.streaming.api.watermark.Watermark mark) {
            if (gate != null) {
                gate.onWatermark(mark.getTimestamp());
            }
        }
    }

    private ReplayScalingGate() {}

    /** Creates (or replaces) the gate {@code id}; its first bound is the first window end after {@code firstEvent}. */
    public static Gate create(String id, long windowMillis, ScalingPolicy actuated, long firstEvent) {
        Gate g = new Gate(windowMillis, actuated, firstEvent);
        GATES.put(id, g);
        return g;
    }

    /** The gate {@code id}, or null (not a lockstep replay). */
    public static Gate get(String id) {
        return id == null ? null : GATES.get(id);
    }

    public static void remove(String id) {
        GATES.remove(id);
    }

    /** One replay run's gate. Thread-safe. */
    public static final class Gate {
        private final long windowMillis;
        private final ScalingPolicy actuated;
        private long bound;
        private long watermark = Long.MIN_VALUE;
        /**
         * The actuated policy's decisions the driver has not applied yet, in the order made: several come at once
         * where the profiler closes a run of empty windows with one watermark (a night of hourly windows), and
         * each is applied in turn (keeping only the last, a decision could be lost, the driver having read the
         * one before it, or left out of the rescales).
         */
        private final java.util.ArrayDeque<ScalingDecision> pending = new java.util.ArrayDeque<>();
        /** The bound the readers passed before the driver's last restore that left it shut (see release). */
        private long passedBeforeRestore = Long.MIN_VALUE;
        /** The window end of the latest decision queued (applied or not). */
        private long lastQueuedEnd = Long.MIN_VALUE;
        private final List<CompletableFuture<Void>> waiters = new ArrayList<>();

        Gate(long windowMillis, ScalingPolicy actuated, long firstEvent) {
            if (windowMillis <= 0) {
                throw new IllegalArgumentException("windowMillis must be > 0, was " + windowMillis);
            }
            this.windowMillis = windowMillis;
            this.actuated = actuated;
            this.bound = nextWindowEnd(firstEvent);
        }

        private long nextWindowEnd(long t) {
            return Math.floorDiv(t, windowMillis) * windowMillis + windowMillis;
        }

        /** Records with event time below this may be emitted (ms). */
        public synchronized long bound() {
            return bound;
        }

        /** A future completed when the bound moves past {@code bound}. */
        public synchronized CompletableFuture<Void> whenPast(long bound) {
            if (this.bound > bound) {
                return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<Void> f = new CompletableFuture<>();
            waiters.add(f);
            return f;
        }

        /**
         * A decision of the job's scaling operator; queued if it is the actuated policy's and later than every
         * decision queued: after a failover while one is queued (Flink's, when a stop-with-savepoint fails) the job
         * restored from an earlier checkpoint makes that decision again, and queued twice it was applied twice (a
         * second stop and a rescale to the same parallelism).
         */
        public synchronized void onDecision(ScalingDecision d) {
            if (d.getPolicy() == actuated && d.getWindowEnd() > lastQueuedEnd) {
                lastQueuedEnd = d.getWindowEnd();
                pending.add(d);
            }
        }

        /** The scaling operator's watermark. */
        public synchronized void onWatermark(long wm) {
            watermark = Math.max(watermark, wm);
            if (pending.isEmpty()) {
                advance();
            }
        }

        /** The decision the driver must apply now (the earliest not applied), or null. */
        public synchronized ScalingDecision pending() {
            return pending.peek();
        }

        /**
         * The driver has applied the pending decision: forget it, and open the gate again unless a later decision
         * waits to be applied.
         */
        public synchronized void release() {
            pending.poll();
            if (pending.isEmpty()) {
                // the last job at its final parallelism: its readers' record past the bound may move the watermark
                passedBeforeRestore = Long.MIN_VALUE;
                advance();
            } else {
                // the job restored now finds the bound shut: its readers (new ones) must not each emit a record past
                // it again, which the next decision's stop would have run at this intermediate parallelism
                passedBeforeRestore = bound;
            }
        }

        /**
         * Whether the readers of an earlier job of this run already emitted their record past {@code bound}, and the
         * driver restored the job with the bound still shut (a further decision to apply): the restored readers wait
         * without one.
         */
        public synchronized boolean passedBeforeRestore(long bound) {
            return passedBeforeRestore == bound;
        }

        private void advance() {
            if (watermark == Long.MAX_VALUE) {
                bound = Long.MAX_VALUE;
            } else if (watermark + 1 >= bound) {
                bound = nextWindowEnd(watermark + 1);
            } else {
                return;
            }
            for (CompletableFuture<Void> f : waiters) {
                f.complete(null);
            }
            waiters.clear();
        }
    }
}
