package io.keyshift.plan;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.UnitForecast;
import io.keyshift.avro.UnitType;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.TreeMap;

/**
 * Each planning unit's long-run load: an exponentially weighted mean of its observed loads (records per window), with
 * a memory of about {@code memoryWindows} windows (weight {@code 1 - 1 / memoryWindows} per window; FPP3 §8.1 with a
 * small smoothing parameter), and the planner's shrinkage of a unit's forecast towards it.
 *
 * <p><b>Shrinkage.</b> For a unit with long-run mean m over n effective windows and a mean forecast f over the H
 * windows of the planning horizon, the planning load is {@code m + w * (f - m)} with
 * {@code w = d^2 / (d^2 + c * m / H)}, d = f - m. This has the form of the empirical-Bayes (Stein) shrinkage of Efron
 * and Morris ("Data analysis using Stein's estimator and its generalizations", JASA 70, 1975), w = A / (A + s^2),
 * with the signal variance A taken as d^2 itself (their plug-in estimate, max(0, d^2 - s^2), would shrink a deviation
 * of the noise's size to nothing; this weight halves it) and the noise variance s^2 the Poisson variance of a mean of
 * H record counts, m / H; c scales the latter (c = 0: the forecast alone). A shift much larger than a count's noise is followed at once (w near 1); a
 * deviation of the size of the noise is halved; a unit with a few records per window, whose forecast is mostly the
 * noise of its last counts, is therefore planned near what it carries in the long run (a timetable's destinations, a
 * stable popularity).
 *
 * <p>Units are named as the forecast names them: hot keys by key (a pseudonym under a key secret), key-group
 * residuals by key group. A unit absent from a forecast (a key no longer tracked) is forgotten. Size: one entry per
 * unit of the last forecast (at most 2 x top-k keys plus the key groups), about 50 bytes each plus the key.
 * Deterministic: the result is a function of the forecasts observed, in order.
 */
public final class LongRunLoads {
    /** Observations below which a unit's mean is not yet used. */
    static final int MIN_OBSERVATIONS = 2;

    private final double decay;
    /** Per unit id: {sum of decayed loads, sum of decayed weights, observations (at most MIN_OBSERVATIONS)}. */
    private final TreeMap<String, double[]> units = new TreeMap<>();

    /** @param memoryWindows the mean's memory in windows, >= 1 (1 = the last observation alone) */
    public LongRunLoads(int memoryWindows) {
        if (memoryWindows < 1) {
            throw new IllegalArgumentException("long-run memory must be >= 1 window, was " + memoryWindows);
        }
        this.decay = 1.0 - 1.0 / memoryWindows;
    }

    /** The unit's id: "k" + key for hot keys, "g" + key group for key-group residuals. */
    static String id(UnitForecast u) {
        return u.getUnitType() == UnitType.HOT_KEY ? "k" + u.getKey() : "g" + u.getKeyGroup();
    }

    /** Adds each unit's observed load of the forecast's window; forgets units the forecast does not carry. */
    public void observe(LoadForecast forecast) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (UnitForecast u : forecast.getUnits()) {
            String id = id(u);
            if (!seen.add(id)) {
                continue;
            }
            double[] a = units.computeIfAbsent(id, x -> new double[3]);
            a[0] = a[0] * decay + Math.max(0, u.getObserved());
            a[1] = a[1] * decay + 1;
            a[2] = Math.min(MIN_OBSERVATIONS, a[2] + 1);
        }
        units.keySet().retainAll(seen);
    }

    /** The unit's long-run mean load, records per window; NaN before its second observation. */
    public double mean(UnitForecast u) {
        double[] a = units.get(id(u));
        return a == null || a[2] < MIN_OBSERVATIONS ? Double.NaN : a[0] / a[1];
    }

    /**
     * The planning load of a unit whose mean forecast over {@code windows} windows is {@code forecast}: shrunk
     * towards its long-run mean with noise scale {@code c} (see the class comment); the forecast itself if c is 0 or
     * the unit's mean is not known yet.
     */
    public double shrink(UnitForecast u, double forecast, int windows, double c) {
        double m = mean(u);
        if (!(c > 0) || Double.isNaN(m)) {
            return forecast;
        }
        double d = forecast - m;
        double noise = c * m / Math.max(1, windows);
        double signal = d * d;
        return signal + noise <= 0 ? forecast : m + signal / (signal + noise) * d;
    }

    /** Units held. */
    public int size() {
        return units.size();
    }

    /**
     * Format of {@link #toBytes}, written negated ahead of the count (the format before it began with the count, never
     * negative).
     */
    static final int FORMAT = 2;

    /**
     * The state as bytes: {@code -FORMAT}, the count, then per unit (in id order) its id, load sum, weight and
     * observations.
     */
    public byte[] toBytes() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(-FORMAT);
            out.writeInt(units.size());
            for (Map.Entry<String, double[]> e : units.entrySet()) {
                byte[] id = e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                out.writeInt(id.length);
                out.write(id);
                out.writeDouble(e.getValue()[0]);
                out.writeDouble(e.getValue()[1]);
                out.writeDouble(e.getValue()[2]);
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Replaces the state with what {@link #toBytes} wrote (this format, or the one before it, which had none).
     *
     * @throws IllegalStateException for a format this build does not know (a newer build's)
     * @throws UncheckedIOException for bytes cut short
     */
    public void restore(byte[] state) {
        units.clear();
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(state))) {
            int n = in.readInt();
            if (n < 0) {
                if (-n != FORMAT) {
                    throw new IllegalStateException("long-run load state of format " + -n + ", which this build "
                            + "does not know (a savepoint of a newer build): restore with that build");
                }
                n = in.readInt();
            }
            for (int i = 0; i < n; i++) {
                byte[] b = new byte[in.readInt()];
                in.readFully(b);
                String id = new String(b, java.nio.charset.StandardCharsets.UTF_8);
                units.put(id, new double[] {in.readDouble(), in.readDouble(), in.readDouble()});
            }
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt long-run load state", e);
        }
    }
}
