package io.keyshift.jobs.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyshift.jobs.KeyshiftJob;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.client.program.ClusterClient;
import org.apache.flink.runtime.client.JobStatusMessage;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 16, acceptance 2 (slow, failsafe): see {@link KafkaJobFixture}. */
class KafkaIdlePartitionIT extends KafkaJobFixture {
    /**
     * Acceptance 2: one partition of four gets no record after the first hour; the job (unbounded, idleness 2 s)
     * still fires every window the other three partitions complete and keeps planning to the end of the year.
     */
    @Test
    void anIdlePartitionStallsNeitherPlansNorResults(@TempDir Path dir,
                                                      @InjectClusterClient ClusterClient<?> client) throws Exception {
        long firstHourEnd = trips.get(0).time() + Duration.ofHours(1).toMillis();
        int[] next = {0};
        // partition 3 only in the first hour; then round robin over 0, 1, 2 (each partition stays in time order)
        produce("trips-idle", 4, i -> trips.get(i).time() < firstHourEnd ? i % 4 : next[0]++ % 3);
        createTopic("results-idle", 4);
        long lastTime = trips.get(trips.size() - 1).time();
        // every window that ends at or before the newest time of each active partition fires
        long lastWindowEnd = lastTime - Math.floorMod(lastTime, DAY) - 2 * DAY;
        List<String> expected = expected(end -> end <= lastWindowEnd);
        Path out = dir.resolve("out");
        CompletableFuture<Void> job = CompletableFuture.runAsync(() -> {
            try {
                KeyshiftJob.main(args(out, "trips-idle", "results-idle", false, "--kafka-idleness", "2s"));
            } catch (Exception e) {
                // cancelled below
            }
        });
        try {
            List<String> results = List.of();
            long deadline = System.nanoTime() + Duration.ofMinutes(6).toNanos();
            while (System.nanoTime() < deadline && !job.isDone()) {
                results = readCommitted("results-idle");
                if (results.stream().filter(l -> windowEnd(l) <= lastWindowEnd).count() >= expected.size()) {
                    break;
                }
                Thread.sleep(2000);
            }
            List<String> complete = results.stream().filter(l -> windowEnd(l) <= lastWindowEnd).toList();
            assertThat(sorted(complete)).isEqualTo(sorted(expected));
            long lastPlanned = plans(out).stream().mapToLong(p -> p.get("basedOnWindowEnd").asLong()).max().orElse(0);
            assertThat(lastPlanned).as("the last window a plan is based on").isGreaterThanOrEqualTo(lastWindowEnd - 7 * DAY);
            System.out.printf("KafkaIT: partition 3 idle after %s; %,d committed results for the windows up to %s = "
                    + "expected; last plan based on the window ending %s%n", java.time.Instant.ofEpochMilli(firstHourEnd),
                    complete.size(), java.time.Instant.ofEpochMilli(lastWindowEnd), java.time.Instant.ofEpochMilli(lastPlanned));
        } finally {
            for (JobStatusMessage m : client.listJobs().get()) {
                if (m.getJobState() == JobStatus.RUNNING) {
                    client.cancel(m.getJobId()).get();
                }
            }
            job.handle((v, e) -> null).get();
        }
    }
}
