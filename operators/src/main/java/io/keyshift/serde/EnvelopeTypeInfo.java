package io.keyshift.serde;

import io.keyshift.route.Envelope;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.functions.KeySelector;

/**
 * Type information of {@link Envelope}{@code <T, K>}, serialized with the user's record and key serializers: by
 * {@link EnvelopeSerializer} (every envelope with its key; the format of envelopes in state), or, given the user's key
 * selector, by {@link EnvelopeWireSerializer} (a record's key is taken from the record; for a stream whose envelopes
 * no operator keeps in state).
 *
 * @param <T> the user's record type
 * @param <K> the user's key type
 */
public final class EnvelopeTypeInfo<T, K> extends WrapperTypeInfo<Envelope<T, K>> {
    private static final long serialVersionUID = 1L;
    private final TypeInformation<T> valueType;
    private final TypeInformation<K> keyType;
    /** Null: envelopes with their key ({@link EnvelopeSerializer}). */
    private final KeySelector<T, K> keyFromRecord;

    /** Envelopes serialized with their key, by {@link EnvelopeSerializer}. */
    public EnvelopeTypeInfo(TypeInformation<T> valueType, TypeInformation<K> keyType) {
        this(valueType, keyType, null);
    }

    /**
     * Envelopes serialized by {@link EnvelopeWireSerializer}, a record's key taken from the record by
     * {@code keyFromRecord} (the key selector the router keyed it by), or with their key where it is null.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public EnvelopeTypeInfo(TypeInformation<T> valueType, TypeInformation<K> keyType, KeySelector<T, K> keyFromRecord) {
        super((Class) Envelope.class, valueType, keyType);
        this.valueType = valueType;
        this.keyType = keyType;
        this.keyFromRecord = keyFromRecord;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<Envelope<T, K>> createSerializer(SerializerConfig config) {
        return keyFromRecord == null
                ? new EnvelopeSerializer<>(valueType.createSerializer(config), keyType.createSerializer(config))
                : new EnvelopeWireSerializer<>(valueType.createSerializer(config), keyType.createSerializer(config),
                        keyFromRecord);
    }

    @Override
    public boolean equals(Object o) {
        return super.equals(o) && java.util.Objects.equals(((EnvelopeTypeInfo<?, ?>) o).keyFromRecord, keyFromRecord);
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + java.util.Objects.hashCode(keyFromRecord);
    }
}
