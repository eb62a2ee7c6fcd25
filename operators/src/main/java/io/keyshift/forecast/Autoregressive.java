package io.keyshift.forecast;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.linsol.LinearSolverDense;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * Autoregressive model with intercept, y(t) = c + phi_1 y(t-1) + ... + phi_p y(t-p) [+ psi y(t-m)], fitted by
 * least squares with exponential forgetting (FPP3 §9.3; recursive least squares in the normal-equation form, Ljung
 * &amp; Söderström 1983): every observation adds its regressor x to X'X and x*y to X'y after both are multiplied by
 * {@code lambda = 1 - 1/history}, and every {@code refitEvery} observations the k x k normal equations (k = p + 2 with
 * a season, else p + 1) are solved with EJML's least-squares solver (each diagonal entry raised by 1e-9 of itself
 * keeps them solvable, and the fit independent of the series' scale). Forecasts h > 1 are recursive. Until the first
 * fit (min(history, 8k) observations after the largest lag) it forecasts the mean so far.
 *
 * <p>The lagged values y(t-1) .. y(t-p) and y(t-m) come from a {@link SeriesHistory} of at least
 * {@link #historyLength historyLength(p, m)} observations: the series' shared one (its owner appends y before
 * {@link #observe}; see {@link LoadModel}) or a private one. Memory: {@code 8 * (k^2 + 2k) + 17} bytes written
 * (coefficients, X'X, X'y, count, sum, fitted flag: 209 for p = 3 without a season, 297 with one), plus
 * {@code 12 + 4 * historyLength} for a private history.
 */
public final class Autoregressive implements LoadModel {
    private final int p;
    private final int season;
    private final int history;
    private final int refitEvery;
    private final double lambda;
    private final SeriesHistory lags;
    private final boolean ownsLags;
    private final double[] coef;
    private final double[] xtx;
    private final double[] xty;
    private long n;
    private double sum;
    private boolean fitted;

    /**
     * @param p number of short lags, >= 1
     * @param season seasonal lag m (>= 2, > p) or 0 for none
     * @param history effective memory in observations (forgetting factor 1 - 1/history), >= 4 (p + 2)
     * @param refitEvery refit period in observations, >= 1
     */
    public Autoregressive(int p, int season, int history, int refitEvery) {
        this(p, season, history, refitEvery, null);
    }

    /**
     * @param p number of short lags, >= 1
     * @param season seasonal lag m (>= 2, > p) or 0 for none
     * @param history effective memory in observations (forgetting factor 1 - 1/history), >= 4 (p + 2)
     * @param refitEvery refit period in observations, >= 1
     * @param lags the series' shared history (capacity >= {@link #historyLength historyLength(p, season)}), to
     *             which its owner appends each observation before {@link #observe}; null for a private one
     */
    public Autoregressive(int p, int season, int history, int refitEvery, SeriesHistory lags) {
        if (p < 1 || refitEvery < 1) {
            throw new IllegalArgumentException("p and refitEvery must be >= 1");
        }
        this.p = p;
        this.season = season >= 2 && season > p ? season : 0;
        this.history = Math.max(history, 4 * (p + 2));
        this.refitEvery = refitEvery;
        this.lambda = 1 - 1.0 / this.history;
        int length = maxLag() + 1;
        if (lags != null && lags.capacity() < length) {
            throw new IllegalArgumentException("AR(" + p + ") with season " + this.season + " needs a history of >= "
                    + length + " observations, has " + lags.capacity());
        }
        this.ownsLags = lags == null;
        this.lags = ownsLags ? new SeriesHistory(length) : lags;
        int k = p + 1 + (this.season > 0 ? 1 : 0);
        this.coef = new double[k];
        this.xtx = new double[k * k];
        this.xty = new double[k];
    }

    private int maxLag() {
        return season > 0 ? season : p;
    }

    /**
     * Observations AR(p) with seasonal lag {@code season} reads (its largest lag + 1): season + 1 if the season is
     * used ({@code >= 2} and {@code > p}), else p + 1.
     */
    public static int historyLength(int p, int season) {
        return (season >= 2 && season > p ? season : p) + 1;
    }

    @Override
    public ForecastModelKind kind() {
        return ForecastModelKind.AUTOREGRESSIVE;
    }

    /** y at 0-based time index t (within the last maxLag + 1 observations), n observations seen. */
    private double at(long t) {
        return lags.get((int) (n - 1 - t));
    }

    @Override
    public void observe(double y) {
        if (ownsLags) {
            lags.add(y);
        } else if (lags.count() != n + 1) {
            throw new IllegalStateException("the shared history has " + lags.count() + " observations, this model "
                    + n + " before this one: append each observation to the history before observe");
        }
        if (n >= maxLag()) {
            int k = coef.length;
            double[] x = new double[k];
            x[0] = 1;
            // y(t) is lag 0 of the history, y(t - i) lag i
            for (int i = 1; i <= p; i++) {
                x[i] = lags.get(i);
            }
            if (season > 0) {
                x[p + 1] = lags.get(season);
            }
            for (int i = 0; i < k; i++) {
                xty[i] = lambda * xty[i] + x[i] * y;
                for (int j = 0; j < k; j++) {
                    xtx[i * k + j] = lambda * xtx[i * k + j] + x[i] * x[j];
                }
            }
        }
        sum += y;
        n++;
        long fitted0 = n - maxLag();
        if (fitted0 >= Math.min(history, 8L * coef.length) && (!fitted || n % refitEvery == 0)) {
            fit();
        }
    }

    private void fit() {
        int k = coef.length;
        DMatrixRMaj a = new DMatrixRMaj(k, k, true, xtx.clone());
        // each diagonal entry grows by its own 1e-9: a ridge scaled to the whole trace (the lags' y^2 terms) was as
        // large as the intercept's entry (about history) for series above ~18,000 a window and shrank it to 0
        for (int i = 0; i < k; i++) {
            a.add(i, i, 1e-9 * a.get(i, i) + 1e-12);
        }
        DMatrixRMaj b = new DMatrixRMaj(k, 1, true, xty.clone());
        LinearSolverDense<DMatrixRMaj> solver = LinearSolverFactory_DDRM.leastSquares(k, k);
        if (!solver.setA(a)) {
            return;
        }
        DMatrixRMaj out = new DMatrixRMaj(k, 1);
        solver.solve(b, out);
        for (int i = 0; i < k; i++) {
            if (!Double.isFinite(out.get(i, 0))) {
                return;
            }
        }
        for (int i = 0; i < k; i++) {
            coef[i] = out.get(i, 0);
        }
        fitted = true;
    }

    @Override
    public double forecast(int h) {
        if (n == 0) {
            return 0;
        }
        if (!fitted) {
            return Math.max(0, sum / n);
        }
        double[] future = new double[h];
        for (int step = 0; step < h; step++) {
            long t = n + step;
            double v = coef[0];
            for (int i = 1; i <= p; i++) {
                v += coef[i] * value(t - i, future);
            }
            if (season > 0) {
                v += coef[p + 1] * value(t - season, future);
            }
            // a recursion that overflowed (an explosive fit over a long horizon) holds its last finite value: NaN must
            // not reach a plan (Math.max(0, NaN) is NaN)
            future[step] = Double.isNaN(v) || v == Double.POSITIVE_INFINITY ? value(t - 1, future) : Math.max(0, v);
        }
        return future[h - 1];
    }

    /**
     * sqrt(sum of psi_j^2, j = 0 .. h-1), the h-step forecast error's standard deviation over the one-step one for
     * the fitted AR polynomial (psi_0 = 1, psi_j = sum over the lags l <= j of a_l psi_(j-l); FPP3 §9.8 "Forecasting"
     * / Box and Jenkins' psi weights), at least sqrt(h); sqrt(h) before the first fit.
     */
    @Override
    public double intervalFactor(int h) {
        double random = Math.sqrt(h);
        if (!fitted || h <= 1) {
            return random;
        }
        double[] psi = new double[h];
        psi[0] = 1;
        double sum = 1;
        for (int j = 1; j < h; j++) {
            double v = 0;
            for (int i = 1; i <= Math.min(p, j); i++) {
                v += coef[i] * psi[j - i];
            }
            if (season > 0 && season <= j) {
                v += coef[p + 1] * psi[j - season];
            }
            psi[j] = v;
            sum += v * v;
        }
        double own = Math.sqrt(sum);
        return Double.isFinite(own) ? Math.max(random, own) : random;
    }

    private double value(long t, double[] future) {
        return t >= n ? future[(int) (t - n)] : at(t);
    }

    @Override
    public void write(DataOutputStream out) throws IOException {
        out.writeLong(n);
        out.writeDouble(sum);
        out.writeBoolean(fitted);
        for (double c : coef) {
            out.writeDouble(c);
        }
        for (double v : xtx) {
            out.writeDouble(v);
        }
        for (double v : xty) {
            out.writeDouble(v);
        }
        if (ownsLags) {
            lags.write(out);
        }
    }

    @Override
    public void read(DataInputStream in) throws IOException {
        n = in.readLong();
        sum = in.readDouble();
        fitted = in.readBoolean();
        for (int i = 0; i < coef.length; i++) {
            coef[i] = in.readDouble();
        }
        for (int i = 0; i < xtx.length; i++) {
            xtx[i] = in.readDouble();
        }
        for (int i = 0; i < xty.length; i++) {
            xty[i] = in.readDouble();
        }
        if (ownsLags) {
            lags.read(in);
        }
    }
}
