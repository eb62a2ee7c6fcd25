package io.keyshift.jobs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class ControlPathBenchTest {

    /**
     * The checkpoint job gives up after the local runs' two restarts: with checkpointing on and no restart strategy,
     * Flink's default (exponential delay) retried a failure that comes back at every attempt for ever, and the command
     * waited on the job without a word.
     */
    @Test
    void theCheckpointJobGivesUpAfterTwoRestarts(@TempDir Path dir) throws Exception {
        var conf = ControlPathBench.checkpointJobConfiguration(dir);
        var strategy = org.apache.flink.runtime.executiongraph.failover.RestartBackoffTimeStrategyFactoryLoader
                .createRestartBackoffTimeStrategyFactory(conf, conf, true).create();
        boolean[] restarts = new boolean[3];
        for (int i = 0; i < restarts.length; i++) {
            strategy.notifyFailure(new RuntimeException("a checkpoint that cannot be written"));
            restarts[i] = strategy.canRestart();
        }
        assertThat(restarts).containsExactly(true, true, false);
    }

    /**
     * 256 key groups, 100 keys, 600 one-minute windows (the history of a daily season fills up), 10 per checkpoint:
     * every key and key group is a series, and the forecaster's checkpoints are incremental: the median checkpoint
     * of the last quarter uploads less than half the full state (RocksDB's compactions upload more now and then).
     */
    @Test
    void tracksEveryKeyAndKeyGroupAndItsCheckpointsUploadOnlyWhatChanged(@TempDir Path dir) throws Exception {
        ObjectNode r = ControlPathBench.run(256, 100, Duration.ofMinutes(1), 600, 8, 10, dir,
                new PrintStream(OutputStream.nullOutputStream()));
        assertThat(r.get("series").asInt()).isEqualTo(100 + 256);
        assertThat(r.get("forecast_ms_median").asDouble()).isPositive();
        assertThat(r.get("plan_ms_median").asDouble()).isPositive();
        // the planner's state holds a long-run load per unit (each about 30 bytes: id, three doubles), not only its
        // plans (the figure counted the plans alone, a hundredth of it at 14,096 units)
        assertThat(r.get("planner_long_run_loads_bytes").asLong()).as("long-run loads").isGreaterThan(356L * 24);
        assertThat(r.get("planner_state_bytes").asLong()).isEqualTo(r.get("planner_plan_history_bytes").asLong()
                + r.get("planner_long_run_loads_bytes").asLong());
        JsonNode cps = r.get("checkpoints");
        assertThat(cps.size()).as("completed checkpoints").isGreaterThanOrEqualTo(6);
        JsonNode last = cps.get(cps.size() - 1);
        assertThat(r.get("checkpointed_bytes_median").asDouble()).as("uploaded per checkpoint, median")
                .isPositive().isLessThan(r.get("state_bytes_last").asLong() / 2.0);
        assertThat(r.get("state_bytes_last").asLong()).as("full state holds every series' history")
                .isGreaterThan(356L * 4 * 600);
        assertThat(r.get("checkpointed_bytes_total").asLong()).isGreaterThan(last.get("checkpointed_bytes").asLong());
    }
}
