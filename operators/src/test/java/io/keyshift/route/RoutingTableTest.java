package io.keyshift.route;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RoutingTableTest {
    @Test
    void migrationPhasesAndNaturalRoutes() {
        RoutingTable t = RoutingTable.of(Plans.plan(3, 50, 128, Plans.migrating("k", 5, 9, 10, 20)));
        assertThat(t.version()).isEqualTo(3);
        assertThat(t.covers(49)).isTrue();
        assertThat(t.covers(50)).isFalse();
        long before = t.route("k", 9, 1);
        assertThat(RoutingTable.primary(before)).isEqualTo(5);
        assertThat(RoutingTable.shadow(before)).isEqualTo(-1);
        long during = t.route("k", 10, 1);
        assertThat(RoutingTable.primary(during)).isEqualTo(5);
        assertThat(RoutingTable.shadow(during)).isEqualTo(9);
        long after = t.route("k", 20, 1);
        assertThat(RoutingTable.primary(after)).isEqualTo(9);
        assertThat(RoutingTable.shadow(after)).isEqualTo(-1);
        long other = t.route("other", 15, 77);
        assertThat(RoutingTable.primary(other)).isEqualTo(77);
        assertThat(RoutingTable.shadow(other)).isEqualTo(-1);
        assertThat(RoutingTable.empty().covers(Long.MIN_VALUE)).isFalse();
    }

    @Test
    void aSplitKeySpreadsItsRecordsEvenlyAsPartialsFromTheSplitOn() {
        io.keyshift.avro.RouteEntry e = io.keyshift.avro.RouteEntry.newBuilder().setKey("hot").setKeyGroup(3)
                .setMigration(null).setSplit(io.keyshift.avro.Split.newBuilder().setKeyGroups(java.util.List.of(3, 40, 90))
                        .setFrom(100).setPlannedInVersion(1).setPredictedLoad(1).build()).build();
        RoutingTable t = RoutingTable.of(io.keyshift.avro.RoutingPlan.newBuilder().setVersion(1).setValidUntil(1000)
                .setBasedOnWindowEnd(0).setMaxParallelism(128).setParallelism(4).setEntries(java.util.List.of(e))
                .setPredictedImbalanceBefore(1).setPredictedImbalanceAfter(1).setMigrationsStarted(0)
                .setMigrationsCompleted(0).build());
        long before = t.route("hot", 99, 3, 7);
        assertThat(RoutingTable.primary(before)).isEqualTo(3);
        assertThat(RoutingTable.shadow(before)).isEqualTo(-1);
        java.util.Map<Integer, Integer> counts = new java.util.TreeMap<>();
        for (long seq = 0; seq < 30_000; seq++) {
            long r = t.route("hot", 100 + seq % 800, 3, seq);
            assertThat(RoutingTable.shadow(r)).isEqualTo(RoutingTable.PARTIAL);
            counts.merge(RoutingTable.primary(r), 1, Integer::sum);
            assertThat(t.route("hot", 100 + seq % 800, 3, seq)).isEqualTo(r);
        }
        assertThat(counts.keySet()).containsExactly(3, 40, 90);
        assertThat(counts.values()).allSatisfy(c -> assertThat(c).isBetween(9_500, 10_500));
    }
}
