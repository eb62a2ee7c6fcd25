package io.keyshift.forecast;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.linsol.LinearSolverDense;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * Autoregressive model with intercept, y(t) = c + phi_1 y(t-1) + ... + phi_p y(t-p) [+ psi y(t-m)], fitted by
 * ordinary least squares (EJML's QR-based least-squares solver) on the last {@code history} observations and refitted
 * every {@code refitEvery} observations (FPP3 §9.3; the seasonal lag m is the simplest seasonal AR term). Forecasts
 * h > 1 are made recursively from earlier forecasts. Until the first fit (history + m + p observations) it forecasts
 * the mean of what it has seen. Memory: history + m + p doubles.
 */
public final class Autoregressive implements LoadModel {
    private final int p;
    private final int season;
    private final int history;
    private final int refitEvery;
    private final double[] ring;
    private final double[] coef;
    private long n;
    private double sum;
    private boolean fitted;

    /**
     * @param p number of short lags, >= 1
     * @param season seasonal lag m (>= 2) or 0 for none
     * @param history observations used for fitting, > number of coefficients
     * @param refitEvery refit period in observations, >= 1
     */
    public Autoregressive(int p, int season, int history, int refitEvery) {
        if (p < 1 || refitEvery < 1) {
            throw new IllegalArgumentException("p and refitEvery must be >= 1");
        }
        this.p = p;
        this.season = season >= 2 && season > p ? season : 0;
        this.history = Math.max(history, 4 * (p + 2));
        this.refitEvery = refitEvery;
        this.ring = new double[this.history + maxLag()];
        this.coef = new double[p + 1 + (this.season > 0 ? 1 : 0)];
    }

    private int maxLag() {
        return season > 0 ? season : p;
    }

    @Override
    public ForecastModelKind kind() {
        return ForecastModelKind.AUTOREGRESSIVE;
    }

    /** y at 0-based time index t (t in the ring's reach). */
    private double at(long t) {
        return ring[(int) (t % ring.length)];
    }

    @Override
    public void observe(double y) {
        ring[(int) (n % ring.length)] = y;
        sum += y;
        n++;
        if (n >= ring.length && (n % refitEvery == 0 || !fitted)) {
            fit();
        }
    }

    private void fit() {
        int k = coef.length;
        int rows = history;
        DMatrixRMaj x = new DMatrixRMaj(rows, k);
        DMatrixRMaj yv = new DMatrixRMaj(rows, 1);
        long last = n - 1;
        for (int r = 0; r < rows; r++) {
            long t = last - r;
            yv.set(r, 0, at(t));
            x.set(r, 0, 1.0);
            for (int i = 1; i <= p; i++) {
                x.set(r, i, at(t - i));
            }
            if (season > 0) {
                x.set(r, p + 1, at(t - season));
            }
        }
        LinearSolverDense<DMatrixRMaj> solver = LinearSolverFactory_DDRM.leastSquares(rows, k);
        if (!solver.setA(x)) {
            return;
        }
        DMatrixRMaj out = new DMatrixRMaj(k, 1);
        solver.solve(yv, out);
        for (int i = 0; i < k; i++) {
            double c = out.get(i, 0);
            if (!Double.isFinite(c)) {
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
            future[step] = Math.max(0, v);
        }
        return future[h - 1];
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
        for (double v : ring) {
            out.writeDouble(v);
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
        for (int i = 0; i < ring.length; i++) {
            ring[i] = in.readDouble();
        }
    }
}
