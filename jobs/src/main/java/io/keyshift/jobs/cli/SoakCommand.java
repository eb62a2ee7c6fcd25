package io.keyshift.jobs.cli;

import io.keyshift.jobs.cluster.Soak;
import org.apache.flink.configuration.Configuration;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code keyshift soak}: the predictive job on a standalone cluster for N minutes, sampled, checked against hash. */
@Command(name = "soak",
        header = "Runs the job on a local cluster for minutes and samples its state size, heap and latency.",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Starts a standalone cluster (under OUT/cluster), runs the predictive job on the generator's",
            "drifting hot set for --minutes at --rate records per second, and samples it every --sample-every:",
            "keyshift's checkpointed bytes per job vertex, routing-table size, waiting records, heap after a full",
            "GC of every JVM (jcmd), the largest p99 of Flink's latency markers, migrations and validation counts.",
            "Then runs hash on the same records and compares the results line for line. Writes OUT/soak.json and",
            "OUT/soak.png and prints the medians of the first and last five minutes.",
            "The generator keeps its unbounded form's density (2,000 records per event hour by default) and holds",
            "rate x minutes records, so the job ends by itself after about --minutes.",
            "Exit status: 0 results equal to hash's and no validation mismatch, 1 otherwise or failed, 2 bad options."},
        footer = {"", "Example (the acceptance run of issue 17):", "  bin/keyshift soak --minutes 30 --out /tmp/soak"})
public final class SoakCommand implements Callable<Integer> {
    /** Records per event day of the generator's unbounded form (336,000 over 7 days). */
    static final double RECORDS_PER_EVENT_DAY = 48_000;

