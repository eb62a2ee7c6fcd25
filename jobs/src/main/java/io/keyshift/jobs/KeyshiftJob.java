package io.keyshift.jobs;

import io.keyshift.config.JobOptions;
import io.keyshift.jobs.cli.FlinkConfig;
import io.keyshift.jobs.cli.GeneratorOptions;
import io.keyshift.jobs.cli.InputOptions;
import io.keyshift.jobs.input.InputSpec;
import io.keyshift.jobs.input.ReplayInput;
import io.keyshift.jobs.replay.ReplayJob;
import io.keyshift.jobs.source.EventSpace;
import io.keyshift.jobs.replay.Strategy;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The keyshift job for a Flink cluster: the main class of {@code jobs/target/keyshift-jobs.jar} (Flink provided, the
 * rest shaded in). One strategy's dataflow over a CSV file (bounded), a Kafka topic (CSV or JSON records, bounded
 * with {@code --kafka-bounded}) or the built-in generator (bounded, or unbounded with {@code --generator-records 0}),
 * writing results, plans, forecasts and validation outcomes with exactly-once file sinks under {@code --out} (see
 * {@link ReplayJob}), or the results to a Kafka topic with an exactly-once {@code KafkaSink}.
 *
 * <p>Submit it with {@code bin/keyshift submit} (Flink's REST API) or Flink's own {@code flink run}. The file input
 * is read and sorted by {@code main} (on the client under both; on the JobManager in application mode) into
 * {@code OUT/.events.bin}, which the TaskManagers then read: {@code --out} must be on a filesystem every process
 * of the cluster sees (a local cluster, or a shared mount). keyshift options come from the config.yaml the job is
 * built with (the client's) and {@code -Dkey=value}. {@code main} never calls {@code System.exit}: on a bad option it throws, naming the option.
 */
@Command(name = "keyshift-job", mixinStandardHelpOptions = true, sortOptions = false,
        version = "keyshift-job 0.1.0 (Apache Flink 2.3.0)",
        description = {"Runs one keyshift strategy on a Flink cluster: a CSV file (--input ...), a Kafka topic",
            "(--kafka-topic ...) or the generator; results to --out or a Kafka topic (--results-topic), plans,",
            "forecasts and validation to --out, all exactly-once."})
public final class KeyshiftJob implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    InputOptions in;

    @Mixin
    GeneratorOptions gen;

    @Mixin
    io.keyshift.jobs.kafka.KafkaOptions kafka;

    @Option(names = "--sum-field", paramLabel = "COL", description = "Numeric column to sum per key and window.")
    String sumField;

    @Option(names = "--window", paramLabel = "DURATION", defaultValue = "1h",
            description = "Tumbling window length (5min, 1h, 1d). Default: ${DEFAULT-VALUE}.")
    String window;

    @Option(names = "--strategy", paramLabel = "S", defaultValue = "predictive",
            description = "hash, reactive or predictive. Default: ${DEFAULT-VALUE}.")
    String strategy;

    @Option(names = "--parallelism", paramLabel = "N", description = "Job parallelism. Default: parallelism.default of the configuration the job's main runs with "
                    + "(the cluster's in application mode; with bin/keyshift submit, config.yaml of --config or "
                    + "flink-conf/).")
    Integer parallelism;

    @Option(names = "--out", paramLabel = "DIR", required = true,
            description = "Output directory (results/, plans/, forecasts/, validation/, dead-letters.csv; from Kafka "
                    + "dead-letters/ and late-records/).")
    Path out;

    @Option(names = "--rate", paramLabel = "RECORDS_PER_SECOND", defaultValue = "0",
            description = "Throttle the source to this many records per second in total, at least 1 (0 = full speed).")
    double rate;

    @Option(names = "--job-name", paramLabel = "NAME", description = "Job name. Default: keyshift [strategy].")
    String jobName;

    @Option(names = "--control", paramLabel = "FILE",
            description = "Control commands for the planner, read once (AT,pin,KEY | AT,unpin,KEY | AT,freeze | "
                    + "AT,unfreeze | AT,rollback,VERSION | AT,scale,P | AT,unscale | AT,anomaly-z,Z | "
                    + "AT,sampling-rate,R; AT: a time or now): plans are the same on every run. Refused lines go to "
                    + "--out/control-rejected/.")
    String controlFile;

    @Option(names = "--control-dir", paramLabel = "DIR",
            description = "A directory the job watches for new files of control commands (every "
                    + "keyshift.control.directory-interval, 5 s); they apply from the next plan on.")
    String controlDir;

    @Option(names = "-D", paramLabel = "key=value", mapFallbackValue = "",
            description = "Set a keyshift.* or job-level Flink option, overriding the config.yaml the job is built "
                    + "with (the client's: bin/keyshift submit --config, or the Flink client's conf directory).")
    Map<String, String> dynamic = new LinkedHashMap<>();

    /** The directories under --out that the job's file sinks write. */
    static final List<String> OUTPUT_DIRECTORIES = List.of("results", "window-results", "plans", "forecasts",
            "forecast-units", "validation", "profiles", "control-rejected", "scaling", "dead-letters", "late-records");

    /**
     * Flink's fixed job id: set where a job's id must survive a JobManager failover (application mode with high
     * availability, where Flink runs main() again to recover the job from its checkpoints).
     */
    static final String FIXED_JOB_ID = "$internal.pipeline.job-id";
    /** The file under --out that names the fixed job id of the job writing there. */
    static final String JOB_ID_MARKER = ".keyshift-job-id";
    /**
     * The file under --out that a job creates once its checks have passed, before it writes anything there (see
     * {@link #heldOutput}): a live job's file sinks write nothing until its first record of each kind (with a live
     * topic or a paced generator, nothing before the first window closes), and a second job started meanwhile in the
     * same --out was accepted. Its lines: when it was written, and the fixed (HA) job id, if any.
     */
    public static final String STARTED_MARKER = ".keyshift-job-started";

    /**
     * Whether {@code dir} is the output of the job with {@code fixedJobId} itself, its main() run again after a
     * JobManager failover (which continues its output from the job's checkpoints): the marker names that id and the
     * job has a completed checkpoint under {@code checkpointDir} ({@code <dir>/<job id>/chk-N/_metadata}, or {@code <dir>/chk-N}
     * where {@code execution.checkpointing.create-subdir} is false: {@code subdirectory}). A later deployment
     * that reuses the id (HA derives it from the cluster id) after the earlier job finished, whose checkpoints Flink
     * removed then, is another job. False without a fixed id or a checkpoint directory.
     */
    static boolean sameJob(Path dir, String fixedJobId, String checkpointDir, boolean subdirectory)
            throws java.io.IOException {
        if (checkpointDir == null || !markedBy(dir, fixedJobId)) {
            return false;
        }
        org.apache.flink.core.fs.Path checkpoints = subdirectory
                ? new org.apache.flink.core.fs.Path(checkpointDir, fixedJobId)
                : new org.apache.flink.core.fs.Path(checkpointDir);
        org.apache.flink.core.fs.FileSystem fs = checkpoints.getFileSystem();
        if (!fs.exists(checkpoints)) {
            return false;
        }
        org.apache.flink.core.fs.FileStatus[] children = null;
        for (int attempt = 1; children == null; attempt++) {
            try {
                children = fs.listStatus(checkpoints);
                if (children == null) {
                    return false;
                }
            } catch (java.io.FileNotFoundException removedMeanwhile) {
                // a child removed while the directory was listed (Flink removing a finished job's checkpoints, or
                // subsuming one): listed again (the local file system failed the whole listing, and main with it)
                if (!fs.exists(checkpoints)) {
                    return false;
                }
                if (attempt >= 20) {
                    throw removedMeanwhile;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw removedMeanwhile;
                }
            }
        }
        for (org.apache.flink.core.fs.FileStatus c : children) {
            // completed: Flink makes chk-N when a checkpoint begins and writes its _metadata when it completes (a
            // JobManager lost in the middle of one left the directory without it, which a later deployment with the
            // same id took for the job's own checkpoint)
            if (c.isDir() && c.getPath().getName().startsWith("chk-") && fs.exists(new org.apache.flink.core.fs.Path(
                    c.getPath(), org.apache.flink.runtime.state.filesystem.AbstractFsCheckpointStorageAccess
                    .METADATA_FILE_NAME))) {
                return true;
            }
        }
        return false;
    }

    /**
     * The first of {@link #OUTPUT_DIRECTORIES} under {@code dir} that holds a file, or null: output of an earlier job,
     * which a new job (not restored from that job's savepoint or checkpoint) would silently add its own to (every
     * result line twice; with the results on Kafka, two jobs' plans and forecasts interleaved). A file sink's hidden
     * in-progress and pending parts count too: they are a running job's (with a live topic and 1h windows nothing is
     * committed for an hour) or a failed one's; so do a file input's sorted copy ({@code .events.bin}), which a
     * running job reads, and the {@link #STARTED_MARKER} of a job submitted before it had written anything.
     */
    static String heldOutput(Path dir) throws java.io.IOException {
        return heldOutput(dir, true);
    }

    /** Beginnings of the names of the dot files the job writes into --out (its markers, copies and records). */
    private static final List<String> WRITTEN_DOT_NAMES = List.of(".events.bin", ".input", ".sum-field", ".control-",
            ".kafka-", ".keyshift-", ".dead-letters.csv");

    /**
     * Refuses (exit 2) an input ({@code inputs}: option → path, null where not given) that lies in {@code out} under a
     * name the job writes there: its output directories, {@code dead-letters.csv} and its dot files (the sorted copy
     * of the input, its markers; a dot file of the user's is let in), but the copy of the {@code --control} file it keeps there, which a resume after the
     * file moved reads as its {@code --control}. The job would overwrite or read back its own output: an input file at
     * {@code --out/dead-letters.csv} is truncated while it is read, a control directory at {@code --out/results} reads
     * the results as commands.
     */
    static void refuseInputsInOutput(CommandLine cl, Path out, java.util.Map<String, Path> inputs) {
        // (the --control copy the job keeps there is read as --control by a resume after the file moved)
        var found = io.keyshift.jobs.cli.ReplayOutput.inputInOutput(out, inputs, (option, entry) ->
                (OUTPUT_DIRECTORIES.contains(entry) || entry.equals("dead-letters.csv") || WRITTEN_DOT_NAMES.stream()
                        .anyMatch(entry::startsWith))
                        && !(option.equals("--control") && controlCopyNames().contains(entry)));
        if (found != null) {
            throw new ParameterException(cl, found.option() + ": " + found.path() + " lies in --out " + out
                    + " under a name the job writes there itself (" + found.entry() + "); move it out of --out");
        }
    }

    /**
     * What in {@code dir} only a cluster job writes (its {@link #STARTED_MARKER} or HA marker, or a file sink's part
     * file, committed or not, in one of its output directories), or null: the local commands (replay, bench, ...)
     * refuse such an {@code --out}.
     */
    public static String jobOutput(Path dir) throws java.io.IOException {
        if (Files.exists(dir.resolve(STARTED_MARKER))) {
            return STARTED_MARKER;
        }
        if (Files.exists(dir.resolve(JOB_ID_MARKER))) {
            return JOB_ID_MARKER;
        }
        // without a marker (a job of a build before them): a Flink file sink's part files, not any file of the user's
        // in a directory that happens to be called results/
        for (String name : OUTPUT_DIRECTORIES) {
            Path d = dir.resolve(name);
            if (Files.isDirectory(d)) {
                try (java.util.stream.Stream<Path> files = Files.walk(d)) {
                    if (files.anyMatch(f -> Files.isRegularFile(f) && (f.getFileName().toString().startsWith("part-")
                            || f.getFileName().toString().startsWith(".part-")))) {
                        return name;
                    }
                }
            }
        }
        return null;
    }

    /**
     * As {@link #heldOutput(Path)}; without {@code uncommittedToo} only committed files count (for the same job's
     * {@code main} run again by Flink after a JobManager failover before its first checkpoint: its own in-progress
     * parts and sorted input are there, and nothing it committed).
     */
    static String heldOutput(Path dir, boolean uncommittedToo) throws java.io.IOException {
        return heldOutput(dir, uncommittedToo, true);
    }

    /**
     * As {@link #heldOutput(Path, boolean)}; the sorted input and the {@link #STARTED_MARKER} count only with
     * {@code sortedInputToo} (without: is there output beside the sorted copy a job reads).
     */
    private static String heldOutput(Path dir, boolean uncommittedToo, boolean sortedInputToo)
            throws java.io.IOException {
        for (String name : OUTPUT_DIRECTORIES) {
            Path d = dir.resolve(name);
            if (Files.isDirectory(d)) {
                try (java.util.stream.Stream<Path> files = Files.walk(d)) {
                    if (files.anyMatch(f -> Files.isRegularFile(f)
                            && (uncommittedToo || !f.getFileName().toString().startsWith(".")))) {
                        return name;
                    }
                }
            }
        }
        if (sortedInputToo && uncommittedToo && Files.exists(dir.resolve(STARTED_MARKER))) {
            return STARTED_MARKER;
        }
        return sortedInputToo && uncommittedToo && Files.exists(dir.resolve(".events.bin")) ? ".events.bin" : null;
    }

    /**
     * Writes {@link #STARTED_MARKER}, atomically. Where it is there already: a job that continues the directory
     * ({@code mayExist}: a restore, the same job's main after a failover) goes on; any other is refused, as another
     * job started there since {@link #heldOutput} found the directory free.
     *
     * @return whether this run wrote it (and so removes it if its job is never submitted)
     */
    private static boolean markStarted(Path dir, boolean mayExist, String fixedJobId, CommandLine cl)
            throws java.io.IOException {
        Path marker = dir.resolve(STARTED_MARKER);
        try {
            Files.writeString(marker, java.time.Instant.now() + "\n" + (fixedJobId == null ? "" : fixedJobId + "\n"),
                    java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
            return true;
        } catch (java.nio.file.FileAlreadyExistsException e) {
            if (mayExist) {
                return false;
            }
            // another job started in this --out since the check for earlier output (while this one sorted its input)
            throw new ParameterException(cl, "--out " + dir + " already holds results of another job, running or "
                    + "ended (" + STARTED_MARKER + ", written while this job was being built): choose a new directory");
        }
    }

    /**
     * True if the {@link #STARTED_MARKER} in {@code dir} names the fixed (HA) id {@code fixedJobId}: the same job's
     * main, run again by Flink after a JobManager failover that came while it was being built (before it wrote
     * {@link #JOB_ID_MARKER}).
     */
    static boolean startedBy(Path dir, String fixedJobId) throws java.io.IOException {
        Path marker = dir.resolve(STARTED_MARKER);
        if (fixedJobId == null || !Files.isRegularFile(marker)) {
            return false;
        }
        java.util.List<String> lines = Files.readString(marker).lines().toList();
        return lines.size() > 1 && lines.get(1).strip().equals(fixedJobId);
    }

    /**
     * True if {@code dir} was written by the job with the fixed (HA) id {@code fixedJobId}: the marker's first line
     * (its second names the savepoint that job's main was started from, see {@link #markedRecovery}).
     */
    static boolean markedBy(Path dir, String fixedJobId) throws java.io.IOException {
        Path marker = dir.resolve(JOB_ID_MARKER);
        return fixedJobId != null && Files.isRegularFile(marker)
                && Files.readString(marker).strip().lines().findFirst().orElse("").equals(fixedJobId);
    }

    /**
     * Writes the marker of the job with the fixed (HA) id (none without one) once every check has passed, just before
     * the job is built: a refused run leaves the marker of the job before it. Only when it changes, and atomically (a
     * JobManager that dies mid-write would leave a marker that no failover matches).
     */
    static void mark(Path dir, String fixedJobId, String recoveryPath, String argsDigest) throws java.io.IOException {
        if (fixedJobId == null) {
            return;
        }
        String content = fixedJobId + "\n" + recoveryPath + "\n" + argsDigest + "\n";
        Path marker = dir.resolve(JOB_ID_MARKER);
        if (Files.isRegularFile(marker) && Files.readString(marker).equals(content)) {
            return;
        }
        Path next = dir.resolve(JOB_ID_MARKER + ".next");
        Files.writeString(next, content);
        Files.move(next, marker, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * The Kafka input's consumer group of a job in {@code dir}: the directory's group for a job that continues it
     * ({@code continuing}; {@link io.keyshift.jobs.kafka.KafkaOptions#groupId}); a group of its own, not written down,
     * where the directory is marked by the same fixed job id and recovery path but there is no checkpoint
     * ({@link io.keyshift.jobs.kafka.KafkaOptions#unrecordedGroupId}: a failover before the first checkpoint, whose
     * recovered job keeps its group, or a new deployment under a reused id).
     */
    static String kafkaGroup(io.keyshift.jobs.kafka.KafkaOptions kafka, Path dir, boolean continuing,
            String fixedJobId, String recoveryPath) throws java.io.IOException {
        if (!continuing && markedBy(dir, fixedJobId) && markedRecovery(dir, recoveryPath)) {
            return kafka.unrecordedGroupId(dir);
        }
        // (this run's own started marker is not earlier output; a sorted input beside it is)
        String held = heldOutput(dir);
        return kafka.groupId(dir, continuing, held != null && (!held.equals(STARTED_MARKER)
                || Files.exists(dir.resolve(".events.bin"))));
    }

    /**
     * Whether the marker's job was started from {@code recoveryPath} (the configuration's savepoint path, "" for none):
     * Flink runs main again after a JobManager failover with the same configuration, so the same id and the same path
     * are the same job; a restore from another savepoint is not. A marker of a build before 2026-12-02 names no path:
     * it matches only "".
     */
    static boolean markedRecovery(Path dir, String recoveryPath) throws java.io.IOException {
        java.util.List<String> lines = Files.readString(dir.resolve(JOB_ID_MARKER)).lines().toList();
        return (lines.size() > 1 ? lines.get(1).strip() : "").equals(recoveryPath);
    }

    /**
     * Whether the marker's job was started with the command-line arguments whose {@link #argsDigest} is {@code digest}:
     * Flink runs main again after a JobManager failover with the same arguments, while a new deployment that keeps the
     * job id and its checkpoints (the Kubernetes Operator's last-state upgrade, which drops the savepoint path) may
     * change them, and is a restore, checked as one. A marker of a build before 2026-12-07 names no digest: it
     * matches none (Flink's rerun of main runs the jar that wrote the marker, so a build that reads an older marker is
     * a new deployment; one with the same arguments passes a restore's checks).
     */
    static boolean markedArgs(Path dir, String digest) throws java.io.IOException {
        java.util.List<String> lines = Files.readString(dir.resolve(JOB_ID_MARKER)).lines().toList();
        return lines.size() > 2 && lines.get(2).strip().equals(digest);
    }

    /**
     * A digest of the job's command-line arguments, in order (SHA-256 over each argument's UTF-8 bytes, each ended by a
     * NUL), as 64 hex digits: written into the HA marker, so that no argument (a key secret given with -D) is kept
     * there in clear.
     */
    static String argsDigest(List<String> args) {
        try {
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
            for (String a : args) {
                sha.update(a.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            return java.util.HexFormat.of().formatHex(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available on this JVM", e);
        }
    }

    /**
     * Why the job refuses {@code conf}: no checkpoint interval (without checkpoints the file sinks keep only
     * in-progress files and the Kafka sinks never commit); null if it has one. Also checked by {@code soak} before
     * it starts a cluster.
     */
    public static String noCheckpoints(org.apache.flink.configuration.ReadableConfig conf) {
        if (conf.getOptional(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTING_INTERVAL).isEmpty()) {
            return "execution.checkpointing.interval is not set (config.yaml or -D): the job's outputs are "
                    + "committed at checkpoints, and without them no result would ever appear";
        }
        org.apache.flink.core.execution.CheckpointingMode mode =
                conf.get(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE);
        if (mode != org.apache.flink.core.execution.CheckpointingMode.EXACTLY_ONCE) {
            // without aligned barriers a record after one input's barrier reaches state and output before the
            // checkpoint, and a restore replays it: results counted twice
            return "execution.checkpointing.mode is " + mode + " (config.yaml or -D): the job's results are exactly "
                    + "once (none missing, none twice, also after a restore) only with EXACTLY_ONCE checkpoints";
        }
        if (!conf.get(org.apache.flink.configuration.CheckpointingOptions.ENABLE_CHECKPOINTS_AFTER_TASKS_FINISH)) {
            // a finite input's last windows fire at its end: without a final checkpoint their Kafka transaction is
            // never committed (the broker aborts it) and the file sinks keep their last files in progress
            return "execution.checkpointing.checkpoints-after-tasks-finish is false (config.yaml or -D): the results "
                    + "of a finite input's last windows are committed by the checkpoint after its end, which this "
                    + "turns off (they would be lost)";
        }
        return null;
    }

    /**
     * The file in {@code --out} that keeps the SHA-256 of the {@code --control} file a job started with: a resume
     * given a changed file is refused ({@link #controlFileDigest}).
     */
    public static final String CONTROL_DIGEST_FILE = ".control-file-sha256";

    /**
     * The file in {@code --out} that names where a job's commands came from, {@code file} ({@code --control}) or
     * {@code directory} ({@code --control-dir}): the two share one source and its uid, so a resume that swaps one for
     * the other would restore the source as it was and never read the other (refused).
     */
    public static final String CONTROL_SOURCE_FILE = ".control-source";

    /**
     * The copy in {@code --out} of the {@code --control} file a job started with, named this plus the file's
     * compression suffix ({@code .gz}, ...) where it has one, so that it is read as the file is: Flink's rerun of main
     * after a JobManager failover reads it where the file is gone (moved or rotated since the start).
     */
    public static final String CONTROL_COPY_FILE = ".control-copy";

    /** Every name {@link #CONTROL_COPY_FILE} may have: bare, and with each suffix Flink's file source decompresses. */
    public static List<String> controlCopyNames() {
        List<String> names = new java.util.ArrayList<>();
        names.add(CONTROL_COPY_FILE);
        for (String suffix : org.apache.flink.connector.file.src.compression.StandardDeCompressors
                .getCommonSuffixes()) {
            names.add(CONTROL_COPY_FILE + "." + suffix);
        }
        return names;
    }

    /** The name of the copy of {@code controlFile}: with its compression suffix, if Flink decompresses it. */
    static String controlCopyName(Path controlFile) {
        String name = controlFile.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String suffix = dot < 0 ? "" : name.substring(dot + 1);
        return org.apache.flink.connector.file.src.compression.StandardDeCompressors.getCommonSuffixes()
                .contains(suffix) ? CONTROL_COPY_FILE + "." + suffix : CONTROL_COPY_FILE;
    }

    /**
     * The file in {@code --out} that names the Kafka topics a job reads, {@code topic=NAME} and
     * {@code control-topic=NAME} (empty: none): a restored Kafka source keeps reading the partitions of the topic in
     * its savepoint and adds the partitions of a new {@code --kafka-topic} as newly found, from the earliest offset, so
     * a resume given another topic would read both into one output (refused).
     */
    public static final String KAFKA_TOPICS_FILE = ".kafka-topics";

    /**
     * The file in {@code --out} that names the input a job read, {@code generator <fingerprint>} or
     * {@code file <fingerprint>} (of the events, hex): a restore that would continue another job's {@code --out}
     * with other events (another generator's, or a file's where a generator's ran) is refused.
     */
    public static final String INPUT_FILE = ".input";

    /**
     * The file in {@code --out} that names the {@code --sum-field} of the job that writes there ({@code sum-field=}
     * and the field, empty without one): a restore with another one is refused, as its results (in {@code results/}
     * or the results topic) would change shape or meaning in the middle of the output.
     */
    public static final String SUM_FIELD_FILE = ".sum-field";

    /**
     * The file in {@code --out} that names the {@code --window} of the job that writes there ({@code window-ms=} and
     * its length): a restore with another one is refused. The window operators restore their open windows and timers
     * of the old length, new records go into windows of the new one: {@code results/} would hold both lengths, and
     * the window of the cut would lack what the old windows had counted (a hash job has no keyshift state to refuse
     * it; a keyshift one's routers refused it only on the cluster, after submit had said "submitted"). Jobs before
     * 2026-12-06 wrote none: not checked then.
     */
    public static final String WINDOW_FILE = ".keyshift-window";

    /**
     * How a Kafka job reads its records, as {@link #INPUT_FILE} keeps it after the topic: each option and its value,
     * tab-separated ({@code --kafka-format}, {@code --key}, {@code --time}, {@code --time-format},
     * {@code --time-zone}, and for CSV {@code --columns}, whose names stand for positions: a restore may add fields at
     * the end, as a producer adds one, and a zone is compared as the zone it names: UTC, Etc/UTC and none are one).
     */
    static String kafkaReading(CommandLine cl, io.keyshift.jobs.kafka.KafkaOptions kafka, InputSpec spec) {
        java.time.ZoneId zone;
        try {
            // (none: UTC, as the parser reads a time without a zone)
            zone = spec.timeZone() == null ? java.time.ZoneOffset.UTC : java.time.ZoneId.of(spec.timeZone());
        } catch (java.time.DateTimeException e) {
            throw new ParameterException(cl, "--time-zone " + spec.timeZone() + ": " + e.getMessage());
        }
        boolean json = kafka.format(cl) == io.keyshift.jobs.kafka.KafkaEventDeserializer.KafkaFormat.JSON;
        return "--kafka-format=" + kafka.format(cl).name().toLowerCase(java.util.Locale.ROOT)
                + (json ? "" : "\t--columns=" + String.join(",", spec.columns()))
                + "\t--key=" + spec.keyColumn() + "\t--time=" + String.join(",", spec.timeColumns())
                + "\t--time-format=" + spec.timeFormat().orElse("") + "\t--time-zone=" + zone.normalized().getId();
    }

    /**
     * Refuses a resume of a Kafka job that reads its records otherwise than the job it continues ({@code kept}: its
     * {@link #INPUT_FILE} line; one of a build before 2026-12-07 names the topic alone and is not checked): another
     * --key (or its columns, time or format) counted other keys into the restored windows and forecasts, and each
     * key's results of the window open at the restore mixed both meanings. A file job's sorted copy refuses the same.
     *
     * @throws ParameterException naming the option
     */
    static void checkKeptReading(CommandLine cl, String kept, String now) {
        String[] before = kept.strip().split("\t");
        if (before.length < 2 || !before[0].startsWith("kafka ")) {
            return;
        }
        java.util.Map<String, String> was = new java.util.HashMap<>();
        for (int i = 1; i < before.length; i++) {
            int eq = before[i].indexOf('=');
            if (eq > 0) {
                was.put(before[i].substring(0, eq), before[i].substring(eq + 1));
            }
        }
        for (String option : now.split("\t")) {
            int eq = option.indexOf('=');
            String name = option.substring(0, eq);
            String value = option.substring(eq + 1);
            String old = was.get(name);
            if (old != null && !old.equals(value) && !(name.equals("--time-zone") && sameZone(old, value))
                    && !(name.equals("--columns") && value.startsWith(old + ","))) {
                throw new ParameterException(cl, name + " " + (value.isEmpty() ? "(none)" : "'" + value + "'") + ": the "
                        + "job this one continues read its records with " + name + " " + (old.isEmpty() ? "(none)"
                        : "'" + old + "'") + ", and its restored windows and forecasts hold records read that way: "
                        + "give the same, or start a new job in a new --out");
            }
        }
    }

    /** Whether zone ids {@code a} and {@code b} name one zone (UTC, Etc/UTC and Z are one); false if one is no zone. */
    private static boolean sameZone(String a, String b) {
        try {
            return java.time.ZoneId.of(a).normalized().equals(java.time.ZoneId.of(b).normalized());
        } catch (java.time.DateTimeException e) {
            return false;
        }
    }

    /**
     * Refuses a resume whose {@code --kafka-topic} or {@code --kafka-control-topic} is not the one the job it continues
     * read ({@code kept}: the {@value #KAFKA_TOPICS_FILE} it wrote). A restored Kafka source reads on in the
     * partitions of its savepoint and takes a new topic's partitions as newly found, from the earliest offset: the
     * output would hold both topics' records. A resume without a control topic, or with one where the job had none,
     * is not refused here (Flink refuses the first as state it cannot map; the second reads its topic from the start).
     * A resume that writes results, plans, forecasts or validation to another topic than the job it continues is
     * refused too (their topics kept since 2026-12-06; a sink the job did not have is new).
     *
     * @throws ParameterException naming the option
     */
    static void checkKeptTopics(CommandLine cl, String kept, io.keyshift.jobs.kafka.KafkaOptions kafka) {
        java.util.Map<String, String> was = new java.util.HashMap<>();
        for (String line : kept.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                was.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
            }
        }
        String topic = was.getOrDefault("topic", "");
        if (kafka.input() && !topic.isEmpty() && !topic.equals(kafka.topicName())) {
            throw new ParameterException(cl, "--kafka-topic " + kafka.topicName() + ": the job this one continues read "
                    + "topic " + topic + ", and a restored Kafka source reads on in that topic's partitions (a new "
                    + "topic's would be read beside them, from the earliest offset, into the same output): resume "
                    + "with --kafka-topic " + topic + ", or start a new job without the savepoint or checkpoint into a "
                    + "new --out");
        }
        if (kafka.input() && "true".equals(was.get("bounded")) && !kafka.bounded()) {
            // each restored split keeps the bounded read's end offset, and the restored enumerator hands out no
            // partition again: the job would read nothing more, without a word
            throw new ParameterException(cl, "--kafka-bounded: the job this one continues read topic " + topic
                    + " as a bounded range, and a restored Kafka source keeps each partition's end offset of that "
                    + "read: resumed without --kafka-bounded it would read nothing after them; start a new job "
                    + "without the savepoint or checkpoint into a new --out");
        }
        String control = was.getOrDefault("control-topic", "");
        if (kafka.controlTopicName() != null && !control.isEmpty() && !control.equals(kafka.controlTopicName())) {
            throw new ParameterException(cl, "--kafka-control-topic " + kafka.controlTopicName() + ": the job this one "
                    + "continues read its commands from topic " + control + ", and a restored Kafka source reads on "
                    + "in that topic's partitions (the new topic's commands would come beside them): resume with "
                    + "--kafka-control-topic " + control);
        }
        // a restored Kafka sink commits what it had pending to its old topic and writes on to the new one: one output
        // split over two topics (and a pooled id's open transaction on the old topic, never listed, held its readers)
        for (java.util.Map.Entry<String, String> e : kafka.sinkTopics().entrySet()) {
            String before = was.getOrDefault(e.getKey() + "-topic", "");
            if (!before.isEmpty() && !before.equals(e.getValue())) {
                throw new ParameterException(cl, "--" + e.getKey() + "-topic " + e.getValue() + ": the job this one "
                        + "continues wrote to topic " + before + ", and its restored sink commits what it had pending "
                        + "there (the output would be split over two topics): resume with --" + e.getKey() + "-topic "
                        + before + ", or start a new job without the savepoint or checkpoint into a new "
                        + "--out");
            }
        }
    }

    /** The SHA-256 (hex) of {@code file}'s bytes. */
    public static String controlFileDigest(Path file) throws java.io.IOException {
        return sha256Hex(Files.readAllBytes(file));
    }

    /** The SHA-256 of {@code bytes}, 64 lower-case hex digits. */
    public static String sha256Hex(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java platform", e);
        }
    }

    /**
     * Where a generator or Kafka job's main moves the dead letters an earlier run that started no job left in --out,
     * when {@code bin/keyshift submit} takes its job graph: submit removes them once the job has started, and puts
     * them back where it does not.
     */
    public static final String LEFT_DEAD_LETTERS_ASIDE = ".dead-letters.csv.left";

    /** This run's claim on --out (see ReplayOutput#claimForJob), released when main returns; null before it. */
    private AutoCloseable outClaim;

    /** How the message of the IllegalArgumentException that main throws for a bad argument begins. */
    public static final String USAGE_ERROR_PREFIX = "keyshift-job: ";

    /** Entry point; exceptions propagate (Flink's program runner needs them), nothing calls System.exit. */
    public static void main(String[] args) throws Exception {
        KeyshiftJob job = new KeyshiftJob();
        CommandLine cl = new CommandLine(job)
                .setUsageHelpWidth(io.keyshift.jobs.cli.KeyshiftCli.USAGE_WIDTH)
                .registerConverter(Path.class, io.keyshift.jobs.cli.FlinkOptions::path);
        // a bad argument becomes the exception's message (what flink run and bin/keyshift submit print); picocli
        // swallows what its handlers throw, so the handler keeps it and main throws it
        ParameterException[] bad = new ParameterException[1];
        cl.setParameterExceptionHandler((e, a) -> {
            bad[0] = e;
            return 2;
        });
        Exception[] failed = new Exception[1];
        cl.setExecutionExceptionHandler((e, c, parsed) -> {
            failed[0] = e;
            return 1;
        });
        int exit;
        try {
            exit = cl.execute(args);
        } finally {
            if (job.outClaim != null) {
                job.outClaim.close();
            }
        }
        if (bad[0] != null) {
            throw new IllegalArgumentException(USAGE_ERROR_PREFIX + bad[0].getMessage(), bad[0]);
        }
        if (failed[0] != null) {
            throw failed[0];
        }
        if (exit != 0) {
            throw new IllegalArgumentException(USAGE_ERROR_PREFIX + "invalid arguments (exit " + exit + ")");
        }
    }

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        Duration w = io.keyshift.jobs.cli.FlinkOptions.window(cl, "--window", window);
        Strategy st;
        try {
            st = Strategy.parse(strategy);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--strategy: " + e.getMessage());
        }
        if (!(rate == 0 || rate >= 1 && rate < Double.POSITIVE_INFINITY)) {
            // below one record a second in total a source subtask would sleep minutes per record (in effect a hang)
            throw new ParameterException(cl, "--rate must be 0 (full speed) or at least 1 record/s and finite, was "
                    + rate);
        }
        kafka.validate(cl);
        // one source: a Kafka topic, an --input file or the generator; another source's options would be ignored
        if (kafka.input() && in.present()) {
            throw new ParameterException(cl, "--input and --kafka-topic exclude each other");
        }
        boolean described = kafka.input() || in.present();
        for (CommandLine.Model.OptionSpec o : cl.getCommandSpec().options()) {
            if (!cl.getParseResult().hasMatchedOption(o)) {
                continue;
            }
            String name = o.longestName();
            // (--sum-field also sums the generator's values)
            if (!described && List.of("--columns", "--key", "--time", "--time-format", "--time-zone").contains(name)) {
                throw new ParameterException(cl, name + " describes an --input file or a --kafka-topic, and there is "
                        + "neither (without them the job runs the built-in generator)");
            }
            if (described && (name.startsWith("--generator-") || name.equals("--seed"))) {
                throw new ParameterException(cl, name + " sets the built-in generator, which does not run with "
                        + (kafka.input() ? "--kafka-topic" : "--input"));
            }
        }
        if (kafka.input() && kafka.format(cl) == io.keyshift.jobs.kafka.KafkaEventDeserializer.KafkaFormat.JSON
                && cl.getParseResult().hasMatchedOption("--columns")) {
            // a JSON record names its fields: the columns would be ignored
            throw new ParameterException(cl, "--columns names the fields of CSV records, not of --kafka-format json "
                    + "(whose records name their own: --key and --time take those names)");
        }
        if (kafka.controlTopicName() != null && !kafka.input()) {
            throw new ParameterException(cl, "--kafka-control-topic needs --kafka-topic (with a file input or the "
                    + "generator, use --control or --control-dir)");
        }
        if (st == Strategy.HASH && !kafka.sideTopics().isEmpty()) {
            throw new ParameterException(cl, "--plans-topic, --forecasts-topic and --validation-topic need a keyshift "
                    + "strategy (predictive or reactive); hash makes no plans");
        }
        if (kafka.input() && rate > 0) {
            throw new ParameterException(cl, "--rate paces --input and the generator, not a Kafka topic");
        }
        if (st == Strategy.HASH && (controlFile != null || controlDir != null || kafka.controlTopicName() != null)) {
            throw new ParameterException(cl, "--control, --control-dir and --kafka-control-topic steer a keyshift "
                    + "strategy (predictive or reactive); hash has no planner to steer");
        }
        if (!out.isAbsolute() && out.getNameCount() > 0 && out.getName(0).toString().matches("[A-Za-z][A-Za-z0-9+.-]*:")) {
            // Path.of("s3://bucket/x") is the relative local path s3:/bucket/x
            throw new ParameterException(cl, "--out takes a local directory (on a cluster: a volume every "
                    + "TaskManager mounts), not a URI: " + out);
        }
        for (String key : dynamic.keySet()) {
            String meant = FlinkConfig.nearMissOfFlinkKey(key);
            if (meant != null) {
                // as replay says it: Flink ignores a key it does not know (a warning, not a refusal: connectors and
                // plugins have keys of their own)
                System.err.println("keyshift-job: warning: -D" + key + " is not a Flink option; did you mean " + meant
                        + "? (Flink ignores keys it does not know)");
            }
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        Map<String, String> merged = new HashMap<>(env.getConfiguration().toMap());
        merged.putAll(dynamic);
        if (dynamic.containsKey(JobOptions.WINDOW.key())) {
            throw new ParameterException(cl, "-D" + JobOptions.WINDOW.key() + ": the job takes the planning window "
                    + "from --window");
        }
        String otherWindow;
        try {
            otherWindow = FlinkConfig.otherWindow(Configuration.fromMap(merged), w);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "-D / config.yaml: " + e.getMessage());
        }
        if (otherWindow != null) {
            throw new ParameterException(cl, otherWindow);
        }
        // the options that depend on the window (seasons, models, the calendar) are checked against this job's
        merged.put(JobOptions.WINDOW.key(), w.toMillis() + " ms");
        Configuration conf = Configuration.fromMap(merged);
        try {
            FlinkConfig.validate(conf);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "-D / config.yaml: " + e.getMessage());
        }
        // the command line's defaults also under Flink's own `flink run` (bin/keyshift submit applies them too)
        io.keyshift.jobs.replay.Workload.defaults(conf);
        conf.set(JobOptions.WINDOW, w);
        if (kafka.input()) {
            Duration idle = kafka.idleness(cl);
            Duration noWatermark = conf.get(io.keyshift.config.RouteOptions.NO_WATERMARK_TIMEOUT);
            if (!idle.isZero() && !noWatermark.isZero() && idle.compareTo(noWatermark) >= 0) {
                // a subtask's quiet partition holds its watermark back until the idle timeout: records waiting for a
                // plan longer than the no-watermark timeout fail the job first, and again after every restart
                throw new ParameterException(cl, "--kafka-idleness (" + human(idle) + ") must be shorter than "
                        + "keyshift.route.no-watermark-timeout (" + human(noWatermark) + "): records wait for a plan "
                        + "while a quiet partition holds the watermark back, and the job would fail before the "
                        + "partition counts as idle");
            }
        }
        if (controlFile != null && controlDir != null) {
            throw new ParameterException(cl, "--control and --control-dir exclude each other");
        }
        if (controlDir != null && kafka.bounded()) {
            // the watched directory is an unbounded source: the job would never finish
            throw new ParameterException(cl, "--kafka-bounded cannot finish with --control-dir, which is watched "
                    + "live: give the commands with --control FILE for a run that finishes");
        }
        if (controlDir != null && controlDir.isBlank()) {
            // Path.of("") is the working directory, which the job would watch, its own outputs too
            throw new ParameterException(cl, "--control-dir must not be empty");
        }
        if (controlDir != null && out != null && LocalPaths.real(out)
                .startsWith(LocalPaths.real(Path.of(controlDir)))) {
            // the watched directory's files, recursively, are commands: the job's own results and rejected commands
            // would be read as commands, each rejection a new file read again
            throw new ParameterException(cl, "--control-dir " + Path.of(controlDir).toAbsolutePath() + " holds --out "
                    + out.toAbsolutePath() + ": the job would read its own output as commands; give --out elsewhere");
        }
        if (out != null) {
            java.util.Map<String, Path> inputs = new java.util.LinkedHashMap<>();
            inputs.put("--input", in.present() ? in.input() : null);
            inputs.put("--control", controlFile == null ? null : Path.of(controlFile));
            inputs.put("--control-dir", controlDir == null ? null : Path.of(controlDir));
            refuseInputsInOutput(cl, out, inputs);
        }
        if (controlDir != null && !Files.isDirectory(Path.of(controlDir))) {
            // Flink's file source only logs a directory it cannot list, and the job would run with no control input
            throw new ParameterException(cl, "--control-dir " + Path.of(controlDir).toAbsolutePath()
                    + " is not a directory on this machine, where the job's main runs (bin/keyshift submit's JVM, or "
                    + "the JobManager in application mode); the JobManager and every TaskManager must see it too");
        }
        // a --control file that cannot be read is refused once a failover, which reads the copy kept at the start,
        // is told apart (below)
        boolean controlUnreadable = controlFile != null
                && (!Files.isRegularFile(Path.of(controlFile)) || !Files.isReadable(Path.of(controlFile)));
        if (controlFile != null) {
            conf.set(io.keyshift.jobs.replay.Workload.CONTROL_FILE, controlFile);
        }
        if (controlDir != null) {
            Duration every = conf.get(io.keyshift.jobs.replay.Workload.CONTROL_DIRECTORY_INTERVAL);
            if (every.compareTo(Duration.ofMillis(1)) < 0 || every.getNano() % 1_000_000 != 0
                    || every.compareTo(io.keyshift.config.KeyshiftConfig.MAX_DURATION) > 0) {
                // Flink's file source refused 0 only when the job was built, after the input was sorted, unnamed; its
                // split enumerator takes whole milliseconds (500us became a period of 0, which failed the source's
                // coordinator at every restart) within a long
                throw new ParameterException(cl, io.keyshift.jobs.replay.Workload.CONTROL_DIRECTORY_INTERVAL.key()
                        + " must be whole milliseconds, at least 1ms and at most "
                        + io.keyshift.config.KeyshiftConfig.MAX_DURATION.toDays() + "d, with --control-dir, was "
                        + every);
            }
            conf.set(io.keyshift.jobs.replay.Workload.CONTROL_DIRECTORY, controlDir);
        }
        // job-level Flink options given with -D (restart strategy, checkpointing, ...) apply to this job
        env.configure(Configuration.fromMap(dynamic), Thread.currentThread().getContextClassLoader());
        int maxP = conf.getOptional(PipelineOptions.MAX_PARALLELISM).orElse(conf.get(JobOptions.DEFAULT_MAX_PARALLELISM));
        env.setMaxParallelism(maxP);
        try {
            io.keyshift.config.KeyshiftConfig.checkScalingBounds(conf, maxP);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "-D / config.yaml: " + e.getMessage());
        }
        if (parallelism != null) {
            if (parallelism < 1 || parallelism > maxP) {
                throw new ParameterException(cl, "--parallelism must be in 1.." + maxP + ", was " + parallelism);
            }
            env.setParallelism(parallelism);
        } else if (env.getParallelism() > maxP) {
            // parallelism.default from config.yaml or -D: refused when the stage was built, after the input's sort,
            // without naming an option
            throw new ParameterException(cl, "parallelism.default " + env.getParallelism() + " (config.yaml / -D) is "
                    + "above the max parallelism " + maxP + " (the key groups): give --parallelism 1.." + maxP
                    + " or raise pipeline.max-parallelism");
        }
        try {
            io.keyshift.config.KeyshiftConfig.checkScaledParallelism(conf, env.getParallelism());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--parallelism / -D: " + e.getMessage());
        }
        String scalingConflict = scalingConflict(conf, st == Strategy.HASH);
        if (scalingConflict != null) {
            throw new ParameterException(cl, scalingConflict);
        }
        if (st != Strategy.HASH && conf.get(org.apache.flink.configuration.JobManagerOptions.SCHEDULER_MODE)
                == org.apache.flink.configuration.SchedulerExecutionMode.REACTIVE) {
            // refused by the keyshift stage when the job is built; said here, before the brokers are asked (their
            // check advised a max parallelism for a job that could not run)
            throw new ParameterException(cl, "-Dscheduler-mode=reactive: keyshift's stage does not run under Flink's "
                    + "reactive mode (its profiler, forecaster and planner must run at 1 subtask); remove it, and "
                    + "scale the keyed operator with keyshift.scaling.*, or run --strategy hash");
        }
        if (kafka.input() && kafka.bounded()) {
            // (reactive mode runs the adaptive scheduler whatever jobmanager.scheduler says)
            if (conf.get(org.apache.flink.configuration.JobManagerOptions.SCHEDULER_MODE)
                    == org.apache.flink.configuration.SchedulerExecutionMode.REACTIVE) {
                throw new ParameterException(cl, boundedUnderAdaptive("scheduler-mode: reactive"));
            }
            if (conf.get(org.apache.flink.configuration.JobManagerOptions.SCHEDULER)
                    == org.apache.flink.configuration.JobManagerOptions.SchedulerType.Adaptive) {
                throw new ParameterException(cl, boundedUnderAdaptive("jobmanager.scheduler: adaptive"));
            }
        }
        // the source's own checks (columns, time format, generator sizes) before anything is written; a file's are
        // judged once it is known whether this is a failover that reads on in its sorted copy (below: nothing is
        // written before), whatever --input holds now (truncated by a log rotation, another file's header)
        InputSpec sourceSpec = null;
        ParameterException inputRefused = null;
        if (kafka.input()) {
            sourceSpec = in.streamSpec(cl, "--kafka-topic", sumField,
                    kafka.format(cl) == io.keyshift.jobs.kafka.KafkaEventDeserializer.KafkaFormat.JSON);
        } else if (in.present() && Files.isRegularFile(in.input()) && Files.isReadable(in.input())) {
            try {
                sourceSpec = in.spec(cl, sumField,
                        conf.getOptional(io.keyshift.config.PrivacyOptions.KEY_SECRET).isPresent());
            } catch (ParameterException e) {
                inputRefused = e;
            }
        }
        EventSpace generated = described ? null : gen.generator(cl, true);
        if (generated != null) {
            // as replay: a bounded generator's days in windows too short planned millions of windows
            String tooMany = gen.tooManyWindows(w);
            if (tooMany != null) {
                throw new ParameterException(cl, tooMany);
            }
        }
        Path dir = out.toAbsolutePath();
        boolean newOut = holdsNoTransactionNaming(dir);
        // a job restored from a savepoint continues its own outputs; one started from a bootstrap savepoint (the
        // forecaster's state alone) continues none, and --out must be new to it as to a fresh job
        String restoredFrom = conf.getOptional(StateRecoveryOptions.SAVEPOINT_PATH).orElse(null);
        Boolean bootstrap = restoredFrom == null ? Boolean.FALSE
                : io.keyshift.savepoint.BootstrapMarker.bootstrapIfKnown(restoredFrom);
        boolean restoring = restoredFrom != null && !Boolean.TRUE.equals(bootstrap);
        java.util.List<String> bootstrapped = Boolean.TRUE.equals(bootstrap)
                ? io.keyshift.savepoint.BootstrapMarker.stages(restoredFrom) : java.util.List.of();
        if (!bootstrapped.isEmpty() && !bootstrapped.contains(io.keyshift.jobs.replay.Workload.UID_PREFIX)) {
            // Flink refuses its state in a line naming a hex operator id; with --allow-non-restored-state the job
            // started cold without a word
            throw new ParameterException(cl, "the savepoint to start from (" + restoredFrom + ") is a bootstrap of "
                    + "stage " + String.join(", ", bootstrapped) + " (bin/keyshift bootstrap --uid-prefix), which "
                    + "this job does not have: its stage is " + io.keyshift.jobs.replay.Workload.UID_PREFIX
                    + "; bootstrap with --uid-prefix " + io.keyshift.jobs.replay.Workload.UID_PREFIX
                    + " (the default)");
        }
        // a stage bootstrapped onto a job's own savepoint (its stages file; the job continues the base's run)
        boolean addedOnto = restoring && bootstrap != null && io.keyshift.savepoint.BootstrapMarker.stages(restoredFrom)
                .contains(io.keyshift.jobs.replay.Workload.UID_PREFIX);
        if (bootstrapped.contains(io.keyshift.jobs.replay.Workload.UID_PREFIX) || addedOnto) {
            // what the bootstrap was made for (its marker, from 2026-12-06 on), before anything is written: another
            // window failed the job once it ran (submit had said "submitted") and left --out to a rerun refused as
            // another job's; another key type put the hot keys' series in other key groups
            java.util.Map<String, String> made = io.keyshift.savepoint.BootstrapMarker.attributes(restoredFrom,
                    io.keyshift.jobs.replay.Workload.UID_PREFIX);
            String madeIn = bootstrapped.contains(io.keyshift.jobs.replay.Workload.UID_PREFIX)
                    ? "the bootstrap savepoint " : "the forecaster bootstrapped onto the savepoint ";
            String madeWindow = made.get(io.keyshift.savepoint.BootstrapMarker.WINDOW_MILLIS);
            if (madeWindow != null && !madeWindow.equals(Long.toString(w.toMillis()))) {
                throw new ParameterException(cl, madeIn + restoredFrom + " was made from planning "
                        + "windows of " + madeWindow + " ms, and this job's --window is " + w.toMillis() + " ms: run "
                        + "the job with the bootstrap's --window, or bootstrap again with the job's");
            }
            String madeMaxP = made.get(io.keyshift.savepoint.BootstrapMarker.MAX_PARALLELISM);
            if (madeMaxP != null && !madeMaxP.equals(Integer.toString(maxP))) {
                throw new ParameterException(cl, madeIn + restoredFrom + " was made for " + madeMaxP
                        + " key groups, and this job has " + maxP + " (pipeline.max-parallelism / "
                        + JobOptions.DEFAULT_MAX_PARALLELISM.key() + "): give them the same");
            }
            String madeKeyType = made.get(io.keyshift.savepoint.BootstrapMarker.KEY_TYPE);
            String jobKeyType = org.apache.flink.api.common.typeinfo.Types.STRING.toString();
            if (madeKeyType != null && !madeKeyType.equals(jobKeyType)) {
                throw new ParameterException(cl, madeIn + restoredFrom + " was made for keys of type "
                        + madeKeyType + ", and this job keys by " + jobKeyType + " (a key's key group is its hash as "
                        + "its type): bootstrap with --key-type string");
            }
        }
        if ((Boolean.TRUE.equals(bootstrap) || addedOnto) && st != Strategy.PREDICTIVE) {
            // hash has no forecaster: Flink refused the state naming a hex operator id, and with
            // --allow-non-restored-state the job started without it; reactive forecasts with the naive model alone,
            // and a bootstrap of the default models failed once the job ran, naming an option never set (a forecaster
            // bootstrapped onto a job's own savepoint alike)
            throw new ParameterException(cl, "the savepoint to start from (" + restoredFrom + ") "
                    + (addedOnto ? "holds a forecaster bootstrapped onto it (bin/keyshift bootstrap --onto)"
                    : "is a bootstrap (bin/keyshift bootstrap)") + ", which warm-starts the forecaster of --strategy "
                    + "predictive; --strategy " + strategy + (st == Strategy.HASH ? " has no forecaster"
                    : " forecasts with the naive model alone, from the last window") + ": start it "
                    + (addedOnto ? "with --strategy predictive, or from the savepoint it was bootstrapped onto"
                    : "without --from-savepoint"));
        }
        if (bootstrap == null) {
            // a restore is let in as one: only the cluster may be able to read the path
            System.err.println("keyshift-job: warning: cannot read " + restoredFrom + " from here (its file system "
                    + "is not available to this client, or the path is not on this machine), so it is taken for a "
                    + "savepoint of this job, which continues "
                    + "--out " + out.toAbsolutePath() + " and is refused where a restore is (--kafka-bounded; Kafka "
                    + "sinks in a new --out without --kafka-transaction-naming); a bootstrap savepoint (bin/keyshift "
                    + "bootstrap) needs an --out of its own, which is not checked here: give a path this client can "
                    + "read to have it told apart");
        }
        if (restoring && bootstrap != null && st != Strategy.HASH
                && !conf.get(StateRecoveryOptions.SAVEPOINT_IGNORE_UNCLAIMED_STATE)) {
            refuseStateWithoutOperator(cl, restoredFrom,
                    conf.get(io.keyshift.config.PlanOptions.SPLIT_THRESHOLD) > 0,
                    conf.get(io.keyshift.config.ScalingOptions.CAPACITY) > 0);
        }
        String fixedJobId = conf.getString(FIXED_JOB_ID, null);
        String recoveryPath = conf.getOptional(StateRecoveryOptions.SAVEPOINT_PATH).orElse("");
        // the same job's main run again after a JobManager failover (HA), which continues its own output: a
        // checkpoint of it exists; or a new deployment that keeps the id and its checkpoints (the Kubernetes
        // Operator's last-state upgrade, which recovers the latest checkpoint without a savepoint path): a restore, so
        // the checks of a restore below are made where "continuing" and not a failover
        boolean continuing = restoring || sameJob(dir, fixedJobId,
                conf.get(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY),
                conf.get(org.apache.flink.configuration.CheckpointingOptions.CREATE_CHECKPOINT_SUB_DIR));
        // ... and reads on in its sorted copy: the same id, started from the same savepoint (a restore from another
        // savepoint under a reused id is a restore), with the same arguments (a redeployment with changed ones is a
        // restore), with read positions to read on from (a savepoint or a
        // checkpoint; without either, a new deployment under a reused id, and a job failed over before its first
        // checkpoint, sort their input aside and replace the copy only where it differs)
        // the arguments as picocli read them, an @-file's content in place of its name (an upgrade may change only
        // the file)
        String argsDigest = argsDigest(cl.getParseResult().expandedArgs());
        boolean failover = markedBy(dir, fixedJobId) && markedRecovery(dir, recoveryPath)
                && markedArgs(dir, argsDigest) && continuing;
        // what a restore continues, for its messages: the savepoint, or the checkpoints a redeployment under the
        // fixed id recovers (no savepoint path)
        String resumedFrom = restoredFrom != null ? restoredFrom : "the checkpoints of job " + fixedJobId;
        // a failover whose --control file changed since the job started: its restored source read the file as it was,
        // and the routers, built here, would take the changed file's sampling rates, which no plan knows
        boolean controlChanged = failover && !controlUnreadable && controlFile != null
                && Files.isRegularFile(dir.resolve(CONTROL_DIGEST_FILE))
                && !Files.readString(dir.resolve(CONTROL_DIGEST_FILE)).strip()
                        .equals(controlFileDigest(Path.of(controlFile)))
                && controlCopyNames().stream().anyMatch(n -> Files.isRegularFile(dir.resolve(n)));
        if (controlChanged) {
            for (String name : controlCopyNames()) {
                if (Files.isRegularFile(dir.resolve(name))) {
                    System.out.println("keyshift-job: recovering: --control " + controlFile + " changed since the "
                            + "job started; reading the copy kept then, " + dir.resolve(name));
                    controlFile = dir.resolve(name).toString();
                }
            }
            conf.set(io.keyshift.jobs.replay.Workload.CONTROL_FILE, controlFile);
        }
        if (controlUnreadable) {
            Path copy = null;
            // Flink's rerun of main after a failover, also one before the job's first checkpoint
            if (failover || markedBy(dir, fixedJobId) && markedRecovery(dir, recoveryPath)) {
                for (String name : controlCopyNames()) {
                    if (Files.isRegularFile(dir.resolve(name))) {
                        copy = dir.resolve(name);
                    }
                }
            }
            if (copy == null) {
                // read where the job is built: a missing file failed only after the input was sorted, unnamed
                throw new ParameterException(cl, "--control: not a readable file on this machine, where the job's "
                        + "main runs: " + Path.of(controlFile).toAbsolutePath());
            }
            // (moved or rotated since the job started it: an HA job failed to recover)
            System.out.println("keyshift-job: recovering: --control " + controlFile + " cannot be read; reading "
                    + "the copy kept when the job started, " + copy);
            controlFile = copy.toString();
            conf.set(io.keyshift.jobs.replay.Workload.CONTROL_FILE, controlFile);
        }
        if (controlFile != null) {
            try {
                io.keyshift.jobs.replay.Workload.checkControlFile(Path.of(controlFile));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, "--control: " + e.getMessage());
            }
        }
        // the sorted copy a failover reads on in (null: none, damaged, or of an earlier format: sorted again)
        EventSpace kept = failover && in.present() && Files.exists(dir.resolve(".events.bin"))
                ? readOnAfterFailover(dir) : null;
        if (in.present() && sourceSpec == null && kept == null) {
            // an input that cannot be read is refused here, unless this is a failover that reads on in its sorted
            // copy (an input moved or rotated since the job sorted it failed the recovery of an HA job)
            if (failover && Files.exists(dir.resolve(".events.bin"))) {
                throw new ParameterException(cl, "--input " + in.input() + (inputRefused != null ? " cannot be read "
                        + "as this job's input (" + inputRefused.getMessage() + ")" : " is not a readable file")
                        + ", and the sorted copy this job read before its failover (" + dir.resolve(".events.bin")
                        + ") cannot be read or is of an earlier format: put the input back to sort it again; no job "
                        + "was started");
            }
            if (inputRefused != null) {
                throw inputRefused;
            }
            sourceSpec = in.spec(cl, sumField,
                    conf.getOptional(io.keyshift.config.PrivacyOptions.KEY_SECRET).isPresent());
        }
        // the same job's main again after a failover (its HA marker, or its started marker where the failover came
        // while it was being built)
        boolean sameJobAgain = markedBy(dir, fixedJobId) || startedBy(dir, fixedJobId);
        // a job that continues the directory, or the same job's main again (its own marker may be there)
        boolean ownDirectory = continuing || sameJobAgain;
        // a command still running in --out (a bench before its first bench.json, a replay reading its input) has
        // written none of the files below: its claim on the directory tells (held until main returns)
        outClaim = io.keyshift.jobs.cli.ReplayOutput.claimForJob(cl, dir);
        String held = continuing ? null : heldOutput(dir, !sameJobAgain);
        if (held != null) {
            throw new ParameterException(cl, "--out " + dir + " already holds results of another job, running or "
                    + "ended (" + (held.startsWith(".") ? held : held + "/") + "): choose a new directory, delete that "
                    + "one, or restore that job from its savepoint or checkpoint "
                    + "(which continues its output; a new job counts the window open at the cut-over only from where "
                    + "it starts reading)");
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new ParameterException(cl, "--out " + dir + " is a file, not a directory");
        }
        String local = io.keyshift.jobs.cli.ReplayOutput.commandOutput(dir);
        if (local != null) {
            throw new ParameterException(cl, "--out " + dir + " holds the output of a local command (" + local
                    + ": a replay, forecast-bench, bench, plan-bench or soak), which a job neither mixes with nor removes: choose "
                    + "another directory");
        }
        String noCheckpoints = noCheckpoints(conf);
        if (noCheckpoints != null) {
            throw new ParameterException(cl, noCheckpoints);
        }
        if (kafka.output() || !kafka.sideTopics().isEmpty()) {
            Duration interval = conf.get(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTING_INTERVAL);
            Duration checkpointTimeout = conf.get(
                    org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTING_TIMEOUT);
            Duration timeout = kafka.transactionTimeout(cl);
            Duration minPause = conf.get(org.apache.flink.configuration.CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS);
            // the next checkpoint starts an interval after this one started, and no sooner than a min pause after
            // it ended
            Duration start = interval.compareTo(minPause) >= 0 ? interval : minPause;
            // with failed checkpoints tolerated, the job runs on past up to that many that expire, and the
            // transaction opened before them commits only with the next that completes
            int tolerated = Math.max(0, conf.get(
                    org.apache.flink.configuration.CheckpointingOptions.TOLERABLE_FAILURE_NUMBER));
            Duration open = start.plus(checkpointTimeout).multipliedBy(tolerated + 1L);
            if (open.compareTo(timeout) >= 0) {
                // the broker aborts a transaction older than its timeout, and Flink's Kafka committer only logs the
                // loss: every result written between two checkpoints would be gone without a failure. A transaction
                // opens at one checkpoint's barrier and commits when the next checkpoint completes: up to the
                // interval (or the min pause, if longer) and the longest the next checkpoint may take
                throw new ParameterException(cl, "execution.checkpointing.interval (" + human(interval) + ") plus "
                        + "execution.checkpointing.timeout (" + human(checkpointTimeout) + ")" + (minPause.isZero() ? ""
                        : " (or execution.checkpointing.min-pause (" + human(minPause) + ") plus the timeout, where the "
                        + "pause is longer)") + (tolerated == 0 ? "" : ", times 1 + "
                        + "execution.checkpointing.tolerable-failed-checkpoints (" + tolerated + "),")
                        + " must be shorter than the Kafka "
                        + "sinks' transaction.timeout.ms (" + human(timeout) + "): a transaction stays open from one "
                        + "checkpoint until the next one completes, and the broker aborts it after the timeout, "
                        + "results and all; shorten the interval, the min pause or the checkpoint timeout, or raise "
                        + "the transaction timeout with --kafka-property transaction.timeout.ms=N (at most the "
                        + "broker's transaction.max.timeout.ms)");
            }
        }
        // a restore from a savepoint that is not a bootstrap (a path this client cannot read is taken for one, as
        // the warning above says: with a bootstrap there, the refusals below are the user's to lift by giving a
        // path this client can read)
        boolean savepointRestore = restoring;
        // ... or a redeployment that recovers the checkpoints of the job with its fixed id (not Flink's rerun of main)
        boolean checkpointRestore = continuing && !restoring && !failover;
        if ((savepointRestore || checkpointRestore) && kafka.input()
                && kafka.bounded()) {
            // a restored KafkaSource enumerator finds its partitions assigned and never tells the readers that no
            // more splits come (FLINK-31006): the readers stop at their end offsets and wait, the job RUNNING for
            // ever with its last windows unfired
            throw new ParameterException(cl, "--kafka-bounded cannot be restored from a savepoint or checkpoint "
                    + "(" + resumedFrom + "): Flink's Kafka "
                    + "source never finishes a restored bounded read (FLINK-31006), so the job would run on without "
                    + "firing its last windows; run the backfill again from its start into a new --out, or let it "
                    + "run to its end without a stop" + (bootstrap == null ? " (a bootstrap savepoint is no "
                    + "restore: give a path this client can read, so that it is told apart)" : ""));
        }
        boolean kafkaSinks = kafka.output() || !kafka.sideTopics().isEmpty();
        if (kafkaSinks) {
            kafka.keptTransactionNaming(cl, dir, continuing, newOut && savepointRestore, System.out);
            // the same job's main run again after a JobManager failover before its first checkpoint: the recovered
            // job is its first attempt's, with the prefix the directory keeps
            kafka.keptTransactionalIds(dir, continuing || markedBy(dir, fixedJobId)
                    && markedRecovery(dir, recoveryPath));
        }
        String controlDigest = controlFile == null ? null : controlFileDigest(Path.of(controlFile));
        // on a restore only: Flink's rerun of main after a JobManager failover must recover whatever the file holds
        // (not Flink's rerun of main after a JobManager failover of a job started from a savepoint, which keeps
        // that path: refused, the application failed instead of recovering from its checkpoints)
        if (continuing && !failover && controlDigest != null && Files.isRegularFile(dir.resolve(CONTROL_DIGEST_FILE))
                && !Files.readString(dir.resolve(CONTROL_DIGEST_FILE)).strip().equals(controlDigest)) {
            // the file's source was read whole before the cut: its changed lines reached no plan, while the routers
            // took a changed sampling rate from it at once (it is read again where the job is built)
            throw new ParameterException(cl, "--control " + controlFile + " is not the file the job this one "
                    + "continues started with (its content changed): a job reads its --control file once, so "
                    + "lines changed since would not be applied; resume with the file as it was, and steer a running "
                    + "job through --control-dir or --kafka-control-topic");
        }
        // the generator sums its values whatever the field is called: only whether it sums counts there
        String sumRecord = "sum-field=" + (sumField == null ? "" : kafka.input() || in.present() ? sumField
                : "(the generator's values)");
        if (continuing && Files.isRegularFile(dir.resolve(SUM_FIELD_FILE))) {
            String keptSum = Files.readString(dir.resolve(SUM_FIELD_FILE)).strip();
            if (!keptSum.equals(sumRecord)) {
                String before = keptSum.startsWith("sum-field=") ? keptSum.substring("sum-field=".length()) : keptSum;
                // a results line without a sum among lines with one (or the sums of another field): nothing reading
                // the output could tell where the shape changed
                throw new ParameterException(cl, "--sum-field: the job this one continues wrote its results "
                        + (before.isEmpty() ? "without a sum" : "with the sums of --sum-field " + before)
                        + ", and this one would write them " + (sumField == null ? "without" : "with the sums of "
                        + sumField) + " into the same output; resume with " + (before.isEmpty()
                        ? "no --sum-field" : "--sum-field " + before) + ", or write to another --out");
            }
        }
        String windowRecord = "window-ms=" + w.toMillis();
        if (continuing && Files.isRegularFile(dir.resolve(WINDOW_FILE))) {
            String keptWindow = Files.readString(dir.resolve(WINDOW_FILE)).strip();
            if (!keptWindow.equals(windowRecord)) {
                String before = keptWindow.startsWith("window-ms=") ? keptWindow.substring("window-ms=".length())
                        : keptWindow;
                throw new ParameterException(cl, "--window: the job this one continues wrote its results in windows "
                        + "of " + before + " ms, and this one would write windows of " + w.toMillis() + " ms into "
                        + "the same output (its restored windows would still fire at the old length, into any "
                        + "--out): resume with the job's --window, or start a job with the new window afresh, "
                        + "without this savepoint or checkpoint");
            }
        }
        String controlKind = controlFile != null ? "file" : controlDir != null ? "directory" : null;
        // a directory's path as Flink's enumerator names its files (it remembers the paths it read)
        String watchedPath = controlDir == null ? null : LocalPaths.resolved(Path.of(controlDir)).toString();
        String controlSource = watchedPath != null ? controlKind + "\n" + watchedPath : controlKind;
        Path controlSourceFile = dir.resolve(CONTROL_SOURCE_FILE);
        if (continuing && controlSource != null && Files.isRegularFile(controlSourceFile)) {
            // the kind stripped, the directory's path as written (a path may begin or end with blanks)
            List<String> keptSource = Files.readAllLines(controlSourceFile);
            String before = keptSource.isEmpty() ? "" : keptSource.get(0).strip();
            if (watchedPath != null && before.equals(controlKind) && keptSource.size() > 1
                    && !keptSource.get(1).equals(watchedPath)) {
                // the restored source knows the files it read by their paths: another directory's files, or the
                // same one's by another path (a symlink, a moved directory), were all read, and every command in
                // them applied again (a rollback, a forced scale)
                throw new ParameterException(cl, "--control-dir " + controlDir + " is not the directory the job this "
                        + "one continues watched (" + keptSource.get(1) + "): its restored source knows the files it read "
                        + "by their paths, and would read every file here as new and apply its commands again; "
                        + "resume with --control-dir " + keptSource.get(1));
            }
            if (!before.equals(controlKind)) {
                // a restored file source is finished and never lists a directory; a restored directory source
                // never reads a file: the commands would be dropped without a word
                throw new ParameterException(cl, (controlFile != null ? "--control" : "--control-dir") + ": the job "
                        + "this one continues read its commands from " + (before.equals("file") ? "--control FILE"
                        : "--control-dir DIR") + ", and a restored command source reads only what it read before; "
                        + "resume with the same kind of control input (a file as it was, or the directory)");
            }
        }
        // the sinks' topics too: a restored sink's transactions (and its pooled ids' listing) are of its topic
        StringBuilder sinkTopics = new StringBuilder();
        for (java.util.Map.Entry<String, String> e : kafka.sinkTopics().entrySet()) {
            sinkTopics.append(e.getKey()).append("-topic=").append(e.getValue()).append('\n');
        }
        // and whether the input was read as a bounded range (its restored splits keep their end offsets)
        String kafkaTopics = kafka.input() || kafka.controlTopicName() != null || sinkTopics.length() > 0
                ? "topic=" + (kafka.input() ? kafka.topicName() : "") + "\ncontrol-topic="
                + (kafka.controlTopicName() == null ? "" : kafka.controlTopicName()) + "\n" + sinkTopics
                + (kafka.input() && kafka.bounded() ? "bounded=true\n" : "")
                : null;
        if (continuing && kafkaTopics != null && Files.isRegularFile(dir.resolve(KAFKA_TOPICS_FILE))) {
            checkKeptTopics(cl, Files.readString(dir.resolve(KAFKA_TOPICS_FILE)), kafka);
        }
        String kafkaReading = kafka.input() && sourceSpec != null ? kafkaReading(cl, kafka, sourceSpec) : null;
        if (continuing && !failover && kafkaReading != null && Files.isRegularFile(dir.resolve(INPUT_FILE))) {
            checkKeptReading(cl, Files.readString(dir.resolve(INPUT_FILE)), kafkaReading);
        }
        // --out must be a directory this process can make and write: checked before the brokers are asked (a file on
        // its path or a read-only directory failed with exit 1 and a file system's message once every check passed)
        // (a symbolic link on it is a part of it, dangling too; an existing --out of a restore too: main writes its
        // markers and records there)
        Path writableAbove = io.keyshift.jobs.LocalPaths.resolved(dir);
        while (writableAbove != null && !Files.exists(writableAbove, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            writableAbove = writableAbove.getParent();
        }
        if (writableAbove == null || !Files.isDirectory(writableAbove) || !Files.isWritable(writableAbove)) {
            throw new ParameterException(cl, "--out " + dir + ": " + writableAbove + " is not a writable directory");
        }
        // last of the checks: it asks the brokers (up to 10 s where none answers). Not for Flink's rerun of main (after
        // a failover): its topics were there, and a recoverable failover must not fail for a topic being recreated. A
        // restore the user asks for is checked as a new job is (a misspelled topic restarted the job for ever; at a
        // parallelism above the partitions with --kafka-idleness 0 it stalled without a word)
        if (!ownDirectory || continuing && !failover) {
            // a scaling decision rescales the source too, up to the scaling bound (0: the max parallelism)
            boolean scaled = conf.get(io.keyshift.config.ScalingOptions.CAPACITY) > 0;
            int scalingMax = conf.get(io.keyshift.config.ScalingOptions.MAX_PARALLELISM);
            // reactive mode runs the job on as many slots as it gets, up to the max parallelism
            boolean reactive = conf.get(org.apache.flink.configuration.JobManagerOptions.SCHEDULER_MODE)
                    == org.apache.flink.configuration.SchedulerExecutionMode.REACTIVE;
            kafka.checkTopicsExist(cl, System.err, reactive ? Math.max(env.getParallelism(), env.getMaxParallelism())
                    : !scaled ? env.getParallelism()
                    : Math.max(env.getParallelism(), scalingMax > 0 ? scalingMax : env.getMaxParallelism()), scaled,
                    reactive && !scaled);
            // (reactive: --strategy hash only, refused above for keyshift's strategies)
        }
        Files.createDirectories(dir);
        boolean[] submitted = {false};
        // why a submission failed (Flink's job listener hears it), and whether execute() was entered on a cluster
        // target: an answer that did not come leaves the cluster with the job or without it
        Throwable[] submissionFailure = {null};
        String target = env.getConfiguration().getOptional(org.apache.flink.configuration.DeploymentOptions.TARGET)
                .orElse("local");
        boolean toCluster = REST_TARGETS.contains(target) || target.equals("embedded");
        boolean[] submitting = {false};
        // what a restore of this job is checked against, kept in --out once the job is submitted: by Flink's job
        // listener where main submits it, and where `bin/keyshift submit` takes the job graph out of execute() (no
        // listener runs there; submit removes the files again if the cluster does not take the job)
        // what INPUT_FILE records once the input is known (a file's or the generator's fingerprint, a Kafka topic)
        String[] inputRecord = {null};
        // dead letters of an earlier run that started no job here (a file job refused or never submitted, a replay
        // whose every row was one: kept for their reasons): beside a generator's or a Kafka job's results they read
        // as this job's (a file job's own run writes the file anew); removed once this job is submitted
        Path leftDeadLetters = dir.resolve("dead-letters.csv");
        boolean removeLeftDeadLetters = !ownDirectory && !in.present() && Files.isRegularFile(leftDeadLetters)
                && !Files.exists(dir.resolve(".events.bin"))
                && io.keyshift.jobs.cli.ReplayOutput.deadLettersOfOurs(leftDeadLetters);
        // set on the path where bin/keyshift submit takes the job graph out of execute(), before the cluster has it
        boolean[] graphOnly = {false};
        Runnable keepForRestore = () -> {
            if (removeLeftDeadLetters && graphOnly[0]) {
                // moved aside: submit removes it once the job has started, and puts it back if it does not
                try {
                    Files.move(leftDeadLetters, dir.resolve(LEFT_DEAD_LETTERS_ASIDE),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                } catch (java.io.IOException e) {
                    System.err.println("keyshift-job: warning: could not move " + leftDeadLetters + ", the dead "
                            + "letters of an earlier run that started no job here, aside (" + e.getMessage() + ")");
                }
            } else if (removeLeftDeadLetters) {
                try {
                    if (Files.deleteIfExists(leftDeadLetters)) {
                        System.out.println("keyshift-job: removed " + leftDeadLetters + ", the dead letters of an "
                                + "earlier run that started no job here");
                    }
                } catch (java.io.IOException e) {
                    System.err.println("keyshift-job: warning: could not remove " + leftDeadLetters + ", the dead "
                            + "letters of an earlier run that started no job here (" + e.getMessage() + ")");
                }
            }
            // (on a failover too: a copy it could not read was sorted again, maybe from other rows)
            if (inputRecord[0] != null) {
                try {
                    writeRecord(dir.resolve(INPUT_FILE), inputRecord[0] + "\n");
                } catch (java.io.IOException e) {
                    System.err.println("keyshift-job: warning: could not keep the input's fingerprint in " + dir
                            + " (" + e.getMessage() + "); a restore cannot check it");
                }
            }
            if (controlSource != null) {
                try {
                    writeRecord(controlSourceFile, controlSource + "\n");
                } catch (java.io.IOException e) {
                    System.err.println("keyshift-job: warning: could not keep the control input's kind in " + dir
                            + " (" + e.getMessage() + "); a resume cannot check it");
                }
            }
            // not on a failover: the recovered job reads on in the file as its source read it, and a resume is
            // checked against that one (the file edited since was recorded, a resume with the original refused)
            if (controlDigest != null && !failover) {
                try {
                    Path copy = dir.resolve(controlCopyName(Path.of(controlFile)));
                    // (not where the job reads the copy itself: --control given as it, or a rerun that took it)
                    if (!Files.exists(copy) || !Files.isSameFile(Path.of(controlFile), copy)) {
                        Path part = dir.resolve(CONTROL_COPY_FILE + ".part");
                        Files.copy(Path.of(controlFile), part, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                        Files.move(part, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                        for (String name : controlCopyNames()) {
                            if (!dir.resolve(name).equals(copy)) {
                                Files.deleteIfExists(dir.resolve(name));
                            }
                        }
                    }
                } catch (java.io.IOException e) {
                    System.err.println("keyshift-job: warning: could not keep a copy of the --control file in " + dir
                            + " (" + e.getMessage() + "); a failover after the file is moved cannot read it");
                }
                try {
                    writeRecord(dir.resolve(CONTROL_DIGEST_FILE), controlDigest + "\n");
                } catch (java.io.IOException e) {
                    System.err.println("keyshift-job: warning: could not keep the --control file's digest in "
                            + dir + " (" + e.getMessage() + "); a resume cannot check the file");
                }
            }
            try {
                writeRecord(dir.resolve(SUM_FIELD_FILE), sumRecord + "\n");
                writeRecord(dir.resolve(WINDOW_FILE), windowRecord + "\n");
            } catch (java.io.IOException e) {
                System.err.println("keyshift-job: warning: could not keep the --sum-field and --window in " + dir + " ("
                        + e.getMessage() + "); a resume cannot check it");
            }
            if (kafkaTopics != null) {
                try {
                    writeRecord(dir.resolve(KAFKA_TOPICS_FILE), kafkaTopics);
                } catch (java.io.IOException e) {
                    System.err.println("keyshift-job: warning: could not keep the Kafka topics in " + dir + " ("
                            + e.getMessage() + "); a resume cannot check them");
                }
            }
            if (kafkaSinks) {
                // once submitted: a run refused after its checks (a restore given another input) must not
                // record a naming its directory's job never used
                try {
                    kafka.writeTransactionNaming(dir);
                    kafka.writeTransactionalIds(dir);
                } catch (java.io.IOException e) {
                    System.err.println("keyshift-job: warning: could not keep the Kafka sinks' transaction naming "
                            + "in " + dir + " (" + e.getMessage() + "); a restore must name it again");
                }
            }
        };
        env.registerJobListener(new org.apache.flink.core.execution.JobListener() {
            @Override
            public void onJobSubmitted(org.apache.flink.core.execution.JobClient client, Throwable failure) {
                submitted[0] |= client != null;
                if (client != null) {
                    keepForRestore.run();
                } else {
                    submissionFailure[0] = failure;
                }
            }

            @Override
            public void onJobExecuted(org.apache.flink.api.common.JobExecutionResult result, Throwable failure) {}
        });
        // taken before anything is written into --out (the Kafka group, the sorted input, the dead letters, the HA
        // marker): a second job started there while this one is built is refused before it changes any of them
        // ... or this run's own, left by the same job's main before a JobManager failover that came while it was being
        // built (before its HA marker, so before any submission): removed as this run's if this run is not submitted
        boolean started = markStarted(dir, ownDirectory, fixedJobId, cl)
                || startedBy(dir, fixedJobId) && !markedBy(dir, fixedJobId);
        boolean[] wroteSorted = {false};
        // interrupted while it is built (Ctrl-C during a long sort): the marker and a partly written sorted input go
        // (not while a cluster is asked to take the job: it may have it when the answer is cut short)
        Thread cleanup = new Thread(() -> {
            if (!submitted[0] && submitting[0] && toCluster) {
                System.err.println(keptLine(dir, "ended while the cluster was asked to take the job", wroteSorted[0]));
            } else if (!submitted[0]) {
                removeUnsubmitted(dir, started, wroteSorted[0]);
            }
        }, "keyshift-job: unsubmitted --out cleanup");
        if (started) {
            Runtime.getRuntime().addShutdownHook(cleanup);
        }
        try {
            // a restore continues the --out of the job it restores: one that holds another kind of input's output is
            // another job's (a file job's sorted copy, another generator's events, a Kafka job's topic), whose results
            // this one's would mix with; checked before anything is sorted or built (a Kafka job restored into a
            // file job's --out, or the reverse, appended to its results)
            if (continuing && !failover) {
                String kindBefore = inputKind(dir);
                String kindNow = kafka.input() ? "kafka" : in.present() ? "file" : "generator";
                if (kindBefore != null && !kindBefore.equals(kindNow)) {
                    throw otherInput(cl, dir, kindBefore, resumedFrom);
                }
            }
            if (kafka.input()) {
                // kept for a restore's check, as a file's fingerprint is
                inputRecord[0] = "kafka " + kafka.topicName() + (kafkaReading != null ? "\t" + kafkaReading : "");
                InputSpec spec = sourceSpec;
                int p = env.getParallelism();
                String group = kafkaGroup(kafka, dir, continuing, fixedJobId, recoveryPath);
                var events = io.keyshift.jobs.kafka.KafkaIo.events(env, cl, kafka, spec, p,
                        conf.get(io.keyshift.jobs.replay.Workload.MAX_EVENT_TIME_AHEAD), group,
                        conf.getOptional(io.keyshift.config.PrivacyOptions.KEY_SECRET).isPresent());
                ReplayJob.sink(events.getSideOutput(io.keyshift.jobs.kafka.KafkaIo.DEAD_LETTERS), dir.resolve("dead-letters"),
                        "dead-letters", p);
                System.out.println("keyshift-job: Kafka topic " + kafka.topicName() + " (dead letters under "
                        + dir.resolve("dead-letters") + ")");
                mark(dir, fixedJobId, recoveryPath, argsDigest);
                var control = kafka.controlTopicName() == null ? null
                        : io.keyshift.jobs.kafka.KafkaIo.control(env, kafka, group,
                        conf.getOptional(io.keyshift.config.PrivacyOptions.KEY_SECRET).orElse(null));
                var outputs = ReplayJob.attach(events, st, conf, dir, sumField != null, p, topics(), control, true,
                        control == null ? null : control.getSideOutput(io.keyshift.jobs.kafka.KafkaIo.CONTROL_REFUSED));
                // records later than the allowed lateness (behind a partition's watermark by more than
                // --max-out-of-orderness, or from a partition back from idleness behind the others): written, not lost
                ReplayJob.sink(io.keyshift.jobs.kafka.KafkaIo.lateRecords(outputs.late(), p,
                        conf.getOptional(io.keyshift.config.PrivacyOptions.KEY_SECRET).orElse(null)),
                        dir.resolve("late-records"), "late-records", p);
                submitting[0] = true;
                env.execute(jobName != null ? jobName : "keyshift [" + st.id() + "]");
                return 0;
            }
            // a restore continues the --out of the job it restores: one that holds another input's output is
            // another job's (a file job's sorted copy, or another generator's events), whose results this one's
            // would mix with; the kind of input is checked before anything is sorted, the events once they are known
            String inputBefore = continuing && !failover && Files.isRegularFile(dir.resolve(INPUT_FILE))
                    ? Files.readString(dir.resolve(INPUT_FILE)).strip() : null;
            EventSpace space = null;
            boolean copy = in.present() && Files.exists(dir.resolve(".events.bin"));
            if (copy && failover) {
                // its checkpoint's read positions point into the copy it read, whatever --input holds now
                space = kept;
            } else if (copy && continuing && heldOutput(dir, true, false) != null) {
                // the sorted copy of the job this one continues, which its read positions point into: one that left
                // output beside it (a copy alone may be a failed restore's, of the wrong input: sorted again in place)
                space = sameSortedInput(cl, dir, sourceSpec, conf);
            }
            // the same job's main again after a JobManager failover before its first checkpoint (its marker, written
            // once the copy was whole, just before the job was built), or a new deployment under the same id after a
            // job that never checkpointed: Flink may run a recovered job graph that reads the copy as it is, so the
            // input is sorted aside and the copy replaced by an atomic rename only where it differs (readers that have
            // it open keep the old file; one that opens it anew finds another count of events and fails without
            // restarts; a copy of as many other events is not told apart there)
            boolean aside = space == null && copy && markedBy(dir, fixedJobId) && markedRecovery(dir, recoveryPath)
                    // a restore into an --out that records its input: sorted aside and compared with that record
                    // before anything in --out changes (its sorted copy gone, the earlier job's dead letters stay)
                    || space == null && in.present() && inputBefore != null;
            if (space != null) {
                // the earlier job's copy
            } else if (in.present()) {
                Path sorted = dir.resolve(aside ? ".events.bin.rerun" : ".events.bin");
                Path deadLetters = dir.resolve(aside ? ".dead-letters.csv.rerun" : "dead-letters.csv");
                wroteSorted[0] = !aside;
                ReplayInput.Prepared prepared;
                try {
                    prepared = ReplayInput.prepare(in.input(), sourceSpec, sorted, deadLetters, n -> { },
                            conf.get(io.keyshift.jobs.replay.Workload.MAX_EVENT_TIME_GAP),
                            conf.getOptional(io.keyshift.config.PrivacyOptions.KEY_SECRET).isPresent());
                } catch (java.io.IOException | RuntimeException e) {
                    if (aside) {
                        Files.deleteIfExists(sorted);
                        Files.deleteIfExists(deadLetters);
                    }
                    throw e;
                }
                System.out.printf("keyshift-job: %,d records, %,d dead letters (%s)%n", prepared.stats().records(),
                        prepared.stats().deadLetters(), dir.resolve("dead-letters.csv"));
                // as the replay does: a file whose every row is a dead letter (a --time-format that fits no row) or whose
                // span the window splits too finely is refused before any job, and leaves nothing that refuses a rerun
                String refused = null;
                if (prepared.stats().records() == 0 && prepared.stats().deadLetters() > 0) {
                    refused = in.input() + " has no valid row (" + prepared.stats().deadLetters() + " dead letters in "
                            + deadLetters + "; the first: "
                            + io.keyshift.jobs.cli.ReplayCommand.firstReason(deadLetters) + ")";
                } else {
                    refused = io.keyshift.jobs.cli.ReplayCommand.tooManyWindows(prepared.stats(), w);
                }
                if (refused != null) {
                    Files.deleteIfExists(sorted);
                    if (aside) {
                        Files.deleteIfExists(deadLetters);
                    }
                    throw new ParameterException(cl, refused + "; no job was started");
                }
                if (inputBefore != null
                        && !inputBefore.equals("file " + Long.toHexString(prepared.space().fingerprint()))) {
                    Files.deleteIfExists(sorted);
                    Files.deleteIfExists(deadLetters);
                    throw otherInput(cl, dir, inputBefore, resumedFrom);
                }
                space = aside ? replacedIfOther(dir, prepared.space(), sorted, deadLetters) : prepared.space();
            } else {
                space = generated;
                System.out.println("keyshift-job: " + gen.describe());
            }
            inputRecord[0] = (in.present() ? "file " : "generator ") + Long.toHexString(space.fingerprint());
            if (inputBefore != null && !inputBefore.equals(inputRecord[0])) {
                // the same kind of input, other events (a file job's sorted copy deleted, or another generator)
                if (wroteSorted[0]) {
                    Files.deleteIfExists(dir.resolve(".events.bin"));
                }
                throw otherInput(cl, dir, inputBefore, resumedFrom);
            }
            mark(dir, fixedJobId, recoveryPath, argsDigest);
            ReplayJob.build(env, space, st, conf, dir, sumField != null, rate, null, topics(),
                    conf.get(io.keyshift.config.ScalingOptions.CAPACITY) > 0);
            submitting[0] = true;
            env.execute(jobName != null ? jobName : "keyshift [" + st.id() + "]");
            return 0;
        } catch (Throwable e) {
            // never submitted (refused before it was built, failed while sorting, out of memory, refused by the
            // cluster): the corrected rerun must not be refused for the marker or the sorted input. Not once
            // submitted (a client timeout or a JobManager failover can end execute() while the job lives on and
            // reads the file), and not on Flink's ProgramAbortException: `submit` takes the job graph out of
            // execute() by it, and submits it after
            if (e.getClass().getName().equals(PROGRAM_ABORT)) {
                graphOnly[0] = true;
                keepForRestore.run();
            } else if (!submitted[0] && submitting[0] && toCluster) {
                // `flink run` whose submission failed: where the cluster may run the job all the same (an answer cut
                // short, a JobManager failing over), which reads the sorted input and writes into --out, a rerun
                // there would double every result
                String why = keptAfter(target, submissionFailure[0], env.getConfiguration());
                if (why != null) {
                    System.err.println(keptLine(dir, why, wroteSorted[0]));
                } else {
                    removeUnsubmitted(dir, started, wroteSorted[0]);
                }
            } else if (!submitted[0]) {
                removeUnsubmitted(dir, started, wroteSorted[0]);
            }
            throw e;
        } finally {
            if (started) {
                try {
                    Runtime.getRuntime().removeShutdownHook(cleanup);
                } catch (IllegalStateException shuttingDown) {
                    // the hook runs (or ran) as the JVM ends
                }
            }
        }
    }

    /**
     * The sorted copy in {@code dir} if it holds the records of {@code now} (the input sorted aside at
     * {@code asidePath}, then removed with its dead letters); otherwise {@code now} renamed over it (and its dead letters over dead-letters.csv): an
     * atomic rename, so a reader that has the copy open reads on in the old file.
     */
    private static EventSpace replacedIfOther(Path dir, io.keyshift.jobs.source.SortedEventFile now, Path asidePath,
                                              Path asideDeadLetters) throws java.io.IOException {
        Path sorted = dir.resolve(".events.bin");
        io.keyshift.jobs.source.SortedEventFile earlier = null;
        try {
            earlier = io.keyshift.jobs.source.SortedEventFile.open(sorted);
        } catch (java.io.IOException damaged) {
            // replaced below
        }
        if (earlier != null && earlier.currentFormat() && earlier.fingerprint() == now.fingerprint()) {
            Files.delete(asidePath);
            Files.deleteIfExists(asideDeadLetters);
            System.out.printf("keyshift-job: %s holds the same %,d records: read on in it%n", sorted, earlier.size());
            return earlier;
        }
        Files.move(asideDeadLetters, dir.resolve("dead-letters.csv"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        System.out.printf("keyshift-job: %s held other records (%s): replaced%n", sorted,
                earlier == null ? "unreadable" : earlier.size() + (earlier.currentFormat() ? "" : ", an earlier format"));
        return now.moveTo(sorted);
    }

    /** Flink's execution targets whose client submits a job over the cluster's REST API (and retries it). */
    static final java.util.Set<String> REST_TARGETS = java.util.Set.of("remote", "yarn-session", "kubernetes-session");

    /**
     * Why the cluster may have the job whose submission to {@code target} failed with {@code failure} (what Flink's
     * job listener heard; null where the executor threw before any submission), or null where it does not: the
     * failure shows nothing was sent (an executor that failed before submitting; without high availability, no REST
     * leader found, which is not retried; where {@code rest.retry.max-attempts} is 0, an unknown host), the cluster
     * refused the one attempt there was ({@code rest.retry.max-attempts} 0) with a 4xx answer, or it took the job and
     * failed it as it started ({@code JobInitializationException}); in application mode ({@code embedded}) only a
     * timeout of the in-process submission leaves it open. Flink's client reports only the last of its retries, so
     * anything else (a connection refused or cut, an unknown host, an error answer, a 5xx even to one attempt, an
     * answer that came and then the wait for the job's start failed) may follow or come with a submission that got
     * there: kept. For {@code remote}, where the failure is not one of those that show the cluster had it, the
     * cluster is asked once whether it lists the job ({@link #clusterHasJob}), for the line only: a job not listed
     * yet can still be being taken (its jar uploaded to blob storage, its graph stored), for as long as that takes.
     */
    static String keptAfter(String target, Throwable failure, org.apache.flink.configuration.ReadableConfig conf) {
        if (failure == null) {
            return null;
        }
        org.apache.flink.api.common.JobID id = null;
        Throwable last = failure;
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        boolean timeout = false;
        for (Throwable t = failure; t != null && seen.add(t); t = t.getCause()) {
            last = t;
            if (t instanceof org.apache.flink.runtime.client.JobInitializationException) {
                return null;
            }
            if (t instanceof org.apache.flink.runtime.client.JobSubmissionException js && id == null) {
                id = js.getJobID();
            }
            timeout |= t instanceof java.util.concurrent.TimeoutException;
        }
        String cause = io.keyshift.jobs.cluster.JobSubmitter.NotSubmitted.innermost(failure);
        if (target.equals("embedded")) {
            return timeout ? "the submission timed out (" + cause + ")" : null;
        }
        if (id == null) {
            // the cluster answered the submission; waiting for the job to start failed after it
            return "the cluster took the submission, and then " + cause;
        }
        boolean highAvailability = !conf.getOptional(org.apache.flink.configuration.HighAvailabilityOptions.HA_MODE)
                .orElse("NONE").equalsIgnoreCase("NONE");
        boolean oneAttempt = conf.get(org.apache.flink.configuration.RestOptions.RETRY_MAX_ATTEMPTS) == 0;
        if (!highAvailability && last instanceof java.util.concurrent.TimeoutException
                && String.valueOf(last.getMessage()).startsWith("Waiting for leader address")) {
            // not retried: the first attempt's, before anything was sent
            return null;
        }
        if (oneAttempt && last instanceof java.net.UnknownHostException) {
            // (Flink retries it as a connection problem: a retry's lookup can fail after an attempt that got there)
            return null;
        }
        if (last instanceof org.apache.flink.runtime.rest.util.RestClientException answer) {
            String message = String.valueOf(answer.getMessage());
            if (message.contains("DuplicateJobSubmissionException") || message.contains("already been submitted")) {
                // an earlier attempt of Flink's retries got there (with one attempt: a job of this id is there)
                return (oneAttempt ? "the cluster has a job of this id already" : "an earlier attempt of the "
                        + "submission reached the cluster") + " (" + cause + ")";
            }
            int code = answer.getHttpResponseStatus().code();
            if (code >= 400 && code < 500 && oneAttempt) {
                // the one attempt there was, refused
                return null;
            }
        }
        String failed = oneAttempt ? "the submission failed (" + cause + "), and the cluster may have taken the job"
                : "the submission failed on the last of Flink's retries (" + cause + "), and an earlier attempt may "
                + "have reached the cluster";
        if (!target.equals("remote")) {
            // another cluster's REST address than the configuration's: not asked
            return failed;
        }
        // asked only to say more: a job not listed yet can still be being taken (its jar uploaded, its graph stored)
        Boolean has = clusterHasJob(conf, id);
        return has == null ? failed + "; whether it has job " + id + " is unknown"
                : has ? "the cluster has job " + id + " all the same (" + cause + ")"
                : failed + "; it does not list job " + id + " yet, which does not show that it will not run it";
    }

    /**
     * Whether the cluster at {@code conf}'s REST address (or its high-availability leader) lists job {@code id},
     * asked once for its jobs ({@code GET /jobs/overview}, no retry, at most 3 s): false where it answers a list
     * without it; null where no list came (an error answer, a proxy's page, no answer in time).
     */
    static Boolean clusterHasJob(org.apache.flink.configuration.ReadableConfig conf,
                                 org.apache.flink.api.common.JobID id) {
        Configuration c = Configuration.fromMap(conf.toMap());
        c.set(org.apache.flink.configuration.RestOptions.RETRY_MAX_ATTEMPTS, 0);
        try (var client = new org.apache.flink.client.program.rest.RestClusterClient<>(c,
                org.apache.flink.client.deployment.StandaloneClusterId.getInstance())) {
            return client.listJobs().get(3, java.util.concurrent.TimeUnit.SECONDS).stream()
                    .anyMatch(j -> id.equals(j.getJobId()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            return null;
        }
    }

    /** The line saying that {@code dir} keeps the started marker (and the sorted input) for the reason {@code why}. */
    private static String keptLine(Path dir, String why, boolean wroteSorted) {
        return "keyshift-job: " + why + ": it may run the job, so " + dir + " keeps " + STARTED_MARKER
                + (wroteSorted ? " and the sorted input" : "") + "; see the cluster's jobs (flink list, or its web "
                + "UI), and if it has none of this one, remove " + dir.resolve(STARTED_MARKER) + " before a rerun "
                + "into " + dir;
    }

    /**
     * Writes one of the records a restore is checked against into {@code file}: through a sibling and an atomic
     * rename, so that a reader never finds it half written, and a rewrite is a new file (which `submit` tells from
     * the one this job's main left, where it undoes a refused job's).
     */
    private static void writeRecord(Path file, String text) throws java.io.IOException {
        Path next = file.resolveSibling(file.getFileName() + ".next");
        Files.writeString(next, text);
        Files.move(next, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** How {@code flink run} and {@code submit} take a job graph out of main (an Error, thrown by execute()). */
    private static final String PROGRAM_ABORT = "org.apache.flink.client.program.ProgramAbortException";

    /**
     * The kind of input the job whose output {@code dir} holds read: file, generator or kafka, from {@link
     * #INPUT_FILE}'s line; for an --out of a build that did not record a Kafka job's, "file" where the sorted copy of
     * a file is there and "kafka" where {@link #KAFKA_TOPICS_FILE} names an input topic; null if nothing tells.
     */
    static String inputKind(Path dir) throws java.io.IOException {
        if (Files.isRegularFile(dir.resolve(INPUT_FILE))) {
            String line = Files.readString(dir.resolve(INPUT_FILE)).strip();
            if (!line.isEmpty()) {
                return line.split(" ")[0];
            }
        }
        if (Files.exists(dir.resolve(".events.bin"))) {
            return "file";
        }
        if (Files.isRegularFile(dir.resolve(KAFKA_TOPICS_FILE))) {
            for (String line : Files.readAllLines(dir.resolve(KAFKA_TOPICS_FILE))) {
                if (line.startsWith("topic=") && line.length() > "topic=".length()) {
                    return "kafka";
                }
            }
        }
        return null;
    }

    /** The refusal of a restore into the --out of a job that read {@code before} ({@link #INPUT_FILE}'s line). */
    private ParameterException otherInput(CommandLine cl, Path dir, String before, String resumedFrom) {
        boolean generatorBefore = before.startsWith("generator");
        boolean kafkaBefore = before.startsWith("kafka");
        return new ParameterException(cl, "--out " + dir + " holds the output of a job that read "
                + (generatorBefore ? "the generator" : kafkaBefore ? "a Kafka topic" : "an input file")
                + ", and this job, restored from " + resumedFrom + ", reads "
                + (kafka.input() ? "Kafka topic " + kafka.topicName()
                : in.present() ? "--input " + in.input() + (generatorBefore || kafkaBefore ? "" : " (other events)")
                : "the generator" + (generatorBefore ? " with other --generator-* options" : ""))
                + ": a restore continues the --out of the job it restores; give that job's --out and input options, "
                + "or a new --out; no job was started");
    }

    /**
     * Removes what a run whose job was never submitted wrote into {@code dir}: its started marker ({@code started}:
     * this run created it), and the sorted input it wrote ({@code wroteSorted}), unless output beside it makes it an
     * earlier job's copy that a restored one reads on in.
     */
    private static void removeUnsubmitted(Path dir, boolean started, boolean wroteSorted) {
        try {
            if (wroteSorted && heldOutput(dir, true, false) == null) {
                Files.deleteIfExists(dir.resolve(".events.bin"));
            }
            if (started) {
                Files.deleteIfExists(dir.resolve(STARTED_MARKER));
            }
        } catch (java.io.IOException | RuntimeException e) {
            System.err.println("keyshift-job: warning: could not remove what this run wrote into " + dir + " ("
                    + e.getMessage() + ")");
        }
    }

    /**
     * A job that continues the one that wrote {@code dir} (restored from its savepoint or checkpoint) reads on from its
     * read positions in the sorted input there: sorts {@code --input} aside and refuses, before any job, an input that
     * does not sort into the same file (another file, rows changed or added, other input options), which would resume
     * at positions of other events and mix two inputs' results in one output. The job reads the existing file (one of
     * the format before 2026-11-29 is replaced by its own events in this one, not compared: parsing has changed since);
     * null where it cannot be read (damaged: sorted again in place, as before fingerprints).
     */
    private EventSpace sameSortedInput(CommandLine cl, Path dir, InputSpec spec, Configuration conf) throws Exception {
        Path sorted = dir.resolve(".events.bin");
        io.keyshift.jobs.source.SortedEventFile earlier;
        try {
            earlier = io.keyshift.jobs.source.SortedEventFile.open(sorted);
        } catch (java.io.IOException unreadable) {
            // a damaged copy: nothing to compare with; sorted again in place, as before fingerprints
            System.out.println("keyshift-job: restoring: " + unreadable.getMessage() + "; sorting " + in.input()
                    + " into it again");
            return null;
        }
        Path again = dir.resolve(".events.bin.check");
        Path deadLetters = dir.resolve(".dead-letters.csv.check");
        if (!earlier.currentFormat()) {
            // a copy of the format before 2026-11-29: the savepoint's positions point into exactly its events (parsing
            // has changed since, so --input need not sort into them again): the same events in the current format
            try {
                io.keyshift.jobs.source.SortedEventFile.convert(sorted, again);
                Files.move(again, sorted, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(again);
            }
            System.out.printf("keyshift-job: restoring: %s is of an earlier format; its %,d records, in the current "
                    + "one, are read on (--input is not compared with them)%n", sorted, earlier.size());
            return io.keyshift.jobs.source.SortedEventFile.open(sorted);
        }
        try {
            ReplayInput.Prepared prepared = ReplayInput.prepare(in.input(), spec, again, deadLetters, n -> { },
                    conf.get(io.keyshift.jobs.replay.Workload.MAX_EVENT_TIME_GAP),
                    conf.getOptional(io.keyshift.config.PrivacyOptions.KEY_SECRET).isPresent());
            if (earlier.fingerprint() != prepared.space().fingerprint()) {
                throw new ParameterException(cl, "--input " + in.input() + " is not the input of the job this one "
                        + "restores: it sorts into other records (" + prepared.stats().records() + ") than " + sorted + " ("
                        + earlier.size() + "), in which the savepoint or checkpoint holds the job's read positions "
                        + "(the file, its rows or the input options changed); restore with the "
                        + "input that job read, or start a new job, without the savepoint or checkpoint, into a new "
                        + "--out; no job "
                        + "was started");
            }
            System.out.printf("keyshift-job: restoring: %s sorts into the same %,d records as before (%s)%n",
                    in.input(), earlier.size(), sorted);
            return earlier;
        } finally {
            Files.deleteIfExists(again);
            Files.deleteIfExists(deadLetters);
        }
    }

    /**
     * The same job's main run again after a JobManager failover (high availability): it reads on in the sorted copy it
     * read, whatever {@code --input} holds now (rows appended to it since would otherwise refuse a routine failover);
     * null where that copy cannot be read or is of an earlier format (sorted again in place).
     */
    private static EventSpace readOnAfterFailover(Path dir) {
        try {
            io.keyshift.jobs.source.SortedEventFile earlier =
                    io.keyshift.jobs.source.SortedEventFile.open(dir.resolve(".events.bin"));
            if (!earlier.currentFormat()) {
                return null;
            }
            System.out.printf("keyshift-job: recovering: reading on in %s (%,d records)%n", dir.resolve(".events.bin"),
                    earlier.size());
            return earlier;
        } catch (java.io.IOException unreadable) {
            return null;
        }
    }

    /** The Kafka topics of the outputs, or null for files under --out only. */
    private ReplayJob.Topics topics() {
        if (!kafka.output() && kafka.sideTopics().isEmpty()) {
            return null;
        }
        boolean withSum = sumField != null;
        return new ReplayJob.Topics() {
            @Override
            public boolean results(org.apache.flink.streaming.api.datastream.DataStream<io.keyshift.jobs.workload.WindowResult> results) {
                if (!kafka.output()) {
                    return false;
                }
                io.keyshift.jobs.kafka.KafkaIo.results(results, kafka, withSum, results.getParallelism());
                return true;
            }

            @Override
            public void lines(String kind, org.apache.flink.streaming.api.datastream.DataStream<String> lines) {
                String topic = kafka.sideTopics().get(kind);
                if (topic != null) {
                    io.keyshift.jobs.kafka.KafkaIo.lines(lines, kind, topic, kafka, lines.getParallelism());
                }
            }
        };
    }

    /**
     * Two of the stage's operators exist only with an option set: the split merger ({@code
     * keyshift.plan.split-threshold} above 0) and predictive scaling ({@code keyshift.scaling.capacity}). Both write
     * state at every checkpoint, so Flink refuses a savepoint of a job that had one into a job without it, in a line
     * naming a hex operator id and only once the cluster has the job. Refused here, naming the option, when the
     * savepoint can be read from this machine (not under {@code --allow-non-restored-state}: then the planner refuses
     * a plan that splits keys, naming the option and a key, and scaling's state is let go).
     */
    static void refuseStateWithoutOperator(CommandLine cl, String savepoint, boolean splits, boolean scales) {
        java.util.Set<org.apache.flink.runtime.jobgraph.OperatorID> withState = new java.util.HashSet<>();
        try {
            for (org.apache.flink.runtime.checkpoint.OperatorState s : org.apache.flink.state.api.runtime
                    .SavepointLoader.loadSavepointMetadata(savepoint).getOperatorStates()) {
                // Flink lets an operator's entry without state go
                if (s.hasSubtaskStates() || s.getCoordinatorState() != null) {
                    withState.add(s.getOperatorID());
                }
            }
        } catch (Exception | LinkageError e) {
            // not readable from here (the cluster's file system) or without the State Processor API: Flink decides
            return;
        }
        String prefix = io.keyshift.jobs.replay.Workload.UID_PREFIX;
        if (!splits && withState.contains(org.apache.flink.state.api.OperatorIdentifier
                .forUid(io.keyshift.api.StageUids.splitMerger(prefix)).getOperatorId())) {
            throw new ParameterException(cl, "the savepoint " + savepoint + " holds the state of the split merger of "
                    + "a job that split hot keys, and this job sets " + io.keyshift.config.PlanOptions.SPLIT_THRESHOLD
                    .key() + " to 0 and has none: restore it with a threshold above 0 (a split key stays split), or "
                    + "with --allow-non-restored-state if no key is split");
        }
        if (!scales && withState.contains(org.apache.flink.state.api.OperatorIdentifier
                .forUid(io.keyshift.api.StageUids.scaling(prefix)).getOperatorId())) {
            throw new ParameterException(cl, "the savepoint " + savepoint + " holds the state of predictive scaling "
                    + "(" + io.keyshift.config.ScalingOptions.CAPACITY.key() + " was set), and this job does not set "
                    + "it: set it as the job that took the savepoint did, or restore with --allow-non-restored-state "
                    + "to leave predictive scaling's state behind");
        }
    }


    /**
     * Why this job's scaling options cannot work, or null: {@code keyshift.scaling.capacity} with the hash strategy
     * (which builds no scaling stage: {@code autoscale} would then find no decisions); {@code
     * keyshift.scaling.follow-job-parallelism-on-restore} with the adaptive scheduler ({@code jobmanager.scheduler:
     * adaptive}), which rescales the submitted job by restoring its last checkpoint: each restore would set the
     * decisions back to the submitted parallelism, and {@code autoscale} would undo every rescale it applied.
     */
    static String scalingConflict(org.apache.flink.configuration.ReadableConfig conf, boolean hash) {
        if (conf.get(io.keyshift.config.ScalingOptions.CAPACITY) <= 0) {
            return null;
        }
        if (hash) {
            return io.keyshift.config.ScalingOptions.CAPACITY.key() + " needs a keyshift strategy (predictive or "
                    + "reactive): --strategy hash builds no scaling stage";
        }
        if (conf.get(io.keyshift.config.ScalingOptions.FOLLOW_JOB_ON_RESTORE)
                && conf.get(org.apache.flink.configuration.JobManagerOptions.SCHEDULER)
                == org.apache.flink.configuration.JobManagerOptions.SchedulerType.Adaptive) {
            return adaptiveConflict("jobmanager.scheduler: adaptive");
        }
        return null;
    }

    /**
     * The refusal of {@code --kafka-bounded} under the adaptive scheduler ({@code where} set): it applies every
     * rescale and every restart after a failure by restoring the whole job, its Kafka source's enumerator too, from
     * the last checkpoint, and a restored bounded Kafka read never finishes (FLINK-31006, as on a savepoint restore).
     */
    public static String boundedUnderAdaptive(String where) {
        return "--kafka-bounded cannot run under the adaptive scheduler (" + where + "): it rescales, and restarts "
                + "after a failure, by restoring the whole job from its last checkpoint, and Flink's Kafka source never "
                + "finishes a restored bounded read (FLINK-31006): the job would run on without firing its last "
                + "windows; run the backfill on a cluster with the default scheduler";
    }

    /** The refusal of follow-job-parallelism-on-restore under the adaptive scheduler, {@code where} set. */
    public static String adaptiveConflict(String where) {
        return io.keyshift.config.ScalingOptions.FOLLOW_JOB_ON_RESTORE.key() + "=true with " + where + ": the adaptive "
                + "scheduler rescales by restoring the job's last checkpoint, and each restore would set the scaling "
                + "decisions back to the submitted parallelism (autoscale would undo every rescale it applied); "
                + "leave the option false";
    }
    /**
     * Whether {@code dir} holds no record of an earlier job's Kafka transaction naming: new or empty, or holding
     * nothing of an earlier job (a volume's {@code lost+found}, the group id file of a submit the cluster refused:
     * a restore into it without {@code --kafka-transaction-naming} took incrementing against a pooling savepoint and
     * failed every attempt; it was taken for an earlier job's directory).
     */
    public static boolean holdsNoTransactionNaming(Path dir) throws java.io.IOException {
        return isNewDirectory(dir) || Files.isDirectory(dir)
                && !Files.exists(dir.resolve(io.keyshift.jobs.kafka.KafkaOptions.TRANSACTION_NAMING_FILE))
                && heldOutput(dir) == null;
    }

    /** Whether {@code dir} does not exist or is an empty directory (nothing of an earlier job in it). */
    public static boolean isNewDirectory(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return true;
        }
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (java.util.stream.Stream<Path> in = Files.list(dir)) {
            return in.findAny().isEmpty();
        }
    }

    /** A duration as Flink's configuration writes it ({@code 10 min}, {@code 900 s}), not ISO-8601's {@code PT10M}. */
    private static String human(Duration d) {
        return org.apache.flink.util.TimeUtils.formatWithHighestUnit(d);
    }
}
