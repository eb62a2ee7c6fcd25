package io.keyshift.migration;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.CompositeTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.util.Objects;

/**
 * Serializer of {@link OwnedAccumulator}: roles (4 bytes), ownedFrom, ownedUntil, shadowFrom (8 each), then the
 * user's accumulator with its own serializer (a null flag byte first). Window state of keyshift's keyed stage; its
 * snapshot is versioned and nests the accumulator's snapshot.
 *
 * @param <ACC> the user's accumulator type
 */
public final class OwnedAccumulatorSerializer<ACC> extends TypeSerializer<OwnedAccumulator<ACC>> {
    private static final long serialVersionUID = 1L;
    private final TypeSerializer<ACC> accSerializer;

    public OwnedAccumulatorSerializer(TypeSerializer<ACC> accSerializer) {
        this.accSerializer = Objects.requireNonNull(accSerializer);
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TypeSerializer<OwnedAccumulator<ACC>> duplicate() {
        TypeSerializer<ACC> d = accSerializer.duplicate();
        return d == accSerializer ? this : new OwnedAccumulatorSerializer<>(d);
    }

    @Override
    public OwnedAccumulator<ACC> createInstance() {
        return new OwnedAccumulator<>(null, new Ownership());
    }

    @Override
    public OwnedAccumulator<ACC> copy(OwnedAccumulator<ACC> from) {
        Ownership o = new Ownership();
        o.merge(from.ownership);
        o.roles = from.ownership.roles;
        return new OwnedAccumulator<>(from.acc == null ? null : accSerializer.copy(from.acc), o);
    }

    @Override
    public OwnedAccumulator<ACC> copy(OwnedAccumulator<ACC> from, OwnedAccumulator<ACC> reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(OwnedAccumulator<ACC> v, DataOutputView out) throws IOException {
        out.writeInt(v.ownership.roles);
        out.writeLong(v.ownership.ownedFrom);
        out.writeLong(v.ownership.ownedUntil);
        out.writeLong(v.ownership.shadowFrom);
        out.writeBoolean(v.acc != null);
        if (v.acc != null) {
            accSerializer.serialize(v.acc, out);
        }
    }

    @Override
    public OwnedAccumulator<ACC> deserialize(DataInputView in) throws IOException {
        Ownership o = new Ownership();
        o.roles = in.readInt();
        o.ownedFrom = in.readLong();
        o.ownedUntil = in.readLong();
        o.shadowFrom = in.readLong();
        ACC acc = in.readBoolean() ? accSerializer.deserialize(in) : null;
        return new OwnedAccumulator<>(acc, o);
    }

    @Override
    public OwnedAccumulator<ACC> deserialize(OwnedAccumulator<ACC> reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        out.writeInt(in.readInt());
        out.writeLong(in.readLong());
        out.writeLong(in.readLong());
        out.writeLong(in.readLong());
        boolean present = in.readBoolean();
        out.writeBoolean(present);
        if (present) {
            accSerializer.copy(in, out);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OwnedAccumulatorSerializer<?> other && other.accSerializer.equals(accSerializer);
    }

    @Override
    public int hashCode() {
        return 17 * accSerializer.hashCode() + 3;
    }

    @Override
    public TypeSerializerSnapshot<OwnedAccumulator<ACC>> snapshotConfiguration() {
        return new Snapshot<>(this);
    }

    /** Versioned snapshot with the accumulator's snapshot nested. */
    public static final class Snapshot<ACC>
            extends CompositeTypeSerializerSnapshot<OwnedAccumulator<ACC>, OwnedAccumulatorSerializer<ACC>> {
        public Snapshot() {}

        Snapshot(OwnedAccumulatorSerializer<ACC> s) {
            super(s);
        }

        @Override
        protected int getCurrentOuterSnapshotVersion() {
            return 1;
        }

        @Override
        protected void readOuterSnapshot(int version, org.apache.flink.core.memory.DataInputView in, ClassLoader cl)
                throws java.io.IOException {
            io.keyshift.serde.OuterSnapshotFormat.require("accumulator", version, 1);
        }

        @Override
        protected TypeSerializer<?>[] getNestedSerializers(OwnedAccumulatorSerializer<ACC> outer) {
            return new TypeSerializer<?>[] {outer.accSerializer};
        }

        @Override
        @SuppressWarnings("unchecked")
        protected OwnedAccumulatorSerializer<ACC> createOuterSerializerWithNestedSerializers(TypeSerializer<?>[] n) {
            return new OwnedAccumulatorSerializer<>((TypeSerializer<ACC>) n[0]);
        }
    }

    /** Type information of {@link OwnedAccumulator}. */
    public static final class TypeInfo<ACC> extends TypeInformation<OwnedAccumulator<ACC>> {
        private static final long serialVersionUID = 1L;
        private final TypeInformation<ACC> accType;

        public TypeInfo(TypeInformation<ACC> accType) {
            this.accType = accType;
        }

        @Override
        public boolean isBasicType() {
            return false;
        }

        @Override
        public boolean isTupleType() {
            return false;
        }

        @Override
        public int getArity() {
            return 1;
        }

        @Override
        public int getTotalFields() {
            return 1;
        }

        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        public Class<OwnedAccumulator<ACC>> getTypeClass() {
            return (Class) OwnedAccumulator.class;
        }

        @Override
        public boolean isKeyType() {
            return false;
        }

        @Override
        public TypeSerializer<OwnedAccumulator<ACC>> createSerializer(SerializerConfig config) {
            return new OwnedAccumulatorSerializer<>(accType.createSerializer(config));
        }

        @Override
        public String toString() {
            return "OwnedAccumulator<" + accType + ">";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TypeInfo<?> other && other.accType.equals(accType);
        }

        @Override
        public int hashCode() {
            return accType.hashCode() * 31 + 7;
        }

        @Override
        public boolean canEqual(Object o) {
            return o instanceof TypeInfo;
        }
    }
}
