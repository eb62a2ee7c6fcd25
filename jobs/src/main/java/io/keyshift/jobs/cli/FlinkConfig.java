package io.keyshift.jobs.cli;

import io.keyshift.config.ForecastOptions;
import io.keyshift.config.KeyshiftConfig;
import io.keyshift.jobs.replay.Workload;


import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Builds the Flink configuration of a keyshift command: {@code flink-conf/config.yaml} (from
 * {@code --config DIR}, else {@code $KEYSHIFT_HOME/flink-conf}), then {@code -Dkey=value} overrides, as Flink's own
 * command line does. Every {@code keyshift.*} key must be a known option and its value must parse. The command line
 * splits hot keys by default ({@code keyshift.plan.split-threshold} 1.0; the library's default is 0, opt-in).
 * Unless set, every endpoint of a local cluster binds 127.0.0.1 ({@link #LOOPBACK}).
 */
public final class FlinkConfig {
    /**
     * Addresses a local MiniCluster binds unless config.yaml or -D says otherwise: loopback only (REST, blob server
     * and RPC, the TaskManager's data exchange). The Prometheus reporter's host is keyshift-metrics' own option.
     */
    static final Map<String, String> LOOPBACK = Map.of(
            "rest.bind-address", "127.0.0.1", "rest.address", "127.0.0.1",
            "jobmanager.bind-host", "127.0.0.1", "taskmanager.bind-host", "127.0.0.1", "taskmanager.host", "127.0.0.1");

    private FlinkConfig() {}

    /**
     * Loads config.yaml from {@code confDir} (if it exists) and applies {@code overrides}, for a job on a local
     * MiniCluster in this process (replay, bench, bootstrap, tests): unless config.yaml or an override sets a
     * restart strategy, {@link #LOCAL_RESTART_STRATEGY} (a run that fails says why instead of retrying for ever).
     *
     * @throws IllegalArgumentException naming the key if a keyshift option is unknown or its value does not parse
     */
    public static Configuration load(Path confDir, Map<String, String> overrides) {
        return load(confDir, overrides, true);
    }

    /**
     * As {@link #load(Path, Map)}; without {@code windowApplies} (a command with no window of its own, which runs no
     * local job) as {@link #loadWithoutWindow}, and the state backend's factory is not looked for.
     */
    public static Configuration load(Path confDir, Map<String, String> overrides, boolean windowApplies) {
        Configuration conf = loadForCluster(confDir, overrides, windowApplies);
        if (windowApplies) {
            // a command that runs a local job (a command without a window, pseudonym, runs none)
            checkLocalStateBackend(conf);
        }
        // a type of the user's leaves the strategy to them; without one, fixed-delay with the user's attempts or
        // delay where given (Flink would otherwise take exponential-delay, unlimited, for a job with checkpoints)
        if (!conf.containsKey(org.apache.flink.configuration.RestartStrategyOptions.RESTART_STRATEGY.key())) {
            LOCAL_RESTART_STRATEGY.forEach((k, v) -> {
                if (!conf.containsKey(k)) {
                    conf.setString(k, v);
                }
            });
            // the user's fixed-delay attempts or delay are read only now (validate saw no type)
            checkRestartStrategy(conf);
        }
        return conf;
    }

    /**
     * The state backend's factory on this JVM's class path, for a job on a local MiniCluster or on a cluster that
     * keyshift starts from its own class path (cluster start, the soak): ForSt ({@code forst}) and a factory class of
     * the user's are not shipped with keyshift, and the first job failed with a ClassNotFoundException naming no
     * option, after --overwrite had cleared the earlier output. (Another cluster may have them in its lib/: not
     * checked for jobs submitted to it.)
     *
     * @throws IllegalArgumentException naming state.backend.type
     */
    static void checkLocalStateBackend(Configuration conf) {
        conf.getOptional(org.apache.flink.configuration.StateBackendOptions.STATE_BACKEND).ifPresent(v -> {
            String name = v.trim();
            String factory = name.equalsIgnoreCase("forst") ? "org.apache.flink.state.forst.ForStStateBackendFactory"
                    : name.contains(".") ? name : null;
            if (factory == null) {
                return;
            }
            try {
                Class.forName(factory, false, FlinkConfig.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                throw new IllegalArgumentException("'" + org.apache.flink.configuration.StateBackendOptions
                        .STATE_BACKEND.key() + "' is '" + v + "', but " + factory + " is not on keyshift's class "
                        + "path, which local runs and the clusters keyshift starts run from (hashmap and rocksdb are)");
            }
        });
    }

    /** Builds the restart strategy as the JobMaster does when the job starts; fails naming restart-strategy.*. */
    private static void checkRestartStrategy(Configuration conf) {
        try {
            org.apache.flink.runtime.executiongraph.failover.RestartBackoffTimeStrategyFactoryLoader
                    .createRestartBackoffTimeStrategyFactory(conf, conf, true).create();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("restart-strategy.*: " + e.getMessage(), e);
        }
    }

    /** The restart strategy of a local run unless one is configured: 2 attempts, 1 s apart. */
    public static final Map<String, String> LOCAL_RESTART_STRATEGY = Map.of("restart-strategy.type", "fixed-delay",
            "restart-strategy.fixed-delay.attempts", "2", "restart-strategy.fixed-delay.delay", "1s");

    /**
     * As {@link #load}, for a job submitted to a cluster ({@code submit}, the soak): without a configured restart
     * strategy the job gets Flink's default (exponential-delay when checkpointing is on), so a long-running job
     * outlives the ordinary failures of its life (a lost TaskManager, a broker's roll) instead of failing for good
     * at the third.
     */
    public static Configuration loadForCluster(Path confDir, Map<String, String> overrides) {
        return loadForCluster(confDir, overrides, true);
    }

    /**
     * As {@link #loadForCluster(Path, Map)}, for a command that runs no keyshift job and has no window of its own
     * (cluster start, pseudonym, a client of a cluster's REST API): unless config.yaml or {@code overrides} set
     * {@code keyshift.window}, the options that depend on the window (the forecast model and seasons, the calendar)
     * are not checked, as each job checks them against its own --window (checked against the default hour, a
     * calendar valid for daily windows stopped the cluster from starting).
     */
    public static Configuration loadWithoutWindow(Path confDir, Map<String, String> overrides) {
        return loadForCluster(confDir, overrides, false);
    }

    /** The options {@link io.keyshift.config.KeyshiftConfig#validate} checks against the planning window. */
    static final List<String> WINDOW_DEPENDENT_KEYS = List.of(ForecastOptions.MODEL.key(),
            ForecastOptions.SEASONS.key(), ForecastOptions.CALENDAR.key(), ForecastOptions.CALENDAR_TIME_ZONE.key(),
            ForecastOptions.CALENDAR_LIKE_DAYS.key(), ForecastOptions.CALENDAR_REFERENCE_DAYS.key(),
            ForecastOptions.CALENDAR_OBSERVE.key());

    private static Configuration loadForCluster(Path confDir, Map<String, String> overrides, boolean windowApplies) {
        Configuration conf = readConfigYaml(confDir);
        conf.addAll(Configuration.fromMap(overrides));
        LOOPBACK.forEach((k, v) -> {
            if (!conf.containsKey(k)) {
                conf.setString(k, v);
            }
        });
        if (windowApplies || conf.containsKey(io.keyshift.config.JobOptions.WINDOW.key())) {
            validate(conf);
        } else {
            Configuration checked = new Configuration(conf);
            WINDOW_DEPENDENT_KEYS.forEach(checked::removeKey);
            validate(checked);
        }
        Workload.defaults(conf);
        return conf;
    }

    /**
     * {@code confDir}'s config.yaml as it is (empty without one), not checked: what a command compares its own
     * settings with before it checks them together.
     *
     * @throws IllegalArgumentException naming the file if it cannot be read or is not valid YAML
     */
    public static Configuration readConfigYaml(Path confDir) {
        Configuration conf;
        if (confDir != null && Files.isRegularFile(confDir.resolve("config.yaml"))) {
            try {
                conf = GlobalConfiguration.loadConfiguration(confDir.toString());
            } catch (RuntimeException e) {
                // Flink's YAML parser fails with a RuntimeException whose cause holds the line and column
                Throwable root = e;
                while (root.getCause() != null && root.getCause() != root) {
                    root = root.getCause();
                }
                String why = String.valueOf(root.getMessage()).strip().replaceAll("\\s*\\n\\s*", "; ");
                // a file it could not open (permissions, a vanished mount) is not a YAML mistake
                throw new IllegalArgumentException(confDir.resolve("config.yaml")
                        + (root instanceof java.io.IOException ? " could not be read: " : " is not valid YAML: ")
                        + why, e);
            }
        } else {
            conf = new Configuration();
        }
        return conf;
    }

    /** Flink's option classes whose values {@link #validate} parses. */
    private static final List<Class<?>> FLINK_OPTION_CLASSES = List.of(
            org.apache.flink.configuration.PipelineOptions.class, org.apache.flink.configuration.CoreOptions.class,
            org.apache.flink.configuration.ExecutionOptions.class,
            org.apache.flink.configuration.CheckpointingOptions.class,
            org.apache.flink.configuration.StateBackendOptions.class,
            org.apache.flink.configuration.StateRecoveryOptions.class,
            org.apache.flink.configuration.RestartStrategyOptions.class,
            org.apache.flink.configuration.TaskManagerOptions.class,
            org.apache.flink.configuration.JobManagerOptions.class, org.apache.flink.configuration.RestOptions.class,
            org.apache.flink.configuration.MetricOptions.class, org.apache.flink.configuration.DeploymentOptions.class,
            org.apache.flink.configuration.ClusterOptions.class, org.apache.flink.configuration.WebOptions.class,
            org.apache.flink.configuration.RpcOptions.class,
            // the shipped config.yaml sets RocksDB's; a value RocksDB's backend could not parse failed the first job
            // when it opened its state, after --overwrite had cleared the earlier output
            org.apache.flink.state.rocksdb.RocksDBOptions.class,
            org.apache.flink.state.rocksdb.RocksDBConfigurableOptions.class,
            org.apache.flink.configuration.NettyShuffleEnvironmentOptions.class,
            org.apache.flink.configuration.HeartbeatManagerOptions.class,
            org.apache.flink.configuration.StateChangelogOptions.class);

    /** The keys (and their fallback and deprecated keys) of Flink's options in {@link #FLINK_OPTION_CLASSES}. */
    private static java.util.Set<String> flinkKeys;

    private static synchronized java.util.Set<String> flinkKeys() {
        if (flinkKeys == null) {
            java.util.Set<String> keys = new java.util.HashSet<>();
            for (Class<?> c : FLINK_OPTION_CLASSES) {
                for (java.lang.reflect.Field f : c.getFields()) {
                    if (java.lang.reflect.Modifier.isStatic(f.getModifiers())
                            && ConfigOption.class.isAssignableFrom(f.getType())) {
                        try {
                            ConfigOption<?> o = (ConfigOption<?>) f.get(null);
                            keys.add(o.key());
                            o.fallbackKeys().forEach(k -> keys.add(k.getKey()));
                        } catch (IllegalAccessException e) {
                            // not an option we can read
                        }
                    }
                }
            }
            flinkKeys = keys;
        }
        return flinkKeys;
    }

    /**
     * The key of a Flink option that {@code key} misspells (one or two edits from it, and not a key of Flink's
     * options itself), or null. Flink ignores a key it does not know: {@code -Dexecution.checkpointing.intervall=1s}
     * would change nothing without a word.
     */
    public static String nearMissOfFlinkKey(String key) {
        if (key.startsWith("keyshift.") || flinkKeys().contains(key)) {
            return null;
        }
        String best = null;
        int bestDistance = 3;
        for (String k : flinkKeys()) {
            if (Math.abs(k.length() - key.length()) < bestDistance) {
                int d = KeyshiftConfig.distance(key, k);
                // the nearest; of equally near ones the first in order, so the hint is the same on every run
                if (d < bestDistance || best != null && d == bestDistance && k.compareTo(best) < 0) {
                    best = k;
                    bestDistance = d;
                }
            }
        }
        return best;
    }

    /**
     * For a command or job whose {@code --window} sets the planning window: a message if {@code conf} (config.yaml,
     * the cluster's configuration) sets {@code keyshift.window} to another window, which the command would otherwise
     * replace without a word; null if it sets none or the same.
     *
     * @throws IllegalArgumentException if its value is not a duration
     */
    public static String otherWindow(org.apache.flink.configuration.ReadableConfig conf, java.time.Duration window) {
        java.util.Optional<java.time.Duration> set = conf.getOptional(io.keyshift.config.JobOptions.WINDOW);
        if (set.isEmpty() || set.get().equals(window)) {
            return null;
        }
        return "config.yaml: " + io.keyshift.config.JobOptions.WINDOW.key() + " is "
                + org.apache.flink.util.TimeUtils.formatWithHighestUnit(set.get()) + ", but this command takes the "
                + "planning window from --window (" + org.apache.flink.util.TimeUtils.formatWithHighestUnit(window)
                + "): give --window " + org.apache.flink.util.TimeUtils.formatWithHighestUnit(set.get())
                + ", or remove " + io.keyshift.config.JobOptions.WINDOW.key() + " from config.yaml";
    }

    /**
     * Checks every keyshift.* key of {@code conf}: the library's options (unknown keys, unparsable values and values
     * outside their documented range fail, naming the option) and the command line's own.
     */
    public static void validate(Configuration conf) {
        KeyshiftConfig.validate(conf, Workload.toolOptionKeys());
        // set by the commands' own options, which check them (a file that is there, a directory watched only by a job
        // that runs live); given as -D they went past every check: a replay watched a directory and never ended
        if (conf.containsKey(Workload.CONTROL_FILE.key())) {
            throw new IllegalArgumentException("'" + Workload.CONTROL_FILE.key() + "' is set by --control FILE "
                    + "(replay, the cluster job): give that option, not -D or config.yaml");
        }
        if (conf.containsKey(Workload.CONTROL_DIRECTORY.key())) {
            throw new IllegalArgumentException("'" + Workload.CONTROL_DIRECTORY.key() + "' is set by the cluster "
                    + "job's --control-dir DIR: give that option, not -D or config.yaml");
        }
        if (conf.containsKey(io.keyshift.jobs.replay.ReplayScalingGate.GATE_OPTION.key())) {
            // a reader without that gate in its JVM fails the job at every restart (after --overwrite had cleared)
            throw new IllegalArgumentException("'" + io.keyshift.jobs.replay.ReplayScalingGate.GATE_OPTION.key()
                    + "' is internal to replay --scale: remove it from -D or config.yaml");
        }
        // Flink's own options that a local run reads: a value that does not parse fails here, with Flink's message
        // naming the key, not later as a job failure
        for (Class<?> c : FLINK_OPTION_CLASSES) {
            for (java.lang.reflect.Field f : c.getFields()) {
                if (!java.lang.reflect.Modifier.isStatic(f.getModifiers())
                        || !ConfigOption.class.isAssignableFrom(f.getType())) {
                    continue;
                }
                ConfigOption<?> o;
                try {
                    o = (ConfigOption<?>) f.get(null);
                } catch (IllegalAccessException e) {
                    continue;
                }
                try {
                    conf.getOptional(o);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(e.getMessage(), e);
                }
            }
        }
        for (ConfigOption<?> o : Workload.toolOptions()) {
            try {
                conf.getOptional(o);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("invalid value for '" + o.key() + "': " + e.getMessage(), e);
            }
        }
        // the tumbling windows' state horizon (window + allowed lateness) has keyshift's bound: checked here, naming
        // the option, not when the first keyshift job is built (after hash's had run)
        Duration lateness = conf.get(Workload.ALLOWED_LATENESS);
        // Durations compared, not milliseconds: Flink parses durations far beyond a long of milliseconds
        Duration window = conf.getOptional(io.keyshift.config.JobOptions.WINDOW).orElse(Duration.ZERO);
        Duration max = io.keyshift.config.JobOptions.MAX_STATE_HORIZON;
        // (in whole milliseconds, as keyshift's windows take it: 1500us gave hash's run Flink's 1 ms and then
        // failed the keyshift job's build, without naming the option)
        if (lateness.isNegative() || window.compareTo(max) > 0 || lateness.compareTo(max.minus(window)) > 0
                || lateness.getNano() % 1_000_000 != 0) {
            throw new IllegalArgumentException("'" + Workload.ALLOWED_LATENESS.key() + "' must be a whole number of "
                    + "milliseconds, >= 0 and, with the window, at most " + io.keyshift.config.JobOptions.MAX_STATE_HORIZON.toDays() + " days (the "
                    + "state horizon over which keyshift keeps a migrated key's earlier state), was "
                    + org.apache.flink.util.TimeUtils.formatWithHighestUnit(lateness));
        }
        // names Flink resolves only when the job starts (a typo there failed the job with a stack trace)
        named(conf, org.apache.flink.configuration.StateBackendOptions.STATE_BACKEND,
                List.of("hashmap", "rocksdb", "forst"), "a StateBackendFactory class");
        named(conf, org.apache.flink.configuration.CheckpointingOptions.CHECKPOINT_STORAGE,
                List.of("jobmanager", "filesystem"), "a CheckpointStorageFactory class");
        // the restart strategy, as the JobMaster builds it when the job starts (an unknown type or a negative number
        // of attempts failed the first job with a stack trace, after --overwrite had cleared the earlier output)
        checkRestartStrategy(conf);
        checkCheckpointing(conf);
        // 0 turns periodic watermarks off: the sources' watermarks (and a Kafka partition's idleness) come only with
        // them, so no window would fire, no plan be made, and the job would wait without a word
        Duration watermarkEvery = conf.get(org.apache.flink.configuration.PipelineOptions.AUTO_WATERMARK_INTERVAL);
        if (watermarkEvery.compareTo(Duration.ofMillis(1)) < 0) {
            throw new IllegalArgumentException("'" + org.apache.flink.configuration.PipelineOptions
                    .AUTO_WATERMARK_INTERVAL.key() + "' must be at least 1ms (keyshift routes by event time, and the "
                    + "sources' watermarks and idleness come periodically), was " + watermarkEvery);
        }
        int slots = conf.get(org.apache.flink.configuration.TaskManagerOptions.NUM_TASK_SLOTS);
        if (slots < 1) {
            throw new IllegalArgumentException("'" + org.apache.flink.configuration.TaskManagerOptions.NUM_TASK_SLOTS
                    .key() + "' must be >= 1, was " + slots);
        }
        // the commands take pipeline.max-parallelism where both are set (config.yaml sets it): the other was ignored
        var pipelineMaxP = conf.getOptional(org.apache.flink.configuration.PipelineOptions.MAX_PARALLELISM);
        var keyshiftMaxP = conf.getOptional(io.keyshift.config.JobOptions.DEFAULT_MAX_PARALLELISM);
        if (pipelineMaxP.isPresent() && keyshiftMaxP.isPresent() && !pipelineMaxP.get().equals(keyshiftMaxP.get())) {
            throw new IllegalArgumentException("'" + io.keyshift.config.JobOptions.DEFAULT_MAX_PARALLELISM.key()
                    + "' is " + keyshiftMaxP.get() + " but '" + org.apache.flink.configuration.PipelineOptions
                    .MAX_PARALLELISM.key() + "' (config.yaml or -D) is " + pipelineMaxP.get() + ", and that one "
                    + "sets the key groups: set '" + org.apache.flink.configuration.PipelineOptions.MAX_PARALLELISM
                    .key() + "' instead");
        }
        conf.getOptional(org.apache.flink.configuration.PipelineOptions.MAX_PARALLELISM).ifPresent(maxP -> {
            if (maxP < 1 || maxP > org.apache.flink.runtime.state.KeyGroupRangeAssignment.UPPER_BOUND_MAX_PARALLELISM) {
                throw new IllegalArgumentException("'" + org.apache.flink.configuration.PipelineOptions.MAX_PARALLELISM
                        .key() + "' must be in 1.." + org.apache.flink.runtime.state.KeyGroupRangeAssignment
                        .UPPER_BOUND_MAX_PARALLELISM + ", was " + maxP);
            }
        });
        conf.getOptional(org.apache.flink.configuration.ExecutionOptions.RUNTIME_MODE).ifPresent(mode -> {
            if (mode != org.apache.flink.api.common.RuntimeExecutionMode.STREAMING) {
                // keyshift's stages refuse it when the job is built: a replay's hash run would have gone first
                throw new IllegalArgumentException("'" + org.apache.flink.configuration.ExecutionOptions.RUNTIME_MODE
                        .key() + "' must be STREAMING for keyshift (it plans by event time as records flow; a "
                        + "bounded input runs to its end in STREAMING too), was " + mode);
            }
        });
        for (ConfigOption<java.time.Duration> o : List.of(Workload.MAX_EVENT_TIME_AHEAD, Workload.MAX_EVENT_TIME_GAP)) {
            // used in whole milliseconds: 500us was 0 there and not "0 keeps every row" here (nearly every row of
            // the input became a dead letter), and a duration beyond a long of milliseconds failed after the read
            java.time.Duration d = conf.get(o);
            if (d.isNegative() || d.compareTo(KeyshiftConfig.MAX_DURATION) > 0 || d.getNano() % 1_000_000 != 0) {
                throw new IllegalArgumentException("'" + o.key() + "' must be a whole number of milliseconds, >= 0 "
                        + "and at most " + KeyshiftConfig.MAX_DURATION.toDays() + "d, was " + d);
            }
        }
    }

    /**
     * Builds the checkpointing settings as the environment does when a job is built (an interval below 10 ms, a
     * timeout below it, no concurrent checkpoints: Flink's message names no key, and the first job failed after
     * --overwrite had cleared the earlier output). Fails naming the execution.checkpointing.* key whose own value
     * fails as Flink reported.
     */
    private static void checkCheckpointing(Configuration conf) {
        try {
            new org.apache.flink.streaming.api.environment.CheckpointConfig().configure(conf);
        } catch (IllegalArgumentException | IllegalStateException e) {
            String named = "execution.checkpointing.*";
            Map<String, String> all = conf.toMap();
            for (String key : new java.util.TreeSet<>(all.keySet())) {
                if (!key.startsWith("execution.checkpointing.")) {
                    continue;
                }
                try {
                    new org.apache.flink.streaming.api.environment.CheckpointConfig()
                            .configure(Configuration.fromMap(Map.of(key, all.get(key))));
                } catch (RuntimeException alone) {
                    // the key whose own failure is the one Flink reported (several may be at fault)
                    if (java.util.Objects.equals(alone.getMessage(), e.getMessage())) {
                        named = "'" + key + "'";
                        break;
                    }
                }
            }
            throw new IllegalArgumentException(named + ": " + e.getMessage(), e);
        }
    }

    /**
     * Fails naming {@code option} unless its value (if set) is one of {@code names} or looks like a class name (a
     * factory class may be on a cluster's class path and not on this one: Flink checks those).
     */
    private static void named(Configuration conf, ConfigOption<String> option, List<String> names, String orClass) {
        conf.getOptional(option).ifPresent(v -> {
            if (!names.contains(v.toLowerCase(java.util.Locale.ROOT)) && !v.contains(".")) {
                throw new IllegalArgumentException("'" + option.key() + "' must be " + String.join(", ", names)
                        + " or " + orClass + ", was '" + v + "'");
            }
        });
    }

    /** {@code $KEYSHIFT_HOME/flink-conf} (system property keyshift.home, else the working directory). */
    public static Path defaultConfDir() {
        return home().resolve("flink-conf");
    }

    /** The keyshift installation: system property keyshift.home, else $KEYSHIFT_HOME, else the working directory. */
    public static Path home() {
        return Path.of(System.getProperty("keyshift.home", System.getenv().getOrDefault("KEYSHIFT_HOME", ".")));
    }
}
