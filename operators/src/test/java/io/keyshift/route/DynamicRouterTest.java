package io.keyshift.route;

import io.keyshift.avro.RoutingPlan;
import io.keyshift.event.Event;

import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The router under Flink's operator test harness: migration phases, leases, watermarks, snapshot/restore. */
class DynamicRouterTest {
    private static final int MAX_P = 128;
    private static final long T0 = 10_000;
    private static final long T1 = 20_000;

    private static TwoInputStreamOperatorTestHarness<Event, RoutingPlan, Envelope> harness() throws Exception {
        TwoInputStreamOperatorTestHarness<Event, RoutingPlan, Envelope> h =
                new TwoInputStreamOperatorTestHarness<>(new DynamicRouter(T1 - T0), MAX_P, 1, 0);
        h.setup();
        h.open();
        return h;
    }

    private static List<Envelope> envelopes(TwoInputStreamOperatorTestHarness<Event, RoutingPlan, Envelope> h) {
        List<Envelope> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                out.add((Envelope) r.getValue());
            }
        }
        return out;
    }

    @Test
    void routesByMigrationPhaseOfTheEventTime() throws Exception {
        int from = KeyGroupRangeAssignment.assignToKeyGroup("hot", MAX_P);
        int to = (from + 64) % MAX_P;
        try (var h = harness()) {
            h.processElement2(Plans.plan(1, Long.MAX_VALUE, MAX_P, Plans.migrating("hot", from, to, T0, T1)), 0);

            h.processElement1(new Event(T0 - 1, "hot", 1, 1), T0 - 1);
            assertThat(envelopes(h)).singleElement().satisfies(e -> {
                assertThat(e.role).isEqualTo(Role.PRIMARY);
                assertThat(e.routingKey.keyGroup).isEqualTo(from);
            });
            h.getOutput().clear();

            h.processElement1(new Event(T0, "hot", 1, 2), T0);
            h.processElement1(new Event(T1 - 1, "hot", 1, 3), T1 - 1);
            List<Envelope> shadowPhase = envelopes(h);
            assertThat(shadowPhase).hasSize(4);
            assertThat(shadowPhase).filteredOn(e -> e.role == Role.PRIMARY)
                    .allSatisfy(e -> assertThat(e.routingKey.keyGroup).isEqualTo(from)).hasSize(2);
            assertThat(shadowPhase).filteredOn(e -> e.role == Role.SHADOW)
                    .allSatisfy(e -> assertThat(e.routingKey.keyGroup).isEqualTo(to)).hasSize(2);
            h.getOutput().clear();

            h.processElement1(new Event(T1, "hot", 1, 4), T1);
            assertThat(envelopes(h)).singleElement().satisfies(e -> {
                assertThat(e.role).isEqualTo(Role.PRIMARY);
                assertThat(e.routingKey.keyGroup).isEqualTo(to);
            });
        }
    }

    @Test
    void routingKeysLandInTheChosenKeyGroup() throws Exception {
        int from = KeyGroupRangeAssignment.assignToKeyGroup("hot", MAX_P);
        int to = (from + 1) % MAX_P;
        try (var h = harness()) {
            h.processElement2(Plans.plan(1, Long.MAX_VALUE, MAX_P, Plans.migrating("hot", from, to, T0, T1)), 0);
            h.processElement1(new Event(T1 + 5, "hot", 1, 1), T1 + 5);
            h.processElement1(new Event(T1 + 5, "cold", 1, 2), T1 + 5);
            List<Envelope> out = envelopes(h);
            for (Envelope e : out) {
                assertThat(KeyGroupRangeAssignment.assignToKeyGroup(e.routingKey, MAX_P)).isEqualTo(e.routingKey.keyGroup);
            }
            assertThat(out.get(1).routingKey.keyGroup).isEqualTo(KeyGroupRangeAssignment.assignToKeyGroup("cold", MAX_P));
        }
    }

    @Test
    void recordsBeyondTheLeaseWaitAndKeepTheirTimestamps() throws Exception {
        try (var h = harness()) {
            h.processElement1(new Event(5_000, "a", 1, 1), 5_000);
            assertThat(envelopes(h)).isEmpty();
            h.processElement2(Plans.plan(1, 4_000, MAX_P), 0);
            assertThat(envelopes(h)).isEmpty();
            h.processElement2(Plans.plan(2, 6_000, MAX_P), 0);
            assertThat(h.getOutput()).singleElement()
                    .satisfies(o -> assertThat(((StreamRecord<?>) o).getTimestamp()).isEqualTo(5_000));
        }
    }

    @Test
    void beyondTheBoundTheRouterPacesItsEventInputAndLosesNothing() throws Exception {
        DynamicRouter router = new DynamicRouter(T1 - T0, 2);
        try (var h = new TwoInputStreamOperatorTestHarness<>(router, MAX_P, 1, 0)) {
            h.setup();
            h.open();
            h.processElement2(Plans.plan(1, 4_000, MAX_P), 0);
            // 2 records beyond the lease wait freely
            h.processElement1(new Event(5_000, "a", 1, 1), 5_000);
            h.processElement1(new Event(5_001, "b", 1, 2), 5_001);
            assertThat(router.pacedRecords()).isZero();
            // beyond the bound, before the event watermark has passed the lease: read on, 1 ms per 50 records
            for (int i = 0; i < DynamicRouter.GENTLE_PACING_RECORDS; i++) {
                h.processElement1(new Event(5_002 + i, "c" + i, 1, 3 + i), 5_002 + i);
            }
            assertThat(router.pacedRecords()).isEqualTo(1);
            // the source has sent the watermark the next plan needs: every further waiting record is paced
            h.processWatermark1(new Watermark(4_500));
            h.processElement1(new Event(6_000, "d", 1, 100), 6_000);
            h.processElement1(new Event(6_001, "e", 1, 101), 6_001);
            assertThat(router.pacedRecords()).isEqualTo(3);
            assertThat(router.waitingRecords()).isEqualTo(2 + DynamicRouter.GENTLE_PACING_RECORDS + 2);
            // the plan extends the lease: everything is released, nothing lost, nothing paced any more
            h.processElement2(Plans.plan(2, 7_000, MAX_P), 0);
            assertThat(envelopes(h)).hasSize(2 + DynamicRouter.GENTLE_PACING_RECORDS + 2);
            h.processElement1(new Event(6_500, "f", 1, 102), 6_500);
            assertThat(router.pacedRecords()).isEqualTo(3);
        }
        assertThatThrownBy(() -> new DynamicRouter(0, 0)).hasMessageContaining("keyshift.route.max-waiting-records");
    }

    @Test
    void beforeTheFirstPlanTheRouterOnlyPacesGently() throws Exception {
        DynamicRouter router = new DynamicRouter(T1 - T0, 2);
        try (var h = new TwoInputStreamOperatorTestHarness<>(router, MAX_P, 1, 0)) {
            h.setup();
            h.open();
            // no plan yet, though the event watermark is in: the first plan also waits for the planner to start
            h.processWatermark1(new Watermark(10_000));
            for (int i = 0; i < 2 + 2 * DynamicRouter.GENTLE_PACING_RECORDS; i++) {
                h.processElement1(new Event(20_000 + i, "k" + i, 1, i), 20_000 + i);
            }
            assertThat(router.pacedRecords()).isEqualTo(2);
            h.processElement2(Plans.plan(1, Long.MAX_VALUE, MAX_P), 0);
            assertThat(envelopes(h)).hasSize(2 + 2 * DynamicRouter.GENTLE_PACING_RECORDS);
        }
    }

    @Test
    void outputWatermarkIsTheMinimumOfDataAndPlanner() throws Exception {
        try (var h = harness()) {
            h.processWatermark1(new Watermark(9_000));
            h.processWatermark2(new Watermark(3_999));
            assertThat(h.getOutput()).filteredOn(o -> o instanceof Watermark)
                    .extracting(o -> ((Watermark) o).getTimestamp()).containsExactly(3_999L);
        }
    }

    @Test
    void waitingRecordsAndThePlanSurviveSnapshotAndRestore() throws Exception {
        OperatorSubtaskState snapshot;
        int from = KeyGroupRangeAssignment.assignToKeyGroup("hot", MAX_P);
        try (var h = harness()) {
            h.processElement2(Plans.plan(1, T0, MAX_P, Plans.migrating("hot", from, 7, T0, T1)), 0);
            h.processElement1(new Event(T1 + 1, "hot", 1, 1), T1 + 1);
            assertThat(envelopes(h)).isEmpty();
            snapshot = h.snapshot(1, 1);
            h.processElement2(Plans.plan(2, Long.MAX_VALUE, MAX_P), 0);
        }
        TwoInputStreamOperatorTestHarness<Event, RoutingPlan, Envelope> restored =
                new TwoInputStreamOperatorTestHarness<>(new DynamicRouter(T1 - T0), MAX_P, 1, 0);
        restored.setup();
        restored.initializeState(snapshot);
        restored.open();
        // An older plan version is ignored; the restored one (version 1) still routes "hot" to 7 after T1.
        restored.processElement2(Plans.plan(1, Long.MAX_VALUE, MAX_P), 0);
        assertThat(envelopes(restored)).isEmpty();
        RoutingPlan extended = Plans.plan(2, Long.MAX_VALUE, MAX_P, Plans.migrating("hot", from, 7, T0, T1));
        restored.processElement2(extended, 0);
        assertThat(envelopes(restored)).singleElement()
                .satisfies(e -> assertThat(e.routingKey.keyGroup).isEqualTo(7));
        restored.close();
    }

    @Test
    void rejectsAPlanForAnotherMaxParallelism() throws Exception {
        try (var h = harness()) {
            assertThatThrownBy(() -> h.processElement2(Plans.plan(1, 10, 256), 0))
                    .hasMessageContaining("maxParallelism 256");
        }
    }

    @Test
    void aFoldedMigrationStillRoutesOlderRecordsThatArriveAfterThePlan() throws Exception {
        int from = KeyGroupRangeAssignment.assignToKeyGroup("hot", MAX_P);
        int to = (from + 64) % MAX_P;
        try (var h = harness()) {
            h.processElement2(Plans.plan(1, T1 + 5_000, MAX_P, Plans.migrating("hot", from, to, T0, T1)), 0);
            // The next plan folds the migration: the entry now names `to` for every time.
            var folded = io.keyshift.avro.RouteEntry.newBuilder().setKey("hot").setKeyGroup(to).setMigration(null).build();
            h.processElement2(Plans.plan(2, Long.MAX_VALUE, MAX_P, folded), 0);
            // A record of the shadow phase that was still on its way from the source is routed as before.
            h.processElement1(new Event(T0 + 1, "hot", 1, 1), T0 + 1);
            assertThat(envelopes(h)).extracting(e -> e.role + "@" + e.routingKey.keyGroup)
                    .containsExactly("PRIMARY@" + from, "SHADOW@" + to);
            h.getOutput().clear();
            // Once the data watermark passes switchAt + horizon, the retired route is dropped.
            h.processWatermark1(new Watermark(T1 + (T1 - T0)));
            assertThat(((DynamicRouter) h.getOperator()).retiredRoutes()).isZero();
            h.processElement1(new Event(T1 + 2 * (T1 - T0), "hot", 1, 2), T1 + 2 * (T1 - T0));
            assertThat(envelopes(h)).extracting(e -> e.role + "@" + e.routingKey.keyGroup).containsExactly("PRIMARY@" + to);
        }
    }
}
