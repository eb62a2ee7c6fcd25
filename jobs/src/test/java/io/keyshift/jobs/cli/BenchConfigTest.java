package io.keyshift.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyshift.config.PlanOptions;
import io.keyshift.jobs.SharedData;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

/**
 * The bench keeps its own lease lead over the shipped config.yaml's (which sets 1 for jobs, and until 2026-12-02
 * replaced the bench's 3 unseen); a lease lead given with -D still replaces it.
 */
class BenchConfigTest {
    @Test
    void configYamlsLeaseLeadIsForJobsAndDashDSetsTheBenchs() {
        Configuration shipped = FlinkConfig.load(SharedData.flinkConf(), Map.of());
        assertThat(shipped.getOptional(PlanOptions.LEASE_LEAD)).as("the shipped config.yaml").contains(1);
        assertThat(BenchCommand.benchConfig(shipped, Map.of()).getOptional(PlanOptions.LEASE_LEAD)).isEmpty();
        Map<String, String> dashD = Map.of(PlanOptions.LEASE_LEAD.key(), "12");
        Configuration given = FlinkConfig.load(SharedData.flinkConf(), dashD);
        assertThat(BenchCommand.benchConfig(given, dashD).getOptional(PlanOptions.LEASE_LEAD)).contains(12);
    }
}
