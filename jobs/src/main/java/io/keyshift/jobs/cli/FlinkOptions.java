package io.keyshift.jobs.cli;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.TimeUtils;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** The configuration options every command takes (picocli mixin): {@code --config DIR} and {@code -Dkey=value}. */
public final class FlinkOptions {
    @Option(names = "--config", paramLabel = "DIR",
            description = "Directory with Flink's config.yaml. Default: flink-conf/ of the keyshift installation.")
    Path config;

    @Option(names = "-D", paramLabel = "key=value", mapFallbackValue = "",
            description = "Set any keyshift.* or Flink option, overriding config.yaml (e.g. -Dkeyshift.plan.alpha=0.2).")
    Map<String, String> dynamic = new LinkedHashMap<>();

    /**
     * Refuses {@code -Dparallelism.default} for a command whose {@code --parallelism} sets every run's parallelism
     * (its value was ignored without a word).
     */
    void refuseParallelismDefault(CommandLine cl) {
        refuseParallelismDefault(cl, dynamic);
    }

    /** As {@link #refuseParallelismDefault(CommandLine)}, for a command's own {@code -D} options. */
    static void refuseParallelismDefault(CommandLine cl, Map<String, String> dynamic) {
        String key = org.apache.flink.configuration.CoreOptions.DEFAULT_PARALLELISM.key();
        if (dynamic.containsKey(key)) {
            throw new ParameterException(cl, "-D" + key + ": this command takes the parallelism from --parallelism");
        }
    }

    /**
     * config.yaml plus overrides, for a command with no window of its own (the options that depend on the window are
     * checked only against a keyshift.window config.yaml or -D sets: {@link FlinkConfig#loadWithoutWindow});
     * ParameterException (exit 2) names a bad keyshift option.
     */
    Configuration load(CommandLine cl) {
        return load(cl, dynamic, false);
    }

    /**
     * As {@link #load(CommandLine)} for a command whose {@code --window} sets {@code keyshift.window}: the options
     * that depend on the window (seasons, models, the calendar, the state horizon) are checked against
     * {@code window}, before any job runs. {@code -Dkeyshift.window} is refused (the command's --window sets it).
     */
    Configuration load(CommandLine cl, Duration window) {
        return load(cl, window, true);
    }

