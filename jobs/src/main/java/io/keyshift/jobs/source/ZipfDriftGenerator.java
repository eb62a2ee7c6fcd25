package io.keyshift.jobs.source;

import io.keyshift.jobs.event.Event;

import java.util.NoSuchElementException;

/**
 * The built-in workload generator: keys drawn from a Zipf distribution whose hot set drifts with a daily cycle.
 *
 * <p>Event i has event time {@code start + floor(i * 1000 / eventsPerSecond)} ms. Its key rank r (0 = hottest) is
 * drawn from Zipf({@code exponent}) over {@code keys} keys by inverting the CDF with a uniform number that is a
 * hash of (seed, i); the key is {@code "key-" + (r + shift(t)) mod keys} with
 * {@code shift(t) = round(drift * (1 - cos(2 pi * dayFraction(t))) / 2)}: the hot set moves {@code drift} keys away
 * over the first half of each UTC day and back over the second. Every event is a pure function of i, so the same
 * records come out at any parallelism and in every run. {@code value} is 1 + (hash mod 100).
 *
 * <p>With {@code peakFactor} F > 1 the rate follows a daily cycle (hours of the day counted from {@code startMillis}):
 * the base rate from 0:00 to 6:00, rising linearly to F times it by 12:00, F times it until 18:00, falling back
 * linearly by 24:00 ("doubles over the morning, halves at night" for F = 2). {@code eventsPerSecond} is then the
 * night rate; a day holds {@code 12 (1 + F)} hours' worth of it. The event times come from inverting the cumulative
 * rate in closed form (quadratic on the ramps).
 *
 * @param records number of events, or Long.MAX_VALUE for an unbounded stream
 * @param peakFactor daytime rate over night rate, >= 1 (1 = constant rate)
 */
