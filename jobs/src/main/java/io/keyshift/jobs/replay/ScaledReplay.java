package io.keyshift.jobs.replay;

import io.keyshift.avro.ScalingDecision;
import io.keyshift.avro.ScalingPolicy;
import io.keyshift.config.ScalingOptions;
import io.keyshift.jobs.source.EventSpace;
import io.keyshift.jobs.replay.Strategy;
import io.keyshift.jobs.replay.ReplayScalingGate;

import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A replay with a simulated scaling actuator: the {@code predictive} strategy's job on one local MiniCluster (one
 * TaskManager with {@code keyshift.scaling.max-parallelism} slots), in event-time lockstep with its scaling decisions
 * through a {@link ReplayScalingGate}. When the actuated policy decides to rescale at the end of window w, the source
 * waits at w's end, the driver stops the job with a savepoint and restores it at the decided parallelism, and the
 * replay goes on from window w + 1: what the job would have done had an actuator applied each decision at once.
 * Nothing else changes between segments (same configuration, uids, output directories), so the results must equal
 * {@code hash}'s across every rescale.
 */
public final class ScaledReplay {

    /**
     * One applied decision; {@code seconds} is the wall time of the stop-with-savepoint and restore: from the stop's
     * request until every task of the job restored at the new parallelism runs (or has finished).
     */
    public record Rescale(long windowEnd, int from, int to, double load, double utilizationBefore,
                          double utilizationAfter, String reason, String savepoint, double seconds) {}

    /** What a scaled run did. */
    public record Outcome(ScalingPolicy policy, int initialParallelism, List<Rescale> rescales, double wallSeconds) {}

    private ScaledReplay() {}

