package io.keyshift.jobs.cli;

import io.keyshift.jobs.SharedData;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A job on a cluster must outlive the ordinary failures of a long life, a replay must fail with its reason: the
 * shipped config.yaml sets no restart strategy, a local run gets 2 attempts, a cluster job Flink's default.
 */
class RestartStrategyTest {
    private static final String TYPE = RestartStrategyOptions.RESTART_STRATEGY.key();

    @Test
    void localRunsRetryTwiceAndClusterJobsGetFlinksDefault() {
        Path shipped = SharedData.flinkConf();
        Configuration local = FlinkConfig.load(shipped, Map.of());
        assertThat(local.getString(TYPE, null)).isEqualTo("fixed-delay");
        assertThat(local.getString("restart-strategy.fixed-delay.attempts", null)).isEqualTo("2");
        // no key: Flink's scheduler takes exponential-delay for a job with checkpointing on
        Configuration cluster = FlinkConfig.loadForCluster(shipped, Map.of());
        // what cluster start checks before it starts anything: the shipped file passes, a bad -D value does not
        FlinkConfig.validate(cluster);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FlinkConfig.validate(FlinkConfig.loadForCluster(
                shipped, Map.of("jobmanager.memory.process.size", "abc"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("jobmanager.memory.process.size");
        assertThat(cluster.containsKey(TYPE)).isFalse();
        assertThat(cluster.getOptional(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTING_INTERVAL))
                .isPresent();
    }

    @Test
    void aConfiguredStrategyHoldsForBoth(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("config.yaml"), "restart-strategy.type: failure-rate\n");
        assertThat(FlinkConfig.load(dir, Map.of()).getString(TYPE, null)).isEqualTo("failure-rate");
        assertThat(FlinkConfig.loadForCluster(dir, Map.of()).getString(TYPE, null)).isEqualTo("failure-rate");
        assertThat(FlinkConfig.load(SharedData.flinkConf(), Map.of(TYPE, "none")).getString(TYPE, null))
                .isEqualTo("none");
        // only the attempts given: fixed-delay with the user's attempts, not the local default's
        Configuration attempts = FlinkConfig.load(SharedData.flinkConf(),
                Map.of("restart-strategy.fixed-delay.attempts", "7"));
        assertThat(attempts.getString("restart-strategy.fixed-delay.attempts", null)).isEqualTo("7");
        assertThat(attempts.getString(TYPE, null)).isEqualTo("fixed-delay");
    }
}
