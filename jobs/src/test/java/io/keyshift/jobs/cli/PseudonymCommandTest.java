package io.keyshift.jobs.cli;

import io.keyshift.route.KeyPseudonymizer;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

/** bin/keyshift pseudonym: the pseudonyms a job with the same secret gives keys; exit 2 without a usable secret. */
class PseudonymCommandTest {

    private static int run(StringWriter out, StringWriter err, String... args) {
        CommandLine cl = KeyshiftCli.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        return cl.execute(args);
    }

    @Test
    void printsThePseudonymsOfTheKeys() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertThat(run(out, err, "pseudonym", "-Dkeyshift.privacy.key-secret=cli-test-secret-0123456",
                "Market at 4th", "42")).as(err.toString()).isZero();
        KeyPseudonymizer p = KeyPseudonymizer.fromSecret("cli-test-secret-0123456");
        assertThat(out.toString().lines()).containsExactly("Market at 4th\t" + p.pseudonym("Market at 4th"),
                "42\t" + p.pseudonym("42"));
        assertThat(err.toString()).isEmpty();
        // an integer written with a leading zero or sign names no integer key as plans name them: said so
        StringWriter err2 = new StringWriter();
        assertThat(run(new StringWriter(), err2, "pseudonym", "-Dkeyshift.privacy.key-secret=cli-test-secret-0123456",
                "007", "+7", "-0", "0", "-7")).isZero();
        assertThat(err2.toString().lines()).hasSize(3).anySatisfy(l -> assertThat(l)
                .contains("007 is not how plans name an integer key (7)"));
    }

    @Test
    void withoutASecretOrWithAShortOneItExitsTwoNamingTheOption() {
        StringWriter err = new StringWriter();
        assertThat(run(new StringWriter(), err, "pseudonym", "x")).isEqualTo(2);
        assertThat(err.toString()).contains("keyshift.privacy.key-secret is not set");
        StringWriter err2 = new StringWriter();
        assertThat(run(new StringWriter(), err2, "pseudonym", "-Dkeyshift.privacy.key-secret=short", "x"))
                .isEqualTo(2);
        assertThat(err2.toString()).contains("keyshift.privacy.key-secret").doesNotContain("=short");
    }

    /**
     * Commands with no window of their own (pseudonym; cluster start and the REST clients load config.yaml the same
     * way) leave the options that depend on the window to the jobs: a calendar whose reference days reach 600 daily
     * windows was refused as reaching too many windows of the default hour, and the cluster did not start. A window
     * in config.yaml still has them checked against it.
     */
    @Test
    void aConfigWhoseCalendarFitsOnlyTheJobsWindowDoesNotStopCommandsWithoutOne(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path calendar = java.nio.file.Files.writeString(dir.resolve("cal.csv"), "2026-01-06,holiday\n");
        java.nio.file.Path conf = java.nio.file.Files.createDirectories(dir.resolve("conf"));
        String shipped = java.nio.file.Files.readString(io.keyshift.jobs.SharedData.flinkConf().resolve("config.yaml"));
        String withCalendar = shipped + "\nkeyshift.forecast.calendar: " + calendar
                + "\nkeyshift.forecast.calendar.reference-days: 600\n";
        java.nio.file.Files.writeString(conf.resolve("config.yaml"), withCalendar);
        StringWriter err = new StringWriter();
        assertThat(run(new StringWriter(), err, "pseudonym", "-Dkeyshift.privacy.key-secret=cli-test-secret-0123456",
                "--config", conf.toString(), "x")).as(err.toString()).isZero();
        // cluster start: past the configuration's checks (to its memory sizes, which do not add up here), with the
        // keyshift home faked so that it finds a class path file
        java.nio.file.Path home = dir.resolve("home");
        java.nio.file.Files.createDirectories(home.resolve("jobs/target"));
        java.nio.file.Files.writeString(home.resolve("jobs/target/cluster-classpath.txt"), "x.jar");
        java.nio.file.Path small = java.nio.file.Files.createDirectories(dir.resolve("conf-small"));
        java.nio.file.Files.writeString(small.resolve("config.yaml"), shipped.lines()
                .filter(l -> !l.startsWith("taskmanager.memory.process.size")).collect(
                        java.util.stream.Collectors.joining("\n")) + "\ntaskmanager.memory.process.size: 1g"
                + "\nkeyshift.forecast.calendar: " + calendar + "\nkeyshift.forecast.calendar.reference-days: 600\n");
        String before = System.getProperty("keyshift.home");
        StringWriter start = new StringWriter();
        try {
            System.setProperty("keyshift.home", home.toString());
            assertThat(run(new StringWriter(), start, "cluster", "start", "--config", small.toString(), "--dir",
                    dir.resolve("run").toString())).as(start.toString()).isEqualTo(2);
        } finally {
            if (before == null) {
                System.clearProperty("keyshift.home");
            } else {
                System.setProperty("keyshift.home", before);
            }
        }
        assertThat(start.toString()).contains("taskmanager.memory").doesNotContain("reference-days");
        // nor does it look for a state backend's factory (it runs no job): a cluster's ForSt is not refused
        StringWriter forst = new StringWriter();
        assertThat(run(new StringWriter(), forst, "pseudonym", "-Dkeyshift.privacy.key-secret=cli-test-secret-0123456",
                "-Dstate.backend.type=forst", "--config", conf.toString(), "x")).as(forst.toString()).isZero();
        assertThat(FlinkConfig.loadWithoutWindow(conf, java.util.Map.of()).get(
                io.keyshift.config.ForecastOptions.CALENDAR_REFERENCE_DAYS)).isEqualTo(600);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FlinkConfig.loadForCluster(conf, java.util.Map.of()))
                .hasMessageContaining("reference-days 600 reaches");
        // a window in config.yaml (or -D): checked against it
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FlinkConfig.loadWithoutWindow(conf,
                java.util.Map.of("keyshift.window", "1h"))).hasMessageContaining("reference-days 600 reaches");
        // and what does not depend on the window is checked as before
        java.nio.file.Files.writeString(conf.resolve("config.yaml"), withCalendar + "keyshift.plan.lease-lead: 0\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FlinkConfig.loadWithoutWindow(conf,
                java.util.Map.of())).hasMessageContaining("keyshift.plan.lease-lead");
    }

    /**
     * A command whose standard output cannot be written (a full disk under {@code > file}) exits 1 with one line:
     * PrintStream and PrintWriter keep the IOException to themselves, and the command exited 0 with nothing written.
     */
    @Test
    void aStandardOutputThatCannotBeWrittenIsAFailure() {
        java.io.PrintStream out = System.out;
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream errBytes = new java.io.ByteArrayOutputStream();
        try {
            System.setOut(new java.io.PrintStream(new java.io.OutputStream() {
                @Override
                public void write(int b) throws java.io.IOException {
                    throw new java.io.IOException("No space left on device");
                }
            }, true));
            System.setErr(new java.io.PrintStream(errBytes, true));
            assertThat(KeyshiftCli.execute(new String[] {"pseudonym",
                    "-Dkeyshift.privacy.key-secret=cli-test-secret-0123456", "x"})).isEqualTo(1);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        assertThat(errBytes.toString(java.nio.charset.StandardCharsets.UTF_8).strip().lines())
                .containsExactly("keyshift: cannot write standard output (a full disk, a closed pipe?): what the "
                        + "command printed is incomplete");
        // written: 0
        assertThat(KeyshiftCli.execute(new String[] {"pseudonym", "-Dkeyshift.privacy.key-secret=cli-test-secret-0123456",
                "x"})).isZero();
    }

    /**
     * A job failed for too many failed checkpoints says only "Exceeded checkpoint tolerable failure threshold." (no
     * cause): the command's line gives the last failure Flink logged (at WARN, which is not printed) and the options.
     */
    @Test
    void aJobFailedForItsCheckpointsSaysWhyTheLastOneFailed() {
        KeyshiftCli.watchCheckpoints();
        KeyshiftCli.lastCheckpointFailure = null;
        org.slf4j.LoggerFactory.getLogger(org.apache.flink.runtime.checkpoint.CheckpointFailureManager.class).warn(
                "Failed to trigger or complete checkpoint 7", new org.apache.flink.runtime.checkpoint
                        .CheckpointException(org.apache.flink.runtime.checkpoint.CheckpointFailureReason
                        .CHECKPOINT_ASYNC_EXCEPTION, new java.io.IOException("No space left on device")));
        // (perhaps delivered on another thread)
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (KeyshiftCli.lastCheckpointFailure == null && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        Exception failed = new org.apache.flink.runtime.client.JobExecutionException(null, "Job execution failed.",
                new org.apache.flink.util.FlinkRuntimeException(org.apache.flink.runtime.checkpoint
                        .CheckpointFailureManager.EXCEEDED_CHECKPOINT_TOLERABLE_FAILURE_MESSAGE + " The latest "
                        + "checkpoint failed due to Asynchronous task checkpoint failed., view the Checkpoint History "
                        + "tab or the Job Manager log to find out why continuous checkpoints failed."));
        assertThat(KeyshiftCli.rootMessage(failed)).contains("Exceeded checkpoint tolerable failure threshold.")
                .contains("The last checkpoint failure Flink logged: Asynchronous task checkpoint failed.")
                .contains("IOException: No space left on device").contains("execution.checkpointing.timeout");
        // once: a second command in the same JVM keeps the one watcher
        KeyshiftCli.watchCheckpoints();
        KeyshiftCli.lastCheckpointFailure = null;
        assertThat(KeyshiftCli.rootMessage(failed)).contains("not known here");
    }
}
