package io.keyshift.serde;

import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

import java.io.IOException;

/** Serializer of {@link RoutingKey}: key group (4 bytes), hash (4), key (Flink's string encoding). */
public final class RoutingKeySerializer extends RecordSerializer<RoutingKey> {
    private static final long serialVersionUID = 1L;
    public static final RoutingKeySerializer INSTANCE = new RoutingKeySerializer();

    @Override
    public RoutingKey createInstance() {
        return new RoutingKey();
    }

    @Override
    public RoutingKey copy(RoutingKey from) {
        return RoutingKey.restore(from.key, from.keyGroup, from.hash);
    }

    @Override
    public void serialize(RoutingKey k, DataOutputView out) throws IOException {
        out.writeInt(k.keyGroup);
        out.writeInt(k.hash);
        StringValue.writeString(k.key, out);
    }

    @Override
    public RoutingKey deserialize(DataInputView in) throws IOException {
        int kg = in.readInt();
        int hash = in.readInt();
        return RoutingKey.restore(StringValue.readString(in), kg, hash);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        out.writeInt(in.readInt());
        out.writeInt(in.readInt());
        StringValue.copyString(in, out);
    }

    @Override
    public TypeSerializerSnapshot<RoutingKey> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Versioned snapshot (savepoint compatibility). */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<RoutingKey> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }

    /** Type information for {@link RoutingKey} (a key type: its hashCode is the key group's preimage). */
    public static final class Factory extends org.apache.flink.api.common.typeinfo.TypeInfoFactory<RoutingKey> {
        @Override
        public org.apache.flink.api.common.typeinfo.TypeInformation<RoutingKey> createTypeInfo(java.lang.reflect.Type t,
                java.util.Map<String, org.apache.flink.api.common.typeinfo.TypeInformation<?>> params) {
            return new FixedTypeInfo<>(RoutingKey.class, INSTANCE, true);
        }
    }
}
