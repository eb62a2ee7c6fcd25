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
 * <p>keyshift's own state keeps using {@link AvroTypeInfo}. A user's state built from these streams' type (a window
 * over {@code plans()}, an async wait's in-flight inputs) is written in this serializer's encoding, and its snapshot
 * ({@link Snapshot}: the class and the schema written) restores this serializer, reading older schemas by Avro's
 * schema resolution. Until 2026-12-06 the snapshot was Flink's Avro serializer's, which restored a serializer of
 * another byte format (fixed-width ints and longs): such state failed its restore on the heap backend (which reads
 * state with the restored serializer; RocksDB state of an unchanged schema is read with the new one, and still is). Not equal to an
 * {@link AvroTypeInfo} of the same class: a union with a stream of Flink's Avro type is refused, since each side
 * writes its own encoding.
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
        return new SharedAvroSerializer<>(getTypeClass(), null);
    }

    @Override
    public boolean canEqual(Object obj) {
        return obj instanceof SharedAvroTypeInfo;
    }

    @Override
    public boolean equals(Object obj) {
        // Flink's PojoTypeInfo asks the other side's canEqual: an AvroTypeInfo of the same class is not equal either way
        return obj instanceof SharedAvroTypeInfo<?> && super.equals(obj);
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + 1;
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
        /** The schema of the data read (JSON), or null for the class's own: a serializer restored from a snapshot. */
        private final String writerSchema;

        SharedAvroSerializer(Class<T> type, String writerSchema) {
            super(type);
            this.writerSchema = writerSchema;
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
                reader = writerSchema == null ? AvroCoders.reader(getType())
                        : AvroCoders.reader(getType(), new org.apache.avro.Schema.Parser().parse(writerSchema));
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
            return new SharedAvroSerializer<>(getType(), writerSchema);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SharedAvroSerializer<?> other && other.getType() == getType()
                    && java.util.Objects.equals(other.writerSchema, writerSchema);
        }

        @Override
        public int hashCode() {
            return 31 * SharedAvroSerializer.class.hashCode() + getType().hashCode();
        }

        @Override
        public org.apache.flink.api.common.typeutils.TypeSerializerSnapshot<T> snapshotConfiguration() {
            // what this serializer writes: the class's own schema (also where it was restored to read an older one,
            // as Flink's AvroSerializer does: state on RocksDB that a restored job checkpoints again before it first
            // registers it stays in the older schema under this snapshot, and a second restore misreads it; the heap
            // backend writes its objects out again in this one)
            return new Snapshot<>(getType(), AvroCoders.schema(getType()).toString());
        }
    }

    /**
     * The snapshot of {@link SharedAvroSerializer}: the record class and the schema its data was written with (the
     * class's current schema, also for a serializer restored to read an older one: RocksDB state not registered again
     * between a restore and the next checkpoint keeps the older schema's bytes under it, and is misread at the restore
     * after that; register such state in {@code open()}).
     * Restores a serializer of the same encoding that reads that schema into the class's current one (Avro's schema
     * resolution). Compatibility with a newer serializer: as is for the same schema; after migration for a schema
     * Avro can read the old data with; incompatible otherwise (another class, or a schema change Avro cannot
     * resolve). Against Flink's Avro snapshot (state of the builds of 2026-12-01 to 12-05, which wrote this
     * encoding under it) Flink's own answer, as those builds had it.
     */
    public static final class Snapshot<T extends SpecificRecordBase>
            implements org.apache.flink.api.common.typeutils.TypeSerializerSnapshot<T> {
        private static final int VERSION = 1;
        private Class<T> type;
        private String schema;

        /** For Flink's reflective restore. */
        public Snapshot() {}

        Snapshot(Class<T> type, String schema) {
            this.type = type;
            this.schema = schema;
        }

        @Override
        public int getCurrentVersion() {
            return VERSION;
        }

        @Override
        public void writeSnapshot(DataOutputView out) throws IOException {
            writeString(out, type.getName());
            writeString(out, schema);
        }

        private static void writeString(DataOutputView out, String s) throws IOException {
            // not writeUTF: a schema's JSON may be longer than its 64 KB
            byte[] bytes = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            out.writeInt(bytes.length);
            out.write(bytes);
        }

        private static String readString(DataInputView in) throws IOException {
            int n = in.readInt();
            if (n < 0) {
                throw new IOException("corrupt keyshift Avro serializer snapshot: a length of " + n);
            }
            byte[] bytes = new byte[n];
            in.readFully(bytes);
            return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        }

        @Override
        @SuppressWarnings("unchecked")
        public void readSnapshot(int readVersion, DataInputView in, ClassLoader userCodeClassLoader)
                throws IOException {
            if (readVersion != VERSION) {
                throw new IOException("unknown keyshift Avro serializer snapshot version " + readVersion);
            }
            String name = readString(in);
            try {
                type = (Class<T>) Class.forName(name, false, userCodeClassLoader);
            } catch (ClassNotFoundException e) {
                throw new IOException("the state's Avro record class " + name + " is not on the class path", e);
            }
            schema = readString(in);
        }

        @Override
        public TypeSerializer<T> restoreSerializer() {
            String current = AvroCoders.schema(type).toString();
            return new SharedAvroSerializer<>(type, schema.equals(current) ? null : schema);
        }

        @Override
        public org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility<T> resolveSchemaCompatibility(
                org.apache.flink.api.common.typeutils.TypeSerializerSnapshot<T> oldSnapshot) {
            if (oldSnapshot instanceof org.apache.flink.formats.avro.typeutils.AvroSerializerSnapshot<T>) {
                // the builds of 2026-12-01 to 12-05 wrote this serializer's encoding under Flink's Avro snapshot: as
                // Flink's check answered then (as is for the same schema, so that RocksDB state is read with this
                // serializer; a heap backend reads it eagerly with Flink's, and failed then too). State of the
                // builds before, in Flink's own encoding, cannot be told from it and is not read
                return new AvroSerializer<>(type).snapshotConfiguration().resolveSchemaCompatibility(oldSnapshot);
            }
            if (!(oldSnapshot instanceof Snapshot<T> old) || !old.type.getName().equals(type.getName())) {
                return org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility.incompatible();
            }
            if (old.schema.equals(schema)) {
                return org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility.compatibleAsIs();
            }
            org.apache.avro.Schema.Parser parser = new org.apache.avro.Schema.Parser();
            org.apache.avro.Schema reader = parser.parse(schema);
            org.apache.avro.Schema writer = new org.apache.avro.Schema.Parser().parse(old.schema);
            return org.apache.avro.SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getType()
                    == org.apache.avro.SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE
                    ? org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility.compatibleAfterMigration()
                    : org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility.incompatible();
        }
    }
}
