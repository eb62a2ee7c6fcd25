package io.keyshift.jobs.replay;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.avro.ValidationReport;
import io.keyshift.jobs.event.Event;
import io.keyshift.jobs.source.EventSpace;
import io.keyshift.jobs.source.StridedSource;
import io.keyshift.jobs.source.WindowBoundaryWatermarks;

import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * One replay job for one strategy: a {@link StridedSource} over the prepared events, the strategy's dataflow
 * ({@link Workload}: keyshift's public API, or a plain keyBy for hash), and exactly-once file sinks (committed on
 * checkpoints) for everything the report reads, under {@code runDir}:
 * <ul>
 *   <li>{@code results/}: authoritative results, {@code key,windowStart,windowEnd,count[,sum]}</li>
 *   <li>{@code window-results/}: records processed per window and subtask, {@code windowStart,subtask,count,role,-1,key}
 *       (hash: per key from its results; keyshift: per subtask from the stage's loads, primary and shadow copies)</li>
 *   <li>{@code plans/}: every RoutingPlan version, Avro JSON, one per line</li>
 *   <li>{@code forecasts/}: per window {@code windowEnd,absoluteErrorSum,naiveErrorSum,seasonalAbsoluteErrorSum,seasonalNaiveErrorSum,anomalies}</li>
 *   <li>{@code forecast-units/}: per window and hot key {@code windowEnd,observed,forecast,lower,upper,key} (+1 window)</li>
 *   <li>{@code validation/}: {@code outcome,key,windowStart,windowEnd,primaryKeyGroup,shadowKeyGroup}</li>
 *   <li>{@code scaling/} (with {@code keyshift.scaling.capacity}): the scaling decisions, see {@link #scalingCsv}</li>
 * </ul>
 */
public final class ReplayJob {
    private ReplayJob() {}

    /** Adds the job to {@code env} (whose parallelism and max parallelism must be set). */
    public static void build(StreamExecutionEnvironment env, EventSpace space, Strategy strategy, ReadableConfig config,
                             java.nio.file.Path runDir, boolean withSum, double recordsPerSecond, String progressId) {
        build(env, space, strategy, config, runDir, withSum, recordsPerSecond, progressId, null);
    }

    /**
     * As {@link #build(StreamExecutionEnvironment, EventSpace, Strategy, ReadableConfig, java.nio.file.Path, boolean,
     * double, String)}, with outputs going to {@code topics} (the cluster job's Kafka topics) if it is not null.
     */
    public static void build(StreamExecutionEnvironment env, EventSpace space, Strategy strategy, ReadableConfig config,
                             java.nio.file.Path runDir, boolean withSum, double recordsPerSecond, String progressId,
                             Topics topics) {
        build(env, space, strategy, config, runDir, withSum, recordsPerSecond, progressId, topics, false);
    }

    /**
     * As {@link #build(StreamExecutionEnvironment, EventSpace, Strategy, ReadableConfig, java.nio.file.Path, boolean,
     * double, String, Topics)}; with {@code rescaled} (a cluster job that autoscale may rescale: {@code
     * keyshift.scaling.capacity} set) the source has a split for every reader up to {@code
     * keyshift.scaling.max-parallelism} where it is set: with one split per submitted subtask, the readers a scale-out
     * added found no split and ended at once, their routers with them.
     */
    public static void build(StreamExecutionEnvironment env, EventSpace space, Strategy strategy, ReadableConfig config,
                             java.nio.file.Path runDir, boolean withSum, double recordsPerSecond, String progressId,
                             Topics topics, boolean rescaled) {
        int p = env.getParallelism();
        String gate = config.getOptional(ReplayScalingGate.GATE_OPTION).orElse(null);
        // a scaled replay keeps enough splits for every reader at the largest parallelism it may reach
        // (only up to keyshift.scaling.max-parallelism where it is set: each split reads the file's events from its
        // start, skipping the others', so splits up to the max parallelism, 128 by default, read a file input as
        // many times over)
        int reach = config.get(io.keyshift.config.ScalingOptions.MAX_PARALLELISM);
        int splits = gate == null && !rescaled ? p : Math.max(p, reach);
        DataStream<Event> events = env
                .fromSource(new StridedSource(space, splits, recordsPerSecond, progressId).withGate(gate),
                        // at full speed a window of event time passes in milliseconds: a watermark at each
                        // window boundary, not only every auto-watermark interval, keeps the plans in step
                        WindowBoundaryWatermarks.strategy(config.get(io.keyshift.config.JobOptions.WINDOW)),
                        "replay source")
                .uid(SOURCE_UID)
                .setParallelism(p);
        attach(events, strategy, config, runDir, withSum, p, topics);
    }

    /**
     * Adds the workload and its outputs to {@code events} (any source: the replay's, a Kafka topic's): results, plans,
     * forecasts, validation and scaling decisions under {@code runDir} as above.
     *
     * @param topics Kafka topics for the results (instead of {@code runDir/results}) and, besides the files, for plans,
     *     forecasts and validation; or null
     */
    public static void attach(DataStream<Event> events, Strategy strategy, ReadableConfig config,
                              java.nio.file.Path runDir, boolean withSum, int p,
                              Topics topics) {
        attach(events, strategy, config, runDir, withSum, p, topics, null, false);
    }

    /**
     * As above, with {@code control} (command lines, may be null) as the planner's control input; with
     * {@code lateOutput}, the returned outputs' {@link Workload.Outputs#late} holds the late records, for the caller
     * to write.
     */
    public static Workload.Outputs attach(DataStream<Event> events, Strategy strategy, ReadableConfig config,
                                          java.nio.file.Path runDir, boolean withSum, int p,
                                          Topics topics,
                                          DataStream<String> control, boolean lateOutput) {
        return attach(events, strategy, config, runDir, withSum, p, topics, control, lateOutput, null);
    }

    /**
     * As above; {@code refusedControl} (may be null): control lines refused before they reach the stage
     * ({@code reason,line}, as the planner's), written into {@code control-rejected/} beside the planner's.
     */
    public static Workload.Outputs attach(DataStream<Event> events, Strategy strategy, ReadableConfig config,
                                          java.nio.file.Path runDir, boolean withSum, int p,
                                          Topics topics,
                                          DataStream<String> control, boolean lateOutput,
                                          DataStream<String> refusedControl) {
        String gate = config.getOptional(ReplayScalingGate.GATE_OPTION).orElse(null);
        Workload.Outputs out = Workload.build(events, strategy, config, p, control, lateOutput);
        if (topics != null && topics.results(out.results())) {
            // the results went to a topic
        } else {
            sink(out.results().map(r -> r.toCsv(withSum)).returns(Types.STRING).name("results csv").setParallelism(p),
                    runDir.resolve("results"), "results", p);
        }
        sink(out.loadLines(), runDir.resolve("window-results"), "window-results", 1);
        if (out.plans() != null) {
            DataStream<String> plans = out.plans().map(ReplayJob::planJson).returns(Types.STRING).name("plan json")
                    .setParallelism(1);
            sink(plans, runDir.resolve("plans"), "plans", 1);
            DataStream<String> forecasts = out.forecasts().map(ReplayJob::forecastCsv).returns(Types.STRING)
                    .name("forecast csv").setParallelism(1);
            sink(forecasts, runDir.resolve("forecasts"), "forecasts", 1);
            sink(out.forecasts().flatMap(ReplayJob::unitForecastCsv).returns(Types.STRING).name("unit forecast csv")
                            .setParallelism(1), runDir.resolve("forecast-units"), "forecast-units", 1);
            DataStream<String> validation = out.validation().map(ReplayJob::validationCsv).returns(Types.STRING)
                    .name("validation csv").setParallelism(p);
            sink(validation, runDir.resolve("validation"), "validation", p);
            if (topics != null) {
                topics.lines("plans", plans);
                topics.lines("forecasts", forecasts);
                topics.lines("validation", validation);
            }
            DataStream<String> rejected = out.controlRejected() == null ? refusedControl
                    : refusedControl == null ? out.controlRejected() : out.controlRejected().union(refusedControl);
            if (rejected != null) {
                sink(rejected, runDir.resolve("control-rejected"), "control-rejected", 1);
            }
            sink(out.profiles().map(ReplayJob::profileJson).returns(Types.STRING).name("profile json")
                    .setParallelism(1), runDir.resolve("profiles"), "profiles", 1);
            if (out.scaling() != null) {
                sink(out.scaling().map(ReplayJob::scalingCsv).returns(Types.STRING).name("scaling csv").setParallelism(1),
                        runDir.resolve("scaling"), "scaling", 1);
                if (gate != null) {
                    out.scaling().transform("replay scaling gate", Types.VOID, new ReplayScalingGate.Follower(gate))
                            .uid("replay-scaling-gate").setParallelism(1);
                }
            }
        }
        return out;
    }

    /** Where the cluster job's outputs go besides the files under its run directory: Kafka topics. */
    public interface Topics {
        /** Takes the results instead of {@code runDir/results}; false keeps the files. */
        boolean results(DataStream<io.keyshift.jobs.workload.WindowResult> results);

        /**
         * Also writes {@code lines} (the same lines as the files) to a topic if one is configured for {@code kind}:
         * plans (JSON), forecasts or validation (CSV).
         */
        void lines(String kind, DataStream<String> lines);
    }

    /** Uid of the replay source. */
    public static final String SOURCE_UID = "keyshift-source";

    /**
     * Writes {@code lines} to part files directly under {@code dir} with an exactly-once FileSink (committed on
     * checkpoints). The sink is based at the file system's root and its one bucket is {@code dir}'s path below it
     * ({@link DirectoryBucket}): a restored sink keeps each bucket's path, so under one bucket id for every directory
     * (Flink's {@code BasePathBucketAssigner}, "") a job restored into a new {@code --out} went on writing into the old
     * one for as long as lines came every checkpoint interval (a restored bucket is dropped only once it idles).
     */
    public static void sink(DataStream<String> lines, java.nio.file.Path dir, String name, int parallelism) {
        java.nio.file.Path absolute = io.keyshift.jobs.LocalPaths.resolved(dir);
        java.nio.file.Path root = absolute.getRoot();
        FileSink<String> sink = FileSink
                .forRowFormat(new Path(root.toUri()), new LineEncoder())
                .withBucketAssigner(new DirectoryBucket(bucketId(absolute)))
                .withRollingPolicy(OnCheckpointRollingPolicy.build())
                .build();
        lines.sinkTo(sink).name(name + " sink").uid("replay-sink-" + name).setParallelism(parallelism);
    }

    /**
     * The bucket id of {@code dir} (absolute, normalized): its path below the file system's root, after "./" (a bucket's
     * path is the base path and the id parsed as a path: "a:b/out", a top directory with a colon in its name, parsed as
     * a URI of scheme "a").
     */
    static String bucketId(java.nio.file.Path dir) {
        return "./" + dir.getRoot().relativize(dir).toString().replace(java.io.File.separatorChar, '/');
    }

    /**
     * One bucket for every line: the output directory's path relative to the file system's root (the sink's base).
     * Bucket ids are kept in the sink's state with Flink's string serializer, as {@code BasePathBucketAssigner}'s
     * (its "" of earlier builds' savepoints restores, is committed and dropped once idle).
     */
    static final class DirectoryBucket implements
            org.apache.flink.streaming.api.functions.sink.filesystem.BucketAssigner<String, String> {
        private static final long serialVersionUID = 1L;
        private final String id;

        DirectoryBucket(String id) {
            this.id = id;
        }

        @Override
        public String getBucketId(String element, Context context) {
            return id;
        }

        @Override
        public org.apache.flink.core.io.SimpleVersionedSerializer<String> getSerializer() {
            return org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners
                    .SimpleVersionedStringSerializer.INSTANCE;
        }
    }

    /** A plan in Avro's JSON encoding on one line. */
    public static String planJson(RoutingPlan plan) {
        try {
            PlanJson j = PLAN_JSON.get();
            j.buffer.reset();
            j.encoder.configure(j.buffer);
            j.writer.write(plan, j.encoder);
            j.encoder.flush();
            return j.buffer.toString(StandardCharsets.UTF_8).replace('\n', ' ');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A plan's JSON encoder, built once per thread (building one parses the schema's grammar). */
    private static final class PlanJson {
        final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        final SpecificDatumWriter<RoutingPlan> writer = io.keyshift.serde.AvroCoders.writer(RoutingPlan.class);
        final JsonEncoder encoder;

        PlanJson() {
            try {
                encoder = EncoderFactory.get().jsonEncoder(RoutingPlan.getClassSchema(), buffer);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static final ThreadLocal<PlanJson> PLAN_JSON = ThreadLocal.withInitial(PlanJson::new);

    static String forecastCsv(LoadForecast f) {
        return f.getWindowEnd() + "," + f.getAbsoluteErrorSum() + "," + f.getNaiveErrorSum() + ","
                + f.getSeasonalAbsoluteErrorSum() + "," + f.getSeasonalNaiveErrorSum() + "," + f.getAnomalies();
    }

    /**
     * One window's profile as a JSON line: {@code window_start}, {@code window_end} (epoch ms), {@code records},
     * {@code sampling_rate}, {@code max_error}, {@code top_keys} (key, key_group, estimate, lower, upper; by estimate,
     * descending) and {@code key_group_counts} (the key groups with records).
     */
    public static String profileJson(io.keyshift.profiler.WindowProfile p) {
        com.fasterxml.jackson.databind.node.ObjectNode n = PROFILE_JSON.createObjectNode();
        n.put("window_start", p.windowStart);
        n.put("window_end", p.windowEnd);
        n.put("records", p.records);
        n.put("sampling_rate", p.samplingRate);
        n.put("max_error", p.maxError);
        com.fasterxml.jackson.databind.node.ArrayNode top = n.putArray("top_keys");
        for (int i = 0; i < p.hotKeys.length; i++) {
            com.fasterxml.jackson.databind.node.ObjectNode k = top.addObject();
            k.put("key", p.hotKeys[i]);
            k.put("key_group", p.hotKeyGroups[i]);
            k.put("estimate", p.hotEstimates[i]);
            k.put("lower", p.hotLowerBounds[i]);
            k.put("upper", p.hotUpperBounds[i]);
        }
        com.fasterxml.jackson.databind.node.ObjectNode groups = n.putObject("key_group_counts");
        for (int g = 0; g < p.keyGroupCounts.length; g++) {
            if (p.keyGroupCounts[g] > 0) {
                groups.put(Integer.toString(g), p.keyGroupCounts[g]);
            }
        }
        return n.toString();
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper PROFILE_JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    /** The window's hot-key lines as one element (joined with '\n'; none without hot keys): one write per window. */
    static void unitForecastCsv(LoadForecast f, org.apache.flink.util.Collector<String> out) {
        StringBuilder lines = new StringBuilder();
        for (io.keyshift.avro.UnitForecast u : f.getUnits()) {
            if (u.getUnitType() == io.keyshift.avro.UnitType.HOT_KEY) {
                if (!lines.isEmpty()) {
                    lines.append('\n');
                }
                lines.append(f.getWindowEnd()).append(',').append(u.getObserved()).append(',')
                        .append(u.getForecast().get(0)).append(',').append(u.getLower().get(0)).append(',')
                        .append(u.getUpper().get(0)).append(',').append(io.keyshift.jobs.workload.Csv.quote(u.getKey()));
            }
        }
        if (!lines.isEmpty()) {
            out.collect(lines.toString());
        }
    }

    /** {@code windowEnd,policy,kind,fromParallelism,toParallelism,load,utilizationBefore,utilizationAfter,reason}. */
    static String scalingCsv(io.keyshift.avro.ScalingDecision d) {
        return d.getWindowEnd() + "," + d.getPolicy() + "," + d.getKind() + "," + d.getFromParallelism() + ","
                + d.getToParallelism() + "," + d.getLoad() + "," + d.getUtilizationBefore() + ","
                + d.getUtilizationAfter() + "," + io.keyshift.jobs.workload.Csv.quote(d.getReason());
    }

    static String validationCsv(ValidationReport v) {
        return v.getOutcome() + "," + io.keyshift.jobs.workload.Csv.quote(v.getKey()) + "," + v.getWindowStart() + ","
                + v.getWindowEnd() + "," + v.getPrimaryKeyGroup() + "," + v.getShadowKeyGroup();
    }
}
