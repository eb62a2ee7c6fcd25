package io.keyshift.forecast;

/**
 * The forecasting models keyshift fits to a load series, after Hyndman &amp; Athanasopoulos, "Forecasting:
 * Principles and Practice", 3rd ed. (FPP3), chapters 5 and 8. Declared from simplest to most complex: on a tie in
 * backtest error the simpler model wins.
 */
public enum ForecastModelKind {
    /** y(t+h) = y(t) (FPP3 §5.2). */
    NAIVE,
    /** y(t+h) = y(t+h-m*k), the same window one season earlier (FPP3 §5.2). */
    SEASONAL_NAIVE,
    /** Simple exponential smoothing, level only (FPP3 §8.1). */
    SES,
    /** Holt's linear trend with damping (FPP3 §8.2; Gardner &amp; McKenzie 1985). */
    HOLT,
    /** Additive Holt-Winters: level, damped trend and one seasonal component of period m (FPP3 §8.3). */
    HOLT_WINTERS;

    /** Parses a model name as used in options and reports (case-insensitive, '-' or '_'). */
    public static ForecastModelKind parse(String name) {
        return valueOf(name.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
    }
}
