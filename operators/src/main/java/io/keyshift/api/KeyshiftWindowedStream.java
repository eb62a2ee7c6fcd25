package io.keyshift.api;

import io.keyshift.config.JobOptions;
import io.keyshift.config.PlanOptions;
import io.keyshift.migration.AggregateWindowFunction;
import io.keyshift.migration.EnvelopeAggregate;
import io.keyshift.migration.FullWindowFunction;
import io.keyshift.migration.OwnedAccumulator;
import io.keyshift.migration.OwnedAccumulatorSerializer;
import io.keyshift.migration.PartialMerger;
import io.keyshift.route.Envelope;
import io.keyshift.route.Role;
import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.api.common.functions.ReduceFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple5;
import org.apache.flink.api.java.typeutils.TupleTypeInfo;
import org.apache.flink.api.java.typeutils.TypeExtractor;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.datastream.WindowedStream;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.api.windowing.windows.Window;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.time.Duration;
import java.util.Objects;

/**
 * A {@link KeyshiftStream} in windows, like {@link WindowedStream}: {@link #aggregate}, {@link #reduce} or
 * {@link #process} end it. Results are exactly those of the same window over a plain {@code keyBy} for every record
 * that {@code keyBy} would not drop as late, for window functions whose result does not depend on the arrival order of
 * a key's records (a late record {@code keyBy} drops may still count here, and with allowed lateness a window that
 * {@code keyBy} fires on time and again for a late record may fire once, with the final result, behind the routers'
 * held-back watermark; README, "Migration guarantees"): a window's
 * result leaves from the key group that owns the key at the window's max timestamp, and while a key migrates, the
 * windows of its shadow phase are computed at both owners and compared (see {@link KeyshiftStream#validation()}).
 *
 * <p>Hot-key splitting ({@code keyshift.plan.split-threshold > 0}) spreads a very hot key over several key groups and
 * merges the partial windows with the aggregate's own {@code merge} (or the reduce function); {@code process} cannot
 * merge partial windows and refuses it. A window function given to {@code aggregate} or {@code reduce} runs on a split
 * key's merged window in the split merger, whose context has no per-window state: with {@code split-threshold} above
 * 0, {@code context.windowState()} fails the job for good (a {@code SuppressRestartsException} whose cause is an
 * {@link UnsupportedOperationException} naming the option) at every window,
 * so that a function that uses it fails at its first window, not when a key first turns hot. A window function that
 * uses it needs {@code split-threshold} 0 (the library's default).
 *
 * <p>A window function has per-window state only: {@code context.globalState()} fails the job for good (a
 * {@code SuppressRestartsException} whose cause is an {@link UnsupportedOperationException}), and so does keyed state
 * from its runtime context or its
 * {@code CheckpointedFunction#initializeState} (both would live with one stay of the key in one key group, left
 * behind by a migration). A window function that is a {@code CheckpointedFunction} gets Flink's calls (operator
 * state as under {@code keyBy}). An aggregate or reduce function cannot be a {@code RichFunction} (refused, as Flink's
 * {@code WindowedStream} refuses it). State across windows belongs in
 * {@link KeyshiftStream#process(org.apache.flink.streaming.api.functions.KeyedProcessFunction, Duration)}, whose
 * state migrates within its declared horizon.
 *
 * @param <T> the user's record type
 * @param <K> the user's key type
 * @param <W> the window type
 */
public final class KeyshiftWindowedStream<T, K, W extends Window> {
    private final KeyshiftStream<T, K> stream;
    private final WindowShape shape;
    private final WindowAssigner<? super T, W> assigner;
    private long allowedLateness;
    private OutputTag<T> lateDataTag;

    KeyshiftWindowedStream(KeyshiftStream<T, K> stream, WindowShape shape, WindowAssigner<? super T, W> assigner) {
        this.stream = stream;
        this.shape = shape;
        this.assigner = assigner;
    }

