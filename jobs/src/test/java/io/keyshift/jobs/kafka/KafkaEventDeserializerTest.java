package io.keyshift.jobs.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyshift.jobs.input.InputSpec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** Issue 16: every Kafka record becomes an event or a dead letter with its reason; nothing is dropped. */
class KafkaEventDeserializerTest {
    private static final InputSpec SPEC = new InputSpec(List.of("station", "start", "duration"), "station",
            List.of("start"), Optional.of("yyyy-MM-dd HH:mm:ssXXX"), Optional.of("duration"));

    private static List<KafkaRecord> read(KafkaEventDeserializer.KafkaFormat format, String... values) throws Exception {
        return read(SPEC, format, values);
    }

    private static List<KafkaRecord> read(InputSpec spec, KafkaEventDeserializer.KafkaFormat format, String... values)
            throws Exception {
        return read(new KafkaEventDeserializer(spec, format), values);
    }

    /** A collector into {@code into}. */
    private static <T> Collector<T> into(List<T> into) {
        return new Collector<>() {
            @Override
            public void collect(T r) {
                into.add(r);
            }

            @Override
            public void close() {}
        };
    }

    private static List<KafkaRecord> read(KafkaEventDeserializer d, String... values) throws Exception {
        d.open(null);
        List<KafkaRecord> out = new ArrayList<>();
        Collector<KafkaRecord> c = into(out);
        for (int i = 0; i < values.length; i++) {
            byte[] v = values[i] == null ? null : values[i].getBytes(StandardCharsets.UTF_8);
            d.deserialize(new ConsumerRecord<>("t", 2, 100 + i, null, v), c);
        }
        return out;
    }

    @Test
    void csvRowsBecomeEventsAndBadOnesDeadLettersWithReasons() throws Exception {
        List<KafkaRecord> r = read(KafkaEventDeserializer.KafkaFormat.CSV,
                "\"Townsend at 7th\",2014-09-01 08:00:00-07:00,600", "only,two", null, "x,not a time,1");
        assertThat(r).hasSize(4);
        assertThat(r.get(0).isDead()).isFalse();
        assertThat(r.get(0).key).isEqualTo("Townsend at 7th");
        assertThat(r.get(0).timestamp).isEqualTo(1409583600000L);
        assertThat(r.get(0).value).isEqualTo(600.0);
        assertThat(r.get(0).sequence).isEqualTo(KafkaRecord.sequence(2, 100)).isEqualTo((2L << 40) | 100);
        assertThat(r.get(1).deadReason).contains("expected 3 columns, found 2");
        assertThat(r.get(1).timestamp).isEqualTo(Long.MIN_VALUE);
        assertThat(r.get(2).deadReason).contains("no value");
        assertThat(r.get(3).deadReason).contains("unparsable time");
        assertThat(r.get(3).deadRaw).isEqualTo("x,not a time,1");
    }

    /**
     * One record dated far ahead (year 3000) had moved its partition's watermark, and so the job's, centuries ahead:
     * every later record was late. It is a dead letter naming the option; a record a few hours ahead is not (clocks
     * differ), nor anything with the guard off.
     */
    @Test
    void anEventTimeFarAheadOfTheWallClockIsADeadLetter() throws Exception {
        InputSpec millis = new InputSpec(SPEC.columns(), "station", List.of("start"), Optional.of("epoch-millis"),
                Optional.of("duration"));
        long now = System.currentTimeMillis();
        String soon = "A," + (now + 3_600_000L) + ",1";
        String later = "B," + (now + 3 * 86_400_000L) + ",1";
        String year3000 = "C,32503680000000,1";
        List<KafkaRecord> r = read(new KafkaEventDeserializer(millis, KafkaEventDeserializer.KafkaFormat.CSV),
                soon, later, year3000, "D,1409583600000,1");
        assertThat(r).extracting(KafkaRecord::isDead).containsExactly(false, true, true, false);
        assertThat(r.get(1).deadReason).contains("lies more than 1 d ahead of the wall clock")
                .contains("keyshift.input.max-event-time-ahead");
        assertThat(r.get(2).deadReason).startsWith("event time 3000-01-01T00:00:00Z");
        assertThat(r.get(2).deadRaw).isEqualTo(year3000);
        assertThat(r.get(2).timestamp).isEqualTo(Long.MIN_VALUE);
        assertThat(read(new KafkaEventDeserializer(millis, KafkaEventDeserializer.KafkaFormat.CSV,
                java.time.Duration.ZERO), later, year3000)).extracting(KafkaRecord::isDead)
                .containsExactly(false, false);
        assertThat(read(new KafkaEventDeserializer(millis, KafkaEventDeserializer.KafkaFormat.CSV,
                java.time.Duration.ofDays(7)), later)).extracting(KafkaRecord::isDead).containsExactly(false);
    }

