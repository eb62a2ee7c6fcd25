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
 * <p>Warm-up: until {@value #SELECTION_WARM_UP} origins have been scored, a series with the naive model among its
 * candidates is forecast by it, the benchmark (FPP3 §5.2). On fewer origins the scores are the errors of one or two
 * windows and the choice follows them: on the built-in generator's first day, where each key's load rises over a few
 * hours and then drops to nothing, selection flipped between Holt, SES and naive window by window and kept forecasting
 * a key that had just gone cold at half its peak (predictive imbalance 1.51 over that day against 1.34 with the warm-up,
 * which is what naive alone gives). Tashman (2000) makes the same point for offline backtests: rank models on many
 * origins, not a few.
 *
 * <p>Prediction interval at horizon h: {@code forecast(h) ± z * sd * w(h)}, sd = the chosen model's decayed
 * root-mean-square one-step error, clamped at 0; w(h) = sqrt(h), the naive method's h-step width (FPP3 §5.5, Table
 * 5.2), used as a conservative approximation for the models whose own is narrower (seasonal naive's grows as
 * sqrt(floor((h - 1) / m) + 1), SES's as sqrt(1 + alpha^2 (h - 1)), FPP3 §8.7), and the autoregression's own
 * sqrt(sum psi_j^2) where that is wider (a fit with momentum: {@link LoadModel#intervalFactor}; until 2026-12-06 its
 * bands beyond step 1 were sqrt(h) too, and held about 80 % of the actuals at z = 1.96 on such a series); keyshift
 * reads the bounds of step 1, where all agree.
 * Before any error is known, sd = sqrt(max(1, forecast)) (Poisson). Anomaly: an actual further than
 * {@code anomalyZ * sd} from the previous one-step forecast.
 *
 * <p>History: the series keeps one {@link SeriesHistory} of its last L observations, L = the largest lag any
 * model or the seasonal MASE scale reads + 1 (with {@link ModelSpec#candidates}: m + 1 for the longest season m, 4
 * without seasons), stored as floats (exact for record counts below 2^24). Seasonal naive, the autoregressive models
 * and the scale |y(t) - y(t-m)| read their lags from it; no model keeps a season of past values of its own.
 *
 * <p>Memory per series, as written by {@link #write} (the heap holds about the same plus object headers):
 * {@code 28 + 24 * (candidates + 1 if combined) + (12 + 4 * L)} bytes for the counters, scores and history, plus
 * per model 8 (naive), 9 (SES), 24 (Holt), 0 (seasonal naive), 209 or 297 (AR without or with a seasonal lag) and
 * {@code 32 + 8 * m} per Holt-Winters model, which {@link ModelSpec#candidates} offers only for
 * {@code m <= } {@link ModelSpec#MAX_SMOOTHING_SEASON} (288). With the candidates of one season m > 288, e.g. a day
 * of 1-minute windows: {@code 755 + 4 * (m + 1)} bytes, 6,519 for m = 1440 (58,507 when every seasonal model
 * kept its own ring and Holt-Winters ran at m = 1440); with seasons 24 and 168: 5,072 bytes (see
 * ForecastStateSizeTest).
 */
public final class SeriesForecaster {
    /** Number of best single models averaged by the combination candidate. */
    static final int COMBINED = 3;
    /** The combination is a candidate when at least this many single models run. */
    static final int COMBINATION_MIN_MODELS = 4;
    /** Name of the combination candidate in reports. */
    public static final String COMBINATION = "combination";
    /** Scored one-step origins before selection may leave the naive benchmark (see the class comment). */
    static final int SELECTION_WARM_UP = 12;

    private final LoadModel[] models;
    private final ModelSpec[] specs;
    private final double[] score;
    private final double[] squared;
    private final double[] lastOneStep;
    /** The series' last observations, shared by the models that read lags and by the seasonal MASE scale. */
    private final SeriesHistory history;
    /** Season m of the MASE scale, or 0 for m = 1. */
    private final int scaleSeason;
    private final double decay;
    /** The backtest weight from which anomalies are flagged (their standard deviation needs a few windows). */
    private final double anomalyWeight;
    /**
     * The backtest weight of {@value #SELECTION_WARM_UP} scored origins, as {@link #observe} adds it up: selection
     * starts there (windows marked by a calendar are observed but not scored, and do not count).
     */
    private final double warmUpWeight;
    private final boolean combine;
    private int chosen;
    private double weight;
    /** Index of the naive model among the candidates (the benchmark during the warm-up), or -1. */
    private final int benchmark;
    private double lastY;
    private long n;

    /**
     * @param candidates models to run; one element forces that model
     * @param scaleSeason season m of the MASE scale (>= 2), or < 2 for m = 1
     * @param decay weight kept per window by the backtest scores, in (0, 1]
     */
    public SeriesForecaster(List<ModelSpec> candidates, int scaleSeason, double decay) {
        this(candidates, scaleSeason, decay, 0);
    }

    /**
     * As {@link #SeriesForecaster(List, int, double)}, with a history of at least {@code minHistory} observations
     * (for a {@link ForecastCalendar}, whose reference days lie up to {@link ForecastCalendar#reachDays()} back).
     */
    public SeriesForecaster(List<ModelSpec> candidates, int scaleSeason, double decay, int minHistory) {
        if (!(decay > 0 && decay <= 1)) {
            throw new IllegalArgumentException("decay must be in (0, 1], was " + decay);
        }
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("at least one model is needed");
        }
        this.specs = candidates.toArray(new ModelSpec[0]);
        this.scaleSeason = scaleSeason >= 2 ? scaleSeason : 0;
        this.history = new SeriesHistory(Math.max(minHistory, historyLength(candidates, scaleSeason)));
        this.models = new LoadModel[specs.length];
        for (int i = 0; i < specs.length; i++) {
            models[i] = Models.create(specs[i], history);
        }
        int naive = -1;
        for (int i = 0; i < specs.length && naive < 0; i++) {
            naive = specs[i].kind() == ForecastModelKind.NAIVE ? i : -1;
        }
        this.benchmark = naive;
        this.combine = models.length >= COMBINATION_MIN_MODELS;
        int slots = models.length + (combine ? 1 : 0);
        this.score = new double[slots];
        this.squared = new double[slots];
        this.lastOneStep = new double[slots];
        this.decay = decay;
        // three scored windows' weight: 3 where the decayed weight reaches it within five windows (it tends to
        // 1 / (1 - decay): from a decay of 0.75 on), else the weight of exactly three, computed as observe adds it up
        // (below a decay of 2/3 a fixed 3 was never reached, and just above it only after 7 to 23 windows, or never
        // at the double 2/3)
        double three = 0;
        for (int i = 0; i < 3; i++) {
            three = decay * three + 1;
        }
        this.anomalyWeight = decay >= 0.75 ? 3 : three;
        double warmUp = 0;
        for (int i = 0; i < SELECTION_WARM_UP; i++) {
            warmUp = decay * warmUp + 1;
        }
        this.warmUpWeight = warmUp;
    }

    /**
     * Observations the shared history of a series with these candidates keeps: the largest lag any of them or the
     * MASE scale of season {@code scaleSeason} reads, + 1 (at least 1).
     */
    static int historyLength(List<ModelSpec> candidates, int scaleSeason) {
        int length = scaleSeason >= 2 ? scaleSeason + 1 : 1;
        for (ModelSpec spec : candidates) {
            length = Math.max(length, Models.historyLength(spec));
        }
        return length;
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
     * <p>The load is taken at float precision, as the shared history keeps it: whole record counts below 2^24 are
     * unchanged; any other value is rounded to the nearest float (relative error at most 2^-24) before the models,
     * the scores and the MASE see it, so that every model sees the same value (models that agree, such as naive and
     * seasonal naive before a full season, keep equal scores).
     *
     * @param load records in the window, >= 0
     * @param anomalyZ z-score beyond which the actual is an anomaly, > 0
     */
    public Observation observe(double load, double anomalyZ) {
        if (!(load >= 0) || load > Float.MAX_VALUE) {
            throw new IllegalArgumentException("load must be >= 0 and at most Float.MAX_VALUE, was " + load);
        }
        double y = (float) load;
        double abs = 0;
        double naive = 0;
        double seasonalNaive = 0;
        boolean hasNaive = false;
        boolean hasSeasonal = false;
        boolean anomaly = false;
        // first: the models and the scale below read y(t) as lag 0 of the history (see LoadModel)
        history.add(y);
        if (n > 0) {
            int c = chosenIndex();
            abs = Math.abs(lastOneStep[c] - y);
            if (weight >= anomalyWeight) {
                anomaly = abs > anomalyZ * sd(c);
            }
            naive = Math.abs(y - lastY);
            hasNaive = true;
            int m = scaleSeason;
            if (m >= 2 && n >= m) {
                seasonalNaive = Math.abs(y - history.get(m));
                hasSeasonal = true;
            }
            for (int i = 0; i < score.length; i++) {
                double e = lastOneStep[i] - y;
                score[i] = decay * score[i] + Math.abs(e);
                squared[i] = decay * squared[i] + e * e;
            }
            weight = decay * weight + 1;
        }
        feedModels(y);
        return new Observation(abs, naive, hasNaive, seasonalNaive, hasSeasonal, anomaly);
    }

    /**
     * Gives {@code y} (already in the history) to every model, records their one-step forecasts, chooses the model
     * and counts the observation.
     */
    private void feedModels(double y) {
        feedModels(y, false);
    }

    /**
     * As {@link #feedModels(double)}; with {@code ownForecasts} each model takes its own one-step forecast instead of
     * {@code y} (a missing window: each model's error term is 0, not the chosen model's).
     */
    private void feedModels(double y, boolean ownForecasts) {
        for (int i = 0; i < models.length; i++) {
            // a load is never below 0: a trend model's own forecast below it is taken at 0. Its forecast as made
            // before the history received this window (a model that reads the shared history, AR, would otherwise
            // read its lags one window on and give its forecast of the window after)
            models[i].observe(ownForecasts ? (float) Math.max(0, lastOneStep[i]) : y);
            lastOneStep[i] = models[i].forecast(1);
        }
        if (combine) {
            lastOneStep[models.length] = combined(1);
        }
        chosen = select(n);
        lastY = y;
        n++;
    }

    /**
     * Adds the actual load of a window that a {@link ForecastCalendar} marks (a holiday). The error statistics score
     * it against {@code published}, the forecast that was given for it (the anomaly flag and the MASE sums use it);
     * the backtest scores and their weight do not change, since the models' forecasts for this window were not what
     * was published.
     *
     * <p>With {@code asMissing}, the models take the window as missing, as a state-space model treats a missing
     * observation (Hyndman, Koehler, Ord &amp; Snyder 2008, §6.5): every model receives its own one-step forecast
     * instead of the load (until 2026-12-05 all received the chosen model's), so each model's state moves on as if
     * the window had been ordinary (for exponential smoothing the error term is 0), and the history receives the
     * chosen model's, so the next windows are forecast from the ordinary level and a seasonal lag read later returns
     * the ordinary estimate. Without it, the history and the models receive the load
     * as they would any other. Before the first observation it is {@link #observe}.
     *
     * @param load      records in the window, >= 0
     * @param anomalyZ  z-score beyond which the actual is an anomaly, > 0
     * @param published the forecast given for this window, records, >= 0
     * @param asMissing whether the models take the window as missing (see above)
     */
    public Observation observeMarked(double load, double anomalyZ, double published, boolean asMissing) {
        if (n == 0) {
            return observe(load, anomalyZ);
        }
        if (!(load >= 0) || load > Float.MAX_VALUE) {
            throw new IllegalArgumentException("load must be >= 0 and at most Float.MAX_VALUE, was " + load);
        }
        double y = (float) load;
        double fed = asMissing ? (float) forecast(1) : y;
        double abs = Math.abs(published - y);
        boolean anomaly = weight >= anomalyWeight && abs > anomalyZ * sd(chosenIndex());
        double naive = Math.abs(y - lastY);
        int m = scaleSeason;
        boolean hasSeasonal = m >= 2 && n >= m;
        // before the history receives this window, y(t - m) is lag m - 1
        double seasonalNaive = hasSeasonal ? Math.abs(y - history.get(m - 1)) : 0;
        history.add(fed);
        feedModels(fed, asMissing);
        return new Observation(abs, naive, true, seasonalNaive, hasSeasonal, anomaly);
    }

    /**
     * The series' value {@code offset} windows from its last observation: for {@code offset <= 0} the observation
     * {@code -offset} windows back (as kept: a window observed with {@link #observeMarked} holds its imputed value),
     * for {@code offset >= 1} the point forecast; NaN if the history does not reach that far back or nothing was
     * observed.
     */
    public double valueAt(int offset) {
        if (offset >= 1) {
            return n == 0 ? Double.NaN : forecast(offset);
        }
        int lag = -offset;
        return lag < Math.min(history.count(), history.capacity()) ? history.get(lag) : Double.NaN;
    }

    /** The model currently chosen (lowest decayed backtest error; ties go to the earlier candidate in {@link ModelSpec#candidates} order). */
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

    /**
     * The model to forecast with, {@code observed} observations having been counted before the last one: the benchmark
     * until {@value #SELECTION_WARM_UP} origins have been scored (by the count and by the backtest weight: a
     * calendar-marked window is observed but not scored, and counted as an observation only it let a series made
     * during a holiday choose on one or two scored windows), then the lowest score.
     */
    private int select(long observed) {
        if (models.length == 1 || weight == 0) {
            return 0;
        }
        // both: the observations counted (as before 2026-12-05, so that a series without marked windows chooses as
        // it did, whatever the decay: below a decay of about 0.03 the weight stops growing before 12 windows), and
        // the weight of 12 scored origins (a restore under a larger decay holds the benchmark until it is reached)
        if (benchmark >= 0 && (observed < SELECTION_WARM_UP || weight < warmUpWeight)) {
            return benchmark;
        }
        int best = 0;
        for (int i = 1; i < score.length; i++) {
            if (score[i] < score[best] - 1e-9) {
                best = i;
            }
        }
        return best;
    }

    /** Candidate {@code i}'s own h-step forecast (for tests). */
    double modelForecast(int i, int h) {
        return models[i].forecast(h);
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
        return Math.max(0, f - z * sd() * widening(h));
    }

    /** Upper bound of the interval around a point forecast {@code f} at horizon h for z-score {@code z}. */
    public double upper(double f, int h, double z) {
        return f + z * sd() * widening(h);
    }

    /** Lower bound of the prediction interval at horizon h for z-score {@code z}, >= 0. */
    public double lower(int h, double z) {
        return Math.max(0, forecast(h) - z * sd() * widening(h));
    }

    /** Upper bound of the prediction interval at horizon h for z-score {@code z}. */
    public double upper(int h, double z) {
        return forecast(h) + z * sd() * widening(h);
    }

    /**
     * How the one-step error's sd widens at horizon h: the chosen model's {@link LoadModel#intervalFactor} (for the
     * combination, the largest of its members'), sqrt(h) for most models, more for an autoregression with momentum.
     */
    private double widening(int h) {
        int c = chosenIndex();
        if (c < models.length) {
            return models[c].intervalFactor(h);
        }
        double w = Math.sqrt(h);
        for (int i : bestSingles()) {
            w = Math.max(w, models[i].intervalFactor(h));
        }
        return w;
    }

    /** Observations so far. */
    public long observations() {
        return n;
    }

    /**
     * The last observed load, records; for a window taken as missing ({@link #observeMarked} with {@code asMissing})
     * the value the history received instead, the chosen model's one-step forecast.
     */
    public double lastObserved() {
        return lastY;
    }

    /**
     * The largest load observed in the last {@code windows} windows (as far as the series' history reaches back, at
     * least the last one); 0 before any observation.
     */
    public double recentMax(int windows) {
        long back = Math.min(Math.min(windows, history.capacity()), history.count());
        double max = n > 0 ? lastY : 0;
        for (int lag = 0; lag < back; lag++) {
            max = Math.max(max, history.get(lag));
        }
        return max;
    }

    /**
     * Writes the series' state: counters, per candidate its scores and the model's own state, then the shared
     * history once (as floats). Size: see the class comment.
     */
    void write(DataOutputStream out) throws IOException {
        writeModels(out);
        history.write(out);
    }

    /**
     * Writes everything but the history's values (counters, scores, the models' own state; {@code 28 + 24 * slots}
     * bytes plus the models', 755 for the candidates of one long season): what changes every window besides one
     * history value. With {@link #readModels} and the history's chunks this is the entry-by-entry form of
     * {@link #write} that the forecaster keeps in keyed state.
     */
    void writeModels(DataOutputStream out) throws IOException {
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
    }

    /**
     * Restores what {@link #writeModels} wrote; the history then has the right count and zeros until its chunks are
     * read ({@link SeriesHistory#readChunk}).
     */
    void readModels(DataInputStream in) throws IOException {
        readCounters(in);
        history.resetTo(n);
    }

    SeriesHistory history() {
        return history;
    }

    /** Restores what {@link #write} wrote, for a forecaster built with the same candidates and scale season. */
    void read(DataInputStream in) throws IOException {
        readCounters(in);
        history.read(in);
        if (history.count() != n) {
            throw new IOException("corrupt forecaster state: " + n + " observations, history of " + history.count());
        }
    }

    private void readCounters(DataInputStream in) throws IOException {
        n = in.readLong();
        lastY = in.readDouble();
        weight = in.readDouble();
        int count = in.readInt();
        if (count != score.length) {
            // (scores: one per candidate, and one for the combination where there is one)
            throw io.keyshift.config.JobOptions.unrecoverable("forecaster state has " + count
                    + " model scores, this configuration " + score.length + " (" + models.length + " candidates"
                    + (score.length > models.length ? " and their combination" : "") + ")"
                    + "; restore with the same keyshift.forecast.* options (model, seasons, calendar)");
        }
        for (int i = 0; i < count; i++) {
            score[i] = in.readDouble();
            squared[i] = in.readDouble();
            lastOneStep[i] = in.readDouble();
            if (i < models.length) {
                models[i].read(in);
            }
        }
        // as feedModels chose after the last observation: it selected before counting it
        chosen = select(n - 1);
    }
}
