package io.keyshift.metrics;

/**
 * Names of the metrics keyshift registers in its operators' Flink metric groups, with their units.
 * Counters count since the operator (re)started; gauges are instantaneous.
 */
public final class KeyshiftMetrics {
    /** Counter, records: primary copies the router emitted. */
    public static final String ROUTER_PRIMARY_RECORDS = "keyshiftPrimaryRecords";
    /** Counter, records: shadow copies the router emitted (migrations in their shadow phase). */
    public static final String ROUTER_SHADOW_RECORDS = "keyshiftShadowRecords";
    /**
     * Counter, records: primary copies routed to one subtask of the keyed operator (the per-subtask load without the
     * shadow copies a migration's new owner also processes: {@link #ROUTER_SHADOW_RECORDS}), in the
     * metric group {@code target_subtask=<index>} of each router subtask; sum over router subtasks per target.
     */
    public static final String ROUTER_ROUTED_RECORDS = "keyshiftRoutedRecords";
    /** Metric group key of {@link #ROUTER_ROUTED_RECORDS}. */
    public static final String TARGET_SUBTASK_GROUP = "target_subtask";
    /** Gauge, dimensionless: shadow copies / primary copies of this router subtask since it started. */
    public static final String ROUTER_SHADOW_OVERHEAD = "keyshiftShadowOverhead";
    /** Gauge, records: records waiting for a plan lease. */
    public static final String ROUTER_WAITING_RECORDS = "keyshiftWaitingRecords";
    /**
     * Counter, pauses: waits for the next plan (up to 50 ms each; a plan that comes ends the wait) that the router made
     * after reading an event because more than {@code keyshift.route.max-waiting-records} records were waiting for a
     * lease and its input watermark had passed the lease's end (one per such record).
     */
    public static final String ROUTER_PACED_RECORDS = "keyshiftPacedRecords";
    /** Gauge, version number of the plan in force at the router. */
    public static final String ROUTER_PLAN_VERSION = "keyshiftPlanVersion";
    /** Gauge, entries: explicit routing-table entries (besides natural routes). */
    public static final String ROUTER_TABLE_ENTRIES = "keyshiftRoutingTableEntries";
    /**
     * Gauge, records: records of a planning window that the router had closed already (its input watermark had passed
     * the window's end), routed as any record but left out of that window's profile (and, once the router's output
     * watermark had passed the window, of its routed loads): counted, the window would go to the profiler a second
     * time, and whether the profile included it would depend on when the other subtasks' reports came.
     */
    public static final String ROUTER_LATE_RECORDS_UNPROFILED = "keyshiftLateRecordsUnprofiled";
    /** Counter, windows: windows the profiler closed. */
    public static final String PROFILER_WINDOWS = "keyshiftProfiledWindows";
    /**
     * Profiler: window and load reports that arrived after their window was closed (a subtask back from idle), left out
     * of that window's profile or load, count.
     */
    public static final String PROFILER_LATE_REPORTS = "keyshiftLateReports";
    /** Gauge, series: series the forecaster tracks (hot keys + key groups). */
    public static final String FORECAST_SERIES = "keyshiftForecastSeries";
    /**
     * Counter, units: units flagged as anomalous (an observed load more than {@code keyshift.forecast.anomaly-z}
     * standard deviations from its forecast; the prediction interval, {@code interval-z}, is not the test).
     */
    public static final String FORECAST_ANOMALIES = "keyshiftForecastAnomalies";
    /**
     * Counter: entries of the forecaster's keyed state written or removed at checkpoints (header, series models,
     * history chunks): what an incremental checkpoint of the forecaster carries.
     */
    public static final String FORECAST_STATE_ENTRIES = "keyshiftForecastStateEntries";
    /** Gauge, standard deviations: the anomaly z the forecaster applies (configured, or the last anomaly-z command). */
    public static final String FORECAST_ANOMALY_Z = "keyshiftForecastAnomalyZ";
    /** Gauge, dimensionless: running MASE of the horizon-1 forecast (< 1 beats the seasonal naive forecast). */
    public static final String FORECAST_MASE = "keyshiftForecastMase";
    /** Counter, migrations started by the planner. */
    public static final String PLAN_MIGRATIONS_STARTED = "keyshiftMigrationsStarted";
    /**
     * Counter, migrations retired by the planner: a state horizon (the window's size and allowed lateness, or a keyed
     * process function's declared horizon) after their switch-over, once the plan after that is made (report.json's
     * {@code migrations_completed} counts the switch-overs before the last event: a bounded input that ends within a
     * horizon of a switch-over is counted there, not here).
     */
    public static final String PLAN_MIGRATIONS_COMPLETED = "keyshiftMigrationsCompleted";
    /**
     * Counter, completed migrations that had a validation shadow phase (keyshift.migration.validation): with
     * keyshiftMigrationsCompleted, the validation coverage.
     */
    public static final String PLAN_MIGRATIONS_VALIDATED = "keyshiftMigrationsValidated";
    /**
     * Gauge, migrations with a shadow phase that has not ended at the planner's last window end (planned or running;
     * migrations without a shadow phase do not count).
     */
    public static final String PLAN_MIGRATIONS_IN_FLIGHT = "keyshiftMigrationsInShadowPhase";
    /**
     * Gauge, migrations the last plan still carries (from their start until a state horizon after their switch-over,
     * shadow phase or not): 0 when a savepoint may change the stage's shape (see "State, checkpoints and savepoints").
     */
    public static final String PLAN_MIGRATIONS_UNFINISHED = "keyshiftMigrationsUnfinished";
    /** Gauge, dimensionless (max/mean, >= 1): predicted imbalance of the last plan. */
    public static final String PLAN_PREDICTED_IMBALANCE = "keyshiftPredictedImbalance";
    /**
     * Gauge, dimensionless (max/mean, >= 1): observed imbalance of the last window under the plan then in force
     * (migrating keys counted at their primary key group).
     */
    public static final String PLAN_OBSERVED_IMBALANCE = "keyshiftObservedImbalance";
    /** Gauge, dimensionless: busiest subtask's predicted load / keyshift.plan.capacity after the last plan (-1 without). */
    public static final String PLAN_MAX_UTILIZATION = "keyshiftMaxUtilization";
    /** Gauge, 0 or 1: every subtask is predicted below the scale-in utilization. */
    public static final String PLAN_SCALE_IN = "keyshiftScaleInOpportunity";
    /** Gauge, milliseconds: time the last planning round took. */
    public static final String PLAN_TIME_MS = "keyshiftPlanningTimeMs";
    /**
     * Gauge: control commands refused since the job began (the planner's control state, so a restore carries it on;
     * dead-lettered with their reason, those dropped at a restore only logged).
     */
    public static final String CONTROL_REJECTED = "keyshiftControlCommandsRejected";
    /** Gauge: control commands applied so far. */
    public static final String CONTROL_APPLIED = "keyshiftControlCommandsApplied";
    /** Gauge, 0 or 1: planning is frozen by a control command. */
    public static final String CONTROL_FROZEN = "keyshiftControlFrozen";
    /** Gauge: keys pinned by control commands. */
    public static final String CONTROL_PINNED_KEYS = "keyshiftControlPinnedKeys";
    /** Gauge: the plan version a rollback in progress returns to; -1 without one. */
    public static final String CONTROL_ROLLBACK_VERSION = "keyshiftControlRollbackVersion";
    /** Planner gauge, 0 or (0, 1]: the rate of the last sampling-rate command in force, 0 without one. */
    public static final String CONTROL_SAMPLING_RATE = "keyshiftControlSamplingRate";
    /** Router gauge, (0, 1]: the sampling rate of the planning window the router opened last. */
    public static final String ROUTER_SAMPLING_RATE = "keyshiftSamplingRate";
    /** Planner gauge, subtasks: the parallelism a scale command forces on the scaling decisions, 0 without one. */
    public static final String CONTROL_FORCED_PARALLELISM = "keyshiftControlForcedParallelism";
    /** Gauge, subtasks: the keyed parallelism the planner plans for (follows the job's after a rescale). */
    public static final String PLAN_PARALLELISM = "keyshiftPlanParallelism";
    /**
     * Counter (keyed process function stage): records that reached a stay of a key that had migrated away after its
     * state was cleared (more than the state horizon behind the switch-over), dropped.
     */
    public static final String PROCESS_LATE_RECORDS_DROPPED = "keyshiftLateRecordsDropped";
    /**
     * Counter (keyed process function stage): event-time timers the user's function set more than its declared state
     * horizon after the record or timer that set them (their output can be lost around a migration).
     */
    public static final String PROCESS_TIMERS_BEYOND_HORIZON = "keyshiftTimersBeyondHorizon";
    /** Counter, windows: (key, window) results whose shadow matched the primary. */
    public static final String VALIDATION_MATCHES = "keyshiftValidationMatches";
    /**
     * Counter (validator): checks not compared because of a late record: one side's results that arrived after their
     * comparison was made (a late record's output), and windows holding a record late at its router whose two sides
     * differ (or that has one side only).
     */
    public static final String VALIDATION_LATE_CHECKS = "keyshiftValidationLateChecks";
    /**
     * Counter (the cluster job's plans, forecasts and validation Kafka sinks): records larger than the producer's
     * max.request.size allows, left out of their topic (the files under --out keep them).
     */
    public static final String KAFKA_RECORDS_TOO_LARGE = "keyshiftKafkaRecordsTooLarge";
    /** Counter, windows: (key, window) results whose shadow did not match the primary. */
    public static final String VALIDATION_MISMATCHES = "keyshiftValidationMismatches";

