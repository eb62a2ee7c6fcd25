package io.keyshift.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyshift.config.KeyshiftConfig;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/**
 * A validated migration's shadow phase leaves something to compare: a keyed process function's outputs are compared
 * from {@code T0 + horizon} to {@code T1}, so with a horizon of whole planning windows its validated shadow phase is
 * one window longer than the horizon (it was the horizon itself: nothing was compared while the migration counted as
 * validated).
 */
class ValidationShadowTest {
    private static final long MINUTE = 60_000L;

    private static RepartitionPlanner.Settings settings(long horizon, boolean aligned, boolean processFunction) {
        Configuration c = new Configuration();
        c.setString("keyshift.window", "1min");
        return KeyshiftConfig.planSettings(c, 128, 4, horizon, 0, aligned, processFunction);
    }

    @Test
    void aProcessFunctionsValidatedShadowPhaseOutlastsItsHorizon() {
        RepartitionPlanner.Settings whole = settings(6 * MINUTE, false, true);
        assertThat(whole.shadowMillis(true)).isEqualTo(7 * MINUTE);
        assertThat(whole.shadowMillis(false)).as("what correctness needs").isEqualTo(6 * MINUTE);
        RepartitionPlanner.Settings part = settings(390_000L, false, true);
        assertThat(part.shadowMillis(true)).isEqualTo(7 * MINUTE);
        assertThat(part.shadowMillis(false)).isEqualTo(7 * MINUTE);
        // a horizon shorter than a window: one window, compared from T0 + 30 s on
        RepartitionPlanner.Settings short30s = settings(30_000L, false, true);
        assertThat(short30s.shadowMillis(true)).isEqualTo(MINUTE);
        assertThat(short30s.shadowMillis(false)).isEqualTo(MINUTE);
        assertThat(short30s.comparedFromMillis()).isEqualTo(30_000L);
        // exactly one window: two
        assertThat(settings(MINUTE, false, true).shadowMillis(true)).isEqualTo(2 * MINUTE);
    }

    /**
     * A completed migration counts as validated only if its shadow phase had results to compare: for a keyed process
     * function, longer than its horizon (the coverage metric said 100 % while nothing was compared).
     */
    @Test
    void aMigrationCountsAsValidatedOnlyIfItsShadowPhaseHadResultsToCompare() {
        io.keyshift.avro.RouteEntry e = io.keyshift.avro.RouteEntry.newBuilder().setKey("k").setNaturalKeyGroup(1)
                .setKeyGroup(2).setEpoch(3).setMigration(null).setRetired(java.util.List.of(
                        io.keyshift.route.Plans.migration(1, 2, 0, 6 * MINUTE, 3),
                        io.keyshift.route.Plans.migration(2, 5, 6 * MINUTE, 13 * MINUTE, 4),
                        io.keyshift.route.Plans.migration(5, 6, 13 * MINUTE, 13 * MINUTE, 5)))
                .build();
        io.keyshift.avro.RoutingPlan plan = io.keyshift.route.Plans.plan(6, 20 * MINUTE, 128, e);
        assertThat(PlannerOperator.validatedCompleted(plan, 6 * MINUTE)).as("a process function").isEqualTo(1);
        assertThat(PlannerOperator.validatedCompleted(plan, 0)).as("a window stage").isEqualTo(2);
    }

    @Test
    void windowStagesCompareWholeWindowsFromTheShadowPhasesStart() {
        // tumbling windows aligned with the planning window: one window of shadow to compare, none for correctness
        RepartitionPlanner.Settings tumbling = settings(MINUTE, true, false);
        assertThat(tumbling.shadowMillis(true)).isEqualTo(MINUTE);
        assertThat(tumbling.shadowMillis(false)).isZero();
        // sliding windows: the horizon rounded up, validated or not
        RepartitionPlanner.Settings sliding = settings(3 * MINUTE, false, false);
        assertThat(sliding.shadowMillis(true)).isEqualTo(3 * MINUTE);
        assertThat(sliding.shadowMillis(false)).isEqualTo(3 * MINUTE);
    }
}
