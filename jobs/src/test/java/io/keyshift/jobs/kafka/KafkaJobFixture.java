package io.keyshift.jobs.kafka;


import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keyshift.jobs.SharedData;
import io.keyshift.jobs.workload.Csv;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.function.IntUnaryOperator;
import java.util.function.LongPredicate;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the Kafka tests share (issue 16; slow, failsafe): the cluster job between Kafka topics, against an in-process KRaft broker on 127.0.0.1
 * ({@link LocalKafkaBroker}) and a MiniCluster with 4 slots. The bike-share year (326k trips) goes to a topic with 4
 * partitions, each in event-time order; the job reads it with {@code KafkaSource} and writes its results with an
 * exactly-once {@code KafkaSink}. The expected results are counted here, in plain Java, from the same CSV file: the
 * number of trips per start station and UTC day, which is what {@code hash} computes.
 *
 * <p>The records carry their 2014 event times as Kafka timestamps, so the broker runs without time-based retention
 * ({@link LocalKafkaBroker}): with Kafka's default week, its first retention check (30 s after start) deleted the
 * input and the committed results, which earlier notes took for an exactly-once loss of the connector. See README,
 * "Kafka".
 */
abstract class KafkaJobFixture {
    static final long DAY = Duration.ofDays(1).toMillis();
    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ssXXX");

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    static LocalKafkaBroker broker;
    static List<String> columns;
    static List<Trip> trips;

    /** One CSV row of the bike-share file, its event time and start station. */
    record Trip(long time, String station, String line) {}

