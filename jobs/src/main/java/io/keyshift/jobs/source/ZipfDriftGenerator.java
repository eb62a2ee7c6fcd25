package io.keyshift.jobs.source;

import io.keyshift.event.Event;

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
 * @param records number of events, or Long.MAX_VALUE for an unbounded stream
 */
public record ZipfDriftGenerator(long records, long startMillis, double eventsPerSecond, int keys,
                                 double exponent, int drift, long seed, double hotShare) implements EventSpace {
    private static final long DAY = 86_400_000L;
    /** The key that carries {@code hotShare} of the records. */
    public static final String HOT_KEY = "hot-key";

    public ZipfDriftGenerator {
        if (records < 0 || keys < 1 || !(eventsPerSecond > 0) || exponent < 0 || drift < 0
                || !(hotShare >= 0 && hotShare < 1)) {
            throw new IllegalArgumentException("generator: records >= 0, keys >= 1, eventsPerSecond > 0, exponent >= 0, "
                    + "drift >= 0, hot share in [0, 1) required");
        }
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

    /** The i-th event. */
    public Event event(long i, double[] cdf) {
        long t = startMillis + (long) Math.floor(i * 1000.0 / eventsPerSecond);
        long h = mix(seed ^ mix(i));
        if (hotShare > 0 && (mix(h ^ 0x5DEECE66DL) >>> 11) * 0x1.0p-53 < hotShare) {
            return new Event(t, HOT_KEY, 1 + Math.floorMod(mix(h), 100), i);
        }
        double u = (h >>> 11) * 0x1.0p-53;
        int rank = search(cdf, u);
        double dayFraction = Math.floorMod(t, DAY) / (double) DAY;
        int shift = (int) Math.round(drift * (1 - Math.cos(2 * Math.PI * dayFraction)) / 2);
        int id = Math.floorMod(rank + shift, keys);
        return new Event(t, "key-" + id, 1 + Math.floorMod(mix(h), 100), i);
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
        double[] cdf = cdf();
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
