package io.keyshift.profiler;

import org.apache.datasketches.common.ArrayOfStringsSerDe;
import org.apache.datasketches.frequencies.ItemsSketch;
import org.apache.datasketches.memory.Memory;

/**
 * Serialization helpers for the Apache DataSketches frequent-items sketch ({@link ItemsSketch}) of user keys.
 *
 * <p>The sketch is the Misra-Gries / "Space-Saving" family as implemented by DataSketches (Anderson et al., "A
 * High-Performance Algorithm for Identifying Frequent Items in Data Streams", IMC 2017): with maximum map size
 * {@code M} it keeps at most {@code 0.75 * M} keys, uses about {@code 18 * M} bytes plus the keys, and every
 * estimate is within {@code getMaximumError() <= 3.5 / M * n} of the true count of {@code n} updates.
 */
public final class HeavyHitters {
    private static final ArrayOfStringsSerDe SERDE = new ArrayOfStringsSerDe();

    private HeavyHitters() {}

    /** A new empty sketch; {@code maxMapSize} must be a power of 2, at least 8. */
    public static ItemsSketch<String> newSketch(int maxMapSize) {
        if (maxMapSize < 8 || Integer.bitCount(maxMapSize) != 1) {
            throw new IllegalArgumentException("sketch size must be a power of 2 >= 8, was " + maxMapSize);
        }
        return new ItemsSketch<>(maxMapSize);
    }

    public static byte[] toBytes(ItemsSketch<String> sketch) {
        return sketch.toByteArray(SERDE);
    }

    /** Reads a sketch written by {@link #toBytes}; throws the sketch library's SketchesArgumentException if corrupt. */
    public static ItemsSketch<String> fromBytes(byte[] bytes) {
        return ItemsSketch.getInstance(Memory.wrap(bytes), SERDE);
    }
}
