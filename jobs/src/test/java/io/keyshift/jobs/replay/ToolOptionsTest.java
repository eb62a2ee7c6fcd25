package io.keyshift.jobs.replay;

import io.keyshift.config.KeyshiftConfig;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The library takes the command line's own options as known (a cluster's config.yaml may hold them for the command
 * line, and a stage configured from the environment's configuration must not fail on them): its list is this one.
 */
class ToolOptionsTest {
    @Test
    void theLibraryKnowsExactlyTheCommandLinesOwnOptions() {
        assertThat(KeyshiftConfig.COMMAND_LINE_KEYS).containsExactlyInAnyOrderElementsOf(Workload.toolOptionKeys());
    }
}
