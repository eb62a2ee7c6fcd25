package io.keyshift.forecast;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * A model kind with its season in windows (0 = none). A seasonal kind needs a season >= 2; AUTOREGRESSIVE with a
 * season adds lag m to its lags 1..p. Holt-Winters (both kinds) takes seasons up to {@link #MAX_SMOOTHING_SEASON}.
 */
public record ModelSpec(ForecastModelKind kind, int season) implements Serializable {
    /**
     * Longest season, in windows, for which the Holt-Winters models are built and offered as candidates: 288, a day
     * of 5-minute windows. Holt-Winters keeps one smoothed seasonal term per window of the season (m doubles per
     * model and series, in memory and in every checkpoint), and each term is updated only once per season, so with
     * long seasons it is both large and slow to learn: with 1-minute windows and a daily season (m = 1440), the two
     * Holt-Winters models would add 2 x 1440 x 8 = 23 KB to every series.
     *
     * <p>Source: Hyndman &amp; Athanasopoulos, "Forecasting: Principles and Practice", 3rd ed.: §12.1 "Complex
     * seasonality" (high-frequency series with long and multiple seasonal periods, which most of the book's earlier
     * methods, ETS/Holt-Winters among them, do not handle) and §10.5 "Dynamic harmonic regression" (seasonal ETS
     * models are designed for short periods; with m - 1 initial seasonal states to estimate, large m is almost
     * impossible; for long seasons regression-type models are preferred). The bound 288 itself is keyshift's
     * (the book's ETS() stops at 24), chosen so that a day of 5-minute windows keeps Holt-Winters. For longer
     * seasons the candidates are seasonal naive and the seasonal AR (a regression on lag m), which read their lags
     * from the series' one shared {@link SeriesHistory} and stay candidates for any season.
     */
    public static final int MAX_SMOOTHING_SEASON = 288;

    public ModelSpec {
        if (kind.needsSeason() && season < 2) {
            throw new IllegalArgumentException(kind.id() + " needs a season >= 2, was " + season);
        }
        if (isSmoothing(kind) && season > MAX_SMOOTHING_SEASON) {
            throw new IllegalArgumentException(kind.id() + " keeps one term per window of its season and is only"
                    + " available for seasons up to " + MAX_SMOOTHING_SEASON + " windows"
                    + " (ModelSpec.MAX_SMOOTHING_SEASON), was " + season
                    + "; use seasonal-naive or ar for longer seasons");
        }
        if (season < 0 || season == 1) {
            season = 0;
        }
    }

    /** True for the Holt-Winters kinds, which keep m seasonal terms. */
    private static boolean isSmoothing(ForecastModelKind kind) {
        return kind == ForecastModelKind.HOLT_WINTERS || kind == ForecastModelKind.HOLT_WINTERS_MULTIPLICATIVE;
    }

    /** Report name, e.g. "holt-winters/24" or "ses". */
    public String name() {
        return season >= 2 ? kind.id() + "/" + season : kind.id();
    }

    /** Creates the model, with a private history if it reads lags ({@link Models#create(ModelSpec)}). */
    public LoadModel create() {
        return Models.create(this);
    }

    /**
     * Every model worth trying for the given seasons: naive, SES, Holt, AR(p); per season seasonal naive and
     * seasonal AR, and both Holt-Winters models if the season is at most {@link #MAX_SMOOTHING_SEASON} windows.
     * Seasons below 2 and repeated seasons are ignored; a season of at most the AR order (3) adds no seasonal AR,
     * whose lag m would be one of AR(3)'s own lags (the same model as AR(3), fitted and scored twice).
     */
    public static List<ModelSpec> candidates(List<Integer> seasons) {
        List<ModelSpec> out = new ArrayList<>();
        out.add(new ModelSpec(ForecastModelKind.NAIVE, 0));
        out.add(new ModelSpec(ForecastModelKind.SES, 0));
        out.add(new ModelSpec(ForecastModelKind.HOLT, 0));
        out.add(new ModelSpec(ForecastModelKind.AUTOREGRESSIVE, 0));
        for (int m : new java.util.LinkedHashSet<>(seasons)) {
            if (m >= 2) {
                out.add(new ModelSpec(ForecastModelKind.SEASONAL_NAIVE, m));
                if (m <= MAX_SMOOTHING_SEASON) {
                    out.add(new ModelSpec(ForecastModelKind.HOLT_WINTERS, m));
                    out.add(new ModelSpec(ForecastModelKind.HOLT_WINTERS_MULTIPLICATIVE, m));
                }
                if (m > Models.AR_ORDER) {
                    out.add(new ModelSpec(ForecastModelKind.AUTOREGRESSIVE, m));
                }
            }
        }
        return out;
    }

    /**
     * The single model {@code kind} with the first season that suits it: the first season >= 2, for Holt-Winters the
     * first in 2 .. {@link #MAX_SMOOTHING_SEASON}.
     *
     * @throws IllegalArgumentException if {@code kind} needs a season and none suits it
     */
    public static ModelSpec of(ForecastModelKind kind, List<Integer> seasons) {
        int m = seasons.stream().filter(s -> s >= 2).findFirst().orElse(0);
        if (kind.needsSeason() && m < 2) {
            throw new IllegalArgumentException(kind.id() + " needs keyshift.forecast.seasons with a season >= 2");
        }
        if (isSmoothing(kind)) {
            m = seasons.stream().filter(s -> s >= 2 && s <= MAX_SMOOTHING_SEASON).findFirst().orElseThrow(
                    () -> new IllegalArgumentException(kind.id() + " keeps one term per window of its season and is"
                            + " only available for seasons up to " + MAX_SMOOTHING_SEASON + " windows"
                            + " (ModelSpec.MAX_SMOOTHING_SEASON); keyshift.forecast.seasons " + seasons
                            + " has none; use seasonal-naive or ar, or longer windows"));
        }
        return new ModelSpec(kind, kind == ForecastModelKind.NAIVE || kind == ForecastModelKind.SES
                || kind == ForecastModelKind.HOLT ? 0 : m);
    }
}
