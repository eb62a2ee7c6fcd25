package io.keyshift.forecast;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Forecasts one load series (records per window) with several {@link LoadModel}s at once and picks, window by
 * window, the one with the lowest recent one-step-ahead error.
 *
 * <p>Selection is a rolling-origin backtest run online (Tashman 2000, "Out-of-sample tests of forecasting accuracy";
 * FPP3 §5.10): at every origin each model's forecast for the next window is scored against the actual when it
 * arrives; scores are exponentially decayed sums of absolute errors (factor {@code decay} per window), so the
 * choice follows the data as it changes. Since every model is scored on the same points, the lowest score is the
 * lowest MASE. With four or more single models, one more candidate is their combination: the equal-weight mean of
 * the three single models with the lowest current scores (Bates &amp; Granger 1969; FPP3 §13.4), scored like the
 * others. A fixed model can be forced (for the reactive strategy: NAIVE).
 *
 * <p>Prediction interval at horizon h: {@code forecast(h) ± z * sd * sqrt(h)}, sd = the chosen model's decayed
 * root-mean-square one-step error (a random-walk approximation of the h-step error, FPP3 §5.5), clamped at 0.
 * Before any error is known, sd = sqrt(max(1, forecast)) (Poisson). Anomaly: an actual further than
 * {@code anomalyZ * sd} from the previous one-step forecast.
 *
 * <p>Memory: (number of models + 1) * season doubles + O(models).
 */
public final class SeriesForecaster {
    /** Number of best single models averaged by the combination candidate. */
    static final int COMBINED = 3;
    /** The combination is a candidate when at least this many single models run. */
    static final int COMBINATION_MIN_MODELS = 4;
    /** Name of the combination candidate in reports. */
    public static final String COMBINATION = "combination";

    private final LoadModel[] models;
    private final ModelSpec[] specs;
    private final double[] score;
    private final double[] squared;
    private final double[] lastOneStep;
    private final double[] seasonRing;
    private final double decay;
    private final boolean combine;
    private int chosen;
    private double weight;
    private double lastY;
    private long n;

