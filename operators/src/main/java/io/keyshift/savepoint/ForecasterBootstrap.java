package io.keyshift.savepoint;

import io.keyshift.api.KeyshiftStream;
import io.keyshift.api.StageUids;
import io.keyshift.config.JobOptions;
import io.keyshift.config.KeyshiftConfig;
import io.keyshift.forecast.LoadForecastEngine;
import io.keyshift.profiler.WindowProfile;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.OperatorTransformation;
import org.apache.flink.state.api.SavepointWriter;
import org.apache.flink.state.api.functions.StateBootstrapFunction;
import org.apache.flink.state.api.runtime.SavepointLoader;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.util.CloseableIterator;

import java.util.ArrayList;

import java.util.List;

/**
 * Warm start of a keyshift stage: trains its forecaster on historical window profiles and writes a savepoint that
 * holds the forecaster's state (the whole engine in the {@code forecaster} list state of operator
 * {@link StageUids#forecaster}, the form of earlier versions, which the forecaster reads on restore and moves into its
 * keyed state; see {@link io.keyshift.forecast.LoadForecaster}), with Flink's State Processor API. A job started from
 * it forecasts, and so plans,
 * from its first window; its other operators start empty. The history should end where the job's input begins
 * (windows are observed in order). Needs {@code flink-state-processor-api} on the classpath.
 */
public final class ForecasterBootstrap {
    private ForecasterBootstrap() {}

    /** The file that marks a bootstrap savepoint: {@link BootstrapMarker#MARKER}. */
    public static final String MARKER = BootstrapMarker.MARKER;

    /** As {@link BootstrapMarker#isBootstrap}. */
    public static boolean isBootstrap(String path) {
        return BootstrapMarker.isBootstrap(path);
    }

    /** As {@link BootstrapMarker#bootstrapIfKnown} (which a job's {@code main} calls: it needs no State Processor API). */
    public static Boolean bootstrapIfKnown(String path) {
        return BootstrapMarker.bootstrapIfKnown(path);
    }

    /**
     * What {@link #bootstrap} learnt from the history.
     *
     * @param records records the profiler counted
     * @param windows planning windows profiled
     * @param series forecast series trained (the hot keys tracked, and the key groups with load beyond them)
     * @param mase the engine's in-sample mean absolute scaled error (Hyndman and Koehler 2006); NaN if no series has
     *             enough history to score
     * @param historyEnd end of the last planning window profiled (epoch ms): the job's input should begin there,
     *                   so that its first window follows the history's last (a gap, or an overlap that observes
     *                   windows twice, shifts the seasons)
     */
    public record Summary(long records, int windows, int series, double mase, long historyEnd) {}

    /**
     * Warm start of a keyshift stage from its history, for any key type: runs {@code history}'s profiler over the
     * bounded history, trains the forecaster on what it saw and writes a savepoint with the forecaster's state to
     * {@code savepointPath} (with {@link #write}). Build {@code history} as the job builds its stage, over the history
     * instead of the live input: {@code Keyshift.keyBy(pastClicks, Click::user, userType).configure(conf)
     * .uidPrefix("clicks")}, the same key selector, key type, {@code keyshift.*} options ({@code keyshift.window},
     * the forecast options, a key secret), uid prefix and max parallelism as the job: a key's key group is the hash of
     * the key as that type, and the savepoint restores only into a stage of the same uid prefix and max parallelism.
     * Make no terminal call on it: this makes one (a count per tumbling planning window, results discarded) and
     * executes {@code history}'s environment, which must hold nothing else and whose input must be bounded and carry
     * event-time timestamps and watermarks. The history should end where the job's input begins.
     *
     * @param history a keyshift stage over the bounded history, before its terminal call
     * @param savepointPath the savepoint directory to write (a URI or path; must not exist)
     * @return what was learnt
     * @throws IllegalArgumentException if {@code savepointPath} exists (a symbolic link there too) or a bootstrap's
     *         in-progress directory beside it ({@link #inProgress}: one writing there, or one cut short) does
     *         (checked before the history is read)
     * @throws IllegalStateException after a terminal call on {@code history}, or if the history held no record
     * @throws Exception where the history's job or the savepoint's fails
     */
    public static <T, K> Summary bootstrap(KeyshiftStream<T, K> history, String savepointPath) throws Exception {
        return bootstrap(history, null, savepointPath, () -> { });
    }

