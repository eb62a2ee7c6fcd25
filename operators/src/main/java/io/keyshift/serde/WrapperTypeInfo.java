package io.keyshift.serde;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Type information of a keyshift wrapper type ({@link io.keyshift.route.RoutingKey}, {@link io.keyshift.route.Envelope})
 * around user types: one field as far as Flink's type system is concerned, serialized by a keyshift serializer built
 * from the user types' own serializers.
 *
 * @param <X> the wrapper type
 */
abstract class WrapperTypeInfo<X> extends TypeInformation<X> {
    private static final long serialVersionUID = 1L;
    private final Class<X> type;
    private final List<TypeInformation<?>> nested;

    WrapperTypeInfo(Class<X> type, TypeInformation<?>... nested) {
        this.type = type;
        this.nested = List.copyOf(Arrays.asList(nested));
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
    public Class<X> getTypeClass() {
        return type;
    }

    @Override
    public abstract TypeSerializer<X> createSerializer(SerializerConfig config);

    @Override
    public String toString() {
        return type.getSimpleName() + nested;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WrapperTypeInfo<?> other && other.getClass() == getClass() && other.type == type
                && other.nested.equals(nested);
    }

    @Override
    public int hashCode() {
        return Objects.hash(getClass(), type, nested);
    }

    @Override
    public boolean canEqual(Object o) {
        return o != null && o.getClass() == getClass();
    }
}
