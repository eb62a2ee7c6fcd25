package io.keyshift.jobs.workload;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;

/** Options of the throughput benchmark's capacity model (bin/keyshift bench); leave unset in production. */
public final class BenchOptions {
    private BenchOptions() {}

    public static final ConfigOption<Duration> SERVICE_TIME = ConfigOptions.key("keyshift.bench.service-time")
            .durationType()
            .defaultValue(Duration.ZERO)
            .withDescription("BENCHMARK ONLY. Capacity model: the window operator waits this long per record "
                    + "(parking the thread, not burning CPU), so that p subtasks act as p servers even on 2 cores "
                    + "and a hot subtask is a real bottleneck. 0 = off.");

    public static final ConfigOption<String> LATENCY_ID = ConfigOptions.key("keyshift.bench.latency-id")
            .stringType()
            .defaultValue("")
            .withDescription("BENCHMARK ONLY. Records each record's end-to-end latency (window operator time minus "
                    + "the emission time the bench source puts in the record's value, System.nanoTime, same JVM; "
                    + "a throttled source's: the time the record was due) "
                    + "under this id. Empty = off.");
}
