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
        // a state horizon of 1,000 windows: bounded
        var longest = KeyshiftConfig.planSettings(c, 128, 4, 1_000 * hour, 0, false, true);
        assertThat(KeyshiftConfig.forecastHorizon(c, longest)).isEqualTo(KeyshiftConfig.MAX_PLANNER_FORECAST_STEPS);
    }
}
