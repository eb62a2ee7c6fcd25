package io.keyshift.plan;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.avro.UnitForecast;
import io.keyshift.avro.UnitType;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The planner operator after a rescale: it plans for the parallelism the routers report, when it follows them. */
class PlannerOperatorTest {
    static {
        // copies of keyshift's Avro records, as in a job (a test run alone has loaded no operator that installs it)
        io.keyshift.config.AvroTrust.install();
    }

    private static final int MAX_P = 128;
    private static final long W = 60_000;

    /** A planner built for 2 subtasks. */
    private static RepartitionPlanner.Settings settings() {
        return new RepartitionPlanner.Settings(MAX_P, 2, W, W, 1, 2, 0.02, 0.1, 0.001, 8, 100);
    }

    /** Four hot keys that all hash to subtask 0 of 4, and one cold key on each other subtask of 4. */
    private static Map<String, Double> skewedAtFour() {
        Map<String, Double> loads = new TreeMap<>();
        int found = 0;
        for (int i = 0; found < 4; i++) {
            if (KeyGroupRangeAssignment.assignKeyToParallelOperator("hot-" + i, MAX_P, 4) == 0) {
                loads.put("hot-" + i, 100.0);
                found++;
            }
        }
        for (int s = 1; s < 4; s++) {
            for (int i = 0; ; i++) {
                if (KeyGroupRangeAssignment.assignKeyToParallelOperator("cold-" + s + "-" + i, MAX_P, 4) == s) {
                    loads.put("cold-" + s + "-" + i, 10.0);
                    break;
                }
            }
        }
        return loads;
    }

    private static LoadForecast forecast(long end, int routerParallelism) {
        List<UnitForecast> units = new ArrayList<>();
        for (Map.Entry<String, Double> e : skewedAtFour().entrySet()) {
            List<Double> f = Collections.nCopies(3, e.getValue());
            units.add(UnitForecast.newBuilder().setUnitType(UnitType.HOT_KEY).setKey(e.getKey())
                    .setKeyGroup(KeyGroupRangeAssignment.assignToKeyGroup(e.getKey(), MAX_P)).setObserved(e.getValue())
                    .setForecast(f).setLower(f).setUpper(f).setModel("NAIVE").setAnomaly(false).build());
        }
        return LoadForecast.newBuilder().setWindowStart(end - W).setWindowEnd(end).setHorizon(3)
                .setTotalObserved(0).setUnits(units).setAbsoluteErrorSum(0).setNaiveErrorSum(0)
                .setSeasonalAbsoluteErrorSum(0).setSeasonalNaiveErrorSum(0).setAnomalies(0)
                .setRouterParallelism(routerParallelism).build();
    }

    /** A planner of {@link #settings()} with a control input (10 routings kept), following the routers or not. */
    private static org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan>
            controlled(boolean followRouters) throws Exception {
        return new org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<>(
                new PlannerOperator(settings(), followRouters).withControl(10));
    }