    /**
     * Allowed lateness of the windows, as {@link WindowedStream#allowedLateness}.
     *
     * @param lateness at least 0, a whole number of milliseconds (event time is in ms); the state horizon a
     *                 migration must shadow is the window's size + lateness, at most 36,500 days
     * @throws NullPointerException for null
     * @throws IllegalArgumentException for a negative lateness, one with a fraction of a millisecond, or a size +
     *         lateness above 36,500 days (here, or at the terminal call)
     * @throws IllegalStateException after the terminal call
     */
    public KeyshiftWindowedStream<T, K, W> allowedLateness(Duration lateness) {
        Objects.requireNonNull(lateness, "allowed lateness");
        // after the terminal call it would be ignored (the window operator is built)
        stream.checkNotBuilt();
        if (lateness.isNegative()) {
            throw new IllegalArgumentException("allowed lateness must be >= 0, was "
                    + org.apache.flink.util.TimeUtils.formatWithHighestUnit(lateness));
        }
        if (lateness.getNano() % 1_000_000 != 0) {
            // 1.5 ms ran as 1 ms (a keyed process function's horizon and the duration options refuse it alike)
            throw new IllegalArgumentException("allowed lateness must be a whole number of milliseconds, was "
                    + org.apache.flink.util.TimeUtils.formatWithHighestUnit(lateness));
        }
        long millis;
        try {
            millis = lateness.toMillis();
        } catch (ArithmeticException e) {
            millis = Long.MAX_VALUE;
        }
        WindowShape.checkHorizon(millis, "allowed lateness");
        this.allowedLateness = millis;
        return this;
    }

    /**
     * Sends the records that the windows drop as late to the side output {@code tag}, as
     * {@link WindowedStream#sideOutputLateData}; read them with {@link KeyshiftStream#sideOutput(OutputTag)} after
     * the terminal call. A late record comes out unchanged, from the copy routed to the key group that owns the
     * record's last window (for a record of a migration's shadow phase whose last window ends after the switch-over,
     * the new owner's shadow copy; a split key's record from the one key group it went to), and once: with sliding
     * windows whose earlier windows the old owner still counts, it can also be in one of those windows' results where
     * the two owners' watermarks differ by more than a slide when it arrives (README, "Late records"). A record is
     * late when it belongs to a window and, for every window it belongs to, the window's max timestamp (its end - 1)
     * plus the allowed lateness is at or before the keyed stage's watermark, or, where it belongs to none (a gap of
     * hopping windows, slide above size), when its own time plus the allowed lateness is (as in Flink: a record in a
     * gap that is not late is dropped without a trace), which the routers hold back to the plans' lease: keyshift drops, and so sends here,
     * fewer records than a plain {@code keyBy} (README, "Late records").
     *
     * @param tag the side output; its type must be the stream's record type (IllegalArgumentException otherwise)
     * @throws IllegalStateException after the terminal call
     */
    public KeyshiftWindowedStream<T, K, W> sideOutputLateData(OutputTag<T> tag) {
        Objects.requireNonNull(tag, "late data output tag");
        stream.checkNotBuilt();
        if (!tag.getTypeInfo().equals(stream.inputType())) {
            throw new IllegalArgumentException("the late data output tag '" + tag.getId() + "' is of type "
                    + tag.getTypeInfo() + ", but the stream's records are " + stream.inputType() + ": make it with "
                    + "the input DataStream's type, new OutputTag<>(\"" + tag.getId() + "\", input.getType())");
        }
        this.lateDataTag = tag;
        return this;
    }

    /**
     * Incremental aggregation; the aggregate's result is the window's result.
     *
     * @return the windows' results (only the authoritative ones; a split key's merged)
     * @throws org.apache.flink.api.common.functions.InvalidTypesException if the accumulator or result type cannot be
     *         extracted (give them with {@link #aggregate(AggregateFunction, TypeInformation, TypeInformation)})
     * @throws UnsupportedOperationException for a {@code RichFunction} (as Flink's {@code WindowedStream}), or an
     *         accumulator, result or key type without a serializer under the job's settings; the other
     *         {@code aggregate} and {@code reduce} variants too
     * @throws IllegalArgumentException with {@code keyshift.plan.split-threshold} above 0 and a {@code merge} that
     *         throws or returns null for two fresh accumulators (a split key's partial results are merged with it;
     *         where {@code createAccumulator()} returns null, a merge that returns null for two partials fails the
     *         job for good at a split key's first window instead); the other variants too; and what every terminal call refuses ({@link KeyshiftStream}'s description)
     * @throws org.apache.flink.api.common.InvalidProgramException for a function that cannot be serialized
     * @throws IllegalStateException after another terminal call of the stream, or when another stage of the job has
     *         the same uid prefix
     * @throws NullPointerException naming a null argument (each variant)
     */
    public <ACC, R> DataStream<R> aggregate(AggregateFunction<T, ACC, R> function) {
        Objects.requireNonNull(function, "aggregate function");
        String overload = "aggregate(function, accumulatorType, resultType)";
        TypeInformation<ACC> acc = KeyshiftStream.known(TypeExtractor.getAggregateFunctionAccumulatorType(function,
                stream.inputType(), null, true), overload);
        TypeInformation<R> result = KeyshiftStream.known(TypeExtractor.getAggregateFunctionReturnType(function,
                stream.inputType(), null, true), overload);
        return aggregateThen(function, null, acc, result, result);
    }

