package io.keyshift.jobs.cli;

import io.keyshift.jobs.SharedData;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The replay command as a user runs it (in-process picocli, local MiniCluster). */
class ReplayCommandTest {

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void unknownKeyColumnExitsTwoNamingIt(@TempDir Path dir) {
        CliRun r = run("replay", "--input", SharedData.file("bayarea-bikeshare-2014/batrips.csv.gz").toString(),
                "--key", "no_such_column", "--time", "start_date", "--out", dir.toString(),
                "--config", SharedData.flinkConf().toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("no_such_column");
    }

    @Test
    void invalidOptionValuesExitTwoNamingTheOption(@TempDir Path dir) {
        CliRun window = run("replay", "--window", "often", "--out", dir.toString());
        assertThat(window.exit()).isEqualTo(2);
        assertThat(window.err()).contains("--window");
        CliRun option = run("replay", "-Dkeyshift.plan.alpha=lots", "--out", dir.toString(),
                "--config", SharedData.flinkConf().toString());
        assertThat(option.exit()).isEqualTo(2);
        assertThat(option.err()).contains("keyshift.plan.alpha");
        CliRun unknown = run("replay", "-Dkeyshift.no.such=1", "--out", dir.toString());
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("keyshift.no.such");
        // the command line's own keyshift.* options are among the suggestions, as the library's are
        CliRun near = run("replay", "-Dkeyshift.allowed-latenes=1s", "--out", dir.toString());
        assertThat(near.exit()).isEqualTo(2);
        assertThat(near.err()).contains("did you mean 'keyshift.allowed-lateness'?");
        // issue 17: out-of-range values exit 2 before any job, naming the option (alpha -1 used to be accepted,
        // sampling rates 0 and 2 failed only after the hash job had run)
        for (String bad : java.util.List.of("keyshift.plan.alpha=-1", "keyshift.profiler.sampling-rate=0",
                "keyshift.profiler.sampling-rate=2", "keyshift.plan.shrinkage=-1",
                "keyshift.plan.long-run-windows=0",
                // the state horizon's bound (failed only when the first keyshift job was built, after hash's)
                "keyshift.allowed-lateness=99999999d", "keyshift.allowed-lateness=100000000000000d",
                // keyshift's windows take whole milliseconds (hash's ran with Flink's 1 ms, then predictive's failed)
                "keyshift.allowed-lateness=1500000ns",
                // set by --control (and the cluster job's --control-dir), which check them: as -D they went past every
                // check, and a replay watched the directory for ever
                "keyshift.control.directory=" + dir, "keyshift.control.file=/no/such/commands.csv",
                // Flink's own options too: a value that does not parse is an option error, not a failed job
                "pipeline.max-parallelism=abc", "execution.checkpointing.interval=often")) {
            CliRun r = run("replay", "-D" + bad, "--out", dir.toString());
            assertThat(r.exit()).as(bad).isEqualTo(2);
            assertThat(r.err()).contains(bad.substring(0, bad.indexOf('='))).doesNotContain("\tat ");
            // one line, pointing to the help rather than printing it
            assertThat(r.err().strip().lines()).as(bad).hasSize(1);
            assertThat(r.err()).contains("keyshift replay --help").doesNotContain("Usage:");
        }
        // too many windows for the generator's days, told before its records are counted (that took minutes)
        CliRun huge = run("replay", "--generator-records", "99999999999999", "--window", "1ms", "--out",
                dir.toString());
        assertThat(huge.exit()).isEqualTo(2);
        assertThat(huge.err()).contains("--window 1 ms splits the 7.0 days of event time into 604,800,000 planning "
                + "windows");
        CliRun gap = run("replay", "-Dkeyshift.input.max-event-time-gap=-1d", "--out", dir.toString());
        assertThat(gap.exit()).isEqualTo(2);
        assertThat(gap.err()).contains("keyshift.input.max-event-time-gap");
        CliRun ahead = run("replay", "-Dkeyshift.input.max-event-time-ahead=-1d", "--out", dir.toString());
        assertThat(ahead.exit()).isEqualTo(2);
        assertThat(ahead.err()).contains("keyshift.input.max-event-time-ahead").doesNotContain("\tat ");
        // used in whole milliseconds: 500micros was 0 there (nearly every row a dead letter, exit 0), and a gap
        // beyond a long's milliseconds failed after the input was read, naming no option
        for (String gapValue : List.of("500micros", "200000000000d")) {
            CliRun bad = run("replay", "-Dkeyshift.input.max-event-time-gap=" + gapValue, "--out", dir.toString());
            assertThat(bad.exit()).as(gapValue).isEqualTo(2);
            assertThat(bad.err()).as(gapValue).contains("'keyshift.input.max-event-time-gap' must be a whole number "
                    + "of milliseconds").doesNotContain("\tat ");
        }
    }

    @Test
    void aMistypedConfigDirectoryOrAnOutputThatIsAFileExitTwoBeforeAnyJob(@TempDir Path dir) throws Exception {
        CliRun config = run("replay", "--config", dir.resolve("no-such-conf").toString(), "--out",
                dir.resolve("out").toString());
        assertThat(config.exit()).isEqualTo(2);
        assertThat(config.err()).contains("--config: no config.yaml in");
        assertThat(dir.resolve("out")).doesNotExist();
        Path file = java.nio.file.Files.writeString(dir.resolve("a-file"), "x");
        CliRun out = run("replay", "--out", file.toString());
        assertThat(out.exit()).isEqualTo(2);
        assertThat(out.err()).contains("--out: " + file + " is a file, not a directory");
        CliRun bench = run("bench", "--out", file.toString());
        assertThat(bench.exit()).isEqualTo(2);
        assertThat(bench.err()).contains("is a file, not a directory");
    }

    /** End-to-end (a few seconds): a byte-order mark before the header, and a truncated gzip file. */
    @Test
    @Tag("end-to-end")
    void aByteOrderMarkIsStrippedAndATruncatedGzipIsOneLineNamingTheFile(@TempDir Path dir) throws Exception {
        StringBuilder csv = minuteRows("trip_id", "t", 17, 3_000);
        byte[] text = csv.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Path bom = dir.resolve("bom.csv");
        try (var o = java.nio.file.Files.newOutputStream(bom)) {
            o.write(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
            o.write(text);
        }
        CliRun ok = run("replay", "--input", bom.toString(), "--key", "trip_id", "--time", "when", "--window", "1h",
                "--parallelism", "2", "--strategies", "hash", "--out", dir.resolve("out-bom").toString());
        assertThat(ok.exit()).as(ok.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(dir.resolve("out-bom").resolve("report.json").toFile());
        assertThat(report.at("/input/records").requireNonNull().asLong()).isEqualTo(3_000);
        assertThat(report.at("/input/dead_letters").requireNonNull().asLong()).isZero();

        java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
        try (var z = new java.util.zip.GZIPOutputStream(gz)) {
            z.write(text);
        }
        Path truncated = java.nio.file.Files.write(dir.resolve("cut.csv.gz"),
                java.util.Arrays.copyOf(gz.toByteArray(), gz.size() / 2));
        CliRun cut = run("replay", "--input", truncated.toString(), "--key", "trip_id", "--time", "when", "--window",
                "1h", "--parallelism", "2", "--strategies", "hash", "--out", dir.resolve("out-cut").toString());
        assertThat(cut.exit()).isEqualTo(1);
        List<String> lines = cut.err().lines().filter(l -> l.startsWith("keyshift replay:")).toList();
        assertThat(lines).singleElement().satisfies(l -> assertThat(l)
                .contains(truncated + ": truncated or corrupt compressed input after line")
                .contains("nothing was replayed"));
        assertThat(cut.err()).doesNotContain("\tat ");
    }

    /**
     * End-to-end (about 20 s): a header-only file gives an empty, valid report (with a scaled run); a key of 70,000 characters goes
     * through sorting, the forecaster's checkpoints (every 200 ms) and a chart file name.
     */
    @Test
    @Tag("end-to-end")
    void aHeaderOnlyFileAndAKeyOverSixtyFourKilobytesFinishWithAReport(@TempDir Path dir) throws Exception {
        Path header = Files.writeString(dir.resolve("header.csv"), "id,when\n");
        // with --scale too: the scaling report's windows of an input without records overflowed and ran out of memory
        CliRun empty = run("replay", "--input", header.toString(), "--key", "id", "--time", "when", "--window", "1h",
                "--parallelism", "2", "--strategies", "hash,predictive", "--scale", "predictive",
                "-Dkeyshift.scaling.capacity=10", "-Dkeyshift.scaling.max-parallelism=4",
                "--out", dir.resolve("out-empty").toString());
        assertThat(empty.exit()).as(empty.err()).isZero();
        JsonNode none = new ObjectMapper().readTree(dir.resolve("out-empty").resolve("report.json").toFile());
        assertThat(none.at("/input/records").requireNonNull().asLong()).isZero();
        assertThat(none.at("/scaling/runs/scaled-predictive/rescales").requireNonNull().asInt()).isZero();
        // the printed table says there was nothing to measure (it printed "null .. null" and NaN)
        assertThat(empty.out()).contains("input: 0 records, 0 dead letters, 0 keys, no event time;")
                .contains("lower bound -, oracle -").doesNotContain("NaN").doesNotContain("null");
        assertThat(empty.out().lines().filter(l -> l.startsWith("predictive "))).singleElement()
                .satisfies(l -> assertThat(l.trim().split(" +")).startsWith("predictive", "-", "-", "-", "0", "0"));

        StringBuilder csv = new StringBuilder("id,when\n");
        long start = Instant.parse("2024-03-01T00:00:00Z").toEpochMilli();
        String longKey = "K".repeat(70_000);
        for (int i = 0; i < 500; i++) {
            csv.append(i % 3 == 0 ? longKey : "k" + i % 7).append(',').append(Instant.ofEpochMilli(start + i * 60_000L))
                    .append('\n');
        }
        Path file = Files.writeString(dir.resolve("long.csv"), csv);
        Path out = dir.resolve("out-long");
        CliRun r = run("replay", "--input", file.toString(), "--key", "id", "--time", "when", "--window", "1h",
                "--parallelism", "2", "--strategies", "hash,predictive", "--rate", "200",
                "-Dexecution.checkpointing.interval=200ms", "--out", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertThat(report.at("/input/records").requireNonNull().asLong()).isEqualTo(500);
        assertThat(report.at("/strategies/predictive/result_mismatches").requireNonNull().asLong()).isZero();
        try (var charts = Files.list(out.resolve("charts"))) {
            assertThat(charts.map(p -> p.getFileName().toString()))
                    .allSatisfy(n -> assertThat(n.length()).isLessThanOrEqualTo(90));
        }
    }

    /**
     * End-to-end (about 10 s): with a forecast calendar the report gives the marked windows' imbalance and forecast
     * error. Three keys, three weeks of days: weekdays busy, weekends quiet, and a holiday Monday in the third week as
     * quiet as a Sunday; the calendar forecasts it as the mean of the two Sundays before it, exactly.
     */
    @Test
    @Tag("end-to-end")
    void aCalendarsMarkedWindowsAreInTheReport(@TempDir Path dir) throws Exception {
        StringBuilder csv = new StringBuilder("id,when\n");
        java.time.LocalDate first = java.time.LocalDate.of(2024, 3, 4);
        java.time.LocalDate holiday = java.time.LocalDate.of(2024, 3, 18);
        for (int d = 0; d < 21; d++) {
            java.time.LocalDate day = first.plusDays(d);
            boolean quiet = day.getDayOfWeek().getValue() >= 6 || day.equals(holiday);
            for (int k = 0; k < 3; k++) {
                int n = quiet ? 5 + k : 30 + 10 * k;
                for (int i = 0; i < n; i++) {
                    csv.append("key").append(k).append(',').append(day.atTime(8, 0).plusMinutes(7L * i + k)
                            .toInstant(java.time.ZoneOffset.UTC)).append('\n');
                }
            }
        }
        Path file = Files.writeString(dir.resolve("days.csv"), csv);
        Path calendar = Files.writeString(dir.resolve("holidays.csv"), "date,label\n2024-03-18,holiday\n");
        Path out = dir.resolve("out");
        CliRun r = run("replay", "--input", file.toString(), "--key", "id", "--time", "when", "--window", "1d",
                "--parallelism", "2", "--strategies", "hash,reactive,predictive",
                "-Dkeyshift.forecast.calendar=" + calendar,
                // reactive plans without the calendar: its own options went with it, or reactive refused them
                "-Dkeyshift.forecast.calendar.time-zone=UTC", "--out", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertThat(report.at("/calendar/marked_windows").requireNonNull().asInt()).isEqualTo(1);
        assertThat(report.at("/calendar/after_windows").requireNonNull().asInt()).isEqualTo(1);
        assertThat(report.at("/strategies/predictive/result_mismatches").requireNonNull().asLong()).isZero();
        // the holiday's actual loads (5, 6, 7) are those of both Sundays before it: no error
        assertThat(report.at("/strategies/predictive/calendar/forecast_error_marked").requireNonNull().asDouble())
                .isZero();
        assertThat(report.at("/strategies/predictive/calendar/forecast_error_other").requireNonNull().asDouble())
                .isPositive();
        assertThat(report.at("/strategies/hash/calendar/imbalance_marked").requireNonNull().asDouble())
                .isGreaterThanOrEqualTo(1.0);
        assertThat(report.at("/strategies/hash/calendar").has("forecast_error_marked")).isFalse();
    }

    @Test
    void anInputWhoseEveryRowIsADeadLetterExitsTwoWithTheFirstReasonAndStartsNoJob(@TempDir Path dir)
            throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.csv"), "k,t\na,notatime\nb,alsonot\n");
        CliRun r = run("replay", "--input", bad.toString(), "--key", "k", "--time", "t", "--out",
                dir.resolve("out").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("has no valid row").contains("2 dead letters")
                .contains("unparsable time 'notatime'").contains("no job was started").doesNotContain("replay [");
        assertThat(dir.resolve("out/dead-letters.csv")).exists();
        assertThat(dir.resolve("out/report.json")).doesNotExist();
        assertThat(r.err()).contains("a rerun into the same --out replaces that file");
        // (a file with no data rows at all gives an empty report: aHeaderOnlyFileAnd...)

        // the corrected rerun into the same --out is not refused as "earlier output": that run started no job
        Path good = Files.writeString(dir.resolve("good.csv"), "k,t\na,2014-01-01 00:00:00\nb,2014-01-01 00:30:00\n");
        CliRun again = run("replay", "--input", good.toString(), "--key", "k", "--time", "t", "--strategies", "hash",
                "--out", dir.resolve("out").toString());
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(again.err()).contains("replaced what an earlier run left without results in");
        assertThat(Files.readAllLines(dir.resolve("out/dead-letters.csv"))).containsExactly(
                "raw_line,line_number,reason");
        // a file of the user's by that name is not taken for one
        Path mine = Files.createDirectories(dir.resolve("mine"));
        Files.writeString(mine.resolve("dead-letters.csv"), "my notes\n");
        CliRun kept = run("replay", "--input", good.toString(), "--key", "k", "--time", "t", "--strategies", "hash",
                "--out", mine.toString());
        assertThat(kept.exit()).isEqualTo(2);
        assertThat(kept.err()).contains("holds an earlier run's output (dead-letters.csv)");
        assertThat(mine.resolve("dead-letters.csv")).hasContent("my notes\n");
    }

    /**
     * A cluster job's --out (its results, its started marker and sorted input) is refused by replay, bench and
     * forecast-bench, with --overwrite too, and nothing of the job's is removed or added (a replay there had deleted
     * the job's sorted input, which its restore reads, as "left by a run without results"); a directory of the
     * user's that merely has a results/ is not a job's (end-to-end: one replay of 1,000 records runs).
     */
    @Test
    @Tag("end-to-end")
    void aClusterJobsOutputIsRefusedWithOrWithoutOverwrite(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("job");
        Files.createDirectories(out.resolve("results/2026-01-05--00"));
        Files.writeString(out.resolve("results/2026-01-05--00/part-0-0"), "k1,1767571200000,3\n");
        Files.writeString(out.resolve(".events.bin"), "sorted");
        Files.writeString(out.resolve("dead-letters.csv"), "raw_line,line_number,reason\n");
        for (String[] args : List.of(
                new String[] {"replay", "--generator-records", "1000", "--strategies", "hash", "--out", out.toString()},
                new String[] {"replay", "--generator-records", "1000", "--strategies", "hash", "--overwrite", "--out",
                    out.toString()},
                new String[] {"bench", "--records", "1000", "--overwrite", "--out", out.toString()})) {
            CliRun r = run(args);
            assertThat(r.exit()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).contains("--out: " + out + " holds a cluster job's output (results/)");
        }
        // a file of the user's in a directory called results/ is not a job's: a replay goes ahead beside it
        Path user = Files.createDirectories(dir.resolve("analysis/results"));
        Files.writeString(user.resolve("notes.txt"), "mine");
        CliRun beside = run("replay", "--generator-records", "1000", "--strategies", "hash", "--out",
                dir.resolve("analysis").toString());
        assertThat(beside.exit()).as(beside.err()).isZero();
        assertThat(user.resolve("notes.txt")).hasContent("mine");
        Files.delete(out.resolve("results/2026-01-05--00/part-0-0"));
        Files.writeString(out.resolve(io.keyshift.jobs.KeyshiftJob.STARTED_MARKER), "2026-01-05T00:00:00Z\n");
        CliRun marked = run("replay", "--generator-records", "1000", "--strategies", "hash", "--out", out.toString());
        assertThat(marked.exit()).isEqualTo(2);
        assertThat(marked.err()).contains("holds a cluster job's output (.keyshift-job-started)");
        try (var entries = Files.list(out)) {
            assertThat(entries.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly(".events.bin", ".keyshift-job-started", "dead-letters.csv", "results");
        }
        assertThat(out.resolve(".events.bin")).hasContent("sorted");
    }

    /** End-to-end (a few seconds): a second run into the same --out is refused, or replaces the first with --overwrite. */
    @Test
    @Tag("end-to-end")
    void anEarlierRunsOutputIsRefusedOrReplacedNeverMixed(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        String[] gen = {"replay", "--generator-records", "20000", "--window", "1h", "--parallelism", "2"};
        CliRun first = run(concat(gen, "--strategies", "hash,reactive", "--out", out.toString()));
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(out.resolve("results-reactive.csv")).exists();
        Path mine = Files.writeString(out.resolve("my-notes.txt"), "keep me");

        CliRun again = run(concat(gen, "--strategies", "hash", "--out", out.toString()));
        assertThat(again.exit()).isEqualTo(2);
        assertThat(again.err()).contains("holds an earlier run's output").contains("--overwrite");

        // a bad option with --overwrite fails before anything of the earlier run is removed
        CliRun typo = run("replay", "--generator-records", "20000", "--generator-keys", "0", "--window", "1h",
                "--parallelism", "2", "--strategies", "hash", "--overwrite", "--out", out.toString());
        assertThat(typo.exit()).isEqualTo(2);
        assertThat(out.resolve("results-reactive.csv")).exists();
        assertThat(out.resolve("report.json")).exists();
        // forecast-bench does not write into a replay's directory either
        CliRun forecast = run("forecast-bench", "--input", SharedData.file("bayarea-bikeshare-2014/batrips.csv.gz")
                .toString(), "--key", "start_station", "--time", "start_date", "--time-format",
                "yyyy-MM-dd HH:mm:ssXXX", "--window", "1d", "--out", out.toString());
        assertThat(forecast.exit()).isEqualTo(2);
        assertThat(forecast.err()).contains("holds an earlier run's output").contains("--overwrite");
        assertThat(out.resolve("forecast.json")).doesNotExist();

        // nor does a cluster job (its results/ beside a replay's report would be two runs in one directory)
        assertThatThrownBy(() -> io.keyshift.jobs.KeyshiftJob.main(new String[] {"--generator-records", "1000",
                "--out", out.toString()})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("holds the output of a local command (.work");
        assertThat(out.resolve("results")).doesNotExist();

        CliRun replaced = run(concat(gen, "--strategies", "hash", "--overwrite", "--out", out.toString()));
        assertThat(replaced.exit()).as(replaced.err()).isZero();
        assertThat(out.resolve("results-reactive.csv")).doesNotExist();
        assertThat(out.resolve("results-hash.csv")).exists();
        assertThat(out.resolve("report.json")).exists();
        assertThat(mine).hasContent("keep me");
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertThat(report.at("/strategies/reactive").isMissingNode()).isTrue();
    }

    /** A header {@code keyColumn,when} and {@code rows} rows one minute apart from 2024-03-01, keys prefix0..prefix(keys-1). */
    private static StringBuilder minuteRows(String keyColumn, String prefix, int keys, int rows) {
        StringBuilder csv = new StringBuilder(keyColumn + ",when\n");
        long start = Instant.parse("2024-03-01T00:00:00Z").toEpochMilli();
        for (int i = 0; i < rows; i++) {
            csv.append(prefix).append(i % keys).append(',').append(Instant.ofEpochMilli(start + i * 60_000L)).append('\n');
        }
        return csv;
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /**
     * End-to-end (a few seconds): one row dated 2100 among rows of 2024, hourly windows. The gap of 666,000 empty
     * windows costs a bounded number of plans (it used to cost one plan per empty window: gigabytes), and results stay
     * exact.
     */
    @Test
    @Tag("end-to-end")
    void anOutlierTimestampCostsABoundedNumberOfPlans(@TempDir Path dir) throws Exception {
        StringBuilder csv = minuteRows("id", "k", 11, 2_000);
        csv.append("k3,2100-01-01T00:00:00Z\n");
        Path file = Files.writeString(dir.resolve("outlier.csv"), csv);
        Path out = dir.resolve("out");
        CliRun r = run("replay", "--input", file.toString(), "--key", "id", "--time", "when", "--window", "1h",
                "--parallelism", "2", "--strategies", "hash,predictive", "--out", out.toString(),
                // keep the outlier (by default a gap over 365 days makes it a dead letter: ReplayInputTest)
                "-Dkeyshift.input.max-event-time-gap=0");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertThat(report.at("/input/records").requireNonNull().asLong()).isEqualTo(2_001);
        assertThat(report.at("/strategies/predictive/result_mismatches").requireNonNull().asLong()).isZero();
        long plans;
        try (var files = Files.walk(out.resolve(".work").resolve("predictive").resolve("plans"))) {
            plans = files.filter(Files::isRegularFile).mapToLong(f -> {
                try (var lines = Files.lines(f)) {
                    return lines.count();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).sum();
        }
        // 34 hours with records, then at most the gap bound of empty ones, then the outlier's window
        assertThat(plans).isGreaterThan(34).isLessThan(34 + 2 * 1_000 + 10);
    }

    @Test
    void theReadmesOptionTableListsEveryReplayOption() throws Exception {
        String readme = Files.readString(SharedData.repositoryRoot().resolve("README.md"));
        int from = readme.indexOf("### Options of `bin/keyshift replay`");
        assertThat(from).isNotNegative();
        String table = readme.substring(from, readme.indexOf("\n\n", readme.indexOf("| option |", from)));
        CommandLine replay = KeyshiftCli.commandLine().getSubcommands().get("replay");
        for (CommandLine.Model.OptionSpec o : replay.getCommandSpec().options()) {
            if (o.usageHelp() || o.versionHelp()) {
                continue;
            }
            assertThat(table).as(o.longestName()).contains("`" + o.longestName());
        }
    }

    @Test
    void helpListsEveryOptionWithDefaults() {
        CliRun r = run("replay", "--help");
        assertThat(r.exit()).isZero();
        for (String o : List.of("--input", "--columns", "--key", "--time", "--time-format", "--window",
                "--parallelism", "--strategies", "--out", "--sum-field", "-D", "Default: 1h")) {
            assertThat(r.out()).contains(o);
        }
    }

    /** End-to-end (slow, ~15 s): a file with four bad rows among good ones. */
    @Test
    @Tag("end-to-end")
    void fourBadRowsGoToDeadLettersAndEveryGoodRowIsCounted(@TempDir Path dir) throws Exception {
        List<String> lines = new ArrayList<>();
        lines.add("id,when,station,amount");
        long start = Instant.parse("2024-03-01T00:00:00Z").toEpochMilli();
        int good = 0;
        for (int i = 0; i < 600; i++) {
            String when = Instant.ofEpochMilli(start + i * 61_000L).toString();
            lines.add(i + "," + when + ",s" + (i % 13 == 0 ? 0 : i % 7) + "," + (i % 5));
            good++;
        }
        lines.add(40, "x,2024-03-01T00:40:00Z,s1");
        lines.add(120, "y,not-a-time,s2,1");
        lines.add(300, "z,2024-03-01T05:00:00Z,,1");
        lines.add(450, "w,2024-03-01T07:00:00Z,s3,1,extra");
        Path csv = dir.resolve("in.csv");
        Files.write(csv, lines, StandardCharsets.UTF_8);
        Path out = dir.resolve("out");
        CliRun r = run("replay", "--input", csv.toString(), "--key", "station", "--time", "when",
                "--sum-field", "amount", "--window", "1h", "--parallelism", "2", "--strategies", "hash,predictive",
                "--out", out.toString(), "--config", SharedData.flinkConf().toString());
        assertThat(r.exit()).as(r.err()).isZero();
        List<String> dead = Files.readAllLines(out.resolve("dead-letters.csv"));
        assertThat(dead).hasSize(5);
        assertThat(String.join("\n", dead)).contains("expected 4 columns, found 3", "unparsable time 'not-a-time'",
                "empty key", "expected 4 columns, found 5");
        long amounts = 0;
        for (int i = 0; i < 600; i++) {
            amounts += i % 5;
        }
        for (String s : List.of("hash", "predictive")) {
            long counted = 0;
            double summed = 0;
            List<String> rows = Files.readAllLines(out.resolve("results-" + s + ".csv"));
            // --sum-field adds the sum column, which every strategy fills with the good rows' amounts
            assertThat(rows.get(0)).as(s).isEqualTo("key,window_start,window_end,count,sum");
            for (String line : rows.subList(1, rows.size())) {
                counted += Long.parseLong(line.split(",")[3]);
                summed += Double.parseDouble(line.split(",")[4]);
            }
            assertThat(counted).as(s).isEqualTo(good);
            assertThat(summed).as(s).isEqualTo(amounts);
        }
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertThat(report.at("/input/records").requireNonNull().asLong()).isEqualTo(good);
        assertThat(report.at("/input/dead_letters").requireNonNull().asLong()).isEqualTo(4);
        assertThat(report.at("/strategies/predictive/result_mismatches").requireNonNull().asLong()).isZero();
        for (String s : List.of("hash", "predictive")) {
            assertThat(report.at("/strategies/" + s + "/records_unaccounted").requireNonNull().asLong()).as(s)
                    .isZero();
        }
    }

    /**
     * End-to-end (slow, ~30 s): bike share 2014 by start station, daily windows, p=8, on a local MiniCluster with
     * RocksDB. keyshift must migrate keys and still match plain keyBy exactly.
     */
    @Test
    @Tag("end-to-end")
    void bikeShareReplayMigratesWithoutChangingAResult(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("bikes");
        CliRun r = run("replay", "--input", SharedData.file("bayarea-bikeshare-2014/batrips.csv.gz").toString(),
                "--key", "start_station", "--time", "start_date", "--time-format", "yyyy-MM-dd HH:mm:ssXXX",
                "--window", "1d", "--parallelism", "8", "--strategies", "hash,predictive", "--out", out.toString(),
                "--config", SharedData.flinkConf().toString());
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertThat(report.at("/input/records").requireNonNull().asLong()).isEqualTo(326_339);
        JsonNode predictive = report.at("/strategies/predictive");
        assertThat(predictive.get("result_mismatches").asLong()).isZero();
        assertThat(predictive.get("results").asLong())
                .isEqualTo(report.at("/strategies/hash/results").requireNonNull().asLong());
        assertThat(predictive.get("migrations_completed").asLong()).isGreaterThanOrEqualTo(1);
        assertThat(predictive.at("/validation/mismatches").requireNonNull().asLong()).isZero();
        assertThat(predictive.at("/validation/matches").requireNonNull().asLong()).isPositive();
        assertThat(predictive.get("imbalance_mean").asDouble())
                .isLessThan(report.at("/strategies/hash/imbalance_mean").requireNonNull().asDouble());
        // loads-<strategy>.csv: per window the 8 subtask loads, adding up to the records (shadow copies included),
        // and the window imbalances whose mean weighted by the input records (without the shadow copies) is the report's
        for (String strategy : List.of("hash", "predictive")) {
            List<String> rows = Files.readAllLines(out.resolve("loads-" + strategy + ".csv"));
            assertThat(rows.get(0)).isEqualTo("window_start,records,shadow,subtask_0,subtask_1,subtask_2,subtask_3,subtask_4,"
                    + "subtask_5,subtask_6,subtask_7,imbalance");
            double weighted = 0;
            long records = 0;
            for (String row : rows.subList(1, rows.size())) {
                String[] f = row.split(",");
                long sum = 0;
                long max = 0;
                for (int i = 3; i < 11; i++) {
                    sum += Long.parseLong(f[i]);
                    max = Math.max(max, Long.parseLong(f[i]));
                }
                assertThat(sum).isEqualTo(Long.parseLong(f[1]));
                if (sum > 0) {
                    long input = sum - Long.parseLong(f[2]);
                    assertThat(Double.parseDouble(f[11])).isCloseTo(max * 8.0 / sum, within(1e-6));
                    weighted += Double.parseDouble(f[11]) * input;
                    records += input;
                }
            }
            assertThat(records).isEqualTo(326_339);
            assertThat(weighted / records).isCloseTo(report.at("/strategies/" + strategy + "/imbalance_mean").asDouble(),
                    within(1e-4));
        }
        String html = Files.readString(out.resolve("report.html"));
        // loads of hash and predictive, imbalance, forecasts of the 3 top keys, migrations: 7 embedded charts
        assertThat(html.split("data:image/png;base64,", -1)).hasSize(8);
        assertThat(html).doesNotContain("http://", "https://");
        for (String png : List.of("load-hash.png", "load-predictive.png", "imbalance.png", "migrations-predictive.png")) {
            assertThat(out.resolve("charts").resolve(png)).isNotEmptyFile();
        }

        // Every chart embedded in the page decodes as a PNG (ImageIO, as a browser would) and is a drawn chart.
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("data:image/png;base64,([A-Za-z0-9+/=]+)").matcher(html);
        int charts = 0;
        while (m.find()) {
            java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(
                    new java.io.ByteArrayInputStream(java.util.Base64.getDecoder().decode(m.group(1))));
            assertThat(img).as("chart " + charts + " decodes").isNotNull();
            assertThat(img.getWidth()).isGreaterThan(300);
            assertThat(img.getHeight()).isGreaterThan(200);
            assertThat(distinctColours(img)).as("chart " + charts + " is drawn").isGreaterThan(20);
            charts++;
        }
        assertThat(charts).isEqualTo(7);
    }

    /** Distinct RGB colours in an image (a blank or failed chart has a handful). */
    static int distinctColours(java.awt.image.BufferedImage img) {
        java.util.Set<Integer> colours = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                colours.add(img.getRGB(x, y) & 0xFFFFFF);
            }
        }
        return colours.size();
    }

    /**
     * End-to-end (slow, ~30 s; issue 4, acceptance 4): the generator with one key carrying 40% of the records at p=8.
     * keyshift splits that key over several key groups, merges its partial window results, and matches hash exactly.
     */
    @Test
    @Tag("end-to-end")
    void aKeyWithFortyPercentOfTheRecordsIsSplitAndTheResultsStayExact(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("hot");
        CliRun r = run("replay", "--generator-hot-share", "0.4", "--generator-drift", "0", "--parallelism", "8",
                "--strategies", "hash,predictive", "--out", out.toString(), "--config", SharedData.flinkConf().toString());
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        JsonNode predictive = report.at("/strategies/predictive");
        System.err.printf("hot key 40%%: hash imbalance %.3f, predictive %.3f, split over key groups %s%n",
                report.at("/strategies/hash/imbalance_mean").requireNonNull().asDouble(), predictive.get("imbalance_mean").asDouble(),
                predictive.at("/split_keys/hot-key"));
        assertThat(predictive.at("/split_keys/hot-key").size()).isGreaterThanOrEqualTo(2);
        assertThat(predictive.get("imbalance_mean").asDouble()).isLessThan(1.2);
        assertThat(report.at("/strategies/hash/imbalance_mean").requireNonNull().asDouble()).isGreaterThan(3.0);
        assertThat(predictive.get("result_mismatches").asLong()).isZero();
        assertThat(predictive.get("results").asLong())
                .isEqualTo(report.at("/strategies/hash/results").requireNonNull().asLong());
    }

    /** A replay whose results differ from hash's, or whose loads miss or double records, exits 1 for a CI gate. */
    @Test
    void aReplayWithResultsOtherThanHashsOrRecordsUnaccountedExitsOne() throws Exception {
        var json = new ObjectMapper();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.PrintStream err = new java.io.PrintStream(bytes, true, StandardCharsets.UTF_8);
        var exact = json.readTree("{\"strategies\": {\"hash\": {\"result_mismatches\": 0, \"records_unaccounted\": 0},"
                + "\"predictive\": {\"result_mismatches\": 0, \"records_unaccounted\": 0}}}");
        assertThat(ReplayCommand.exitStatus(io.keyshift.jobs.report.ReplayReport.resultMismatches(exact),
                io.keyshift.jobs.report.ReplayReport.recordsUnaccounted(exact), err)).isZero();
        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEmpty();
        var differs = json.readTree("{\"strategies\": {\"hash\": {\"result_mismatches\": 0},"
                + "\"predictive\": {\"result_mismatches\": 3}}}");
        assertThat(ReplayCommand.exitStatus(io.keyshift.jobs.report.ReplayReport.resultMismatches(differs),
                io.keyshift.jobs.report.ReplayReport.recordsUnaccounted(differs), err)).isEqualTo(1);
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("results differ from hash's {predictive=3}");
        bytes.reset();
        var lost = json.readTree("{\"strategies\": {\"hash\": {\"records_unaccounted\": 0},"
                + "\"reactive\": {\"records_unaccounted\": -2}}}");
        assertThat(ReplayCommand.exitStatus(io.keyshift.jobs.report.ReplayReport.resultMismatches(lost),
                io.keyshift.jobs.report.ReplayReport.recordsUnaccounted(lost), err)).isEqualTo(1);
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains("do not count every input record once {reactive=-2}");
    }
}
