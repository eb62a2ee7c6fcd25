package io.keyshift.migration;

/**
 * One side of a shadow-versus-primary check, from the keyed stage to the {@link ShadowValidator}: the checksum of
 * what one side produced for one key in one window (windows) or one interval of the shadow phase (keyed process
 * functions). Flink POJO.
 */
public class ResultCheck {
    /** The key's id ({@link io.keyshift.route.KeyCodec}). */
    public String key;
    /** Window or interval start, epoch ms, inclusive. */
    public long start;
    /** Window or interval end, epoch ms, exclusive. */
    public long end;
    /** Event time at which both sides are complete and are compared (window max timestamp + lateness, or end - 1). */
    public long compareAt;
    /** True for the shadow's side. */
    public boolean shadow;
    /** Key group that produced it. */
    public int keyGroup;
    /** Checksum of the results ({@link Checksums}). */
    public long checksum;
    /** Number of results. */
    public int results;
    /**
     * True if checks of the same side add up (a keyed process function's outputs, one check per output); false if a
     * later check replaces the earlier one (a window's late firings repeat the whole result).
     */
    public boolean additive;
    /**
     * True if the window held a shadow phase's copy of a record that was late at its router
     * ({@link io.keyshift.route.Envelope#late}): the sides may differ by that record without a fault.
     */
    public boolean lateRecord;

    public ResultCheck() {}
}
