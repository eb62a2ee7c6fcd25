package io.keyshift.jobs.event;

import io.keyshift.jobs.event.Event;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

import java.io.IOException;

/** Serializer of {@link Event}: timestamp (8 bytes), key (Flink's string encoding), value (8), sequence (8). */
public final class EventSerializer extends RecordSerializer<Event> {
    private static final long serialVersionUID = 1L;
    public static final EventSerializer INSTANCE = new EventSerializer();

    @Override
    public Event createInstance() {
        return new Event();
    }

    @Override
    public Event copy(Event from) {
        return new Event(from.timestamp, from.key, from.value, from.sequence);
    }

    @Override
    public void serialize(Event e, DataOutputView out) throws IOException {
        out.writeLong(e.timestamp);
        StringValue.writeString(e.key, out);
        out.writeDouble(e.value);
        out.writeLong(e.sequence);
    }

    @Override
    public Event deserialize(DataInputView in) throws IOException {
        long t = in.readLong();
        String key = StringValue.readString(in);
        return new Event(t, key, in.readDouble(), in.readLong());
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        out.writeLong(in.readLong());
        StringValue.copyString(in, out);
        out.writeDouble(in.readDouble());
        out.writeLong(in.readLong());
    }

    @Override
    public TypeSerializerSnapshot<Event> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Versioned snapshot (savepoint compatibility). */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<Event> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }

    /** Type information for {@link Event}. */
    public static final class Factory extends org.apache.flink.api.common.typeinfo.TypeInfoFactory<Event> {
        @Override
        public org.apache.flink.api.common.typeinfo.TypeInformation<Event> createTypeInfo(java.lang.reflect.Type t,
                java.util.Map<String, org.apache.flink.api.common.typeinfo.TypeInformation<?>> params) {
            return new FixedTypeInfo<>(Event.class, INSTANCE, false);
        }
    }
}
