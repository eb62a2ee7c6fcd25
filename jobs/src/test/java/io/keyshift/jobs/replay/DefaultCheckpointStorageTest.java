package io.keyshift.jobs.replay;

import io.keyshift.jobs.event.Event;
import io.keyshift.jobs.source.Progress;
import io.keyshift.jobs.source.StridedSource;
import io.keyshift.jobs.source.ZipfDriftGenerator;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CheckpointStatsSnapshot;
import org.apache.flink.runtime.checkpoint.CheckpointStatsStatus;
import org.apache.flink.runtime.checkpoint.FailedCheckpointStats;
import org.apache.flink.runtime.checkpoint.TaskStateStats;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionJobVertex;
import org.apache.flink.runtime.jobgraph.JobVertexID;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.state.storage.JobManagerCheckpointStorage;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * End-to-end (MiniCluster, about 40 s): keyshift with its default options, 1-minute planning windows (so a daily
 * season of 1,440 windows per forecast series) and Flink's defaults — heap state backend, JobManager checkpoint
 * storage (state handles up to 5 MB) — over more than a generated day, throttled so that a checkpoint completes every
 * second: every checkpoint that starts completes (none declined, none failed), and the state per task is printed.
 */
@Tag("end-to-end")
class DefaultCheckpointStorageTest {
    private static final int PARALLELISM = 2;
    private static final String PROGRESS = "default-checkpoint-storage-test";

    @Test
    void keyshiftsStateFitsFlinksDefaultCheckpointStorageWithMinuteWindows() throws Exception {
        Configuration conf = new Configuration();
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(1));
        // keep every checkpoint's statistics, not only the last ten
        conf.set(WebOptions.CHECKPOINTS_HISTORY_SIZE, 1000);
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        // a free port: 8081 may be another cluster's web UI
        conf.set(RestOptions.BIND_PORT, "0");
        MiniClusterConfiguration cluster = new MiniClusterConfiguration.Builder().setConfiguration(conf)
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(PARALLELISM).build();
        try (MiniCluster mini = new MiniCluster(cluster)) {
            mini.start();
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            env.setParallelism(PARALLELISM);
            env.setMaxParallelism(128);
            // the command line's default generator (1000 keys, Zipf 1.2, daily drift), 72,000 records per day of event
            // time, unbounded, at 3,000 records/s; stopped after more than a day (a bounded job's last checkpoints race
            // its tasks finishing, which says nothing about keyshift's state)
            long perDay = 72_000;
            ZipfDriftGenerator stream = new ZipfDriftGenerator(Long.MAX_VALUE, 0, perDay / 86_400.0, 1000, 1.2, 10, 42);
            Progress.reset(PROGRESS);
            DataStream<Event> events = env.fromSource(new StridedSource(stream, PARALLELISM, 3_000, PROGRESS),
                    WatermarkStrategy.<Event>forMonotonousTimestamps().withTimestampAssigner((e, t) -> e.timestamp),
                    "generator").uid("generator");
            Configuration keyshift = new Configuration();
            keyshift.setString("keyshift.window", "1min");
            Workload.Outputs out = Workload.build(events, Strategy.PREDICTIVE, keyshift, PARALLELISM);
            out.results().sinkTo(new DiscardingSink<>()).name("discard results");
            out.validation().sinkTo(new DiscardingSink<>()).name("discard validation");

            JobID job = mini.submitJob(env.getStreamGraph().getJobGraph()).get().getJobID();
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            AccessExecutionGraph graph = mini.getExecutionGraph(job).get();
            while (Progress.get(PROGRESS) < 1.2 * perDay
                    || graph.getCheckpointStatsSnapshot().getCounts().getNumberOfCompletedCheckpoints() < 10) {
                assertThat(graph.getState()).isIn(JobStatus.INITIALIZING, JobStatus.CREATED, JobStatus.RUNNING);
                if (System.nanoTime() > deadline) {
                    // a guard against a stuck job, not a speed limit: the source alone needs about 35 s
                    throw new AssertionError("stuck: after 5 minutes " + Progress.get(PROGRESS) + " records read and "
                            + graph.getCheckpointStatsSnapshot().getCounts().getNumberOfCompletedCheckpoints()
                            + " checkpoints completed (" + graph.getState() + ")");
                }
                Thread.sleep(500);
                graph = mini.getExecutionGraph(job).get();
            }
            // the statistics while the job still runs: a checkpoint that a cancellation aborts is not a decline
            CheckpointStatsSnapshot stats = graph.getCheckpointStatsSnapshot();
            long replayed = Progress.get(PROGRESS);
            mini.cancelJob(job).get();

            assertThat(graph.getCheckpointStorageName()).contains(JobManagerCheckpointStorage.class.getSimpleName());
            System.out.println("state backend " + graph.getStateBackendName().orElse("?") + ", checkpoint storage "
                    + graph.getCheckpointStorageName().orElse("?") + ", " + replayed + " records replayed ("
                    + String.format("%.2f", (double) replayed / perDay) + " days)");
            Map<JobVertexID, String> names = new HashMap<>();
            for (AccessExecutionJobVertex v : graph.getAllVertices().values()) {
                names.put(v.getJobVertexId(), v.getName());
            }
            TreeMap<String, Long> largest = new TreeMap<>();
            long declined = 0;
            for (AbstractCheckpointStats c : stats.getHistory().getCheckpoints()) {
                if (c instanceof FailedCheckpointStats f) {
                    declined++;
                    System.out.printf("checkpoint %d failed: %s%n", f.getCheckpointId(), f.getFailureMessage());
                }
                if (c.getStatus() != CheckpointStatsStatus.COMPLETED) {
                    continue;
                }
                for (TaskStateStats t : c.getAllTaskStateStats()) {
                    largest.merge(names.get(t.getJobVertexId()), t.getStateSize(), Math::max);
                }
            }
            long completed = stats.getCounts().getNumberOfCompletedCheckpoints();
            // attempts Flink refuses before a checkpoint starts (tasks still deploying) count as failed but get no id
            long notTriggered = stats.getCounts().getNumberOfFailedCheckpoints() - declined;
            System.out.printf("default checkpoint storage, 1-min windows: %d checkpoints completed, %d declined "
                    + "or failed, %d not triggered (tasks not running); largest state per task over %d checkpoints:%n",
                    completed, declined, notTriggered, stats.getHistory().getCheckpoints().size());
            largest.forEach((name, bytes) -> System.out.printf("  %,12d bytes  %s%n", bytes, name));
            assertThat(declined).as("checkpoints declined or failed once started").isZero();
            assertThat(completed).isGreaterThanOrEqualTo(10);
            assertThat(largest.values()).allSatisfy(b -> assertThat(b).isLessThan(5L << 20));
        }
    }
}
