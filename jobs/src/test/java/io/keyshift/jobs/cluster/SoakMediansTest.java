package io.keyshift.jobs.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The soak's first and last medians leave out the -1 of a value not there yet (no latency marker through yet). */
class SoakMediansTest {
    @Test
    void aValueNotThereYetDoesNotPullTheFirstMedianDown() {
        ArrayNode samples = new ObjectMapper().createArrayNode();
        double[] p99 = {-1, 300, 310, 320, 330, 340, 350, 360, 370, 380};
        for (double v : p99) {
            samples.addObject().put("latency_p99_ms", v).put("routing_table_entries", 5).put("waiting_records", 0)
                    .putObject("checkpoint").put("state_size", 1000);
        }
        // ten samples a minute apart: the first and last two each (a fifth of the run)
        var firstVsLast = Soak.firstVsLast(samples, Duration.ofMinutes(1));
        assertThat(firstVsLast.at("/latency_p99_ms/last").asDouble()).isEqualTo(375.0);
        // the median of (-1, 300) was 149.5
        assertThat(firstVsLast.at("/latency_p99_ms/first").asDouble()).isEqualTo(300.0);
        samples.removeAll();
        samples.addObject().put("latency_p99_ms", -1);
        assertThat(Soak.firstVsLast(samples, Duration.ofMinutes(1)).at("/latency_p99_ms/first").asDouble())
                .as("no value at all: -1").isEqualTo(-1.0);
    }

    /**
     * soak.png draws a value not there yet (-1, or none: no completed checkpoint in the first minute) as a gap, not as
     * -1 or 0 MB; a series without any value as zeros (XChart draws no series of gaps only). The chart is written.
     */
    @Test
    void theChartLeavesGapsWhereAValueIsNotThereYet(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        var report = new ObjectMapper().createObjectNode();
        ArrayNode samples = report.putArray("samples");
        for (int i = 0; i < 4; i++) {
            var sm = samples.addObject().put("seconds", 60 * i).put("latency_p99_ms", i == 0 ? -1 : 300 + i)
                    .put("routing_table_entries", 5).put("waiting_records", 0);
            if (i > 0) {
                sm.putObject("checkpoint").put("state_size", 1 << 20);
            }
            sm.putObject("heap_after_gc_bytes").put("taskmanager", -1);
        }
        assertThat(Soak.values(samples, "/latency_p99_ms")).containsExactly(null, 301.0, 302.0, 303.0);
        assertThat(Soak.values(samples, "/checkpoint/state_size")).containsExactly(null, 1048576.0, 1048576.0,
                1048576.0);
        assertThat(Soak.values(samples, "/heap_after_gc_bytes/taskmanager")).containsExactly(0.0, 0.0, 0.0, 0.0);
        Soak.write(dir, report);
        assertThat(dir.resolve("soak.png")).isNotEmptyFile();
    }
}
