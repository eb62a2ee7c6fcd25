package io.keyshift.jobs.cli;

import io.keyshift.config.JobOptions;
import io.keyshift.jobs.KeyshiftJob;
import io.keyshift.jobs.cluster.FlinkRest;
import io.keyshift.jobs.cluster.JobSubmitter;

import org.apache.flink.configuration.Configuration;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;

import java.nio.file.Files;
import java.time.Duration;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code keyshift submit [options] -- JOB_ARGS}: builds the job graph here and submits it with the jar (as {@code flink run}). */
@Command(name = "submit",
        header = "Submits the keyshift job jar to a running Flink cluster.",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Submits jobs/target/keyshift-jobs.jar to a running Flink cluster as flink run does: the job's",
            "main runs here and builds the job graph (so a bad option or a refused --out fails here), which goes",
            "to the cluster's REST API with the jar (no web jar upload needed). Prints the job id. Arguments after -- go to the job (the same input, key, time, window options as",
            "replay, plus --strategy and --out; run with -- --help to list them).",
            "Exit status: 0 submitted, 1 failed, 2 bad options."},
        footer = {"", "Example:", "  bin/keyshift submit -- --input ../shared/data/bayarea-bikeshare-2014/batrips.csv.gz \\",
            "    --key start_station --time start_date --time-format 'yyyy-MM-dd HH:mm:ssXXX' --window 1d \\",
            "    --strategy predictive --parallelism 2 --out /tmp/keyshift-bikes"})
