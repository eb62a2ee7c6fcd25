package io.keyshift.jobs.event;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

import java.util.Objects;

/**
 * Type information for a keyshift record class with a hand-written serializer (no reflection on the per-record path,
 * unlike Flink's PojoSerializer). Atomic: one field as far as Flink's type system is concerned; a key type when
 * {@code keyType} (the class's own equals/hashCode then define keys, as for RoutingKey).
 *
 * @param <T> the record class
 */
public final class FixedTypeInfo<T> extends TypeInformation<T> {
    private static final long serialVersionUID = 1L;
    private final Class<T> type;
    private final TypeSerializer<T> serializer;
    private final boolean keyType;

    public FixedTypeInfo(Class<T> type, TypeSerializer<T> serializer, boolean keyType) {
        this.type = type;
        this.serializer = serializer;
        this.keyType = keyType;
    }

    @Override
    public boolean isBasicType() {
        return false;
    }

    @Override
    public boolean isTupleType() {
        return false;
    }

    @Override
    public int getArity() {
        return 1;
    }

    @Override
    public int getTotalFields() {
        return 1;
    }

    @Override
    public Class<T> getTypeClass() {
        return type;
    }

    @Override
    public boolean isKeyType() {
        return keyType;
    }

    @Override
    public TypeSerializer<T> createSerializer(SerializerConfig config) {
        return serializer;
    }

    @Override
    public String toString() {
        return type.getSimpleName() + "(keyshift serializer)";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FixedTypeInfo<?> other && other.type == type && other.keyType == keyType;
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, keyType);
    }

    @Override
    public boolean canEqual(Object o) {
        return o instanceof FixedTypeInfo;
    }
}
