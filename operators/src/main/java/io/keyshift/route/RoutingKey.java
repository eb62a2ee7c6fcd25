package io.keyshift.route;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import java.util.Objects;

/**
 * The key that the keyed operator behind the {@link DynamicRouter} is keyed by: a user key together with the key
 * group the plan chose for it.
 *
 * <p>{@code hashCode()} returns {@link #hash}, a preimage (see {@link KeyGroupHashTable}) of {@link #keyGroup}, so
 * Flink places the key in exactly that key group. Two routing keys of one user key (primary and shadow during a
 * migration) are different keys with independent state.
 *
 * <p><b>This class's shape is part of every savepoint</b> (it is the key serializer's type): a Flink POJO whose
 * class name, package and fields must never change. {@code hash} is stored, not recomputed, so that it is the same
 * in every JVM, after restore, and for restored timers.
 */
@org.apache.flink.api.common.typeinfo.TypeInfo(io.keyshift.serde.RoutingKeySerializer.Factory.class)
public class RoutingKey {
    /** User key. */
    public String key;
    /** Key group in [0, maxParallelism) that Flink assigns this routing key to. */
    public int keyGroup;
    /** A preimage of {@link #keyGroup} under Flink's key-group hash; returned by {@link #hashCode()}. */
    public int hash;

    public RoutingKey() {}

    private RoutingKey(String key, int keyGroup, int hash) {
        this.key = key;
        this.keyGroup = keyGroup;
        this.hash = hash;
    }

    /** The routing key of {@code key} in {@code keyGroup} for the given table's maxParallelism. */
    public static RoutingKey of(String key, int keyGroup, KeyGroupHashTable table) {
        return new RoutingKey(key, keyGroup, table.hashFor(keyGroup, key.hashCode()));
    }

    /** The routing key that keeps {@code key} in its natural key group (where plain {@code keyBy(key)} puts it). */
    /** A routing key as serialized (no check that {@code hash} maps to {@code keyGroup}). */
    public static RoutingKey restore(String key, int keyGroup, int hash) {
        return new RoutingKey(key, keyGroup, hash);
    }

    public static RoutingKey natural(String key, KeyGroupHashTable table) {
        return of(key, KeyGroupRangeAssignment.assignToKeyGroup(key, table.maxParallelism()), table);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof RoutingKey)) {
            return false;
        }
        RoutingKey other = (RoutingKey) o;
        return keyGroup == other.keyGroup && Objects.equals(key, other.key);
    }

    @Override
    public String toString() {
        return key + "@" + keyGroup;
    }
}
