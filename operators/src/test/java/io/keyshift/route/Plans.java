package io.keyshift.route;

import io.keyshift.avro.Migration;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;

import java.util.ArrayList;
import java.util.List;

/** Test fixtures: routing plans with given entries (String keys, whose ids are the keys themselves). */
public final class Plans {
    static {
        // building Avro records with record-array defaults deep-copies them, which Avro allows for trusted classes
        io.keyshift.config.AvroTrust.install();
    }

    private Plans() {}

    public static Migration migration(int from, int to, long shadowFrom, long switchAt, long version) {
        return Migration.newBuilder().setFromKeyGroup(from).setToKeyGroup(to).setShadowFrom(shadowFrom)
                .setSwitchAt(switchAt).setPlannedInVersion(version).setPredictedLoad(1).setFromSubtaskLoadBefore(0)
                .setToSubtaskLoadBefore(0).build();
    }

    public static RouteEntry migrating(String key, int from, int to, long shadowFrom, long switchAt) {
        return RouteEntry.newBuilder().setKey(key).setNaturalKeyGroup(from).setKeyGroup(from)
                .setMigration(migration(from, to, shadowFrom, switchAt, 1)).build();
    }

    public static RoutingPlan plan(long version, long validUntil, int maxParallelism, RouteEntry... entries) {
        return RoutingPlan.newBuilder().setVersion(version).setValidUntil(validUntil).setBasedOnWindowEnd(0)
                .setMaxParallelism(maxParallelism).setParallelism(2).setEntries(new ArrayList<>(List.of(entries)))
                .setPredictedImbalanceBefore(1).setPredictedImbalanceAfter(1).setMigrationsStarted(entries.length)
                .setMigrationsCompleted(0).build();
    }
}
