package io.keyshift.jobs.cli;

import io.keyshift.jobs.bench.ThroughputBench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code keyshift bench}: throughput and latency of hash versus predictive, with a capacity model. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the built-in generator at full speed through hash and predictive on a local MiniCluster, "
                + "for uniform keys and for a skewed hot set that drifts slowly, with a capacity model (a fixed "
                + "service time per record in the window operator that waits rather than burns CPU). Prints and "
                + "writes DIR/bench.json: throughput (records/s), p50/p99 end-to-end latency and their ratio."})
public final class BenchCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    FlinkOptions flink;

    @Option(names = "--records", defaultValue = "1000000", paramLabel = "N",
            description = "Records per run. Default: ${DEFAULT-VALUE}.")
    long records;

    @Option(names = "--days", defaultValue = "2", paramLabel = "DAYS",
            description = "Event-time days the records span (the hot set drifts once a day). Default: ${DEFAULT-VALUE}.")
    double days;

    @Option(names = "--keys", defaultValue = "2000", paramLabel = "N", description = "Distinct keys. Default: ${DEFAULT-VALUE}.")
    int keys;

    @Option(names = "--zipf", defaultValue = "1.1", paramLabel = "S",
            description = "Zipf exponent of the skewed run. Default: ${DEFAULT-VALUE}.")
    double zipf;

    @Option(names = "--drift", defaultValue = "4", paramLabel = "KEYS",
            description = "Key positions the hot set moves away and back per day. At full speed a day of event time "
                    + "passes in about 8 s of wall time: with 4 the hottest key changes about once a second, with 40 "
                    + "every tenth of a second (faster than the network buffers turn over, so hashing's hot subtask "
                    + "changes before its queue fills). Default: ${DEFAULT-VALUE}.")
    int drift;

    @Option(names = "--parallelism", defaultValue = "8", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
    int parallelism;

    @Option(names = "--service-time", defaultValue = "100us", paramLabel = "DURATION",
            description = "Capacity model: wait per record in the window operator (0 = off). At 100us the 8 modelled "
                    + "subtasks, not the 2 cores of a small machine, bound throughput; at 20us the cores do. "
                    + "Default: ${DEFAULT-VALUE}.")
    String serviceTime;

    @Option(names = "--window", defaultValue = "1h", paramLabel = "DURATION", description = "Default: ${DEFAULT-VALUE}.")
    String window;

    @Option(names = "--out", defaultValue = "bench-out", paramLabel = "DIR", description = "Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--latency-rate", defaultValue = "0", paramLabel = "RECORDS_PER_SECOND",
            description = "Also run the skewed workload at this offered load (throttled source) and report its "
                    + "latency: below the balanced subtasks' capacity but above hashing's hot subtask's. 0 = skip. "
                    + "Default: ${DEFAULT-VALUE}.")
    double latencyRate;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (records < 1 || keys < 1 || parallelism < 1 || days <= 0) {
            throw new ParameterException(cl, "--records, --keys, --parallelism and --days must be positive");
        }
        java.time.Duration service;
        try {
            // Flink's duration syntax spells microseconds "µs" or "micro"; "us" is accepted too
            service = org.apache.flink.util.TimeUtils.parseDuration(serviceTime.trim().replaceFirst("us$", "µs"));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--service-time: invalid duration '" + serviceTime + "'");
        }
        Files.createDirectories(out);
        ObjectNode json = ThroughputBench.run(new ThroughputBench.Settings(records, days, keys, zipf, drift, parallelism,
                service, FlinkOptions.window(cl, "--window", window), flink.load(cl), latencyRate), System.out);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("bench.json").toFile(), json);
        System.out.println("bench.json: " + out.resolve("bench.json"));
        return 0;
    }
}