public final class SubmitCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ClusterAddressOptions cluster;

    @Option(names = "--jar", paramLabel = "JAR", description = "keyshift's job jar (submit runs its "
            + "io.keyshift.jobs.KeyshiftJob). Default: jobs/target/keyshift-jobs.jar.")
    Path jar;

    @Option(names = "--config", paramLabel = "DIR", description = "Directory with the client's config.yaml (the "
            + "job's defaults, as flink run reads conf/). Default: flink-conf/.")
    Path config;

    @Option(names = "--from-savepoint", paramLabel = "PATH", description = "Restore the job from this savepoint.")
    String savepoint;

    @Option(names = "--allow-non-restored-state", description = "Skip savepoint state that no operator claims.")
    boolean allowNonRestored;

    @Parameters(paramLabel = "JOB_ARGS", arity = "0..*", description = "Arguments of the job (after --).")
    List<String> jobArgs = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        Path j = jar != null ? jar : ClusterCommand.jobJar();
        if (!Files.isRegularFile(j)) {
            throw new ParameterException(cl, "--jar: " + j + " not found (build with mvn package)");
        }
        try (java.util.jar.JarFile file = new java.util.jar.JarFile(j.toFile())) {
            file.getManifest();
        } catch (java.io.IOException e) {
            throw new ParameterException(cl, "--jar: " + j + " is not a jar (" + e.getMessage() + ")");
        }
        if (config != null && !Files.isRegularFile(config.resolve("config.yaml"))) {
            throw new ParameterException(cl, "--config: no config.yaml in " + config.toAbsolutePath());
        }
        // the job's main expands its @-files (picocli's default): its --out, --window and -D options are read here
        // as it reads them (from "submit -- @job.args" none was seen, and the files it wrote into --out stayed
        // behind when the cluster refused the job)
        List<String> expanded = expandAtFiles(jobArgs);
        if (expanded.stream().anyMatch(a -> a.equals("-h") || a.equals("--help") || a.equals("-V")
                || a.equals("--version"))) {
            // the job's usage, here: no cluster needed, and nothing is submitted
            return new CommandLine(new KeyshiftJob()).setUsageHelpWidth(KeyshiftCli.USAGE_WIDTH)
                    .setOut(cl.getOut()).setErr(cl.getErr())
                    .execute(jobArgs.toArray(String[]::new));
        }
        for (int i = 0; i < expanded.size(); i++) {
            String a = expanded.get(i);
            String option = a.startsWith("-D") && a.length() > 2 ? a.substring(2)
                    : a.equals("-D") && i + 1 < expanded.size() ? expanded.get(i + 1) : "";
            // and the names Flink still takes for them (execution.savepoint.path, ...)
            if (FlinkOptions.restoreSetting(option.split("=", 2)[0])) {
                // the job's own -D builds its graph here, but the restore settings the cluster gets are this
                // command's: the job would have read on as restored and started afresh, writing its output again
                throw new ParameterException(cl, "job option -D" + option.split("=", 2)[0] + ": submit restores a "
                        + "job with --from-savepoint PATH (and --allow-non-restored-state), before the --");
            }
        }
        if (allowNonRestored && savepoint == null) {
            // without a restore it did nothing, and the job started afresh as if it had been heeded
            throw new ParameterException(cl, "--allow-non-restored-state applies with --from-savepoint only");
        }
        if (savepoint != null && cluster.rest == null && localPath(savepoint) != null) {
            // a local path (the JobManager of a cluster this command starts reads the same file system): a typo, a
            // savepoints directory instead of one savepoint in it, an empty _metadata fail here, not as a job that
            // fails on the cluster after "submitted" (whose main, taking it for a restore, had written into --out)
            savepoint = FlinkOptions.savepoint(cl, "--from-savepoint", savepoint);
        }
        // a relative path would be resolved in the JobManager's working directory, not in the one checked above
        savepoint = FlinkOptions.forCluster(cl, "--from-savepoint", savepoint, cluster.rest == null);
        Configuration conf;
        try {
            Path dir = config != null ? config : FlinkConfig.defaultConfDir();
            // the options that depend on the window (seasons, models, the calendar) are checked against the job's
            // --window, as the job's main checks them (they were checked against the default hour and refused)
            Duration w = windowOf(expanded);
            boolean ownWindow = windowArgument(expanded) != null
                    && FlinkConfig.readConfigYaml(dir).getOptional(JobOptions.WINDOW).isEmpty();
            if (ownWindow && w == null) {
                // one the job's main refuses, naming --window
                conf = FlinkConfig.loadWithoutWindow(dir, Map.of());
            } else {
                conf = FlinkConfig.loadForCluster(dir, ownWindow ? Map.of(JobOptions.WINDOW.key(), w.toMillis()
                        + " ms") : Map.of());
                if (ownWindow) {
                    // the job takes it from --window
                    conf.removeKey(JobOptions.WINDOW.key());
                }
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--config: " + e.getMessage());
        }
        for (String key : conf.keySet()) {
            if (FlinkOptions.restoreSetting(key)) {
                // as a job option -D above: the job's main would read it as a restore (skipping the check that --out
                // holds no results) while the cluster, given this command's restore settings, starts it afresh
                throw new ParameterException(cl, "--config: " + key + " in config.yaml: submit restores a job with "
                        + "--from-savepoint PATH (and --allow-non-restored-state) only; remove it from "
                        + (config != null ? config : FlinkConfig.defaultConfDir()).resolve("config.yaml"));
            }
        }
        // (a bad config.yaml is refused before the cluster is asked)
        FlinkRest api = cluster.client(cl, conf);
        String underAdaptive = underAdaptiveScheduler(conf, expanded);
        if (underAdaptive != null && adaptive(api.get("/jobmanager/config"))) {
            // the job's main sees its own options, not the cluster's scheduler
            throw new ParameterException(cl, underAdaptive);
        }
        String jobId;
        // the job's main writes these into --out as it builds the job (here, on this machine); if the cluster then
        // does not take the job, the corrected rerun must not find them and refuse --out as another job's
        // (a main that fails removes its own)
        List<Path> writtenIfSubmitted = new java.util.ArrayList<>();
        // ... and those it rewrites (a restore records its own options: a --kafka-bounded added, another transaction
        // naming): put back as they were, or the corrected retry is checked against the refused job's options
        Map<Path, byte[]> rewrittenIfSubmitted = new java.util.LinkedHashMap<>();
        Path out = outOf(expanded);
        if (out != null) {
            for (String name : List.of(KeyshiftJob.STARTED_MARKER, ".events.bin", KeyshiftJob.CONTROL_DIGEST_FILE,
                    KeyshiftJob.CONTROL_SOURCE_FILE, KeyshiftJob.KAFKA_TOPICS_FILE, KeyshiftJob.INPUT_FILE,
                    KeyshiftJob.SUM_FIELD_FILE, KeyshiftJob.WINDOW_FILE,
                    io.keyshift.jobs.kafka.KafkaOptions.TRANSACTION_NAMING_FILE,
                    io.keyshift.jobs.kafka.KafkaOptions.TRANSACTIONAL_ID_FILE,
                    io.keyshift.jobs.kafka.KafkaOptions.GROUP_ID_FILE)) {
                if (!Files.exists(out.resolve(name))) {
                    writtenIfSubmitted.add(out.resolve(name));
                } else if (!name.equals(".events.bin")) {
                    keepRecord(out.resolve(name), rewrittenIfSubmitted);
                }
            }
            // the --control file's copy (not if an earlier job's is there: then it was replaced, not written anew)
            if (KeyshiftJob.controlCopyNames().stream().noneMatch(n -> Files.exists(out.resolve(n)))) {
                KeyshiftJob.controlCopyNames().forEach(n -> writtenIfSubmitted.add(out.resolve(n)));
            } else {
                for (String n : KeyshiftJob.controlCopyNames()) {
                    keepRecord(out.resolve(n), rewrittenIfSubmitted);
                }
            }
        }
        // left dead letters the job's main moves aside are this run's to put back or remove (not one a run cut short
        // left there: put back beside a later job's results, it read as that job's)
        Path aside = out == null || Files.exists(out.resolve(KeyshiftJob.LEFT_DEAD_LETTERS_ASIDE)) ? null
                : out.resolve(KeyshiftJob.LEFT_DEAD_LETTERS_ASIDE);
        // the files as the job's main left them (their file keys): a job started into the same --out since (its main
        // in another process, once this one's had returned) may have written them anew, and they are then its own
        Map<Path, Object> leftByMain = new java.util.HashMap<>();
        Runnable graphBuilt = () -> {
            for (Path p : writtenIfSubmitted) {
                leftByMain.put(p, leftAs(p));
            }
            for (Path p : rewrittenIfSubmitted.keySet()) {
                leftByMain.put(p, leftAs(p));
            }
        };
        try {
            jobId = JobSubmitter.submit(api.base(), j, KeyshiftJob.class.getName(), jobArgs, conf, savepoint,
                    allowNonRestored, graphBuilt);
        } catch (JobSubmitter.NotSubmitted e) {
            // the job's main built the graph, having taken --out (the marker first, then the sorted input: no other
            // job wrote them since the list above); removed only if the cluster says it does not have the job: a
            // submission whose answer did not come may run all the same, and read the sorted input
            String known = null;
            try {
                // asked three times a second apart: a submission whose answer was lost may still be being stored
                for (int attempt = 0; attempt < 3 && known == null; attempt++) {
                    if (attempt > 0) {
                        Thread.sleep(1000);
                    }
                    if (api.knowsJob(e.jobId())) {
                        known = "the cluster has job " + e.jobId() + " all the same: see its web UI (" + api.base()
                                + ")";
                    }
                }
            } catch (java.io.IOException unknown) {
                known = "whether the cluster has job " + e.jobId() + " is unknown (" + unknown.getMessage() + ")";
            }
            if (known == null) {
                undo(writtenIfSubmitted, rewrittenIfSubmitted, leftByMain, aside, e);
                throw e;
            }
            if (aside != null && known.startsWith("the cluster has job")) {
                // the job runs: they would read as its own
                Files.deleteIfExists(aside);
            }
            // (its own message, not the root cause's: an IOException is not taken for a wrapper)
            throw new java.io.IOException("submitting the job failed (" + KeyshiftCli.rootMessage(e) + "), but "
                    + known + (out == null ? "" : "; " + out + " keeps what the job's main wrote into it"), e);
        } catch (Exception e) {
            // the job's main failed before a job graph existed, and removed what it had written (the files listed
            // above may be another job's, written since)
            // a bad job option: the job's main refuses it, naming it, before a job graph exists (exit 2, as for
            // this command's own options)
            for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (t instanceof IllegalArgumentException && t.getMessage() != null
                        && t.getMessage().startsWith(KeyshiftJob.USAGE_ERROR_PREFIX)) {
                    throw new ParameterException(cl, "job option: " + t.getMessage()
                            .substring(KeyshiftJob.USAGE_ERROR_PREFIX.length()));
                }
            }
            throw e;
        }
        KeyshiftCli.underway("job " + jobId + ", submitted to " + api.base() + ", was starting (it runs on "
                + "without this command: see its web UI)");
        // a job that cannot start (a savepoint the JobManager cannot read, state that no operator claims) fails while
        // it initializes: said here, in one line, not after "submitted"
        try {
            awaitStart(api, jobId, cl.getErr(), java.time.Duration.ofMillis(250));
        } catch (IllegalStateException failedAsItStarted) {
            // FAILED before any task ran (checkpoint storage the JobManager cannot create, a savepoint it cannot
            // read): it wrote no result, and the corrected rerun must not find --out claimed by it
            undo(writtenIfSubmitted, rewrittenIfSubmitted, leftByMain, aside, failedAsItStarted);
            throw failedAsItStarted;
        }
        if (aside != null) {
            // the dead letters an earlier run that started no job left there, moved aside by the job's main: the job
            // started, and they would read as its own
            Files.deleteIfExists(aside);
        }
        KeyshiftCli.result("submitted job " + jobId + " to " + api.base());
        System.out.println("submitted job " + jobId + " to " + api.base() + " (web UI: " + api.base() + "/#/job/running/"
                + jobId + "/overview)");
        System.out.println(jobId);
        return 0;
    }

    /**
     * Waits, polling every {@code poll} up to 120 times, while job {@code jobId} is starting ("", INITIALIZING, or
     * CREATED: Flink's adaptive scheduler reports CREATED while it waits for slots and while it builds the job and
     * reads its savepoint, which may fail there), then warns of a job short of slots ({@link #slotWarning}) and
     * waits, up to 120 times more, while it runs but not all its tasks do (they restore their state first; not while
     * they only wait for slots, 8 polls on end: warned of) and through FAILING, so that a job that fails (or is
     * cancelled) as it starts is said here, in one line; a job that restarts as it starts is warned of with its
     * cause.
     *
     * @throws IllegalStateException if the job failed as it started, with its root cause
     */
    static void awaitStart(io.keyshift.jobs.cluster.FlinkRest api, String jobId, java.io.PrintWriter err,
                           java.time.Duration poll) throws InterruptedException {
        String state = "";
        try {
            state = api.jobState(jobId);
            for (int i = 0; i < 120 && List.of("", "INITIALIZING", "CREATED").contains(state); i++) {
                Thread.sleep(poll.toMillis());
                state = api.jobState(jobId);
            }
            if (state.equals("CREATED")) {
                err.println("keyshift submit: warning: job " + jobId + " is still waiting for its slots (CREATED) "
                        + "after " + 120 * poll.toMillis() / 1000 + " s: whether it starts (and restores) shows in the "
                        + "web UI");
                err.flush();
            }
            // a job short of slots under Flink's default scheduler (its vertices are known once it has left
            // INITIALIZING): said now
            try {
                String slots = !state.equals("RUNNING") ? null
                        : slotWarning(api.job(jobId), api.get("/overview"), api.get("/jobmanager/config"));
                if (slots != null) {
                    err.println("keyshift submit: warning: " + slots);
                    err.flush();
                }
            } catch (java.io.IOException e) {
                // no warning without the figures
            }
            // a job is RUNNING before its tasks have restored their state (INITIALIZING): a restore a task refuses
            // (keyshift's state of another window or key secret) failed the job seconds after "submitted", exit 0;
            // waited for through FAILING (the other tasks cancel) to the state it ends in, but not while its tasks
            // wait for slots (8 polls, 2 s at submit's, of nothing but SCHEDULED: the slots in use by other jobs, or
            // TaskManagers that a resource manager starts on demand)
            int waitingForSlots = 0;
            String tasks = "";
            for (int i = 0; i < 120; i++) {
                if (state.equals("RUNNING")) {
                    com.fasterxml.jackson.databind.JsonNode job = api.get("/jobs/" + jobId);
                    if (tasksRunning(job)) {
                        break;
                    }
                    tasks = taskStates(job);
                    if (!onlyWaitingForSlots(job)) {
                        waitingForSlots = 0;
                    } else if (++waitingForSlots >= 8) {
                        err.println("keyshift submit: warning: job " + jobId + "'s tasks wait for slots (" + tasks
                                + "): whether they start (and restore) shows in the web UI");
                        err.flush();
                        break;
                    }
                } else if (!List.of("FAILING", "CANCELLING").contains(state)) {
                    break;
                }
                Thread.sleep(poll.toMillis());
                state = api.jobState(jobId);
                if (i == 119 && state.equals("RUNNING") && !tasksRunning(api.get("/jobs/" + jobId))) {
                    err.println("keyshift submit: warning: not every task of job " + jobId + " runs after "
                            + 120 * poll.toMillis() / 1000 + " s (" + tasks + "): whether they start (and restore) "
                            + "shows in the web UI");
                    err.flush();
                }
            }
        } catch (java.io.IOException e) {
            // submitted all the same: its id follows, whatever the REST API answers now
            err.println("keyshift submit: warning: could not read job " + jobId + "'s state: " + e.getMessage());
            err.flush();
            return;
        }
        if (state.equals("FAILED")) {
            throw new IllegalStateException("job " + jobId + " failed as it started: " + rootCause(api, jobId));
        }
        if (state.equals("CANCELED")) {
            throw new IllegalStateException("job " + jobId + " was cancelled as it started");
        }
        if (state.equals("RESTARTING")) {
            err.println("keyshift submit: warning: job " + jobId + " is restarting as it starts: "
                    + rootCause(api, jobId));
            err.flush();
        }
    }

    /** The job's root cause, or why it could not be read. */
    private static String rootCause(io.keyshift.jobs.cluster.FlinkRest api, String jobId) throws InterruptedException {
        try {
            return api.rootCause(jobId);
        } catch (java.io.IOException e) {
            return "its root cause could not be read: " + e.getMessage();
        }
    }

    /** The counts of the job's tasks by state ({@code GET /jobs/ID}), e.g. "RUNNING 3, SCHEDULED 2". */
    static String taskStates(com.fasterxml.jackson.databind.JsonNode job) {
        java.util.Map<String, Integer> counts = new java.util.TreeMap<>();
        for (com.fasterxml.jackson.databind.JsonNode v : job.path("vertices")) {
            v.path("tasks").fields().forEachRemaining(e -> {
                if (e.getValue().asInt() > 0) {
                    counts.merge(e.getKey(), e.getValue().asInt(), Integer::sum);
                }
            });
        }
        return counts.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(java.util.stream.Collectors.joining(", "));
    }

    /**
     * Adds the content of {@code record}, one of the files a job's main keeps in --out (a few lines; the --control
     * file's copy), to {@code kept}, where it is a regular file (not a link) of at most 16 MiB; a larger one is not
     * kept (and not put back).
     */
    static void keepRecord(Path record, Map<Path, byte[]> kept) throws java.io.IOException {
        if (Files.isRegularFile(record, java.nio.file.LinkOption.NOFOLLOW_LINKS) && Files.size(record) <= 16 << 20) {
            kept.put(record, Files.readAllBytes(record));
        }
    }

    /**
     * Undoes what the job's main wrote into --out, where the job did not start: removes {@code written} (files it
     * wrote anew), writes back {@code rewritten} (files it rewrote, as they were before) and puts back the left dead
     * letters moved {@code aside}; a file whose key is no longer the one the main left ({@code leftByMain}: another
     * job's main wrote it since) is left alone. A step that fails is added to {@code failure} (suppressed) and the
     * others still run: the caller's failure is what the user reads.
     */
    static void undo(List<Path> written, Map<Path, byte[]> rewritten, Map<Path, Object> leftByMain, Path aside,
                     Throwable failure) {
        for (Path p : written) {
            try {
                if (ownedByMain(p, leftByMain)) {
                    Files.deleteIfExists(p);
                }
            } catch (java.io.IOException | RuntimeException io) {
                failure.addSuppressed(io);
            }
        }
        Map<Path, byte[]> back = new java.util.LinkedHashMap<>();
        rewritten.forEach((p, bytes) -> {
            if (ownedByMain(p, leftByMain)) {
                back.put(p, bytes);
            }
        });
        try {
            putBack(back);
        } catch (java.io.IOException | RuntimeException io) {
            failure.addSuppressed(io);
        }
        try {
            putBackLeftDeadLetters(aside);
        } catch (java.io.IOException | RuntimeException io) {
            failure.addSuppressed(io);
        }
    }

    /** How {@link #leftAs} records a file that was not there. */
    private static final Object ABSENT = new Object();
    /** How {@link #leftAs} records a file whose key cannot be read (a file system without file keys). */
    private static final Object NO_KEY = new Object();

    /** {@code p}'s file key, {@link #ABSENT} or {@link #NO_KEY}: what {@link #ownedByMain} compares. */
    static Object leftAs(Path p) {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return ABSENT;
        }
        Object key = fileKey(p);
        return key == null ? NO_KEY : key;
    }

    /**
     * Whether {@code p} is as the job's main left it ({@code leftByMain}, by {@link #leftAs}): the same file key (a
     * job's main writes each of these files anew, through a rename: another's rewrite is another file);
     * absent then, and absent still (nothing to undo) or not (another job's); no record, or no file key: taken as
     * the main's.
     */
    static boolean ownedByMain(Path p, Map<Path, Object> leftByMain) {
        Object then = leftByMain.get(p);
        if (then == null || then == NO_KEY) {
            return true;
        }
        Object now = leftAs(p);
        return then == ABSENT ? now == ABSENT : now == NO_KEY || then.equals(now);
    }

    /** The file key of {@code p} (not following a link), or null where there is none or it cannot be read. */
    static Object fileKey(Path p) {
        try {
            return Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Writes back each of {@code kept}'s files whose content the job's main changed (or removed), where the job did
     * not start: through a sibling and an atomic rename, so that no reader finds one half written.
     */
    static void putBack(Map<Path, byte[]> kept) throws java.io.IOException {
        for (Map.Entry<Path, byte[]> e : kept.entrySet()) {
            Path p = e.getKey();
            if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    && java.util.Arrays.equals(Files.readAllBytes(p), e.getValue())) {
                continue;
            }
            Path sibling = p.resolveSibling("." + p.getFileName() + ".put-back");
            Files.write(sibling, e.getValue());
            Files.move(sibling, p, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /**
     * Puts back the dead letters an earlier run left in --out that this run's job main moved aside to {@code aside}
     * ({@link KeyshiftJob#LEFT_DEAD_LETTERS_ASIDE}; null: none of this run's), where the job did not start: they are
     * kept for their reasons.
     */
    static void putBackLeftDeadLetters(Path aside) throws java.io.IOException {
        if (aside != null && Files.isRegularFile(aside)
                && !Files.exists(aside.resolveSibling("dead-letters.csv"))) {
            Files.move(aside, aside.resolveSibling("dead-letters.csv"));
        }
    }

    /** Whether the job's tasks that do not run all wait for slots (SCHEDULED), none deploying or restoring. */
    static boolean onlyWaitingForSlots(com.fasterxml.jackson.databind.JsonNode job) {
        boolean any = false;
        for (com.fasterxml.jackson.databind.JsonNode v : job.path("vertices")) {
            var it = v.path("tasks").fields();
            while (it.hasNext()) {
                var e = it.next();
                int n = e.getValue().asInt();
                if (n > 0 && !List.of("RUNNING", "FINISHED", "SCHEDULED").contains(e.getKey())) {
                    return false;
                }
                any |= n > 0 && e.getKey().equals("SCHEDULED");
            }
        }
        return any;
    }

    /**
     * Whether every task of the job ({@code GET /jobs/ID}) runs or has finished: past restoring its state.
     */
    static boolean tasksRunning(com.fasterxml.jackson.databind.JsonNode job) {
        com.fasterxml.jackson.databind.JsonNode vertices = job.path("vertices");
        if (!vertices.isArray() || vertices.isEmpty()) {
            return false;
        }
        for (com.fasterxml.jackson.databind.JsonNode v : vertices) {
            com.fasterxml.jackson.databind.JsonNode tasks = v.path("tasks");
            if (tasks.path("RUNNING").asInt() + tasks.path("FINISHED").asInt() < v.path("parallelism").asInt(1)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Why a job with these vertices ({@code GET /jobs/ID}) cannot run on a cluster with these slots ({@code GET
     * /overview}) and this scheduler ({@code GET /jobmanager/config}), or null: under Flink's default scheduler a
     * job whose parallelism exceeds the cluster's slots waits for slots ({@code slot.request.timeout}), fails, and
     * restarts under the cluster's restart strategy until TaskManagers join; the adaptive scheduler runs it at the
     * parallelism the slots allow. A cluster that reports no slots (one whose resource manager starts TaskManagers on
     * demand) is not judged.
     */
    static String slotWarning(com.fasterxml.jackson.databind.JsonNode job,
                              com.fasterxml.jackson.databind.JsonNode overview,
                              com.fasterxml.jackson.databind.JsonNode jobManagerConfig) {
        int needed = 0;
        for (com.fasterxml.jackson.databind.JsonNode v : job.path("vertices")) {
            needed = Math.max(needed, v.path("parallelism").asInt());
        }
        int slots = overview.path("slots-total").asInt(0);
        if (adaptive(jobManagerConfig)) {
            return null;
        }
        if (slots <= 0 || needed <= slots) {
            return null;
        }
        return "the job runs at parallelism " + needed + " but the cluster has " + slots + " task slots: it waits for "
                + "slots (slot.request.timeout), then fails and restarts until TaskManagers with " + (needed - slots)
                + " more join (or submit it with --parallelism " + slots + ")";
    }

    /** Whether a cluster's configuration ({@code GET /jobmanager/config}) runs the adaptive scheduler. */
    static boolean adaptive(com.fasterxml.jackson.databind.JsonNode jobManagerConfig) {
        for (com.fasterxml.jackson.databind.JsonNode entry : jobManagerConfig) {
            if (entry.path("key").asText().equals("jobmanager.scheduler")
                    && entry.path("value").asText().strip().equalsIgnoreCase("adaptive")) {
                return true;
            }
            // reactive mode runs the adaptive scheduler whatever jobmanager.scheduler says
            if (entry.path("key").asText().equals("scheduler-mode")
                    && entry.path("value").asText().strip().equalsIgnoreCase("reactive")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the job scales ({@code keyshift.scaling.capacity} above 0) and follows the job's parallelism on restore
     * ({@code keyshift.scaling.follow-job-parallelism-on-restore}), by {@code conf} (config.yaml) and the job's own
     * {@code -Dkey=value} / {@code -D key=value} options, which override it.
     */
    /**
     * Why the job ({@code conf}: config.yaml; {@code jobArgs}: its arguments, @-files expanded) cannot run on a
     * cluster with the adaptive scheduler, or null: a bounded Kafka read (restored at every rescale and restart, it
     * never finishes), or scaling decisions that follow the job's parallelism on restore.
     */
    static String underAdaptiveScheduler(Configuration conf, List<String> jobArgs) {
        String where = "the cluster's jobmanager.scheduler: adaptive, or its scheduler-mode: reactive";
        // as picocli reads a boolean option: --kafka-bounded, or --kafka-bounded=VALUE (=false reads on)
        boolean bounded = false;
        for (String a : jobArgs) {
            if (a.equals("--kafka-bounded")) {
                bounded = true;
            } else if (a.startsWith("--kafka-bounded=")) {
                bounded = !a.substring("--kafka-bounded=".length()).strip().equalsIgnoreCase("false");
            }
        }
        if (bounded) {
            return KeyshiftJob.boundedUnderAdaptive(where);
        }
        return followsRestoresWithScaling(conf, jobArgs) ? KeyshiftJob.adaptiveConflict(where) : null;
    }

    static boolean followsRestoresWithScaling(Configuration conf, List<String> jobArgs) {
        Map<String, String> merged = new java.util.HashMap<>(conf.toMap());
        for (int i = 0; i < jobArgs.size(); i++) {
            String a = jobArgs.get(i);
            String option = a.startsWith("-D") && a.length() > 2 ? a.substring(2)
                    : a.equals("-D") && i + 1 < jobArgs.size() ? jobArgs.get(i + 1) : "";
            String[] kv = option.split("=", 2);
            if (kv.length == 2) {
                merged.put(kv[0].strip(), kv[1]);
            }
        }
        try {
            Configuration job = Configuration.fromMap(merged);
            return job.get(io.keyshift.config.ScalingOptions.CAPACITY) > 0
                    && job.get(io.keyshift.config.ScalingOptions.FOLLOW_JOB_ON_RESTORE);
        } catch (IllegalArgumentException e) {
            // a value that does not parse: the job's main refuses it, naming the option
            return false;
        }
    }

    /**
     * The job's {@code --window}, null where it gives none or one the job's main refuses (it names the option):
     * one that does not parse, is not a whole number of milliseconds from 1 ms, or is above
     * {@link io.keyshift.config.KeyshiftConfig#MAX_DURATION}.
     */
    static Duration windowOf(List<String> jobArgs) {
        String value = windowArgument(jobArgs);
        if (value == null) {
            return null;
        }
        try {
            Duration d = org.apache.flink.util.TimeUtils.parseDuration(value);
            return d.compareTo(Duration.ofMillis(1)) < 0 || d.getNano() % 1_000_000 != 0
                    || d.compareTo(io.keyshift.config.KeyshiftConfig.MAX_DURATION) > 0 ? null : d;
        } catch (IllegalArgumentException | ArithmeticException e) {
            return null;
        }
    }

    /** The job's {@code --window} as given, null without one. */
    static String windowArgument(List<String> jobArgs) {
        for (int i = 0; i < jobArgs.size(); i++) {
            String a = jobArgs.get(i);
            if (a.equals("--window") && i + 1 < jobArgs.size()) {
                return jobArgs.get(i + 1);
            }
            if (a.startsWith("--window=")) {
                return a.substring(9);
            }
        }
        return null;
    }

    /**
     * The job's arguments as its main reads them: each {@code @FILE} whose file exists replaced by the arguments in it,
     * by picocli's rules (whitespace-separated, quotes, {@code #} comments, nested files), as the job's main, a
     * picocli command with its defaults, expands them; a file that does not exist stays as given.
     */
    static List<String> expandAtFiles(List<String> jobArgs) {
        if (jobArgs.stream().noneMatch(a -> a.startsWith("@"))) {
            return jobArgs;
        }
        CommandLine.Model.CommandSpec spec = CommandLine.Model.CommandSpec.create();
        spec.addPositional(CommandLine.Model.PositionalParamSpec.builder().arity("0..*").type(String[].class)
                .build());
        CommandLine parser = new CommandLine(spec);
        parser.setUnmatchedOptionsArePositionalParams(true);
        try {
            return parser.parseArgs(jobArgs.toArray(String[]::new)).expandedArgs();
        } catch (CommandLine.PicocliException unreadable) {
            // (an @-file it cannot read: the job's main says so, naming it)
            return jobArgs;
        }
    }

    /** The job's {@code --out} among its arguments ({@code --out DIR} or {@code --out=DIR}), or null. */
    static Path outOf(List<String> jobArgs) {
        for (int i = 0; i < jobArgs.size(); i++) {
            String a = jobArgs.get(i);
            if (a.equals("--out") && i + 1 < jobArgs.size() && !jobArgs.get(i + 1).isBlank()) {
                return Path.of(jobArgs.get(i + 1));
            }
            if (a.startsWith("--out=") && a.length() > 6) {
                return Path.of(a.substring(6));
            }
        }
        return null;
    }

    /**
     * The local file of a savepoint path: a plain path, or a {@code file:} URI (as {@code bin/keyshift savepoint}
     * prints it); null for another scheme (a remote file system this machine may not reach).
     */
    static Path localPath(String savepoint) {
        if (!FlinkOptions.isUri(savepoint)) {
            return Path.of(savepoint);
        }
        if (savepoint.regionMatches(true, 0, "file:", 0, 5)) {
            // as Flink prints a location, unescaped (a space stays a space): file:/p or file:///p; file://host/p is
            // another machine's
            String rest = savepoint.substring(5);
            if (rest.startsWith("//")) {
                rest = rest.substring(2);
                if (!rest.startsWith("/")) {
                    return null;
                }
            }
            return Path.of(rest);
        }
        return null;
    }
}
