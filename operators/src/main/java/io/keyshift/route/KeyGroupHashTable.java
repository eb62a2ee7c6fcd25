package io.keyshift.route;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.util.MathUtils;

import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Preimages of Flink's key-group hash: for every key group {@code g} of a given maxParallelism, ints {@code h} with
 * {@code KeyGroupRangeAssignment.computeKeyGroupForKeyHash(h, maxParallelism) == g}.
 *
 * <p>A {@link RoutingKey} returns one of these ints from {@code hashCode()}, so that {@code keyBy(routingKey)} puts
 * it in exactly the key group the plan chose while Flink's keyed state, timers and windows work as usual. The preimage
 * is picked by the user key's own hash, so that keys of one key group do not collide in a hash-based state backend
 * (Flink's heap state confirms every hit with the key's {@code equals}, along a chain of all keys of equal hash).
 *
 * <p>Two <b>formats</b>, because a routing key's hash is part of every savepoint's keyed state (its serializer stores
 * it, and RocksDB's keys hold its bytes): a key must get the same hash for as long as its state lives.
 * <ul>
 *   <li>{@link #FORMAT_PREIMAGE_TABLE} (format 1, builds before 2026-12-04): the first
 *       {@code min(1024, 2^22 / maxParallelism)} (rounded down to a power of two) preimages of each key group, found by
 *       scanning ints from 0 upward, calling Flink's hash. 1,024 per key group at maxParallelism 128, so a subtask that
 *       owns 16 key groups has 16,384 distinct hashes: with a million keys in its heap state, a lookup walks a chain of
 *       about 60 keys. Table memory {@code maxParallelism * preimagesPerKeyGroup * 4} bytes (512 KiB at 128).</li>
 *   <li>{@link #FORMAT_INVERTED_MURMUR} (format 2, the default for a stage started without state): Flink's
 *       key-group hash ({@link MathUtils#murmurHash(int)}, MurmurHash3's 32-bit body and finalizer for one block,
 *       Appleby 2011, then an absolute value) is, before its absolute value, a bijection of the 32-bit ints: each
 *       step (multiplication by an odd constant, rotation, addition, xor, {@link MathUtils#bitMix}) is one. So for a
 *       target {@code v = m * maxParallelism + g >= 0} the int whose hash is {@code v} (key group {@code g}) is found
 *       by undoing the steps in reverse order (an odd constant's inverse modulo 2^32 by Newton's iteration; an
 *       xor-shift by {@code s} by xoring the shifts by {@code s, 2s, ...}). {@code m} is the low bits of the user
 *       key's hash, below the largest power of two that keeps the target an int: 2^31 / maxParallelism preimages per
 *       key group for a power-of-two maxParallelism (16,777,216 at 128), at no memory, in about fifteen arithmetic
 *       operations. The inverse is checked against Flink's own hash whenever a table is made; it fails loudly if
 *       Flink ever computed its hash differently (which would move every keyed state's keys, so Flink does not).</li>
 * </ul>
 * Tables are cached per maxParallelism and format for the JVM.
 */
public final class KeyGroupHashTable {
    /** Format 1: the first preimages of each key group, in a table (savepoints of builds before 2026-12-04). */
    public static final int FORMAT_PREIMAGE_TABLE = 1;
    /** Format 2: Flink's key-group hash inverted, about 2^31 / maxParallelism preimages per key group. */
    public static final int FORMAT_INVERTED_MURMUR = 2;
    /** The format of a stage that starts without state. */
    public static final int CURRENT_FORMAT = FORMAT_INVERTED_MURMUR;

    private static final ConcurrentHashMap<Long, KeyGroupHashTable> CACHE = new ConcurrentHashMap<>();
    /** Upper bound of the format-1 table's size in ints. */
    private static final int MAX_TABLE_INTS = 1 << 22;

    /** MurmurHash3's constants as {@link MathUtils#murmurHash(int)} uses them. */
    private static final int C1 = 0xcc9e2d51;
    private static final int C2 = 0x1b873593;
    private static final int FMIX1 = 0x85ebca6b;
    private static final int FMIX2 = 0xc2b2ae35;
    private static final int C1_INVERSE = inverse(C1);
    private static final int C2_INVERSE = inverse(C2);
    private static final int FMIX1_INVERSE = inverse(FMIX1);
    private static final int FMIX2_INVERSE = inverse(FMIX2);
    private static final int FIVE_INVERSE = inverse(5);

    private final int maxParallelism;
    private final int format;
    /** Preimages per key group that {@link #hashFor} picks from (a power of two, at most 2^31). */
    private final long preimagesPerKeyGroup;
    private final int mask;
    /** Format 1's table; null in format 2. */
    private final int[] table;

    private KeyGroupHashTable(int maxParallelism, int format) {
        if (maxParallelism < 1 || maxParallelism > KeyGroupRangeAssignment.UPPER_BOUND_MAX_PARALLELISM) {
            throw new IllegalArgumentException("maxParallelism must be in [1, "
                    + KeyGroupRangeAssignment.UPPER_BOUND_MAX_PARALLELISM + "], was " + maxParallelism);
        }
        this.maxParallelism = maxParallelism;
        this.format = format;
        if (format == FORMAT_INVERTED_MURMUR) {
            // targets m * maxParallelism + g (g < maxParallelism) that are non-negative ints: m below the largest
            // power of two that keeps them so (2^31 / maxParallelism for a power-of-two maxParallelism)
            // (at maxParallelism 1 that is 2^31, which an int cannot hold: the mask keeps every bit but the sign)
            long per = Long.highestOneBit((Integer.MAX_VALUE - (maxParallelism - 1L)) / maxParallelism + 1);
            this.preimagesPerKeyGroup = per;
            this.mask = (int) (per - 1);
            this.table = null;
            checkAgainstFlink();
            return;
        }
        if (format != FORMAT_PREIMAGE_TABLE) {
            throw new IllegalArgumentException("unknown routing-key hash format " + format + " (this build knows "
                    + FORMAT_PREIMAGE_TABLE + " and " + FORMAT_INVERTED_MURMUR + ")");
        }
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

    /** The (cached) table of the current format for {@code maxParallelism}; see {@link #forMaxParallelism(int, int)}. */
    public static KeyGroupHashTable forMaxParallelism(int maxParallelism) {
        return forMaxParallelism(maxParallelism, CURRENT_FORMAT);
    }

    /**
     * The (cached) table for {@code maxParallelism} in {@code format} ({@link #FORMAT_PREIMAGE_TABLE} or
     * {@link #FORMAT_INVERTED_MURMUR}); throws IllegalArgumentException outside Flink's bounds or for another format.
     */
    public static KeyGroupHashTable forMaxParallelism(int maxParallelism, int format) {
        return CACHE.computeIfAbsent(((long) format << 32) | maxParallelism,
                k -> new KeyGroupHashTable(maxParallelism, format));
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
        if (table == null) {
            // the low bits of the user key's hash pick the target; the inverse mixes them into every bit, so keys
            // whose hashes differ there (integer keys below 2^24 at maxParallelism 128) never share a routing key hash
            return unmurmur((spread & mask) * maxParallelism + keyGroup);
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

    /** The {@code j}-th preimage of {@code keyGroup} in format 1 ({@code 0 <= j < preimagesPerKeyGroup}, unchecked). */
    int preimage(int keyGroup, int j) {
        return table[keyGroup * (mask + 1) + j];
    }

    /**
     * The int {@code x} with {@code MathUtils.murmurHash(x) == v} for a non-negative {@code v}: Flink's steps undone in
     * reverse order (its final absolute value leaves a non-negative value as it is).
     */
    static int unmurmur(int v) {
        int x = v;
        // bitMix: x ^= x >>> 16; x *= FMIX1; x ^= x >>> 13; x *= FMIX2; x ^= x >>> 16
        x ^= x >>> 16;
        x *= FMIX2_INVERSE;
        x ^= (x >>> 13) ^ (x >>> 26);
        x *= FMIX1_INVERSE;
        x ^= x >>> 16;
        // x ^= 4
        x ^= 4;
        // x = x * 5 + 0xe6546b64
        x = (x - 0xe6546b64) * FIVE_INVERSE;
        // x = rotl(x, 13); x *= C2
        x = Integer.rotateRight(x, 13);
        x *= C2_INVERSE;
        // x *= C1; x = rotl(x, 15)
        x = Integer.rotateRight(x, 15);
        return x * C1_INVERSE;
    }

    /** The inverse of an odd int modulo 2^32 (Newton's iteration: each step doubles the correct low bits). */
    private static int inverse(int odd) {
        int x = odd; // correct to 3 bits: odd * odd == 1 (mod 8)
        for (int i = 0; i < 5; i++) {
            x *= 2 - odd * x;
        }
        if (odd * x != 1) {
            throw new AssertionError("no inverse of " + odd);
        }
        return x;
    }

    /** Checks format 2's preimages of random spreads and the extremes against Flink's own key-group hash. */
    private void checkAgainstFlink() {
        SplittableRandom random = new SplittableRandom(maxParallelism);
        for (int i = 0; i < 4096; i++) {
            int g = i < 2 ? (i == 0 ? 0 : maxParallelism - 1) : random.nextInt(maxParallelism);
            int spread = i < 4 ? (i % 2 == 0 ? Integer.MIN_VALUE : -1) : random.nextInt();
            int h = hashFor(g, spread);
            if (KeyGroupRangeAssignment.computeKeyGroupForKeyHash(h, maxParallelism) != g) {
                throw new IllegalStateException("keyshift's inverse of Flink's key-group hash does not match this "
                        + "Flink's " + MathUtils.class.getName() + ".murmurHash (key group " + g + " of "
                        + maxParallelism + "): this Flink version is not supported");
            }
        }
    }

    public int maxParallelism() {
        return maxParallelism;
    }

    /** The routing-key hash format ({@link #FORMAT_PREIMAGE_TABLE} or {@link #FORMAT_INVERTED_MURMUR}). */
    public int format() {
        return format;
    }

    /**
     * Distinct preimages per key group that {@link #hashFor} picks from: a power of two, at most 1,024 in format 1,
     * 2^31 / maxParallelism rounded down to a power of two in format 2 (2^31 at maxParallelism 1, hence a long).
     */
    public long preimagesPerKeyGroup() {
        return preimagesPerKeyGroup;
    }
}
