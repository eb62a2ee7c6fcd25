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

    @Test
    void aPlanMadeUnderOverridesShowsThem() {
        RoutingPlan plan = RoutingPlan.newBuilder().setVersion(42).setValidUntil(86_400_000L).setBasedOnWindowEnd(0)
                .setMaxParallelism(128).setParallelism(4).setEntries(List.of()).setPredictedImbalanceBefore(1.3)
                .setPredictedImbalanceAfter(1.1).setMigrationsStarted(0).setMigrationsCompleted(0)
                .setControl(PlanControl.newBuilder().setFrozen(true).setPinnedKeys(List.of("Market at 4th"))
                        .setRollbackToVersion(17).setCommandsApplied(3).setCommandsRejected(1)
                        .setReverts(List.of()).setHeldKeys(List.of("Ryland Park")).setForcedParallelism(6).build())
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
                + "rollback to version 17, held after a revert [\"Ryland Park\"], scaling forced to 6; 3 commands applied, "
                + "1 refused");
    }
}
