package io.keyshift.pipeline;

import io.keyshift.avro.KeyLoadSample;
import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.avro.ValidationReport;
import io.keyshift.config.BenchOptions;
import io.keyshift.config.FaultOptions;
import io.keyshift.config.ForecastOptions;
import io.keyshift.config.JobOptions;
import io.keyshift.config.PlanOptions;
import io.keyshift.config.ProfilerOptions;
import io.keyshift.event.Event;
import io.keyshift.forecast.ForecastModelKind;
import io.keyshift.forecast.LoadForecastEngine;
import io.keyshift.forecast.LoadForecaster;
import io.keyshift.forecast.ModelSpec;
import io.keyshift.plan.PlannerOperator;
import io.keyshift.plan.RepartitionPlanner;
import io.keyshift.profiler.KeyDistributionProfiler;
import io.keyshift.profiler.KeySampler;
import io.keyshift.profiler.WindowProfile;
import io.keyshift.route.DynamicRouter;
import io.keyshift.route.Envelope;
import io.keyshift.route.RoutingKey;
import io.keyshift.shadowaware.PlainKeyedAdapter;
import io.keyshift.shadowaware.ShadowAwareAdapter;
import io.keyshift.shadowaware.ShadowAwareFunction;
import io.keyshift.validation.ShadowResolver;
import io.keyshift.workload.CapacityModel;
import io.keyshift.workload.CountSum;
import io.keyshift.workload.FailOnceTrigger;
import io.keyshift.workload.WindowResult;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Builds the keyshift dataflow of ../shared/DESIGN.md behind an event stream that carries event-time timestamps and
 * watermarks:
 *
 * <pre>
 * events ─┬─► KeySampler (chained) ─► KeyDistributionProfiler (p=1) ─► LoadForecaster (p=1) ─► planner (p=1) ─┐
 *         └─► DynamicRouter ◄──────────────────────────────── broadcast RoutingPlan ──────────────────────────┘
 *               └─► keyBy(routing key) ─► window count/sum ─► ShadowResolver ─► results (+ validation)
 * </pre>
 *
 * or, for {@link Strategy#HASH}, a plain {@code keyBy(key)} window count/sum. The job's max parallelism must be set
 * explicitly (see {@link JobOptions#DEFAULT_MAX_PARALLELISM}); the router checks every plan against it.
 */
public final class KeyshiftPipeline {
    private KeyshiftPipeline() {}

    /**
     * The streams a keyshift dataflow produces. For HASH, plans, forecasts and validation are null; scaling is null
     * unless {@code keyshift.scaling.capacity} is set.
     */
    public record Outputs(DataStream<WindowResult> results,
                          DataStream<WindowResult> allWindowResults,
                          DataStream<RoutingPlan> plans,
                          DataStream<LoadForecast> forecasts,
                          DataStream<ValidationReport> validation,
                          DataStream<io.keyshift.avro.ScalingDecision> scaling) {}

    /**
     * Adds the dataflow for {@code strategy}.
     *
     * @param events timestamped events with watermarks
     * @param parallelism parallelism of the keyed workload (and of the router)
     * @param maxParallelism number of key groups (the job's max parallelism)
     */
    public static Outputs build(DataStream<Event> events, Strategy strategy, ReadableConfig config,
                                int parallelism, int maxParallelism) {
        long window = config.get(JobOptions.WINDOW).toMillis();
        long lateness = config.get(JobOptions.ALLOWED_LATENESS).toMillis();
        if (window <= 0) {
            throw new IllegalArgumentException(JobOptions.WINDOW.key() + " must be > 0");
        }
        if (strategy == Strategy.HASH) {
            SingleOutputStreamOperator<WindowResult> results = events
                    .keyBy(e -> e.key, Types.STRING)
                    .window(TumblingEventTimeWindows.of(Duration.ofMillis(window)))
                    .allowedLateness(Duration.ofMillis(lateness))
                    .aggregate(new CountSum.OfEvents(capacity(config)), new CountSum.EmitByKey())
                    .name("window count/sum (keyBy key)")
                    .uid(Uids.HASH_WINDOW)
                    .setParallelism(parallelism);
            return new Outputs(results, results, null, null, null, null);
        }

        Routed flow = route(events, strategy, config, parallelism, maxParallelism, window + lateness,
                config.get(PlanOptions.SPLIT_THRESHOLD));
        SingleOutputStreamOperator<Envelope> routed = flow.envelopes();
        SingleOutputStreamOperator<RoutingPlan> plans = flow.plans();
        SingleOutputStreamOperator<LoadForecast> forecasts = flow.forecasts();
        var windows = routed
                .keyBy(Envelope::routingKey, TypeInformation.of(RoutingKey.class))
                .window(TumblingEventTimeWindows.of(Duration.ofMillis(window)))
                .allowedLateness(Duration.ofMillis(lateness));
        List<Long> failures = config.get(FaultOptions.WINDOW_FAILURE_TIMES);
        if (!failures.isEmpty()) {
            windows = windows.trigger(new FailOnceTrigger(failures, config.get(FaultOptions.FAULT_ID)));
        }
        SingleOutputStreamOperator<WindowResult> windowed = windows
                .aggregate(new CountSum.OfEnvelopes(capacity(config)),
                        new CountSum.EmitByRoutingKey(config.getOptional(FaultOptions.CORRUPT_SHADOW_KEY).orElse(null)))
                .name("window count/sum (keyBy routing key)")
                .uid(Uids.WINDOW)
                .setParallelism(parallelism);
        SingleOutputStreamOperator<WindowResult> resolved = windowed
                .keyBy(r -> r.key, Types.STRING)
                .process(new ShadowResolver())
                .name("ShadowResolver")
                .uid(Uids.RESOLVER)
                .setParallelism(parallelism);
        DataStream<io.keyshift.avro.ScalingDecision> scaling = null;
        double scalingCapacity = config.get(io.keyshift.config.ScalingOptions.CAPACITY);
        if (scalingCapacity > 0) {
            int maxScale = config.get(io.keyshift.config.ScalingOptions.MAX_PARALLELISM);
            io.keyshift.scaling.ScalingPlanner.Settings scalingSettings = new io.keyshift.scaling.ScalingPlanner.Settings(
                    scalingCapacity, config.get(PlanOptions.UTILIZATION_HIGH), config.get(PlanOptions.UTILIZATION_CRITICAL),
                    config.get(PlanOptions.UTILIZATION_SCALE_IN), config.get(io.keyshift.config.ScalingOptions.MIN_PARALLELISM),
                    maxScale > 0 ? maxScale : maxParallelism, maxParallelism,
                    config.get(io.keyshift.config.ScalingOptions.COOLDOWN_WINDOWS),
                    config.get(io.keyshift.config.ScalingOptions.SCALE_IN_WINDOWS));
            // the window results say which subtask processed how much: the measured busiest subtask per window
            scaling = forecasts.connect(windowed)
                    .transform("ScalingDecisions", new org.apache.flink.formats.avro.typeutils.AvroTypeInfo<>(
                            io.keyshift.avro.ScalingDecision.class),
                            new io.keyshift.scaling.ScalingOperator(scalingSettings, parallelism,
                                    config.getOptional(io.keyshift.config.ScalingOptions.REPLAY_GATE).orElse(null),
                                    io.keyshift.config.ScalingOptions.policy(config)))
                    .uid(Uids.SCALING)
                    .setParallelism(1);
        }
        return new Outputs(resolved, windowed, plans, forecasts, resolved.getSideOutput(ShadowResolver.VALIDATION),
                scaling);
    }

    private static CapacityModel capacity(ReadableConfig config) {
        return new CapacityModel(config.get(BenchOptions.SERVICE_TIME).toNanos(), config.get(BenchOptions.LATENCY_ID));
    }

    /** The routed records with the plans and forecasts that routed them. */
    public record Routed(SingleOutputStreamOperator<Envelope> envelopes,
                         SingleOutputStreamOperator<RoutingPlan> plans,
                         SingleOutputStreamOperator<LoadForecast> forecasts) {}

    /**
     * Adds sampler, profiler, forecaster, planner and router: the records come out as {@link Envelope}s ready for
     * {@code keyBy(Envelope::routingKey)}.
     *
     * @param stateHorizonMillis how far back the keyed logic's state reaches (a migration shadows at least this long)
     */
    public static Routed route(DataStream<Event> events, Strategy strategy, ReadableConfig config, int parallelism,
                               int maxParallelism, long stateHorizonMillis) {
        return route(events, strategy, config, parallelism, maxParallelism, stateHorizonMillis, 0.0);
    }

    /**
     * As above; {@code splitThreshold > 0} lets the planner split hot keys (only for window aggregates, whose
     * partial results the resolver merges).
     */
    public static Routed route(DataStream<Event> events, Strategy strategy, ReadableConfig config, int parallelism,
                               int maxParallelism, long stateHorizonMillis, double splitThreshold) {
        if (strategy == Strategy.HASH) {
            throw new IllegalArgumentException("the hash strategy does not route");
        }
        long window = config.get(JobOptions.WINDOW).toMillis();
        int sketchSize = config.get(ProfilerOptions.SKETCH_SIZE);
        double samplingRate = config.get(ProfilerOptions.SAMPLING_RATE);
        int topK = config.get(ProfilerOptions.TOP_K);
        RepartitionPlanner.Settings planSettings = new RepartitionPlanner.Settings(maxParallelism, parallelism, window,
                Math.max(window, stateHorizonMillis), config.get(PlanOptions.LEASE_LEAD), config.get(PlanOptions.HORIZON),
                config.get(PlanOptions.IMPROVEMENT_THRESHOLD), config.get(PlanOptions.ALPHA),
                config.get(PlanOptions.BETA), config.get(PlanOptions.MAX_CONCURRENT_MIGRATIONS),
                config.get(PlanOptions.MAX_ROUTING_ENTRIES), splitThreshold, constraints(config));
        LoadForecastEngine.Settings forecastSettings =
                forecastSettings(config, strategy, maxParallelism, window, planSettings.forecastHorizon());

        SingleOutputStreamOperator<KeyLoadSample> samples = events
                .transform("KeySampler", new AvroTypeInfo<>(KeyLoadSample.class),
                        new KeySampler(window, sketchSize, samplingRate))
                .uid(Uids.SAMPLER)
                .setParallelism(events.getParallelism());
        SingleOutputStreamOperator<WindowProfile> profiles = samples
                .transform("KeyDistributionProfiler", TypeInformation.of(WindowProfile.class),
                        new KeyDistributionProfiler(window, sketchSize, 4 * topK))
                .uid(Uids.PROFILER)
                .setParallelism(1);
        SingleOutputStreamOperator<LoadForecast> forecasts = profiles
                .transform("LoadForecaster", new AvroTypeInfo<>(LoadForecast.class), new LoadForecaster(forecastSettings))
                .uid(Uids.FORECASTER)
                // profiler, forecaster and planner (one chain) keep the job's max parallelism: a savepoint written by
                // bootstrap (State Processor API, which needs max parallelism > 1) must map onto the forecaster
                .setParallelism(1);
        SingleOutputStreamOperator<RoutingPlan> plans = forecasts
                .transform("RepartitionPlanner", new AvroTypeInfo<>(RoutingPlan.class), new PlannerOperator(planSettings))
                .uid(Uids.PLANNER)
                .setParallelism(1);
        SingleOutputStreamOperator<Envelope> routed = events
                .connect(plans.broadcast())
                .transform("DynamicRouter", TypeInformation.of(Envelope.class),
                        new DynamicRouter(Math.max(window, stateHorizonMillis),
                                config.get(io.keyshift.config.RouteOptions.MAX_WAITING_RECORDS)))
                .uid(Uids.ROUTER)
                .setParallelism(events.getParallelism());
        return new Routed(routed, plans, forecasts);
    }

    /** Outputs of a {@link ShadowAwareFunction} behind keyshift: authoritative results, shadow results, plans. */
    public record ShadowAwareOutputs<OUT>(DataStream<OUT> results, DataStream<OUT> shadowResults,
                                         DataStream<RoutingPlan> plans) {}

    /**
     * Runs {@code function} per key behind keyshift's router (strategy REACTIVE or PREDICTIVE) with operator uid
     * {@link Uids#SHADOW_AWARE}; its declared state horizon sets the minimum shadow phase.
     */
    public static <OUT> ShadowAwareOutputs<OUT> shadowAware(DataStream<Event> events, Strategy strategy,
                                                            ReadableConfig config, int parallelism, int maxParallelism,
                                                            ShadowAwareFunction<OUT> function,
                                                            TypeInformation<OUT> outType) {
        Routed r = route(events, strategy, config, parallelism, maxParallelism, function.stateHorizon().toMillis());
        org.apache.flink.util.OutputTag<OUT> shadowTag = new org.apache.flink.util.OutputTag<>("shadow-results", outType);
        SingleOutputStreamOperator<OUT> results = r.envelopes()
                .keyBy(Envelope::routingKey, TypeInformation.of(RoutingKey.class))
                .process(new ShadowAwareAdapter<>(function, shadowTag), outType)
                .name("ShadowAware " + function.getClass().getSimpleName())
                .uid(Uids.SHADOW_AWARE)
                .setParallelism(parallelism);
        return new ShadowAwareOutputs<>(results, results.getSideOutput(shadowTag), r.plans());
    }

    /** The same function behind a plain {@code keyBy(key)}: the reference twin. */
    public static <OUT> DataStream<OUT> plainKeyed(DataStream<Event> events, int parallelism,
                                                   ShadowAwareFunction<OUT> function, TypeInformation<OUT> outType) {
        return events.keyBy(e -> e.key, Types.STRING)
                .process(new PlainKeyedAdapter<>(function), outType)
                .name("keyBy " + function.getClass().getSimpleName())
                .uid(Uids.PLAIN_KEYED)
                .setParallelism(parallelism);
    }

    /** The planner's capacity and move constraints from {@code config}; IllegalArgumentException names what is wrong. */
    public static RepartitionPlanner.Constraints constraints(ReadableConfig config) {
        return new RepartitionPlanner.Constraints(config.get(PlanOptions.CAPACITY),
                config.get(PlanOptions.UTILIZATION_HIGH), config.get(PlanOptions.UTILIZATION_CRITICAL),
                config.get(PlanOptions.UTILIZATION_SCALE_IN), config.get(PlanOptions.MIN_WINDOWS_BETWEEN_MOVES),
                new java.util.HashSet<>(config.get(PlanOptions.PINNED_KEYS)), config.get(PlanOptions.TIME_BUDGET));
    }

    /**
     * The forecaster's settings of a job with {@code config} (its {@code keyshift.window} and plan options), as the
     * pipeline builds them: what decoding or writing the forecaster's state (inspect-savepoint, bootstrap) needs.
     */
    public static LoadForecastEngine.Settings forecastSettings(ReadableConfig config, Strategy strategy,
                                                               int maxParallelism) {
        return forecastSettings(config, strategy, maxParallelism, config.get(JobOptions.WINDOW).toMillis(),
                config.get(PlanOptions.LEASE_LEAD) + config.get(PlanOptions.HORIZON));
    }

    /** The forecaster's settings from {@code config}; REACTIVE forces the naive model. */
    public static LoadForecastEngine.Settings forecastSettings(ReadableConfig config, Strategy strategy,
                                                               int maxParallelism, long windowMillis, int horizon) {
        List<Integer> seasons = seasons(config, windowMillis);
        List<ModelSpec> models = strategy == Strategy.REACTIVE
                ? List.of(new ModelSpec(ForecastModelKind.NAIVE, 0))
                : models(config.get(ForecastOptions.MODEL), seasons);
        int scaleSeason = seasons.stream().filter(s -> s >= 2).findFirst().orElse(0);
        return new LoadForecastEngine.Settings(maxParallelism, config.get(ProfilerOptions.TOP_K),
                config.get(ProfilerOptions.AGE_OUT_WINDOWS), models, scaleSeason, horizon,
                ForecastOptions.selectionDecay(config, scaleSeason), config.get(ForecastOptions.INTERVAL_Z),
                config.get(ForecastOptions.ANOMALY_Z));
    }

    /** Candidate models for option value {@code model} ('auto' or one model name). */
    public static List<ModelSpec> models(String model, List<Integer> seasons) {
        String m = model.trim().toLowerCase(Locale.ROOT);
        if (m.equals("auto")) {
            return ModelSpec.candidates(seasons);
        }
        try {
            return List.of(ModelSpec.of(ForecastModelKind.parse(m), seasons));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ForecastOptions.MODEL.key() + ": '" + model + "': " + e.getMessage()
                    + " (valid: auto, naive, seasonal-naive, ses, holt, holt-winters, holt-winters-multiplicative, ar)");
        }
    }

    /** A week of windows for windows of a day or longer, else a day of windows; 0 (none) if that is not whole. */
    public static int defaultSeason(long windowMillis) {
        long day = Duration.ofDays(1).toMillis();
        long period = windowMillis >= day ? 7 * day : day;
        if (period % windowMillis != 0 || period / windowMillis < 2) {
            return 0;
        }
        return (int) (period / windowMillis);
    }

    /** The configured seasons, or {@link #defaultSeasons}. */
    public static List<Integer> seasons(ReadableConfig config, long windowMillis) {
        return config.getOptional(ForecastOptions.SEASONS).orElseGet(() -> defaultSeasons(windowMillis));
    }

    /**
     * Default seasons in windows: a week for windows of a day or longer; a day and a week for windows from an hour
     * up to a day; a day for windows shorter than an hour (a week of 5-minute windows would cost 2016 values per
     * model and series). Periods that are not a whole number of windows are left out.
     */
    public static List<Integer> defaultSeasons(long windowMillis) {
        long day = Duration.ofDays(1).toMillis();
        long week = 7 * day;
        java.util.ArrayList<Integer> out = new java.util.ArrayList<>();
        if (windowMillis >= day) {
            addSeason(out, week, windowMillis);
        } else {
            addSeason(out, day, windowMillis);
            if (windowMillis >= Duration.ofHours(1).toMillis()) {
                addSeason(out, week, windowMillis);
            }
        }
        return out;
    }

    private static void addSeason(List<Integer> out, long period, long windowMillis) {
        if (period % windowMillis == 0 && period / windowMillis >= 2) {
            out.add((int) (period / windowMillis));
        }
    }
}
