package io.keyshift.api;

import java.util.List;

/**
 * The operator uids of a keyshift stage with uid prefix {@code prefix} (see {@link KeyshiftStream#uidPrefix}): stable
 * names of its state in checkpoints and savepoints, for the State Processor API ({@link io.keyshift.savepoint}).
 */
public final class StageUids {
    private StageUids() {}

    public static String router(String prefix) {
        return prefix + "-router";
    }

    /** The stateless hop that flushes the router's reports to the profiler at once. */
    public static String reports(String prefix) {
        return prefix + "-reports";
    }

    public static String profiler(String prefix) {
        return prefix + "-profiler";
    }

    public static String forecaster(String prefix) {
        return prefix + "-forecaster";
    }

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

    public static String validator(String prefix) {
        return prefix + "-validator";
    }

    public static String splitMerger(String prefix) {
        return prefix + "-split-merger";
    }

    public static String scaling(String prefix) {
        return prefix + "-scaling";
    }

    /** Every uid of the stage. */
    public static List<String> all(String prefix) {
        return List.of(router(prefix), reports(prefix), profiler(prefix), forecaster(prefix), planner(prefix), window(prefix),
                process(prefix), validator(prefix), splitMerger(prefix), scaling(prefix));
    }
}
