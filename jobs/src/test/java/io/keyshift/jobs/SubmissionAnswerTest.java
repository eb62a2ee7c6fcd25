package io.keyshift.jobs;

import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.PipelineExecutor;
import org.apache.flink.core.execution.PipelineExecutorFactory;
import org.apache.flink.core.execution.PipelineExecutorServiceLoader;
import org.apache.flink.runtime.client.JobInitializationException;
import org.apache.flink.runtime.client.JobSubmissionException;
import org.apache.flink.runtime.rest.util.RestClientException;
import org.apache.flink.shaded.netty4.io.netty.handler.codec.http.HttpResponseStatus;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.concurrent.FutureUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code flink run} of the cluster job whose submission fails: where the cluster may have the job (Flink's client
 * reports only the last of its retries: a connection cut or refused, an error answer, an unknown host after an
 * attempt that may have got there; an answer that came before the wait for the job's start failed), {@code --out}
 * keeps the started marker and the sorted input the job reads, with a line naming the marker (they were removed, and
 * a rerun into the same {@code --out} doubled every result of a job the cluster ran), whether or not the cluster lists
 * the job yet; where nothing was sent, the one attempt there was got a 4xx, or the cluster failed the job as it
 * started, they go, as before, so the corrected rerun is not refused. Submission runs through an executor of this test's that fails as Flink's REST client fails (the chains of
 * Flink 2.3's {@code RestClusterClient}: JobSubmissionException, RetryException, the last attempt's cause).
 */
class SubmissionAnswerTest {

    /** A {@code flink run}-like context: execute() submits to {@code target}, whose answer is {@code failure}. */
    static final class FailedSubmissionEnvironment extends StreamExecutionEnvironment {
        FailedSubmissionEnvironment(Configuration conf, Throwable failure, boolean throwAtOnce) {
            super(new PipelineExecutorServiceLoader() {
                @Override
                public PipelineExecutorFactory getExecutorFactory(Configuration c) {
                    return new PipelineExecutorFactory() {
                        @Override
                        public String getName() {
                            return c.get(DeploymentOptions.TARGET);
                        }

                        @Override
                        public boolean isCompatibleWith(Configuration c) {
                            return true;
                        }

                        @Override
                        public PipelineExecutor getExecutor(Configuration c) {
                            return (pipeline, configuration, loader) -> {
                                if (throwAtOnce) {
                                    // as a session target whose cluster cannot be found (before any submission)
                                    throw new IllegalStateException("Couldn't retrieve the cluster", failure);
                                }
                                return CompletableFuture.failedFuture(failure);
                            };
                        }
                    };
                }

                @Override
                public Stream<String> getExecutorNames() {
                    return Stream.of(conf.get(DeploymentOptions.TARGET));
                }
            }, conf, Thread.currentThread().getContextClassLoader());
        }

        static void setAsContext(String target, Integer restPort, Throwable failure, boolean throwAtOnce) {
            initializeContextEnvironment(given -> {
                Configuration c = new Configuration(given);
                c.set(DeploymentOptions.TARGET, target);
                c.set(RestOptions.ADDRESS, "127.0.0.1");
                c.set(RestOptions.PORT, restPort);
                CLIENT_CONF.forEach(c::setString);
                return new FailedSubmissionEnvironment(c, failure, throwAtOnce);
            });
        }

        static void unset() {
            resetContextEnvironment();
        }
    }

    /** Options of the client's configuration (as `flink run` reads them from config.yaml) for the next run. */
    static final java.util.Map<String, String> CLIENT_CONF = new java.util.HashMap<>();

    private static final JobID ID = new JobID();

    /** A failed submission as Flink's REST client reports it: the last of its retries' causes. */
    private static Throwable submission(Throwable lastAttempt) {
        return new JobSubmissionException(ID, "Failed to submit JobGraph.",
                new FutureUtils.RetryException("Could not complete the operation. Number of retries has been "
                        + "exhausted.", lastAttempt));
    }

    /** A closed port on the loopback address (no cluster answers there). */
    private static int closedPort() throws java.io.IOException {
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @AfterEach
    void noContext() {
        FailedSubmissionEnvironment.unset();
        CLIENT_CONF.clear();
    }

    record Outcome(Path out, String err) {
        boolean kept() {
            return Files.exists(out.resolve(KeyshiftJob.STARTED_MARKER));
        }
    }

    private static Outcome run(Path dir, String name, String target, int restPort, Throwable failure,
                               boolean throwAtOnce, String... more) throws Exception {
        Path csv = dir.resolve("trips.csv");
        if (!Files.exists(csv)) {
            Files.writeString(csv, "station,start\nA,2014-09-01 08:00:00\nB,2014-09-01 09:30:00\n");
        }
        Path out = dir.resolve(name);
        FailedSubmissionEnvironment.setAsContext(target, restPort, failure, throwAtOnce);
        java.util.List<String> args = new java.util.ArrayList<>(more.length > 0 ? java.util.List.of(more)
                : java.util.List.of("--input", csv.toString()));
        args.addAll(java.util.List.of("--key", "station", "--time", "start", "--out", out.toString(),
                "-Dexecution.checkpointing.interval=5s"));
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            assertThatThrownBy(() -> KeyshiftJob.main(args.toArray(String[]::new))).isNotNull();
        } finally {
            System.setErr(err);
        }
        String text = captured.toString(java.nio.charset.StandardCharsets.UTF_8);
        err.print(text);
        return new Outcome(out, text);
    }

    private static Outcome run(Path dir, String name, String target, int restPort, Throwable failure)
            throws Exception {
        return run(dir, name, target, restPort, failure, false);
    }

    @Test
    void aSubmissionThatMayHaveReachedTheClusterKeepsTheMarkerWhatTheClusterListsOrNot(@TempDir Path dir)
            throws Exception {
        boolean[] has = {true};
        // the cluster's list of jobs (GET /jobs/overview), as Flink's REST API writes it: with this job, or another
        var mapper = org.apache.flink.runtime.rest.util.RestMapperUtils.getStrictObjectMapper();
        java.util.function.Function<JobID, String> overview = id -> {
            try {
                return mapper.writeValueAsString(new org.apache.flink.runtime.messages.webmonitor.MultipleJobsDetails(
                        java.util.List.of(new org.apache.flink.runtime.messages.webmonitor.JobDetails(id, "keyshift",
                                1L, -1L, 5L, org.apache.flink.api.common.JobStatus.RUNNING, 5L,
                                new int[org.apache.flink.runtime.execution.ExecutionState.values().length], 0))));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        JobID other = new JobID();
        com.sun.net.httpserver.HttpServer server = StubHttp.start("/", ex -> {
            String path = ex.getRequestURI().getPath();
            ex.getResponseHeaders().add("Content-Type", "application/json");
            if (path.endsWith("/jobs/overview")) {
                StubHttp.respond(ex, 200, overview.apply(has[0] ? ID : other));
            } else {
                StubHttp.respond(ex, 404, "{\"errors\":[\"Not found: " + path + "\"]}");
            }
        });
        try {
            int port = server.getAddress().getPort();
            Throwable cut = submission(new java.io.IOException("Connection reset by peer"));
            Outcome running = run(dir, "has-it", "remote", port, cut);
            assertThat(running.kept()).as(running.err()).isTrue();
            assertThat(running.out().resolve(".events.bin")).exists();
            assertThat(running.err()).contains("the cluster has job " + ID + " all the same")
                    .contains("remove " + running.out().resolve(KeyshiftJob.STARTED_MARKER));
            // the rerun into it is refused: the cluster runs the first job
            FailedSubmissionEnvironment.unset();
            assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--input", dir.resolve("trips.csv").toString(),
                    "--key", "station", "--time", "start", "--out", running.out().toString(),
                    "-Dexecution.checkpointing.interval=5s"}))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(KeyshiftJob.STARTED_MARKER);

            // a cluster that does not list the job: kept all the same (it can still be taking it: a jar uploaded to
            // blob storage for longer than a proxy waited), and said so
            has[0] = false;
            Outcome unlisted = run(dir, "not-listed", "remote", port, cut);
            assertThat(unlisted.kept()).as(unlisted.err()).isTrue();
            assertThat(unlisted.out().resolve(".events.bin")).exists();
            assertThat(unlisted.err()).contains("it does not list job " + ID + " yet");
            // "unavailable" to the last retry, a proxy's 504 or 408 (an earlier attempt may have got there), or
            // another 5xx (a Dispatcher slow to answer the REST handler, which runs the job all the same): alike
            for (RestClientException answer : new RestClientException[] {
                new RestClientException("[Service temporarily unavailable due to an ongoing leader election.]",
                        HttpResponseStatus.SERVICE_UNAVAILABLE),
                new RestClientException("[Gateway Timeout]", HttpResponseStatus.GATEWAY_TIMEOUT),
                new RestClientException("[Request Timeout]", HttpResponseStatus.REQUEST_TIMEOUT)}) {
                Outcome o = run(dir, "answer-" + answer.getHttpResponseStatus().code(), "remote", port,
                        submission(answer));
                assertThat(o.kept()).as(o.err()).isTrue();
            }
            has[0] = true;
            Outcome slow = run(dir, "slow-dispatcher", "remote", port, submission(new RestClientException(
                    "[Internal server error., <Exception on server side: java.util.concurrent.TimeoutException: "
                            + "Invocation of [RemoteRpcInvocation(DispatcherGateway.submitJob(...))] timed out>]",
                    HttpResponseStatus.INTERNAL_SERVER_ERROR)));
            assertThat(slow.kept()).as(slow.err()).isTrue();
            assertThat(slow.err()).contains("the cluster has job " + ID + " all the same");
        } finally {
            server.stop(0);
        }
        // no cluster answers the question: kept, and said so
        Outcome unknown = run(dir, "unknown", "remote", closedPort(),
                submission(new java.net.ConnectException("Connection refused")));
        assertThat(unknown.kept()).as(unknown.err()).isTrue();
        assertThat(unknown.err()).contains("whether it has job " + ID + " is unknown");
        // no REST leader found by a later retry under high availability (an earlier attempt may have got there
        // before the leader was lost): kept
        CLIENT_CONF.put("high-availability.type", "zookeeper");
        Outcome noLeader = run(dir, "no-leader-ha", "remote", closedPort(), submission(
                new java.util.concurrent.TimeoutException("Waiting for leader address of WebMonitorEndpoint timed "
                        + "out after 30000 ms.")));
        CLIENT_CONF.clear();
        assertThat(noLeader.kept()).as(noLeader.err()).isTrue();
        // a session target whose REST address is not the configuration's: not asked, kept
        Outcome yarn = run(dir, "yarn", "yarn-session", closedPort(),
                submission(new java.io.IOException("Connection reset by peer")));
        assertThat(yarn.kept()).as(yarn.err()).isTrue();
        // an earlier attempt got there (the retry was answered "already submitted"): kept without asking
        Outcome duplicate = run(dir, "duplicate", "remote", closedPort(), submission(new RestClientException(
                "[org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted.]",
                HttpResponseStatus.CONFLICT)));
        assertThat(duplicate.kept()).as(duplicate.err()).isTrue();
        // an unknown host on the last retry (Flink retries it: an earlier attempt may have got there): kept
        Outcome lookup = run(dir, "unknown-host", "remote", closedPort(),
                submission(new java.net.UnknownHostException("jobmanager.example")));
        assertThat(lookup.kept()).as(lookup.err()).isTrue();
        // one attempt only: a 5xx (a refusal or a Dispatcher that timed out taking it, which Flink answers alike) and
        // "already submitted" keep them, and the line speaks of no earlier attempt
        CLIENT_CONF.put("rest.retry.max-attempts", "0");
        for (RestClientException answer : new RestClientException[] {
            new RestClientException("[Internal server error., <Exception on server side: ...>]",
                    HttpResponseStatus.INTERNAL_SERVER_ERROR),
            new RestClientException("[org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has "
                    + "already been submitted.]", HttpResponseStatus.CONFLICT)}) {
            Outcome o = run(dir, "one-attempt-" + answer.getHttpResponseStatus().code(), "remote", closedPort(),
                    submission(answer));
            assertThat(o.kept()).as(o.err()).isTrue();
            assertThat(o.err()).doesNotContain("earlier attempt may");
        }
        CLIENT_CONF.clear();
        // the cluster answered the submission, and the wait for the job's start failed: kept
        Outcome answered = run(dir, "answered", "remote", closedPort(), new RuntimeException(
                "Error while waiting for job to be initialized", new java.util.concurrent.ExecutionException(
                        new FutureUtils.RetryException("exhausted", new java.net.ConnectException("refused")))));
        assertThat(answered.kept()).as(answered.err()).isTrue();
        // application mode: the in-process submission timed out
        Outcome embedded = run(dir, "embedded", "embedded", closedPort(), new java.util.concurrent.TimeoutException());
        assertThat(embedded.kept()).as(embedded.err()).isTrue();
    }

    @Test
    void aSubmissionThatSentNothingOrThatTheClusterRefusedOrFailedLeavesNothing(@TempDir Path dir)
            throws Exception {
        int closed = closedPort();
        // refused by the cluster where there was one attempt only (Flink's client retries otherwise)
        CLIENT_CONF.put("rest.retry.max-attempts", "0");
        Outcome refused = run(dir, "refused", "remote", closed, submission(new RestClientException("[Bad request "
                + "received.]", HttpResponseStatus.BAD_REQUEST)));
        Outcome unknownHost = run(dir, "unknown-host", "remote", closed,
                submission(new java.net.UnknownHostException("jobmanager.nowhere")));
        CLIENT_CONF.clear();
        assertThat(refused.kept()).as(refused.err()).isFalse();
        assertThat(unknownHost.kept()).as(unknownHost.err()).isFalse();
        Object[][] cases = {
            {"no-leader", "remote", submission(new java.util.concurrent.TimeoutException("Waiting for leader address of "
                    + "WebMonitorEndpoint timed out after 30000 ms.")), false},
            {"failed-as-it-started", "remote", new RuntimeException(new JobInitializationException(ID,
                    "Could not start the JobMaster.", new java.io.IOException("no file system for s3"))), false},
            {"not-sent", "yarn-session", new IllegalStateException("The Yarn application doesn't run anymore."), true},
            {"embedded-refused", "embedded", new RuntimeException("duplicate job id"), false},
            {"minicluster", "minicluster", submission(new java.io.IOException("Connection reset by peer")), false}};
        for (Object[] c : cases) {
            Outcome o = run(dir, (String) c[0], (String) c[1], closed, (Throwable) c[2], (Boolean) c[3]);
            assertThat(o.kept()).as("%s: %s", c[0], o.err()).isFalse();
            assertThat(o.out().resolve(".events.bin")).as("%s", c[0]).doesNotExist();
        }
    }

    /** A Kafka job's main under {@code flink run} alike (it was built on its own path, which never set it). */
    @Test
    void aKafkaJobsSubmissionWhoseAnswerDidNotComeKeepsTheMarker(@TempDir Path dir) throws Exception {
        Outcome o = run(dir, "kafka", "remote", closedPort(),
                submission(new java.io.IOException("Connection reset by peer")), false, "--kafka-topic", "trips",
                "--kafka-bootstrap-servers", "127.0.0.1:1", "--no-kafka-topic-check", "--columns", "station,start");
        assertThat(o.kept()).as(o.err()).isTrue();
    }

    /** The question asked of a real Flink cluster (a MiniCluster's REST API): a job it never had is not there. */
    @Test
    void aRealClusterAnswersThatItLacksAJobItNeverHad() throws Exception {
        Configuration c = new Configuration();
        c.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        c.set(RestOptions.ADDRESS, "127.0.0.1");
        c.set(RestOptions.PORT, 0);
        try (var cluster = new org.apache.flink.runtime.minicluster.MiniCluster(
                new org.apache.flink.runtime.minicluster.MiniClusterConfiguration.Builder().setConfiguration(c)
                        .setNumTaskManagers(1).setNumSlotsPerTaskManager(1).build())) {
            cluster.start();
            java.net.URI rest = cluster.getRestAddress().get();
            Configuration client = new Configuration();
            client.set(RestOptions.ADDRESS, rest.getHost());
            client.set(RestOptions.PORT, rest.getPort());
            assertThat(answered(client, new JobID())).isFalse();
            // ... and one it runs is
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.fromSequence(0, Long.MAX_VALUE).sinkTo(new org.apache.flink.streaming.api.functions.sink.v2
                    .DiscardingSink<>());
            org.apache.flink.runtime.jobgraph.JobGraph graph = env.getStreamGraph().getJobGraph();
            cluster.submitJob(graph).get();
            try {
                assertThat(answered(client, graph.getJobID())).isTrue();
            } finally {
                cluster.cancelJob(graph.getJobID()).get();
            }
        }
        // and no cluster there: unknown
        Configuration none = new Configuration();
        none.set(RestOptions.ADDRESS, "127.0.0.1");
        none.set(RestOptions.PORT, closedPort());
        assertThat(KeyshiftJob.clusterHasJob(none, new JobID())).isNull();
    }

    /** {@link KeyshiftJob#clusterHasJob}'s first answer other than null, asked every 250 ms up to 40 times. */
    private static Boolean answered(Configuration client, JobID id) throws InterruptedException {
        Boolean has = null;
        for (int i = 0; i < 40 && has == null; i++) {
            if (i > 0) {
                Thread.sleep(250);
            }
            has = KeyshiftJob.clusterHasJob(client, id);
        }
        return has;
    }
}
