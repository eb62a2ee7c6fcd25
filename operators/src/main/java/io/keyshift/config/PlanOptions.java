package io.keyshift.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/** Options of the repartitioning planner and the plan leases. */
public final class PlanOptions {
    private PlanOptions() {}

    public static final ConfigOption<Integer> LEASE_LEAD = ConfigOptions.key("keyshift.plan.lease-lead")
            .intType()
            .defaultValue(1)
            .withDescription("Windows (1 .. 1000; with the larger of keyshift.plan.horizon and keyshift.scaling.horizon "
                    + "at most 100) that a plan's lease reaches beyond the window it was made after. A plan "
                    + "made after window w holds until the end of w + lead; a migration it starts shadows from the "
                    + "previous lease's end. 1 plans soonest; records of the next window then wait for the plan of "
                    + "the previous one (a few ms in a live job). 2 makes nothing wait in steady state.");

    public static final ConfigOption<Integer> HORIZON = ConfigOptions.key("keyshift.plan.horizon")
            .intType()
            .defaultValue(1)
            .withDescription("Windows (1 .. 1000; keyshift.plan.lease-lead + the larger of this and "
                    + "keyshift.scaling.horizon, which counts with scaling off too, at most 100) of forecast load that "
                    + "the planner balances, starting with the first "
                    + "window a new migration would own: the load of a unit is the mean forecast over them. "
                    + "Plans are remade every window, so 1 balances the window a move takes effect in.");

    /** What the planner's imbalance term measures over the planning horizon. */
    public enum Cost { PER_WINDOW, MEAN_LOAD }

    public static final ConfigOption<Cost> COST = ConfigOptions.key("keyshift.plan.cost")
            .enumType(Cost.class)
            .defaultValue(Cost.MEAN_LOAD)
            .withDescription("MEAN_LOAD: the imbalance a plan is judged by is that of each unit's mean forecast over "
                    + "the horizon. PER_WINDOW: the mean of each horizon window's own imbalance (max / mean subtask "
                    + "load), so a hot set that changes within the horizon is balanced window by window; the moves "
                    + "come from the better of two greedy searches.");

    public static final ConfigOption<Double> SHRINKAGE = ConfigOptions.key("keyshift.plan.shrinkage")
            .doubleType()
            .defaultValue(1.0)
            .withDescription("How far the planner shrinks each unit's forecast towards its long-run load (an "
                    + "exponentially weighted mean of its observed loads) before balancing: a deviation d from the "
                    + "long-run load m is kept with weight d^2 / (d^2 + shrinkage x m / horizon), m / horizon being "
                    + "the Poisson variance of the forecast counts (empirical-Bayes shrinkage, Efron and Morris "
                    + "1975). A shift far beyond a count's noise is followed at once; one of the noise's size is "
                    + "halved, so keys with a few records per window are balanced nearer to what they carry in the "
                    + "long run than to the noise of their last counts. >= 0; 0 = plan on the forecasts alone.");

    public static final ConfigOption<Integer> LONG_RUN_WINDOWS = ConfigOptions.key("keyshift.plan.long-run-windows")
            .intType()
            .defaultValue(1000)
            .withDescription("Memory, in windows (>= 1), of the long-run load that keyshift.plan.shrinkage shrinks "
                    + "towards: each window's weight is 1 - 1 / this.");

    public static final ConfigOption<Double> IMPROVEMENT_THRESHOLD = ConfigOptions.key("keyshift.plan.improvement-threshold")
            .doubleType()
            .defaultValue(0.02)
            .withDescription("A new plan is issued only if it lowers the predicted cost by more than this (>= 0) "
                    + "(cost = imbalance max/mean + alpha x moved load share + beta x migrations), e.g. 0.02.");

    public static final ConfigOption<Double> ALPHA = ConfigOptions.key("keyshift.plan.alpha")
            .doubleType()
            .defaultValue(0.1)
            .withDescription("Cost (>= 0) per unit of state moved, as a share of one subtask's mean load: moving keys "
                    + "whose load is 10% of a subtask's mean costs 0.1 x alpha. The cost is paid once (one "
                    + "shadow window), the gain in imbalance every window the plan holds, so alpha is well below 1.");

