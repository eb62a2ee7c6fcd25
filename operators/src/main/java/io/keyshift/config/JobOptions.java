package io.keyshift.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;

/** Options of the keyshift job as a whole. */
public final class JobOptions {
    private JobOptions() {}

    public static final ConfigOption<Duration> WINDOW = ConfigOptions.key("keyshift.window")
            .durationType()
            .defaultValue(Duration.ofHours(1))
            .withDescription("Length of the tumbling event-time windows that are sampled, forecast and planned, "
                    + "and that the built-in workload aggregates (Flink duration syntax: 5min, 1h, 1d).");

    public static final ConfigOption<Duration> ALLOWED_LATENESS = ConfigOptions.key("keyshift.allowed-lateness")
            .durationType()
            .defaultValue(Duration.ZERO)
            .withDescription("Allowed lateness of the workload's windows. The state horizon, which a migration's "
                    + "shadow phase must cover, is window + allowed lateness.");

    public static final ConfigOption<Integer> DEFAULT_MAX_PARALLELISM = ConfigOptions.key("keyshift.max-parallelism")
            .intType()
            .defaultValue(128)
            .withDescription("Number of key groups, used when pipeline.max-parallelism is not set. keyshift sets "
                    + "it explicitly: plans name key groups, and a different number after a restore would misroute.");
}
