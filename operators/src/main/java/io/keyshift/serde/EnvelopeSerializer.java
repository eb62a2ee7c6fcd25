package io.keyshift.serde;

import io.keyshift.route.Envelope;
import io.keyshift.route.Role;
import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.typeutils.CompositeTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.util.Objects;

/**
 * Serializer of {@link Envelope}: role (1 byte, with Role.LATE_BIT for a late copy), key group (4), epoch (4), hash
 * (4), T0 and T1 (8 + 8, only for roles that carry a migration), the user key (the key's serializer), then the user's record (the record's serializer; absent for
 * markers). The user's serializers are used as they are, so {@code pipeline.generic-types: false} works for any
 * record type Flink can serialize without Kryo.
 *
 * @param <T> the user's record type
 * @param <K> the user's key type
 */
public final class EnvelopeSerializer<T, K> extends EnvelopeSerializerBase<T, K> {
    private static final long serialVersionUID = 1L;


    public EnvelopeSerializer(TypeSerializer<T> valueSerializer, TypeSerializer<K> keySerializer) {
        super(valueSerializer, keySerializer);
    }

    @Override
    public TypeSerializer<Envelope<T, K>> duplicate() {
        TypeSerializer<T> v = valueSerializer.duplicate();
        TypeSerializer<K> k = keySerializer.duplicate();
        return v == valueSerializer && k == keySerializer ? this : new EnvelopeSerializer<>(v, k);
    }

    @Override
    public void serialize(Envelope<T, K> e, DataOutputView out) throws IOException {
        out.writeByte(Role.toByte(e.role, e.late));
        out.writeInt(e.routingKey.keyGroup);
        out.writeInt(e.routingKey.epoch);
        out.writeInt(e.routingKey.hash);
        if (e.role.carriesMigration()) {
            out.writeLong(e.shadowFrom);
            out.writeLong(e.switchAt);
        }
        keySerializer.serialize(e.routingKey.key, out);
        if (!e.role.isMarker()) {
            valueSerializer.serialize(e.value, out);
        }
    }

    @Override
    public Envelope<T, K> deserialize(DataInputView in) throws IOException {
        int roleByte = in.readUnsignedByte();
        Role role = Role.ofByte(roleByte);
        int kg = in.readInt();
        int epoch = in.readInt();
        int hash = in.readInt();
        long t0 = Long.MIN_VALUE;
        long t1 = Long.MIN_VALUE;
        if (role.carriesMigration()) {
            t0 = in.readLong();
            t1 = in.readLong();
        }
        K key = keySerializer.deserialize(in);
        T value = role.isMarker() ? null : valueSerializer.deserialize(in);
        return new Envelope<>(RoutingKey.restore(key, kg, epoch, hash), value, role, t0, t1)
                .late(Role.lateIn(roleByte));
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        int b = in.readUnsignedByte();
        Role role = Role.ofByte(b);
        out.writeByte(b);
        out.writeInt(in.readInt());
        out.writeInt(in.readInt());
        out.writeInt(in.readInt());
        if (role.carriesMigration()) {
            out.writeLong(in.readLong());
            out.writeLong(in.readLong());
        }
        keySerializer.copy(in, out);
        if (!role.isMarker()) {
            valueSerializer.copy(in, out);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EnvelopeSerializer<?, ?> other && other.valueSerializer.equals(valueSerializer)
                && other.keySerializer.equals(keySerializer);
    }

    @Override
    public int hashCode() {
        return Objects.hash(valueSerializer, keySerializer);
    }

    @Override
    public TypeSerializerSnapshot<Envelope<T, K>> snapshotConfiguration() {
        return new Snapshot<>(this);
    }

    /** Snapshot: envelope format version 2 (format 1 read as it is) and the record's and key's serializer snapshots. */
    public static final class Snapshot<T, K> extends CompositeTypeSerializerSnapshot<Envelope<T, K>, EnvelopeSerializer<T, K>> {
        public Snapshot() {}

        Snapshot(EnvelopeSerializer<T, K> serializer) {
            super(serializer);
        }

        @Override
        protected int getCurrentOuterSnapshotVersion() {
            // 2: a role byte may carry Role.LATE_BIT (2026-12-06); format 1 never does, and reads as it is
            return 2;
        }

        @Override
        protected void readOuterSnapshot(int version, org.apache.flink.core.memory.DataInputView in, ClassLoader cl)
                throws java.io.IOException {
            if (version != 1) {
                // a build from 2026-12-05 on that knows only format 1 refuses a savepoint of this one by its version;
                // the builds of 2026-11-29 to 12-05 took any version and failed at its first late copy ("unknown
                // keyshift envelope role")
                OuterSnapshotFormat.require("window-contents (envelope)", version, 2);
            }
        }

        @Override
        protected TypeSerializer<?>[] getNestedSerializers(EnvelopeSerializer<T, K> outer) {
            return new TypeSerializer<?>[] {outer.valueSerializer, outer.keySerializer};
        }

        @Override
        @SuppressWarnings("unchecked")
        protected EnvelopeSerializer<T, K> createOuterSerializerWithNestedSerializers(TypeSerializer<?>[] nested) {
            return new EnvelopeSerializer<>((TypeSerializer<T>) nested[0], (TypeSerializer<K>) nested[1]);
        }
    }
}
