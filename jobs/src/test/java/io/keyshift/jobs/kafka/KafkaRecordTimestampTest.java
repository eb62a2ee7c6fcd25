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
}
