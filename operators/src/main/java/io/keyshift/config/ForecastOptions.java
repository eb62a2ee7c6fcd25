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
                    + "lowest error) or one of naive, seasonal-naive, ses, holt, holt-winters, "
                    + "holt-winters-multiplicative, ar for every series.");

    public static final ConfigOption<List<Integer>> SEASONS = ConfigOptions.key("keyshift.forecast.seasons")
            .intType()
            .asList()
            .noDefaultValue()
            .withDescription("Season lengths in windows, e.g. '24;168' for a day and a week of hourly windows. With "
                    + "'auto', the seasonal candidates are fitted for every season of at least 2 windows (seasonal "
                    + "naive for each; both Holt-Winters models for seasons of at most 288 windows; the seasonal "
                    + "autoregressive model for seasons above 3, whose lag is not one of AR(3)'s own); MASE's "
                    + "scale and a single fixed seasonal model use the first season of at least 2 windows (Holt-Winters "
                    + "the first of 2 to 288 windows). Default: a week of windows if the window is "
                    + "a day or longer; a day and a week of windows for windows from 1 hour up to a day; a day of "
                    + "windows below 1 hour (a season of fewer than 2 windows, of more than 100,000, or one the window "
                    + "does not divide, is left out). Each season at most 100,000 windows: every series keeps one "
                    + "value per window of the longest.");

    public static final ConfigOption<Double> INTERVAL_Z = ConfigOptions.key("keyshift.forecast.interval-z")
            .doubleType()
            .defaultValue(1.96)
            .withDescription("z-score (> 0) of the prediction interval (1.96 = nominal 95% under normal errors).");

    public static final ConfigOption<Double> ANOMALY_Z = ConfigOptions.key("keyshift.forecast.anomaly-z")
            .doubleType()
            .defaultValue(4.0)
            .withDescription("An observed load further than this many (> 0) standard deviations of the one-step error "
                    + "from its forecast flags the unit as an anomaly and makes the planner re-plan at once.");

    public static final ConfigOption<Double> SELECTION_DECAY = ConfigOptions.key("keyshift.forecast.selection-decay")
            .doubleType()
            .noDefaultValue()
            .withDescription("Per-window decay in (0, 1] of the backtest errors that model selection compares "
                    + "(memory about 1 / (1 - decay) windows). Default: 1 - 1 / (3 x first season), at least 0.95, "
                    + "so that selection remembers about three seasons (0.986 for 24 hourly windows).");

    public static final ConfigOption<String> CALENDAR = ConfigOptions.key("keyshift.forecast.calendar")
            .stringType()
            .noDefaultValue()
            .withDescription("A CSV file of known events that the load history cannot foretell (public holidays, a "
                    + "campaign): lines 'date,label' (2014-07-04,holiday), 'first,last,label' (whole days, both "
                    + "inclusive) or 'start,end,label' (ISO local date-times, end exclusive), local to "
                    + "keyshift.forecast.calendar.time-zone. A window whose midpoint an entry holds is forecast like "
                    + "the mean of the same local time on the last ordinary keyshift.forecast.calendar.like-days; what the models "
                    + "learn from it is keyshift.forecast.calendar.observe (its actual load by default). "
                    + "Read where the job is built; windows of at most a day.");

    public static final ConfigOption<String> CALENDAR_TIME_ZONE =
            ConfigOptions.key("keyshift.forecast.calendar.time-zone")
                    .stringType()
                    .defaultValue("UTC")
                    .withDescription("Time zone (e.g. America/Los_Angeles) of the dates in keyshift.forecast.calendar "
                            + "and of the 'same local time' on the day a marked window is forecast like.");

    public static final ConfigOption<List<String>> CALENDAR_LIKE_DAYS =
            ConfigOptions.key("keyshift.forecast.calendar.like-days")
                    .stringType()
                    .asList()
                    .defaultValues("SUNDAY")
                    .withDescription("Days of week (MONDAY .. SUNDAY, e.g. 'SATURDAY;SUNDAY') whose load a window "
                            + "marked by keyshift.forecast.calendar is forecast like.");

    public static final ConfigOption<Integer> CALENDAR_REFERENCE_DAYS =
            ConfigOptions.key("keyshift.forecast.calendar.reference-days")
                    .intType()
                    .defaultValue(2)
                    .withDescription("How many of the most recent unmarked like-days (>= 1) the forecast of a marked "
                            + "window averages: one day's counts carry their full Poisson noise. Every series keeps "
                            + "enough history to reach them (for the default, 22 days of windows).");

    public static final ConfigOption<String> CALENDAR_OBSERVE =
            ConfigOptions.key("keyshift.forecast.calendar.observe")
                    .stringType()
                    .defaultValue("actual")
                    .withDescription("What the models learn from a window that keyshift.forecast.calendar marks: "
                            + "'actual' (its load, as from any other window) or 'missing' (their own forecast for it, "
                            + "as a state-space model treats a missing observation, so the days after are forecast "
                            + "as after an ordinary day).");

    /** The selection decay for a first season of {@code season} windows (0 = none), unless configured. */
    public static double selectionDecay(org.apache.flink.configuration.ReadableConfig config, int season) {
        return config.getOptional(SELECTION_DECAY)
                .orElse(season >= 2 ? Math.max(0.95, 1 - 1.0 / (3.0 * season)) : 0.95);
    }
}
