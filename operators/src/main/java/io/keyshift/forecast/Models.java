package io.keyshift.forecast;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * The {@link LoadModel} implementations. Parameters are fixed per instance (documented on each factory); the
 * {@link SeriesForecaster} chooses among instances by backtest instead of fitting parameters by optimisation.
 *
 * <p>Source: Hyndman &amp; Athanasopoulos, "Forecasting: Principles and Practice", 3rd ed., §5.2 (naive, seasonal
 * naive), §8.1 (SES), §8.2 (Holt, damped), §8.3 (additive Holt-Winters, component form).
 *
 * <p>State per model (bytes written by {@code write} with a shared {@link SeriesHistory}): naive 8, SES 9, Holt 24,
 * seasonal naive 0 (it reads the shared history), Holt-Winters (both) {@code 32 + 8 * m}, AR(3) 209 without and 297
 * with a seasonal lag (see {@link Autoregressive}).
 */
public final class Models {
    private Models() {}

    /** Order p of the autoregressive candidate. */
    static final int AR_ORDER = 3;

    /**
     * A new model of {@code kind} with a private history; {@code season} (m >= 2) is used by the seasonal kinds and
     * AR.
     */
    public static LoadModel create(ForecastModelKind kind, int season) {
        return create(new ModelSpec(kind, season));
    }

    /** A new model for {@code spec} (as {@link #create(ModelSpec, SeriesHistory)}) with a private history. */
    public static LoadModel create(ModelSpec spec) {
        return create(spec, null);
    }

    /**
     * A new model for {@code spec}, with these fixed parameters: SES alpha 0.2; Holt alpha 0.2, beta 0.05,
     * phi 0.9; Holt-Winters (both) alpha 0.15, beta 0.02, gamma 0.2, phi 0.9; AR with p = 3 on the last 8 * (p + 2)
     * or 4 seasons of history (whichever is longer, at most 400 windows), refitted every 12 windows.
     *
     * @param history the series' shared history, with at least {@link #historyLength historyLength(spec)}
     *                observations of capacity (its owner appends each observation before {@code observe}; see
     *                {@link LoadModel}); null: models that read lags keep a private one
     */
    public static LoadModel create(ModelSpec spec, SeriesHistory history) {
        int season = spec.season();
        switch (spec.kind()) {
            case NAIVE:
                return new Naive();
            case SEASONAL_NAIVE:
                return history == null ? new SeasonalNaive(season) : new SeasonalNaive(season, history);
            case SES:
                return new Ses(0.2);
            case HOLT:
                return new Holt(0.2, 0.05, 0.9);
            case HOLT_WINTERS:
                return new HoltWinters(0.15, 0.02, 0.2, 0.9, season);
            case HOLT_WINTERS_MULTIPLICATIVE:
                return new HoltWintersMultiplicative(0.15, 0.02, 0.2, 0.9, season);
            case AUTOREGRESSIVE:
                int memory = Math.min(400, Math.max(40, 4 * season));
                return history == null ? new Autoregressive(AR_ORDER, season, memory, 12)
                        : new Autoregressive(AR_ORDER, season, memory, 12, history);
            default:
                throw new IllegalArgumentException("unknown model " + spec);
        }
    }

    /**
     * Number of past observations (the largest lag read + 1) the model for {@code spec} reads from its history:
     * m for seasonal naive (lags 0 .. m - 1), the largest lag + 1 for AR (m + 1 with a season, else p + 1), 0 for
     * the others.
     */
    public static int historyLength(ModelSpec spec) {
        switch (spec.kind()) {
            case SEASONAL_NAIVE:
                return spec.season();
            case AUTOREGRESSIVE:
                return Autoregressive.historyLength(AR_ORDER, spec.season());
            default:
                return 0;
        }
    }

    /** y(t+h) = y(t). */
    public static final class Naive implements LoadModel {
        private double last;

        @Override
        public ForecastModelKind kind() {
            return ForecastModelKind.NAIVE;
        }

        @Override
        public void observe(double y) {
            last = y;
        }

