package io.keyshift.jobs.cluster;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Issue 17: the cluster command signals only the processes it started (no cluster is started here). */
class StandaloneClusterTest {
    /**
     * Starts {@code command}, whose last word names a Flink entry class, and waits until its command line shows it:
     * until the child has exec'd, its command line is the JDK's spawn helper's, no Flink process's (the tests that
     * read it then failed now and then).
     */
    private static Process flinkLike(String... command) throws Exception {
        Process p = new ProcessBuilder(command).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!p.info().commandLine().orElse("").contains(command[command.length - 1])
                && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return p;
    }


    /**
     * A start moves the log files of the start before it aside (they were appended to, and a failed start's "see
     * RUN/log" began with an earlier session's errors), keeping one earlier session; other files stay.
     */
    @Test
    void aStartSetsTheLogsOfTheStartBeforeItAside(@TempDir Path run) throws Exception {
        Path log = Files.createDirectories(run.resolve("log"));
        Files.writeString(log.resolve("jobmanager.log"), "first session\n");
        Files.writeString(log.resolve("jobmanager.log.1"), "first session, rolled\n");
        Files.writeString(log.resolve("taskmanager-2.out"), "first session\n");
        Files.writeString(log.resolve("taskmanager-1-42.jstack"), "a dump\n");
        StandaloneCluster.setAsidePreviousLogs(log);
        assertThat(log.resolve("jobmanager.log")).doesNotExist();
        assertThat(log.resolve("taskmanager-2.out")).doesNotExist();
        assertThat(log.resolve("taskmanager-1-42.jstack")).exists();
        assertThat(log.resolve("previous/jobmanager.log")).hasContent("first session");
        assertThat(log.resolve("previous/jobmanager.log.1")).exists();
        Files.writeString(log.resolve("jobmanager.log"), "second session\n");
        StandaloneCluster.setAsidePreviousLogs(log);
        assertThat(log.resolve("previous/jobmanager.log")).hasContent("second session");
        assertThat(log.resolve("previous/taskmanager-2.out")).doesNotExist();
        StandaloneCluster.setAsidePreviousLogs(log);
        assertThat(log.resolve("previous/jobmanager.log")).as("nothing to set aside: kept").exists();
    }

    @Test
    void stopLeavesAnUnrelatedProcessThatHoldsARecordedPidAlone(@TempDir Path run) throws Exception {
        Process sleep = new ProcessBuilder("sleep", "60").start();
        try {
            long start = StandaloneCluster.startMillis(sleep.toHandle());
            // the recorded PID and even the start time are the sleep's: only the command line tells them apart
            Files.writeString(run.resolve("cluster.properties"), "rest.port=1\njobmanager.pid=" + sleep.pid()
                    + "\njobmanager.start=" + start + "\ntaskmanager-1.pid=" + sleep.pid() + "\ntaskmanager-1.start="
                    + start + "\n");
            StandaloneCluster.Status st = StandaloneCluster.status(run);
            assertThat(st.up()).isFalse();
            assertThat(st.jobManager().alive()).isFalse();
            assertThat(st.liveTaskManagers()).isEmpty();
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            StandaloneCluster.stop(run, Duration.ofSeconds(2), new PrintStream(log, true, StandardCharsets.UTF_8));
            assertThat(sleep.isAlive()).as("the unrelated process still runs").isTrue();
            assertThat(log.toString(StandardCharsets.UTF_8)).isEmpty();
            assertThatThrownBy(() -> StandaloneCluster.killTaskManager(run, 0, System.err))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("no live TaskManager");
            assertThat(sleep.isAlive()).isTrue();
        } finally {
            sleep.destroyForcibly();
        }
    }