    /**
     * As {@link #bootstrap(KeyshiftStream, String)}, the stage's forecaster added to a copy of the savepoint at
     * {@code baseSavepoint}: a job with several keyshift stages starts each from its history (bootstrap the first, then
     * each further one onto the savepoint of the one before), and a stage added to a running job starts from its
     * history beside the job's state (onto a savepoint the job took without the stage). The new savepoint holds the
     * base's state and the stage's forecaster, and is marked as a bootstrap ({@link #MARKER}) only where the base was
     * one: a job started from it otherwise continues the base's run (and the stages added, with what each was made
     * for, are in {@link BootstrapMarker#STAGES_FILE}).
     *
     * @param history a keyshift stage over the bounded history, before its terminal call
     * @param baseSavepoint the savepoint to add the forecaster to (a URI or path; left as it is)
     * @param savepointPath the savepoint directory to write (a URI or path; must not exist)
     * @return what was learnt
     * @throws IllegalArgumentException before the history is read: if {@code savepointPath} or its in-progress
     *         directory exists (as {@link #bootstrap(KeyshiftStream, String)}), or
     *         {@code baseSavepoint} is refused by {@link #checkBase} (cannot be read, holds no operator, holds state
     *         the copy would not take along, or already holds the stage's forecaster)
     * @throws IllegalStateException after a terminal call on {@code history}, or if the history held no record
     * @throws Exception where the history's job or the savepoint's fails
     */
    public static <T, K> Summary bootstrapOnto(KeyshiftStream<T, K> history, String baseSavepoint,
                                                String savepointPath) throws Exception {
        java.util.Objects.requireNonNull(baseSavepoint, "base savepoint");
        return bootstrap(history, baseSavepoint, savepointPath, () -> { });
    }

    /**
     * As {@link #bootstrap(KeyshiftStream, String)} ({@code baseSavepoint} null) or {@link #bootstrapOnto}, telling
     * {@code beforeWrite} when the savepoint is about to be written: it runs once, after the history is read,
     * {@code savepointPath} was found still new and the directory the savepoint is written in before it is named
     * ({@link #inProgress}) was made for this run (on a local file system; elsewhere the savepoint's job makes it),
     * and not at all where the run fails or is refused before that. A caller that removes an unfinished savepoint
     * when it is interrupted (a shutdown hook) removes that directory only after that: before then it is another
     * party's (a bootstrap of the same path, or one cut short, which the write then refuses).
     *
     * @param history a keyshift stage over the bounded history, before its terminal call
     * @param baseSavepoint the savepoint to add the forecaster to (a URI or path; left as it is), or null for none
     * @param savepointPath the savepoint directory to write (a URI or path; must not exist)
     * @param beforeWrite run once just before the savepoint is written (on the calling thread)
     * @return what was learnt
     * @throws IllegalArgumentException as {@link #bootstrapOnto} (before the history is read), or where
     *         {@code savepointPath} exists once the history is read (the write refuses it, {@code beforeWrite} not run)
     * @throws IllegalStateException after a terminal call on {@code history}, or if the history held no record
     * @throws Exception where the history's job or the savepoint's fails, or {@code beforeWrite} throws
     */
    public static <T, K> Summary bootstrap(KeyshiftStream<T, K> history, String baseSavepoint, String savepointPath,
                                           Runnable beforeWrite) throws Exception {
        java.util.Objects.requireNonNull(history, "history");
        java.util.Objects.requireNonNull(beforeWrite, "beforeWrite");
        String base = baseSavepoint;
        java.util.Objects.requireNonNull(savepointPath, "savepoint path");
        org.apache.flink.core.fs.Path target = new org.apache.flink.core.fs.Path(savepointPath);
        // checked before the history is read (which may take hours): the write would refuse both only after it
        checkNew(target, target.getFileSystem(), savepointPath);
        if (base != null) {
            checkBase(base, history.uidPrefix(), history.maxParallelism());
        }
        List<WindowProfile> profiles = profiles(history);
        long records = profiles.stream().mapToLong(p -> p.records).sum();
        if (records == 0) {
            throw new IllegalStateException("the history held no record: nothing to learn, no savepoint written");
        }
        int maxParallelism = history.maxParallelism();
        LoadForecastEngine engine = train(profiles,
                KeyshiftConfig.forecastSettings(history.options(), maxParallelism));
        // how the stage names keys: a job under another key secret (or with or without one) refuses the state
        String secret = history.options().getOptional(io.keyshift.config.PrivacyOptions.KEY_SECRET).orElse(null);
        engine.withKeyNaming(io.keyshift.route.KeyPseudonymizer.naming(
                secret == null ? null : io.keyshift.route.KeyPseudonymizer.fromSecret(secret)));
        write(engine, savepointPath, maxParallelism, history.uidPrefix(), base,
                String.valueOf(history.getKeyType()), beforeWrite);
        return new Summary(records, profiles.size(), engine.seriesCount(), engine.mase(),
                profiles.get(profiles.size() - 1).windowEnd);
    }