    /**
     * As {@link #load(CommandLine, Duration)}; without {@code windowGiven} (a command that reads the window from
     * what it inspects when no --window is given) a config.yaml's other {@code keyshift.window} is not refused.
     */
    Configuration load(CommandLine cl, Duration window, boolean windowGiven) {
        if (dynamic.containsKey(io.keyshift.config.JobOptions.WINDOW.key())) {
            throw new ParameterException(cl, "-D" + io.keyshift.config.JobOptions.WINDOW.key() + ": this command "
                    + "takes the planning window from --window");
        }
        // config.yaml's window, compared before anything is checked (checked with config.yaml's window or the
        // default, options that depend on the window were refused for a window the user did not give)
        String other = null;
        if (windowGiven) {
            try {
                other = FlinkConfig.otherWindow(FlinkConfig.readConfigYaml(config != null ? config
                        : FlinkConfig.defaultConfDir()), window);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, "config.yaml: " + e.getMessage());
            }
        }
        if (other != null) {
            throw new ParameterException(cl, other);
        }
        Map<String, String> withWindow = new LinkedHashMap<>(dynamic);
        withWindow.put(io.keyshift.config.JobOptions.WINDOW.key(), window.toMillis() + " ms");
        Configuration conf = load(cl, withWindow, true);
        conf.set(io.keyshift.config.JobOptions.WINDOW, window);
        return conf;
    }

    /** The -D keys warned of as near misses of Flink's (each once per command). */
    private final java.util.Set<String> warnedKeys = new java.util.HashSet<>();

    private Configuration load(CommandLine cl, Map<String, String> overrides, boolean windowApplies) {
        if (config != null && !java.nio.file.Files.isRegularFile(config.resolve("config.yaml"))) {
            // a mistyped directory must not silently run without the user's configuration
            throw new ParameterException(cl, "--config: no config.yaml in " + config.toAbsolutePath());
        }
        Configuration conf;
        try {
            conf = FlinkConfig.load(config != null ? config : FlinkConfig.defaultConfDir(), overrides,
                    windowApplies);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "-D / config.yaml: " + e.getMessage());
        }
        for (String key : overrides.keySet()) {
            String meant = FlinkConfig.nearMissOfFlinkKey(key);
            // once per key: a command loads its configuration more than once (to check the window, then with it)
            if (meant != null && warnedKeys.add(key)) {
                // Flink ignores a key it does not know; a warning, not a refusal: connectors and plugins have keys
                // of their own
                cl.getErr().println("keyshift " + cl.getCommandName() + ": warning: -D" + key + " is not a Flink "
                        + "option; did you mean " + meant + "? (Flink ignores keys it does not know)");
                cl.getErr().flush();
            }
        }
        return conf;
    }

    /**
     * True if {@code value} is a URI with a scheme ({@code file:/...}, {@code s3://...}, {@code hdfs:///...}); a
     * local path with a colon in a name ({@code backup-2024-05-01T10:00}) is not.
     */
    public static boolean isUri(String value) {
        return value.matches("[A-Za-z][A-Za-z0-9+.-]*:/.*");
    }

    /**
     * A location for a cluster: a URI as given, a local path (relative to this command's working directory) as the
     * {@code file://} URI of its absolute path, unescaped as Flink prints a location and reads one (the JobManager
     * would resolve a relative path in its own working directory).
     */
    public static String forCluster(String location) {
        return location == null || isUri(location) ? location
                : io.keyshift.jobs.LocalPaths.uri(java.nio.file.Path.of(location));
    }

    /**
     * {@code location} given as {@code option} for the cluster a command addresses: for a cluster on this machine
     * ({@code local}, the one {@code cluster start} runs) as {@link #forCluster(String)}; for another ({@code --rest}),
     * whose file system this command does not share, a URI or an absolute path as given (Flink resolves a path
     * without a scheme with the cluster's fs.default-scheme), a relative path refused naming the option.
     */
    public static String forCluster(CommandLine cl, String option, String location, boolean local) {
        if (location == null || isUri(location) || local) {
            return forCluster(location);
        }
        if (!java.nio.file.Path.of(location).isAbsolute()) {
            throw new ParameterException(cl, option + ": " + location + " is a relative path, which the cluster at "
                    + "--rest would resolve in its JobManager's working directory: give an absolute path or a URI");
        }
        return location;
    }

    /**
     * A stage's uid prefix given as {@code label}, as {@code KeyshiftStream#uidPrefix} takes it: letters, digits, '.',
     * '_' or '-', not starting with one of the last three.
     *
     * @throws ParameterException naming {@code label} otherwise
     */
    public static String uidPrefix(CommandLine cl, String label, String value) {
        if (value == null || !value.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new ParameterException(cl, label + " must be letters, digits, '.', '_' or '-', was '" + value + "'");
        }
        return value;
    }

    /**
     * The savepoint or checkpoint {@code value} given as {@code label}, as the URI Flink's readers take. A local path
     * must exist and hold metadata Flink can begin to read (its reader says only "EOFException: null" on an empty
     * file, and names a path that does not exist as a failed restore); so must a {@code file:} URI's; any other URI is
     * left to Flink.
     *
     * @throws ParameterException naming {@code label}: no such path, a directory without {@code _metadata}, metadata
     *                            shorter than its 4-byte header
     */
    public static String savepoint(CommandLine cl, String label, String value) {
        // a file: URI (as bin/keyshift savepoint and Flink print a location) is a local path too
        java.nio.file.Path local = SubmitCommand.localPath(value);
        if (local == null) {
            return value;
        }
        if (!java.nio.file.Files.exists(local)) {
            throw new ParameterException(cl, label + ": no such savepoint directory or file: " + local.toAbsolutePath());
        }
        java.nio.file.Path metadata = java.nio.file.Files.isDirectory(local) ? local.resolve("_metadata") : local;
        try {
            if (!java.nio.file.Files.isRegularFile(metadata)) {
                throw new ParameterException(cl, label + ": " + value + " is not a Flink savepoint or checkpoint: no "
                        + metadata);
            }
            if (java.nio.file.Files.size(metadata) < Integer.BYTES) {
                throw new ParameterException(cl, label + ": " + value + " is not a Flink savepoint or checkpoint: its "
                        + "metadata " + metadata + " has " + java.nio.file.Files.size(metadata) + " bytes");
            }
        } catch (java.io.IOException e) {
            throw new ParameterException(cl, label + ": cannot read " + metadata + " (" + e.getMessage() + ")");
        }
        return io.keyshift.jobs.LocalPaths.uri(local);
    }

    /**
     * A Flink job id given as {@code label}: 32 hexadecimal digits ({@code bin/keyshift submit} prints it; the
     * cluster's REST API lists them under {@code /jobs}).
     *
     * @throws ParameterException naming {@code label} otherwise (before any request goes to the cluster)
     */
    public static String jobId(CommandLine cl, String label, String value) {
        if (!value.matches("[0-9a-fA-F]{32}")) {
            throw new ParameterException(cl, label + " must be a Flink job id, 32 hexadecimal digits, was '" + value
                    + "'");
        }
        return value;
    }

    /**
     * Converts a path option's value; an empty value is refused (as a path it is the working directory: {@code --out ""}
     * wrote a replay's files there). Register it for {@code Path} on a command line with
     * {@code registerConverter(Path.class, FlinkOptions::path)}.
     *
     * @throws CommandLine.TypeConversionException for an empty or blank value
     */
    public static java.nio.file.Path path(String value) {
        if (value.isBlank()) {
            throw new CommandLine.TypeConversionException("an empty path");
        }
        return java.nio.file.Path.of(value);
    }

    /**
     * Creates the output directory {@code dir} given to {@code option}, or fails with a ParameterException (exit 2)
     * naming it when it is a file or cannot be created or written.
     */
    public static void outputDirectory(CommandLine cl, String option, java.nio.file.Path dir) {
        if (java.nio.file.Files.exists(dir) && !java.nio.file.Files.isDirectory(dir)) {
            throw new ParameterException(cl, option + ": " + dir + " is a file, not a directory");
        }
        // the topmost directory this call creates: removed again if the command ends on a mistake with it empty
        java.nio.file.Path top = null;
        for (java.nio.file.Path p = io.keyshift.jobs.LocalPaths.resolved(dir); p != null && !java.nio.file.Files.exists(p);
                p = p.getParent()) {
            top = p;
        }
        try {
            java.nio.file.Files.createDirectories(dir);
            if (top != null) {
                CREATED.add(top);
            }
        } catch (java.io.IOException | RuntimeException e) {
            // an AccessDeniedException's message is the path alone: say why
            throw new ParameterException(cl, option + ": cannot create " + dir + " (" + (e instanceof
                    java.nio.file.FileSystemException f ? KeyshiftCli.fileSystem(f) : e.getMessage()) + ")");
        }
        if (!java.nio.file.Files.isWritable(dir)) {
            throw new ParameterException(cl, option + ": " + dir + " is not writable");
        }
    }

    /**
     * Output directories created by {@link #outputDirectory} in this command's run (the topmost created of each;
     * {@link #forgetCreated} at the start of every run).
     */
    private static final java.util.List<java.nio.file.Path> CREATED =
            java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    /** Starts a command's run: directories that earlier runs in this JVM created are theirs, never removed. */
    static void forgetCreated() {
        CREATED.clear();
    }

    /**
     * Removes the output directories this command's run created that are still empty (each with its empty subdirectories,
     * never a file): a command that ends on a mistake in its options leaves no empty directory behind.
     */
    public static void removeCreatedIfEmpty() {
        synchronized (CREATED) {
            for (java.nio.file.Path top : CREATED) {
                try (java.util.stream.Stream<java.nio.file.Path> tree = java.nio.file.Files.walk(top)) {
                    java.util.List<java.nio.file.Path> all = tree.sorted(java.util.Comparator.reverseOrder()).toList();
                    if (all.stream().allMatch(x -> java.nio.file.Files.isDirectory(x,
                            java.nio.file.LinkOption.NOFOLLOW_LINKS))) {
                        for (java.nio.file.Path p : all) {
                            java.nio.file.Files.deleteIfExists(p);
                        }
                    }
                } catch (java.io.IOException | java.io.UncheckedIOException | SecurityException ignored) {
                    // left as it is: what the command wrote there, or a directory it cannot read
                }
            }
            CREATED.clear();
        }
    }

    /**
     * Refuses a {@code taskmanager.numberOfTaskSlots} (times the local TaskManagers) below {@code parallelism}, the
     * job's on this command's local cluster: Flink waited minutes for the missing slots, restarted, and failed the
     * command with exit 1 (a stock Flink config.yaml sets 1 slot). Unset, the local cluster gets as many as the job
     * needs.
     */
    static void checkSlots(CommandLine cl, Configuration conf, int parallelism) {
        // keyshift's results path may be set wider than the keyed stage: its subtasks need slots too (slot sharing
        // gives a job as many as its widest vertex); short of them the job waited for slots until Flink's slot
        // request timed out, minutes after the hash run
        int maxP = conf.getOptional(org.apache.flink.configuration.PipelineOptions.MAX_PARALLELISM)
                .orElse(conf.get(io.keyshift.config.JobOptions.DEFAULT_MAX_PARALLELISM));
        int results = Math.min(maxP, io.keyshift.config.JobOptions.resultsPathParallelism(
                conf.get(io.keyshift.config.JobOptions.RESULTS_PATH_PARALLELISM), parallelism));
        if (results > parallelism) {
            checkSlots(cl, conf, results, io.keyshift.config.JobOptions.RESULTS_PATH_PARALLELISM.key()
                    + " (above --parallelism " + parallelism + ")");
        }
        checkSlots(cl, conf, parallelism, "--parallelism");
    }

    /**
     * Whether {@code key} is one of Flink's restore settings ({@code execution.state-recovery.*}, and the older names
     * {@code execution.savepoint.*}, {@code execution.savepoint-restore-mode}) other than local recovery's, which tune
     * a failover and restore nothing ({@code execution.state-recovery.from-local},
     * {@code execution.state-recovery.approximate-local-recovery}).
     */
    static boolean restoreSetting(String key) {
        if (key.equals(org.apache.flink.configuration.StateRecoveryOptions.LOCAL_RECOVERY.key())
                || key.equals(org.apache.flink.configuration.StateRecoveryOptions.APPROXIMATE_LOCAL_RECOVERY.key())) {
            return false;
        }
        return key.startsWith("execution.state-recovery.") || key.startsWith("execution.savepoint.")
                || key.startsWith("execution.savepoint-restore-mode");
    }

    /**
     * The checks of a command that runs its jobs on a local cluster (replay, bench, forecast-bench, bootstrap, soak's
     * reference run), after its configuration is loaded and before anything is read or removed: a savepoint to
     * restore ({@code execution.state-recovery.path}, or Flink's older {@code execution.savepoint.path}), which every
     * job of the command would have restored (its first failed on a bootstrap's state naming an option no command
     * has, or restored state without a word, after {@code --overwrite} had cleared the earlier run; the settings that
     * only shape a restore or a failover's local recovery do nothing without it and pass); Flink's reactive mode
     * where a keyshift stage runs (refused only as the stage was built, after the same); and a web UI port in use
     * ({@link #checkRestPort}).
     *
     * @param keyshiftRuns whether a keyshift stage runs (a replay of {@code --strategies hash} alone runs none)
     * @throws ParameterException naming the key
     */
    static void checkLocalRun(CommandLine cl, Configuration conf, boolean keyshiftRuns) {
        checkNoRestore(cl, conf, keyshiftRuns);
        checkRestPort(cl, conf);
    }

    /**
     * The first two checks of {@link #checkLocalRun}: no savepoint to restore, and no reactive mode where a keyshift
     * stage runs (soak checks its job's configuration so, and the port on its reference run's own).
     */
    static void checkNoRestore(CommandLine cl, Configuration conf, boolean keyshiftRuns) {
        java.util.List<String> pathKeys = new java.util.ArrayList<>(java.util.List.of(
                org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH.key()));
        org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH.fallbackKeys()
                .forEach(k -> pathKeys.add(k.getKey()));
        for (String key : pathKeys) {
            if (conf.containsKey(key)) {
                throw new ParameterException(cl, key + " (-D / config.yaml): " + cl.getCommandName() + " runs its "
                        + "jobs from its input, not from a savepoint (a job on a cluster starts from one with "
                        + "bin/keyshift submit --from-savepoint); remove it");
            }
        }
        if (keyshiftRuns && conf.get(org.apache.flink.configuration.JobManagerOptions.SCHEDULER_MODE)
                == org.apache.flink.configuration.SchedulerExecutionMode.REACTIVE) {
            throw new ParameterException(cl, org.apache.flink.configuration.JobManagerOptions.SCHEDULER_MODE.key()
                    + ": reactive (-D / config.yaml): keyshift's stage does not run under Flink's reactive mode (its "
                    + "profiler, forecaster and planner must run at 1 subtask); remove it");
        }
    }

    /**
     * A web UI port given for the local cluster ({@code rest.bind-port} as one port, or {@code rest.port} without it)
     * that something on 127.0.0.1 already listens on (a cluster of {@code bin/keyshift cluster start} on 8081) is
     * refused naming the key, before anything is read or removed: the local cluster failed to start only after the
     * input was sorted and an earlier run's output removed ({@code --overwrite}), in a line that named no option.
     */
    static void checkRestPort(CommandLine cl, Configuration conf) {
        // (rest.bind-port falls back to rest.port: the key given is named)
        String bind = conf.containsKey(org.apache.flink.configuration.RestOptions.BIND_PORT.key())
                ? conf.getOptional(org.apache.flink.configuration.RestOptions.BIND_PORT).orElse(null) : null;
        String key;
        int port;
        if (bind != null) {
            key = org.apache.flink.configuration.RestOptions.BIND_PORT.key();
            // read as Flink reads it (a port, a range, a list of them), every port in 0..65535
            String notPorts = key + " " + bind.strip() + " (-D / config.yaml) is not a port, a range or a list of "
                    + "ports in 0..65535 (as Flink reads it): give one in 1..65535, or 0 (or leave " + key + " out) "
                    + "for a free one";
            java.util.Iterator<Integer> ports;
            try {
                ports = org.apache.flink.util.NetUtils.getPortRangeFromString(bind);
            } catch (RuntimeException e) {
                throw new ParameterException(cl, notPorts);
            }
            if (!ports.hasNext()) {
                // a descending range: the local cluster found no port to bind
                throw new ParameterException(cl, notPorts);
            }
            int first = ports.next();
            int seen = 1;
            for (int p = first; ; p = ports.next(), seen++) {
                if (p < 0 || p > 65535) {
                    throw new ParameterException(cl, notPorts);
                }
                if (!ports.hasNext() || seen > 65536) {
                    break;
                }
            }
            if (seen > 1) {
                // a range or a list: the local cluster takes a free port of it
                return;
            }
            // one port, however spelled (8081, 8081-8081)
            port = first;
        } else if (conf.getOptional(org.apache.flink.configuration.RestOptions.PORT).isPresent()) {
            key = org.apache.flink.configuration.RestOptions.PORT.key();
            port = conf.get(org.apache.flink.configuration.RestOptions.PORT);
        } else {
            return;
        }
        if (port < 0 || port > 65535) {
            // the local cluster refused it only once the input was sorted
            throw new ParameterException(cl, key + " " + port + " (-D / config.yaml) is not a port: give one in "
                    + "1..65535, or 0 (or leave " + key + " out) for a free one");
        }
        if (port > 0 && io.keyshift.jobs.cluster.StandaloneCluster.inUse(port)) {
            throw new ParameterException(cl, key + " " + port + " (-D / config.yaml): something on 127.0.0.1 already "
                    + "listens on port " + port + " (a cluster of bin/keyshift cluster start?), where the local "
                    + "cluster's web UI would bind; give another port, or leave " + key + " out for a free one");
        }
    }

    /** As {@link #checkSlots(CommandLine, Configuration, int)}, naming what sets the parallelism. */
    static void checkSlots(CommandLine cl, Configuration conf, int parallelism, String what) {
        conf.getOptional(org.apache.flink.configuration.TaskManagerOptions.NUM_TASK_SLOTS).ifPresent(slots -> {
            int taskManagers = conf.get(org.apache.flink.configuration.TaskManagerOptions.MINI_CLUSTER_NUM_TASK_MANAGERS);
            if ((long) slots * taskManagers < parallelism) {
                throw new ParameterException(cl, "taskmanager.numberOfTaskSlots " + slots + (taskManagers > 1 ? " on "
                        + taskManagers + " local TaskManagers" : "") + " is fewer slots than " + what + " "
                        + parallelism + " needs on this command's local cluster: raise it, or leave it unset (the "
                        + "local cluster then gets as many as the job needs)");
            }
        });
    }

    /**
     * Parses a planning window given to {@code option}: a whole number of milliseconds, at least 1 ms (event times
     * are milliseconds); ParameterException (exit 2) otherwise.
     */
    public static Duration window(CommandLine cl, String option, String value) {
        // at most 100 years (duration): its milliseconds fit a long
        Duration d = duration(cl, option, value, false);
        long millis = d.toMillis();
        if (millis < 1 || d.getNano() % 1_000_000 != 0) {
            throw new ParameterException(cl, option + " must be a whole number of milliseconds, at least 1ms (event "
                    + "times are milliseconds), was '" + value + "'");
        }
        return d;
    }

    /** Parses a positive Flink duration given to {@code option}; ParameterException (exit 2) otherwise. */
    public static Duration positive(CommandLine cl, String option, String value) {
        return duration(cl, option, value, false);
    }

    /**
     * Parses a Flink duration given to {@code option}: positive, or zero too if {@code zeroAllowed}, and at most
     * {@link io.keyshift.config.KeyshiftConfig#MAX_DURATION}; ParameterException (exit 2) otherwise.
     */
    public static Duration duration(CommandLine cl, String option, String value, boolean zeroAllowed) {
        Duration d;
        try {
            d = TimeUtils.parseDuration(value);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, option + ": invalid duration '" + value + "' (use e.g. 30s, 5min, 1h, 1d)");
        }
        if (d.isNegative() || (!zeroAllowed && d.isZero())) {
            throw new ParameterException(cl, option + " must be " + (zeroAllowed ? "0 or more" : "positive")
                    + ", was '" + value + "'");
        }
        if (d.compareTo(io.keyshift.config.KeyshiftConfig.MAX_DURATION) > 0) {
            // a deadline of System.nanoTime() plus it overflows, once the command has acted (a cluster started, a
            // job being stopped with a savepoint)
            throw new ParameterException(cl, option + " must be at most "
                    + io.keyshift.config.KeyshiftConfig.MAX_DURATION.toDays() + "d, was '" + value + "'");
        }
        return d;
    }

    /**
     * Refuses a command-line value that holds U+FFFD, the character the JVM decodes an argument's bytes to when they
     * are not in the locale's charset (a key such as {@code Café} under {@code LANG=C}): it would name another key.
     */
    static void requireDecoded(CommandLine cl, String what, String value) {
        if (value != null && value.indexOf('\uFFFD') >= 0) {
            throw new ParameterException(cl, what + " '" + value + "' holds characters the locale could not decode ("
                    + System.getProperty("sun.jnu.encoding") + "): run with a UTF-8 locale, e.g. LC_ALL=C.UTF-8");
        }
    }
}
