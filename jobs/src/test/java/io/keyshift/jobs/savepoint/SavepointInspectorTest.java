package io.keyshift.jobs.savepoint;

import io.keyshift.avro.PlanControl;
import io.keyshift.avro.RoutingPlan;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What inspect-savepoint shows of a plan made under a control input's overrides. */
class SavepointInspectorTest {
    /** keyshift's Avro classes are trusted (Avro 1.12) as in every command; run alone, no earlier test did it. */
    @org.junit.jupiter.api.BeforeAll
    static void trustKeyshiftsAvroClasses() {
        io.keyshift.config.AvroTrust.install();
    }

    @Test
    void aPlanMadeUnderOverridesShowsThem() {
        RoutingPlan plan = RoutingPlan.newBuilder().setVersion(42).setValidUntil(86_400_000L).setBasedOnWindowEnd(0)
                .setMaxParallelism(128).setParallelism(4).setEntries(List.of()).setPredictedImbalanceBefore(1.3)
                .setPredictedImbalanceAfter(1.1).setMigrationsStarted(0).setMigrationsCompleted(0)
                .setControl(PlanControl.newBuilder().setFrozen(true).setPinnedKeys(List.of("Market at 4th"))
                        .setRollbackToVersion(17).setCommandsApplied(3).setCommandsRejected(1)
                        .setReverts(List.of()).setHeldKeys(List.of("Ryland Park")).setForcedParallelism(6)
                        .setAnomalyZ(4.5).build())
                .build();
        ObjectNode json = SavepointInspector.planJson(plan);
        assertThat(json.at("/control/frozen").requireNonNull().asBoolean()).isTrue();
        assertThat(json.at("/control/pinned_keys/0").requireNonNull().asText()).isEqualTo("Market at 4th");
        assertThat(json.at("/control/rollback_to_version").requireNonNull().asLong()).isEqualTo(17);
        assertThat(json.at("/control/held_keys/0").requireNonNull().asText()).isEqualTo("Ryland Park");

        ObjectNode root = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        root.put("savepoint", "file:///sp");
        root.put("checkpoint_id", 7);
        root.set("plan", json);
        root.putObject("keyed_state_bytes_per_key_group");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SavepointInspector.print(root, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("control: frozen, pinned [\"Market at 4th\"], "
                + "rollback to version 17, held after a revert [\"Ryland Park\"], scaling forced to 6, anomaly z 4.5; "
                + "3 commands applied, 1 refused");
    }

    /** An entry kept for a key back home (its epoch, its minimum windows between moves) was listed as moved. */
    @Test
    void aKeyBackHomeIsNotAMovedUnit() {
        var home = io.keyshift.avro.RouteEntry.newBuilder().setKey("home").setNaturalKeyGroup(5).setKeyGroup(5)
                .setEpoch(2).build();
        var moved = io.keyshift.avro.RouteEntry.newBuilder().setKey("moved").setNaturalKeyGroup(3).setKeyGroup(9)
                .build();
        RoutingPlan plan = RoutingPlan.newBuilder().setVersion(4).setValidUntil(86_400_000L).setBasedOnWindowEnd(0)
                .setMaxParallelism(128).setParallelism(4).setEntries(List.of(home, moved))
                .setPredictedImbalanceBefore(1.3).setPredictedImbalanceAfter(1.1).setMigrationsStarted(0)
                .setMigrationsCompleted(0).build();
        ObjectNode json = SavepointInspector.planJson(plan);
        assertThat(json.get("moved_units")).hasSize(1);
        assertThat(json.at("/moved_units/0/key").asText()).isEqualTo("moved");
        assertThat(json.at("/moved_units/0/from_key_group").asInt()).isEqualTo(3);
        assertThat(json.at("/moved_units/0/to_key_group").asInt()).isEqualTo(9);
    }

    /**
     * A key split anew after a rescale lists its earlier spread (whose key groups may still hold open partial windows)
     * beside its key groups now, in the JSON and in the printed summary.
     */
    @Test
    void aSplitKeySpreadAnewShowsItsEarlierSpread() {
        var split = io.keyshift.avro.Split.newBuilder().setKeyGroups(List.of(0, 21, 42, 64, 85, 106)).setFrom(0)
                .setPreRollFrom(0).setPlannedInVersion(3).setPredictedLoad(800).setParallelism(6)
                .setEarlier(List.of(new io.keyshift.avro.SplitSpread(List.of(0, 64), 7_200_000L))).build();
        var giant = io.keyshift.avro.RouteEntry.newBuilder().setKey("giant").setNaturalKeyGroup(0).setKeyGroup(0)
                .setSplit(split).build();
        RoutingPlan plan = RoutingPlan.newBuilder().setVersion(9).setValidUntil(10_800_000L)
                .setBasedOnWindowEnd(7_200_000L).setMaxParallelism(128).setParallelism(6).setEntries(List.of(giant))
                .setPredictedImbalanceBefore(1.3).setPredictedImbalanceAfter(1.1).setMigrationsStarted(0)
                .setMigrationsCompleted(0).build();
        ObjectNode json = SavepointInspector.planJson(plan);
        assertThat(json.at("/moved_units/0/split_key_groups")).hasSize(6);
        assertThat(json.at("/moved_units/0/split_earlier/0/key_groups").toString()).isEqualTo("[0,64]");
        assertThat(json.at("/moved_units/0/split_earlier/0/until").asText()).isEqualTo("1970-01-01T02:00:00Z");
        ObjectNode r = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        r.put("savepoint", "file:/sp").put("checkpoint_id", 7).putNull("routing_key_hash_format");
        r.putObject("keyed_state_bytes_per_key_group");
        r.set("plan", json);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        SavepointInspector.print(r, new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8));
        assertThat(bytes.toString(java.nio.charset.StandardCharsets.UTF_8))
                .contains("split over key groups [0,21,42,64,85,106], before 1970-01-01T02:00:00Z over key groups [0,64]");
    }

