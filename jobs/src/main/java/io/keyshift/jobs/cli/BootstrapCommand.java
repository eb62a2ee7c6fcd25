package io.keyshift.jobs.cli;

import io.keyshift.config.JobOptions;
import io.keyshift.jobs.bench.ForecastBench;
import io.keyshift.jobs.input.ReplayInput;
import io.keyshift.savepoint.ForecasterBootstrap;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code keyshift bootstrap}: a savepoint whose forecaster is trained on history (warm start). */
@Command(name = "bootstrap",
        header = "Trains the forecaster on a history file and writes it as a savepoint (warm start).",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Profiles a history file (same input options as replay) and trains the forecaster on it, then",
            "writes a savepoint (Flink's State Processor API) that holds the forecaster's state. Start the job from it",
            "(submit --from-savepoint, flink run -s, or execution.state-recovery.path in a library job of your own) on the",
            "stream that follows the history:",
            "it forecasts and plans from its first window. Use the job's --window and -D options.",
            "Exit status: 0 done, 1 failed, 2 bad options."})
public final class BootstrapCommand implements Callable<Integer> {
    /** Parallelism of the job that profiles the history (at most the max parallelism). */
    static final int PROFILING_PARALLELISM = 2;


    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    InputOptions in;

    @Option(names = "--window", paramLabel = "DURATION", defaultValue = "1h",
            description = "The job's tumbling window. Default: ${DEFAULT-VALUE}.")
    String window;

    @Option(names = "--out", paramLabel = "SAVEPOINT", required = true,
            description = "Savepoint directory to write (local; must not exist).")
    String outArg;

    Path out;

    @Option(names = "--dead-letters", paramLabel = "FILE",
            description = "Write the input's malformed rows here (CSV: raw_line, line_number, reason; must not exist). Without it "
                    + "the command prints their count and the first one's reason.")
    Path deadLetters;

    @Option(names = "--uid-prefix", paramLabel = "PREFIX", defaultValue = "keyshift",
            description = "The uid prefix of the stage whose forecaster state to write (KeyshiftStream#uidPrefix). "
                    + "Default: ${DEFAULT-VALUE}, the command line's.")
    String uidPrefix;

    @Option(names = "--onto", paramLabel = "SAVEPOINT",
            description = "Adds the forecaster to a copy of this savepoint instead of a new one: a bootstrap of "
                    + "another stage of the job (its own --uid-prefix), or a savepoint of a job that this stage joins. "
                    + "The copy goes to --out; SAVEPOINT is left as it is.")
    String onto;

    @Option(names = "--key-type", paramLabel = "TYPE", defaultValue = "string",
            description = "The type the stage that starts from the savepoint is keyed by: string, long or int (a "
                    + "key's key group is the hash of the key as that type; every key of the input must read as it). "
                    + "Default: ${DEFAULT-VALUE}, the command line's.")
    String keyTypeArg;

