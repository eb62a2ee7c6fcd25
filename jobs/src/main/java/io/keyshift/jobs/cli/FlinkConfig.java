package io.keyshift.jobs.cli;

import io.keyshift.config.BenchOptions;
import io.keyshift.config.FaultOptions;
import io.keyshift.config.ForecastOptions;
import io.keyshift.config.JobOptions;
import io.keyshift.config.PlanOptions;
import io.keyshift.config.ProfilerOptions;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Builds the Flink configuration of a keyshift command: {@code flink-conf/config.yaml} (from
 * {@code --config DIR}, else {@code $KEYSHIFT_HOME/flink-conf}), then {@code -Dkey=value} overrides, as Flink's own
 * command line does. Every {@code keyshift.*} key must be a known option and its value must parse.
 */
public final class FlinkConfig {
    private FlinkConfig() {}

    /** All keyshift options, by key. */
    public static Map<String, ConfigOption<?>> keyshiftOptions() {
        Map<String, ConfigOption<?>> out = new TreeMap<>();
        for (Class<?> c : List.of(JobOptions.class, ProfilerOptions.class, ForecastOptions.class, PlanOptions.class,
                FaultOptions.class, BenchOptions.class,
                io.keyshift.config.ScalingOptions.class, io.keyshift.config.RouteOptions.class)) {
            for (Field f : c.getFields()) {
                if (Modifier.isStatic(f.getModifiers()) && ConfigOption.class.isAssignableFrom(f.getType())) {
                    try {
                        ConfigOption<?> o = (ConfigOption<?>) f.get(null);
                        out.put(o.key(), o);
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }
        return out;
    }

    /**
     * Loads config.yaml from {@code confDir} (if it exists) and applies {@code overrides}.
     *
     * @throws IllegalArgumentException naming the key if a keyshift option is unknown or its value does not parse
     */
    public static Configuration load(Path confDir, Map<String, String> overrides) {
        Configuration conf = confDir != null && Files.isRegularFile(confDir.resolve("config.yaml"))
                ? GlobalConfiguration.loadConfiguration(confDir.toString())
                : new Configuration();
        conf.addAll(Configuration.fromMap(overrides));
        validate(conf);
        return conf;
    }

    /** Checks every keyshift.* key of {@code conf}. */
    public static void validate(Configuration conf) {
        Map<String, ConfigOption<?>> known = keyshiftOptions();
        List<String> problems = new ArrayList<>();
        for (String key : conf.keySet()) {
            if (!key.startsWith("keyshift.")) {
                continue;
            }
            ConfigOption<?> o = known.get(key);
            if (o == null) {
                problems.add("unknown option '" + key + "' (known: " + String.join(", ", known.keySet()) + ")");
                continue;
            }
            try {
                conf.get(o);
            } catch (RuntimeException e) {
                problems.add("invalid value for '" + key + "': " + e.getMessage());
            }
        }
        try {
            io.keyshift.config.ScalingOptions.policy(conf);
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
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
