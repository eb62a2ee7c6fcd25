package io.keyshift.migration;

import io.keyshift.route.Envelope;
import io.keyshift.route.KeyGroupHashTable;
import io.keyshift.route.Role;
import io.keyshift.route.RoutingKey;
import io.keyshift.serde.EnvelopeSerializer;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The serialized forms of keyshift's window state, part of every savepoint of a stage behind it: the window
 * contents of {@code process(ProcessWindowFunction)} (envelopes) and the accumulators of {@code aggregate} and
 * {@code reduce} (owned accumulators). The bytes are pinned (a build that reorders or widens a field reads no state of
 * a savepoint taken before it), and each snapshot restores its serializer and tells a changed user type apart.
 */
class StateSerializerFormatTest {
    private static final KeyGroupHashTable TABLE = KeyGroupHashTable.forMaxParallelism(128);

    private static <T> String hex(TypeSerializer<T> s, T value) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        s.serialize(value, out);
        return HexFormat.of().formatHex(out.getCopyOfBuffer());
    }

    private static <T> T read(TypeSerializer<T> s, String hex) throws IOException {
        return s.deserialize(new DataInputDeserializer(HexFormat.of().parseHex(hex)));
    }

    @SuppressWarnings("unchecked")
    private static <T> TypeSerializerSnapshot<T> writeAndRead(TypeSerializerSnapshot<T> snapshot) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snapshot);
        return (TypeSerializerSnapshot<T>) TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()), StateSerializerFormatTest.class.getClassLoader());
    }

    @Test
    void anEnvelopesBytesArePinned() throws IOException {
        EnvelopeSerializer<String, String> s = new EnvelopeSerializer<>(StringSerializer.INSTANCE,
                StringSerializer.INSTANCE);
        RoutingKey<String> k = RoutingKey.of("k", 93, 4, TABLE);
        String hash = String.format("%08x", k.hash);
        // role (one byte, the ordinal), key group, epoch, hash, the key, the record: a primary carries no T0 / T1
        String primary = "00" + "0000005d" + "00000004" + hash + "02" + "6b" + "03" + "7631";
        assertThat(hex(s, Envelope.of(k, "v1", Role.PRIMARY))).isEqualTo(primary);
        // a shadow copy carries T0 and T1 (big-endian longs) after the hash
        String shadow = "02" + "0000005d" + "00000004" + hash + "00000000000003e8" + "00000000000007d0" + "02" + "6b"
                + "03" + "7631";
        assertThat(hex(s, new Envelope<>(k, "v1", Role.SHADOW, 1000, 2000))).isEqualTo(shadow);
        Envelope<String, String> back = read(s, shadow);
        assertThat(back.role).isEqualTo(Role.SHADOW);
        assertThat(back.routingKey).isEqualTo(k);
        assertThat(back.value).isEqualTo("v1");
        assertThat(back.shadowFrom).isEqualTo(1000);
        assertThat(back.switchAt).isEqualTo(2000);
        // a marker carries no record
        assertThat(read(s, "04" + "0000005d" + "00000004" + hash + "00000000000003e8" + "00000000000007d0" + "02"
                + "6b").value).isNull();
    }

    @Test
    void anOwnedAccumulatorsBytesArePinned() throws IOException {
        OwnedAccumulatorSerializer<Long> s = new OwnedAccumulatorSerializer<>(LongSerializer.INSTANCE);
        Ownership o = new Ownership();
        o.roles = Ownership.MIGRATING | Ownership.PRIMARY;
        o.ownedUntil = 2000;
        o.shadowFrom = 1000;
        // roles (int), ownedFrom, ownedUntil, shadowFrom (longs), a presence byte, the user's accumulator
        String expected = "00000003" + "8000000000000000" + "00000000000007d0" + "00000000000003e8" + "01"
                + "000000000000002a";
        assertThat(hex(s, new OwnedAccumulator<>(42L, o))).isEqualTo(expected);
        OwnedAccumulator<Long> back = read(s, expected);
        assertThat(back.acc).isEqualTo(42L);
        assertThat(back.ownership.roles).isEqualTo(3);
        assertThat(back.ownership.ownedFrom).isEqualTo(Long.MIN_VALUE);
        assertThat(back.ownership.ownedUntil).isEqualTo(2000);
        assertThat(back.ownership.shadowFrom).isEqualTo(1000);
        // an accumulator not yet made (null)
        assertThat(read(s, "00000001" + "8000000000000000" + "7fffffffffffffff" + "8000000000000000" + "00").acc)
                .isNull();
    }

    @Test
    void theSnapshotsRestoreTheirSerializersAndRefuseAChangedUserType() throws IOException {
        EnvelopeSerializer<String, String> envelopes = new EnvelopeSerializer<>(StringSerializer.INSTANCE,
                StringSerializer.INSTANCE);
        TypeSerializerSnapshot<Envelope<String, String>> e = writeAndRead(envelopes.snapshotConfiguration());
        assertThat(e).isInstanceOf(EnvelopeSerializer.Snapshot.class);
        assertThat(envelopes.snapshotConfiguration().resolveSchemaCompatibility(e).isCompatibleAsIs()).isTrue();
        assertThat(e.restoreSerializer()).isEqualTo(envelopes);
        // the user's record type changed (String to Long): incompatible, not read as garbage
        EnvelopeSerializer<Long, String> otherRecords = new EnvelopeSerializer<>(LongSerializer.INSTANCE,
                StringSerializer.INSTANCE);
        @SuppressWarnings({"unchecked", "rawtypes"})
        boolean recordsIncompatible = otherRecords.snapshotConfiguration()
                .resolveSchemaCompatibility((TypeSerializerSnapshot) e).isIncompatible();
        assertThat(recordsIncompatible).isTrue();

        OwnedAccumulatorSerializer<Long> accumulators = new OwnedAccumulatorSerializer<>(LongSerializer.INSTANCE);
        TypeSerializerSnapshot<OwnedAccumulator<Long>> a = writeAndRead(accumulators.snapshotConfiguration());
        assertThat(a).isInstanceOf(OwnedAccumulatorSerializer.Snapshot.class);
        assertThat(accumulators.snapshotConfiguration().resolveSchemaCompatibility(a).isCompatibleAsIs()).isTrue();
        assertThat(a.restoreSerializer()).isEqualTo(accumulators);
        OwnedAccumulatorSerializer<String> otherAcc = new OwnedAccumulatorSerializer<>(StringSerializer.INSTANCE);
        @SuppressWarnings({"unchecked", "rawtypes"})
        boolean accIncompatible = otherAcc.snapshotConfiguration()
                .resolveSchemaCompatibility((TypeSerializerSnapshot) a).isIncompatible();
        assertThat(accIncompatible).isTrue();
    }
}
