package io.keyshift.route;

import io.keyshift.avro.KeyLoadSample;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.serde.EnvelopeSerializer;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.util.OutputTag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The router under Flink's operator test harness: migration phases, leases, plans strictly in order, the output
 * watermark, pacing, snapshot/restore, process-function markers and the reports to the profiler. Records are Strings
 * keyed by themselves.
 */
class KeyshiftRouterTest {
    static {
        // plans in operator state are Avro records of keyshift's own classes, trusted as in a job
        io.keyshift.config.AvroTrust.install();
    }

    private static final int MAX_P = 128;
    private static final long WINDOW = 10_000;
    private static final long T0 = 2_000;
    private static final long T1 = 3_000;
    private static final KeyCodec<String> CODEC = KeyCodec.forType(Types.STRING, new SerializerConfigImpl());
    private static final OutputTag<KeyLoadSample> SAMPLES =
            new OutputTag<>("samples", new AvroTypeInfo<>(KeyLoadSample.class));
    private static final int HOT = KeyGroupRangeAssignment.assignToKeyGroup("hot", MAX_P);
    private static final int TO = (HOT + 64) % MAX_P;

    /** A router whose records all wait for the first plan (the lease tests below use leases within a window). */
    private static KeyshiftRouter<String, String> router(int maxWaiting, boolean processFunction) {
        return new KeyshiftRouter<>(new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 1.0, maxWaiting,
                processFunction), s -> s, CODEC, Types.STRING, SAMPLES).withNaturalFirstWindow(false);
    }

    /** A router of one of {@code subtasks} subtasks, sketching {@code sketchSize} keys, whose records wait for a plan. */
    private static KeyshiftRouter<String, String> router(int subtasks, int sketchSize) {
        return new KeyshiftRouter<>(new KeyshiftRouter.Settings(WINDOW, MAX_P, subtasks, sketchSize, 1.0, 1000, false),
                s -> s, CODEC, Types.STRING, SAMPLES).withNaturalFirstWindow(false);
    }

    /** A harness around {@code r} as subtask {@code sub} of {@code subtasks}, its output serialized as in a job. */
    private static OneInputStreamOperatorTestHarness<String, Envelope<String, String>> harness(
            KeyshiftRouter<String, String> r, int subtasks, int sub) throws Exception {
        var h = new OneInputStreamOperatorTestHarness<>(r, MAX_P, subtasks, sub);
        h.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
        return h;
    }

    /**
     * The harness around a router; closing it first gives the router the planner's final lease (a router finishes only
     * once its input is fully routed, as at the end of a bounded input).
     */
    private static final class Harness extends OneInputStreamOperatorTestHarness<String, Envelope<String, String>> {
        private final KeyshiftRouter<String, String> router;

        Harness(KeyshiftRouter<String, String> router) throws Exception {
            this(router, 1);
        }

        Harness(KeyshiftRouter<String, String> router, int parallelism) throws Exception {
            super(router, MAX_P, parallelism, 0);
            this.router = router;
        }

        @Override
        public void close() throws Exception {
            router.apply(Plans.plan(router.planVersion() + 1, Long.MAX_VALUE, MAX_P));
            super.close();
        }
    }

    private static Harness harness(KeyshiftRouter<String, String> router, OperatorSubtaskState restore)
            throws Exception {
        Harness h = new Harness(router);
        h.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
        if (restore != null) {
            h.initializeState(restore);
        }
        h.open();
        return h;
    }

    private static Harness harness() throws Exception {
        return harness(router(1000, false), null);
    }

    @SuppressWarnings("unchecked")
    private static List<StreamRecord<Envelope<String, String>>> records(
            OneInputStreamOperatorTestHarness<String, Envelope<String, String>> h) {
        List<StreamRecord<Envelope<String, String>>> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                out.add((StreamRecord<Envelope<String, String>>) r);
            }
        }
        return out;
    }

    private static List<Envelope<String, String>> envelopes(
            OneInputStreamOperatorTestHarness<String, Envelope<String, String>> h) {
        return records(h).stream().map(StreamRecord::getValue).toList();
    }

    private static List<Long> watermarks(OneInputStreamOperatorTestHarness<String, Envelope<String, String>> h) {
        List<Long> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof Watermark w) {
                out.add(w.getTimestamp());
            }
        }
        return out;
    }

    private static void plan(OneInputStreamOperatorTestHarness<String, Envelope<String, String>> h, RoutingPlan p)
            throws Exception {
        ((KeyshiftRouter<?, ?>) h.getOperator()).apply(p);
    }

    /**
     * A shadow phase's record at or behind the watermark the router has sent is late at the router: both its copies
     * are marked, since each owner judges its lateness by its own watermark (the minimum over every router's) and one
     * may fire the window without it; a record after that watermark reaches both owners before either can fire.
     */
    @Test
    void aShadowPhasesRecordBehindTheSentWatermarkIsMarkedLateInBothCopies() throws Exception {
        try (var h = harness()) {
            plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P, Plans.migrating("hot", HOT, TO, T0, T1)));
            h.processElement("hot", T0 + 10);
            h.processWatermark(T0 + 100);
            assertThat(watermarks(h)).as("the router sent its watermark").contains(T0 + 100);
            h.processElement("hot", T0 + 100);
            h.processElement("hot", T0 + 50);
            h.processElement("hot", T0 + 101);
            h.processElement("cold", T0 + 50);
            assertThat(envelopes(h)).extracting(e -> e.role + "@" + e.routingKey.keyGroup + (e.late ? " late" : ""))
                    .containsExactly("MIGRATING@" + HOT, "SHADOW@" + TO,
                            "MIGRATING@" + HOT + " late", "SHADOW@" + TO + " late",
                            "MIGRATING@" + HOT + " late", "SHADOW@" + TO + " late",
                            "MIGRATING@" + HOT, "SHADOW@" + TO,
                            "PRIMARY@" + KeyGroupRangeAssignment.assignToKeyGroup("cold", MAX_P));
        }
    }

    /**
     * Back from idle with its watermark below the lease's end, the router's channel is passed by downstream until its
     * watermark reaches the valves' (Flink's StatusWatermarkValve): a shadow phase's copy after its own watermark may
     * be late at one owner and not at the other, so both are marked, until its watermark reaches the lease's end.
     */
    @Test
    void aShadowPhasesRecordBackFromIdleBehindTheLeaseIsMarkedLateUntilTheLeasesEnd() throws Exception {
        try (var h = harness()) {
            plan(h, Plans.plan(1, T0 + 500, MAX_P, Plans.migrating("hot", HOT, TO, T0, T1)));
            h.processWatermark(T0 + 10);
            h.processWatermarkStatus(WatermarkStatus.IDLE);
            h.processWatermarkStatus(WatermarkStatus.ACTIVE);
            h.processElement("hot", T0 + 50);
            h.processWatermark(T0 + 300);
            h.processElement("hot", T0 + 400);
            // its watermark reaches the lease's end: past any other router's of the plan; the next lease goes on
            h.processWatermark(T0 + 700);
            plan(h, Plans.plan(2, T1, MAX_P, Plans.migrating("hot", HOT, TO, T0, T1)));
            h.processElement("hot", T0 + 800);
            assertThat(envelopes(h)).extracting(e -> e.role + (e.late ? " late" : ""))
                    .containsExactly("MIGRATING late", "SHADOW late", "MIGRATING late", "SHADOW late",
                            "MIGRATING", "SHADOW");
        }
        // leases that keep ahead of the watermark (a lease lead of two windows): the marks end once the watermark
        // passes the lease the router resumed under (they never ended)
        try (var h = harness()) {
            plan(h, Plans.plan(1, T0 + 500, MAX_P, Plans.migrating("hot", HOT, TO, T0, T1 + 10_000)));
            h.processWatermark(T0 + 10);
            h.processWatermarkStatus(WatermarkStatus.IDLE);
            h.processWatermarkStatus(WatermarkStatus.ACTIVE);
            for (int v = 2; v <= 10; v++) {
                h.processWatermark(T0 + 500L * (v - 1) - 200);
                plan(h, Plans.plan(v, T0 + 500L * v, MAX_P, Plans.migrating("hot", HOT, TO, T0, T1 + 10_000)));
            }
            h.processElement("hot", T0 + 4_700);
            assertThat(envelopes(h)).extracting(e -> e.role + (e.late ? " late" : ""))
                    .containsExactly("MIGRATING", "SHADOW");
        }
        // idle ahead, at the lease's end already: nothing to catch up
        try (var h = harness()) {
            plan(h, Plans.plan(1, T0 + 500, MAX_P, Plans.migrating("hot", HOT, TO, T0, T1)));
            h.processWatermark(T0 + 700);
            h.processWatermarkStatus(WatermarkStatus.IDLE);
            h.processWatermarkStatus(WatermarkStatus.ACTIVE);
            plan(h, Plans.plan(2, T1, MAX_P, Plans.migrating("hot", HOT, TO, T0, T1)));
            h.processElement("hot", T0 + 800);
            assertThat(envelopes(h)).extracting(e -> e.role + (e.late ? " late" : ""))
                    .containsExactly("MIGRATING", "SHADOW");
        }
    }

    @Test
    void routesByTheMigrationPhaseOfTheEventTimeIntoTheChosenKeyGroups() throws Exception {
        try (var h = harness()) {
            plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P, Plans.migrating("hot", HOT, TO, T0, T1)));
            h.processElement("hot", T0 - 1);
            assertThat(envelopes(h)).singleElement().satisfies(e -> {
                assertThat(e.role).isEqualTo(Role.PRIMARY);
                assertThat(e.routingKey.keyGroup).isEqualTo(HOT);
            });
            h.getOutput().clear();

            h.processElement("hot", T0);
            h.processElement("hot", T1 - 1);
            List<Envelope<String, String>> shadowPhase = envelopes(h);
            assertThat(shadowPhase).hasSize(4);
            assertThat(shadowPhase).filteredOn(e -> e.role == Role.MIGRATING).hasSize(2)
                    .allSatisfy(e -> assertThat(e.routingKey.keyGroup).isEqualTo(HOT));
            assertThat(shadowPhase).filteredOn(e -> e.role == Role.SHADOW).hasSize(2).allSatisfy(e -> {
                assertThat(e.routingKey.keyGroup).isEqualTo(TO);
                assertThat(e.shadowFrom).isEqualTo(T0);
                assertThat(e.switchAt).isEqualTo(T1);
            });
            h.getOutput().clear();

            h.processElement("hot", T1);
            h.processElement("cold", T1);
            List<Envelope<String, String>> after = envelopes(h);
            assertThat(after.get(0).role).isEqualTo(Role.PRIMARY);
            assertThat(after.get(0).routingKey.keyGroup).isEqualTo(TO);
            assertThat(after.get(1).routingKey.keyGroup)
                    .isEqualTo(KeyGroupRangeAssignment.assignToKeyGroup("cold", MAX_P));
            for (Envelope<String, String> e : shadowPhase) {
                // Flink's keyBy(routing key) lands exactly in the chosen key group; the user's key travels along
                assertThat(KeyGroupRangeAssignment.assignToKeyGroup(e.routingKey, MAX_P))
                        .isEqualTo(e.routingKey.keyGroup);
                assertThat(e.routingKey.key).isEqualTo("hot");
                assertThat(e.value).isEqualTo("hot");
            }
        }
    }

    private static KeyshiftRouter<String, String> naturalRouter() {
        return new KeyshiftRouter<>(new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 1.0, 1000, false), s -> s,
                CODEC, Types.STRING, SAMPLES);
    }

    private static List<KeyLoadSample> reports(OneInputStreamOperatorTestHarness<String, ?> h) {
        List<KeyLoadSample> out = new ArrayList<>();
        h.getSideOutput(SAMPLES).forEach(r -> out.add(r.getValue()));
        return out;
    }

    /**
     * Before its first plan a router sends the records of the planning window of the earliest record it holds at its
     * first input watermark (and those before) to their natural key groups at once (a day's window of a live job
     * used to wait in memory, and in every checkpoint, until the first plan), lets its output watermark up to that
     * window's end, and tells the profiler so; later records wait. A record far ahead, read first, does not move that
     * bound; neither does a watermark that trails the records by its out-of-orderness, or one far into them.
     */
    @Test
    void beforeTheFirstPlanTheEarliestRecordsWindowGoesToTheNaturalKeyGroupsAtOnce() throws Exception {
        var router = naturalRouter();
        try (var h = harness(router, null)) {
            h.processElement("far", 1_000 * WINDOW);
            h.processElement("hot", 2 * WINDOW + 500);
            h.processElement("hot", 2 * WINDOW + 900);
            h.processElement("a", 3 * WINDOW + 1);
            assertThat(envelopes(h)).as("nothing before the first watermark").isEmpty();
            h.processWatermark(new Watermark(2 * WINDOW + 5));
            assertThat(envelopes(h)).extracting(e -> e.value, e -> e.role, e -> e.routingKey.keyGroup,
                    e -> e.routingKey.epoch).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("hot", Role.PRIMARY, HOT, 0),
                    org.assertj.core.groups.Tuple.tuple("hot", Role.PRIMARY, HOT, 0));
            assertThat(router.waitingRecords()).isEqualTo(2);
            h.processElement("b", 2 * WINDOW + 7);
            assertThat(envelopes(h)).hasSize(3);
            h.processWatermark(new Watermark(3 * WINDOW + 5));
            assertThat(router.outputWatermark()).isEqualTo(3 * WINDOW - 1);
            assertThat(reports(h)).isNotEmpty().allSatisfy(r -> assertThat(r.getNaturalUntil()).isEqualTo(3 * WINDOW));
            // the first plan's lease starts no earlier (the planner sees to it): the waiting records go by it
            plan(h, Plans.plan(1, 4 * WINDOW, MAX_P));
            assertThat(router.waitingRecords()).isEqualTo(1);
            assertThat(envelopes(h)).hasSize(4);
            plan(h, Plans.plan(2, Long.MAX_VALUE, MAX_P));
        }
        // a watermark that trails the first record by more than the record's place in its window
        try (var h = harness(naturalRouter(), null)) {
            h.processElement("a", WINDOW + 100);
            h.processWatermark(new Watermark(WINDOW - 300));
            assertThat(envelopes(h)).extracting(e -> e.value).containsExactly("a");
            assertThat(reports(h)).isNotEmpty().allSatisfy(r -> assertThat(r.getNaturalUntil()).isEqualTo(2 * WINDOW));
            plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P));
        }
        // a fast source: its first watermark lies windows into its records; the earliest record's window goes
        var fast = naturalRouter();
        try (var h = harness(fast, null)) {
            h.processElement("a", 500);
            h.processElement("b", 3 * WINDOW);
            h.processWatermark(new Watermark(5 * WINDOW + 3));
            assertThat(envelopes(h)).extracting(e -> e.value).containsExactly("a");
            assertThat(reports(h)).isNotEmpty().allSatisfy(r -> assertThat(r.getNaturalUntil()).isEqualTo(WINDOW));
            plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P));
        }
    }

    /**
     * Nothing goes naturally when the input turns idle before its first watermark, or ends without a record (an
     * end-of-time bound would keep the first plan from ever migrating), or when a plan comes first; a restore keeps
     * what was decided, and a subtask restored before it decided anything waits for the plan.
     */
    @Test
    void anIdleOrEndedInputAPlanFirstAndARestoreBeforeAnyWatermarkRouteNothingNaturally() throws Exception {
        try (var h = harness(naturalRouter(), null)) {
            h.processWatermarkStatus(WatermarkStatus.IDLE);
            h.processWatermarkStatus(WatermarkStatus.ACTIVE);
            h.processElement("hot", WINDOW + 1);
            h.processWatermark(new Watermark(WINDOW + 2));
            assertThat(envelopes(h)).isEmpty();
            assertThat(reports(h)).isNotEmpty().allSatisfy(r -> assertThat(r.getNaturalUntil())
                    .isEqualTo(Long.MIN_VALUE));
            plan(h, Plans.plan(1, 2 * WINDOW, MAX_P));
            assertThat(envelopes(h)).hasSize(1);
        }
        // a bounded input read before its first periodic watermark: the end of the input decides by the earliest
        // record's window; without any record, nothing
        try (var h = harness(naturalRouter(), null)) {
            h.processElement("hot", WINDOW + 500);
            h.processElement("a", 500);
            h.processWatermark(Watermark.MAX_WATERMARK);
            assertThat(envelopes(h)).extracting(e -> e.value).containsExactly("a");
            assertThat(reports(h)).isNotEmpty().allSatisfy(r -> assertThat(r.getNaturalUntil()).isEqualTo(WINDOW));
        }
        try (var h = harness(naturalRouter(), null)) {
            h.processWatermark(Watermark.MAX_WATERMARK);
            assertThat(reports(h)).isNotEmpty().allSatisfy(r -> assertThat(r.getNaturalUntil())
                    .isEqualTo(Long.MIN_VALUE));
        }
        try (var h = harness(naturalRouter(), null)) {
            plan(h, Plans.plan(1, 2 * WINDOW, MAX_P, RouteEntry.newBuilder().setKey("hot").setNaturalKeyGroup(HOT)
                    .setKeyGroup(TO).setEpoch(1).build()));
            h.processElement("hot", 500);
            h.processWatermark(new Watermark(600));
            assertThat(envelopes(h)).singleElement().satisfies(e -> assertThat(e.routingKey.keyGroup).isEqualTo(TO));
        }
        OperatorSubtaskState snapshot;
        try (var h = harness(naturalRouter(), null)) {
            h.processElement("hot", 500);
            h.processWatermark(new Watermark(100));
            snapshot = h.snapshot(1, 1);
        }
        // restored: the subtask goes on routing its first window naturally, and no further
        var restored = naturalRouter();
        try (var h = harness(restored, snapshot)) {
            h.processElement("hot", 900);
            h.processElement("hot", WINDOW + 1);
            assertThat(envelopes(h)).hasSize(1);
            assertThat(restored.waitingRecords()).isEqualTo(1);
            plan(h, Plans.plan(1, 2 * WINDOW, MAX_P));
        }
        // a checkpoint taken before the subtask saw a watermark: after the restore it waits for the plan
        try (var h = harness(naturalRouter(), null)) {
            h.processElement("hot", 500);
            snapshot = h.snapshot(1, 1);
        }
        var undecided = naturalRouter();
        try (var h = harness(undecided, snapshot)) {
            h.processWatermark(new Watermark(600));
            assertThat(envelopes(h)).isEmpty();
            plan(h, Plans.plan(1, WINDOW, MAX_P));
            assertThat(envelopes(h)).hasSize(1);
        }
    }

    /**
     * A stage new to a restored job (its router chained to a source that has state, so Flink restores the task, with
     * nothing of the router's own) routes its first window naturally as a new stage does; it held the whole window for
     * the first plan, in memory and in every checkpoint.
     */
    @Test
    void aRouterRestoredWithoutStateOfItsOwnRoutesItsFirstWindowNaturally() throws Exception {
        var fresh = naturalRouter();
        try (var h = harness(fresh, OperatorSubtaskState.builder().build())) {
            h.processElement("hot", 500);
            h.processElement("a", 700);
            h.processWatermark(new Watermark(600));
            assertThat(envelopes(h)).extracting(e -> e.value).containsExactly("hot", "a");
            assertThat(fresh.waitingRecords()).isZero();
            assertThat(reports(h)).isNotEmpty().allSatisfy(r -> assertThat(r.getNaturalUntil()).isEqualTo(WINDOW));
            plan(h, Plans.plan(1, 2 * WINDOW, MAX_P));
        }
        // told hash format 1, such a subtask is one of a stage of a build before format 2 that a scale-up handed none
        // of the router's state: it waits for the plan, as the other subtasks of that stage do
        var legacy = naturalRouter().withHashFormat(1);
        try (var h = harness(legacy, OperatorSubtaskState.builder().build())) {
            h.processElement("hot", 500);
            h.processWatermark(new Watermark(600));
            assertThat(envelopes(h)).isEmpty();
            assertThat(legacy.waitingRecords()).isEqualTo(1);
            plan(h, Plans.plan(1, 2 * WINDOW, MAX_P));
            assertThat(envelopes(h)).hasSize(1);
        }
    }

    /**
     * A split key's records are dealt to its pieces by a per-record count that the checkpoint keeps: after a restore
     * they go where they went in a run that never stopped.
     */
    @Test
    void aSplitKeysRecordsAreDealtOnAfterARestoreAsWithoutIt() throws Exception {
        RoutingPlan split = Plans.plan(1, Long.MAX_VALUE, MAX_P, RouteEntry.newBuilder().setKey("hot")
                .setNaturalKeyGroup(HOT).setKeyGroup(HOT).setMigration(null)
                .setSplit(io.keyshift.avro.Split.newBuilder().setKeyGroups(List.of(HOT, TO, (TO + 1) % MAX_P))
                        .setFrom(0).setPreRollFrom(0).setPlannedInVersion(1).setPredictedLoad(1).build())
                .build());
        List<Integer> uninterrupted = new ArrayList<>();
        try (var h = harness()) {
            plan(h, split);
            for (int n = 0; n < 40; n++) {
                h.processElement(n % 3 == 0 ? "cold" + n : "hot", 100 + n);
            }
            envelopes(h).forEach(e -> uninterrupted.add(e.routingKey.keyGroup));
        }
        List<Integer> restored = new ArrayList<>();
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            plan(h, split);
            for (int n = 0; n < 17; n++) {
                h.processElement(n % 3 == 0 ? "cold" + n : "hot", 100 + n);
            }
            envelopes(h).forEach(e -> restored.add(e.routingKey.keyGroup));
            snapshot = h.snapshot(1, 1);
        }
        try (var h = harness(router(1000, false), snapshot)) {
            for (int n = 17; n < 40; n++) {
                h.processElement(n % 3 == 0 ? "cold" + n : "hot", 100 + n);
            }
            envelopes(h).forEach(e -> restored.add(e.routingKey.keyGroup));
        }
        assertThat(uninterrupted).hasSize(40).contains(HOT, TO, (TO + 1) % MAX_P);
        assertThat(restored).isEqualTo(uninterrupted);
    }

    /**
     * After a rescale Flink hands a subtask the list states of several subtasks in no fixed order (the handles of a
     * subtask's restore sit in a hash map): the split count it deals a split key's records by, the records waiting for
     * a lease and the open windows' samples must restore the same whatever that order. With the last count taken, the
     * pieces a split key's records went to (and so the subtasks' loads after every scale-in of a scaled replay) varied
     * from run to run.
     */
    @Test
    void aRescaleRestoresTheSameRoutingAndSamplesWhateverOrderTheStatesComeIn() throws Exception {
        int third = (TO + 1) % MAX_P;
        RoutingPlan split = Plans.plan(1, WINDOW, MAX_P, RouteEntry.newBuilder().setKey("hot")
                .setNaturalKeyGroup(HOT).setKeyGroup(HOT).setMigration(null)
                .setSplit(io.keyshift.avro.Split.newBuilder().setKeyGroups(List.of(HOT, TO, third))
                        .setFrom(0).setPreRollFrom(0).setPlannedInVersion(1).setPredictedLoad(1).build())
                .build());
        OperatorSubtaskState[] states = new OperatorSubtaskState[2];
        for (int sub = 0; sub < 2; sub++) {
            // a sketch of 8 keys that many keys overflow: the order in which samples merge decides what it keeps
            KeyshiftRouter<String, String> r = router(2, 8);
            try (var h = harness(r, 2, sub)) {
                h.open();
                plan(h, split);
                // different split counts (1 and 5 records of the hot key) and different keys in the open window
                for (int n = 0; n < 1 + 4 * sub; n++) {
                    h.processElement("hot", 100 + n);
                }
                for (int n = 0; n < 30; n++) {
                    for (int c = 0; c <= n % 7; c++) {
                        h.processElement("k" + sub + "-" + n, 200 + n);
                    }
                }
                // past the lease: these wait, some at one event time
                for (int n = 0; n < 4; n++) {
                    h.processElement("hot", WINDOW + 5);
                    h.processElement("w" + sub + "-" + n, WINDOW + 5);
                }
                states[sub] = h.snapshot(1, 1);
                r.apply(Plans.plan(2, Long.MAX_VALUE, MAX_P));
            }
        }
        List<String> first = restoredAtOne(AbstractStreamOperatorTestHarness.repackageState(states[0], states[1]),
                split);
        List<String> second = restoredAtOne(AbstractStreamOperatorTestHarness.repackageState(states[1], states[0]),
                split);
        assertThat(first).isEqualTo(second).anyMatch(l -> l.startsWith("hot@" + TO))
                .anyMatch(l -> l.startsWith("sample"));
    }

    /**
     * A routing key's hash is part of the keyed stage's state: a stage started without state takes format 2 and keeps it
     * through restores and rescales (every subtask gets the broadcast state's copy); one restored from a savepoint that
     * holds no format (a build before format 2) keeps format 1, so that its keys find their state again.
     */
    @Test
    void aStageKeepsTheRoutingKeyHashFormatItStartedWith() throws Exception {
        KeyGroupHashTable one = KeyGroupHashTable.forMaxParallelism(MAX_P, KeyGroupHashTable.FORMAT_PREIMAGE_TABLE);
        KeyGroupHashTable two = KeyGroupHashTable.forMaxParallelism(MAX_P, KeyGroupHashTable.FORMAT_INVERTED_MURMUR);
        OperatorSubtaskState snapshot;
        KeyshiftRouter<String, String> fresh = router(1000, false);
        try (var h = harness(fresh, null)) {
            assertThat(fresh.hashFormat()).isEqualTo(KeyGroupHashTable.FORMAT_INVERTED_MURMUR);
            plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P, Plans.migrating("hot", HOT, TO, T0, T1)));
            h.processElement("hot", T0);
            assertThat(envelopes(h)).hasSize(2).allSatisfy(e -> assertThat(e.routingKey.hash)
                    .isEqualTo(two.hashFor(e.routingKey.keyGroup, "hot".hashCode()))
                    .isNotEqualTo(one.hashFor(e.routingKey.keyGroup, "hot".hashCode())));
            snapshot = h.snapshot(1, 1);
        }
        KeyshiftRouter<String, String> same = router(1000, false);
        try (var h = harness(same, snapshot)) {
            assertThat(same.hashFormat()).isEqualTo(KeyGroupHashTable.FORMAT_INVERTED_MURMUR);
        }
        for (int sub = 0; sub < 3; sub++) {
            KeyshiftRouter<String, String> r = router(3, 64);
            try (var h = harness(r, 3, sub)) {
                h.initializeState(AbstractStreamOperatorTestHarness.repartitionOperatorState(snapshot, MAX_P, 1, 3,
                        sub));
                h.open();
                assertThat(r.hashFormat()).as("subtask %d of 3", sub)
                        .isEqualTo(KeyGroupHashTable.FORMAT_INVERTED_MURMUR);
                r.apply(Plans.plan(r.planVersion() + 1, Long.MAX_VALUE, MAX_P));
            }
        }
        // a configured other format is refused: the state's keys would not be found
        OperatorSubtaskState formatTwo = snapshot;
        KeyshiftRouter<String, String> other = router(1000, false).withHashFormat(1);
        assertThatThrownBy(() -> harness(other, formatTwo)).hasStackTraceContaining("hash format 2")
                .hasStackTraceContaining("keyshift.route.hash-format is 1");
        // a savepoint of a build before format 2 names none: refused until the option says 1
        OperatorSubtaskState older = without(snapshot, KeyshiftRouter.HASH_FORMAT_STATE);
        assertThatThrownBy(() -> harness(router(1000, false), older))
                .hasStackTraceContaining("set keyshift.route.hash-format: 1");
        KeyshiftRouter<String, String> legacy = router(1000, false).withHashFormat(1);
        try (var h = harness(legacy, older)) {
            assertThat(legacy.hashFormat()).isEqualTo(KeyGroupHashTable.FORMAT_PREIMAGE_TABLE);
            plan(h, Plans.plan(legacy.planVersion() + 1, Long.MAX_VALUE, MAX_P));
            h.processElement("cold", T1 + 1);
            assertThat(envelopes(h)).last().satisfies(e -> assertThat(e.routingKey.hash)
                    .isEqualTo(one.hashFor(e.routingKey.keyGroup, "cold".hashCode())));
            snapshot = h.snapshot(2, 2);
        }
        // which it then keeps, named in its state
        KeyshiftRouter<String, String> unset = router(1000, false);
        try (var h = harness(unset, snapshot)) {
            assertThat(unset.hashFormat()).isEqualTo(KeyGroupHashTable.FORMAT_PREIMAGE_TABLE);
        }
        // a new stage takes the configured format
        KeyshiftRouter<String, String> configured = router(1000, false).withHashFormat(1);
        try (var h = harness(configured, null)) {
            assertThat(configured.hashFormat()).isEqualTo(KeyGroupHashTable.FORMAT_PREIMAGE_TABLE);
        }
        assertThatThrownBy(() -> router(1000, false).withHashFormat(3))
                .hasMessageContaining("keyshift.route.hash-format must be 1 or 2, was 3");
    }

    /** {@code state} without the operator state named {@code name}, as a savepoint of a build without it. */
    private static OperatorSubtaskState without(OperatorSubtaskState state, String name) {
        List<org.apache.flink.runtime.state.OperatorStateHandle> handles = new ArrayList<>();
        for (org.apache.flink.runtime.state.OperatorStateHandle h : state.getManagedOperatorState()) {
            java.util.Map<String, org.apache.flink.runtime.state.OperatorStateHandle.StateMetaInfo> offsets =
                    new java.util.HashMap<>(h.getStateNameToPartitionOffsets());
            assertThat(offsets.remove(name)).as("the state %s in the snapshot", name).isNotNull();
            handles.add(new org.apache.flink.runtime.state.OperatorStreamStateHandle(offsets, h.getDelegateStateHandle()));
        }
        return OperatorSubtaskState.builder()
                .setManagedOperatorState(new org.apache.flink.runtime.checkpoint.StateObjectCollection<>(handles))
                .setManagedKeyedState(state.getManagedKeyedState())
                .build();
    }

    /**
     * A rescale merges subtasks that were at different plan versions at the checkpoint: the merged subtask starts from
     * the oldest of them and takes the later versions in order, so a record that waited at the subtask behind is
     * routed by the first version whose lease covers it. It took the newest: subtask 1 was at v3, which no longer
     * knows v1's migration of "hot" (v2 kept it as retired for one plan), and subtask 0's record of the shadow phase
     * went to the new owner only, lost to the old owner's windows.
     */
    @Test
    void aRescaleOfSubtasksAtDifferentPlanVersionsRoutesTheirWaitingRecordsByTheFirstPlanThatCoversThem()
            throws Exception {
        RoutingPlan v0 = Plans.plan(0, 1_000, MAX_P);
        RoutingPlan v1 = Plans.plan(1, 4_000, MAX_P, Plans.migrating("hot", HOT, TO, T0, T1));
        RoutingPlan v2 = Plans.plan(2, 6_000, MAX_P, RouteEntry.newBuilder().setKey("hot").setNaturalKeyGroup(HOT)
                .setKeyGroup(TO).setEpoch(1).setRetired(new ArrayList<>(List.of(Plans.migration(HOT, TO, T0, T1, 1))))
                .build());
        RoutingPlan v3 = Plans.plan(3, 8_000, MAX_P, RouteEntry.newBuilder().setKey("hot").setNaturalKeyGroup(HOT)
                .setKeyGroup(TO).setEpoch(1).build());
        List<org.assertj.core.groups.Tuple> eachAtBothOwners = new ArrayList<>();
        for (int n = 0; n < 3; n++) {
            eachAtBothOwners.add(org.assertj.core.groups.Tuple.tuple(Role.MIGRATING, HOT));
            eachAtBothOwners.add(org.assertj.core.groups.Tuple.tuple(Role.SHADOW, TO));
        }
        OperatorSubtaskState[] states = new OperatorSubtaskState[2];
        for (int sub = 0; sub < 2; sub++) {
            KeyshiftRouter<String, String> r = router(2, 64);
            try (var h = harness(r, 2, sub)) {
                h.open();
                r.apply(v0);
                if (sub == 0) {
                    // three records: each new subtask of three gets one (see the end)
                    for (int n = 0; n < 3; n++) {
                        h.processElement("hot", T0 + 500 + n);
                    }
                    assertThat(r.waitingRecords()).isEqualTo(3);
                } else {
                    for (RoutingPlan v : List.of(v1, v2, v3)) {
                        r.apply(v);
                    }
                }
                states[sub] = h.snapshot(1, 1);
                r.apply(Plans.plan(r.planVersion() + 1, Long.MAX_VALUE, MAX_P));
            }
        }
        for (OperatorSubtaskState merged : List.of(AbstractStreamOperatorTestHarness.repackageState(states[0],
                states[1]), AbstractStreamOperatorTestHarness.repackageState(states[1], states[0]))) {
            KeyshiftRouter<String, String> r = router(1, 64);
            try (var h = harness(r, 1, 0)) {
                h.initializeState(merged);
                h.open();
                // the planner publishes the versions it kept again after a restore, oldest first
                for (RoutingPlan v : List.of(v0, v1, v2, v3)) {
                    r.apply(v);
                }
                assertThat(r.planVersion()).isEqualTo(3);
                assertThat(envelopes(h)).extracting(e -> e.role, e -> e.routingKey.keyGroup)
                        .containsExactlyElementsOf(eachAtBothOwners);
                r.apply(Plans.plan(4, Long.MAX_VALUE, MAX_P));
            }
        }
        // 2 -> 3: Flink hands the plans and the waiting records out each on its own, so a subtask may get v3 and the
        // record that waited under v0 (it went to the new owner alone: the old owner's window lost it)
        for (OperatorSubtaskState both : List.of(AbstractStreamOperatorTestHarness.repackageState(states[0],
                states[1]), AbstractStreamOperatorTestHarness.repackageState(states[1], states[0]))) {
        List<Envelope<String, String>> routed = new ArrayList<>();
        for (int sub = 0; sub < 3; sub++) {
            KeyshiftRouter<String, String> r = router(3, 64);
            try (var h = harness(r, 3, sub)) {
                h.initializeState(AbstractStreamOperatorTestHarness.repartitionOperatorState(both, MAX_P, 2, 3, sub));
                h.open();
                for (RoutingPlan v : List.of(v0, v1, v2, v3)) {
                    r.apply(v);
                }
                assertThat(r.planVersion()).isEqualTo(3);
                routed.addAll(envelopes(h));
                r.apply(Plans.plan(4, Long.MAX_VALUE, MAX_P));
            }
        }
        assertThat(routed).extracting(e -> e.role, e -> e.routingKey.keyGroup)
                .containsExactlyElementsOf(eachAtBothOwners);
        }
    }

    /**
     * At the same parallelism a subtask gets its own waiting records back, and releases them in the order they
     * arrived in, as a run without the restore does (records of one event time too: an order-dependent reduce or
     * process function sees what it would under keyBy).
     */
    @Test
    void aRestoreAtTheSameParallelismReleasesWaitingRecordsInTheirArrivalOrder() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            plan(h, Plans.plan(1, WINDOW, MAX_P));
            for (String k : List.of("b", "a", "c")) {
                h.processElement(k, WINDOW + 5);
            }
            assertThat(envelopes(h)).isEmpty();
            snapshot = h.snapshot(1, 1);
        }
        try (var h = harness(router(1000, false), snapshot)) {
            plan(h, Plans.plan(2, 3 * WINDOW, MAX_P));
            assertThat(envelopes(h)).extracting(e -> e.value).containsExactly("b", "a", "c");
        }
    }

    /**
     * Which piece of a split key a record goes to depends on the input alone, not on when a plan came: records that
     * wait for a lease (and across a checkpoint) go where they went when the plan came first. They took their number
     * when routed, so a record routed at once while another waited took the other's number.
     */
    @Test
    void aSplitKeysPiecesDoNotDependOnWhenThePlanCame() throws Exception {
        RoutingPlan split = Plans.plan(1, WINDOW, MAX_P, RouteEntry.newBuilder().setKey("hot")
                .setNaturalKeyGroup(HOT).setKeyGroup(HOT).setMigration(null)
                .setSplit(io.keyshift.avro.Split.newBuilder().setKeyGroups(List.of(HOT, TO, (TO + 1) % MAX_P))
                        .setFrom(0).setPreRollFrom(0).setPlannedInVersion(1).setPredictedLoad(1).build())
                .build());
        RoutingPlan next = RoutingPlan.newBuilder(split).setVersion(2).setValidUntil(3 * WINDOW).build();
        // hot records beyond the first lease, then ones within it (out of order)
        long[] times = new long[30];
        for (int n = 0; n < times.length; n++) {
            times[n] = n % 2 == 0 ? WINDOW + n : WINDOW - 100 + n;
        }
        java.util.Map<Long, Integer> early = new java.util.TreeMap<>();
        try (var h = harness()) {
            plan(h, split);
            plan(h, next);
            for (long t : times) {
                h.processElement("hot", t);
            }
            records(h).forEach(r -> early.put(r.getTimestamp(), r.getValue().routingKey.keyGroup));
        }
        java.util.Map<Long, Integer> late = new java.util.TreeMap<>();
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            plan(h, split);
            for (long t : times) {
                h.processElement("hot", t);
            }
            records(h).forEach(r -> late.put(r.getTimestamp(), r.getValue().routingKey.keyGroup));
            snapshot = h.snapshot(1, 1);
            plan(h, next);
            records(h).forEach(r -> late.put(r.getTimestamp(), r.getValue().routingKey.keyGroup));
        }
        assertThat(early).hasSize(times.length);
        assertThat(late).isEqualTo(early);
        java.util.Map<Long, Integer> restored = new java.util.TreeMap<>();
        try (var h = harness(router(1000, false), snapshot)) {
            plan(h, split);
            plan(h, next);
            records(h).forEach(r -> restored.put(r.getTimestamp(), r.getValue().routingKey.keyGroup));
        }
        assertThat(restored).hasSize(times.length / 2);
        assertThat(early).containsAllEntriesOf(restored);
    }

    /**
     * Records waiting out of event-time order (one older than the queue's tail) are released in their arrival order,
     * with or without a restore in between: the checkpoint wrote them by event time and the restore released them so,
     * while the run without it released the in-order ones first.
     */
    @Test
    void outOfOrderWaitingRecordsAreReleasedInTheirArrivalOrderWithOrWithoutARestore() throws Exception {
        List<String> uninterrupted;
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            plan(h, Plans.plan(1, WINDOW, MAX_P));
            h.processElement("b", WINDOW + 9);
            h.processElement("a", WINDOW + 5);
            h.processElement("c", WINDOW + 20);
            assertThat(envelopes(h)).isEmpty();
            snapshot = h.snapshot(1, 1);
            plan(h, Plans.plan(2, 3 * WINDOW, MAX_P));
            uninterrupted = envelopes(h).stream().map(e -> e.value).toList();
        }
        assertThat(uninterrupted).containsExactly("b", "a", "c");
        try (var h = harness(router(1000, false), snapshot)) {
            plan(h, Plans.plan(2, 3 * WINDOW, MAX_P));
            assertThat(envelopes(h)).extracting(e -> e.value).containsExactlyElementsOf(uninterrupted);
        }
    }

    /**
     * Restores one router from {@code state} (at parallelism 1), routes the waiting records and more of the split key,
     * closes the window: what it routed (key@key group) and reported.
     */
    private static List<String> restoredAtOne(OperatorSubtaskState state, RoutingPlan split) throws Exception {
        KeyshiftRouter<String, String> r = router(1, 8);
        List<String> out = new ArrayList<>();
        try (var h = harness(r, 1, 0)) {
            h.initializeState(state);
            h.open();
            // the planner's versions again after the restore, then the next
            r.apply(split);
            r.apply(RoutingPlan.newBuilder(split).setVersion(2).setValidUntil(3 * WINDOW).build());
            for (int n = 0; n < 7; n++) {
                h.processElement("hot", WINDOW + 10 + n);
            }
            h.processWatermark(new Watermark(2 * WINDOW));
            for (Object o : h.getOutput()) {
                if (o instanceof StreamRecord<?> rec && rec.getValue() instanceof Envelope<?, ?> e) {
                    out.add(e.routingKey.key + "@" + e.routingKey.keyGroup + "@" + rec.getTimestamp());
                }
            }
            h.getSideOutput(SAMPLES).forEach(rec -> {
                KeyLoadSample k = rec.getValue();
                if (k.getWindow() != null) {
                    out.add("sample " + k.getWindow().getWindowStart() + " " + k.getWindow().getHeavyHitters());
                }
            });
            r.apply(Plans.plan(r.planVersion() + 1, Long.MAX_VALUE, MAX_P));
        }
        return out;
    }

    /**
     * Below sampling rate 1 the router's checkpoint keeps the sampler's hold (held keys, overflow sketch, preserved
     * keys): the samples a restored router reports equal an uninterrupted one's.
     */
    @Test
    void belowRateOneTheSamplesAfterARestoreEqualThoseWithoutIt() throws Exception {
        java.util.function.Supplier<KeyshiftRouter<String, String>> sampling = () -> new KeyshiftRouter<>(
                new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 0.2, 100_000, false), s -> s, CODEC, Types.STRING,
                SAMPLES).withNaturalFirstWindow(false);
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        List<String> keys = new ArrayList<>();
        for (int n = 0; n < 6_000; n++) {
            keys.add("k" + (r.nextInt(3) == 0 ? r.nextInt(5) : r.nextInt(300)));
        }
        java.util.function.IntFunction<Long> time = n -> n * (3 * WINDOW) / 6_000;
        List<io.keyshift.avro.WindowSample> uninterrupted = new ArrayList<>();
        try (var h = harness(sampling.get(), null)) {
            plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P));
            for (int n = 0; n < keys.size(); n++) {
                h.processElement(keys.get(n), time.apply(n));
            }
            h.processWatermark(new Watermark(3 * WINDOW));
            reports(h).stream().filter(x -> x.getWindow() != null).forEach(x -> uninterrupted.add(x.getWindow()));
        }
        List<io.keyshift.avro.WindowSample> restored = new ArrayList<>();
        OperatorSubtaskState snapshot;
        try (var h = harness(sampling.get(), null)) {
            plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P));
            for (int n = 0; n < 2_500; n++) {
                h.processElement(keys.get(n), time.apply(n));
            }
            h.processWatermark(new Watermark(WINDOW));
            reports(h).stream().filter(x -> x.getWindow() != null).forEach(x -> restored.add(x.getWindow()));
            snapshot = h.snapshot(1, 1);
        }
        try (var h = harness(sampling.get(), snapshot)) {
            for (int n = 2_500; n < keys.size(); n++) {
                h.processElement(keys.get(n), time.apply(n));
            }
            h.processWatermark(new Watermark(3 * WINDOW));
            reports(h).stream().filter(x -> x.getWindow() != null).forEach(x -> restored.add(x.getWindow()));
        }
        assertThat(uninterrupted).hasSize(3);
        assertThat(restored).isEqualTo(uninterrupted);
    }

    /**
     * A record without a timestamp fails at the router, also one stamped Long.MIN_VALUE, Flink's "no timestamp" marker
     * (what a FLIP-27 source without a timestamp assigner gives): a keyed process function stage ran such records
     * through, with every output at Long.MIN_VALUE.
     */
    @Test
    void aRecordWithoutATimestampOrWithFlinksNoTimestampMarkerFailsAtTheRouter() throws Exception {
        try (var h = harness()) {
            // for good: every restart would meet the record again
            assertThatThrownBy(() -> h.processElement(new StreamRecord<>("hot")))
                    .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                    .rootCause().hasMessageContaining("a record has no timestamp");
            assertThatThrownBy(() -> h.processElement(new StreamRecord<>("hot", Long.MIN_VALUE))).rootCause()
                    .hasMessageContaining("a record has no timestamp")
                    .hasMessageContaining("assignTimestampsAndWatermarks");
            plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P));
        }
    }

    /**
     * A key selector that returns null fails the router for good (every restart would meet the record again; keyBy
     * restarts for ever), naming the selector and the record's class, not the record (it may hold what a key secret
     * keeps out of logs).
     */
    @Test
    void aNullKeyFailsTheRouterForGoodWithoutShowingTheRecord() throws Exception {
        var router = new KeyshiftRouter<String, String>(new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 1.0, 1000,
                false), s -> s.startsWith("anonymous") ? null : s, CODEC, Types.STRING, SAMPLES);
        try (var h = harness(router, null)) {
            assertThatThrownBy(() -> h.processElement("anonymous user 42", 5_000))
                    .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                    .rootCause().isInstanceOf(NullPointerException.class)
                    .hasMessageContaining("the key selector of Keyshift.keyBy returned null for a record of "
                            + "java.lang.String")
                    .hasMessageNotContaining("anonymous user 42");
        }
    }

    /** Planning windows cannot change across a restore: a router restored with another keyshift.window fails. */
    @Test
    void aRestoreWithAnotherPlanningWindowFailsNamingTheOption() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            h.processElement("hot", 500);
            snapshot = h.snapshot(1, 1);
        }
        var other = new KeyshiftRouter<>(new KeyshiftRouter.Settings(2 * WINDOW, MAX_P, 2, 64, 1.0, 1000, false),
                (String v) -> v, CODEC, Types.STRING, SAMPLES);
        // not closed: closing gives the router a final plan, and this one never initialized
        Harness h = new Harness(other);
        h.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
        // the same at every restart: the job fails for good
        assertThatThrownBy(() -> h.initializeState(snapshot))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("planning windows of PT10S, but keyshift.window is PT20S");
    }

    /**
     * A savepoint taken before the first plan (open windows naming raw keys) restored with a key secret added: the
     * job fails for good naming the option and no key (it restarted for ever, each time at the raw key's parse).
     */
    @Test
    void openWindowsOfAnotherKeyNamingFailTheRestoreForGood() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            h.processElement("hot-station", 500);
            snapshot = h.snapshot(1, 1);
        }
        KeyCodec<String> secret = KeyCodec.pseudonymous(CODEC,
                KeyPseudonymizer.fromSecret("router-test-secret-0123456789"));
        var other = new KeyshiftRouter<>(new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 1.0, 1000, false),
                (String v) -> v, secret, Types.STRING, SAMPLES);
        Harness h = new Harness(other);
        h.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
        assertThatThrownBy(() -> h.initializeState(snapshot))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("keyshift.privacy.key-secret")
                .satisfies(e -> assertThat(e.getCause().getMessage()).doesNotContain("hot-station"));

        // and the other way: taken with the secret, restored without it (String keys took the pseudonyms as raw keys)
        OperatorSubtaskState withSecret;
        var secretRouter = new KeyshiftRouter<>(new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 1.0, 1000, false),
                (String v) -> v, secret, Types.STRING, SAMPLES);
        try (var pseudonyms = new OneInputStreamOperatorTestHarness<>(secretRouter, MAX_P, 1, 0)) {
            pseudonyms.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
            pseudonyms.open();
            pseudonyms.processElement("hot-station", 500);
            withSecret = pseudonyms.snapshot(1, 1);
            // the final lease, named as this stage names keys, so that the router may finish
            RoutingPlan last = Plans.plan(1, Long.MAX_VALUE, MAX_P);
            last.setKeyNaming(secret.naming());
            secretRouter.apply(last);
        }
        Harness raw = new Harness(router(1000, false));
        raw.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
        assertThatThrownBy(() -> raw.initializeState(withSecret))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("the router's state names keys by pseudonym")
                .hasStackTraceContaining("keyshift.privacy.key-secret");
        // the same state of a build that did not say how it names keys (before 2026-12-07, of hash format 1): told
        // by its keys, which all have the form of pseudonyms
        OperatorSubtaskState unsaid = without(withSecret, KeyshiftRouter.HASH_FORMAT_STATE);
        Harness rawOfOld = new Harness(router(1000, false).withHashFormat(1));
        rawOfOld.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
        assertThatThrownBy(() -> rawOfOld.initializeState(unsaid))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("the router's open windows name keys by pseudonym");

        // below rate 1 with every window closed: only the keys held and preserved into the next window name them
        OperatorSubtaskState heldOnly;
        var sampling = new KeyshiftRouter<>(new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 0.5, 1000, false),
                (String v) -> v, secret, Types.STRING, SAMPLES);
        try (var pseudonyms = new OneInputStreamOperatorTestHarness<>(sampling, MAX_P, 1, 0)) {
            pseudonyms.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
            pseudonyms.open();
            for (int i = 0; i < 20; i++) {
                pseudonyms.processElement("hot-station", 10 + i);
                pseudonyms.processElement("hot-station", WINDOW + 10 + i);
            }
            pseudonyms.processWatermark(2 * WINDOW - 1);
            heldOnly = pseudonyms.snapshot(2, 2);
            RoutingPlan last = Plans.plan(1, Long.MAX_VALUE, MAX_P);
            last.setKeyNaming(secret.naming());
            sampling.apply(last);
        }
        Harness rawSampling = new Harness(new KeyshiftRouter<>(
                new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 0.5, 1000, false), (String v) -> v, CODEC,
                Types.STRING, SAMPLES));
        rawSampling.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
        assertThatThrownBy(() -> rawSampling.initializeState(heldOnly))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("the router's state names keys by pseudonym");
        Harness rawSamplingOfOld = new Harness(new KeyshiftRouter<>(
                new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 0.5, 1000, false), (String v) -> v, CODEC,
                Types.STRING, SAMPLES).withHashFormat(1));
        rawSamplingOfOld.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
        assertThatThrownBy(() -> rawSamplingOfOld.initializeState(without(heldOnly,
                KeyshiftRouter.HASH_FORMAT_STATE)))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("the router's open windows name keys by pseudonym");
    }

    /**
     * A stage without a key secret whose own keys look like pseudonyms (pre-hashed ids) restores its state where a plan
     * of the state names keys raw, as it does: the guess that such keys came from a stage with a secret refused the
     * job's own state for good.
     */
    @Test
    void ownKeysThatLookLikePseudonymsRestoreWhereAPlanNamedThemRaw() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            plan(h, Plans.plan(1, 100, MAX_P));
            h.processElement("~0123456789abcdef", 500);
            snapshot = h.snapshot(1, 1);
        }
        try (var restored = harness(router(1000, false), snapshot)) {
            plan(restored, Plans.plan(2, 1_000, MAX_P));
            assertThat(envelopes(restored)).singleElement().satisfies(e -> assertThat(e.value)
                    .isEqualTo("~0123456789abcdef"));
        }
    }

    /**
     * The same without a plan in the state (a checkpoint of the first planning window, or a subtask a scale-up
     * handed none): the state says how it names keys, and the stage's own keys restore (the guess from the keys
     * alone refused the job's own state for good).
     */
    @Test
    void ownKeysThatLookLikePseudonymsRestoreWithoutAPlan() throws Exception {
        OperatorSubtaskState snapshot = openWindowOf(CODEC, "~0123456789abcdef");
        for (int[] to : new int[][] {{1, 0}, {2, 0}, {2, 1}}) {
            var router = router(1000, false);
            var h = new OneInputStreamOperatorTestHarness<>(router, MAX_P, to[0], to[1]);
            h.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
            h.initializeState(to[0] == 1 ? snapshot
                    : AbstractStreamOperatorTestHarness.repartitionOperatorState(snapshot, MAX_P, 1, to[0], to[1]));
            h.open();
            router.apply(Plans.plan(1, Long.MAX_VALUE, MAX_P));
            h.close();
        }
    }

    /**
     * Raw keys that look like pseudonyms, restored with a key secret added and no plan in the state, or pseudonyms of
     * one secret restored under another: refused by the state's naming (the sampler took the keys for this secret's
     * pseudonyms, and the first forecasts counted such keys twice).
     */
    @Test
    void rawKeysThatLookLikePseudonymsAreRefusedUnderASecret() throws Exception {
        OperatorSubtaskState snapshot = openWindowOf(CODEC, "~0123456789abcdef");
        KeyCodec<String> secret = KeyCodec.pseudonymous(CODEC,
                KeyPseudonymizer.fromSecret("router-test-secret-0123456789"));
        Harness h = new Harness(new KeyshiftRouter<>(new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 1.0, 1000,
                false), (String v) -> v, secret, Types.STRING, SAMPLES));
        h.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
        assertThatThrownBy(() -> h.initializeState(snapshot))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("the router's state names keys raw")
                .hasStackTraceContaining("keyshift.privacy.key-secret");
        // and a state taken under one secret, restored under another, before any plan (nothing else told them apart:
        // the samples' pseudonyms of the one secret were counted beside the other's)
        OperatorSubtaskState underA = openWindowOf(secret, "hot-station");
        KeyCodec<String> otherSecret = KeyCodec.pseudonymous(CODEC,
                KeyPseudonymizer.fromSecret("router-test-other-secret-0123456789"));
        Harness b = new Harness(new KeyshiftRouter<>(new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 1.0, 1000,
                false), (String v) -> v, otherSecret, Types.STRING, SAMPLES));
        b.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
        assertThatThrownBy(() -> b.initializeState(underA))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("the router's state names keys by pseudonyms (key secret "
                        + secret.naming() + ")")
                .hasStackTraceContaining("keyshift.privacy.key-secret must stay as it was");
        // the naming entry of builds of 2026-12-07 before the secret's fingerprint (0 raw, 1 pseudonyms): raw
        // refused under a secret, pseudonyms refused without one and left to the plans under one
        for (int legacy : new int[] {0, 1}) {
            OperatorSubtaskState old;
            KeyCodec<String> writtenBy = legacy == 0 ? CODEC : secret;
            var writer = new KeyshiftRouter<>(new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 1.0, 1000, false),
                    (String v) -> v, writtenBy, Types.STRING, SAMPLES);
            try (var w = new OneInputStreamOperatorTestHarness<>(writer, MAX_P, 1, 0)) {
                w.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
                w.open();
                w.processElement("hot-station", 500);
                writer.writeLegacyNamingForTest(legacy);
                old = w.snapshot(1, 1);
                RoutingPlan last = Plans.plan(1, Long.MAX_VALUE, MAX_P);
                last.setKeyNaming(writtenBy.naming());
                writer.apply(last);
            }
            KeyCodec<String> readBy = legacy == 0 ? secret : CODEC;
            Harness r = new Harness(new KeyshiftRouter<>(new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 1.0, 1000,
                    false), (String v) -> v, readBy, Types.STRING, SAMPLES));
            r.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
            assertThatThrownBy(() -> r.initializeState(old)).as("legacy %d", legacy)
                    .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                    .hasStackTraceContaining(legacy == 0 ? "the router's state names keys raw"
                            : "the router's state names keys by pseudonyms, but this job names them raw");
        }
        // the same secret restores
        var again = new KeyshiftRouter<>(new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 1.0, 1000, false),
                (String v) -> v, secret, Types.STRING, SAMPLES);
        var same = new OneInputStreamOperatorTestHarness<>(again, MAX_P, 1, 0);
        same.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
        same.initializeState(underA);
        same.open();
        RoutingPlan last = Plans.plan(1, Long.MAX_VALUE, MAX_P);
        last.setKeyNaming(secret.naming());
        again.apply(last);
        same.close();
    }

    /**
     * The state of a router of {@code codec} (sampling rate 1) that read one record of {@code key} and no plan: the
     * open window names it; a final lease named as the codec names keys lets the router finish.
     */
    private static OperatorSubtaskState openWindowOf(KeyCodec<String> codec, String key) throws Exception {
        var router = new KeyshiftRouter<>(new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 1.0, 1000, false),
                (String v) -> v, codec, Types.STRING, SAMPLES);
        try (var h = new OneInputStreamOperatorTestHarness<>(router, MAX_P, 1, 0)) {
            h.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
            h.open();
            h.processElement(key, 500);
            OperatorSubtaskState snapshot = h.snapshot(1, 1);
            RoutingPlan last = Plans.plan(1, Long.MAX_VALUE, MAX_P);
            last.setKeyNaming(codec.naming());
            router.apply(last);
            return snapshot;
        }
    }

    /** A sampler state that does not read (damaged, or of a newer build) fails the restore for good, naming it. */
    @Test
    void anUnreadableSamplerStateFailsTheRestoreForGood() throws Exception {
        OperatorSubtaskState snapshot;
        var sampling = new KeyshiftRouter<>(new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 0.5, 1000, false),
                (String v) -> v, CODEC, Types.STRING, SAMPLES);
        try (var h = new OneInputStreamOperatorTestHarness<>(sampling, MAX_P, 1, 0)) {
            h.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
            h.open();
            h.processElement("hot-station", 500);
            // a format this build does not read
            sampling.rewriteSamplerStateForTest(hold -> {
                java.nio.ByteBuffer.wrap(hold).putInt(0, 99);
                return hold;
            });
            snapshot = h.snapshot(1, 1);
        }
        Harness restored = new Harness(router(1000, false));
        restored.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
        assertThatThrownBy(() -> restored.initializeState(snapshot))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("sampler-hold").hasStackTraceContaining("format 99");
    }

    /**
     * With pipeline.object-reuse the operator in front may hand over one object again and again, changed: a record
     * that waits for a lease is copied (the waiting records were the last record's object several times over).
     */
    @Test
    @SuppressWarnings("unchecked")
    void aWaitingRecordIsCopiedUnderObjectReuse() throws Exception {
        TypeInformation<Tuple2<String, Long>> type = Types.TUPLE(Types.STRING, Types.LONG);
        var router = new KeyshiftRouter<>(new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 1.0, 1000, false),
                (Tuple2<String, Long> v) -> v.f0, CODEC, type, SAMPLES).withNaturalFirstWindow(false);
        try (var h = new OneInputStreamOperatorTestHarness<>(router, MAX_P, 1, 0)) {
            h.getExecutionConfig().enableObjectReuse();
            h.setup(new EnvelopeSerializer<>(type.createSerializer(new SerializerConfigImpl()),
                    StringSerializer.INSTANCE));
            h.open();
            Tuple2<String, Long> reused = Tuple2.of("a", 1L);
            h.processElement(reused, 500);
            reused.f0 = "b";
            reused.f1 = 2L;
            h.processElement(reused, 600);
            assertThat(router.waitingRecords()).isEqualTo(2);
            router.apply(Plans.plan(1, WINDOW, MAX_P));
            List<String> out = new ArrayList<>();
            for (Object o : h.getOutput()) {
                if (o instanceof StreamRecord<?> r) {
                    Envelope<Tuple2<String, Long>, String> e = (Envelope<Tuple2<String, Long>, String>) r.getValue();
                    out.add(e.routingKey.key + "=" + e.value);
                }
            }
            assertThat(out).containsExactly("a=(a,1)", "b=(b,2)");
            router.apply(Plans.plan(2, Long.MAX_VALUE, MAX_P));
        }
    }

    /**
     * A plan version lost on its way (plan events are loss tolerant): the router asks the coordinator for it the
     * moment a later one arrives and applies the answer from its mailbox, with no further record or watermark (it
     * asked only with the next record, and read the answer only when its waiting records went over their bound, so an
     * idle input held the keyed stage's watermark at its lease).
     */
    @Test
    void aMissingPlanVersionIsFetchedAtOnce() throws Exception {
        var router = router(1000, false);
        List<Long> asked = new ArrayList<>();
        router.requestPlansFrom(r -> {
            asked.add(r.knownVersion());
            return java.util.concurrent.CompletableFuture.completedFuture(io.keyshift.plan.PlanRequest.response(2,
                    io.keyshift.plan.PlanEvent.encode(Plans.plan(2, 6_000, MAX_P))));
        });
        try (var h = harness(router, null)) {
            h.processElement("a", 5_000);
            plan(h, Plans.plan(1, 4_000, MAX_P));
            plan(h, Plans.plan(3, 8_000, MAX_P));
            assertThat(asked).containsExactly(1L);
            assertThat(router.planVersion()).isEqualTo(1);
            var mail = h.getTaskMailbox().tryTake(org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox
                    .MIN_PRIORITY);
            assertThat(mail).isPresent();
            mail.get().run();
            assertThat(router.planVersion()).isEqualTo(3);
            assertThat(envelopes(h)).singleElement().satisfies(e -> assertThat(e.value).isEqualTo("a"));
            assertThat(asked).as("no request more").containsExactly(1L);
        }
    }

    /**
     * The planner's final lease lost on its way to a router whose ended input still holds records beyond its lease
     * (plan events are loss tolerant, and after the final lease no later version comes that would show the gap): the
     * router asks its coordinator while it waits at the end, and finishes with the records routed (it waited in its
     * mailbox for ever).
     */
    @Test
    void aFinalLeaseLostOnItsWayIsAskedForWhileTheEndedInputWaits() {
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () -> {
            var router = router(1000, false);
            List<Long> asked = new ArrayList<>();
            router.requestPlansFrom(r -> {
                asked.add(r.knownVersion());
                return java.util.concurrent.CompletableFuture.completedFuture(io.keyshift.plan.PlanRequest.response(
                        2, io.keyshift.plan.PlanEvent.encode(Plans.plan(2, Long.MAX_VALUE, MAX_P))));
            });
            try (var h = harness(router, null)) {
                plan(h, Plans.plan(1, 4_000, MAX_P));
                h.processElement("a", 5_000);
                h.processWatermark(new Watermark(4_500));
                assertThat(envelopes(h)).isEmpty();
                router.finish();
                assertThat(asked).contains(1L);
                assertThat(router.planVersion()).isEqualTo(2);
                assertThat(envelopes(h)).singleElement().satisfies(e -> assertThat(e.value).isEqualTo("a"));
                assertThat(watermarks(h)).last().isEqualTo(Long.MAX_VALUE);
            }
        });
    }

    /**
     * A router beyond its bound waits for the plan it asked its coordinator for: an answer that comes from another
     * thread while it waits is applied and releases the waiting records; a failed poll is asked again with the next
     * record. Nothing is lost or doubled.
     */
    @Test
    void aPacedRouterAppliesThePlanThatAnswersItsPollAndAsksAgainAfterAFailedOne() throws Exception {
        var router = router(2, false);
        List<Long> asked = new ArrayList<>();
        var failed = new java.util.concurrent.CompletableFuture<org.apache.flink.runtime.operators.coordination
                .CoordinationResponse>();
        var answered = new java.util.concurrent.CompletableFuture<org.apache.flink.runtime.operators.coordination
                .CoordinationResponse>();
        router.requestPlansFrom(r -> {
            asked.add(r.knownVersion());
            return asked.size() == 1 ? failed : answered;
        });
        var rpc = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        try (var h = harness(router, null)) {
            plan(h, Plans.plan(1, 4_000, MAX_P));
            h.processWatermark(new Watermark(4_500));
            h.processElement("k0", 5_000);
            h.processElement("k1", 5_001);
            failed.completeExceptionally(new java.io.IOException("the poll was superseded"));
            h.processElement("k2", 5_002);
            assertThat(router.planVersion()).isEqualTo(1);
            rpc.schedule(() -> answered.complete(io.keyshift.plan.PlanRequest.response(2,
                    io.keyshift.plan.PlanEvent.encode(Plans.plan(2, Long.MAX_VALUE, MAX_P)))),
                    5, java.util.concurrent.TimeUnit.MILLISECONDS);
            int read = 3;
            while (router.planVersion() == 1 && read < 1_000) {
                h.processElement("k" + read, 5_000 + read);
                read++;
            }
            assertThat(router.planVersion()).isEqualTo(2);
            assertThat(asked).containsExactly(1L, 1L);
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < read; i++) {
                expected.add("k" + i);
            }
            assertThat(envelopes(h)).extracting(e -> e.value).containsExactlyElementsOf(expected);
        } finally {
            rpc.shutdownNow();
        }
    }

    @Test
    void recordsBeyondTheLeaseWaitAndKeepTheirTimestamps() throws Exception {
        try (var h = harness()) {
            h.processElement("a", 5_000);
            assertThat(envelopes(h)).isEmpty();
            plan(h, Plans.plan(1, 4_000, MAX_P));
            assertThat(envelopes(h)).isEmpty();
            plan(h, Plans.plan(2, 6_000, MAX_P));
            assertThat(records(h)).singleElement().satisfies(r -> {
                assertThat(r.getTimestamp()).isEqualTo(5_000);
                assertThat(r.getValue().value).isEqualTo("a");
            });
        }
    }

    /**
     * v1 migrates "hot" in [T0, T1); v2 folds the migration (kept as retired for one plan); v3 forgets it. A record
     * of T0 <= t < T1 that waited for a lease must be routed by v1 (old owner and shadow), even when v3 and v2 arrive
     * first: a router that jumped to v3 would send it only to the new owner, and the old owner's windows would lose it.
     */
    @Test
    void plansAreAppliedStrictlyInOrder() throws Exception {
        RoutingPlan v1 = Plans.plan(1, 4_000, MAX_P, Plans.migrating("hot", HOT, TO, T0, T1));
        RouteEntry folded = RouteEntry.newBuilder().setKey("hot").setNaturalKeyGroup(HOT).setKeyGroup(TO)
                .setEpoch(1).setRetired(new ArrayList<>(List.of(Plans.migration(HOT, TO, T0, T1, 1)))).build();
        RoutingPlan v2 = Plans.plan(2, 6_000, MAX_P, folded);
        RouteEntry home = RouteEntry.newBuilder().setKey("hot").setNaturalKeyGroup(HOT).setKeyGroup(TO).setEpoch(1)
                .build();
        RoutingPlan v3 = Plans.plan(3, 8_000, MAX_P, home);
        var router = router(1000, false);
        try (var h = harness(router, null)) {
            h.processElement("hot", T0 + 500);
            plan(h, Plans.plan(0, 1_000, MAX_P));
            assertThat(envelopes(h)).isEmpty();
            plan(h, v3);
            plan(h, v2);
            assertThat(envelopes(h)).as("v2 and v3 wait for v1").isEmpty();
            plan(h, v1);
            assertThat(envelopes(h)).extracting(e -> e.role, e -> e.routingKey.keyGroup)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(Role.MIGRATING, HOT),
                            org.assertj.core.groups.Tuple.tuple(Role.SHADOW, TO));
            h.getOutput().clear();
            // all three applied: the lease is v3's
            h.processElement("hot", 7_999);
            assertThat(envelopes(h)).singleElement().satisfies(e -> assertThat(e.routingKey.keyGroup).isEqualTo(TO));
            assertThat(router.waitingRecords()).isZero();
        }
    }

    @Test
    void theOutputWatermarkIsHeldAtTheLeaseAndBeforeTheFirstWaitingRecord() throws Exception {
        var router = router(1000, false);
        try (var h = harness(router, null)) {
            h.processWatermark(new Watermark(3_000));
            assertThat(watermarks(h)).as("no plan, no lease: nothing may pass").isEmpty();
            plan(h, Plans.plan(1, 4_000, MAX_P));
            assertThat(watermarks(h)).containsExactly(3_000L);
            h.processElement("late-enough", 5_000);
            h.processWatermark(new Watermark(9_000));
            assertThat(router.outputWatermark()).isEqualTo(3_999);
            plan(h, Plans.plan(2, 6_000, MAX_P));
            assertThat(router.outputWatermark()).isEqualTo(5_999);
            plan(h, Plans.plan(3, 20_000, MAX_P));
            assertThat(router.outputWatermark()).isEqualTo(9_000);
            // the released record comes before the watermark that passes it
            List<Object> out = new ArrayList<>(h.getOutput());
            int record = -1;
            int passing = -1;
            for (int i = 0; i < out.size(); i++) {
                if (out.get(i) instanceof StreamRecord<?> r && r.getTimestamp() == 5_000) {
                    record = i;
                }
                if (out.get(i) instanceof Watermark w && w.getTimestamp() >= 5_000 && passing < 0) {
                    passing = i;
                }
            }
            assertThat(record).isNotNegative().isLessThan(passing);
        }
    }

    @Test
    void beyondTheBoundTheRouterPacesOnlyOnceItsInputReachedTheLeaseAndLosesNothing() throws Exception {
        var router = router(2, false);
        try (var h = harness(router, null)) {
            plan(h, Plans.plan(1, 4_000, MAX_P));
            for (int i = 0; i < 5; i++) {
                h.processElement("k" + i, 5_000 + i);
            }
            assertThat(router.pacedRecords()).as("the input has not reached the lease end: the next plan needs more")
                    .isZero();
            h.processWatermark(new Watermark(4_500));
            for (int i = 5; i < 8; i++) {
                h.processElement("k" + i, 5_000 + i);
            }
            assertThat(router.pacedRecords()).isEqualTo(3);
            assertThat(router.waitingRecords()).isEqualTo(8);
            plan(h, Plans.plan(2, Long.MAX_VALUE, MAX_P));
            assertThat(envelopes(h)).extracting(e -> e.value)
                    .containsExactly("k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7");
        }
    }

    /**
     * A stream without watermarks: records wait for a plan that cannot come; the router fails naming the cause, at the
     * timeout also when no record comes after the first ones (a burst, then silence: checked with records only, it
     * waited for ever).
     */
    @Test
    void recordsWaitingWithoutAnyWatermarkFailTheRouterNamingTheCause() throws Exception {
        long limit = java.time.Duration.ofMinutes(10).toMillis();
        var router = router(2, false);
        try (var h = harness(router, null)) {
            h.setProcessingTime(0);
            h.processElement("k0", 5_000);
            h.setProcessingTime(limit - 1);
            h.processElement("k1", 5_001);
            // no record after these: the timeout's timer fails the router
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> h.setProcessingTime(limit))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no watermark reached the router in 600 s while 2 records waited")
                    .hasMessageContaining("keyshift.route.no-watermark-timeout");
        }
        var busy = router(2, false);
        try (var h = harness(busy, null)) {
            h.setProcessingTime(0);
            h.processElement("k0", 5_000);
            h.processElement("k1", 5_001);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> h.setProcessingTime(limit + 1))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no watermark reached the router in 600 s while 2 records waited");
        }
        // a watermark before the timeout: the timer finds the wait ordinary
        var late = router(2, false);
        try (var h = harness(late, null)) {
            h.setProcessingTime(0);
            h.processElement("k0", 5_000);
            h.setProcessingTime(limit / 2);
            h.processWatermark(new Watermark(1_000));
            h.setProcessingTime(2 * limit);
            assertThat(late.waitingRecords()).isEqualTo(1);
            plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P));
        }
        // (fewer waiting than max-waiting-records: a watermark that stays where it is with a few records waiting is
        // a slow stream, not a stalled one; see aRouterWhoseOwnWatermarkStallsBelowTheLeaseFailsNamingTheCause)
        var ordinary = router(100, false);
        try (var h = harness(ordinary, null)) {
            h.setProcessingTime(0);
            h.processWatermark(new Watermark(1_000));
            for (int i = 0; i < 5; i++) {
                h.processElement("k" + i, 5_000 + i);
            }
            h.setProcessingTime(10 * limit);
            h.processElement("k5", 5_005);
            assertThat(ordinary.waitingRecords()).isEqualTo(6);
        }
        // 0: never
        var patient = router(2, false).withNoWatermarkTimeout(java.time.Duration.ZERO);
        try (var h = harness(patient, null)) {
            h.setProcessingTime(0);
            h.processElement("k0", 5_000);
            h.setProcessingTime(10 * limit);
            h.processElement("k1", 5_001);
            assertThat(patient.waitingRecords()).isEqualTo(2);
            plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P));
        }
        // a timeout under a second is said in milliseconds (it read "in 0 s")
        var quick = router(2, false).withNoWatermarkTimeout(java.time.Duration.ofMillis(500));
        try (var h = harness(quick, null)) {
            h.setProcessingTime(0);
            h.processElement("k0", 5_000);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> h.setProcessingTime(500))
                    .hasMessageContaining("no watermark reached the router in 500 ms while 1 records waited");
        }
    }

    /**
     * The job restarted after the failure above (its restart strategy allows it), the records waiting restored, and no
     * record comes (the empty partition still holds the watermark back): the router fails again at the timeout. It
     * had checked with records only and waited silently for ever. A watermark that comes in time ends the check.
     */
    @Test
    void aRouterRestoredWithRecordsWaitingAndNoWatermarkFailsAgainWithoutAnyRecord() throws Exception {
        long limit = java.time.Duration.ofMinutes(10).toMillis();
        OperatorSubtaskState snapshot;
        try (var h = harness(router(2, false), null)) {
            h.setProcessingTime(0);
            h.processElement("k0", 5_000);
            h.processElement("k1", 5_001);
            snapshot = h.snapshot(1, 1);
        }
        var restarted = router(2, false);
        try (var h = harness(restarted, snapshot)) {
            assertThat(restarted.waitingRecords()).isEqualTo(2);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> h.setProcessingTime(limit))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no watermark reached the router in 600 s while 2 records waited");
        }
        var healthy = router(2, false);
        try (var h = harness(healthy, snapshot)) {
            h.processWatermark(new Watermark(1_000));
            h.setProcessingTime(2 * limit);
            assertThat(healthy.waitingRecords()).isEqualTo(2);
            plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P));
        }
        // an input its source marks idle (withIdleness, as the failure's message advises) is no missing watermark:
        // the restored router waited for a plan and failed every 10 minutes until its partition had data again
        var quiet = router(2, false);
        try (var h = harness(quiet, snapshot)) {
            h.processWatermarkStatus(org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.IDLE);
            h.setProcessingTime(3 * limit);
            assertThat(quiet.waitingRecords()).isEqualTo(2);
            // active again with still no watermark: the timeout starts anew from there
            h.processWatermarkStatus(org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.ACTIVE);
            h.setProcessingTime(4 * limit - 1);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> h.setProcessingTime(4 * limit))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no watermark reached the router in 600 s while 2 records waited");
        }
    }

    /**
     * A router whose own watermark stalls below the lease (a partition it reads gives no record and has no idle
     * timeout) while more records than max-waiting-records keep coming to wait: it may not pace (the next plan needs
     * its watermark), and they grew on the heap until memory ran out, and again after every restart. It fails at the
     * no-watermark timeout, naming the cause; a watermark that moves starts the timeout anew.
     */
    @Test
    void aRouterWhoseOwnWatermarkStallsBelowTheLeaseFailsNamingTheCause() throws Exception {
        long limit = java.time.Duration.ofMinutes(10).toMillis();
        var router = router(2, false);
        try (var h = harness(router, null)) {
            h.setProcessingTime(0);
            plan(h, Plans.plan(1, 4_000, MAX_P));
            h.processWatermark(new Watermark(2_500));
            for (int i = 0; i < 10; i++) {
                h.processElement("k" + i, 5_000 + i);
            }
            h.setProcessingTime(limit - 1);
            h.processElement("k10", 5_010);
            // the watermark moves (still below the lease's end): the timeout starts anew
            h.processWatermark(new Watermark(2_600));
            h.setProcessingTime(limit + 1);
            h.processElement("k11", 5_011);
            h.setProcessingTime(2 * limit);
            h.processElement("k12", 5_012);
            assertThat(router.waitingRecords()).isEqualTo(13);
            h.setProcessingTime(2 * limit + 2);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> h.processElement("k13", 5_013))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("the router's watermark has stayed at 1970-01-01T00:00:02.600Z for 600 s")
                    .hasMessageContaining("withIdleness")
                    .hasMessageContaining("keyshift.route.no-watermark-timeout");
        }
        // 0: never
        var patient = router(2, false).withNoWatermarkTimeout(java.time.Duration.ZERO);
        try (var h = harness(patient, null)) {
            h.setProcessingTime(0);
            plan(h, Plans.plan(1, 4_000, MAX_P));
            h.processWatermark(new Watermark(2_500));
            for (int i = 0; i < 10; i++) {
                h.setProcessingTime(i * limit);
                h.processElement("k" + i, 5_000 + i);
            }
            assertThat(patient.waitingRecords()).isEqualTo(10);
        }
    }

    @Test
    void waitingRecordsAndThePlanSurviveSnapshotAndRestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            plan(h, Plans.plan(1, 4_000, MAX_P, Plans.migrating("hot", HOT, TO, T0, T1)));
            h.processElement("hot", 5_000);
            h.processElement("cold", 6_000);
            snapshot = h.snapshot(1, 1);
        }
        var router = router(1000, false);
        try (var h = harness(router, snapshot)) {
            assertThat(router.waitingRecords()).isEqualTo(2);
            h.processElement("hot", T1 - 1);
            assertThat(envelopes(h)).as("the restored plan routes what its lease covers").hasSize(2)
                    .extracting(e -> e.role).containsExactly(Role.MIGRATING, Role.SHADOW);
            h.getOutput().clear();
            plan(h, Plans.plan(2, 10_000, MAX_P, Plans.migrating("hot", HOT, TO, T0, T1)));
            assertThat(records(h)).extracting(StreamRecord::getTimestamp).containsExactly(5_000L, 6_000L);
            assertThat(envelopes(h).get(0).routingKey.keyGroup).isEqualTo(TO);
        }
    }

    @Test
    void refusesAPlanForAnotherMaxParallelism() throws Exception {
        try (var h = harness()) {
            assertThatThrownBy(() -> plan(h, Plans.plan(1, 4_000, 256)))
                    .hasMessageContaining("maxParallelism 256").hasMessageContaining("128");
        }
    }

    @Test
    void aKeyedProcessFunctionStageGetsMarkersOnceAndEpochsPerStay() throws Exception {
        var router = router(1000, true);
        try (var h = harness(router, null)) {
            plan(h, Plans.plan(1, 4_000, MAX_P, Plans.migrating("hot", HOT, TO, T0, T1)));
            List<StreamRecord<Envelope<String, String>>> markers = records(h);
            assertThat(markers).hasSize(2).allSatisfy(r -> assertThat(r.getTimestamp()).isEqualTo(T0));
            assertThat(markers.get(0).getValue().role).isEqualTo(Role.MIGRATE_OUT);
            assertThat(markers.get(0).getValue().routingKey.keyGroup).isEqualTo(HOT);
            assertThat(markers.get(0).getValue().routingKey.epoch).isZero();
            assertThat(markers.get(1).getValue().role).isEqualTo(Role.MIGRATE_IN);
            assertThat(markers.get(1).getValue().routingKey.keyGroup).isEqualTo(TO);
            assertThat(markers.get(1).getValue().routingKey.epoch).as("the new stay's epoch: the planning version")
                    .isEqualTo(1);
            assertThat(markers).allSatisfy(r -> assertThat(r.getValue().switchAt).isEqualTo(T1));
            h.getOutput().clear();

            plan(h, Plans.plan(2, 6_000, MAX_P, Plans.migrating("hot", HOT, TO, T0, T1)));
            assertThat(envelopes(h)).as("a migration already announced is not announced again").isEmpty();
            h.processElement("hot", T1);
            assertThat(envelopes(h)).singleElement().satisfies(e -> {
                assertThat(e.routingKey.keyGroup).isEqualTo(TO);
                assertThat(e.routingKey.epoch).isEqualTo(1);
            });
        }
    }

    /**
     * Sampling-rate commands: one known before the job starts applies exactly from its window; one that comes with a
     * plan applies to the windows the router opens after it.
     */
    @Test
    void samplingRatesKnownInAdvanceOrCarriedByAPlanApplyToTheirWindows() throws Exception {
        try (var h = harness(router(1000, false).withSamplingRates(java.util.Map.of(WINDOW, 0.5)), null)) {
            io.keyshift.avro.RoutingPlan p = Plans.plan(1, Long.MAX_VALUE, MAX_P);
            p.setControl(io.keyshift.avro.PlanControl.newBuilder().setFrozen(false).setPinnedKeys(List.of())
                    .setRollbackToVersion(-1).setCommandsApplied(0).setCommandsRejected(0)
                    .setSamplingRates(List.of(new io.keyshift.avro.SamplingRateChange(3 * WINDOW, 0.25))).build());
            h.processElement("a", 10);
            h.processElement("a", WINDOW + 10);
            plan(h, p);
            h.processElement("a", 2 * WINDOW + 10);
            h.processElement("a", 3 * WINDOW + 10);
            h.processWatermark(new Watermark(4 * WINDOW));
            java.util.Map<Long, Double> rates = new java.util.TreeMap<>();
            h.getSideOutput(SAMPLES).forEach(r -> {
                if (r.getValue().getWindow() != null) {
                    rates.put(r.getValue().getWindow().getWindowStart(), r.getValue().getWindow().getSamplingRate());
                }
            });
            assertThat(rates).containsExactly(java.util.Map.entry(0L, 1.0), java.util.Map.entry(WINDOW, 0.5),
                    java.util.Map.entry(2 * WINDOW, 0.5), java.util.Map.entry(3 * WINDOW, 0.25));
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> router(1000, false)
                .withSamplingRates(java.util.Map.of(0L, 2.0))).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * After a rescale of subtasks at different plan versions, the router starts from the oldest plan (see above) but
     * already samples by the rates the later versions carried: a window it opens before those versions come again is
     * sampled at the rate the subtasks that kept running use (it was sampled at the oldest plan's).
     */
    @Test
    void aRescaledRouterSamplesByTheRatesOfTheLatestPlanItWasHanded() throws Exception {
        RoutingPlan v1 = Plans.plan(1, 10 * WINDOW, MAX_P);
        RoutingPlan v2 = Plans.plan(2, 20 * WINDOW, MAX_P);
        v2.setControl(io.keyshift.avro.PlanControl.newBuilder().setFrozen(false).setPinnedKeys(List.of())
                .setRollbackToVersion(-1).setCommandsApplied(1).setCommandsRejected(0)
                .setSamplingRates(List.of(new io.keyshift.avro.SamplingRateChange(3 * WINDOW, 0.25))).build());
        OperatorSubtaskState[] states = new OperatorSubtaskState[2];
        for (int sub = 0; sub < 2; sub++) {
            KeyshiftRouter<String, String> r = router(2, 64);
            try (var h = harness(r, 2, sub)) {
                h.open();
                r.apply(v1);
                if (sub == 1) {
                    r.apply(v2);
                }
                states[sub] = h.snapshot(1, 1);
            }
        }
        KeyshiftRouter<String, String> r = router(1, 64);
        try (var h = harness(r, 1, 0)) {
            h.initializeState(AbstractStreamOperatorTestHarness.repackageState(states[0], states[1]));
            h.open();
            assertThat(r.planVersion()).as("no plan until the planner publishes its versions again").isZero();
            h.processElement("a", 2 * WINDOW + 10);
            h.processElement("a", 3 * WINDOW + 10);
            h.processWatermark(new Watermark(4 * WINDOW));
            java.util.Map<Long, Double> rates = new java.util.TreeMap<>();
            h.getSideOutput(SAMPLES).forEach(s -> {
                if (s.getValue().getWindow() != null) {
                    rates.put(s.getValue().getWindow().getWindowStart(), s.getValue().getWindow().getSamplingRate());
                }
            });
            assertThat(rates).containsExactly(java.util.Map.entry(2 * WINDOW, 1.0),
                    java.util.Map.entry(3 * WINDOW, 0.25));
            // the planner's versions again, and the final lease (the harness closes once every record is routed)
            r.apply(v1);
            r.apply(v2);
            r.apply(Plans.plan(3, Long.MAX_VALUE, MAX_P));
        }
    }

    /** A plan that names keys otherwise (made under another key secret, or with or without one) is refused. */
    @Test
    void aPlanThatNamesKeysOtherwiseIsRefused() throws Exception {
        KeyshiftRouter<String, String> router = router(1000, false);
        OneInputStreamOperatorTestHarness<String, Envelope<String, String>> h =
                new OneInputStreamOperatorTestHarness<>(router, MAX_P, 1, 0);
        h.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
        h.open();
        RoutingPlan p = Plans.plan(1, Long.MAX_VALUE, MAX_P);
        p.setKeyNaming(KeyPseudonymizer.naming(KeyPseudonymizer.fromSecret("router-test-secret-0123")));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> router.apply(p))
                .hasStackTraceContaining("names keys by pseudonyms")
                .hasStackTraceContaining("keyshift.privacy.key-secret");
    }

    /**
     * A final lease of a build before 2026-12-03 set no naming, which reads as the default "raw": a router under a key
     * secret takes it (the planner judges the plan before it), as the check meant to (it tested for null, which Avro
     * never gives); a plan with a lease of its own that says raw is still refused.
     */
    @Test
    void anOldFinalLeaseWithTheDefaultNamingIsTakenUnderAKeySecret() throws Exception {
        KeyCodec<String> secret = KeyCodec.pseudonymous(CODEC,
                KeyPseudonymizer.fromSecret("router-test-secret-0123456789"));
        var router = new KeyshiftRouter<>(new KeyshiftRouter.Settings(WINDOW, MAX_P, 2, 64, 1.0, 1000, false),
                (String v) -> v, secret, Types.STRING, SAMPLES);
        try (var h = new OneInputStreamOperatorTestHarness<>(router, MAX_P, 1, 0)) {
            h.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
            h.open();
            RoutingPlan leased = Plans.plan(1, 10 * WINDOW, MAX_P);
            assertThat(leased.getKeyNaming().toString()).isEqualTo("raw");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> router.apply(leased))
                    .hasStackTraceContaining("keyshift.privacy.key-secret");
            RoutingPlan finalLease = Plans.plan(2, Long.MAX_VALUE, MAX_P);
            router.apply(finalLease);
        }
    }

    @Test
    void reportsTheKeySampleOfAWindowAndTheLoadItRouted() throws Exception {
        try (var h = harness()) {
            plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P, Plans.migrating("hot", HOT, TO, T0, T1)));
            for (int i = 0; i < 30; i++) {
                h.processElement("hot", 2_000 + i * 10);
            }
            h.processElement("cold", 9_000);
            h.processWatermark(new Watermark(WINDOW));
            List<KeyLoadSample> reports = new ArrayList<>();
            h.getSideOutput(SAMPLES).forEach(r -> reports.add(r.getValue()));
            KeyLoadSample sample = reports.stream().filter(r -> r.getWindow() != null).findFirst().orElseThrow();
            assertThat(sample.getWindow().getWindowStart()).isZero();
            assertThat(sample.getWindow().getWindowEnd()).isEqualTo(WINDOW);
            assertThat(sample.getWindow().getRecords()).isEqualTo(31);
            assertThat(sample.getWindow().getKeyGroupCounts().get(HOT)).isEqualTo(30);
            assertThat(sample.getWindow().getHeavyHitters()).anySatisfy(hh -> {
                assertThat(hh.getKey().toString()).isEqualTo("hot");
                assertThat(hh.getEstimate()).isEqualTo(30);
            });
            assertThat(sample.getWatermark()).isLessThan(WINDOW);
            assertThat(sample.getPlanVersion()).isEqualTo(1);

            KeyLoadSample load = reports.stream().filter(r -> r.getLoad() != null).findFirst().orElseThrow();
            // every "hot" record lies in [T0, T1): its primary copy went to the old owner, its shadow to the new one
            assertThat(load.getLoad().getRoutedKeyGroupCounts().get(HOT)).isEqualTo(30);
            assertThat(load.getLoad().getShadowKeyGroupCounts().get(TO)).isEqualTo(30);
            assertThat(load.getLoad().getShadowKeyGroupCounts().stream().mapToLong(Long::longValue).sum())
                    .isEqualTo(30);
            assertThat(load.getLoad().getRoutedKeyGroupCounts().stream().mapToLong(Long::longValue).sum())
                    .isEqualTo(31);
        }
    }

    /**
     * A late record (its window closed and reported already) is routed, but neither its sample nor its load goes to
     * the profiler a second time: whether a second report counted depended on when the other routers' reports came.
     */
    @Test
    void aLateRecordIsRoutedButReportsItsClosedWindowNoSecondTime() throws Exception {
        try (var h = harness()) {
            plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P));
            h.processElement("cold", 1_000);
            h.processWatermark(new Watermark(WINDOW + 10));
            int reported = h.getSideOutput(SAMPLES).size();
            h.processElement("late", 2_000);
            h.processWatermark(new Watermark(2 * WINDOW));
            List<KeyLoadSample> reports = new ArrayList<>();
            h.getSideOutput(SAMPLES).forEach(r -> reports.add(r.getValue()));
            assertThat(reports.subList(reported, reports.size()))
                    .allSatisfy(r -> assertThat(r.getWindow()).isNull())
                    .allSatisfy(r -> assertThat(r.getLoad()).isNull());
            assertThat(reports).filteredOn(r -> r.getWindow() != null).singleElement()
                    .satisfies(r -> assertThat(r.getWindow().getRecords()).isEqualTo(1));
            assertThat(h.getOutput()).filteredOn(o -> o instanceof StreamRecord<?>).hasSize(2);
        }
        // the same after a restore from a checkpoint taken once the window had been reported
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P));
            h.processElement("cold", 1_000);
            h.processWatermark(new Watermark(WINDOW + 10));
            snapshot = h.snapshot(1, 1);
        }
        try (var h = harness(router(1000, false), snapshot)) {
            plan(h, Plans.plan(2, Long.MAX_VALUE, MAX_P));
            h.processElement("late", 2_000);
            h.processWatermark(new Watermark(2 * WINDOW));
            List<KeyLoadSample> reports = new ArrayList<>();
            h.getSideOutput(SAMPLES).forEach(r -> reports.add(r.getValue()));
            assertThat(reports).allSatisfy(r -> {
                assertThat(r.getWindow()).isNull();
                assertThat(r.getLoad()).isNull();
            });
        }
    }

    /**
     * A router whose input turns idle mid-window reports what it counted of its open windows at once: the profiler
     * passes an idle subtask by, and closed those windows without its sample, which came later and was dropped as late.
     * The samples' reports say active and the report after them idle: from a subtask's first idle report on the
     * profiler may close every window the others have passed, and the second of two open windows' samples, both
     * reported idle, came after its window had closed and was dropped.
     */
    @Test
    void anInputThatTurnsIdleReportsItsOpenWindowsAtOnce() throws Exception {
        try (var h = harness()) {
            plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P));
            h.processElement("a", 1_000);
            h.processElement("b", 2_000);
            h.processElement("c", WINDOW + 1_000);
            h.processWatermark(new Watermark(2_500));
            h.processWatermarkStatus(WatermarkStatus.IDLE);
            List<KeyLoadSample> reports = new ArrayList<>();
            h.getSideOutput(SAMPLES).forEach(r -> reports.add(r.getValue()));
            assertThat(reports).filteredOn(r -> r.getWindow() != null).hasSize(2).allSatisfy(r -> {
                assertThat(r.getIdle()).as("a sample's report").isFalse();
                assertThat(r.getWindow().getRecords()).isEqualTo(r.getWindow().getWindowStart() == 0 ? 2 : 1);
            });
            assertThat(reports).last().satisfies(r -> assertThat(r.getIdle()).isTrue());
            // the loads go with the output's idleness (false until after them), the input's is idle by then
            assertThat(reports).filteredOn(r -> r.getLoad() != null).hasSize(2).allSatisfy(r -> {
                assertThat(r.getIdle()).isTrue();
                assertThat(r.getOutputIdle()).isFalse();
                assertThat(r.getLoad().getRoutedKeyGroupCounts().stream().mapToLong(Long::longValue).sum())
                        .isEqualTo(r.getLoad().getWindowStart() == 0 ? 2 : 1);
            });
            // back and on past the windows' ends: nothing of them is reported again
            h.processWatermarkStatus(WatermarkStatus.ACTIVE);
            h.processWatermark(new Watermark(3 * WINDOW));
            List<KeyLoadSample> after = new ArrayList<>();
            h.getSideOutput(SAMPLES).forEach(r -> after.add(r.getValue()));
            assertThat(after).filteredOn(r -> r.getWindow() != null || r.getLoad() != null).hasSize(4);
            assertThat(after).last().satisfies(r -> assertThat(r.getIdle()).isFalse());
        }
    }

    @Test
    void aRouterThatTheKeyedStageFollowsReportsItsOwnParallelismAsTheStages() throws Exception {
        for (boolean follows : new boolean[] {true, false}) {
            KeyshiftRouter<String, String> router = new KeyshiftRouter<>(new KeyshiftRouter.Settings(WINDOW, MAX_P, 2,
                    64, 1.0, 1000, false, follows), s -> s, CODEC, Types.STRING, SAMPLES);
            // the job was built at parallelism 2 and runs at 3 after a rescale
            try (Harness h = new Harness(router, 3)) {
                h.setup(new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE));
                h.open();
                plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P));
                h.processElement("cold", 9_000);
                h.processWatermark(new Watermark(WINDOW));
                List<KeyLoadSample> reports = new ArrayList<>();
                h.getSideOutput(SAMPLES).forEach(r -> reports.add(r.getValue()));
                KeyLoadSample load = reports.stream().filter(r -> r.getLoad() != null).findFirst().orElseThrow();
                assertThat(load.getSubtasks()).isEqualTo(3);
                assertThat(load.getLoad().getParallelism()).as("follows " + follows).isEqualTo(follows ? 3 : 2);
            }
        }
    }

    /**
     * An idle router reports each plan version it takes: the planner keeps every plan from the oldest version a router
     * reported routing by, and a router idle from the start (no Kafka partition of its own) reported version 0 once,
     * so the planner's history, in every checkpoint, grew by a plan per window.
     */
    @Test
    void anIdleRouterReportsThePlanVersionItRoutesBy() throws Exception {
        try (var h = harness()) {
            h.processWatermarkStatus(WatermarkStatus.IDLE);
            for (int v = 1; v <= 3; v++) {
                plan(h, Plans.plan(v, v * WINDOW, MAX_P));
            }
            List<KeyLoadSample> reports = new ArrayList<>();
            h.getSideOutput(SAMPLES).forEach(r -> reports.add(r.getValue()));
            assertThat(reports).last().satisfies(r -> {
                assertThat(r.getIdle()).isTrue();
                assertThat(r.getPlanVersion()).isEqualTo(3);
            });
            // an active router reports with its watermarks, not once per plan
            int before = reports.size();
            h.processWatermarkStatus(WatermarkStatus.ACTIVE);
            h.getSideOutput(SAMPLES).clear();
            plan(h, Plans.plan(4, 4 * WINDOW, MAX_P));
            assertThat(h.getSideOutput(SAMPLES)).isEmpty();
            assertThat(before).isGreaterThanOrEqualTo(4);
        }
    }

    @Test
    void anIdleInputIsForwardedOnlyOnceNothingWaits() throws Exception {
        try (var h = harness()) {
            plan(h, Plans.plan(1, 4_000, MAX_P));
            h.processElement("a", 5_000);
            h.processWatermarkStatus(WatermarkStatus.IDLE);
            assertThat(h.getOutput()).noneMatch(o -> o instanceof WatermarkStatus);
            plan(h, Plans.plan(2, 6_000, MAX_P));
            assertThat(h.getOutput()).filteredOn(o -> o instanceof WatermarkStatus)
                    .containsExactly(WatermarkStatus.IDLE);
        }
    }

    /**
     * An input that idles while a record waits for a lease is idle to the profiler's samples but not to its loads: the
     * output turns idle (and the reports say so) only after the lease let the record go and its load was reported.
     */
    @Test
    void theOutputIsReportedIdleOnlyAfterTheWaitingRecordsLoad() throws Exception {
        try (var h = harness()) {
            plan(h, Plans.plan(1, 4_000, MAX_P));
            h.processElement("a", 5_000);
            h.processWatermarkStatus(WatermarkStatus.IDLE);
            List<KeyLoadSample> reports = new ArrayList<>();
            h.getSideOutput(SAMPLES).forEach(r -> reports.add(r.getValue()));
            assertThat(reports).last().satisfies(r -> {
                assertThat(r.getIdle()).isTrue();
                assertThat(r.getOutputIdle()).isFalse();
            });
            h.getSideOutput(SAMPLES).clear();
            plan(h, Plans.plan(2, 6_000, MAX_P));
            List<KeyLoadSample> after = new ArrayList<>();
            h.getSideOutput(SAMPLES).forEach(r -> after.add(r.getValue()));
            int load = -1;
            for (int i = 0; i < after.size(); i++) {
                if (after.get(i).getLoad() != null) {
                    load = i;
                    assertThat(after.get(i).getOutputIdle()).as("the load's report").isFalse();
                    assertThat(after.get(i).getLoad().getRoutedKeyGroupCounts().stream().mapToLong(Long::longValue)
                            .sum()).isEqualTo(1);
                }
            }
            assertThat(load).as("a load report").isNotNegative();
            assertThat(after.subList(load + 1, after.size())).isNotEmpty()
                    .last().satisfies(r -> assertThat(r.getOutputIdle()).isTrue());
        }
    }

    /**
     * A record that comes after the router forwarded IDLE (a source sends it before the status that makes it active
     * again) and waits for a lease makes the output ACTIVE and tells the profiler: it waited under IDLE, the profiler
     * closed its window's loads without its copies and the keyed stage passed the channel by.
     */
    @Test
    void aRecordThatWaitsAfterTheOutputWentIdleMakesItActive() throws Exception {
        try (var h = harness()) {
            plan(h, Plans.plan(1, 4_000, MAX_P));
            h.processWatermark(new Watermark(10_000));
            h.processWatermarkStatus(WatermarkStatus.IDLE);
            h.getSideOutput(SAMPLES).clear();
            h.processElement("a", 5_000);
            assertThat(h.getOutput()).filteredOn(o -> o instanceof WatermarkStatus)
                    .containsExactly(WatermarkStatus.IDLE, WatermarkStatus.ACTIVE);
            assertThat(h.getOutput()).filteredOn(o -> o instanceof StreamRecord<?>).isEmpty();
            List<KeyLoadSample> reports = new ArrayList<>();
            h.getSideOutput(SAMPLES).forEach(r -> reports.add(r.getValue()));
            assertThat(reports).last().satisfies(r -> assertThat(r.getOutputIdle()).isFalse());
            h.getOutput().clear();
            // the lease lets it go: out, then IDLE again
            plan(h, Plans.plan(2, 6_000, MAX_P));
            assertThat(h.getOutput()).filteredOn(o -> o instanceof StreamRecord<?>).hasSize(1);
            assertThat(h.getOutput()).filteredOn(o -> o instanceof WatermarkStatus).last()
                    .isEqualTo(WatermarkStatus.IDLE);
        }
    }

    /**
     * A later lease moves the output watermark while the input idles (its watermark ran ahead of the lease): Flink's
     * outputs drop a watermark while the announced status is IDLE, so it goes out between ACTIVE and IDLE.
     */
    @Test
    void aWatermarkWhileIdleGoesOutBetweenActiveAndIdle() throws Exception {
        try (var h = harness()) {
            plan(h, Plans.plan(1, 4_000, MAX_P));
            h.processWatermark(new Watermark(10_000));
            h.processWatermarkStatus(WatermarkStatus.IDLE);
            assertThat(h.getOutput()).filteredOn(o -> o instanceof WatermarkStatus)
                    .containsExactly(WatermarkStatus.IDLE);
            h.getOutput().clear();
            plan(h, Plans.plan(2, 6_000, MAX_P));
            assertThat(h.getOutput()).filteredOn(o -> o instanceof WatermarkStatus || o instanceof Watermark)
                    .containsExactly(WatermarkStatus.ACTIVE, new Watermark(5_999), WatermarkStatus.IDLE);
        }
    }

    @Test
    void aTimestampWithinAWindowOfTheEndOrTheBeginningOfTimeFailsNamingIt() throws Exception {
        try (var h = harness()) {
            plan(h, Plans.plan(1, Long.MAX_VALUE, MAX_P));
            // for good: every restart would meet the record again
            assertThatThrownBy(() -> h.processElement("a", Long.MAX_VALUE))
                    .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class).rootCause()
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("end of time");
            // floorDiv(t, w) * w overflows there (unless w divides 2^63): the window would start near Long.MAX_VALUE
            assertThatThrownBy(() -> h.processElement("a", Long.MIN_VALUE + 1)).rootCause()
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("beginning of time");
        }
    }

    /**
     * A router in a task (it has a coordinator) takes plan events through the stage's shared decoding: it routes by
     * them, drops a version it has by its number, and leaves the shared scope when it closes.
     */
    @Test
    void planEventsAreDecodedThroughTheStagesSharedPlans() throws Exception {
        int scopes = SharedPlans.scopes();
        var router = router(1000, false);
        List<org.apache.flink.runtime.operators.coordination.OperatorEvent> sent = new ArrayList<>();
        router.setCoordinatorGateway(sent::add);
        try (var h = harness(router, null)) {
            assertThat(SharedPlans.scopes()).isEqualTo(scopes + 1);
            assertThat(sent).singleElement().isInstanceOf(RouterReady.class);
            router.handleOperatorEvent(io.keyshift.plan.PlanEvent.of(Plans.plan(1, Long.MAX_VALUE, MAX_P,
                    Plans.migrating("hot", HOT, TO, T0, T1)), 0));
            // an older version of other contents: dropped by its number alone
            router.handleOperatorEvent(io.keyshift.plan.PlanEvent.of(Plans.plan(1, 10, MAX_P), 0));
            assertThat(router.planVersion()).isEqualTo(1);
            h.processElement("hot", T1);
            h.processElement("cold", T1);
            assertThat(envelopes(h)).extracting(e -> e.value + "@" + e.routingKey.keyGroup).containsExactly(
                    "hot@" + TO, "cold@" + KeyGroupRangeAssignment.assignToKeyGroup("cold", MAX_P));
        }
        assertThat(SharedPlans.scopes()).isEqualTo(scopes);
    }

    /**
     * A subtask whose input ended with every record routed finishes at once, without the planner's final lease: its
     * output watermark goes to the end, its last window's load is reported, and later plans change nothing. (Waiting
     * for the final lease deadlocked behind Flink's watermark alignment: a finishing source does not report its end.)
     */
    @Test
    void anEndedInputWithNothingWaitingFinishesWithoutTheFinalLease() throws Exception {
        try (var h = harness()) {
            KeyshiftRouter<String, String> router = (KeyshiftRouter<String, String>) h.getOperator();
            plan(h, Plans.plan(1, 2 * WINDOW, MAX_P));
            h.processElement("a", WINDOW + 5);
            h.processWatermark(new Watermark(WINDOW + 5));
            h.getSideOutput(SAMPLES).clear();
            router.finish();
            assertThat(watermarks(h)).last().isEqualTo(Long.MAX_VALUE);
            List<KeyLoadSample> reports = new ArrayList<>();
            h.getSideOutput(SAMPLES).forEach(r -> reports.add(r.getValue()));
            assertThat(reports).filteredOn(r -> r.getLoad() != null).singleElement()
                    .satisfies(r -> assertThat(r.getLoad().getWindowStart()).isEqualTo(WINDOW));
            assertThat(reports).last().satisfies(r -> {
                assertThat(r.getWatermark()).isEqualTo(Long.MAX_VALUE);
                assertThat(r.getOutputWatermark()).isEqualTo(Long.MAX_VALUE);
                // it holds no older plan back at the coordinator
                assertThat(r.getPlanVersion()).isEqualTo(Long.MAX_VALUE);
            });
            int before = h.getOutput().size();
            router.handleOperatorEvent(io.keyshift.plan.PlanEvent.of(Plans.plan(2, Long.MAX_VALUE, MAX_P,
                    Plans.migrating("hot", HOT, TO, T0, T1)), 0));
            assertThat(h.getOutput()).hasSize(before);
            assertThat(router.planVersion()).isEqualTo(1);
        }
    }
}
