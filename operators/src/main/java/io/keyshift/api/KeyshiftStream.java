package io.keyshift.api;

import io.keyshift.avro.KeyLoadSample;
import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.avro.ScalingDecision;
import io.keyshift.avro.ValidationReport;
import io.keyshift.avro.WindowLoad;
import io.keyshift.config.JobOptions;
import io.keyshift.config.KeyshiftConfig;
import io.keyshift.config.PlanOptions;
import io.keyshift.config.PrivacyOptions;
import io.keyshift.config.ProfilerOptions;
import io.keyshift.config.RouteOptions;
import io.keyshift.config.ScalingOptions;
import io.keyshift.forecast.LoadForecaster;
import io.keyshift.migration.OwnedProcessFunction;
import io.keyshift.migration.ResultCheck;
import io.keyshift.migration.ShadowValidator;
import io.keyshift.plan.CoordinatedOperators;
import io.keyshift.plan.PlannerOperator;
import io.keyshift.plan.RepartitionPlanner;
import io.keyshift.profiler.KeyDistributionProfiler;
import io.keyshift.profiler.WindowProfile;
import io.keyshift.route.Envelope;
import io.keyshift.route.KeyCodec;
import io.keyshift.route.KeyPseudonymizer;
import io.keyshift.route.KeyshiftRouter;
import io.keyshift.route.RoutingKey;
import io.keyshift.scaling.ScalingOperator;
import io.keyshift.scaling.ScalingPlanner;
import io.keyshift.serde.EnvelopeTypeInfo;
import io.keyshift.serde.EnvelopeWireSerializer;
import io.keyshift.serde.RoutingKeyTypeInfo;
import io.keyshift.serde.SharedAvroTypeInfo;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.typeutils.TypeExtractor;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.windows.Window;
import org.apache.flink.util.OutputTag;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A stream keyed by keyshift: the user's records of type {@code T} with keys of type {@code K}, routed by keyshift's
 * predictive planner instead of Flink's fixed hash. Like {@link KeyedStream}, it ends in a window ({@link #window})
 * or a keyed process function ({@link #process}); each {@code KeyshiftStream} builds one keyshift stage (sampler and
 * router chained to the input, profiler, forecaster and planner at parallelism 1, the user's keyed logic, and the
 * results path: the shadow validator and, for split window aggregates, the split merger, at
 * {@code keyshift.results-path.parallelism}, by default one subtask per 8 of the keyed logic). Create it with
 * {@link Keyshift#keyBy}.
 *
 * <p>Operator uids are {@code <uidPrefix>-router}, {@code -profiler}, {@code -forecaster}, {@code -planner},
 * {@code -window} or {@code -process}, {@code -validator}, {@code -split-merger} and {@code -scaling}, and of the
 * stateless hops {@code -reports}, {@code -mismatch-reverts}, {@code -control-progress}, {@code -control-pseudonyms},
 * {@code -late-data} and {@code -split-merger-side-output-<tag id>}, where the stage has them ({@link StageUids}); the
 * prefix
 * ({@value #DEFAULT_UID_PREFIX} by default) must differ between the stages of a job. After the terminal call, the
 * stage's plans, forecasts, profiles, loads, validation reports and scaling decisions are streams of their own.
 *
 * <p><b>What every terminal call refuses</b> ({@link #process(KeyedProcessFunction, Duration) process(...)} and
 * {@link KeyshiftWindowedStream}'s {@code aggregate}, {@code reduce} and {@code process}), before it adds any
 * operator to the job, so that a caller that catches the error finds the environment as it was:
 * <ul>
 *   <li>IllegalArgumentException: {@code execution.runtime-mode} not STREAMING; an input made by
 *       {@code broadcast()}; {@code keyshift.max-parallelism} set and not equal to {@code pipeline.max-parallelism};
 *       a keyed parallelism ({@link #parallelism(int)}) above the number of key groups; with
 *       {@code keyshift.scaling.capacity} above 0, {@code keyshift.scaling.min-parallelism} or
 *       {@code max-parallelism} above the key groups, a keyed parallelism outside [min, max], or another stage of the
 *       job that scales too; with {@code keyshift.privacy.key-secret} set, a keyed process function, or a key type
 *       holding an unsorted map or set; a {@code keyshift.forecast.calendar} file that can no longer be read (it
 *       was read by {@link #configure});</li>
 *   <li>IllegalStateException: after another terminal call of this stream, or when another keyshift stage of the
 *       job has the same uid prefix ({@link #uidPrefix});</li>
 *   <li>UnsupportedOperationException: a key type, output type or accumulator type that has no serializer under the
 *       job's settings (a generic type with {@code pipeline.generic-types: false}, Flink's "Generic types have been
 *       disabled");</li>
 *   <li>NullPointerException naming a null argument.</li>
 * </ul>
 * Each terminal call's {@code @throws} adds what it refuses of its own.
 *
 * @param <T> the user's record type
 * @param <K> the user's key type
 */
public final class KeyshiftStream<T, K> {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KeyshiftStream.class);
    /** The uid prefix of a stage that sets none. */
    public static final String DEFAULT_UID_PREFIX = "keyshift";
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    private final DataStream<T> input;
    private final KeySelector<T, K> selector;
    private final TypeInformation<K> keyType;
    private Configuration config = new Configuration();
    private String uidPrefix = DEFAULT_UID_PREFIX;
    private int parallelism = -1;
    private DataStream<String> control;
    private java.util.Map<Long, Double> knownSamplingRates = java.util.Map.of();
    private Built built;
    /** The split merger's side outputs asked for, by tag id (each is one operator with its own uid). */
    private final java.util.Map<String, DataStream<?>> mergerSideOutputs = new java.util.HashMap<>();

    KeyshiftStream(DataStream<T> input, KeySelector<T, K> selector, TypeInformation<K> keyType) {
        this.input = Objects.requireNonNull(input, "input");
        this.selector = Objects.requireNonNull(selector, "key selector");
        this.keyType = Objects.requireNonNull(keyType, "key type");
        // The router computes each record's natural key group from the key's hashCode, as keyBy does: the key type
        // must pass keyBy's own check (no enums or arrays, no POJO that keeps Object's hashCode), or one key's
        // records would scatter over key groups. Constructing a KeyedStream runs that check and adds nothing to the
        // job's graph.
        try {
            new org.apache.flink.streaming.api.datastream.KeyedStream<>(input, selector, keyType);
        } catch (org.apache.flink.api.common.functions.InvalidTypesException e) {
            // the input's own type is missing (a lambda's erased result): Flink's explanation, as keyBy gives it; no
            // fault of the key selector's
            throw e;
        } catch (org.apache.flink.api.common.InvalidProgramException e) {
            // keyBy's check of the key type (or of the selector: not serializable)
            throw new IllegalArgumentException("keyshift cannot key by this key selector and key type (" + keyType
                    + "): " + e.getMessage(), e);
        }
        // keyBy's check looks into Tuples and Rows but not into POJOs and records, and a generic (Kryo) type passes
        String unstable = KeyHashes.unstable(keyType);
        if (unstable != null) {
            throw new IllegalArgumentException("keyshift cannot key by " + keyType + ": " + unstable + ", whose "
                    + "hashCode differs between JVMs, so routers in different TaskManagers, and every run after a "
                    + "restore, would put one key in several key groups, each with its own state and results; key by "
                    + "a type of stable hashCodes (String, numbers, records and POJOs of them; an enum's name())");
        }
        java.util.List<String> trusted = KeyHashes.trustedOverEnums(keyType);
        if (!trusted.isEmpty()) {
            LOG.warn("keyshift keys by {}, whose own hashCode is trusted, though {}: if that hashCode uses the enum's "
                    + "or array's hashCode (an IDE's or Lombok's generated one does), it differs between JVMs, and "
                    + "keyshift would put one key in several key groups; hash the enum's name() instead",
                    keyType, String.join("; ", trusted));
        }
        java.util.List<String> undeclared = KeyHashes.undeclaredParts(keyType);
        if (!undeclared.isEmpty()) {
            LOG.warn("keyshift keys by {}, in which {}: the values' own classes decide their hashCode, which keyshift "
                    + "cannot check; if one is an enum (one implementing the interface) or keeps Object's hashCode, "
                    + "it differs between JVMs and keyshift would put one key in several key groups; declare the "
                    + "concrete type, or key by an enum's name()", keyType, String.join("; ", undeclared));
        }
        java.util.List<String> unseen = KeyHashes.unseenTypeArguments(keyType);
        if (!unseen.isEmpty()) {
            LOG.warn("keyshift keys by {}, in which {}: keyshift cannot check their hashCode; if they hold an enum "
                    + "or an array (Optional<Tier>), the key's hashCode differs between JVMs and keyshift would put "
                    + "one key in several key groups; key by a record or POJO that declares the field's type, or by "
                    + "an enum's name()", keyType, String.join("; ", unseen));
        }
    }

    /** The keys of {@code conf} that only keyshift's command line reads, sorted: a library stage ignores them. */
    static java.util.List<String> ignoredCommandLineKeys(Configuration conf) {
        return conf.keySet().stream().filter(KeyshiftConfig.COMMAND_LINE_KEYS::contains).sorted().toList();
    }

    /** What {@link #configure} logs (WARN) for a command-line key it ignores, with where a library user sets it. */
    static String ignoredKeyWarning(String key) {
        String instead = switch (key) {
            case "keyshift.allowed-lateness" -> "set it on the window stage (window(...).allowedLateness(...))";
            case "keyshift.control.file", "keyshift.control.directory", "keyshift.control.directory-interval" ->
                    "give a control stream with control(...)";
            default -> "it applies to keyshift's command line only";
        };
        return key + " is an option of keyshift's command line, ignored by a library stage's configure(): " + instead;
    }

    /**
     * Takes the {@code keyshift.*} options of {@code conf} (any {@link ReadableConfig}: a {@link Configuration}, the
     * environment's {@code env.getConfiguration()}; other keys are ignored); may be called several times, the
     * later values winning. An unknown {@code keyshift.*} key fails here with the
     * closest known one, and so does a key that misspells the prefix or an option ({@code keyshfit.window},
     * {@code Keyshift.window}, {@code keyshift-plan.lease-lead}: see {@link KeyshiftConfig#misspelledPrefix}) (the
     * command line's own options, {@link KeyshiftConfig#COMMAND_LINE_KEYS}, which a cluster's
     * config.yaml may hold, are ignored, each with a WARN in the log saying where a library user sets it); every value is checked against its documented range, on the options taken so far together.
     * {@code keyshift.rocksdb.max-manifest-file-size} is checked here but takes effect only from the Flink
     * configuration of the job or cluster, where RocksDB reads it (passing the environment's configuration, as the
     * command line does, is the usual way).
     *
     * @throws IllegalArgumentException naming the option
     * @throws IllegalStateException after the terminal call
     */
    public KeyshiftStream<T, K> configure(ReadableConfig conf) {
        Objects.requireNonNull(conf, "configuration");
        checkNotBuilt();
        // any ReadableConfig as its keys and values (ReadableConfig#toMap): a misspelled key fails whatever holds it
        Configuration c = conf instanceof Configuration given ? given : Configuration.fromMap(conf.toMap());
        // keys and values here; ranges that relate options to each other on the merged options below (a first
        // configure() may set scale-in, a second utilization.high)
        KeyshiftConfig.checkKnown(c, KeyshiftConfig.COMMAND_LINE_KEYS);
        for (String ignored : ignoredCommandLineKeys(c)) {
            LOG.warn(ignoredKeyWarning(ignored));
        }
        // merged into a copy: a configuration that fails leaves the stage's options as they were
        Configuration merged = new Configuration(config);
        c.toMap().forEach((k, v) -> {
            if (k.startsWith("keyshift.") && !KeyshiftConfig.COMMAND_LINE_KEYS.contains(k)) {
                merged.setString(k, v);
            }
        });
        KeyshiftConfig.validate(merged);
        config = merged;
        return this;
    }

    /**
     * The prefix of this stage's operator uids (letters, digits, '.', '_', '-', starting with a letter or digit; default
     * {@value #DEFAULT_UID_PREFIX}),
     * the names of its state in savepoints: keep it across versions of the job.
     *
     * @throws NullPointerException for null
     * @throws IllegalArgumentException for other characters or an empty prefix
     * @throws IllegalStateException after the terminal call, or at the terminal call when another keyshift stage of
     *         the job has the same prefix
     */
    public KeyshiftStream<T, K> uidPrefix(String prefix) {
        Objects.requireNonNull(prefix, "uid prefix");
        checkNotBuilt();
        if (!PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("uid prefix must be letters, digits, '.', '_' or '-', starting with a "
                    + "letter or digit, was '" + prefix + "'");
        }
        this.uidPrefix = prefix;
        return this;
    }

    /**
     * The pinned keys ({@code keyshift.plan.pinned-keys}) as the stage's plans name them: each key's id in the form
     * {@code codec} writes it ("7" for "007" of an integer key; with {@code secret}, a key given as a pseudonym stays
     * as it is). A key that names no key of the stage's type pins nothing in this stage (options may be shared by
     * stages of other key types): it is left out, and the log says so (with {@code secret}, by its place in the list,
     * not its text: keys are never written out under a secret).
     */
    static <K> java.util.List<String> pinnedIds(java.util.List<String> pinned, KeyCodec<K> codec, boolean secret,
                                                String stage) {
        java.util.List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < pinned.size(); i++) {
            String key = pinned.get(i);
            if (secret && KeyPseudonymizer.isPseudonym(key)) {
                ids.add(key);
                continue;
            }
            try {
                ids.add(codec.canonicalId(key));
            } catch (IllegalArgumentException e) {
                if (secret) {
                    // keys are never written out under a secret: the entry by its place in the list
                    LOG.warn("{}: entry {} of {} names no key of this stage's key type; it pins nothing in stage '{}'",
                            PlanOptions.PINNED_KEYS.key(), i + 1, pinned.size(), stage);
                } else {
                    LOG.warn("{}: {}; it pins nothing in stage '{}'", PlanOptions.PINNED_KEYS.key(), e.getMessage(),
                            stage);
                }
            }
        }
        return ids;
    }

    /**
     * Connects a control input to the planner: one command per line ({@link io.keyshift.control.ControlCommand}: pin
     * or unpin a key, freeze or unfreeze planning, roll back to a plan version, force or release a parallelism, set the
     * anomaly z or the sampling rate), each from an event time on. The
     * planner waits for this stream's watermark to pass a plan's start before making the plan, so a bounded input
     * (a file) gives the same plans on every run; give a live input (a watched directory, a Kafka topic)
     * {@code Long.MAX_VALUE} watermarks ({@link io.keyshift.control.ControlInputs}) and its commands apply from the next
     * plan on. A control watermark that holds the plans back for {@code keyshift.route.no-watermark-timeout} of
     * processing time, with nothing let through, fails the task naming the cause. Refused lines:
     * {@link #controlRejected()}. Called again, the inputs are read together (their union; the planner waits for
     * the lowest of their watermarks).
     *
     * @throws NullPointerException for a null stream
     * @throws IllegalStateException after the terminal call
     */
    public KeyshiftStream<T, K> control(DataStream<String> commands) {
        checkNotBuilt();
        java.util.Objects.requireNonNull(commands, "commands");
        // a second input replaced the first, whose commands then never reached the planner, without a word
        this.control = this.control == null ? commands : this.control.union(commands);
        return this;
    }

    /**
     * The lines of a bounded control input known before the job starts (a control file that {@link #control} reads
     * too). Its {@code sampling-rate} commands go to the routers from the start, so each applies exactly to the
     * planning windows that start at or after its time, and a replay samples the same records on every run. A
     * sampling-rate command that reaches the routers only with a plan (a live input) applies to the windows a router
     * opens after the plan came: records of windows that opened before were sampled at the earlier rate. Lines of
     * other commands, and lines that do not parse (the control input refuses those), are ignored here. Called again,
     * the lines add to the earlier ones (at the same time, a later call's rate wins).
     *
     * @throws NullPointerException for null lines
     * @throws IllegalStateException after the terminal call
     */
    public KeyshiftStream<T, K> controlKnownInAdvance(java.util.List<String> lines) {
        Objects.requireNonNull(lines, "control lines");
        checkNotBuilt();
        // the rates of earlier calls stay (a second file replaced the first's without a word)
        java.util.TreeMap<Long, Double> rates = new java.util.TreeMap<>(knownSamplingRates);
        for (String line : lines) {
            io.keyshift.control.ControlCommand c;
            try {
                c = io.keyshift.control.ControlCommand.parse(line);
            } catch (IllegalArgumentException e) {
                continue;
            }
            // a rate of "now" in lines known in advance (a file read from the start) holds from the first window:
            // the routers sample a record when it arrives, before any plan could bring the rate, and a replay must
            // sample the same records on every run (a timed rate later in the file overrides it from its time)
            if (c != null && c.type() == io.keyshift.control.ControlCommand.Type.SAMPLING_RATE) {
                rates.put(c.at(), c.samplingRate());
            }
        }
        this.knownSamplingRates = rates;
        return this;
    }

    /**
     * The refused control commands, as CSV lines {@code reason,command} (after the stage is built, with a control
     * input).
     *
     * @throws IllegalStateException before the stage is built, or without a control input (with
     *                               {@code keyshift.migration.on-mismatch} REVERT the stage has one: its own reverts)
     */
    public DataStream<String> controlRejected() {
        if (built == null || built.controlRejected() == null) {
            throw new IllegalStateException("controlRejected() needs a built stage with a control input "
                    + "(KeyshiftStream#control, then window(...) or process(...))");
        }
        return built.controlRejected();
    }

    /**
     * Parallelism of the keyed logic (the window operator or process function). Default: the environment's
     * parallelism. Set it here, not on the returned stream: the planner balances this many subtasks. When it equals
     * the input's parallelism (the default for an input at the environment's), the routers and the keyed logic are
     * rescaled together (Flink's adaptive scheduler, a restore at another parallelism) and the planner follows: it
     * plans for the parallelism the routers run at.
     *
     * @param parallelism subtasks, in [1, max parallelism]
     * @throws IllegalArgumentException below 1 here; above the number of key groups at the terminal call
     * @throws IllegalStateException after the terminal call
     */
    public KeyshiftStream<T, K> parallelism(int parallelism) {
        checkNotBuilt();
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
        }
        this.parallelism = parallelism;
        return this;
    }

    /**
     * Windows the stream, like {@link KeyedStream#window}. Tumbling and sliding event-time windows are supported
     * (their state horizon is size + allowed lateness); any other assigner is refused here, with the reason.
     *
     * @throws IllegalArgumentException for any assigner but Flink's own {@code TumblingEventTimeWindows} and
     *         {@code SlidingEventTimeWindows} (not a subclass of them) without a stagger: session, global,
     *         processing-time and staggered windows among them
     * @throws IllegalStateException after the terminal call
     */
    public <W extends Window> KeyshiftWindowedStream<T, K, W> window(WindowAssigner<? super T, W> assigner) {
        Objects.requireNonNull(assigner, "window assigner");
        checkNotBuilt();
        return new KeyshiftWindowedStream<>(this, WindowShape.of(assigner), assigner);
    }

    /**
     * Runs a keyed process function behind keyshift, like {@link KeyedStream#process}: it sees its own key
     * ({@code ctx.getCurrentKey()}), event- and processing-time timers, keyed state and side outputs
     * ({@link #sideOutput}). While a key migrates, the new owner runs the function on copies from T0 on (its outputs
     * are compared, not emitted), so at the switch-over its state is complete. A record of a key's old stay that
     * arrives more than the horizon after its switch-over is dropped (metric {@code keyshiftLateRecordsDropped}), as
     * {@code keyBy} would not; an event-time timer set beyond the horizon is counted
     * ({@code keyshiftTimersBeyondHorizon}). A function that is a {@code CheckpointedFunction} or
     * {@code CheckpointListener} gets Flink's calls. Keyed state is Flink's synchronous API
     * ({@code org.apache.flink.api.common.state}): a state V2 descriptor ({@code org.apache.flink.api.common.state.v2},
     * Flink 2's asynchronous state) fails the job for good from the function's {@code open} (a
     * {@code SuppressRestartsException} whose cause is an UnsupportedOperationException).
     *
     * @param stateHorizon how far back in event time the function's state reaches (a whole number of milliseconds,
     *                     at least 1 ms, at most 36,500 days): its state never depends on records older than this, and its event-time timers fire
     *                     within it of what set them
     * @return the function's outputs (only the authoritative ones)
     * @throws IllegalArgumentException for a horizon out of range or with a fraction of a millisecond,
     *         {@code keyshift.plan.split-threshold} above 0, or {@code keyshift.privacy.key-secret} set; and what
     *         every terminal call refuses (the class's description)
     * @throws NullPointerException naming a null argument
     * @throws org.apache.flink.api.common.functions.InvalidTypesException if the output type cannot be extracted
     *         (give it with {@link #process(KeyedProcessFunction, Duration, TypeInformation)})
     * @throws org.apache.flink.api.common.InvalidProgramException for a function that cannot be serialized
     * @throws UnsupportedOperationException for an output or key type without a serializer under the job's settings
     * @throws IllegalStateException after another terminal call, or when another stage of the job has the same uid
     *         prefix
     */
    public <R> DataStream<R> process(KeyedProcessFunction<K, T, R> function, Duration stateHorizon) {
        Objects.requireNonNull(function, "function");
        TypeInformation<R> out = TypeExtractor.getUnaryOperatorReturnType(function, KeyedProcessFunction.class, 1, 2,
                TypeExtractor.NO_INDEX, input.getType(), null, true);
        return process(function, stateHorizon, known(out, "process(function, stateHorizon, outputType)"));
    }

    /**
     * {@code type}, or, where Flink could not extract it (a generic function: type erasure), Flink's explanation and
     * the overload that takes the type (the terminal calls return a DataStream, whose type {@code returns} cannot set).
     */
    static <X> TypeInformation<X> known(TypeInformation<X> type, String overload) {
        if (type instanceof org.apache.flink.api.java.typeutils.MissingTypeInfo missing) {
            throw new org.apache.flink.api.common.functions.InvalidTypesException("keyshift cannot tell a type of "
                    + missing.getFunctionName() + ": " + missing.getTypeException().getMessage()
                    + " Give it with " + overload + ".", missing.getTypeException());
        }
        return type;
    }

    /**
     * As {@link #process(KeyedProcessFunction, Duration)} with the output type given (and the same refusals, but
     * for the type's extraction).
     */
    public <R> DataStream<R> process(KeyedProcessFunction<K, T, R> function, Duration stateHorizon,
                                     TypeInformation<R> outputType) {
        Objects.requireNonNull(function, "function");
        Objects.requireNonNull(outputType, "output type");
        Objects.requireNonNull(stateHorizon, "state horizon");
        if (stateHorizon.compareTo(Duration.ofMillis(1)) < 0) {
            // event time is in ms: a horizon under 1 ms would be 0, and the cleanup timer would set itself again at
            // its own time for ever
            throw new IllegalArgumentException("the state horizon of a keyed process function must be at least 1 ms, "
                    + "was " + org.apache.flink.util.TimeUtils.formatWithHighestUnit(stateHorizon));
        }
        if (stateHorizon.getNano() % 1_000_000 != 0) {
            // event time is in ms: 1.5 ms ran as 1 ms (the options refuse fractions of a millisecond alike)
            throw new IllegalArgumentException("the state horizon of a keyed process function must be a whole number "
                    + "of milliseconds, was " + org.apache.flink.util.TimeUtils.formatWithHighestUnit(stateHorizon));
        }
        if (splitThreshold() > 0) {
            throw new IllegalArgumentException(PlanOptions.SPLIT_THRESHOLD.key() + " must be 0 for a keyed process "
                    + "function: a split key's records would reach several instances of the function, whose state "
                    + "cannot be merged (splitting is for window aggregate and reduce)");
        }
        long horizon = stateHorizon.compareTo(WindowShape.MAX_STATE_HORIZON) > 0 ? Long.MAX_VALUE
                : stateHorizon.toMillis();
        WindowShape.checkHorizon(horizon, "the state horizon of a keyed process function");
        // before build adds anything: a type without a serializer under this job's settings fails here
        TypeSerializer<R> outputSerializer = outputType.createSerializer(serializerConfig());
        checkSerializable(function);
        return build(horizon, null, false, true, 0.0, false, (keyed, stage) -> keyed
                .process(new OwnedProcessFunction<>(function, horizon, stage.codec, outputSerializer, stage.checkTag,
                                input.getType()),
                        outputType)
                .name(stage.name("process " + function.getClass().getSimpleName()))
                .uid(uidPrefix + "-process"));
    }

    /**
     * The routing plans of this stage, one per planning window (after a terminal call). Read-only: a chained consumer
     * gets the instance the planner keeps (see {@link SharedAvroTypeInfo}); copy a plan before changing it.
     *
     * @throws IllegalStateException before the terminal call
     */
    public DataStream<RoutingPlan> plans() {
        return built("plans").plans;
    }

    /**
     * The key distribution the profiler saw, one {@link WindowProfile} per planning window (heavy hitters with their
     * estimates and error bounds, exact records per natural key group), after a terminal call. A Flink POJO, not an
     * Avro record.
     *
     * @throws IllegalStateException before the terminal call
     */
    public DataStream<WindowProfile> profiles() {
        return built("profiles").profiles;
    }

    /**
     * The load forecasts of this stage, one per planning window (after a terminal call). Read-only: a chained consumer
     * gets the instance the planner plans from (see {@link SharedAvroTypeInfo}); copy a forecast before changing it.
     *
     * @throws IllegalStateException before the terminal call
     */
    public DataStream<LoadForecast> forecasts() {
        return built("forecasts").forecasts;
    }

    /**
     * The keyed logic's load per key group, one record per planning window in which records were routed (a window
     * without records has none), after a terminal call.
     *
     * @throws IllegalStateException before the terminal call
     */
    public DataStream<WindowLoad> loads() {
        return built("loads").loads;
    }

    /**
     * The shadow-versus-primary checks of migrating keys (after a terminal call).
     *
     * @throws IllegalStateException before the terminal call
     */
    public DataStream<ValidationReport> validation() {
        return built("validation").validation;
    }

    /**
     * The scaling decisions (after a terminal call).
     *
     * @throws IllegalStateException before the terminal call, or if {@code keyshift.scaling.capacity} is not set (the
     *         stage makes none)
     */
    public DataStream<ScalingDecision> scalingDecisions() {
        Built b = built("scalingDecisions");
        if (b.scaling == null) {
            throw new IllegalStateException(ScalingOptions.CAPACITY.key() + " is not set: this stage makes no "
                    + "scaling decisions");
        }
        return b.scaling;
    }

    /**
     * The side output {@code tag} of the user's functions (authoritative outputs only) and, for a window stage whose
     * {@link KeyshiftWindowedStream#sideOutputLateData} named {@code tag}, its late records too (as under
     * {@code keyBy}, where the window operator's late records and its function's outputs to that tag share one side
     * output); after a terminal call.
     *
     * @throws NullPointerException for a null tag
     * @throws IllegalStateException before the terminal call
     */
    @SuppressWarnings("unchecked")
    public <X> DataStream<X> sideOutput(OutputTag<X> tag) {
        Objects.requireNonNull(tag, "output tag");
        Built b = built("sideOutput");
        DataStream<X> out = b.keyed.getSideOutput(tag);
        if (b.merger != null) {
            // the split merger's, with the window's max timestamp, once per tag (one operator and uid per tag)
            DataStream<X> merged = (DataStream<X>) mergerSideOutputs.computeIfAbsent(tag.getId(), id ->
                    io.keyshift.migration.PartialMerger.restamped(b.merger, tag,
                            StageUids.splitMergerSideOutput(uidPrefix, id)));
            out = out.union(merged);
        }
        if (b.lateDataTag != null && b.lateDataTag.equals(tag)) {
            return ((DataStream<X>) b.lateData).union(out);
        }
        return out;
    }

    /**
     * Cleans and checks the user's functions as Flink's own {@code DataStream} calls do ({@code env.clean}: the closure
     * cleaner, then a serialization check), before build adds anything: Flink's window and keyed operators do it too,
     * but only after keyshift's router, profiler and forecaster have joined the job graph.
     *
     * @throws org.apache.flink.api.common.InvalidProgramException for a function that cannot be serialized
     */
    void checkSerializable(Object... functions) {
        for (Object f : functions) {
            if (f != null) {
                input.getExecutionEnvironment().clean(f);
            }
        }
    }

    /** The serializer settings of the input's environment (as the stage's operators get them). */
    SerializerConfig serializerConfig() {
        return input.getExecutionEnvironment().getConfig().getSerializerConfig();
    }

    /** Number of key groups of the keyed logic: the environment's max parallelism, or keyshift.max-parallelism. */
    public int maxParallelism() {
        int env = input.getExecutionEnvironment().getConfig().getMaxParallelism();
        return env > 0 ? env : config.get(JobOptions.DEFAULT_MAX_PARALLELISM);
    }

    /** Parallelism of the keyed logic. */
    public int parallelism() {
        return parallelism > 0 ? parallelism : input.getExecutionEnvironment().getParallelism();
    }

    /** The uid prefix. */
    public String uidPrefix() {
        return uidPrefix;
    }

    ReadableConfig config() {
        return config;
    }

    /**
     * A copy of this stage's {@code keyshift.*} options as configured (defaults not included; read them with their
     * options). After the terminal call, {@code keyshift.plan.pinned-keys} holds the keys' canonical ids (as the
     * key's text form reads them back; under {@code keyshift.privacy.key-secret} plans name them by their pseudonyms
     * instead, which the stage derives from these).
     */
    public Configuration options() {
        return new Configuration(config);
    }

    TypeInformation<T> inputType() {
        return input.getType();
    }

    TypeInformation<K> keyType() {
        return keyType;
    }

    /** The type of the stage's keys, as {@link KeyedStream#getKeyType()}. */
    public TypeInformation<K> getKeyType() {
        return keyType;
    }

    double splitThreshold() {
        return config.get(PlanOptions.SPLIT_THRESHOLD);
    }

    /** @throws IllegalStateException once the stage is built (its terminal call made) */
    void checkNotBuilt() {
        if (built != null) {
            throw new IllegalStateException("this keyshift stage is already built; call Keyshift.keyBy again (with "
                    + "another uidPrefix) for another keyed computation");
        }
    }

    private Built built(String method) {
        if (built == null) {
            throw new IllegalStateException(method + "() reads what the stage built: call window(...).aggregate/"
                    + "reduce/process or process(...) first");
        }
        return built;
    }

    /** What the terminal call needs to add the keyed logic. */
    final class Stage {
        final KeyCodec<K> codec;
        final SerializerConfig serializerConfig;
        final OutputTag<ResultCheck> checkTag;
        final int parallelism;
        final int maxParallelism;
        /** Parallelism of the results path (shadow validator, split merger, mismatch reverts). */
        final int resultsParallelism;
        SingleOutputStreamOperator<?> merger;
        /** The user's late-data tag and stream (window stages with sideOutputLateData), else null. */
        OutputTag<?> lateDataTag;
        DataStream<?> lateData;

        Stage(KeyCodec<K> codec, SerializerConfig serializerConfig, OutputTag<ResultCheck> checkTag, int parallelism,
              int maxParallelism, int resultsParallelism) {
            this.codec = codec;
            this.serializerConfig = serializerConfig;
            this.checkTag = checkTag;
            this.parallelism = parallelism;
            this.maxParallelism = maxParallelism;
            this.resultsParallelism = resultsParallelism;
        }

        String name(String what) {
            return "keyshift[" + uidPrefix + "] " + what;
        }

        String uid(String what) {
            return uidPrefix + "-" + what;
        }

        TypeInformation<K> keyType() {
            return keyType;
        }
    }

    /** Adds the keyed logic to the keyed envelopes; returns the operator whose output is the result. */
    interface KeyedLogic<T, K, R> {
        SingleOutputStreamOperator<R> add(KeyedStream<Envelope<T, K>, RoutingKey<K>> keyed,
                                          KeyshiftStream<T, K>.Stage stage);
    }

    /** True if {@code t} is a keyshift stage's scaling operator. */
    private static boolean isScalingOperator(org.apache.flink.api.dag.Transformation<?> t) {
        return t instanceof org.apache.flink.streaming.api.transformations.TwoInputTransformation<?, ?, ?> two
                && two.getOperatorFactory() instanceof org.apache.flink.streaming.api.operators.SimpleOperatorFactory<?> f
                && f.getOperator() instanceof ScalingOperator;
    }

    /**
     * Builds the stage around the keyed logic.
     *
     * @param stateHorizonMillis how far the logic's state reaches back
     * @param windows the logic's windows, whose results a shadow phase compares (null for a keyed process function)
     * @param windowsAligned the logic's windows fall on planning-window boundaries (splits need no pre-roll)
     * @param ownershipMarkers the router tells the keyed logic about migrations (keyed process functions)
     * @param splitThreshold the planner's split threshold (0 where partials cannot be merged)
     * @param envelopesInState the keyed logic keeps the envelopes themselves in state (Flink's window contents of
     *                         {@code process(ProcessWindowFunction)}): they cross the exchange in their state format,
     *                         each with its key; else in the shorter exchange format ({@link EnvelopeWireSerializer})
     */
    <R> DataStream<R> build(long stateHorizonMillis, RepartitionPlanner.ComparedWindows windows,
                            boolean windowsAligned, boolean ownershipMarkers,
                            double splitThreshold, boolean envelopesInState, KeyedLogic<T, K, R> logic) {
        checkNotBuilt();
        KeyshiftConfig.validate(config);
        StreamExecutionEnvironment env = input.getExecutionEnvironment();
        org.apache.flink.api.common.RuntimeExecutionMode mode =
                env.getConfiguration().get(org.apache.flink.configuration.ExecutionOptions.RUNTIME_MODE);
        if (mode != org.apache.flink.api.common.RuntimeExecutionMode.STREAMING) {
            // in BATCH a source's watermarks are dropped and the control path runs after the routers' task ends:
            // no plan could ever come, and the routers would hold every record
            throw new IllegalArgumentException("keyshift runs in STREAMING execution mode only (it plans by event "
                    + "time as records flow), but " + org.apache.flink.configuration.ExecutionOptions.RUNTIME_MODE
                    .key() + " is " + mode + (mode == org.apache.flink.api.common.RuntimeExecutionMode.AUTOMATIC
                    ? " (BATCH for bounded inputs)" : "") + ": set it to STREAMING; a bounded input runs to its end "
                    + "in STREAMING too");
        }
        if (env.getConfiguration().get(org.apache.flink.configuration.JobManagerOptions.SCHEDULER_MODE)
                == org.apache.flink.configuration.SchedulerExecutionMode.REACTIVE) {
            // reactive mode runs every vertex at its max parallelism: the profiler, forecaster and planner, which see
            // every router's reports in one place, would each plan from a part
            throw new IllegalArgumentException("keyshift does not run under Flink's reactive mode ("
                    + org.apache.flink.configuration.JobManagerOptions.SCHEDULER_MODE.key() + ": reactive runs its "
                    + "profiler, forecaster and planner, which must run at 1 subtask, at as many as there are slots): "
                    + "remove it; keyshift scales its keyed operator itself (keyshift.scaling.*)");
        }
        if (broadcasts(input.getTransformation())) {
            // keyBy after broadcast() keys the records once; keyshift's routers would each take every record
            throw new IllegalArgumentException("keyshift cannot key a broadcast stream: every router subtask would "
                    + "take every record, and each window would count it once per subtask; key the stream before "
                    + "broadcast(), or drop broadcast() (keyBy repartitions anyway)");
        }
        // another stage of this job with the same prefix has already added its router (the environment forgets its
        // transformations when it executes them, so a job built after the last one ran starts afresh)
        String routerUid = uidPrefix + "-router";
        if (env.getTransformations().stream().anyMatch(t -> routerUid.equals(t.getUid()))) {
            throw new IllegalStateException("uid prefix '" + uidPrefix + "' is used by another keyshift stage of this "
                    + "job; give each stage its own with KeyshiftStream#uidPrefix");
        }
        int p = parallelism();
        int maxP = maxParallelism();
        int envMaxP = env.getConfig().getMaxParallelism();
        java.util.Optional<Integer> stageMaxP = config.getOptional(JobOptions.DEFAULT_MAX_PARALLELISM);
        if (envMaxP > 0 && stageMaxP.isPresent() && stageMaxP.get() != envMaxP) {
            // the environment's sets the key groups: the stage's was ignored, and a job that later drops the
            // environment's would change the key groups under its savepoints
            throw new IllegalArgumentException(JobOptions.DEFAULT_MAX_PARALLELISM.key() + " is " + stageMaxP.get()
                    + " but the environment's max parallelism (pipeline.max-parallelism) is " + envMaxP + ", which "
                    + "sets the key groups: leave " + JobOptions.DEFAULT_MAX_PARALLELISM.key() + " unset or make them "
                    + "equal");
        }
        if (p > maxP) {
            throw new IllegalArgumentException("the keyed parallelism " + p + " exceeds the number of key groups "
                    + maxP + " (pipeline.max-parallelism / " + JobOptions.DEFAULT_MAX_PARALLELISM.key() + ")");
        }
        // every check that can fail comes before the first operator joins the job graph: a caller that catches the
        // error and builds again must find the environment as it was
        KeyshiftConfig.checkScalingBounds(config, maxP);
        KeyshiftConfig.checkScaledParallelism(config, p);
        if (config.get(ScalingOptions.CAPACITY) > 0 && env.getTransformations().stream().anyMatch(
                KeyshiftStream::isScalingOperator)) {
            // the autoscaler reads one gauge summed over the job's operators: two stages' decisions would add up
            throw new IllegalArgumentException("another keyshift stage of this job already scales ("
                    + ScalingOptions.CAPACITY.key() + " set): a job has at most one stage with scaling, since the "
                    + "autoscaler applies the sum of the stages' decided parallelisms; set it on one stage only");
        }
        if (config.get(PlanOptions.ON_MISMATCH) == PlanOptions.OnMismatch.REVERT
                && config.get(PlanOptions.VALIDATION) == io.keyshift.plan.ValidationPolicy.Mode.NONE
                && windowsAligned && !ownershipMarkers) {
            // no migration of such a stage has a shadow phase (correctness needs none, and none is validated), so
            // no shadow result is ever compared and no key is ever reverted
            LOG.warn("{} is REVERT but {} is NONE and stage '{}' has tumbling windows aligned with {}: no migration "
                    + "gets a shadow phase, so nothing is compared and no key is reverted; set {} to SAMPLE or ALL",
                    PlanOptions.ON_MISMATCH.key(), PlanOptions.VALIDATION.key(), uidPrefix, JobOptions.WINDOW.key(),
                    PlanOptions.VALIDATION.key());
        }
        long window = config.get(JobOptions.WINDOW).toMillis();
        SerializerConfig serializerConfig = env.getConfig().getSerializerConfig();
        KeyCodec<K> codec = KeyCodec.forType(keyType, serializerConfig);
        // the ids of the keys themselves (a key secret's pseudonyms are made from them)
        KeyCodec<K> keyIds = codec;
        DataStream<String> userControl = control;
        String keySecret = config.getOptional(PrivacyOptions.KEY_SECRET).orElse(null);
        if (keySecret != null && ownershipMarkers) {
            throw new IllegalArgumentException(PrivacyOptions.KEY_SECRET.key() + " is not supported for keyed "
                    + "process functions (process(...)) yet: their migrations name keys to the keyed stage; "
                    + "use it with window(...) stages, or leave it unset");
        }
        String unordered = KeyCodec.unorderedPart(keyType);
        if (unordered != null) {
            // plans name a key by its serialized form (under a secret, by the pseudonym made from it): equal keys
            // written in another order got two names, the planner took them for two keys and planned each, and the
            // routers (under a secret the pseudonyms; without one the keys, by equality) followed one entry while
            // the key's state was where the other had sent it: a key's records routed apart (two results per window)
            throw new IllegalArgumentException("keyshift needs keys whose serialized form follows their value alone "
                    + "(plans name a key by it" + (keySecret != null ? ", and " + PrivacyOptions.KEY_SECRET.key()
                    + " makes its pseudonyms from it" : "") + "), but " + unordered + " of key type " + keyType
                    + " is written in its iteration order (equal keys could be named twice and routed apart): key by "
                    + "a type without unsorted maps or sets (a sorted one, a list, or a string made from it)");
        }
        if (config.getOptional(PlanOptions.PINNED_KEYS).isPresent()) {
            // as plans name them (canonical ids, or pseudonyms); an option not set stays unset (options() lists
            // what was set)
            config.set(PlanOptions.PINNED_KEYS, pinnedIds(config.get(PlanOptions.PINNED_KEYS), codec,
                    keySecret != null, uidPrefix));
        }
        KeyPseudonymizer pseudonymizer = null;
        if (keySecret != null) {
            pseudonymizer = KeyPseudonymizer.fromSecret(keySecret);
            codec = KeyCodec.pseudonymous(codec, pseudonymizer);
        }
        // the router makes each report afresh and keeps no reference to it: chained, it is passed on uncopied
        OutputTag<KeyLoadSample> sampleTag = new OutputTag<>(uidPrefix + "-samples",
                new SharedAvroTypeInfo<>(KeyLoadSample.class));
        OutputTag<WindowLoad> loadTag = new OutputTag<>(uidPrefix + "-loads",
                new io.keyshift.serde.TrustedAvroTypeInfo<>(WindowLoad.class));
        OutputTag<ResultCheck> checkTag = new OutputTag<>(uidPrefix + "-checks", TypeInformation.of(ResultCheck.class));
        int resultsPath = JobOptions.resultsPathParallelism(config.get(JobOptions.RESULTS_PATH_PARALLELISM), p);
        if (resultsPath > maxP) {
            LOG.warn("{} is {}, above the {} key groups of stage '{}': the results path runs at {}",
                    JobOptions.RESULTS_PATH_PARALLELISM.key(), resultsPath, maxP, uidPrefix, maxP);
        }
        Stage stage = new Stage(codec, serializerConfig, checkTag, p, maxP, Math.min(maxP, resultsPath));
        if (pseudonymizer != null && userControl != null) {
            // commands may name keys raw: they become pseudonyms before any keyshift operator stores them
            userControl = userControl.map(new io.keyshift.control.ControlKeyPseudonyms(pseudonymizer, keyIds))
                    .returns(Types.STRING)
                    .name(stage.name("control pseudonyms")).uid(stage.uid("control-pseudonyms"))
                    .setParallelism(userControl.getParallelism());
        }
        // keyed logic at the input's parallelism: a rescale (the adaptive scheduler changes every vertex together)
        // keeps them equal, and the routers' parallelism at run time is the keyed stage's
        boolean followsRouters = p == (input.getParallelism() > 0 ? input.getParallelism() : env.getParallelism());

        KeyshiftRouter<T, K> router = new KeyshiftRouter<>(new KeyshiftRouter.Settings(window, maxP, p,
                config.get(ProfilerOptions.SKETCH_SIZE), config.get(ProfilerOptions.SAMPLING_RATE),
                config.get(RouteOptions.MAX_WAITING_RECORDS), ownershipMarkers, followsRouters), selector, codec,
                input.getType(),
                sampleTag).withSamplingRates(knownSamplingRates)
                .withNoWatermarkTimeout(config.get(RouteOptions.NO_WATERMARK_TIMEOUT))
                .withNaturalFirstWindow(config.get(RouteOptions.NATURAL_FIRST_WINDOW))
                .withHashFormat(config.getOptional(RouteOptions.HASH_FORMAT).orElse(null));
        SingleOutputStreamOperator<Envelope<T, K>> routed = input
                .transform(stage.name("router"), new EnvelopeTypeInfo<>(input.getType(), keyType,
                                envelopesInState ? null : selector),
                        CoordinatedOperators.router(router, uidPrefix))
                .uid(stage.uid("router"))
                .setParallelism(input.getParallelism());
        if (alignedSourceInChain(input.getTransformation())) {
            // A source with watermark alignment reports its end to the alignment only once its whole task has
            // finished; a router chained to it that still waits for a lease at the end of the input would keep the
            // task, and so every aligned reader paused behind this one's last watermark, from ever finishing. In a
            // task of its own the source finishes, its readers leave the alignment, and the plans move on.
            routed.startNewChain();
        }

        RepartitionPlanner.Settings planSettings = KeyshiftConfig.planSettings(config, maxP, p, stateHorizonMillis,
                splitThreshold, windowsAligned, ownershipMarkers, windows);
        // The reports go to the profiler the moment they are made (buffer timeout 0 on this edge alone, through a
        // forwarding map chained to the router; a stream's buffer timeout is its producer's): a plan's round trip is
        // not held up by a network buffer that takes up to execution.buffer-timeout to fill with a few small reports.
        SingleOutputStreamOperator<KeyLoadSample> reports = routed.getSideOutput(sampleTag)
                .map(new Forward<>()).returns(new SharedAvroTypeInfo<>(KeyLoadSample.class))
                .name(stage.name("reports")).uid(stage.uid("reports"))
                .setParallelism(input.getParallelism())
                .setBufferTimeout(0);
        SingleOutputStreamOperator<WindowProfile> profiles = reports
                .transform(stage.name("profiler"), TypeInformation.of(WindowProfile.class),
                        new KeyDistributionProfiler(window, 4 * config.get(ProfilerOptions.TOP_K), maxP, loadTag,
                                maxGapWindows(config, window), seasonalPeriod(config, window)))
                .uid(stage.uid("profiler"))
                .setParallelism(1)
                .setMaxParallelism(maxP)
                .setBufferTimeout(0);
        // keyed under one key: the forecaster's per-series state lives in the keyed state backend, so that RocksDB's
        // incremental checkpoints upload only what changed (see LoadForecaster)
        // with a control input, the forecaster takes its anomaly-z commands (the planner the rest)
        // as many steps as the planner reads: a shadow phase of several windows (a keyed process function's
        // declared horizon, sliding windows) puts the first window a move owns beyond the lease lead
        LoadForecaster forecaster = new LoadForecaster(KeyshiftConfig.forecastSettings(config, maxP,
                window, KeyshiftConfig.forecastHorizon(config, planSettings)))
                .withPseudonymousKeys(!codec.reversible())
                .withKeyNaming(codec.naming())
                .withWindow(window);
        KeyedStream<WindowProfile, Integer> keyedProfiles = profiles.keyBy(new LoadForecaster.SingleKey());
        SingleOutputStreamOperator<LoadForecast> forecasts = (userControl == null
                ? keyedProfiles.transform(stage.name("forecaster"), new SharedAvroTypeInfo<>(LoadForecast.class), forecaster)
                : keyedProfiles.connect(userControl.keyBy(new LoadForecaster.SingleLineKey()))
                        .transform(stage.name("forecaster"), new SharedAvroTypeInfo<>(LoadForecast.class),
                                forecaster.withControlInput().withControlWatermarkTimeout(
                                        config.get(RouteOptions.NO_WATERMARK_TIMEOUT))))
                .uid(stage.uid("forecaster"))
                .setParallelism(1)
                .setMaxParallelism(maxP);
        DataStream<WindowLoad> loads = profiles.getSideOutput(loadTag);

        KeyedStream<Envelope<T, K>, RoutingKey<K>> keyed = routed.keyBy(Envelope::routingKey,
                new RoutingKeyTypeInfo<>(keyType));
        SingleOutputStreamOperator<R> result = logic.add(keyed, stage).setParallelism(p).setMaxParallelism(maxP);
        DataStream<ValidationReport> validation = result.getSideOutput(checkTag)
                .keyBy(c -> c.key, Types.STRING)
                .process(new ShadowValidator(), new io.keyshift.serde.TrustedAvroTypeInfo<>(ValidationReport.class))
                .name(stage.name("shadow validator"))
                .uid(stage.uid("validator"))
                .setParallelism(stage.resultsParallelism)
                .setMaxParallelism(maxP);

        // The planner comes last in the graph: with on-mismatch REVERT its control input carries the validation's
        // mismatches (the loop back to the routers runs through the plans' coordinator, not through the graph).
        PlannerOperator plannerOperator = new PlannerOperator(planSettings, followsRouters)
                .withScaling(config.get(ScalingOptions.CAPACITY) > 0)
                .withKeyNaming(codec.naming())
                .withKeyIds(codec);
        DataStream<String> controlInput = userControl;
        if (config.get(PlanOptions.ON_MISMATCH) == PlanOptions.OnMismatch.REVERT) {
            DataStream<String> reverts = validation
                    .process(new MismatchReverts()).returns(Types.STRING)
                    .name(stage.name("mismatch reverts")).uid(stage.uid("mismatch-reverts"))
                    .setParallelism(stage.resultsParallelism)
                    .setMaxParallelism(maxP);
            if (controlInput != null) {
                // the user's watermark in band: the joined watermark is the reverts' (they trail), and plans must
                // still see every user command up to their start
                controlInput = controlInput.connect(reverts).transform(stage.name("control progress"), Types.STRING,
                                new io.keyshift.control.ControlProgress())
                        .uid(stage.uid("control-progress"))
                        .setParallelism(1)
                        .setMaxParallelism(maxP);
                plannerOperator.withUserControlProgress();
            } else {
                controlInput = reverts;
            }
            plannerOperator.withReverts(config.get(PlanOptions.ON_MISMATCH_LAG_WINDOWS) * window,
                    config.get(PlanOptions.ON_MISMATCH_HOLD).toMillis());
        }
        SingleOutputStreamOperator<RoutingPlan> plans = controlInput == null
                ? forecasts.transform(stage.name("planner"), new SharedAvroTypeInfo<>(RoutingPlan.class),
                        CoordinatedOperators.planner(plannerOperator, uidPrefix))
                : forecasts.connect(controlInput).transform(stage.name("planner"),
                        new SharedAvroTypeInfo<>(RoutingPlan.class), CoordinatedOperators.controlledPlanner(
                                plannerOperator.withControl(config.get(PlanOptions.CONTROL_ROLLBACK_VERSIONS))
                                        .withRevertHold(config.get(PlanOptions.ON_MISMATCH_HOLD).toMillis())
                                        .withControlWatermarkTimeout(config.get(RouteOptions.NO_WATERMARK_TIMEOUT)),
                                uidPrefix));
        plans.uid(stage.uid("planner"))
                .setParallelism(1)
                .setMaxParallelism(maxP);

        DataStream<ScalingDecision> scaling = null;
        double capacity = config.get(ScalingOptions.CAPACITY);
        if (capacity > 0) {
            int maxScale = config.get(ScalingOptions.MAX_PARALLELISM);
            ScalingPlanner.Settings s = new ScalingPlanner.Settings(capacity, config.get(PlanOptions.UTILIZATION_HIGH),
                    config.get(PlanOptions.UTILIZATION_CRITICAL), config.get(PlanOptions.UTILIZATION_SCALE_IN),
                    config.get(ScalingOptions.MIN_PARALLELISM), maxScale > 0 ? maxScale : maxP, maxP,
                    config.get(ScalingOptions.COOLDOWN_WINDOWS), config.get(ScalingOptions.SCALE_IN_WINDOWS),
                    window, io.keyshift.config.KeyshiftConfig.seasons(config, window).stream()
                            .filter(m -> m >= 2).findFirst().orElse(0));
            // the forecasts as the planner passes them on: in step with the control input (scale / unscale)
            scaling = plans.getSideOutput(PlannerOperator.CONTROLLED_FORECASTS).connect(loads)
                    .transform(stage.name("scaling decisions"),
                            new io.keyshift.serde.TrustedAvroTypeInfo<>(ScalingDecision.class),
                            new ScalingOperator(s, p, config.get(ScalingOptions.FOLLOW_JOB_ON_RESTORE),
                                    ScalingOptions.policy(config)).withLookAhead(config.get(PlanOptions.LEASE_LEAD)
                                    + config.get(ScalingOptions.HORIZON))
                                    .withSplitting(planSettings.splitThreshold() > 0))
                    .uid(stage.uid("scaling"))
                    .setParallelism(1)
                    .setMaxParallelism(maxP);
        }
        built = new Built(profiles, plans, forecasts, loads, validation, scaling, result, stage.merger,
                controlInput == null ? null : plans.getSideOutput(PlannerOperator.CONTROL_REJECTED),
                stage.lateDataTag, stage.lateData);
        @SuppressWarnings("unchecked")
        DataStream<R> merged = stage.merger == null ? result : result.union((DataStream<R>) stage.merger);
        return merged;
    }

    /** The streams of a built stage. */
    private record Built(DataStream<WindowProfile> profiles, DataStream<RoutingPlan> plans, DataStream<LoadForecast> forecasts,
                         DataStream<WindowLoad> loads, DataStream<ValidationReport> validation,
                         DataStream<ScalingDecision> scaling, SingleOutputStreamOperator<?> keyed,
                         SingleOutputStreamOperator<?> merger, DataStream<String> controlRejected,
                         OutputTag<?> lateDataTag, DataStream<?> lateData) {}

    /**
     * Empty windows the profiler profiles after the last window with records: two of the forecaster's longest season,
     * and at least {@link KeyDistributionProfiler#DEFAULT_MAX_GAP_WINDOWS} (a night or a weekend without records
     * stays in the seasonal history; an event-time gap of years costs a bounded number of plans).
     */
    static int maxGapWindows(org.apache.flink.configuration.ReadableConfig config, long windowMillis) {
        int longest = 0;
        for (int m : io.keyshift.config.KeyshiftConfig.seasons(config, windowMillis)) {
            longest = Math.max(longest, m);
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.max(KeyDistributionProfiler.DEFAULT_MAX_GAP_WINDOWS, 2L * longest));
    }

    /**
     * The forecaster's seasonal period in windows: the least common multiple of its seasons (a week of hourly
     * windows for the default day and week), or the longest season if that multiple exceeds the profiler's gap bound;
     * 1 without seasons.
     */
    static int seasonalPeriod(org.apache.flink.configuration.ReadableConfig config, long windowMillis) {
        int bound = maxGapWindows(config, windowMillis);
        long lcm = 1;
        int longest = 1;
        for (int m : io.keyshift.config.KeyshiftConfig.seasons(config, windowMillis)) {
            if (m < 2) {
                continue; // no season
            }
            longest = Math.max(longest, m);
            if (lcm <= bound) {
                lcm = lcm / gcd(lcm, m) * m;
            }
        }
        return lcm <= bound ? (int) lcm : longest;
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /**
     * Whether {@code t} is, or is behind (through transformations with one input only), a source with watermark
     * alignment ({@code WatermarkStrategy#withWatermarkAlignment}).
     */
    static boolean alignedSourceInChain(org.apache.flink.api.dag.Transformation<?> t) {
        for (int depth = 0; t != null && depth < 100; depth++) {
            if (t instanceof org.apache.flink.streaming.api.transformations.SourceTransformation<?, ?, ?> source) {
                return source.getWatermarkStrategy() != null
                        && source.getWatermarkStrategy().getAlignmentParameters().isEnabled();
            }
            // one input (an operator, a timestamp assigner, a side output, a forward edge): the router may be
            // chained to it; behind a non-forward edge the router's own chain costs nothing more
            if (t.getInputs().size() != 1) {
                return false;
            }
            t = t.getInputs().get(0);
        }
        return false;
    }

    /** Passes records on unchanged (a chained hop that gives one edge its own buffer timeout). */
    static final class Forward<X> implements org.apache.flink.api.common.functions.MapFunction<X, X> {
        private static final long serialVersionUID = 1L;

        @Override
        public X map(X x) {
            return x;
        }
    }

    /**
     * With {@code keyshift.migration.on-mismatch=REVERT}: each MISMATCH of the shadow validation as a control line
     * {@code AT,revert,KEY,KEY_GROUP,SHADOW_KEY_GROUP,WINDOW_START,REASON} (AT = the report's time: when both sides
     * of the check were complete; KEY_GROUP = the primary's, the one the key came from; the revert applies only if the
     * key has been routed to the shadow's key group since the checked window's start).
     */
    static final class MismatchReverts extends org.apache.flink.streaming.api.functions.ProcessFunction<ValidationReport, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(ValidationReport r, Context ctx, org.apache.flink.util.Collector<String> out) {
            if (r.getOutcome() != io.keyshift.avro.ValidationOutcome.MISMATCH || r.getPrimaryKeyGroup() < 0) {
                return;
            }
            long at = ctx.timestamp() != null ? ctx.timestamp() : r.getWindowEnd();
            // marked as keyshift's own line: its key is a key of the stream (U+FFFD included), not a user's text
            out.collect(io.keyshift.control.ControlCommand.generatedRevert(io.keyshift.control.ControlCommand
                    .revertLine(at, r.getKey(), r.getPrimaryKeyGroup(),
                    r.getShadowKeyGroup(), r.getWindowStart(),
                    "shadow result of [" + java.time.Instant.ofEpochMilli(r.getWindowStart()) + ", "
                            + java.time.Instant.ofEpochMilli(r.getWindowEnd()) + ") in key group "
                            + r.getShadowKeyGroup() + " disagreed with the primary's in key group "
                            + r.getPrimaryKeyGroup() + " (checksums " + r.getShadowChecksum() + " / "
                            + r.getPrimaryChecksum() + ")")));
        }
    }

    /**
     * Whether records of {@code t} reach the next operator broadcast: a broadcast() partitioning of it, or of an input
     * of a union it is, at any depth (keyBy's partitioner replaces those; the router's edge would keep them).
     */
    private static boolean broadcasts(org.apache.flink.api.dag.Transformation<?> t) {
        if (t instanceof org.apache.flink.streaming.api.transformations.PartitionTransformation<?> partition) {
            return partition.getPartitioner()
                    instanceof org.apache.flink.streaming.runtime.partitioner.BroadcastPartitioner<?>;
        }
        if (t instanceof org.apache.flink.streaming.api.transformations.UnionTransformation<?> union) {
            return union.getInputs().stream().anyMatch(KeyshiftStream::broadcasts);
        }
        return false;
    }
}
