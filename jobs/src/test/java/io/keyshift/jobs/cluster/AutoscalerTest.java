package io.keyshift.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import static io.keyshift.jobs.StubHttp.respond;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The autoscaler against a stand-in for Flink's REST API (127.0.0.1): which vertices get the decided parallelism, and
 * that the parallelism-1 vertices stay apart after a scale-in.
 */
class AutoscalerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private HttpServer server;
    private volatile double decided;
    /** Upper bounds of the two vertices: the parallel one ("routed") and the global one ("planner"). */
    private volatile int routedUpper = 4;
    /** Upper bound of keyshift's results path (a parallelism of its own); 0: the job has none. */
    private volatile int resultsUpper;
    /** Whether the job has keyshift's scaling stage (a vertex named {@code keyshift[job] scaling decisions}). */
    private volatile boolean scalingStage = true;
    private final List<JsonNode> puts = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        com.sun.net.httpserver.HttpHandler job = exchange -> {
            String path = exchange.getRequestURI().getPath();
            String query = exchange.getRequestURI().getQuery();
            String body;
            if (exchange.getRequestMethod().equals("PUT")) {
                JsonNode put = JSON.readTree(exchange.getRequestBody());
                synchronized (puts) {
                    puts.add(put);
                }
                routedUpper = put.path("routed").path("parallelism").path("upperBound").asInt();
                if (resultsUpper > 0) {
                    resultsUpper = put.path("results").path("parallelism").path("upperBound").asInt();
                }
                body = "{}";
            } else if (path.equals("/jobs/j") || path.equals("/jobs/" + SERVED)) {
                body = "{\"state\":\"RUNNING\",\"vertices\":[{\"id\":\"scaling\"" + (scalingStage
                        ? ",\"name\":\"keyshift[job] scaling decisions -> Sink: scaling\"" : "") + "}"
                        + (resultsUpper > 0 ? ",{\"id\":\"routed\",\"name\":\"Source: events -> keyshift[job] router"
                        + " -> keyshift[job] reports\"},{\"id\":\"results\",\"name\":\"keyshift[job] shadow validator"
                        + " -> Sink: validation\"},{\"id\":\"planner\",\"name\":\"keyshift[job] planner\"}" : "")
                        + "]}";
            } else if (path.endsWith("/subtasks/metrics") && !path.contains("/vertices/scaling/")) {
                body = "[]";
            } else if (path.endsWith("/subtasks/metrics") && query == null) {
                body = "[{\"id\":\"0.ScalingDecisions.keyshiftScalingParallelism\"}]";
            } else if (path.endsWith("/subtasks/metrics")) {
                body = "[{\"id\":\"0.ScalingDecisions.keyshiftScalingParallelism\",\"sum\":" + decided + "}]";
            } else if (path.endsWith("/resource-requirements")) {
                body = "{\"routed\":{\"parallelism\":{\"lowerBound\":1,\"upperBound\":" + routedUpper + "}},"
                        + (resultsUpper > 0 ? "\"results\":{\"parallelism\":{\"lowerBound\":1,\"upperBound\":"
                        + resultsUpper + "}}," : "")
                        + "\"planner\":{\"parallelism\":{\"lowerBound\":1,\"upperBound\":1}}}";
            } else {
                body = "{}";
            }
            respond(exchange, 200, body);
        };
        server.createContext("/jobs/j", job);
        server.createContext("/jobs/" + SERVED, job);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    /** What {@code bin/keyshift autoscale JOB} against the fake REST server ended with. */
    private record Autoscale(int exit, String err) {}

    private Autoscale autoscale(String job) {
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine cl = io.keyshift.jobs.cli.KeyshiftCli.commandLine();
        cl.setErr(new java.io.PrintWriter(err));
        int exit = cl.execute("autoscale", job, "--rest", "http://127.0.0.1:" + server.getAddress().getPort(),
                "--interval", "10ms");
        return new Autoscale(exit, err.toString());
    }

    /** A {@code GET /jobs/:jobid/resource-requirements} answer: every vertex at {@code [1, upper]}. */
    private static String requirements(java.util.Map<String, Integer> upper) {
        StringBuilder r = new StringBuilder("{");
        upper.forEach((id, u) -> r.append(r.length() > 1 ? "," : "").append("\"").append(id)
                .append("\":{\"parallelism\":{\"lowerBound\":1,\"upperBound\":").append(u).append("}}"));
        return r.append("}").toString();
    }

    /** Takes a PUT's upper bounds into {@code upper}. */
    private static void take(JsonNode put, java.util.Map<String, Integer> upper) {
        put.fields().forEachRemaining(e -> upper.put(e.getKey(),
                e.getValue().path("parallelism").path("upperBound").asInt()));
    }

    /** The REST API's /config, which the commands ask first (the address check). */
    private void serveFlinkVersion() {
        server.createContext("/config", exchange -> respond(exchange, 200, "{\"flink-version\":\"2.3.0\"}"));
    }

    private Autoscaler scaler() {
        return new Autoscaler(new FlinkRest("http://127.0.0.1:" + server.getAddress().getPort()), "j");
    }

    /** Job ids of the fake REST servers' jobs (a job id is 32 hexadecimal digits). */
    private static final String FIXED = "000000000000000000000000000f1ced";
    /** The job the server's default handler serves as "j" too, for the command (which takes an id). */
    private static final String SERVED = "0000000000000000000000000000000a";
    private static final String FLAKY = "000000000000000000000000000f1a4e";
    /** The vertex of a keyshift job's scaling stage, as {@code GET /jobs/:jobid} lists it. */
    private static final String SCALING_VERTEX =
            "{\"id\":\"scaling\",\"name\":\"keyshift[job] scaling decisions -> Sink: scaling\"}";

    @Test
    /**
     * A cluster on Flink's default scheduler answers the resource requirements with HTTP 500 ("does not support
     * changing the parallelism"): the command ends at once, in one line that says to start the cluster with the
     * adaptive scheduler (it retried 30 times over five minutes and never said why).
     */
    void aClusterWithoutTheAdaptiveSchedulerEndsTheCommandAtOnceSayingSo() throws Exception {
        java.util.concurrent.atomic.AtomicInteger requirements = new java.util.concurrent.atomic.AtomicInteger();
        server.createContext("/jobs/" + FIXED, exchange -> {
            String path = exchange.getRequestURI().getPath();
            String body;
            int status = 200;
            if (path.endsWith("/resource-requirements")) {
                requirements.incrementAndGet();
                status = 500;
                body = "{\"errors\":[\"Internal server error.\",\"<Exception on server side:\\n"
                        + "java.util.concurrent.CompletionException: java.lang.UnsupportedOperationException: The "
                        + "DefaultScheduler does not support changing the parallelism without a job restart. This "
                        + "feature is currently only expected to work with the AdaptiveScheduler.\\n\\tat x.y(Z.java:1)"
                        + "\\n\\nEnd of exception on server side>\"]}";
            } else if (path.endsWith("/subtasks/metrics")) {
                body = exchange.getRequestURI().getQuery() == null
                        ? "[{\"id\":\"0.ScalingDecisions.keyshiftScalingParallelism\"}]"
                        : "[{\"id\":\"0.ScalingDecisions.keyshiftScalingParallelism\",\"sum\":4}]";
            } else {
                body = "{\"state\":\"RUNNING\",\"vertices\":[" + SCALING_VERTEX + "]}";
            }
            respond(exchange, status, body);
        });
        serveFlinkVersion();
        Autoscale r = autoscale(FIXED);
        // a job it cannot scale: exit 2, as --help says (it was 1)
        assertThat(r.exit()).isEqualTo(2);
        assertThat(requirements.get()).as("asked once, not retried").isOne();
        assertThat(r.err()).contains("jobmanager.scheduler=adaptive")
                .contains("DefaultScheduler does not support changing the parallelism");
        assertThat(r.err().strip().lines()).hasSize(1);
    }

    /**
     * {@code bin/keyshift autoscale}: once the job was seen, REST errors (a JobManager failover, a recovering job) are
     * retried, and the command goes on until the job ends (it exited 1 at the first one, leaving the job unscaled); an
     * error before the job was ever seen (a wrong id or address) still ends it at once.
     */
    @Test
    void theAutoscaleCommandRetriesRestErrorsOnceTheJobWasSeen() throws Exception {
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        server.createContext("/jobs/" + FLAKY, exchange -> {
            int n = calls.incrementAndGet();
            // the first poll sees the job RUNNING (no metric yet), then three polls fail, then it has finished
            String body = n == 1 ? "{\"state\":\"RUNNING\",\"vertices\":[" + SCALING_VERTEX + "]}" : n <= 4 ? null
                    : "{\"state\":\"FINISHED\",\"vertices\":[]}";
            if (body == null) {
                exchange.sendResponseHeaders(503, -1);
                exchange.close();
                return;
            }
            if (exchange.getRequestURI().getPath().endsWith("/subtasks/metrics")) {
                body = "[]";
            } else if (exchange.getRequestURI().getPath().endsWith("/resource-requirements")) {
                body = "{}";
            }
            respond(exchange, 200, body);
        });
        serveFlinkVersion();
        Autoscale seen = autoscale(FLAKY);
        assertThat(seen.exit()).as(seen.err()).isZero();
        assertThat(calls.get()).isGreaterThanOrEqualTo(5);
        // never seen: the first error ends it, exit 1
        calls.set(1);
        assertThat(autoscale(FLAKY).exit()).isEqualTo(1);
    }

    /** A job that failed or was canceled ends the command with exit 1 and one line (it exited 0, as a finished one). */
    @Test
    void aJobThatFailedEndsTheCommandWithExitOne() throws Exception {
        String failed = "0000000000000000000000000000fa11";
        server.createContext("/jobs/" + failed, exchange -> {
            respond(exchange, 200, exchange.getRequestURI().getPath().endsWith("/subtasks/metrics") ? "[]"
                    : exchange.getRequestURI().getPath().endsWith("/exceptions") ? "{}"
                    : "{\"state\":\"FAILED\",\"vertices\":[]}");
        });
        serveFlinkVersion();
        Autoscale r = autoscale(failed);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("keyshift autoscale: job " + failed + " is FAILED").hasLineCount(1);
        // its cause unreadable (the JobManager gone after the job failed): the state alone, still one line
        String gone = "0000000000000000000000000000fa12";
        server.createContext("/jobs/" + gone, exchange -> {
            String path = exchange.getRequestURI().getPath();
            respond(exchange, path.endsWith("/exceptions") ? 500 : 200,
                    path.endsWith("/subtasks/metrics") ? "[]" : "{\"state\":\"FAILED\",\"vertices\":[]}");
        });
        Autoscale r2 = autoscale(gone);
        assertThat(r2.exit()).isEqualTo(1);
        assertThat(r2.err()).contains("keyshift autoscale: job " + gone + " is FAILED").hasLineCount(1);
    }

    @Test
    void aScaleInToOneKeepsTheParallelVerticesAtTwoSoThatALaterScaleOutLeavesTheGlobalOnesAlone() throws Exception {
        decided = 1;
        Autoscaler.Step in = scaler().step();
        assertThat(in.applied()).isTrue();
        assertThat(routedUpper).isEqualTo(2);
        assertThat(in.message()).contains("decided 1");
        decided = 3;
        Autoscaler.Step out = scaler().step();
        assertThat(out.applied()).isTrue();
        assertThat(puts).hasSize(2);
        for (JsonNode put : puts) {
            assertThat(put.path("planner").path("parallelism").path("upperBound").asInt()).isEqualTo(1);
        }
        assertThat(puts.get(1).path("routed").path("parallelism").path("upperBound").asInt()).isEqualTo(3);
        // at the decided parallelism nothing is requested
        assertThat(scaler().step().applied()).isFalse();
        decided = 1;
        scaler().step();
        assertThat(scaler().step().applied()).as("1 is applied as 2, and 2 is where it is").isFalse();
    }

    /**
     * A job submitted at 24 with its results path at 3 (ceil(24 / 8)), decided 2: one request takes the parallel
     * vertices to 2 and leaves the results path alone; the next step, and a step of an autoscaler started anew (a
     * restarted command), find the decided parallelism in force (the results path's 3 was the largest bound, taken
     * for the parallel vertices': a second request and restart for one decision); later decisions leave it alone too.
     */
    @Test
    void theResultsPathIsNotTakenForAParallelVertex() throws Exception {
        routedUpper = 24;
        resultsUpper = 3;
        decided = 2;
        Autoscaler scaler = scaler();
        assertThat(scaler.step().applied()).isTrue();
        assertThat(routedUpper).isEqualTo(2);
        assertThat(resultsUpper).isEqualTo(3);
        assertThat(scaler.step().applied()).isFalse();
        assertThat(scaler().step().applied()).as("a new autoscaler").isFalse();
        assertThat(puts).hasSize(1);
        decided = 3;
        assertThat(scaler().step().applied()).isTrue();
        decided = 5;
        assertThat(scaler().step().applied()).isTrue();
        assertThat(routedUpper).isEqualTo(5);
        assertThat(resultsUpper).as("at the routers' 3 before, still the results path's own").isEqualTo(3);
        for (JsonNode put : puts) {
            assertThat(put.path("planner").path("parallelism").path("upperBound").asInt()).isEqualTo(1);
        }
    }

    /**
     * A job restored from a checkpoint taken before the decision autoscale applied (its decisions set back to an
     * earlier window) is left alone until it decides past that window: its earlier decision undid the rescale, and the
     * same window decided again redid it, a restart each.
     */
    @Test
    void aDecisionRestoredToBeforeTheOneAppliedIsNotApplied() throws Exception {
        java.util.Map<String, Integer> upper = new java.util.concurrent.ConcurrentHashMap<>(
                java.util.Map.of("routed", 2, "planner", 1));
        double[] gauges = {10, 4};
        serveGauges("back", upper, gauges, () -> { });
        Autoscaler scaler = new Autoscaler(new FlinkRest("http://127.0.0.1:" + server.getAddress().getPort()), "back");
        assertThat(scaler.step().applied()).isTrue();
        assertThat(upper).containsEntry("routed", 4);
        // restored to window end 5, whose decision was 2
        assertARestoreToWindowFiveIsLeftAlone(scaler, gauges, upper);
        // decided past it: applied again
        gauges[0] = 13;
        gauges[1] = 3;
        assertThat(scaler.step().applied()).isTrue();
        assertThat(upper).containsEntry("routed", 3).containsEntry("planner", 1);
    }

    /**
     * A job {@code id} whose scaling stage's gauges are {@code gauges} (decided up to, parallelism) and whose vertices'
     * upper bounds are {@code upper} (PUTs update them); {@code afterGaugeRead} runs after each gauge is answered.
     */
    private void serveGauges(String id, java.util.Map<String, Integer> upper, double[] gauges,
                             Runnable afterGaugeRead) {
        server.createContext("/jobs/" + id, exchange -> {
            String path = exchange.getRequestURI().getPath();
            String query = exchange.getRequestURI().getQuery();
            String body;
            if (exchange.getRequestMethod().equals("PUT")) {
                take(JSON.readTree(exchange.getRequestBody()), upper);
                body = "{}";
            } else if (path.equals("/jobs/" + id)) {
                body = "{\"state\":\"RUNNING\",\"vertices\":[" + SCALING_VERTEX + ",{\"id\":\"routed\","
                        + "\"name\":\"Source: e -> keyshift[job] router\"},{\"id\":\"planner\",\"name\":\"p\"}]}";
            } else if (path.endsWith("/subtasks/metrics") && !path.contains("/vertices/scaling/")) {
                body = "[]";
            } else if (path.endsWith("/subtasks/metrics") && query == null) {
                body = "[{\"id\":\"0.ScalingDecisions.keyshiftScalingParallelism\"},"
                        + "{\"id\":\"0.ScalingDecisions.keyshiftScalingDecidedUpTo\"}]";
            } else if (path.endsWith("/subtasks/metrics")) {
                boolean upTo = query.contains("DecidedUpTo");
                body = "[{\"id\":\"0.ScalingDecisions." + (upTo ? "keyshiftScalingDecidedUpTo"
                        : "keyshiftScalingParallelism") + "\",\"sum\":" + (upTo ? gauges[0] : gauges[1]) + "}]";
                respond(exchange, 200, body);
                afterGaugeRead.run();
                return;
            } else if (path.endsWith("/resource-requirements")) {
                body = requirements(upper);
            } else {
                body = "{}";
            }
            respond(exchange, 200, body);
        });
    }

    /**
     * Sets the gauges to a job restored to window end 5, whose decision was 2, and asserts that a step leaves the
     * applied 4 alone, saying why.
     */
    private static void assertARestoreToWindowFiveIsLeftAlone(Autoscaler scaler, double[] gauges,
                                                              java.util.Map<String, Integer> upper) throws Exception {
        gauges[0] = 5;
        gauges[1] = 2;
        Autoscaler.Step restored = scaler.step();
        assertThat(restored.applied()).as(restored.message()).isFalse();
        assertThat(restored.message()).contains("restored to window end");
        assertThat(upper).containsEntry("routed", 4);
    }

    /**
     * Flink's REST API answers a metrics request from its store and refreshes the store behind it: the two gauges of
     * one step can come from two refreshes. The decision is read before the window it was decided up to, so the window
     * recorded as applied is never earlier than the decision's: with the other order, window 5 was recorded for window
     * 6's decision, and a restore to the checkpoint after window 5 (decision 2) was taken for a new decision and undid
     * the rescale (and window 6 decided again redid it, a restart each).
     */
    @Test
    void aDecisionReadFromAFresherStoreThanItsWindowIsNotUndoneByARestore() throws Exception {
        java.util.Map<String, Integer> upper = new java.util.concurrent.ConcurrentHashMap<>(
                java.util.Map.of("routed", 2, "planner", 1));
        double[] gauges = {5, 2};
        java.util.concurrent.atomic.AtomicBoolean refreshPending = new java.util.concurrent.atomic.AtomicBoolean(true);
        serveGauges("fresher", upper, gauges, () -> {
            if (refreshPending.getAndSet(false)) {
                // window 6 decided 4: the store refreshes after the step's first gauge
                gauges[0] = 6;
                gauges[1] = 4;
            }
        });
        Autoscaler scaler = new Autoscaler(new FlinkRest("http://127.0.0.1:" + server.getAddress().getPort()),
                "fresher");
        scaler.step();
        if (upper.get("routed") == 2) {
            // the old decision was read (2, the parallelism it runs at): the next step reads the new one
            assertThat(scaler.step().applied()).isTrue();
        }
        assertThat(upper).containsEntry("routed", 4);
        // the rescale restores the checkpoint after window 5, whose decision was 2
        assertARestoreToWindowFiveIsLeftAlone(scaler, gauges, upper);
    }

    /**
     * A job of two keyshift stages, one that scales (prefix a, at 2) and one that does not (b, at 4): the decision
     * rescales stage a's vertices and leaves b's (all routers were taken for the parallel vertices' anchor: b's 4 was
     * "current", its vertices were set to a's decision and a's stayed). Two scaling stages are left alone, saying so.
     */
    @Test
    void onlyTheScalingStagesRoutersAnchorTheParallelVertices() throws Exception {
        java.util.Map<String, Integer> upper = new java.util.concurrent.ConcurrentHashMap<>(
                java.util.Map.of("ra", 2, "rb", 4, "planner", 1));
        java.util.concurrent.atomic.AtomicReference<String[]> names = new java.util.concurrent.atomic.AtomicReference<>(
                new String[] {"keyshift[a] scaling decisions -> Sink: scaling"});
        server.createContext("/jobs/two", exchange -> {
            String path = exchange.getRequestURI().getPath();
            String body;
            if (exchange.getRequestMethod().equals("PUT")) {
                take(JSON.readTree(exchange.getRequestBody()), upper);
                body = "{}";
            } else if (path.equals("/jobs/two")) {
                StringBuilder v = new StringBuilder("{\"state\":\"RUNNING\",\"vertices\":[");
                String[] scalingNames = names.get();
                for (int i = 0; i < scalingNames.length; i++) {
                    v.append("{\"id\":\"scaling").append(i).append("\",\"name\":\"").append(scalingNames[i])
                            .append("\"},");
                }
                body = v + "{\"id\":\"ra\",\"name\":\"Source: a -> keyshift[a] router\"},"
                        + "{\"id\":\"rb\",\"name\":\"Source: b -> keyshift[b] router\"},"
                        + "{\"id\":\"planner\",\"name\":\"keyshift[a] planner\"}]}";
            } else if (path.endsWith("/subtasks/metrics") && !path.contains("/vertices/scaling0/")) {
                body = "[]";
            } else if (path.endsWith("/subtasks/metrics") && exchange.getRequestURI().getQuery() == null) {
                body = "[{\"id\":\"0.ScalingDecisions.keyshiftScalingParallelism\"}]";
            } else if (path.endsWith("/subtasks/metrics")) {
                body = "[{\"id\":\"0.ScalingDecisions.keyshiftScalingParallelism\",\"sum\":3}]";
            } else if (path.endsWith("/resource-requirements")) {
                body = requirements(upper);
            } else {
                body = "{}";
            }
            respond(exchange, 200, body);
        });
        Autoscaler scaler = new Autoscaler(new FlinkRest("http://127.0.0.1:" + server.getAddress().getPort()), "two");
        Autoscaler.Step step = scaler.step();
        assertThat(step.applied()).as(step.message()).isTrue();
        assertThat(upper).containsEntry("ra", 3).containsEntry("rb", 4).containsEntry("planner", 1);
        assertThat(scaler.step().applied()).as("in force").isFalse();
        names.set(new String[] {"keyshift[a] scaling decisions -> Sink: a", "keyshift[b] scaling decisions"});
        Autoscaler.Step two = scaler.step();
        assertThat(two.applied()).isFalse();
        assertThat(two.cannotAct()).isTrue();
        assertThat(two.message()).contains("several keyshift scaling stages (a, b)");
    }

    /**
     * The names the autoscaler tells vertices apart by are the ones a keyshift job's vertices have: at 24, the
     * routers' vertex runs at 24, the results path's (shadow validator, split merger) at ceil(24 / 8) = 3 and holds
     * no router.
     */
    @Test
    void theNamesItGoesByAreTheOnesAKeyshiftJobsVerticesHave() {
        org.apache.flink.configuration.Configuration c = new org.apache.flink.configuration.Configuration();
        c.set(io.keyshift.config.PlanOptions.SPLIT_THRESHOLD, 0.5);
        c.set(io.keyshift.config.ScalingOptions.CAPACITY, 100.0);
        var env = org.apache.flink.streaming.api.environment.StreamExecutionEnvironment.createLocalEnvironment(24, c);
        env.setMaxParallelism(128);
        var events = env.fromSequence(0, 99)
                .map(i -> new io.keyshift.jobs.event.Event(i * 1000, "k" + (i % 7), 1, i))
                .returns(io.keyshift.jobs.event.Event.class)
                .assignTimestampsAndWatermarks(org.apache.flink.api.common.eventtime.WatermarkStrategy
                        .<io.keyshift.jobs.event.Event>forMonotonousTimestamps().withTimestampAssigner((e, t) -> e.timestamp));
        io.keyshift.jobs.replay.Workload.build(events, io.keyshift.jobs.replay.Strategy.PREDICTIVE, c, 24).results()
                .sinkTo(new org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink<>());
        List<org.apache.flink.runtime.jobgraph.JobVertex> vertices = new ArrayList<>();
        env.getStreamGraph().getJobGraph().getVertices().forEach(vertices::add);
        assertThat(vertices).filteredOn(v -> v.getName().contains(Autoscaler.ROUTER)).isNotEmpty()
                .allSatisfy(v -> assertThat(v.getParallelism()).isEqualTo(24));
        assertThat(vertices).filteredOn(v -> v.getName().contains(Autoscaler.SCALING)).hasSize(1);
        for (String results : Autoscaler.RESULTS_PATH.subList(0, 2)) {
            assertThat(vertices).filteredOn(v -> v.getName().contains(results)).as(results).isNotEmpty()
                    .allSatisfy(v -> assertThat(v.getParallelism()).isEqualTo(3))
                    .allSatisfy(v -> assertThat(v.getName()).doesNotContain(Autoscaler.ROUTER));
        }
    }

    /** A job at parallelism 1 (every vertex's upper bound 1) is left alone: nothing tells its vertices apart. */
    @Test
    void aJobAtParallelismOneIsLeftAloneWithTheReason() throws Exception {
        routedUpper = 1;
        decided = 3;
        Autoscaler.Step s = scaler().step();
        assertThat(s.applied()).isFalse();
        assertThat(s.message()).contains("parallelism of at least 2");
        assertThat(s.cannotAct()).isTrue();
        assertThat(puts).isEmpty();
        // the command says so once and ends with exit 2, instead of printing it every interval while the job runs
        serveFlinkVersion();
        Autoscale run = autoscale(SERVED);
        assertThat(run.exit()).as(run.err()).isEqualTo(2);
        assertThat(run.err()).contains("the job runs at parallelism 1").contains("at least 2");
        assertThat(puts).isEmpty();
    }

    /**
     * A job submitted without keyshift's scaling stage: the command says so once and ends with exit 2 (it printed "no
     * metric yet" every interval until the job ended, then exited 0).
     */
    @Test
    void aJobWithoutAScalingStageEndsTheCommandWithExitTwo() throws Exception {
        scalingStage = false;
        decided = 3;
        Autoscaler.Step s = scaler().step();
        assertThat(s.applied()).isFalse();
        assertThat(s.cannotAct()).isTrue();
        assertThat(s.message()).contains("no keyshift scaling stage").contains("keyshift.scaling.capacity");
        serveFlinkVersion();
        Autoscale run = autoscale(SERVED);
        assertThat(run.exit()).as(run.err()).isEqualTo(2);
        assertThat(run.err()).contains("no keyshift scaling stage");
        assertThat(puts).isEmpty();
    }
}