    /**
     * Under keyshift.privacy.key-secret a dead letter holds no record text and no parser message that quotes it (the
     * JSON parser's "Unrecognized token 'Market'"); partition and offset name the record.
     */
    @Test
    void underAKeySecretDeadLettersHoldNoRecordText() throws Exception {
        String notJson = "Market at 4th,2014-09-01 08:00:00-07:00,600";
        String badTime = "{\"station\":\"Townsend at 7th\",\"start\":\"soon\",\"duration\":1}";
        List<KafkaRecord> plain = read(KafkaEventDeserializer.KafkaFormat.JSON, notJson, badTime);
        assertThat(plain.get(0).deadReason).contains("Market");
        assertThat(plain.get(1).deadRaw).contains("Townsend at 7th");
        List<KafkaRecord> r = read(new KafkaEventDeserializer(SPEC, KafkaEventDeserializer.KafkaFormat.JSON)
                .withoutKeysInDeadLetters(true), notJson, badTime);
        assertThat(r).extracting(KafkaRecord::isDead).containsExactly(true, true);
        assertThat(r.get(0).deadReason).startsWith("not JSON").doesNotContain("Market");
        assertThat(r.get(1).deadReason).contains("unparsable time");
        assertThat(r).extracting(x -> x.deadRaw).containsExactly("", "");
        assertThat(r).extracting(x -> x.offset).containsExactly(100L, 101L);
    }

    @Test
    void jsonObjectsNameTheirFields() throws Exception {
        List<KafkaRecord> r = read(KafkaEventDeserializer.KafkaFormat.JSON,
                "{\"station\":\"Market at 4th\",\"start\":\"2014-09-01 08:00:00-07:00\",\"duration\":42,\"x\":[1]}",
                "{\"station\":\"Market at 4th\",\"duration\":42}", "[1,2]", "{not json", "{\"station\":{},\"start\":\"2014-09-01 08:00:00-07:00\",\"duration\":1}",
                "{\"station\":true,\"start\":\"2014-09-01 08:00:00-07:00\",\"duration\":1}");
        assertThat(r.get(0).isDead()).isFalse();
        assertThat(r.get(0).key).isEqualTo("Market at 4th");
        assertThat(r.get(0).value).isEqualTo(42.0);
        assertThat(r.get(1).deadReason).isEqualTo("missing field 'start'");
        assertThat(r.get(2).deadReason).isEqualTo("not a JSON object");
        assertThat(r.get(3).deadReason).startsWith("not JSON");
        assertThat(r.get(4).deadReason).contains("'station' is not a string or a number");
        // a boolean is neither (it became the key "true")
        assertThat(r.get(5).deadReason).contains("'station' is not a string or a number");
    }

    /**
     * A JSON number as the time: with --time-format epoch-millis (or epoch-seconds) it is read as such; no java.time
     * pattern could read it, so every record of such a topic had been a dead letter.
     */
    @Test
    void aNumericJsonTimeIsReadWithAnEpochTimeFormat() throws Exception {
        InputSpec millis = new InputSpec(SPEC.columns(), "station", List.of("start"), Optional.of("epoch-millis"),
                Optional.of("duration"));
        List<KafkaRecord> r = read(millis, KafkaEventDeserializer.KafkaFormat.JSON,
                "{\"station\":\"a\",\"start\":1409583600000,\"duration\":1}",
                "{\"station\":\"a\",\"start\":\"1409583600001\",\"duration\":1}",
                "{\"station\":\"a\",\"start\":1.4095836E12,\"duration\":1}",
                "{\"station\":\"a\",\"start\":\"yesterday\",\"duration\":1}",
                "{\"station\":\"a\",\"start\":1e30,\"duration\":1}");
        assertThat(r.get(0).timestamp).isEqualTo(1409583600000L);
        assertThat(r.get(1).timestamp).isEqualTo(1409583600001L);
        assertThat(r.get(2).timestamp).isEqualTo(1409583600000L);
        assertThat(r.get(3).deadReason).contains("unparsable time 'yesterday'");
        assertThat(r.get(4).isDead()).isTrue();
        InputSpec seconds = new InputSpec(SPEC.columns(), "station", List.of("start"), Optional.of("epoch-seconds"),
                Optional.of("duration"));
        List<KafkaRecord> s = read(seconds, KafkaEventDeserializer.KafkaFormat.CSV, "a,1409583600.25,1", "a,-1,1");
        assertThat(s.get(0).timestamp).isEqualTo(1409583600250L);
        assertThat(s.get(1).timestamp).isEqualTo(-1000L);
    }

    /** A value of two objects (a batch of newline-delimited JSON) is one dead letter, not its first object's event. */
    @Test
    void aValueWithMoreThanOneJsonObjectIsADeadLetter() throws Exception {
        String one = "{\"station\":\"Market at 4th\",\"start\":\"2014-09-01 08:00:00-07:00\",\"duration\":42}";
        List<KafkaRecord> r = read(KafkaEventDeserializer.KafkaFormat.JSON, one + "\n" + one.replace("4th", "5th"),
                one + "  \n");
        assertThat(r).hasSize(2);
        assertThat(r.get(0).isDead()).isTrue();
        assertThat(r.get(0).deadReason).startsWith("not JSON").contains("Trailing token");
        assertThat(r.get(1).isDead()).as("trailing white space is not another value").isFalse();
        // a field given twice: which one counts is no parser's to choose (the last was taken without a word)
        List<KafkaRecord> twice = read(KafkaEventDeserializer.KafkaFormat.JSON,
                one.replace("{", "{\"station\":\"Market at 5th\","));
        assertThat(twice.get(0).isDead()).isTrue();
        assertThat(twice.get(0).deadReason).startsWith("not JSON").contains("Duplicate field 'station'");
    }