    public static final ConfigOption<Double> BETA = ConfigOptions.key("keyshift.plan.beta")
            .doubleType()
            .defaultValue(0.005)
            .withDescription("Cost (>= 0) per migration started (dimensionless, in units of imbalance).");

    public static final ConfigOption<Integer> MAX_CONCURRENT_MIGRATIONS =
            ConfigOptions.key("keyshift.plan.max-concurrent-migrations")
                    .intType()
                    .defaultValue(16)
                    .withDescription("Migrations that may be in flight (started, not yet folded into the plan) at once "
                            + "(>= 0; 0 = none start, but above keyshift.plan.utilization.critical, where the "
                            + "budget is ignored).");

    public static final ConfigOption<Integer> MAX_ROUTING_ENTRIES = ConfigOptions.key("keyshift.plan.max-routing-entries")
            .intType()
            .defaultValue(4096)
            .withDescription("Bound (>= 1) on explicit routing-table entries; beyond it the coldest moved keys migrate back "
                    + "to their natural key groups.");

    public static final ConfigOption<Double> SPLIT_THRESHOLD = ConfigOptions.key("keyshift.plan.split-threshold")
            .doubleType()
            .defaultValue(0.0)
            .withDescription("Opt-in hot-key splitting: a hot key that fits on no subtask is split, that is one "
                    + "whose forecast load plus the least load that no move takes off any subtask (key-group "
                    + "residuals, pieces of split keys) exceeds this many times a subtask's mean load. Its records "
                    + "are spread over several key groups: a key heavier than a subtask's mean load over one on "
                    + "every subtask, a lighter one over the least-loaded subtasks; the partial window aggregates "
                    + "are merged downstream with the "
                    + "aggregate's own merge (or the reduce function), so results stay those of a plain keyBy. For "
                    + "window aggregate and reduce only: a stage with process(ProcessWindowFunction) or a keyed "
                    + "process function refuses a value > 0. Splits are kept once made. 0 = never split (default).");

    public static final ConfigOption<Double> CAPACITY = ConfigOptions.key("keyshift.plan.capacity")
            .doubleType()
            .defaultValue(0.0)
            .withDescription("Records per window one subtask can process (0 = unknown: no utilization thresholds). "
                    + "With a capacity the planner moves load only off subtasks predicted above the high "
                    + "utilization (keys still go home while the routing table is over its bound), ignores the migration budget above the critical one, avoids plans with a subtask "
                    + "above capacity when moves can avoid it, and reports a scale-in opportunity.");

    public static final ConfigOption<Double> UTILIZATION_HIGH = ConfigOptions.key("keyshift.plan.utilization.high")
            .doubleType()
            .defaultValue(0.75)
            .withDescription("Predicted utilization (load / capacity) above which the planner starts moving load off a "
                    + "subtask. The three utilizations must keep 0 < scale-in <= high <= critical (checked with or "
                    + "without a capacity).");

    public static final ConfigOption<Double> UTILIZATION_CRITICAL = ConfigOptions.key("keyshift.plan.utilization.critical")
            .doubleType()
            .defaultValue(0.90)
            .withDescription("Predicted utilization above which the planner moves at once, ignoring the migration "
                    + "budget (at least keyshift.plan.utilization.high).");

    public static final ConfigOption<Double> UTILIZATION_SCALE_IN = ConfigOptions.key("keyshift.plan.utilization.scale-in")
            .doubleType()
            .defaultValue(0.60)
            .withDescription("When every subtask is predicted below this utilization, the plan reports a scale-in "
                    + "opportunity (above 0, at most keyshift.plan.utilization.high).");

    public static final ConfigOption<Integer> MIN_WINDOWS_BETWEEN_MOVES =
            ConfigOptions.key("keyshift.plan.min-windows-between-moves")
                    .intType()
                    .defaultValue(0)
                    .withDescription("A key moves at most once per this many windows (counted from the start of its "
                            + "last move's shadow phase; a key cannot move while it migrates anyway). 0 = no limit.");

    public static final ConfigOption<java.util.List<String>> PINNED_KEYS = ConfigOptions.key("keyshift.plan.pinned-keys")
            .stringType()
            .asList()
            .defaultValues()
            .withDescription("Keys that never move or split (semicolon-separated).");