    /** As {@link #aggregate(AggregateFunction)} with the accumulator and result types given (as Flink's). */
    public <ACC, R> DataStream<R> aggregate(AggregateFunction<T, ACC, R> function,
                                            TypeInformation<ACC> accumulatorType, TypeInformation<R> resultType) {
        Objects.requireNonNull(function, "aggregate function");
        Objects.requireNonNull(resultType, "result type");
        return aggregateThen(function, null, accumulatorType, resultType, resultType);
    }

    /** Incremental aggregation, then the window function on the aggregate's result. */
    public <ACC, V, R> DataStream<R> aggregate(AggregateFunction<T, ACC, V> function,
                                               ProcessWindowFunction<V, R, K, W> windowFunction) {
        Objects.requireNonNull(function, "aggregate function");
        Objects.requireNonNull(windowFunction, "window function");
        String overload = "aggregate(function, windowFunction, accumulatorType, aggregateType, resultType)";
        TypeInformation<ACC> acc = KeyshiftStream.known(TypeExtractor.getAggregateFunctionAccumulatorType(function,
                stream.inputType(), null, true), overload);
        TypeInformation<V> v = KeyshiftStream.known(TypeExtractor.getAggregateFunctionReturnType(function,
                stream.inputType(), null, true), overload);
        return aggregate(function, windowFunction, acc, v, windowResultType(windowFunction, v, overload));
    }

    /** As {@link #aggregate(AggregateFunction, ProcessWindowFunction)} with the types given. */
    public <ACC, V, R> DataStream<R> aggregate(AggregateFunction<T, ACC, V> function,
                                               ProcessWindowFunction<V, R, K, W> windowFunction,
                                               TypeInformation<ACC> accumulatorType, TypeInformation<V> aggregateType,
                                               TypeInformation<R> resultType) {
        // as the overload without types (a null one would pass the aggregate's result on as R: a ClassCastException
        // in the running job, at every restart)
        Objects.requireNonNull(windowFunction, "window function");
        return aggregateThen(function, windowFunction, accumulatorType, aggregateType, resultType);
    }