    /** The run directory's name for {@code policy}: {@code scaled-predictive} or {@code scaled-reactive}. */
    public static String runId(ScalingPolicy policy) {
        return "scaled-" + policy.name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * Runs the predictive strategy with {@code policy}'s decisions applied.
     *
     * @param base       Flink and keyshift configuration; {@code keyshift.scaling.capacity} and
     *                   {@code keyshift.scaling.max-parallelism} must be set (> 0)
     * @param firstEvent event time of the first record (ms): the gate's first bound is the end of its window
     * @param lastEvent  event time of the last record (ms): a decision at a window end after it has nothing to act on
     * @param recordsPerSecond the source's rate over all its subtasks (--rate), 0 for full speed
     */
    public static Outcome run(EventSpace space, long firstEvent, long lastEvent, Configuration base, ScalingPolicy policy,
                              int parallelism, int maxParallelism, long windowMillis, Path runDir, Path work,
                              boolean withSum, double recordsPerSecond, String progressId, PrintStream log)
            throws Exception {
        int slots = base.get(ScalingOptions.MAX_PARALLELISM);
        if (base.get(ScalingOptions.CAPACITY) <= 0 || slots <= 0) {
            throw new IllegalArgumentException("a scaled replay needs keyshift.scaling.capacity > 0 and "
                    + "keyshift.scaling.max-parallelism > 0");
        }
        String gateId = runId(policy) + "-" + UUID.randomUUID();
        ReplayScalingGate.Gate gate = ReplayScalingGate.create(gateId, windowMillis, policy, firstEvent);
        Configuration conf = new Configuration(base);
        conf.set(ReplayScalingGate.GATE_OPTION, gateId);
        // the policy this run applies is the operator's actuated one (its metrics), not the configured default
        conf.set(ScalingOptions.POLICY, policy.name().toLowerCase(java.util.Locale.ROOT));
        // the actuator restarts the job at the decided parallelism from a savepoint
        conf.set(ScalingOptions.FOLLOW_JOB_ON_RESTORE, true);
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, io.keyshift.jobs.LocalPaths.uri(work.resolve("checkpoints").resolve(runId(policy))));
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, slots);
        // without a configured port the cluster binds any free one (no port to lose between finding and binding it)
        conf.set(RestOptions.PORT, conf.getOptional(RestOptions.PORT).orElse(0));
        String savepointDir = io.keyshift.jobs.LocalPaths.uri(work.resolve("savepoints").resolve(runId(policy)));
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setConfiguration(conf)
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(slots).build());
        long t0 = System.nanoTime();
        List<Rescale> rescales = new ArrayList<>();
        cluster.start();
        try {
            int restPort = cluster.getRestAddress().get().getPort();
            log.printf("replay [%s]: predictive routing, %s scaling applied by stop-with-savepoint and restore, "
                    + "parallelism %d (at most %d); web UI: http://127.0.0.1:%d%n", runId(policy),
                    policy.name().toLowerCase(java.util.Locale.ROOT), parallelism, slots, restPort);
            int p = parallelism;
            String savepoint = null;
            // the start of the rescale whose restore is under way (the stop's request), or -1
            long rescaleStart = -1;
            while (true) {
                StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
                env.setParallelism(p);
                env.setMaxParallelism(maxParallelism);
                ReplayJob.build(env, space, Strategy.PREDICTIVE, conf, runDir, withSum, recordsPerSecond, progressId);
                JobGraph graph = env.getStreamGraph().getJobGraph();
                graph.setSavepointRestoreSettings(savepoint == null ? SavepointRestoreSettings.none()
                        : SavepointRestoreSettings.forPath(savepoint, false));
                JobID job = cluster.submitJob(graph).get().getJobID();
                CompletableFuture<JobResult> result = cluster.requestJobResult(job);
                if (rescaleStart >= 0) {
                    // the restore is part of the rescale's cost: until every task has restored its state and runs
                    awaitTasksRunning(cluster, job, result);
                    Rescale last = rescales.remove(rescales.size() - 1);
                    rescales.add(new Rescale(last.windowEnd(), last.from(), last.to(), last.load(),
                            last.utilizationBefore(), last.utilizationAfter(), last.reason(), last.savepoint(),
                            (System.nanoTime() - rescaleStart) / 1e9));
                    rescaleStart = -1;
                }
                ScalingDecision d = null;
                while (!result.isDone() && (d = gate.pending()) == null) {
                    Thread.sleep(20);
                }
                if (d == null || result.isDone() || d.getWindowEnd() > lastEvent) {
                    // a decision after the last record (made on the end of the input) has no window to act on: no
                    // rescale (stopped then, a job whose sources had ended failed the stop or restarted for nothing)
                    gate.release();
                    checkSucceeded(result.get(), runId(policy));
                    break;
                }
                long r0 = System.nanoTime();
                String sp = stopWithSavepoint(
                        () -> cluster.stopWithSavepoint(job, savepointDir, false, SavepointFormatType.CANONICAL),
                        result::isDone, e -> log.printf("replay [%s]: the savepoint for the rescale was declined "
                                + "(%s); trying again in a second%n", runId(policy), rootMessage(e)),
                        STOP_ATTEMPTS, 1_000);
                if (sp == null) { // the job ended before the savepoint: the decision came with the last window
                    checkSucceeded(result.get(), runId(policy));
                    break;
                }
                result.get();
                rescales.add(new Rescale(d.getWindowEnd(), p, d.getToParallelism(), d.getLoad(),
                        d.getUtilizationBefore(), d.getUtilizationAfter(), d.getReason(), sp,
                        (System.nanoTime() - r0) / 1e9));
                log.printf("replay [%s]: %s at window end %s: parallelism %d -> %d (%s)%n", runId(policy), d.getKind(),
                        java.time.Instant.ofEpochMilli(d.getWindowEnd()), p, d.getToParallelism(), d.getReason());
                p = d.getToParallelism();
                savepoint = sp;
                rescaleStart = r0;
                gate.release();
            }
        } finally {
            cluster.close();
            ReplayScalingGate.remove(gateId);
        }
        return new Outcome(policy, parallelism, rescales, (System.nanoTime() - t0) / 1e9);
    }

    /** Waits until every task of {@code job} runs or has finished (its state restored), or the job has ended. */
    private static void awaitTasksRunning(MiniCluster cluster, JobID job, CompletableFuture<JobResult> result)
            throws Exception {
        while (!result.isDone()) {
            org.apache.flink.runtime.executiongraph.AccessExecutionGraph graph;
            try {
                graph = cluster.getExecutionGraph(job).get();
            } catch (java.util.concurrent.ExecutionException e) {
                if (result.isDone()) {
                    return; // ended (and gone) between the two questions
                }
                throw e;
            }
            // a job still initializing has an execution graph of no tasks: not restored (the rescale's time stopped
            // at the submission, and a stop right after reached a job that was still deploying)
            boolean restored = graph.getAllExecutionVertices().iterator().hasNext();
            for (var v : graph.getAllExecutionVertices()) {
                var state = v.getExecutionState();
                restored &= state == org.apache.flink.runtime.execution.ExecutionState.RUNNING
                        || state == org.apache.flink.runtime.execution.ExecutionState.FINISHED;
            }
            if (restored) {
                return;
            }
            Thread.sleep(20);
        }
    }

    /** Tries of a stop-with-savepoint that tasks declined before the replay gives up. */
    static final int STOP_ATTEMPTS = 30;

    /**
     * Stops a job with a savepoint, again while it is declined: a task that is finishing (a bounded source such as
     * the control file's, waiting for the checkpoint after its end) or not running (after the failover Flink starts
     * when a stop-with-savepoint fails) declines it, and the job runs on. The replay's source waits at the
     * decision's window end meanwhile, so a later savepoint holds the same windows.
     *
     * @param stop     triggers one stop-with-savepoint: its savepoint's path
     * @param ended    whether the job has ended (then null is returned: nothing to stop)
     * @param declined told of each declined attempt before the next
     * @param attempts at most this many (>= 1); the last failure is thrown
     * @param pauseMillis between attempts
     * @return the savepoint's path, or null if the job ended
     * @throws Exception the failure of the last attempt, or at once one that no task's decline explains
     */
    static String stopWithSavepoint(java.util.function.Supplier<CompletableFuture<String>> stop,
                                    java.util.function.BooleanSupplier ended,
                                    java.util.function.Consumer<Throwable> declined, int attempts, long pauseMillis)
            throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return stop.get().get(5, TimeUnit.MINUTES);
            } catch (Exception e) {
                if (ended.getAsBoolean()) {
                    return null;
                }
                if (attempt >= attempts || !isCheckpointFailure(e)) {
                    throw e;
                }
                declined.accept(e);
                Thread.sleep(pauseMillis);
            }
        }
    }

    /**
     * Why a task declines a savepoint for a while (it is finishing, not yet running, or not all tasks run); a job
     * that is still initializing declines it too ({@link #isCheckpointFailure}).
     */
    private static final List<org.apache.flink.runtime.checkpoint.CheckpointFailureReason> PASSING = List.of(
            org.apache.flink.runtime.checkpoint.CheckpointFailureReason.CHECKPOINT_DECLINED_TASK_CLOSING,
            org.apache.flink.runtime.checkpoint.CheckpointFailureReason.CHECKPOINT_DECLINED_TASK_NOT_READY,
            org.apache.flink.runtime.checkpoint.CheckpointFailureReason.NOT_ALL_REQUIRED_TASKS_RUNNING,
            // "Task local checkpoint failure." as the savepoint is triggered: a TaskManager that does not know a task
            // the JobManager counts as running (deployed a moment later, or just finished). Seen once in a CI run of
            // 2026-12-06 at the first stop of a job started two seconds before, which failed the replay; a failure
            // that lasts is thrown after the attempts
            org.apache.flink.runtime.checkpoint.CheckpointFailureReason.TASK_CHECKPOINT_FAILURE);

    /**
     * Whether a {@code CheckpointException} (possibly serialized by the JobManager) among the causes was declined for
     * a passing reason ({@link #PASSING}): a savepoint that cannot be written, or that timed out, is not tried again.
     */
    static boolean isCheckpointFailure(Throwable t) {
        String name = org.apache.flink.runtime.checkpoint.CheckpointException.class.getName();
        // a job still initializing (restoring the last rescale's savepoint: decisions that came together are applied
        // one after the other, and the next stop comes as soon as the job is submitted) has no JobMaster to ask yet
        String initializing = org.apache.flink.runtime.dispatcher.UnavailableDispatcherOperationException.class
                .getName();
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (initializing.equals(c instanceof org.apache.flink.util.SerializedThrowable st
                    ? st.getOriginalErrorClassName() : c.getClass().getName())) {
                return true;
            }
            if (c instanceof org.apache.flink.runtime.checkpoint.CheckpointException ce) {
                if (PASSING.contains(ce.getCheckpointFailureReason())) {
                    return true;
                }
            } else if (c instanceof org.apache.flink.util.SerializedThrowable st
                    && name.equals(st.getOriginalErrorClassName()) && st.getMessage() != null
                    && PASSING.stream().anyMatch(r -> st.getMessage().contains(r.message()))) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }

    private static void checkSucceeded(JobResult r, String name) throws Exception {
        if (!r.isSuccess()) {
            throw new Exception("replay [" + name + "] failed", r.getSerializedThrowable()
                    .map(t -> t.deserializeError(ScaledReplay.class.getClassLoader())).orElse(null));
        }
    }
}
