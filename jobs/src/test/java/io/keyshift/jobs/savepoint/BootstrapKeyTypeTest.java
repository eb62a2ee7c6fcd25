package io.keyshift.jobs.savepoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyshift.config.JobOptions;
import io.keyshift.jobs.SharedData;
import io.keyshift.jobs.cli.FlinkConfig;
import io.keyshift.jobs.cli.KeyshiftCli;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code bootstrap --key-type}: a stage keyed by Long puts a key in the key group of the key's Long hash, so the
 * forecaster trained for it must track its hot keys there (the String "7" hashes elsewhere).
 */
class BootstrapKeyTypeTest {
    private static final int MAX_P = 128;

    /** 14 days of hourly records over user ids 1..40, id 7 about half of them. */
    private static Path history(Path dir, String sevenAs) throws Exception {
        List<String> rows = new ArrayList<>(List.of("user,time"));
        long start = Instant.parse("2026-01-05T00:00:00Z").toEpochMilli();
        java.util.SplittableRandom r = new java.util.SplittableRandom(7);
        for (int hour = 0; hour < 14 * 24; hour++) {
            for (int n = 0; n < 40; n++) {
                int user = r.nextBoolean() ? 7 : 1 + r.nextInt(40);
                rows.add((user == 7 ? sevenAs : Integer.toString(user)) + ","
                        + Instant.ofEpochMilli(start + hour * 3_600_000L + n * 60_000L));
            }
        }
        Path csv = dir.resolve("history-" + sevenAs + ".csv");
        Files.write(csv, rows);
        return csv;
    }

    private static int run(StringWriter err, String... args) {
        var cli = KeyshiftCli.commandLine();
        cli.setErr(new PrintWriter(err));
        cli.setOut(new PrintWriter(new StringWriter()));
        return cli.execute(args);
    }

    private static String[] bootstrap(Path input, Path out, String keyType) {
        return new String[] {"bootstrap", "--input", input.toString(), "--key", "user", "--time", "time",
            "--window", "1h", "--out", out.toString(), "--key-type", keyType,
            "--config", SharedData.flinkConf().toString()};
    }

    /** The key group the forecaster tracks hot key 7 in. */
    private static int keyGroupOfSeven(Path savepoint) throws Exception {
        Configuration base = FlinkConfig.load(SharedData.flinkConf(), Map.of());
        base.set(JobOptions.WINDOW, Duration.ofHours(1));
        JsonNode inspected = SavepointInspector.inspect(savepoint.toUri().toString(),
                io.keyshift.config.KeyshiftConfig.forecastSettings(base, MAX_P));
        for (JsonNode s : inspected.at("/forecaster/tracked_series")) {
            if (s.path("unit").asText().equals("hot_key") && s.path("key").asText().equals("7")) {
                return s.path("key_group").asInt();
            }
        }
        throw new AssertionError("hot key 7 is not tracked: " + inspected.at("/forecaster/tracked_series"));
    }

    @Test
    void aLongKeyedStageGetsItsHotKeysInTheirLongKeyGroups(@TempDir Path dir) throws Exception {
        int asLong = KeyGroupRangeAssignment.assignToKeyGroup(7L, MAX_P);
        int asString = KeyGroupRangeAssignment.assignToKeyGroup("7", MAX_P);
        assertThat(asLong).as("the test needs the two hashes apart").isNotEqualTo(asString);
        Path input = history(dir, "7");

        StringWriter err = new StringWriter();
        assertThat(run(err, bootstrap(input, dir.resolve("long"), "long"))).as(err.toString()).isZero();
        assertThat(keyGroupOfSeven(dir.resolve("long"))).isEqualTo(asLong);
        assertThat(run(err, bootstrap(input, dir.resolve("string"), "string"))).as(err.toString()).isZero();
        assertThat(keyGroupOfSeven(dir.resolve("string"))).isEqualTo(asString);
    }

