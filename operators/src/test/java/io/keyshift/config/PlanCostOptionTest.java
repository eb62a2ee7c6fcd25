package io.keyshift.config;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PlanCostOptionTest {
    @Test
    void thePlannersCostComesFromTheOptionAndDefaultsToTheMeanLoad() {
        Configuration c = new Configuration();
        assertThat(KeyshiftConfig.planSettings(c, 128, 4, 3_600_000L, 0, true, false).cost())
                .isEqualTo(PlanOptions.Cost.MEAN_LOAD);
        c.setString(PlanOptions.COST.key(), "PER_WINDOW");
        assertThat(KeyshiftConfig.planSettings(c, 128, 4, 3_600_000L, 0, true, false).cost())
                .isEqualTo(PlanOptions.Cost.PER_WINDOW);
        // a restored planner's settings without the field (null) judge by the mean load, as before
        assertThat(new io.keyshift.plan.RepartitionPlanner.Settings(128, 4, 60_000, 60_000, 1, 3, 0.02, 0.1, 0.005,
                16, 4096, 0.0, null, 0L, false, -1, null, true, null).cost()).isEqualTo(PlanOptions.Cost.MEAN_LOAD);
    }

    @Test
    void theForecasterForecastsForTheLongerOfThePlanningAndTheScalingHorizon() {
        Configuration c = new Configuration();
        // defaults: lease lead 1, planning horizon 1, scaling horizon 3
        assertThat(KeyshiftConfig.planSettings(c, 128, 4, 3_600_000L, 0, true, false).horizon()).isEqualTo(1);
        assertThat(KeyshiftConfig.forecastHorizon(c)).isEqualTo(4);
        assertThat(KeyshiftConfig.forecastSettings(c, 128).horizon()).isEqualTo(4);
        c.set(PlanOptions.HORIZON, 6);
        assertThat(KeyshiftConfig.forecastHorizon(c)).isEqualTo(7);
        c.set(ScalingOptions.HORIZON, 8);
        c.set(PlanOptions.LEASE_LEAD, 2);
        assertThat(KeyshiftConfig.forecastHorizon(c)).isEqualTo(10);
        Configuration bad = new Configuration();
        bad.set(ScalingOptions.HORIZON, 0);
        assertThatThrownBy(() -> KeyshiftConfig.validate(bad)).hasMessageContaining("keyshift.scaling.horizon");
        // each window forecasts every series this many steps: 1000 were accepted
        Configuration far = new Configuration();
        far.set(ScalingOptions.HORIZON, 1000);
        assertThatThrownBy(() -> KeyshiftConfig.validate(far)).hasMessageContaining("keyshift.scaling.horizon")
                .hasMessageContaining("at most " + KeyshiftConfig.MAX_FORECAST_STEPS).hasMessageContaining("1001");
        far.set(ScalingOptions.HORIZON, KeyshiftConfig.MAX_FORECAST_STEPS - 1);
        KeyshiftConfig.validate(far);
    }

    @Test
    void theForecastReachesTheFirstWindowAMoveOwnsWhenTheShadowPhaseIsLong() {
        Configuration c = new Configuration();
        long hour = 3_600_000L;
        // a keyed process function whose state reaches back 6 windows: a move planned now owns windows from forecast
        // step 6 on (lease lead 1 - 1 + 6 windows of shadow), beyond the 4 steps that the options alone give
        var process = KeyshiftConfig.planSettings(c, 128, 4, 6 * hour, 0, false, true);
        assertThat(process.forecastStepsNeeded()).isEqualTo(7);
        assertThat(KeyshiftConfig.forecastHorizon(c, process)).isEqualTo(7);
        // tumbling windows aligned with the planning window: the options' horizon already covers it
        var tumbling = KeyshiftConfig.planSettings(c, 128, 4, hour, 0, true, false);
        assertThat(KeyshiftConfig.forecastHorizon(c, tumbling)).isEqualTo(KeyshiftConfig.forecastHorizon(c));
        // every migration validated, by ALL or by a sample of one in 1: a move owns the windows after its validated
        // shadow window, and the planner reads that step (SAMPLE of one in 1 read the step before, which the move
        // does not own)
        Configuration all = new Configuration();
        all.set(PlanOptions.VALIDATION, io.keyshift.plan.ValidationPolicy.Mode.ALL);
        Configuration everyOne = new Configuration();
        everyOne.set(PlanOptions.VALIDATION, io.keyshift.plan.ValidationPolicy.Mode.SAMPLE);
        everyOne.set(PlanOptions.VALIDATION_SAMPLE_EVERY, 1);
        var validatedAll = KeyshiftConfig.planSettings(all, 128, 4, hour, 0, true, false);
        assertThat(validatedAll.forecastStepsNeeded()).as("ALL").isEqualTo(2);
        assertThat(KeyshiftConfig.planSettings(everyOne, 128, 4, hour, 0, true, false).forecastStepsNeeded())
                .as("SAMPLE of one in 1").isEqualTo(validatedAll.forecastStepsNeeded());
        assertThat(tumbling.forecastStepsNeeded()).as("SAMPLE of one in 10 (the default)").isEqualTo(1);
        // a state horizon of 1,000 windows: bounded
        var longest = KeyshiftConfig.planSettings(c, 128, 4, 1_000 * hour, 0, false, true);
        assertThat(KeyshiftConfig.forecastHorizon(c, longest)).isEqualTo(KeyshiftConfig.MAX_PLANNER_FORECAST_STEPS);
    }

    /**
     * Each planner, constraint and forecaster option reaches its own setting: the settings take about twenty values by
     * position, and two swapped ones would change behaviour without a word. Each option set to a value of its own.
     */
    @Test
    void everyPlannerAndForecasterOptionReachesItsOwnSetting() {
        Configuration c = new Configuration();
        c.setString("keyshift.window", "1h");
        c.set(PlanOptions.LEASE_LEAD, 2);
        c.set(PlanOptions.HORIZON, 5);
        c.set(PlanOptions.IMPROVEMENT_THRESHOLD, 0.07);
        c.set(PlanOptions.ALPHA, 0.31);
        c.set(PlanOptions.BETA, 0.0071);
        c.set(PlanOptions.MAX_CONCURRENT_MIGRATIONS, 13);
        c.set(PlanOptions.MAX_ROUTING_ENTRIES, 777);
        c.set(PlanOptions.CAPACITY, 123.0);
        c.set(PlanOptions.UTILIZATION_HIGH, 0.71);
        c.set(PlanOptions.UTILIZATION_CRITICAL, 0.93);
        c.set(PlanOptions.UTILIZATION_SCALE_IN, 0.41);
        c.set(PlanOptions.MIN_WINDOWS_BETWEEN_MOVES, 6);
        c.set(PlanOptions.TIME_BUDGET, java.time.Duration.ofMillis(250));
        c.set(PlanOptions.VALIDATION, io.keyshift.plan.ValidationPolicy.Mode.SAMPLE);
        c.set(PlanOptions.VALIDATION_SAMPLE_EVERY, 7);
        c.set(PlanOptions.SHRINKAGE, 0.6);
        c.set(PlanOptions.LONG_RUN_WINDOWS, 99);
        c.set(PlanOptions.COST, PlanOptions.Cost.PER_WINDOW);
        c.set(ProfilerOptions.TOP_K, 64);
        c.set(ProfilerOptions.AGE_OUT_WINDOWS, 17);
        c.set(ForecastOptions.INTERVAL_Z, 1.7);
        c.set(ForecastOptions.ANOMALY_Z, 3.3);
        KeyshiftConfig.validate(c);

        var s = KeyshiftConfig.planSettings(c, 128, 4, 3_600_000L, 0, true, false);
        assertThat(s.leaseLead()).isEqualTo(2);
        assertThat(s.horizon()).isEqualTo(5);
        assertThat(s.threshold()).isEqualTo(0.07);
        assertThat(s.alpha()).isEqualTo(0.31);
        assertThat(s.beta()).isEqualTo(0.0071);
        assertThat(s.maxConcurrentMigrations()).isEqualTo(13);
        assertThat(s.maxRoutingEntries()).isEqualTo(777);
        assertThat(s.shrinkage()).isEqualTo(0.6);
        assertThat(s.longRunWindows()).isEqualTo(99);
        assertThat(s.cost()).isEqualTo(PlanOptions.Cost.PER_WINDOW);
        assertThat(s.validation()).isEqualTo(new io.keyshift.plan.ValidationPolicy(
                io.keyshift.plan.ValidationPolicy.Mode.SAMPLE, 7));
        // a capacity model plans: cold moved keys stay
        assertThat(s.returnColdKeys()).isFalse();
        var k = s.constraints();
        assertThat(k.capacity()).isEqualTo(123.0);
        assertThat(k.high()).isEqualTo(0.71);
        assertThat(k.critical()).isEqualTo(0.93);
        assertThat(k.scaleIn()).isEqualTo(0.41);
        assertThat(k.minWindowsBetweenMoves()).isEqualTo(6);
        assertThat(k.searchBudget()).isEqualTo(java.time.Duration.ofMillis(250));

        var f = KeyshiftConfig.forecastSettings(c, 128);
        assertThat(f.topK()).isEqualTo(64);
        assertThat(f.ageOutWindows()).isEqualTo(17);
        assertThat(f.intervalZ()).isEqualTo(1.7);
        assertThat(f.anomalyZ()).isEqualTo(3.3);
        // lease lead + the larger of the planning (5) and scaling (3) horizons
        assertThat(f.horizon()).isEqualTo(7);
    }
}
