package io.keyshift.jobs.source;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Records emitted by local source readers, by progress id: lets the replay command print progress while a
 * MiniCluster job runs in the same JVM. On a remote cluster the counts stay there (use Flink's metrics instead).
 */
public final class Progress {
    private static final ConcurrentHashMap<String, AtomicLong> COUNTS = new ConcurrentHashMap<>();
    /** By progress id: {@link System#nanoTime()} when a reader emitted its first record (the earliest reader's). */
    private static final ConcurrentHashMap<String, Long> FIRST = new ConcurrentHashMap<>();

    private Progress() {}

    static void add(String id, long n) {
        COUNTS.computeIfAbsent(id, k -> new AtomicLong()).addAndGet(n);
    }

    /** Records emitted so far under {@code id}. */
    public static long get(String id) {
        AtomicLong v = COUNTS.get(id);
        return v == null ? 0 : v.get();
    }

    /** Notes that a reader emitted its first record now (the first call per id counts). */
    static void firstRecord(String id) {
        FIRST.putIfAbsent(id, System.nanoTime());
    }

    /** {@link System#nanoTime()} when the first record under {@code id} was emitted, or null before that. */
    public static Long firstRecordNanos(String id) {
        return FIRST.get(id);
    }

    public static void reset(String id) {
        COUNTS.remove(id);
        FIRST.remove(id);
    }
}
