package io.keyshift.serde;

import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.runtime.DataInputViewStream;
import org.apache.flink.api.java.typeutils.runtime.DataOutputViewStream;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.formats.avro.typeutils.AvroSerializer;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;

import java.io.IOException;

/**
 * Type information for keyshift's control-path streams (forecasts, plans, the routers' load reports): Avro records,
 * serialized across an exchange in Avro's binary encoding (written and read with Avro's generated coders,
 * {@link AvroCoders}), but handed to <b>chained</b> consumers as the emitted instance itself rather than a deep copy.
 *
 * <p>Without object reuse ({@code pipeline.object-reuse: false}, Flink's default), Flink passes every record to each
 * chained consumer through {@link TypeSerializer#copy}; for a specific Avro record that is
 * {@code GenericData.deepCopy}, which walks the schema and boxes every array element. A window's forecast (every
 * tracked series, every horizon step, with intervals) copied once per consumer was the largest single cost of the
 * control path in a replay. These records are <b>read-only once emitted</b>: no keyshift operator changes a forecast
 * or plan it received or sent (the planner copies a forecast to stamp a forced parallelism on it), a router keeps no
 * reference to a report it sent (its one consumer, the profiler, may change it), and a user who consumes
 * {@code plans()} or {@code forecasts()} must not change one either (copy it first, as with Flink's object reuse).
 *
 * <p>Only for stream edges: keyed and operator state keep using {@link AvroTypeInfo}, whose serializer snapshot is
 * the one savepoints hold.
 *
 * @param <T> the Avro specific record type
 */
public final class SharedAvroTypeInfo<T extends SpecificRecordBase> extends AvroTypeInfo<T> {
    private static final long serialVersionUID = 1L;

    public SharedAvroTypeInfo(Class<T> type) {
        super(type);
    }

    @Override
    public TypeSerializer<T> createSerializer(SerializerConfig config) {
        return new SharedAvroSerializer<>(getTypeClass());
    }

    /**
     * {@link AvroSerializer} whose {@code copy} returns its argument, and which writes Avro's binary encoding with
     * Avro's generated coders ({@link AvroCoders}): these streams are never in a savepoint, and both ends of an edge use
     * this serializer. Only Avro's own encoder and decoder touch Avro types here: Flink loads its
     * {@code org.apache.flink.*} classes parent-first, so a {@code flink-avro} class on the parent's class path (a
     * client that submits the job jar, say) must not meet the job jar's Avro in one method.
     */
    static final class SharedAvroSerializer<T extends SpecificRecordBase> extends AvroSerializer<T> {
        private static final long serialVersionUID = 1L;

        static {
            // a TaskManager that runs only a user's consumer of plans() or forecasts() loads no keyshift operator:
            // loading this serializer (with the job graph) trusts keyshift's Avro classes there too
            io.keyshift.config.AvroTrust.install();
        }

        private transient SpecificDatumWriter<T> writer;
        private transient SpecificDatumReader<T> reader;
        private transient BinaryEncoder encoder;
        private transient BinaryDecoder decoder;

        SharedAvroSerializer(Class<T> type) {
            super(type);
        }

        @Override
        public void serialize(T value, DataOutputView target) throws IOException {
            if (writer == null) {
                writer = AvroCoders.writer(getType());
            }
            // direct: every byte goes to the view at once, nothing is buffered past this record
            encoder = EncoderFactory.get().directBinaryEncoder(new DataOutputViewStream(target), encoder);
            writer.write(value, encoder);
            encoder.flush();
        }

        @Override
        public T deserialize(DataInputView source) throws IOException {
            if (reader == null) {
                reader = AvroCoders.reader(getType());
            }
            // direct: reads no further than this record
            decoder = DecoderFactory.get().directBinaryDecoder(new DataInputViewStream(source), decoder);
            return reader.read(null, decoder);
        }

        @Override
        public T deserialize(T reuse, DataInputView source) throws IOException {
            return deserialize(source);
        }

        @Override
        public void copy(DataInputView source, DataOutputView target) throws IOException {
            serialize(deserialize(source), target);
        }

        @Override
        public T copy(T from) {
            return from;
        }

        @Override
        public T copy(T from, T reuse) {
            return from;
        }

        @Override
        public TypeSerializer<T> duplicate() {
            // the Avro reader and writer inside are not thread-safe: one instance per user, as AvroSerializer does
            return new SharedAvroSerializer<>(getType());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SharedAvroSerializer<?> other && other.getType() == getType();
        }

        @Override
        public int hashCode() {
            return 31 * SharedAvroSerializer.class.hashCode() + getType().hashCode();
        }
    }
}
