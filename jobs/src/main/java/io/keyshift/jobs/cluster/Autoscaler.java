package io.keyshift.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.Iterator;
import java.util.Map;

/**
 * Applies keyshift's scaling decisions to a running job through Flink's REST API, outside the dataflow. Needs a
 * cluster with {@code jobmanager.scheduler: adaptive} (the adaptive scheduler rescales a running job when its
 * resource requirements change) and a job with {@code keyshift.scaling.capacity} set.
 *
 * <p>One {@link #step}: read the gauge {@code keyshiftScalingParallelism} of the job's ScalingDecisions operator (the
 * parallelism the actuated policy, {@code keyshift.scaling.policy}, has decided), read
 * {@code GET /jobs/:jobid/resource-requirements}, and if the decided parallelism differs from the current upper
 * bound of the job's parallel vertices, {@code PUT} new requirements: those vertices get {@code [1, decided]}, the
 * global ones (parallelism-1 profiler, forecaster, planner, scaling, plan sinks) and keyshift's results path (shadow
 * validator, split merger, mismatch reverts, at a parallelism of their own) keep theirs. The parallel vertices are
 * those at the upper bound of the vertices that hold the router of the stage that scales (found by the operator name
 * {@code keyshift[<prefix>] router}, the prefix of its {@code keyshift[<prefix>] scaling decisions}, in {@code GET
 * /jobs/:jobid}; a job without one: the largest upper bound in the job; a job with several scaling stages is left
 * alone, saying so),
 * so the job must have been submitted with a parallelism of at least 2, and a decision below 2 is applied as 2 (at 1
 * the parallel vertices could no longer be told from the global ones, and the next scale-out would make those
 * parallel).
 */
public final class Autoscaler {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The least upper bound the parallel vertices get: above the global vertices' 1, so that they stay apart. */
    static final int MIN_PARALLEL = 2;

    /** What one step saw and did. */
    public record Step(String state, int current, int decided, boolean applied, String message) {
        /** Whether no later step can act either: the job runs at parallelism 1 (autoscale never sets that). */
        public boolean cannotAct() {
            return message.startsWith(PARALLELISM_ONE) || message.startsWith(NO_SCALING_STAGE)
                    || message.startsWith(SEVERAL_SCALING_STAGES);
        }
    }

    private static final String SEVERAL_SCALING_STAGES = "the job has several keyshift scaling stages";

    private static final String PARALLELISM_ONE = "the job runs at parallelism ";
    private static final String NO_SCALING_STAGE = "the job has no keyshift scaling stage";

    /** What the name of keyshift's scaling operator's vertex holds ({@code keyshift[<uid prefix>] scaling decisions}). */
    static final String SCALING = "] scaling decisions";

    /** What keyshift's router operator's name holds ({@code keyshift[<uid prefix>] router}). */
    static final String ROUTER = "] router";
    /** What the names of keyshift's results path operators hold. */
    static final java.util.List<String> RESULTS_PATH = java.util.List.of("] shadow validator", "] split merger",
            "] mismatch reverts");

    private final FlinkRest api;
    private final String jobId;
    /**
     * The window end (epoch ms) the decisions had reached when this autoscaler last applied one ({@link
     * io.keyshift.metrics.KeyshiftMetrics#SCALING_DECIDED_UP_TO}); a job restored to before it is left alone until
     * it decides past it again. Negative infinity before the first.
     */
    private double appliedUpTo = Double.NEGATIVE_INFINITY;
    private boolean seen;

    /** Whether a step has read the job's state (a later REST error is then not a wrong job id or address). */
    public boolean seen() {
        return seen;
    }

    public Autoscaler(FlinkRest api, String jobId) {
        this.api = api;
        this.jobId = jobId;
    }

