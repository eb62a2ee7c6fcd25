package io.keyshift.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/** Options of the key sampler and the key-distribution profiler. */
public final class ProfilerOptions {
    private ProfilerOptions() {}

    public static final ConfigOption<Integer> SKETCH_SIZE = ConfigOptions.key("keyshift.profiler.sketch-size")
            .intType()
            .defaultValue(1024)
            .withDescription("Maximum map size of the DataSketches frequent-items sketch per sampler subtask and "
                    + "window (a power of 2, 8 .. 2^26). It keeps up to 0.75 x this many keys in about 18 bytes each "
                    + "plus the keys; at sampling rate 1 every count estimate is within 3.5 / size x the window's "
                    + "records at each router subtask (up to about twice that for a window open across a rescale).");

    public static final ConfigOption<Double> SAMPLING_RATE = ConfigOptions.key("keyshift.profiler.sampling-rate")
            .doubleType()
            .defaultValue(1.0)
            .withDescription("Probability in (0, 1] that a record of a key not yet held is sampled (1.0 = every "
                    + "record goes to the heavy-hitter sketch). Below 1 the sampler uses sample and hold (Estan and "
                    + "Varghese 2002): a sampled key is counted exactly from then on (while the hold has room; beyond "
                    + "it, estimated from the sample) and the largest stay held into the next window; a key first "
                    + "sampled within a window is undercounted by about (1 - rate) / rate records at each router "
                    + "subtask that took it in. Key-group counts always count every record (but a late one of a window already closed).");

    public static final ConfigOption<Integer> TOP_K = ConfigOptions.key("keyshift.profiler.top-k")
            .intType()
            .defaultValue(128)
            .withDescription("Number of heavy-hitter keys per window that the forecaster tracks as their own series "
                    + "(and the planner may move one by one); 1 .. 1,000,000 and at most 0.75 x "
                    + "keyshift.profiler.sketch-size, the most keys the sketch keeps. At most 2 x top-k keys are tracked at once; beyond "
                    + "that, the keys with the lowest peak load over the age-out span stop being tracked first.");

    public static final ConfigOption<Integer> AGE_OUT_WINDOWS = ConfigOptions.key("keyshift.profiler.age-out-windows")
            .intType()
            .defaultValue(48)
            .withDescription("A tracked key that has not been among the top-k for this many windows (>= 1) stops being "
                    + "tracked; its load counts again in its key group's series.");
}
