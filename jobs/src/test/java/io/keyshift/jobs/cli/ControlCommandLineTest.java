package io.keyshift.jobs.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code keyshift control --file}: each command on its own line, and bad paths refused with exit 2. */
class ControlCommandLineTest {
    private static int run(StringWriter err, String... args) {
        CommandLine cl = KeyshiftCli.commandLine();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        return cl.execute(args);
    }

    @Test
    void aCommandAppendedToAFileWhoseLastLineLacksItsNewlineGoesOnALineOfItsOwn(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("control.csv"), "2014-03-01T00:00:00Z,freeze");
        int exit = run(new StringWriter(), "control", "--file", file.toString(), "--at", "2014-03-02T00:00:00Z",
                "unfreeze");
        assertThat(exit).isZero();
        assertThat(Files.readAllLines(file)).containsExactly("2014-03-01T00:00:00Z,freeze",
                "2014-03-02T00:00:00Z,unfreeze");
        run(new StringWriter(), "control", "--file", file.toString(), "--at", "2014-03-03T00:00:00Z", "freeze");
        // as control files spell commands: any case, '_' for '-'
        assertThat(run(new StringWriter(), "control", "--file", dir.resolve("other.csv").toString(), "ANOMALY_Z",
                "3")).isZero();
        assertThat(Files.readAllLines(dir.resolve("other.csv"))).containsExactly("now,anomaly-z,3");
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(3).last().isEqualTo("2014-03-03T00:00:00Z,freeze");
    }

    /**
     * control ... > file on a full disk (or a closed pipe): the command is written all the same, so the one line on
     * stderr says so (exit 1: the output is lost); it said only that the output was incomplete, and a script that
     * retried on exit 1 wrote the command twice.
     */
    @Test
    void aWrittenCommandIsNamedWhenStandardOutputIsLost(@TempDir Path dir) throws Exception {
        LostStdout.Result r = LostStdout.execute("control", "--dir", dir.toString(), "freeze");
        assertThat(r.exit()).isEqualTo(1);
        Path written;
        try (var files = Files.list(dir)) {
            written = files.filter(f -> f.getFileName().toString().startsWith("control-")).findFirst().orElseThrow();
        }
        assertThat(r.err()).contains("cannot write standard output")
                .contains("it took effect: wrote " + written + ": now,freeze");
    }

    /** Without --at the command holds from the job's next plan ({@code now}), not from the wall clock's time. */
    @Test
    void aCommandWithoutAtIsWrittenNow(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("control.csv");
        assertThat(run(new StringWriter(), "control", "--file", file.toString(), "pin", "Market at 4th")).isZero();
        assertThat(Files.readAllLines(file)).containsExactly("now,pin,Market at 4th");
    }

    /**
     * A key that begins with '@' is written as typed: picocli read "@@home" as an escaped "@home", and "@VERSION" as
     * the contents of a file VERSION in the working directory.
     */
    @Test
    void aKeyThatBeginsWithAnAtSignIsWrittenAsTyped(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("control.csv");
        Path named = Files.writeString(dir.resolve("VERSION"), "1.2\n");
        assertThat(run(new StringWriter(), "control", "--file", file.toString(), "pin", "@@home")).isZero();
        assertThat(run(new StringWriter(), "control", "--file", file.toString(), "pin", "@" + named)).isZero();
        assertThat(Files.readAllLines(file)).containsExactly("now,pin,@@home", "now,pin,@" + named);
    }

    /** --at is one time: "now,pin" made "--at 'now,pin' freeze" a pin of a key named "freeze", exit 0. */
    @Test
    void anAtThatIsNotOneTimeIsRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("control.csv");
        for (String at : java.util.List.of("now,pin", String.valueOf(Long.MIN_VALUE),
                java.time.Instant.ofEpochMilli(Long.MIN_VALUE).toString())) {
            StringWriter err = new StringWriter();
            assertThat(run(err, "control", "--file", file.toString(), "--at", at, "freeze")).as(at).isEqualTo(2);
            assertThat(err.toString()).as(at).contains("--at: time '" + at + "'");
        }
        assertThat(file).doesNotExist();
    }

    /**
     * A compressed control file (read decompressed by a job) is refused: text appended after the gzip stream is
     * ignored by the reader, so the command was written, reported appended, and never applied.
     */
    @Test
    void aCompressedControlFileIsRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("steer.csv.gz");
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(file))) {
            out.write("2014-03-01T00:00:00Z,freeze\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        byte[] before = Files.readAllBytes(file);
        StringWriter err = new StringWriter();
        assertThat(run(err, "control", "--file", file.toString(), "pin", "Market at 4th")).isEqualTo(2);
        assertThat(err.toString()).contains("is compressed");
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
    }

    /** A key with a line break passed the check and reached the job as two refused lines; refused, nothing written. */
    @Test
    void aKeyWithALineBreakIsRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("control.csv");
        StringWriter err = new StringWriter();
        assertThat(run(err, "control", "--file", file.toString(), "pin", "Market\nat 4th")).isEqualTo(2);
        assertThat(err.toString()).contains("line break");
        assertThat(file).doesNotExist();
    }

    /** Under a locale that is not UTF-8 the JVM reads "Café" as "Caf\uFFFD\uFFFD": a pin of no key, exit 0 before. */
    @Test
    void aKeyTheLocaleCouldNotDecodeIsRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("control.csv");
        StringWriter err = new StringWriter();
        assertThat(run(err, "control", "--file", file.toString(), "pin", "Caf\uFFFD\uFFFD")).isEqualTo(2);
        assertThat(err.toString()).contains("could not decode").contains("LC_ALL=C.UTF-8");
        assertThat(file).doesNotExist();
        assertThat(run(new StringWriter(), "control", "--file", file.toString(), "pin", "Café")).isZero();
        assertThat(Files.readAllLines(file)).containsExactly("now,pin,Café");
    }

    /** An --at beyond the years event times may have (year +3170843 was written) is refused; nothing is written. */
    @Test
    void anAtOutsideTheYearsOfEventTimesIsRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("control.csv");
        StringWriter err = new StringWriter();
        assertThat(run(err, "control", "--file", file.toString(), "--at", "99999999999999999", "freeze"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("--at: time '99999999999999999' is outside the years 0001..9999");
        assertThat(file).doesNotExist();
        assertThat(run(new StringWriter(), "control", "--file", file.toString(), "--at", "9999-12-31T00:00:00Z",
                "freeze")).isZero();
    }

    @Test
    void aDirectoryOrAMissingParentIsRefusedWithExitTwo(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        assertThat(run(err, "control", "--file", dir.toString(), "freeze")).isEqualTo(2);
        assertThat(err.toString()).contains("--file: not a regular file");
        StringWriter err2 = new StringWriter();
        assertThat(run(err2, "control", "--file", dir.resolve("missing/x.csv").toString(), "freeze")).isEqualTo(2);
        assertThat(err2.toString()).contains("--file: no such directory");
    }
}
