package io.keyshift.jobs.source;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Records emitted by local source readers, by progress id: lets the replay command print progress while a
 * MiniCluster job runs in the same JVM. On a remote cluster the counts stay there (use Flink's metrics instead).
 */
public final class Progress {
    private static final ConcurrentHashMap<String, AtomicLong> COUNTS = new ConcurrentHashMap<>();

    private Progress() {}

    static void add(String id, long n) {
        COUNTS.computeIfAbsent(id, k -> new AtomicLong()).addAndGet(n);
    }

    /** Records emitted so far under {@code id}. */
    public static long get(String id) {
        AtomicLong v = COUNTS.get(id);
        return v == null ? 0 : v.get();
    }

    public static void reset(String id) {
        COUNTS.remove(id);
    }
}
