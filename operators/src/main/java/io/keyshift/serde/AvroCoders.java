package io.keyshift.serde;

import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecordBase;

/**
 * Avro readers and writers for keyshift's own record classes that use the code Avro generates for each class
 * ({@code customEncode} / {@code customDecode}) instead of walking the schema by reflection. The binary encoding is
 * the same; only the speed differs (Avro leaves generated coders off unless the JVM-wide system property
 * {@code org.apache.avro.specific.use_custom_coders} is set; keyshift turns them on for its own readers and writers
 * only, so a stock JVM needs no option and a user's Avro is untouched).
 */
public final class AvroCoders {
    /** One model per record class (its class loader's): the model caches schemas and classes. */
    private static final ClassValue<SpecificData> DATA = new ClassValue<>() {
        @Override
        protected SpecificData computeValue(Class<?> type) {
            SpecificData data = new SpecificData(type.getClassLoader());
            data.setCustomCoders(true);
            // Avro's "fast reader" builds its own readers and bypasses the generated decoder
            data.setFastReaderEnabled(false);
            return data;
        }
    };

    private AvroCoders() {}

    /** The schema of {@code type} these readers and writers use. */
    public static Schema schema(Class<? extends SpecificRecordBase> type) {
        return DATA.get(type).getSchema(type);
    }

    /** A writer of {@code type} with the generated encoder (not to be shared between threads). */
    public static <T extends SpecificRecordBase> SpecificDatumWriter<T> writer(Class<T> type) {
        SpecificData data = DATA.get(type);
        return new SpecificDatumWriter<>(data.getSchema(type), data);
    }

    /**
     * A reader of {@code type} from data written with {@code writer} (Avro's schema resolution; the generated decoder
     * resolves the fields), not to be shared between threads.
     */
    public static <T extends SpecificRecordBase> SpecificDatumReader<T> reader(Class<T> type, Schema writer) {
        SpecificData data = DATA.get(type);
        return new SpecificDatumReader<>(writer, data.getSchema(type), data);
    }

    /**
     * A reader of {@code type} (writer and reader schema its own) with the generated decoder (not to be shared
     * between threads).
     */
    public static <T extends SpecificRecordBase> SpecificDatumReader<T> reader(Class<T> type) {
        SpecificData data = DATA.get(type);
        Schema schema = data.getSchema(type);
        return new SpecificDatumReader<>(schema, schema, data);
    }
}
