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
 * {@code savepoints/} and {@code cluster.properties} with the PIDs and the REST port. Every endpoint is bound to
 * 127.0.0.1 except Flink's Prometheus reporter, which has no bind-host option. {@link #stop} stops the two processes
 * by PID (SIGTERM, then SIGKILL after the timeout).
 */
public final class StandaloneCluster {
    static final String JM_CLASS = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    static final String TM_CLASS = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
    static final String BASH_UTILS = "org.apache.flink.runtime.util.bash.BashJavaUtils";
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
     */
    public record Settings(Path confDir, Path runDir, String classpath, int restPort, int rpcPort,
                           Map<String, String> overrides) {
        /** Without overrides. */
        public Settings(Path confDir, Path runDir, String classpath, int restPort, int rpcPort) {
            this(confDir, runDir, classpath, restPort, rpcPort, Map.of());
        }
    }

    /** What {@link #status} finds. */
    public record Status(boolean up, String restAddress, long jobManagerPid, long taskManagerPid, String overview) {}

    private StandaloneCluster() {}

    /** Starts the cluster and waits (up to {@code timeout}) until its REST API reports one TaskManager. */
    public static Status start(Settings s, Duration timeout, PrintStream log) throws IOException, InterruptedException {
        Path run = s.runDir().toAbsolutePath();
        Status existing = status(run);
        if (existing.jobManagerPid() > 0 && alive(existing.jobManagerPid())) {
            throw new IllegalStateException("a cluster of " + run + " is already running (JobManager PID "
                    + existing.jobManagerPid() + "); stop it first");
        }
        Path conf = run.resolve("conf");
        Files.createDirectories(conf);
        Files.createDirectories(run.resolve("log"));
        writeConfig(s, run, conf.resolve("config.yaml"));
        Path log4j = s.confDir().resolve("log4j-cluster.properties");
        if (Files.isRegularFile(log4j)) {
            Files.copy(log4j, conf.resolve("log4j.properties"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();

        long jmPid = startProcess(java, s.classpath(), conf, run, "jobmanager", JM_CLASS, "GET_JM_RESOURCE_PARAMS");
        long tmPid = startProcess(java, s.classpath(), conf, run, "taskmanager", TM_CLASS, "GET_TM_RESOURCE_PARAMS");

        Properties p = new Properties();
        p.setProperty("rest.port", Integer.toString(s.restPort()));
        p.setProperty("jobmanager.pid", Long.toString(jmPid));
        p.setProperty("taskmanager.pid", Long.toString(tmPid));
        try (Writer w = Files.newBufferedWriter(run.resolve("cluster.properties"))) {
            p.store(w, "bin/keyshift cluster start");
        }
        log.printf("cluster: JobManager PID %d, TaskManager PID %d, logs in %s%n", jmPid, tmPid, run.resolve("log"));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Status st = status(run);
            if (st.up()) {
                return st;
            }
            if (!alive(jmPid) || !alive(tmPid)) {
                stop(run, Duration.ofSeconds(10), log);
                throw new IllegalStateException("the cluster did not start: see " + run.resolve("log"));
            }
            Thread.sleep(500);
        }
        stop(run, Duration.ofSeconds(10), log);
        throw new IllegalStateException("the cluster did not come up within " + timeout + ": see " + run.resolve("log"));
    }

    /** The cluster of {@code runDir}: up when its REST API answers with at least one TaskManager. */
    public static Status status(Path runDir) {
        Path props = runDir.resolve("cluster.properties");
        if (!Files.isRegularFile(props)) {
            return new Status(false, null, -1, -1, null);
        }
        Properties p = new Properties();
        try (var r = Files.newBufferedReader(props)) {
            p.load(r);
        } catch (IOException e) {
            return new Status(false, null, -1, -1, null);
        }
        String rest = "http://127.0.0.1:" + p.getProperty("rest.port");
        long jm = Long.parseLong(p.getProperty("jobmanager.pid", "-1"));
        long tm = Long.parseLong(p.getProperty("taskmanager.pid", "-1"));
        String overview = null;
        boolean up = false;
        if (alive(jm) && alive(tm)) {
            try {
                HttpResponse<String> r = HttpClient.newHttpClient().send(
                        HttpRequest.newBuilder(URI.create(rest + "/overview")).timeout(Duration.ofSeconds(3)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    overview = r.body();
                    up = !overview.contains("\"taskmanagers\":0");
                }
            } catch (IOException e) {
                // not (yet) answering
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return new Status(up, rest, jm, tm, overview);
    }

    /** Stops the cluster's processes by PID: SIGTERM, then SIGKILL after {@code timeout}. */
    public static void stop(Path runDir, Duration timeout, PrintStream log) throws InterruptedException {
        Status st = status(runDir);
        for (long pid : new long[] {st.taskManagerPid(), st.jobManagerPid()}) {
            Optional<ProcessHandle> h = pid > 0 ? ProcessHandle.of(pid) : Optional.empty();
            if (h.isEmpty() || !h.get().isAlive()) {
                continue;
            }
            h.get().destroy();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (h.get().isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            if (h.get().isAlive()) {
                h.get().destroyForcibly();
                log.printf("cluster: PID %d did not stop on SIGTERM, killed%n", pid);
            } else {
                log.printf("cluster: stopped PID %d%n", pid);
            }
        }
    }

    static boolean alive(long pid) {
        return pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** The base config.yaml plus the cluster's addresses, ports and directories, as flat YAML. */
    static void writeConfig(Settings s, Path run, Path target) throws IOException {
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
        m.put("execution.checkpointing.dir", run.resolve("checkpoints").toUri().toString());
        m.put("execution.checkpointing.savepoint-dir", run.resolve("savepoints").toUri().toString());
        m.putIfAbsent("jobmanager.memory.process.size", "1024m");
        m.putIfAbsent("taskmanager.memory.process.size", "2048m");
        m.putIfAbsent("taskmanager.numberOfTaskSlots", "4");
        m.putAll(s.overrides());
        StringBuilder b = new StringBuilder("# Written by bin/keyshift cluster start from " + s.confDir().toAbsolutePath()
                + "/config.yaml; edit that file, not this one.\n");
        for (Map.Entry<String, String> e : m.entrySet()) {
            b.append(e.getKey()).append(": '").append(e.getValue().replace("'", "''")).append("'\n");
        }
        Files.writeString(target, b.toString(), StandardCharsets.UTF_8);
    }

    /** Starts one Flink process: JVM sizes and memory properties from BashJavaUtils, then the entry class. */
    private static long startProcess(String java, String classpath, Path conf, Path run, String name, String mainClass,
                                     String sizesCommand) throws IOException, InterruptedException {
        List<String> sizes = bashJavaUtils(java, classpath, conf, sizesCommand);
        List<String> cmd = jvm(java, classpath, tokens(sizes.get(0)), run, name);
        cmd.add(mainClass);
        cmd.addAll(List.of("--configDir", conf.toString()));
        cmd.addAll(tokens(sizes.get(sizes.size() - 1)));
        return launch(cmd, run.resolve("log").resolve(name + ".out"));
    }

    /** A free TCP port on the loopback interface (0 if none could be found). */
    public static int freeLoopbackPort() {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            return 0;
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
    private static List<String> bashJavaUtils(String java, String cp, Path conf, String command)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(java, "-cp", cp, BASH_UTILS, command, "--configDir", conf.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit = p.waitFor();
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

    private static long launch(List<String> cmd, Path out) throws IOException {
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        return p.pid();
    }
}
