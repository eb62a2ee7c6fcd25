package io.keyshift.jobs.kafka;

import io.keyshift.jobs.event.Event;
import io.keyshift.jobs.input.InputSpec;
import io.keyshift.jobs.workload.Csv;
import io.keyshift.jobs.workload.WindowResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import picocli.CommandLine;

/**
 * Kafka in and out for the cluster job: a {@code KafkaSource} whose records become {@link Event}s (per-partition
 * watermarks with bounded out-of-orderness and idleness) plus a dead-letter stream, and an exactly-once
 * {@code KafkaSink} for the results.
 */
public final class KafkaIo {
    private KafkaIo() {}

    /** Uid of the Kafka source (stable: a savepoint maps the source's offsets by it). */
    public static final String SOURCE_UID = "keyshift-kafka-source";
    /** Uid of the results sink. */
    public static final String RESULTS_SINK_UID = "keyshift-kafka-results-sink";

    /** Uid of the control topic's source. */
    public static final String CONTROL_SOURCE_UID = "keyshift-kafka-control-source";

    /** Uid of the operator that takes the control topic's lines of partition 0 and refuses the others'. */
    public static final String CONTROL_LINES_UID = "keyshift-kafka-control-lines";

    /**
     * The control topic's records of a partition other than 0, refused as they are read: {@code reason,line} (CSV, as
     * the planner's refused commands in {@code control-rejected/}).
     */
    public static final OutputTag<String> CONTROL_REFUSED = new OutputTag<>("kafka-control-refused", Types.STRING);

    /**
     * The control topic's record values of its partition 0 as command lines (UTF-8; a tombstone is an empty line,
     * which changes nothing), from the earliest offset, with {@code Long.MAX_VALUE} watermarks: a live input, whose
     * commands apply from the next plan on ({@link io.keyshift.control.ControlInputs#liveWatermarks()}), in the group
     * {@code groupId}-control. Commands apply in the order they arrive, which Kafka keeps only within a partition:
     * the records of any other partition (one added while the job runs, or a topic whose start-up check was skipped)
     * go to the side output {@link #CONTROL_REFUSED} with the reason, counted in
     * {@code keyshiftControlCommandsRejected}, and change nothing; under {@code keySecret}
     * ({@code keyshift.privacy.key-secret}, or null) with the keys they name as pseudonyms, as the planner writes the
     * lines it refuses.
     */
    public static SingleOutputStreamOperator<String> control(StreamExecutionEnvironment env, KafkaOptions k,
                                                             String groupId, String keySecret) {
        KafkaSource<org.apache.flink.api.java.tuple.Tuple2<Integer, String>> source = KafkaSource
                .<org.apache.flink.api.java.tuple.Tuple2<Integer, String>>builder()
                .setBootstrapServers(k.bootstrapServers)
                .setTopics(k.controlTopicName())
                .setGroupId(groupId + "-control")
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setDeserializer(new ControlLines(k.controlTopicName()))
                .setProperties(k.sourceProperties())
                .build();
        return env.fromSource(source, io.keyshift.control.ControlInputs.liveWatermarks(), "kafka control source")
                .uid(CONTROL_SOURCE_UID)
                .setParallelism(1)
                .process(new ControlPartitions(k.controlTopicName(), keySecret == null ? null
                        : new io.keyshift.control.ControlKeyPseudonyms(
                        io.keyshift.route.KeyPseudonymizer.fromSecret(keySecret),
                        io.keyshift.route.KeyCodec.forType(Types.STRING, env.getConfig().getSerializerConfig()))))
                .name("kafka control lines")
                .uid(CONTROL_LINES_UID)
                .setParallelism(1);
    }