    /**
     * inspect-savepoint reads a forecaster's state with the window it was made from unless told otherwise; a --window
     * that does not fit is named (it said only that the candidate models differed, with exit 1).
     */
    @Test
    void inspectSavepointReadsTheForecasterWithItsOwnWindowOrNamesTheOneThatDoesNotFit(@TempDir Path dir)
            throws Exception {
        StringWriter err = new StringWriter();
        // a directory whose name a URI escapes: Flink's Path escapes a URI's escapes once more
        Path daily = java.nio.file.Files.createDirectories(dir.resolve("a 100% dir")).resolve("daily");
        String[] args = bootstrap(history(dir, "7"), daily, "long");
        args[java.util.Arrays.asList(args).indexOf("1h")] = "1d";
        assertThat(run(err, args)).as(err.toString()).isZero();

        var cli = KeyshiftCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter inspectErr = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(inspectErr));
        java.io.ByteArrayOutputStream stdout = new java.io.ByteArrayOutputStream();
        java.io.PrintStream before = System.out;
        int exit;
        try {
            System.setOut(new java.io.PrintStream(stdout, true, java.nio.charset.StandardCharsets.UTF_8));
            exit = cli.execute("inspect-savepoint", daily.toString(), "--config",
                    SharedData.flinkConf().toString());
        } finally {
            System.setOut(before);
        }
        assertThat(exit).as(inspectErr.toString()).isZero();
        assertThat(stdout.toString(java.nio.charset.StandardCharsets.UTF_8)).contains("windows of PT24H observed");
        // the job's config.yaml with its window: no --window given, nothing to refuse (the command read 1h as given)
        Path dayConf = java.nio.file.Files.createDirectories(dir.resolve("conf-1d"));
        java.util.List<String> lines = new java.util.ArrayList<>(java.nio.file.Files.readAllLines(
                SharedData.flinkConf().resolve("config.yaml")));
        lines.add("keyshift.window: 1d");
        java.nio.file.Files.write(dayConf.resolve("config.yaml"), lines);
        StringWriter yaml = new StringWriter();
        java.io.PrintStream kept = System.out;
        try {
            System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
            assertThat(run(yaml, "inspect-savepoint", daily.toString(), "--config", dayConf.toString()))
                    .as(yaml.toString()).isZero();
        } finally {
            System.setOut(kept);
        }