    /**
     * A savepoint of a job with another max parallelism than the reader's configuration (pipeline.max-parallelism
     * 256 against the default 128) is read with its own: the forecaster's series are there.
     */
    @Test
    void aSavepointIsReadWithItsOwnMaxParallelism(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        io.keyshift.forecast.LoadForecastEngine.Settings at256 = new io.keyshift.forecast.LoadForecastEngine.Settings(
                256, 5, 3, io.keyshift.forecast.ModelSpec.candidates(List.of(24)), 24, 2, 0.99, 1.96, 4.0);
        List<io.keyshift.profiler.WindowProfile> profiles = new java.util.ArrayList<>();
        for (int t = 0; t < 30; t++) {
            io.keyshift.profiler.WindowProfile p = io.keyshift.profiler.WindowProfile.empty(t * 3_600_000L,
                    (t + 1) * 3_600_000L, 256, 1.0);
            p.keyGroupCounts[200] = 100 + t;
            p.keyGroupCounts[3] = 50;
            p.records = 150 + t;
            profiles.add(p);
        }
        String path = dir.resolve("sp").toUri().toString();
        io.keyshift.savepoint.ForecasterBootstrap.write(io.keyshift.savepoint.ForecasterBootstrap.train(profiles, at256),
                path, 256, "keyshift");
        io.keyshift.savepoint.StageSavepoint read = io.keyshift.savepoint.StageSavepoint.read(path, "keyshift",
                at256.withMaxParallelism(128), List.of());
        assertThat(read.forecaster()).isNotNull();
        assertThat(read.forecaster().seriesCount()).isEqualTo(2);
        // a bootstrap savepoint holds no router state: the stage starts anew, in the current format
        assertThat(io.keyshift.savepoint.StageSavepoint.routingKeyHashFormat(path, "keyshift")).isNull();
    }

    /**
     * The command line's hash job (its window's state, no stage of its own) stands for the stage of prefix keyshift
     * only: asked for another prefix, its savepoint holds no such stage (it was inspected as one, exit 0).
     */
    @Test
    void aHashJobsSavepointIsTheStageOfTheDefaultPrefixOnly(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path sp = dir.resolve("sp");
        io.keyshift.jobs.SavepointFixtures.withOperatorState(sp, io.keyshift.jobs.replay.Workload.HASH_WINDOW_UID);
        io.keyshift.forecast.LoadForecastEngine.Settings settings = new io.keyshift.forecast.LoadForecastEngine.Settings(
                128, 5, 3, io.keyshift.forecast.ModelSpec.candidates(List.of(24)), 24, 2, 0.99, 1.96, 4.0);
        ObjectNode json = SavepointInspector.inspect(sp.toUri().toString(), settings, "keyshift");
        assertThat(json.get("plan").isNull()).isTrue();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SavepointInspector.inspect(sp.toUri().toString(),
                        settings, "clicks"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no keyshift stage with uid prefix 'clicks'");
    }

    /**
     * A forecaster that has not yet seen enough windows for a MASE (one window here) shows none: null in the JSON, "-"
     * in the text. It was the string "NaN" in the JSON, where every other savepoint has a number.
     */
    @Test
    void aMaseNotYetKnownIsNullInTheJsonAndADashInTheText(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        io.keyshift.forecast.LoadForecastEngine.Settings settings = new io.keyshift.forecast.LoadForecastEngine.Settings(
                128, 5, 3, io.keyshift.forecast.ModelSpec.candidates(List.of(24)), 24, 2, 0.99, 1.96, 4.0);
        io.keyshift.profiler.WindowProfile p = io.keyshift.profiler.WindowProfile.empty(0, 3_600_000L, 128, 1.0);
        p.keyGroupCounts[100] = 100;
        p.records = 100;
        io.keyshift.forecast.LoadForecastEngine engine =
                io.keyshift.savepoint.ForecasterBootstrap.train(List.of(p), settings);
        assertThat(engine.mase()).isNaN();
        String path = dir.resolve("sp").toUri().toString();
        // a directory there already (made while a long history was read) is refused, and gets nothing written in
        java.nio.file.Path taken = java.nio.file.Files.createDirectories(dir.resolve("taken"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> io.keyshift.savepoint.ForecasterBootstrap.write(
                engine, taken.toUri().toString(), 128, "keyshift")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("exists; a savepoint needs a new directory");
        try (var left = java.nio.file.Files.list(taken)) {
            assertThat(left).isEmpty();
        }
        io.keyshift.savepoint.ForecasterBootstrap.write(engine, path, 128, "keyshift");
        com.fasterxml.jackson.databind.node.ObjectNode r = SavepointInspector.inspect(path, settings);
        assertThat(r.at("/forecaster/mase").isNull()).as(r.at("/forecaster").toString()).isTrue();
        String json = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(r);
        assertThat(json).doesNotContain("NaN");
        java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();
        SavepointInspector.print(r, new java.io.PrintStream(text, true, java.nio.charset.StandardCharsets.UTF_8));
        assertThat(text.toString(java.nio.charset.StandardCharsets.UTF_8)).contains(", MASE -,");
    }
}
