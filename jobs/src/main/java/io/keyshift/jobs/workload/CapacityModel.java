package io.keyshift.jobs.workload;

import java.io.Serializable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * BENCHMARK ONLY ({@link BenchOptions}): a per-record service time that waits (parks the thread)
 * instead of burning CPU, and an end-to-end latency histogram for MiniCluster runs in one JVM.
 *
 * <p>Service: each record adds the service time to what the subtask owes; once it owes at least 1 ms it parks for
 * that long and pays off what it actually slept (one park per millisecond, not per record: a park of a few
 * microseconds sleeps far longer and costs a system call). A subtask thus serves at most 1 / serviceTime records per
 * second of wall time, like a server, while using almost no CPU.
 *
 * <p>Latency: the bench source writes {@code System.nanoTime()} at emission into the record's value (a throttled
 * source: the time its schedule made the record due, at or before its emission); the window
 * operator records now − that, in buckets of 0.1 ms up to 60 s, of 1 s from there up to an hour (beyond: the last
 * bucket; a run falling behind its offered load for minutes had every latency above 60 s in one bucket, reported as
 * 60 s whatever it was).
 */
public final class CapacityModel implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Buckets of 0.1 ms up to 60 s. */
    private static final int FINE = 600_000;
    /** Then buckets of 1 s up to an hour (the last one also holds everything above). */
    private static final int BUCKETS = FINE + 3_540;
    private static final ConcurrentHashMap<String, AtomicLongArray> HISTOGRAMS = new ConcurrentHashMap<>();

    private final long serviceNanos;
    private final String latencyId;
    private transient AtomicLongArray histogram;
    private transient long owedNanos;

    /** @param serviceNanos wait per record, ns (0 = none); @param latencyId histogram id ("" = none) */
    public CapacityModel(long serviceNanos, String latencyId) {
        this.serviceNanos = serviceNanos;
        this.latencyId = latencyId == null ? "" : latencyId;
    }

    /** No service time, no latency recording. */
    public static CapacityModel off() {
        return new CapacityModel(0, "");
    }

    public boolean isOff() {
        return serviceNanos <= 0 && latencyId.isEmpty();
    }

    /** Called once per record by the window operator; {@code emittedNanos} NaN = serve but do not record. */
    public void serve(double emittedNanos) {
        if (serviceNanos > 0) {
            owedNanos += serviceNanos;
            if (owedNanos >= 1_000_000) {
                long start = System.nanoTime();
                LockSupport.parkNanos(owedNanos);
                owedNanos -= System.nanoTime() - start;
            }
        }
        if (!latencyId.isEmpty() && !Double.isNaN(emittedNanos)) {
            if (histogram == null) {
                histogram = HISTOGRAMS.computeIfAbsent(latencyId, k -> new AtomicLongArray(BUCKETS));
            }
            long micros = (System.nanoTime() - (long) emittedNanos) / 1_000;
            histogram.incrementAndGet(bucket(micros));
        }
    }

    /** The histogram bucket of a latency of {@code micros} µs. */
    static int bucket(long micros) {
        long fine = Math.max(0, micros / 100);
        return (int) (fine < FINE ? fine : Math.min(BUCKETS - 1, FINE + (micros - 60_000_000L) / 1_000_000));
    }

    /** The midpoint of bucket {@code i}, in ms. */
    static double midpointMillis(int i) {
        return i < FINE ? (i + 0.5) / 10.0 : 60_000 + (i - FINE + 0.5) * 1_000;
    }

    /** Frees the latencies recorded under {@code id} (4.8 MB each; a run's are read once it has ended). */
    public static void release(String id) {
        HISTOGRAMS.remove(id);
    }

    /**
     * The q-quantile (0..1) of the latencies recorded under {@code id}, in ms (bucket midpoint: within 0.05 ms up to
     * 60 s, 0.5 s up to an hour, at most an hour); NaN if none.
     */
    public static double quantileMillis(String id, double q) {
        AtomicLongArray h = HISTOGRAMS.get(id);
        if (h == null) {
            return Double.NaN;
        }
        long total = 0;
        for (int i = 0; i < h.length(); i++) {
            total += h.get(i);
        }
        if (total == 0) {
            return Double.NaN;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int i = 0; i < h.length(); i++) {
            seen += h.get(i);
            if (seen >= rank) {
                return midpointMillis(i);
            }
        }
        return midpointMillis(h.length() - 1);
    }
}
