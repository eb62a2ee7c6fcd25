package io.keyshift.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;

/** Options of a keyshift stage as a whole. */
public final class JobOptions {
    private JobOptions() {}

    public static final ConfigOption<Duration> WINDOW = ConfigOptions.key("keyshift.window")
            .durationType()
            .defaultValue(Duration.ofHours(1))
            .withDescription("Length of the planning windows: keys are sampled, loads forecast and plans made window "
                    + "by window (Flink duration syntax: 5min, 1h, 1d). Independent of the user's own windows; "
                    + "migrations start and switch over on its boundaries.");

    public static final ConfigOption<Integer> DEFAULT_MAX_PARALLELISM = ConfigOptions.key("keyshift.max-parallelism")
            .intType()
            .defaultValue(128)
            .withDescription("Number of key groups, used when pipeline.max-parallelism is not set. keyshift sets "
                    + "it explicitly: plans name key groups, and a different number after a restore would misroute.");
}