    /** A planner of {@code settings} that plans after {@code f}; its last plan is checked, then it is snapshot. */
    private static org.apache.flink.runtime.checkpoint.OperatorSubtaskState planAndSnapshot(
            RepartitionPlanner.Settings settings, LoadForecast f,
            java.util.function.Consumer<RoutingPlan> lastPlan) throws Exception {
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(settings, false))) {
            h.open();
            h.processElement(new StreamRecord<>(f, f.getWindowEnd() - 1));
            assertThat(h.extractOutputValues()).last().satisfies(lastPlan::accept);
            return h.snapshot(1, f.getWindowEnd());
        }
    }

    /** Restores a planner of {@code settings} from {@code snapshot} and opens it (fails as the restore fails). */
    private static void restore(RepartitionPlanner.Settings settings,
                                org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot) throws Exception {
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(settings, false))) {
            h.initializeState(snapshot);
            h.open();
        }
    }

    private static List<RoutingPlan> run(boolean followRouters, LoadForecast... forecasts) throws Exception {
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(settings(), followRouters))) {
            h.open();
            for (LoadForecast f : forecasts) {
                h.processElement(new StreamRecord<>(f, f.getWindowEnd() - 1));
            }
            return h.extractOutputValues();
        }
    }

    /** Predicted max / mean subtask load of {@code plan} over the forecast's units, at the plan's parallelism. */
    private static double imbalance(RoutingPlan plan, LoadForecast f) {
        Map<String, Integer> moved = new TreeMap<>();
        for (RouteEntry e : plan.getEntries()) {
            moved.put(e.getKey(), e.getMigration() != null ? e.getMigration().getToKeyGroup() : e.getKeyGroup());
        }
        double[] load = new double[plan.getParallelism()];
        for (UnitForecast u : f.getUnits()) {
            int kg = moved.getOrDefault(u.getKey(), u.getKeyGroup());
            load[KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(MAX_P, plan.getParallelism(), kg)]
                    += u.getForecast().get(0);
        }
        double max = 0;
        double sum = 0;
        for (double l : load) {
            max = Math.max(max, l);
            sum += l;
        }
        return max / (sum / load.length);
    }

    /** Writes {@code bytes} into the planner's list state {@code name}, as a savepoint of another build would. */
    private static final class StateOf extends org.apache.flink.streaming.api.operators.AbstractStreamOperator<String>
            implements org.apache.flink.streaming.api.operators.OneInputStreamOperator<String, String> {
        private final String name;
        private final byte[] bytes;

        StateOf(String name, byte[] bytes) {
            this.name = name;
            this.bytes = bytes;
        }

        @Override
        public void initializeState(org.apache.flink.runtime.state.StateInitializationContext context)
                throws Exception {
            super.initializeState(context);
            context.getOperatorStateStore().getListState(new org.apache.flink.api.common.state.ListStateDescriptor<>(
                    name, org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO))
                    .update(List.of(bytes));
        }

        @Override
        public void processElement(StreamRecord<String> element) {
        }
    }

    /**
     * Control state or long-run loads of a format this build does not know (a newer build's savepoint) fail the job
     * for good, naming what cannot be restored: the control state's IOException restarted the job for ever.
     */
    @Test
    void stateOfAnUnknownFormatFailsTheJobForGood() throws Exception {
        for (String[] c : new String[][] {{"control-state", "the planner's control state cannot be restored: "
                + "unknown control state version 99"}, {"long-run-loads", "long-run load state of format 99"}}) {
            org.apache.flink.runtime.checkpoint.OperatorSubtaskState damaged;
            try (var h = new OneInputStreamOperatorTestHarness<String, String>(
                    new StateOf(c[0], c[0].equals("control-state") ? new byte[] {0, 0, 0, 99}
                            : new byte[] {-1, -1, -1, -99}))) {
                h.open();
                damaged = h.snapshot(1, 1);
            }
            try (var h = controlled(false)) {
                assertThatThrownBy(() -> {
                    h.initializeState(damaged);
                    h.open();
                }).as(c[0])
                        .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                        .rootCause().hasMessageContaining(c[1]);
            }
        }
    }

    /**
     * A planner with a control input that holds {@code command} plans once (its first plan checked by
     * {@code firstPlan}) and is snapshot.
     */
    private static org.apache.flink.runtime.checkpoint.OperatorSubtaskState plannedUnder(
            String command, java.util.function.Consumer<RoutingPlan> firstPlan) throws Exception {
        try (var h = controlled(false)) {
            h.open();
            h.processElement2(new StreamRecord<>(command, 0));
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
            h.processElement1(new StreamRecord<>(forecast(W, 4), W - 1));
            h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(W));
            firstPlan.accept(h.extractOutputValues().get(0));
            return h.snapshot(1, W);
        }
    }

    /**
     * The overrides a planner restored without its control input logs name no key under a key secret, even where the
     * savepoint is of a job without one (its pins raw; the restore then fails on the plans' naming, after the log).
     */
    @Test
    void controlOverridesLoggedOnARestoreNameNoKeyUnderAKeySecret() throws Throwable {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState pinned = plannedUnder("0,pin,Market at 4th",
                p -> assertThat(p.getControl().getPinnedKeys()).hasSize(1));
        List<String> raw = io.keyshift.LogCapture.of(PlannerOperator.class, () -> restore(settings(), pinned));
        assertThat(raw).anySatisfy(l -> assertThat(l).contains("control overrides").contains("Market at 4th"));
        List<String> secret = io.keyshift.LogCapture.of(PlannerOperator.class, () -> {
            try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                         new OneInputStreamOperatorTestHarness<>(new PlannerOperator(settings(), false)
                                 .withKeyNaming("hmac-sha256:test"))) {
                assertThatThrownBy(() -> h.initializeState(pinned))
                        .hasStackTraceContaining("keyshift.privacy.key-secret");
            }
        });
        assertThat(secret).anySatisfy(l -> assertThat(l).contains("control overrides")
                .contains("1 pinned and 0 held keys"));
        assertThat(secret).noneSatisfy(l -> assertThat(l).contains("Market"));
    }

    /**
     * A savepoint of a planner with a control input (a freeze in force) restored without one: the overrides do not
     * apply (logged), but stay in the state, so a later restore with the control input still has them.
     */
    @Test
    void controlOverridesRestoredWithoutAControlInputStayForALaterRestoreWithOne() throws Exception {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState frozen = plannedUnder("0,freeze",
                p -> assertThat(p.getControl().getFrozen()).isTrue());
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState without;
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(settings(), false))) {
            h.initializeState(frozen);
            h.open();
            without = h.snapshot(2, W);
        }
        try (var h = controlled(false)) {
            h.initializeState(without);
            h.open();
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
            h.processElement1(new StreamRecord<>(forecast(2 * W, 4), 2 * W - 1));
            h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(2 * W));
            assertThat(h.extractOutputValues()).last().satisfies(p -> assertThat(p.getControl().getFrozen())
                    .isTrue());
        }
    }

    /**
     * Forecasts held for the control input when the job was rescaled (2 to 4 routers) are planned after the restore
     * for the routers' new parallelism where a forecast made since reports it (each followed the parallelism of its
     * own window: the first plans after the restore were made for the key-group ranges of 2, migrations to targets
     * that share a subtask at 4, then the planner flipped back); where the control input passes them first, at once
     * for their own (Known limitations). Restored at the parallelism they report, planned for it, not the planner's.
     */
    @Test
    void forecastsHeldAcrossARescaleArePlannedForTheNewParallelism() throws Exception {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState atTwo;
        try (var h = controlled(true)) {
            h.open();
            h.processElement1(new StreamRecord<>(forecast(W, 2), W - 1));
            h.processElement1(new StreamRecord<>(forecast(2 * W, 2), 2 * W - 1));
            assertThat(h.extractOutputValues()).isEmpty();
            atTwo = h.snapshot(1, 2 * W);
        }
        for (boolean controlFirst : new boolean[] {false, true}) {
            try (var h = controlled(true)) {
                h.initializeState(atTwo);
                h.open();
                if (controlFirst) {
                    // the control input passes them before a forecast made since the restore arrives: planned at
                    // once, by what they report (waiting for a forecast held the routers for a whole window)
                    h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
                    assertThat(h.extractOutputValues()).hasSize(2)
                            .allSatisfy(p -> assertThat(p.getParallelism()).isEqualTo(2));
                }
                h.processElement1(new StreamRecord<>(forecast(3 * W, 4), 3 * W - 1));
                h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
                assertThat(h.extractOutputValues()).as("control first: %s", controlFirst).hasSize(3)
                        .last().satisfies(p -> assertThat(p.getParallelism()).isEqualTo(4));
                if (!controlFirst) {
                    assertThat(h.extractOutputValues()).allSatisfy(p -> assertThat(p.getParallelism()).isEqualTo(4));
                }
            }
        }
        // a forecast of the new parallelism held with them at a checkpoint, and a failover: still planned for 4 (the
        // newest received is restored with them); the observed imbalance of a held window over the subtasks it ran on
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState withNewer;
        try (var h = controlled(true)) {
            h.initializeState(atTwo);
            h.open();
            h.processElement1(new StreamRecord<>(forecast(3 * W, 4), 3 * W - 1));
            assertThat(h.extractOutputValues()).isEmpty();
            withNewer = h.snapshot(2, 3 * W);
        }
        PlannerOperator op = new PlannerOperator(settings(), true).withControl(10);
        try (org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan> h =
                     new org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<>(op)) {
            h.initializeState(withNewer);
            h.open();
            long t = Long.MIN_VALUE;
            for (long c = 0; h.extractOutputValues().size() < 2 && c < 10 * W; c += W / 8) {
                h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(c));
                t = c;
            }
            List<RoutingPlan> two = h.extractOutputValues();
            assertThat(two).as("planned up to control watermark %s", t).hasSize(2);
            assertThat(op.observedImbalance())
                    .isEqualTo(PlannerOperator.observedImbalance(forecast(2 * W, 2), two.get(0), 2));
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
            assertThat(h.extractOutputValues()).hasSize(3).allSatisfy(p -> assertThat(p.getParallelism())
                    .isEqualTo(4));
        }
        // held at 4 (the submitted parallelism 2, scaled by the adaptive scheduler), restored at 4 after a failure:
        // planned at once when the control input passes them, for 4, what they report (the planner's own 2 is not)
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState atFour;
        try (var h = controlled(true)) {
            h.open();
            h.processElement1(new StreamRecord<>(forecast(W, 4), W - 1));
            h.processElement1(new StreamRecord<>(forecast(2 * W, 4), 2 * W - 1));
            atFour = h.snapshot(1, 2 * W);
        }
        try (var h = controlled(true)) {
            h.initializeState(atFour);
            h.open();
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
            assertThat(h.extractOutputValues()).hasSize(2).allSatisfy(p -> assertThat(p.getParallelism())
                    .isEqualTo(4));
        }
    }

    /**
     * Control state of a job (plan 1), through a job without a control input that issued plans 2 and 3, into a job
     * with one again: a rollback to plan 2 took the control state's routing of plan 1 (or was refused as "not issued
     * yet, the last is 1"); the plans between are unknown to it, so it is refused as no longer kept.
     */
    @Test
    void aRollbackToAPlanIssuedWithoutTheControlStateIsRefused() throws Exception {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState first;
        try (var h = controlled(false)) {
            h.open();
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
            h.processElement1(new StreamRecord<>(forecast(W, 4), W - 1));
            h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(W));
            assertThat(h.extractOutputValues()).singleElement().satisfies(p -> assertThat(p.getVersion())
                    .isEqualTo(1));
            first = h.snapshot(1, W);
        }
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState without;
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(settings(), false))) {
            h.initializeState(first);
            h.open();
            forecastUpTo(h, 2 * W);
            forecastUpTo(h, 3 * W);
            assertThat(h.extractOutputValues()).extracting(RoutingPlan::getVersion).containsExactly(2L, 3L);
            without = h.snapshot(2, 3 * W);
        }
        try (var h = controlled(false)) {
            h.initializeState(without);
            h.open();
            h.processElement2(new StreamRecord<>("0,rollback,2", 0));
            h.processElement2(new StreamRecord<>("0,rollback,3", 0));
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
            h.processElement1(new StreamRecord<>(forecast(4 * W, 4), 4 * W - 1));
            h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(4 * W));
            List<String> refused = new ArrayList<>();
            for (StreamRecord<String> r : h.getSideOutput(PlannerOperator.CONTROL_REJECTED)) {
                refused.add(r.getValue());
            }
            assertThat(refused).singleElement().satisfies(r -> assertThat(r).contains("plan version 2 is no longer kept")
                    .contains("0,rollback,2"));
            assertThat(h.extractOutputValues()).last().satisfies(p -> {
                assertThat(p.getVersion()).isEqualTo(4);
                assertThat(p.getControl().getRollbackToVersion()).isEqualTo(3);
            });
        }
    }

    /**
     * A savepoint of a planner without a control input, restored with one: a sampling rate of "now" holds from the
     * next plan's start, as in a job that had its control input all along (before the fix, the empty control state
     * took the restored planner for one that had issued no plan, and the rate held from before the first window:
     * routers restored with windows open would sample them at another rate than those that kept running).
     */
    @Test
    void aSamplingRateOfNowAfterARestoreWithoutControlStateHoldsFromTheNextPlan() throws Exception {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState plain;
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(settings(), false))) {
            h.open();
            forecastUpTo(h, W);
            assertThat(h.extractOutputValues()).hasSize(1);
            plain = h.snapshot(1, W);
        }
        try (var h = controlled(false)) {
            h.initializeState(plain);
            h.open();
            h.processElement2(new StreamRecord<>("now,sampling-rate,0.5", 0));
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
            h.processElement1(new StreamRecord<>(forecast(2 * W, 4), 2 * W - 1));
            h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(2 * W));
            RoutingPlan next = h.extractOutputValues().get(h.extractOutputValues().size() - 1);
            assertThat(next.getVersion()).isEqualTo(2);
            assertThat(next.getControl().getSamplingRates()).singleElement().satisfies(r -> {
                assertThat(r.getRate()).isEqualTo(0.5);
                assertThat(r.getFrom()).as("from this plan's start on").isGreaterThanOrEqualTo(2 * W);
            });
        }
    }

    /**
     * Restored, the planner publishes the plans it kept again before any new one, also when a forecast comes before
     * its timer for that fires: a router rescaled without a plan takes the first plan it gets, and the records it was
     * handed must be routed by a version no later than the one they waited under.
     */
    @Test
    void aRestoredPlannerPublishesItsKeptPlansBeforeANewOne() throws Exception {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState two;
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(settings(), false))) {
            h.open();
            forecastUpTo(h, W);
            forecastUpTo(h, 2 * W);
            assertThat(h.extractOutputValues()).extracting(RoutingPlan::getVersion).containsExactly(1L, 2L);
            two = h.snapshot(1, 2 * W);
        }
        PlannerOperator op = new PlannerOperator(settings(), false);
        List<Long> published = new ArrayList<>();
        op.setGateway(e -> published.add(((io.keyshift.plan.PlanEvent) e).plan().getVersion()));
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(op)) {
            h.initializeState(two);
            h.open();
            // the forecast before the processing-time timer that republishes
            forecastUpTo(h, 3 * W);
            h.setProcessingTime(h.getProcessingTime() + 1);
            assertThat(published).containsExactly(1L, 2L, 3L);
        }
    }

    /** The forecast of the window ending at {@code end} (four subtasks), then the watermark at its end. */
    private static void forecastUpTo(OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h, long end)
            throws Exception {
        h.processElement(new StreamRecord<>(forecast(end, 4), end - 1));
        h.processWatermark(new org.apache.flink.streaming.api.watermark.Watermark(end));
    }

    /**
     * A state taken after the input ended holds the final lease (a checkpoint while the last windows fired, or a
     * savepoint with stop --drain): restored, the planner issues nothing more (it issued that plan again every
     * window, its history growing by a copy each time), and a failover from it goes on.
     */
    @Test
    void aRestoredFinalLeaseIsNotIssuedAgain() throws Exception {
        // under a key naming other than the default: the final lease carries it as every plan (it said "raw", and a
        // restore of a drained savepoint under a key secret was refused as written without one)
        String naming = "hmac-sha256:test";
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState drained;
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(settings(), false)
                             .withKeyNaming(naming))) {
            h.open();
            forecastUpTo(h, W);
            h.processWatermark(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
            assertThat(h.extractOutputValues()).last().satisfies(p -> {
                assertThat(p.getValidUntil()).isEqualTo(Long.MAX_VALUE);
                assertThat(p.getKeyNaming()).isEqualTo(naming);
            });
            drained = h.snapshot(1, W);
        }
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(settings(), false)
                             .withKeyNaming(naming))) {
            h.initializeState(drained);
            h.open();
            for (int i = 2; i < 6; i++) {
                forecastUpTo(h, i * W);
            }
            assertThat(h.extractOutputValues()).isEmpty();
            var again = h.snapshot(2, 6 * W);
            assertThat(again.getManagedOperatorState().iterator().next().getStateSize())
                    .as("the history did not grow")
                    .isEqualTo(drained.getManagedOperatorState().iterator().next().getStateSize());
        }
    }

    /** A command dated after the input's end is refused with the final lease (it stayed pending without a word). */
    @Test
    void aCommandAfterTheLastPlanIsRefusedWithTheFinalLease() throws Exception {
        PlannerOperator op = new PlannerOperator(settings(), false).withControl(10);
        try (org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan> h =
                     new org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<>(op)) {
            h.open();
            h.processElement2(new StreamRecord<>("0,anomaly-z,2.5", 0));
            h.processElement2(new StreamRecord<>("9000000000000,freeze", 0));
            // a timed rate applies at the routers from its time without a plan: not refused
            h.processElement2(new StreamRecord<>("9000000000000,sampling-rate,0.5", 0));
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
            h.processElement1(new StreamRecord<>(forecast(W, 4), W - 1));
            h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(W));
            assertThat(h.getSideOutput(PlannerOperator.CONTROL_REJECTED)).isNullOrEmpty();
            h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
            List<String> refused = new ArrayList<>();
            for (StreamRecord<String> r : h.getSideOutput(PlannerOperator.CONTROL_REJECTED)) {
                refused.add(r.getValue());
            }
            assertThat(refused).singleElement().satisfies(r -> assertThat(r)
                    .contains("its time lies after the last plan: the input ended").contains("9000000000000,freeze"));
            List<RoutingPlan> plans = h.extractOutputValues();
            assertThat(plans.get(plans.size() - 1).getValidUntil()).isEqualTo(Long.MAX_VALUE);
            assertThat(plans.get(plans.size() - 1).getControl().getFrozen()).isFalse();
            // a command that comes after the final lease (a watched directory keeps the job running) is refused too:
            // it was queued for a plan that never comes, without a word
            h.processElement2(new StreamRecord<>("now,pin,k", 0));
            List<String> after = new ArrayList<>();
            for (StreamRecord<String> r : h.getSideOutput(PlannerOperator.CONTROL_REJECTED)) {
                after.add(r.getValue());
            }
            assertThat(after).hasSize(2).last().asString().contains("came after the last plan").contains("now,pin,k");
            assertThat(op.controlState().rejected()).isEqualTo(2);
        }
    }

    /**
     * Under on-mismatch REVERT the shadow validation's reverts of the last windows reach the planner before or after
     * the final lease, as the subtasks' timing has it. The final lease counted those it refused itself, so two runs of
     * one input gave two plan digests, and the two paths gave two reasons: now the lease counts the commands refused
     * before it, and a revert is refused for one reason either way.
     */
    @Test
    void aRevertAfterTheLastPlanGivesTheSameFinalLeaseWhenItArrivesBeforeOrAfterIt() throws Exception {
        String revert = io.keyshift.control.ControlCommand.generatedRevert(io.keyshift.control.ControlCommand
                .revertLine(5 * W, "k", 3, 5, 0, "shadow disagreed"));
        List<Long> rejectedCounts = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        for (boolean beforeTheLease : new boolean[] {true, false}) {
            PlannerOperator op = new PlannerOperator(settings(), false).withControl(10).withReverts(W, W);
            try (org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan>
                         h = new org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<>(op)) {
                h.open();
                h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(W));
                h.processElement1(new StreamRecord<>(forecast(W, 4), W - 1));
                h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(W));
                if (beforeTheLease) {
                    h.processElement2(new StreamRecord<>(revert, 5 * W));
                }
                h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
                h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
                if (!beforeTheLease) {
                    h.processElement2(new StreamRecord<>(revert, 5 * W));
                }
                List<RoutingPlan> plans = h.extractOutputValues();
                RoutingPlan last = plans.get(plans.size() - 1);
                assertThat(last.getValidUntil()).isEqualTo(Long.MAX_VALUE);
                rejectedCounts.add(last.getControl().getCommandsRejected());
                for (StreamRecord<String> r : h.getSideOutput(PlannerOperator.CONTROL_REJECTED)) {
                    reasons.add(r.getValue().substring(0, r.getValue().indexOf(',')));
                }
            }
        }
        assertThat(rejectedCounts).containsExactly(0L, 0L);
        assertThat(reasons).hasSize(2);
        assertThat(reasons.get(0)).isEqualTo(reasons.get(1)).contains("no plan reaches its time");
    }

    /**
     * The shadow validation's revert of a key that holds U+FFFD (text decoded from bytes that were not UTF-8 is a
     * key of the stream like any other) is taken; it was refused as a user's line holding U+FFFD is, and the key stayed
     * on the side the validation distrusted. A user's line with that character is still refused.
     */
    @Test
    void theValidationsRevertOfAKeyHoldingTheReplacementCharacterIsTaken() throws Exception {
        String line = io.keyshift.control.ControlCommand.revertLine(2 * W, "caf\uFFFD", 3, 5, 0, "shadow disagreed");
        PlannerOperator op = new PlannerOperator(settings(), false).withControl(10).withReverts(W, W);
        try (org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan> h =
                     new org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<>(op)) {
            h.open();
            h.processElement2(new StreamRecord<>(io.keyshift.control.ControlCommand.generatedRevert(line), 2 * W));
            assertThat(h.getSideOutput(PlannerOperator.CONTROL_REJECTED)).isNullOrEmpty();
            h.processElement2(new StreamRecord<>(line, 2 * W));
            assertThat(h.getSideOutput(PlannerOperator.CONTROL_REJECTED)).singleElement()
                    .satisfies(r -> assertThat(r.getValue()).contains("U+FFFD"));
        }
    }

    /**
     * A final lease that is the first plan (an input that ended before any forecast) applies a sampling rate of "now"
     * from the first window, as a first plan does and as the routers took it from lines known in advance (it was
     * refused as after the last plan).
     */
    @Test
    void aSamplingRateOfNowIsAppliedByAFinalLeaseThatIsTheFirstPlan() throws Exception {
        PlannerOperator op = new PlannerOperator(settings(), false).withControl(10);
        try (org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan> h =
                     new org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<>(op)) {
            h.open();
            h.processElement2(new StreamRecord<>("now,sampling-rate,0.5", 0));
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
            h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
            assertThat(h.getSideOutput(PlannerOperator.CONTROL_REJECTED)).isNullOrEmpty();
            List<RoutingPlan> plans = h.extractOutputValues();
            assertThat(plans).singleElement().satisfies(fin -> {
                assertThat(fin.getValidUntil()).isEqualTo(Long.MAX_VALUE);
                assertThat(fin.getControl().getSamplingRates()).singleElement().satisfies(r -> {
                    assertThat(r.getFrom()).isEqualTo(Long.MIN_VALUE);
                    assertThat(r.getRate()).isEqualTo(0.5);
                });
            });
            assertThat(op.controlState().applied()).isEqualTo(1);
        }
    }

    /**
     * A timed sampling rate the final lease kept (the routers apply it from its time) is neither applied nor refused
     * by the forecasts a restored final lease still gets: the next forecast counted it applied, no plan issued.
     */
    @Test
    void aRateKeptByTheFinalLeaseIsNotAppliedByLaterForecasts() throws Exception {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState drained;
        PlannerOperator first = new PlannerOperator(settings(), false).withControl(10);
        try (org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan> h =
                     new org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<>(first)) {
            h.open();
            h.processElement2(new StreamRecord<>("9000000000000,sampling-rate,0.5", 0));
            // a live control input: its watermark never reaches the end of time
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(100 * W));
            h.processElement1(new StreamRecord<>(forecast(W, 4), W - 1));
            h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(W));
            h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
            assertThat(h.extractOutputValues()).last().satisfies(p ->
                    assertThat(p.getValidUntil()).isEqualTo(Long.MAX_VALUE));
            assertThat(first.controlState().applied()).isZero();
            drained = h.snapshot(1, W);
        }
        PlannerOperator restored = new PlannerOperator(settings(), false).withControl(10);
        try (org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan> h =
                     new org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<>(restored)) {
            h.initializeState(drained);
            h.open();
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
            for (int i = 2; i < 5; i++) {
                h.processElement1(new StreamRecord<>(forecast(i * W, 4), i * W - 1));
                h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(i * W));
            }
            assertThat(h.extractOutputValues()).isEmpty();
            assertThat(restored.controlState().applied()).isZero();
            assertThat(restored.controlState().rejected()).isZero();
        }
        // a live control input (a topic, a watched directory) never reaches the end of time: the forecasts a restored
        // final lease gets are not held for it (they piled up in the state, the watermark stood still, and a user's
        // control input failed the task after its no-watermark timeout, at every restore)
        PlannerOperator live = new PlannerOperator(settings(), false).withControl(10);
        try (org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan> h =
                     new org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<>(live)) {
            h.initializeState(drained);
            h.open();
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(101 * W));
            for (int i = 2; i < 5; i++) {
                h.processElement1(new StreamRecord<>(forecast(i * W, 4), i * W - 1));
                h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(i * W));
            }
            assertThat(h.extractOutputValues()).isEmpty();
            assertThat(live.heldForecasts()).as("forecasts held for the control input").isZero();
        }
    }

    /** With the stage's key codec, "070" pins the integer key 70, and "user-7" is refused with the reason. */
    @Test
    void aCommandNamingAKeyInAFormTheStageNeverWritesIsRefused() throws Exception {
        PlannerOperator op = new PlannerOperator(settings(), false).withControl(10)
                .withKeyIds(io.keyshift.route.KeyCodec.forType(org.apache.flink.api.common.typeinfo.Types.LONG,
                        new org.apache.flink.api.common.serialization.SerializerConfigImpl()));
        try (org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan> h =
                     new org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<>(op)) {
            h.open();
            h.processElement2(new StreamRecord<>("0,pin,070", 0));
            h.processElement2(new StreamRecord<>("0,unpin,user-7", 0));
            h.processElement2(new StreamRecord<>("0,pin,70", 0));
            // their number stands where a key would: not a key to check
            h.processElement2(new StreamRecord<>("0,anomaly-z,2.5", 0));
            h.processElement2(new StreamRecord<>("0,sampling-rate,0.5", 0));
            List<String> refused = new ArrayList<>();
            for (StreamRecord<String> r : h.getSideOutput(PlannerOperator.CONTROL_REJECTED)) {
                refused.add(r.getValue());
            }
            assertThat(refused).hasSize(1);
            assertThat(refused.get(0)).contains("'user-7' names no key").contains("decimal");
            // 070 and 70 are one key: pinned once
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
            h.processElement1(new StreamRecord<>(forecast(W, 4), W - 1));
            h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(W));
            RoutingPlan plan = h.extractOutputValues().get(0);
            assertThat(plan.getControl().getPinnedKeys()).containsExactly("70");
        }
    }

    /**
     * With reverts and a user's control input behind {@link io.keyshift.control.ControlProgress}: a plan, the first
     * too, waits until the user's watermark reaches its start, so a user's command timed before the start is in it
     * however late it arrives (the union's watermark is the reverts', which trail); the reverts' progress still gates
     * the later plans; a restore keeps the user's progress.
     */
    @Test
    void withRevertsAPlanWaitsForTheUsersCommandsUpToItsStart() throws Exception {
        java.util.function.Supplier<PlannerOperator> op = () -> new PlannerOperator(settings(), false).withControl(10)
                .withRevertHold(W).withReverts(W, W).withUserControlProgress();
        String hot = skewedAtFour().keySet().iterator().next();
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        try (org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan> h =
                     new org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<>(op.get())) {
            h.open();
            h.processElement1(new StreamRecord<>(forecast(W, 4), W - 1));
            h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(W));
            assertThat(h.extractOutputValues()).as("the user's commands are not known up to the start").isEmpty();
            h.processElement2(new StreamRecord<>(io.keyshift.control.ControlProgress.line(W - 1), W - 1));
            assertThat(h.extractOutputValues()).isEmpty();
            h.processElement2(new StreamRecord<>(W + ",pin," + hot, W));
            h.processElement2(new StreamRecord<>(io.keyshift.control.ControlProgress.line(Long.MAX_VALUE / 2),
                    Long.MAX_VALUE / 2));
            assertThat(h.extractOutputValues()).singleElement()
                    .satisfies(p -> assertThat(p.getControl().getPinnedKeys()).containsExactly(hot));
            // the next plan waits for the reverts' progress (the joined watermark), a window before its start
            h.processElement1(new StreamRecord<>(forecast(2 * W, 4), 2 * W - 1));
            assertThat(h.extractOutputValues()).hasSize(1);
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(W));
            assertThat(h.extractOutputValues()).hasSize(2);
            assertThat(h.getSideOutput(PlannerOperator.CONTROL_REJECTED)).isNullOrEmpty();
            snapshot = h.snapshot(1, 2 * W);
        }
        try (org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan> h =
                     new org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<>(op.get())) {
            h.initializeState(snapshot);
            h.open();
            // the reverts' progress passes the third plan's start less a window; the user's is only in the state
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(2 * W));
            h.processElement1(new StreamRecord<>(forecast(3 * W, 4), 3 * W - 1));
            assertThat(h.extractOutputValues()).as("the user's progress restored").last()
                    .satisfies(p -> assertThat(p.getBasedOnWindowEnd()).isEqualTo(3 * W));
        }
    }

    /**
     * A job with a control input, restored without it: the forecast it held for the control watermark is planned, in
     * order, with the next one (it was dropped: its window never planned).
     */
    @Test
    void aForecastHeldForAControlInputTheRestoredJobLacksIsPlannedFirst() throws Exception {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        try (var h = controlled(false)) {
            h.open();
            h.processElement1(new StreamRecord<>(forecast(W, 4), W - 1));
            assertThat(h.extractOutputValues()).as("held for the control watermark").isEmpty();
            snapshot = h.snapshot(1, W);
        }
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(settings(), false))) {
            h.initializeState(snapshot);
            h.open();
            h.processElement(new StreamRecord<>(forecast(2 * W, 4), 2 * W - 1));
            assertThat(h.extractOutputValues()).extracting(RoutingPlan::getBasedOnWindowEnd)
                    .containsExactly(W, 2 * W);
        }
        // a watermark past the held window comes first: its plan comes before the watermark, not behind it
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(settings(), false))) {
            h.initializeState(snapshot);
            h.open();
            h.processWatermark(new org.apache.flink.streaming.api.watermark.Watermark(W + 1));
            assertThat(h.getOutput()).hasSize(2);
            assertThat(h.getOutput().peek()).isInstanceOf(StreamRecord.class);
            assertThat(h.extractOutputValues()).extracting(RoutingPlan::getBasedOnWindowEnd).containsExactly(W);
        }
    }

    /**
     * A job with a control input and no reverts, restored with on-mismatch REVERT: its control watermark (the user's
     * file, finished: the end of time) becomes the user's, and the reverts' progress gates the plans from then on
     * (kept as the joined watermark, it let every plan through before the validation had caught up, for good).
     */
    @Test
    void revertsAddedAtARestoreGateThePlansWithTheirProgress() throws Exception {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        try (var h = controlled(false)) {
            h.open();
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE / 2));
            h.processElement1(new StreamRecord<>(forecast(W, 4), W - 1));
            assertThat(h.extractOutputValues()).hasSize(1);
            snapshot = h.snapshot(1, W);
        }
        try (org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan> h =
                     new org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<>(
                             new PlannerOperator(settings(), false).withControl(10).withRevertHold(W)
                                     .withReverts(W, W).withUserControlProgress())) {
            h.initializeState(snapshot);
            h.open();
            h.processElement1(new StreamRecord<>(forecast(2 * W, 4), 2 * W - 1));
            assertThat(h.extractOutputValues()).as("held for the reverts' progress").isEmpty();
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(W));
            assertThat(h.extractOutputValues()).singleElement()
                    .satisfies(p -> assertThat(p.getBasedOnWindowEnd()).isEqualTo(2 * W));
        }
    }

    /**
     * An open planner with a control input and a 10 s watch, at processing time 0, holding the forecast of the first
     * window: the control watermark is short of its plan's start.
     */
    private static org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan>
            heldForTheControlWatermark() throws Exception {
        var h = new org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan>(
                new PlannerOperator(settings(), false).withControl(10)
                        .withControlWatermarkTimeout(java.time.Duration.ofSeconds(10)));
        h.setProcessingTime(0);
        h.open();
        h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(W - 1));
        h.processElement1(new StreamRecord<>(forecast(W, 4), W - 1));
        return h;
    }

    /**
     * A plan held for the user's control watermark (a live input whose watermark stopped short of the plan's start)
     * fails the task after {@code keyshift.route.no-watermark-timeout}, naming the cause, rather than hold the plans
     * back without a word; a watermark that passes the start in time releases it.
     */
    @Test
    void aPlanHeldTooLongForTheControlWatermarkFailsTheTaskNamingTheCause() throws Exception {
        try (org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan> h =
                     heldForTheControlWatermark()) {
            h.setProcessingTime(5_000);
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE / 2));
            assertThat(h.extractOutputValues()).hasSize(1);
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE / 2 + 1));
            h.processElement1(new StreamRecord<>(forecast(2 * W, 4), 2 * W - 1));
            h.setProcessingTime(14_000);
            assertThat(h.extractOutputValues()).hasSize(2);
        }
        try (org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan> h =
                     heldForTheControlWatermark()) {
            h.setProcessingTime(9_000);
            assertThat(h.extractOutputValues()).isEmpty();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> h.setProcessingTime(10_000))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("held the plans back for 10 s")
                    .hasMessageContaining("1 forecasts, the first of the window ending at 1970-01-01T00:01:00Z")
                    .hasMessageContaining("no-watermark-timeout");
        }
    }

    /**
     * A revert naming a key group the job does not have is refused as a control command (a plan migrating there
     * would fail every router that applies it, again after each restore); a valid one applies.
     */
    @Test
    void aRevertToAKeyGroupOutsideTheJobIsRefusedAndTheJobGoesOn() throws Exception {
        PlannerOperator op = new PlannerOperator(settings(), false).withControl(10).withRevertHold(W);
        try (org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<LoadForecast, String, RoutingPlan> h =
                     new org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness<>(op)) {
            h.open();
            String hot = skewedAtFour().keySet().iterator().next();
            h.processElement2(new StreamRecord<>("0,revert," + hot + "," + MAX_P, 0));
            h.processElement2(new StreamRecord<>("0,revert," + hot + ",3," + (MAX_P + 5) + ",0", 0));
            h.processWatermark2(new org.apache.flink.streaming.api.watermark.Watermark(Long.MAX_VALUE));
            h.processElement1(new StreamRecord<>(forecast(W, 4), W - 1));
            h.processElement1(new StreamRecord<>(forecast(2 * W, 4), 2 * W - 1));
            h.processWatermark1(new org.apache.flink.streaming.api.watermark.Watermark(2 * W));
            List<String> refused = new ArrayList<>();
            for (StreamRecord<String> r : h.getSideOutput(PlannerOperator.CONTROL_REJECTED)) {
                refused.add(r.getValue());
            }
            assertThat(refused).hasSize(2);
            assertThat(refused.get(0)).contains("revert: key group " + MAX_P + " is outside the job's key groups [0, "
                    + MAX_P + ")");
            assertThat(refused.get(1)).contains("key group " + (MAX_P + 5) + " is outside");
            List<RoutingPlan> plans = h.extractOutputValues();
            assertThat(plans).hasSize(2);
            for (RoutingPlan p : plans) {
                for (RouteEntry e : p.getEntries()) {
                    assertThat(e.getKeyGroup()).isBetween(0, MAX_P - 1);
                    if (e.getMigration() != null) {
                        assertThat(e.getMigration().getToKeyGroup()).isBetween(0, MAX_P - 1);
                    }
                }
            }
        }
    }

    @Test
    void afterARescaleTheNextPlanNamesTheRoutersParallelismAndBalancesItsSubtasks() throws Exception {
        LoadForecast before = forecast(10 * W, 2);
        LoadForecast after = forecast(11 * W, 4);
        LoadForecast[] forecasts = {before, after, forecast(12 * W, 4), forecast(13 * W, 4)};
        List<RoutingPlan> plans = run(true, forecasts);
        List<RoutingPlan> fixed = run(false, forecasts);
        assertThat(plans).extracting(RoutingPlan::getParallelism).containsExactly(2, 4, 4, 4);
        assertThat(plans).extracting(RoutingPlan::getVersion).containsExactly(1L, 2L, 3L, 4L);
        // at 4 subtasks the four hot keys share subtask 0 (imbalance 400 / 107.5 = 3.7 under hashing). The plans made
        // for 2 subtasks leave two of them together at 4 (1.95); from the second plan after the rescale (the first
        // one's moves still in their shadow phase) the following planner spreads them over the four
        for (RoutingPlan p : fixed) {
            assertThat(imbalance(RoutingPlan.newBuilder(p).setParallelism(4).build(), after)).isGreaterThan(1.9);
        }
        assertThat(imbalance(plans.get(1), after)).isLessThan(1.9);
        assertThat(imbalance(plans.get(2), after)).isLessThan(1.1);
        assertThat(imbalance(plans.get(3), after)).isLessThan(1.1);
    }

    @Test
    void aPlannerThatDoesNotFollowKeepsTheParallelismItWasBuiltWith() throws Exception {
        List<RoutingPlan> plans = run(false, forecast(10 * W, 2), forecast(11 * W, 4));
        assertThat(plans).extracting(RoutingPlan::getParallelism).containsExactly(2, 2);
    }

    @Test
    void aForecastWithoutTheRoutersParallelismKeepsTheCurrentOne() throws Exception {
        List<RoutingPlan> plans = run(true, forecast(10 * W, 4), forecast(11 * W, 0));
        assertThat(plans).extracting(RoutingPlan::getParallelism).containsExactly(4, 4);
    }

    @Test
    void theLongRunLoadsSurviveARestoreAndARescale() throws Exception {
        RepartitionPlanner.Settings withShrinkage = new RepartitionPlanner.Settings(MAX_P, 2, W, W, 1, 2, 0.02, 0.1,
                0.001, 8, 100, 0.0, RepartitionPlanner.Constraints.NONE, 0L, false, -1, ValidationPolicy.ALL, true,
                io.keyshift.config.PlanOptions.Cost.MEAN_LOAD, 1.0, 50);
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        byte[] before;
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(withShrinkage, true))) {
            h.open();
            for (int w = 10; w < 14; w++) {
                h.processElement(new StreamRecord<>(forecast(w * W, 2), w * W - 1));
            }
            before = ((PlannerOperator) h.getOperator()).longRunLoads().toBytes();
            assertThat(((PlannerOperator) h.getOperator()).longRunLoads().size()).isEqualTo(skewedAtFour().size());
            snapshot = h.snapshot(1, 14 * W);
        }
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(withShrinkage, true))) {
            h.initializeState(snapshot);
            h.open();
            PlannerOperator restored = (PlannerOperator) h.getOperator();
            assertThat(restored.longRunLoads().toBytes()).isEqualTo(before);
            // the routers now run at 4: the planner is rebuilt for 4 subtasks and keeps what it learnt
            h.processElement(new StreamRecord<>(forecast(14 * W, 4), 14 * W - 1));
            assertThat(h.extractOutputValues()).extracting(RoutingPlan::getParallelism).contains(4);
            // five observations of each unit's constant load: known (a planner that lost them would have one: NaN)
            for (UnitForecast u : forecast(15 * W, 4).getUnits()) {
                assertThat(restored.longRunLoads().mean(u)).isCloseTo(u.getObserved(), org.assertj.core.api.Assertions.within(1e-9));
            }
            assertThat(restored.longRunLoads().size()).isEqualTo(skewedAtFour().size());
        }
    }

    /**
     * keyshiftPlanParallelism after a restart of a job the planner followed to another parallelism: the last plan's
     * (the restored planner is built for the submitted parallelism until the next forecast; the gauge read that one).
     */
    @Test
    void thePlanParallelismGaugeReadsTheFollowedParallelismAfterARestore() throws Exception {
        LoadForecast f = forecast(10 * W, 4);
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(settings(), true))) {
            h.open();
            PlannerOperator op = (PlannerOperator) h.getOneInputOperator();
            assertThat(op.planParallelism()).as("before any plan: the submitted one").isEqualTo(2);
            h.processElement(new StreamRecord<>(f, f.getWindowEnd() - 1));
            assertThat(op.planParallelism()).as("followed the routers").isEqualTo(4);
            snapshot = h.snapshot(1, f.getWindowEnd());
        }
        PlannerOperator restored = new PlannerOperator(settings(), true);
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(restored)) {
            h.initializeState(snapshot);
            h.open();
            assertThat(restored.planParallelism()).isEqualTo(4);
        }
    }

    /**
     * The keyshiftObservedImbalance gauge reads the last window's imbalance after a restore (it read 1.0, "balanced",
     * until the next plan: a day with daily windows).
     */
    @Test
    void theObservedImbalanceIsKeptInCheckpoints() throws Exception {
        LoadForecast f = forecast(10 * W, 4);
        // the next window, observed with a key group (which no plan moves) far above the rest
        List<UnitForecast> units = new ArrayList<>(forecast(11 * W, 4).getUnits());
        units.add(UnitForecast.newBuilder().setUnitType(UnitType.KEY_GROUP).setKey(null).setKeyGroup(0)
                .setObserved(100_000).setForecast(List.of(1.0)).setLower(List.of(1.0)).setUpper(List.of(1.0))
                .setModel("NAIVE").setAnomaly(false).build());
        LoadForecast next = LoadForecast.newBuilder(forecast(11 * W, 4)).setUnits(units).build();
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        double observed;
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(settings(), false))) {
            h.open();
            h.processElement(new StreamRecord<>(f, f.getWindowEnd() - 1));
            f = next;
            h.processElement(new StreamRecord<>(f, f.getWindowEnd() - 1));
            observed = ((PlannerOperator) h.getOneInputOperator()).observedImbalance();
            snapshot = h.snapshot(1, f.getWindowEnd());
        }
        assertThat(observed).isGreaterThan(1.05);
        PlannerOperator restored = new PlannerOperator(settings(), false);
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(restored)) {
            h.initializeState(snapshot);
            h.open();
            assertThat(restored.observedImbalance()).isEqualTo(observed);
        }
    }

    /**
     * The keyshiftObservedImbalance gauge counts a split key in equal shares on its pieces' key groups, as the routers
     * deal its records: one key with 4,000 records split over four key groups, one on each subtask, beside 1,000 records
     * on each subtask is balanced (it had shown 4,000 + 1,000 on one subtask against a mean of 2,000: 2.5).
     */
    @Test
    void theObservedImbalanceCountsASplitKeyOnItsPieces() {
        List<UnitForecast> units = new ArrayList<>();
        List<Integer> pieces = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            // the first key group of subtask s at parallelism 4, and a key of its own there
            int kg = KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(MAX_P, 4, s).getStartKeyGroup();
            pieces.add(kg);
            units.add(UnitForecast.newBuilder().setUnitType(UnitType.KEY_GROUP).setKey(null).setKeyGroup(kg)
                    .setObserved(1_000).setForecast(List.of(1_000.0)).setLower(List.of(1_000.0))
                    .setUpper(List.of(1_000.0)).setModel("NAIVE").setAnomaly(false).build());
        }
        units.add(UnitForecast.newBuilder().setUnitType(UnitType.HOT_KEY).setKey("giant").setKeyGroup(pieces.get(0))
                .setObserved(4_000).setForecast(List.of(4_000.0)).setLower(List.of(4_000.0))
                .setUpper(List.of(4_000.0)).setModel("NAIVE").setAnomaly(false).build());
        LoadForecast f = LoadForecast.newBuilder(forecast(10 * W, 4)).setUnits(units).build();
        io.keyshift.avro.Split split = io.keyshift.avro.Split.newBuilder().setKeyGroups(pieces).setFrom(5 * W)
                .setPreRollFrom(5 * W).setPlannedInVersion(1).setPredictedLoad(4_000).build();
        RouteEntry giant = RouteEntry.newBuilder().setKey("giant").setNaturalKeyGroup(pieces.get(0))
                .setKeyGroup(pieces.get(0)).setMigration(null).setSplit(split).build();
        RoutingPlan plan = io.keyshift.route.Plans.plan(2, 11 * W, MAX_P, giant);
        plan.setParallelism(4);
        assertThat(PlannerOperator.observedImbalance(f, plan)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
        // before the split starts, the key is whole on its key group
        RouteEntry later = RouteEntry.newBuilder(giant).setSplit(io.keyshift.avro.Split.newBuilder(split)
                .setFrom(10 * W).setPreRollFrom(10 * W).build()).build();
        RoutingPlan notYet = io.keyshift.route.Plans.plan(2, 11 * W, MAX_P, later);
        notYet.setParallelism(4);
        assertThat(PlannerOperator.observedImbalance(f, notYet)).isCloseTo(2.5, org.assertj.core.data.Offset.offset(1e-9));
        // spread anew over one key group: from the window's end on, the window was dealt over the earlier spread
        // (balanced); from before the window, its records went to the one key group
        for (long[] untilAndImbalance : new long[][] {{10 * W, 10}, {9 * W, 25}}) {
            RouteEntry anew = RouteEntry.newBuilder(giant).setSplit(io.keyshift.avro.Split.newBuilder(split)
                    .setKeyGroups(List.of(pieces.get(0))).setEarlier(List.of(new io.keyshift.avro.SplitSpread(pieces,
                            untilAndImbalance[0]))).build()).build();
            RoutingPlan respread = io.keyshift.route.Plans.plan(3, 11 * W, MAX_P, anew);
            respread.setParallelism(4);
            assertThat(PlannerOperator.observedImbalance(f, respread)).as("spread anew at %s", untilAndImbalance[0])
                    .isCloseTo(untilAndImbalance[1] / 10.0, org.assertj.core.data.Offset.offset(1e-9));
        }
    }

    /**
     * The first window after a rescale ran on the new parallelism's subtasks, under a plan made for the old one: its
     * observed imbalance is over the subtasks it ran on (it was read over the old key-group ranges). Where the planner
     * does not follow the routers (the stage's own parallelism, the routers' another), over the stage's subtasks.
     */
    @Test
    void theObservedImbalanceIsOverTheKeyedStagesSubtasks() throws Exception {
        List<UnitForecast> units = new ArrayList<>();
        int[] records = {400, 100, 100, 100};
        for (int s = 0; s < 4; s++) {
            int kg = KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(MAX_P, 4, s).getStartKeyGroup();
            units.add(UnitForecast.newBuilder().setUnitType(UnitType.KEY_GROUP).setKey(null).setKeyGroup(kg)
                    .setObserved(records[s]).setForecast(List.of(1.0)).setLower(List.of(1.0)).setUpper(List.of(1.0))
                    .setModel("NAIVE").setAnomaly(false).build());
        }
        // following the routers: a plan at 2, then the routers (and the stage) at 4
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(settings(), true))) {
            h.open();
            LoadForecast first = forecast(10 * W, 2);
            h.processElement(new StreamRecord<>(first, first.getWindowEnd() - 1));
            LoadForecast rescaled = LoadForecast.newBuilder(forecast(11 * W, 4)).setUnits(units).build();
            h.processElement(new StreamRecord<>(rescaled, rescaled.getWindowEnd() - 1));
            // 400 of 700 on one of 4 subtasks: 400 / 175 (over 2 subtasks it read 500 / 350)
            assertThat(((PlannerOperator) h.getOneInputOperator()).observedImbalance())
                    .isCloseTo(400 / 175.0, org.assertj.core.data.Offset.offset(1e-9));
        }
        // not following: the stage at 4 (its settings), the routers at 2
        RepartitionPlanner.Settings atFour = new RepartitionPlanner.Settings(MAX_P, 4, W, W, 1, 2, 0.02, 0.1, 0.001, 8,
                100);
        try (OneInputStreamOperatorTestHarness<LoadForecast, RoutingPlan> h =
                     new OneInputStreamOperatorTestHarness<>(new PlannerOperator(atFour, false))) {
            h.open();
            LoadForecast first = forecast(10 * W, 2);
            h.processElement(new StreamRecord<>(first, first.getWindowEnd() - 1));
            LoadForecast next = LoadForecast.newBuilder(forecast(11 * W, 2)).setUnits(units).build();
            h.processElement(new StreamRecord<>(next, next.getWindowEnd() - 1));
            assertThat(((PlannerOperator) h.getOneInputOperator()).observedImbalance())
                    .isCloseTo(400 / 175.0, org.assertj.core.data.Offset.offset(1e-9));
        }
    }

    /**
     * A migration whose switch-over lies before the window's end counts on its target (it counted on its origin until
     * it folded, a state horizon later: the window in which each move paid off read as if nothing had moved).
     */
    @Test
    void aMigrationPastItsSwitchOverCountsAtItsTarget() {
        int s0 = KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(MAX_P, 2, 0).getStartKeyGroup();
        int s1 = KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(MAX_P, 2, 1).getStartKeyGroup();
        List<UnitForecast> units = new ArrayList<>();
        for (String key : List.of("k", "l")) {
            units.add(UnitForecast.newBuilder().setUnitType(UnitType.HOT_KEY).setKey(key).setKeyGroup(s0)
                    .setObserved(100).setForecast(List.of(100.0)).setLower(List.of(100.0)).setUpper(List.of(100.0))
                    .setModel("NAIVE").setAnomaly(false).build());
        }
        LoadForecast f = LoadForecast.newBuilder(forecast(2 * W, 2)).setUnits(units).build();
        for (long[] switchAndImbalance : new long[][] {{W, 10}, {2 * W, 20}}) {
            RoutingPlan plan = io.keyshift.route.Plans.plan(2, 3 * W, MAX_P,
                    io.keyshift.route.Plans.migrating("k", s0, s1, switchAndImbalance[0], switchAndImbalance[0]));
            plan.setParallelism(2);
            assertThat(PlannerOperator.observedImbalance(f, plan)).as("switch-over at %s", switchAndImbalance[0])
                    .isCloseTo(switchAndImbalance[1] / 10.0, org.assertj.core.data.Offset.offset(1e-9));
        }
    }

    /**
     * A savepoint whose plan splits a key, restored into a stage that does not merge partial results (split threshold
     * 0): a split never ends, so every result of that key would be dropped as a partial. The restore fails, naming
     * the option. A split that has not settled is refused by a stage that needs a longer pre-roll.
     */
    @Test
    void aPlanWithSplitKeysIsRefusedByAStageThatDoesNotSplit() throws Exception {
        RepartitionPlanner.Settings splitting = new RepartitionPlanner.Settings(MAX_P, 4, W, W, 1, 2, 0.02, 0.1,
                0.001, 8, 100, 1.0, RepartitionPlanner.Constraints.NONE, 0L, false, -1, ValidationPolicy.ALL, true,
                io.keyshift.config.PlanOptions.Cost.MEAN_LOAD, 1.0, 50);
        List<UnitForecast> units = new ArrayList<>();
        Map<String, Double> loads = new TreeMap<>(skewedAtFour());
        loads.put("very-hot", 5_000.0);
        for (Map.Entry<String, Double> e : loads.entrySet()) {
            List<Double> f = Collections.nCopies(3, e.getValue());
            units.add(UnitForecast.newBuilder().setUnitType(UnitType.HOT_KEY).setKey(e.getKey())
                    .setKeyGroup(KeyGroupRangeAssignment.assignToKeyGroup(e.getKey(), MAX_P)).setObserved(e.getValue())
                    .setForecast(f).setLower(f).setUpper(f).setModel("NAIVE").setAnomaly(false).build());
        }
        LoadForecast f = LoadForecast.newBuilder(forecast(10 * W, 4)).setUnits(units).build();
        var snapshot = planAndSnapshot(splitting, f, p ->
                assertThat(p.getEntries()).anyMatch(e -> e.getSplit() != null && e.getKey().equals("very-hot")));
        // the same stage restores
        restore(splitting, snapshot);
        // a splitting stage of another shape refuses a split that has not settled (its pre-roll was sized for the old
        // shape); one that started a state horizon (of either shape) before the plan's window ended has settled
        // (a stage of windows that straddle planning windows: its splits need a pre-roll of 3 planning windows)
        RepartitionPlanner.Settings longerWindows = new RepartitionPlanner.Settings(MAX_P, 4, W, 3 * W, 1, 2, 0.02,
                0.1, 0.001, 8, 100, 1.0, RepartitionPlanner.Constraints.NONE, 3 * W, false, -1, ValidationPolicy.ALL,
                true, io.keyshift.config.PlanOptions.Cost.MEAN_LOAD, 1.0, 50);
        // a stage whose windows need no pre-roll (aligned tumbling windows, other lateness): nothing to refuse
        RepartitionPlanner.Settings moreLateness = new RepartitionPlanner.Settings(MAX_P, 4, W, 3 * W, 1, 2, 0.02,
                0.1, 0.001, 8, 100, 1.0, RepartitionPlanner.Constraints.NONE, 0L, false, -1, ValidationPolicy.ALL,
                true, io.keyshift.config.PlanOptions.Cost.MEAN_LOAD, 1.0, 50);
        RouteEntry settled = RouteEntry.newBuilder().setKey("very-hot").setNaturalKeyGroup(1).setKeyGroup(1)
                .setMigration(null).setSplit(io.keyshift.avro.Split.newBuilder().setKeyGroups(List.of(1, 2))
                        .setFrom(10 * W).setPreRollFrom(10 * W).setPlannedInVersion(1).setPredictedLoad(1).build())
                .build();
        RoutingPlan later = io.keyshift.route.Plans.plan(9, 14 * W, MAX_P, settled);
        later.setBasedOnWindowEnd(13 * W);
        PlannerOperator.refuseMigrationsOfAnotherShape(later, new long[] {W, 0, W}, longerWindows);
        later.setBasedOnWindowEnd(12 * W);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PlannerOperator.refuseMigrationsOfAnotherShape(later,
                new long[] {W, 0, W}, longerWindows)).hasStackTraceContaining("splits very-hot from");
        PlannerOperator.refuseMigrationsOfAnotherShape(later, new long[] {W, 0, W}, moreLateness);
        RepartitionPlanner.Settings notSplitting = new RepartitionPlanner.Settings(MAX_P, 4, W, W, 1, 2, 0.02, 0.1,
                0.001, 8, 100, 0.0, RepartitionPlanner.Constraints.NONE, 0L, false, -1, ValidationPolicy.ALL, true,
                io.keyshift.config.PlanOptions.Cost.MEAN_LOAD, 1.0, 50);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> restore(notSplitting, snapshot))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("splits keys over several key groups (e.g. very-hot)")
                .hasStackTraceContaining("keyshift.plan.split-threshold");
    }

    /**
     * Migrations in flight were planned for the stage's window size, lateness and state horizon: restored into a stage
     * of another shape they could count a window at both owners. Refused, naming both shapes; a plan without a
     * migration in flight restores into any shape.
     */
    @Test
    void migrationsInFlightAreRefusedByAStageOfAnotherShape() throws Exception {
        // the gauge a user waits on before a savepoint that changes the shape: above 0 where the restore is refused,
        // 0 where it is not
        var moving = planAndSnapshot(settings(), forecast(10 * W, 4), p ->
                assertThat(PlannerOperator.migrationsUnfinished(p)).isPositive());
        restore(settings(), moving);
        RepartitionPlanner.Settings s = settings();
        RepartitionPlanner.Settings longer = new RepartitionPlanner.Settings(s.maxParallelism(), s.parallelism(),
                s.windowMillis(), 3 * s.windowMillis(), s.leaseLead(), s.horizon(), s.threshold(), s.alpha(),
                s.beta(), s.maxConcurrentMigrations(), s.maxRoutingEntries());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> restore(longer, moving))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("has migrations in flight");
        // no migration in flight: a threshold no move beats
        RepartitionPlanner.Settings still = new RepartitionPlanner.Settings(s.maxParallelism(), s.parallelism(),
                s.windowMillis(), s.stateHorizonMillis(), s.leaseLead(), s.horizon(), 1e9, s.alpha(), s.beta(),
                s.maxConcurrentMigrations(), s.maxRoutingEntries());
        var quiet = planAndSnapshot(still, forecast(10 * W, 4), p ->
                assertThat(PlannerOperator.migrationsUnfinished(p)).isZero());
        restore(longer, quiet);
    }
}