    /** Most minutes of a soak (about 19 years): its time limit, 3 x the minutes + 5, stays within a long of ns. */
    static final double MAX_MINUTES = 10_000_000;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--minutes", defaultValue = "30", paramLabel = "N",
            description = "How long the job runs, > 0 and at most 10,000,000 (19 years), with --rate records a second "
                    + "at 48,000 a day of event time within the year 9999 (about 2,330,000 minutes at --rate 1000). "
                    + "Default: ${DEFAULT-VALUE}.")
    double minutes;

    @Option(names = "--rate", defaultValue = "1000", paramLabel = "RECORDS_PER_SECOND",
            description = "Source rate in total. Default: ${DEFAULT-VALUE}.")
    double rate;

    @Option(names = "--sample-every", defaultValue = "60s", paramLabel = "DURATION",
            description = "Sampling interval, shorter than --minutes. Default: ${DEFAULT-VALUE}.")
    String sampleEvery;

    @Option(names = "--window", defaultValue = "1h", paramLabel = "DURATION", description = "Tumbling window (event time). Default: ${DEFAULT-VALUE}.")
    String window;

    @Option(names = "--parallelism", defaultValue = "4", paramLabel = "N", description = "Job parallelism. Default: ${DEFAULT-VALUE}.")
    int parallelism;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output directory (must be empty or new).")
    Path out;

    @Option(names = "--config", paramLabel = "DIR", description = "Directory with config.yaml. Default: flink-conf/.")
    Path config;

    @Mixin
    GeneratorOptions gen;

    @Option(names = "-D", paramLabel = "key=value", mapFallbackValue = "",
            description = "A keyshift.* or job-level Flink option for the job, e.g. -Dkeyshift.plan.alpha=0.5.")
    Map<String, String> dynamic = new LinkedHashMap<>();

    /** The shortest --sample-every: a sample runs a full GC in every JVM and scrapes every metric port. */
    static final Duration MIN_SAMPLE_EVERY = Duration.ofSeconds(10);

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (!(minutes > 0 && minutes <= MAX_MINUTES) || !(rate >= 1 && rate < Double.POSITIVE_INFINITY)) {
            // (a hundred million minutes overflowed the run's time limit, in nanoseconds, once the cluster had started)
            throw new ParameterException(cl, "--minutes must be > 0 and at most 10,000,000, and --rate at least 1 "
                    + "record/s and finite, were " + minutes + " and " + rate);
        }
        long records = Math.round(rate * minutes * 60);
        if (records < 1) {
            throw new ParameterException(cl, "--rate " + rate + " over --minutes " + minutes + " gives no record");
        }
        for (String sized : List.of("--generator-records", "--generator-days")) {
            if (cl.getParseResult().hasMatchedOption(sized)) {
                throw new ParameterException(cl, sized + " does not apply to soak: the generator runs --rate records "
                        + "per second for --minutes, at " + (long) RECORDS_PER_EVENT_DAY + " records per day of "
                        + "event time");
            }
        }
        if (records / RECORDS_PER_EVENT_DAY > GeneratorOptions.MAX_DAYS) {
            // (refused later as a --generator-days, an option soak does not take)
            throw new ParameterException(cl, String.format("--rate %s over --minutes %s makes %,d records, %,.0f days "
                    + "of event time at %,d records a day: past the year 9999, the latest event time keyshift takes",
                    rate, minutes, records, records / RECORDS_PER_EVENT_DAY, (long) RECORDS_PER_EVENT_DAY));
        }
        if (parallelism < 1 || parallelism > 16) {
            throw new ParameterException(cl, "--parallelism must be in 1..16, was " + parallelism);
        }
        Duration every = FlinkOptions.positive(cl, "--sample-every", sampleEvery);
        if (every.compareTo(MIN_SAMPLE_EVERY) < 0) {
            // a sample forces a full garbage collection in every JVM and scrapes every metric port (1-2 s): samples
            // back to back kept the cluster in full GCs, distorting the latency and heap figures the soak measures
            throw new ParameterException(cl, "--sample-every " + sampleEvery + " must be at least "
                    + org.apache.flink.util.TimeUtils.formatWithHighestUnit(MIN_SAMPLE_EVERY) + ": each sample runs a "
                    + "full garbage collection in every JVM of the cluster");
        }
        if (every.toMillis() >= minutes * 60_000) {
            // the first sample is due one interval in: the soak ran, took no sample, and named a soak.png it never drew
            throw new ParameterException(cl, "--sample-every " + sampleEvery + " must be shorter than --minutes "
                    + minutes + ": the first sample is taken one interval after the job starts");
        }
        Duration w = FlinkOptions.window(cl, "--window", window);
        String tooMany = ReplayCommand.tooManyWindows(records / RECORDS_PER_EVENT_DAY, w);
        if (tooMany != null) {
            throw new ParameterException(cl, tooMany);
        }
        Path confDir = config != null ? config : FlinkConfig.defaultConfDir();
        if (config != null && !Files.isRegularFile(config.resolve("config.yaml"))) {
            throw new ParameterException(cl, "--config: no config.yaml in " + config);
        }
        FlinkOptions.refuseParallelismDefault(cl, dynamic);
        if (dynamic.containsKey(io.keyshift.config.JobOptions.WINDOW.key())) {
            throw new ParameterException(cl, "-D" + io.keyshift.config.JobOptions.WINDOW.key() + ": soak takes the "
                    + "planning window from --window");
        }
        try {
            // config.yaml's window as it is: checked with it (or the default hour), options that depend on the
            // window were refused for a window the user did not give
            String other = FlinkConfig.otherWindow(FlinkConfig.readConfigYaml(confDir), w);
            if (other != null) {
                throw new ParameterException(cl, other);
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "-D / config.yaml: " + e.getMessage());
        }
        // the job's options, checked against the job's window before a cluster starts
        java.util.Map<String, String> withWindow = new java.util.LinkedHashMap<>(dynamic);
        withWindow.put(io.keyshift.config.JobOptions.WINDOW.key(), w.toMillis() + " ms");
        try {
            Configuration jobConf = FlinkConfig.loadForCluster(confDir, withWindow);
            // the hash reference at the end runs on a local cluster with config.yaml's settings, the job with the
            // -D ones too: a savepoint to restore or reactive mode failed them (the reference after the whole soak);
            // the reference's web UI binds config.yaml's port (the soak's own cluster takes a free one)
            FlinkOptions.checkNoRestore(cl, jobConf, true);
            FlinkOptions.checkRestPort(cl, FlinkConfig.load(confDir, java.util.Map.of(
                    io.keyshift.config.JobOptions.WINDOW.key(), w.toMillis() + " ms")));
            // the soak's cluster runs from keyshift's class path
            FlinkConfig.checkLocalStateBackend(jobConf);
            int maxP = jobConf.getOptional(org.apache.flink.configuration.PipelineOptions.MAX_PARALLELISM).orElse(
                    jobConf.get(io.keyshift.config.JobOptions.DEFAULT_MAX_PARALLELISM));
            io.keyshift.config.KeyshiftConfig.checkScalingBounds(jobConf, maxP);
            io.keyshift.config.KeyshiftConfig.checkScaledParallelism(jobConf, parallelism);
            // the job's own refusals, here before a cluster starts (the job would fail only once submitted to it)
            if (parallelism > maxP) {
                throw new ParameterException(cl, "--parallelism must be in 1.." + maxP + " (the max parallelism), was "
                        + parallelism);
            }
            // the soak's TaskManager gets max(4, --parallelism) slots: a wider results path waited for slots and
            // restarted until the soak's time limit (3 x --minutes + 5)
            int slots = Math.max(4, parallelism);
            int results = Math.min(maxP, io.keyshift.config.JobOptions.resultsPathParallelism(
                    jobConf.get(io.keyshift.config.JobOptions.RESULTS_PATH_PARALLELISM), parallelism));
            if (results > slots) {
                throw new ParameterException(cl, io.keyshift.config.JobOptions.RESULTS_PATH_PARALLELISM.key() + " "
                        + results + " needs more slots than the soak's TaskManager has (max(4, --parallelism) = "
                        + slots + "): lower it, or raise --parallelism");
            }
            String noCheckpoints = io.keyshift.jobs.KeyshiftJob.noCheckpoints(jobConf);
            if (noCheckpoints != null) {
                throw new ParameterException(cl, noCheckpoints);
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "-D / config.yaml: " + e.getMessage());
        }
        // the hash reference at the end runs on a local cluster with config.yaml's slots: short of them it waited for
        // slots and restarted, failing a quarter of an hour after the whole soak
        try {
            FlinkOptions.checkSlots(cl, FlinkConfig.readConfigYaml(confDir), parallelism,
                    "--parallelism (the hash reference run after the soak, on a local cluster)");
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--config: " + e.getMessage());
        }
        try {
            // the cluster's memory sizes, as cluster start checks them (Flink's sizing failed with a stack trace
            // once --out was made)
            io.keyshift.jobs.cluster.StandaloneCluster.checkMemory(new io.keyshift.jobs.cluster.StandaloneCluster
                    .Settings(confDir, out.toAbsolutePath().resolve("cluster"), "", 0, 0, java.util.Map.of()));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--config: " + e.getMessage());
        }
        Path home = FlinkConfig.home();
        Path cpFile = ClusterCommand.clusterClasspathFile();
        Path jar = ClusterCommand.jobJar();
        if (!Files.isRegularFile(cpFile) || !Files.isRegularFile(jar)) {
            throw new ParameterException(cl, jar + " or " + cpFile + " is missing: build with mvn package first");
        }
        FlinkOptions.outputDirectory(cl, "--out", out);
        // held while the soak runs, as a replay or bench holds theirs: a replay started into the soak's --out before
        // its first sample (soak.json) found only cluster/ and job/, and wrote beside them
        ReplayOutput.claim(cl, out);
        try (var entries = Files.list(out)) {
            if (entries.findAny().isPresent()) {
                throw new ParameterException(cl, "--out " + out + " is not empty: a soak writes into a new or empty "
                        + "directory");
            }
        }
        double days = records / RECORDS_PER_EVENT_DAY;
        gen.size(records, days);
        var reference = gen.generator(cl, false);
        List<String> args = new ArrayList<>(gen.args(records, days));
        args.addAll(List.of("--window", window, "--parallelism", Integer.toString(parallelism), "--rate",
                Double.toString(rate), "-Dmetrics.latency.interval=5000"));
        dynamic.forEach((k, v) -> args.add("-D" + k + "=" + v));
        System.err.printf("soak: %s, %,d records at %,.0f/s (about %.1f minutes), window %s, parallelism %d%n",
                gen.describe(), records, rate, minutes, window, parallelism);
        Soak.Outcome o = Soak.run(new Soak.Settings(out.toAbsolutePath(), confDir.toAbsolutePath(),
                Files.readString(cpFile).trim(), jar, Duration.ofMillis(Math.round(minutes * 60_000)), every, args,
                reference, w, parallelism, System.err));
        System.out.printf("soak: %,d results, %d result mismatches against hash, %,d completed migrations (the highest "
                        + "count sampled), %d validation mismatches%n", o.results(), o.resultMismatches(), o.migrations(),
                o.validationMismatches());
        o.report().path("first_vs_last").fields().forEachRemaining(e -> {
            if (e.getValue().isObject()) {
                System.out.printf("  %-40s first %,14.1f   last %,14.1f%n", e.getKey(),
                        e.getValue().path("first").asDouble(), e.getValue().path("last").asDouble());
            }
        });
        System.out.println("soak: " + out.resolve("soak.json") + ", " + out.resolve("soak.png"));
        return o.exact() ? 0 : 1;
    }
}
