package io.keyshift.serde;

import io.keyshift.config.AvroTrust;

import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.formats.avro.typeutils.AvroSerializer;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;

/**
 * Flink's {@link AvroTypeInfo} for keyshift's Avro records on a stream a user consumes ({@code validation()},
 * {@code loads()}, {@code scalingDecisions()}), whose serializer trusts keyshift's Avro classes ({@link AvroTrust}) in
 * every JVM that loads it. Avro 1.12 reads only trusted classes, and a TaskManager that runs only a user's consumer of
 * such a stream (and the keyed stage) loads no keyshift operator, whose classes trust them otherwise: reading a record
 * there failed with Avro's {@code SecurityException}. Same encoding and serializer snapshot as {@link AvroSerializer}.
 *
 * @param <T> the Avro specific record type
 */
public final class TrustedAvroTypeInfo<T extends SpecificRecordBase> extends AvroTypeInfo<T> {
    private static final long serialVersionUID = 1L;

    public TrustedAvroTypeInfo(Class<T> type) {
        super(type);
    }

    @Override
    public TypeSerializer<T> createSerializer(SerializerConfig config) {
        return new TrustedAvroSerializer<>(getTypeClass());
    }

    /** {@link AvroSerializer} whose class, when loaded (with the job graph, on any TaskManager), trusts keyshift's. */
    public static final class TrustedAvroSerializer<T> extends AvroSerializer<T> {
        private static final long serialVersionUID = 1L;

        static {
            AvroTrust.install();
        }

        public TrustedAvroSerializer(Class<T> type) {
            super(type);
        }

        @Override
        public TypeSerializer<T> duplicate() {
            return new TrustedAvroSerializer<>(getType());
        }

        // AvroSerializer's equals accepts only its own class
        @Override
        public boolean equals(Object o) {
            return o instanceof TrustedAvroSerializer<?> other && other.getType() == getType();
        }

        @Override
        public int hashCode() {
            return getType().hashCode();
        }
    }
}
