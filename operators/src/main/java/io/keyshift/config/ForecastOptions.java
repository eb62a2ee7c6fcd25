package io.keyshift.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.util.List;

/** Options of the load forecaster. */
public final class ForecastOptions {
    private ForecastOptions() {}

    public static final ConfigOption<String> MODEL = ConfigOptions.key("keyshift.forecast.model")
            .stringType()
            .defaultValue("auto")
            .withDescription("Forecasting model: 'auto' (each series picks its model by a rolling-origin backtest, "
                    + "lowest error) or one of naive, seasonal-naive, ses, holt, holt-winters for every series.");

    public static final ConfigOption<List<Integer>> SEASONS = ConfigOptions.key("keyshift.forecast.seasons")
            .intType()
            .asList()
            .noDefaultValue()
            .withDescription("Season lengths in windows, e.g. '24;168' for a day and a week of hourly windows. The "
                    + "first is used by the seasonal models and MASE. Default: a week of windows if the window is "
                    + "a day or longer, else a day of windows.");

    public static final ConfigOption<Double> INTERVAL_Z = ConfigOptions.key("keyshift.forecast.interval-z")
            .doubleType()
            .defaultValue(1.96)
            .withDescription("z-score of the prediction interval (1.96 = nominal 95% under normal errors).");

    public static final ConfigOption<Double> ANOMALY_Z = ConfigOptions.key("keyshift.forecast.anomaly-z")
            .doubleType()
            .defaultValue(4.0)
            .withDescription("An observed load further than this many standard deviations of the one-step error "
                    + "from its forecast flags the unit as an anomaly and makes the planner re-plan at once.");

    public static final ConfigOption<Double> SELECTION_DECAY = ConfigOptions.key("keyshift.forecast.selection-decay")
            .doubleType()
            .noDefaultValue()
            .withDescription("Per-window decay in (0, 1] of the backtest errors that model selection compares "
                    + "(memory about 1 / (1 - decay) windows). Default: 1 - 1 / (3 x first season), at least 0.95, "
                    + "so that selection remembers about three seasons (0.986 for 24 hourly windows).");

    /** The selection decay for a first season of {@code season} windows (0 = none), unless configured. */
    public static double selectionDecay(org.apache.flink.configuration.ReadableConfig config, int season) {
        return config.getOptional(SELECTION_DECAY)
                .orElse(season >= 2 ? Math.max(0.95, 1 - 1.0 / (3.0 * season)) : 0.95);
    }
}