    /**
     * A record of another topic than the job's (a restore from a savepoint of a job that read it: the restored source
     * reads on in its partitions) fails the job without restarts, naming both topics; it was read into the output.
     */
    @Test
    void aRecordOfAnotherTopicFailsTheJobNamingBothTopics() throws Exception {
        KafkaEventDeserializer d = new KafkaEventDeserializer(SPEC, KafkaEventDeserializer.KafkaFormat.CSV)
                .readingTopic("trips-v2");
        d.open(null);
        List<KafkaRecord> out = new ArrayList<>();
        Collector<KafkaRecord> c = into(out);
        byte[] row = "a,2014-09-01 08:00:00-07:00,1".getBytes(StandardCharsets.UTF_8);
        d.deserialize(new ConsumerRecord<>("trips-v2", 0, 0, null, row), c);
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> d.deserialize(new ConsumerRecord<>("trips", 0, 7, null, row), c))
                .satisfies(e -> assertThat(org.apache.flink.util.ExceptionUtils.findThrowable(e,
                        org.apache.flink.runtime.execution.SuppressRestartsException.class)).isPresent())
                .hasStackTraceContaining("read a record of topic trips, and this job reads --kafka-topic trips-v2");
        assertThat(out).hasSize(1);
        // the control topic's lines alike
        var lines = new KafkaIo.ControlLines("steer");
        List<org.apache.flink.api.java.tuple.Tuple2<Integer, String>> commands = new ArrayList<>();
        Collector<org.apache.flink.api.java.tuple.Tuple2<Integer, String>> cc = into(commands);
        lines.deserialize(new ConsumerRecord<>("steer", 0, 0, null, "x".getBytes(StandardCharsets.UTF_8)), cc);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> lines.deserialize(new ConsumerRecord<>("old", 0, 0,
                        null, "x".getBytes(StandardCharsets.UTF_8)), cc))
                .hasStackTraceContaining("--kafka-control-topic steer");
        lines.deserialize(new ConsumerRecord<>("steer", 1, 0, null, null), cc);
        assertThat(commands).containsExactly(org.apache.flink.api.java.tuple.Tuple2.of(0, "x"),
                org.apache.flink.api.java.tuple.Tuple2.of(1, ""));
    }

    /**
     * A control record of a partition other than 0 (one added while the job runs, or a topic whose start-up check was
     * skipped): refused with the reason into the side output, counted, and not passed on (commands apply in arrival
     * order, which Kafka keeps only within a partition; such a record was applied as any other).
     */
    @Test
    void aControlRecordOfAnotherPartitionIsRefusedWithItsReason() throws Exception {
        try (var h = org.apache.flink.streaming.util.ProcessFunctionTestHarnesses.forProcessFunction(
                new KafkaIo.ControlPartitions("steer", null))) {
            h.processElement(org.apache.flink.api.java.tuple.Tuple2.of(0, "2014-01-01T00:00:00Z,pin,a"), 5);
            h.processElement(org.apache.flink.api.java.tuple.Tuple2.of(1, "2014-01-01T00:00:00Z,unpin,a"), 6);
            assertThat(h.extractOutputValues()).containsExactly("2014-01-01T00:00:00Z,pin,a");
            var refused = h.getSideOutput(KafkaIo.CONTROL_REFUSED);
            assertThat(refused).singleElement().satisfies(r -> assertThat(r.getValue())
                    .startsWith("\"read from partition 1 of --kafka-control-topic steer: ")
                    .endsWith(",\"2014-01-01T00:00:00Z,unpin,a\""));
        }
        // under a key secret the refused line names its key by its pseudonym, as the planner's refusals do
        String secret = "0123456789abcdef-secret";
        var pseudonymizer = io.keyshift.route.KeyPseudonymizer.fromSecret(secret);
        try (var h = org.apache.flink.streaming.util.ProcessFunctionTestHarnesses.forProcessFunction(
                new KafkaIo.ControlPartitions("steer", new io.keyshift.control.ControlKeyPseudonyms(pseudonymizer,
                        io.keyshift.route.KeyCodec.forType(org.apache.flink.api.common.typeinfo.Types.STRING,
                                new org.apache.flink.api.common.serialization.SerializerConfigImpl()))))) {
            h.processElement(org.apache.flink.api.java.tuple.Tuple2.of(1, "2014-01-01T00:00:00Z,pin,Market at 4th"),
                    6);
            assertThat(h.getSideOutput(KafkaIo.CONTROL_REFUSED)).singleElement().satisfies(r -> assertThat(
                    r.getValue()).doesNotContain("Market at 4th").contains(pseudonymizer.pseudonym("Market at 4th")));
        }
    }
}