    /** What the planner does when a migration's shadow result disagrees with its primary. */
    public enum OnMismatch { REPORT, REVERT }

    public static final ConfigOption<OnMismatch> ON_MISMATCH = ConfigOptions.key("keyshift.migration.on-mismatch")
            .enumType(OnMismatch.class)
            .defaultValue(OnMismatch.REPORT)
            .withDescription("REPORT: a shadow result that disagrees with its primary is reported (validation "
                    + "output, metric). REVERT: also, the key goes back to the key group it came from (an ordinary "
                    + "migration) and is not moved again for keyshift.migration.on-mismatch.hold. Only shadow "
                    + "phases are compared: with keyshift.migration.validation NONE, a stage of tumbling windows "
                    + "aligned with keyshift.window has none, and REVERT does nothing there (warned of when the "
                    + "stage is built).");

    public static final ConfigOption<java.time.Duration> ON_MISMATCH_HOLD =
            ConfigOptions.key("keyshift.migration.on-mismatch.hold")
                    .durationType()
                    .defaultValue(java.time.Duration.ofDays(7))
                    .withDescription("Event time for which a reverted key starts no migration of the planner's "
                            + "own (> 0): a key sent back by the validation (on-mismatch REVERT) or by a revert "
                            + "command of the control input.");

    public static final ConfigOption<Integer> ON_MISMATCH_LAG_WINDOWS =
            ConfigOptions.key("keyshift.migration.on-mismatch.lag-windows")
                    .intType()
                    .defaultValue(2)
                    .withDescription("With on-mismatch REVERT: a revert applies to the first plan whose migrations "
                            + "start at least this many planning windows after the mismatch was found; the planner "
                            + "waits for the validation to be that far (deterministic plans), so a larger lag lets "
                            + "a replay at full speed run ahead of the validation. 1 .. 10000.");

    public static final ConfigOption<Integer> CONTROL_ROLLBACK_VERSIONS =
            ConfigOptions.key("keyshift.control.rollback-versions")
                    .intType()
                    .defaultValue(512)
                    .withDescription("With a control input: routings of past plan versions kept for rollback commands "
                            + "(one per version whose routing changed), >= 1.");

    public static final ConfigOption<java.time.Duration> TIME_BUDGET = ConfigOptions.key("keyshift.plan.time-budget")
            .durationType()
            .defaultValue(java.time.Duration.ZERO)
            .withDescription("Time (0 .. 36,500 days) per planning round for local search (targeted swaps, then LPT if still far from "
                    + "the bound) after the greedy; its assignment is used when it costs less than the greedy's. 0 = "
                    + "greedy only (the default: plans are then a function of the input alone; a budget that cuts "
                    + "the search short can make plans depend on the machine's speed; with unaligned checkpoints a "
                    + "router may restore a plan the restored planner had not yet made, and the planner may make that "
                    + "version again otherwise: keep checkpoints aligned with a budget).");

    public static final ConfigOption<io.keyshift.plan.ValidationPolicy.Mode> VALIDATION =
            ConfigOptions.key("keyshift.migration.validation")
                    .enumType(io.keyshift.plan.ValidationPolicy.Mode.class)
                    .defaultValue(io.keyshift.plan.ValidationPolicy.Mode.SAMPLE)
                    .withDescription("Which migrations get a shadow phase for validation (the new owner computes "
                            + "whole windows that are compared with the old owner's): ALL, SAMPLE (a deterministic "
                            + "1-in-keyshift.migration.validation.sample-every sample) or NONE. A migration always "
                            + "gets the shadow phase correctness needs (none for tumbling windows aligned with the "
                            + "planning window; the state horizon otherwise), validated or not.");

    public static final ConfigOption<Integer> VALIDATION_SAMPLE_EVERY =
            ConfigOptions.key("keyshift.migration.validation.sample-every")
                    .intType()
                    .defaultValue(10)
                    .withDescription("With keyshift.migration.validation SAMPLE: one migration in this many, on "
                            + "average, is validated (>= 1; 1 = every migration).");
}
