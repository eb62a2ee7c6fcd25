package io.keyshift.jobs.cli;

import io.keyshift.config.JobOptions;
import io.keyshift.jobs.input.InputSpec;
import io.keyshift.jobs.input.ReplayInput;
import io.keyshift.jobs.replay.ReplayRunner;
import io.keyshift.jobs.report.ReplayReport;
import io.keyshift.jobs.source.ZipfDriftGenerator;
import io.keyshift.jobs.replay.Strategy;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code keyshift replay}: replays a historical stream (or the generator) through each strategy and reports. */
@Command(name = "replay",
        header = "Replays a keyed event stream through hash, reactive and predictive routing, and reports.",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Replays a keyed event stream through the keyshift dataflow on a local MiniCluster (RocksDB, checkpoints)",
            "and compares strategies: per key and tumbling event-time window, the count of records (and a sum).",
            "Without --input it replays the built-in generator: Zipf keys whose hot set drifts with a daily cycle.",
            "Writes results-<strategy>.csv, dead-letters.csv and report.json to --out and prints a summary.",
            "Exit status: 0 done, 1 the job failed or a strategy's results differ from hash's (or do not count",
            "every input record once), 2 bad options or input description."},
        footer = {"", "Example (bike share, daily windows):",
            "  bin/keyshift replay --input ../shared/data/bayarea-bikeshare-2014/batrips.csv.gz --key start_station \\",
            "    --time start_date --time-format 'yyyy-MM-dd HH:mm:ssXXX' --window 1d --parallelism 8 --out out/bikes",
            "",
            "bin/keyshift starts a replay's JVM with -Xmx4g -XX:TieredStopAtLevel=1 (the C1 compiler only: faster for "
                    + "replays of up to a few million records); KEYSHIFT_JAVA_OPTS replaces these options, e.g. "
                    + "-Xmx4g for C2."})
