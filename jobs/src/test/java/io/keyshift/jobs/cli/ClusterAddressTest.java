package io.keyshift.jobs.cli;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The commands that talk to a cluster's REST API (submit, savepoint, autoscale) check the address with one request
 * before anything else: nothing listening, or a server that is not Flink, is one line and exit 2, at once.
 */
class ClusterAddressTest {
    private record Run(int exit, String err) {}

    private static Run run(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = KeyshiftCli.commandLine();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        return new Run(cl.execute(args), err.toString());
    }

    /** A REST API on 127.0.0.1 (a free port, started) that answers every GET with {@code body} of its path. */
    private static HttpServer restServer(java.util.function.Function<String, String> body) throws java.io.IOException {
        return io.keyshift.jobs.StubHttp.answering(body);
    }

    @Test
    void nothingListeningIsOneLineAndExitTwo() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        String rest = "http://127.0.0.1:" + port;
        java.nio.file.Path jar = jobJar(java.nio.file.Files.createTempFile("keyshift-jobs", ".jar"));
        jar.toFile().deleteOnExit();
        for (String[] args : new String[][] {{"submit", "--jar", jar.toString(), "--rest", rest, "--", "--out", "x"},
                {"savepoint", "0123456789abcdef0123456789abcdef", "--rest", rest}, {"autoscale", "0123456789abcdef0123456789abcdef", "--once", "--rest", rest}}) {
            Run r = run(args);
            assertThat(r.exit()).as(args[0]).isEqualTo(2);
            assertThat(r.err()).as(args[0]).contains("--rest: cannot reach Flink's REST API at " + rest)
                    .doesNotContain("\tat ");
            assertThat(r.err().strip().lines()).as(args[0]).hasSize(1);
        }
    }

    /** An address with a path (an ingress prefix) is refused before anything is asked: Flink's client loses it. */
    @Test
    void aRestAddressWithAPathIsRefusedNamingTheOption() throws Exception {
        java.nio.file.Path jar = jobJar(java.nio.file.Files.createTempFile("keyshift-jobs", ".jar"));
        jar.toFile().deleteOnExit();
        Run r = run("submit", "--jar", jar.toString(), "--rest", "http://127.0.0.1:1/flink", "--", "--out", "x");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--rest: http://127.0.0.1:1/flink: give the REST API's own address");
        assertThat(ClusterAddressOptions.unusable("https://flink.internal")).isNull();
        assertThat(ClusterAddressOptions.unusable("http://flink.internal:8081/")).isNull();
        assertThat(ClusterAddressOptions.unusable("ftp://flink.internal:8081")).contains("http:// or https://");
    }

    /**
     * A local savepoint path that does not exist is refused naming the option, before any cluster is asked (the job
     * was submitted, reported as such, and failed on the cluster).
     */
    @Test
    void aSavepointPathThatDoesNotExistIsRefusedBeforeAnythingIsSubmitted() throws Exception {
        java.nio.file.Path jar = jobJar(java.nio.file.Files.createTempFile("keyshift-jobs", ".jar"));
        jar.toFile().deleteOnExit();
        Run r = run("submit", "--jar", jar.toString(), "--dir", "/tmp/keyshift-no-such-cluster-34", "--from-savepoint",
                "/tmp/keyshift-no-such-savepoint-34", "--", "--out", "x");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--from-savepoint: no such savepoint directory or file: "
                        + "/tmp/keyshift-no-such-savepoint-34")
                .doesNotContain("cannot reach");
        assertThat(r.err().strip().lines()).hasSize(1);
        // the form bin/keyshift savepoint prints (a file: URI) was let through: the job failed on the cluster
        Run uri = run("submit", "--jar", jar.toString(), "--dir", "/tmp/keyshift-no-such-cluster-34",
                "--from-savepoint", "file:/tmp/keyshift-no-such-savepoint-36", "--", "--out", "x");
        assertThat(uri.exit()).isEqualTo(2);
        assertThat(uri.err()).contains("--from-savepoint: no such savepoint directory or file: "
                + "/tmp/keyshift-no-such-savepoint-36");
        assertThat(SubmitCommand.localPath("file:///tmp/sp")).isEqualTo(java.nio.file.Path.of("/tmp/sp"));
        assertThat(SubmitCommand.localPath("s3://bucket/sp")).isNull();
        // Flink prints locations unescaped: a space made the URI unreadable and the existence check was skipped
        assertThat(SubmitCommand.localPath("file:/tmp/my savepoints/sp-1")).isEqualTo(
                java.nio.file.Path.of("/tmp/my savepoints/sp-1"));
        assertThat(SubmitCommand.localPath("file://otherhost/sp")).isNull();
    }

    /**
     * A local directory that is no savepoint (the savepoints directory above one, an empty _metadata) is refused before
     * anything is submitted: the job's main took it for a restore and wrote into --out, and the cluster then failed the
     * job as it started, leaving --out refused to a rerun as another job's.
     */
    @Test
    void aDirectoryThatIsNoSavepointIsRefusedBeforeAnythingIsSubmitted(@org.junit.jupiter.api.io.TempDir
                                                                        java.nio.file.Path dir) throws Exception {
        java.nio.file.Path jar = jobJar(java.nio.file.Files.createTempFile("keyshift-jobs", ".jar"));
        jar.toFile().deleteOnExit();
        java.nio.file.Path savepoints = java.nio.file.Files.createDirectories(dir.resolve("savepoints/savepoint-1"));
        java.nio.file.Path out = dir.resolve("out");
        Run parent = run("submit", "--jar", jar.toString(), "--dir", dir.resolve("no-cluster").toString(),
                "--from-savepoint", dir.resolve("savepoints").toString(), "--", "--out", out.toString());
        assertThat(parent.exit()).isEqualTo(2);
        assertThat(parent.err()).contains("--from-savepoint: ").contains("is not a Flink savepoint or checkpoint: no ")
                .contains("_metadata").doesNotContain("cannot reach");
        java.nio.file.Files.write(savepoints.resolve("_metadata"), new byte[0]);
        Run empty = run("submit", "--jar", jar.toString(), "--dir", dir.resolve("no-cluster").toString(),
                "--from-savepoint", savepoints.toString(), "--", "--out", out.toString());
        assertThat(empty.exit()).isEqualTo(2);
        assertThat(empty.err()).contains("has 0 bytes");
        assertThat(out).doesNotExist();
    }

    /**
     * --rest and --dir together are refused (--rest won, and the cluster --dir named was silently not the one asked);
     * --allow-non-restored-state without --from-savepoint is refused (it did nothing and the job started afresh).
     */
    @Test
    void optionsThatWouldBeIgnoredAreRefused() throws Exception {
        java.nio.file.Path jar = jobJar(java.nio.file.Files.createTempFile("keyshift-jobs", ".jar"));
        jar.toFile().deleteOnExit();
        for (String[] args : new String[][] {
                {"submit", "--jar", jar.toString(), "--rest", "http://127.0.0.1:1", "--dir", "/tmp/k", "--", "--out", "x"},
                {"savepoint", "0123456789abcdef0123456789abcdef", "--rest", "http://127.0.0.1:1", "--dir", "/tmp/k"},
                {"autoscale", "0123456789abcdef0123456789abcdef", "--once", "--rest", "http://127.0.0.1:1", "--dir",
                        "/tmp/k"}}) {
            Run r = run(args);
            assertThat(r.exit()).as(args[0]).isEqualTo(2);
            assertThat(r.err()).as(args[0]).contains("--rest and --dir both name the cluster");
            assertThat(r.err().strip().lines()).as(args[0]).hasSize(1);
        }
        Run r = run("submit", "--jar", jar.toString(), "--rest", "http://127.0.0.1:1", "--allow-non-restored-state",
                "--", "--out", "x");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--allow-non-restored-state applies with --from-savepoint only");
    }

    /**
     * A restore path in the config.yaml that submit reads is refused, naming the key and the file: the job's main
     * read it as a restore (skipping the check that --out holds no results) while the cluster, given submit's own
     * restore settings, started the job afresh and wrote every earlier result again.
     */
    @Test
    void aRestorePathInTheSubmittedConfigIsRefused(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path jar = jobJar(dir.resolve("job.jar"));
        java.nio.file.Path conf = java.nio.file.Files.createDirectories(dir.resolve("conf"));
        java.nio.file.Files.writeString(conf.resolve("config.yaml"), java.nio.file.Files.readString(
                io.keyshift.jobs.SharedData.flinkConf().resolve("config.yaml"))
                + "\nexecution.state-recovery.path: file:///tmp/keyshift-some-savepoint\n");
        Run r = run("submit", "--jar", jar.toString(), "--rest", "http://127.0.0.1:1", "--config", conf.toString(),
                "--", "--out", dir.resolve("out").toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("--config: execution.state-recovery.path in config.yaml")
                .contains("--from-savepoint").contains(conf.resolve("config.yaml").toString());
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(dir.resolve("out")).doesNotExist();
    }

    /**
     * A config directory in {@code dir}: flink-conf's config.yaml with a calendar whose reference days reach 600
     * windows (refused for hourly windows, taken for daily ones).
     */
    private static java.nio.file.Path calendarOf600ReferenceDays(java.nio.file.Path dir) throws java.io.IOException {
        java.nio.file.Path calendar = java.nio.file.Files.writeString(dir.resolve("cal.csv"), "2026-01-06,holiday\n");
        java.nio.file.Path conf = java.nio.file.Files.createDirectories(dir.resolve("conf"));
        java.nio.file.Files.writeString(conf.resolve("config.yaml"), java.nio.file.Files.readString(
                io.keyshift.jobs.SharedData.flinkConf().resolve("config.yaml"))
                + "\nkeyshift.forecast.calendar: " + calendar + "\nkeyshift.forecast.calendar.reference-days: 600\n");
        return conf;
    }

    /**
     * The options of the config.yaml that submit reads are checked against the job's --window, as the job's main
     * checks them: a calendar whose reference days reach 600 daily windows (14,400 hourly ones) was refused as
     * "windows of keyshift.window PT1H" under the job's --window 1d. The window is not added to what is submitted.
     */
    @Test
    void theSubmittedConfigIsCheckedAgainstTheJobsWindow(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path jar = jobJar(dir.resolve("job.jar"));
        java.nio.file.Path conf = calendarOf600ReferenceDays(dir);
        for (String window : new String[] {"--window=1d", "--window"}) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("submit", "--jar",
                    jar.toString(), "--rest", "http://127.0.0.1:1", "--config", conf.toString(), "--", "--out",
                    dir.resolve("out").toString(), window));
            if (window.equals("--window")) {
                args.add("1d");
            }
            Run r = run(args.toArray(String[]::new));
            // past the config's check, to the cluster's address
            assertThat(r.exit()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).doesNotContain("reference-days").contains("--rest: cannot reach");
        }
        Run hourly = run("submit", "--jar", jar.toString(), "--rest", "http://127.0.0.1:1", "--config",
                conf.toString(), "--", "--out", dir.resolve("out").toString(), "--window", "1h");
        assertThat(hourly.err()).contains("keyshift.forecast.calendar.reference-days 600 reaches");
        Run byDefault = run("submit", "--jar", jar.toString(), "--rest", "http://127.0.0.1:1", "--config",
                conf.toString(), "--", "--out", dir.resolve("out").toString());
        assertThat(byDefault.err()).contains("keyshift.forecast.calendar.reference-days 600 reaches");
        assertThat(SubmitCommand.windowOf(java.util.List.of("--window", "nope"))).isNull();
        // what the job's main refuses, naming --window: not checked here (200000000000d overflowed a long's
        // milliseconds, 500us was taken as 0 ms, both in messages about keyshift.window)
        for (String refused : new String[] {"200000000000d", "500us", "1500us", "40000d", "0s"}) {
            assertThat(SubmitCommand.windowOf(java.util.List.of("--window", refused))).as(refused).isNull();
            Run r = run("submit", "--jar", jar.toString(), "--rest", "http://127.0.0.1:1", "--config",
                    conf.toString(), "--", "--out", dir.resolve("out").toString(), "--window", refused);
            assertThat(r.err()).as(refused).doesNotContain("overflow").doesNotContain("keyshift.window");
        }
        assertThat(SubmitCommand.windowOf(java.util.List.of("--window", "36500d"))).isEqualTo(
                java.time.Duration.ofDays(36500));
        assertThat(SubmitCommand.windowOf(java.util.List.of("--out", "x"))).isNull();
    }

    /**
     * The job's arguments in an @-file are read by submit as the job's main reads them: a --window 1d in it was not
     * seen (the config was checked against the default hour and refused), nor a restore path given as -D in it.
     */
    @Test
    void theJobsAtFileIsReadAsTheJobReadsIt(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path jar = jobJar(dir.resolve("job.jar"));
        java.nio.file.Path conf = calendarOf600ReferenceDays(dir);
        java.nio.file.Path daily = java.nio.file.Files.writeString(dir.resolve("daily.args"),
                "# the job\n--out \"" + dir.resolve("out dir") + "\"\n--window 1d\n");
        Run r = run("submit", "--jar", jar.toString(), "--rest", "http://127.0.0.1:1", "--config", conf.toString(),
                "--", "@" + daily);
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).doesNotContain("reference-days").contains("--rest: cannot reach");
        java.nio.file.Path restore = java.nio.file.Files.writeString(dir.resolve("restore.args"),
                "--out x -Dexecution.state-recovery.path=file:///tmp/keyshift-some-savepoint\n");
        Run refused = run("submit", "--jar", jar.toString(), "--rest", "http://127.0.0.1:1", "--", "@" + restore);
        assertThat(refused.exit()).as(refused.err()).isEqualTo(2);
        assertThat(refused.err()).contains("job option -Dexecution.state-recovery.path");
        assertThat(SubmitCommand.outOf(SubmitCommand.expandAtFiles(java.util.List.of("@" + daily))))
                .isEqualTo(dir.resolve("out dir"));
        assertThat(SubmitCommand.expandAtFiles(java.util.List.of("@" + dir.resolve("none"), "--out", "y")))
                .containsExactly("@" + dir.resolve("none"), "--out", "y");
    }

    /** {@code submit -- --help}, as the command's own description suggests, lists the job's options without a cluster. */
    @Test
    void theJobsHelpNeedsNoCluster() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        java.nio.file.Path jar = jobJar(java.nio.file.Files.createTempFile("keyshift-jobs", ".jar"));
        jar.toFile().deleteOnExit();
        StringWriter out = new StringWriter();
        CommandLine cl = KeyshiftCli.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(new StringWriter()));
        int exit = cl.execute("submit", "--jar", jar.toString(), "--rest", "http://127.0.0.1:" + port, "--", "--help");
        assertThat(exit).isZero();
        assertThat(out.toString()).contains("keyshift-job").contains("--strategy").contains("--out");
    }

    /**
     * Under Flink's adaptive scheduler a job reads its savepoint in state CREATED (after waiting for slots in it):
     * submit waited through INITIALIZING only and said "submitted" for a job that then failed its restore.
     */
    @Test
    void aJobThatFailsAfterCreatedIsSaidToHaveFailedAsItStarted() throws Exception {
        java.util.Deque<String> states = new java.util.ArrayDeque<>(java.util.List.of("INITIALIZING", "CREATED", "CREATED",
                "CREATED", "FAILED"));
        HttpServer server = restServer(path -> path.endsWith("/exceptions")
                ? "{\"exceptionHistory\":{\"entries\":[{\"taskName\":\"t\",\"location\":\"l\","
                + "\"stacktrace\":\"java.lang.IllegalStateException: Failed to rollback to savepoint\"}]}}"
                : "{\"state\":\"" + (states.size() > 1 ? states.poll() : states.peek()) + "\"}");
        try {
            var api = new io.keyshift.jobs.cluster.FlinkRest("http://127.0.0.1:" + server.getAddress().getPort());
            StringWriter err = new StringWriter();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> SubmitCommand.awaitStart(api, "abc",
                            new PrintWriter(err), java.time.Duration.ofMillis(10)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("job abc failed as it started")
                    .hasMessageContaining("Failed to rollback to savepoint");
            // a job that waits for its slots longer: a warning, no failure
            states.clear();
            states.add("CREATED");
            StringWriter waiting = new StringWriter();
            SubmitCommand.awaitStart(api, "abc", new PrintWriter(waiting), java.time.Duration.ofMillis(1));
            assertThat(waiting.toString()).contains("still waiting for its slots (CREATED)");
        } finally {
            server.stop(0);
        }
    }

    /**
     * A job is RUNNING before its tasks have restored their state: a restore a task refuses (keyshift's state of
     * another window) failed the job seconds after submit had said "submitted" and exited 0. Submit waits for every
     * task to run; a job whose tasks all run is left at once.
     */
    @Test
    void aJobWhoseTasksFailTheirRestoreIsSaidToHaveFailedAsItStarted() throws Exception {
        java.util.concurrent.atomic.AtomicInteger polls = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean restoring = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicBoolean shortOfSlots = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicBoolean cancelled = new java.util.concurrent.atomic.AtomicBoolean();
        HttpServer server = restServer(path -> path.endsWith("/exceptions")
                ? "{\"exceptionHistory\":{\"entries\":[{\"stacktrace\":\"java.lang.IllegalStateException: "
                + "restored state of keyshift.window PT1H, this job has PT2H\"}]}}"
                : path.equals("/overview") ? "{\"slots-total\":" + (shortOfSlots.get() ? 1 : 0) + "}"
                : path.equals("/jobmanager/config") ? "[]"
                : shortOfSlots.get() ? "{\"state\":\"RUNNING\",\"vertices\":[{\"parallelism\":2,\"tasks\":"
                + "{\"RUNNING\":1,\"SCHEDULED\":" + (polls.incrementAndGet() > 0 ? 0 : 1) + "}}]}"
                : cancelled.get() ? "{\"state\":\"CANCELED\"}"
                : !restoring.get() ? "{\"state\":\"RUNNING\",\"vertices\":[{\"parallelism\":2,\"tasks\":"
                + "{\"RUNNING\":1,\"FINISHED\":1}}]}"
                : polls.incrementAndGet() < 6 ? "{\"state\":\"RUNNING\",\"vertices\":[{\"parallelism\":2,"
                + "\"tasks\":{\"RUNNING\":1,\"INITIALIZING\":1}}]}"
                // the other tasks cancel before the job is FAILED: said all the same
                : polls.get() < 9 ? "{\"state\":\"FAILING\"}"
                : "{\"state\":\"FAILED\"}");
        try {
            var api = new io.keyshift.jobs.cluster.FlinkRest("http://127.0.0.1:" + server.getAddress().getPort());
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> SubmitCommand.awaitStart(api, "abc",
                            new PrintWriter(new StringWriter()), java.time.Duration.ofMillis(1)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("job abc failed as it started")
                    .hasMessageContaining("keyshift.window PT1H");
            assertThat(polls.get()).isGreaterThanOrEqualTo(9);
            restoring.set(false);
            StringWriter err = new StringWriter();
            SubmitCommand.awaitStart(api, "abc", new PrintWriter(err), java.time.Duration.ofMillis(1));
            assertThat(err.toString()).isEmpty();
            // a job short of slots (its tasks wait for them) under the default scheduler: warned of, and its tasks
            // waited for only while they deploy or restore
            restoring.set(true);
            shortOfSlots.set(true);
            polls.set(-1000);
            StringWriter slots = new StringWriter();
            SubmitCommand.awaitStart(api, "abc", new PrintWriter(slots), java.time.Duration.ofMillis(1));
            assertThat(polls.get()).isBetween(-1000 + 8, -1000 + 20);
            assertThat(slots.toString()).contains("parallelism 2").contains("1 task slots")
                    .contains("tasks wait for slots (RUNNING 1, SCHEDULED 1)");
            // cancelled as it starts: not said submitted
            shortOfSlots.set(false);
            restoring.set(false);
            cancelled.set(true);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> SubmitCommand.awaitStart(api, "abc",
                            new PrintWriter(new StringWriter()), java.time.Duration.ofMillis(1)))
                    .hasMessageContaining("job abc was cancelled as it started");
        } finally {
            server.stop(0);
        }
    }

    /**
     * savepoint JOB > file on a full disk: the job is stopped and its savepoint written, so the one line on stderr
     * says where it is (exit 1: the output is lost); it said nothing of it.
     */
    @Test
    void aStoppedJobsSavepointIsNamedWhenStandardOutputIsLost() throws Exception {
        HttpServer server = restServer(path -> path.endsWith("/stop") ? "{\"request-id\":\"" + "0".repeat(32) + "\"}"
                : path.contains("/savepoints/") ? "{\"status\":{\"id\":\"COMPLETED\"},\"operation\":"
                + "{\"location\":\"file:/sp/savepoint-1\"}}"
                : "[]");
        LostStdout.Result r;
        try {
            r = LostStdout.execute("savepoint", "0123456789abcdef0123456789abcdef", "--rest",
                    "http://127.0.0.1:" + server.getAddress().getPort(), "--timeout", "10s");
        } finally {
            server.stop(0);
        }
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("cannot write standard output")
                .contains("it took effect: job 0123456789abcdef0123456789abcdef stopped with a savepoint at "
                        + "file:/sp/savepoint-1");
    }

    /**
     * Ctrl-C (here SIGTERM, which runs the same shutdown hooks) while savepoint waits for the savepoint: the job goes on
     * stopping at the cluster, so the one line on stderr names the operation's status URL, where the savepoint's
     * location will be (the command said nothing: it printed the location, and the URL in its failure messages, only
     * at the end).
     */
    @Test
    void aSavepointInterruptedWhileItWaitsNamesWhereToAskForIt() throws Exception {
        String trigger = "0123456789abcdef0123456789abcdef".replace('0', 'f');
        java.util.concurrent.CountDownLatch polled = new java.util.concurrent.CountDownLatch(1);
        HttpServer server = restServer(path -> {
            if (path.contains("/savepoints/")) {
                polled.countDown();
                return "{\"status\":{\"id\":\"IN_PROGRESS\"}}";
            }
            return path.endsWith("/stop") ? "{\"request-id\":\"" + trigger + "\"}" : "[]";
        });
        Process p = null;
        java.nio.file.Path errFile = java.nio.file.Files.createTempFile("keyshift-savepoint", ".err");
        try {
            String rest = "http://127.0.0.1:" + server.getAddress().getPort();
            p = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), KeyshiftCli.class.getName(), "savepoint",
                    "0123456789abcdef0123456789abcdef", "--rest", rest, "--timeout", "2min")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(errFile.toFile()).start();
            assertThat(polled.await(60, java.util.concurrent.TimeUnit.SECONDS)).as("the command polled").isTrue();
            p.destroy();
            assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            String err = java.nio.file.Files.readString(errFile);
            assertThat(err).contains("keyshift: interrupted while job 0123456789abcdef0123456789abcdef stops with a "
                    + "savepoint, which goes on at the cluster: GET " + rest + "/jobs/0123456789abcdef0123456789abcdef"
                    + "/savepoints/" + trigger + " tells where it is");
        } finally {
            if (p != null) {
                p.destroyForcibly();
            }
            server.stop(0);
            java.nio.file.Files.deleteIfExists(errFile);
        }
    }

    /**
     * Without --rest, a command took the address of the cluster recorded by cluster start even after that cluster
     * had stopped: whatever listened on its port then (another Flink on 8081) got the request. Refused, naming why;
     * nothing reaches the port.
     */
    @Test
    void theRecordOfAStoppedClusterIsNotAnAddress(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();
        HttpServer server = restServer(path -> {
            requests.incrementAndGet();
            return "{}";
        });
        try {
            // a PID no process has (the kernel's pid_max is below 2^22 by default)
            java.nio.file.Files.writeString(dir.resolve("cluster.properties"), "rest.port="
                    + server.getAddress().getPort() + "\njobmanager.pid=4194999\njobmanager.start=1\n");
            Run r = run("savepoint", "0123456789abcdef0123456789abcdef", "--dir", dir.toString());
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.err()).contains("is not running").contains("give --rest");
            assertThat(requests.get()).isZero();
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aServerThatIsNotFlinkIsNamedAsSuch() throws Exception {
        HttpServer server = io.keyshift.jobs.StubHttp.start("/",
                ex -> io.keyshift.jobs.StubHttp.respond(ex, 404, "<html>not here</html>"));
        try {
            String rest = "http://127.0.0.1:" + server.getAddress().getPort();
            Run r = run("savepoint", "0123456789abcdef0123456789abcdef", "--rest", rest);
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.err()).contains("HTTP 404").contains("is " + rest + " Flink's REST address?");
        } finally {
            server.stop(0);
        }
    }

    /**
     * A cluster that refuses the job graph: submit removes what the job's main wrote into --out (the started marker,
     * the sorted input) only where the cluster then says it does not have the job; where it has it all the same (an
     * answer that did not come), they stay, and the line says so.
     */
    @Test
    void aRefusedSubmissionRemovesTheMarkerOnlyIfTheClusterLacksTheJob(@org.junit.jupiter.api.io.TempDir
                                                                          java.nio.file.Path dir) throws Exception {
        // the job's classes come from this class path (Flink's user class loader asks its parent for what the jar
        // lacks): a jar with a manifest alone
        java.nio.file.Path jar = jobJar(dir.resolve("job.jar"));
        java.nio.file.Path csv = java.nio.file.Files.writeString(dir.resolve("in.csv"),
                "k,t\na,2014-01-01 00:00:00\nb,2014-01-01 00:30:00\n");
        java.nio.file.Path steer = java.nio.file.Files.writeString(dir.resolve("steer.csv"),
                "2014-01-01T00:00:00Z,freeze\n");
        boolean[] hasJob = {false};
        HttpServer server = io.keyshift.jobs.StubHttp.start("/", ex -> {
            // read in full: a reset upload is a connection problem, which Flink's client retries for a minute
            ex.getRequestBody().readAllBytes();
            String path = ex.getRequestURI().getPath();
            boolean get = ex.getRequestMethod().equals("GET");
            int status = get && (path.equals("/config") || path.equals("/jobmanager/config")) ? 200
                    : get && path.startsWith("/jobs/") ? (hasJob[0] ? 200 : 404) : 400;
            ex.getResponseHeaders().add("Content-Type", "application/json");
            io.keyshift.jobs.StubHttp.respond(ex, status, path.equals("/jobmanager/config") ? "[]"
                    : status == 200 ? "{}" : "{\"errors\":[\"refused by this test\"]}");
        });
        try {
            String rest = "http://127.0.0.1:" + server.getAddress().getPort();
            for (boolean known : new boolean[] {false, true}) {
                hasJob[0] = known;
                java.nio.file.Path out = dir.resolve("out-" + known);
                Run r = run("submit", "--jar", jar.toString(), "--rest", rest, "--config",
                        io.keyshift.jobs.SharedData.flinkConf().toString(), "--", "--input", csv.toString(), "--key",
                        "k", "--time", "t", "--control", steer.toString(), "--out", out.toString());
                assertThat(r.exit()).as(r.err()).isEqualTo(1);
                assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
                if (known) {
                    assertThat(r.err()).contains("the cluster has job").contains("all the same");
                    assertThat(out.resolve(io.keyshift.jobs.KeyshiftJob.STARTED_MARKER)).exists();
                    assertThat(out.resolve(".events.bin")).exists();
                    // what a restore is checked against is kept, as under a job's own submission (submit takes the
                    // graph out of main, where no job listener runs: nothing was kept)
                    assertThat(out.resolve(io.keyshift.jobs.KeyshiftJob.CONTROL_DIGEST_FILE)).content()
                            .isEqualToIgnoringNewLines(io.keyshift.jobs.KeyshiftJob.controlFileDigest(steer));
                } else {
                    // the graph was built and refused (not a main that failed before writing anything)
                    assertThat(r.err()).contains("the cluster did not take the job").contains("refused by this test");
                    assertThat(out.resolve(io.keyshift.jobs.KeyshiftJob.STARTED_MARKER)).doesNotExist();
                    assertThat(out.resolve(".events.bin")).doesNotExist();
                    assertThat(out.resolve(io.keyshift.jobs.KeyshiftJob.CONTROL_DIGEST_FILE)).doesNotExist();
                }
            }
            // a generator job into an --out holding only the dead letters of an earlier run that started no job: the
            // job's main moves them aside, and the refused submission puts them back (kept for their reasons; they
            // were removed as the graph was taken, before the cluster had the job)
            hasJob[0] = false;
            java.nio.file.Path left = java.nio.file.Files.createDirectories(dir.resolve("left"));
            String deadLetters = "raw_line,line_number,reason\nx,2,unparsable time\n";
            java.nio.file.Files.writeString(left.resolve("dead-letters.csv"), deadLetters);
            Run r = run("submit", "--jar", jar.toString(), "--rest", rest, "--config",
                    io.keyshift.jobs.SharedData.flinkConf().toString(), "--", "--generator-records", "1000", "--out",
                    left.toString());
            assertThat(r.exit()).as(r.err()).isEqualTo(1);
            assertThat(left.resolve("dead-letters.csv")).hasContent(deadLetters);
            assertThat(left.resolve(io.keyshift.jobs.KeyshiftJob.LEFT_DEAD_LETTERS_ASIDE)).doesNotExist();

            // a restore of a Kafka job whose sinks named their transactions incrementing, now given pooling (a
            // restore may switch that way), refused by the cluster: the job's main recorded pooling in --out, and the
            // corrected retry with incrementing was refused as a switch back; the record is put back as it was
            java.nio.file.Path kafkaOut = java.nio.file.Files.createDirectories(dir.resolve("kafka-out"));
            java.nio.file.Path naming = kafkaOut.resolve(io.keyshift.jobs.kafka.KafkaOptions.TRANSACTION_NAMING_FILE);
            java.nio.file.Files.writeString(naming, "incrementing\n");
            String[] poolingRestore = {"submit", "--jar", jar.toString(), "--rest", rest, "--config",
                    io.keyshift.jobs.SharedData.flinkConf().toString(), "--from-savepoint",
                    dir.resolve("savepoint-1").toString(), "--", "--kafka-topic", "trips",
                    "--kafka-bootstrap-servers", "127.0.0.1:1", "--no-kafka-topic-check", "--columns", "k,t",
                    "--key", "k", "--time", "t", "--results-topic", "res", "--kafka-transaction-naming", "pooling",
                    "--out", kafkaOut.toString()};
            Run pooling = run(poolingRestore);
            assertThat(pooling.exit()).as(pooling.err()).isEqualTo(1);
            assertThat(pooling.err()).contains("the cluster did not take the job");
            assertThat(naming).hasContent("incrementing\n");
            // a record that cannot be put back (its sibling's name taken by a directory): the refusal is still what
            // the user reads, in one line, and the rest is undone
            java.nio.file.Files.createDirectories(kafkaOut.resolve("..kafka-transaction-naming.put-back"));
            java.nio.file.Files.writeString(kafkaOut.resolve("dead-letters.csv"), deadLetters);
            Run blocked = run(poolingRestore);
            assertThat(blocked.exit()).as(blocked.err()).isEqualTo(1);
            assertThat(blocked.err().strip().lines()).as(blocked.err()).singleElement().asString()
                    .contains("the cluster did not take the job");
            assertThat(naming).hasContent("pooling\n");
            assertThat(kafkaOut.resolve("dead-letters.csv")).hasContent(deadLetters);
            assertThat(kafkaOut.resolve(io.keyshift.jobs.KeyshiftJob.LEFT_DEAD_LETTERS_ASIDE)).doesNotExist();
        } finally {
            server.stop(0);
        }
    }


    /**
     * What submit undoes after a refusal is only what the job's main left: a file another job's main wrote since
     * (written anew through a rename, or made where this one's left none) is left alone.
     */
    @Test
    void onlyFilesAsTheJobsMainLeftThemAreUndone(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path record = java.nio.file.Files.writeString(dir.resolve(".kafka-transaction-naming"),
                "pooling\n");
        java.nio.file.Path none = dir.resolve(".input");
        java.util.Map<java.nio.file.Path, Object> left = new java.util.HashMap<>();
        left.put(record, SubmitCommand.leftAs(record));
        left.put(none, SubmitCommand.leftAs(none));
        assertThat(SubmitCommand.ownedByMain(record, left)).isTrue();
        assertThat(SubmitCommand.ownedByMain(none, left)).isTrue();
        java.nio.file.Path next = java.nio.file.Files.writeString(dir.resolve(".kafka-transaction-naming.next"),
                "pooling\n");
        java.nio.file.Files.move(next, record, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        java.nio.file.Files.writeString(none, "generator 1f\n");
        assertThat(SubmitCommand.ownedByMain(record, left)).isFalse();
        assertThat(SubmitCommand.ownedByMain(none, left)).isFalse();
        // undone: neither is touched
        java.util.Map<java.nio.file.Path, byte[]> before = java.util.Map.of(record,
                "incrementing\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        SubmitCommand.undo(java.util.List.of(none), before, left, null, new RuntimeException("refused"));
        assertThat(record).hasContent("pooling\n");
        assertThat(none).hasContent("generator 1f\n");
    }

    /**
     * A stand-in for the job jar at {@code jar}, a jar with a manifest alone (submit refuses a file that is not a jar;
     * the job's classes come from this class path: Flink's user class loader asks its parent for what the jar lacks).
     */
    static java.nio.file.Path jobJar(java.nio.file.Path jar) throws java.io.IOException {
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        new java.util.jar.JarOutputStream(java.nio.file.Files.newOutputStream(jar), manifest).close();
        return jar;
    }
}
