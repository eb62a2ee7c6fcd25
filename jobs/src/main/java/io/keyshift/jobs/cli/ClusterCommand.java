package io.keyshift.jobs.cli;

import io.keyshift.jobs.cluster.StandaloneCluster;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code keyshift cluster start|stop|status|add-taskmanager|kill-taskmanager}: a standalone Flink session cluster. */
@Command(name = "cluster",
        header = "Starts, stops or shows a local Flink standalone session cluster.",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Starts, stops or shows a real Flink standalone session cluster on this machine: a JobManager",
            "and a TaskManager in their own JVMs, from the Maven artifacts, bound to 127.0.0.1, configured by",
            "flink-conf/config.yaml. 'status' prints the REST address, whether the cluster is up and every process",
            "it started. 'add-taskmanager' starts one more TaskManager (a replacement after a crash);",
            "'kill-taskmanager [N]' kills TaskManager N (default: the newest live one) with SIGKILL, for fault tests.",
            "'stop' stops only the processes it started (PID and start time must match).",
            "Exit status: 0 done (status: up), 1 failed (status: down), 2 bad options."})
public final class ClusterCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ACTION", description = "start, stop, status, add-taskmanager or kill-taskmanager.")
    String action;

    @Parameters(index = "1", arity = "0..1", paramLabel = "N", description = "kill-taskmanager: which TaskManager "
            + "(1 = the first started). Default: the newest live one.")
    Integer which;

    @Option(names = "--dir", paramLabel = "DIR", description = "Run directory (config, logs, PIDs, checkpoints, "
            + "savepoints). Default: .keyshift-cluster under the keyshift installation.")
    Path dir;

    @Option(names = "--config", paramLabel = "DIR", description = "Directory with config.yaml. Default: flink-conf/.")
    Path config;

    @Option(names = "--rest-port", defaultValue = "8081", paramLabel = "PORT", description = "REST / web UI port. Default: ${DEFAULT-VALUE}.")
    int restPort;

    @Option(names = "--rpc-port", defaultValue = "6123", paramLabel = "PORT", description = "JobManager RPC port. Default: ${DEFAULT-VALUE}.")
    int rpcPort;

    @Option(names = "-D", paramLabel = "key=value", mapFallbackValue = "",
            description = "start: a Flink option over config.yaml's, e.g. -D jobmanager.scheduler=adaptive "
                    + "(needed by bin/keyshift autoscale) or -D taskmanager.numberOfTaskSlots=8.")
    java.util.Map<String, String> overrides = new java.util.LinkedHashMap<>();

    @Option(names = "--timeout", defaultValue = "90s", paramLabel = "DURATION", description = "How long start waits for the cluster, and add-taskmanager for the new "
            + "TaskManager to register. Default: ${DEFAULT-VALUE}.")
    String timeout;

    static Path home() {
        return FlinkConfig.home();
    }

    /**
     * The job jar of this command: the copy bin/keyshift launched it with ({@code -Dkeyshift.job-jar}: a build that
     * another command runs meanwhile rewrites jobs/target/keyshift-jobs.jar in place, and a submit or soak read its
     * classes, or uploaded it, half written or of another build), else jobs/target/keyshift-jobs.jar.
     */
    static Path jobJar() {
        return launched("keyshift.job-jar", "jobs/target/keyshift-jobs.jar");
    }

    /** The cluster class path file of this command: bin/keyshift's copy, as {@link #jobJar()}. */
    static Path clusterClasspathFile() {
        return launched("keyshift.cluster-classpath", "jobs/target/cluster-classpath.txt");
    }

    private static Path launched(String property, String inHome) {
        String copy = System.getProperty(property);
        if (copy != null && Files.isRegularFile(Path.of(copy))) {
            return Path.of(copy);
        }
        return home().resolve(inHome);
    }

    static Path defaultRunDir() {
        return home().resolve(".keyshift-cluster");
    }

    /**
     * Why {@code -D} overrides of the cluster's addresses would keep it from coming up, or null. The start polls
     * REST on 127.0.0.1 and the TaskManagers reach the JobManager (and it them) at 127.0.0.1 unless told otherwise:
     * a bind option ({@code rest.bind-address}, {@code jobmanager.bind-host}, {@code taskmanager.bind-host}) must be
     * IPv4 loopback (127.0.0.1, localhost) or every interface (0.0.0.0, ::), and an address another process
     * connects to ({@code jobmanager.rpc.address}, {@code taskmanager.host}) other than IPv4 loopback needs its bind
     * option every interface. A healthy cluster bound elsewhere (or on ::1 alone) was waited for its whole --timeout
     * and stopped as "did not come up". Host names other than localhost are not looked up: refused for a bind option.
     */
    static String addressProblem(Map<String, String> overrides) {
        for (String bind : List.of("rest.bind-address", "jobmanager.bind-host", "taskmanager.bind-host")) {
            String v = overrides.get(bind);
            if (v != null && !loopbackV4(v) && !everyInterface(v)) {
                return "-D" + bind + "=" + v + ": cluster start reaches its processes on 127.0.0.1; bind them to "
                        + "127.0.0.1, or to 0.0.0.0 (every interface) to serve other machines too";
            }
        }
        for (String[] pair : new String[][] {{"jobmanager.rpc.address", "jobmanager.bind-host"},
            {"taskmanager.host", "taskmanager.bind-host"}}) {
            String v = overrides.get(pair[0]);
            String bound = overrides.getOrDefault(pair[1], "127.0.0.1");
            if (v != null && !loopbackV4(v) && !everyInterface(bound)) {
                return "-D" + pair[0] + "=" + v + ": the process is bound to " + bound + " (" + pair[1] + "), where "
                        + "the address is not: give -D" + pair[1] + "=0.0.0.0 too";
            }
        }
        return null;
    }

    /** Whether {@code v} is localhost or an IPv4 loopback literal (127.x.y.z). */
    private static boolean loopbackV4(String v) {
        String a = v.strip();
        if (a.equalsIgnoreCase("localhost")) {
            return true;
        }
        java.net.InetAddress ip = literal(a);
        return ip instanceof java.net.Inet4Address && ip.isLoopbackAddress();
    }

    /** Whether {@code v} is the wildcard address literal (0.0.0.0, ::, [::], 0:0:0:0:0:0:0:0). */
    private static boolean everyInterface(String v) {
        java.net.InetAddress ip = literal(v.strip());
        return ip != null && ip.isAnyLocalAddress();
    }

    /** The IP address of a literal (IPv4 dotted, IPv6 with or without brackets), or null for anything else. */
    private static java.net.InetAddress literal(String a) {
        String s = a.startsWith("[") && a.endsWith("]") ? a.substring(1, a.length() - 1) : a;
        // a literal only (no name lookup): digits and dots, or hexadecimal digits and colons
        if (s.isEmpty() || !(s.matches("[0-9.]+") || s.contains(":") && s.matches("[0-9A-Fa-f:.]+"))) {
            return null;
        }
        try {
            return java.net.InetAddress.getByName(s);
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }

    /** The reporters that listen on a port (Prometheus' pull reporters; its push gateway reporter pushes). */
    private static final List<String> LISTENING_REPORTERS = List.of(
            "org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
            io.keyshift.metrics.prometheus.BoundPrometheusReporterFactory.class.getName());

    /**
     * Refuses --rest-port or --rpc-port inside a metric reporter's port range ({@code metrics.reporter.NAME.port}, a
     * port or a range a-b): the JobManager's reporter may take it first, and the JobManager then fails to start.
     *
     * @throws IllegalArgumentException naming the option and the reporter's key
     */
    private void reporterPortClash(org.apache.flink.configuration.Configuration conf) {
        java.util.regex.Pattern key = java.util.regex.Pattern.compile("metrics\\.reporter\\.[^.]+\\.port");
        java.util.regex.Pattern factory = java.util.regex.Pattern.compile(
                "(metrics\\.reporter\\.[^.]+)\\.factory\\.class");
        java.util.Map<String, String> ports = new java.util.TreeMap<>();
        for (String k : conf.keySet()) {
            if (key.matcher(k).matches()) {
                ports.put(k, conf.getString(k, ""));
            }
            java.util.regex.Matcher f = factory.matcher(k);
            // a Prometheus reporter without a port binds its default (Flink's and keyshift's: 9249)
            if (f.matches() && LISTENING_REPORTERS.contains(conf.getString(k, "").strip())
                    && !conf.containsKey(f.group(1) + ".port")) {
                ports.put(f.group(1) + ".port (default)",
                        io.keyshift.metrics.prometheus.BoundPrometheusReporterFactory.DEFAULT_PORT);
            }
        }
        for (java.util.Map.Entry<String, String> port : ports.entrySet()) {
            String k = port.getKey();
            String v = port.getValue();
            for (String part : v.split(",")) {
                String[] ends = part.strip().split("-", 2);
                int lo;
                int hi;
                try {
                    lo = Integer.parseInt(ends[0].strip());
                    hi = ends.length > 1 ? Integer.parseInt(ends[1].strip()) : lo;
                } catch (NumberFormatException e) {
                    continue;
                }
                for (int[] p : new int[][] {{restPort, 0}, {rpcPort, 1}}) {
                    if (lo <= p[0] && p[0] <= hi) {
                        throw new IllegalArgumentException((p[1] == 0 ? "--rest-port " : "--rpc-port ") + p[0]
                                + " is in the metric reporter's ports (" + k + ": " + v + "), which the JobManager's "
                                + "reporter may take first: choose another port");
                    }
                }
            }
        }
    }

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        Path run = (dir != null ? dir : defaultRunDir()).toAbsolutePath();
        if (!List.of("start", "stop", "status", "add-taskmanager", "kill-taskmanager").contains(action)) {
            // first: a mistyped action ("strat --timeout 5s") was told its options were another action's
            throw new ParameterException(cl, "unknown action '" + action
                    + "' (start, stop, status, add-taskmanager or kill-taskmanager)");
        }
        if (which != null && !action.equals("kill-taskmanager")) {
            throw new ParameterException(cl, "N (" + which + ") is kill-taskmanager's only: '" + action + "' takes no "
                    + "argument");
        }
        if (!action.equals("start")) {
            // the cluster's configuration, ports and sizes are start's: a TaskManager added later takes the cluster's
            // own (an add-taskmanager -D taskmanager.numberOfTaskSlots=8 started one with the usual slots, exit 0)
            for (String startOnly : List.of("-D", "--config", "--rest-port", "--rpc-port")) {
                if (cl.getParseResult().hasMatchedOption(startOnly)) {
                    throw new ParameterException(cl, startOnly + " is start's only: '" + action + "' uses the "
                            + "configuration and ports the cluster in --dir was started with");
                }
            }
            if (!action.equals("add-taskmanager") && cl.getParseResult().hasMatchedOption("--timeout")) {
                throw new ParameterException(cl, "--timeout is start's and add-taskmanager's only");
            }
        }
        if (which != null && which < 1) {
            throw new ParameterException(cl, "kill-taskmanager N must be >= 1 (1 = the first started), was " + which);
        }
        Path existing = run;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing != null && !Files.isDirectory(existing)) {
            throw new ParameterException(cl, "--dir " + run + ": " + existing + " is a file, not a directory");
        }
        if (!action.equals("status")) {
            // one command at a time per run directory: two add-taskmanager at once both started "taskmanager-2" and
            // each recorded its own, the other left running unrecorded (status reads only)
            ReplayOutput.claim(cl, run, "--dir " + run + " is in use by another keyshift cluster command on this "
                    + "machine: wait for it to end");
        }
        switch (action) {
            case "start" -> {
                Duration t = FlinkOptions.positive(cl, "--timeout", timeout);
                if (restPort < 1 || restPort > 65535) {
                    throw new ParameterException(cl, "--rest-port must be in 1..65535, was " + restPort);
                }
                if (rpcPort < 1 || rpcPort > 65535) {
                    throw new ParameterException(cl, "--rpc-port must be in 1..65535, was " + rpcPort);
                }
                if (restPort == rpcPort) {
                    // both free before the start, and the JobManager failed to bind the second one
                    throw new ParameterException(cl, "--rest-port and --rpc-port must differ, both were " + restPort);
                }
                if (config != null && !Files.isRegularFile(config.resolve("config.yaml"))) {
                    throw new ParameterException(cl, "--config: no config.yaml in " + config.toAbsolutePath());
                }
                for (String own : List.of(org.apache.flink.configuration.RestOptions.PORT.key(),
                        org.apache.flink.configuration.RestOptions.BIND_PORT.key(),
                        org.apache.flink.configuration.JobManagerOptions.PORT.key(),
                        org.apache.flink.configuration.JobManagerOptions.RPC_BIND_PORT.key())) {
                    if (overrides.containsKey(own)) {
                        // the cluster is recorded, polled and stopped at --rest-port and --rpc-port
                        throw new ParameterException(cl, "-D" + own + ": give the cluster's ports with --rest-port "
                                + "and --rpc-port");
                    }
                }
                for (String key : overrides.keySet()) {
                    String meant = FlinkConfig.nearMissOfFlinkKey(key);
                    if (meant != null) {
                        // as every other command warns: Flink ignores a key it does not know, and the cluster came
                        // up without it (-D taskmanager.numberOfTaskSlot=8: 4 slots)
                        cl.getErr().println("keyshift cluster: warning: -D" + key + " is not a Flink option; did you "
                                + "mean " + meant + "? (Flink ignores keys it does not know)");
                        cl.getErr().flush();
                    }
                }
                String address = addressProblem(overrides);
                if (address != null) {
                    throw new ParameterException(cl, address);
                }
                try {
                    org.apache.flink.configuration.Configuration clusterConf = FlinkConfig.loadWithoutWindow(
                            config != null ? config : FlinkConfig.defaultConfDir(), overrides);
                    reporterPortClash(clusterConf);
                    // the cluster runs from keyshift's class path: its jobs' default state backend must be there
                    FlinkConfig.checkLocalStateBackend(clusterConf);
                    if (org.apache.flink.configuration.SecurityOptions.isRestSSLEnabled(clusterConf)) {
                        // start, status, add-taskmanager and submit poll http://127.0.0.1: a TLS REST endpoint was
                        // never seen up, and the start waited its whole timeout before stopping the cluster
                        throw new ParameterException(cl, org.apache.flink.configuration.SecurityOptions
                                .SSL_REST_ENABLED.key() + ": cluster start runs a local cluster whose REST API is "
                                + "plain HTTP on 127.0.0.1; leave REST TLS off (config.yaml or -D)");
                    }
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(cl, e.getMessage());
                }
                Path cpFile = clusterClasspathFile();
                if (!Files.isRegularFile(cpFile)) {
                    throw new ParameterException(cl, cpFile + " is missing: build with mvn package first");
                }
                StandaloneCluster.Settings settings = new StandaloneCluster.Settings(
                        config != null ? config : FlinkConfig.defaultConfDir(), run,
                        Files.readString(cpFile).trim(), restPort, rpcPort, overrides);
                try {
                    // a value that does not parse fails here naming its key, not in Flink's memory sizing with a
                    // stack trace; nor do sizes that parse but do not add up
                    FlinkConfig.loadWithoutWindow(config != null ? config : FlinkConfig.defaultConfDir(),
                            overrides);
                    StandaloneCluster.checkMemory(settings);
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(cl, e.getMessage());
                }
                for (String key : overrides.keySet()) {
                    if (key.startsWith("keyshift.") && !key.startsWith("keyshift.rocksdb.")) {
                        // a job's keyshift options are built into its graph from the client's config.yaml and the
                        // job's own -D (bin/keyshift submit), not read from the cluster's
                        System.err.println("keyshift cluster: warning: -D" + key + " reaches the cluster's config.yaml,"
                                + " which bin/keyshift submit does not build jobs from: give it to the job (submit "
                                + "... -- -D" + key + "=...) or put it in the config.yaml that submit reads (--config)");
                    }
                }
                StandaloneCluster.Status st = StandaloneCluster.start(settings, t, System.err, true);
                KeyshiftCli.result("cluster up: " + st.restAddress());
                System.out.println("cluster up: " + st.restAddress());
                return 0;
            }
            case "stop" -> {
                if (StandaloneCluster.status(run).restAddress() == null) {
                    System.err.println("keyshift: no cluster recorded in " + run + " (no "
                            + run.resolve("cluster.properties") + "): nothing stopped");
                    return 1;
                }
                if (!StandaloneCluster.stop(run, Duration.ofSeconds(20), System.err)) {
                    System.err.println("keyshift: the cluster recorded in " + run + " is not wholly stopped (see "
                            + "above)");
                    return 1;
                }
                KeyshiftCli.result("cluster stopped");
                System.out.println("cluster stopped");
                return 0;
            }
            case "status" -> {
                StandaloneCluster.Status st = StandaloneCluster.status(run);
                if (st.restAddress() == null) {
                    System.out.println("cluster: not started (no " + run.resolve("cluster.properties") + ")");
                    return 1;
                }
                System.out.printf("cluster %s: %s, %s TaskManager(s) registered%n", st.up() ? "up" : "down",
                        st.restAddress(), st.registeredTaskManagers() < 0 ? "no answer," : st.registeredTaskManagers());
                System.out.printf("  %-15s PID %-8d %s%n", "jobmanager", st.jobManagerPid(),
                        st.jobManager().alive() ? "running" : "not running");
                for (StandaloneCluster.Member m : st.taskManagers()) {
                    System.out.printf("  %-15s PID %-8d %s%n", m.role(), m.pid(), m.alive() ? "running" : "not running");
                }
                if (st.overview() != null) {
                    System.out.println(st.overview());
                }
                return st.up() ? 0 : 1;
            }
            case "add-taskmanager" -> {
                Duration t = FlinkOptions.positive(cl, "--timeout", timeout);
                StandaloneCluster.Member m = StandaloneCluster.addTaskManager(run, t, System.err);
                KeyshiftCli.result(String.format("%s registered (PID %d)", m.role(), m.pid()));
                System.out.printf("%s registered (PID %d)%n", m.role(), m.pid());
                return 0;
            }
            case "kill-taskmanager" -> {
                StandaloneCluster.Member m = StandaloneCluster.killTaskManager(run, which != null ? which : 0, System.err);
                KeyshiftCli.result(String.format("%s (PID %d) killed", m.role(), m.pid()));
                System.out.printf("%s (PID %d) killed%n", m.role(), m.pid());
                return 0;
            }
            default -> throw new ParameterException(cl, "unknown action '" + action
                    + "' (start, stop, status, add-taskmanager or kill-taskmanager)");
        }
    }
}