public record ZipfDriftGenerator(long records, long startMillis, double eventsPerSecond, int keys,
                                 double exponent, int drift, long seed, double hotShare, double peakFactor)
        implements EventSpace {
    private static final long DAY = 86_400_000L;
    /** The largest daytime rate over night rate. */
    public static final double MAX_PEAK_FACTOR = 1000;
    /** The key that carries {@code hotShare} of the records. */
    public static final String HOT_KEY = "hot-key";

    public ZipfDriftGenerator {
        if (records < 0 || keys < 1 || !(eventsPerSecond > 0) || exponent < 0 || drift < 0
                || !(hotShare >= 0 && hotShare < 1) || !(peakFactor >= 1 && peakFactor <= MAX_PEAK_FACTOR)) {
            // (a peak factor near 1e154 made the night rate so low that the event times overflowed)
            throw new IllegalArgumentException("generator: records >= 0, keys >= 1, eventsPerSecond > 0, exponent >= 0, "
                    + "drift >= 0, hot share in [0, 1), peak factor in [1, " + (long) MAX_PEAK_FACTOR + "] required");
        }
    }

    /** At a constant rate. */
    public ZipfDriftGenerator(long records, long startMillis, double eventsPerSecond, int keys, double exponent,
                              int drift, long seed, double hotShare) {
        this(records, startMillis, eventsPerSecond, keys, exponent, drift, seed, hotShare, 1.0);
    }

    /** Without a single hot key. */
    public ZipfDriftGenerator(long records, long startMillis, double eventsPerSecond, int keys, double exponent,
                              int drift, long seed) {
        this(records, startMillis, eventsPerSecond, keys, exponent, drift, seed, 0.0);
    }

    @Override
    public long size() {
        return records;
    }

    /**
     * A digest of every parameter but {@link #records()}, on which event i does not depend (the command line's
     * generator derives its rate from the count and its days, so there a count changes the events too), by
     * SplitMix64's finalizer; never 0.
     */
    @Override
    public long fingerprint() {
        long f = 0x6B65797368696674L;
        for (long v : new long[] {startMillis, Double.doubleToLongBits(eventsPerSecond), keys,
                Double.doubleToLongBits(exponent), drift, seed, Double.doubleToLongBits(hotShare),
                Double.doubleToLongBits(peakFactor)}) {
            f = mix(f ^ v);
        }
        return f == 0 ? 1 : f;
    }

    /** The i-th event. */
    public Event event(long i, double[] cdf) {
        long t = startMillis + offsetMillis(i);
        long h = mix(seed ^ mix(i));
        if (hotShare > 0 && (mix(h ^ 0x5DEECE66DL) >>> 11) * 0x1.0p-53 < hotShare) {
            return new Event(t, HOT_KEY, 1 + Math.floorMod(mix(h), 100), i);
        }
        double u = (h >>> 11) * 0x1.0p-53;
        int rank = search(cdf, u);
        double dayFraction = Math.floorMod(t, DAY) / (double) DAY;
        int shift = (int) Math.round(drift * (1 - Math.cos(2 * Math.PI * dayFraction)) / 2);
        // (in long: a --generator-drift near Integer.MAX_VALUE wrapped rank + shift negative, two ranks on one key)
        int id = (int) Math.floorMod((long) rank + shift, (long) keys);
        return new Event(t, "key-" + id, 1 + Math.floorMod(mix(h), 100), i);
    }

    /** Event time of event i after the start (ms): i over the rate, or the inverse of the daily cumulative rate. */
    long offsetMillis(long i) {
        if (peakFactor == 1.0) {
            return (long) Math.floor(i * 1000.0 / eventsPerSecond);
        }
        double f = peakFactor;
        double a = (f - 1) / 12;                     // ramp: rate 1 + 2a x after x hours, cumulative x + a x^2
        double perDay = 12 * (1 + f);               // night-rate hours per day
        double u = i / eventsPerSecond / 3600.0;     // night-rate hours since the start
        double day = Math.floor(u / perDay);
        double r = u - day * perDay;
        double c12 = 12 + 3 * (f - 1);
        double c18 = c12 + 6 * f;
        double h;
        // the ramps' roots in the form without cancellation ((sqrt(1 + x) - 1) / 2a as x / 2a (1 + sqrt(1 + x))):
        // with a peak factor just above 1 the other form lost seconds, and event times went backwards
        if (r <= 6) {
            h = r;
        } else if (r <= c12) {
            h = 6 + 2 * (r - 6) / (1 + Math.sqrt(1 + 4 * a * (r - 6)));
        } else if (r <= c18) {
            h = 12 + (r - c12) / f;
        } else {
            h = 18 + 2 * (r - c18) / (f + Math.sqrt(Math.max(0, f * f - 4 * a * (r - c18))));
        }
        return (long) Math.floor((day * 24 + h) * 3_600_000.0);
    }

    /** Cumulative Zipf probabilities for ranks 0..keys-1. */
    public double[] cdf() {
        double[] c = new double[keys];
        double sum = 0;
        for (int r = 0; r < keys; r++) {
            sum += 1.0 / Math.pow(r + 1, exponent);
            c[r] = sum;
        }
        for (int r = 0; r < keys; r++) {
            c[r] /= sum;
        }
        return c;
    }

    /** The last table {@link #sharedCdf} made, with its keys and exponent (soft: the heap may take it back). */
    private static final Object CDF_LOCK = new Object();
    private static java.lang.ref.SoftReference<double[]> lastCdf;
    private static int lastCdfKeys;
    private static double lastCdfExponent;

    /**
     * {@link #cdf()}, one table for every cursor of this JVM over the same keys and exponent, read only: a cursor per
     * split made its own (8 bytes a key), and a replay at parallelism 32 (or a scaled one's 32 possible subtasks)
     * over 20 million keys needed 5 GB where {@code --generator-keys}' bound promises 160 MB.
     */
    double[] sharedCdf() {
        synchronized (CDF_LOCK) {
            double[] c = lastCdf == null ? null : lastCdf.get();
            if (c == null || lastCdfKeys != keys || Double.compare(lastCdfExponent, exponent) != 0) {
                c = cdf();
                lastCdf = new java.lang.ref.SoftReference<>(c);
                lastCdfKeys = keys;
                lastCdfExponent = exponent;
            }
            return c;
        }
    }

    private static int search(double[] cdf, double u) {
        int lo = 0;
        int hi = cdf.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cdf[mid] > u) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    /** SplitMix64 finalizer. */
    static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public Cursor open(int offset, int stride, long position) {
        double[] cdf = sharedCdf();
        return new Cursor() {
            long index = offset + position * stride;

            @Override
            public boolean hasNext() {
                return index < records && index >= 0;
            }

            @Override
            public Event next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Event e = event(index, cdf);
                index += stride;
                return e;
            }

            @Override
            public void close() {}
        };
    }
}
