package io.keyshift.route;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RoutingKeyTest {

    @Test
    void everyPreimageHashesToItsKeyGroup() {
        for (int maxP : new int[] {1, 7, 128, 1000}) {
            KeyGroupHashTable t = KeyGroupHashTable.forMaxParallelism(maxP);
            for (int g = 0; g < maxP; g++) {
                for (int spread = 0; spread < 50; spread++) {
                    assertThat(KeyGroupRangeAssignment.computeKeyGroupForKeyHash(t.hashFor(g, spread * 7919), maxP))
                            .isEqualTo(g);
                }
            }
        }
    }

    @Test
    void preimagesAreTheFirstIntsOfEachKeyGroupInOrder() {
        // the preimages are part of every savepoint's keyed state (a routing key's hash): their values must never
        // change, however the table keeps them (a table of 16-bit offsets from j * maxP was tried: no faster)
        for (int maxP : new int[] {1, 7, 128, 256, 512, 1000, 4096}) {
            KeyGroupHashTable t = KeyGroupHashTable.forMaxParallelism(maxP);
            int per = t.preimagesPerKeyGroup();
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
