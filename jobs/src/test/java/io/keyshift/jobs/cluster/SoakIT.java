package io.keyshift.jobs.cluster;

import io.keyshift.jobs.cli.KeyshiftCli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 17: a short {@code bin/keyshift soak} (slow, about 1.5 minutes; the acceptance soak runs 30 minutes by hand):
 * the predictive job on a standalone cluster for one minute, sampled every 15 s, results equal to hash's.
 */
@Tag("end-to-end")
class SoakIT {
    @Test
    void aOneMinuteSoakSamplesTheClusterAndMatchesHash(@TempDir Path dir) throws Exception {
        String home = System.getProperty("keyshift.home");
        System.setProperty("keyshift.home", Path.of("..").toAbsolutePath().normalize().toString());
        Path out = dir.resolve("soak");
        int exit;
        try {
            exit = KeyshiftCli.commandLine().execute("soak", "--minutes", "1", "--sample-every", "15s", "--out",
                    out.toString());
        } finally {
            if (home == null) {
                System.clearProperty("keyshift.home");
            } else {
                System.setProperty("keyshift.home", home);
            }
        }
        assertThat(exit).as("soak exit status (0: results equal hash's, no validation mismatch)").isZero();
        JsonNode report = new ObjectMapper().readTree(out.resolve("soak.json").toFile());
        assertThat(out.resolve("soak.png")).isRegularFile();
        JsonNode samples = report.path("samples");
        assertThat(samples.size()).isBetween(3, 8);
        JsonNode last = samples.get(samples.size() - 1);
        assertThat(last.path("migrations_completed").asLong()).isPositive();
        assertThat(last.path("routing_table_entries").asLong()).isPositive();
        assertThat(last.at("/checkpoint/state_size").asLong()).isPositive();
        assertThat(last.at("/heap_after_gc_bytes/taskmanager-1").asLong()).isPositive();
        assertThat(last.at("/heap_after_gc_bytes/jobmanager").asLong()).isPositive();
        assertThat(last.path("latency_p99_ms").asDouble()).isPositive();
        assertThat(report.at("/result/result_mismatches").asLong()).isZero();
        assertThat(report.at("/result/validation_mismatches").asLong()).isZero();
        assertThat(report.at("/result/results").asLong()).isEqualTo(report.at("/result/hash_results").asLong())
                .isPositive();
    }
}
