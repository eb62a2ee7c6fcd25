package io.keyshift.jobs.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A small bench cell: keyBy, keyshift and Flink SQL's two-phase aggregation read the same generated records, and
 * each gives as many window results as keyBy, whose counts add up to the records read (the bench fails otherwise).
 */
@Tag("end-to-end")
class ThroughputBenchTest {
    @TempDir
    Path dir;

    @Test
    void everyContenderGivesKeyBysResultsAndTheChartIsDrawn() throws Exception {
        var settings = new ThroughputBench.Settings(60_000, 1, 200, 1.1, 4, 2, List.of(Duration.ZERO),
                List.of(ThroughputBench.Keys.DRIFTING), 1, Duration.ofHours(1), new Configuration(), 0);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        // on a machine in a half-hour time zone: the SQL peer's windows started at :30 UTC (Flink SQL's windows over a
        // TIMESTAMP_LTZ follow the session's zone, the JVM's by default), 25 hourly windows against keyBy's 24
        java.util.TimeZone zone = java.util.TimeZone.getDefault();
        ObjectNode json;
        // bench.json as it stands after each cell (a failure in a later cell kept nothing of the earlier ones)
        List<JsonNode> partial = new java.util.ArrayList<>();
        try {
            java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("Asia/Kolkata"));
            json = ThroughputBench.run(settings, new PrintStream(log, true, StandardCharsets.UTF_8),
                    root -> partial.add(root.deepCopy()));
        } finally {
            java.util.TimeZone.setDefault(zone);
        }
        assertThat(partial).singleElement().satisfies(p -> {
            assertThat(p.get("complete").asBoolean()).isFalse();
            assertThat(p.get("cells")).hasSize(1);
        });
        assertThat(json.get("complete").asBoolean()).isTrue();
        JsonNode cell = json.get("cells").get(0);
        long results = cell.get("keyBy").get("window_results").asLong();
        // 200 keys over 24 one-hour windows: most keys appear in most windows
        assertThat(results).isGreaterThan(24 * 100);
        for (ThroughputBench.Contender c : ThroughputBench.Contender.values()) {
            assertThat(cell.get(c.id).get("window_results").asLong()).as(c.id).isEqualTo(results);
            assertThat(cell.get(c.id).get("window_results_digest").asText()).as(c.id)
                    .isEqualTo(cell.get("keyBy").get("window_results_digest").asText());
            assertThat(cell.get(c.id).get("records_per_s_median").asDouble()).as(c.id).isPositive();
            assertThat(cell.get(c.id).get("runs")).hasSize(1);
        }
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("sql-two-phase/keyBy throughput")
                .contains("(SQL's measured at its local aggregate, before the skewed exchange: not the same measure)");
        // SQL's latency is stamped before its exchange: said so, not set beside keyBy's as the same measure
        assertThat(cell.get("sql-two-phase").get("latency_measured_at").asText()).isEqualTo("local aggregate");
        assertThat(cell.get("keyshift").get("latency_measured_at").asText()).isEqualTo("window operator");
        // keyshift's runs count the migrations its plans started; the other contenders have no plans
        assertThat(cell.get("keyshift").get("runs").get(0).get("migrations_started").asLong()).isPositive();
        assertThat(cell.get("keyshift").has("migrations_started_median")).isTrue();
        assertThat(cell.get("keyBy").get("runs").get(0).has("migrations_started")).isFalse();
        Path png = dir.resolve("bench.png");
        ThroughputBench.chart(json, png);
        assertThat(Files.size(png)).isGreaterThan(1_000);
    }

    @Test
    void theOfferedRateRunsAreRepeatedInAlternatingOrderAndTheirResultsChecked() throws Exception {
        var settings = new ThroughputBench.Settings(20_000, 1, 200, 1.1, 4, 2, List.of(Duration.ofNanos(500)),
                List.of(), 2, Duration.ofHours(1), new Configuration(), 100_000);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        ObjectNode json = ThroughputBench.run(settings, new PrintStream(log, true, StandardCharsets.UTF_8));
        JsonNode n = json.get("drifting_at_offered_rate");
        assertThat(n.get("repetitions").asInt()).isEqualTo(2);
        assertThat(n.get("keyby_p99_ms_runs")).hasSize(2);
        assertThat(n.get("keyshift_p99_ms_runs")).hasSize(2);
        assertThat(n.get("window_results").asLong()).isGreaterThan(24 * 100);
        assertThat(n.get("window_results_digest").asText()).isNotEmpty();
        // a service time below a microsecond is printed as it is, not as 0
        assertThat(n.get("service_time_us").asDouble()).isEqualTo(0.5);
        String printed = log.toString(StandardCharsets.UTF_8);
        assertThat(printed).contains("service time 0.5 us: warming up", "round 2 keyBy", "round 2 keyshift",
                "(medians of 2)");
        // round 1 runs keyBy first, round 2 keyshift first
        assertThat(printed.indexOf("round 2 keyshift")).isLessThan(printed.indexOf("round 2 keyBy"));
        assertThat(printed.indexOf("round 1 keyBy")).isLessThan(printed.indexOf("round 1 keyshift"));
    }

    @Test
    void theResultDigestTellsAResultInAnotherWindowOrWithAnotherCount() {
        long a = ThroughputBench.Check.mix("k1", 3_600_000L, 7);
        assertThat(ThroughputBench.Check.mix("k1", 3_600_000L, 7)).isEqualTo(a);
        assertThat(ThroughputBench.Check.mix("k1", 5_400_000L, 7)).isNotEqualTo(a);
        assertThat(ThroughputBench.Check.mix("k1", 3_600_000L, 8)).isNotEqualTo(a);
        assertThat(ThroughputBench.Check.mix("k2", 3_600_000L, 7)).isNotEqualTo(a);
        // a record moved from one key's result to another's: the counts' sum is the same, the digest's is not
        assertThat(ThroughputBench.Check.mix("k1", 0, 3) + ThroughputBench.Check.mix("k2", 0, 5))
                .isNotEqualTo(ThroughputBench.Check.mix("k1", 0, 4) + ThroughputBench.Check.mix("k2", 0, 4));
    }

    @Test
    void aLeaseLeadGivenWithDashDReplacesTheLibrarysDefault() {
        Configuration conf = new Configuration();
        var defaults = new ThroughputBench.Settings(60_000, 1, 200, 1.1, 4, 2, List.of(Duration.ZERO),
                List.of(ThroughputBench.Keys.UNIFORM), 1, Duration.ofHours(1), conf, 0);
        assertThat(ThroughputBench.leaseLead(defaults)).isEqualTo(1);
        conf.setString("keyshift.plan.lease-lead", "12");
        assertThat(ThroughputBench.leaseLead(defaults)).isEqualTo(12);
    }

    /** The bench's own sampling thread is its own group, not one of Flink's runtime threads (it was counted there). */
    @org.junit.jupiter.api.Test
    void theSamplersOwnThreadIsItsOwnGroup() {
        org.assertj.core.api.Assertions.assertThat(ThroughputBench.ThreadCpu.group(
                ThroughputBench.ThreadCpu.SAMPLER_THREAD)).isEqualTo("bench's CPU sampler");
        org.assertj.core.api.Assertions.assertThat(ThroughputBench.ThreadCpu.group("flink-pekko.actor.default-dispatcher-5"))
                .isEqualTo("Flink runtime threads (RPC, checkpoints, timers)");
    }
}