        @Override
        public double forecast(int h) {
            return last;
        }

        @Override
        public void write(DataOutputStream out) throws IOException {
            out.writeDouble(last);
        }

        @Override
        public void read(DataInputStream in) throws IOException {
            last = in.readDouble();
        }
    }

    /**
     * y(t+h) = y(t + h - m*ceil(h/m)); the last observation until a full season has been seen. It reads lags
     * 0 .. m - 1 of the series' {@link SeriesHistory} and has no state of its own: with a shared history it writes
     * nothing; with a private one it writes that ({@code 12 + 4 * m} bytes once a season is seen).
     */
    public static final class SeasonalNaive implements LoadModel {
        private final int m;
        private final SeriesHistory history;
        private final boolean ownsHistory;

        /** With a private history of m observations. */
        public SeasonalNaive(int m) {
            this(m, null);
        }

        /**
         * @param history the series' shared history (capacity >= m), appended to by its owner before each
         *                {@link #observe}; null for a private one
         */
        public SeasonalNaive(int m, SeriesHistory history) {
            if (m < 2) {
                throw new IllegalArgumentException("season must be >= 2, was " + m);
            }
            if (history != null && history.capacity() < m) {
                throw new IllegalArgumentException("seasonal naive with season " + m + " needs a history of >= " + m
                        + " observations, has " + history.capacity());
            }
            this.m = m;
            this.ownsHistory = history == null;
            this.history = ownsHistory ? new SeriesHistory(m) : history;
        }

        @Override
        public ForecastModelKind kind() {
            return ForecastModelKind.SEASONAL_NAIVE;
        }

        @Override
        public void observe(double y) {
            if (ownsHistory) {
                history.add(y);
            }
        }

        @Override
        public double forecast(int h) {
            long n = history.count();
            if (n == 0) {
                return 0;
            }
            if (n < m) {
                return history.get(0);
            }
            // observation t+h-m*ceil(h/m), t the last one: lag m*ceil(h/m) - h, in 0 .. m-1
            return history.get((int) ((long) m * ((h + m - 1) / m) - h));
        }

        @Override
        public void write(DataOutputStream out) throws IOException {
            if (ownsHistory) {
                history.write(out);
            }
        }

        @Override
        public void read(DataInputStream in) throws IOException {
            if (ownsHistory) {
                history.read(in);
            }
        }
    }

    /** Simple exponential smoothing: l(t) = a*y(t) + (1-a)*l(t-1); y(t+h) = l(t). Initial level = y(1). */
    public static final class Ses implements LoadModel {
        private final double alpha;
        private double level;
        private boolean started;

        public Ses(double alpha) {
            if (!(alpha > 0 && alpha <= 1)) {
                throw new IllegalArgumentException("alpha must be in (0, 1], was " + alpha);
            }
            this.alpha = alpha;
        }

        @Override
        public ForecastModelKind kind() {
            return ForecastModelKind.SES;
        }

        @Override
        public void observe(double y) {
            level = started ? alpha * y + (1 - alpha) * level : y;
            started = true;
        }

        @Override
        public double forecast(int h) {
            return Math.max(0, level);
        }

        @Override
        public void write(DataOutputStream out) throws IOException {
            out.writeBoolean(started);
            out.writeDouble(level);
        }

        @Override
        public void read(DataInputStream in) throws IOException {
            started = in.readBoolean();
            level = in.readDouble();
        }
    }

    /**
     * Damped Holt: l(t) = a*y(t) + (1-a)*(l(t-1) + phi*b(t-1)); b(t) = b*(l(t) - l(t-1)) + (1-b)*phi*b(t-1);
     * y(t+h) = l(t) + (phi + ... + phi^h)*b(t). Initial level y(1), initial trend y(2) - y(1).
     */
    public static final class Holt implements LoadModel {
        private final double alpha;
        private final double beta;
        private final double phi;
        private double level;
        private double trend;
        private long n;

        public Holt(double alpha, double beta, double phi) {
            this.alpha = alpha;
            this.beta = beta;
            this.phi = phi;
        }

