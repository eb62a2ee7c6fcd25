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
}