    /** The aggregations; {@code windowFunction} null = the aggregate's result is the window's (V = R). */
    private <ACC, V, R> DataStream<R> aggregateThen(AggregateFunction<T, ACC, V> function,
                                                    ProcessWindowFunction<V, R, K, W> windowFunction,
                                                    TypeInformation<ACC> accumulatorType,
                                                    TypeInformation<V> aggregateType, TypeInformation<R> resultType) {
        Objects.requireNonNull(function, "aggregate function");
        Objects.requireNonNull(accumulatorType, "accumulator type");
        // as Flink's WindowedStream, which checks it too (the aggregate's result only passes to the window function)
        Objects.requireNonNull(aggregateType, "aggregate type");
        Objects.requireNonNull(resultType, "result type");
        if (function instanceof org.apache.flink.api.common.functions.RichFunction) {
            // as Flink's WindowedStream: the window operator never opens it (its runtime context would be missing)
            throw new UnsupportedOperationException("This aggregate function cannot be a RichFunction (as in Flink's "
                    + "WindowedStream.aggregate): " + function.getClass().getName());
        }
        // before build adds anything: a type without a serializer under this job's settings fails here
        TypeSerializer<R> resultSerializer = resultType.createSerializer(stream.serializerConfig());
        accumulatorType.createSerializer(stream.serializerConfig());
        double split = stream.splitThreshold();
        if (split > 0) {
            // a split key's partial results are merged with it: a stub (common where Flink never merges, tumbling
            // windows) that throws would fail the job at the first split, and again at every restart; one that returns
            // null (an IDE's generated stub) would drop every window of every split key without a word (a result of
            // null fires nothing). A stub that returns one of its arguments cannot be told from a merge
            String stub = null;
            RuntimeException thrown = null;
            ACC empty = function.createAccumulator();
            ACC other = function.createAccumulator();
            try {
                if (function.merge(empty, other) == null && empty != null) {
                    stub = "returns null for two empty accumulators";
                }
            } catch (RuntimeException e) {
                stub = "throws " + e;
                thrown = e;
            }
            if (stub != null) {
                throw new IllegalArgumentException(io.keyshift.config.PlanOptions.SPLIT_THRESHOLD.key() + " > 0 "
                        + "merges a split key's partial results with the aggregate function's merge, but "
                        + function.getClass().getName() + ".merge " + stub + ": implement merge, or leave "
                        + io.keyshift.config.PlanOptions.SPLIT_THRESHOLD.key() + " at 0", thrown);
            }
        }
        stream.checkSerializable(function, windowFunction, assigner);
        @SuppressWarnings("unchecked")
        ProcessWindowFunction<V, R, K, TimeWindow> pwf = (ProcessWindowFunction<V, R, K, TimeWindow>) windowFunction;
        return stream.build(shape.horizon(allowedLateness), shape.compared(), aligned(), false, split, false,
                (keyed, stage) -> {
            OutputTag<Tuple5<K, Long, Long, Integer, ACC>> partialTag = new OutputTag<>(stage.uid("partials"),
                    new TupleTypeInfo<>(stage.keyType(), Types.LONG, Types.LONG, Types.INT, accumulatorType));
            TypeInformation<OwnedAccumulator<ACC>> owned = new OwnedAccumulatorSerializer.TypeInfo<>(accumulatorType);
            OutputTag<Envelope<T, K>> late = lateEnvelopes(keyed, stage);
            SingleOutputStreamOperator<R> op = windowed(keyed, late)
                    .aggregate(new EnvelopeAggregate<T, K, ACC>(function),
                            new AggregateWindowFunction<K, ACC, V, R, TimeWindow>(function, pwf, stage.codec,
                                    resultSerializer, stage.checkTag, partialTag,
                                    allowedLateness, split > 0),
                            owned, owned, resultType)
                    .name(stage.name("window " + function.getClass().getSimpleName()))
                    .uid(stage.uid("window"));
            addLateData(op, late, stage);
            if (split > 0) {
                stage.merger = op.getSideOutput(partialTag)
                        .keyBy(t -> t.f0, stage.keyType())
                        .process(new PartialMerger<K, ACC, V, R>(function, pwf, accumulatorType, allowedLateness,
                                        function instanceof ReduceAggregate<?>),
                                resultType)
                        .name(stage.name("split merger"))
                        .uid(stage.uid("split-merger"))
                        .setParallelism(stage.resultsParallelism)
                        .setMaxParallelism(stage.maxParallelism);
            }
            return op;
        });
    }

    /**
     * As Flink's WindowedStream: a reduce function is never opened by the window operator; and it is cleaned and
     * checked itself, before it is wrapped into an aggregate function (the closure cleaner does not reach into the
     * wrapper's fields at {@code pipeline.closure-cleaner-level: TOP_LEVEL}, and a failed check would name the
     * wrapper's interface, AggregateFunction, not the user's ReduceFunction).
     */
    private void refuseRich(ReduceFunction<?> function) {
        Objects.requireNonNull(function, "reduce function");
        if (function instanceof org.apache.flink.api.common.functions.RichFunction) {
            throw new UnsupportedOperationException("ReduceFunction of reduce can not be a RichFunction (as in Flink's "
                    + "WindowedStream.reduce): " + function.getClass().getName());
        }
        stream.checkSerializable(function);
    }

    /**
     * Incremental reduction; the reduced record is the window's result.
     *
     * @throws UnsupportedOperationException for a {@code RichFunction} (as Flink's {@code WindowedStream.reduce}),
     *         or a record or key type without a serializer under the job's settings
     * @throws org.apache.flink.api.common.InvalidProgramException for a function that cannot be serialized
     * @throws IllegalArgumentException what every terminal call refuses ({@link KeyshiftStream}'s description)
     * @throws IllegalStateException after another terminal call of the stream, or when another stage of the job has
     *         the same uid prefix
     * @throws NullPointerException naming a null argument (each variant)
     */
    public DataStream<T> reduce(ReduceFunction<T> function) {
        refuseRich(function);
        return aggregateThen(new ReduceAggregate<>(function), null, stream.inputType(), stream.inputType(),
                stream.inputType());
    }

