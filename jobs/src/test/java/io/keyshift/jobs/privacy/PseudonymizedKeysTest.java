package io.keyshift.jobs.privacy;

import io.keyshift.api.StageUids;
import io.keyshift.config.JobOptions;
import io.keyshift.config.KeyshiftConfig;
import io.keyshift.config.PrivacyOptions;
import io.keyshift.jobs.SharedData;
import io.keyshift.jobs.cli.FlinkConfig;
import io.keyshift.jobs.cli.KeyshiftCli;
import io.keyshift.jobs.input.InputSpec;
import io.keyshift.jobs.input.ReplayInput;
import io.keyshift.jobs.replay.ReplayJob;
import io.keyshift.jobs.replay.Strategy;
import io.keyshift.jobs.replay.Workload;
import io.keyshift.jobs.savepoint.SavepointInspector;
import io.keyshift.jobs.source.Progress;
import io.keyshift.route.KeyPseudonymizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;
import org.apache.flink.metrics.reporter.Scheduled;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.state.KeyGroupsStateHandle;
import org.apache.flink.runtime.state.OperatorStateHandle;
import org.apache.flink.runtime.state.StateObject;
import org.apache.flink.runtime.state.StreamStateHandle;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.runtime.SavepointLoader;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 15, acceptance 4: with {@code keyshift.privacy.key-secret}, no raw station name of the bike-share year appears
 * in any output file of a replay (results aside: the user's function keeps its keys), in the state of keyshift's
 * operators in a savepoint (read with the State Processor API, and byte by byte), or in any metric name, scope or
 * gauge value; the results equal a run without the secret. Each scan also runs where the names must be (the results,
 * the user's window state or the records waiting in the router), so a scan that read nothing would fail. About 40 s.
 */
@Tag("end-to-end")
class PseudonymizedKeysTest {
    private static final String SECRET = "test-secret-" + "4f1c9a7e2b3d8c60";
    private static final long MARCH = Instant.parse("2014-03-01T00:00:00Z").toEpochMilli();
    private static final KeyPseudonymizer PSEUDONYMS = KeyPseudonymizer.fromSecret(SECRET);

    @TempDir
    static Path dir;
    /** The 74 station names (the keys). */
    static Set<String> stations;

    @BeforeAll
    static void stations() throws Exception {
        stations = new TreeSet<>();
        try (Reader r = new java.io.InputStreamReader(new java.util.zip.GZIPInputStream(Files.newInputStream(
                SharedData.file("bayarea-bikeshare-2014/batrips.csv.gz"))), StandardCharsets.UTF_8)) {
            for (CSVRecord rec : CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).build().parse(r)) {
                stations.add(rec.get("start_station"));
            }
        }
        assertThat(stations).hasSize(74);
    }

    private static void replay(Path out, String strategies, Path control, String... options) {
        List<String> args = new ArrayList<>(List.of("replay", "--input",
                SharedData.file("bayarea-bikeshare-2014/batrips.csv.gz").toString(), "--key", "start_station",
                "--time", "start_date", "--time-format", "yyyy-MM-dd HH:mm:ssXXX", "--window", "1d",
                "--parallelism", "8", "--strategies", strategies, "--out", out.toString(),
                "--config", SharedData.flinkConf().toString()));
        if (control != null) {
            args.addAll(List.of("--control", control.toString()));
        }
        args.addAll(List.of(options));
        StringWriter err = new StringWriter();
        CommandLine cl = KeyshiftCli.commandLine();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute(args.toArray(String[]::new))).as(err.toString()).isZero();
    }

    /** The station names found in {@code bytes}. */
    private static List<String> names(byte[] bytes) {
        String s = new String(bytes, StandardCharsets.ISO_8859_1);
        return stations.stream().filter(n -> s.contains(n)).toList();
    }

    private static List<CSVRecord> csv(Path file) throws Exception {
        try (Reader r = Files.newBufferedReader(file)) {
            return CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).build().parse(r).getRecords();
        }
    }

    @Test
    void noStationNameInAnyReplayOutputAndTheSameResults() throws Exception {
        Path plain = dir.resolve("plain");
        replay(plain, "predictive", null);
        // a key the planner moves often after March without a control file: pinned by its raw name, it must hold
        Map<String, Long> movesAfterMarch = new TreeMap<>();
        for (CSVRecord r : csv(plain.resolve("moves-predictive.csv"))) {
            if (Long.parseLong(r.get("shadow_from")) >= MARCH) {
                movesAfterMarch.merge(r.get("key"), 1L, Long::sum);
            }
        }
        String mover = movesAfterMarch.entrySet().stream()
                .max(Map.Entry.<String, Long>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                .orElseThrow().getKey();
        assertThat(movesAfterMarch.get(mover)).isGreaterThanOrEqualTo(3);

        Path control = dir.resolve("control.csv");
        Files.writeString(control, "2014-03-01T00:00:00Z,pin,\"" + mover + "\"\n"
                + "2014-04-01T00:00:00Z,teleport,\"" + mover + "\"\n");
        Path secret = dir.resolve("secret");
        replay(secret, "hash,predictive", control, "-D" + PrivacyOptions.KEY_SECRET.key() + "=" + SECRET);

        // results: the user's, with their keys, identical to the run without the secret
        assertThat(Files.readString(secret.resolve("results-predictive.csv")))
                .isEqualTo(Files.readString(plain.resolve("results-predictive.csv")))
                .isEqualTo(Files.readString(secret.resolve("results-hash.csv")));
        assertThat(names(Files.readAllBytes(secret.resolve("results-predictive.csv")))).hasSize(74);

        // every other file (reports, charts and their names, plans, forecasts, profiles, validation, control state)
        Map<String, List<String>> leaks = new TreeMap<>();
        List<Path> scanned = new ArrayList<>();
        try (Stream<Path> files = Files.walk(secret)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                String rel = secret.relativize(f).toString();
                if (rel.startsWith("results-") || rel.contains("/results/") || rel.contains("window-results")) {
                    continue;
                }
                scanned.add(f);
                List<String> found = new ArrayList<>(names(Files.readAllBytes(f)));
                found.addAll(names(rel.getBytes(StandardCharsets.ISO_8859_1)));
                stations.stream().filter(n -> rel.contains(n.replaceAll("[^A-Za-z0-9]", "_"))).forEach(found::add);
                if (!found.isEmpty()) {
                    leaks.put(rel, found);
                }
            }
        }
        assertThat(scanned.stream().map(p -> p.getFileName().toString()))
                .contains("report.json", "report.html", "moves-predictive.csv", "profiles-predictive.jsonl",
                        "forecast-units-predictive.csv", "control-predictive.csv", "control-rejected-predictive.csv");
        assertThat(leaks).isEmpty();
        assertThat(Files.readString(secret.resolve("report.json"))).doesNotContain(SECRET);

        // plans name pseudonyms; the pin given by raw name held its pseudonym in place after March
        List<CSVRecord> moves = csv(secret.resolve("moves-predictive.csv"));
        assertThat(moves).isNotEmpty().allMatch(r -> KeyPseudonymizer.isPseudonym(r.get("key")));
        String pinned = PSEUDONYMS.pseudonym(mover);
        assertThat(moves).noneMatch(r -> r.get("key").equals(pinned) && Long.parseLong(r.get("shadow_from")) >= MARCH);
        assertThat(csv(secret.resolve("control-predictive.csv")))
                .anyMatch(r -> r.get("pinned_keys").contains(pinned));
        // the malformed command is refused: its key, and its unknown command's name, pseudonymized too
        assertThat(Files.readString(secret.resolve("control-rejected-predictive.csv")))
                .contains("unknown command '" + PSEUDONYMS.pseudonym("teleport") + "'").contains(pinned);
    }

    @Test
    void noStationNameInKeyshiftStateOfASavepointNorInMetrics() throws Exception {
        ReplayInput.Prepared input = ReplayInput.prepare(SharedData.file("bayarea-bikeshare-2014/batrips.csv.gz"),
                new InputSpec(List.of(), "start_station", List.of("start_date"), Optional.of("yyyy-MM-dd HH:mm:ssXXX"),
                        Optional.empty()),
                dir.resolve("events.bin"), dir.resolve("dead-letters.csv"), n -> { });
        Configuration c = FlinkConfig.load(SharedData.flinkConf(), Map.of(
                PrivacyOptions.KEY_SECRET.key(), SECRET,
                "metrics.reporter.scan.factory.class", CapturingReporter.Factory.class.getName(),
                "metrics.reporter.scan.interval", "200 ms"));
        c.set(JobOptions.WINDOW, Duration.ofDays(1));
        c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.resolve("cp").toUri().toString());
        Path runDir = dir.resolve("run");
        String progress = "privacy-" + UUID.randomUUID();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(4, c);
        env.setMaxParallelism(128);
        ReplayJob.build(env, input.space(), Strategy.PREDICTIVE, c, runDir, false, 60_000, progress);
        JobClient client = env.executeAsync("pseudonymized keys");
        while (Progress.get(progress) < input.stats().records() / 2) {
            Thread.sleep(50);
            assertThat(client.getJobStatus().get().isGloballyTerminalState())
                    .as("the job ended before half of the input").isFalse();
        }
        String savepoint = client.stopWithSavepoint(false, dir.resolve("savepoints").toUri().toString(),
                SavepointFormatType.CANONICAL).get();

        // the State Processor API's view: inspect-savepoint's JSON (plan, control, forecaster's series)
        JsonNode inspected = SavepointInspector.inspect(savepoint, KeyshiftConfig.forecastSettings(c, 128));
        String json = new ObjectMapper().writeValueAsString(inspected);
        assertThat(inspected.at("/forecaster/tracked_series").size()).isGreaterThan(10);
        assertThat(inspected.at("/plan/moved_units").size()).isGreaterThan(0);
        assertThat(names(json.getBytes(StandardCharsets.UTF_8))).isEmpty();
        assertThat(json).contains(PSEUDONYMS.pseudonym("San Francisco Caltrain (Townsend at 4th)"));
        assertThat(inspected.at("/plan/key_naming").asText()).isEqualTo(KeyPseudonymizer.naming(PSEUDONYMS));
        // inspected under another secret: warned of, naming the option (the keys were printed as they are, without
        // a word, and pseudonym under the secret given never matched them)
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine cli = io.keyshift.jobs.cli.KeyshiftCli.commandLine();
        cli.setErr(new java.io.PrintWriter(err, true));
        assertThat(cli.execute("inspect-savepoint", savepoint, "--window", "1d", "--config",
                SharedData.flinkConf().toString(), "-D" + PrivacyOptions.KEY_SECRET.key() + "=another-secret-0123456"))
                .as(err.toString()).isZero();
        assertThat(err.toString()).contains("warning: " + PrivacyOptions.KEY_SECRET.key() + " is set, but the "
                + "savepoint's plan names keys by pseudonyms under another key secret");

        // byte by byte: every state handle of keyshift's own operators (and coordinators); the user's window state
        // keeps its keys, which shows the scan reads the state
        String prefix = Workload.UID_PREFIX;
        Map<OperatorID, String> ours = new java.util.HashMap<>();
        for (String uid : List.of(StageUids.router(prefix), StageUids.profiler(prefix), StageUids.forecaster(prefix),
                StageUids.planner(prefix), StageUids.validator(prefix), StageUids.scaling(prefix))) {
            ours.put(OperatorIdentifier.forUid(uid).getOperatorId(), uid);
        }
        OperatorID window = OperatorIdentifier.forUid(StageUids.window(prefix)).getOperatorId();
        CheckpointMetadata metadata = SavepointLoader.loadSavepointMetadata(savepoint);
        Map<String, Integer> bytesRead = new TreeMap<>();
        Set<String> userData = new TreeSet<>();
        for (OperatorState os : metadata.getOperatorStates()) {
            if (ours.containsKey(os.getOperatorID())) {
                byte[] bytes = bytes(os, true);
                bytesRead.put(ours.get(os.getOperatorID()), bytes.length);
                assertThat(names(bytes)).as(ours.get(os.getOperatorID())).isEmpty();
            }
            if (os.getOperatorID().equals(window) || StageUids.router(prefix).equals(ours.get(os.getOperatorID()))) {
                userData.addAll(names(bytes(os, false)));
            }
        }
        // the user's window state, or the records waiting in the router for a lease (one of them holds the records
        // of the day the savepoint fell in)
        assertThat(userData).as("station names in the user's data of the savepoint").isNotEmpty();
        assertThat(bytesRead.keySet()).contains(StageUids.router(prefix), StageUids.profiler(prefix),
                StageUids.forecaster(prefix), StageUids.planner(prefix));
        assertThat(bytesRead.get(StageUids.forecaster(prefix))).isGreaterThan(10_000);

        // metrics: every name, scope variable and gauge value reported while the job ran
        assertThat(CapturingReporter.SEEN).anyMatch(s -> s.contains("keyshift"));
        // the names the README's metrics table gives (and dashboards read), written out: every one a predictive job
        // registers without a capacity model or a control input
        for (String name : List.of("keyshiftRoutedRecords", "keyshiftPrimaryRecords", "keyshiftShadowRecords",
                "keyshiftShadowOverhead", "keyshiftWaitingRecords", "keyshiftPlanVersion",
                "keyshiftRoutingTableEntries", "keyshiftSamplingRate", "keyshiftPacedRecords",
                "keyshiftLateRecordsUnprofiled", "keyshiftObservedImbalance", "keyshiftPredictedImbalance",
                "keyshiftMigrationsStarted", "keyshiftMigrationsCompleted", "keyshiftMigrationsInShadowPhase",
                "keyshiftMigrationsUnfinished", "keyshiftMigrationsValidated", "keyshiftPlanningTimeMs",
                "keyshiftMaxUtilization", "keyshiftScaleInOpportunity", "keyshiftPlanParallelism",
                "keyshiftForecastMase", "keyshiftForecastSeries", "keyshiftForecastAnomalies",
                "keyshiftForecastAnomalyZ", "keyshiftForecastStateEntries", "keyshiftValidationMatches",
                "keyshiftValidationMismatches", "keyshiftValidationLateChecks", "keyshiftProfiledWindows",
                "keyshiftLateReports")) {
            assertThat(CapturingReporter.SEEN).as(name).anyMatch(s -> s.endsWith("." + name));
        }
        assertThat(CapturingReporter.SEEN.stream().filter(s -> !names(s.getBytes(StandardCharsets.UTF_8)).isEmpty())
                .collect(Collectors.toList())).isEmpty();
    }

    /**
     * The bytes of every state handle of {@code os} (operator, keyed, raw; the coordinator's), concatenated, without
     * the router's waiting records if {@code skipWaiting}.
     */
    private static byte[] bytes(OperatorState os, boolean skipWaiting) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (os.getCoordinatorState() != null) {
            read(os.getCoordinatorState(), out, skipWaiting);
        }
        for (OperatorSubtaskState st : os.getStates()) {
            for (StateObject h : Stream.of(st.getManagedOperatorState(), st.getRawOperatorState(),
                    st.getManagedKeyedState(), st.getRawKeyedState()).flatMap(x -> x.stream()).toList()) {
                read(h, out, skipWaiting);
            }
        }
        return out.toByteArray();
    }

    private static void read(StateObject h, ByteArrayOutputStream out, boolean skipWaiting) throws Exception {
        StreamStateHandle stream;
        if (h instanceof KeyGroupsStateHandle k) {
            stream = k.getDelegateStateHandle();
        } else if (h instanceof OperatorStateHandle o) {
            // every element but the router's waiting records: they are the user's records, held until a plan's
            // lease covers them, and keep their content (as records in flight do)
            byte[] all;
            try (InputStream in = o.getDelegateStateHandle().openInputStream()) {
                all = in.readAllBytes();
            }
            TreeMap<Long, String> starts = new TreeMap<>();
            o.getStateNameToPartitionOffsets().forEach((name, meta) -> {
                for (long off : meta.getOffsets()) {
                    starts.put(off, name);
                }
            });
            long end = starts.isEmpty() ? all.length : starts.firstKey();
            out.write(all, 0, (int) end);
            for (Map.Entry<Long, String> e : starts.entrySet()) {
                Long next = starts.higherKey(e.getKey());
                long to = next == null ? all.length : next;
                if (!skipWaiting || !e.getValue().equals("waiting-records")) {
                    out.write(all, (int) (long) e.getKey(), (int) (to - e.getKey()));
                }
            }
            return;
        } else if (h instanceof StreamStateHandle s) {
            stream = s;
        } else {
            throw new AssertionError("a state handle this scan cannot read: " + h.getClass());
        }
        try (InputStream in = stream.openInputStream()) {
            in.transferTo(out);
        }
    }

    /** Records every metric's identifier, scope variables and (gauges) values. */
    public static final class CapturingReporter implements MetricReporter, Scheduled {
        static final Set<String> SEEN = ConcurrentHashMap.newKeySet();
        private final List<Gauge<?>> gauges = new CopyOnWriteArrayList<>();

        /** Its factory (metrics.reporter.NAME.factory.class; registered in META-INF/services). */
        public static final class Factory implements MetricReporterFactory {
            @Override
            public MetricReporter createMetricReporter(Properties properties) {
                return new CapturingReporter();
            }
        }

        @Override
        public void open(MetricConfig config) {}

        @Override
        public void close() {
            report();
        }

        @Override
        public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
            SEEN.add(group.getMetricIdentifier(name));
            SEEN.addAll(group.getAllVariables().values());
            if (metric instanceof Gauge<?> g) {
                gauges.add(g);
            }
        }

        @Override
        public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {
            if (metric instanceof Gauge<?> g) {
                value(g);
                gauges.remove(g);
            }
        }

        @Override
        public void report() {
            gauges.forEach(this::value);
        }

        private void value(Gauge<?> g) {
            try {
                Object v = g.getValue();
                if (v != null) {
                    SEEN.add(v.toString());
                }
            } catch (RuntimeException e) {
                // a gauge of a closed operator
            }
        }
    }
}
