package io.keyshift.jobs.replay;

import io.keyshift.api.Keyshift;
import io.keyshift.api.KeyshiftStream;
import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.avro.ScalingDecision;
import io.keyshift.avro.ValidationReport;
import io.keyshift.avro.WindowLoad;
import io.keyshift.config.ForecastOptions;
import io.keyshift.config.JobOptions;
import io.keyshift.config.KeyshiftConfig;
import io.keyshift.config.PlanOptions;
import io.keyshift.config.ScalingOptions;
import io.keyshift.jobs.event.Event;
import io.keyshift.jobs.workload.BenchOptions;
import io.keyshift.jobs.workload.CapacityModel;
import io.keyshift.jobs.workload.CountSum;
import io.keyshift.jobs.workload.FailOnce;
import io.keyshift.jobs.workload.FaultOptions;
import io.keyshift.jobs.workload.WindowResult;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.util.Collector;

import java.time.Duration;
import java.util.Set;

/**
 * The command line's job body, for the replay, the bench and the cluster job alike: the built-in count/sum per key
 * and tumbling window behind a plain {@code keyBy} ({@link Strategy#HASH}) or behind keyshift's public API
 * ({@link Keyshift#keyBy}; {@link Strategy#REACTIVE} is keyshift with the naive forecast). Tool-only options (faults,
 * capacity model, replay gate, lateness) are read here and passed to the workload through the same seams a user has:
 * the aggregate and window function.
 */
public final class Workload {
    private Workload() {}

    /** keyshift options of the command line that are not the library's. */
    public static final ConfigOption<Duration> ALLOWED_LATENESS =
            org.apache.flink.configuration.ConfigOptions.key("keyshift.allowed-lateness")
                    .durationType()
                    .defaultValue(Duration.ZERO)
                    .withDescription("Allowed lateness of the command line's tumbling windows (their state horizon is "
                            + "window + allowed lateness).");

    /**
     * Input rows separated from the bulk of the stream by a longer event-time gap are dead letters (zero: none).
     * See {@link io.keyshift.jobs.input.ReplayInput#prepare}.
     */
    public static final ConfigOption<Duration> MAX_EVENT_TIME_GAP =
            org.apache.flink.configuration.ConfigOptions.key("keyshift.input.max-event-time-gap")
                    .durationType()
                    .defaultValue(io.keyshift.jobs.input.ReplayInput.DEFAULT_MAX_EVENT_TIME_GAP)
                    .withDescription("Rows of an input file that an event-time gap longer than this separates from "
                            + "the bulk of the stream (the longest run of rows with no such gap) go to the dead "
                            + "letters: one row dated year 3000 among a year of rows would otherwise open centuries "
                            + "of empty windows. 0 keeps every row. Range: >= 0.");

    /** How far ahead of the wall clock a Kafka record's event time may lie (the Kafka input's outlier guard). */
    public static final ConfigOption<Duration> MAX_EVENT_TIME_AHEAD =
            org.apache.flink.configuration.ConfigOptions.key("keyshift.input.max-event-time-ahead")
                    .durationType()
                    .defaultValue(Duration.ofDays(1))
                    .withDescription("A Kafka record whose event time lies further than this ahead of the wall clock "
                            + "when the source reads it goes to the dead letters: one record dated year 3000 would "
                            + "otherwise move the watermark centuries ahead, and every later record would be late. "
                            + "0 keeps every record. Range: >= 0.");

    /**
     * A file of control commands ({@link io.keyshift.control.ControlCommand}) for the keyshift stage, read once: the
     * same file gives the same plans on every run.
     */
    public static final ConfigOption<String> CONTROL_FILE =
            org.apache.flink.configuration.ConfigOptions.key("keyshift.control.file")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("A file of control commands for the planner (pin/unpin KEY, freeze/unfreeze, "
                            + "rollback VERSION, scale P/unscale, anomaly-z Z, sampling-rate R, each with the event "
                            + "time it holds from), read once.");