        @Override
        public ForecastModelKind kind() {
            return ForecastModelKind.HOLT;
        }

        @Override
        public void observe(double y) {
            if (n == 0) {
                level = y;
                trend = 0;
            } else if (n == 1) {
                trend = y - level;
                level = y;
            } else {
                double prev = level;
                level = alpha * y + (1 - alpha) * (level + phi * trend);
                trend = beta * (level - prev) + (1 - beta) * phi * trend;
            }
            n++;
        }

        @Override
        public double forecast(int h) {
            return Math.max(0, level + dampedSum(phi, h) * trend);
        }

        @Override
        public void write(DataOutputStream out) throws IOException {
            out.writeLong(n);
            out.writeDouble(level);
            out.writeDouble(trend);
        }

        @Override
        public void read(DataInputStream in) throws IOException {
            n = in.readLong();
            level = in.readDouble();
            trend = in.readDouble();
        }
    }

    /**
     * State and bookkeeping shared by the Holt-Winters variants: level, damped trend and m seasonal terms, initialised
     * after the first season (before that the forecast is the mean observed so far), and their checkpoint format.
     * Subclasses define the initial seasonal terms, the update after the first season and how season and level combine.
     *
     * <p>Memory: m seasonal doubles, {@code 32 + 8 * m} bytes written. That is why {@link ModelSpec#candidates} offers
     * Holt-Winters only for seasons up to {@link ModelSpec#MAX_SMOOTHING_SEASON}.
     */
    abstract static class SeasonalSmoothing implements LoadModel {
        final double alpha;
        final double beta;
        final double gamma;
        final double phi;
        final double[] seasonal;
        double level;
        double trend;
        double sum;
        long n;

        SeasonalSmoothing(double alpha, double beta, double gamma, double phi, int m) {
            if (m < 2) {
                throw new IllegalArgumentException("season must be >= 2, was " + m);
            }
            this.alpha = alpha;
            this.beta = beta;
            this.gamma = gamma;
            this.phi = phi;
            this.seasonal = new double[m];
        }

        /** Turns the first season's raw observations (in {@code seasonal}) into seasonal terms; level is their mean. */
        abstract void initialise();

        /** One update after the first season, at season position {@code pos}. */
        abstract void update(double y, int pos);

        /** Forecast from level-plus-trend {@code base} and seasonal term {@code s}. */
        abstract double combine(double base, double s);

        @Override
        public void observe(double y) {
            int m = seasonal.length;
            int pos = (int) (n % m);
            if (n < m) {
                seasonal[pos] = y;
                sum += y;
                if (n == m - 1) {
                    level = sum / m;
                    trend = 0;
                    initialise();
                }
            } else {
                update(y, pos);
            }
            n++;
        }

        @Override
        public double forecast(int h) {
            int m = seasonal.length;
            if (n == 0) {
                return 0;
            }
            if (n < m) {
                return Math.max(0, sum / n);
            }
            long idx = (n - 1) + h - (long) m * ((h + m - 1) / m);
            return Math.max(0, combine(level + dampedSum(phi, h) * trend, seasonal[(int) (idx % m)]));
        }

        @Override
        public void write(DataOutputStream out) throws IOException {
            out.writeLong(n);
            out.writeDouble(level);
            out.writeDouble(trend);
            out.writeDouble(sum);
            for (double v : seasonal) {
                out.writeDouble(v);
            }
        }

        @Override
        public void read(DataInputStream in) throws IOException {
            n = in.readLong();
            level = in.readDouble();
            trend = in.readDouble();
            sum = in.readDouble();
            for (int i = 0; i < seasonal.length; i++) {
                seasonal[i] = in.readDouble();
            }
        }
    }

