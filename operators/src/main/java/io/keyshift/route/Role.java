package io.keyshift.route;

/**
 * What a routed copy of a record is. See ../shared/DESIGN.md, "Migration: event-time fenced, shadowed,
 * deterministic": a migration of key k from key group F to key group G shadows from T0 and switches at T1.
 *
 * <p>Serialized by its ordinal (one byte) in every {@link Envelope}: never reorder; add new roles at the end.
 */
public enum Role {
    /** The authoritative copy, the key not migrating at the record's event time. */
    PRIMARY,
    /** The authoritative copy at the old owner F during the shadow phase, T0 &lt;= t &lt; T1 (carries T0 and T1). */
    MIGRATING,
    /** The check copy at the new owner G during the shadow phase (carries T0 and T1): computed, compared, not emitted. */
    SHADOW,
    /** The authoritative copy of a split key's record in one of its key groups: a partial aggregate, merged downstream. */
    PARTIAL,
    /** No record: tells F (keyed process functions only) that it owns k until T1 and must clean up after T1 + horizon. */
    MIGRATE_OUT,
    /** No record: tells G (keyed process functions only) that it owns k from T1 on and shadows from T0. */
    MIGRATE_IN;

    private static final Role[] VALUES = values();

    /**
     * Set in an envelope's role byte for a MIGRATING or SHADOW copy of a record that was late at its router (at or
     * behind the watermark the router had sent): the two owners may judge it late differently ({@link Envelope#late}).
     */
    public static final int LATE_BIT = 0x80;

    /** The role byte of an envelope: the ordinal, with {@link #LATE_BIT} for a late copy. */
    public static int toByte(Role role, boolean late) {
        return late ? role.ordinal() | LATE_BIT : role.ordinal();
    }

    /** The role of an envelope's role byte {@code b} (with or without {@link #LATE_BIT}). */
    public static Role ofByte(int b) {
        return of(b & 0x7F);
    }

    /** True if the role byte {@code b} carries {@link #LATE_BIT}. */
    public static boolean lateIn(int b) {
        return (b & LATE_BIT) != 0;
    }

    /** The role of ordinal {@code b}; IllegalArgumentException for an unknown byte (a corrupt stream). */
    public static Role of(int b) {
        if (b < 0 || b >= VALUES.length) {
            throw new IllegalArgumentException("unknown keyshift envelope role " + b + " (corrupt data?)");
        }
        return VALUES[b];
    }

    /** True for roles that carry the migration's T0 and T1. */
    public boolean carriesMigration() {
        return this == MIGRATING || this == SHADOW || this == MIGRATE_OUT || this == MIGRATE_IN;
    }

    /** True for the ownership markers, which carry no record. */
    public boolean isMarker() {
        return this == MIGRATE_OUT || this == MIGRATE_IN;
    }
}
