package io.keyshift.serde;

import io.keyshift.route.KeyGroupHashTable;
import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.IntSerializer;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The routing key's serialized form, part of every savepoint of a keyed stage behind keyshift: round trips for keys of
 * any type, a versioned snapshot (format 2) that restores, and a savepoint of format 1 that fails with a message
 * saying so.
 */
class RoutingKeySerializerTest {
    private static final int MAX_P = 128;
    private static final KeyGroupHashTable TABLE = KeyGroupHashTable.forMaxParallelism(MAX_P);

    private static <K> RoutingKey<K> roundTrip(TypeSerializer<RoutingKey<K>> s, RoutingKey<K> k) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        s.serialize(k, out);
        return s.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
    }

    @Test
    void keysOfAnyTypeSurviveWithTheirKeyGroupEpochAndHash() throws IOException {
        RoutingKey<String> s = roundTrip(new RoutingKeySerializer<>(StringSerializer.INSTANCE),
                RoutingKey.of("user-7", 93, 4, TABLE));
        assertThat(s.key).isEqualTo("user-7");
        assertThat(s.keyGroup).isEqualTo(93);
        assertThat(s.epoch).isEqualTo(4);
        assertThat(KeyGroupRangeAssignment.assignToKeyGroup(s, MAX_P)).isEqualTo(93);

        RoutingKey<Integer> i = roundTrip(new RoutingKeySerializer<>(IntSerializer.INSTANCE),
                RoutingKey.of(58, 12, 0, TABLE));
        assertThat(i.key).isEqualTo(58);
        assertThat(KeyGroupRangeAssignment.assignToKeyGroup(i, MAX_P)).isEqualTo(12);

        RoutingKey<Long> l = roundTrip(new RoutingKeySerializer<>(LongSerializer.INSTANCE),
                RoutingKey.of(-3L, 127, 9, TABLE));
        assertThat(l.key).isEqualTo(-3L);
        assertThat(l.epoch).isEqualTo(9);
        assertThat(KeyGroupRangeAssignment.assignToKeyGroup(l, MAX_P)).isEqualTo(127);
    }

    @Test
    void theSnapshotCarriesFormatTwoAndRestoresCompatibleAsIs() throws IOException {
        RoutingKeySerializer<Integer> serializer = new RoutingKeySerializer<>(IntSerializer.INSTANCE);
        TypeSerializerSnapshot<RoutingKey<Integer>> read = writeAndRead(serializer.snapshotConfiguration());
        assertThat(read).isInstanceOf(RoutingKeySerializer.SnapshotV2.class);
        assertThat(read.getCurrentVersion()).isPositive();
        assertThat(serializer.snapshotConfiguration().resolveSchemaCompatibility(read).isCompatibleAsIs()).isTrue();
        assertThat(read.restoreSerializer()).isEqualTo(serializer);
        // another key type is not compatible: the user changed the key
        RoutingKeySerializer<String> other = new RoutingKeySerializer<>(StringSerializer.INSTANCE);
        @SuppressWarnings({"unchecked", "rawtypes"})
        boolean incompatible = other.snapshotConfiguration().resolveSchemaCompatibility((TypeSerializerSnapshot) read)
                .isIncompatible();
        assertThat(incompatible).isTrue();
    }

    @Test
    @SuppressWarnings({"unchecked", "rawtypes"})
    void aSavepointOfTheFirstFormatFailsWithAMessageThatSaysSo() throws IOException {
        // what a savepoint of an earlier build (format 1) holds for the routing key: the first format's snapshot class
        TypeSerializerSnapshot legacy = writeAndRead(new RoutingKeySerializer.Snapshot());
        RoutingKeySerializer<String> current = new RoutingKeySerializer<>(StringSerializer.INSTANCE);
        // Flink asks the new serializer's snapshot whether it can read the old state, or restores the old serializer
        assertThatThrownBy(() -> current.snapshotConfiguration().resolveSchemaCompatibility(legacy))
                .hasMessage(RoutingKeySerializer.FORMAT_1_MESSAGE);
        assertThatThrownBy(legacy::restoreSerializer).hasMessage(RoutingKeySerializer.FORMAT_1_MESSAGE);
        assertThat(RoutingKeySerializer.FORMAT_1_MESSAGE).contains("format 1").contains("bootstrap");
    }

    @SuppressWarnings("unchecked")
    private static <T> TypeSerializerSnapshot<T> writeAndRead(TypeSerializerSnapshot<T> snapshot) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snapshot);
        return (TypeSerializerSnapshot<T>) TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()), RoutingKeySerializerTest.class.getClassLoader());
    }
}
