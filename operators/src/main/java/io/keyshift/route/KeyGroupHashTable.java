package io.keyshift.route;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Preimages of Flink's key-group hash: for every key group {@code g} of a given maxParallelism, a set of ints
 * {@code h} with {@code KeyGroupRangeAssignment.computeKeyGroupForKeyHash(h, maxParallelism) == g}.
 *
 * <p>A {@link RoutingKey} returns one of these ints from {@code hashCode()}, so that {@code keyBy(routingKey)} puts
 * it in exactly the key group the plan chose while Flink's keyed state, timers and windows work as usual. Many
 * preimages per key group ({@link #preimagesPerKeyGroup}) keep keys of one group from colliding in hash-based
 * state backends: the preimage is picked by the user key's own hash.
 *
 * <p>The table is found once per maxParallelism by scanning ints from 0 upward and is cached for the JVM.
 * Memory: {@code maxParallelism * preimagesPerKeyGroup * 4} bytes (512 KiB for maxParallelism 128).
 * It calls Flink's {@link KeyGroupRangeAssignment}; it never re-implements the hash.
 */
public final class KeyGroupHashTable {
    private static final ConcurrentHashMap<Integer, KeyGroupHashTable> CACHE = new ConcurrentHashMap<>();
    /** Upper bound of the table's size in ints. */
    private static final int MAX_TABLE_INTS = 1 << 22;

    private final int maxParallelism;
    private final int preimagesPerKeyGroup;
    private final int mask;
    private final int[] table;

    private KeyGroupHashTable(int maxParallelism) {
        if (maxParallelism < 1 || maxParallelism > KeyGroupRangeAssignment.UPPER_BOUND_MAX_PARALLELISM) {
            throw new IllegalArgumentException("maxParallelism must be in [1, "
                    + KeyGroupRangeAssignment.UPPER_BOUND_MAX_PARALLELISM + "], was " + maxParallelism);
        }
        this.maxParallelism = maxParallelism;
        int per = Integer.highestOneBit(Math.max(1, Math.min(1024, MAX_TABLE_INTS / maxParallelism)));
        this.preimagesPerKeyGroup = per;
        this.mask = per - 1;
        this.table = new int[maxParallelism * per];
        int[] filled = new int[maxParallelism];
        int remaining = maxParallelism * per;
        for (int h = 0; remaining > 0; h++) {
            int g = KeyGroupRangeAssignment.computeKeyGroupForKeyHash(h, maxParallelism);
            if (filled[g] < per) {
                table[g * per + filled[g]++] = h;
                remaining--;
            }
        }
    }

    /** The (cached) table for {@code maxParallelism}; throws IllegalArgumentException outside Flink's bounds. */
    public static KeyGroupHashTable forMaxParallelism(int maxParallelism) {
        return CACHE.computeIfAbsent(maxParallelism, KeyGroupHashTable::new);
    }

    /**
     * An int whose Flink key group is {@code keyGroup}, chosen among the group's preimages by {@code spread}
     * (the user key's hashCode).
     */
    public int hashFor(int keyGroup, int spread) {
        if (keyGroup < 0 || keyGroup >= maxParallelism) {
            throw new IllegalArgumentException(
                    "key group " + keyGroup + " outside [0, " + maxParallelism + ")");
        }
        // MurmurHash3's fmix32 finalizer: every bit of the user key's hash affects the chosen preimage.
        int h = spread;
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return preimage(keyGroup, h & mask);
    }

    /** The {@code j}-th preimage of {@code keyGroup} ({@code 0 <= j < preimagesPerKeyGroup}, unchecked). */
    int preimage(int keyGroup, int j) {
        return table[keyGroup * preimagesPerKeyGroup + j];
    }

    public int maxParallelism() {
        return maxParallelism;
    }

    public int preimagesPerKeyGroup() {
        return preimagesPerKeyGroup;
    }
}