    /** Lines of partition 0 on; the others' to {@link #CONTROL_REFUSED}, with the reason, counted. */
    static final class ControlPartitions
            extends ProcessFunction<org.apache.flink.api.java.tuple.Tuple2<Integer, String>, String> {
        private static final long serialVersionUID = 1L;
        private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ControlPartitions.class);
        private final String topic;
        /** The keys of a refused line as pseudonyms (under a key secret), or null: as they are. */
        private final io.keyshift.control.ControlKeyPseudonyms pseudonyms;
        private transient Counter refused;

        ControlPartitions(String topic, io.keyshift.control.ControlKeyPseudonyms pseudonyms) {
            this.topic = topic;
            this.pseudonyms = pseudonyms;
        }

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext context) {
            refused = getRuntimeContext().getMetricGroup().counter(io.keyshift.metrics.KeyshiftMetrics.CONTROL_REJECTED);
        }

        @Override
        public void processElement(org.apache.flink.api.java.tuple.Tuple2<Integer, String> line, Context ctx,
                                   Collector<String> out) {
            if (line.f0 == 0) {
                out.collect(line.f1);
                return;
            }
            String reason = "read from partition " + line.f0 + " of --kafka-control-topic " + topic + ": commands "
                    + "apply in the order they arrive, which Kafka keeps only within a partition, so the job takes "
                    + "commands from partition 0 only; send them there (a topic of one partition)";
            // neither the log nor control-rejected/ echoes a key under a key secret
            String shown = pseudonyms == null ? line.f1 : pseudonyms.map(line.f1);
            LOG.warn("Control command refused ({}): {}", reason, shown);
            refused.inc();
            ctx.output(CONTROL_REFUSED, org.apache.commons.csv.CSVFormat.RFC4180.format(reason, shown));
        }
    }

    /** A record value as one line of text (a tombstone as an empty line), with the record's partition. */
    static final class ControlLines implements org.apache.flink.connector.kafka.source.reader.deserializer
            .KafkaRecordDeserializationSchema<org.apache.flink.api.java.tuple.Tuple2<Integer, String>> {
        private static final long serialVersionUID = 1L;
        /** The control topic; a record of another comes from a savepoint's restored partitions (fails the job). */
        private final String topic;

        ControlLines(String topic) {
            this.topic = topic;
        }

        @Override
        public void deserialize(org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]> record,
                                org.apache.flink.util.Collector<org.apache.flink.api.java.tuple.Tuple2<Integer, String>>
                                        out) {
            if (topic != null && !topic.equals(record.topic())) {
                throw KafkaEventDeserializer.otherTopic("--kafka-control-topic", topic, record.topic());
            }
            out.collect(org.apache.flink.api.java.tuple.Tuple2.of(record.partition(), record.value() == null ? ""
                    : new String(record.value(), java.nio.charset.StandardCharsets.UTF_8)));
        }

        @Override
        public org.apache.flink.api.common.typeinfo.TypeInformation<org.apache.flink.api.java.tuple.Tuple2<Integer,
                String>> getProducedType() {
            return Types.TUPLE(Types.INT, Types.STRING);
        }
    }

    /** Dead letters: {@code partition,offset,reason,raw} (reason and raw quoted as CSV). */
    public static final OutputTag<String> DEAD_LETTERS = new OutputTag<>("kafka-dead-letters", Types.STRING);

    /**
     * The topic's records as events, at {@code parallelism}; its side output {@link #DEAD_LETTERS} carries every
     * record that did not parse or whose event time lies more than {@code maxAhead} ahead of the wall clock
     * ({@code keyshift.input.max-event-time-ahead}; 0: any), with the reason, and the metric
     * {@code keyshiftDeadLetters} counts them. {@code groupId}: the consumer group ({@link KafkaOptions#groupId});
     * {@code keySecret}: keyshift.privacy.key-secret is set, and the dead letters hold no record text.
     */
    public static SingleOutputStreamOperator<Event> events(StreamExecutionEnvironment env, CommandLine cl,
                                                           KafkaOptions k, InputSpec spec, int parallelism,
                                                           Duration maxAhead, String groupId, boolean keySecret) {
        KafkaSourceBuilder<KafkaRecord> b = KafkaSource.<KafkaRecord>builder()
                .setBootstrapServers(k.bootstrapServers)
                .setTopics(k.topic)
                .setGroupId(groupId)
                .setDeserializer(new KafkaEventDeserializer(spec, k.format(cl), maxAhead).readingTopic(k.topic)
                        .withoutKeysInDeadLetters(keySecret))
                .setProperties(k.sourceProperties());
        b.setStartingOffsets(switch (k.offsets(cl)) {
            case "earliest" -> OffsetsInitializer.earliest();
            case "latest" -> OffsetsInitializer.latest();
            default -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
        });
        if (k.bounded) {
            b.setBounded(OffsetsInitializer.latest());
        }
        return env.fromSource(b.build(), watermarks(k.maxOutOfOrderness(cl), k.idleness(cl)), "kafka source")
                .uid(SOURCE_UID)
                .setParallelism(parallelism)
                .process(new Split())
                .name("kafka records")
                .uid("keyshift-kafka-records")
                .setParallelism(parallelism);
    }

    /**
     * Per-partition watermarks of the source: bounded out-of-orderness, idleness after {@code idle} of processing
     * time without a record that parsed (0: none). A record that did not parse (a dead letter, timestamp
     * {@code Long.MIN_VALUE}) is not seen by the watermark generator: it neither moves the watermark nor keeps the
     * partition active, so a partition that receives only bad records goes idle and holds back no window or plan
     * (with an idleness: a bounded read has none unless --kafka-idleness is given, see {@link KafkaOptions#idleness}).
     */
    static WatermarkStrategy<KafkaRecord> watermarks(Duration maxOutOfOrderness, Duration idle) {
        WatermarkStrategy<KafkaRecord> bounded = WatermarkStrategy.forBoundedOutOfOrderness(maxOutOfOrderness);
        WatermarkStrategy<KafkaRecord> base = idle.isZero() ? bounded : bounded.withIdleness(idle);
        return WatermarkStrategy.<KafkaRecord>forGenerator(ctx -> new ParsedOnly(base.createWatermarkGenerator(ctx)))
                .withTimestampAssigner((r, ts) -> r.timestamp);
    }

    /** A watermark generator that sees only the records that parsed. */
    static final class ParsedOnly implements org.apache.flink.api.common.eventtime.WatermarkGenerator<KafkaRecord> {
        private final org.apache.flink.api.common.eventtime.WatermarkGenerator<KafkaRecord> parsed;

        ParsedOnly(org.apache.flink.api.common.eventtime.WatermarkGenerator<KafkaRecord> parsed) {
            this.parsed = parsed;
        }

        @Override
        public void onEvent(KafkaRecord r, long timestamp,
                            org.apache.flink.api.common.eventtime.WatermarkOutput output) {
            if (!r.isDead()) {
                parsed.onEvent(r, timestamp, output);
            }
        }

        @Override
        public void onPeriodicEmit(org.apache.flink.api.common.eventtime.WatermarkOutput output) {
            parsed.onPeriodicEmit(output);
        }
    }

    /** Events on, dead letters to the side output (counted). */
    static final class Split extends ProcessFunction<KafkaRecord, Event> {
        private static final long serialVersionUID = 1L;
        private transient Counter deadLetters;

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext context) {
            deadLetters = getRuntimeContext().getMetricGroup().counter(io.keyshift.metrics.KeyshiftMetrics.KAFKA_DEAD_LETTERS);
        }

        @Override
        public void processElement(KafkaRecord r, Context ctx, Collector<Event> out) {
            if (r.isDead()) {
                deadLetters.inc();
                ctx.output(DEAD_LETTERS, r.partition + "," + r.offset + "," + Csv.quote(r.deadReason) + ","
                        + Csv.quote(r.deadRaw));
            } else {
                out.collect(new Event(r.timestamp, r.key, r.value, r.sequence));
            }
        }
    }

    /**
     * The window stage's late records as lines {@code partition,offset,event_time,watermark,key,value} (times as
     * ISO-8601 UTC instants; the watermark is this operator's when the record reached it, empty before the first;
     * the key quoted as CSV; with {@code keySecret}, keyshift.privacy.key-secret, its pseudonym instead, as every
     * output of keyshift's names keys), at {@code parallelism}, counted in {@code keyshiftLateRecords}.
     */
    public static DataStream<String> lateRecords(DataStream<Event> late, int parallelism, String keySecret) {
        return late.process(new LateLines(keySecret == null ? null
                        : io.keyshift.route.KeyPseudonymizer.fromSecret(keySecret)))
                .name("late records").uid("keyshift-kafka-late-records").setParallelism(parallelism);
    }

    /** See {@link #lateRecords}. */
    static final class LateLines extends ProcessFunction<Event, String> {
        private static final long serialVersionUID = 1L;
        /** Null: keys as they are. */
        private final io.keyshift.route.KeyPseudonymizer pseudonyms;
        private transient Counter late;

        LateLines(io.keyshift.route.KeyPseudonymizer pseudonyms) {
            this.pseudonyms = pseudonyms;
        }

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext context) {
            late = getRuntimeContext().getMetricGroup().counter(io.keyshift.metrics.KeyshiftMetrics.KAFKA_LATE_RECORDS);
        }

        @Override
        public void processElement(Event e, Context ctx, Collector<String> out) {
            late.inc();
            long watermark = ctx.timerService().currentWatermark();
            out.collect(KafkaRecord.partition(e.sequence) + "," + KafkaRecord.offset(e.sequence) + ","
                    + java.time.Instant.ofEpochMilli(e.timestamp) + ","
                    + (watermark == Long.MIN_VALUE ? "" : java.time.Instant.ofEpochMilli(watermark).toString()) + ","
                    + Csv.quote(pseudonyms == null ? e.key : pseudonyms.pseudonym(e.key)) + "," + e.value);
        }
    }

    /** A result's record key: the user key, UTF-8. */
    static final class ResultKey implements org.apache.flink.api.common.serialization.SerializationSchema<WindowResult> {
        private static final long serialVersionUID = 1L;

        @Override
        public byte[] serialize(WindowResult r) {
            return r.key.getBytes(StandardCharsets.UTF_8);
        }
    }

    /** A result's record value: {@code key,windowStart,windowEnd,count[,sum]}, UTF-8. */
    static final class ResultLine implements org.apache.flink.api.common.serialization.SerializationSchema<WindowResult> {
        private static final long serialVersionUID = 1L;
        private final boolean withSum;

        ResultLine(boolean withSum) {
            this.withSum = withSum;
        }

        @Override
        public byte[] serialize(WindowResult r) {
            return r.toCsv(withSum).getBytes(StandardCharsets.UTF_8);
        }
    }

    /**
     * Writes the results to the results topic with Kafka transactions committed on checkpoints (exactly-once):
     * record key the user key (UTF-8), value {@code key,windowStart,windowEnd,count[,sum]}.
     * {@code transaction.timeout.ms} is 15 minutes unless a {@code --kafka-property} sets it (a broker's
     * {@code transaction.max.timeout.ms} is 15 minutes by default); it must exceed the longest checkpoint plus a
     * restart.
     */
    public static void results(DataStream<WindowResult> results, KafkaOptions k, boolean withSum, int parallelism) {
        results.sinkTo(exactlyOnce(k, new ResultRecord(k.resultsTopic, withSum), k.transactionalIdPrefix()))
                .name("results kafka sink")
                .uid(RESULTS_SINK_UID).setParallelism(parallelism);
    }

    /** An exactly-once KafkaSink with the job's client properties; transaction timeout 15 minutes unless set. */
    private static <T> KafkaSink<T> exactlyOnce(KafkaOptions k, KafkaRecordSerializationSchema<T> serializer,
                                                String transactionalIdPrefix) {
        java.util.Properties props = k.clientProperties();
        props.putIfAbsent("transaction.timeout.ms", String.valueOf(KafkaOptions.DEFAULT_TRANSACTION_TIMEOUT.toMillis()));
        if (serializer instanceof OneTopicRecord<?> one) {
            one.maxBytes = maxRecordBytes(props);
        }
        return KafkaSink.<T>builder()
                .setBootstrapServers(k.bootstrapServers)
                .setKafkaProducerConfig(props)
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(transactionalIdPrefix)
                .setTransactionNamingStrategy(k.transactionNaming())
                .build();
    }

    /**
     * The largest key and value a record may carry: the producer's {@code max.request.size} (Kafka's default 1 MiB)
     * less 1 KiB for the record's own framing and headers. A larger record fails the producer's send, and with it the
     * job at every restart (the restored job makes the same record again).
     */
    static int maxRecordBytes(java.util.Properties producer) {
        String size = producer.getProperty("max.request.size");
        long max = 1_048_576;
        if (size != null) {
            try {
                max = Long.parseLong(size.trim());
            } catch (NumberFormatException e) {
                // the producer refuses it at its start, naming the property
            }
        }
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, max - FRAMING_BYTES));
    }

    /** What {@link #maxRecordBytes} leaves of {@code max.request.size} for a record's own framing and headers. */
    static final int FRAMING_BYTES = 1024;

    /** How far ahead of this machine's clock a record may be stamped: half a Kafka 4 broker's default limit. */
    static final long MAX_TIMESTAMP_AHEAD_MS = 30 * 60_000L;

    /**
     * A record's Kafka timestamp: the element's, or none (the producer stamps its send time) where Flink's is
     * missing, out of Kafka's range (the final lease plan of a bounded input, Long.MAX_VALUE) or more than
     * {@link #MAX_TIMESTAMP_AHEAD_MS} ahead of this machine's clock: a Kafka 4 broker refuses a timestamp more than
     * {@code message.timestamp.after.max.ms} (1 h by default) ahead of its own, and the end of a bounded input fires
     * the current window, whose end may lie hours ahead (the job failed and restarted on it until the window's time
     * had come).
     */
    static Long kafkaTimestamp(Long timestamp) {
        return timestamp == null || timestamp < 0
                || timestamp > System.currentTimeMillis() + MAX_TIMESTAMP_AHEAD_MS ? null : timestamp;
    }

    /**
     * A serializer of records for one topic, stamped with {@link #kafkaTimestamp} of the element's time; it names the
     * topic to the sink (the POOLING naming strategy lists the open transactions on it).
     */
    abstract static class OneTopicRecord<T> implements KafkaRecordSerializationSchema<T>,
            org.apache.flink.connector.kafka.lineage.KafkaDatasetFacetProvider {
        private static final long serialVersionUID = 1L;
        private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OneTopicRecord.class);
        private final String topic;
        /**
         * The largest key plus value sent ({@link #maxRecordBytes}); larger records that files also hold are left out,
         * counted.
         */
        int maxBytes = Integer.MAX_VALUE;
        private transient org.apache.flink.metrics.Counter tooLarge;
        private transient long tooLargeSeen;

        OneTopicRecord(String topic) {
            this.topic = topic;
        }

        @Override
        public void open(org.apache.flink.api.common.serialization.SerializationSchema.InitializationContext context,
                         KafkaRecordSerializationSchema.KafkaSinkContext sinkContext) throws Exception {
            KafkaRecordSerializationSchema.super.open(context, sinkContext);
            tooLarge = context.getMetricGroup().counter(TOO_LARGE_METRIC);
        }

        @Override
        public java.util.Optional<org.apache.flink.connector.kafka.lineage.KafkaDatasetFacet> getKafkaDatasetFacet() {
            return java.util.Optional.of(new org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetFacet(
                    org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetIdentifier.ofTopics(
                            java.util.List.of(topic))));
        }

        @Override
        public org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]> serialize(T element,
                KafkaRecordSerializationSchema.KafkaSinkContext context, Long timestamp) {
            byte[] key = key(element);
            byte[] value = value(element);
            long bytes = (key == null ? 0L : key.length) + (value == null ? 0L : value.length);
            if (bytes > maxBytes && copiedToFiles()) {
                // left out of the topic (a plan of thousands of routing entries with long keys): counted and logged,
                // the job goes on (the file outputs under --out keep it; a result, which has no file where it goes
                // to a topic, is sent, and a send that fails fails the job)
                if (tooLarge != null) {
                    tooLarge.inc();
                }
                tooLargeSeen++;
                if (tooLargeSeen <= 10 || Long.bitCount(tooLargeSeen) == 1) {
                    LOG.warn("keyshift: a record of {} bytes for topic {} is larger than the producer's max.request.size "
                                    + "allows ({} bytes of key and value): left out of the topic ({} so far; metric {}; "
                                    + "raise max.request.size with --kafka-property, and the topic's max.message.bytes)",
                            bytes, topic, maxBytes, tooLargeSeen, TOO_LARGE_METRIC);
                }
                return null;
            }
            return new org.apache.kafka.clients.producer.ProducerRecord<>(topic, null, kafkaTimestamp(timestamp), key,
                    value);
        }

        /** Whether the elements are also written to files under --out (a too-large one is then left out here). */
        boolean copiedToFiles() {
            return false;
        }

        /** The record's key, or null for none. */
        abstract byte[] key(T element);

        abstract byte[] value(T element);
    }

    /** Counter of records larger than the producer allows, left out of their topic. */
    public static final String TOO_LARGE_METRIC = io.keyshift.metrics.KeyshiftMetrics.KAFKA_RECORDS_TOO_LARGE;

    /** A result as a record: key the user key (UTF-8), value {@code key,windowStart,windowEnd,count[,sum]}. */
    static final class ResultRecord extends OneTopicRecord<WindowResult> {
        private static final long serialVersionUID = 1L;
        private final ResultKey key = new ResultKey();
        private final ResultLine value;

        ResultRecord(String topic, boolean withSum) {
            super(topic);
            this.value = new ResultLine(withSum);
        }

        @Override
        byte[] key(WindowResult r) {
            return key.serialize(r);
        }

        @Override
        byte[] value(WindowResult r) {
            return value.serialize(r);
        }
    }

    /** A line as a record value (UTF-8) without key. */
    static final class LineRecord extends OneTopicRecord<String> {
        private static final long serialVersionUID = 1L;

        LineRecord(String topic) {
            super(topic);
        }

        @Override
        boolean copiedToFiles() {
            // plans, forecasts and validation: their files under --out are written whether or not a topic is
            return true;
        }

        @Override
        byte[] key(String line) {
            return null;
        }

        @Override
        byte[] value(String line) {
            return line.getBytes(StandardCharsets.UTF_8);
        }
    }

    /**
     * Writes {@code lines} of {@code kind} (plans, forecasts, validation) to {@code topic} with Kafka transactions
     * committed on checkpoints (exactly-once), as {@link #results}; record value the line (UTF-8), no key. Uid
     * {@code keyshift-<kind>-kafka-sink}.
     */
    public static void lines(DataStream<String> lines, String kind, String topic, KafkaOptions k, int parallelism) {
        lines.sinkTo(exactlyOnce(k, new LineRecord(topic), k.transactionalIdPrefix(kind))).name(kind + " kafka sink")
                .uid("keyshift-" + kind + "-kafka-sink").setParallelism(parallelism);
    }

}
