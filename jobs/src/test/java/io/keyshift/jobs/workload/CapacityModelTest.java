package io.keyshift.jobs.workload;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The bench's latency histogram: latencies above 60 s are measured, not all reported as 60 s. */
class CapacityModelTest {

    @Test
    void latenciesAboveAMinuteAreReportedAsTheyWere() {
        String id = "capacity-model-test";
        try {
            CapacityModel m = new CapacityModel(0, id);
            long now = System.nanoTime();
            // 98 records 30 s old, 2 records 90 s old (as they are served: the test's own time adds a little): the
            // median 30 s, the p99 90 s (it was 60 s, the last bucket)
            for (int i = 0; i < 98; i++) {
                m.serve(now - 30_000_000_000L);
            }
            m.serve(now - 90_000_000_000L);
            m.serve(now - 90_000_000_000L);
            assertThat(CapacityModel.quantileMillis(id, 0.5)).isBetween(30_000.0, 32_000.0);
            assertThat(CapacityModel.quantileMillis(id, 0.99)).isBetween(90_000.0, 92_000.0);
        } finally {
            CapacityModel.release(id);
        }
    }

    @Test
    void bucketsAreContiguousAndBoundedAtAnHour() {
        assertThat(CapacityModel.bucket(0)).isZero();
        assertThat(CapacityModel.bucket(59_999_999)).isEqualTo(599_999);
        assertThat(CapacityModel.bucket(60_000_000)).isEqualTo(600_000);
        assertThat(CapacityModel.midpointMillis(CapacityModel.bucket(61_200_000))).isEqualTo(61_500);
        assertThat(CapacityModel.bucket(Long.MAX_VALUE)).isEqualTo(CapacityModel.bucket(3_600_000_000L));
        assertThat(CapacityModel.midpointMillis(CapacityModel.bucket(3_599_000_000L))).isCloseTo(3_599_500, within(1.0));
    }
}
