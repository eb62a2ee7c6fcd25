package io.keyshift.jobs.cli;

import io.keyshift.jobs.SharedData;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The profiler's view of a replay, kept by the report and read back over a time range with {@code profile}. */
class ProfileCommandTest {

    @Test
    void printsTheProfilesOfATimeRangeWithTheirTopKeysAndForecasts(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("gen");
        CommandLine replay = KeyshiftCli.commandLine();
        StringWriter err = new StringWriter();
        replay.setErr(new PrintWriter(err));
        assertThat(replay.execute("replay", "--generator-records", "20000", "--window", "1h", "--parallelism", "2",
                "--strategies", "predictive", "--out", out.toString(), "--config", SharedData.flinkConf().toString()))
                .as(err.toString()).isZero();
        // every file the replay wrote is one that a later replay into the same --out refuses or, with --overwrite,
        // clears (output is never mixed with an earlier run's)
        try (var entries = Files.list(out)) {
            assertThat(entries.map(e -> e.getFileName().toString()).toList()).allMatch(ReplayOutput::ours);
        }
        List<String> lines = Files.readAllLines(out.resolve("profiles-predictive.jsonl"));
        assertThat(lines).hasSizeGreaterThan(5);
        ObjectMapper json = new ObjectMapper();
        JsonNode third = json.readTree(lines.get(2));
        long sum = 0;
        for (JsonNode c : third.get("key_group_counts")) {
            sum += c.asLong();
        }
        assertThat(sum).isEqualTo(third.get("records").asLong()).isPositive();

        long from = third.get("window_start").asLong();
        long to = json.readTree(lines.get(5)).get("window_start").asLong();
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = KeyshiftCli.commandLine().execute("profile", "--dir", out.toString(), "--from",
                    Instant.ofEpochMilli(from).toString(), "--to", Long.toString(to), "--top", "2");
        } finally {
            System.setOut(stdout);
        }
        String text = printed.toString(StandardCharsets.UTF_8);
        assertThat(exit).as(text).isZero();
        assertThat(text).contains("3 windows");
        assertThat(text).contains(Instant.ofEpochMilli(from) + " .. ");
        assertThat(text).contains(String.format("%,d records", third.get("records").asLong()));
        assertThat(text).contains(third.get("top_keys").get(0).get("key").asText());
        assertThat(text).contains("next window forecast");
        // a replay directory without profiles: exit 2 naming the option
        StringWriter bad = new StringWriter();
        CommandLine cl = KeyshiftCli.commandLine();
        cl.setErr(new PrintWriter(bad));
        assertThat(cl.execute("profile", "--dir", dir.toString())).isEqualTo(2);
        assertThat(bad.toString()).contains("--dir: no profiles-predictive.jsonl");
        // a replay that ran reactive alone: the refusal says which --strategy reads it
        Path reactiveOnly = Files.createDirectories(dir.resolve("reactive-only"));
        Files.copy(out.resolve("profiles-predictive.jsonl"), reactiveOnly.resolve("profiles-reactive.jsonl"));
        StringWriter hint = new StringWriter();
        CommandLine hinted = KeyshiftCli.commandLine();
        hinted.setErr(new PrintWriter(hint));
        assertThat(hinted.execute("profile", "--dir", reactiveOnly.toString())).isEqualTo(2);
        assertThat(hint.toString()).contains("it has reactive's: add --strategy reactive");
        // the command's own output, as an embedding caller sets it (it printed to System.out)
        StringWriter own = new StringWriter();
        CommandLine embedded = KeyshiftCli.commandLine();
        embedded.setOut(new PrintWriter(own));
        assertThat(embedded.execute("profile", "--dir", reactiveOnly.toString(), "--strategy", "reactive", "--from",
                Instant.ofEpochMilli(from).toString(), "--to", Long.toString(to))).isZero();
        assertThat(own.toString()).contains("3 windows");
    }

    /** A control command's "now" is no window time: refused, not taken as the first window. */
    @Test
    void nowIsRefusedAsATime(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("profiles-predictive.jsonl"), "");
        StringWriter bad = new StringWriter();
        CommandLine cl = KeyshiftCli.commandLine();
        cl.setErr(new PrintWriter(bad));
        assertThat(cl.execute("profile", "--dir", dir.toString(), "--from", "now")).isEqualTo(2);
        assertThat(bad.toString()).contains("--from: time 'now' is neither an ISO-8601 instant")
                .doesNotContain(", nor now");
    }

    /** A time that does not parse names the forms a time range takes, not a control command's "now". */
    @Test
    void anUnparsableTimeNamesOnlyTheFormsOfATimeRange(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("profiles-predictive.jsonl"), "");
        StringWriter bad = new StringWriter();
        CommandLine cl = KeyshiftCli.commandLine();
        cl.setErr(new PrintWriter(bad));
        assertThat(cl.execute("profile", "--dir", dir.toString(), "--to", "2020-13-01")).isEqualTo(2);
        assertThat(bad.toString()).contains("--to: time '2020-13-01' is neither an ISO-8601 instant "
                + "(2014-03-01T00:00:00Z), a date-time with offset nor epoch milliseconds").doesNotContain("now");
    }

    @Test
    void aDamagedProfileFileIsOneLineNamingTheFileAndLine(@TempDir Path dir) throws Exception {
        Path profiles = dir.resolve("profiles-predictive.jsonl");
        for (String[] c : new String[][] {{"{\"window_start\":1}", "not a window profile (no 'window_end')"},
                {"not json", "not JSON"},
                {"{\"window_start\":0,\"window_end\":3600000,\"records\":1,\"sampling_rate\":1,\"max_error\":0,"
                        + "\"key_group_counts\":[],\"top_keys\":[{\"key_group\":1}]}", "a top key without 'key'"}}) {
            Files.writeString(profiles, "\n" + c[0] + "\n");
            CommandLine cl = KeyshiftCli.commandLine();
            StringWriter err = new StringWriter();
            cl.setErr(new PrintWriter(err));
            assertThat(cl.execute("profile", "--dir", dir.toString())).isEqualTo(1);
            assertThat(err.toString()).contains(profiles + " line 2: " + c[1]).doesNotContain("\tat ");
            assertThat(err.toString().strip().lines()).hasSize(1);
        }
        // a byte that is not UTF-8 (it printed "Input length = 1", naming no file)
        Files.write(profiles, new byte[] {'\n', (byte) 0xFF, '\n'});
        CommandLine cl = KeyshiftCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute("profile", "--dir", dir.toString())).isEqualTo(1);
        assertThat(err.toString()).contains(profiles + ": not UTF-8 text");
    }

    /**
     * A field of the wrong type is a damaged line (a window_start of "x" was read as 1970 and the window left out),
     * and a damaged line after good ones prints none of them; numbers print alike in every locale (a German one gave
     * "36,5 [30,0, 40,0]" and "1.234 records").
     */
    @Test
    void fieldsOfTheWrongTypeAreDamagedLinesAndNumbersPrintAsInEveryLocale(@TempDir Path dir) throws Exception {
        Path profiles = dir.resolve("profiles-predictive.jsonl");
        String good = "{\"window_start\":0,\"window_end\":3600000,\"records\":1234,\"sampling_rate\":1,"
                + "\"max_error\":0.5,\"key_group_counts\":{\"1\":1234},\"top_keys\":[{\"key\":\"A\","
                + "\"key_group\":1,\"estimate\":36.5,\"lower\":30,\"upper\":40}]}";
        for (String[] c : new String[][] {
                {good.replace("\"window_start\":0", "\"window_start\":\"x\""), "'window_start' is not a whole number"},
                {good.replace("\"max_error\":0.5", "\"max_error\":\"big\""), "'max_error' is not a finite number"},
                // 1e400 reads as an infinite double: printing it failed halfway through the output, naming no file
                {good.replace("\"sampling_rate\":1", "\"sampling_rate\":1e400"),
                    "'sampling_rate' is not a finite number"},
                {good.replace("\"lower\":30", "\"lower\":-1e999"), "a top key's 'lower' is not a finite number"},
                {good.replace("\"top_keys\":[", "\"top_keys\":{\"a\":").replace("}]}", "}}}"),
                    "'top_keys' is not an array"},
                {good.replace("\"estimate\":36.5", "\"estimate\":\"36\""), "a top key's 'estimate' is not a finite number"}}) {
            Files.writeString(profiles, good + "\n" + c[0] + "\n");
            PrintStream stdout = System.out;
            ByteArrayOutputStream printed = new ByteArrayOutputStream();
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            CommandLine cl = KeyshiftCli.commandLine();
            StringWriter err = new StringWriter();
            cl.setErr(new PrintWriter(err));
            try {
                assertThat(cl.execute("profile", "--dir", dir.toString())).as(c[0]).isEqualTo(1);
            } finally {
                System.setOut(stdout);
            }
            assertThat(err.toString()).contains(profiles + " line 2: " + c[1]);
            assertThat(printed.toString(StandardCharsets.UTF_8)).as("nothing printed before the damage").isEmpty();
        }
        Files.writeString(profiles, good + "\n");
        java.util.Locale locale = java.util.Locale.getDefault();
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            java.util.Locale.setDefault(java.util.Locale.GERMANY);
            assertThat(KeyshiftCli.commandLine().execute("profile", "--dir", dir.toString())).isZero();
        } finally {
            System.setOut(stdout);
            java.util.Locale.setDefault(locale);
        }
        assertThat(printed.toString(StandardCharsets.UTF_8)).contains("1,234 records").contains("max error 0.5")
                .contains("36.5 [30.0, 40.0]");
    }

    /**
     * A range in which no window starts (past the replay, or epoch seconds taken for milliseconds) is refused with the
     * range the profiles cover, exit 2; it printed "0 windows" and exited 0.
     */
    @Test
    void aRangeWithoutAWindowNamesTheRangeTheProfilesCover(@TempDir Path dir) throws Exception {
        String profile = "{\"window_start\":%d,\"window_end\":%d,\"records\":1,\"sampling_rate\":1,"
                + "\"max_error\":0,\"key_group_counts\":[1],\"top_keys\":[]}";
        long hour = 3_600_000L;
        long t0 = Instant.parse("2014-07-01T00:00:00Z").toEpochMilli();
        Files.writeString(dir.resolve("profiles-predictive.jsonl"), String.format(profile, t0, t0 + hour) + "\n"
                + String.format(profile, t0 + hour, t0 + 2 * hour) + "\n");
        CommandLine cl = KeyshiftCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute("profile", "--dir", dir.toString(), "--to", Long.toString(t0 / 1000))).isEqualTo(2);
        assertThat(err.toString()).contains("no window starts in [--from, --to)")
                .contains("from 2014-07-01T00:00:00Z to 2014-07-01T01:00:00Z");
        assertThat(KeyshiftCli.commandLine().execute("profile", "--dir", dir.toString(), "--from",
                "2014-07-01T01:00:00Z")).isZero();
    }

    /**
     * A damaged forecast file beside the profiles: one line naming it. An empty one, or one with another header,
     * printed every profile without its forecasts and exited 0; a header with a name missing named no file.
     */
    @Test
    void aDamagedForecastFileIsOneLineNamingIt(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("profiles-predictive.jsonl"), "");
        Path units = dir.resolve("forecast-units-predictive.csv");
        for (String[] c : new String[][] {{"", "needs the column 'window_end'"},
                {"window_end,observed,forecast_next,lower_next,upper_next,key,key\n", "needs the column 'key' once"},
                {"garbage,,\n", units.toString()},
                // an unclosed quote in the header: Commons CSV's CSVException (an IOException) named no file
                {"\"window_end,key\n", units + " line 1: "}}) {
            Files.writeString(units, c[0]);
            CommandLine cl = KeyshiftCli.commandLine();
            StringWriter err = new StringWriter();
            cl.setErr(new PrintWriter(err));
            assertThat(cl.execute("profile", "--dir", dir.toString())).as(c[0]).isEqualTo(1);
            assertThat(err.toString()).contains(units.toString()).contains(c[1]).doesNotContain("\tat ");
            assertThat(err.toString().strip().lines()).hasSize(1);
        }
    }
}
