package io.keyshift.serde;

import io.keyshift.route.Envelope;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/**
 * Type information of {@link Envelope}{@code <T, K>}, serialized by {@link EnvelopeSerializer} with the user's
 * record and key serializers.
 *
 * @param <T> the user's record type
 * @param <K> the user's key type
 */
public final class EnvelopeTypeInfo<T, K> extends WrapperTypeInfo<Envelope<T, K>> {
    private static final long serialVersionUID = 1L;
    private final TypeInformation<T> valueType;
    private final TypeInformation<K> keyType;

    @SuppressWarnings({"unchecked", "rawtypes"})
    public EnvelopeTypeInfo(TypeInformation<T> valueType, TypeInformation<K> keyType) {
        super((Class) Envelope.class, valueType, keyType);
        this.valueType = valueType;
        this.keyType = keyType;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<Envelope<T, K>> createSerializer(SerializerConfig config) {
        return new EnvelopeSerializer<>(valueType.createSerializer(config), keyType.createSerializer(config));
    }
}
