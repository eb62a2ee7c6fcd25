package io.keyshift.route;

/**
 * A record on its way from the router to the keyed stage: the user's record (unchanged), its routing key (user key
 * plus chosen key group) and its {@link Role}. While a key migrates, MIGRATING and SHADOW copies carry the
 * migration's shadow start T0 and switch-over T1 (event time, epoch ms), from which the keyed stage decides which of
 * its results are authoritative (see ../shared/DESIGN.md, "which result counts"). Ownership markers
 * ({@link Role#isMarker()}) carry no record ({@code value == null}).
 *
 * <p>Read-only for everyone but the router: where no operator is chained to its main output (keyshift's graph never
 * chains one), it reuses one envelope (and its routing key) for every copy it writes into the keyed exchange, a
 * network exchange that serializes each record at once; an envelope read from a stream is a fresh object.
 * Never assign the fields.
 *
 * <p>Serialized with the user's own serializers for {@code T} and {@code K}, never by Kryo: in the keyed exchange by
 * {@link io.keyshift.serde.EnvelopeWireSerializer} (a record's key is read from the record), and by
 * {@link io.keyshift.serde.EnvelopeSerializer} where the keyed logic keeps envelopes in state. On the keyed side a
 * record's routing key holds the key object the key selector returns for the record (as under {@code keyBy}): the
 * user's functions must not change a record's key fields.
 *
 * @param <T> the user's record type
 * @param <K> the user's key type
 */
public final class Envelope<T, K> {
    public final RoutingKey<K> routingKey;
    /** The user's record; null for markers. */
    public T value;
    public Role role;
    /** T0 of the migration (MIGRATING, SHADOW, markers), else Long.MIN_VALUE. */
    public long shadowFrom;
    /** T1 of the migration (MIGRATING, SHADOW, markers), else Long.MIN_VALUE. */
    public long switchAt;
    /**
     * True for a MIGRATING or SHADOW copy of a record that was late at its router: its event time at or behind the
     * watermark the router had already sent. Each owner judges lateness by its own watermark, the minimum over every
     * router's, so one owner may take such a record into a window while the other has fired the window without it;
     * a shadow check of a window holding one is not taken for a mismatch (see the shadow validator). A record after
     * its router's watermark reaches both owners before either can fire its window, except from a router back from
     * idle behind the others (Flink's watermark valves pass its channel by until it catches up): its copies are
     * marked too, until its watermark reaches its lease's end.
     */
    public boolean late;

    public Envelope(RoutingKey<K> routingKey, T value, Role role, long shadowFrom, long switchAt) {
        this.routingKey = routingKey;
        this.value = value;
        this.role = role;
        this.shadowFrom = shadowFrom;
        this.switchAt = switchAt;
    }

    /** A copy without migration times (PRIMARY, PARTIAL). */
    public static <T, K> Envelope<T, K> of(RoutingKey<K> routingKey, T value, Role role) {
        return new Envelope<>(routingKey, value, role, Long.MIN_VALUE, Long.MIN_VALUE);
    }

    /** Sets this (the router's reused envelope) to carry {@code value} in role {@code role}, migration times T0, T1. */
    Envelope<T, K> reuse(T value, Role role, long shadowFrom, long switchAt) {
        this.value = value;
        this.role = role;
        this.shadowFrom = shadowFrom;
        this.switchAt = switchAt;
        this.late = false;
        return this;
    }

    /** This envelope with {@link #late} set to {@code late}. */
    public Envelope<T, K> late(boolean late) {
        this.late = late;
        return this;
    }

    /** Key selector target for {@code keyBy}. */
    public RoutingKey<K> routingKey() {
        return routingKey;
    }

    @Override
    public String toString() {
        return "Envelope{" + routingKey + ", " + role
                + (role.carriesMigration() ? " [" + shadowFrom + ", " + switchAt + ")" : "") + (late ? ", late" : "") + ", "
                + value + '}';
    }
}
