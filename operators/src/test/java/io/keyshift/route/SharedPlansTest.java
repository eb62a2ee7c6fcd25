package io.keyshift.route;

import io.keyshift.avro.RoutingPlan;
import io.keyshift.plan.PlanEvent;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SharedPlansTest {
    private static final int MAX_P = 128;
    private static final KeyCodec<String> CODEC = KeyCodec.forType(Types.STRING, new SerializerConfigImpl());

    private static byte[] bytes(long version, long validUntil, String... moved) {
        List<io.keyshift.avro.RouteEntry> entries = new ArrayList<>();
        for (String k : moved) {
            entries.add(Plans.migrating(k, 1, 2, 1_000, 2_000));
        }
        return PlanEvent.encode(Plans.plan(version, validUntil, MAX_P,
                entries.toArray(new io.keyshift.avro.RouteEntry[0])));
    }

    @Test
    void aPlanVersionIsReadWithoutDecodingThePlan() {
        for (long v : new long[] {1, 2, 63, 64, 127, 128, 300, 1L << 31, Long.MAX_VALUE}) {
            byte[] b = PlanEvent.encode(Plans.plan(v, 5_000, MAX_P, Plans.migrating("k", 1, 2, 1_000, 2_000)));
            assertThat(PlanEvent.version(b)).isEqualTo(v).isEqualTo(PlanEvent.decode(b).getVersion());
        }
    }

    /** The routers of one stage in one JVM decode and index a version once, by its bytes; the scope ends with them. */
    @Test
    void routersOfOneStageDecodeEachVersionOnce() {
        String name = "job/operator-" + System.nanoTime();
        int before = SharedPlans.scopes();
        SharedPlans.Scope a = SharedPlans.acquire(name);
        SharedPlans.Scope b = SharedPlans.acquire(name);
        assertThat(b).isSameAs(a);
        assertThat(SharedPlans.scopes()).isEqualTo(before + 1);
        List<Long> indexed = new ArrayList<>();
        java.util.function.Function<RoutingPlan, RoutingTable<String>> index = p -> {
            indexed.add(p.getVersion());
            return RoutingTable.of(p, CODEC);
        };
        byte[] v1 = bytes(1, 5_000, "x");
        // each router's event carries its own copy of the bytes
        SharedPlans.Decoded<String> first = a.decode(v1.clone(), index);
        SharedPlans.Decoded<String> second = b.decode(v1.clone(), index);
        assertThat(second).isSameAs(first);
        assertThat(indexed).containsExactly(1L);
        assertThat(first.plan().getVersion()).isEqualTo(1);
        assertThat(first.table().version()).isEqualTo(1);
        assertThat(a.hits()).isEqualTo(1);

        // the same number with other contents (a plan made anew after a restore) is decoded anew
        SharedPlans.Decoded<String> remade = b.decode(bytes(1, 6_000, "y"), index);
        assertThat(remade).isNotSameAs(first);
        assertThat(remade.table().validUntil()).isEqualTo(6_000);
        assertThat(indexed).containsExactly(1L, 1L);

        // the last RECENT versions are kept; an older one is decoded again, correctly
        for (long v = 2; v <= SharedPlans.RECENT + 1; v++) {
            a.decode(bytes(v, v * 1_000, "x"), index);
        }
        indexed.clear();
        SharedPlans.Decoded<String> again = b.decode(v1.clone(), index);
        assertThat(again).isNotSameAs(first);
        assertThat(again.plan()).isEqualTo(first.plan());
        assertThat(indexed).containsExactly(1L);
        b.decode(bytes(SharedPlans.RECENT + 1, (SharedPlans.RECENT + 1) * 1_000L, "x"), index);
        assertThat(indexed).containsExactly(1L);

        SharedPlans.release(a);
        assertThat(SharedPlans.scopes()).isEqualTo(before + 1);
        SharedPlans.release(b);
        assertThat(SharedPlans.scopes()).isEqualTo(before);
        // a scope of the same name later starts empty; with one router it keeps nothing (nobody to share with)
        SharedPlans.Scope c = SharedPlans.acquire(name);
        assertThat(c).isNotSameAs(a);
        indexed.clear();
        c.decode(v1.clone(), index);
        assertThat(indexed).containsExactly(1L);
        c.decode(v1.clone(), index);
        assertThat(indexed).containsExactly(1L, 1L);
        SharedPlans.release(c);
        assertThat(SharedPlans.scopes()).isEqualTo(before);
    }
}