    /** One step: reads the decision and applies it if it differs from the job's requirements. */
    public Step step() throws IOException, InterruptedException {
        JsonNode job = api.job(jobId);
        String state = job.path("state").asText();
        seen |= !state.isEmpty();
        if (!"RUNNING".equals(state)) {
            return new Step(state, -1, -1, false, "job is " + state);
        }
        // a job without keyshift's scaling stage (no keyshift.scaling.capacity) never reports a decision: said at
        // once, instead of "no metric yet" every interval until the job ends and an exit 0
        // the stages that scale, by uid prefix (keyshift[<prefix>] scaling decisions): only their routers anchor the
        // parallel vertices (another stage's routers, at another parallelism, were taken for them and rescaled)
        java.util.Set<String> scalingPrefixes = new java.util.TreeSet<>();
        for (JsonNode v : job.path("vertices")) {
            String name = v.path("name").asText();
            int at = name.indexOf(SCALING);
            int open = at < 0 ? -1 : name.lastIndexOf("keyshift[", at);
            if (open >= 0) {
                scalingPrefixes.add(name.substring(open + "keyshift[".length(), at));
            }
        }
        if (scalingPrefixes.size() > 1) {
            // their decisions are summed into one metric, and each would rescale the other's vertices
            return new Step(state, -1, -1, false, SEVERAL_SCALING_STAGES + " (" + String.join(", ", scalingPrefixes)
                    + "): autoscale "
                    + "follows one; set keyshift.scaling.capacity on one stage only");
        }
        boolean scalingStage = !scalingPrefixes.isEmpty();
        String router = scalingStage ? "keyshift[" + scalingPrefixes.iterator().next() + ROUTER : ROUTER;
        if (!scalingStage) {
            return new Step(state, -1, -1, false, NO_SCALING_STAGE + " (no vertex named keyshift[...] scaling "
                    + "decisions): submit it with a keyshift strategy (predictive or reactive) and keyshift.scaling.capacity set");
        }
        // the decision first, then the window it was decided up to: Flink's REST API answers from a metric store it
        // refreshes behind the requests, so the two can come from two refreshes, and the window then read is the
        // decision's or a later one. Read the other way round, window 5 was recorded for window 6's decision, and a
        // restore to the checkpoint after window 5 was taken for a new decision, undoing the rescale (a later window
        // recorded is harmless: a job restored at or after it runs the applied parallelism)
        double decided = api.operatorMetricSum(jobId, io.keyshift.metrics.KeyshiftMetrics.SCALING_PARALLELISM);
        double upTo = api.operatorMetricSum(jobId, io.keyshift.metrics.KeyshiftMetrics.SCALING_DECIDED_UP_TO);
        JsonNode req;
        try {
            req = api.get("/jobs/" + jobId + "/resource-requirements");
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("does not support changing the parallelism")) {
                // Flink's default scheduler: no retry makes it able to (a passing REST error is retried)
                throw new IllegalStateException("the cluster's scheduler cannot change a running job's parallelism; "
                        + "start the cluster with -D jobmanager.scheduler=adaptive (" + e.getMessage() + ")");
            }
            throw e;
        }
        // The routers' vertices anchor the parallel ones: the results path, at a parallelism of its own (ceil(p / 8)
        // by default), can be above a decision, and taken for the largest bound it was scaled as a parallel vertex,
        // a second request and restart for one decision.
        java.util.Set<String> routers = new java.util.HashSet<>();
        java.util.Set<String> resultsPath = new java.util.HashSet<>();
        for (JsonNode v : job.path("vertices")) {
            String name = v.path("name").asText();
            if (name.contains(router)) {
                routers.add(v.path("id").asText());
            } else if (RESULTS_PATH.stream().anyMatch(name::contains)) {
                resultsPath.add(v.path("id").asText());
            }
        }
        int current = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = req.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> v = it.next();
            if (routers.isEmpty() || routers.contains(v.getKey())) {
                current = Math.max(current, v.getValue().path("parallelism").path("upperBound").asInt());
            }
        }
        if (current >= 1 && current < MIN_PARALLEL) {
            // every vertex at 1: the parallel ones cannot be told from the global ones, and a request would make
            // the profiler, forecaster and planner parallel too (see cannotAct)
            return new Step(state, current, Double.isNaN(decided) ? -1 : (int) Math.round(decided), false,
                    PARALLELISM_ONE + current + ": its parallel vertices cannot be told from the parallelism-1 ones; "
                    + "submit it with a parallelism of at least " + MIN_PARALLEL);
        }
        if (Double.isNaN(decided)) {
            return new Step(state, current, -1, false, "no keyshiftScalingParallelism metric yet (metrics reach "
                    + "the REST API every few seconds)");
        }
        int target = (int) Math.round(decided);
        if (target < 1) {
            return new Step(state, current, target, false, "no parallelism decided yet");
        }
        // The parallel vertices are told from the parallelism-1 ones by their larger upper bound: at 1 they could no
        // longer be, and a later scale-out would make the profiler, forecaster and planner parallel.
        String floor = "";
        if (target < MIN_PARALLEL) {
            floor = " (decided " + target + "; the parallel vertices keep at least " + MIN_PARALLEL + ")";
            target = MIN_PARALLEL;
        }
        if (target == current) {
            return new Step(state, current, target, false, "parallelism " + current + " is the decided one" + floor);
        }
        if (!Double.isNaN(upTo) && upTo < appliedUpTo) {
            // restored from a checkpoint taken before the decision this autoscaler applied (a failure, or the
            // rescale's own restore from a checkpoint that completed after the request): its earlier decision would
            // undo the rescale, and the same window decided again would redo it, a restart each
            return new Step(state, current, target, false, "the job's decisions were restored to "
                    + (upTo <= Long.MIN_VALUE ? "before the first decision" : "window end "
                    + java.time.Instant.ofEpochMilli((long) upTo)) + ", before the decision applied at window end "
                    + java.time.Instant.ofEpochMilli((long) appliedUpTo) + ": waiting until it decides past it");
        }
        ObjectNode body = JSON.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = req.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> v = it.next();
            JsonNode p = v.getValue().path("parallelism");
            ObjectNode bounds = body.putObject(v.getKey()).putObject("parallelism");
            if (p.path("upperBound").asInt() == current && !resultsPath.contains(v.getKey())) {
                bounds.put("lowerBound", 1);
                bounds.put("upperBound", target);
            } else {
                bounds.put("lowerBound", p.path("lowerBound").asInt());
                bounds.put("upperBound", p.path("upperBound").asInt());
            }
        }
        api.put("/jobs/" + jobId + "/resource-requirements", body);
        if (!Double.isNaN(upTo)) {
            appliedUpTo = upTo;
        }
        return new Step(state, current, target, true, "requested parallelism " + current + " -> " + target + floor);
    }

    /** The parallelism the job's vertices run at now (largest over vertices), from {@code GET /jobs/:jobid}. */
    public int runningParallelism() throws IOException, InterruptedException {
        int p = 0;
        for (JsonNode v : api.job(jobId).path("vertices")) {
            p = Math.max(p, v.path("parallelism").asInt());
        }
        return p;
    }
}