public final class ReplayCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    InputOptions in;

    @Option(names = "--sum-field", paramLabel = "COL",
            description = "Numeric column of --input to sum per key and window (with the generator, any name: its "
                    + "records' value, 1..100 from a hash of the record, is summed).")
    String sumField;

    @Option(names = "--window", paramLabel = "DURATION", defaultValue = "1h",
            description = "Tumbling window length, Flink duration syntax (5min, 1h, 1d). Default: ${DEFAULT-VALUE}.")
    String window;

    @Option(names = "--parallelism", paramLabel = "N", defaultValue = "4",
            description = "Parallelism of the source, router and keyed workload. Default: ${DEFAULT-VALUE}.")
    int parallelism;

    @Option(names = "--strategies", split = ",", paramLabel = "s1[,s2...]", hideParamSyntax = true,
            defaultValue = "hash,reactive,predictive",
            description = "Strategies to run, in order after hash (hash always runs, first: it is the reference). "
                    + "Default: ${DEFAULT-VALUE}.")
    List<String> strategies;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "replay-out",
            description = "Output directory; refused if it holds an earlier run's output, unless --overwrite, "
                    + "and if it holds a bench's, plan-bench's or soak's (give each its own). "
                    + "Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--overwrite",
            description = "Remove an earlier replay's or forecast-bench's output from --out (only what those "
                    + "write: report, charts, results, moves, forecasts, dead letters, work files), once the input "
                    + "has been read and checked.")
    boolean overwrite;

    @Option(names = "--rate", paramLabel = "RECORDS_PER_SECOND", defaultValue = "0",
            description = "Throttle the source to this many records per second in total, at least 1 (0 = full speed). "
                    + "Default: ${DEFAULT-VALUE}.")
    double rate;

    @Option(names = "--scale", split = ",", paramLabel = "policy[,policy...]", hideParamSyntax = true,
            description = "Also run the predictive strategy with these scaling policies applied (predictive, "
                    + "reactive): each decision is actuated by stop-with-savepoint and restore at the new parallelism. "
                    + "Needs -Dkeyshift.scaling.capacity=RECORDS_PER_WINDOW and -Dkeyshift.scaling.max-parallelism=N. "
                    + "Adds the scaling section (overload windows, rescales, slot-hours) and a parallelism chart.")
    List<String> scale = new ArrayList<>();

    @Option(names = "--control", paramLabel = "FILE",
            description = "Control commands for the planner, one per line: AT,pin,KEY | AT,unpin,KEY | AT,freeze | "
                    + "AT,unfreeze | AT,rollback,VERSION | AT,revert,KEY,KEY_GROUP | AT,scale,PARALLELISM | "
                    + "AT,unscale | AT,anomaly-z,Z | AT,sampling-rate,RATE (AT: an instant such as "
                    + "2014-03-01T00:00:00Z or 2014-03-01T01:00:00+01:00, epoch ms, or now: from the first plan; "
                    + "README, \"Steering a job\"). Each holds for the plans whose migrations start at or after AT; "
                    + "the same file gives the same plans on every run. Refused lines go to "
                    + "OUT/control-rejected-<strategy>.csv with their reason.")
    Path control;

    @CommandLine.Mixin
    FlinkOptions flink;


    @CommandLine.Mixin
    GeneratorOptions gen;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        Duration windowDuration = FlinkOptions.window(cl, "--window", window);
        if (parallelism < 1) {
            throw new ParameterException(cl, "--parallelism must be >= 1, was " + parallelism);
        }
        if (!(rate == 0 || rate >= 1 && rate < Double.POSITIVE_INFINITY)) {
            // below one record a second in total a source subtask would sleep minutes per record (in effect a hang)
            throw new ParameterException(cl, "--rate must be 0 (full speed) or at least 1 record/s and finite, was "
                    + rate);
        }
        // an input's options without --input, or the generator's with it, would be ignored without a word
        CommandLine.ParseResult parsed = cl.getParseResult();
        for (CommandLine.Model.OptionSpec o : cl.getCommandSpec().options()) {
            if (!parsed.hasMatchedOption(o)) {
                continue;
            }
            String name = o.longestName();
            // (--sum-field also sums the generator's values)
            boolean inputOption = List.of("--columns", "--key", "--time", "--time-format", "--time-zone").contains(name);
            boolean generatorOption = name.startsWith("--generator-") || name.equals("--seed");
            if (inputOption && !in.present()) {
                throw new ParameterException(cl, name + " describes an --input file, and there is none (without "
                        + "--input the replay runs the built-in generator)");
            }
            if (generatorOption && in.present()) {
                throw new ParameterException(cl, name + " sets the built-in generator, which does not run with "
                        + "--input");
            }
        }
        List<Strategy> chosen = new ArrayList<>();
        for (String s : strategies) {
            try {
                chosen.add(Strategy.parse(s));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, "--strategies: " + e.getMessage());
            }
        }
        flink.refuseParallelismDefault(cl);
        for (var option : List.of(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                org.apache.flink.configuration.CheckpointingOptions.SAVEPOINT_DIRECTORY)) {
            // and the deprecated names Flink still reads for them (state.checkpoints.dir, ...)
            List<String> keys = new ArrayList<>(List.of(option.key()));
            option.fallbackKeys().forEach(k -> keys.add(k.getKey()));
            String key = keys.stream().filter(flink.dynamic::containsKey).findFirst().orElse(null);
            if (key != null) {
                // each run's were set under --out/.work, and the -D was ignored without a word
                throw new ParameterException(cl, "-D" + key + ": replay keeps each run's checkpoints and savepoints "
                        + "under --out/.work");
            }
        }
        Configuration conf = flink.load(cl, windowDuration);
        int maxP = conf.getOptional(PipelineOptions.MAX_PARALLELISM).orElse(conf.get(JobOptions.DEFAULT_MAX_PARALLELISM));
        if (parallelism > maxP) {
            throw new ParameterException(cl, "--parallelism " + parallelism + " exceeds the max parallelism " + maxP
                    + " (pipeline.max-parallelism / keyshift.max-parallelism)");
        }
        FlinkOptions.checkSlots(cl, conf, parallelism);
        // (--scale runs keyshift stages whatever --strategies)
        FlinkOptions.checkLocalRun(cl, conf, !scale.isEmpty() || chosen.stream().anyMatch(s -> s != Strategy.HASH));
        try {
            io.keyshift.config.KeyshiftConfig.checkScalingBounds(conf, maxP);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "-D / config.yaml: " + e.getMessage());
        }
        List<io.keyshift.avro.ScalingPolicy> scaled = new ArrayList<>();
        for (String p : scale) {
            io.keyshift.avro.ScalingPolicy policy;
            try {
                policy = io.keyshift.avro.ScalingPolicy.valueOf(p.trim().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, "--scale: expected predictive or reactive, was '" + p + "'");
            }
            // once each: a policy named twice would run twice into one directory, each result counted twice
            if (!scaled.contains(policy)) {
                scaled.add(policy);
            }
        }
        if (!scaled.isEmpty()) {
            if (conf.get(io.keyshift.config.ScalingOptions.CAPACITY) <= 0) {
                throw new ParameterException(cl, "--scale needs -Dkeyshift.scaling.capacity > 0 (records per window "
                        + "one subtask can process)");
            }
            int top = conf.get(io.keyshift.config.ScalingOptions.MAX_PARALLELISM);
            if (top <= 0 || top < parallelism) {
                throw new ParameterException(cl, "--scale needs -Dkeyshift.scaling.max-parallelism in " + parallelism
                        + ".." + maxP + " (the local cluster gets that many slots), was " + top);
            }
            int bottom = conf.get(io.keyshift.config.ScalingOptions.MIN_PARALLELISM);
            if (bottom > parallelism) {
                // the runs start at --parallelism; the policy would take the minimum for the parallelism in force
                throw new ParameterException(cl, "--scale: keyshift.scaling.min-parallelism (" + bottom + ") is above "
                        + "--parallelism (" + parallelism + "), where the scaled runs start: start at it or lower it");
            }
            int lead = conf.get(io.keyshift.config.PlanOptions.LEASE_LEAD);
            int lag = conf.get(io.keyshift.config.PlanOptions.ON_MISMATCH_LAG_WINDOWS);
            if (conf.get(io.keyshift.config.PlanOptions.ON_MISMATCH) == io.keyshift.config.PlanOptions.OnMismatch.REVERT
                    && lead > lag) {
                // the scaled runs' sources wait at each window's end for its scaling decision, which waits for the
                // plan, which waits for the validation to reach lead - lag windows past it: a wait for ever
                throw new ParameterException(cl, "--scale with keyshift.migration.on-mismatch=REVERT needs "
                        + "keyshift.plan.lease-lead (" + lead + ") at most keyshift.migration.on-mismatch.lag-windows ("
                        + lag + "): a plan waits for the validation to pass its leases' start, which the scaled "
                        + "runs' sources, waiting for each window's scaling decision, never let it reach");
            }
        }
        if (chosen.stream().anyMatch(x -> x != Strategy.HASH)) {
            // a keyshift strategy's stage is refused outside them (its build would fail after the hash run)
            try {
                io.keyshift.config.KeyshiftConfig.checkScaledParallelism(conf, parallelism);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, "-D / config.yaml / --parallelism: " + e.getMessage());
            }
        }
        if (control != null) {
            if (chosen.stream().allMatch(x -> x == Strategy.HASH) && scaled.isEmpty()) {
                throw new ParameterException(cl, "--control steers a keyshift strategy (predictive or reactive, or "
                        + "the runs of --scale); hash, the only one in --strategies, has no planner to steer");
            }
            if (!Files.isRegularFile(control) || !Files.isReadable(control)) {
                throw new ParameterException(cl, "--control: not a readable file: " + control);
            }
            try {
                io.keyshift.jobs.replay.Workload.checkControlFile(control);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, "--control: " + e.getMessage());
            }
            conf.set(io.keyshift.jobs.replay.Workload.CONTROL_FILE, control.toAbsolutePath().toString());
        }
        FlinkOptions.outputDirectory(cl, "--out", out);
        boolean withSum = sumField != null;
        // every option is checked before an earlier run's output is removed (--overwrite)
        InputSpec inputSpec = in.present()
                ? in.spec(cl, sumField, conf.getOptional(io.keyshift.config.PrivacyOptions.KEY_SECRET).isPresent())
                : null;
        ZipfDriftGenerator generator = in.present() ? null : gen.generator(cl, false);
        java.util.Map<String, Path> inputs = new java.util.LinkedHashMap<>();
        inputs.put("--input", in.input);
        inputs.put("--control", control);
        ReplayOutput.refuseInputsInOutput(cl, out, inputs);
        ReplayInput.Stats generated = null;
        if (generator != null) {
            // --out before the records are counted (as a file input is checked before it is read): an --out that
            // holds an earlier run's output was refused only after minutes of counting
            ReplayOutput.refuse(cl, out, overwrite, ReplayOutput::forecastBenchOrReplay);
            // from --generator-days first: counting a huge --generator-records took minutes without a word
            String tooMany = tooManyWindows(gen.days, windowDuration);
            if (tooMany == null) {
                long total = generator.size();
                if (total >= COUNT_PROGRESS_EVERY) {
                    System.err.printf("replay: counting the generator's %,d records%n", total);
                }
                generated = ReplayInput.stats(generator, COUNT_PROGRESS_EVERY,
                        n -> System.err.printf("replay: %,d of %,d generated records counted%n", n, total));
                tooMany = tooManyWindows(generated, windowDuration);
            }
            if (tooMany != null) {
                throw new ParameterException(cl, tooMany);
            }
        }
        ReplayRunner.InputSource source;
        if (in.present()) {
            Path input = in.input;
            // an earlier run's output is removed (--overwrite) only once the input has been read and checked: a
            // mistake the input reveals (a --window too short for its span, a truncated file) keeps it
            ReplayInput.Prepared prepared = ReplayOutput.readInput(cl, out, overwrite,
                    ReplayOutput::forecastBenchOrReplay, (events, deadLetters) -> {
                        System.err.printf("replay: reading and sorting %s%n", input);
                        return ReplayInput.prepare(input, inputSpec, events, deadLetters,
                                lines -> System.err.printf("replay: %,d lines read%n", lines),
                                conf.get(io.keyshift.jobs.replay.Workload.MAX_EVENT_TIME_GAP),
                                conf.getOptional(io.keyshift.config.PrivacyOptions.KEY_SECRET).isPresent());
                    },
                    stats -> tooManyWindows(stats, windowDuration) == null ? null
                            : tooManyWindows(stats, windowDuration) + "; no job was started");
            if (prepared == null) {
                return 2;
            }
            System.err.printf("replay: %,d records, %,d dead letters (see %s)%n", prepared.stats().records(),
                    prepared.stats().deadLetters(), out.resolve("dead-letters.csv"));
            if (prepared.stats().records() == 0 && prepared.stats().deadLetters() > 0) {
                // every row is a dead letter: a mistake (a --time-format that fits no row, the wrong --columns),
                // not an empty replay; an input without data rows gives an empty report
                Files.deleteIfExists(out.resolve(".events.bin"));
                cl.getErr().println("keyshift replay: " + input + " has no valid row (" + prepared.stats().deadLetters()
                        + " dead letters in " + out.resolve("dead-letters.csv") + "; the first: "
                        + firstReason(out.resolve("dead-letters.csv")) + "); no job was started (a rerun into "
                        + "the same --out replaces that file)");
                cl.getErr().flush();
                return 2;
            }
            source = new ReplayRunner.InputSource(prepared.space(), prepared.stats(), input.getFileName().toString());
        } else {
            ReplayOutput.prepare(cl, out, overwrite);
            Files.writeString(out.resolve("dead-letters.csv"), "raw_line,line_number,reason\n");
            source = new ReplayRunner.InputSource(generator, generated, gen.describe());
        }
        ReplayReport report;
        try {
            report = ReplayRunner.run(new ReplayRunner.Settings(source, chosen, parallelism, out, conf, withSum, rate,
                    System.err, scaled));
        } catch (Exception e) {
            // what it wrote so far (work files, reports of the strategies done) stays: a next run there needs
            // --overwrite
            System.err.println("keyshift replay: failed: " + KeyshiftCli.rootMessage(e) + KeyshiftCli.traceFile(e, "replay")
                    + " (this run's partial output stays in " + out + "; run again with --overwrite)");
            return 1;
        } finally {
            Files.deleteIfExists(out.resolve(".events.bin"));
        }
        report.print(cl.getOut());
        cl.getOut().println("report: " + out.resolve("report.json"));
        cl.getOut().flush();
        return exitStatus(report.resultMismatches(), report.recordsUnaccounted(), System.err);
    }

    /** Generated records counted between two progress lines (about 6 s on this project's 2-core machine). */
    static final long COUNT_PROGRESS_EVERY = 50_000_000;

    /**
     * A finished replay's exit status: 1 (with a line on {@code err}) where a strategy's results differ from hash's
     * ({@link ReplayReport#resultMismatches()}) or its loads do not count every input record once ({@link
     * ReplayReport#recordsUnaccounted()}), else 0: a CI gate reads it.
     */
    static int exitStatus(java.util.Map<String, Long> resultMismatches, java.util.Map<String, Long> recordsUnaccounted,
                          java.io.PrintStream err) {
        if (!resultMismatches.isEmpty()) {
            // keyshift lost, doubled or changed results: a failure of the run, however good its balance
            err.println("keyshift replay: results differ from hash's " + resultMismatches
                    + " (strategy=mismatches; see report.json)");
            return 1;
        }
        if (!recordsUnaccounted.isEmpty()) {
            err.println("keyshift replay: the loads do not count every input record once " + recordsUnaccounted
                    + " (strategy=input records minus counted; see report.json)");
            return 1;
        }
        return 0;
    }

    /** Most planning windows a replay runs through: each one is profiled, forecast and planned. */
    static final long MAX_WINDOWS = 1_000_000;

    /**
     * As {@link #tooManyWindows(ReplayInput.Stats, Duration)} for a span of {@code days} of event time that a command
     * generates (bench, soak): the message, or null.
     */
    static String tooManyWindows(double days, Duration window) {
        double windows = days * 86_400_000d / window.toMillis();
        if (windows <= MAX_WINDOWS) {
            return null;
        }
        return String.format("--window %s splits the %.1f days of event time into %,.0f planning windows, more than "
                + "%,d: choose a longer --window", org.apache.flink.util.TimeUtils.formatWithHighestUnit(window), days,
                windows, MAX_WINDOWS);
    }

    /** Why {@code window} is too short for the records' span (more than {@link #MAX_WINDOWS}), or null. */
    public static String tooManyWindows(ReplayInput.Stats stats, Duration window) {
        if (stats.records() == 0) {
            return null;
        }
        long w = window.toMillis();
        long windows = Math.floorDiv(stats.lastEvent(), w) - Math.floorDiv(stats.firstEvent(), w) + 1;
        if (windows <= MAX_WINDOWS) {
            return null;
        }
        return String.format("--window %s splits the records' span (%s .. %s) into %,d planning windows, more than "
                + "%,d: choose a longer --window", org.apache.flink.util.TimeUtils.formatWithHighestUnit(window),
                java.time.Instant.ofEpochMilli(stats.firstEvent()),
                java.time.Instant.ofEpochMilli(stats.lastEvent()), windows, MAX_WINDOWS);
    }

    /** The reason column of the first dead letter in {@code deadLetters} (raw_line,line_number,reason). */
    public static String firstReason(Path deadLetters) throws java.io.IOException {
        try (var parser = org.apache.commons.csv.CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true)
                .build().parse(Files.newBufferedReader(deadLetters, java.nio.charset.StandardCharsets.UTF_8))) {
            for (var record : parser) {
                return record.get("reason");
            }
        }
        return "none";
    }
}
