package io.keyshift.serde;

import io.keyshift.event.Event;
import io.keyshift.route.Envelope;
import io.keyshift.route.Role;
import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

import java.io.IOException;

/**
 * Serializer of {@link Envelope}: role (1 byte), key group (4), hash (4), then the event (timestamp, key, value,
 * sequence). The user key is written once: the routing key and the event share it.
 */
public final class EnvelopeSerializer extends RecordSerializer<Envelope> {
    private static final long serialVersionUID = 1L;
    public static final EnvelopeSerializer INSTANCE = new EnvelopeSerializer();
    private static final Role[] ROLES = Role.values();

    @Override
    public Envelope createInstance() {
        return new Envelope();
    }

    @Override
    public Envelope copy(Envelope from) {
        return new Envelope(RoutingKeySerializer.INSTANCE.copy(from.routingKey), EventSerializer.INSTANCE.copy(from.event),
                from.role);
    }

    @Override
    public void serialize(Envelope v, DataOutputView out) throws IOException {
        if (!v.routingKey.key.equals(v.event.key)) {
            throw new IOException("envelope's routing key " + v.routingKey + " is not its event's key " + v.event.key);
        }
        out.writeByte(v.role.ordinal());
        out.writeInt(v.routingKey.keyGroup);
        out.writeInt(v.routingKey.hash);
        out.writeLong(v.event.timestamp);
        StringValue.writeString(v.event.key, out);
        out.writeDouble(v.event.value);
        out.writeLong(v.event.sequence);
    }

    @Override
    public Envelope deserialize(DataInputView in) throws IOException {
        Role role = ROLES[in.readByte()];
        int kg = in.readInt();
        int hash = in.readInt();
        long t = in.readLong();
        String key = StringValue.readString(in);
        Event e = new Event(t, key, in.readDouble(), in.readLong());
        return new Envelope(RoutingKey.restore(key, kg, hash), e, role);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        out.writeByte(in.readByte());
        out.writeInt(in.readInt());
        out.writeInt(in.readInt());
        out.writeLong(in.readLong());
        StringValue.copyString(in, out);
        out.writeDouble(in.readDouble());
        out.writeLong(in.readLong());
    }

    @Override
    public TypeSerializerSnapshot<Envelope> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Versioned snapshot (savepoint compatibility). */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<Envelope> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }

    /** Type information for {@link Envelope}. */
    public static final class Factory extends org.apache.flink.api.common.typeinfo.TypeInfoFactory<Envelope> {
        @Override
        public org.apache.flink.api.common.typeinfo.TypeInformation<Envelope> createTypeInfo(java.lang.reflect.Type t,
                java.util.Map<String, org.apache.flink.api.common.typeinfo.TypeInformation<?>> params) {
            return new FixedTypeInfo<>(Envelope.class, INSTANCE, false);
        }
    }
}