    /**
     * A Flink JVM under a recorded PID whose start time is not the recorded one (another cluster's, or the clock stepped
     * further than the tolerance) is left alone and said, and stop reports the cluster not wholly stopped (it printed
     * "cluster stopped", and the next start found the port in use).
     */
    @Test
    void aFlinkProcessWithAnotherStartTimeIsLeftAloneAndSaid(@TempDir Path run) throws Exception {
        // (sh, not bash: bash -c execs its one command, and the command line loses the Flink class)
        Process flinkLike = flinkLike("sh", "-c", "sleep 60", StandaloneCluster.JM_CLASS);
        try {
            long start = StandaloneCluster.startMillis(flinkLike.toHandle());
            Files.writeString(run.resolve("cluster.properties"), "rest.port=1\njobmanager.pid=" + flinkLike.pid()
                    + "\njobmanager.start=" + (start - 60_000) + "\n");
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            boolean stopped = StandaloneCluster.stop(run, Duration.ofSeconds(2),
                    new PrintStream(log, true, StandardCharsets.UTF_8));
            assertThat(stopped).isFalse();
            assertThat(flinkLike.isAlive()).isTrue();
            assertThat(log.toString(StandardCharsets.UTF_8)).contains("left PID " + flinkLike.pid() + " alone: it runs "
                    + "Flink but started at").contains("stop it yourself");
        } finally {
            flinkLike.destroyForcibly();
        }
    }

    /**
     * A copy of a run directory (its record copied along, as a copied checkout has) names the processes of the
     * cluster it was copied from: its status does not count them and its stop leaves them alone (it stopped them).
     */
    @Test
    void aCopiedRunDirectoryDoesNotOwnTheOriginalsProcesses(@TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self")), "Linux (/proc)");
        Path original = Files.createDirectories(dir.resolve("main/.keyshift-cluster/conf")).getParent();
        Path copy = Files.createDirectories(dir.resolve("main2/.keyshift-cluster/conf")).getParent();
        Process tm = flinkLike("sh", "-c", "sleep 60", "x", "--configDir", original.resolve("conf").toString(),
                StandaloneCluster.TM_CLASS);
        try {
            String record = "rest.port=1\njobmanager.pid=-1\njobmanager.start=-1\ntaskmanager-1.pid=" + tm.pid()
                    + "\ntaskmanager-1.start=" + StandaloneCluster.startMillis(tm.toHandle()) + "\n";
            Files.writeString(original.resolve("cluster.properties"), record);
            Files.writeString(copy.resolve("cluster.properties"), record);
            assertThat(StandaloneCluster.status(original).liveTaskManagers()).hasSize(1);
            assertThat(StandaloneCluster.status(copy).liveTaskManagers()).isEmpty();
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            boolean stopped = StandaloneCluster.stop(copy, Duration.ofSeconds(2),
                    new PrintStream(log, true, StandardCharsets.UTF_8));
            assertThat(tm.isAlive()).as("the original's TaskManager still runs").isTrue();
            // said as what it is (not a clock step), and no failure of the copy's stop
            assertThat(log.toString(StandardCharsets.UTF_8)).contains("another run directory's configuration")
                    .contains(original.resolve("conf").toString()).doesNotContain("not at");
            assertThat(stopped).isTrue();
        } finally {
            tm.destroyForcibly();
        }
    }

    @Test
    void aPidWhoseStartTimeDiffersIsNotTheRecordedProcess(@TempDir Path run) throws Exception {
        Process sleep = new ProcessBuilder("sleep", "60").start();
        try {
            long start = StandaloneCluster.startMillis(sleep.toHandle());
            StandaloneCluster.Member m = new StandaloneCluster.Member("taskmanager-1", sleep.pid(), start - 5_000);
            assertThat(m.alive()).isFalse();
            assertThat(m.handle()).isEmpty();
        } finally {
            sleep.destroyForcibly();
        }
    }

