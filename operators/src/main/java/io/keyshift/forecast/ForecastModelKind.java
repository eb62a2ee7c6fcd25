package io.keyshift.forecast;

import java.util.Locale;

/**
 * The forecasting models keyshift fits to a load series, after Hyndman &amp; Athanasopoulos, "Forecasting:
 * Principles and Practice", 3rd ed. (FPP3), chapters 5, 8 and 9. Declared from simplest to most complex. On a tie
 * in backtest error the earlier candidate in {@link ModelSpec#candidates} order wins: naive, SES, Holt and AR come
 * before the seasonal models there, so on a tie SES beats seasonal naive.
 */
public enum ForecastModelKind {
    /** y(t+h) = y(t) (FPP3 §5.2). */
    NAIVE(false),
    /** y(t+h) = y(t+h-m*k), the same window one season earlier (FPP3 §5.2). */
    SEASONAL_NAIVE(true),
    /** Simple exponential smoothing, level only (FPP3 §8.1). */
    SES(false),
    /** Holt's linear trend with damping (FPP3 §8.2; Gardner &amp; McKenzie 1985). */
    HOLT(false),
    /**
     * Additive Holt-Winters: level, damped trend and one seasonal component of period m (FPP3 §8.3); m up to
     * {@link ModelSpec#MAX_SMOOTHING_SEASON}.
     */
    HOLT_WINTERS(true),
    /**
     * Multiplicative Holt-Winters: the seasonal component scales the level (FPP3 §8.3); m up to
     * {@link ModelSpec#MAX_SMOOTHING_SEASON}.
     */
    HOLT_WINTERS_MULTIPLICATIVE(true),
    /** AR(p) with an intercept, fitted by least squares on recent history (FPP3 §9.3); with a season m, lag m is added. */
    AUTOREGRESSIVE(false);

    private final boolean needsSeason;

    ForecastModelKind(boolean needsSeason) {
        this.needsSeason = needsSeason;
    }

    /** True if the model is undefined without a season m >= 2. */
    public boolean needsSeason() {
        return needsSeason;
    }

    /** Option/report name: lower case with '-' (e.g. holt-winters). */
    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Parses a model name as used in options and reports (case-insensitive, '-' or '_'). */
    public static ForecastModelKind parse(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        if (n.equals("AR")) {
            return AUTOREGRESSIVE;
        }
        return valueOf(n);
    }
}
