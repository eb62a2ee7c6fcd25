package io.keyshift.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/** Options of the scaling decisions (thresholds: keyshift.plan.utilization.*). */
public final class ScalingOptions {
    private ScalingOptions() {}

    public static final ConfigOption<Double> CAPACITY = ConfigOptions.key("keyshift.scaling.capacity")
            .doubleType()
            .defaultValue(0.0)
            .withDescription("Records per window one subtask can process (>= 0); > 0 turns on scaling decisions "
                    + "(ScalingDecision records, predictive and reactive), on at most one stage of a job (a second "
                    + "stage with it set is refused when it is built). 0 = no scaling decisions.");

    public static final ConfigOption<Integer> MIN_PARALLELISM = ConfigOptions.key("keyshift.scaling.min-parallelism")
            .intType()
            .defaultValue(1)
            .withDescription("Lowest parallelism a decision may choose (1..32768, at most "
                    + "keyshift.scaling.max-parallelism). With keyshift.scaling.capacity set, a stage is refused when "
                    + "it is built if this is above its key groups or above the stage's keyed parallelism, and "
                    + "keyshift.results-path.parallelism may be at most this.");

    public static final ConfigOption<Integer> MAX_PARALLELISM = ConfigOptions.key("keyshift.scaling.max-parallelism")
            .intType()
            .defaultValue(0)
            .withDescription("Highest parallelism a decision may choose (0..32768); 0 = the job's max parallelism (key "
                    + "groups). With keyshift.scaling.capacity set, a stage is refused when it is built if this is "
                    + "above its key groups or below the stage's keyed parallelism.");

    public static final ConfigOption<Integer> HORIZON = ConfigOptions.key("keyshift.scaling.horizon")
            .intType()
            .defaultValue(3)
            .withDescription("Windows (1 .. 1000; keyshift.plan.lease-lead + the larger of this and "
                    + "keyshift.plan.horizon at most 100, with scaling off too) of forecast load past "
                    + "the lease lead that a predictive scaling decision "
                    + "reads: it reads windows +1 .. +(lease lead + this). The forecaster forecasts lease lead + the "
                    + "larger of this and the planning horizon.");

    public static final ConfigOption<Integer> COOLDOWN_WINDOWS = ConfigOptions.key("keyshift.scaling.cooldown-windows")
            .intType()
            .defaultValue(3)
            .withDescription("Windows (>= 0) after a decision during which no other decision is made.");

    public static final ConfigOption<Integer> SCALE_IN_WINDOWS = ConfigOptions.key("keyshift.scaling.scale-in-windows")
            .intType()
            .defaultValue(6)
            .withDescription("Windows (>= 1) in a row every subtask must stay below the scale-in utilization before a "
                    + "scale-in. Predictive counts the forecast quiet windows ahead, plus the measured ones up to now "
                    + "if the forecast is quiet over its whole horizon or for this many windows on its own.");

    public static final ConfigOption<String> POLICY = ConfigOptions.key("keyshift.scaling.policy")
            .stringType()
            .defaultValue("predictive")
            .withDescription("The policy whose decisions bin/keyshift autoscale applies (replay --scale runs the "
                    + "policies it names, each its own): "
                    + "predictive (from the forecasts of the next windows) or reactive (from the last window's "
                    + "measured busiest subtask and total).");

    public static final ConfigOption<Boolean> FOLLOW_JOB_ON_RESTORE =
            ConfigOptions.key("keyshift.scaling.follow-job-parallelism-on-restore")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription("After a restore, the scaling decisions continue from the restored job's "
                            + "parallelism instead of their own last decision. Set it when an outside actuator stops "
                            + "the job with a savepoint and restarts it at the decided parallelism (replay --scale "
                            + "does); leave it off with the adaptive scheduler, which rescales the submitted job "
                            + "(keyshift's job and submit refuse the two together).");

    /** The policy of {@link #POLICY}; fails naming the option if it is neither. */
    public static io.keyshift.avro.ScalingPolicy policy(org.apache.flink.configuration.ReadableConfig config) {
        String v = config.get(POLICY).trim().toUpperCase(java.util.Locale.ROOT);
        try {
            return io.keyshift.avro.ScalingPolicy.valueOf(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(POLICY.key() + ": expected predictive or reactive, was '"
                    + config.get(POLICY) + "'");
        }
    }
}