    /**
     * add-taskmanager against a REST API that does not list the TaskManagers: refused before any TaskManager starts
     * (an empty list was taken for "none", and the first answer listing the old one counted it as the new one's).
     */
    @Test
    void addTaskManagerNeedsTheListItComparesWith(@TempDir Path run) throws Exception {
        com.sun.net.httpserver.HttpServer rest = io.keyshift.jobs.StubHttp.start("/",
                exchange -> io.keyshift.jobs.StubHttp.respond(exchange, 503, null));
        Process jm = flinkLike("sh", "-c", "sleep 60",
                "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint");
        try {
            Files.writeString(run.resolve("cluster.properties"), "rest.port=" + rest.getAddress().getPort()
                    + "\njobmanager.pid=" + jm.pid() + "\njobmanager.start=" + StandaloneCluster.startMillis(jm.toHandle())
                    + "\n");
            assertThat(StandaloneCluster.status(run).jobManager().alive()).isTrue();
            assertThatThrownBy(() -> StandaloneCluster.addTaskManager(run, Duration.ofSeconds(2), System.err))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("did not list its TaskManagers");
            assertThat(StandaloneCluster.status(run).taskManagers()).isEmpty();
        } finally {
            jm.destroyForcibly();
            rest.stop(0);
        }
    }

