package io.keyshift.serde;

import io.keyshift.route.Envelope;
import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputView;

import java.io.IOException;
import java.util.Objects;

/**
 * What the envelope's serializers share, whatever their format: the user's record and key serializers, copies (a fresh
 * envelope, routing key, key and record; envelopes are never reused on reading) and a variable length.
 *
 * @param <T> the user's record type
 * @param <K> the user's key type
 */
abstract class EnvelopeSerializerBase<T, K> extends TypeSerializer<Envelope<T, K>> {
    private static final long serialVersionUID = 1L;

    final TypeSerializer<T> valueSerializer;
    final TypeSerializer<K> keySerializer;

    EnvelopeSerializerBase(TypeSerializer<T> valueSerializer, TypeSerializer<K> keySerializer) {
        this.valueSerializer = Objects.requireNonNull(valueSerializer);
        this.keySerializer = Objects.requireNonNull(keySerializer);
    }

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public Envelope<T, K> createInstance() {
        return null;
    }

    @Override
    public Envelope<T, K> copy(Envelope<T, K> e) {
        RoutingKey<K> rk = RoutingKey.restore(keySerializer.copy(e.routingKey.key), e.routingKey.keyGroup,
                e.routingKey.epoch, e.routingKey.hash);
        return new Envelope<>(rk, e.value == null ? null : valueSerializer.copy(e.value), e.role, e.shadowFrom,
                e.switchAt).late(e.late);
    }

    @Override
    public Envelope<T, K> copy(Envelope<T, K> from, Envelope<T, K> reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public Envelope<T, K> deserialize(Envelope<T, K> reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }
}
