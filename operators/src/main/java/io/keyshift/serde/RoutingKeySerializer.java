package io.keyshift.serde;

import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.typeutils.CompositeTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.util.Objects;

/**
 * Serializer of {@link RoutingKey}: key group (4 bytes), epoch (4 bytes), hash (4 bytes), then the user key with the
 * key's own serializer. This is the key serializer of every keyed stage behind keyshift's router, so its format is part of
 * every savepoint: its snapshot ({@link SnapshotV2}) records <b>format version {@value #FORMAT_VERSION}</b> and the
 * key's serializer snapshot. A savepoint written by an earlier keyshift build (format 1: String keys only, snapshot class
 * {@link RoutingKeySerializer.Snapshot}) fails to restore with {@link #FORMAT_1_MESSAGE}.
 *
 * @param <K> the user key type
 */
public final class RoutingKeySerializer<K> extends TypeSerializer<RoutingKey<K>> {
    private static final long serialVersionUID = 2L;

    /** Version of the routing key's serialized form (outer snapshot version). */
    public static final int FORMAT_VERSION = 2;

    /** Why a savepoint of the first routing-key format cannot be restored. */
    public static final String FORMAT_1_MESSAGE = "this savepoint holds keyed state of an earlier keyshift build "
            + "(routing-key format 1: String keys, built-in window count only); this keyshift writes routing-key "
            + "format 2 and cannot restore it. Start the job without the savepoint (its forecaster can be warmed up "
            + "with bin/keyshift bootstrap), or finish the old job with the build that started it.";

    private final TypeSerializer<K> keySerializer;

    public RoutingKeySerializer(TypeSerializer<K> keySerializer) {
        this.keySerializer = Objects.requireNonNull(keySerializer);
    }

    public TypeSerializer<K> keySerializer() {
        return keySerializer;
    }

    @Override
    public boolean isImmutableType() {
        return keySerializer.isImmutableType();
    }

    @Override
    public TypeSerializer<RoutingKey<K>> duplicate() {
        TypeSerializer<K> d = keySerializer.duplicate();
        return d == keySerializer ? this : new RoutingKeySerializer<>(d);
    }

    @Override
    public RoutingKey<K> createInstance() {
        return null;
    }

    @Override
    public RoutingKey<K> copy(RoutingKey<K> from) {
        // the instance itself for an immutable key type: only the router changes a routing key, the one it reuses for
        // records that go straight into the keyed network exchange (never through a chained copy)
        return keySerializer.isImmutableType() ? from
                : RoutingKey.restore(keySerializer.copy(from.key), from.keyGroup, from.epoch, from.hash);
    }

    @Override
    public RoutingKey<K> copy(RoutingKey<K> from, RoutingKey<K> reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(RoutingKey<K> k, DataOutputView out) throws IOException {
        out.writeInt(k.keyGroup);
        out.writeInt(k.epoch);
        out.writeInt(k.hash);
        keySerializer.serialize(k.key, out);
    }

    @Override
    public RoutingKey<K> deserialize(DataInputView in) throws IOException {
        int kg = in.readInt();
        int epoch = in.readInt();
        int hash = in.readInt();
        return RoutingKey.restore(keySerializer.deserialize(in), kg, epoch, hash);
    }

    @Override
    public RoutingKey<K> deserialize(RoutingKey<K> reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        out.writeInt(in.readInt());
        out.writeInt(in.readInt());
        out.writeInt(in.readInt());
        keySerializer.copy(in, out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RoutingKeySerializer<?> other && other.keySerializer.equals(keySerializer);
    }

    @Override
    public int hashCode() {
        return 31 * RoutingKeySerializer.class.hashCode() + keySerializer.hashCode();
    }

    @Override
    public TypeSerializerSnapshot<RoutingKey<K>> snapshotConfiguration() {
        return new SnapshotV2<>(this);
    }

    /** Snapshot of routing-key format 2: the format version and the user key's serializer snapshot. */
    public static final class SnapshotV2<K> extends CompositeTypeSerializerSnapshot<RoutingKey<K>, RoutingKeySerializer<K>> {
        /** For reading. */
        public SnapshotV2() {}

        SnapshotV2(RoutingKeySerializer<K> serializer) {
            super(serializer);
        }

        @Override
        protected int getCurrentOuterSnapshotVersion() {
            return FORMAT_VERSION;
        }

        @Override
        protected void readOuterSnapshot(int version, DataInputView in, ClassLoader cl) throws IOException {
            OuterSnapshotFormat.require("routing-key", version, FORMAT_VERSION);
        }

        @Override
        public TypeSerializerSchemaCompatibility<RoutingKey<K>> resolveSchemaCompatibility(
                TypeSerializerSnapshot<RoutingKey<K>> old) {
            if (old instanceof Snapshot) {
                throw new IllegalStateException(FORMAT_1_MESSAGE);
            }
            return super.resolveSchemaCompatibility(old);
        }

        @Override
        protected TypeSerializer<?>[] getNestedSerializers(RoutingKeySerializer<K> outer) {
            return new TypeSerializer<?>[] {outer.keySerializer};
        }

        @Override
        @SuppressWarnings("unchecked")
        protected RoutingKeySerializer<K> createOuterSerializerWithNestedSerializers(TypeSerializer<?>[] nested) {
            return new RoutingKeySerializer<>((TypeSerializer<K>) nested[0]);
        }
    }

    /**
     * The snapshot class of routing-key format 1 (an earlier keyshift build), kept under its old name only so that restoring such
     * a savepoint fails with {@link #FORMAT_1_MESSAGE} instead of a class-not-found error. It reads what format 1 wrote
     * (nothing beyond its version) and refuses to restore.
     */
    @SuppressWarnings("rawtypes")
    public static final class Snapshot implements TypeSerializerSnapshot {
        public Snapshot() {}

        @Override
        public int getCurrentVersion() {
            return 3;
        }

        @Override
        public void writeSnapshot(DataOutputView out) {
            // format 1 wrote nothing besides the class name and version
        }

        @Override
        public void readSnapshot(int readVersion, DataInputView in, ClassLoader userCodeClassLoader) {
            // nothing to read
        }

        @Override
        public TypeSerializer restoreSerializer() {
            throw new IllegalStateException(FORMAT_1_MESSAGE);
        }

        @Override
        public TypeSerializerSchemaCompatibility resolveSchemaCompatibility(TypeSerializerSnapshot oldSnapshot) {
            throw new IllegalStateException(FORMAT_1_MESSAGE);
        }
    }
}
