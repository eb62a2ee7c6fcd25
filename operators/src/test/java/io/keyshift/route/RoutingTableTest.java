package io.keyshift.route;

import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.avro.Split;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class RoutingTableTest {
    private static final KeyCodec<String> CODEC = KeyCodec.forType(Types.STRING, new SerializerConfigImpl());

    private static <K> RoutingTable.Route route(RoutingTable<K> t, K key, long time, int natural, long spread) {
        RoutingTable.Route r = new RoutingTable.Route();
        t.route(key, time, natural, spread, r);
        return r;
    }

    @Test
    void migrationPhasesAndNaturalRoutes() {
        RoutingTable<String> t = RoutingTable.of(Plans.plan(3, 50, 128, Plans.migrating("k", 5, 9, 10, 20)), CODEC);
        assertThat(t.version()).isEqualTo(3);
        assertThat(t.covers(49)).isTrue();
        assertThat(t.covers(50)).isFalse();
        RoutingTable.Route before = route(t, "k", 9, 5, 0);
        assertThat(before.primary).isEqualTo(5);
        assertThat(before.role).isEqualTo(Role.PRIMARY);
        assertThat(before.shadow).isEqualTo(-1);
        RoutingTable.Route during = route(t, "k", 10, 5, 0);
        assertThat(during.primary).isEqualTo(5);
        assertThat(during.role).isEqualTo(Role.MIGRATING);
        assertThat(during.shadow).isEqualTo(9);
        assertThat(during.shadowFrom).isEqualTo(10);
        assertThat(during.switchAt).isEqualTo(20);
        RoutingTable.Route after = route(t, "k", 20, 5, 0);
        assertThat(after.primary).isEqualTo(9);
        assertThat(after.role).isEqualTo(Role.PRIMARY);
        assertThat(after.shadow).isEqualTo(-1);
        RoutingTable.Route other = route(t, "other", 15, 77, 0);
        assertThat(other.primary).isEqualTo(77);
        assertThat(other.shadow).isEqualTo(-1);
        assertThat(RoutingTable.<String>empty().covers(Long.MIN_VALUE)).isFalse();
    }

    /**
     * An entry whose natural key group is not the record's names another key: a String key with an unpaired
     * surrogate, which the plan's Avro wrote as '?', names the string "x?"; the job's own key "x?" of another natural
     * key group stays home (it followed the entry, and a window spanning the move was split between two subtasks).
     */
    @Test
    void anEntryOfAnotherNaturalKeyGroupIsNotTheRecordsKey() throws Exception {
        io.keyshift.config.AvroTrust.install();
        String cut = "x\uD83D";
        int cutGroup = org.apache.flink.runtime.state.KeyGroupRangeAssignment.assignToKeyGroup(cut, 128);
        int ownGroup = org.apache.flink.runtime.state.KeyGroupRangeAssignment.assignToKeyGroup("x?", 128);
        assertThat(ownGroup).isNotEqualTo(cutGroup);
        RoutingPlan written = Plans.plan(2, 100, 128, RouteEntry.newBuilder().setKey(CODEC.id(cut))
                .setNaturalKeyGroup(cutGroup).setKeyGroup((cutGroup + 1) % 128).setMigration(null).build());
        // through Avro, as plans travel
        var out = new java.io.ByteArrayOutputStream();
        var encoder = org.apache.avro.io.EncoderFactory.get().binaryEncoder(out, null);
        new org.apache.avro.specific.SpecificDatumWriter<>(RoutingPlan.class).write(written, encoder);
        encoder.flush();
        RoutingPlan read = new org.apache.avro.specific.SpecificDatumReader<>(RoutingPlan.class).read(null,
                org.apache.avro.io.DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
        assertThat(read.getEntries().get(0).getKey().toString()).isEqualTo("x?");
        RoutingTable<String> t = RoutingTable.of(read, CODEC);
        assertThat(route(t, "x?", 50, ownGroup, 0).primary).isEqualTo(ownGroup);
        // a key of the entry's own natural key group follows it (with its state: exact either way)
        assertThat(route(t, "x?", 50, cutGroup, 0).primary).isEqualTo((cutGroup + 1) % 128);
    }

    @Test
    void everyKeyWithAnEntryIsRoutedByItWhateverTheTableSizeAndKeysWithoutOneStayHome() {
        // the table's filter lets most keys without an entry skip the lookup: it must never skip one with an entry
        io.keyshift.config.AvroTrust.install();
        for (int n : new int[] {1, 3, 64, 1000, 20_000}) {
            RouteEntry[] entries = new RouteEntry[n];
            for (int i = 0; i < n; i++) {
                entries[i] = RouteEntry.newBuilder().setKey("moved-" + i).setNaturalKeyGroup(i % 128)
                        .setKeyGroup((i + 1) % 128).setMigration(null).build();
            }
            RoutingTable<String> t = RoutingTable.of(Plans.plan(2, 100, 128, entries), CODEC);
            for (int i = 0; i < n; i++) {
                assertThat(route(t, "moved-" + i, 50, i % 128, 0).primary).as("n %d, key %d", n, i)
                        .isEqualTo((i + 1) % 128);
            }
            for (int i = 0; i < 5_000; i++) {
                RoutingTable.Route home = route(t, "stays-" + i, 50, i % 128, 0);
                assertThat(home.primary).isEqualTo(i % 128);
                assertThat(home.role).isEqualTo(Role.PRIMARY);
            }
        }
    }

    @Test
    void theFilterPassesEveryPseudonymAndTupleKeyWithAnEntry() {
        io.keyshift.config.AvroTrust.install();
        // plans name pseudonyms under a key secret: the router looks them up by the pseudonym it computes per record
        KeyPseudonymizer secret = KeyPseudonymizer.fromSecret("routing-table-test-secret-0123");
        KeyCodec<String> pseudonymous = KeyCodec.pseudonymous(CODEC, secret);
        RouteEntry[] entries = new RouteEntry[500];
        for (int i = 0; i < entries.length; i++) {
            entries[i] = RouteEntry.newBuilder().setKey(secret.pseudonym("moved-" + i)).setNaturalKeyGroup(i % 128)
                    .setKeyGroup((i + 1) % 128).setMigration(null).build();
        }
        RoutingTable<String> byPseudonym = RoutingTable.of(Plans.plan(2, 100, 128, entries), pseudonymous);
        for (int i = 0; i < entries.length; i++) {
            RoutingTable.Route r = new RoutingTable.Route();
            byPseudonym.route(pseudonymous.pseudonym("moved-" + i, i % 128), 50, i % 128, 0, r);
            assertThat(r.primary).isEqualTo((i + 1) % 128);
        }
        // a composite key: decoded from the plan, equal to (and hashing as) the one the key selector returns
        KeyCodec<org.apache.flink.api.java.tuple.Tuple2<String, Integer>> tuples = KeyCodec.forType(
                Types.TUPLE(Types.STRING, Types.INT), new SerializerConfigImpl());
        for (int i = 0; i < entries.length; i++) {
            entries[i] = RouteEntry.newBuilder()
                    .setKey(tuples.id(org.apache.flink.api.java.tuple.Tuple2.of("moved", i)))
                    .setNaturalKeyGroup(i % 128).setKeyGroup((i + 1) % 128).setMigration(null).build();
        }
        RoutingTable<org.apache.flink.api.java.tuple.Tuple2<String, Integer>> byTuple =
                RoutingTable.of(Plans.plan(2, 100, 128, entries), tuples);
        for (int i = 0; i < entries.length; i++) {
            assertThat(route(byTuple, org.apache.flink.api.java.tuple.Tuple2.of("moved", i), 50, i % 128, 0).primary)
                    .isEqualTo((i + 1) % 128);
        }
    }

    @Test
    void aRetiredMigrationStillRoutesTheTimesBeforeItsSwitchOver() {
        RouteEntry folded = RouteEntry.newBuilder().setKey("k").setNaturalKeyGroup(5).setKeyGroup(9)
                .setMigration(null).setRetired(List.of(Plans.migration(5, 9, 10, 20, 1))).build();
        RoutingTable<String> t = RoutingTable.of(Plans.plan(4, 100, 128, folded), CODEC);
        assertThat(route(t, "k", 5, 5, 0).primary).isEqualTo(5);
        RoutingTable.Route during = route(t, "k", 15, 5, 0);
        assertThat(during.role).isEqualTo(Role.MIGRATING);
        assertThat(during.shadow).isEqualTo(9);
        assertThat(route(t, "k", 60, 5, 0).primary).isEqualTo(9);
        assertThat(route(t, "k", 60, 5, 0).role).isEqualTo(Role.PRIMARY);
    }

    @Test
    void aSplitKeySpreadsItsRecordsEvenlyAsPartialsFromTheSplitOnAfterItsPreRoll() {
        RouteEntry e = RouteEntry.newBuilder().setKey("hot").setNaturalKeyGroup(3).setKeyGroup(3).setMigration(null)
                .setSplit(Split.newBuilder().setKeyGroups(List.of(3, 40, 90)).setFrom(100).setPreRollFrom(50)
                        .setPlannedInVersion(1).setPredictedLoad(1).build()).build();
        RoutingTable<String> t = RoutingTable.of(Plans.plan(1, 1000, 128, e), CODEC);
        RoutingTable.Route before = route(t, "hot", 49, 3, 7);
        assertThat(before.primary).isEqualTo(3);
        assertThat(before.role).isEqualTo(Role.PRIMARY);
        RoutingTable.Route preRoll = route(t, "hot", 50, 3, 7);
        assertThat(preRoll.primary).isEqualTo(3);
        assertThat(preRoll.role).isEqualTo(Role.PARTIAL);
        Map<Integer, Integer> counts = new TreeMap<>();
        for (long seq = 0; seq < 30_000; seq++) {
            RoutingTable.Route r = route(t, "hot", 100 + seq % 800, 3, seq);
            assertThat(r.role).isEqualTo(Role.PARTIAL);
            assertThat(r.shadow).isEqualTo(-1);
            counts.merge(r.primary, 1, Integer::sum);
            assertThat(route(t, "hot", 100 + seq % 800, 3, seq).primary).isEqualTo(r.primary);
        }
        assertThat(counts.keySet()).containsExactly(3, 40, 90);
        assertThat(counts.values()).allSatisfy(c -> assertThat(c).isBetween(9_500, 10_500));
    }

    /**
     * A key spread anew (a restore at another parallelism) routes each time by the spread in force then: the earliest
     * earlier spread whose end is after it, else the current key groups; the pre-roll and the epoch are the split's.
     */
    @Test
    void aKeySpreadAnewRoutesEachTimeByTheSpreadInForceThen() {
        RouteEntry e = RouteEntry.newBuilder().setKey("hot").setNaturalKeyGroup(3).setKeyGroup(3).setMigration(null)
                .setEpoch(2)
                .setSplit(Split.newBuilder().setKeyGroups(List.of(5, 6, 7)).setFrom(100).setPreRollFrom(50)
                        .setPlannedInVersion(4).setPredictedLoad(1).setParallelism(8)
                        // out of order: the table orders them by their ends
                        .setEarlier(List.of(new io.keyshift.avro.SplitSpread(List.of(0, 64), 300L),
                                new io.keyshift.avro.SplitSpread(List.of(1), 200L)))
                        .build()).build();
        RoutingTable<String> t = RoutingTable.of(Plans.plan(9, 1000, 128, e), CODEC, true);
        assertThat(route(t, "hot", 60, 3, 7).primary).isEqualTo(3);
        long[][] spans = {{100, 200}, {200, 300}, {300, 1000}};
        List<List<Integer>> groups = List.of(List.of(1), List.of(0, 64), List.of(5, 6, 7));
        for (int i = 0; i < spans.length; i++) {
            java.util.Set<Integer> seen = new java.util.TreeSet<>();
            for (long seq = 0; seq < 3_000; seq++) {
                long time = spans[i][0] + seq % (spans[i][1] - spans[i][0]);
                RoutingTable.Route r = route(t, "hot", time, 3, seq);
                assertThat(r.role).isEqualTo(Role.PARTIAL);
                assertThat(r.primaryEpoch).as("the pieces' epoch: the split's plan version").isEqualTo(4);
                seen.add(r.primary);
            }
            assertThat(seen).as("key groups of the records in [%s, %s)", spans[i][0], spans[i][1])
                    .containsExactlyElementsOf(groups.get(i));
        }
    }

    @Test
    void integerKeysAreLookedUpByTheirDecimalIds() {
        KeyCodec<Integer> ints = KeyCodec.forType(Types.INT, new SerializerConfigImpl());
        assertThat(ints.id(-71)).isEqualTo("-71");
        assertThat(ints.key("-71")).isEqualTo(-71);
        RoutingTable<Integer> t = RoutingTable.of(Plans.plan(1, 50, 128, Plans.migrating("71", 5, 9, 10, 20)), ints);
        assertThat(route(t, 71, 30, 5, 0).primary).isEqualTo(9);
        assertThat(route(t, 72, 30, 6, 0).primary).isEqualTo(6);
    }
}
