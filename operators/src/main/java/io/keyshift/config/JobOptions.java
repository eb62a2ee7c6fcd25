package io.keyshift.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;

/** Options of a keyshift stage as a whole. */
public final class JobOptions {
    /**
     * The longest state horizon keyshift takes (a stage's window size + allowed lateness, or a keyed process
     * function's declared horizon): 36,500 days. A migrated key's earlier stay is kept, and its switch-over and
     * validation are timed, this far in event time; far beyond any real lateness, far below overflow.
     */
    public static final java.time.Duration MAX_STATE_HORIZON = java.time.Duration.ofDays(36_500);

    private JobOptions() {}

    public static final ConfigOption<Duration> WINDOW = ConfigOptions.key("keyshift.window")
            .durationType()
            .defaultValue(Duration.ofHours(1))
            .withDescription("Length of the planning windows: keys are sampled, loads forecast and plans made window "
                    + "by window (Flink duration syntax: 5min, 1h, 1d; a whole number of milliseconds, 1 ms .. 36,500 days). "
                    + "Independent of the user's own windows; "
                    + "migrations start and switch over on its boundaries.");

    public static final ConfigOption<Integer> DEFAULT_MAX_PARALLELISM = ConfigOptions.key("keyshift.max-parallelism")
            .intType()
            .defaultValue(128)
            .withDescription("Number of key groups (1..32768), used when pipeline.max-parallelism is not set (where both are set "
                    + "they must be equal). keyshift sets it explicitly: plans name key groups, and a different number "
                    + "after a restore would misroute.");

    public static final ConfigOption<Integer> RESULTS_PATH_PARALLELISM =
            ConfigOptions.key("keyshift.results-path.parallelism")
                    .intType()
                    .defaultValue(0)
                    .withDescription("Parallelism (>= 0) of the stage's results path: the shadow validator, the split "
                            + "merger and, with keyshift.migration.on-mismatch REVERT, the mismatch reverts. They "
                            + "take what the keyed stage sends them about a few keys (checksums of validated shadow "
                            + "phases, partial aggregates of split hot keys), not its input records. 0 (the default) = "
                            + "one subtask per 8 of the keyed stage, rounded up. 0..32768; at most the max parallelism (the "
                            + "number of key groups) is used, a larger value is capped there, with a warning. With "
                            + "keyshift.scaling.capacity set, at most keyshift.scaling.min-parallelism (a scaled "
                            + "keyed stage may run below it).");

    /** Subtasks of the results path of a keyed stage at {@code keyedParallelism} (see RESULTS_PATH_PARALLELISM). */
    public static int resultsPathParallelism(int configured, int keyedParallelism) {
        return configured > 0 ? configured : (keyedParallelism + 7) / 8;
    }

    /**
     * Fails for good ({@link #unrecoverable}) an operator that keyshift's stage runs at parallelism 1 (profiler,
     * forecaster, planner, control progress, scaling decisions) found at {@code subtasks} others: each sees in one
     * place what every router or subtask sends, and at several each would plan from a part. Flink's reactive mode sets
     * every vertex to its max parallelism; a per-vertex autoscaler may too.
     *
     * @param operator the operator's name in the message ("profiler", ...)
     * @param subtasks the operator's subtasks (the task's parallelism)
     */
    public static void checkOneSubtask(String operator, int subtasks) {
        if (subtasks != 1) {
            throw unrecoverable("keyshift's " + operator + " runs at " + subtasks + " subtasks, but it must run at "
                    + "1 (the stage sets it so: it sees every router's reports, forecasts or plans in one place); "
                    + "Flink's reactive mode (scheduler-mode: reactive) or an autoscaler that sets each vertex's "
                    + "parallelism changed it: run the job without them (keyshift scales its keyed operator itself, "
                    + "keyshift.scaling.*)");
        }
    }

    /**
     * Fails a restore whose state was made with planning windows of {@code restoredMillis} while {@link #WINDOW} is
     * {@code windowMillis}: samples, profiles, forecasts and leases are counted in planning windows, which cannot
     * change across a restore.
     *
     * @param what the state that holds the restored window ("the router's open windows", ...)
     * @throws org.apache.flink.runtime.execution.SuppressRestartsException around an IllegalStateException naming
     *                                                                     keyshift.window and both lengths, if
     *                                                                     they differ
     */
    public static void checkRestoredWindow(String what, long restoredMillis, long windowMillis) {
        if (restoredMillis != windowMillis) {
            throw unrecoverable(what + " were made with planning windows of "
                    + Duration.ofMillis(restoredMillis) + ", but " + WINDOW.key() + " is "
                    + Duration.ofMillis(windowMillis) + ": restore with the window the savepoint was taken with "
                    + "(keyshift counts samples, forecasts and leases in planning windows), or start this stage "
                    + "without keyshift's state");
        }
    }

    /**
     * A mistake in the job's code or input that every restart would meet again (a record without a timestamp, a state
     * keyshift cannot carry): the job fails for good with {@code mistake} as the cause, instead of restarting for ever
     * under the restart strategy a checkpointed job gets by default.
     */
    public static RuntimeException misuse(RuntimeException mistake) {
        return new org.apache.flink.runtime.execution.SuppressRestartsException(mistake);
    }

    /**
     * An error of the job's configuration against its restored state: the same at every restart, so the job fails
     * for good instead of restarting (a cluster's exponential-delay strategy would retry it for ever). Flink's
     * {@code SuppressRestartsException} around an IllegalStateException with {@code message}.
     */
    public static RuntimeException unrecoverable(String message) {
        return misuse(new IllegalStateException(message));
    }
}
