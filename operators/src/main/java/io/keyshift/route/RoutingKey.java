package io.keyshift.route;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import java.util.Objects;

/**
 * The key that the keyed stage behind the router is keyed by: a user key of type {@code K} together with the key
 * group the routing plan chose for it and the <em>epoch</em> of the key's stay there (the plan version of the
 * migration that brought it, 0 for its natural key group): in a keyed process function's stage (plans read with
 * epochs) two stays of one key in one key group, before and after it was away, are different keys, so the state of
 * the earlier stay (cleaned up in event time) never mixes with the later one (built from records that may arrive
 * before the watermark reaches it). A window stage's stays all have epoch 0: its windows belong to one stay by their
 * time.
 *
 * <p>{@code hashCode()} returns {@link #hash}, a preimage (see {@link KeyGroupHashTable}) of {@link #keyGroup}, so
 * Flink places the routing key in exactly that key group: keyed state, timers and windows work as for any key. Two
 * routing keys of one user key (primary and shadow during a migration) are different keys with independent state.
 *
 * <p><b>Part of every savepoint</b> (it is the keyed stage's key type): its serializer
 * ({@link io.keyshift.serde.RoutingKeySerializer}) writes key group, hash and the user key with the key's own
 * serializer, and its snapshot carries the format version. {@code hash} is stored, not recomputed, so that it is the
 * same in every JVM, after a restore and for restored timers. The user key's {@code hashCode} must be deterministic
 * across JVMs (String, boxed numbers, records and POJOs of such fields; not enums or identity hashes).
 *
 * <p>Read-only for everyone but the router: where no operator is chained to its main output (keyshift's graph never
 * chains one), it reuses one instance (see {@link #reuse}) for the primary copies it writes into the keyed exchange, a
 * network exchange that serializes each record before the router takes the next, so no reader ever sees it change.
 * Every routing key read from a stream, from state or from a timer is a fresh object, and its serializer's
 * {@code copy} relies on that (it returns the instance itself for an immutable user key type). Never assign the fields.
 *
 * @param <K> the user key type
 */
public final class RoutingKey<K> {
    /** User key, never null. */
    public K key;
    /** Key group in [0, maxParallelism) that Flink assigns this routing key to. */
    public int keyGroup;
    /** The stay of the key in the key group: the plan version of the migration that brought it there, or 0. */
    public int epoch;
    /** A preimage of {@link #keyGroup} under Flink's key-group hash; returned by {@link #hashCode()}. */
    public int hash;

    private RoutingKey(K key, int keyGroup, int epoch, int hash) {
        this.key = key;
        this.keyGroup = keyGroup;
        this.epoch = epoch;
        this.hash = hash;
    }

    /** The routing key of {@code key} in {@code keyGroup}, stay {@code epoch}, for the table's maxParallelism. */
    public static <K> RoutingKey<K> of(K key, int keyGroup, int epoch, KeyGroupHashTable table) {
        return new RoutingKey<>(key, keyGroup, epoch, table.hashFor(keyGroup, key.hashCode()));
    }

    /**
     * Sets this (the router's reused instance) to the routing key of {@code key} in {@code keyGroup}, stay
     * {@code epoch}, with {@code hash} as {@link #of} finds it. Only for a routing key that goes straight into a
     * network exchange.
     */
    RoutingKey<K> reuse(K key, int keyGroup, int epoch, int hash) {
        this.hash = hash;
        this.key = key;
        this.keyGroup = keyGroup;
        this.epoch = epoch;
        return this;
    }

    /** The routing key that keeps {@code key} in its natural key group (where a plain {@code keyBy} puts it). */
    public static <K> RoutingKey<K> natural(K key, KeyGroupHashTable table) {
        return of(key, KeyGroupRangeAssignment.assignToKeyGroup(key, table.maxParallelism()), 0, table);
    }

    /** A routing key as serialized (no check that {@code hash} maps to {@code keyGroup}). */
    public static <K> RoutingKey<K> restore(K key, int keyGroup, int epoch, int hash) {
        return new RoutingKey<>(key, keyGroup, epoch, hash);
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
        return o instanceof RoutingKey<?> other && keyGroup == other.keyGroup && epoch == other.epoch
                && Objects.equals(key, other.key);
    }

    @Override
    public String toString() {
        return epoch == 0 ? key + "@" + keyGroup : key + "@" + keyGroup + "#" + epoch;
    }
}
