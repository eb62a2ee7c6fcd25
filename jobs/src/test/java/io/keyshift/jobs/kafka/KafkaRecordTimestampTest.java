package io.keyshift.jobs.kafka;

import io.keyshift.jobs.workload.WindowResult;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Kafka 4 broker refuses a record stamped more than an hour ahead of its clock: the sinks stamp a result or line
 * with its element's time only where that is at most half an hour ahead of this machine's clock (the end of a bounded
 * input fires the current window, whose end may lie hours ahead), and with none (the producer's send time) otherwise.
 */
class KafkaRecordTimestampTest {
    @Test
    void recordsAheadOfTheClockOrOutOfRangeGoWithoutTheirTimestamp() {
        WindowResult r = new WindowResult();
        r.key = "station-70";
        r.windowStart = 0;
        r.windowEnd = 86_400_000L;
        r.count = 3;
        KafkaIo.ResultRecord results = new KafkaIo.ResultRecord("trip-counts", false);
        long past = 1_404_431_999_999L;
        ProducerRecord<byte[], byte[]> kept = results.serialize(r, null, past);
        assertThat(kept.timestamp()).isEqualTo(past);
        assertThat(new String(kept.key(), StandardCharsets.UTF_8)).isEqualTo("station-70");
        assertThat(new String(kept.value(), StandardCharsets.UTF_8)).isEqualTo(r.toCsv(false));
        assertThat(kept.topic()).isEqualTo("trip-counts");
        // a few minutes ahead (a producer's clock a little fast) keeps its time
        long soon = System.currentTimeMillis() + 5 * 60_000L;
        assertThat(results.serialize(r, null, soon).timestamp()).isEqualTo(soon);
        long tomorrow = System.currentTimeMillis() + 86_400_000L;
        assertThat(results.serialize(r, null, tomorrow).timestamp()).isNull();
        KafkaIo.LineRecord lines = new KafkaIo.LineRecord("plans");
        assertThat(lines.serialize("plan", null, past).timestamp()).isEqualTo(past);
        assertThat(lines.serialize("plan", null, tomorrow).timestamp()).isNull();
        assertThat(lines.serialize("plan", null, Long.MAX_VALUE).timestamp()).isNull();
        assertThat(lines.serialize("plan", null, null).timestamp()).isNull();
    }

    /**
     * A plan of thousands of routing entries with long keys is more than the producer sends (max.request.size, 1 MiB
     * by default): the send failed the job, and the restored job made the same plan and failed again, for ever. Such
     * a record is now left out of its topic, counted and logged; others go as before.
     */
    @Test
    void aRecordLargerThanTheProducerSendsIsLeftOutNotSent() {
        java.util.Properties producer = new java.util.Properties();
        assertThat(KafkaIo.maxRecordBytes(producer)).isEqualTo(1_048_576 - 1024);
        producer.setProperty("max.request.size", "4194304");
        assertThat(KafkaIo.maxRecordBytes(producer)).isEqualTo(4_194_304 - 1024);
        KafkaIo.LineRecord lines = new KafkaIo.LineRecord("plans");
        lines.maxBytes = KafkaIo.maxRecordBytes(new java.util.Properties());
        String large = "x".repeat(1_048_576);
        assertThat(lines.serialize(large, null, 1_000L)).isNull();
        assertThat(lines.serialize("x".repeat(1_048_576 - 1024), null, 1_000L).value()).hasSize(1_048_576 - 1024);
        assertThat(lines.serialize("plan", null, 1_000L).value()).hasSize(4);
        // a result has no file where it goes to a topic: sent (a send that fails fails the job), never left out
        KafkaIo.ResultRecord results = new KafkaIo.ResultRecord("counts", false);
        results.maxBytes = 8;
        WindowResult r = new WindowResult();
        r.key = "station-70";
        r.windowStart = 0;
        r.windowEnd = 86_400_000L;
        r.count = 3;
        assertThat(results.serialize(r, null, 1_000L)).isNotNull();
    }
}
