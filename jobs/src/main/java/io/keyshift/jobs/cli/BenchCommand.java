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
import java.util.List;
import java.util.concurrent.Callable;

/** {@code keyshift bench}: throughput and latency of hash versus predictive, with a capacity model. */
@Command(name = "bench",
        header = "Measures throughput, CPU and latency of keyshift against plain keyBy and Flink SQL.",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs the built-in generator at full speed through plain keyBy, keyshift and Flink SQL's "
                + "two-phase window aggregation on a local MiniCluster, over a matrix of key distributions (uniform, a Zipf hot set held for the whole run, "
                + "one that drifts) and service times (a capacity model: the window operator waits, does not burn "
                + "CPU, this long per record; 0 = CPU-bound). Per cell: an unmeasured warm-up run per system, then "
                + "--repetitions rounds in alternating order. Prints each run and each cell's medians; writes "
                + "DIR/bench.json (throughput, CPU per record, p50/p99 latency (SQL's at its local aggregate, before "
                + "the exchange), ranges, ratios to keyBy) and "
                + "DIR/bench.png. Every run's window results are counted and must add up to the records read, with as many "
                + "results as keyBy's. The full default matrix takes about 50 minutes on 2 cores (README, Throughput)."})
public final class BenchCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    FlinkOptions flink;

    @Option(names = "--records", defaultValue = "0", paramLabel = "N",
            description = "Records per run (0: the default). Default: by service time, 24,000,000 at 0, 16,000,000 "
                    + "at 20us, 1,000,000 at 100us (long enough that the job's start is a small share).")
    long records;

    @Option(names = "--keys-distributions", split = ",", defaultValue = "uniform,held,drifting", paramLabel = "D[,D...]",
            hideParamSyntax = true,
            description = "Key distributions of the matrix: uniform, held (a Zipf hot set that stays put), drifting. "
                    + "Default: ${DEFAULT-VALUE}.")
    List<String> workloads;

    @Option(names = "--service-times", split = ",", defaultValue = "0,20us,100us", paramLabel = "T[,T...]",
            hideParamSyntax = true,
            description = "Service times of the matrix (capacity model: wait per record in the window operator; "
                    + "0 = off, CPU-bound). At 20us and 100us the 8 modelled subtasks, not the 2 cores of a small "
                    + "machine, bound throughput (at 20us over the default 16M records; in runs of 2M the JIT "
                    + "compilers' CPU made the cores bind). Default: ${DEFAULT-VALUE}.")
    List<String> serviceTimes;

    @Option(names = "--repetitions", defaultValue = "3", paramLabel = "N",
            description = "Measured runs per system and cell (medians and ranges). Default: ${DEFAULT-VALUE}.")
    int repetitions;

    @Option(names = "--days", defaultValue = "0", paramLabel = "DAYS",
            description = "Event-time days each run's records span (the hot set drifts once a day; 0: the default). "
                    + "Default: by service time, 16 at 20us (a million records a day), 2 at 0 and 100us.")
    double days;

    @Option(names = "--keys", defaultValue = "2000", paramLabel = "N", description = "Distinct keys. Default: ${DEFAULT-VALUE}.")
    int keys;

    @Option(names = "--zipf", defaultValue = "1.1", paramLabel = "S",
            description = "Zipf exponent of the held and drifting distributions. Default: ${DEFAULT-VALUE}.")
    double zipf;

    @Option(names = "--drift", defaultValue = "4", paramLabel = "KEYS",
            description = "Key positions the drifting hot set moves away and back per day of event time. "
                    + "Default: ${DEFAULT-VALUE}.")
    int drift;

    @Option(names = "--parallelism", defaultValue = "8", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
    int parallelism;

    @Option(names = "--window", defaultValue = "1h", paramLabel = "DURATION", description = "Default: ${DEFAULT-VALUE}.")
    String window;

    @Option(names = "--out", defaultValue = "bench-out", paramLabel = "DIR",
            description = "Output directory (bench.json, bench.png); refused if it holds an earlier bench's figures, "
                    + "unless --overwrite, and if it holds another command's output (give each its own). "
                    + "Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--overwrite", description = "Replace an earlier bench's bench.json and bench.png in --out.")
    boolean overwrite;

    @Option(names = "--latency-rate", defaultValue = "0", paramLabel = "RECORDS_PER_SECOND",
            description = "Also run the drifting keys at this offered load (throttled source), at the first service "
                    + "time, and report latency: below the balanced subtasks' capacity but above hashing's hot "
                    + "subtask's; keyBy and keyshift, a warm-up run each, then --repetitions rounds in alternating "
                    + "order (medians). 0 = skip. "
                    + "Default: ${DEFAULT-VALUE}.")
    double latencyRate;

    /**
     * The longest a latency run may take at its offered load (records ÷ --latency-rate), and the least a matrix run
     * may take (records × service time ÷ parallelism), s: an hour.
     */
    static final long MAX_LATENCY_RUN_SECONDS = 3_600;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (keys < 1 || keys > GeneratorOptions.MAX_KEYS) {
            throw new ParameterException(cl, String.format("--keys must be in 1..%,d (the generator's), was %,d",
                    GeneratorOptions.MAX_KEYS, keys));
        }
        if (parallelism < 1) {
            throw new ParameterException(cl, "--parallelism must be >= 1, was " + parallelism);
        }
        // the generator's table of a double per key (one for every source subtask of this JVM): past half its heap
        // the first warm-up run ran out of memory, after --overwrite had removed the earlier bench.json (the check
        // counted a table per subtask, which the generator no longer makes, and refused 20M keys at parallelism 16)
        long tableBytes = 8L * keys;
        if (tableBytes > Runtime.getRuntime().maxMemory() / 2) {
            throw new ParameterException(cl, String.format("--keys %,d needs %,d MiB for the generator's table (8 "
                    + "bytes a key), more than half this JVM's heap (%,d MiB): fewer keys, or a larger heap "
                    + "(KEYSHIFT_JAVA_OPTS=-Xmx...)", keys, tableBytes >> 20, Runtime.getRuntime().maxMemory() >> 20));
        }
        if (!(days >= 0 && days < Double.POSITIVE_INFINITY)) {
            throw new ParameterException(cl, "--days must be >= 0 (0: by service time) and finite, was " + days);
        }
        if (parallelism > ThroughputBench.MAX_PARALLELISM) {
            throw new ParameterException(cl, "--parallelism must be <= " + ThroughputBench.MAX_PARALLELISM
                    + " (the bench's max parallelism), was " + parallelism);
        }
        // the generator's own checks come only when a cell's job is built, possibly minutes in
        if (!(zipf >= 0 && zipf < Double.POSITIVE_INFINITY)) {
            throw new ParameterException(cl, "--zipf must be >= 0 and finite, was " + zipf);
        }
        if (drift < 0) {
            throw new ParameterException(cl, "--drift must be >= 0, was " + drift);
        }
        if (!(latencyRate == 0 || latencyRate >= 1 && latencyRate < Double.POSITIVE_INFINITY)) {
            // below a record a second a source subtask sleeps for seconds per record: the run would never end
            throw new ParameterException(cl, "--latency-rate must be 0 (no latency runs) or at least 1 record/s, and "
                    + "finite, was " + latencyRate);
        }
        if (records < 0) {
            throw new ParameterException(cl, "--records must be >= 0 (0: by service time), was " + records);
        }
        if (repetitions < 1) {
            throw new ParameterException(cl, "--repetitions must be >= 1, was " + repetitions);
        }
        List<java.time.Duration> services = new java.util.ArrayList<>();
        for (String st : serviceTimes) {
            // Flink's duration syntax spells microseconds "µs" or "micro"; "us" (any case, as Flink's units) too;
            // bounded as every duration option (200000d overflowed in the bench's arithmetic, after --overwrite had
            // cleared the earlier bench.json)
            services.add(FlinkOptions.duration(cl, "--service-times", st.trim().replaceFirst("(?i)us$", "µs"), true));
        }
        for (java.time.Duration service : services) {
            // no run can be shorter than its records' service time spread evenly over the subtasks: at --service-times
            // 1s the default million records took keyBy days a run, without a word until its end
            long runRecords = records > 0 ? records : ThroughputBench.defaultRecords(service);
            double seconds = runRecords * (service.toNanos() / 1e9) / parallelism;
            if (seconds > MAX_LATENCY_RUN_SECONDS) {
                throw new ParameterException(cl, String.format("--service-times %s: a run's %,d records (--records, "
                        + "or its default) take at least %,.0f s at --parallelism %d, above the %,d s a run may take: "
                        + "a shorter service time or fewer --records",
                        org.apache.flink.util.TimeUtils.formatWithHighestUnit(service), runRecords, seconds,
                        parallelism, MAX_LATENCY_RUN_SECONDS));
            }
        }
        if (latencyRate > 0) {
            // the latency runs read a cell's records through a source throttled to the rate: at 10 records/s the
            // default 24M of service time 0 took 28 days a run, after the whole matrix, without a word
            long latencyRecords = records > 0 ? records : ThroughputBench.defaultRecords(services.get(0));
            double seconds = latencyRecords / latencyRate;
            if (seconds > MAX_LATENCY_RUN_SECONDS) {
                throw new ParameterException(cl, String.format("--latency-rate %s offers a latency run's %,d records "
                        + "(--records, or the first service time's default) in %,.0f s, above the %,d s a run may "
                        + "take: raise the rate or lower --records", latencyRate, latencyRecords, seconds,
                        MAX_LATENCY_RUN_SECONDS));
            }
        }
        List<ThroughputBench.Keys> keyDistributions = new java.util.ArrayList<>();
        for (String w : workloads) {
            try {
                keyDistributions.add(ThroughputBench.Keys.of(w.trim()));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, "--keys-distributions: " + e.getMessage());
            }
        }
        // options of distributions the matrix does not run (and of the latency runs, drifting keys) were taken
        // without a word and written into bench.json's settings beside cells measured without them
        boolean skewed = keyDistributions.contains(ThroughputBench.Keys.HELD)
                || keyDistributions.contains(ThroughputBench.Keys.DRIFTING) || latencyRate > 0;
        if (cl.getParseResult().hasMatchedOption("--zipf") && !skewed) {
            throw new ParameterException(cl, "--zipf applies to the held and drifting distributions (and --latency-rate's "
                    + "runs), which --keys-distributions " + String.join(",", workloads) + " does not run");
        }
        if (cl.getParseResult().hasMatchedOption("--drift") && !keyDistributions.contains(ThroughputBench.Keys.DRIFTING)
                && latencyRate == 0) {
            throw new ParameterException(cl, "--drift applies to the drifting distribution (and --latency-rate's runs), "
                    + "which --keys-distributions " + String.join(",", workloads) + " does not run");
        }
        java.time.Duration w = FlinkOptions.window(cl, "--window", window);
        for (java.time.Duration service : services) {
            double d = days > 0 ? days : ThroughputBench.defaultDays(service);
            String tooMany = ReplayCommand.tooManyWindows(d, w);
            if (tooMany != null) {
                throw new ParameterException(cl, tooMany);
            }
        }
        try {
            ThroughputBench.checkWindow(w);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--window: " + e.getMessage());
        }
        for (String set : OVERRIDDEN) {
            if (flink.dynamic.containsKey(set)) {
                throw new ParameterException(cl, "-D" + set + ": the bench sets it for every run (heap state, "
                        + "watermarks every 50 ms, 128 key groups, --parallelism, its own capacity model, Flink SQL's "
                        + "two-phase aggregation with mini-batch in UTC)");
            }
        }
        org.apache.flink.configuration.Configuration conf = benchConfig(
                flink.load(cl, w), flink.dynamic);
        FlinkOptions.checkSlots(cl, conf, parallelism);
        FlinkOptions.checkLocalRun(cl, conf, true);
        // the options again with the bench's own lease lead, which config.yaml's was checked in its place
        org.apache.flink.configuration.Configuration withLead = new org.apache.flink.configuration.Configuration(conf);
        withLead.set(io.keyshift.config.PlanOptions.LEASE_LEAD, ThroughputBench.leaseLead(conf));
        try {
            io.keyshift.config.KeyshiftConfig.validate(withLead);
            io.keyshift.config.KeyshiftConfig.checkScalingBounds(withLead, ThroughputBench.MAX_PARALLELISM);
            io.keyshift.config.KeyshiftConfig.checkScaledParallelism(withLead, parallelism);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "-D / config.yaml: " + e.getMessage() + " (the bench's lease lead is "
                    + withLead.get(io.keyshift.config.PlanOptions.LEASE_LEAD) + ")");
        }
        if (conf.containsKey(io.keyshift.jobs.workload.FaultOptions.WINDOW_FAILURE_TIMES.key())) {
            // a run whose job restarted fails the bench (its counts lost the earlier attempt's)
            throw new ParameterException(cl, io.keyshift.jobs.workload.FaultOptions.WINDOW_FAILURE_TIMES.key()
                    + ": an injected failure restarts the run, and the bench fails a run that restarted");
        }
        try {
            ThroughputBench.checkSqlPlan(conf, w);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "-D / config.yaml: " + e.getMessage());
        }
        var settings = new ThroughputBench.Settings(records, days, keys, zipf, drift, parallelism, services,
                keyDistributions, repetitions, w, conf, latencyRate);
        FlinkOptions.outputDirectory(cl, "--out", out);
        // never leave an earlier run's figures beside this run's, nor remove them unasked
        ReplayOutput.prepare(cl, out, overwrite, name -> name.equals("bench.json") || name.equals("bench.png"));
        // bench.json after each cell ("complete": false until the end), replaced atomically: a failure in a later
        // cell (the matrix takes about 50 minutes) kept nothing of the cells measured before it
        ObjectNode json = ThroughputBench.run(settings, System.out, partial -> writeJson(out, partial));
        writeJson(out, json);
        ThroughputBench.chart(json, out.resolve("bench.png"));
        System.out.println("bench.json: " + out.resolve("bench.json") + ", chart: " + out.resolve("bench.png"));
        return 0;
    }

    /** Writes bench.json under {@code out} through a temporary file and a rename. */
    private static void writeJson(java.nio.file.Path out, ObjectNode json) {
        java.nio.file.Path tmp = out.resolve(".bench.json.tmp");
        try {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), json);
            java.nio.file.Files.move(tmp, out.resolve("bench.json"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + out.resolve("bench.json"), e);
        }
    }

    /** Options the bench sets for every run itself: a {@code -D} of one would be overridden without a word. */
    static final java.util.List<String> OVERRIDDEN = java.util.List.of("state.backend.type",
            "pipeline.auto-watermark-interval", "pipeline.max-parallelism", "parallelism.default",
            io.keyshift.config.JobOptions.DEFAULT_MAX_PARALLELISM.key(),
            io.keyshift.jobs.workload.BenchOptions.SERVICE_TIME.key(),
            io.keyshift.jobs.workload.BenchOptions.LATENCY_ID.key(),
            // the SQL contender's (SqlTwoPhase#build): the remedy the bench measures is two-phase with mini-batch
            "table.exec.mini-batch.enabled", "table.exec.mini-batch.allow-latency", "table.exec.mini-batch.size",
            "table.optimizer.agg-phase-strategy", "table.local-time-zone");

    /**
     * The bench's configuration from {@code loaded} (config.yaml with the {@code -D} options {@code dynamic}): the
     * bench keeps its own lease lead (the library's default, {@code ThroughputBench.leaseLead}) unless {@code -D} sets
     * one, since config.yaml's is for jobs (until 2026-12-02 the shipped one's 1 replaced the bench's 3 unseen).
     */
    static org.apache.flink.configuration.Configuration benchConfig(org.apache.flink.configuration.Configuration loaded,
                                                                    java.util.Map<String, String> dynamic) {
        if (!dynamic.containsKey(io.keyshift.config.PlanOptions.LEASE_LEAD.key())) {
            loaded.removeConfig(io.keyshift.config.PlanOptions.LEASE_LEAD);
        }
        return loaded;
    }
}