    /**
     * Refuses, with the reason, a base savepoint for {@link #bootstrapOnto} that cannot be read, holds no operator,
     * holds state the State Processor API does not copy into a new savepoint (keyed state in a backend's native form,
     * as RocksDB's incremental checkpoints and native savepoints keep it; in-flight data of an unaligned checkpoint),
     * or holds the stage's forecaster already. Its operators may have max parallelisms of their own (a job's operators
     * may each have one): the forecaster is written with the stage's.
     *
     * @param base the base savepoint (a URI or path)
     * @param uidPrefix the stage's uid prefix
     * @param maxParallelism the stage's max parallelism
     * @throws IllegalArgumentException naming the base and the reason
     */
    public static void checkBase(String base, String uidPrefix, int maxParallelism) {
        checkBase(base, uidPrefix, maxParallelism, false);
    }

    /**
     * As {@link #checkBase(String, String, int)}; with {@code oneMaxParallelism} (a job that sets one max parallelism
     * for all its operators, as keyshift's command-line job does) also refuses a base with an operator of another max
     * parallelism, which that job could not restore.
     */
    public static void checkBase(String base, String uidPrefix, int maxParallelism, boolean oneMaxParallelism) {
        CheckpointMetadata meta;
        try {
            meta = SavepointLoader.loadSavepointMetadata(base);
        } catch (java.io.IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read the base savepoint " + base + ": "
                    + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()), e);
        }
        String forecaster = StageUids.forecaster(uidPrefix);
        OperatorID forecasterId = OperatorIdentifier.forUid(forecaster).getOperatorId();
        if (meta.getOperatorStates().isEmpty()) {
            throw new IllegalArgumentException("the base savepoint " + base + " holds no operator state");
        }
        for (OperatorState s : meta.getOperatorStates()) {
            for (org.apache.flink.runtime.checkpoint.OperatorSubtaskState sub : s.getStates()) {
                String notCopied = notCopied(sub);
                if (notCopied != null) {
                    throw new IllegalArgumentException("the base savepoint " + base + " holds state the State "
                            + "Processor API does not copy into a new savepoint (" + notCopied + "): take a savepoint "
                            + "in the canonical format (flink savepoint --type canonical)");
                }
            }
            if (oneMaxParallelism && s.getMaxParallelism() != maxParallelism) {
                throw new IllegalArgumentException("the base savepoint " + base + " was taken with max parallelism "
                        + s.getMaxParallelism() + ", the job has " + maxParallelism + " for all its operators");
            }
            if (s.getOperatorID().equals(forecasterId)) {
                throw new IllegalArgumentException("the base savepoint " + base + " holds the forecaster of the stage "
                        + "with uid prefix '" + uidPrefix + "' (" + forecaster + ") already: bootstrap each stage "
                        + "once, or give the stage its own uid prefix");
            }
        }
    }

    /**
     * What of {@code sub} the State Processor API would not copy into a savepoint written from it, or null: it copies
     * the files of keyed state in the canonical form and of operator state (file or in-line handles) only.
     */
    private static String notCopied(org.apache.flink.runtime.checkpoint.OperatorSubtaskState sub) {
        for (var h : (Iterable<org.apache.flink.runtime.state.KeyedStateHandle>) java.util.stream.Stream.concat(
                sub.getManagedKeyedState().stream(), sub.getRawKeyedState().stream())::iterator) {
            if (!(h instanceof org.apache.flink.runtime.state.KeyGroupsStateHandle g)) {
                return "keyed state in a backend's native form (" + h.getClass().getSimpleName()
                        + "), e.g. an incremental RocksDB checkpoint";
            }
            String notCopied = notCopied("keyed state", g.getDelegateStateHandle());
            if (notCopied != null) {
                return notCopied;
            }
        }
        for (var h : (Iterable<org.apache.flink.runtime.state.OperatorStateHandle>) java.util.stream.Stream.concat(
                sub.getManagedOperatorState().stream(), sub.getRawOperatorState().stream())::iterator) {
            String notCopied = notCopied("operator state", h.getDelegateStateHandle());
            if (notCopied != null) {
                return notCopied;
            }
        }
        if (!sub.getInputChannelState().isEmpty() || !sub.getResultSubpartitionState().isEmpty()) {
            return "in-flight data of an unaligned checkpoint";
        }
        return null;
    }

    /**
     * Why the State Processor API's copy of an existing savepoint would not take {@code h} ({@code what}'s) along, or
     * null where it does: in-line bytes, or a file named relative to the savepoint's directory, which the copy takes
     * into the new directory under the same name. A file named by its full path (a checkpoint's shared state, or one
     * written with entropy injection) stays where it is and the new savepoint would point at it there, where Flink
     * removes it with the checkpoint.
     */
    private static String notCopied(String what, org.apache.flink.runtime.state.StreamStateHandle h) {
        if (h instanceof org.apache.flink.runtime.state.filesystem.RelativeFileStateHandle
                || h instanceof org.apache.flink.runtime.state.memory.ByteStreamStateHandle) {
            return null;
        }
        if (h instanceof org.apache.flink.runtime.state.filesystem.FileStateHandle f) {
            return what + " in a file named by its full path (" + f.getFilePath() + "), which a new savepoint would "
                    + "point at where it is, e.g. a checkpoint's shared state";
        }
        return what + " in " + h.getClass().getSimpleName() + ", e.g. a checkpoint with file merging";
    }

    /**
     * The profiles {@code history}'s profiler sees, one per planning window in window order: makes the stage's
     * terminal call (a count per tumbling planning window, results discarded) and executes its environment (see
     * {@link #bootstrap}).
     *
     * @throws IllegalStateException after a terminal call on {@code history}
     */
    public static <T, K> List<WindowProfile> profiles(KeyshiftStream<T, K> history) throws Exception {
        history.window(TumblingEventTimeWindows.of(history.options().get(JobOptions.WINDOW)))
                .aggregate(new Count<>())
                .sinkTo(new DiscardingSink<>());
        List<WindowProfile> out = new ArrayList<>();
        // fetched while the job runs (the collect sink holds a bounded buffer: a long history's profiles exceed it)
        try (CloseableIterator<WindowProfile> it =
                     history.profiles().executeAndCollect("keyshift bootstrap profiler")) {
            it.forEachRemaining(out::add);
        }
        out.sort((a, b) -> Long.compare(a.windowStart, b.windowStart));
        return out;
    }

    /** Records per key and window. */
    static final class Count<T> implements AggregateFunction<T, Long, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public Long createAccumulator() {
            return 0L;
        }

        @Override
        public Long add(T value, Long acc) {
            return acc + 1;
        }

        @Override
        public Long getResult(Long acc) {
            return acc;
        }

        @Override
        public Long merge(Long a, Long b) {
            return a + b;
        }
    }

    /** Feeds {@code profiles} (window order) to a new engine and returns it. */
    public static LoadForecastEngine train(List<WindowProfile> profiles, LoadForecastEngine.Settings settings) {
        LoadForecastEngine engine = new LoadForecastEngine(settings);
        for (WindowProfile p : profiles) {
            engine.observe(p);
        }
        return engine;
    }

    /**
     * Writes a savepoint with the engine's state to {@code path} (a URI or path; must not exist) for the stage with
     * uid prefix {@code uidPrefix} and {@code maxParallelism} key groups, and the {@link #MARKER} file beside it.
     */
    public static void write(LoadForecastEngine engine, String path, int maxParallelism, String uidPrefix)
            throws Exception {
        write(engine, path, maxParallelism, uidPrefix, null, null, () -> { });
    }

    /**
     * As {@link #write(LoadForecastEngine, String, int, String)}, onto a copy of {@code base} (null: none), running
     * {@code beforeWrite} once {@code path} was found new and its in-progress directory made, just before the
     * savepoint's job writes it.
     */
    private static void write(LoadForecastEngine engine, String path, int maxParallelism, String uidPrefix,
                              String base, String keyType, Runnable beforeWrite) throws Exception {
        byte[] state = engine.toBytes();
        StreamExecutionEnvironment env = LocalReader.environment();
        env.setRuntimeMode(RuntimeExecutionMode.BATCH);
        env.setParallelism(1);
        var transformation = OperatorTransformation
                .bootstrapWith(env.fromData(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO, state))
                // the stage's, which the job sets on its forecaster: onto a base, the State Processor API would give
                // it the largest of the base's operators' (a job's operators may each have their own)
                .setMaxParallelism(maxParallelism)
                .transform(new StateWriter());
        org.apache.flink.core.fs.Path dir = new org.apache.flink.core.fs.Path(path);
        org.apache.flink.core.fs.FileSystem fs = dir.getFileSystem();
        // (bootstrap checks before it reads the history, which may take hours: a directory made there since would get
        // the savepoint's files among its own)
        checkNew(dir, fs, path);
        // written beside the path under another name, marked there, and renamed: a process killed between the
        // savepoint's job and its marker (SIGKILL runs no cleanup) left a whole savepoint without its marker, which a
        // job took for a continuing run's, skipping a bootstrap's checks; on an object store (whose rename is no
        // move) in place
        org.apache.flink.core.fs.Path target = inProgress(dir, fs);
        SavepointWriter writer = base == null ? SavepointWriter.newSavepoint(env, maxParallelism)
                : SavepointWriter.fromExistingSavepoint(env, base);
        writer.withOperator(OperatorIdentifier.forUid(StageUids.forecaster(uidPrefix)), transformation)
                .write(target.toString());
        // made here, once: of two bootstraps of one local path, the second is refused without touching the first's
        // (both wrote into one directory, and the one that failed deleted it under the other, whose marker then made
        // it again: a "savepoint" of a marker alone)
        claim(target, fs, path);
        org.apache.flink.core.fs.Path metadata = new org.apache.flink.core.fs.Path(target, "_metadata");
        try {
            beforeWrite.run();
            env.execute("keyshift bootstrap");
            requireMetadata(fs, metadata, path);
            mark(target, fs, engine, maxParallelism, uidPrefix, base, keyType);
            // qualified as its place of writing is (a relative one-name path has no parent to rename into)
            org.apache.flink.core.fs.Path named = dir.makeQualified(fs);
            if (!target.equals(dir)) {
                // (an interrupted command's cleanup removes it meanwhile: the marker's write made it again)
                requireMetadata(fs, metadata, path);
                rename(fs, target, named, dir);
            }
        } catch (Exception | Error e) {
            // the savepoint whole and marked, or nothing: one without its marker (a full disk) was taken by a job
            // for a continuing run's, skipping a bootstrap's checks of window, key groups and key type
            try {
                fs.delete(target, true);
            } catch (java.io.IOException left) {
                e.addSuppressed(left);
            }
            throw e;
        }
    }

    /**
     * Refuses {@code dir} (given as {@code path}) where it exists (a symbolic link too, dangling or not: renamed
     * onto, it was replaced by the savepoint) or where its in-progress sibling ({@link #inProgress}) does.
     */
    private static void checkNew(org.apache.flink.core.fs.Path dir, org.apache.flink.core.fs.FileSystem fs,
                                 String path) throws java.io.IOException {
        if (exists(fs, dir)) {
            throw new IllegalArgumentException("savepoint path " + path + " exists; a savepoint needs a new "
                    + "directory");
        }
        org.apache.flink.core.fs.Path target = inProgress(dir, fs);
        if (!target.equals(dir) && exists(fs, target)) {
            throw new IllegalArgumentException("savepoint path " + path + ": " + target + " exists (a bootstrap "
                    + "writing there, or one cut short): remove it, or choose another path");
        }
    }

    /** Whether {@code p} exists on {@code fs}; on the local file system a symbolic link is not followed. */
    private static boolean exists(org.apache.flink.core.fs.FileSystem fs, org.apache.flink.core.fs.Path p)
            throws java.io.IOException {
        if (fs instanceof org.apache.flink.core.fs.local.LocalFileSystem local) {
            return java.nio.file.Files.exists(local.pathToFile(p.makeQualified(fs)).toPath(),
                    java.nio.file.LinkOption.NOFOLLOW_LINKS);
        }
        return fs.exists(p);
    }

    /**
     * Makes the in-progress directory {@code target} of a local savepoint at once, refusing it where it exists (made
     * by another bootstrap since the check); elsewhere the savepoint's job makes it.
     */
    private static void claim(org.apache.flink.core.fs.Path target, org.apache.flink.core.fs.FileSystem fs,
                              String path) throws java.io.IOException {
        if (fs instanceof org.apache.flink.core.fs.local.LocalFileSystem local) {
            java.nio.file.Path dir = local.pathToFile(target.makeQualified(fs)).toPath();
            // its parents as Flink's writers make them (a path under directories still to be made); a parent that is
            // a file fails here, naming it
            java.nio.file.Files.createDirectories(dir.getParent());
            try {
                java.nio.file.Files.createDirectory(dir);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                throw new IllegalArgumentException("savepoint path " + path + ": " + target + " exists (a bootstrap "
                        + "writing there, or one cut short): remove it, or choose another path");
            }
        }
    }

    /** Fails where the savepoint's metadata is not (or no longer) there. */
    private static void requireMetadata(org.apache.flink.core.fs.FileSystem fs,
                                        org.apache.flink.core.fs.Path metadata, String path)
            throws java.io.IOException {
        if (!fs.exists(metadata)) {
            throw new java.io.IOException("the savepoint for " + path + " has no " + metadata + " (removed while it "
                    + "was written: an interrupted run's cleanup, or another party): nothing named " + path);
        }
    }

    /**
     * Renames the written savepoint {@code from} to {@code to} (the qualified {@code dir}); on the local file system
     * never onto anything there (Flink's local rename replaces a file, an empty directory or a symbolic link).
     */
    private static void rename(org.apache.flink.core.fs.FileSystem fs, org.apache.flink.core.fs.Path from,
                               org.apache.flink.core.fs.Path to, org.apache.flink.core.fs.Path dir)
            throws java.io.IOException {
        if (fs instanceof org.apache.flink.core.fs.local.LocalFileSystem local) {
            try {
                java.nio.file.Files.move(local.pathToFile(from).toPath(), local.pathToFile(to).toPath());
                return;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                throw new java.io.IOException("could not name the savepoint " + dir + " (from " + from + "): the "
                        + "path was made meanwhile");
            }
        }
        if (fs.exists(to) || !fs.rename(from, to)) {
            throw new java.io.IOException("could not name the savepoint " + dir + " (from " + from + ")"
                    + (fs.exists(to) ? ": the path was made meanwhile" : ""));
        }
    }

    /**
     * Where a bootstrap of {@code dir} (on {@code fs}, its file system) writes its savepoint before naming it
     * {@code dir}: {@code .<name>.inprogress} beside it, on a file system whose rename moves (local, HDFS); {@code dir}
     * itself on an object store (s3, gs, Azure, OSS, ...; also as {@code fs.default-scheme}), whose rename copies
     * object by object. Qualified by {@code fs} first: a relative path's sibling lies in the working directory.
     *
     * <p>On an object store a process killed between the savepoint's job and its marker (SIGKILL, a lost machine)
     * leaves a whole savepoint without the marker at the path, which a job takes for its own savepoint (without a
     * bootstrap's checks of window, key groups and key type): write a bootstrap to a local or HDFS path and copy it
     * there, or remove the path where a bootstrap of it did not end.
     */
    public static org.apache.flink.core.fs.Path inProgress(org.apache.flink.core.fs.Path dir,
                                                           org.apache.flink.core.fs.FileSystem fs) {
        org.apache.flink.core.fs.Path qualified = dir.makeQualified(fs);
        if (qualified.getName().isEmpty() && qualified.getParent() != null) {
            // a path that names its directory as "x/." keeps a trailing slash (no name) where it had a scheme: made
            // again from its parts, which drops it
            java.net.URI parts = qualified.toUri();
            qualified = new org.apache.flink.core.fs.Path(parts.getScheme(), parts.getAuthority(), parts.getPath());
        }
        java.net.URI uri = qualified.toUri();
        org.apache.flink.core.fs.Path parent = qualified.getParent();
        if (parent == null || qualified.getName().isEmpty()
                || uri.getScheme() != null && OBJECT_STORES.contains(uri.getScheme().toLowerCase(java.util.Locale.ROOT))) {
            return dir;
        }
        // from its parts: a name with a colon (warm-20:57) read as a child path would take its start for a scheme
        String parentPath = parent.toUri().getPath();
        return new org.apache.flink.core.fs.Path(uri.getScheme(), uri.getAuthority(),
                (parentPath.endsWith("/") ? parentPath : parentPath + "/") + "." + qualified.getName()
                        + ".inprogress");
    }

    /** Schemes of object stores, whose rename copies (a savepoint is written in place there). */
    private static final java.util.Set<String> OBJECT_STORES = java.util.Set.of("s3", "s3a", "s3n", "s3p", "gs",
            "oss", "wasb", "wasbs", "abfs", "abfss", "cosn", "obs", "ks3");

    /** Writes the marker of the savepoint just written in {@code dir} (on {@code fs}). */
    private static void mark(org.apache.flink.core.fs.Path dir, org.apache.flink.core.fs.FileSystem fs,
                             LoadForecastEngine engine, int maxParallelism, String uidPrefix, String base,
                             String keyType) throws Exception {
        // onto a job's own savepoint, the base's run goes on in a job started from it: no marker, but the same lines
        // in a file of their own, so that a job can check what the added stages were made for (the window, the key
        // groups, the key type; a job with another window failed once it ran)
        boolean continuesRun = base != null && !isBootstrap(base);
        // the stages it warm-starts, the base's first: a job of other stages would drop their state (with
        // --allow-non-restored-state) and start cold without a word
        java.util.List<String> stages = new java.util.ArrayList<>(base == null ? java.util.List.of()
                : BootstrapMarker.stages(base));
        if (base != null && !continuesRun && stages.isEmpty()) {
            // a base of a build before 2026-12-06, whose marker names no stage: this one names none either (the
            // base's stage is unknown, and a job of it must not be refused)
        } else if (!stages.contains(uidPrefix)) {
            stages.add(uidPrefix);
        }
        StringBuilder marker = new StringBuilder(continuesRun
                ? "written by keyshift bootstrap onto a job's savepoint: a job started from this savepoint continues "
                + "that job's run; the stages below start from their history\n"
                : "written by keyshift bootstrap: a job started from this savepoint continues no earlier run\n");
        for (String stage : stages) {
            marker.append(BootstrapMarker.STAGE).append(stage).append('\n');
        }
        // what each stage's state was made for: the base's stages' as its marker records them, then this one's (a job
        // checks them before it starts: a forgotten --window failed the job once it ran, and a key type other than
        // the job's hashed the hot keys into other key groups)
        if (base != null) {
            for (String line : BootstrapMarker.attributeLines(base)) {
                if (!BootstrapMarker.isAttributeOf(line, uidPrefix)) {
                    marker.append(line).append('\n');
                }
            }
        }
        String own = BootstrapMarker.ATTRIBUTE + uidPrefix + ".";
        if (engine.windowMillis() > 0) {
            marker.append(own).append(BootstrapMarker.WINDOW_MILLIS).append('=').append(engine.windowMillis())
                    .append('\n');
        }
        marker.append(own).append(BootstrapMarker.MAX_PARALLELISM).append('=').append(maxParallelism).append('\n');
        if (keyType != null) {
            marker.append(own).append(BootstrapMarker.KEY_TYPE).append('=').append(keyType.replaceAll("\\R", " "))
                    .append('\n');
        }
        org.apache.flink.core.fs.Path named = new org.apache.flink.core.fs.Path(dir,
                continuesRun ? BootstrapMarker.STAGES_FILE : MARKER);
        // whole or not at all: written under another name and renamed (a marker cut short by a full disk was read as
        // a bootstrap of an old build, whose checks of window, key groups and key type are skipped)
        org.apache.flink.core.fs.Path partial = new org.apache.flink.core.fs.Path(dir, "." + named.getName()
                + ".inprogress");
        try (var out = fs.create(partial, org.apache.flink.core.fs.FileSystem.WriteMode.NO_OVERWRITE)) {
            out.write(marker.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        if (fs.exists(named) || !fs.rename(partial, named)) {
            throw new java.io.IOException("could not name " + named + " (from " + partial + ")");
        }
    }

    /** Puts the engine bytes into the forecaster's list state. */
    static final class StateWriter extends StateBootstrapFunction<byte[]> {
        private static final long serialVersionUID = 1L;
        private transient ListState<byte[]> state;

        @Override
        public void processElement(byte[] value, Context ctx) throws Exception {
            state.add(value);
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) {}

        @Override
        public void initializeState(FunctionInitializationContext context) throws Exception {
            state = context.getOperatorStateStore().getListState(
                    new ListStateDescriptor<>("forecaster", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        }
    }
}
