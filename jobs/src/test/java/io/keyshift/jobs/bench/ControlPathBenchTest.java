package io.keyshift.jobs.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class ControlPathBenchTest {

    @Test
    void tracksEveryKeyAndKeyGroupAndMeasuresTheStateACheckpointWrites() throws Exception {
        ObjectNode r = ControlPathBench.run(256, 100, Duration.ofMinutes(1), 40, 8, 10,
                new PrintStream(OutputStream.nullOutputStream()));
        assertThat(r.get("series").asInt()).isEqualTo(100 + 256);
        assertThat(r.get("checkpoints")).hasSize(4);
        long first = r.get("checkpoints").get(0).get("forecaster_bytes").asLong();
        long last = r.get("checkpoints").get(3).get("forecaster_bytes").asLong();
        // the history of each series grows by one value per window until it holds a season
        assertThat(last).isGreaterThan(first);
        assertThat(r.get("forecast_ms_median").asDouble()).isPositive();
        assertThat(r.get("plan_ms_median").asDouble()).isPositive();
        assertThat(r.get("planner_state_bytes").asLong()).isPositive();
    }
}
