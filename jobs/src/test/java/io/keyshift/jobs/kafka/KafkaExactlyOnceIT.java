package io.keyshift.jobs.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keyshift.jobs.KeyshiftJob;
import io.keyshift.jobs.workload.FailOnce;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 16, acceptance 1 (slow, failsafe): see {@link KafkaJobFixture}. */
class KafkaExactlyOnceIT extends KafkaJobFixture {
    /**
     * Acceptance 1: predictive at p=4 migrates (at least 20 completed migrations), fails once during a shadow phase
     * and is restored from its last checkpoint; the results topic, read with {@code isolation.level=read_committed},
     * holds exactly the expected results: none missing, none doubled. Three such jobs run one after another in this
     * JVM and against one broker, each failing in a different shadow phase (the first three from June on), each
     * writing its own results topic: a warm JVM makes the jobs fast and moves the failure against the checkpoints.
     * The run without a fault reads a copy of the topic that ends with a copy of the first trip in partition 0, months
     * behind its watermark: it writes it once under {@code late-records/} (partition, offset) and counts it in no
     * result. (Not the runs that fail: watermarks are not checkpointed, and a record read soon after a restore may
     * not be late, under keyBy as here.)
     */
    @Test
    void predictiveBetweenTopicsFailsDuringAShadowPhaseAndItsCommittedResultsAreExact(@TempDir Path dir) throws Exception {
        produce("trips", 4, i -> i % 4);
        produce("trips-late", 4, i -> i % 4);
        Trip first = trips.get(0);
        long lateOffset = (trips.size() + 3) / 4;
        java.util.Properties pp = new java.util.Properties();
        pp.put("bootstrap.servers", broker.bootstrapServers());
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(pp,
                new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("trips-late", 0, first.time(),
                    first.station().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    first.line().getBytes(java.nio.charset.StandardCharsets.UTF_8))).get();
            // and a record that is no trip, in partition 1: a dead letter with its partition, offset and reason
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("trips-late", 1, first.time(),
                    null, "not a trip at all".getBytes(java.nio.charset.StandardCharsets.UTF_8))).get();
        }
        long badOffset = java.util.stream.IntStream.range(0, trips.size()).filter(i -> i % 4 == 1).count();
        String lateLine = "0," + lateOffset + "," + java.time.Instant.ofEpochMilli(first.time()) + ",";
        createTopic("results-dry", 4);
        // a first run without a fault shows the shadow phases (plans are deterministic): the failures are put in the
        // middle of the first three from June on
        Path dry = dir.resolve("dry");
        createTopic("plans-dry", 1);
        createTopic("validation-dry", 4);
        // a bounded read has no idleness by default (until 2026-12-07 it had 30 s, and a partition whose reader
        // delivered nothing for 30 s on a loaded machine was taken for idle, the others' watermark overtaking its
        // records: a CI run on 2026-12-06 lost early windows' records in this dry run, 141 s instead of about 70)
        KeyshiftJob.main(args(dry, "trips-late", "results-dry", true, "--plans-topic", "plans-dry",
                "--validation-topic", "validation-dry", "--kafka-transaction-naming", "pooling"));
        assertThat(sorted(readCommitted("results-dry"))).as("results of the run without a fault (%s)",
                offsets("results-dry")).isEqualTo(sorted(expected(t -> true)));
        // kept for a restore, which cannot switch its sinks back to incrementing
        assertThat(java.nio.file.Files.readString(dry.resolve(KafkaOptions.TRANSACTION_NAMING_FILE)).strip())
                .isEqualTo("pooling");
        // and the topic it read, which a resume must read on in (another is refused)
        assertThat(java.nio.file.Files.readString(dry.resolve(KeyshiftJob.KAFKA_TOPICS_FILE)))
                .startsWith("topic=trips-late\n").contains("\nresults-topic=results-dry\n")
                .contains("\nplans-topic=plans-dry\n");
        assertThat(committedLines(dry.resolve("late-records"))).singleElement().asString().startsWith(lateLine)
                .contains(io.keyshift.jobs.workload.Csv.quote(first.station()));
        System.out.printf("KafkaIT: the late copy of the first trip, under late-records/: %s%n",
                committedLines(dry.resolve("late-records")).get(0));
        // the record that is no trip: once under dead-letters/ (partition, offset, reason, the raw record), in no
        // result (they equal the trips' above)
        assertThat(committedLines(dry.resolve("dead-letters"))).singleElement().asString()
                .startsWith("1," + badOffset + ",").contains("not a trip at all");
        System.out.printf("KafkaIT: the record that is no trip, under dead-letters/: %s%n",
                committedLines(dry.resolve("dead-letters")).get(0));
        // --kafka-transaction-naming pooling: a few ids per subtask, not one per checkpoint that the broker keeps
        // for 7 days (ids are <prefix>-<subtask>-<n>)
        // under the job's own default prefix, keyshift:<topic>:<job id>:, the id kept in --out for its restores
        String jobId = java.nio.file.Files.readString(dry.resolve(KafkaOptions.TRANSACTIONAL_ID_FILE)).strip();
        assertThat(java.util.UUID.fromString(jobId).toString()).isEqualTo(jobId);
        assertThat(transactionalIds("keyshift:results-dry:")).isNotEmpty()
                .allMatch(id -> id.startsWith("keyshift:results-dry:" + jobId + ":-"));
        java.util.Set<String> ids = transactionalIds("keyshift:results-dry:" + jobId + ":");
        System.out.printf("KafkaIT: the results sink of the run without a fault (pooling) used %d transactional ids: "
                + "%s%n", ids.size(), ids);
        Map<String, Long> perSubtask = new TreeMap<>();
        for (String id : ids) {
            String[] parts = id.split("-");
            perSubtask.merge(parts[parts.length - 2], 1L, Long::sum);
        }
        assertThat(perSubtask).as("transactional ids per subtask of the results sink").hasSize(4)
                .allSatisfy((subtask, n) -> assertThat(n).isLessThanOrEqualTo(3));
        // the plans and the validation reports also went to their topics, line for line as in the files
        List<String> planLines = readCommitted("plans-dry");
        assertThat(planLines).hasSize(plans(dry).size()).hasSizeGreaterThan(300);
        ObjectMapper json = new ObjectMapper();
        List<Long> topicVersions = new ArrayList<>();
        for (String line : planLines) {
            topicVersions.add(json.readTree(line).get("version").asLong());
        }
        assertThat(topicVersions).containsExactlyInAnyOrderElementsOf(
                plans(dry).stream().map(p -> p.get("version").asLong()).toList());
        assertThat(sorted(readCommitted("validation-dry")))
                .isEqualTo(sorted(io.keyshift.jobs.report.ReplayReport.lines(dry.resolve("validation"))))
                .hasSizeGreaterThan(300);
        System.out.printf("KafkaIT: the run without a fault wrote %,d plans to plans-dry and %,d validation reports to "
                + "validation-dry, as in its files%n", planLines.size(), readCommitted("validation-dry").size());
        long june = OffsetDateTime.parse("2014-06-01T00:00:00Z").toInstant().toEpochMilli();
        List<Long> failures = migrations(plans(dry)).stream()
                .filter(m -> m.get("shadowFrom").asLong() >= june && m.get("switchAt").asLong() > m.get("shadowFrom").asLong())
                .map(m -> (m.get("shadowFrom").asLong() + m.get("switchAt").asLong()) / 2).distinct().sorted()
                .limit(3).toList();
        assertThat(failures).as("shadow phases from June on").hasSize(3);
        List<String> summary = new ArrayList<>();
        for (int run = 0; run < failures.size(); run++) {
            long failAt = failures.get(run);
            String topic = "results-" + run;
            createTopic(topic, 4);
            Path out = dir.resolve("out-" + run);
            String fault = "kafka-it-shadow-" + run;
            // the first job names its transactions from a pool (its restore aborts by listing them), the others
            // with the connector's default (a new id per checkpoint; the restore probes them)
            String naming = run == 0 ? "pooling" : "incrementing";
            KeyshiftJob.main(args(out, "trips", topic, true,
                    "-Dkeyshift.fault.window-failure-times=" + failAt, "-Dkeyshift.fault.id=" + fault,
                    "-Dexecution.checkpointing.dir=" + dir.resolve("checkpoints-" + run).toUri(),
                    // as ClusterIT: a checkpoint stalled by the failure expires rather than holding the job 10 min
                    "-Dexecution.checkpointing.timeout=30s",
                    "--kafka-transaction-naming", naming, "--kafka-idleness", "0"));

            assertThat(FailOnce.fired(fault)).as("injected failures").isEqualTo(1);
            assertThat(java.nio.file.Files.readString(out.resolve(KafkaOptions.TRANSACTION_NAMING_FILE)).strip())
                    .isEqualTo(naming);
            List<JsonNode> plans = plans(out);
            long completed = plans.stream().mapToLong(p -> p.get("migrationsCompleted").asLong()).sum();
            assertThat(completed).as("completed migrations").isGreaterThanOrEqualTo(20);
            assertThat(migrations(plans).stream().anyMatch(m -> m.get("shadowFrom").asLong() <= failAt
                    && failAt < m.get("switchAt").asLong()))
                    .as("a migration in its shadow phase at the failure time %d; shadow phases around it: %s", failAt,
                            migrations(plans).stream().filter(m -> Math.abs(m.get("shadowFrom").asLong() - failAt) < 5 * DAY)
                                    .map(m -> m.get("shadowFrom").asLong() + ".." + m.get("switchAt").asLong()).distinct()
                                    .toList())
                    .isTrue();

            List<String> results = readCommitted(topic);
            java.util.Set<String> got = new java.util.HashSet<>(results);
            Map<String, Long> missingByMonth = new TreeMap<>();
            for (String e : expected(t -> true)) {
                if (!got.contains(e)) {
                    missingByMonth.merge(java.time.Instant.ofEpochMilli(windowEnd(e)).toString().substring(0, 7), 1L,
                            Long::sum);
                }
            }
            assertThat(results).as("run %d: committed results (%s); missing by month %s", run, offsets(topic),
                    missingByMonth).hasSize(expected(t -> true).size());
            assertThat(sorted(results)).isEqualTo(sorted(expected(t -> true)));
            assertThat(deadLetters(out)).isZero();
            summary.add(String.format("failure at %s (%s, %d transactional ids): %,d completed migrations, %,d "
                    + "committed results = expected", java.time.Instant.ofEpochMilli(failAt), naming,
                    transactionalIds("keyshift:" + topic + ":").size(), completed, results.size()));
        }
        System.out.printf("KafkaIT: %,d trips on 4 partitions; three jobs, each failing once in a shadow phase and "
                + "restored from its last checkpoint:%n  %s%n", trips.size(), String.join("\n  ", summary));
    }
}
