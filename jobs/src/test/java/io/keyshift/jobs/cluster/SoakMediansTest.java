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
}