    @BeforeAll
    static void startBrokerAndReadTrips() throws Exception {
        // as in production, where topics are created on purpose: a missing one is refused before the job
        broker = new LocalKafkaBroker(java.util.Map.of("auto.create.topics.enable", "false")).start();
        Path file = SharedData.file("bayarea-bikeshare-2014/batrips.csv.gz");
        trips = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(file)),
                StandardCharsets.UTF_8));
             CSVParser csv = CSVParser.parse(r, CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).build())) {
            columns = csv.getHeaderNames();
            for (CSVRecord rec : csv) {
                String[] values = rec.values();
                trips.add(new Trip(OffsetDateTime.parse(rec.get("start_date"), TIME).toInstant().toEpochMilli(),
                        rec.get("start_station"), CSVFormat.DEFAULT.format((Object[]) values)));
            }
        }
        trips.sort(Comparator.comparingLong(Trip::time));
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    String[] args(Path out, String topic, String resultsTopic, boolean bounded, String... more) {
        List<String> a = new ArrayList<>(List.of(
                "--kafka-bootstrap-servers", broker.bootstrapServers(), "--kafka-topic", topic,
                "--kafka-starting-offsets", "earliest", "--kafka-group-id", "it-" + topic,
                "--columns", String.join(",", columns), "--key", "start_station", "--time", "start_date",
                "--time-format", "yyyy-MM-dd HH:mm:ssXXX", "--window", "1d", "--strategy", "predictive",
                "--parallelism", "4", "--out", out.toString(), "--results-topic", resultsTopic,
                // every migration validated: each has a shadow phase of one window
                "-Dkeyshift.migration.validation=ALL",
                "-Dexecution.checkpointing.interval=1s", "-Dstate.backend.type=rocksdb",
                "-Drestart-strategy.type=fixed-delay", "-Drestart-strategy.fixed-delay.attempts=3",
                "-Drestart-strategy.fixed-delay.delay=1s"));
        if (bounded) {
            a.add("--kafka-bounded");
        }
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** Creates {@code topic} (results topics too: an exactly-once sink's topic must exist before the job). */
    static void createTopic(String topic, int partitions) throws Exception {
        Properties admin = new Properties();
        admin.put("bootstrap.servers", broker.bootstrapServers());
        try (Admin a = Admin.create(admin)) {
            a.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    static void produce(String topic, int partitions, IntUnaryOperator partitionOf) throws Exception {
        createTopic(topic, partitions);
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrapServers());
        p.put("linger.ms", "20");
        p.put("batch.size", "262144");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            for (int i = 0; i < trips.size(); i++) {
                Trip t = trips.get(i);
                producer.send(new ProducerRecord<>(topic, partitionOf.applyAsInt(i), t.time(),
                        t.station().getBytes(StandardCharsets.UTF_8), t.line().getBytes(StandardCharsets.UTF_8)));
            }
            producer.flush();
        }
    }

    /** Every committed record of {@code topic} (read_committed: what a downstream consumer sees). */
    static List<String> readCommitted(String topic) {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrapServers());
        p.put("isolation.level", "read_committed");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    values.add(new String(r.value(), StandardCharsets.UTF_8));
                }
            }
        }
        return values;
    }

    /** End offsets of {@code topic}'s partitions as read_committed and read_uncommitted consumers see them. */
    static String offsets(String topic) {
        StringBuilder b = new StringBuilder();
        for (String level : List.of("read_committed", "read_uncommitted")) {
            Properties p = new Properties();
            p.put("bootstrap.servers", broker.bootstrapServers());
            p.put("isolation.level", level);
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                    new ByteArrayDeserializer())) {
                List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                        .map(i -> new TopicPartition(topic, i.partition())).toList();
                b.append(level).append(' ').append(consumer.endOffsets(parts)).append("; ");
            }
        }
        Properties a = new Properties();
        a.put("bootstrap.servers", broker.bootstrapServers());
        try (Admin admin = Admin.create(a)) {
            Map<String, String> states = new TreeMap<>();
            admin.listTransactions().all().get().forEach(t -> states.put(t.transactionalId(), t.state().toString()));
            b.append("transactions ").append(states);
        } catch (Exception e) {
            b.append(e);
        }
        return b.toString();
    }

    /** The transactional ids the broker knows that begin with {@code prefix}. */
    static java.util.Set<String> transactionalIds(String prefix) throws Exception {
        Properties a = new Properties();
        a.put("bootstrap.servers", broker.bootstrapServers());
        try (Admin admin = Admin.create(a)) {
            java.util.Set<String> ids = new java.util.TreeSet<>();
            admin.listTransactions().all().get().forEach(t -> {
                if (t.transactionalId().startsWith(prefix)) {
                    ids.add(t.transactionalId());
                }
            });
            return ids;
        }
    }

    /** {@code key,windowStart,windowEnd,count} per start station and UTC day, for the windows {@code ends} accepts. */
    static List<String> expected(LongPredicate ends) {
        Map<String, Long> counts = new TreeMap<>();
        for (Trip t : trips) {
            long start = t.time() - Math.floorMod(t.time(), DAY);
            if (ends.test(start + DAY)) {
                counts.merge(Csv.quote(t.station()) + "," + start + "," + (start + DAY), 1L, Long::sum);
            }
        }
        List<String> lines = new ArrayList<>();
        counts.forEach((k, n) -> lines.add(k + "," + n));
        return lines;
    }

    static long windowEnd(String line) {
        String[] f = line.split(",");
        return Long.parseLong(f[f.length - 2]);
    }

    static List<String> sorted(Collection<String> lines) {
        return lines.stream().sorted().toList();
    }

    static List<JsonNode> plans(Path out) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> plans = new ArrayList<>();
        Path dir = out.resolve("plans");
        if (!Files.isDirectory(dir)) {
            return plans;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith(".")).toList()) {
                for (String line : Files.readAllLines(f)) {
                    if (!line.isBlank()) {
                        plans.add(json.readTree(line));
                    }
                }
            }
        }
        return plans;
    }

    /** The migrations of every plan's entries (Avro's JSON encoding wraps a union's record in its type name). */
    static List<JsonNode> migrations(List<JsonNode> plans) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : plans) {
            for (JsonNode e : p.get("entries")) {
                JsonNode m = e.get("migration");
                if (m != null && !m.isNull()) {
                    out.add(m.has("shadowFrom") ? m : m.elements().next());
                }
            }
        }
        return out;
    }

    static long deadLetters(Path out) throws Exception {
        return committedLines(out.resolve("dead-letters")).size();
    }

    /** The lines of the committed part files under {@code dir} (none if it does not exist). */
    static List<String> committedLines(Path dir) throws Exception {
        List<String> lines = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return lines;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith(".")).toList()) {
                lines.addAll(Files.readAllLines(f));
            }
            return lines;
        }
    }
}