    /**
     * @param candidates models to run; one element forces that model
     * @param scaleSeason season m of the MASE scale (>= 2), or < 2 for m = 1
     * @param decay weight kept per window by the backtest scores, in (0, 1]
     */
    public SeriesForecaster(java.util.List<ModelSpec> candidates, int scaleSeason, double decay) {
        if (!(decay > 0 && decay <= 1)) {
            throw new IllegalArgumentException("decay must be in (0, 1], was " + decay);
        }
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("at least one model is needed");
        }
        this.specs = candidates.toArray(new ModelSpec[0]);
        this.models = new LoadModel[specs.length];
        for (int i = 0; i < specs.length; i++) {
            models[i] = specs[i].create();
        }
        this.combine = models.length >= COMBINATION_MIN_MODELS;
        int slots = models.length + (combine ? 1 : 0);
        this.score = new double[slots];
        this.squared = new double[slots];
        this.lastOneStep = new double[slots];
        this.seasonRing = new double[Math.max(1, scaleSeason)];
        this.decay = decay;
    }

    /**
     * Convenience: every model for one season ({@link ModelSpec#candidates}), or only {@code fixedModel}.
     *
     * @param season the season m in windows (>= 2), or < 2 for none
     */
    public SeriesForecaster(int season, double decay, ForecastModelKind fixedModel) {
        this(fixedModel == null
                ? ModelSpec.candidates(java.util.List.of(season))
                : java.util.List.of(ModelSpec.of(fixedModel, java.util.List.of(season))), season, decay);
    }

    /** What one observation did to the error statistics. */
    public record Observation(double absoluteError, double naiveError, boolean hasNaive,
                              double seasonalNaiveError, boolean hasSeasonal, boolean anomaly) {}

    /**
     * Adds the next actual load and updates every model.
     *
     * @param y records in the window, >= 0
     * @param anomalyZ z-score beyond which the actual is an anomaly, > 0
     */
    public Observation observe(double y, double anomalyZ) {
        if (!(y >= 0) || Double.isInfinite(y)) {
            throw new IllegalArgumentException("load must be finite and >= 0, was " + y);
        }
        double abs = 0;
        double naive = 0;
        double seasonalNaive = 0;
        boolean hasNaive = false;
        boolean hasSeasonal = false;
        boolean anomaly = false;
        if (n > 0) {
            int c = chosenIndex();
            abs = Math.abs(lastOneStep[c] - y);
            if (weight >= 3) {
                anomaly = abs > anomalyZ * sd(c);
            }
            naive = Math.abs(y - lastY);
            hasNaive = true;
            int m = seasonRing.length;
            if (m >= 2 && n >= m) {
                seasonalNaive = Math.abs(y - seasonRing[(int) (n % m)]);
                hasSeasonal = true;
            }
            for (int i = 0; i < score.length; i++) {
                double e = lastOneStep[i] - y;
                score[i] = decay * score[i] + Math.abs(e);
                squared[i] = decay * squared[i] + e * e;
            }
            weight = decay * weight + 1;
        }
        for (int i = 0; i < models.length; i++) {
            models[i].observe(y);
            lastOneStep[i] = models[i].forecast(1);
        }
        if (combine) {
            lastOneStep[models.length] = combined(1);
        }
        chosen = select();
        seasonRing[(int) (n % seasonRing.length)] = y;
        lastY = y;
        n++;
        return new Observation(abs, naive, hasNaive, seasonalNaive, hasSeasonal, anomaly);
    }

    /** The model currently chosen (lowest decayed backtest error; ties go to the earlier, simpler candidate). */
    public ForecastModelKind chosen() {
        int c = chosenIndex();
        return c < models.length ? models[c].kind() : models[bestSingles()[0]].kind();
    }

    /** Name of the chosen candidate: a model with its season ("holt-winters/24") or {@link #COMBINATION}. */
    public String chosenName() {
        int c = chosenIndex();
        return c < models.length ? specs[c].name() : COMBINATION;
    }

    private int chosenIndex() {
        return chosen;
    }

    private int select() {
        if (models.length == 1 || weight == 0) {
            return 0;
        }
        int best = 0;
        for (int i = 1; i < score.length; i++) {
            if (score[i] < score[best] - 1e-9) {
                best = i;
            }
        }
        return best;
    }

    /** Point forecast {@code h >= 1} windows ahead, records, >= 0. */
    public double forecast(int h) {
        int c = chosenIndex();
        return c < models.length ? models[c].forecast(h) : combined(h);
    }

    /** Indexes of the {@link #COMBINED} single models with the lowest scores (ties: earlier first). */
    private int[] bestSingles() {
        int k = Math.min(COMBINED, models.length);
        int[] best = new int[k];
        boolean[] used = new boolean[models.length];
        for (int j = 0; j < k; j++) {
            int b = -1;
            for (int i = 0; i < models.length; i++) {
                if (!used[i] && (b < 0 || score[i] < score[b] - 1e-9)) {
                    b = i;
                }
            }
            used[b] = true;
            best[j] = b;
        }
        return best;
    }

    /** Equal-weight mean of the best single models' forecasts (Bates &amp; Granger 1969; FPP3 §13.4). */
    private double combined(int h) {
        double sum = 0;
        int[] best = bestSingles();
        for (int i : best) {
            sum += models[i].forecast(h);
        }
        return sum / best.length;
    }

    /** Standard deviation of the chosen model's one-step error, records. */
    public double sd() {
        return sd(chosenIndex());
    }

    private double sd(int i) {
        if (weight == 0) {
            return Math.sqrt(Math.max(1, forecast(1)));
        }
        return Math.sqrt(squared[i] / weight);
    }

    /** Lower bound of the interval around a point forecast {@code f} at horizon h for z-score {@code z}, >= 0. */
    public double lower(double f, int h, double z) {
        return Math.max(0, f - z * sd() * Math.sqrt(h));
    }

    /** Upper bound of the interval around a point forecast {@code f} at horizon h for z-score {@code z}. */
    public double upper(double f, int h, double z) {
        return f + z * sd() * Math.sqrt(h);
    }

    /** Lower bound of the prediction interval at horizon h for z-score {@code z}, >= 0. */
    public double lower(int h, double z) {
        return Math.max(0, forecast(h) - z * sd() * Math.sqrt(h));
    }

    /** Upper bound of the prediction interval at horizon h for z-score {@code z}. */
    public double upper(int h, double z) {
        return forecast(h) + z * sd() * Math.sqrt(h);
    }

    /** Observations so far. */
    public long observations() {
        return n;
    }

    /** The last observed load. */
    public double lastObserved() {
        return lastY;
    }

    void write(DataOutputStream out) throws IOException {
        out.writeLong(n);
        out.writeDouble(lastY);
        out.writeDouble(weight);
        out.writeInt(score.length);
        for (int i = 0; i < score.length; i++) {
            out.writeDouble(score[i]);
            out.writeDouble(squared[i]);
            out.writeDouble(lastOneStep[i]);
            if (i < models.length) {
                models[i].write(out);
            }
        }
        out.writeInt(seasonRing.length);
        for (double v : seasonRing) {
            out.writeDouble(v);
        }
    }

    void read(DataInputStream in) throws IOException {
        n = in.readLong();
        lastY = in.readDouble();
        weight = in.readDouble();
        int count = in.readInt();
        if (count != score.length) {
            throw new IOException("forecaster state has " + count + " models, configuration has " + models.length
                    + "; restore with the same keyshift.forecast.* options");
        }
        for (int i = 0; i < count; i++) {
            score[i] = in.readDouble();
            squared[i] = in.readDouble();
            lastOneStep[i] = in.readDouble();
            if (i < models.length) {
                models[i].read(in);
            }
        }
        chosen = select();
        int m = in.readInt();
        if (m != seasonRing.length) {
            throw new IOException("forecaster state has season " + m + ", configuration " + seasonRing.length);
        }
        for (int i = 0; i < m; i++) {
            seasonRing[i] = in.readDouble();
        }
    }
}
