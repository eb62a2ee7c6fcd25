package io.keyshift.route;

import io.keyshift.avro.Migration;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;

import java.util.ArrayList;
import java.util.List;

/** Test fixtures: routing plans with given entries. */
public final class Plans {
    private Plans() {}

    public static RouteEntry migrating(String key, int from, int to, long shadowFrom, long switchAt) {
        return RouteEntry.newBuilder().setKey(key).setKeyGroup(from).setMigration(Migration.newBuilder()
                .setToKeyGroup(to).setShadowFrom(shadowFrom).setSwitchAt(switchAt).setPlannedInVersion(1)
                .setPredictedLoad(1).setFromSubtaskLoadBefore(0).setToSubtaskLoadBefore(0).build()).build();
    }

    public static RoutingPlan plan(long version, long validUntil, int maxParallelism, RouteEntry... entries) {
        return RoutingPlan.newBuilder().setVersion(version).setValidUntil(validUntil).setBasedOnWindowEnd(0)
                .setMaxParallelism(maxParallelism).setParallelism(2).setEntries(new ArrayList<>(List.of(entries)))
                .setPredictedImbalanceBefore(1).setPredictedImbalanceAfter(1).setMigrationsStarted(entries.length)
                .setMigrationsCompleted(0).build();
    }
}