    @Mixin
    FlinkOptions flink;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (!in.present()) {
            throw new ParameterException(cl, "--input is required");
        }
        FlinkOptions.uidPrefix(cl, "--uid-prefix", uidPrefix);
        if (FlinkOptions.isUri(outArg)) {
            // a Path takes "s3://b/sp" as a relative directory "s3:/b/sp" under the working directory
            throw new ParameterException(cl, "--out must be a local directory, was '" + outArg + "' (a URI): write "
                    + "the savepoint locally, then copy it where the job reads it");
        }
        out = Path.of(outArg);
        if (io.keyshift.jobs.LocalPaths.resolved(out).toString().indexOf('\\') >= 0
                && java.io.File.separatorChar == '/') {
            // Flink's paths read a backslash as a separator: the savepoint would be written where --out does not say
            // (the path as Flink is given it: the working directory's name, or a link's target, may hold one too)
            throw new ParameterException(cl, "--out " + io.keyshift.jobs.LocalPaths.resolved(out) + " holds a "
                    + "backslash, which Flink reads as '/': choose a directory without one");
        }
        // a second bootstrap into the same --out, started while the first profiles its input, found no --out either
        // and wrote its savepoint's files among the first's
        ReplayOutput.claim(cl, out, "--out " + out + " is in use by another keyshift command on this machine (a "
                + "bootstrap writing its savepoint there): wait for it to end, or choose another directory");
        if (Files.exists(out, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            // a symbolic link too, dangling or not (the savepoint's rename replaced it)
            throw new ParameterException(cl, "--out " + out + " exists; a savepoint needs a new directory");
        }
        if (Files.exists(inProgress(out), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            // where the savepoint is written before it is named --out: a bootstrap writing it, or one killed
            throw new ParameterException(cl, "--out " + out + ": " + inProgress(out) + " exists (a bootstrap "
                    + "writing that savepoint, or one cut short): remove it, or choose another directory");
        }
        // the nearest existing directory above --out must take the savepoint: checked before the input is profiled
        Path above = io.keyshift.jobs.LocalPaths.resolved(out).getParent();
        while (above != null && !Files.exists(above)) {
            above = above.getParent();
        }
        if (above == null || !Files.isDirectory(above) || !Files.isWritable(above)) {
            throw new ParameterException(cl, "--out " + out + ": " + above + " is not a writable directory");
        }
        if (deadLetters != null && Files.exists(deadLetters)) {
            throw new ParameterException(cl, "--dead-letters " + deadLetters + " exists; name a new file");
        }
        if (deadLetters != null && io.keyshift.jobs.LocalPaths.resolvedForContainment(deadLetters)
                .startsWith(io.keyshift.jobs.LocalPaths.real(out))) {
            // the file took --out's place, or made its directory, once the whole input had been read: the savepoint
            // was then refused, exit 1, as "exists", and only where some row was malformed
            throw new ParameterException(cl, "--dead-letters " + deadLetters + " is --out or lies in it; name a file "
                    + "outside the savepoint's directory");
        }
        if (deadLetters != null && io.keyshift.jobs.LocalPaths.real(out).startsWith(
                io.keyshift.jobs.LocalPaths.resolvedForContainment(deadLetters))) {
            // the file took the place of --out's directory above it
            throw new ParameterException(cl, "--out " + out + " lies in --dead-letters " + deadLetters + ", a file; "
                    + "name another");
        }
        if (deadLetters != null && deadLetters.toAbsolutePath().getParent() != null
                && (!Files.isDirectory(deadLetters.toAbsolutePath().getParent())
                    || !Files.isWritable(deadLetters.toAbsolutePath().getParent()))) {
            // before the input is read: the rows are copied there only after the whole history is sorted
            throw new ParameterException(cl, "--dead-letters " + deadLetters + ": "
                    + deadLetters.toAbsolutePath().getParent() + " is not a writable directory");
        }
        String base = null;
        if (onto != null) {
            base = FlinkOptions.savepoint(cl, "--onto", onto);
        }
        ForecastBench.KeyType keyType;
        try {
            keyType = ForecastBench.KeyType.valueOf(keyTypeArg.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--key-type must be string, long or int, was '" + keyTypeArg + "'");
        }
        Duration w = FlinkOptions.window(cl, "--window", window);
        Configuration conf = flink.load(cl, w);
        FlinkOptions.checkLocalRun(cl, conf, true);
        int maxP = conf.getOptional(PipelineOptions.MAX_PARALLELISM).orElse(conf.get(JobOptions.DEFAULT_MAX_PARALLELISM));
        conf.set(PipelineOptions.MAX_PARALLELISM, maxP);
        // the job's options that do not shape the forecaster's state are the job's, not the profiling job's: with the
        // job's scaling bounds its stage at parallelism 2 was refused once the whole history had been read, and a
        // results path wider than its local cluster's slots waited out Flink's slot request
        conf.set(io.keyshift.config.ScalingOptions.CAPACITY, 0.0);
        conf.removeConfig(JobOptions.RESULTS_PATH_PARALLELISM);
        // the profiling job's parallelism: before the input is read, its local cluster must have the slots (a stock
        // config.yaml's one slot waited out Flink's slot request, restarting, and ended the command with exit 1)
        int profilingParallelism = Math.min(PROFILING_PARALLELISM, maxP);
        FlinkOptions.checkSlots(cl, conf, profilingParallelism, "the profiling job's parallelism");
        if (base != null) {
            // before the input is read: a wrong --onto costs nothing
            try {
                // the command-line job (stage keyshift) sets one max parallelism for all its operators; a library
                // job's stage (another uid prefix) may have its own beside the job's other operators
                ForecasterBootstrap.checkBase(base, uidPrefix, maxP,
                        uidPrefix.equals(io.keyshift.jobs.replay.Workload.UID_PREFIX));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, "--onto " + onto + ": " + e.getMessage());
            }
        }
        io.keyshift.jobs.input.InputSpec inputSpec = in.spec(cl, null,
                conf.getOptional(io.keyshift.config.PrivacyOptions.KEY_SECRET).isPresent());
        Path work = Files.createTempDirectory("keyshift-bootstrap");
        java.util.concurrent.atomic.AtomicBoolean writing = new java.util.concurrent.atomic.AtomicBoolean();
        // Ctrl-C runs shutdown hooks, not finally blocks: the sorted copy of the input (about 100 bytes a record) was
        // left in the temporary directory by every interrupted run
        Thread removeWork = new Thread(() -> {
            try {
                io.keyshift.jobs.replay.ReplayRunner.deleteRecursively(work);
            } catch (java.io.IOException | RuntimeException e) {
                System.err.println("keyshift bootstrap: could not remove " + work + " (" + e.getMessage() + ")");
            }
            // a savepoint interrupted while it was written, beside --out (a rerun refused while it is there); --out
            // itself appears only whole and marked
            try {
                if (writing.get()) {
                    removeUnfinished(out);
                }
            } catch (java.io.IOException | RuntimeException e) {
                System.err.println("keyshift bootstrap: could not remove the unfinished savepoint "
                        + inProgress(out) + " (" + e.getMessage() + ")");
            }
        }, "keyshift bootstrap: work directory cleanup");
        Runtime.getRuntime().addShutdownHook(removeWork);
        try {
            System.err.printf("bootstrap: reading and sorting %s%n", in.input());
            Path deadLetterRows = work.resolve("dead-letters.csv");
            ReplayInput.Prepared prepared = ReplayInput.prepare(in.input(), inputSpec, work.resolve("events.bin"),
                    deadLetterRows, lines -> System.err.printf("bootstrap: %,d lines read%n", lines),
                    conf.get(io.keyshift.jobs.replay.Workload.MAX_EVENT_TIME_GAP),
                    conf.getOptional(io.keyshift.config.PrivacyOptions.KEY_SECRET).isPresent());
            // the malformed rows are the user's to see whatever happens next (also on the exits without a savepoint)
            boolean deadLettersKept = deadLetters != null && prepared.stats().deadLetters() > 0;
            if (deadLettersKept) {
                Files.copy(deadLetterRows, deadLetters);
            }
            String kept = deadLettersKept ? "; dead letters: " + deadLetters.toAbsolutePath() : "";
            String tooMany = ReplayCommand.tooManyWindows(prepared.stats(), w);
            if (tooMany != null) {
                cl.getErr().println("keyshift bootstrap: " + tooMany + "; no savepoint written" + kept);
                cl.getErr().flush();
                return 2;
            }
            if (prepared.stats().records() == 0) {
                // nothing to learn from: no savepoint (an empty one would restore as a forecaster without history)
                cl.getErr().println("keyshift bootstrap: " + in.input() + " has no valid row"
                        + (prepared.stats().deadLetters() == 0 ? " (no data rows)"
                        : " (" + prepared.stats().deadLetters() + " dead letters; the first: "
                        + ReplayCommand.firstReason(deadLetterRows) + ")") + "; no savepoint written" + kept);
                cl.getErr().flush();
                return 2;
            }
            String unreadable = keyType.unreadable(prepared.space(),
                    conf.getOptional(io.keyshift.config.PrivacyOptions.KEY_SECRET).isPresent());
            if (unreadable != null) {
                cl.getErr().println("keyshift bootstrap: --key-type " + keyTypeArg + ": " + unreadable
                        + "; no savepoint written" + kept);
                cl.getErr().flush();
                return 2;
            }
            if (!conf.contains(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY)) {
                // on disk, as forecast-bench and replay: the JobManager's heap storage (Flink's default without a
                // directory) refuses state over 5 MB, which the profiling job of a long history exceeds
                conf.set(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                        io.keyshift.jobs.LocalPaths.uri(work.resolve("checkpoints")));
            }
            var stage = ForecastBench.stage(new ForecastBench.Settings(prepared.space(), profilingParallelism,
                    w.toMillis(),
                    io.keyshift.config.KeyshiftConfig.seasons(conf, w.toMillis()), 1, conf), keyType)
                    .uidPrefix(uidPrefix);
            String target = io.keyshift.jobs.LocalPaths.uri(out);
            String onto = base;
            ForecasterBootstrap.Summary learnt = removingOnFailure(out, writing,
                    beforeWrite -> ForecasterBootstrap.bootstrap(stage, onto, target, beforeWrite));
            cl.getOut().printf("bootstrap: %,d records (%,d dead letters), %d windows, %d series, in-sample MASE %s; "
                            + "the history ends at %s, where the job's input should begin%n",
                    prepared.stats().records(), prepared.stats().deadLetters(), learnt.windows(), learnt.series(),
                    Double.isFinite(learnt.mase()) ? String.format("%.3f", learnt.mase())
                            : "- (too few windows to score)", java.time.Instant.ofEpochMilli(learnt.historyEnd()));
            if (prepared.stats().deadLetters() > 0) {
                // where they asked for them, else the first one's reason
                if (deadLettersKept) {
                    cl.getOut().println("dead letters: " + deadLetters.toAbsolutePath());
                } else {
                    cl.getOut().println("dead letters: the first: " + ReplayCommand.firstReason(deadLetterRows)
                            + " (--dead-letters FILE writes them all)");
                }
            }
            // the plain path: pasted into --from-savepoint or execution.state-recovery.path, a URI's escapes stay;
            // where it was written (Flink normalizes ".." as text: link/../sp printed as given named another place)
            cl.getOut().println("savepoint: " + io.keyshift.jobs.LocalPaths.resolved(out));
            cl.getOut().flush();
            return 0;
        } finally {
            io.keyshift.jobs.replay.ReplayRunner.deleteRecursively(work);
            try {
                Runtime.getRuntime().removeShutdownHook(removeWork);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs (or ran) anyway
            }
        }
    }

    /**
     * Where the savepoint of {@code out} is written before it is named {@code out}: {@code .<name>.inprogress} beside
     * it ({@link ForecasterBootstrap#inProgress}, for a local path).
     */
    static Path inProgress(Path out) {
        // as the savepoint's path is given to Flink ({@link io.keyshift.jobs.LocalPaths#uri}: x/. is x)
        Path abs = io.keyshift.jobs.LocalPaths.resolved(out);
        return abs.resolveSibling("." + abs.getFileName() + ".inprogress");
    }

    /**
     * Removes the savepoint this run began beside {@code out} ({@link #inProgress}) and did not finish; {@code out}
     * itself appears only whole and marked (renamed into place), and is left alone. Only for a run that began
     * writing.
     *
     * @return whether it removed anything
     */
    static boolean removeUnfinished(Path out) throws java.io.IOException {
        Path partial = inProgress(out);
        if (!Files.exists(partial, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        io.keyshift.jobs.replay.ReplayRunner.deleteRecursively(partial);
        return true;
    }

    /** A bootstrap's write: it runs {@code beforeWrite} once its savepoint's directory is about to be made. */
    @FunctionalInterface
    interface SavepointWrite<T> {
        T write(Runnable beforeWrite) throws Exception;
    }

    /**
     * Runs {@code write}, which writes a savepoint beside {@code out} ({@link #inProgress}) and renames it to
     * {@code out} once whole and marked, and removes what it wrote beside {@code out} if it fails after it began
     * ({@code writing} set from then on, for an interrupted run's shutdown hook). {@code out} itself is never removed:
     * it appears only whole and marked (until 2026-12-07 the savepoint was written in place, and a process killed
     * between the savepoint's job and its marker left a whole one without it, which a job took for a continuing run's
     * savepoint and started from without the bootstrap's checks). A write that found {@code out} or its place of
     * writing there before it began (another party's) removes nothing.
     */
    static <T> T removingOnFailure(Path out, java.util.concurrent.atomic.AtomicBoolean writing,
                                   SavepointWrite<T> write) throws Exception {
        writing.set(false);
        try {
            // set once the write made its place of writing for itself (a directory there before was another party's,
            // and refused), where --out is still new
            return write.write(() -> writing.set(!Files.exists(out, java.nio.file.LinkOption.NOFOLLOW_LINKS)));
        } catch (Exception | Error e) {
            if (!writing.get()) {
                // another party's: there before this write began (refused by it)
                throw e;
            }
            try {
                removeUnfinished(out);
            } catch (java.io.IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }
}
