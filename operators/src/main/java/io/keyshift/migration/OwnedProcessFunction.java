package io.keyshift.migration;

import io.keyshift.route.Envelope;
import io.keyshift.route.KeyCodec;
import io.keyshift.route.Role;
import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.util.FunctionUtils;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Runs a user's {@link KeyedProcessFunction} behind keyshift's routing key. The function sees its own key
 * ({@code getCurrentKey()}), its records, event- and processing-time timers and keyed state, all scoped to the routing
 * key, so a migrating key's old owner (primary) and new owner (shadow) run independently.
 *
 * <p><b>Which output counts</b> (../shared/DESIGN.md, "keyed process functions"): an output made while processing a
 * PRIMARY or MIGRATING copy is authoritative; one made for a SHADOW copy is not. An output of a timer at time
 * {@code t} is authoritative where this key group owns the key at {@code t}: the router's MIGRATE_OUT marker ends
 * the old owner's ownership at the switch-over T1, MIGRATE_IN starts the new owner's there (markers reach the keyed
 * stage before its watermark passes T0). Only authoritative outputs (and side outputs) leave.
 *
 * <p><b>The new owner's first records</b>: a record the new owner owns (at or after the switch-over T1) that comes
 * before its watermark reaches T1 waits in keyed state for keyshift's timer at T1, which fires after every timer of
 * the shadow phase (whose outputs are dropped): a timer that emits and resets what the function gathered (a count per
 * hour, the watermark lagging) would otherwise take such a record along and lose it. The records then go through the
 * function in arrival order, each with its timestamp, before the function's own timer at T1 if it set one. They
 * wait as long as the watermark does (while every input idles, the outputs of a function that emits per record too).
 *
 * <p><b>Validation</b>: outputs at times in {@code [T0 + horizon, T1)}, when the shadow's state is complete, are
 * checksummed on both sides (order-free) and compared by the {@link ShadowValidator} at T1.
 *
 * <p><b>Cleanup</b>: at {@code T1 + horizon} the old owner clears every keyed state the function created for the key
 * ({@link StateTrackingContext}) and from then on no longer calls the function for the key's timers (a horizon later
 * only the cleanup time is kept, for {@link #DEPARTED_TTL} of processing time, for timers still pending). A later stay
 * of the key in the same key group runs under a new epoch of the routing key, so it starts from empty state. The
 * function must keep the horizon it declares: its state
 * never depends on records older than the horizon, and its timers fire within the horizon of what set them.
 *
 * @param <K> the user key type
 * @param <T> the user's record type
 * @param <R> the output type
 */
public final class OwnedProcessFunction<K, T, R> extends KeyedProcessFunction<RoutingKey<K>, Envelope<T, K>, R>
        implements org.apache.flink.streaming.api.checkpoint.CheckpointedFunction,
        org.apache.flink.api.common.state.CheckpointListener {
    private static final long serialVersionUID = 1L;

    private final KeyedProcessFunction<K, T, R> user;
    private final long horizon;
    private final KeyCodec<K> codec;
    private final TypeSerializer<R> resultSerializer;
    private final OutputTag<ResultCheck> checkTag;
    /** The user's record type, for the records a new owner holds (see {@link #held}). */
    private final TypeInformation<T> recordType;
    private transient StateTrackingContext tracking;
    private transient ValueState<KeyOwnership> ownership;
    /** A stay that has left and been cleaned up: its cleanup time (kept {@link #DEPARTED_TTL} in processing time). */
    private transient ValueState<Long> departed;
    /**
     * Records a new owner took for its own (from the switch-over on) while its watermark was still before the
     * switch-over, in arrival order: (event time, late at its router, record). Run through the function at the
     * switch-over's timer, after every timer of the shadow phase has fired (see {@link #processElement}).
     */
    private transient org.apache.flink.api.common.state.ListState<Tuple3<Long, Boolean, T>> held;
    /**
     * Whether the function has an event-time timer at the switch-over of a stay that began with a migration in; null
     * where that is not known (a stay restored from a build before 2026-12-07, which holds no records until the
     * function sets or deletes that timer).
     */
    private transient ValueState<Boolean> timerAtSwitchOver;
    /** Whether the held records are going through the function (see {@link #release}). */
    private transient boolean releasing;
    /**
     * Whether a held record set the function's timer at the switch-over again while they went through it: Flink has
     * queued that timer again (it took it from its queue before it fired), and it fires again at once.
     */
    private transient boolean setAgainInRelease;
    /** The watermark at the last checkpoint, per key group: calls before a restored subtask's first watermark. */
    private transient WatermarkFloor watermarkFloor;

    /**
     * How long (processing time; at least the horizon) a stay that has left remembers it, so that the function's
     * processing-time timers still pending there never emit: a timer of the function must fire within this.
     */
    public static final java.time.Duration DEPARTED_TTL = java.time.Duration.ofDays(7);
    private transient Checksums<R> checksums;
    /** The checksums of the side outputs' values, by the output tag's id (made at a tag's first checked output). */
    private transient java.util.Map<String, Checksums<Object>> sideChecksums;
    /** Records that came to a stay after its state was cleared (see {@link #processElement}). */
    private transient org.apache.flink.metrics.Counter droppedLate;
    /** Event-time timers the function set more than its horizon after the record or timer that set them. */
    private transient org.apache.flink.metrics.Counter timersBeyondHorizon;
    private transient boolean warnedBeyondHorizon;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OwnedProcessFunction.class);

    /**
     * @param horizon the function's state horizon, ms, > 0
     * @param recordType the type of the function's input records
     */
    public OwnedProcessFunction(KeyedProcessFunction<K, T, R> user, long horizon, KeyCodec<K> codec,
                                TypeSerializer<R> resultSerializer, OutputTag<ResultCheck> checkTag,
                                TypeInformation<T> recordType) {
        if (horizon <= 0) {
            throw new IllegalArgumentException("state horizon must be > 0 ms, was " + horizon);
        }
        this.user = user;
        this.horizon = horizon;
        this.codec = codec;
        this.resultSerializer = resultSerializer;
        this.checkTag = checkTag;
        this.recordType = recordType;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        ownership = getRuntimeContext().getState(new ValueStateDescriptor<>("keyshift-ownership",
                TypeInformation.of(KeyOwnership.class)));
        ValueStateDescriptor<Long> departedDescriptor = new ValueStateDescriptor<>("keyshift-departed",
                org.apache.flink.api.common.typeinfo.Types.LONG);
        departedDescriptor.enableTimeToLive(org.apache.flink.api.common.state.StateTtlConfig
                .newBuilder(java.time.Duration.ofMillis(Math.max(DEPARTED_TTL.toMillis(), horizon)))
                .setUpdateType(org.apache.flink.api.common.state.StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(org.apache.flink.api.common.state.StateTtlConfig.StateVisibility.NeverReturnExpired)
                .build());
        departed = getRuntimeContext().getState(departedDescriptor);
        held = getRuntimeContext().getListState(new org.apache.flink.api.common.state.ListStateDescriptor<>(
                "keyshift-held", new org.apache.flink.api.java.typeutils.TupleTypeInfo<Tuple3<Long, Boolean, T>>(
                        org.apache.flink.api.common.typeinfo.Types.LONG,
                        org.apache.flink.api.common.typeinfo.Types.BOOLEAN, recordType)));
        timerAtSwitchOver = getRuntimeContext().getState(new ValueStateDescriptor<>("keyshift-timer-at-switch-over",
                org.apache.flink.api.common.typeinfo.Types.BOOLEAN));
        checksums = new Checksums<>(resultSerializer);
        sideChecksums = new java.util.HashMap<>();
        droppedLate = getRuntimeContext().getMetricGroup().counter(
                io.keyshift.metrics.KeyshiftMetrics.PROCESS_LATE_RECORDS_DROPPED);
        timersBeyondHorizon = getRuntimeContext().getMetricGroup().counter(
                io.keyshift.metrics.KeyshiftMetrics.PROCESS_TIMERS_BEYOND_HORIZON);
        if (tracking == null) {
            tracking = new StateTrackingContext(getRuntimeContext());
        }
        FunctionUtils.setFunctionRuntimeContext(user, tracking);
        FunctionUtils.openFunction(user, openContext);
    }

    /** Keyed states the user's function has created, as tracked for clearing (for tests). */
    int trackedStates() {
        return tracking.size();
    }

    /** Records of a stay dropped after its state was cleared (the metric's count; for tests). */
    long lateRecordsDropped() {
        return droppedLate.getCount();
    }

    /** Event-time timers set beyond the horizon so far (the metric's count; for tests). */
    long timersBeyondHorizon() {
        return timersBeyondHorizon.getCount();
    }

    /**
     * Flink calls this on the stage's own function only: the user's function, if it is a {@code CheckpointedFunction},
     * gets it here (before {@code open}), with its keyed states tracked like those from the runtime context (cleared
     * when the key has left), and its operator state as under {@code keyBy}.
     */
    @Override
    public void initializeState(org.apache.flink.runtime.state.FunctionInitializationContext context)
            throws Exception {
        if (tracking == null) {
            tracking = new StateTrackingContext(getRuntimeContext());
        }
        // as Flink's setup does before initializeState: the function may read its runtime context there
        FunctionUtils.setFunctionRuntimeContext(user, tracking);
        watermarkFloor = WatermarkFloor.initialize(context, getRuntimeContext());
        UserCheckpoints.initialize(user, context, tracking::track);
    }

    @Override
    public void snapshotState(org.apache.flink.runtime.state.FunctionSnapshotContext context) throws Exception {
        watermarkFloor.snapshot();
        UserCheckpoints.snapshot(user, context);
    }

    /**
     * The watermark to judge the current key's call at: the operator's, or after a restore, before the first
     * watermark arrives, the one its key group had reached at the checkpoint (see {@link WatermarkFloor}).
     */
    private long watermark(Context ctx) {
        return watermarkFloor == null ? ctx.timerService().currentWatermark()
                : watermarkFloor.at(ctx.getCurrentKey(), ctx.timerService());
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        if (user instanceof org.apache.flink.api.common.state.CheckpointListener l) {
            l.notifyCheckpointComplete(checkpointId);
        }
    }

    @Override
    public void notifyCheckpointAborted(long checkpointId) throws Exception {
        if (user instanceof org.apache.flink.api.common.state.CheckpointListener l) {
            l.notifyCheckpointAborted(checkpointId);
        }
    }

    @Override
    public void close() throws Exception {
        FunctionUtils.closeFunction(user);
    }

    @Override
    public void processElement(Envelope<T, K> e, Context ctx, Collector<R> out) throws Exception {
        KeyOwnership o = ownership.value();
        long watermark = watermark(ctx);
        if ((e.role == Role.PRIMARY || e.role == Role.MIGRATING) && cleanedUp(o, watermark)) {
            // a record of this stay that comes after its state was cleared (more than a horizon behind the switch-over
            // at this subtask's watermark): run on empty state its output would be wrong, and the new owner, which has
            // the key's state, does not own its time; it is dropped and counted, as a window drops a late record
            droppedLate.inc();
            return;
        }

        switch (e.role) {
            case MIGRATE_IN, SHADOW -> {
                Long cleanedAt = o == null ? departed.value() : null;
                if (cleanedAt != null && e.switchAt < cleanedAt) {
                    // a word of the migration that began a stay which has since left and departed: a router rescaled
                    // after the move on replays the plans it restores from, markers and all. Taken, it would bring
                    // the stay back with no cleanup, and a pending processing-time timer of it would emit beside the
                    // new owner. A later stay here begins at or after the departure (moves are planned from the lease
                    // end, a horizon or more after the move that left)
                    return;
                }
                // the first word of the migration that begins this stay (marker or shadow copy, whichever comes first)
                if (o == null || o.ownedFrom != e.switchAt) {
                    o = o == null ? new KeyOwnership() : o;
                    o.ownedFrom = e.switchAt;
                    o.inShadowFrom = e.shadowFrom;
                    ownership.update(o);
                    present(ctx, o, false);
                    // whether the function sets a timer at the switch-over is known from here on (see held)
                    timerAtSwitchOver.update(false);
                }
                if (e.role == Role.MIGRATE_IN) {
                    return;
                }
            }
            case MIGRATE_OUT, MIGRATING -> {
                boolean marker = e.role == Role.MIGRATE_OUT;
                if (marker && o == null && departed.value() != null) {
                    // the departure marker of a stay that has left and been forgotten, replayed by a router rescaled
                    // after the move (its records are dropped above): taken, it brought the stay back, cleaned up
                    // again, and sent its presence for an interval long compared
                    return;
                }
                boolean first = o == null || o.ownedUntil != e.switchAt;
                if (first || (marker && o.cleanupAt == Long.MIN_VALUE)) {
                    o = o == null ? new KeyOwnership() : o;
                    o.ownedUntil = e.switchAt;
                    o.outShadowFrom = e.shadowFrom;
                    if (marker) {
                        o.cleanupAt = e.switchAt + horizon;
                        ctx.timerService().registerEventTimeTimer(o.cleanupAt);
                    }
                    ownership.update(o);
                    if (first) {
                        present(ctx, o, true);
                    }
                }
                if (marker) {
                    return;
                }
            }
            case PARTIAL -> throw new IllegalStateException("a split key reached a keyed process function; splitting "
                    + "is for window aggregates only");
            default -> { }
        }
        boolean authoritative = e.role != Role.SHADOW;
        long t = ctx.timestamp() == null ? Long.MIN_VALUE : ctx.timestamp();
        if (authoritative && o != null && o.ownedFrom != Long.MIN_VALUE && watermark < o.ownedFrom
                && timerAtSwitchOver.value() != null) {
            // the new owner's own record (from the switch-over on) before its watermark reached the switch-over: timers
            // of the shadow phase are still to fire here, and their outputs are dropped (the old owner emits them). A
            // timer that emits and resets what the function gathered (a count per hour, its watermark lagging) would
            // take this record along and lose it. It waits for the switch-over's timer, which fires after them. (Not
            // in a stay restored from a build before 2026-12-07 in its shadow phase: whether the function has a timer
            // at the switch-over is not known there, and keyshift's would be taken for it, or it for keyshift's)
            held.add(Tuple3.of(t, e.late, e.value));
            ctx.timerService().registerEventTimeTimer(o.ownedFrom);
            return;
        }
        Outputs outputs = new Outputs(ctx, out, authoritative, t, o, ctx.getCurrentKey(), e.late);
        if (authoritative) {
            user.processElement(e.value, userContext(ctx, outputs, t, o, Long.MAX_VALUE, ctx.timestamp()), outputs);
        } else {
            boolean before = ShadowScope.enter(true);
            try {
                user.processElement(e.value, userContext(ctx, outputs, t, o, shadowWatermarkCap(t, o), ctx.timestamp()),
                        outputs);
            } finally {
                ShadowScope.exit(before);
            }
        }
        outputs.check(ctx);
    }

    /**
     * A side's presence in its migration's comparison, sent once, at the migration's first word here: a check of no
     * output, so that a side that emits nothing in the compared interval where the other emits is a MISMATCH naming
     * both key groups (which on-mismatch REVERT acts on), not the other side missing. Calls in the interval send
     * checks only where they emit (or take a late copy). Nothing where the migration compares nothing (not
     * validated) or the interval is behind this subtask's watermark (a plan replayed after a restore).
     */
    private void present(Context ctx, KeyOwnership o, boolean authoritative) throws Exception {
        long shadowFrom = authoritative ? o.outShadowFrom : o.inShadowFrom;
        long end = authoritative ? o.ownedUntil : o.ownedFrom;
        if (shadowFrom == Long.MIN_VALUE || shadowFrom > Long.MAX_VALUE - horizon || shadowFrom + horizon >= end
                || watermark(ctx) >= end - 1) {
            return;
        }
        ctx.output(checkTag, resultCheck(ctx.getCurrentKey(), authoritative, o, 0L, 0, false));
    }

    /** A check of {@code results} outputs summing to {@code checksum} in the key's compared interval on one side. */
    private ResultCheck resultCheck(RoutingKey<K> key, boolean authoritative, KeyOwnership o, long checksum,
                                    int results, boolean lateRecord) {
        ResultCheck rc = new ResultCheck();
        rc.key = codec.id(key.key);
        rc.start = (authoritative ? o.outShadowFrom : o.inShadowFrom) + horizon;
        rc.end = authoritative ? o.ownedUntil : o.ownedFrom;
        rc.compareAt = rc.end - 1;
        rc.shadow = !authoritative;
        rc.keyGroup = key.keyGroup;
        rc.checksum = checksum;
        rc.results = results;
        rc.additive = true;
        rc.lateRecord = lateRecord;
        return rc;
    }

    /**
     * The checksums of a side output's values: by its type's serializer, or by their text where no serializer can be
     * made for it ({@code pipeline.generic-types: false} and a generic type: Flink never serializes a side output no
     * one reads, so the job runs under keyBy, and the check must not fail it).
     */
    @SuppressWarnings("unchecked")
    private Checksums<Object> sideChecksums(OutputTag<?> tag) {
        try {
            return new Checksums<>((org.apache.flink.api.common.typeutils.TypeSerializer<Object>) getRuntimeContext()
                    .createSerializer(tag.getTypeInfo()));
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(OwnedProcessFunction.class).warn("keyshift: no serializer for the side "
                    + "output '{}' ({}): shadow checks compare its values by their toString()", tag.getId(), e.toString());
            return Checksums.byText();
        }
    }

    /** Whether the stay's state was cleared: its cleanup time passed, or it has departed (its record is gone). */
    private boolean cleanedUp(KeyOwnership o, long watermark) throws Exception {
        if (o != null) {
            return o.cleanupAt != Long.MIN_VALUE && watermark >= o.cleanupAt;
        }
        return departed.value() != null;
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<R> out) throws Exception {
        KeyOwnership o = ownership.value();

        // a processing-time timer is placed in event time by the current watermark (after a restore, before the first
        // watermark, by the one at the checkpoint: Flink restores no watermark, and overdue timers fire at once)
        boolean eventTime = ctx.timeDomain() == TimeDomain.EVENT_TIME;
        long watermark = watermark(ctx);
        long at = eventTime ? timestamp : watermark;
        if (o != null && o.cleanupAt != Long.MIN_VALUE && at >= o.cleanupAt) {
            if (eventTime && timestamp == o.cleanupAt) {
                // the key left a horizon ago: its state goes; its remaining timers (set within a horizon of a record
                // or timer before the switch-over, so none later than another horizon) drain without the function
                tracking.clearAll();
                held.clear();
                timerAtSwitchOver.clear();
                // a timer at the end of time (a flush at the end of the input) is owned wherever the key goes: the
                // new owner has its own once the function ran there for a record of the key (a key without a record
                // from the shadow phase on has none there, and its flush is lost: README, "Known limitations").
                // Left here it was kept for the job's life, one per move out, and fired on the cleared state once the
                // departure was forgotten (its TTL), beside the new owner's flush
                ctx.timerService().deleteEventTimeTimer(Long.MAX_VALUE);
                ctx.timerService().registerEventTimeTimer(o.cleanupAt + horizon);
            } else if (eventTime && timestamp >= o.cleanupAt + horizon) {
                // the stay's record goes; what is left of it is when it was cleaned up, so that a processing-time
                // timer of the function that fires later still belongs to a stay that has left (in a replay event
                // time runs far ahead of the wall clock, and a "now + 1 h" timer fires many horizons later); at or
                // after a horizon past the cleanup: the timer that forgets was set with the horizon in force then,
                // which a restore may have shortened
                departed.update(o.cleanupAt);
                ownership.clear();
                // (also here: a stay cleaned up by a build before 2026-12-07 kept its timer at the end of time)
                ctx.timerService().deleteEventTimeTimer(Long.MAX_VALUE);
            } else if (eventTime) {
                // a timer between the cleanup and a horizon after it: the one that forgets is set again (a no-op
                // unless a restore lengthened the horizon after it was set, earlier than this)
                ctx.timerService().registerEventTimeTimer(o.cleanupAt + horizon);
            }
            return;
        }
        if (o == null) {
            Long cleanedAt = departed.value();
            if (cleanedAt != null && at >= cleanedAt) {
                return;
            }
        }
        if (eventTime && o != null && timestamp == o.ownedFrom && o.ownedFrom != Long.MIN_VALUE) {
            boolean released = release(ctx, out, o);
            boolean functions = Boolean.TRUE.equals(timerAtSwitchOver.value());
            if (functions) {
                timerAtSwitchOver.update(false);
            }
            if (released && (!functions || setAgainInRelease)) {
                // the timer was keyshift's alone, or a held record set the function's again, which fires at once
                // (one call, as under keyBy, where the record came before the timer fired)
                return;
            }
        }
        // a processing-time timer's output is judged at the current watermark and never compared
        boolean authoritative = o == null || o.owns(at);
        Outputs outputs = new Outputs(ctx, out, authoritative, eventTime ? timestamp : Long.MIN_VALUE, o,
                ctx.getCurrentKey(), false);
        long cap = authoritative ? Long.MAX_VALUE : shadowWatermarkCap(at, o);
        if (eventTime && inShadowPhase(timestamp, o, authoritative)) {
            // both owners show a timer of the shadow phase the watermark at its own time: each subtask's watermark
            // rises in steps of its own (its channels' watermarks arrive interleaved differently), and a function
            // that emits what it buffered up to the current watermark (a sort buffer) would otherwise emit the same
            // records from different timers at each owner, and the shadow check report a mismatch
            cap = Math.min(cap, timestamp);
        } else if (eventTime && authoritative && o != null && o.outShadowFrom != Long.MIN_VALUE
                && timestamp < o.outShadowFrom && o.outShadowFrom <= Long.MAX_VALUE - horizon) {
            // the old owner's timer from before the shadow phase: shown a watermark that jumped past the compared
            // interval [T0 + horizon, T1) in one step, it would take the records there along at its own time, outside
            // the interval, while the new owner emits them from their own timers (a false mismatch)
            cap = Math.min(cap, o.outShadowFrom + horizon - 1);
        }
        boolean before = ShadowScope.enter(!authoritative);
        try {
            user.onTimer(timestamp, userTimerContext(ctx, outputs, eventTime ? timestamp : Long.MIN_VALUE, o, cap),
                    outputs);
        } finally {
            ShadowScope.exit(before);
        }
        outputs.check(ctx);
    }

    /**
     * Runs the records the stay held (see {@link #held}) through the function, in arrival order, at its switch-over's
     * timer: the watermark has reached the switch-over, every timer of the shadow phase has fired. Each call sees
     * its record's timestamp, and its outputs carry it; its side outputs carry the switch-over's (Flink stamps a
     * timer's side outputs with the timer's time), and a watermark just before the switch-over (they came before it).
     * Before the function's own timer of that time, if it has one: the records came before the watermark, as under
     * keyBy.
     *
     * @return whether any record was held
     */
    private boolean release(OnTimerContext ctx, Collector<R> out, KeyOwnership o) throws Exception {
        Iterable<Tuple3<Long, Boolean, T>> records = held.get();
        if (records == null) {
            return false;
        }
        java.util.List<Tuple3<Long, Boolean, T>> taken = new java.util.ArrayList<>();
        records.forEach(taken::add);
        if (taken.isEmpty()) {
            return false;
        }
        held.clear();
        setAgainInRelease = false;
        releasing = true;
        @SuppressWarnings("unchecked")
        org.apache.flink.streaming.api.operators.TimestampedCollector<R> stamped =
                out instanceof org.apache.flink.streaming.api.operators.TimestampedCollector<?> c
                        ? (org.apache.flink.streaming.api.operators.TimestampedCollector<R>) c : null;
        try {
            for (Tuple3<Long, Boolean, T> r : taken) {
                long t = r.f0;
                if (stamped != null) {
                    if (t == Long.MIN_VALUE) {
                        stamped.eraseTimestamp();
                    } else {
                        stamped.setAbsoluteTimestamp(t);
                    }
                }
                Outputs outputs = new Outputs(ctx, out, true, t, o, ctx.getCurrentKey(), r.f1);
                // the watermark the record came at was before the switch-over: a function that judges lateness by
                // it sees the record on time, as it was
                user.processElement(r.f2, userContext(ctx, outputs, t, o, o.ownedFrom - 1,
                        t == Long.MIN_VALUE ? null : t), outputs);
                outputs.check(ctx);
            }
        } finally {
            releasing = false;
        }
        if (stamped != null) {
            stamped.setAbsoluteTimestamp(o.ownedFrom);
        }
        return true;
    }

    /** Collects the user's outputs of one call: forwards authoritative ones, checksums those in the checked interval. */
    private final class Outputs implements Collector<R> {
        private final KeyedProcessFunction<RoutingKey<K>, Envelope<T, K>, R>.Context ctx;
        private final Collector<R> out;
        final boolean authoritative;
        private final boolean checked;
        private final KeyOwnership o;
        private final RoutingKey<K> key;
        private final long time;
        /** Whether the call takes a shadow phase's copy of a record that was late at its router. */
        private final boolean lateRecord;
        /** A call before the compared interval whose late record marks the comparison (no output compared). */
        private final boolean marksLate;
        private long sum;
        private int n;

        Outputs(KeyedProcessFunction<RoutingKey<K>, Envelope<T, K>, R>.Context ctx, Collector<R> out,
                boolean authoritative, long time, KeyOwnership o, RoutingKey<K> key, boolean lateRecord) {
            this.ctx = ctx;
            this.lateRecord = lateRecord;
            this.out = out;
            this.authoritative = authoritative;
            this.o = o;
            this.key = key;
            this.time = time;
            // the shadow's state is complete from T0 + horizon; compare until the switch-over
            this.checked = o != null && time != Long.MIN_VALUE && (authoritative
                    ? o.outShadowFrom != Long.MIN_VALUE && time >= o.outShadowFrom + horizon && time < o.ownedUntil
                    : o.inShadowFrom != Long.MIN_VALUE && time >= o.inShadowFrom + horizon && time < o.ownedFrom);
            // a late copy before the compared interval changes the state the interval's calls see, in an order
            // each owner's watermark decides: it marks the comparison too (where there is one: a migration that is
            // not validated has none)
            this.marksLate = lateRecord && !checked && o != null && time != Long.MIN_VALUE && (authoritative
                    ? o.outShadowFrom != Long.MIN_VALUE && o.outShadowFrom + horizon < o.ownedUntil
                    && time < o.ownedUntil
                    : o.inShadowFrom != Long.MIN_VALUE && o.inShadowFrom + horizon < o.ownedFrom && time < o.ownedFrom);
        }

        @Override
        public void collect(R r) {
            if (checked) {
                sum += Checksums.unordered(checksums.of(r), time);
                n++;
            }
            if (authoritative) {
                out.collect(r);
            }
        }

        @Override
        public void close() {}

        <X> void output(OutputTag<X> tag, X value) {
            if (checked) {
                // compared as the main output's are, the tag's id mixed in (a value sent to another output is
                // another result)
                Checksums<Object> c = sideChecksums.computeIfAbsent(tag.getId(), id -> sideChecksums(tag));
                sum += Checksums.unordered(c.of(value) ^ Checksums.text(tag.getId()), time);
                n++;
            }
            if (authoritative) {
                ctx.output(tag, value);
            }
        }

        /**
         * Sends the call's check where it emitted in the compared interval, or took a copy that was late at its router:
         * such a record marks the interval as one the owners may judge differently (each by its own watermark: one
         * fires a timer before the record, the other after), as a window holding one is, also where the call emits
         * nothing (each side's presence is sent once, by {@link #present}).
         */
        void check(KeyedProcessFunction<RoutingKey<K>, Envelope<T, K>, R>.Context c) {
            if (!(checked && (n > 0 || lateRecord)) && !marksLate) {
                return;
            }
            c.output(checkTag, resultCheck(key, authoritative, o, sum, n, lateRecord));
        }
    }

    /**
     * The timer service the function sees: Flink's, which also counts (metric {@code keyshiftTimersBeyondHorizon})
     * and logs once an event-time timer set more than the declared horizon after the record or timer that sets it
     * (its output may be lost around a migration: README, "Keyed process functions"), and which keeps keyshift's own
     * cleanup timers when the function deletes a timer of the same time (Flink keeps one timer per key and time).
     */
    private final class Timers implements TimerService {
        private final TimerService timers;
        /** Event time of the record or timer being processed, Long.MIN_VALUE for none. */
        private final long base;
        private final KeyOwnership o;
        /** The highest watermark the function is shown (see {@link #shadowWatermarkCap}). */
        private final long watermarkCap;
        /**
         * Whether the call is the authoritative one: a shadow copy's timers beyond the horizon are not counted (the
         * old owner's call counts the record's, as under keyBy, and only its timer is at risk).
         */
        private final boolean authoritative;

        Timers(TimerService timers, long base, KeyOwnership o, long watermarkCap, boolean authoritative) {
            this.timers = timers;
            this.base = base;
            this.o = o;
            this.watermarkCap = watermarkCap;
            this.authoritative = authoritative;
        }

        @Override
        public long currentProcessingTime() {
            return timers.currentProcessingTime();
        }

        @Override
        public long currentWatermark() {
            return Math.min(timers.currentWatermark(), watermarkCap);
        }

        @Override
        public void registerProcessingTimeTimer(long time) {
            timers.registerProcessingTimeTimer(time);
        }

        @Override
        public void registerEventTimeTimer(long time) {
            if (o != null && time == o.ownedFrom && o.ownedFrom != Long.MIN_VALUE) {
                // the function's own timer at the switch-over, where keyshift may hold records (see held); also while
                // Flink fires the timers before it, its watermark already past it
                if (releasing) {
                    setAgainInRelease = true;
                } else {
                    update(timerAtSwitchOver, true);
                }
            }
            // (a timer at the end of time, a flush at the end of the input, is owned wherever the key goes)
            if (authoritative && base != Long.MIN_VALUE && time != Long.MAX_VALUE
                    && base <= Long.MAX_VALUE - horizon && time > base + horizon) {
                timersBeyondHorizon.inc();
                if (!warnedBeyondHorizon) {
                    warnedBeyondHorizon = true;
                    LOG.warn("the keyed process function {} set an event-time timer for {} at {}, {} ms after the "
                                    + "record or timer that set it, beyond its declared state horizon of {} ms: around "
                                    + "a migration of its key such a timer's output can be lost; declare a horizon "
                                    + "that covers its timers (counted in the metric {}; logged once)",
                            user.getClass().getName(), time, base, time - base, horizon,
                            io.keyshift.metrics.KeyshiftMetrics.PROCESS_TIMERS_BEYOND_HORIZON);
                }
            }
            timers.registerEventTimeTimer(time);
        }

        @Override
        public void deleteProcessingTimeTimer(long time) {
            timers.deleteProcessingTimeTimer(time);
        }

        @Override
        public void deleteEventTimeTimer(long time) {
            timers.deleteEventTimeTimer(time);
            if (o != null && o.cleanupAt != Long.MIN_VALUE
                    && (time == o.cleanupAt || time == o.cleanupAt + horizon)) {
                // the same timer is keyshift's cleanup of this stay: it stays
                timers.registerEventTimeTimer(time);
            }
            if (o != null && time == o.ownedFrom && o.ownedFrom != Long.MIN_VALUE) {
                update(timerAtSwitchOver, false);
                if (releasing) {
                    setAgainInRelease = false;
                } else if (holds()) {
                    // the same timer releases the records this stay holds: it stays
                    timers.registerEventTimeTimer(time);
                }
            }
        }
    }

    /** {@code state.update(value)}, for the timer service, whose methods throw no checked exception. */
    private static <X> void update(ValueState<X> state, X value) {
        try {
            state.update(value);
        } catch (Exception e) {
            throw new IllegalStateException("keyshift could not write its state of a keyed process function", e);
        }
    }

    /** Whether the current stay holds records (see {@link #held}). */
    private boolean holds() {
        try {
            Iterable<Tuple3<Long, Boolean, T>> records = held.get();
            return records != null && records.iterator().hasNext();
        } catch (Exception e) {
            throw new IllegalStateException("keyshift could not read its state of a keyed process function", e);
        }
    }

    /** Whether {@code t} lies in this owner's shadow phase of {@code o}: [shadowFrom, switch-over). */
    private static boolean inShadowPhase(long t, KeyOwnership o, boolean authoritative) {
        if (o == null) {
            return false;
        }
        long from = authoritative ? o.outShadowFrom : o.inShadowFrom;
        long until = authoritative ? o.ownedUntil : o.ownedFrom;
        return from != Long.MIN_VALUE && until != Long.MIN_VALUE && t >= from && t < until;
    }

    /**
     * The highest watermark a call the new owner makes on a copy (before the key is its own) shows the function:
     * just before the switch-over. A function that, in a timer, emits everything it has buffered up to the current
     * watermark (an event-time sort buffer) would otherwise take along records the new owner already owns (from the
     * switch-over on) into a shadow call, whose outputs are dropped, and never emit them. Long.MAX_VALUE: no cap.
     */
    private static long shadowWatermarkCap(long at, KeyOwnership o) {
        return o != null && o.ownedFrom != Long.MIN_VALUE && at < o.ownedFrom ? o.ownedFrom - 1 : Long.MAX_VALUE;
    }

    private KeyedProcessFunction<K, T, R>.Context userContext(
            KeyedProcessFunction<RoutingKey<K>, Envelope<T, K>, R>.Context ctx, Outputs outputs, long base,
            KeyOwnership o, long watermarkCap, Long timestamp) {
        return user.new Context() {
            /** Made when the function first asks for it (most calls do not). */
            private Timers timers;

            @Override
            public Long timestamp() {
                return timestamp;
            }

            @Override
            public TimerService timerService() {
                if (timers == null) {
                    timers = new Timers(ctx.timerService(), base, o, watermarkCap, outputs.authoritative);
                }
                return timers;
            }

            @Override
            public <X> void output(OutputTag<X> outputTag, X value) {
                outputs.output(outputTag, value);
            }

            @Override
            public K getCurrentKey() {
                return ctx.getCurrentKey().key;
            }
        };
    }

    private KeyedProcessFunction<K, T, R>.OnTimerContext userTimerContext(
            KeyedProcessFunction<RoutingKey<K>, Envelope<T, K>, R>.OnTimerContext ctx, Outputs outputs, long base,
            KeyOwnership o, long watermarkCap) {
        return user.new OnTimerContext() {
            private Timers timers;

            @Override
            public Long timestamp() {
                return ctx.timestamp();
            }

            @Override
            public TimerService timerService() {
                if (timers == null) {
                    timers = new Timers(ctx.timerService(), base, o, watermarkCap, outputs.authoritative);
                }
                return timers;
            }

            @Override
            public <X> void output(OutputTag<X> outputTag, X value) {
                outputs.output(outputTag, value);
            }

            @Override
            public TimeDomain timeDomain() {
                return ctx.timeDomain();
            }

            @Override
            public K getCurrentKey() {
                return ctx.getCurrentKey().key;
            }
        };
    }
}
