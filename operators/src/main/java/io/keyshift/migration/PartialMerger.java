package io.keyshift.migration;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.util.FunctionUtils;
import org.apache.flink.api.common.state.KeyedStateStore;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.api.java.typeutils.MapTypeInfo;
import org.apache.flink.api.java.typeutils.TupleTypeInfo;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple5;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges a split key's partial window aggregates (one per key group it is spread over) with the user's
 * {@link AggregateFunction#merge}, then takes {@code getResult} and runs the user's {@link ProcessWindowFunction} on
 * it, as the window operator would have for the whole key. Keyed by the user key.
 *
 * <p>A window is merged once this operator's watermark passes its max timestamp: by then every window subtask has
 * fired it (watermarks are the minimum over inputs), so every partial is in. A late firing of a partial (allowed
 * lateness) replaces that key group's partial and emits the merged window again, as a late firing of the window
 * would; so does the first partial of a window already past its end (a key group that had no on-time records): it
 * fires at once. At the window's cleanup time the user's {@code clear} runs for it (the key groups' partial windows
 * leave their side outputs from {@code clear} to this one). State: per key, one entry per open window (its start,
 * whether it fired, the partials by key group) until the window's max timestamp plus the allowed lateness; every
 * access is a point lookup by the window's end, so the cost of a partial does not grow with the key's history
 * (iterating a RocksDB map runs over the tombstones of every window removed since the last compaction). The user's
 * window function sees no per-window state here ({@code windowState()} throws).
 *
 * <p>State format 2. Format 1 (until this version) kept three maps per key ("split-partials" by "windowEnd,keyGroup",
 * "split-windows", "split-fired") and iterated them on every timer; a savepoint with it restores, and each key's
 * windows move to format 2 the first time the key is seen again.
 *
 * @param <K> the user key type
 * @param <ACC> the aggregate's accumulator type
 * @param <V> the aggregate's result type
 * @param <R> the result type
 */
public final class PartialMerger<K, ACC, V, R>
        extends KeyedProcessFunction<K, Tuple5<K, Long, Long, Integer, ACC>, R> implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;
    /** The keyed-state format this version writes (kept in operator state, so that a restore knows what it reads). */
    static final int STATE_FORMAT = 2;

    private final AggregateFunction<?, ACC, V> aggregate;
    /** Whether {@link #aggregate} is a reduce function's: a null merge is "no value yet" there. */
    private final boolean reduce;
    private final ProcessWindowFunction<V, R, K, TimeWindow> user;
    private final TypeInformation<ACC> accType;
    private final long allowedLateness;
    /** Per window end: (window start, fired, partials by key group). */
    private transient MapState<Long, Tuple3<Long, Boolean, Map<Integer, ACC>>> windows;
    /** The state format of this operator's snapshots (operator state, one element per subtask). */
    private transient ListState<Integer> format;
    /** Format 1, only after restoring a savepoint that has it (else null). */
    private transient Legacy<ACC> legacy;
    /** Copies each partial before it is merged. */
    private transient org.apache.flink.api.common.typeutils.TypeSerializer<ACC> accSerializer;

    /** Format 1's maps, and per key whether they were moved to format 2. */
    private static final class Legacy<ACC> {
        MapState<String, ACC> partials;
        MapState<Long, Long> windows;
        MapState<Long, Boolean> fired;
        ValueState<Boolean> moved;
    }

    public PartialMerger(AggregateFunction<?, ACC, V> aggregate, ProcessWindowFunction<V, R, K, ?> user,
                         TypeInformation<ACC> accType, long allowedLateness) {
        this(aggregate, user, accType, allowedLateness, false);
    }

    /**
     * @param reduce whether {@code aggregate} is a reduce function's (whose null result is "no value yet", as in
     *        Flink's reducing state); otherwise a merge that returns null for two partial aggregates fails the job
     */
    @SuppressWarnings("unchecked")
    public PartialMerger(AggregateFunction<?, ACC, V> aggregate, ProcessWindowFunction<V, R, K, ?> user,
                         TypeInformation<ACC> accType, long allowedLateness, boolean reduce) {
        this.reduce = reduce;
        this.aggregate = aggregate;
        this.user = (ProcessWindowFunction<V, R, K, TimeWindow>) user;
        this.accType = accType;
        this.allowedLateness = allowedLateness;
    }

    /** The user's window function with its runtime context (keyed state refused) and Flink's checkpoint calls. */
    private transient UserCheckpoints.WindowUser windowUser;

    private UserCheckpoints.WindowUser windowUser() {
        if (windowUser == null) {
            windowUser = new UserCheckpoints.WindowUser(user, getRuntimeContext());
        }
        return windowUser;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        // the user's window function, if a CheckpointedFunction (keyed state refused, as in the window stage)
        windowUser().initializeState(context);
        format = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("split-merger-state-format", Types.INT));
        // every subtask of the snapshot must have written format 2 (a union list: each subtask gets all of them)
        boolean any = false;
        boolean current = true;
        for (Integer f : format.get()) {
            any = true;
            current &= f != null && f >= STATE_FORMAT;
        }
        current &= any;
        if (context.isRestored() && !current) {
            Legacy<ACC> l = new Legacy<>();
            l.partials = context.getKeyedStateStore().getMapState(
                    new MapStateDescriptor<>("split-partials", Types.STRING, accType));
            l.windows = context.getKeyedStateStore().getMapState(
                    new MapStateDescriptor<>("split-windows", Types.LONG, Types.LONG));
            l.fired = context.getKeyedStateStore().getMapState(
                    new MapStateDescriptor<>("split-fired", Types.LONG, Types.BOOLEAN));
            l.moved = context.getKeyedStateStore().getState(
                    new ValueStateDescriptor<>("split-format-1-moved", Types.BOOLEAN));
            legacy = l;
        }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        windowUser().snapshotState(context);
        // with legacy keys not yet seen, their format-1 entries are still in the snapshot: say format 1 again
        format.update(List.of(legacy == null ? STATE_FORMAT : 1));
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        accSerializer = getRuntimeContext().createSerializer(accType);
        windows = getRuntimeContext().getMapState(new MapStateDescriptor<>("split-window-partials", Types.LONG,
                new TupleTypeInfo<>(Types.LONG, Types.BOOLEAN, new MapTypeInfo<>(Types.INT, accType))));
        windowUser().open(openContext);
    }

    @Override
    public void close() throws Exception {
        if (user != null) {
            FunctionUtils.closeFunction(user);
        }
    }

    @Override
    public void processElement(Tuple5<K, Long, Long, Integer, ACC> p, Context ctx, Collector<R> out) throws Exception {
        moveLegacy(ctx.timerService());
        long end = p.f2;
        Tuple3<Long, Boolean, Map<Integer, ACC>> w = windows.get(end);
        if (w == null) {
            w = Tuple3.of(p.f1, false, new HashMap<>());
        }
        w.f2.put(p.f3, p.f4);
        if (w.f1) {
            windows.put(end, w);
            emit(p.f0, end, w, ctx, out);
        } else if (ctx.timerService().currentWatermark() >= end - 1) {
            // the first partial of a window already past its end: a late firing of a key group whose window had no
            // on-time records (on-time partials arrive before the watermark passes the window's end). keyBy's window
            // fires at once for each late record; so does this one (waiting for the next watermark merged several
            // late firings into one)
            emit(p.f0, end, w, ctx, out);
            if (allowedLateness > 0 && cleanupTime(end) > ctx.timerService().currentWatermark()) {
                w.f1 = true;
                windows.put(end, w);
                ctx.timerService().registerEventTimeTimer(cleanupTime(end));
            } else {
                clear(end, w, ctx);
            }
        } else {
            windows.put(end, w);
            ctx.timerService().registerEventTimeTimer(end - 1);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<R> out) throws Exception {
        moveLegacy(ctx.timerService());
        // the window that ends here fires: once, at its max timestamp (a partial that comes later re-fires it)
        long end = timestamp + 1;
        Tuple3<Long, Boolean, Map<Integer, ACC>> w = windows.get(end);
        if (w != null && !w.f1) {
            emit(ctx.getCurrentKey(), end, w, ctx, out);
            if (allowedLateness > 0) {
                w.f1 = true;
                windows.put(end, w);
                ctx.timerService().registerEventTimeTimer(cleanupTime(end));
            } else {
                clear(end, w, ctx);
            }
        }
        // the window whose allowed lateness ends here is cleared
        if (allowedLateness > 0) {
            long lateEnd = timestamp + 1 - allowedLateness;
            Tuple3<Long, Boolean, Map<Integer, ACC>> late = windows.get(lateEnd);
            if (late != null && late.f1) {
                clear(lateEnd, late, ctx);
            }
        }
    }

    /**
     * Forgets a window at its cleanup time, and calls the user's {@link ProcessWindowFunction#clear} for it as Flink's
     * window operator does: the merged window is the one that counts (the key groups' partial windows call it for
     * copies whose side outputs never leave), so this is where its side outputs go out.
     */
    private void clear(long end, Tuple3<Long, Boolean, Map<Integer, ACC>> w, KeyedProcessFunction<K, ?, R>.Context ctx)
            throws Exception {
        windows.remove(end);
        if (user != null && windowUser().recordsClear()) {
            user.clear(UserWindowContext.of(user, new TimeWindow(w.f0, end), source(ctx, end - 1), true));
        }
    }

    /**
     * After a restore of format 1: moves the current key's windows to format 2 (once per key), and registers the
     * cleanup timers that format 1 found by scanning.
     */
    private void moveLegacy(org.apache.flink.streaming.api.TimerService timers) throws Exception {
        if (legacy == null || Boolean.TRUE.equals(legacy.moved.value())) {
            return;
        }
        legacy.moved.update(true);
        List<Long> ends = new ArrayList<>();
        for (Map.Entry<Long, Long> e : legacy.windows.entries()) {
            ends.add(e.getKey());
            windows.put(e.getKey(), Tuple3.of(e.getValue(), Boolean.TRUE.equals(legacy.fired.get(e.getKey())),
                    new HashMap<>()));
        }
        for (Map.Entry<String, ACC> e : legacy.partials.entries()) {
            int comma = e.getKey().indexOf(',');
            long end = Long.parseLong(e.getKey().substring(0, comma));
            Tuple3<Long, Boolean, Map<Integer, ACC>> w = windows.get(end);
            if (w != null) {
                w.f2.put(Integer.parseInt(e.getKey().substring(comma + 1)), e.getValue());
                windows.put(end, w);
            }
        }
        for (long end : ends) {
            Tuple3<Long, Boolean, Map<Integer, ACC>> w = windows.get(end);
            if (w.f1) {
                // fired before the savepoint; format 1 cleared it at a later timer of the key, format 2 at its own
                timers.registerEventTimeTimer(cleanupTime(end));
            }
        }
        legacy.windows.clear();
        legacy.fired.clear();
        legacy.partials.clear();
    }

    /** When a fired window's partials go: its max timestamp plus the allowed lateness, at most Long.MAX_VALUE. */
    private long cleanupTime(long end) {
        return end - 1 > Long.MAX_VALUE - allowedLateness ? Long.MAX_VALUE : end - 1 + allowedLateness;
    }

    @SuppressWarnings("unchecked")
    private void emit(K key, long end, Tuple3<Long, Boolean, Map<Integer, ACC>> w,
                      KeyedProcessFunction<K, ?, R>.Context ctx, Collector<R> out) throws Exception {
        if (w.f2.isEmpty()) {
            return;
        }
        // merge copies of the partials with each other: merge may change either argument or return one of them (a
        // reduce returns the stored partial itself and changes it at the next merge), and the partials must stay as
        // they are for a late firing (on the heap the stored objects are these, and onTimer writes the window back);
        // never into a fresh accumulator, which Flink's window operator never merges (a merge need not take one for
        // "no records": the largest of negative readings came out as its 0); in the order format 1 merged them (key
        // groups as decimal strings), so that a merge that depends on its order gives what it gave
        List<Integer> keyGroups = new ArrayList<>(w.f2.keySet());
        keyGroups.sort(Comparator.comparing(String::valueOf));
        ACC merged = null;
        for (int g : keyGroups) {
            ACC partial = w.f2.get(g);
            ACC copy = partial == null ? null : accSerializer.copy(partial);
            ACC next = merged == null ? copy : aggregate.merge(merged, copy);
            if (next == null && merged != null && copy != null && !reduce) {
                // a stub: the build's check of two fresh accumulators cannot see it where those are null; taken for
                // "no records yet", the next piece's alone would be the window's result
                throw io.keyshift.config.JobOptions.misuse(new IllegalStateException("the merge of "
                        + aggregate.getClass().getName() + " returned null for two partial aggregates of a split "
                        + "key's window: keyshift merges a split key's pieces with it (keyshift.plan.split-threshold "
                        + "> 0); implement merge, or set keyshift.plan.split-threshold to 0"));
            }
            merged = next;
        }
        if (merged == null) {
            merged = aggregate.createAccumulator();
        }
        V v = aggregate.getResult(merged);
        if (v == null) {
            // as Flink's window operator: a window whose aggregate has no result fires nothing
            return;
        }
        if (user == null) {
            out.collect((R) v);
            return;
        }
        TimeWindow window = new TimeWindow(w.f0, end);
        user.process(key, UserWindowContext.of(user, window, source(ctx, end - 1), true), List.of(v), out);
    }

    /**
     * The side output that carries the user's side output {@code tag} out of this function, each value with the
     * timestamp it must leave with ({@link #restamped}).
     */
    public static <X> OutputTag<Tuple2<Long, X>> stamped(OutputTag<X> tag) {
        return new OutputTag<>("keyshift-stamped-" + tag.getId(), new TupleTypeInfo<>(Types.LONG, tag.getTypeInfo()));
    }

    /**
     * The user's side output {@code tag} of the merger {@code merger}: each value with the window's max timestamp, as
     * Flink's window operator stamps a window function's side outputs (a keyed process function stamps them with the
     * timer that fired, and the user's {@code clear} runs at the window's cleanup time, its allowed lateness later).
     */
    public static <X> DataStream<X> restamped(SingleOutputStreamOperator<?> merger, OutputTag<X> tag, String uid) {
        return merger.getSideOutput(stamped(tag))
                .transform("keyshift side output " + tag.getId(), tag.getTypeInfo(), new Restamp<X>())
                .uid(uid).setParallelism(merger.getParallelism());
    }

    /** Emits each value with the timestamp it carries. */
    private static final class Restamp<X> extends AbstractStreamOperator<X>
            implements OneInputStreamOperator<Tuple2<Long, X>, X> {
        private static final long serialVersionUID = 1L;

        @Override
        public void processElement(StreamRecord<Tuple2<Long, X>> element) {
            output.collect(element.replace(element.getValue().f1, element.getValue().f0));
        }
    }

    /**
     * What the user's window function sees of this operator's context (no window state, no global state); its side
     * outputs leave with {@code maxTimestamp}, the window's.
     */
    private static <K, R> UserWindowContext.Source source(KeyedProcessFunction<K, ?, R>.Context ctx,
                                                         long maxTimestamp) {
        return new UserWindowContext.Source() {
            @Override
            public long currentProcessingTime() {
                return ctx.timerService().currentProcessingTime();
            }

            @Override
            public long currentWatermark() {
                return ctx.timerService().currentWatermark();
            }

            @Override
            public KeyedStateStore windowState() {
                throw UserWindowContext.noWindowStateWithSplitting();
            }

            @Override
            public KeyedStateStore globalState() {
                throw UserWindowContext.noGlobalState();
            }

            @Override
            public <X> void output(OutputTag<X> tag, X value) {
                ctx.output(stamped(tag), Tuple2.of(maxTimestamp, value));
            }
        };
    }
}
