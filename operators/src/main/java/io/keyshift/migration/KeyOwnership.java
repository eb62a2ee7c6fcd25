package io.keyshift.migration;

/**
 * What one stay of a key in a key group (a routing key: user key, key group, epoch) of a keyed process function knows
 * about its ownership of the key, from the router's markers and the copies' roles: it owns the key's outputs at times
 * in {@code [ownedFrom, ownedUntil)}; it shadowed the migration in from {@code inShadowFrom} and is shadowed by the
 * migration out from {@code outShadowFrom}; its state is cleared at {@code cleanupAt} (the switch-over out plus the
 * state horizon). A stay has at most one migration in and one out, so these are set once each. Flink POJO.
 */
public class KeyOwnership {
    public long ownedFrom = Long.MIN_VALUE;
    public long ownedUntil = Long.MAX_VALUE;
    /** T0 of the migration in, Long.MIN_VALUE if none (the key's natural stay). */
    public long inShadowFrom = Long.MIN_VALUE;
    /** T0 of the migration out, Long.MIN_VALUE if none yet. */
    public long outShadowFrom = Long.MIN_VALUE;
    public long cleanupAt = Long.MIN_VALUE;

    public KeyOwnership() {}

    /**
     * Whether this stay owns the key's outputs at event time {@code t}: {@code ownedFrom <= t < ownedUntil}, where an
     * {@code ownedUntil} of Long.MAX_VALUE (no migration out) is no end, so that a timer at Long.MAX_VALUE (a flush at
     * the end of the input) is owned too.
     */
    boolean owns(long t) {
        return ownedFrom <= t && (t < ownedUntil || ownedUntil == Long.MAX_VALUE);
    }
}
