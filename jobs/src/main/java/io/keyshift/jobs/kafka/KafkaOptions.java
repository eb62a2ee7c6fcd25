package io.keyshift.jobs.kafka;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The Kafka options of the cluster job (picocli mixin): an input topic read with {@code KafkaSource}, and a results
 * topic written with {@code KafkaSink} exactly-once (Kafka transactions committed on Flink's checkpoints).
 */
public final class KafkaOptions {
    @Option(names = "--kafka-bootstrap-servers", paramLabel = "HOST:PORT[,...]",
            description = "Kafka brokers, for --kafka-topic and --results-topic.")
    String bootstrapServers;

    @Option(names = "--kafka-topic", paramLabel = "TOPIC",
            description = "Read the records from this topic instead of --input or the generator (needs --key, --time, "
                    + "and --columns for CSV records).")
    String topic;

    @Option(names = "--kafka-format", paramLabel = "csv|json", defaultValue = "csv",
            description = "Record value format: one CSV row (columns from --columns) or one JSON object (fields named "
                    + "by --key, --time, --sum-field). Default: ${DEFAULT-VALUE}.")
    String format;

    @Option(names = "--kafka-group-id", paramLabel = "ID",
            description = "Consumer group id (offsets are committed on checkpoints, for monitoring; a restore resumes "
                    + "from the checkpoint's offsets). Default: keyshift:<--out as an absolute path>:<random UUID>, a "
                    + "group per output directory, made when a job starts it and kept in it (a restore reads it "
                    + "again); the control topic's: the same with -control.")
    String groupId;

    /** The file in the output directory that holds its consumer group (see {@link #groupId(Path, boolean, boolean)}). */
    public static final String GROUP_ID_FILE = ".kafka-group-id";

    /**
     * The input's consumer group: {@code --kafka-group-id}, or one of the output directory's own. A shared default
     * ({@code keyshift} until 2026-12-02) made a second job on a topic start, by the default starting offsets
     * {@code committed}, where an earlier job had left off: it silently skipped what that job had read. So did, until
     * 2026-12-04, a new job in a directory of the same path as an earlier one's that had been deleted: the default
     * is now {@code keyshift:<out>:<random UUID>}, kept in the directory ({@value #GROUP_ID_FILE}) and read again by a
     * job that continues it.
     *
     * @param out                the output directory ({@code --out}); created if missing
     * @param continuing         whether the job continues the directory's job: a restore, or the same job's
     *                           {@code main} run again after a JobManager failover with a checkpoint to resume from
     *                           (see {@link #unrecordedGroupId} for one before the first checkpoint)
     * @param holdsEarlierOutput whether the directory holds output of an earlier run; a continuing job whose
     *                           directory holds output but no group file (one started before 2026-12-04) keeps that
     *                           build's default, {@code keyshift:<out>}
     * @return the group; the default one is written to the group file whenever it is not read from there
     * @throws IOException if the group file cannot be read or written
     */
    public String groupId(Path out, boolean continuing, boolean holdsEarlierOutput) throws IOException {
        if (groupId != null) {
            return groupId;
        }
        Path dir = io.keyshift.jobs.LocalPaths.resolved(out);
        Path file = dir.resolve(GROUP_ID_FILE);
        if (continuing && Files.isRegularFile(file)) {
            return Files.readString(file).strip();
        }
        String group = continuing && holdsEarlierOutput ? "keyshift:" + dir
                : "keyshift:" + dir + ":" + UUID.randomUUID();
        Files.createDirectories(dir);
        Path next = dir.resolve(GROUP_ID_FILE + ".next");
        Files.writeString(next, group + "\n");
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return group;
    }

    /**
     * The group of a job whose {@code main} runs in a directory marked by the same fixed job id and savepoint path
     * but with no checkpoint to resume from: {@code --kafka-group-id}, or a new default group that is not written to
     * the group file. Such a run is either the same job's {@code main} again after a JobManager failover before its
     * first checkpoint, where Flink recovers the job its first attempt submitted (whose group the file names) and
     * drops this run's, or a new deployment under a reused high-availability cluster id after the earlier job ended,
     * which must not start at the earlier job's committed offsets (it would skip what that job read but never
     * produced results for). The two cannot be told apart from the directory; a group of its own is right for
     * either. A later restore of such a new deployment reads the file's group, but resumes from the offsets in its
     * savepoint.
     */
    public String unrecordedGroupId(Path out) {
        return groupId != null ? groupId : "keyshift:" + out.toAbsolutePath().normalize() + ":" + UUID.randomUUID();
    }

    @Option(names = "--kafka-starting-offsets", paramLabel = "committed|earliest|latest", defaultValue = "committed",
            description = "Where a new job starts reading: the group's committed offsets (earliest where it has none), "
                    + "the earliest or the latest. Default: ${DEFAULT-VALUE}.")
    String startingOffsets;

    @Option(names = "--kafka-bounded",
            description = "Stop at the latest offsets seen when the job starts (a backfill: the job then finishes, "
                    + "every window fired). Default: run until cancelled.")
    boolean bounded;

    @Option(names = "--kafka-idleness", paramLabel = "DURATION", defaultValue = "30s",
            description = "A partition with no record for this long (processing time) stops holding back the "
                    + "watermark, so that an idle partition cannot stall plans and results. 0 = never idle: a "
                    + "partition without records (an empty one, one added later) then holds back every watermark, "
                    + "and no window fires until it has some (records waiting for a plan then fail the job after "
                    + "keyshift.route.no-watermark-timeout). Shorter than keyshift.route.no-watermark-timeout "
                    + "(10 min). Default: ${DEFAULT-VALUE}; 0 with --kafka-bounded (each partition ends at its end "
                    + "offset, which releases its watermark: a slow partition taken for idle had its later records "
                    + "dropped as late; a partition of dead letters only then holds the windows back until it is "
                    + "read through, and the job fails after the timeout above if that takes longer: give an "
                    + "idleness for such a topic).")
    String idleness;

    @Option(names = "--max-out-of-orderness", paramLabel = "DURATION", defaultValue = "0s",
            description = "How far behind the newest event time of its partition a record may be and still count "
                    + "(bounded out-of-orderness watermarks, per partition). Default: ${DEFAULT-VALUE}.")
    String maxOutOfOrderness;

    @Option(names = "--results-topic", paramLabel = "TOPIC",
            description = "Write the results to this topic, exactly-once (read it with isolation.level="
                    + "read_committed), instead of files under --out/results. Record key: the user key; value: "
                    + "key,windowStart,windowEnd,count[,sum].")
    String resultsTopic;

    @Option(names = "--plans-topic", paramLabel = "TOPIC",
            description = "Also write the routing plans (JSON lines, as in --out/plans) to this topic, exactly-once.")
    String plansTopic;

    @Option(names = "--forecasts-topic", paramLabel = "TOPIC",
            description = "Also write the forecast summaries (CSV, as in --out/forecasts) to this topic, exactly-once.")
    String forecastsTopic;

    @Option(names = "--validation-topic", paramLabel = "TOPIC",
            description = "Also write the shadow validation reports (CSV, as in --out/validation) to this topic, "
                    + "exactly-once.")
    String validationTopic;

    @Option(names = "--kafka-transactional-id-prefix", paramLabel = "PREFIX",
            description = "Prefix of the results sink's transactional ids: unique per job on a Kafka cluster, and "
                    + "no job's prefix may begin with another's (the sink aborts lingering transactions by prefix). "
                    + "Keep it across restores. Default: keyshift:<results topic>:<job id>:, the job id a random "
                    + "UUID kept in --out (" + TRANSACTIONAL_ID_FILE + ") for the job's restores. The sinks of "
                    + "--plans-topic, --forecasts-topic and --validation-topic use plans:, forecasts: and "
                    + "validation: before it (before keyshift:<their topic>:<job id>: without a results topic).")
    String transactionalIdPrefix;

    @Option(names = "--kafka-transaction-naming", paramLabel = "incrementing|pooling", defaultValue = "incrementing",
            description = "How the exactly-once sinks name their Kafka transactions (Flink's Kafka connector): "
                    + "incrementing takes a new transactional id per checkpoint and subtask (any broker; the broker "
                    + "keeps each for transactional.id.expiration.ms, 7 days by default); pooling reuses a few ids per "
                    + "subtask and on a restore aborts the open transactions on the sink's topic whose id begins with "
                    + "the sink's prefix (Kafka 3.0+; the client needs Read and Describe on the topic, which must "
                    + "exist; no prefix on the cluster may begin with another's). A job cannot switch from pooling back "
                    + "to incrementing. Default: ${DEFAULT-VALUE}.")
    String transactionNaming;

    @Option(names = "--kafka-control-topic", paramLabel = "TOPIC",
            description = "Read control commands for the planner from this topic (one per record value: AT,pin,KEY, "
                    + "AT,freeze, ...; read from the earliest offset), applied from the next plan on.")
    String controlTopic;

    @Option(names = "--no-kafka-topic-check",
            description = "Do not ask the brokers whether the topics exist before the job is built (where the machine "
                    + "that builds the job reaches other brokers at --kafka-bootstrap-servers than the cluster does, "
                    + "e.g. through a tunnel). The running job then finds a missing topic.")
    boolean noTopicCheck;

    @Option(names = "--kafka-property", paramLabel = "key=value",
            description = "A Kafka client property for the source and the sink (security.protocol, sasl.*, ...); "
                    + "repeatable.")
    Map<String, String> properties = new LinkedHashMap<>();

    /** The control topic, or null. */
    public String controlTopicName() {
        return controlTopic;
    }

    /** True if the records come from a topic. */
    /**
     * Whether the input topic is read as a bounded range ({@code --kafka-bounded}, its parsed value: also
     * {@code --kafka-bounded=false}, which reads on).
     */
    public boolean bounded() {
        return bounded;
    }

    public boolean input() {
        return topic != null;
    }

    /** The input topic, or null. */
    public String topicName() {
        return topic;
    }

    /** True if the results go to a topic. */
    public boolean output() {
        return resultsTopic != null;
    }

    /** Kind (results, plans, forecasts, validation) to the topic it is written to; only the configured ones. */
    public Map<String, String> sinkTopics() {
        Map<String, String> m = new LinkedHashMap<>();
        if (resultsTopic != null) {
            m.put("results", resultsTopic);
        }
        m.putAll(sideTopics());
        return m;
    }

    /** Kind (plans, forecasts, validation) to the topic its lines also go to; only the configured ones. */
    public Map<String, String> sideTopics() {
        Map<String, String> m = new LinkedHashMap<>();
        if (plansTopic != null) {
            m.put("plans", plansTopic);
        }
        if (forecastsTopic != null) {
            m.put("forecasts", forecastsTopic);
        }
        if (validationTopic != null) {
            m.put("validation", validationTopic);
        }
        return m;
    }

    /** Checks the options together; ParameterException (exit 2) names the option. */
    public void validate(CommandLine cl) {
        boolean anyTopic = topic != null || resultsTopic != null || controlTopic != null || !sideTopics().isEmpty();
        if (anyTopic && (bootstrapServers == null || bootstrapServers.isBlank())) {
            throw new ParameterException(cl, "--kafka-bootstrap-servers is required with --kafka-topic, "
                    + "--results-topic, --plans-topic, --forecasts-topic, --validation-topic or --kafka-control-topic");
        }
        if (!anyTopic && bootstrapServers != null) {
            throw new ParameterException(cl, "--kafka-bootstrap-servers needs --kafka-topic, --results-topic, "
                    + "--plans-topic, --forecasts-topic, --validation-topic or --kafka-control-topic");
        }
        for (Map.Entry<String, String> e : sideTopics().entrySet()) {
            if (e.getValue().isBlank()) {
                throw new ParameterException(cl, "--" + e.getKey() + "-topic must not be blank");
            }
        }
        if (controlTopic != null && controlTopic.isBlank()) {
            throw new ParameterException(cl, "--kafka-control-topic must not be blank");
        }
        // Kafka's own rule for topic names (a blank or illegal name failed only once the job ran, then restarted)
        Map<String, String> topics = new LinkedHashMap<>();
        topics.put("--kafka-topic", topic);
        topics.put("--results-topic", resultsTopic);
        sideTopics().forEach((kind, name) -> topics.put("--" + kind + "-topic", name));
        topics.put("--kafka-control-topic", controlTopic);
        for (Map.Entry<String, String> e : topics.entrySet()) {
            if (e.getValue() != null) {
                try {
                    org.apache.kafka.common.internals.Topic.validate(e.getValue());
                } catch (org.apache.kafka.common.errors.InvalidTopicException x) {
                    throw new ParameterException(cl, e.getKey() + ": " + x.getMessage());
                }
            }
        }
        // one topic in two roles: results written into the input came back as dead letters, plans into the control
        // topic as refused commands, two outputs mixed in one topic
        Map<String, String> roleOf = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : topics.entrySet()) {
            if (e.getValue() != null) {
                String other = roleOf.putIfAbsent(e.getValue(), e.getKey());
                if (other != null) {
                    throw new ParameterException(cl, other + " and " + e.getKey() + " name the same topic '"
                            + e.getValue() + "': each role needs a topic of its own");
                }
            }
        }
        if (bootstrapServers != null) {
            // the format only (host:port, comma-separated): the names may resolve only where the job runs
            for (String server : bootstrapServers.split(",", -1)) {
                String s = server.strip();
                Integer port;
                try {
                    port = org.apache.kafka.common.utils.Utils.getPort(s);
                } catch (NumberFormatException tooLong) {
                    port = null;
                }
                if (org.apache.kafka.common.utils.Utils.getHost(s) == null || port == null) {
                    throw new ParameterException(cl, "--kafka-bootstrap-servers: '" + s + "' is not HOST:PORT (a "
                            + "comma-separated list of them), in '" + bootstrapServers + "'");
                }
                if (port < 1 || port > 65535) {
                    // Kafka's clients refuse it only where the job runs (every client of it, at every restart)
                    throw new ParameterException(cl, "--kafka-bootstrap-servers: '" + s + "' has port " + port
                            + ", not in 1..65535, in '" + bootstrapServers + "'");
                }
            }
        }
        if (groupId != null && groupId.isBlank()) {
            // Kafka's clients refuse it, but only once the job runs (then it restarts)
            throw new ParameterException(cl, "--kafka-group-id must not be blank");
        }
        if (resultsTopic != null || !sideTopics().isEmpty()) {
            // the sinks' only: an input-only job has no transactions
            transactionTimeout(cl);
        }
        if (topic == null) {
            // options of the topic input: without one they would be ignored
            for (String o : List.of("--kafka-format", "--kafka-group-id", "--kafka-starting-offsets",
                    "--kafka-bounded", "--kafka-idleness", "--max-out-of-orderness")) {
                if (cl.getParseResult().hasMatchedOption(o)) {
                    throw new ParameterException(cl, o + " applies to a --kafka-topic input only");
                }
            }
        }
        if (bounded && controlTopic != null) {
            throw new ParameterException(cl, "--kafka-bounded cannot finish with --kafka-control-topic, which is read "
                    + "live: give the commands with --control FILE for a run that finishes");
        }
        if (transactionalIdPrefix != null && resultsTopic == null && sideTopics().isEmpty()) {
            throw new ParameterException(cl, "--kafka-transactional-id-prefix applies to the sinks of --results-topic, "
                    + "--plans-topic, --forecasts-topic and --validation-topic only");
        }
        if (topic == null && resultsTopic == null && sideTopics().isEmpty() && controlTopic == null
                && !properties.isEmpty()) {
            throw new ParameterException(cl, "--kafka-property applies with --kafka-topic, --results-topic, "
                    + "--plans-topic, --forecasts-topic, --validation-topic or --kafka-control-topic only");
        }
        if (resultsTopic == null && sideTopics().isEmpty()
                && cl.getParseResult().hasMatchedOption("--kafka-transaction-naming")) {
            throw new ParameterException(cl, "--kafka-transaction-naming applies to the sinks of --results-topic, "
                    + "--plans-topic, --forecasts-topic and --validation-topic only");
        }
        try {
            transactionNaming();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, e.getMessage());
        }
        format(cl);
        // checked whether bounded or not: unchecked, a misspelt value was refused only when the source was built, after
        // the brokers had been asked and --out made
        String offsets = offsets(cl);
        if (bounded && offsets.equals("latest")) {
            // both ends at the topic's end when the job starts: it would read nothing and end without a word
            throw new ParameterException(cl, "--kafka-bounded with --kafka-starting-offsets latest reads nothing (the "
                    + "job reads up to the offsets at its start); start from committed or earliest");
        }
        idleness(cl);
        clientSettings(cl);
        maxOutOfOrderness(cl);
        if (transactionalIdPrefix != null && transactionalIdPrefix.isBlank()) {
            throw new ParameterException(cl, "--kafka-transactional-id-prefix must not be blank");
        }
        for (String kind : List.of("plans", "forecasts", "validation")) {
            // the sinks abort transactions by prefix: "plans" would take the plans sink's "plans:plans-0-3" for its own
            if (transactionalIdPrefix != null && (kind + ":").startsWith(transactionalIdPrefix)) {
                throw new ParameterException(cl, "--kafka-transactional-id-prefix must not be the beginning of '"
                        + kind + ":' (the prefix of the --" + kind + "-topic sink's transactional ids), was '"
                        + transactionalIdPrefix + "'");
            }
            if (transactionalIdPrefix != null && transactionalIdPrefix.startsWith(kind + ":")) {
                throw new ParameterException(cl, "--kafka-transactional-id-prefix must not begin with '" + kind
                        + ":' (the prefix of the --" + kind + "-topic sink's transactional ids)");
            }
        }
    }

    /**
     * The {@code --kafka-property} values as Kafka's consumer (with a topic input or control topic) and producer
     * (with a sink) configurations parse and check them, one by one: a value of the wrong type or outside a setting's
     * choices ({@code isolation.level=read_commited}) failed every attempt of the running job. Left to the running
     * job: names Kafka does not know (the connectors take settings of their own), class names (the class may be on the
     * cluster's class path only), passwords, and values with a config provider's {@code ${...}} (a secret mounted
     * where the job runs).
     */
    private void clientSettings(CommandLine cl) {
        List<org.apache.kafka.common.config.ConfigDef> defs = new java.util.ArrayList<>();
        if (topic != null || controlTopic != null) {
            defs.add(org.apache.kafka.clients.consumer.ConsumerConfig.configDef());
        }
        if (resultsTopic != null || !sideTopics().isEmpty()) {
            defs.add(org.apache.kafka.clients.producer.ProducerConfig.configDef());
        }
        for (String set : List.of("auto.offset.reset", "key.deserializer", "value.deserializer", "key.serializer",
                "value.serializer")) {
            if (properties.containsKey(set)) {
                // the source builder overrides auto.offset.reset with the starting offsets (a warning on the
                // cluster); another (de)serializer than bytes failed every record (ClassCastException), for ever
                throw new ParameterException(cl, "--kafka-property " + set + ": set by keyshift itself ("
                        + (set.equals("auto.offset.reset") ? "--kafka-starting-offsets chooses where a new group reads"
                        : "its records are read and written as bytes, decoded with --kafka-format") + ")");
            }
        }
        for (String own : List.of("bootstrap.servers", "group.id", "transactional.id")) {
            if (properties.containsKey(own)) {
                // set by the job's own options (--kafka-bootstrap-servers, the group kept in --out, the sinks'
                // prefixes): as a property it replaced them for some clients and not others
                throw new ParameterException(cl, "--kafka-property " + own + ": set by keyshift's own options "
                        + "(--kafka-bootstrap-servers, --kafka-group-id, --kafka-transactional-id-prefix), not as a "
                        + "property");
            }
        }
        String discovery = properties.get("partition.discovery.interval.ms");
        if ((topic != null || controlTopic != null) && discovery != null) {
            // the Kafka source's own setting, which Kafka's clients do not know: read as a long by the source's
            // enumerator on the cluster, where "5min" failed the job at every restart (and a "${...}" reference,
            // which no config provider resolves there)
            try {
                // as the enumerator reads it: " 60000" failed there too
                Long.parseLong(discovery);
            } catch (NumberFormatException e) {
                throw new ParameterException(cl, "--kafka-property partition.discovery.interval.ms: '" + discovery
                        + "' is not a whole number of milliseconds (a negative one turns discovery off" + (discovery
                        .contains("${") ? "; Flink's Kafka source reads this setting itself, and no config provider "
                        + "resolves it" : "") + ")");
            }
        }
        for (Map.Entry<String, String> p : properties.entrySet()) {
            for (org.apache.kafka.common.config.ConfigDef def : defs) {
                org.apache.kafka.common.config.ConfigDef.ConfigKey key = def.configKeys().get(p.getKey());
                if (key == null || key.type == org.apache.kafka.common.config.ConfigDef.Type.CLASS
                        || key.type == org.apache.kafka.common.config.ConfigDef.Type.PASSWORD
                        || p.getValue().contains("${")) {
                    continue;
                }
                try {
                    Object value = org.apache.kafka.common.config.ConfigDef.parseType(key.name, p.getValue(), key.type);
                    if (key.validator != null) {
                        key.validator.ensureValid(key.name, value);
                    }
                } catch (org.apache.kafka.common.config.ConfigException e) {
                    throw new ParameterException(cl, "--kafka-property " + p.getKey() + ": " + e.getMessage());
                }
            }
        }
        if (resultsTopic != null || !sideTopics().isEmpty()) {
            transactionalProducerSettings(cl);
        }
        String requestSize = properties.get("max.request.size");
        if (resultsTopic != null && requestSize != null && !requestSize.contains("${")) {
            // a result carries its key twice (the record's key, and quoted in its CSV value, where every '"' is
            // doubled): one of a long key the input lets in was larger than the producer sends, and the sink failed
            // the job at every restart (the restored window fires it again)
            java.util.Properties producer = new java.util.Properties();
            producer.setProperty("max.request.size", requestSize);
            if (KafkaIo.maxRecordBytes(producer) < LARGEST_RESULT_BYTES) {
                long needed = (long) LARGEST_RESULT_BYTES + KafkaIo.FRAMING_BYTES;
                throw new ParameterException(cl, "--kafka-property max.request.size=" + requestSize.trim() + " is "
                        + "below " + needed + " bytes, the largest result record --results-topic may get (a key of "
                        + "up to " + io.keyshift.jobs.input.EventParser.MAX_KEY_BYTES + " bytes, as the record's key "
                        + "and quoted in its value, plus the window and counts and 1 KiB of framing): such a result "
                        + "would fail the job at every restart; raise it (and the topic's max.message.bytes)");
            }
        }
    }

    /**
     * The largest key and value of a result record (bytes): a key of {@link
     * io.keyshift.jobs.input.EventParser#MAX_KEY_BYTES}, as the record's key and CSV-quoted in its value (every
     * {@code "} doubled: up to twice its bytes plus the quotes), plus the window's bounds, count and sum.
     */
    static final int LARGEST_RESULT_BYTES = 3 * io.keyshift.jobs.input.EventParser.MAX_KEY_BYTES + 128;

    /**
     * The sinks' producers are transactional (exactly-once), which needs idempotence: {@code acks=all}, retries
     * above 0, at most 5 requests in flight, and no {@code enable.idempotence=false}; and keyshift's sinks set
     * {@code transaction.timeout.ms}, which Kafka refuses beside {@code transaction.two.phase.commit.enable=true}.
     * A property against that ({@code acks=1}) passed the check of each value alone, and every producer of the running
     * job then failed to start (Kafka's own message names a transactional id the user never set), the job restarting
     * for ever without a result. The rules of Kafka's {@code ProducerConfig} for a transactional producer, checked
     * here by name rather than by building one (which logs a whole producer configuration that is not the job's).
     */
    private void transactionalProducerSettings(CommandLine cl) {
        String why = null;
        String key = null;
        for (Map.Entry<String, String> p : properties.entrySet()) {
            String v = p.getValue().trim();
            if (v.contains("${")) {
                continue;
            }
            switch (p.getKey()) {
                case "acks" -> why = v.equalsIgnoreCase("all") || v.equals("-1") ? null
                        : "a transactional producer needs acks=all (or -1)";
                case "enable.idempotence" -> why = !v.equalsIgnoreCase("false") ? null
                        : "a transactional producer needs idempotence";
                case "retries" -> why = !parsesTo(v, 0) ? null : "a transactional producer needs retries above 0";
                case "max.in.flight.requests.per.connection" -> why = parsesAbove(v, 5)
                        ? "a transactional producer allows at most 5 requests in flight per connection" : null;
                case "transaction.two.phase.commit.enable" -> why = !v.equalsIgnoreCase("true") ? null
                        : "keyshift's sinks set transaction.timeout.ms, which Kafka refuses with two-phase commit "
                        + "enabled (Flink's exactly-once sinks commit on checkpoints without it)";
                default -> why = null;
            }
            if (why != null) {
                key = p.getKey() + "=" + p.getValue();
                break;
            }
        }
        if (why != null) {
            throw new ParameterException(cl, "--kafka-property " + key + ": the sinks' producers are transactional "
                    + "(exactly-once) and " + why + "; every producer of the job would fail to start");
        }
        // Kafka's producer refuses an explicit delivery.timeout.ms below linger.ms + request.timeout.ms (with their
        // defaults where not given: ProducerConfig's 5 ms and 30 s)
        String delivery = properties.get("delivery.timeout.ms");
        if (delivery != null && !delivery.contains("${")) {
            long linger = longOr(properties.get("linger.ms"), 5);
            long request = longOr(properties.get("request.timeout.ms"), 30_000);
            long given = longOr(delivery, Long.MAX_VALUE);
            if (linger >= 0 && request >= 0 && given < linger + request) {
                throw new ParameterException(cl, "--kafka-property delivery.timeout.ms=" + delivery + ": Kafka's "
                        + "producer needs it at least linger.ms + request.timeout.ms (" + linger + " + " + request
                        + " ms); every producer of the job would fail to start");
            }
        }
    }

    /** {@code value} as a long, or {@code otherwise} if it is absent, a config reference or not a number. */
    private static long longOr(String value, long otherwise) {
        if (value == null || value.contains("${")) {
            return otherwise;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }

    /** Whether {@code v} reads as the whole number {@code n}, as Kafka reads an int setting ("00", " +0"). */
    private static boolean parsesTo(String v, int n) {
        try {
            return Integer.parseInt(v.trim()) == n;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static boolean parsesAbove(String value, int bound) {
        try {
            return Integer.parseInt(value.trim()) > bound;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** How long {@link #checkTopicsExist} waits for the brokers' answer, s. */
    static final long TOPIC_CHECK_SECONDS = 10;
    private static final Duration TOPIC_CHECK_TIMEOUT = Duration.ofSeconds(TOPIC_CHECK_SECONDS);

    /**
     * Asks the brokers whether every topic named by an option exists, before a job is built. A missing input or
     * control topic failed only in the running job ({@code KafkaSource}'s enumerator cannot list its partitions), and
     * then at every restart, a job restarting for ever. A missing output topic is refused only where the brokers do
     * not create topics on first use ({@code auto.create.topics.enable=false}, read from a broker's configuration):
     * the sink's producers would block and fail at every restart.
     *
     * <p>Left to the running job, with a warning on {@code warn}: brokers that do not answer within
     * {@value #TOPIC_CHECK_SECONDS} s (the machine that builds the job may not reach them where the cluster does), a
     * client setting with a config provider's {@code ${...}} (its secret may resolve only where the job runs), and
     * topics the client may not describe. Not at all with {@code --no-kafka-topic-check}.
     *
     * @throws ParameterException naming the option of the first missing topic
     */
    public void checkTopicsExist(CommandLine cl, java.io.PrintStream warn) {
        checkTopicsExist(cl, warn, 0);
    }

    /**
     * {@link #checkTopicsExist(CommandLine, java.io.PrintStream)}, and while the brokers are asked two more things
     * that otherwise failed only in the running job:
     * <ul>
     *   <li>an unbounded input with {@code --kafka-idleness 0} and fewer partitions than {@code sourceParallelism}
     *   (the source's subtasks, 0 = unknown): a subtask without a partition never emits a watermark, and no window
     *   fires, no plan is made, without a word (Flink's Kafka connector documents it under "Idleness");</li>
     *   <li>the sinks' {@code transaction.timeout.ms} above a broker's {@code transaction.max.timeout.ms}: every
     *   producer of the job fails to start (InvalidTxnTimeoutException) and the job restarts for ever.</li>
     * </ul>
     *
     * @throws ParameterException naming the option of the first missing topic, {@code --kafka-idleness}, or
     *                            {@code --kafka-property transaction.timeout.ms}
     */
    public void checkTopicsExist(CommandLine cl, java.io.PrintStream warn, int sourceParallelism) {
        checkTopicsExist(cl, warn, sourceParallelism, false);
    }

    /**
     * As {@link #checkTopicsExist(CommandLine, java.io.PrintStream, int)}; {@code scaled}: the job scales
     * ({@code keyshift.scaling.capacity} set), and {@code sourceParallelism} is the largest parallelism a scaling
     * decision may choose (Flink rescales the source with the keyed stage, without running main again).
     */
    public void checkTopicsExist(CommandLine cl, java.io.PrintStream warn, int sourceParallelism, boolean scaled) {
        checkTopicsExist(cl, warn, sourceParallelism, scaled, false);
    }

    /**
     * As {@link #checkTopicsExist(CommandLine, java.io.PrintStream, int, boolean)}; {@code reactive}: Flink's reactive
     * mode runs the job, which takes as many slots as it gets up to the max parallelism, whatever the job's
     * parallelism: {@code sourceParallelism} is the max parallelism.
     */
    public void checkTopicsExist(CommandLine cl, java.io.PrintStream warn, int sourceParallelism, boolean scaled,
                                 boolean reactive) {
        if (noTopicCheck) {
            return;
        }
        Map<String, String> sources = new LinkedHashMap<>();
        if (topic != null) {
            sources.put("--kafka-topic", topic);
        }
        if (controlTopic != null) {
            sources.put("--kafka-control-topic", controlTopic);
        }
        Map<String, String> sinks = new LinkedHashMap<>();
        if (resultsTopic != null) {
            sinks.put("--results-topic", resultsTopic);
        }
        sideTopics().forEach((kind, name) -> sinks.put("--" + kind + "-topic", name));
        if (sources.isEmpty() && sinks.isEmpty()) {
            return;
        }
        if (properties.values().stream().anyMatch(v -> v.contains("${"))) {
            warn.println("keyshift-job: warning: the Kafka topics are not checked before the job (a --kafka-property "
                    + "uses a config provider); the running job finds a missing one");
            return;
        }
        Properties admin = new Properties();
        java.util.Set<String> adminNames = org.apache.kafka.clients.admin.AdminClientConfig.configNames();
        properties.forEach((k, v) -> {
            if (adminNames.contains(k)) {
                admin.put(k, v);
            }
        });
        admin.put("bootstrap.servers", bootstrapServers);
        // one deadline for all the questions below
        long deadline = System.nanoTime() + TOPIC_CHECK_TIMEOUT.toNanos();
        admin.put("default.api.timeout.ms", String.valueOf(TOPIC_CHECK_TIMEOUT.toMillis()));
        admin.put("request.timeout.ms", String.valueOf(TOPIC_CHECK_TIMEOUT.toMillis()));
        Map<String, String> all = new LinkedHashMap<>(sources);
        all.putAll(sinks);
        java.util.Set<String> missing = new java.util.LinkedHashSet<>();
        Map<String, Integer> partitions = new LinkedHashMap<>();
        org.apache.kafka.clients.admin.Admin a = null;
        try {
            a = org.apache.kafka.clients.admin.Admin.create(admin);
            var futures = a.describeTopics(new java.util.LinkedHashSet<>(all.values())).topicNameValues();
            for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<org.apache.kafka.clients.admin.TopicDescription>>
                    f : futures.entrySet()) {
                boolean timedOut = false;
                try {
                    partitions.put(f.getKey(), f.getValue().get(remainingMillis(deadline),
                            java.util.concurrent.TimeUnit.MILLISECONDS).partitions().size());
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException) {
                        missing.add(f.getKey());
                    } else if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                        timedOut = true;
                    } else {
                        warn.println("keyshift-job: warning: could not check Kafka topic '" + f.getKey() + "' at "
                                + bootstrapServers + " (" + e.getCause().getMessage() + "); left to the running job");
                    }
                } catch (java.util.concurrent.TimeoutException e) {
                    timedOut = true;
                }
                if (timedOut) {
                    // the client's own timeout or ours, whichever came first
                    warn.println("keyshift-job: warning: no Kafka broker at " + bootstrapServers + " answered within "
                            + TOPIC_CHECK_SECONDS + " s; the topics are left to the running job");
                    return;
                }
            }
            for (Map.Entry<String, String> e : sources.entrySet()) {
                if (missing.contains(e.getValue())) {
                    throw new ParameterException(cl, e.getKey() + ": topic '" + e.getValue() + "' does not exist at "
                            + bootstrapServers + " (create it first)");
                }
            }
            Integer controlPartitions = controlTopic == null ? null : partitions.get(controlTopic);
            if (controlPartitions != null && controlPartitions > 1) {
                // commands of one time (or "now") apply in the order they arrive, which Kafka keeps only within a
                // partition: read back after a stop, a pin and its unpin from two partitions came the other way round
                throw new ParameterException(cl, "--kafka-control-topic: topic '" + controlTopic + "' has "
                        + controlPartitions + " partitions: commands apply in the order they arrive, which Kafka "
                        + "keeps only within a partition (a pin and its unpin could arrive the other way round); "
                        + "use a topic of one partition");
            }
            Integer inputPartitions = topic == null ? null : partitions.get(topic);
            if (!bounded && idleness(cl).isZero() && inputPartitions != null && sourceParallelism > inputPartitions) {
                // a bounded source tells a reader without a split that none will come, and the reader finishes
                throw new ParameterException(cl, "--kafka-idleness 0 with topic '" + topic + "' of " + inputPartitions
                        + " partition" + (inputPartitions == 1 ? "" : "s") + " and " + sourceParallelism
                        + " source subtasks" + (scaled ? " (the largest parallelism keyshift.scaling may choose)"
                        : reactive ? " (reactive mode runs up to the max parallelism)" : "")
                        + ": a subtask without a partition never emits a watermark, so no window "
                        + "would fire and no plan would be made; set an idleness (e.g. --kafka-idleness 30s), add "
                        + "partitions, or lower " + (scaled ? "keyshift.scaling.max-parallelism"
                        : reactive ? "pipeline.max-parallelism" : "--parallelism")
                        + " to at most " + inputPartitions);
            }
            String sinkMissing = sinks.entrySet().stream().filter(e -> missing.contains(e.getValue()))
                    .map(Map.Entry::getKey).findFirst().orElse(null);
            if (sinkMissing != null
                    && transactionNaming() == org.apache.flink.connector.kafka.sink.TransactionNamingStrategy.POOLING) {
                // a pooling sink's writer describes its topic when it starts, before it sends anything: the topic is
                // never created on first use, and every start of the job fails
                throw new ParameterException(cl, sinkMissing + ": topic '" + sinks.get(sinkMissing) + "' does not exist "
                        + "at " + bootstrapServers + ", and --kafka-transaction-naming pooling needs it before the "
                        + "job starts: create it first");
            }
            org.apache.kafka.clients.admin.Config broker = sinks.isEmpty() ? null : brokerConfig(a, deadline, warn,
                    bootstrapServers);
            if (sinkMissing != null && broker == null) {
                warn.println("keyshift-job: warning: " + sinkMissing + ": topic '" + sinks.get(sinkMissing) + "' does "
                        + "not exist at " + bootstrapServers + ": create it first unless the brokers create topics on "
                        + "first use (their configuration could not be read)");
            }
            if (sinkMissing != null && !autoCreates(broker)) {
                throw new ParameterException(cl, sinkMissing + ": topic '" + sinks.get(sinkMissing) + "' does not exist "
                        + "at " + bootstrapServers + ", and the brokers do not create topics on first use "
                        + "(auto.create.topics.enable=false): create it first");
            }
            Long maxTimeout = longEntry(broker, "transaction.max.timeout.ms");
            // the sinks' only (as validate judges it): an input-only job's transaction.timeout.ms is not parsed here
            // either, or the same command line was refused with brokers that answer and accepted without
            Duration timeout = sinks.isEmpty() ? null : transactionTimeout(cl);
            if (maxTimeout != null && timeout != null && timeout.toMillis() > maxTimeout) {
                throw new ParameterException(cl, "--kafka-property transaction.timeout.ms" + (properties.containsKey(
                        "transaction.timeout.ms") ? "" : " (default " + timeout.toMillis() + ")") + " is "
                        + timeout.toMillis() + " ms, above the brokers' transaction.max.timeout.ms (" + maxTimeout
                        + " ms) at " + bootstrapServers + ": every producer of the sinks would fail to start; set "
                        + "--kafka-property transaction.timeout.ms=N with N at most " + maxTimeout + " (longer than "
                        + "the checkpoint interval plus the checkpoint timeout)");
            }
        } catch (org.apache.kafka.common.KafkaException e) {
            warn.println("keyshift-job: warning: could not check the Kafka topics at " + bootstrapServers + " ("
                    + e.getMessage() + "); left to the running job");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking the Kafka brokers at " + bootstrapServers
                    + " for the topics", e);
        } finally {
            if (a != null) {
                a.close(Duration.ofSeconds(1));
            }
        }
    }

    /** Milliseconds until {@code deadline} ({@link System#nanoTime()}), at least 1. */
    private static long remainingMillis(long deadline) {
        return Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
    }

    /**
     * A broker's configuration (the first the cluster lists), or null if it cannot be read in time or at all (no
     * DescribeConfigs right), with a warning on {@code warn}: the checks that need it are left to the running job.
     */
    private static org.apache.kafka.clients.admin.Config brokerConfig(org.apache.kafka.clients.admin.Admin a,
                                                                      long deadline, java.io.PrintStream warn,
                                                                      String servers) throws InterruptedException {
        try {
            var nodes = a.describeCluster().nodes().get(remainingMillis(deadline),
                    java.util.concurrent.TimeUnit.MILLISECONDS);
            if (nodes.isEmpty()) {
                return null;
            }
            var broker = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.BROKER, nodes.iterator().next().idString());
            return a.describeConfigs(List.of(broker)).all().get(remainingMillis(deadline),
                    java.util.concurrent.TimeUnit.MILLISECONDS).get(broker);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            Throwable why = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null
                    ? e.getCause() : e;
            // (the checks were skipped without a word)
            warn.println("keyshift-job: warning: could not read the brokers' configuration at " + servers + " ("
                    + (why.getMessage() != null ? why.getMessage() : why.getClass().getSimpleName()) + "): whether "
                    + "they create missing topics and their transaction.max.timeout.ms are left to the running job");
            return null;
        }
    }

    /** True unless {@code broker} says {@code auto.create.topics.enable=false} (unknown: true). */
    private static boolean autoCreates(org.apache.kafka.clients.admin.Config broker) {
        var entry = broker == null ? null : broker.get("auto.create.topics.enable");
        return entry == null || entry.value() == null || !entry.value().equalsIgnoreCase("false");
    }

    /** {@code broker}'s numeric setting {@code name}, or null if unknown. */
    private static Long longEntry(org.apache.kafka.clients.admin.Config broker, String name) {
        var entry = broker == null ? null : broker.get(name);
        if (entry == null || entry.value() == null) {
            return null;
        }
        try {
            return Long.parseLong(entry.value().trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The exactly-once sinks' transaction timeout if none is set with --kafka-property. */
    static final Duration DEFAULT_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);

    /**
     * The exactly-once sinks' {@code transaction.timeout.ms}: {@code --kafka-property transaction.timeout.ms=N}, else 15
     * minutes. A transaction stays open from one checkpoint to the one that commits it.
     *
     * @throws ParameterException for a value that is not a positive number of milliseconds (also a {@code ${...}}
     *         config-provider reference: keyshift compares the value with the checkpoints and the brokers' maximum)
     */
    public Duration transactionTimeout(CommandLine cl) {
        String v = properties.get("transaction.timeout.ms");
        if (v == null) {
            return DEFAULT_TRANSACTION_TIMEOUT;
        }
        try {
            long ms = Long.parseLong(v.strip());
            // Kafka's producer types it as an int
            if (ms > 0 && ms <= Integer.MAX_VALUE) {
                return Duration.ofMillis(ms);
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new ParameterException(cl, "--kafka-property transaction.timeout.ms must be a positive number of "
                + "milliseconds (at most " + Integer.MAX_VALUE + "), was '" + v + "'" + (v.contains("${")
                ? " (a literal: keyshift compares it with the checkpoints and the brokers' transaction.max.timeout.ms "
                + "before the job starts)" : ""));
    }

    public KafkaEventDeserializer.KafkaFormat format(CommandLine cl) {
        try {
            return KafkaEventDeserializer.KafkaFormat.valueOf(format.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--kafka-format must be csv or json, was '" + format + "'");
        }
    }

    /** The file in {@code --out} that keeps the sinks' transaction naming of the job that writes there. */
    public static final String TRANSACTION_NAMING_FILE = ".kafka-transaction-naming";

    /** The naming a restored job takes from its directory where it gives none ({@link #keptTransactionNaming}). */
    private String keptNaming;

    /**
     * The sinks' transaction naming of a job that continues {@code out} (a restore, Flink's rerun of {@code main}
     * after a failover), checked against the naming its job wrote there ({@value #TRANSACTION_NAMING_FILE}). Flink's
     * Kafka connector cannot take a job's sinks from {@code pooling} back to {@code incrementing}: a restore without
     * {@code --kafka-transaction-naming pooling} (the default is incrementing) failed every attempt, the job
     * restarting for ever. Such a job now takes the kept {@code pooling}, saying so on {@code note}; one that asks
     * for {@code incrementing} by name is refused. A fresh job, or a directory of a build before 2026-12-05 without
     * the file, keeps its own. Reads only; {@link #writeTransactionNaming} writes.
     *
     * @param continuing whether the job continues the directory's job
     * @throws ParameterException naming {@code --kafka-transaction-naming} for incrementing after pooling
     * @throws IOException        if the file cannot be read
     */
    public void keptTransactionNaming(CommandLine cl, Path out, boolean continuing, java.io.PrintStream note)
            throws IOException {
        keptTransactionNaming(cl, out, continuing, false, note);
    }

    /**
     * As {@link #keptTransactionNaming(CommandLine, Path, boolean, java.io.PrintStream)}; {@code newOut}: {@code out}
     * holds nothing yet. A restore into a new directory finds no record of its savepoint's naming: without
     * {@code --kafka-transaction-naming} it took incrementing, and a savepoint of a pooling job then failed every
     * attempt, so it is refused, asking for the option.
     *
     * @throws ParameterException naming {@code --kafka-transaction-naming} for a restore into a new directory without it
     */
    public void keptTransactionNaming(CommandLine cl, Path out, boolean continuing, boolean newOut,
                                      java.io.PrintStream note) throws IOException {
        Path file = io.keyshift.jobs.LocalPaths.resolved(out).resolve(TRANSACTION_NAMING_FILE);
        if (continuing && newOut && !cl.getParseResult().hasMatchedOption("--kafka-transaction-naming")) {
            throw new ParameterException(cl, "--kafka-transaction-naming: a job restored into a new --out (" + out
                    + ") names its Kafka transactions as the job its savepoint comes from did, which that directory "
                    + "does not record here: give --kafka-transaction-naming pooling or incrementing, as that job "
                    + "had it (Flink's Kafka connector cannot switch a restored job from pooling back to "
                    + "incrementing)");
        }
        if (!continuing || !Files.isRegularFile(file)) {
            return;
        }
        String kept = Files.readString(file).strip().toLowerCase(Locale.ROOT);
        if (!kept.equals("pooling") || transactionNaming()
                == org.apache.flink.connector.kafka.sink.TransactionNamingStrategy.POOLING) {
            return;
        }
        if (cl.getParseResult().hasMatchedOption("--kafka-transaction-naming")) {
            throw new ParameterException(cl, "--kafka-transaction-naming incrementing: the job this one continues ("
                    + out + ") named its transactions with pooling, and Flink's Kafka connector cannot switch a "
                    + "restored job from pooling back to incrementing (every attempt would fail); restore with "
                    + "--kafka-transaction-naming pooling");
        }
        keptNaming = kept;
        note.println("keyshift-job: the Kafka sinks name their transactions with pooling, as the job this one "
                + "continues did (" + out.resolve(TRANSACTION_NAMING_FILE) + "); a restored job cannot switch back "
                + "to incrementing");
    }

    /**
     * Writes the sinks' transaction naming into {@code out} ({@value #TRANSACTION_NAMING_FILE}, atomically), for
     * {@link #keptTransactionNaming} of a later restore.
     *
     * @throws IOException if the file cannot be written
     */
    public void writeTransactionNaming(Path out) throws IOException {
        Path dir = io.keyshift.jobs.LocalPaths.resolved(out);
        Path next = dir.resolve(TRANSACTION_NAMING_FILE + ".next");
        Files.writeString(next, transactionNaming().name().toLowerCase(Locale.ROOT) + "\n");
        Files.move(next, dir.resolve(TRANSACTION_NAMING_FILE), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * The exactly-once sinks' transaction naming (Flink's Kafka connector: POOLING or INCREMENTING): the option's,
     * or the one a restored job keeps from its directory ({@link #keptTransactionNaming}).
     *
     * @throws IllegalArgumentException for a value other than pooling or incrementing (any case)
     */
    org.apache.flink.connector.kafka.sink.TransactionNamingStrategy transactionNaming() {
        String transactionNaming = keptNaming != null ? keptNaming : this.transactionNaming;
        switch (transactionNaming.toLowerCase(Locale.ROOT)) {
            case "pooling":
                return org.apache.flink.connector.kafka.sink.TransactionNamingStrategy.POOLING;
            case "incrementing":
                return org.apache.flink.connector.kafka.sink.TransactionNamingStrategy.INCREMENTING;
            default:
                throw new IllegalArgumentException("--kafka-transaction-naming must be pooling or incrementing, was '"
                        + transactionNaming + "'");
        }
    }

    String offsets(CommandLine cl) {
        String o = startingOffsets.toLowerCase(Locale.ROOT);
        if (!o.equals("committed") && !o.equals("earliest") && !o.equals("latest")) {
            throw new ParameterException(cl, "--kafka-starting-offsets must be committed, earliest or latest, was '"
                    + startingOffsets + "'");
        }
        return o;
    }

    /**
     * {@code --kafka-idleness}, checked (ParameterException naming it); not given with {@code --kafka-bounded}: 0. A
     * bounded read ends every partition at its end offset (an empty one at once), and a finished split no longer holds
     * the watermark back, so idleness only risks taking a slow partition (a slow fetch, a leader move) for an idle one:
     * the other partitions' watermark passed it, and its later records were dropped as late. A partition that holds
     * only dead letters then holds the windows back until read through (the watermark sees no record of it): a job
     * that fails at keyshift.route.no-watermark-timeout for it says so, and its restarts read on from their
     * checkpoints; a topic with such partitions is given an idleness.
     */
    public Duration idleness(CommandLine cl) {
        if (bounded && !cl.getParseResult().hasMatchedOption("--kafka-idleness")) {
            return Duration.ZERO;
        }
        return wholeMillis(cl, "--kafka-idleness",
                io.keyshift.jobs.cli.FlinkOptions.duration(cl, "--kafka-idleness", idleness, true));
    }

    Duration maxOutOfOrderness(CommandLine cl) {
        return wholeMillis(cl, "--max-out-of-orderness",
                io.keyshift.jobs.cli.FlinkOptions.duration(cl, "--max-out-of-orderness", maxOutOfOrderness, true));
    }

    /**
     * {@code d}, refused unless a whole number of milliseconds: Flink's watermark strategies keep milliseconds, so
     * 500 micro(seconds) was an out-of-orderness of 0 and the records it was meant to allow became late.
     */
    private static Duration wholeMillis(CommandLine cl, String option, Duration d) {
        if (d != null && d.getNano() % 1_000_000 != 0) {
            throw new ParameterException(cl, option + " must be a whole number of milliseconds (Flink's watermarks "
                    + "count milliseconds), was " + d);
        }
        return d;
    }

    /** Transactional id prefix of the sink of {@code kind} (plans, forecasts, validation); none begins with another's. */
    String transactionalIdPrefix(String kind) {
        String base = transactionalIdPrefix != null ? transactionalIdPrefix
                : defaultPrefix(resultsTopic != null ? resultsTopic : sideTopics().get(kind));
        return kind + ":" + base;
    }

    String transactionalIdPrefix() {
        return transactionalIdPrefix != null ? transactionalIdPrefix : defaultPrefix(resultsTopic);
    }

    /**
     * {@code keyshift:<topic>:<job id>:}. ':' cannot occur in a topic name and the job id is a UUID, so no job's
     * default prefix begins with another's (the sink aborts lingering transactions by prefix, and "keyshift-results"
     * would match "keyshift-results-idle-0-7"); with the topic alone (the default until 2026-12-06), two jobs writing
     * one topic shared their transactional ids and fenced, or aborted, each other's transactions.
     */
    private String defaultPrefix(String topic) {
        return "keyshift:" + topic + ":" + jobId + ":";
    }

    /** The file in {@code --out} that keeps the job id of the sinks' default transactional-id prefix. */
    public static final String TRANSACTIONAL_ID_FILE = ".kafka-transactional-id";

    /** The job id in the default transactional-id prefix: kept in {@code --out}, or new. */
    private String jobId = UUID.randomUUID().toString();

    /** The job id as read from {@code --out} ({@link #keptTransactionalIds}); null if there is none. */
    private String keptJobId;

    /**
     * Takes the job id of the sinks' default transactional-id prefix that the directory keeps
     * ({@value #TRANSACTIONAL_ID_FILE}) for a job that continues it, so that a restore writes under the prefix its
     * savepoint's transactions have. Any other job takes a new id: a fresh job, a restore into a new directory, and
     * one whose directory keeps none (its job gave --kafka-transactional-id-prefix, had no Kafka sink, or is of a
     * build before 2026-12-06, whose default was {@code keyshift:<topic>:}). Flink's Kafka sink aborts the lingering
     * transactions of the prefix its restored state names as well as its own, so a prefix that changes at a restore
     * leaves none open (it did not keep the topic-only default for such a directory: that prefix begins every newer
     * job's on the topic, and its sink would abort theirs). Reads only; {@link #writeTransactionalIds} writes.
     *
     * @param continuing    whether the job continues the directory's job, or is its {@code main} run again after a
     *                      JobManager failover before the first checkpoint (whose recovered job keeps its prefix)
     * @throws IOException  if the file cannot be read
     */
    public void keptTransactionalIds(Path out, boolean continuing) throws IOException {
        Path file = io.keyshift.jobs.LocalPaths.resolved(out).resolve(TRANSACTIONAL_ID_FILE);
        if (continuing && transactionalIdPrefix == null && Files.isRegularFile(file)) {
            keptJobId = Files.readString(file).strip();
            jobId = keptJobId;
        }
    }

    /**
     * Writes the job id of the default transactional-id prefix into {@code out} ({@value #TRANSACTIONAL_ID_FILE},
     * atomically) once the job is submitted, unless it is the one read there or the job gives its own prefix.
     *
     * @throws IOException if the file cannot be written
     */
    public void writeTransactionalIds(Path out) throws IOException {
        if (transactionalIdPrefix != null || jobId.equals(keptJobId)) {
            return;
        }
        Path dir = io.keyshift.jobs.LocalPaths.resolved(out);
        Path next = dir.resolve(TRANSACTIONAL_ID_FILE + ".next");
        Files.writeString(next, jobId + "\n");
        Files.move(next, dir.resolve(TRANSACTIONAL_ID_FILE), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    Properties clientProperties() {
        Properties p = new Properties();
        p.putAll(properties);
        return p;
    }

    /**
     * The sources' client settings: {@link #clientProperties()} with {@code isolation.level=read_committed} unless
     * {@code --kafka-property} sets it, so that records of aborted transactions (an exactly-once producer upstream,
     * keyshift's own results topic) are not read.
     */
    Properties sourceProperties() {
        Properties p = clientProperties();
        p.putIfAbsent("isolation.level", "read_committed");
        return p;
    }
}
