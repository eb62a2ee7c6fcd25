package io.keyshift.migration;

import io.keyshift.route.Envelope;
import io.keyshift.route.KeyCodec;
import io.keyshift.route.KeyGroupHashTable;
import io.keyshift.route.Role;
import io.keyshift.route.RoutingKey;
import io.keyshift.serde.RoutingKeyTypeInfo;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The old owner of a key that migrated away: what it may still emit once the key has left. */
class OwnedProcessFunctionTest {
    private static final long HORIZON = 1_000;
    private static final KeyGroupHashTable TABLE = KeyGroupHashTable.forMaxParallelism(128);

    /** Emits each record and, a wall-clock second later, a timeout (a processing-time timer). */
    static final class Timeout extends KeyedProcessFunction<String, String, String> {
        @Override
        public void processElement(String value, Context ctx, Collector<String> out) {
            out.collect("record " + value);
            ctx.timerService().registerProcessingTimeTimer(ctx.timerService().currentProcessingTime() + 1_000);
        }

        @Override
        public void onTimer(long timestamp, OnTimerContext ctx, Collector<String> out) {
            out.collect("timeout " + ctx.getCurrentKey());
        }
    }

    private static List<String> values(KeyedOneInputStreamOperatorTestHarness<?, ?, String> h) {
        List<String> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                out.add((String) r.getValue());
            }
        }
        return out;
    }

    private static OwnedProcessFunction<String, String, String> owned(KeyedProcessFunction<String, String, String> f) {
        return new OwnedProcessFunction<>(f, HORIZON, KeyCodec.forType(Types.STRING, new SerializerConfigImpl()),
                StringSerializer.INSTANCE, new OutputTag<>("checks", TypeInformation.of(ResultCheck.class)), Types.STRING);
    }

    /** The keyed stage of {@code fn} in Flink's test harness. */
    private static KeyedOneInputStreamOperatorTestHarness<RoutingKey<String>, Envelope<String, String>, String>
            stage(OwnedProcessFunction<String, String, String> fn) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(fn),
                Envelope<String, String>::routingKey, new RoutingKeyTypeInfo<>(Types.STRING));
    }

    /**
     * A record of the old stay that arrives after the stay's state was cleared (a horizon past the switch-over) is
     * dropped, not run on empty state; one of the same time before the cleanup still counts.
     */
    @Test
    void aRecordThatReachesTheOldOwnerAfterItsCleanupIsDroppedNotRunOnEmptyState() throws Exception {
        RoutingKey<String> from = RoutingKey.of("k", 5, 0, TABLE);
        var fn = owned(new Timeout());
        try (var f = stage(fn)) {
            f.open();
            f.setProcessingTime(0);
            f.processElement(new StreamRecord<>(new Envelope<>(from, null, Role.MIGRATE_OUT, 1_000, 2_000), 900));
            f.processElement(new StreamRecord<>(new Envelope<>(from, "early", Role.MIGRATING, 1_000, 2_000), 1_500));
            f.processWatermark(3_000);
            f.processElement(new StreamRecord<>(new Envelope<>(from, "late", Role.MIGRATING, 1_000, 2_000), 1_600));
            f.processElement(new StreamRecord<>(Envelope.of(from, "older", Role.PRIMARY), 500));
            f.processWatermark(4_000);
            // the stay is forgotten; a record of it still finds it departed
            f.processElement(new StreamRecord<>(Envelope.of(from, "oldest", Role.PRIMARY), 400));
            assertThat(values(f)).containsExactly("record early");
            // keyshiftLateRecordsDropped: the only trace of the three
            assertThat(fn.lateRecordsDropped()).isEqualTo(3);
        }
    }

    @Test
    void aProcessingTimeTimerThatFiresLongAfterTheKeyLeftEmitsNothing() throws Exception {
        var fn = owned(new Timeout());
        RoutingKey<String> stay = RoutingKey.of("k", 5, 0, TABLE);
        try (var h = stage(fn)) {
            h.open();
            h.setProcessingTime(0);
            h.processElement(new StreamRecord<>(Envelope.of(stay, "a", Role.PRIMARY), 100));
            // the key leaves: shadow phase from 1,000, switch-over at 2,000; cleaned up at 3,000, forgotten at 4,000
            h.processElement(new StreamRecord<>(new Envelope<>(stay, null, Role.MIGRATE_OUT, 1_000, 2_000), 900));
            h.processWatermark(3_000);
            h.processWatermark(4_000);
            // in a replay event time ran ahead: the wall-clock second of the timeout passes only now
            h.setProcessingTime(1_000);
            assertThat(values(h)).containsExactly("record a");
        }
    }

    /**
     * A router rescaled after the key moved on replays the plans it restores from, markers included: the marker of the
     * migration that began a stay which has since departed is ignored (taken, it brought the stay back with no
     * cleanup, and the stay's pending processing-time timer emitted beside the new owner); a later stay here begins.
     */
    @Test
    void aReplayedMarkerOfADepartedStayDoesNotBringItBack() throws Exception {
        var fn = owned(new Timeout());
        RoutingKey<String> stay = RoutingKey.of("k", 5, 0, TABLE);
        try (var h = stage(fn)) {
            h.open();
            h.setProcessingTime(0);
            // the stay begins at 500, takes a record, and leaves at 2,000 (cleaned up at 3,000, departed at 4,000)
            h.processElement(new StreamRecord<>(new Envelope<>(stay, null, Role.MIGRATE_IN, 0, 500), 0));
            h.processElement(new StreamRecord<>(Envelope.of(stay, "a", Role.PRIMARY), 600));
            h.processElement(new StreamRecord<>(new Envelope<>(stay, null, Role.MIGRATE_OUT, 1_000, 2_000), 900));
            h.processWatermark(3_000);
            h.processWatermark(4_000);
            // the rescaled router replays the plan that began the stay
            h.processElement(new StreamRecord<>(new Envelope<>(stay, null, Role.MIGRATE_IN, 0, 500), 0));
            h.setProcessingTime(1_000);
            assertThat(values(h)).containsExactly("record a");
            // the key comes back later: a new stay from 5,000
            h.processElement(new StreamRecord<>(new Envelope<>(stay, null, Role.MIGRATE_IN, 4_000, 5_000), 3_900));
            h.processWatermark(4_500);
            h.processElement(new StreamRecord<>(Envelope.of(stay, "b", Role.PRIMARY), 5_100));
            // (b waits for the watermark to reach its stay's start)
            h.processWatermark(5_000);
            assertThat(values(h)).containsExactly("record a", "record b");
        }
    }

    /**
     * Flink restores no watermark: a restored subtask's is Long.MIN_VALUE until the first one arrives, and processing-time
     * timers that came due while the job was down fire before it. At the new owner such a timer of a key that moved in
     * still counts (judged at Long.MIN_VALUE, before the switch-over, it was dropped); at the old owner, a timer of a
     * stay cleaned up before the checkpoint still emits nothing.
     */
    @Test
    void aProcessingTimeTimerThatFiresAfterARestoreBeforeAnyWatermarkIsJudgedAtTheCheckpointsWatermark()
            throws Exception {
        RoutingKey<String> in = RoutingKey.of("in", 9, 1, TABLE);
        RoutingKey<String> out = RoutingKey.of("out", 5, 0, TABLE);
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        try (var h = stage(owned(new Timeout()))) {
            h.open();
            h.setProcessingTime(0);
            // "in" moves in (shadow phase from 1,000, owned from 2,000); "out" leaves at the same times
            h.processElement(new StreamRecord<>(new Envelope<>(in, null, Role.MIGRATE_IN, 1_000, 2_000), 900));
            h.processElement(new StreamRecord<>(Envelope.of(out, "a", Role.PRIMARY), 100));
            h.processElement(new StreamRecord<>(new Envelope<>(out, null, Role.MIGRATE_OUT, 1_000, 2_000), 900));
            h.processWatermark(2_500);
            h.processElement(new StreamRecord<>(Envelope.of(in, "b", Role.PRIMARY), 2_600));
            // "out" is cleaned up at 3,000 (a horizon after its switch-over), not yet forgotten (at 4,000)
            h.processWatermark(3_500);
            snapshot = h.snapshot(1, 0);
            assertThat(values(h)).containsExactly("record a", "record b");
        }
        try (var h = stage(owned(new Timeout()))) {
            h.setup();
            h.initializeState(snapshot);
            h.open();
            // both timers (at 1,000 of processing time) are overdue: they fire before any watermark
            h.setProcessingTime(1_000);
            assertThat(values(h)).containsExactly("timeout in");
        }
        // without the floor (a savepoint from before it), "in"'s timer was judged at Long.MIN_VALUE and dropped
        try (var h = stage(owned(new Timeout()))) {
            h.setup();
            h.initializeState(withoutOperatorState(snapshot));
            h.open();
            h.setProcessingTime(1_000);
            assertThat(values(h)).doesNotContain("timeout in");
        }
    }

    /**
     * A stay that left and was cleaned up before a savepoint is forgotten after a restore with another state horizon
     * (shorter or longer): the timer set to forget it a horizon after its cleanup was recognised by the new horizon
     * only, and its ownership record stayed for the job's life.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(longs = {500, 2_000})
    void aStayCleanedUpBeforeARestoreWithAnotherHorizonIsForgotten(long newHorizon) throws Exception {
        RoutingKey<String> out = RoutingKey.of("out", 5, 0, TABLE);
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        try (var h = stage(owned(new Timeout()))) {
            h.open();
            h.processElement(new StreamRecord<>(Envelope.of(out, "a", Role.PRIMARY), 100));
            h.processElement(new StreamRecord<>(new Envelope<>(out, null, Role.MIGRATE_OUT, 1_000, 2_000), 900));
            // cleaned up at 3,000 (a horizon after the switch-over); to be forgotten at 4,000
            h.processWatermark(3_500);
            snapshot = h.snapshot(1, 0);
        }
        OwnedProcessFunction<String, String, String> restored = new OwnedProcessFunction<>(new Timeout(), newHorizon,
                KeyCodec.forType(Types.STRING, new SerializerConfigImpl()), StringSerializer.INSTANCE,
                new OutputTag<>("checks", TypeInformation.of(ResultCheck.class)), Types.STRING);
        try (var h = stage(restored)) {
            h.setup();
            h.initializeState(snapshot);
            h.open();
            assertThat(((org.apache.flink.streaming.api.operators.AbstractStreamOperator<?>) h.getOperator()).getKeyedStateBackend().getKeys("keyshift-ownership",
                    org.apache.flink.runtime.state.VoidNamespace.INSTANCE).count()).isEqualTo(1);
            h.processWatermark(10_000);
            assertThat(((org.apache.flink.streaming.api.operators.AbstractStreamOperator<?>) h.getOperator()).getKeyedStateBackend().getKeys("keyshift-ownership",
                    org.apache.flink.runtime.state.VoidNamespace.INSTANCE).count()).isZero();
            // a late record of the stay is still dropped (its departure is kept)
            h.processElement(new StreamRecord<>(Envelope.of(out, "late", Role.PRIMARY), 1_500));
            assertThat(values(h)).doesNotContain("record late");
        }
    }

    /** Emits each record, and at the end of the input (a timer at Long.MAX_VALUE) the key's flush. */
    static final class FlushAtEnd extends KeyedProcessFunction<String, String, String> {
        @Override
        public void processElement(String value, Context ctx, Collector<String> out) {
            out.collect("record " + value);
            ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE);
        }

        @Override
        public void onTimer(long timestamp, OnTimerContext ctx, Collector<String> out) {
            out.collect("end " + ctx.getCurrentKey());
        }
    }

    /**
     * A timer at Long.MAX_VALUE (flush at the end of the input) fires at a key's new owner as at a key that never
     * moved: the stay owns the key with no end. It was taken for a time past the stay's ownership, and the flush of
     * every key that had ever moved in was run as a shadow copy and dropped.
     */
    @Test
    void aTimerAtTheEndOfTimeFiresAtTheNewOwner() throws Exception {
        RoutingKey<String> in = RoutingKey.of("in", 9, 1, TABLE);
        RoutingKey<String> home = RoutingKey.of("home", 5, 0, TABLE);
        var fn = owned(new FlushAtEnd());
        try (var h = stage(fn)) {
            h.open();
            h.processElement(new StreamRecord<>(new Envelope<>(in, null, Role.MIGRATE_IN, 1_000, 2_000), 900));
            h.processElement(new StreamRecord<>(new Envelope<>(in, "s", Role.SHADOW, 1_000, 2_000), 1_500));
            h.processWatermark(2_500);
            h.processElement(new StreamRecord<>(Envelope.of(in, "a", Role.PRIMARY), 2_600));
            h.processElement(new StreamRecord<>(Envelope.of(home, "b", Role.PRIMARY), 2_600));
            h.processWatermark(Long.MAX_VALUE);
            assertThat(values(h)).containsExactlyInAnyOrder("record a", "record b", "end in", "end home");
            // owned wherever the key goes: not a timer beyond the horizon (each record counted one, with a warning)
            assertThat(fn.timersBeyondHorizon()).isZero();
        }
    }

    /**
     * The old owner's timer at the end of time goes with the stay's state at its cleanup: it was kept for the job's
     * life (one per move out) and, once the departure was forgotten, fired on the cleared state beside the new
     * owner's flush.
     */
    @Test
    void theOldOwnersTimerAtTheEndOfTimeGoesWithItsCleanup() throws Exception {
        RoutingKey<String> out = RoutingKey.of("out", 5, 0, TABLE);
        try (var h = stage(owned(new FlushAtEnd()))) {
            h.open();
            h.processElement(new StreamRecord<>(Envelope.of(out, "a", Role.PRIMARY), 100));
            h.processElement(new StreamRecord<>(new Envelope<>(out, null, Role.MIGRATE_OUT, 1_000, 2_000), 900));
            assertThat(h.numEventTimeTimers()).isEqualTo(2);
            h.processWatermark(5_000);
            assertThat(h.numEventTimeTimers()).isZero();
            h.processWatermark(Long.MAX_VALUE);
            assertThat(values(h)).containsExactly("record a");
        }
    }

    /**
     * A departure marker replayed after the stay left and was forgotten (a router rescaled after the move replays the
     * plans it restores from) does not bring the stay back: it registered the stay's cleanup again and, before the
     * first watermark after a restore without a floor, sent a presence for an interval compared long before.
     */
    @Test
    void aReplayedDepartureMarkerOfAForgottenStayIsIgnored() throws Exception {
        RoutingKey<String> out = RoutingKey.of("out", 5, 0, TABLE);
        try (var h = stage(owned(new SilentShadow()))) {
            h.open();
            h.processElement(new StreamRecord<>(Envelope.of(out, "a", Role.PRIMARY), 100));
            h.processElement(new StreamRecord<>(new Envelope<>(out, null, Role.MIGRATE_OUT, 1_000, 4_000), 900));
            assertThat(allChecks(h)).hasSize(1);
            h.processWatermark(7_000);
            assertThat(h.numEventTimeTimers()).isZero();
            h.processElement(new StreamRecord<>(new Envelope<>(out, null, Role.MIGRATE_OUT, 1_000, 4_000), 900));
            assertThat(h.numEventTimeTimers()).isZero();
            assertThat(allChecks(h)).hasSize(1);
        }
    }

    /**
     * An event-time sort buffer (a common pattern: buffer each record, set a timer at its time, and in a timer emit
     * everything buffered up to the watermark) at a key's new owner. The watermark jumps past the switch-over in one
     * step: the shadow-phase timer (its outputs dropped) must not take along the record the new owner already owns.
     */
    static final class SortBuffer extends KeyedProcessFunction<String, String, String> {
        private transient org.apache.flink.api.common.state.MapState<Long, String> buffered;

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext c) {
            buffered = getRuntimeContext().getMapState(new org.apache.flink.api.common.state.MapStateDescriptor<>(
                    "buffered", Types.LONG, Types.STRING));
        }

        @Override
        public void processElement(String value, Context ctx, Collector<String> out) throws Exception {
            buffered.put(ctx.timestamp(), value);
            ctx.timerService().registerEventTimeTimer(ctx.timestamp());
        }

        @Override
        public void onTimer(long timestamp, OnTimerContext ctx, Collector<String> out) throws Exception {
            long watermark = ctx.timerService().currentWatermark();
            List<Long> due = new ArrayList<>();
            for (Long t : buffered.keys()) {
                if (t <= watermark) {
                    due.add(t);
                }
            }
            java.util.Collections.sort(due);
            for (Long t : due) {
                out.collect("sorted " + buffered.get(t));
                buffered.remove(t);
            }
        }
    }

    @Test
    void aShadowTimerDoesNotFlushWhatTheNewOwnerAlreadyOwns() throws Exception {
        RoutingKey<String> in = RoutingKey.of("k", 9, 1, TABLE);
        try (var h = stage(owned(new SortBuffer()))) {
            h.open();
            h.processElement(new StreamRecord<>(new Envelope<>(in, null, Role.MIGRATE_IN, 1_000, 2_000), 900));
            h.processElement(new StreamRecord<>(new Envelope<>(in, "c", Role.SHADOW, 1_000, 2_000), 1_999));
            h.processElement(new StreamRecord<>(Envelope.of(in, "b", Role.PRIMARY), 2_001));
            h.processWatermark(2_500);
            // c's output is the old owner's; b's is this one's
            assertThat(values(h)).containsExactly("sorted b");
        }
    }

    /**
     * A count per second of event time that a timer emits and resets, as a count per hour would be: the timer reads
     * what the function gathered so far, also records after its time that came before the watermark passed it. Each
     * record is echoed, and a record "cancel" deletes the timer its second set.
     */
    static final class CountPerSecond extends KeyedProcessFunction<String, String, String> {
        /** Whether the timer is at the next second's first ms (else this second's last). */
        private final boolean atNextSecond;
        private transient org.apache.flink.api.common.state.ValueState<Long> count;

        CountPerSecond(boolean atNextSecond) {
            this.atNextSecond = atNextSecond;
        }

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext c) {
            count = getRuntimeContext().getState(new org.apache.flink.api.common.state.ValueStateDescriptor<>(
                    "count", Types.LONG));
        }

        @Override
        public void processElement(String value, Context ctx, Collector<String> out) throws Exception {
            long timer = (ctx.timestamp() / 1_000 + 1) * 1_000 - (atNextSecond ? 0 : 1);
            if (value.equals("cancel")) {
                ctx.timerService().deleteEventTimeTimer(timer);
                return;
            }
            Long c = count.value();
            count.update(c == null ? 1 : c + 1);
            out.collect("record " + value);
            ctx.timerService().registerEventTimeTimer(timer);
        }

        @Override
        public void onTimer(long timestamp, OnTimerContext ctx, Collector<String> out) throws Exception {
            Long c = count.value();
            out.collect("count " + c + " at " + timestamp);
            count.clear();
        }
    }

    /** The outputs' values with their timestamps, "value@timestamp". */
    private static List<String> stamped(KeyedOneInputStreamOperatorTestHarness<?, ?, String> h) {
        List<String> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                out.add(r.getValue() + "@" + r.getTimestamp());
            }
        }
        return out;
    }

    /**
     * Opens {@code h} as the new owner of {@code in} (T0 = 1,000, T1 = 2,000) with a shadow copy "s" at 1,500, its
     * watermark at 1,400.
     */
    private static void newOwnerBehindTheSwitchOver(
            KeyedOneInputStreamOperatorTestHarness<RoutingKey<String>, Envelope<String, String>, String> h,
            RoutingKey<String> in) throws Exception {
        h.open();
        h.processElement(new StreamRecord<>(new Envelope<>(in, null, Role.MIGRATE_IN, 1_000, 2_000), 900));
        h.processElement(new StreamRecord<>(new Envelope<>(in, "s", Role.SHADOW, 1_000, 2_000), 1_500));
        h.processWatermark(1_400);
    }

    /**
     * The new owner's own records (from the switch-over at 2,000) come while its watermark lags behind the
     * switch-over: the shadow phase's timer at 1,999, whose output is dropped (the old owner emits that second's
     * count), must not take them along and reset them away. They wait, across a restore, for the switch-over.
     */
    @Test
    void aShadowPhaseTimerThatResetsItsCountDoesNotLoseTheNewOwnersRecords() throws Exception {
        RoutingKey<String> in = RoutingKey.of("k", 9, 1, TABLE);
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        try (var h = stage(owned(new CountPerSecond(false)))) {
            newOwnerBehindTheSwitchOver(h, in);
            h.processElement(new StreamRecord<>(Envelope.of(in, "p1", Role.PRIMARY), 2_100));
            h.processElement(new StreamRecord<>(Envelope.of(in, "p2", Role.PRIMARY), 2_200));
            snapshot = h.snapshot(1, 0);
        }
        try (var h = stage(owned(new CountPerSecond(false)))) {
            h.setup();
            h.initializeState(snapshot);
            h.open();
            h.processWatermark(2_999);
            // each record where it arrived, stamped with its own time; the second's count at its timer
            assertThat(stamped(h)).containsExactly("record p1@2100", "record p2@2200", "count 2 at 2999@2999");
        }
    }

    /**
     * The function's own timer at the switch-over (set by a shadow copy) fires after the held records went through
     * the function, as under keyBy where they came before the watermark; a timer it deleted does not fire, and
     * keyshift's own timer of that time calls no timer of the function.
     */
    @Test
    void heldRecordsGoBeforeTheFunctionsOwnTimerAtTheSwitchOverWhichFiresOnlyIfItIsSet() throws Exception {
        RoutingKey<String> in = RoutingKey.of("k", 9, 1, TABLE);
        try (var h = stage(owned(new CountPerSecond(true)))) {
            newOwnerBehindTheSwitchOver(h, in);
            h.processElement(new StreamRecord<>(Envelope.of(in, "p", Role.PRIMARY), 2_100));
            h.processWatermark(2_500);
            // the shadow's second [1,000, 2,000) is owned here from 2,000 on: its count takes p along
            assertThat(stamped(h)).containsExactly("record p@2100", "count 2 at 2000@2000");
        }
        try (var h = stage(owned(new CountPerSecond(true)))) {
            newOwnerBehindTheSwitchOver(h, in);
            h.processElement(new StreamRecord<>(Envelope.of(in, "p", Role.PRIMARY), 2_100));
            h.processElement(new StreamRecord<>(new Envelope<>(in, "cancel", Role.SHADOW, 1_000, 2_000), 1_600));
            h.processWatermark(3_500);
            // no timer at 2,000: p waited for keyshift's, and its second's timer counts both
            assertThat(stamped(h)).containsExactly("record p@2100", "count 2 at 3000@3000");
        }
    }

    /**
     * Echoes each record ("late" where its time is at or behind the watermark it sees) and sets timers at the given
     * offsets from it; each timer emits "fired" and, with a tick, sets the next one a tick later (up to 3,000).
     */
    static final class Timed extends KeyedProcessFunction<String, String, String> {
        private final long[] offsets;
        private final long tick;

        Timed(long tick, long... offsets) {
            this.offsets = offsets;
            this.tick = tick;
        }

        @Override
        public void processElement(String value, Context ctx, Collector<String> out) {
            out.collect((ctx.timestamp() <= ctx.timerService().currentWatermark() ? "late " : "record ") + value);
            for (long offset : offsets) {
                ctx.timerService().registerEventTimeTimer(ctx.timestamp() + offset);
            }
        }

        @Override
        public void onTimer(long timestamp, OnTimerContext ctx, Collector<String> out) {
            out.collect("fired " + timestamp);
            if (tick > 0 && timestamp < 3_000) {
                ctx.timerService().registerEventTimeTimer(timestamp + tick);
            }
        }
    }

    /**
     * The function's timer at the switch-over set by a shadow-phase timer, while Flink fires the timers up to a
     * watermark that jumped past the switch-over, fires after the held record (it was skipped, and the ticks that
     * follow it stopped); the held record sees itself on time, as it came (it saw the watermark past it).
     */
    @Test
    void aTimerAtTheSwitchOverSetByAShadowPhaseTimerFiresAndAHeldRecordIsOnTime() throws Exception {
        RoutingKey<String> in = RoutingKey.of("k", 9, 1, TABLE);
        try (var h = stage(owned(new Timed(500, 300)))) {
            h.open();
            h.processElement(new StreamRecord<>(new Envelope<>(in, null, Role.MIGRATE_IN, 1_000, 2_000), 900));
            h.processElement(new StreamRecord<>(new Envelope<>(in, "s", Role.SHADOW, 1_000, 2_000), 1_200));
            h.processWatermark(1_400);
            h.processElement(new StreamRecord<>(Envelope.of(in, "p", Role.PRIMARY), 2_100));
            // 1,500 fires (the shadow's, dropped) and sets 2,000
            h.processWatermark(2_500);
            assertThat(stamped(h)).containsExactly("record p@2100", "fired 2000@2000", "fired 2400@2400",
                    "fired 2500@2500");
        }
    }

    /**
     * A held record that sets the function's timer at the switch-over again (Flink queues it again: it took it from
     * its queue before it fired) gets one call of it, as under keyBy, not two.
     */
    @Test
    void aTimerAtTheSwitchOverThatAHeldRecordSetsAgainFiresOnce() throws Exception {
        RoutingKey<String> in = RoutingKey.of("k", 9, 1, TABLE);
        try (var h = stage(owned(new Timed(0, 0, 500)))) {
            h.open();
            h.processElement(new StreamRecord<>(new Envelope<>(in, null, Role.MIGRATE_IN, 1_000, 2_000), 900));
            // timers at 1,500 and 2,000
            h.processElement(new StreamRecord<>(new Envelope<>(in, "s", Role.SHADOW, 1_000, 2_000), 1_500));
            h.processWatermark(1_400);
            h.processElement(new StreamRecord<>(Envelope.of(in, "p", Role.PRIMARY), 2_000));
            h.processWatermark(2_600);
            assertThat(stamped(h)).containsExactly("record p@2000", "fired 2000@2000", "fired 2500@2500");
        }
    }

    /**
     * A stay restored from a build before 2026-12-07 in its shadow phase (no record of whether the function set a
     * timer at the switch-over) holds nothing: the function's timer there fires as it did (keyshift's timer, merged
     * with it, was taken for keyshift's alone and the function's was skipped).
     */
    @Test
    void aStayFromABuildThatHeldNothingKeepsTheFunctionsTimerAtTheSwitchOver() throws Exception {
        RoutingKey<String> in = RoutingKey.of("k", 9, 1, TABLE);
        try (var h = stage(owned(new Timed(0, 800)))) {
            h.open();
            h.processElement(new StreamRecord<>(new Envelope<>(in, null, Role.MIGRATE_IN, 1_000, 2_000), 900));
            // (a timer at 2,000)
            h.processElement(new StreamRecord<>(new Envelope<>(in, "s", Role.SHADOW, 1_000, 2_000), 1_200));
            h.processWatermark(1_400);
            // what the build before kept: no such state
            org.apache.flink.runtime.state.KeyedStateBackend<RoutingKey<String>> backend =
                    h.getOperator().getKeyedStateBackend();
            backend.setCurrentKey(in);
            backend.getPartitionedState(org.apache.flink.runtime.state.VoidNamespace.INSTANCE,
                    org.apache.flink.runtime.state.VoidNamespaceSerializer.INSTANCE,
                    new org.apache.flink.api.common.state.ValueStateDescriptor<>("keyshift-timer-at-switch-over",
                            Types.BOOLEAN)).clear();
            h.processElement(new StreamRecord<>(Envelope.of(in, "p", Role.PRIMARY), 2_100));
            h.processWatermark(2_500);
            assertThat(stamped(h)).containsExactly("record p@2100", "fired 2000@2000");
        }
    }

    private static final OutputTag<ResultCheck> CHECKS = new OutputTag<>("checks",
            TypeInformation.of(ResultCheck.class));
    private static final RoutingKey<String> FROM = RoutingKey.of("k", 3, 0, TABLE);
    private static final RoutingKey<String> TO = RoutingKey.of("k", 9, 1, TABLE);

    /**
     * Key "k" migrating from key group 3 (harness {@code a}) to 9 ({@code b}) with T0 = 1,000 and T1 = 4,000 (the
     * compared interval [2,000, 4,000)): the markers, then the records at {@code times} as MIGRATING and SHADOW copies.
     */
    private static void migrateWithRecords(KeyedOneInputStreamOperatorTestHarness<RoutingKey<String>,
            Envelope<String, String>, String> a, KeyedOneInputStreamOperatorTestHarness<RoutingKey<String>,
            Envelope<String, String>, String> b, long... times) throws Exception {
        a.processElement(new StreamRecord<>(new Envelope<>(FROM, null, Role.MIGRATE_OUT, 1_000, 4_000), 900));
        b.processElement(new StreamRecord<>(new Envelope<>(TO, null, Role.MIGRATE_IN, 1_000, 4_000), 900));
        for (long t : times) {
            a.processElement(new StreamRecord<>(new Envelope<>(FROM, "r" + t, Role.MIGRATING, 1_000, 4_000), t));
            b.processElement(new StreamRecord<>(new Envelope<>(TO, "r" + t, Role.SHADOW, 1_000, 4_000), t));
        }
    }

    /** The checks of calls with output a harness emitted, as checksum x results. */
    private static List<String> checks(KeyedOneInputStreamOperatorTestHarness<RoutingKey<String>,
            Envelope<String, String>, String> h) {
        List<String> out = new ArrayList<>();
        allChecks(h).stream().filter(c -> c.results > 0).forEach(c -> out.add(c.checksum + "x" + c.results));
        return out;
    }

    /** Every check a harness emitted (also those of calls without output). */
    private static List<ResultCheck> allChecks(KeyedOneInputStreamOperatorTestHarness<RoutingKey<String>,
            Envelope<String, String>, String> h) {
        List<ResultCheck> out = new ArrayList<>();
        java.util.Optional.ofNullable(h.getSideOutput(CHECKS)).ifPresent(q -> q.forEach(r -> out.add(r.getValue())));
        return out;
    }

    /** Emits each record, but not as a shadow copy: a shadow that disagrees by emitting nothing. */
    static final class SilentShadow extends KeyedProcessFunction<String, String, String> {
        @Override
        public void processElement(String value, Context ctx, Collector<String> out) {
            if (!io.keyshift.api.Keyshift.isShadowCopy()) {
                out.collect("record " + value);
            }
        }
    }

    /**
     * A shadow that emits nothing in the compared interval where the primary emits is a MISMATCH naming both key
     * groups, as on-mismatch REVERT needs: each side sends a check for every call of the interval, one without
     * output too. Only calls with output sent one, so the validator saw the shadow missing (MISSING_SHADOW, its key
     * group unknown) and nothing was reverted.
     */
    @Test
    void aShadowThatEmitsNothingWhereThePrimaryEmitsIsAMismatchOfBothKeyGroups() throws Exception {
        try (var a = stage(owned(new SilentShadow())); var b = stage(owned(new SilentShadow()));
             var validator = ProcessFunctionTestHarnesses.forKeyedProcessFunction(new ShadowValidator(),
                     (ResultCheck c) -> c.key, Types.STRING)) {
            a.open();
            b.open();
            long[] times = new long[1_000];
            for (int i = 0; i < times.length; i++) {
                times[i] = 2_000 + 2 * i;
            }
            migrateWithRecords(a, b, times);
            // the shadow's presence, once, not a check per call without output
            assertThat(allChecks(b)).singleElement().satisfies(c -> assertThat(c.results).isZero());
            assertThat(allChecks(a)).hasSize(1 + times.length);
            for (ResultCheck c : allChecks(a)) {
                validator.processElement(c, 2_500);
            }
            for (ResultCheck c : allChecks(b)) {
                validator.processElement(c, 2_500);
            }
            validator.processWatermark(4_000);
            assertThat(validator.extractOutputValues()).singleElement().satisfies(r -> {
                assertThat(r.getOutcome()).isEqualTo(io.keyshift.avro.ValidationOutcome.MISMATCH);
                assertThat(r.getPrimaryKeyGroup()).isEqualTo(3);
                assertThat(r.getShadowKeyGroup()).isEqualTo(9);
            });
        }
    }

    private static final OutputTag<String> ALERTS = new OutputTag<>("alerts", Types.STRING);

    /** Sends an alert per record to a side output only; as a shadow copy, another alert. */
    static final class SideAlerts extends KeyedProcessFunction<String, String, String> {
        @Override
        public void processElement(String value, Context ctx, Collector<String> out) {
            ctx.output(ALERTS, (io.keyshift.api.Keyshift.isShadowCopy() ? "wrong " : "alert ") + value);
        }
    }

    /**
     * A keyed process function's side outputs are compared as its main output is: a shadow whose alerts differ is a
     * MISMATCH (they were forwarded or dropped, never checksummed: no report at all), and equal ones match.
     */
    @Test
    void sideOutputsInTheComparedIntervalAreCompared() throws Exception {
        try (var a = stage(owned(new SideAlerts())); var b = stage(owned(new SideAlerts()));
             var validator = ProcessFunctionTestHarnesses.forKeyedProcessFunction(new ShadowValidator(),
                     (ResultCheck c) -> c.key, Types.STRING)) {
            a.open();
            b.open();
            migrateWithRecords(a, b, 2_500);
            assertThat(a.getSideOutput(ALERTS)).extracting(r -> r.getValue()).containsExactly("alert r2500");
            assertThat(b.getSideOutput(ALERTS)).as("the shadow's are dropped").isNull();
            assertThat(checks(a)).hasSize(1);
            assertThat(checks(b)).hasSize(1).isNotEqualTo(checks(a));
            for (ResultCheck c : allChecks(a)) {
                validator.processElement(c, 2_500);
            }
            for (ResultCheck c : allChecks(b)) {
                validator.processElement(c, 2_500);
            }
            validator.processWatermark(4_000);
            assertThat(validator.extractOutputValues()).singleElement().satisfies(
                    r -> assertThat(r.getOutcome()).isEqualTo(io.keyshift.avro.ValidationOutcome.MISMATCH));
        }
        // a main output equal to an alert's text is another result: its checksum differs
        try (var a = stage(owned(new SideAlerts())); var c = stage(owned(new Emit()))) {
            a.open();
            c.open();
            migrateWithRecords(a, c, 2_500);
            assertThat(checks(c)).hasSize(1).isNotEqualTo(checks(a));
        }
    }

    /** A side output's value of a type Flink can serialize only as a generic type. */
    static final class Opaque {
        final String text;

        Opaque(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return "opaque " + text;
        }
    }

    private static final OutputTag<Opaque> OPAQUE = new OutputTag<>("opaque", TypeInformation.of(Opaque.class));

    /** Sends an Opaque per record to a side output no one reads. */
    static final class OpaqueSide extends KeyedProcessFunction<String, String, String> {
        @Override
        public void processElement(String value, Context ctx, Collector<String> out) {
            ctx.output(OPAQUE, new Opaque(value));
        }
    }

    /**
     * With generic types disabled, a side output of a generic type that no one reads runs under keyBy (Flink never
     * serializes it): the shadow's values (dropped, only checksummed) are compared by their text, and the check does
     * not fail the job. (The harness copies every output it keeps, so only the shadow side runs here.)
     */
    @Test
    void aSideOutputWithoutASerializerIsComparedByItsText() throws Exception {
        List<List<String>> sides = new ArrayList<>();
        for (String value : List.of("v", "v", "w")) {
            try (var b = stage(owned(new OpaqueSide()))) {
                ((org.apache.flink.api.common.serialization.SerializerConfigImpl) b.getExecutionConfig()
                        .getSerializerConfig()).setGenericTypes(false);
                b.open();
                b.processElement(new StreamRecord<>(new Envelope<>(TO, null, Role.MIGRATE_IN, 1_000, 4_000), 900));
                b.processElement(new StreamRecord<>(new Envelope<>(TO, value, Role.SHADOW, 1_000, 4_000), 2_500));
                sides.add(checks(b));
            }
        }
        assertThat(sides.get(0)).hasSize(1).isEqualTo(sides.get(1)).isNotEqualTo(sides.get(2));
    }

    /** Emits "alert " + the record to its main output. */
    static final class Emit extends KeyedProcessFunction<String, String, String> {
        @Override
        public void processElement(String value, Context ctx, Collector<String> out) {
            out.collect("alert " + value);
        }
    }

    /**
     * A copy that was late at its router marks the comparison of its migration (each owner orders it against its own
     * watermark's timers), also where its call emits nothing and where it falls before the compared interval; a
     * migration without a compared interval (not validated) gets no check from it.
     */
    @Test
    void aLateCopyMarksItsMigrationsComparison() throws Exception {
        try (var a = stage(owned(new SilentShadow())); var b = stage(owned(new SilentShadow()))) {
            a.open();
            b.open();
            migrateWithRecords(a, b);
            // before the compared interval [2,000, 4,000), late; then in it, on time
            a.processElement(new StreamRecord<>(new Envelope<>(FROM, "x", Role.MIGRATING, 1_000, 4_000).late(true),
                    1_500));
            b.processElement(new StreamRecord<>(new Envelope<>(TO, "x", Role.SHADOW, 1_000, 4_000).late(true),
                    1_500));
            b.processElement(new StreamRecord<>(new Envelope<>(TO, "y", Role.SHADOW, 1_000, 4_000), 2_500));
            // each side's presence (no output, not late), then the late copy's mark
            assertThat(allChecks(a)).hasSize(2).last().satisfies(c -> {
                assertThat(c.lateRecord).isTrue();
                assertThat(c.results).isZero();
                assertThat(c.start).isEqualTo(2_000);
                assertThat(c.end).isEqualTo(4_000);
            });
            assertThat(allChecks(a).get(0).lateRecord).isFalse();
            // the shadow's on-time call in the interval emits nothing: no check of its own
            assertThat(allChecks(b)).extracting(c -> c.lateRecord).containsExactly(false, true);
        }
        // T0 + horizon = T1: nothing is compared, and a late copy opens no comparison
        RoutingKey<String> from = RoutingKey.of("u", 3, 0, TABLE);
        try (var a = stage(owned(new SilentShadow()))) {
            a.open();
            a.processElement(new StreamRecord<>(new Envelope<>(from, null, Role.MIGRATE_OUT, 1_000, 2_000), 900));
            a.processElement(new StreamRecord<>(new Envelope<>(from, "x", Role.MIGRATING, 1_000, 2_000).late(true),
                    1_500));
            assertThat(values(a)).containsExactly("record x");
            assertThat(allChecks(a)).isEmpty();
        }
    }

    /**
     * The same records of a key in its shadow phase, the old and the new owner's watermarks rising in different steps
     * (each subtask takes the minimum over its channels, whose watermarks arrive interleaved differently): a sort
     * buffer's timers emit the same records at the same times at both owners, so the shadow check matches (the new
     * owner's first timer, shown the watermark past both records, emitted both, and the check reported a mismatch).
     */
    @Test
    void aSortBufferEmitsTheSameAtBothOwnersWhateverStepsTheirWatermarksTake() throws Exception {
        try (var a = stage(owned(new SortBuffer())); var b = stage(owned(new SortBuffer()))) {
            a.open();
            b.open();
            migrateWithRecords(a, b, 2_650, 2_690);
            a.processWatermark(2_660);
            a.processWatermark(2_700);
            b.processWatermark(2_700);
            assertThat(values(a)).containsExactly("sorted r2650", "sorted r2690");
            assertThat(checks(a)).hasSize(2);
            assertThat(checks(b)).isEqualTo(checks(a));
        }
    }

    /**
     * The old owner's timer from before the shadow phase, shown a watermark that jumped past the compared records in
     * one step (a sparse stream, the first watermark after a restore), took them along at its own time, outside the
     * compared interval [T0 + horizon, T1), while the new owner emitted them from their own timers: the check
     * reported a mismatch (and with on-mismatch REVERT moved a correct migration back). It sees the watermark at most
     * just before the compared interval.
     */
    @Test
    void anOldOwnersTimerFromBeforeTheShadowPhaseLeavesTheComparedRecordsToTheirOwnTimers() throws Exception {
        try (var a = stage(owned(new SortBuffer())); var b = stage(owned(new SortBuffer()))) {
            a.open();
            b.open();
            a.processElement(new StreamRecord<>(Envelope.of(FROM, "r950", Role.PRIMARY), 950));
            migrateWithRecords(a, b, 2_650, 2_690);
            a.processWatermark(2_700);
            b.processWatermark(2_700);
            assertThat(values(a)).containsExactly("sorted r950", "sorted r2650", "sorted r2690");
            // none at all without the cap: the old owner emitted nothing in the compared interval
            assertThat(checks(a)).hasSize(2);
            assertThat(checks(b)).isEqualTo(checks(a));
        }
    }

    /** A drained stop's end of input (watermark Long.MAX_VALUE) is no floor for the job resumed from its savepoint. */
    @Test
    void theEndOfTheInputIsNoWatermarkFloor() throws Exception {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        try (var h = stage(owned(new Timeout()))) {
            h.open();
            h.processElement(new StreamRecord<>(Envelope.of(RoutingKey.of("a", 3, 0, TABLE), "a", Role.PRIMARY), 100));
            h.processWatermark(Long.MAX_VALUE);
            snapshot = h.snapshot(1, 0);
        }
        try (var h = stage(owned(new Timeout()))) {
            h.setup();
            h.initializeState(snapshot);
            h.open();
            RoutingKey<String> leaving = RoutingKey.of("b", 5, 0, TABLE);
            h.processElement(new StreamRecord<>(new Envelope<>(leaving, null, Role.MIGRATE_OUT, 9_000, 10_000), 8_900));
            // judged at Long.MAX_VALUE, this record of the shadow phase was dropped as after its stay's cleanup
            h.processElement(new StreamRecord<>(new Envelope<>(leaving, "x", Role.MIGRATING, 9_000, 10_000), 9_500));
            assertThat(values(h)).containsExactly("record x");
        }
    }

    /** {@code s} without its operator state (as a savepoint taken before the stage had any). */
    private static org.apache.flink.runtime.checkpoint.OperatorSubtaskState withoutOperatorState(
            org.apache.flink.runtime.checkpoint.OperatorSubtaskState s) {
        return org.apache.flink.runtime.checkpoint.OperatorSubtaskState.builder()
                .setManagedKeyedState(s.getManagedKeyedState())
                .setRawKeyedState(s.getRawKeyedState())
                .build();
    }

    /** The floor follows each key group to its subtask when the stage is rescaled. */
    @Test
    void theWatermarkFloorFollowsItsKeyGroupsAcrossARescale() throws Exception {
        RoutingKey<String> in = RoutingKey.of("in", 100, 1, TABLE);
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        int maxP = 128;
        // at parallelism 2, key group 100 is subtask 1's
        try (var h = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(owned(new Timeout())),
                Envelope<String, String>::routingKey, new RoutingKeyTypeInfo<>(Types.STRING), maxP, 2, 1)) {
            h.open();
            h.setProcessingTime(0);
            h.processElement(new StreamRecord<>(new Envelope<>(in, null, Role.MIGRATE_IN, 1_000, 2_000), 900));
            h.processWatermark(2_500);
            h.processElement(new StreamRecord<>(Envelope.of(in, "b", Role.PRIMARY), 2_600));
            snapshot = h.snapshot(1, 0);
        }
        // the same subtask's state at parallelism 1 (key groups 0..127): its entry covers key groups 64..127 only
        try (var h = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(owned(new Timeout())),
                Envelope<String, String>::routingKey, new RoutingKeyTypeInfo<>(Types.STRING), maxP, 1, 0)) {
            h.setup();
            h.initializeState(org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness
                    .repackageState(snapshot));
            h.open();
            h.setProcessingTime(1_000);
            assertThat(values(h)).containsExactly("timeout in");
        }
    }

    /**
     * A user's function that is a CheckpointedFunction and a CheckpointListener (a pattern Flink documents: keyed state
     * from initializeState, side effects on checkpoint completion): behind keyshift it gets every call, as under
     * keyBy, and its keyed state from initializeState is cleared with the rest when the key has left.
     */
    static final class Dedup extends KeyedProcessFunction<String, String, String>
            implements org.apache.flink.streaming.api.checkpoint.CheckpointedFunction,
            org.apache.flink.api.common.state.CheckpointListener {
        static final List<String> CALLS = new java.util.concurrent.CopyOnWriteArrayList<>();
        private transient org.apache.flink.api.common.state.ValueState<Boolean> seen;

        @Override
        public void initializeState(org.apache.flink.runtime.state.FunctionInitializationContext c) {
            // the runtime context is there, as under keyBy (Flink sets it before initializeState)
            CALLS.add("initializeState restored=" + c.isRestored() + " subtask="
                    + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
            seen = c.getKeyedStateStore().getState(
                    new org.apache.flink.api.common.state.ValueStateDescriptor<>("seen", Types.BOOLEAN));
        }

        @Override
        public void snapshotState(org.apache.flink.runtime.state.FunctionSnapshotContext c) {
            CALLS.add("snapshotState " + c.getCheckpointId());
        }

        @Override
        public void notifyCheckpointComplete(long id) {
            CALLS.add("complete " + id);
        }

        @Override
        public void processElement(String value, Context ctx, Collector<String> out) throws Exception {
            if (seen.value() == null) {
                seen.update(true);
                out.collect("first " + value);
            }
        }
    }

    @Test
    void aCheckpointedUserFunctionGetsFlinksCallsAndItsKeyedStateIsClearedWhenTheKeyLeaves() throws Exception {
        Dedup.CALLS.clear();
        var fn = owned(new Dedup());
        RoutingKey<String> stay = RoutingKey.of("k", 5, 0, TABLE);
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        try (var h = stage(fn)) {
            h.open();
            h.processElement(new StreamRecord<>(Envelope.of(stay, "a", Role.PRIMARY), 100));
            h.processElement(new StreamRecord<>(Envelope.of(stay, "b", Role.PRIMARY), 200));
            snapshot = h.snapshot(7, 0);
            h.notifyOfCompletedCheckpoint(7);
            assertThat(values(h)).containsExactly("first a");
            assertThat(Dedup.CALLS).containsExactly("initializeState restored=false subtask=0", "snapshotState 7",
                    "complete 7");
            // the key leaves (switch-over 2,000, cleanup 3,000): its state from initializeState goes with the rest
            h.processElement(new StreamRecord<>(new Envelope<>(stay, null, Role.MIGRATE_OUT, 1_000, 2_000), 900));
            h.processWatermark(3_000);
            assertThat(h.numKeyedStateEntries()).as("keyed state entries after the cleanup")
                    .isLessThanOrEqualTo(1);
        }
        var restoredFn = owned(new Dedup());
        try (var h = stage(restoredFn)) {
            h.initializeState(snapshot);
            h.open();
            // restored: the key was seen before the checkpoint
            h.processElement(new StreamRecord<>(Envelope.of(stay, "c", Role.PRIMARY), 300));
            assertThat(values(h)).isEmpty();
            assertThat(Dedup.CALLS).last().isEqualTo("initializeState restored=true subtask=0");
        }
    }

    /** Reads its list and map state through the runtime context at every record, as a function may under keyBy. */
    static final class StatePerRecord extends KeyedProcessFunction<String, String, String> {
        @Override
        public void processElement(String value, Context ctx, Collector<String> out) throws Exception {
            getRuntimeContext().getListState(new org.apache.flink.api.common.state.ListStateDescriptor<>("seen",
                    Types.STRING)).add(value);
            getRuntimeContext().getMapState(new org.apache.flink.api.common.state.MapStateDescriptor<>("last",
                    Types.STRING, Types.LONG)).put(value, ctx.timestamp());
        }
    }

    /**
     * Flink hands out a new wrapper of a list or map state at each call: tracking each for clearing grew a list by a
     * handle per record (and a linear search per call) for the life of the task. The states are still cleared when
     * the key leaves.
     */
    @Test
    void aStateReadThroughTheContextAtEveryRecordIsTrackedOnceAndStillCleared() throws Exception {
        var fn = owned(new StatePerRecord());
        RoutingKey<String> stay = RoutingKey.of("k", 5, 0, TABLE);
        try (var h = stage(fn)) {
            h.open();
            for (int i = 0; i < 1_000; i++) {
                h.processElement(new StreamRecord<>(Envelope.of(stay, "v" + i, Role.PRIMARY), 100 + i));
            }
            assertThat(fn.trackedStates()).isEqualTo(2);
            assertThat(h.numKeyedStateEntries()).isGreaterThanOrEqualTo(2);
            h.processElement(new StreamRecord<>(new Envelope<>(stay, null, Role.MIGRATE_OUT, 2_000, 3_000), 1_900));
            h.processWatermark(4_000);
            assertThat(h.numKeyedStateEntries()).as("keyed state entries after the cleanup").isLessThanOrEqualTo(1);
        }
    }

    /** Keyed state through Flink 2's asynchronous (state V2) API; {@code fallBack}: catches the refusal. */
    static final class StateV2 extends KeyedProcessFunction<String, String, String> {
        private final boolean fallBack;

        StateV2(boolean fallBack) {
            this.fallBack = fallBack;
        }

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext c) {
            try {
                getRuntimeContext().getState(
                        new org.apache.flink.api.common.state.v2.ValueStateDescriptor<>("n", Types.LONG));
            } catch (UnsupportedOperationException e) {
                if (!fallBack) {
                    throw e;
                }
            }
        }

        @Override
        public void processElement(String value, Context ctx, Collector<String> out) {
            out.collect(value);
        }
    }

    /**
     * State V2 would not be cleared when a key moves (keyshift tracks the synchronous API's states): the function's
     * open fails the job for good, with the reason as the cause, and a function that catches the reason to fall back
     * fails all the same.
     */
    @Test
    void stateV2FailsTheJobForGoodEvenWhereTheFunctionCatchesTheRefusal() throws Exception {
        for (boolean fallBack : new boolean[] {false, true}) {
            try (var h = stage(owned(new StateV2(fallBack)))) {
                org.assertj.core.api.Assertions.assertThatThrownBy(h::open).as("fall back: " + fallBack)
                        .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                        .cause().isInstanceOf(UnsupportedOperationException.class)
                        .hasMessageContaining("the state V2 API is not supported behind keyshift");
            }
        }
    }

    /** Sets an event-time timer 5 horizons after each record, and deletes the one at {@code deleteAt}. */
    static final class FarTimers extends KeyedProcessFunction<String, String, String> {
        private transient org.apache.flink.api.common.state.ValueState<Integer> records;

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext c) {
            records = getRuntimeContext().getState(
                    new org.apache.flink.api.common.state.ValueStateDescriptor<>("records", Types.INT));
        }

        @Override
        public void processElement(String value, Context ctx, Collector<String> out) throws Exception {
            records.update(records.value() == null ? 1 : records.value() + 1);
            if (value.startsWith("delete ")) {
                ctx.timerService().deleteEventTimeTimer(Long.parseLong(value.substring(7)));
                return;
            }
            ctx.timerService().registerEventTimeTimer(ctx.timestamp() + 5 * HORIZON);
        }
    }

    /**
     * A timer beyond the declared horizon is counted (and logged once); the function's deleting a timer at the time
     * of keyshift's cleanup does not cancel the cleanup (Flink keeps one timer per key and time).
     */
    @Test
    void timersBeyondTheHorizonAreCountedAndDeletingOneAtTheCleanupTimeKeepsTheCleanup() throws Exception {
        var fn = owned(new FarTimers());
        RoutingKey<String> stay = RoutingKey.of("k", 5, 0, TABLE);
        try (var h = stage(fn)) {
            h.open();
            h.processElement(new StreamRecord<>(Envelope.of(stay, "a", Role.PRIMARY), 100));
            h.processElement(new StreamRecord<>(Envelope.of(stay, "b", Role.PRIMARY), 200));
            assertThat(fn.timersBeyondHorizon()).isEqualTo(2);
            // the key leaves: switch-over 2,000, cleanup at 3,000; the function deletes a timer at 3,000
            h.processElement(new StreamRecord<>(new Envelope<>(stay, null, Role.MIGRATE_OUT, 1_000, 2_000), 900));
            h.processElement(new StreamRecord<>(Envelope.of(stay, "delete 3000", Role.PRIMARY), 950));
            h.processWatermark(4_000);
            // the cleanup ran at 3,000 (the function's state went) and the stay was forgotten at 4,000 (its
            // ownership record went): what is left is when it was cleaned up
            assertThat(h.numKeyedStateEntries()).as("keyed state entries once forgotten").isEqualTo(1);
            assertThat(h.numEventTimeTimers()).as("timers left (the function's at 5,100 and 5,200)").isEqualTo(2);
        }
    }
    /**
     * A record's timer beyond the horizon is counted once, by its authoritative call: the old owner's copy during a
     * shadow phase counts it, the new owner's shadow copy does not (both counted, and the new owner's TaskManager
     * warned of a timer whose output cannot be lost).
     */
    @Test
    void aShadowCopysTimerBeyondTheHorizonIsNotCounted() throws Exception {
        RoutingKey<String> in = RoutingKey.of("in", 9, 1, TABLE);
        var shadowSide = owned(new FarTimers());
        try (var h = stage(shadowSide)) {
            h.open();
            h.processElement(new StreamRecord<>(new Envelope<>(in, null, Role.MIGRATE_IN, 1_000, 2_000), 900));
            h.processElement(new StreamRecord<>(new Envelope<>(in, "s", Role.SHADOW, 1_000, 2_000), 1_500));
            assertThat(shadowSide.timersBeyondHorizon()).isZero();
        }
        var oldSide = owned(new FarTimers());
        try (var h = stage(oldSide)) {
            h.open();
            h.processElement(new StreamRecord<>(new Envelope<>(in, null, Role.MIGRATE_OUT, 1_000, 2_000), 900));
            h.processElement(new StreamRecord<>(new Envelope<>(in, "m", Role.MIGRATING, 1_000, 2_000), 1_500));
            assertThat(oldSide.timersBeyondHorizon()).isEqualTo(1);
        }
    }
}
