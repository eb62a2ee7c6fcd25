package io.keyshift.profiler;

/**
 * The merged key distribution of one tumbling window over all sampler subtasks: exact records per natural key group
 * and the heavy hitters (estimated records per key, with DataSketches' bounds; with sampling, the sample-and-hold estimates of
 * {@link KeySampler}).
 *
 * <p>Heavy hitters are sorted by estimate, descending, ties by key; the five arrays have equal length. They are the
 * subtasks' largest entries summed, at most a few times the profiler's top-k: a key not listed may still have more
 * records than {@code maxError}. At rate 1, {@code maxError} is the sum of every subtask's error (each
 * subtask's estimates are within 3.5 / sketch size × its records), and the bounds hold the true count: the lower
 * bound takes off the errors of the subtasks that listed the key, the upper bound adds those of the subtasks that did
 * not (a key one subtask purged may still have had records there), as DataSketches' merge bounds do. With sampling rate r < 1 a key held from the window's start is exact, a key first sampled within
 * the window is short by about {@code (1 - r) / r} records at each router subtask that took it in so (standard deviation {@code sqrt(1 - r) / r} each; the
 * profile sums the subtasks'), and a key counted in the sampler's
 * overflow sketch about {@code sqrt(count * (1 - r) / r)}. Flink POJO (arrays, no collections), so no Kryo.
 */
public class WindowProfile {
    /** Window start, epoch ms, inclusive. */
    public long windowStart;
    /** Window end, epoch ms, exclusive. */
    public long windowEnd;
    /** All records in the window (exact). */
    public long records;
    /** Sampling rate the sketches were built with, in (0, 1]. */
    public double samplingRate;
    /** Exact records per natural key group; length maxParallelism. */
    public long[] keyGroupCounts;
    /** Heavy-hitter keys, by id ({@link io.keyshift.route.KeyCodec}). */
    public String[] hotKeys;
    /** Natural key group of each heavy-hitter key. */
    public int[] hotKeyGroups;
    /** Estimated records per heavy-hitter key (records). */
    public double[] hotEstimates;
    /**
     * Lower bounds of the keys' counts (records): the estimate less the maximum errors of the subtasks whose
     * sketches listed the key (Misra-Gries / DataSketches frequent items: a listed estimate is its sketch's upper
     * bound). Below a sampling rate of 1 the estimate is scaled from a sample, whose own error the bounds do not cover.
     */
    public double[] hotLowerBounds;
    /**
     * Upper bounds of the keys' counts (records): the estimate plus the maximum errors of the subtasks whose sketches
     * did not list the key (it may have been purged there), as {@link #hotLowerBounds}.
     */
    public double[] hotUpperBounds;
    /** Maximum error of any estimate (records), records. */
    public double maxError;
    /** The oldest plan version any router subtask routed by when the window closed (0 if unknown). */
    public long routerPlanVersion;
    /** Parallelism of the routers when the window was profiled (0 if unknown). */
    public int routerParallelism;
    /**
     * The largest time (epoch ms, exclusive) before which a router subtask routed records to their natural key
     * groups before its first plan, as reported when the window was profiled; Long.MIN_VALUE: none.
     */
    public long naturalUntil = Long.MIN_VALUE;

    public WindowProfile() {}

    /** An empty profile for a window without records. */
    public static WindowProfile empty(long windowStart, long windowEnd, int maxParallelism, double samplingRate) {
        WindowProfile p = new WindowProfile();
        p.windowStart = windowStart;
        p.windowEnd = windowEnd;
        p.samplingRate = samplingRate;
        p.keyGroupCounts = new long[maxParallelism];
        p.hotKeys = new String[0];
        p.hotKeyGroups = new int[0];
        p.hotEstimates = new double[0];
        p.hotLowerBounds = new double[0];
        p.hotUpperBounds = new double[0];
        return p;
    }
}
