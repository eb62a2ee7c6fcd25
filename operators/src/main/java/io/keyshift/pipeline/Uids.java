package io.keyshift.pipeline;

/**
 * Stable operator uids of the keyshift dataflow. They identify operator state in checkpoints and savepoints and
 * must never change; the State Processor API tools read state by them.
 */
public final class Uids {
    private Uids() {}

    public static final String SOURCE = "keyshift-source";
    public static final String SAMPLER = "keyshift-key-sampler";
    public static final String PROFILER = "keyshift-profiler";
    public static final String FORECASTER = "keyshift-forecaster";
    public static final String PLANNER = "keyshift-planner";
    public static final String ROUTER = "keyshift-router";
    public static final String WINDOW = "keyshift-window-count";
    public static final String RESOLVER = "keyshift-shadow-resolver";
    public static final String HASH_WINDOW = "hash-window-count";
    public static final String SHADOW_AWARE = "keyshift-shadow-aware";
    public static final String SCALING = "keyshift-scaling-decisions";
    public static final String PLAIN_KEYED = "plain-keyed";
}
