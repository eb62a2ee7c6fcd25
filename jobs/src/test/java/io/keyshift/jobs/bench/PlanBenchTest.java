package io.keyshift.jobs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.PrintStream;

import static org.assertj.core.api.Assertions.assertThat;

class PlanBenchTest {
    @Test
    void smallInstancesReachTheirBoundsAndAPerturbationMovesFewUnits() {
        JsonNode json = PlanBench.run(new double[] {0.8, 1.5}, new int[] {1_000, 20_000}, new int[] {8, 64}, 1,
                new PrintStream(java.io.OutputStream.nullOutputStream()));
        assertThat(json.get("instances")).hasSize(2 * 2 * 2 * 2);
        assertThat(json.get("time_limit_ms").asLong()).isEqualTo(500);
        for (JsonNode i : json.get("instances")) {
            // each call's budget: reached only by a call that took it (these small instances plan in milliseconds)
            assertThat(i.get("time_limit_reached").isBoolean()).as(i.toString()).isTrue();
            assertThat(i.get("time_limit_reached").asBoolean()).as(i.toString())
                    .isEqualTo(i.get("plan_ms").asDouble() >= 500);
            assertThat(i.get("imbalance").asDouble()).isGreaterThanOrEqualTo(i.get("lower_bound").asDouble() - 1e-9);
            if (i.get("split").asBoolean()) {
                assertThat(i.get("lower_bound").asDouble()).isEqualTo(1.0);
                assertThat(i.get("imbalance").asDouble()).as(i.toString()).isLessThan(1.02);
            } else if (i.get("units_per_subtask").asDouble() >= 20) {
                assertThat(i.get("gap").asDouble()).as(i.toString()).isLessThan(0.02);
            }
        }
        assertThat(json.at("/perturbation/units_moved").requireNonNull().asInt())
                .isLessThan(json.at("/perturbation/units").requireNonNull().asInt() / 100);
    }
}
