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
        assertThat(PlannerOperator.validatedCompleted(plan, settings(6 * MINUTE, false, true)))
                .as("a process function").isEqualTo(1);
        assertThat(PlannerOperator.validatedCompleted(plan, settings(MINUTE, true, false)))
                .as("a window stage of tumbling one-minute windows").isEqualTo(2);
        // tumbling two-minute windows: [0, 6 min) holds three, [6 min, 13 min) holds [6, 8), ... [10, 12)
        assertThat(PlannerOperator.validatedCompleted(plan, windows(2 * MINUTE, 2 * MINUTE, 2 * MINUTE, 0)))
                .isEqualTo(2);
        // tumbling seven-minute windows start at 0, 7, 14 min: only [0, 6 min) ... neither holds one
        assertThat(PlannerOperator.validatedCompleted(plan, windows(7 * MINUTE, 7 * MINUTE, 7 * MINUTE, 0)))
                .isZero();
    }

    private static RepartitionPlanner.Settings windows(long horizon, long size, long slide, long offset) {
        Configuration c = new Configuration();
        c.setString("keyshift.window", "1min");
        return KeyshiftConfig.planSettings(c, 128, 4, horizon, 0, false, false,
                new RepartitionPlanner.ComparedWindows(size, slide, offset));
    }

    /**
     * A window stage's shadow phase compares the windows that lie wholly inside it; a validated one is long enough that
     * one does whatever planning-window boundary it starts at (a tumbling window of two planning windows fitted only
     * in every other shadow phase of two windows, which counted as validated all the same).
     */
    @Test
    void aWindowStagesValidatedShadowPhaseHoldsAWholeWindowFromAnyStart() {
        RepartitionPlanner.Settings twoMinutes = windows(2 * MINUTE, 2 * MINUTE, 2 * MINUTE, 0);
        assertThat(twoMinutes.shadowMillis(false)).as("what correctness needs").isEqualTo(2 * MINUTE);
        assertThat(twoMinutes.shadowMillis(true)).isEqualTo(3 * MINUTE);
        assertThat(twoMinutes.compares(4 * MINUTE, 6 * MINUTE)).isTrue();
        assertThat(twoMinutes.compares(5 * MINUTE, 7 * MINUTE)).as("[6, 8) ends after the switch-over").isFalse();
        for (long t0 = 0; t0 < 10 * MINUTE; t0 += MINUTE) {
            assertThat(twoMinutes.compares(t0, t0 + twoMinutes.shadowMillis(true))).as("from %d", t0).isTrue();
            // sized for its own start: two windows from an even minute, three from an odd one
            long own = twoMinutes.shadowMillis(true, t0);
            assertThat(own).isEqualTo(t0 % (2 * MINUTE) == 0 ? 2 * MINUTE : 3 * MINUTE);
            assertThat(twoMinutes.compares(t0, t0 + own)).isTrue();
        }
        assertThat(twoMinutes.shadowMillis(false, 5 * MINUTE)).isEqualTo(2 * MINUTE);
        // daily windows, hourly planning windows: a day from midnight, 47 hours from 01:00
        Configuration hourly = new Configuration();
        hourly.setString("keyshift.window", "1h");
        long hour = 60 * MINUTE;
        RepartitionPlanner.Settings daily = KeyshiftConfig.planSettings(hourly, 128, 4, 24 * hour, 0, false, false,
                RepartitionPlanner.ComparedWindows.tumbling(24 * hour));
        assertThat(daily.shadowMillis(true, 0)).isEqualTo(24 * hour);
        assertThat(daily.shadowMillis(true, hour)).isEqualTo(47 * hour);
        assertThat(daily.shadowMillis(true, 23 * hour)).isEqualTo(25 * hour);
        // 90-second windows offset by 30 s: starts at 30 s, 2 min, 3.5 min, ...
        RepartitionPlanner.Settings ninety = windows(90_000, 90_000, 90_000, 30_000);
        assertThat(ninety.shadowMillis(true)).isEqualTo(3 * MINUTE);
        for (long t0 = 0; t0 < 12 * MINUTE; t0 += MINUTE) {
            assertThat(ninety.compares(t0, t0 + ninety.shadowMillis(true))).as("from %d", t0).isTrue();
        }
        assertThat(ninety.compares(MINUTE, 3 * MINUTE)).as("[2 min, 3.5 min) ends after 3 min").isFalse();
        assertThat(ninety.compares(2 * MINUTE, 4 * MINUTE)).as("[2 min, 3.5 min)").isTrue();
        // sliding 10-minute windows every minute: a start at every planning-window boundary
        RepartitionPlanner.Settings sliding = windows(10 * MINUTE, 10 * MINUTE, MINUTE, 0);
        assertThat(sliding.shadowMillis(true)).isEqualTo(10 * MINUTE);
        assertThat(sliding.compares(3 * MINUTE, 13 * MINUTE)).isTrue();
        assertThat(sliding.compares(3 * MINUTE, 12 * MINUTE)).isFalse();
        // with lateness the state horizon is longer than the windows: the horizon rounded up, as before
        assertThat(windows(5 * MINUTE, 2 * MINUTE, 2 * MINUTE, 0).shadowMillis(true)).isEqualTo(5 * MINUTE);
        // hopping 1-minute windows every 5 minutes (Flink's sliding windows with slide > size), offset 2 minutes:
        // starts at 2, 7, 12, ... min; from a start at 3 min the next is 4 min later: five windows of shadow phase
        RepartitionPlanner.Settings hopping = windows(MINUTE, MINUTE, 5 * MINUTE, 2 * MINUTE);
        assertThat(hopping.shadowMillis(true)).isEqualTo(5 * MINUTE);
        assertThat(hopping.shadowMillis(false)).isEqualTo(MINUTE);
        assertThat(hopping.compares(3 * MINUTE, 8 * MINUTE)).isTrue();
        assertThat(hopping.compares(3 * MINUTE, 7 * MINUTE)).isFalse();
        assertThat(hopping.compares(7 * MINUTE, 8 * MINUTE)).isTrue();
        // the planning window's own tumbling windows: one window, compared whatever its start
        RepartitionPlanner.Settings own = windows(MINUTE, MINUTE, MINUTE, 0);
        assertThat(own.shadowMillis(true)).isEqualTo(MINUTE);
        assertThat(own.compares(7 * MINUTE, 8 * MINUTE)).isTrue();
        assertThat(own.compares(7 * MINUTE, 7 * MINUTE)).isFalse();
    }

    @Test
    void windowStagesCompareWholeWindowsFromTheShadowPhasesStart() {
        // tumbling windows aligned with the planning window: one window of shadow to compare, none for correctness
        RepartitionPlanner.Settings tumbling = settings(MINUTE, true, false);
        assertThat(tumbling.shadowMillis(true)).isEqualTo(MINUTE);
        assertThat(tumbling.shadowMillis(false)).isZero();
        // sliding 3-minute windows every minute: the horizon rounded up, validated or not
        RepartitionPlanner.Settings sliding = windows(3 * MINUTE, 3 * MINUTE, MINUTE, 0);
        assertThat(sliding.shadowMillis(true)).isEqualTo(3 * MINUTE);
        assertThat(sliding.shadowMillis(false)).isEqualTo(3 * MINUTE);
    }
}
