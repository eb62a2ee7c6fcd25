package io.keyshift.jobs.cluster;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * A real Flink standalone session cluster on this machine, started from Maven artifacts (there is no Flink tarball):
 * one JobManager ({@code StandaloneSessionClusterEntrypoint}) and one TaskManager ({@code TaskManagerRunner}), each in
 * its own JVM, on the classpath {@code jobs/target/cluster-classpath.txt} (Flink and what it needs; the job jar brings
 * the rest). JVM sizes come from Flink's own {@code BashJavaUtils}, as Flink's scripts do.
 *
 * <p>The run directory holds everything of one cluster: {@code conf/config.yaml} (the given config.yaml with the
 * cluster's ports, loopback addresses and checkpoint/savepoint directories), {@code log/}, {@code checkpoints/},
 * {@code savepoints/}, {@code classpath.txt} and {@code cluster.properties} with the PID and start time of every
 * process started. Every listening socket binds 127.0.0.1 (RPC, blob server, data exchange, REST, the Prometheus
 * reporter of {@code keyshift-metrics}) unless an override ({@code -D}) says otherwise, whatever config.yaml gives (the
 * Prometheus reporter's host alone is taken from config.yaml); the REST API's jar upload
 * ({@code web.submit.enable}) is off unless an override turns it on ({@code bin/keyshift submit} does not need it).
 * {@link #addTaskManager} and {@link #killTaskManager} start a further TaskManager and crash one (fault tests);
 * {@link #stop} stops only processes whose PID, start time, Flink entry class and {@code --configDir} are the
 * recorded ones (SIGTERM, then SIGKILL after the timeout).
 */
public final class StandaloneCluster {
    static final String JM_CLASS = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    static final String TM_CLASS = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
    static final String BASH_UTILS = "org.apache.flink.runtime.util.bash.BashJavaUtils";
    /** How long Flink's {@link #BASH_UTILS} may take to size a JVM (it takes about a second). */
    static final java.time.Duration BASH_UTILS_TIMEOUT = java.time.Duration.ofSeconds(120);
    static final String RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:";

    /** The module options Flink's scripts pass to every JVM (env.java.default-opts.all), and nothing else. */
    static final List<String> JVM_MODULE_OPTIONS = List.of(
            "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
            "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.text=ALL-UNNAMED",
            "--add-opens=java.base/java.time=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    /**
     * Where and how to start.
     *
     * @param confDir directory with the base config.yaml (flink-conf/)
     * @param runDir the cluster's run directory (created)
     * @param classpath the cluster classpath (contents of cluster-classpath.txt)
     * @param restPort REST and web UI port on 127.0.0.1
     * @param rpcPort JobManager RPC port on 127.0.0.1
     * @param overrides options over config.yaml's (for example {@code jobmanager.scheduler: adaptive})
     * @throws IllegalArgumentException if restPort and rpcPort are the same port (the JobManager would fail to bind
     *         the second; {@link #freeLoopbackPorts} gives distinct ones)
     */
    public record Settings(Path confDir, Path runDir, String classpath, int restPort, int rpcPort,
                           Map<String, String> overrides) {
        public Settings {
            if (restPort == rpcPort && restPort != 0) {
                throw new IllegalArgumentException("the REST port and the RPC port are both " + restPort
                        + ": the JobManager would fail to bind the second");
            }
        }

        /** Without overrides. */
        public Settings(Path confDir, Path runDir, String classpath, int restPort, int rpcPort) {
            this(confDir, runDir, classpath, restPort, rpcPort, Map.of());
        }
    }

    /**
     * One process the cluster command started: its role ({@code jobmanager}, {@code taskmanager-N}), PID and start
     * time (ms since the epoch, as the OS reports it). A PID alone could name another process after this one ended.
     */
    public record Member(String role, long pid, long startMillis, Path configDir) {
        /** A member whose process's configuration directory is not checked. */
        public Member(String role, long pid, long startMillis) {
            this(role, pid, startMillis, null);
        }

        /**
         * The live process, only if it is still the one started (same PID, same start time, a Flink entry class, and
         * the run directory's configuration: a copy of a run directory, its record copied along, names the processes
         * of the cluster it was copied from, which its stop stopped).
         */
        public Optional<ProcessHandle> handle() {
            Optional<ProcessHandle> h = pid > 0 ? ProcessHandle.of(pid) : Optional.empty();
            // the start time within a few seconds: the JDK derives it from the boot time, which a step of the
            // system clock (NTP, date -s) moves between one JVM and the next (a stop after such a step found no
            // process to stop and said the cluster had stopped)
            return h.filter(ProcessHandle::isAlive)
                    .filter(p -> Math.abs(StandaloneCluster.startMillis(p) - startMillis) <= START_TOLERANCE_MILLIS)
                    .filter(p -> runsFlink(p.pid()))
                    .filter(p -> configDir == null || runsWith(p.pid(), configDir));
        }

        /** True while the process started as this member runs. */
        public boolean alive() {
            return handle().isPresent();
        }
    }

    /**
     * What {@link #status} finds: up when the JobManager started by the cluster command runs and the REST API
     * reports at least one registered TaskManager.
     *
     * @param taskManagers every TaskManager the cluster command started (live or not), oldest first
     * @param registeredTaskManagers TaskManagers the REST API reports (-1 if it did not answer)
     */
    public record Status(boolean up, String restAddress, Member jobManager, List<Member> taskManagers,
                         int registeredTaskManagers, String overview) {
        public long jobManagerPid() {
            return jobManager != null ? jobManager.pid() : -1;
        }

        /** The PID of the first TaskManager (-1 if none). */
        public long taskManagerPid() {
            return taskManagers.isEmpty() ? -1 : taskManagers.get(0).pid();
        }

        /** The TaskManagers that still run. */
        public List<Member> liveTaskManagers() {
            return taskManagers.stream().filter(Member::alive).toList();
        }
    }

    private StandaloneCluster() {}

    /**
     * Starts the cluster and waits (up to {@code timeout}) until its REST API reports one TaskManager; its processes
     * are in the caller's process group (a Ctrl-C that ends the caller ends them: a test's or a soak's cluster).
     */
    public static Status start(Settings s, Duration timeout, PrintStream log) throws IOException, InterruptedException {
        return start(s, timeout, log, false);
    }

    /** Name of the file in the run directory that marks a detached cluster (see {@link #launch}). */
    static final String DETACHED = "detached";

    /**
     * As {@link #start(Settings, Duration, PrintStream)}; {@code detached}: its processes run in sessions of their
     * own, as {@code cluster start}'s, which only {@code cluster stop} ends (also its later TaskManagers).
     */
    public static Status start(Settings s, Duration timeout, PrintStream log, boolean detached)
            throws IOException, InterruptedException {
        // the timeout bounds the whole start, the JVM sizing too (it started after that, so a hung sizing JVM could
        // take a start with --timeout 10s four minutes)
        long deadline = System.nanoTime() + timeout.toNanos();
        Path run = s.runDir().toAbsolutePath();
        Status existing = status(run);
        if (existing.jobManager() != null && existing.jobManager().alive()) {
            throw new IllegalStateException("a cluster of " + run + " is already running (JobManager PID "
                    + existing.jobManagerPid() + "); stop it first");
        }
        if (!existing.liveTaskManagers().isEmpty()) {
            // its JobManager died; a new start would forget the TaskManager, which would register with the new one
            Member tm = existing.liveTaskManagers().get(0);
            throw new IllegalStateException("the earlier start's " + tm.role() + " (PID " + tm.pid() + ") of " + run
                    + " still runs: run cluster stop first");
        }
        // another process on the ports (another cluster) would answer the REST API as if it were this one, and
        // this cluster's TaskManager would register with its JobManager
        for (int[] port : new int[][] {{s.restPort(), 0}, {s.rpcPort(), 1}}) {
            if (port[0] > 0 && inUse(port[0])) {
                throw new IllegalStateException("port " + port[0] + " on 127.0.0.1 (" + (port[1] == 0
                        ? "REST, --rest-port" : "JobManager RPC, --rpc-port") + ") is in use by another process: "
                        + "stop it, or choose another port");
            }
        }
        Path conf = run.resolve("conf");
        Files.createDirectories(conf);
        Files.createDirectories(run.resolve("log"));
        setAsidePreviousLogs(run.resolve("log"));
        writeConfig(s, run, conf.resolve("config.yaml"));
        Path log4j = s.confDir().resolve("log4j-cluster.properties");
        if (!Files.isRegularFile(log4j)) {
            // a --config of config.yaml alone: keyshift's own (the JVMs were pointed at a file that did not exist,
            // or at one an earlier start with another --config had left, and wrote no log file)
            log4j = io.keyshift.jobs.cli.FlinkConfig.defaultConfDir().resolve("log4j-cluster.properties");
        }
        if (Files.isRegularFile(log4j)) {
            Files.copy(log4j, conf.resolve("log4j.properties"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } else {
            Files.deleteIfExists(conf.resolve("log4j.properties"));
        }
        Files.writeString(run.resolve("classpath.txt"), s.classpath());

        // until the cluster is up, a start that is stopped (Ctrl-C, a timeout's SIGTERM) stops what it started: the
        // JVMs it launched outlive it (cluster start's in sessions of their own; a soak's or a test's a SIGTERM to
        // this process alone), and the next start was refused as one already running
        if (detached) {
            Files.writeString(run.resolve(DETACHED), "");
        } else {
            Files.deleteIfExists(run.resolve(DETACHED));
        }
        Guard guard = new Guard();
        List<Member> launched = guard.launched;
        java.util.concurrent.atomic.AtomicBoolean stopping = guard.stopping;
        Thread cleanup = new Thread(() -> {
            // (after a launch under way: none starts from here on, and the one under way is in launched)
            synchronized (guard) {
                stopping.set(true);
            }
            try {
                stop(run, Duration.ofSeconds(10), log);
            } catch (Exception e) {
                // (the JVM is going down: what is left is killed below)
            }
            // (also one not recorded yet)
            launched.forEach(m -> m.handle().filter(ProcessHandle::isAlive).ifPresent(ProcessHandle::destroyForcibly));
        }, "keyshift-cluster-start-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            Member jm = startProcess(s.classpath(), run, "jobmanager", JM_CLASS, "GET_JM_RESOURCE_PARAMS", deadline,
                    guard);
            // recorded at once, so that a TaskManager that fails to start leaves no JobManager that stop cannot find
            record(run, s.restPort(), jm, List.of());
            Member tm;
            try {
                tm = startProcess(s.classpath(), run, "taskmanager-1", TM_CLASS, "GET_TM_RESOURCE_PARAMS",
                        deadline, guard);
            } catch (IOException | RuntimeException | InterruptedException e) {
                stop(run, Duration.ofSeconds(10), log);
                throw e;
            }
            record(run, s.restPort(), jm, List.of(tm));
            log.printf("cluster: JobManager PID %d, TaskManager PID %d, logs in %s%n", jm.pid(), tm.pid(), run.resolve("log"));
            while (System.nanoTime() < deadline) {
                Status st = status(run);
                if (st.up()) {
                    return st;
                }
                if (stopping.get()) {
                    throw new IllegalStateException("stopped before the cluster came up; what it had started is "
                            + "stopped too");
                }
                if (!jm.alive() || !tm.alive()) {
                    stop(run, Duration.ofSeconds(10), log);
                    throw new IllegalStateException("the cluster did not start: see " + run.resolve("log"));
                }
                Thread.sleep(500);
            }
            stop(run, Duration.ofSeconds(10), log);
            throw new IllegalStateException("the cluster did not come up within " + org.apache.flink.util.TimeUtils.formatWithHighestUnit(timeout) + ": see " + run.resolve("log"));
        } catch (Throwable t) {
            // whatever failed (a record that could not be written, too), nothing this start launched outlives it
            launched.forEach(m -> m.handle().ifPresent(ProcessHandle::destroyForcibly));
            throw t;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs
            }
        }
    }

    /** Stops a TaskManager this process started (SIGTERM, then SIGKILL after 10 s), waiting up to 10 s more. */
    private static void stopUnrecorded(Member tm) {
        tm.handle().ifPresent(h -> {
            h.destroy();
            try {
                h.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception stillRunning) {
                h.destroyForcibly();
                try {
                    h.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    // still running: a record that lists it (the caller's) is where cluster stop finds it
                }
            }
        });
    }

    /**
     * Starts one more TaskManager for the running cluster of {@code runDir} (a replacement after a kill, or more
     * slots) and waits until the REST API lists a TaskManager it did not list before.
     *
     * @throws IllegalStateException if no cluster of runDir runs, or the TaskManager does not register in time
     */
    public static Member addTaskManager(Path runDir, Duration timeout, PrintStream log)
            throws IOException, InterruptedException {
        Path run = runDir.toAbsolutePath();
        Status st = status(run);
        if (st.jobManager() == null || !st.jobManager().alive()) {
            throw new IllegalStateException("no running cluster in " + run + " (start one with cluster start)");
        }
        // the TaskManagers listed before, as the REST API answers (a failed read taken for "none" made the first
        // answer that listed the old ones count as a new one: "registered" for one that never did)
        long deadline = System.nanoTime() + timeout.toNanos();
        java.util.Set<String> before = taskManagerIds(st.restAddress());
        while (before == null) {
            if (System.nanoTime() >= deadline) {
                throw new IllegalStateException("the cluster's REST API at " + st.restAddress() + " did not list its "
                        + "TaskManagers within " + org.apache.flink.util.TimeUtils.formatWithHighestUnit(timeout)
                        + ": no TaskManager started");
            }
            Thread.sleep(300);
            before = taskManagerIds(st.restAddress());
        }
        String classpath = Files.readString(run.resolve("classpath.txt")).trim();
        int n = st.taskManagers().size() + 1;
        Member tm = startProcess(classpath, run, "taskmanager-" + n, TM_CLASS, "GET_TM_RESOURCE_PARAMS", deadline,
                new Guard());
        List<Member> tms = new ArrayList<>(st.taskManagers());
        tms.add(tm);
        try {
            record(run, URI.create(st.restAddress()).getPort(), st.jobManager(), tms);
        } catch (IOException | RuntimeException e) {
            // unrecorded, cluster status would not list it nor cluster stop stop it: stopped now, as start() stops
            // what it launched when its record cannot be written
            stopUnrecorded(tm);
            throw e;
        }
        log.printf("cluster: TaskManager %d started, PID %d%n", n, tm.pid());
        while (System.nanoTime() < deadline) {
            if (!tm.alive()) {
                // the record as it was: the next add-taskmanager takes the same number (status listed a dead one)
                record(run, URI.create(st.restAddress()).getPort(), st.jobManager(), st.taskManagers());
                throw new IllegalStateException("TaskManager " + n + " ended at start: see "
                        + run.resolve("log").resolve("taskmanager-" + n + ".log"));
            }
            java.util.Set<String> now = taskManagerIds(st.restAddress());
            if (now != null && !before.containsAll(now)) {
                return tm;
            }
            Thread.sleep(300);
        }
        // not left behind to register later, unlisted by the failure: stopped, and the record as it was before
        stopUnrecorded(tm);
        if (!tm.alive()) {
            record(run, URI.create(st.restAddress()).getPort(), st.jobManager(), st.taskManagers());
        }
        throw new IllegalStateException("TaskManager " + n + " did not register within " + org.apache.flink.util.TimeUtils.formatWithHighestUnit(timeout) + " and was "
                + "stopped: see " + run.resolve("log").resolve("taskmanager-" + n + ".log"));
    }

    /**
     * Kills a TaskManager the cluster command started with SIGKILL (a crash, for fault tests): {@code which} is its
     * number (1 = the first) or 0 for the newest live one.
     *
     * @return the killed member
     * @throws IllegalStateException if that TaskManager does not run
     */
    public static Member killTaskManager(Path runDir, int which, PrintStream log) throws InterruptedException {
        Status st = status(runDir.toAbsolutePath());
        List<Member> live = st.liveTaskManagers();
        Member m;
        if (which == 0) {
            if (live.isEmpty()) {
                throw new IllegalStateException("no live TaskManager started by the cluster command in " + runDir);
            }
            m = live.get(live.size() - 1);
        } else {
            if (which < 1 || which > st.taskManagers().size() || !st.taskManagers().get(which - 1).alive()) {
                throw new IllegalStateException("TaskManager " + which + " does not run (live: "
                        + live.stream().map(Member::role).toList() + ")");
            }
            m = st.taskManagers().get(which - 1);
        }
        // (it may have ended since the status was read)
        ProcessHandle h = m.handle().orElseThrow(() -> new IllegalStateException(m.role() + " (PID " + m.pid()
                + ") does not run"));
        kill(m, h, Duration.ofSeconds(10), log);
        return m;
    }

    /**
     * Sends {@code m}'s process {@code h} SIGKILL and waits up to {@code wait} for it to end.
     *
     * @throws IllegalStateException if the signal is refused or the process still runs after {@code wait} (it said
     *     "killed" whatever happened)
     */
    static void kill(Member m, ProcessHandle h, Duration wait, PrintStream log) throws InterruptedException {
        if (!h.isAlive()) {
            // ended since its status was read: no kill to report
            throw new IllegalStateException(m.role() + " (PID " + m.pid() + ") does not run");
        }
        if (!h.destroyForcibly() && h.isAlive()) {
            throw new IllegalStateException("SIGKILL to " + m.role() + " (PID " + m.pid() + ") was refused");
        }
        long deadline = System.nanoTime() + wait.toNanos();
        while (h.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        if (h.isAlive()) {
            throw new IllegalStateException(m.role() + " (PID " + m.pid() + ") still runs "
                    + org.apache.flink.util.TimeUtils.formatWithHighestUnit(wait) + " after SIGKILL");
        }
        log.printf("cluster: %s (PID %d) killed with SIGKILL%n", m.role(), m.pid());
    }

    /** The cluster of {@code runDir}, as recorded by {@link #start} and {@link #addTaskManager}, and as it answers. */
    public static Status status(Path runDir) {
        Path props = runDir.resolve("cluster.properties");
        if (!Files.isRegularFile(props)) {
            return new Status(false, null, null, List.of(), -1, null);
        }
        Properties p = new Properties();
        try (var r = Files.newBufferedReader(props)) {
            p.load(r);
        } catch (IOException e) {
            return new Status(false, null, null, List.of(), -1, null);
        }
        String rest = "http://127.0.0.1:" + p.getProperty("rest.port");
        Member jm = member(p, "jobmanager", runDir);
        List<Member> tms = new ArrayList<>();
        for (int i = 1; p.containsKey("taskmanager-" + i + ".pid"); i++) {
            tms.add(member(p, "taskmanager-" + i, runDir));
        }
        String overview = null;
        int registered = -1;
        if (jm.alive()) {
            try {
                HttpResponse<String> r = HttpClient.newHttpClient().send(
                        HttpRequest.newBuilder(URI.create(rest + "/overview")).timeout(Duration.ofSeconds(3)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    overview = r.body();
                    registered = new com.fasterxml.jackson.databind.ObjectMapper().readTree(overview)
                            .path("taskmanagers").asInt(-1);
                }
            } catch (IOException e) {
                // not (yet) answering
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return new Status(registered > 0, rest, jm, List.copyOf(tms), registered, overview);
    }

    /**
     * Stops the processes the cluster command started, TaskManagers first: SIGTERM, then SIGKILL after
     * {@code timeout}. A recorded PID that now names another process (a different start time or command) is left
     * alone; one that runs Flink with another start time is left alone too, and said.
     *
     * @return whether every process the cluster command started and that still ran is gone (false, with a line on
     *         {@code log}, for a Flink JVM of this run directory left alone, another start time, or one still alive
     *         after SIGKILL; a JVM with another run directory's configuration is left alone with a line and does not
     *         count: a copied run directory's record names the original's processes)
     */
    public static boolean stop(Path runDir, Duration timeout, PrintStream log) throws InterruptedException {
        boolean allStopped = true;
        Status st = status(runDir);
        List<Member> members = new ArrayList<>(st.taskManagers());
        if (st.jobManager() != null) {
            members.add(st.jobManager());
        }
        for (Member m : members) {
            Optional<ProcessHandle> h = m.handle();
            if (h.isEmpty()) {
                // gone, or its PID taken by another process: left alone; but a Flink JVM under the PID whose start
                // time is not the recorded one (the clock stepped further than the tolerance, or another cluster's)
                // is said, not passed over with "cluster stopped"
                Optional<ProcessHandle> other = m.pid() > 0 ? ProcessHandle.of(m.pid()).filter(ProcessHandle::isAlive)
                        : Optional.empty();
                if (other.isPresent() && runsFlink(m.pid()) && m.configDir() != null
                        && !runsWith(m.pid(), m.configDir())) {
                    // a copy of another run directory, its record copied along: the original's process
                    log.printf("cluster: left PID %d alone: it runs Flink with another run directory's configuration "
                            + "(%s), not %s: a copy's record names the original's cluster%n", m.pid(),
                            configDirOf(m.pid()), m.configDir());
                } else if (other.isPresent() && runsFlink(m.pid())) {
                    log.printf("cluster: left PID %d alone: it runs Flink but started at %s, not at %s as this "
                                    + "cluster's %s did (another cluster's JVM, or the clock was stepped by more than "
                                    + "%d s since): stop it yourself if it is this cluster's%n", m.pid(),
                            java.time.Instant.ofEpochMilli(startMillis(other.get())),
                            java.time.Instant.ofEpochMilli(m.startMillis()), m.role(), START_TOLERANCE_MILLIS / 1000);
                    allStopped = false;
                }
                continue;
            }
            h.get().destroy();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (h.get().isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            if (h.get().isAlive()) {
                h.get().destroyForcibly();
                // gone before this returns (a start right after found the PID alive or its ports bound)
                try {
                    h.get().onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
                    log.printf("cluster: %s (PID %d) did not stop on SIGTERM, killed%n", m.role(), m.pid());
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    log.printf("cluster: %s (PID %d) is still alive 10 s after SIGKILL%n", m.role(), m.pid());
                    allStopped = false;
                }
            } else {
                log.printf("cluster: stopped %s (PID %d)%n", m.role(), m.pid());
            }
        }
        return allStopped;
    }

    /**
     * The resource ids of the TaskManagers the REST API lists ({@code GET /taskmanagers}); null if it does not answer
     * (within 3 s, or not with 200).
     */
    static java.util.Set<String> taskManagerIds(String rest) {
        java.util.Set<String> ids = new java.util.HashSet<>();
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(rest
                    + "/taskmanagers")).timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                return null;
            }
            for (com.fasterxml.jackson.databind.JsonNode tm : new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(r.body()).path("taskmanagers")) {
                ids.add(tm.path("id").asText());
            }
        } catch (IOException e) {
            return null; // not answering
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        return ids;
    }

    static boolean alive(long pid) {
        return pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /**
     * True if the process's command line names a Flink entry class, or cannot be read. Read from
     * {@code /proc/PID/cmdline}: {@code ProcessHandle.Info#commandLine} truncates long command lines (a classpath).
     */
    static boolean runsFlink(long pid) {
        try {
            String cmd = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                    StandardCharsets.UTF_8);
            return cmd.contains(JM_CLASS) || cmd.contains(TM_CLASS);
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }

    /**
     * True if the process's command line gives {@code --configDir} the directory {@code configDir} (the same file: a
     * relative one read against the process's working directory), or gives none, or cannot be read.
     */
    static boolean runsWith(long pid, Path configDir) {
        try {
            String given = configDirArgument(pid);
            if (given == null) {
                return true;
            }
            if (!Files.exists(configDir)) {
                return Path.of(given).toAbsolutePath().normalize().equals(configDir.toAbsolutePath().normalize());
            }
            return Files.isSameFile(Path.of("/proc", Long.toString(pid), "cwd").resolve(given), configDir);
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }

    /** The {@code --configDir} of the process's command line, "?" where it cannot be read. */
    static String configDirOf(long pid) {
        try {
            String given = configDirArgument(pid);
            if (given != null) {
                return given;
            }
        } catch (IOException | RuntimeException e) {
            // (below)
        }
        return "?";
    }

    /** The argument after {@code --configDir} in the process's command line ({@code /proc/PID/cmdline}); null: none. */
    private static String configDirArgument(long pid) throws IOException {
        String[] args = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                StandardCharsets.UTF_8).split("\0");
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--configDir")) {
                return args[i + 1];
            }
        }
        return null;
    }

    /** The setsid program: on the PATH, else in /usr/bin or /bin; null without one. */
    static Path setsid() {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(java.io.File.pathSeparator)));
        }
        dirs.addAll(List.of("/usr/bin", "/bin"));
        for (String d : dirs) {
            if (d.isEmpty()) {
                continue;
            }
            Path p = Path.of(d, "setsid");
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** How far a member's start time may read from the one recorded (a clock step between the commands). */
    static final long START_TOLERANCE_MILLIS = 10_000;

    static long startMillis(ProcessHandle p) {
        return p.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(-1L);
    }

    private static Member member(Properties p, String role, Path runDir) {
        return new Member(role, Long.parseLong(p.getProperty(role + ".pid", "-1")),
                Long.parseLong(p.getProperty(role + ".start", "-1")), runDir.resolve("conf"));
    }

    /** Whether a process listens on {@code port} of 127.0.0.1 (a bind there fails). */
    public static boolean inUse(int port) {
        try (java.net.ServerSocket socket = new java.net.ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port));
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static void record(Path run, int restPort, Member jm, List<Member> tms) throws IOException {
        Properties p = new Properties();
        p.setProperty("rest.port", Integer.toString(restPort));
        for (Member m : concat(jm, tms)) {
            p.setProperty(m.role() + ".pid", Long.toString(m.pid()));
            p.setProperty(m.role() + ".start", Long.toString(m.startMillis()));
        }
        Path tmp = run.resolve("cluster.properties.tmp");
        try (Writer w = Files.newBufferedWriter(tmp)) {
            p.store(w, "bin/keyshift cluster: the processes it started (PID and start time)");
        }
        Files.move(tmp, run.resolve("cluster.properties"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static List<Member> concat(Member jm, List<Member> tms) {
        List<Member> all = new ArrayList<>();
        all.add(jm);
        all.addAll(tms);
        return all;
    }

    /**
     * Sizes the JobManager's and the TaskManager's memory from the cluster's configuration as Flink's
     * {@code BashJavaUtils} does when each process starts; refuses sizes that parse but do not add up (a process size
     * too small for the fixed parts), naming the process's options, before anything starts.
     *
     * @throws IllegalArgumentException with Flink's reason
     */
    public static void checkMemory(Settings s) {
        Configuration c = Configuration.fromMap(configMap(s, s.runDir()));
        try {
            org.apache.flink.runtime.jobmanager.JobManagerProcessUtils.processSpecFromConfig(c);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the JobManager's memory options (jobmanager.memory.*) do not add up: "
                    + e.getMessage());
        }
        try {
            org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils.processSpecFromConfig(c);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the TaskManager's memory options (taskmanager.memory.*) do not add "
                    + "up: " + e.getMessage());
        }
    }

    /** The base config.yaml plus the cluster's addresses, ports and directories, as flat YAML. */
    static void writeConfig(Settings s, Path run, Path target) throws IOException {
        Map<String, String> m = configMap(s, run);
        StringBuilder b = new StringBuilder("# Written by bin/keyshift cluster start from " + s.confDir().toAbsolutePath()
                + "/config.yaml; edit that file, not this one.\n");
        for (Map.Entry<String, String> e : m.entrySet()) {
            b.append(e.getKey()).append(": '").append(e.getValue().replace("'", "''")).append("'\n");
        }
        Files.writeString(target, b.toString(), StandardCharsets.UTF_8);
    }

    /** The cluster's configuration: the base config.yaml plus its addresses, ports, directories and defaults. */
    private static Map<String, String> configMap(Settings s, Path run) {
        Configuration base = GlobalConfiguration.loadConfiguration(s.confDir().toAbsolutePath().toString());
        Map<String, String> m = new TreeMap<>(base.toMap());
        m.put("jobmanager.rpc.address", "127.0.0.1");
        m.put("jobmanager.rpc.port", Integer.toString(s.rpcPort()));
        m.put("jobmanager.bind-host", "127.0.0.1");
        m.put("taskmanager.host", "127.0.0.1");
        m.put("taskmanager.bind-host", "127.0.0.1");
        m.put("rest.address", "127.0.0.1");
        m.put("rest.bind-address", "127.0.0.1");
        m.put("rest.port", Integer.toString(s.restPort()));
        // a base config.yaml's bind ports took precedence over the cluster's: REST listened on another port than the
        // one start waited for (and killed the cluster as not come up), TaskManagers never reached the JobManager
        m.remove("rest.bind-port");
        m.remove("jobmanager.rpc.bind-port");
        m.put("web.submit.enable", "false");
        m.putIfAbsent("metrics.reporter.prom.host", "127.0.0.1");
        m.put("execution.checkpointing.dir", io.keyshift.jobs.LocalPaths.uri(run.resolve("checkpoints")));
        m.put("execution.checkpointing.savepoint-dir", io.keyshift.jobs.LocalPaths.uri(run.resolve("savepoints")));
        m.putIfAbsent("jobmanager.memory.process.size", "1024m");
        m.putIfAbsent("taskmanager.memory.process.size", "2048m");
        m.putIfAbsent("taskmanager.numberOfTaskSlots", "4");
        m.putAll(s.overrides());
        // Flink's own Prometheus reporter listens on every interface (it has no host option): the same reporter
        // bound to its host, loopback unless the file or a -D says otherwise, under whatever name they give it (a -D
        // naming Flink's factory too: it listened on every interface until 2026-12-07)
        for (String key : new java.util.ArrayList<>(m.keySet())) {
            if (key.startsWith("metrics.reporter.") && key.endsWith(".factory.class")
                    && m.get(key).strip().equals("org.apache.flink.metrics.prometheus.PrometheusReporterFactory")) {
                m.put(key, "io.keyshift.metrics.prometheus.BoundPrometheusReporterFactory");
                m.putIfAbsent(key.substring(0, key.length() - ".factory.class".length()) + ".host", "127.0.0.1");
            }
        }
        return m;
    }

    /**
     * What a start's launches and its cleanup hook share: a launch under its lock checks that the hook has not begun
     * and adds what it started to {@link #launched}; the hook sets {@link #stopping} under it (a process the hook
     * did not see, spawned while it ran, was left running, detached in a session of its own).
     */
    static final class Guard {
        final List<Member> launched = new java.util.concurrent.CopyOnWriteArrayList<>();
        final java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
    }

    /** Starts one Flink process: JVM sizes and memory properties from BashJavaUtils, then the entry class. */
    private static Member startProcess(String classpath, Path run, String name, String mainClass,
                                       String sizesCommand, long deadline, Guard guard)
            throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path conf = run.resolve("conf");
        List<String> sizes = bashJavaUtils(java, classpath, conf, sizesCommand, deadline);
        List<String> cmd = jvm(java, classpath, tokens(sizes.get(0)), run, name);
        // before the log settings, as Flink's scripts put them: Flink's own log file wins
        int logSettings = 0;
        while (!cmd.get(logSettings).startsWith("-Dlog.file=")) {
            logSettings++;
        }
        cmd.addAll(logSettings, javaOptions(conf, JM_CLASS.equals(mainClass)));
        cmd.add(mainClass);
        cmd.addAll(List.of("--configDir", conf.toString()));
        cmd.addAll(tokens(sizes.get(sizes.size() - 1)));
        boolean detached = Files.exists(run.resolve(DETACHED));
        synchronized (guard) {
            if (guard.stopping.get()) {
                throw new IllegalStateException("stopped before the " + name + " started");
            }
            Process p = launch(cmd, run.resolve("log").resolve(name + ".out"), detached);
            Member m = new Member(name, p.pid(), startMillis(p.toHandle()), conf);
            guard.launched.add(m);
            return m;
        }
    }

    /**
     * The JVM options the cluster's config.yaml gives the process, in the order Flink's scripts pass them:
     * {@code env.java.default-opts.all}, {@code env.java.opts.all}, then the role's ({@code
     * env.java.default-opts.jobmanager} and {@code env.java.opts.jobmanager}, or the taskmanager's), each without
     * the double quotes around it and split at blanks as the scripts' shell splits them, after {@code
     * -XX:+IgnoreUnrecognizedVMOptions} as the scripts give it (an -XX flag of another JDK does not stop the JVM).
     * They were written into the cluster's config.yaml and left out. Empty without any.
     */
    static List<String> javaOptions(Path conf, boolean jobManager) {
        org.apache.flink.configuration.Configuration c =
                org.apache.flink.configuration.GlobalConfiguration.loadConfiguration(conf.toString());
        List<String> out = new ArrayList<>();
        for (org.apache.flink.configuration.ConfigOption<String> o : List.of(
                org.apache.flink.configuration.CoreOptions.FLINK_DEFAULT_JVM_OPTIONS,
                org.apache.flink.configuration.CoreOptions.FLINK_JVM_OPTIONS,
                jobManager ? org.apache.flink.configuration.CoreOptions.FLINK_DEFAULT_JM_JVM_OPTIONS
                        : org.apache.flink.configuration.CoreOptions.FLINK_DEFAULT_TM_JVM_OPTIONS,
                jobManager ? org.apache.flink.configuration.CoreOptions.FLINK_JM_JVM_OPTIONS
                        : org.apache.flink.configuration.CoreOptions.FLINK_TM_JVM_OPTIONS)) {
            String v = c.get(o).strip();
            if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                v = v.substring(1, v.length() - 1);
            }
            out.addAll(tokens(v));
        }
        if (!out.isEmpty()) {
            out.add(0, "-XX:+IgnoreUnrecognizedVMOptions");
        }
        return out;
    }

    /** A free TCP port on the loopback interface (0 if none could be found). */
    public static int freeLoopbackPort() {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * {@code n} distinct free TCP ports on the loopback interface, each held open until all are taken (two calls of
     * {@link #freeLoopbackPort} can return the same port: a JobManager given it for REST and RPC fails to bind the
     * second); zeros if none could be found.
     */
    public static int[] freeLoopbackPorts(int n) {
        List<java.net.ServerSocket> held = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                held.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            return new int[n];
        } finally {
            for (java.net.ServerSocket socket : held) {
                try {
                    socket.close();
                } catch (IOException e) {
                    // closing a listening socket we opened: nothing to lose
                }
            }
        }
    }

    private static List<String> jvm(String java, String classpath, List<String> memory, Path run, String name) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(memory);
        cmd.addAll(JVM_MODULE_OPTIONS);
        cmd.add("-Dlog.file=" + run.resolve("log").resolve(name + ".log"));
        cmd.add("-Dlog4j.configurationFile=" + run.resolve("conf").resolve("log4j.properties").toUri());
        cmd.add("-cp");
        cmd.add(classpath);
        return cmd;
    }

    private static List<String> tokens(String line) {
        List<String> out = new ArrayList<>();
        for (String t : line.trim().split("\\s+")) {
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }

    /**
     * Flink's BashJavaUtils result lines: the first holds the JVM's memory arguments, the last the memory sizes as
     * dynamic properties ({@code -D key=value}) for the entrypoint.
     */
    static List<String> bashJavaUtils(String java, String cp, Path conf, String command, long deadline)
            throws IOException, InterruptedException {
        Path captured = Files.createTempFile("keyshift-bash-java-utils", ".out");
        String output;
        int exit;
        Process p = null;
        try {
            p = new ProcessBuilder(java, "-cp", cp, BASH_UTILS, command, "--configDir", conf.toString())
                    .redirectErrorStream(true).redirectOutput(captured.toFile()).start();
            // within the start's deadline, and never longer than BASH_UTILS_TIMEOUT (a JVM that does not end: cluster
            // start hung without a word)
            long waitMillis = Math.max(1, Math.min(BASH_UTILS_TIMEOUT.toMillis(),
                    (deadline - System.nanoTime()) / 1_000_000));
            if (!p.waitFor(waitMillis, TimeUnit.MILLISECONDS)) {
                throw new IOException("Flink's " + BASH_UTILS + " " + command + " did not finish within "
                        + org.apache.flink.util.TimeUtils.formatWithHighestUnit(Duration.ofMillis(waitMillis))
                        + " (the command's --timeout, at most " + BASH_UTILS_TIMEOUT.toSeconds() + " s)");
            }
            exit = p.exitValue();
            output = Files.readString(captured, StandardCharsets.UTF_8);
        } finally {
            // (also where the wait was interrupted)
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
            }
            Files.deleteIfExists(captured);
        }
        List<String> results = new ArrayList<>();
        for (String line : output.split("\n")) {
            if (line.startsWith(RESULT_PREFIX)) {
                results.add(line.substring(RESULT_PREFIX.length()));
            }
        }
        if (exit != 0 || results.size() < 2) {
            throw new IOException("BashJavaUtils " + command + " failed (exit " + exit + "):\n" + output);
        }
        return results;
    }

    /**
     * Moves the log files of an earlier start of this run directory ({@code log/*.log*}, {@code log/*.out}) into
     * {@code log/previous/} (replacing the start before it): a new start's files hold only its own session (they were
     * appended to, and "see RUN/log" after a failed start began with an earlier session's errors).
     */
    static void setAsidePreviousLogs(Path logDir) throws IOException {
        List<Path> earlier;
        try (var files = Files.list(logDir)) {
            earlier = files.filter(Files::isRegularFile).filter(f -> {
                String n = f.getFileName().toString();
                return n.endsWith(".out") || n.contains(".log");
            }).toList();
        }
        if (earlier.isEmpty()) {
            return;
        }
        Path previous = logDir.resolve("previous");
        io.keyshift.jobs.replay.ReplayRunner.deleteRecursively(previous);
        Files.createDirectories(previous);
        for (Path f : earlier) {
            Files.move(f, previous.resolve(f.getFileName()));
        }
    }

    /**
     * Starts {@code cmd}; {@code detached}: in a session of its own (setsid, as Flink's daemon script detaches its
     * processes with nohup and a background job): in neither the process group nor the session of the command that
     * starts it, so a Ctrl-C or hang-up meant for that command or for a script that runs it (cluster start, then
     * submit, then autoscale) does not reach it; {@code cluster stop} does. setsid execs the command in its own
     * process (no fork: a child of this JVM leads no process group), so its PID is the process's. Where the system
     * has no setsid (on the PATH, /usr/bin or /bin) the process stays in the caller's group, as Flink's scripts'
     * would without nohup.
     */
    static Process launch(List<String> cmd, Path out, boolean detached) throws IOException {
        List<String> full = new ArrayList<>(cmd.size() + 1);
        Path setsid = detached ? setsid() : null;
        if (setsid != null) {
            full.add(setsid.toString());
        }
        full.addAll(cmd);
        return new ProcessBuilder(full)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
    }
}
