package io.keyshift.forecast;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * A model kind with its season in windows (0 = none). A seasonal kind needs a season >= 2; AUTOREGRESSIVE with a
 * season adds lag m to its lags 1..p.
 */
public record ModelSpec(ForecastModelKind kind, int season) implements Serializable {
    public ModelSpec {
        if (kind.needsSeason() && season < 2) {
            throw new IllegalArgumentException(kind.id() + " needs a season >= 2, was " + season);
        }
        if (season < 0 || season == 1) {
            season = 0;
        }
    }

    /** Report name, e.g. "holt-winters/24" or "ses". */
    public String name() {
        return season >= 2 ? kind.id() + "/" + season : kind.id();
    }

    /** Creates the model. */
    public LoadModel create() {
        return Models.create(this);
    }

    /**
     * Every model worth trying for the given seasons: naive, SES, Holt, AR(p); per season seasonal naive, both
     * Holt-Winters and seasonal AR. Seasons below 2 are ignored.
     */
    public static List<ModelSpec> candidates(List<Integer> seasons) {
        List<ModelSpec> out = new ArrayList<>();
        out.add(new ModelSpec(ForecastModelKind.NAIVE, 0));
        out.add(new ModelSpec(ForecastModelKind.SES, 0));
        out.add(new ModelSpec(ForecastModelKind.HOLT, 0));
        out.add(new ModelSpec(ForecastModelKind.AUTOREGRESSIVE, 0));
        for (int m : seasons) {
            if (m >= 2) {
                out.add(new ModelSpec(ForecastModelKind.SEASONAL_NAIVE, m));
                out.add(new ModelSpec(ForecastModelKind.HOLT_WINTERS, m));
                out.add(new ModelSpec(ForecastModelKind.HOLT_WINTERS_MULTIPLICATIVE, m));
                out.add(new ModelSpec(ForecastModelKind.AUTOREGRESSIVE, m));
            }
        }
        return out;
    }

    /** The single model {@code kind} with the first season that suits it. */
    public static ModelSpec of(ForecastModelKind kind, List<Integer> seasons) {
        int m = seasons.stream().filter(s -> s >= 2).findFirst().orElse(0);
        if (kind.needsSeason() && m < 2) {
            throw new IllegalArgumentException(kind.id() + " needs keyshift.forecast.seasons with a season >= 2");
        }
        return new ModelSpec(kind, kind == ForecastModelKind.NAIVE || kind == ForecastModelKind.SES
                || kind == ForecastModelKind.HOLT ? 0 : m);
    }
}