    /**
     * A directory of control command files that the job watches: every new file's lines are commands, applied from
     * the next plan on (at the latest from their AT).
     */
    public static final ConfigOption<String> CONTROL_DIRECTORY =
            org.apache.flink.configuration.ConfigOptions.key("keyshift.control.directory")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("A directory the job watches for new files of control commands (one per line), "
                            + "checked every keyshift.control.directory-interval; they apply from the next plan on.");

    public static final ConfigOption<Duration> CONTROL_DIRECTORY_INTERVAL =
            org.apache.flink.configuration.ConfigOptions.key("keyshift.control.directory-interval")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(5))
                    .withDescription("How often the job lists keyshift.control.directory for new files (whole "
                            + "milliseconds, at least 1 ms); "
                            + "a file is read once it has not changed for this long (so a command applies one to "
                            + "two intervals after its file was written).");

    /** Uid of the control commands' file source. */
    public static final String CONTROL_SOURCE_UID = "keyshift-control-source";

    /** The uid prefix of the command line's keyshift stage. */
    public static final String UID_PREFIX = "keyshift";
    /** Uid of the hash strategy's window operator. */
    public static final String HASH_WINDOW_UID = "hash-window-count";

    /** The command line's own keyshift.* options (accepted beside the library's). */
    public static java.util.List<ConfigOption<?>> toolOptions() {
        return java.util.List.of(ALLOWED_LATENESS, FaultOptions.WINDOW_FAILURE_TIMES, FaultOptions.FAULT_ID,
                FaultOptions.CORRUPT_SHADOW_KEY, BenchOptions.SERVICE_TIME, BenchOptions.LATENCY_ID,
                ReplayScalingGate.GATE_OPTION, MAX_EVENT_TIME_GAP, MAX_EVENT_TIME_AHEAD, CONTROL_FILE, CONTROL_DIRECTORY,
                CONTROL_DIRECTORY_INTERVAL);
    }

    /** Keys of {@link #toolOptions()}. */
    public static Set<String> toolOptionKeys() {
        Set<String> out = new java.util.TreeSet<>();
        toolOptions().forEach(o -> out.add(o.key()));
        return out;
    }

    /**
     * What a job built here produces. For HASH, plans, forecasts, loads and validation are null; scaling is null
     * unless {@code keyshift.scaling.capacity} is set.
     *
     * @param loadLines per window and subtask, {@code windowStart,subtask,count,PRIMARY|SHADOW,-1,key} (key empty
     *                  for keyshift's loads, which are per subtask)
     * @param late      the records the window stage dropped as late, each once (null unless asked for)
     */
    public record Outputs(DataStream<WindowResult> results, DataStream<String> loadLines,
                          DataStream<RoutingPlan> plans, DataStream<LoadForecast> forecasts,
                          DataStream<WindowLoad> loads, DataStream<ValidationReport> validation,
                          DataStream<ScalingDecision> scaling, DataStream<String> controlRejected,
                          DataStream<io.keyshift.profiler.WindowProfile> profiles, DataStream<Event> late) {}

    /** Adds the strategy's job behind {@code events} (timestamps and watermarks assigned). */
    public static Outputs build(DataStream<Event> events, Strategy strategy, ReadableConfig config, int parallelism) {
        return build(events, strategy, config, parallelism, null, false);
    }

    /**
     * As {@link #build(DataStream, Strategy, ReadableConfig, int)}, with {@code control} (command lines, e.g. a Kafka
     * topic's; may be null) as the planner's control input, besides {@link #CONTROL_FILE} or
     * {@link #CONTROL_DIRECTORY}; with {@code lateOutput}, {@link Outputs#late} holds the records the window stage
     * drops as late (every window of theirs ended more than the allowed lateness before its watermark; Flink's
     * {@code sideOutputLateData}), else it is null and they are only counted in Flink's
     * {@code numLateRecordsDropped}.
     */
    public static Outputs build(DataStream<Event> events, Strategy strategy, ReadableConfig config, int parallelism,
                                DataStream<String> control, boolean lateOutput) {
        org.apache.flink.util.OutputTag<Event> lateTag = lateOutput
                ? new org.apache.flink.util.OutputTag<>("late-records", events.getType()) : null;
        Duration window = config.get(JobOptions.WINDOW);
        Duration lateness = config.get(ALLOWED_LATENESS);
        CountSum aggregate = new CountSum(
                new CapacityModel(config.get(BenchOptions.SERVICE_TIME).toNanos(), config.get(BenchOptions.LATENCY_ID)),
                new FailOnce(config.get(FaultOptions.WINDOW_FAILURE_TIMES), config.get(FaultOptions.FAULT_ID)));
        CountSum.Emit emit = new CountSum.Emit(config.getOptional(FaultOptions.CORRUPT_SHADOW_KEY).orElse(null));
        if (strategy == Strategy.HASH) {
            var windows = events
                    .keyBy(e -> e.key, Types.STRING)
                    .window(TumblingEventTimeWindows.of(window))
                    .allowedLateness(lateness);
            if (lateTag != null) {
                windows.sideOutputLateData(lateTag);
            }
            org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator<WindowResult> results = windows
                    .aggregate(aggregate, emit)
                    .name("window count/sum (keyBy key)")
                    .uid(HASH_WINDOW_UID)
                    .setParallelism(parallelism);
            // plain keyBy processed each key on its natural subtask
            int maxP = events.getExecutionEnvironment().getConfig().getMaxParallelism() > 0
                    ? events.getExecutionEnvironment().getConfig().getMaxParallelism()
                    : config.get(JobOptions.DEFAULT_MAX_PARALLELISM);
            DataStream<String> loads = results.map(r -> r.windowStart + ","
                            + KeyGroupRangeAssignment.assignKeyToParallelOperator(r.key, maxP, parallelism) + ","
                            + r.count + ",PRIMARY,-1," + io.keyshift.jobs.workload.Csv.quote(r.key))
                    .returns(Types.STRING).name("load lines").setParallelism(parallelism);
            return new Outputs(results, loads, null, null, null, null, null, null, null,
                    lateTag == null ? null : results.getSideOutput(lateTag));
        }
        Configuration library = KeyshiftConfig.libraryOptions(config);
        if (strategy == Strategy.REACTIVE) {
            reacting(library);
        }
        KeyshiftStream<Event, String> keyed = Keyshift.keyBy(events, e -> e.key, Types.STRING)
                .configure(library)
                .uidPrefix(UID_PREFIX)
                .parallelism(parallelism);
        String controlFile = config.get(CONTROL_FILE);
        String controlDir = config.get(CONTROL_DIRECTORY);
        if (controlFile != null && controlDir != null) {
            throw new IllegalArgumentException(CONTROL_FILE.key() + " and " + CONTROL_DIRECTORY.key()
                    + " exclude each other");
        }
        DataStream<String> commands = control;
        if (controlFile != null || controlDir != null) {
            // ".." after a link resolved as the file system reads it: Flink's paths normalize it as text, and the
            // source read another file than the one checked and read ahead for the sampling rates
            java.nio.file.Path controlPath = io.keyshift.jobs.LocalPaths.resolved(
                    java.nio.file.Path.of(controlFile != null ? controlFile : controlDir));
            // a watched directory's file is read once it has not changed for a listing interval
            var controlFilter = controlFileFilter(controlPath, controlDir == null ? 0
                    : config.get(CONTROL_DIRECTORY_INTERVAL).toMillis());
            var source = org.apache.flink.connector.file.src.FileSource.forRecordStreamFormat(
                    new org.apache.flink.connector.file.src.reader.TextLineInputFormat(),
                    new org.apache.flink.core.fs.Path(controlPath.toUri()))
                    .setFileEnumerator(() -> new org.apache.flink.connector.file.src.enumerate
                            .NonSplittingRecursiveEnumerator(controlFilter))
                    // in arrival order, one listing's files by name (Flink's default assigner is last in, first out)
                    .setSplitAssigner(NameOrderSplitAssigner.provider());
            if (controlDir != null) {
                source.monitorContinuously(config.get(CONTROL_DIRECTORY_INTERVAL));
            }
            DataStream<String> fromFiles = events.getExecutionEnvironment()
                    .fromSource(source.build(), controlFile != null
                                    // read once: at its end the watermark is +inf, after every command
                                    ? org.apache.flink.api.common.eventtime.WatermarkStrategy.noWatermarks()
                                    : io.keyshift.control.ControlInputs.liveWatermarks(), "control commands")
                    .uid(CONTROL_SOURCE_UID)
                    .setParallelism(1);
            commands = commands == null ? fromFiles : commands.union(fromFiles);
            if (controlFile != null) {
                // a file is known before the job starts: its sampling-rate commands apply exactly from their time
                // decompressed and decoded as the file source reads it (by the file's suffix: .gz, .deflate, ...; a
                // byte that is not UTF-8 becomes U+FFFD): a bad line is refused with its reason there, and must not
                // stop the job here (a gzipped file's raw bytes gave no command, and its sampling rates reached the
                // routers only with a plan)
                try {
                    keyed.controlKnownInAdvance(controlFileLines(controlFile));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException("cannot read the control file " + controlFile, e);
                }
            }
        }
        if (commands != null) {
            keyed.control(commands);
        }
        var windows = keyed
                .window(TumblingEventTimeWindows.of(window))
                .allowedLateness(lateness);
        if (lateTag != null) {
            windows.sideOutputLateData(lateTag);
        }
        DataStream<WindowResult> results = windows.aggregate(aggregate, emit);
        DataStream<String> loadLines = keyed.loads()
                .flatMap((WindowLoad l, Collector<String> out) -> loadLines(l, out))
                .returns(Types.STRING).name("load lines").setParallelism(1);
        DataStream<ScalingDecision> scaling = config.get(ScalingOptions.CAPACITY) > 0 ? keyed.scalingDecisions() : null;
        return new Outputs(results, loadLines, keyed.plans(), keyed.forecasts(), keyed.loads(), keyed.validation(),
                // (not without commands: with on-mismatch REVERT the stage's own reverts are its control input, but a
                // sink of their refusals would be an operator with state that a restore without REVERT cannot map)
                scaling, commands == null ? null : keyed.controlRejected(), keyed.profiles(),
                lateTag == null ? null : keyed.sideOutput(lateTag));
    }

    /** Per subtask of the load's parallelism: primary and shadow copies, as load lines. */
    static void loadLines(WindowLoad l, Collector<String> out) {
        int p = l.getParallelism();
        int maxP = l.getRoutedKeyGroupCounts().size();
        long[] primary = new long[p];
        long[] shadow = new long[p];
        for (int g = 0; g < maxP; g++) {
            int s = KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(maxP, p, g);
            primary[s] += l.getRoutedKeyGroupCounts().get(g);
            shadow[s] += l.getShadowKeyGroupCounts().get(g);
        }
        for (int s = 0; s < p; s++) {
            out.collect(l.getWindowStart() + "," + s + "," + primary[s] + ",PRIMARY,-1,");
            if (shadow[s] > 0) {
                out.collect(l.getWindowStart() + "," + s + "," + shadow[s] + ",SHADOW,-1,");
            }
        }
    }

    /** Splitting on by default in the command line (it is opt-in in the library). */
    public static void defaults(Configuration conf) {
        if (!conf.contains(PlanOptions.SPLIT_THRESHOLD)) {
            conf.set(PlanOptions.SPLIT_THRESHOLD, 1.0);
        }
    }

    /**
     * The lines of a control file as Flink's file source reads them: decompressed by the file's suffix ({@code .gz},
     * {@code .deflate}, ...), decoded as UTF-8 (a byte that is not becomes U+FFFD).
     */
    static java.util.List<String> controlFileLines(String controlFile) throws java.io.IOException {
        var decompressor = org.apache.flink.connector.file.src.compression.StandardDeCompressors
                .getDecompressorForFileName(controlFile);
        try (java.io.InputStream raw = java.nio.file.Files.newInputStream(java.nio.file.Path.of(controlFile));
             java.io.InputStream in = decompressor == null ? raw : decompressor.create(raw)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList();
        }
    }

    /**
     * Checks before any job starts that a control file reads as the job will read it ({@link #controlFileLines}):
     * a file whose compression suffix does not match its bytes (a plain file named {@code .gz}, a cut-short archive),
     * or one of a compression whose library keyshift does not ship ({@code .xz}, {@code .zst}), failed only when the
     * job was built (in a replay, after the hash strategy had run and {@code --overwrite} had cleared the earlier
     * output), unnamed.
     *
     * @throws IllegalArgumentException naming the file and why it cannot be read
     */
    public static void checkControlFile(java.nio.file.Path file) {
        try {
            controlFileLines(file.toAbsolutePath().toString());
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            throw new IllegalArgumentException(file + ": cannot be read as its name's compression suffix says ("
                    + e.getClass().getSimpleName() + ": " + e.getMessage() + ")", e);
        } catch (LinkageError e) {
            throw new IllegalArgumentException(file + ": its compression needs a library keyshift does not ship ("
                    + e.getMessage() + "): decompress it, or compress it with gzip (.gz), deflate or bzip2 (.bz2)",
                    e);
        }
    }

    /** As {@link #controlFileFilter(java.nio.file.Path, long)} for a control file (read once, at the start). */
    static java.util.function.Predicate<org.apache.flink.core.fs.Path> controlFileFilter(java.nio.file.Path root) {
        return controlFileFilter(root, 0);
    }

    /**
     * The files of a control file or directory that the job reads: the file or directory named itself, whatever its
     * name, and in a directory the files directly in it (not in its subdirectories: a place to move files once
     * applied, where Flink's enumerator, which remembers the paths it read, took a moved file for a new one and
     * applied its commands again) but those whose name starts with {@code .} or {@code _} (Flink's
     * {@code DefaultFileFilter}: files being written, such as the ones {@code bin/keyshift control --dir} renames
     * into place) or {@code #}, or ends with {@code ~} (an editor's autosave and backup), and, with
     * {@code quietMillis} above 0, those changed less than that long ago (a file written in place under its final
     * name, read half-written, applied a cut-off command and lost its later lines; it is read at a later listing).
     * Flink's file enumerators apply their filter to the path they were given too, so a control file named
     * {@code _steer.csv} was read as empty, without a word.
     */
    static java.util.function.Predicate<org.apache.flink.core.fs.Path> controlFileFilter(java.nio.file.Path root,
                                                                                         long quietMillis) {
        String named = io.keyshift.jobs.LocalPaths.resolved(root).toUri().getPath().replaceAll("/+$", "");
        return new ControlFileFilter(named, quietMillis);
    }

    private record ControlFileFilter(String named, long quietMillis)
            implements java.util.function.Predicate<org.apache.flink.core.fs.Path>, java.io.Serializable {
        @Override
        public boolean test(org.apache.flink.core.fs.Path path) {
            if (named.equals(path.toUri().getPath().replaceAll("/+$", ""))) {
                return true;
            }
            org.apache.flink.core.fs.Path parent = path.getParent();
            String name = path.getName();
            if (parent == null || !named.equals(parent.toUri().getPath().replaceAll("/+$", ""))
                    || name.startsWith("#") || name.endsWith("~")
                    || !new org.apache.flink.connector.file.src.enumerate.DefaultFileFilter().test(path)) {
                return false;
            }
            if (quietMillis > 0) {
                try {
                    org.apache.flink.core.fs.FileStatus status = path.getFileSystem().getFileStatus(path);
                    return status.isDir() || status.getModificationTime() <= System.currentTimeMillis() - quietMillis;
                } catch (java.io.IOException e) {
                    // gone since the listing (or unreadable): not now; a later listing sees it if it is back
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * The reactive strategy's forecaster options set in {@code config}: reacting after the fact, the last window's
     * loads (model naive) and no foreknowledge of calendar events either (the calendar's own options go with it: set
     * without it, they are refused as a mistake).
     */
    public static void reacting(Configuration config) {
        config.set(ForecastOptions.MODEL, "naive");
        for (org.apache.flink.configuration.ConfigOption<?> o : java.util.List.of(ForecastOptions.CALENDAR,
                ForecastOptions.CALENDAR_TIME_ZONE, ForecastOptions.CALENDAR_LIKE_DAYS,
                ForecastOptions.CALENDAR_REFERENCE_DAYS, ForecastOptions.CALENDAR_OBSERVE)) {
            config.removeConfig(o);
        }
    }
}
