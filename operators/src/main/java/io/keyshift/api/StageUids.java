package io.keyshift.api;

import java.util.List;

/**
 * The operator uids of a keyshift stage with uid prefix {@code prefix} (see {@link KeyshiftStream#uidPrefix}): stable
 * names of its state in checkpoints and savepoints, for the State Processor API ({@link io.keyshift.savepoint}).
 */
public final class StageUids {
    private StageUids() {}

    /** The router (chained to the stage's input): routing table, waiting records, key samples. */
    public static String router(String prefix) {
        return prefix + "-router";
    }

    /** The stateless hop that flushes the router's reports to the profiler at once. */
    public static String reports(String prefix) {
        return prefix + "-reports";
    }

    /** The key-distribution profiler (parallelism 1). */
    public static String profiler(String prefix) {
        return prefix + "-profiler";
    }

    /** The load forecaster (parallelism 1, its series in keyed state). */
    public static String forecaster(String prefix) {
        return prefix + "-forecaster";
    }

    /** The repartition planner (parallelism 1): plan history, control state. */
    public static String planner(String prefix) {
        return prefix + "-planner";
    }

    /** The window operator of a windowed stage. */
    public static String window(String prefix) {
        return prefix + "-window";
    }

    /** The keyed process function of a process stage. */
    public static String process(String prefix) {
        return prefix + "-process";
    }

    /** The shadow validator of the results path. */
    public static String validator(String prefix) {
        return prefix + "-validator";
    }

    /** The split merger of a windowed stage whose hot keys may be split. */
    public static String splitMerger(String prefix) {
        return prefix + "-split-merger";
    }

    /**
     * The stateless hop that gives the split merger's side output {@code tagId} (of the user's window function) the
     * window's max timestamp; one per tag asked for with {@link KeyshiftStream#sideOutput}.
     */
    public static String splitMergerSideOutput(String prefix, String tagId) {
        return splitMerger(prefix) + "-side-output-" + tagId;
    }

    /** The scaling decisions (with {@code keyshift.scaling.capacity}). */
    public static String scaling(String prefix) {
        return prefix + "-scaling";
    }

    /** The stateless hop that turns the validation's mismatches into control lines (on-mismatch REVERT). */
    public static String mismatchReverts(String prefix) {
        return prefix + "-mismatch-reverts";
    }

    /**
     * The stateless operator that joins the user's control input and the reverts for the planner and carries the
     * user's control watermark in band (on-mismatch REVERT with a control input).
     */
    public static String controlProgress(String prefix) {
        return prefix + "-control-progress";
    }

    /**
     * The stateless hop that replaces raw keys in control lines by pseudonyms (with a key secret and a control input).
     */
    public static String controlPseudonyms(String prefix) {
        return prefix + "-control-pseudonyms";
    }

    /** The stateless hop that passes a window stage's late records to its late-data side output. */
    public static String lateData(String prefix) {
        return prefix + "-late-data";
    }

    /**
     * Every uid a stage may have (which of them a job has depends on its stage and options), but the split merger's
     * side-output hops, one per tag ({@link #splitMergerSideOutput}).
     */
    public static List<String> all(String prefix) {
        return List.of(router(prefix), reports(prefix), profiler(prefix), forecaster(prefix), planner(prefix),
                window(prefix), process(prefix), validator(prefix), splitMerger(prefix), scaling(prefix),
                mismatchReverts(prefix), controlProgress(prefix), controlPseudonyms(prefix), lateData(prefix));
    }
}
