package io.keyshift.route;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RoutingKeyTest {
    /** Pinned when format 2 was introduced (2026-12-04), with format 1's value of that day. */
    private static final int FORMAT_ONE_STATION_7 = 75873;
    private static final int FORMAT_TWO_STATION_7 = 1389021072;


    private static final int[] FORMATS = {KeyGroupHashTable.FORMAT_PREIMAGE_TABLE,
        KeyGroupHashTable.FORMAT_INVERTED_MURMUR};

    @Test
    void everyPreimageHashesToItsKeyGroup() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        for (int format : FORMATS) {
            for (int maxP : new int[] {1, 2, 7, 128, 1000, 4096, 32768}) {
                KeyGroupHashTable t = KeyGroupHashTable.forMaxParallelism(maxP, format);
                for (int g = 0; g < maxP; g += Math.max(1, maxP / 512)) {
                    for (int spread : new int[] {0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, random.nextInt(),
                        random.nextInt(), random.nextInt()}) {
                        assertThat(KeyGroupRangeAssignment.computeKeyGroupForKeyHash(t.hashFor(g, spread), maxP))
                                .as("format %d, maxP %d, key group %d, spread %d", format, maxP, g, spread)
                                .isEqualTo(g);
                    }
                }
            }
        }
    }

    @Test
    void theInverseUndoesFlinksMurmurHashForEveryNonNegativeIntSampled() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(11);
        for (int i = 0; i < 1_000_000; i++) {
            int v = i < 3 ? new int[] {0, 1, Integer.MAX_VALUE}[i] : random.nextInt() & Integer.MAX_VALUE;
            assertThat(org.apache.flink.util.MathUtils.murmurHash(KeyGroupHashTable.unmurmur(v))).isEqualTo(v);
        }
    }

    @Test
    void formatTwoAtMaxParallelismOneCountsItsPreimagesWithoutOverflow() {
        // 2^31 targets (every non-negative int) all lie in key group 0: the count was Integer.MIN_VALUE
        KeyGroupHashTable t = KeyGroupHashTable.forMaxParallelism(1, KeyGroupHashTable.FORMAT_INVERTED_MURMUR);
        assertThat(t.preimagesPerKeyGroup()).isEqualTo(1L << 31);
        Set<Integer> hashes = new HashSet<>();
        for (int spread : new int[] {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 12345}) {
            int h = t.hashFor(0, spread);
            assertThat(KeyGroupRangeAssignment.computeKeyGroupForKeyHash(h, 1)).isZero();
            hashes.add(h);
        }
        // -1 and MAX_VALUE, 0 and MIN_VALUE differ only in the sign bit, which the mask drops
        assertThat(hashes).hasSize(4);
    }

    @Test
    void formatTwoGivesTheKeysOfOneKeyGroupDistinctHashesWhereFormatOneRepeatsThem() {
        // Flink's heap state walks a chain of every key of equal hash: format 1 has 1,024 hashes per key group at
        // maxParallelism 128, so 200,000 keys of one key group share them about 200 to a hash
        Set<Integer> one = new HashSet<>();
        Set<Integer> two = new HashSet<>();
        KeyGroupHashTable t1 = KeyGroupHashTable.forMaxParallelism(128, KeyGroupHashTable.FORMAT_PREIMAGE_TABLE);
        KeyGroupHashTable t2 = KeyGroupHashTable.forMaxParallelism(128, KeyGroupHashTable.FORMAT_INVERTED_MURMUR);
        for (int i = 0; i < 200_000; i++) {
            int spread = ("user-" + i).hashCode();
            one.add(t1.hashFor(5, spread));
            two.add(t2.hashFor(5, spread));
        }
        assertThat(t1.preimagesPerKeyGroup()).isEqualTo(1024);
        assertThat(t2.preimagesPerKeyGroup()).isEqualTo(1 << 24);
        assertThat(one).hasSize(1024);
        // the low 24 bits of 200,000 strings' hashes: a few meet by chance
        assertThat(two.size()).isGreaterThan(198_000);
        // integer keys below 2^24 (an Integer's hash is its value) never share one
        Set<Integer> ids = new HashSet<>();
        for (int id = 0; id < 200_000; id++) {
            ids.add(t2.hashFor(5, Integer.valueOf(id * 37).hashCode()));
        }
        assertThat(ids).hasSize(200_000);
    }

    @Test
    void aKeysHashIsTheSameInEveryBuildOfItsFormat() {
        // part of every savepoint's keyed state: a change here loses the state of every key of a restored stage
        int spread = "station-7".hashCode();
        assertThat(KeyGroupHashTable.forMaxParallelism(128, KeyGroupHashTable.FORMAT_PREIMAGE_TABLE).hashFor(42, spread))
                .isEqualTo(FORMAT_ONE_STATION_7);
        assertThat(KeyGroupHashTable.forMaxParallelism(128, KeyGroupHashTable.FORMAT_INVERTED_MURMUR).hashFor(42, spread))
                .isEqualTo(FORMAT_TWO_STATION_7);
        assertThat(KeyGroupHashTable.forMaxParallelism(128)).isSameAs(
                KeyGroupHashTable.forMaxParallelism(128, KeyGroupHashTable.FORMAT_INVERTED_MURMUR));
    }

    @Test
    void anUnknownFormatIsRefused() {
        assertThatThrownBy(() -> KeyGroupHashTable.forMaxParallelism(128, 3))
                .hasMessageContaining("unknown routing-key hash format 3");
    }

    @Test
    void preimagesAreTheFirstIntsOfEachKeyGroupInOrder() {
        // the preimages are part of every savepoint's keyed state (a routing key's hash): their values must never
        // change, however the table keeps them (a table of 16-bit offsets from j * maxP was tried: no faster)
        for (int maxP : new int[] {1, 7, 128, 256, 512, 1000, 4096}) {
            KeyGroupHashTable t = KeyGroupHashTable.forMaxParallelism(maxP, KeyGroupHashTable.FORMAT_PREIMAGE_TABLE);
            int per = Math.toIntExact(t.preimagesPerKeyGroup());
            int[] next = new int[maxP];
            int remaining = maxP * per;
            for (int h = 0; remaining > 0; h++) {
                int g = KeyGroupRangeAssignment.computeKeyGroupForKeyHash(h, maxP);
                if (next[g] < per) {
                    assertThat(t.preimage(g, next[g]++)).as("maxP %d, key group %d", maxP, g).isEqualTo(h);
                    remaining--;
                }
            }
        }
    }

    @Test
    void routingKeyLandsInChosenKeyGroupAndSpreadsKeysOfOneGroup() {
        KeyGroupHashTable t = KeyGroupHashTable.forMaxParallelism(128);
        Set<Integer> hashes = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            RoutingKey<String> k = RoutingKey.of("key-" + i, 42, i % 3, t);
            assertThat(KeyGroupRangeAssignment.assignToKeyGroup(k, 128)).isEqualTo(42);
            hashes.add(k.hashCode());
        }
        assertThat(hashes.size()).isGreaterThan(500);
    }

    @Test
    void naturalRoutingKeyKeepsTheNaturalKeyGroupAndEqualityIgnoresTheHash() {
        KeyGroupHashTable t = KeyGroupHashTable.forMaxParallelism(128);
        RoutingKey<String> n = RoutingKey.natural("station-7", t);
        assertThat(n.keyGroup).isEqualTo(KeyGroupRangeAssignment.assignToKeyGroup("station-7", 128));
        RoutingKey<String> other = RoutingKey.of("station-7", n.keyGroup, 0, t);
        assertThat(other).isEqualTo(n).hasSameHashCodeAs(n);
        assertThat(RoutingKey.of("station-7", (n.keyGroup + 1) % 128, 0, t)).isNotEqualTo(n);
        RoutingKey<String> laterStay = RoutingKey.of("station-7", n.keyGroup, 5, t);
        assertThat(laterStay).isNotEqualTo(n).hasSameHashCodeAs(n);
    }

    @Test
    void rejectsKeyGroupsOutsideTheRange() {
        KeyGroupHashTable t = KeyGroupHashTable.forMaxParallelism(16);
        assertThatThrownBy(() -> t.hashFor(16, 0)).hasMessageContaining("outside [0, 16)");
    }
}
