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

    /**
     * The bytes are the key of every keyed-state entry of a restored stage (RocksDB's key, the heap backend's
     * savepoint): key group, epoch and hash as big-endian ints, then the user key in its own serializer's form. A build
     * that reorders or widens them reads no state of a savepoint taken before it.
     */
    @Test
    void theSerializedFormIsPinned() throws IOException {
        RoutingKey<String> k = RoutingKey.of("user-7", 93, 4, TABLE);
        DataOutputSerializer out = new DataOutputSerializer(64);
        new RoutingKeySerializer<>(StringSerializer.INSTANCE).serialize(k, out);
        String hash = String.format("%08x", k.hash);
        // Flink's StringSerializer: the length + 1 as a variable-length int, then each ASCII char as a byte
        String expected = "0000005d" + "00000004" + hash + "07" + "757365722d37";
        assertThat(java.util.HexFormat.of().formatHex(out.getCopyOfBuffer())).isEqualTo(expected);
        // and bytes written by an earlier build read back as that key
        RoutingKey<String> read = new RoutingKeySerializer<>(StringSerializer.INSTANCE).deserialize(
                new DataInputDeserializer(java.util.HexFormat.of().parseHex(expected)));
        assertThat(read.key).isEqualTo("user-7");
        assertThat(read.keyGroup).isEqualTo(93);
        assertThat(read.epoch).isEqualTo(4);
        assertThat(read).isEqualTo(k).hasSameHashCodeAs(k);
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
