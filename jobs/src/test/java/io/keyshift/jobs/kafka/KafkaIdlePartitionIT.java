package io.keyshift.jobs.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keyshift.jobs.KeyshiftJob;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.client.program.ClusterClient;
import org.apache.flink.runtime.client.JobStatusMessage;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, acceptance 2 (slow, failsafe): see {@link KafkaJobFixture}. Also issue 15's control input from a Kafka
 * topic (a pin, a malformed command).
 */
class KafkaIdlePartitionIT extends KafkaJobFixture {
    /**
     * Acceptance 2: one partition of four gets no record after the first hour; the job (unbounded, idleness 2 s)
     * still fires every window the other three partitions complete and keeps planning to the end of the year.
     */
    private static List<String> pinnedKeys(JsonNode plan) {
        JsonNode c = plan.get("control");
        if (c == null || c.isNull()) {
            return List.of();
        }
        JsonNode pc = c.has("pinnedKeys") ? c : c.elements().next();
        List<String> keys = new java.util.ArrayList<>();
        pc.get("pinnedKeys").forEach(k -> keys.add(k.asText()));
        return keys;
    }

    /**
     * A topic an option names that the brokers do not have is refused before the job is built, naming the option: a
     * missing input or control topic failed only in the running job, at every restart; a missing output topic too,
     * on brokers that do not create topics on first use (this fixture's).
     */
    @Test
    void aMissingTopicIsRefusedBeforeTheJob(@TempDir Path dir) throws Exception {
        createTopic("present-in", 1);
        createTopic("present-results", 1);
        createTopic("present-control", 1);
        Path out = dir.resolve("out");
        record Case(String option, String missing, String[] args) {}
        List<Case> cases = List.of(
                new Case("--kafka-topic", "absent-in", args(out, "absent-in", "present-results", true)),
                new Case("--results-topic", "absent-results", args(out, "present-in", "absent-results", true)),
                new Case("--plans-topic", "absent-plans", args(out, "present-in", "present-results", true,
                        "--plans-topic", "absent-plans")),
                new Case("--kafka-control-topic", "absent-control", args(out, "present-in", "present-results",
                        false, "--kafka-control-topic", "absent-control")));
        for (Case c : cases) {
            assertThatThrownBy(() -> KeyshiftJob.main(c.args()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith(KeyshiftJob.USAGE_ERROR_PREFIX + c.option() + ": topic '" + c.missing()
                            + "' does not exist at " + broker.bootstrapServers());
            assertThat(out).as("nothing written for " + c.option()).doesNotExist();
        }
        // a pooling sink describes its topic before it sends a record: refused whatever the brokers create
        assertThatThrownBy(() -> KeyshiftJob.main(args(out, "present-in", "absent-results", true,
                "--kafka-transaction-naming", "pooling")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--results-topic: topic 'absent-results' does not exist")
                .hasMessageContaining("--kafka-transaction-naming pooling needs it before the job starts");
        // an unbounded input of 1 partition read by 4 subtasks without idleness: 3 would never emit a watermark
        assertThatThrownBy(() -> KeyshiftJob.main(args(out, "present-in", "present-results", false,
                "--kafka-idleness", "0")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(KeyshiftJob.USAGE_ERROR_PREFIX + "--kafka-idleness 0 with topic 'present-in' "
                        + "of 1 partition and 4 source subtasks");
        assertThat(out).as("nothing written for --kafka-idleness 0").doesNotExist();
        // ... also where one subtask reads it, but a scaling decision may rescale the source to 4 (Flink rescales it
        // without running main again: the job stalled at 4 with no window firing and no decision to bring it back)
        String[] scaled = args(out, "present-in", "present-results", false, "--kafka-idleness", "0",
                "-Dkeyshift.scaling.capacity=300", "-Dkeyshift.scaling.max-parallelism=4");
        scaled[java.util.Arrays.asList(scaled).indexOf("--parallelism") + 1] = "1";
        assertThatThrownBy(() -> KeyshiftJob.main(scaled))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-idleness 0 with topic 'present-in' of 1 partition and 4 source subtasks "
                        + "(the largest parallelism keyshift.scaling may choose)")
                .hasMessageContaining("lower keyshift.scaling.max-parallelism to at most 1");
        assertThat(out).as("nothing written for --kafka-idleness 0 with scaling").doesNotExist();
        // ... and where reactive mode runs it (hash only: keyshift's stage is refused under it, before the brokers
        // are asked): on as many slots as it gets, up to the max parallelism
        String[] keyshiftReactive = args(out, "present-in", "present-results", false, "--kafka-idleness", "0",
                "-Dscheduler-mode=reactive", "-Dpipeline.max-parallelism=8");
        assertThatThrownBy(() -> KeyshiftJob.main(keyshiftReactive))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not run under Flink's reactive mode")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("pipeline.max-parallelism"));
        String[] reactive = args(out, "present-in", "present-results", false, "--kafka-idleness", "0",
                "-Dscheduler-mode=reactive", "-Dpipeline.max-parallelism=8");
        reactive[java.util.Arrays.asList(reactive).indexOf("--strategy") + 1] = "hash";
        reactive[java.util.Arrays.asList(reactive).indexOf("--parallelism") + 1] = "1";
        assertThatThrownBy(() -> KeyshiftJob.main(reactive))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-idleness 0 with topic 'present-in' of 1 partition and 8 source subtasks "
                        + "(reactive mode runs up to the max parallelism)")
                .hasMessageContaining("lower pipeline.max-parallelism to at most 1");
        assertThat(out).as("nothing written for --kafka-idleness 0 in reactive mode").doesNotExist();
        // ... which a bounded input does not need (its readers without a partition finish)
        assertThatThrownBy(() -> KeyshiftJob.main(args(out, "present-in", "present-results", true,
                "--kafka-idleness", "0", "--kafka-property", "transaction.timeout.ms=1000000")))
                .isInstanceOf(IllegalArgumentException.class)
                // the broker's default maximum, 15 minutes
                .hasMessageStartingWith(KeyshiftJob.USAGE_ERROR_PREFIX + "--kafka-property transaction.timeout.ms is "
                        + "1000000 ms, above the brokers' transaction.max.timeout.ms (900000 ms)");
        assertThat(out).as("nothing written for the transaction timeout").doesNotExist();
        // a control topic of two partitions: commands of one time apply in arrival order, kept within a partition only
        createTopic("two-part-control", 2);
        assertThatThrownBy(() -> KeyshiftJob.main(args(out, "present-in", "present-results", false,
                "--kafka-control-topic", "two-part-control")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(KeyshiftJob.USAGE_ERROR_PREFIX + "--kafka-control-topic: topic "
                        + "'two-part-control' has 2 partitions");
        assertThat(out).as("nothing written for the control topic").doesNotExist();
        // a restore the user asks for is checked as a new job is (it was not: a misspelled topic restarted the job for
        // ever, and at 4 subtasks on 1 partition without idleness it stalled)
        Path savepoint = java.nio.file.Files.createDirectories(dir.resolve("savepoint"));
        String restore = "-Dexecution.state-recovery.path=" + savepoint.toUri();
        assertThatThrownBy(() -> KeyshiftJob.main(args(out, "absent-in", "present-results", false, restore,
                "--kafka-transaction-naming", "incrementing")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(KeyshiftJob.USAGE_ERROR_PREFIX + "--kafka-topic: topic 'absent-in' does not "
                        + "exist");
        assertThatThrownBy(() -> KeyshiftJob.main(args(out, "present-in", "present-results", false,
                "--kafka-idleness", "0", restore, "--kafka-transaction-naming", "incrementing")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-idleness 0 with topic 'present-in' of 1 partition");
    }

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
        // issue 15: a control topic with a pin and a malformed command (live: they apply from the next plan on)
        String pinned = "Mountain View Caltrain Station";
        // ... and an unpin of that key on a second partition (the start-up check skipped): commands apply in arrival
        // order, kept within a partition only, so the job refuses it with the reason rather than apply it
        createTopic("control-idle", 2);
        Properties pp = new Properties();
        pp.put("bootstrap.servers", broker.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (String command : List.of("2014-01-01T00:00:00Z,pin," + pinned, "2014-01-01T00:00:00Z,teleport,x")) {
                producer.send(new ProducerRecord<>("control-idle", 0, null, command.getBytes(StandardCharsets.UTF_8)));
            }
            producer.send(new ProducerRecord<>("control-idle", 1, null, ("2014-01-01T00:00:00Z,unpin," + pinned)
                    .getBytes(StandardCharsets.UTF_8)));
            producer.flush();
        }
        CompletableFuture<Void> job = CompletableFuture.runAsync(() -> {
            try {
                KeyshiftJob.main(args(out, "trips-idle", "results-idle", false, "--kafka-idleness", "2s",
                        "--kafka-control-topic", "control-idle", "--no-kafka-topic-check"));
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
            List<JsonNode> plans = plans(out);
            long lastPlanned = plans.stream().mapToLong(p -> p.get("basedOnWindowEnd").asLong()).max().orElse(0);
            assertThat(lastPlanned).as("the last window a plan is based on").isGreaterThanOrEqualTo(lastWindowEnd - 7 * DAY);
            // the pin took effect from some plan on, and from there the key starts no migration
            long pinnedFrom = plans.stream().filter(p -> pinnedKeys(p).contains(pinned))
                    .mapToLong(p -> p.get("version").asLong()).min().orElse(-1);
            assertThat(pinnedFrom).as("a plan made under the pin").isPositive();
            assertThat(plans.stream().filter(p -> p.get("version").asLong() >= pinnedFrom))
                    .allSatisfy(p -> assertThat(pinnedKeys(p)).contains(pinned));
            for (JsonNode p : plans) {
                for (JsonNode e : p.get("entries")) {
                    JsonNode m = e.get("migration");
                    if (e.get("key").asText().equals(pinned) && m != null && !m.isNull()) {
                        JsonNode mig = m.has("plannedInVersion") ? m : m.elements().next();
                        assertThat(mig.get("plannedInVersion").asLong()).isLessThan(pinnedFrom);
                    }
                }
            }
            List<String> rejected = io.keyshift.jobs.report.ReplayReport.lines(out.resolve("control-rejected"));
            assertThat(rejected).hasSize(2).anySatisfy(r -> assertThat(r).contains("unknown command 'teleport'"))
                    .anySatisfy(r -> assertThat(r).contains("read from partition 1 of --kafka-control-topic "
                            + "control-idle").contains("unpin," + pinned));
            System.out.printf("KafkaIT: partition 3 idle after %s; %,d committed results for the windows up to %s = "
                    + "expected; last plan based on the window ending %s%n", java.time.Instant.ofEpochMilli(firstHourEnd),
                    complete.size(), java.time.Instant.ofEpochMilli(lastWindowEnd), java.time.Instant.ofEpochMilli(lastPlanned));
            System.out.printf("KafkaIT: control topic: %s pinned from plan %d of %d; refused: %s%n",
                    pinned, pinnedFrom, plans.size(), rejected);
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