    /**
     * Additive Holt-Winters with damped trend (FPP3 §8.3, component form):
     * l(t) = a*(y(t) - s(t-m)) + (1-a)*(l(t-1) + phi*b(t-1));
     * b(t) = b*(l(t) - l(t-1)) + (1-b)*phi*b(t-1);
     * s(t) = g*(y(t) - l(t-1) - phi*b(t-1)) + (1-g)*s(t-m);
     * y(t+h) = l(t) + (phi + ... + phi^h)*b(t) + s(t+h-m*ceil(h/m)).
     * Initialisation after the first season: l = mean of the season, b = 0, s(i) = y(i) - l. Before that, the
     * forecast is the mean of what was observed.
     */
    public static final class HoltWinters extends SeasonalSmoothing {
        public HoltWinters(double alpha, double beta, double gamma, double phi, int m) {
            super(alpha, beta, gamma, phi, m);
        }

        @Override
        public ForecastModelKind kind() {
            return ForecastModelKind.HOLT_WINTERS;
        }

        @Override
        void initialise() {
            for (int i = 0; i < seasonal.length; i++) {
                seasonal[i] -= level;
            }
        }

        @Override
        void update(double y, int pos) {
            double prevLevel = level;
            double prevTrend = trend;
            double s = seasonal[pos];
            level = alpha * (y - s) + (1 - alpha) * (prevLevel + phi * prevTrend);
            trend = beta * (level - prevLevel) + (1 - beta) * phi * prevTrend;
            // the season's term against last window's level and trend, b(t-1), not the one just updated
            seasonal[pos] = gamma * (y - prevLevel - phi * prevTrend) + (1 - gamma) * s;
        }

        @Override
        double combine(double base, double s) {
            return base + s;
        }
    }

    /**
     * Multiplicative Holt-Winters with damped trend (FPP3 §8.3):
     * l(t) = a*y(t)/s(t-m) + (1-a)*(l(t-1) + phi*b(t-1)); b(t) = b*(l(t) - l(t-1)) + (1-b)*phi*b(t-1);
     * s(t) = g*y(t)/(l(t-1) + phi*b(t-1)) + (1-g)*s(t-m); y(t+h) = (l(t) + (phi + ... + phi^h)*b(t)) * s(...).
     * Seasonal factors are kept in [0.1, 10] and levels above 1e-6, so that a window without load cannot make a
     * factor 0 or the level divide by 0: every value stays finite. It does not keep the forecast sane when load
     * returns to a season whose factors were learnt from near-zero windows: a factor at its floor multiplies the
     * returning load by 10 into the level, and one learnt against a near-zero level sits at 10 (a series 1, 0, 100,
     * 100 with m = 2 forecasts 1,596 next). Such a series scores badly in the backtest, which chooses the model
     * ({@link SeriesForecaster}): multiplicative seasonality is for series whose seasons never empty.
     */
    public static final class HoltWintersMultiplicative extends SeasonalSmoothing {
        private static final double FLOOR = 1e-6;

        public HoltWintersMultiplicative(double alpha, double beta, double gamma, double phi, int m) {
            super(alpha, beta, gamma, phi, m);
        }

        @Override
        public ForecastModelKind kind() {
            return ForecastModelKind.HOLT_WINTERS_MULTIPLICATIVE;
        }

        private static double clampFactor(double s) {
            return Math.max(0.1, Math.min(10, s));
        }

        @Override
        void initialise() {
            level = Math.max(FLOOR, level);
            for (int i = 0; i < seasonal.length; i++) {
                seasonal[i] = clampFactor(seasonal[i] / level);
            }
        }

        @Override
        void update(double y, int pos) {
            double prevLevel = level;
            double base = Math.max(FLOOR, prevLevel + phi * trend);
            double s = seasonal[pos];
            level = Math.max(FLOOR, alpha * y / s + (1 - alpha) * base);
            trend = beta * (level - prevLevel) + (1 - beta) * phi * trend;
            seasonal[pos] = clampFactor(gamma * y / base + (1 - gamma) * s);
        }

        @Override
        double combine(double base, double s) {
            return base * s;
        }
    }

    /** phi + phi^2 + ... + phi^h (= h when phi = 1). */
    static double dampedSum(double phi, int h) {
        if (phi == 1.0) {
            return h;
        }
        return phi * (1 - Math.pow(phi, h)) / (1 - phi);
    }
}
