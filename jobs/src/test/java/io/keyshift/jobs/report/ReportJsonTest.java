package io.keyshift.jobs.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** report.json's numbers, and the report's reading of its runs' files. */
class ReportJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** An undefined measure (NaN, infinite) is JSON null, at any depth, as forecast_mase is; finite ones stay. */
    @Test
    void numbersThatAreNotFiniteAreWrittenAsNull() throws Exception {
        ObjectNode n = JSON.createObjectNode();
        n.put("headroom_captured", Double.NaN);
        n.put("imbalance_mean", 1.25);
        n.putObject("strategies").putObject("hash").put("imbalance_p95", Double.POSITIVE_INFINITY).put("results", 7);
        n.putArray("series").add(1.0).add(Double.NaN);
        String written = JSON.writeValueAsString(ReplayReport.finiteOrNull(n.deepCopy()));
        assertThat(written).doesNotContain("NaN").doesNotContain("Infinity");
        var back = JSON.readTree(written);
        assertThat(back.get("headroom_captured").isNull()).isTrue();
        assertThat(back.get("imbalance_mean").asDouble()).isEqualTo(1.25);
        assertThat(back.at("/strategies/hash/imbalance_p95").isNull()).isTrue();
        assertThat(back.at("/strategies/hash/results").requireNonNull().asInt()).isEqualTo(7);
        assertThat(back.get("series").get(0).asDouble()).isEqualTo(1.0);
        assertThat(back.get("series").get(1).isNull()).isTrue();
    }

    /**
     * A key's +1 forecast is paired only with the next window's actual: after a gap (the key not tracked for a while)
     * the forecast made before the gap is not plotted against the window after it.
     */
    @Test
    void aForecastIsPairedWithTheNextWindowOnly(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        // window_end,observed,forecast_next,lower_next,upper_next,key (one window = 10)
        Files.writeString(dir.resolve("part-0"), String.join("\n", "10,5,6,4,8,k", "20,7,7,5,9,k", "50,9,9,7,11,k")
                + "\n");
        Map<String, List<ReportCharts.ForecastPoint>> f = ReplayReport.topKeyForecasts(dir, 1, 10);
        // at the window's start (10 .. 20), where the load and imbalance charts put a window
        assertThat(f.get("k")).containsExactly(new ReportCharts.ForecastPoint(10, 7, 6, 4, 8));
    }
}