    /**
     * add-taskmanager whose record of the new TaskManager cannot be written: the TaskManager it launched is stopped
     * (it ran on, unrecorded: cluster status did not list it and cluster stop left it running).
     */
    @Test
    void aTaskManagerWhoseRecordCannotBeWrittenIsStopped(@TempDir Path dir) throws Exception {
        Path classes = dir.resolve("classes");
        Files.createDirectories(classes);
        Path utils = dir.resolve("src/org/apache/flink/runtime/util/bash/BashJavaUtils.java");
        Path runner = dir.resolve("src/org/apache/flink/runtime/taskexecutor/TaskManagerRunner.java");
        Files.createDirectories(utils.getParent());
        Files.createDirectories(runner.getParent());
        Files.writeString(utils, "package org.apache.flink.runtime.util.bash;\n"
                + "public class BashJavaUtils { public static void main(String[] a) {"
                + " System.out.println(\"" + StandaloneCluster.RESULT_PREFIX + "-Xmx64m\");"
                + " System.out.println(\"" + StandaloneCluster.RESULT_PREFIX + "-D a=b\"); } }\n");
        Files.writeString(runner, "package org.apache.flink.runtime.taskexecutor;\n"
                + "public class TaskManagerRunner { public static void main(String[] a) throws Exception {"
                + " Thread.sleep(120_000); } }\n");
        assertThat(javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(),
                utils.toString(), runner.toString())).isZero();
        Path run = dir.resolve("run");
        Files.createDirectories(run.resolve("conf"));
        Files.createDirectories(run.resolve("log"));
        Files.writeString(run.resolve("conf").resolve("config.yaml"), "");
        Files.writeString(run.resolve("classpath.txt"), classes.toString());
        com.sun.net.httpserver.HttpServer rest = io.keyshift.jobs.StubHttp.answering(path -> "{\"taskmanagers\":[]}");
        Process jm = flinkLike("sh", "-c", "sleep 60",
                "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint");
        try {
            Files.writeString(run.resolve("cluster.properties"), "rest.port=" + rest.getAddress().getPort()
                    + "\njobmanager.pid=" + jm.pid() + "\njobmanager.start="
                    + StandaloneCluster.startMillis(jm.toHandle()) + "\n");
            // the record is written through this path: a directory there fails the write
            Files.createDirectories(run.resolve("cluster.properties.tmp"));
            assertThatThrownBy(() -> StandaloneCluster.addTaskManager(run, Duration.ofSeconds(60), System.err))
                    .isInstanceOf(java.io.IOException.class);
            assertThat(ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
                    .filter(h -> h.info().commandLine().orElse("").contains(classes.toString())
                            && h.info().commandLine().orElse("").contains(StandaloneCluster.TM_CLASS)).count())
                    .as("TaskManagers left running").isZero();
        } finally {
            ProcessHandle.allProcesses().filter(h -> h.info().commandLine().orElse("").contains(classes.toString()))
                    .forEach(ProcessHandle::destroyForcibly);
            jm.destroyForcibly();
            rest.stop(0);
        }
    }

    /**
     * A cluster's REST and RPC ports differ: settings with one port for both are refused (the soak took two free
     * ports one after the other, which can be the same, and its JobManager failed to bind the second), and the free
     * ports it now takes together are distinct.
     */
    @Test
    void theRestAndRpcPortsDiffer(@TempDir Path dir) {
        assertThatThrownBy(() -> new StandaloneCluster.Settings(dir, dir, "", 40001, 40001))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("both 40001");
        for (int i = 0; i < 20; i++) {
            int[] ports = StandaloneCluster.freeLoopbackPorts(3);
            assertThat(ports).doesNotHaveDuplicates().doesNotContain(0);
        }
    }

    /** A TaskManager that outlived its JobManager is not forgotten by a new start (it would join the new cluster). */
    @Test
    void aStartIsRefusedWhileTheEarlierStartsTaskManagerStillRuns(@TempDir Path run) throws Exception {
        Process tm = flinkLike("sh", "-c", "sleep 60",
                "org.apache.flink.runtime.taskexecutor.TaskManagerRunner");
        try {
            Path dir = Files.createDirectories(run.resolve("cluster"));
            String record = "rest.port=1\njobmanager.pid=0\njobmanager.start=0\ntaskmanager-1.pid=" + tm.pid()
                    + "\ntaskmanager-1.start=" + StandaloneCluster.startMillis(tm.toHandle()) + "\n";
            Files.writeString(dir.resolve("cluster.properties"), record);
            StandaloneCluster.Settings s = new StandaloneCluster.Settings(run, dir, "none.jar", 0, 0);
            assertThatThrownBy(() -> StandaloneCluster.start(s, Duration.ofSeconds(5), System.err))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("taskmanager-1 (PID " + tm.pid() + ")").hasMessageContaining("cluster stop");
            assertThat(Files.readString(dir.resolve("cluster.properties"))).isEqualTo(record);
        } finally {
            tm.destroyForcibly();
        }
    }

    /** A port that another process holds is refused before any process starts (its REST API would answer as ours). */
    @Test
    void aPortInUseIsRefusedBeforeAnyProcessStarts(@TempDir Path run) throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            assertThat(StandaloneCluster.inUse(port)).isTrue();
            StandaloneCluster.Settings s = new StandaloneCluster.Settings(run, run.resolve("cluster"), "none.jar", port,
                    0);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> StandaloneCluster.start(s,
                            java.time.Duration.ofSeconds(5), System.err))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("port " + port + " on 127.0.0.1 (REST, --rest-port) is in use");
            assertThat(run.resolve("cluster/cluster.properties")).doesNotExist();
        }
    }

    @Test
    void listeningSocketAddressesDecodeAsLinuxPrintsThem() {
        assertThat(ListeningSockets.decode("0100007F", 8081).loopback()).isTrue();
        assertThat(ListeningSockets.decode("00000000", 9250).loopback()).isFalse();
        assertThat(ListeningSockets.decode("0000000000000000FFFF00000100007F", 1).loopback()).isTrue();
        assertThat(ListeningSockets.decode("00000000000000000000000001000000", 1).loopback()).isTrue();
        assertThat(ListeningSockets.decode("00000000000000000000000000000000", 1).loopback()).isFalse();
    }

    /**
     * A member's start time as another JVM reads it after a step of the system clock (the JDK derives it from the boot
     * time): still the member, within seconds; a start time far from it is another process.
     */
    @Test
    void aMemberIsFoundAfterAClockStepButNotAnotherProcessOfTheSamePid() throws Exception {
        Process p = flinkLike("sh", "-c", "sleep 600", StandaloneCluster.TM_CLASS);
        try {
            long start = StandaloneCluster.startMillis(p.toHandle());
            assertThat(new StandaloneCluster.Member("taskmanager-0", p.pid(), start - 1000).alive()).isTrue();
            assertThat(new StandaloneCluster.Member("taskmanager-0", p.pid(), start + 1000).alive()).isTrue();
            assertThat(new StandaloneCluster.Member("taskmanager-0", p.pid(), start - 3_600_000).alive()).isFalse();
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    /**
     * Memory sizes that parse but do not add up are refused before anything starts, in Flink's words: the JobManager
     * was started, the TaskManager's sizing then failed, and the command ended with exit 1 and Flink's stack trace.
     */
    @Test
    void memorySizesThatDoNotAddUpAreRefusedBeforeAnyProcessStarts(@org.junit.jupiter.api.io.TempDir Path dir) {
        Path conf = io.keyshift.jobs.SharedData.flinkConf();
        StandaloneCluster.checkMemory(new StandaloneCluster.Settings(conf, dir.resolve("ok"), "", 8081, 6123));
        assertThatThrownBy(() -> StandaloneCluster.checkMemory(new StandaloneCluster.Settings(conf,
                dir.resolve("tm"), "", 8081, 6123, java.util.Map.of("taskmanager.memory.process.size", "1g"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("taskmanager.memory").hasMessageContaining("exceed configured Total Flink Memory");
        assertThatThrownBy(() -> StandaloneCluster.checkMemory(new StandaloneCluster.Settings(conf,
                dir.resolve("jm"), "", 8081, 6123, java.util.Map.of("jobmanager.memory.process.size", "100m"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("jobmanager.memory");
        assertThat(dir.resolve("tm")).doesNotExist();
    }

    /**
     * A base config.yaml's bind ports do not take the cluster's ports over, and Flink's Prometheus reporter is bound
     * to loopback: REST listened on rest.bind-port while
     * start waited on --rest-port (and stopped the cluster as not come up), and TaskManagers never reached a
     * JobManager bound to another RPC port.
     */
    @Test
    void aBaseConfigsBindPortsAreLeftOut(@TempDir Path dir) throws Exception {
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Files.writeString(conf.resolve("config.yaml"), "rest.bind-port: 8082\njobmanager.rpc.bind-port: 6124\n"
                + "taskmanager.numberOfTaskSlots: 2\n"
                + "metrics.reporter.p.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory\n"
                + "metrics.reporter.p.port: 9300\n");
        Path written = dir.resolve("written.yaml");
        StandaloneCluster.writeConfig(new StandaloneCluster.Settings(conf, dir, "none.jar", 18081, 16123), dir, written);
        String yaml = Files.readString(written);
        assertThat(yaml).contains("rest.port: '18081'").contains("jobmanager.rpc.port: '16123'")
                .contains("taskmanager.numberOfTaskSlots: '2'").doesNotContain("bind-port")
                // Flink's own Prometheus reporter listened on every interface: the bound one, on loopback
                .contains("metrics.reporter.p.factory.class: 'io.keyshift.metrics.prometheus."
                        + "BoundPrometheusReporterFactory'").contains("metrics.reporter.p.host: '127.0.0.1'");
        // the same given with -D (cluster start -D ...): it was written as given, and listened on every interface
        Files.writeString(conf.resolve("config.yaml"), "taskmanager.numberOfTaskSlots: 2\n");
        StandaloneCluster.writeConfig(new StandaloneCluster.Settings(conf, dir, "none.jar", 18081, 16123,
                java.util.Map.of("metrics.reporter.q.factory.class",
                        "org.apache.flink.metrics.prometheus.PrometheusReporterFactory", "metrics.reporter.q.port",
                        "9301")), dir, written);
        assertThat(Files.readString(written)).contains("metrics.reporter.q.factory.class: 'io.keyshift.metrics."
                + "prometheus.BoundPrometheusReporterFactory'").contains("metrics.reporter.q.host: '127.0.0.1'");
    }
    /**
     * A kill that the system refuses, or after which the process still runs, fails (it said "killed with SIGKILL"
     * and exited 0 whatever happened); a process that ends is said killed.
     */
    @Test
    void aKillThatDoesNotEndTheProcessFails() throws Exception {
        StandaloneCluster.Member m = new StandaloneCluster.Member("taskmanager-1", 4242, 0);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream log = new PrintStream(out, true, StandardCharsets.UTF_8);
        assertThatThrownBy(() -> StandaloneCluster.kill(m, new FakeProcess(false, true), Duration.ofMillis(200), log))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("was refused");
        assertThatThrownBy(() -> StandaloneCluster.kill(m, new FakeProcess(true, true), Duration.ofMillis(200), log))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("taskmanager-1 (PID 4242) still runs 200 ms after SIGKILL");
        assertThat(out.toString(StandardCharsets.UTF_8)).doesNotContain("killed");
        StandaloneCluster.kill(m, new FakeProcess(true, false), Duration.ofMillis(200), log);
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("taskmanager-1 (PID 4242) killed with SIGKILL");
    }

    /** A process handle whose signal is taken or not, and that stays alive or ends once signalled. */
    private static final class FakeProcess implements ProcessHandle {
        private final boolean taken;
        private final boolean survives;
        private boolean signalled;

        FakeProcess(boolean taken, boolean survives) {
            this.taken = taken;
            this.survives = survives;
        }

        @Override
        public long pid() {
            return 4242;
        }

        @Override
        public java.util.Optional<ProcessHandle> parent() {
            return java.util.Optional.empty();
        }

        @Override
        public java.util.stream.Stream<ProcessHandle> children() {
            return java.util.stream.Stream.empty();
        }

        @Override
        public java.util.stream.Stream<ProcessHandle> descendants() {
            return java.util.stream.Stream.empty();
        }

        @Override
        public Info info() {
            return ProcessHandle.current().info();
        }

        @Override
        public java.util.concurrent.CompletableFuture<ProcessHandle> onExit() {
            return new java.util.concurrent.CompletableFuture<>();
        }

        @Override
        public boolean supportsNormalTermination() {
            return true;
        }

        @Override
        public boolean destroy() {
            return destroyForcibly();
        }

        @Override
        public boolean destroyForcibly() {
            signalled = taken;
            return taken;
        }

        @Override
        public boolean isAlive() {
            return !signalled || survives;
        }

        @Override
        public int compareTo(ProcessHandle other) {
            return Long.compare(pid(), other.pid());
        }
    }

    /**
     * The JVM sizing (Flink's BashJavaUtils, run before each Flink process) is bounded by the start's deadline: one
     * that hangs ends the start within its --timeout (it had 120 s of its own each, before the deadline began), and
     * its JVM is stopped.
     */
    @Test
    void aHangingJvmSizingEndsWithinTheStartsDeadline(@TempDir Path dir) throws Exception {
        Path src = dir.resolve("src/org/apache/flink/runtime/util/bash/BashJavaUtils.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, "package org.apache.flink.runtime.util.bash;\n"
                + "public class BashJavaUtils { public static void main(String[] a) throws Exception {"
                + " Thread.sleep(600_000); } }\n");
        Path classes = dir.resolve("classes");
        Files.createDirectories(classes);
        assertThat(javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(),
                src.toString())).isZero();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        long started = System.nanoTime();
        long deadline = started + Duration.ofSeconds(2).toNanos();
        assertThatThrownBy(() -> StandaloneCluster.bashJavaUtils(java, classes.toString(), dir, "GET_TM_RESOURCE_PARAMS",
                deadline))
                .isInstanceOf(java.io.IOException.class)
                .hasMessageContaining("did not finish within")
                .hasMessageContaining("the command's --timeout");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(60));
        // the sizing JVM is gone (it was left running when the wait was cut)
        Thread.sleep(500);
        assertThat(ProcessHandle.allProcesses().filter(h -> h.info().commandLine().orElse("")
                .contains(classes.toString())).filter(ProcessHandle::isAlive).count()).isZero();
    }

    /**
     * The cluster's config.yaml's JVM options reach each process as Flink's scripts pass them (default-opts, then
     * opts; all, then the role's): they were written into the file and left out of the command line.
     */
    @Test
    void theConfigsJavaOptionsReachTheirRole(@TempDir Path conf) throws Exception {
        Files.writeString(conf.resolve("config.yaml"), "env.java.default-opts.all: -Da=1\n"
                + "env.java.opts.all: '-XX:+UseG1GC  -Db=2'\nenv.java.opts.taskmanager: -Dtm=1\n"
                + "env.java.opts.jobmanager: -Djm=1\n");
        assertThat(StandaloneCluster.javaOptions(conf, false)).containsExactly("-XX:+IgnoreUnrecognizedVMOptions",
                "-Da=1", "-XX:+UseG1GC", "-Db=2", "-Dtm=1");
        assertThat(StandaloneCluster.javaOptions(conf, true)).containsExactly("-XX:+IgnoreUnrecognizedVMOptions",
                "-Da=1", "-XX:+UseG1GC", "-Db=2", "-Djm=1");
        // the double quotes around a value, which the scripts strip
        Files.writeString(conf.resolve("config.yaml"), "env.java.opts.all: '\"-Dq=1 -Dr=2\"'\n");
        assertThat(StandaloneCluster.javaOptions(conf, true)).containsExactly("-XX:+IgnoreUnrecognizedVMOptions",
                "-Dq=1", "-Dr=2");
        Files.writeString(conf.resolve("config.yaml"), "taskmanager.numberOfTaskSlots: 2\n");
        assertThat(StandaloneCluster.javaOptions(conf, false)).isEmpty();
    }

    /**
     * A process that cluster start starts has a session and process group of its own: a Ctrl-C or hang-up meant for
     * the command that started it (or a script running it) does not reach it; its PID is the one recorded. A test's
     * or a soak's cluster (not detached) stays in their group: a Ctrl-C that ends them ends it too.
     */
    @Test
    void aDetachedProcessIsInASessionOfItsOwnAndAnotherInTheCallersGroup(@TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self"))
                && StandaloneCluster.setsid() != null, "Linux, with setsid");
        Process attached = StandaloneCluster.launch(java.util.List.of("sleep", "30"), dir.resolve("a.out"), false);
        try {
            awaitSleep(attached);
            assertThat(stat(attached.pid())[4]).as("process group").isEqualTo(stat(ProcessHandle.current().pid())[4]);
        } finally {
            attached.destroyForcibly().waitFor();
        }
        Process p = StandaloneCluster.launch(java.util.List.of("sleep", "30"), dir.resolve("sleep.out"), true);
        try {
            awaitSleep(p);
            String[] child = stat(p.pid());
            String[] self = stat(ProcessHandle.current().pid());
            // fields 5 and 6 of /proc/PID/stat: process group and session
            assertThat(child[4]).as("process group").isNotEqualTo(self[4]).isEqualTo(Long.toString(p.pid()));
            assertThat(child[5]).as("session").isNotEqualTo(self[5]).isEqualTo(Long.toString(p.pid()));
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    /** Waits until {@code p} runs sleep (setsid has exec'd it), up to 10 s. */
    private static void awaitSleep(Process p) throws Exception {
        Path cmdline = Path.of("/proc/" + p.pid() + "/cmdline");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!Files.readString(cmdline).startsWith("sleep") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(Files.readString(cmdline)).startsWith("sleep");
    }

    /** The fields of /proc/PID/stat, from the state on (index 2 is the state; the name in parentheses skipped). */
    private static String[] stat(long pid) throws Exception {
        String line = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String afterName = line.substring(line.lastIndexOf(')') + 2);
        String[] rest = afterName.trim().split(" ");
        String[] fields = new String[rest.length + 2];
        fields[0] = Long.toString(pid);
        fields[1] = "name";
        System.arraycopy(rest, 0, fields, 2, rest.length);
        return fields;
    }
}
