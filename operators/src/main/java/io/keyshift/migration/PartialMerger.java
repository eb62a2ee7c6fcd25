package io.keyshift.migration;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.util.FunctionUtils;
import org.apache.flink.api.common.state.KeyedStateStore;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple5;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.util.ArrayList;
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
 * would. State: the partials of each (key, window) until the window's max timestamp plus the allowed lateness.
 * The user's window function sees no per-window state here ({@code windowState()} throws).
 *
 * @param <K> the user key type
 * @param <ACC> the aggregate's accumulator type
 * @param <V> the aggregate's result type
 * @param <R> the result type
 */
public final class PartialMerger<K, ACC, V, R>
        extends KeyedProcessFunction<K, Tuple5<K, Long, Long, Integer, ACC>, R> {
    private static final long serialVersionUID = 1L;

    private final AggregateFunction<?, ACC, V> aggregate;
    private final ProcessWindowFunction<V, R, K, TimeWindow> user;
    private final TypeInformation<ACC> accType;
    private final long allowedLateness;
    /** Partials by "windowEnd,keyGroup". */
    private transient MapState<String, ACC> partials;
    /** Window start by window end; and whether it has fired. */
    private transient MapState<Long, Long> windows;
    private transient MapState<Long, Boolean> fired;

    @SuppressWarnings("unchecked")
    public PartialMerger(AggregateFunction<?, ACC, V> aggregate, ProcessWindowFunction<V, R, K, ?> user,
                         TypeInformation<ACC> accType, long allowedLateness) {
        this.aggregate = aggregate;
        this.user = (ProcessWindowFunction<V, R, K, TimeWindow>) user;
        this.accType = accType;
        this.allowedLateness = allowedLateness;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        partials = getRuntimeContext().getMapState(new MapStateDescriptor<>("split-partials", Types.STRING, accType));
        windows = getRuntimeContext().getMapState(new MapStateDescriptor<>("split-windows", Types.LONG, Types.LONG));
        fired = getRuntimeContext().getMapState(new MapStateDescriptor<>("split-fired", Types.LONG, Types.BOOLEAN));
        if (user != null) {
            FunctionUtils.setFunctionRuntimeContext(user, getRuntimeContext());
            FunctionUtils.openFunction(user, openContext);
        }
    }

    @Override
    public void close() throws Exception {
        if (user != null) {
            FunctionUtils.closeFunction(user);
        }
    }

    @Override
    public void processElement(Tuple5<K, Long, Long, Integer, ACC> p, Context ctx, Collector<R> out) throws Exception {
        long end = p.f2;
        partials.put(end + "," + p.f3, p.f4);
        windows.put(end, p.f1);
        if (Boolean.TRUE.equals(fired.get(end))) {
            emit(p.f0, p.f1, end, ctx, out);
        } else {
            ctx.timerService().registerEventTimeTimer(end - 1);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<R> out) throws Exception {
        long end = timestamp + 1;
        Long start = windows.get(end);
        if (start != null && !Boolean.TRUE.equals(fired.get(end))) {
            emit(ctx.getCurrentKey(), start, end, ctx, out);
            fired.put(end, true);
            if (allowedLateness > 0) {
                ctx.timerService().registerEventTimeTimer(end - 1 + allowedLateness);
            }
        }
        // cleanup of windows whose lateness has passed
        List<Long> done = new ArrayList<>();
        for (Map.Entry<Long, Long> w : windows.entries()) {
            if (w.getKey() - 1 + allowedLateness <= timestamp && Boolean.TRUE.equals(fired.get(w.getKey()))) {
                done.add(w.getKey());
            }
        }
        for (long e : done) {
            windows.remove(e);
            fired.remove(e);
            List<String> keys = new ArrayList<>();
            for (String k : partials.keys()) {
                if (k.startsWith(e + ",")) {
                    keys.add(k);
                }
            }
            for (String k : keys) {
                partials.remove(k);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private void emit(K key, long start, long end, KeyedProcessFunction<K, ?, R>.Context ctx, Collector<R> out)
            throws Exception {
        // merge into a fresh accumulator: merge may change its first argument, and the partials must stay as they
        // are for a late firing
        ACC merged = aggregate.createAccumulator();
        boolean any = false;
        String prefix = end + ",";
        List<String> keys = new ArrayList<>();
        for (String k : partials.keys()) {
            if (k.startsWith(prefix)) {
                keys.add(k);
            }
        }
        keys.sort(String::compareTo);
        for (String k : keys) {
            merged = aggregate.merge(merged, partials.get(k));
            any = true;
        }
        if (!any) {
            return;
        }
        V v = aggregate.getResult(merged);
        if (user == null) {
            out.collect((R) v);
            return;
        }
        TimeWindow window = new TimeWindow(start, end);
        user.process(key, UserWindowContext.of(user, window, new UserWindowContext.Source() {
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
                throw new UnsupportedOperationException("per-window state is not available for a split key's merged "
                        + "window (keyshift.plan.split-threshold); set it to 0 if your window function needs it");
            }

            @Override
            public KeyedStateStore globalState() {
                throw new UnsupportedOperationException("global state is not available for a split key's merged "
                        + "window (keyshift.plan.split-threshold); set it to 0 if your window function needs it");
            }

            @Override
            public <X> void output(OutputTag<X> tag, X value) {
                ctx.output(tag, value);
            }
        }, true), List.of(v), out);
    }
}