        StringWriter wrong = new StringWriter();
        assertThat(run(wrong, "inspect-savepoint", daily.toString(), "--window", "1h", "--config",
                SharedData.flinkConf().toString())).isEqualTo(2);
        assertThat(wrong.toString().strip().lines()).singleElement().satisfies(l -> assertThat(l)
                .contains("--window 1h: the forecaster's state was made from windows of 1d")
                .contains("inspect it with --window 1d"));
        // with the seasons given, the models of 1h windows are those of 1d: the state decoded, and a wrong
        // --window was shown as the state's own
        StringWriter seasons = new StringWriter();
        assertThat(run(seasons, "inspect-savepoint", daily.toString(), "--window", "1h",
                "-Dkeyshift.forecast.seasons=7", "--config", SharedData.flinkConf().toString())).isEqualTo(2);
        assertThat(seasons.toString().strip().lines()).singleElement().satisfies(l -> assertThat(l)
                .contains("--window 1h: the forecaster's state was made from windows of 1d"));
    }

    /** Under a key secret keyshift prints no key: the refusal named the first key that did not read as the type. */
    @Test
    void underAKeySecretTheRefusalNamesNoKey(@TempDir Path dir) throws Exception {
        StringWriter err = new StringWriter();
        String[] args = bootstrap(history(dir, "seven"), dir.resolve("sp"), "long");
        String[] secret = java.util.Arrays.copyOf(args, args.length + 1);
        secret[args.length] = "-Dkeyshift.privacy.key-secret=0123456789abcdef-test";
        assertThat(run(err, secret)).isEqualTo(2);
        assertThat(err.toString().strip().lines()).singleElement().satisfies(l -> assertThat(l)
                .contains("is not a long, the first not shown under keyshift.privacy.key-secret")
                .doesNotContain("seven"));
    }

    @Test
    void keysThatDoNotReadAsTheTypeOrAnUnknownTypeFailInOneLineWithoutASavepoint(@TempDir Path dir) throws Exception {
        StringWriter err = new StringWriter();
        assertThat(run(err, bootstrap(history(dir, "seven"), dir.resolve("sp"), "long"))).isEqualTo(2);
        assertThat(err.toString().strip().lines()).singleElement().satisfies(l -> assertThat(l)
                .startsWith("keyshift bootstrap: --key-type long: ").contains("is not a long, the first 'seven'")
                .endsWith("no savepoint written"));
        assertThat(dir.resolve("sp")).doesNotExist();

        StringWriter bad = new StringWriter();
        assertThat(run(bad, bootstrap(history(dir, "7"), dir.resolve("sp2"), "uuid"))).isEqualTo(2);
        assertThat(bad.toString()).contains("--key-type must be string, long or int, was 'uuid'");
        assertThat(dir.resolve("sp2")).doesNotExist();
    }

    /** --onto adds a second stage's forecaster to the first's savepoint; the same stage twice is refused in one line. */
    @Test
    void ontoAddsASecondStagesForecasterAndRefusesTheSameStageTwice(@TempDir Path dir) throws Exception {
        Path input = history(dir, "7");
        StringWriter err = new StringWriter();
        assertThat(run(err, bootstrap(input, dir.resolve("first"), "string"))).as(err.toString()).isZero();
        List<String> second = new ArrayList<>(List.of(bootstrap(input, dir.resolve("both"), "long")));
        second.addAll(List.of("--uid-prefix", "ids", "--onto", dir.resolve("first").toString()));
        assertThat(run(err, second.toArray(String[]::new))).as(err.toString()).isZero();
        java.util.Set<org.apache.flink.runtime.jobgraph.OperatorID> operators = new java.util.HashSet<>();
        org.apache.flink.state.api.runtime.SavepointLoader.loadSavepointMetadata(dir.resolve("both").toUri().toString())
                .getOperatorStates().forEach(o -> operators.add(o.getOperatorID()));
        assertThat(operators).contains(
                org.apache.flink.state.api.OperatorIdentifier.forUid(io.keyshift.api.StageUids.forecaster("keyshift"))
                        .getOperatorId(),
                org.apache.flink.state.api.OperatorIdentifier.forUid(io.keyshift.api.StageUids.forecaster("ids"))
                        .getOperatorId());
        assertThat(dir.resolve("both").resolve(io.keyshift.savepoint.ForecasterBootstrap.MARKER)).exists();
        // a library job's stage (another uid prefix) may have a max parallelism of its own beside the job's other
        // operators (it was refused as if the command-line job, which sets one for all, were to restore it)
        List<String> own = new ArrayList<>(List.of(bootstrap(input, dir.resolve("own"), "string")));
        own.addAll(List.of("--uid-prefix", "names", "--onto", dir.resolve("first").toString(),
                "-Dpipeline.max-parallelism=64"));
        assertThat(run(err, own.toArray(String[]::new))).as(err.toString()).isZero();
        List<String> ownKeyshift = new ArrayList<>(List.of(bootstrap(input, dir.resolve("own-keyshift"), "string")));
        ownKeyshift.addAll(List.of("--onto", dir.resolve("both").toString(), "-Dpipeline.max-parallelism=64"));
        StringWriter mixed = new StringWriter();
        assertThat(run(mixed, ownKeyshift.toArray(String[]::new))).isEqualTo(2);
        assertThat(mixed.toString()).contains("the job has 64 for all its operators");

        List<String> again = new ArrayList<>(List.of(bootstrap(input, dir.resolve("again"), "string")));
        again.addAll(List.of("--onto", dir.resolve("first").toString()));
        StringWriter twice = new StringWriter();
        assertThat(run(twice, again.toArray(String[]::new))).isEqualTo(2);
        assertThat(twice.toString().strip().lines()).singleElement().satisfies(l -> assertThat(l)
                .contains("--onto " + dir.resolve("first")).contains("holds the forecaster of the stage with uid "
                        + "prefix 'keyshift'"));
        assertThat(dir.resolve("again")).doesNotExist();
    }
}