    /** Incremental reduction, then the window function on the reduced record. */
    public <R> DataStream<R> reduce(ReduceFunction<T> function, ProcessWindowFunction<T, R, K, W> windowFunction) {
        return reduce(function, windowFunction, windowResultType(windowFunction, stream.inputType(),
                "reduce(function, windowFunction, resultType)"));
    }

    /** As {@link #reduce(ReduceFunction, ProcessWindowFunction)} with the result type given. */
    public <R> DataStream<R> reduce(ReduceFunction<T> function, ProcessWindowFunction<T, R, K, W> windowFunction,
                                    TypeInformation<R> resultType) {
        refuseRich(function);
        Objects.requireNonNull(windowFunction, "window function");
        return aggregate(new ReduceAggregate<>(function), windowFunction, stream.inputType(), stream.inputType(),
                resultType);
    }

    /**
     * The window function on all of the window's records (kept in window state until it fires).
     *
     * @throws IllegalArgumentException with {@code keyshift.plan.split-threshold} above 0 (partial windows of a split
     *         key cannot be merged without an aggregate); and what every terminal call refuses
     *         ({@link KeyshiftStream}'s description)
     * @throws org.apache.flink.api.common.functions.InvalidTypesException if the result type cannot be extracted
     *         (give it with {@link #process(ProcessWindowFunction, TypeInformation)})
     * @throws org.apache.flink.api.common.InvalidProgramException for a function that cannot be serialized
     * @throws UnsupportedOperationException for a result or key type without a serializer under the job's settings
     * @throws IllegalStateException after another terminal call of the stream, or when another stage of the job has
     *         the same uid prefix
     * @throws NullPointerException naming a null argument (each variant)
     */
    public <R> DataStream<R> process(ProcessWindowFunction<T, R, K, W> function) {
        return process(function, windowResultType(function, stream.inputType(),
                "process(windowFunction, resultType)"));
    }

    /** As {@link #process(ProcessWindowFunction)} with the result type given. */
    public <R> DataStream<R> process(ProcessWindowFunction<T, R, K, W> function, TypeInformation<R> resultType) {
        Objects.requireNonNull(function, "window function");
        Objects.requireNonNull(resultType, "result type");
        if (stream.splitThreshold() > 0) {
            throw new IllegalArgumentException(PlanOptions.SPLIT_THRESHOLD.key() + " must be 0 for "
                    + "process(ProcessWindowFunction): a split key's partial windows cannot be merged without an "
                    + "aggregate or reduce function");
        }
        TypeSerializer<R> resultSerializer = resultType.createSerializer(stream.serializerConfig());
        stream.checkSerializable(function, assigner);
        @SuppressWarnings("unchecked")
        ProcessWindowFunction<T, R, K, TimeWindow> pwf = (ProcessWindowFunction<T, R, K, TimeWindow>) function;
        // Flink's window contents hold the envelopes
        return stream.build(shape.horizon(allowedLateness), shape.compared(), aligned(), false, 0.0, true,
                (keyed, stage) -> {
            OutputTag<Envelope<T, K>> late = lateEnvelopes(keyed, stage);
            SingleOutputStreamOperator<R> op = windowed(keyed, late)
                    .process(new FullWindowFunction<T, K, R, TimeWindow>(pwf, stage.codec,
                            resultSerializer, stage.checkTag, allowedLateness),
                            resultType)
                    .name(stage.name("window " + function.getClass().getSimpleName()))
                    .uid(stage.uid("window"));
            addLateData(op, late, stage);
            return op;
        });
    }

    /** The window operator's own late-data tag (envelopes), or null without {@link #sideOutputLateData}. */
    private OutputTag<Envelope<T, K>> lateEnvelopes(KeyedStream<Envelope<T, K>, RoutingKey<K>> keyed,
                                                    KeyshiftStream<T, K>.Stage stage) {
        return lateDataTag == null ? null : new OutputTag<>(stage.uid("late-envelopes"), keyed.getType());
    }

    /** The user's late-data stream: the authoritative copies among the window operator's late envelopes. */
    private void addLateData(SingleOutputStreamOperator<?> window, OutputTag<Envelope<T, K>> late,
                             KeyshiftStream<T, K>.Stage stage) {
        if (late == null) {
            return;
        }
        stage.lateDataTag = lateDataTag;
        stage.lateData = window.getSideOutput(late)
                .process(new LateRecords<T, K>(shape)).returns(lateDataTag.getTypeInfo())
                .name(stage.name("late data")).uid(stage.uid("late-data"))
                .setParallelism(stage.parallelism)
                .setMaxParallelism(stage.maxParallelism);
    }

