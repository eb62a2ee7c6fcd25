package io.keyshift.jobs.workload;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.util.List;

/**
 * Test-only faults, for proving that failures and bad shadows are survived and detected. Never set them in
 * production: they make the job fail or compute a wrong shadow on purpose.
 */
public final class FaultOptions {
    private FaultOptions() {}

    public static final ConfigOption<List<Long>> WINDOW_FAILURE_TIMES =
            ConfigOptions.key("keyshift.fault.window-failure-times")
                    .longType()
                    .asList()
                    .defaultValues()
                    .withDescription("TEST ONLY. Event times (epoch ms): the keyed window operator throws once, per "
                            + "time and fault id, when it first receives a record at or after each of them.");

    public static final ConfigOption<String> FAULT_ID = ConfigOptions.key("keyshift.fault.id")
            .stringType()
            .defaultValue("")
            .withDescription("TEST ONLY. Names a run's faults, so that each fails once per JVM (a restarted task "
                    + "does not fail again).");

    public static final ConfigOption<String> CORRUPT_SHADOW_KEY = ConfigOptions.key("keyshift.fault.corrupt-shadow-key")
            .stringType()
            .noDefaultValue()
            .withDescription("TEST ONLY. The window operator adds 1 to the count of every SHADOW result of this "
                    + "key, so the ShadowResolver must report mismatches for it.");
}
