package io.keyshift.jobs.kafka;

import io.keyshift.jobs.input.EventParser;
import io.keyshift.jobs.input.InputSpec;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Parses each Kafka record's value, one CSV row ({@code --columns} in order, no header) or one JSON object (fields
 * named like the columns), into a {@link KafkaRecord}: an event, or a dead letter with the reason. Parsing here, in
 * the source, lets Flink's per-partition watermarks see the event times. A record with no value (a tombstone) is a
 * dead letter too, and so is one whose event time lies further ahead of the wall clock than
 * {@code keyshift.input.max-event-time-ahead}. Nothing is dropped.
 */
public final class KafkaEventDeserializer implements KafkaRecordDeserializationSchema<KafkaRecord> {
    private static final long serialVersionUID = 1L;

    // InputSpec's Optionals are not serializable: its parts travel instead
    private final java.util.ArrayList<String> columns;
    private final String keyColumn;
    private final java.util.ArrayList<String> timeColumns;
    private final String timeFormat;
    private final String sumField;
    private final String timeZone;
    private final KafkaFormat format;
    /** A record's event time may lie this far ahead of the wall clock (ms); 0: any. */
    private final long maxAheadMillis;
    /** The topic the job reads, or null (any): a record of another comes from a savepoint's restored partitions. */
    private String topic;
    /** {@link #withoutKeysInDeadLetters}. */
    private boolean withoutKeys;
    private transient EventParser parser;

    /** With {@code keyshift.input.max-event-time-ahead}'s default (1 day). */
    public KafkaEventDeserializer(InputSpec spec, KafkaFormat format) {
        this(spec, format, io.keyshift.jobs.replay.Workload.MAX_EVENT_TIME_AHEAD.defaultValue());
    }

    /**
     * @param maxAhead how far a record's event time may lie ahead of the wall clock when the source reads it
     *                 ({@code keyshift.input.max-event-time-ahead}); a record further ahead is a dead letter with the
     *                 reason. Zero: any; >= 0
     */
    public KafkaEventDeserializer(InputSpec spec, KafkaFormat format, java.time.Duration maxAhead) {
        if (maxAhead.isNegative()) {
            throw new IllegalArgumentException("maxAhead must be >= 0, was " + maxAhead);
        }
        this.maxAheadMillis = maxAhead.toMillis();
        this.columns = new java.util.ArrayList<>(spec.columns());
        this.keyColumn = spec.keyColumn();
        this.timeColumns = new java.util.ArrayList<>(spec.timeColumns());
        this.timeFormat = spec.timeFormat().orElse(null);
        this.sumField = spec.sumField().orElse(null);
        this.timeZone = spec.timeZone();
        this.format = format;
        // fail on the client, before the job starts, if the options name unknown columns or a bad pattern
        newParser();
    }

    private EventParser newParser() {
        InputSpec spec = new InputSpec(columns, keyColumn, timeColumns, java.util.Optional.ofNullable(timeFormat),
                java.util.Optional.ofNullable(sumField), timeZone);
        return format == KafkaFormat.JSON ? EventParser.forFields(spec) : new EventParser(spec, spec.columns());
    }

    /**
     * Fails the job, without restarts, at a record of another topic than {@code topic}: a job restored from a savepoint
     * of a job that read another topic reads on in that topic's partitions (Flink's Kafka source keeps its splits and
     * takes the new topic's beside them), which would mix both topics into one output.
     */
    public KafkaEventDeserializer readingTopic(String topic) {
        this.topic = topic;
        return this;
    }

    /**
     * Under {@code keyshift.privacy.key-secret}: dead letters carry no record text and no parser message that may
     * quote it ({@link io.keyshift.jobs.input.DeadLetter#withoutKeys()}); the partition and offset name the record.
     */
    public KafkaEventDeserializer withoutKeysInDeadLetters(boolean withoutKeys) {
        this.withoutKeys = withoutKeys;
        return this;
    }

    /** The failure for a record of topic {@code read} in a source of {@code option} {@code topic}. */
    static RuntimeException otherTopic(String option, String topic, String read) {
        return io.keyshift.config.JobOptions.unrecoverable("the Kafka source read a record of topic " + read + ", and "
                + "this job reads " + option + " " + topic + ": it was restored from a savepoint of a job that read "
                + read + ", whose partitions a restored source reads on in; restore with " + option + " " + read
                + ", or start the job without the savepoint");
    }

    @Override
    public void open(DeserializationSchema.InitializationContext context) {
        parser = newParser();
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<KafkaRecord> out) {
        if (parser == null) {
            parser = newParser();
        }
        if (topic != null && !topic.equals(record.topic())) {
            throw otherTopic("--kafka-topic", topic, record.topic());
        }
        KafkaRecord r = new KafkaRecord();
        r.partition = record.partition();
        r.offset = record.offset();
        r.sequence = KafkaRecord.sequence(record.partition(), record.offset());
        byte[] value = record.value();
        EventParser.Parsed p;
        if (value == null) {
            p = new EventParser.Parsed(null, new io.keyshift.jobs.input.DeadLetter("", record.offset(),
                    "record has no value (a tombstone)"));
        } else {
            p = format == KafkaFormat.JSON ? parser.parseJson(value, record.offset()) : parser.parse(value, record.offset());
        }
        if (p.event() != null && maxAheadMillis > 0) {
            long now = System.currentTimeMillis();
            if (p.event().timestamp - maxAheadMillis > now) {
                // one record dated year 3000 would move its partition's watermark, and so the job's, centuries ahead:
                // every later record would be late
                p = new EventParser.Parsed(null, new io.keyshift.jobs.input.DeadLetter(
                        new String(value, java.nio.charset.StandardCharsets.UTF_8), record.offset(), "event time "
                        + java.time.Instant.ofEpochMilli(p.event().timestamp) + " lies more than "
                        + org.apache.flink.util.TimeUtils.formatWithHighestUnit(java.time.Duration.ofMillis(maxAheadMillis)) + " ahead of the wall clock ("
                        + java.time.Instant.ofEpochMilli(now) + ") (keyshift.input.max-event-time-ahead)"));
            }
        }
        if (p.event() != null) {
            r.timestamp = p.event().timestamp;
            r.key = p.event().key;
            r.value = p.event().value;
        } else {
            io.keyshift.jobs.input.DeadLetter d = withoutKeys ? p.deadLetter().withoutKeys() : p.deadLetter();
            r.timestamp = Long.MIN_VALUE;
            r.deadRaw = value == null ? "" : d.raw();
            r.deadReason = d.reason();
        }
        out.collect(r);
    }

    @Override
    public TypeInformation<KafkaRecord> getProducedType() {
        return TypeInformation.of(KafkaRecord.class);
    }

    /** The record value's format. */
    public enum KafkaFormat {
        /** One CSV row (RFC 4180) per record, the columns given by {@code --columns}. */
        CSV,
        /** One JSON object per record; the key, time and sum columns name its fields (values as text or numbers). */
        JSON
    }
}
