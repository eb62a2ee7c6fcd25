package io.keyshift.serde;

import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/**
 * Type information of {@link RoutingKey}{@code <K>}: a key type (its {@code hashCode} is the chosen key group's
 * preimage), serialized by {@link RoutingKeySerializer} with the user key's serializer.
 *
 * @param <K> the user key type; must itself be a valid key type
 */
public final class RoutingKeyTypeInfo<K> extends WrapperTypeInfo<RoutingKey<K>> {
    private static final long serialVersionUID = 1L;
    private final TypeInformation<K> keyType;

    @SuppressWarnings({"unchecked", "rawtypes"})
    public RoutingKeyTypeInfo(TypeInformation<K> keyType) {
        super((Class) RoutingKey.class, keyType);
        this.keyType = keyType;
    }

    public TypeInformation<K> keyType() {
        return keyType;
    }

    @Override
    public boolean isKeyType() {
        return true;
    }

    @Override
    public TypeSerializer<RoutingKey<K>> createSerializer(SerializerConfig config) {
        return new RoutingKeySerializer<>(keyType.createSerializer(config));
    }
}
