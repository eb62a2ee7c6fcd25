package io.keyshift.jobs;

import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.core.execution.PipelineExecutor;
import org.apache.flink.core.execution.PipelineExecutorFactory;
import org.apache.flink.core.execution.PipelineExecutorServiceLoader;
import org.apache.flink.runtime.client.JobSubmissionException;
import org.apache.flink.runtime.rest.util.RestClientException;
import org.apache.flink.shaded.netty4.io.netty.handler.codec.http.HttpResponseStatus;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code flink run} of the cluster job whose submission fails: where the cluster may have the job (the answer timed
 * out, the connection was cut after the request), {@code --out} keeps the started marker and the sorted input the job
 * reads (they were removed, and a rerun into the same {@code --out} doubled every result of a job the cluster ran);
 * where the cluster refused it or was never reached, they go, as before, so the corrected rerun is not refused.
 * Submission runs through an executor of this test's that answers with the given failure, as Flink's REST client does.
 */
class SubmissionAnswerTest {

    /** A {@code flink run}-like context: execute() submits to a "remote" target whose answer is {@code failure}. */
    static final class FailedSubmissionEnvironment extends StreamExecutionEnvironment {
        FailedSubmissionEnvironment(Configuration conf, Throwable failure) {
            super(new PipelineExecutorServiceLoader() {
                @Override
                public PipelineExecutorFactory getExecutorFactory(Configuration c) {
                    return new PipelineExecutorFactory() {
                        @Override
                        public String getName() {
                            return "remote";
                        }

                        @Override
                        public boolean isCompatibleWith(Configuration c) {
                            return true;
                        }

                        @Override
                        public PipelineExecutor getExecutor(Configuration c) {
                            return (pipeline, configuration, loader) -> CompletableFuture.failedFuture(
                                    new JobSubmissionException(new JobID(), "Failed to submit JobGraph.", failure));
                        }
                    };
                }

                @Override
                public Stream<String> getExecutorNames() {
                    return Stream.of("remote");
                }
            }, conf, Thread.currentThread().getContextClassLoader());
        }

        static void setAsContext(Throwable failure) {
            initializeContextEnvironment(given -> {
                Configuration c = new Configuration(given);
                c.set(DeploymentOptions.TARGET, "remote");
                return new FailedSubmissionEnvironment(c, failure);
            });
        }

        static void unset() {
            resetContextEnvironment();
        }
    }

    @AfterEach
    void noContext() {
        FailedSubmissionEnvironment.unset();
    }

    private static Path run(Path dir, String name, Throwable failure) throws Exception {
        Path csv = dir.resolve("trips.csv");
        if (!Files.exists(csv)) {
            Files.writeString(csv, "station,start\nA,2014-09-01 08:00:00\nB,2014-09-01 09:30:00\n");
        }
        Path out = dir.resolve(name);
        FailedSubmissionEnvironment.setAsContext(failure);
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--input", csv.toString(), "--key", "station",
                "--time", "start", "--out", out.toString(), "-Dexecution.checkpointing.interval=5s"}))
                .hasStackTraceContaining("Failed to submit JobGraph.");
        return out;
    }

    @Test
    void aSubmissionWhoseAnswerDidNotComeKeepsTheMarkerAndTheSortedInput(@TempDir Path dir) throws Exception {
        Path out = run(dir, "timed-out", new TimeoutException("no answer within 60 s"));
        assertThat(out.resolve(KeyshiftJob.STARTED_MARKER)).exists();
        assertThat(out.resolve(".events.bin")).exists();
        // the rerun into it is refused: the cluster may run the first job
        FailedSubmissionEnvironment.unset();
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--input", dir.resolve("trips.csv").toString(),
                "--key", "station", "--time", "start", "--out", out.toString(),
                "-Dexecution.checkpointing.interval=5s"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(KeyshiftJob.STARTED_MARKER);
        // a connection cut after the request went out: the same
        Path cut = run(dir, "cut", new java.io.IOException("Connection reset by peer"));
        assertThat(cut.resolve(KeyshiftJob.STARTED_MARKER)).exists();
    }

    @Test
    void aSubmissionTheClusterRefusedOrNeverReceivedLeavesNothing(@TempDir Path dir) throws Exception {
        for (Throwable refusal : new Throwable[] {
            new RestClientException("[Internal server error., <Exception on server side: job graph is invalid>]",
                    HttpResponseStatus.BAD_REQUEST),
            new java.net.ConnectException("Connection refused: localhost/127.0.0.1:8081"),
            new java.net.UnknownHostException("jobmanager.nowhere")}) {
            Path out = run(dir, "out-" + refusal.getClass().getSimpleName(), refusal);
            assertThat(out.resolve(KeyshiftJob.STARTED_MARKER)).as("%s", refusal).doesNotExist();
            assertThat(out.resolve(".events.bin")).as("%s", refusal).doesNotExist();
        }
    }

    @Test
    void whatTellsARefusalFromALostAnswer() {
        assertThat(KeyshiftJob.mayHaveReached(new TimeoutException())).isTrue();
        assertThat(KeyshiftJob.mayHaveReached(null)).isTrue();
        assertThat(KeyshiftJob.mayHaveReached(new RuntimeException("retries exhausted",
                new java.net.ConnectException("Connection refused")))).isFalse();
        assertThat(KeyshiftJob.mayHaveReached(new RestClientException("not found", HttpResponseStatus.NOT_FOUND)))
                .isFalse();
        // a retried submission whose first attempt got there: the cluster has the job
        assertThat(KeyshiftJob.mayHaveReached(new RestClientException("[org.apache.flink.runtime.client."
                + "DuplicateJobSubmissionException: Job has already been submitted.]",
                HttpResponseStatus.INTERNAL_SERVER_ERROR))).isTrue();
    }
}
