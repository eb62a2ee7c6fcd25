package io.keyshift.serde;

import io.keyshift.route.Envelope;
import io.keyshift.route.KeyGroupHashTable;
import io.keyshift.route.Role;
import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import java.util.List;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.typeutils.TupleTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The router → keyed stage exchange format: every role survives with its routing key (the key taken from the record
 * for roles that carry one, written for markers), key groups and epochs at their bounds, shorter than the state format
 * by the key and 5 bytes (an epoch below 128), the raw copy gives the same bytes, and no snapshot of it can reach a savepoint.
 */
class EnvelopeWireSerializerTest {
    private static final KeyGroupHashTable TABLE = KeyGroupHashTable.forMaxParallelism(32768);
    private static final KeySelector<Tuple2<String, Long>, String> KEY = r -> r.f0;
    private static final TupleTypeInfo<Tuple2<String, Long>> RECORD = new TupleTypeInfo<>(Types.STRING, Types.LONG);

    private static TypeSerializer<Envelope<Tuple2<String, Long>, String>> wire() {
        return new EnvelopeTypeInfo<>(RECORD, Types.STRING, KEY).createSerializer(new SerializerConfigImpl());
    }

    private static byte[] bytes(TypeSerializer<Envelope<Tuple2<String, Long>, String>> s,
                                Envelope<Tuple2<String, Long>, String> e) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        s.serialize(e, out);
        return out.getCopyOfBuffer();
    }

    @Test
    void everyRoleSurvivesWithItsRoutingKeyAndTheRecordsKeyIsTheRecordsOwn() throws IOException {
        TypeSerializer<Envelope<Tuple2<String, Long>, String>> s = wire();
        assertThat(s).isInstanceOf(EnvelopeWireSerializer.class);
        int[][] groupsAndEpochs = {{0, 0}, {127, 127}, {128, 128}, {32767, 16384}, {5, Integer.MAX_VALUE}, {9, -1}};
        for (Role role : Role.values()) {
            for (int[] ge : groupsAndEpochs) {
                RoutingKey<String> rk = RoutingKey.of("station-" + ge[0], ge[0], ge[1], TABLE);
                Tuple2<String, Long> record = role.isMarker() ? null : Tuple2.of("station-" + ge[0], 42L + ge[0]);
                Envelope<Tuple2<String, Long>, String> e = new Envelope<>(rk, record, role,
                        role.carriesMigration() ? 1_000L : Long.MIN_VALUE,
                        role.carriesMigration() ? 2_000L : Long.MIN_VALUE);
                byte[] b = bytes(s, e);
                DataInputDeserializer in = new DataInputDeserializer(b);
                Envelope<Tuple2<String, Long>, String> back = s.deserialize(in);
                assertThat(in.available()).as("%s %s: every byte read", role, ge[0]).isZero();
                assertThat(back.role).isEqualTo(role);
                assertThat(back.routingKey).isEqualTo(rk);
                assertThat(back.routingKey.hash).isEqualTo(rk.hash);
                assertThat(back.value).isEqualTo(record);
                assertThat(back.shadowFrom).isEqualTo(e.shadowFrom);
                assertThat(back.switchAt).isEqualTo(e.switchAt);
                if (!role.isMarker()) {
                    assertThat(back.routingKey.key).isSameAs(back.value.f0);
                }
                DataOutputSerializer copied = new DataOutputSerializer(64);
                s.copy(new DataInputDeserializer(b), copied);
                assertThat(copied.getCopyOfBuffer()).isEqualTo(b);
            }
        }
    }

    /**
     * A shadow phase's copy of a record late at its router keeps its mark across the exchange and in the window
     * state (the role byte's high bit), and through a copy of its bytes; an unmarked one stays unmarked.
     */
    @Test
    void aLateCopysMarkSurvivesTheExchangeAndTheState() throws IOException {
        TypeSerializer<Envelope<Tuple2<String, Long>, String>> state =
                new EnvelopeTypeInfo<>(RECORD, Types.STRING).createSerializer(new SerializerConfigImpl());
        for (TypeSerializer<Envelope<Tuple2<String, Long>, String>> s : List.of(wire(), state)) {
            for (Role role : List.of(Role.MIGRATING, Role.SHADOW, Role.PRIMARY)) {
                for (boolean late : new boolean[] {true, false}) {
                    Envelope<Tuple2<String, Long>, String> e = new Envelope<>(RoutingKey.of("k", 9, 2, TABLE),
                            Tuple2.of("k", 1L), role, 1_000L, 2_000L).late(late);
                    byte[] b = bytes(s, e);
                    Envelope<Tuple2<String, Long>, String> back = s.deserialize(new DataInputDeserializer(b));
                    assertThat(back.role).as("%s %s %s", s.getClass().getSimpleName(), role, late).isEqualTo(role);
                    assertThat(back.late).as("%s %s %s", s.getClass().getSimpleName(), role, late).isEqualTo(late);
                    assertThat(s.copy(back).late).isEqualTo(late);
                    DataOutputSerializer copied = new DataOutputSerializer(64);
                    s.copy(new DataInputDeserializer(b), copied);
                    assertThat(copied.getCopyOfBuffer()).isEqualTo(b);
                }
            }
        }
    }

    @Test
    void aRecordCrossesWithoutItsKeyAndFiveHeaderBytesLess() throws IOException {
        EnvelopeSerializer<Tuple2<String, Long>, String> state = (EnvelopeSerializer<Tuple2<String, Long>, String>)
                new EnvelopeTypeInfo<>(RECORD, Types.STRING).createSerializer(new SerializerConfigImpl());
        Envelope<Tuple2<String, Long>, String> e = Envelope.of(RoutingKey.of("user-1234", 77, 3, TABLE),
                Tuple2.of("user-1234", 5L), Role.PRIMARY);
        DataOutputSerializer key = new DataOutputSerializer(16);
        StringSerializer.INSTANCE.serialize("user-1234", key);
        assertThat(bytes(wire(), e).length).isEqualTo(bytes(state, e).length - key.length() - 5);
    }

    @Test
    void aKeySelectorThatNoLongerFindsTheKeyFailsTheRead() throws IOException {
        KeySelector<Tuple2<String, Long>, String> nothing = r -> null;
        TypeSerializer<Envelope<Tuple2<String, Long>, String>> s =
                new EnvelopeWireSerializer<>(RECORD.createSerializer(new SerializerConfigImpl()),
                        StringSerializer.INSTANCE, nothing);
        byte[] b = bytes(s, Envelope.of(RoutingKey.of("k", 1, 0, TABLE), Tuple2.of("k", 1L), Role.PRIMARY));
        assertThatThrownBy(() -> s.deserialize(new DataInputDeserializer(b))).isInstanceOf(IOException.class)
                .hasMessageContaining("null key");
    }

    @Test
    void itHasNoSnapshotSoItCannotReachAState() {
        assertThatThrownBy(() -> wire().snapshotConfiguration()).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("not for state");
    }
}