    private boolean aligned() {
        return shape.alignedWith(stream.config().get(JobOptions.WINDOW).toMillis());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private WindowedStream<Envelope<T, K>, RoutingKey<K>, TimeWindow> windowed(
            KeyedStream<Envelope<T, K>, RoutingKey<K>> keyed, OutputTag<Envelope<T, K>> late) {
        WindowedStream<Envelope<T, K>, RoutingKey<K>, TimeWindow> w = keyed.window((WindowAssigner) assigner)
                .allowedLateness(Duration.ofMillis(allowedLateness));
        return late == null ? w : w.sideOutputLateData(late);
    }

    /**
     * The window operator's late envelopes as the user's records, each record once: a migrating key's record of the
     * shadow phase reaches the window operator twice (MIGRATING at the old owner, SHADOW at the new one), and each
     * copy is judged late by its own subtask's watermark. The late record is the copy at the owner of the record's
     * last window (the one with the latest end that holds its time; for a record in a gap between hopping windows,
     * its own time): the old owner's (MIGRATING) where that window's max timestamp lies before the switch-over, else
     * the new owner's (SHADOW). That owner either counts the record in that window or finds it late (Flink: late iff
     * {@code t + allowedLateness <= watermark}), so the record is in exactly one of that window's result and the late
     * output. With sliding windows whose earlier windows belong to the old owner, the old owner judges those by its
     * own watermark: where it trails the new owner's by more than a slide, the record is also in an earlier window's
     * result ({@code keyBy}'s one watermark never gives both). PRIMARY and PARTIAL copies pass, markers carry no
     * record.
     */
    static final class LateRecords<T, K> extends ProcessFunction<Envelope<T, K>, T> {
        private static final long serialVersionUID = 1L;
        private final long size;
        private final long slide;
        private final long offset;

        LateRecords(WindowShape shape) {
            this.size = shape.size();
            this.slide = shape.slide();
            this.offset = shape.offset();
        }

        @Override
        public void processElement(Envelope<T, K> e, Context ctx, Collector<T> out) {
            if (e.value == null) {
                return;
            }
            if (e.role == Role.MIGRATING || e.role == Role.SHADOW) {
                Long t = ctx.timestamp();
                boolean newOwner = t != null && lastWindowMaxTimestamp(t) >= e.switchAt;
                if (newOwner != (e.role == Role.SHADOW)) {
                    return;
                }
            }
            out.collect(e.value);
        }

        /** The max timestamp of the last window holding {@code t}, or {@code t} where none does. */
        long lastWindowMaxTimestamp(long t) {
            long start = TimeWindow.getWindowStartWithOffset(t, offset, slide);
            return Math.max(t, start + size - 1);
        }
    }

    /** The window function's result type; {@code overload} names the call that takes it, for the error. */
    private <I, R> TypeInformation<R> windowResultType(ProcessWindowFunction<I, R, K, W> function,
                                                       TypeInformation<I> in, String overload) {
        Objects.requireNonNull(function, "window function");
        return KeyshiftStream.known(TypeExtractor.getUnaryOperatorReturnType(function, ProcessWindowFunction.class, 0,
                1, TypeExtractor.NO_INDEX, in, null, true), overload);
    }

    /** A reduce function as an aggregate whose accumulator is the reduced record (null while empty). */
    static final class ReduceAggregate<T> implements AggregateFunction<T, T, T> {
        private static final long serialVersionUID = 1L;
        private final ReduceFunction<T> reduce;

        ReduceAggregate(ReduceFunction<T> reduce) {
            this.reduce = Objects.requireNonNull(reduce, "reduce function");
        }

        @Override
        public T createAccumulator() {
            return null;
        }

        @Override
        public T add(T value, T acc) {
            try {
                return acc == null ? value : reduce.reduce(acc, value);
            } catch (Exception e) {
                throw new RuntimeException("reduce function failed", e);
            }
        }

        @Override
        public T getResult(T acc) {
            return acc;
        }

        @Override
        public T merge(T a, T b) {
            try {
                return a == null ? b : b == null ? a : reduce.reduce(a, b);
            } catch (Exception e) {
                throw new RuntimeException("reduce function failed", e);
            }
        }
    }
}
