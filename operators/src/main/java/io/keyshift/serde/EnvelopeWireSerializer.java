package io.keyshift.serde;

import io.keyshift.route.Envelope;
import io.keyshift.route.Role;
import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.util.Objects;

/**
 * Serializer of {@link Envelope} in the router → keyed stage exchange only (never in state): the envelope without its
 * user key where it carries a record, which holds the key; the receiving side takes the key from the record with the
 * user's key selector, as Flink's own keyed operators do. Format: role (1 byte, with Role.LATE_BIT), key group (2, unsigned: at most 32,768
 * key groups), epoch (unsigned LEB128 varint, 1 byte below 128), hash (4), T0 and T1 (8 + 8, only for roles that
 * carry a migration), the user key (the key's serializer; markers only, which carry no record), then the user's record
 * (the record's serializer; absent for markers). Against {@link EnvelopeSerializer} a record's copy is one serialized
 * key and 5 bytes shorter (an epoch below 128), and the receiver deserializes no second key.
 *
 * <p>The key selector must give the key the router routed by (Flink requires a deterministic key selector of every
 * {@code keyBy}) and keep no state of its own (duplicates of this serializer share it, as Flink's keyed operators and
 * partitioners of one task share theirs). The routing key of a record read back holds the key object the selector
 * returns, often a field of the record: as under {@code keyBy}, the user's functions must not change a record's key
 * fields. A stage whose keyed logic keeps envelopes in state ({@code process(ProcessWindowFunction)}: Flink's window
 * contents) uses {@link EnvelopeSerializer}, whose format is versioned in savepoints; this one has no snapshot
 * ({@link #snapshotConfiguration} refuses: a state holding it would fail its first checkpoint, and
 * {@code KeyshiftApiTest} checks which format each kind of stage gets). In-flight data of an unaligned checkpoint
 * is stored as these bytes without a format version: restore such a checkpoint only with the keyshift version that
 * took it.
 *
 * @param <T> the user's record type
 * @param <K> the user's key type
 */
public final class EnvelopeWireSerializer<T, K> extends EnvelopeSerializerBase<T, K> {
    private static final long serialVersionUID = 1L;

    private final KeySelector<T, K> keySelector;

    public EnvelopeWireSerializer(TypeSerializer<T> valueSerializer, TypeSerializer<K> keySerializer,
                                  KeySelector<T, K> keySelector) {
        super(valueSerializer, keySerializer);
        this.keySelector = Objects.requireNonNull(keySelector);
    }

    @Override
    public TypeSerializer<Envelope<T, K>> duplicate() {
        TypeSerializer<T> v = valueSerializer.duplicate();
        TypeSerializer<K> k = keySerializer.duplicate();
        return v == valueSerializer && k == keySerializer ? this : new EnvelopeWireSerializer<>(v, k, keySelector);
    }

    @Override
    public void serialize(Envelope<T, K> e, DataOutputView out) throws IOException {
        out.writeByte(Role.toByte(e.role, e.late));
        out.writeShort(e.routingKey.keyGroup);
        writeVarInt(e.routingKey.epoch, out);
        out.writeInt(e.routingKey.hash);
        if (e.role.carriesMigration()) {
            out.writeLong(e.shadowFrom);
            out.writeLong(e.switchAt);
        }
        if (e.role.isMarker()) {
            keySerializer.serialize(e.routingKey.key, out);
        } else {
            valueSerializer.serialize(e.value, out);
        }
    }

    @Override
    public Envelope<T, K> deserialize(DataInputView in) throws IOException {
        int roleByte = in.readUnsignedByte();
        Role role = Role.ofByte(roleByte);
        int kg = in.readUnsignedShort();
        int epoch = readVarInt(in);
        int hash = in.readInt();
        long t0 = Long.MIN_VALUE;
        long t1 = Long.MIN_VALUE;
        if (role.carriesMigration()) {
            t0 = in.readLong();
            t1 = in.readLong();
        }
        if (role.isMarker()) {
            return new Envelope<>(RoutingKey.restore(keySerializer.deserialize(in), kg, epoch, hash), null, role, t0,
                    t1);
        }
        T value = valueSerializer.deserialize(in);
        return new Envelope<>(RoutingKey.restore(keyOf(value), kg, epoch, hash), value, role, t0, t1)
                .late(Role.lateIn(roleByte));
    }

    private K keyOf(T value) throws IOException {
        K key;
        try {
            key = keySelector.getKey(value);
        } catch (Exception e) {
            throw new IOException("the key selector failed on a record it had keyed before the exchange: " + e, e);
        }
        if (key == null) {
            throw new IOException("the key selector gave a null key for a record it had keyed before the exchange "
                    + "(a key selector must be deterministic)");
        }
        return key;
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        int b = in.readUnsignedByte();
        Role role = Role.ofByte(b);
        out.writeByte(b);
        out.writeShort(in.readUnsignedShort());
        writeVarInt(readVarInt(in), out);
        out.writeInt(in.readInt());
        if (role.carriesMigration()) {
            out.writeLong(in.readLong());
            out.writeLong(in.readLong());
        }
        if (role.isMarker()) {
            keySerializer.copy(in, out);
        } else {
            valueSerializer.copy(in, out);
        }
    }

    /** Writes {@code v} as an unsigned LEB128 varint (7 bits a byte, low bits first; 1 to 5 bytes). */
    static void writeVarInt(int v, DataOutputView out) throws IOException {
        while ((v & ~0x7F) != 0) {
            out.writeByte((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.writeByte(v);
    }

    /** Reads what {@link #writeVarInt} wrote. */
    static int readVarInt(DataInputView in) throws IOException {
        int v = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            int b = in.readUnsignedByte();
            v |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw new IOException("malformed envelope: an epoch varint longer than 5 bytes");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EnvelopeWireSerializer<?, ?> other && other.valueSerializer.equals(valueSerializer)
                && other.keySerializer.equals(keySerializer) && other.keySelector.equals(keySelector);
    }

    @Override
    public int hashCode() {
        return Objects.hash(valueSerializer, keySerializer, keySelector);
    }

    /**
     * Refused: this format is for the exchange only, and a stage whose keyed logic keeps envelopes in state uses
     * {@link EnvelopeSerializer}.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public TypeSerializerSnapshot<Envelope<T, K>> snapshotConfiguration() {
        throw new UnsupportedOperationException("keyshift's exchange format of envelopes is not for state: a stage "
                + "that keeps envelopes in state must use EnvelopeSerializer");
    }
}
