package io.keyshift.jobs.replay;

import java.util.Locale;

/** How records reach the keyed workload. */
public enum Strategy {
    /** A plain {@code keyBy(key)}: Flink as it is, and the reference for results. */
    HASH,
    /**
     * The full keyshift dataflow; the planner is fed the last window's observed loads (naive forecast), without a
     * forecast calendar.
     */
    REACTIVE,
    /** The full keyshift dataflow with the forecaster (model chosen per series by backtest). */
    PREDICTIVE;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a strategy name (case-insensitive); IllegalArgumentException names the valid ones. */
    public static Strategy parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown strategy '" + s + "' (valid: hash, reactive, predictive)");
        }
    }
}