    /**
     * Scaling gauge, subtasks: the parallelism the actuated policy decided last (what {@code bin/keyshift autoscale}
     * applies).
     */
    public static final String SCALING_PARALLELISM = "keyshiftScalingParallelism";
    /**
     * Scaling gauge, epoch milliseconds: the end of the last planning window the scaling decisions were made up to
     * (a restore from a checkpoint taken before a decision sets it back; {@link Long#MIN_VALUE} before the first).
     */
    public static final String SCALING_DECIDED_UP_TO = "keyshiftScalingDecidedUpTo";
    /**
     * Scaling counter: the actuated policy's decisions that changed the parallelism (at most one per planning window;
     * none while the parallelism holds).
     */
    public static final String SCALING_DECISIONS = "keyshiftScalingDecisions";

    /**
     * Counter (the cluster job's Kafka input, operator "kafka records" chained to its source): records that did not
     * parse, written as dead letters.
     */
    public static final String KAFKA_DEAD_LETTERS = "keyshiftDeadLetters";

    /**
     * Counter (the cluster job's Kafka input, operator "late records"): records the window stage dropped as late
     * (every window of theirs ended more than the allowed lateness before its watermark), written under
     * {@code late-records/}. Flink's window operator does not count these in {@code numLateRecordsDropped}: they
     * go to its late-data side output instead.
     */
    public static final String KAFKA_LATE_RECORDS = "keyshiftLateRecords";

    private KeyshiftMetrics() {}
}
