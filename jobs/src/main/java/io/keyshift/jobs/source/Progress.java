package io.keyshift.jobs.source;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Records emitted by local source readers, by progress id: lets the replay command print progress while a
 * MiniCluster job runs in the same JVM. On a remote cluster the counts stay there (use Flink's metrics instead).
 * Kept as each split's position, not as a sum of increments: a reader restored from a checkpoint reads again what
 * followed it, which must not count twice.
 */
public final class Progress {
    /** By progress id, by split (its offset): records of the split emitted, as of the last report. */
    private static final ConcurrentHashMap<String, ConcurrentHashMap<Integer, Long>> POSITIONS =
            new ConcurrentHashMap<>();
    /** By progress id: {@link System#nanoTime()} when a reader emitted its first record (the earliest reader's). */
    private static final ConcurrentHashMap<String, Long> FIRST = new ConcurrentHashMap<>();

    private Progress() {}

    /** Split {@code split} under {@code id} has emitted its first {@code position} records. */
    static void position(String id, int split, long position) {
        POSITIONS.computeIfAbsent(id, k -> new ConcurrentHashMap<>()).put(split, position);
    }

    /** Records emitted so far under {@code id} (after a restore, from the restored positions on). */
    public static long get(String id) {
        ConcurrentHashMap<Integer, Long> v = POSITIONS.get(id);
        return v == null ? 0 : v.values().stream().mapToLong(Long::longValue).sum();
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
        POSITIONS.remove(id);
        FIRST.remove(id);
    }
}
