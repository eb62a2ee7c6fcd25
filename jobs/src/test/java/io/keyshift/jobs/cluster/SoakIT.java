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
        assertThat(report.path("job_state").asText()).isEqualTo("FINISHED");
        JsonNode samples = report.path("samples");
        // a sample every 15 s until the bounded job ends: how many depends on how fast the machine runs it (a late
        // sample shortens the next interval, so the mean is what is kept)
        assertThat(samples.size()).isGreaterThanOrEqualTo(3);
        double span = samples.get(samples.size() - 1).get("seconds").asDouble()
                - samples.get(0).get("seconds").asDouble();
        assertThat(span / (samples.size() - 1)).as("mean seconds between samples").isGreaterThanOrEqualTo(14.0);
        JsonNode last = samples.get(samples.size() - 1);
        assertThat(last.path("migrations_completed").asLong()).isPositive();
        assertThat(last.path("routing_table_entries").asLong()).isPositive();
        assertThat(last.at("/checkpoint/state_size").requireNonNull().asLong()).isPositive();
        assertThat(last.at("/heap_after_gc_bytes/taskmanager-1").requireNonNull().asLong()).isPositive();
        assertThat(last.at("/heap_after_gc_bytes/jobmanager").requireNonNull().asLong()).isPositive();
        assertThat(last.path("latency_p99_ms").asDouble()).isPositive();
        assertThat(report.at("/result/result_mismatches").requireNonNull().asLong()).isZero();
        assertThat(report.at("/result/validation_mismatches").requireNonNull().asLong()).isZero();
        assertThat(report.at("/result/results").requireNonNull().asLong())
                .isEqualTo(report.at("/result/hash_results").requireNonNull().asLong())
                .isPositive();
    }
}
