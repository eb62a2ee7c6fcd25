package io.keyshift.jobs.kafka;

import io.keyshift.jobs.event.Event;
import io.keyshift.route.KeyPseudonymizer;

import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kafka job's late records: under keyshift.privacy.key-secret a late record's line names its key by pseudonym, as
 * every other output of keyshift's does (the dead letters hold no record text); it held the raw key.
 */
class KafkaLateLinesTest {
    private static final String SECRET = "late-lines-test-secret-0123";

    private static String line(KafkaIo.LateLines f, Event e) throws Exception {
        try (var h = ProcessFunctionTestHarnesses.forProcessFunction(f)) {
            h.processElement(e, e.timestamp);
            return h.extractOutputValues().get(0);
        }
    }

    @Test
    void aLateRecordsKeyIsItsPseudonymUnderAKeySecret() throws Exception {
        Event e = new Event(1_409_558_400_000L, "acct 4711", 3.0, KafkaRecord.sequence(2, 17));
        assertThat(line(new KafkaIo.LateLines(null), e)).isEqualTo("2,17,2014-09-01T08:00:00Z,,acct 4711,3.0");
        KeyPseudonymizer p = KeyPseudonymizer.fromSecret(SECRET);
        assertThat(line(new KafkaIo.LateLines(p), e)).isEqualTo("2,17,2014-09-01T08:00:00Z,," + p.pseudonym("acct 4711")
                + ",3.0").doesNotContain("4711");
    }
}
