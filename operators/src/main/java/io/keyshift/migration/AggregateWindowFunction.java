package io.keyshift.migration;

import io.keyshift.route.KeyCodec;
import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.util.FunctionUtils;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.tuple.Tuple5;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.util.List;

/**
 * The window function behind an incremental aggregate in keyshift's keyed stage: for a split key's window it sends
 * the accumulator on as a partial (to {@link PartialMerger}); otherwise it takes the user's {@code getResult}, runs the
 * user's {@link ProcessWindowFunction} on it (or emits it as the result if there is none) and lets
 * {@link WindowResults} route the results.
 *
 * @param <K> the user key type
 * @param <ACC> the user's accumulator type
 * @param <V> the aggregate's result type
 * @param <R> the stage's result type (V without a process window function)
 * @param <W> the window type
 */
public final class AggregateWindowFunction<K, ACC, V, R, W extends TimeWindow>
        extends ProcessWindowFunction<OwnedAccumulator<ACC>, R, RoutingKey<K>, W>
        implements org.apache.flink.streaming.api.checkpoint.CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    private final AggregateFunction<?, ACC, V> aggregate;
    private final ProcessWindowFunction<V, R, K, W> user;
    private final WindowResults<K, R> results;
    private final OutputTag<Tuple5<K, Long, Long, Integer, ACC>> partialTag;
    /** Hot-key splitting is on: the user's function gets no per-window state here either, as in the split merger. */
    private final boolean splitting;

    /**
     * @param user the user's window function, or null: then the aggregate's result is the stage's result (V = R)
     * @param partialTag side output of split keys' partial accumulators
     * @param splitting whether hot-key splitting is on ({@code keyshift.plan.split-threshold > 0}): then the user's
     *        {@code context.windowState()} throws at every window, not only at a split key's merged one
     */
    public AggregateWindowFunction(AggregateFunction<?, ACC, V> aggregate, ProcessWindowFunction<V, R, K, W> user,
                                   KeyCodec<K> codec, TypeSerializer<R> resultSerializer,
                                   OutputTag<ResultCheck> checkTag,
                                   OutputTag<Tuple5<K, Long, Long, Integer, ACC>> partialTag, long allowedLateness,
                                   boolean splitting) {
        this.aggregate = aggregate;
        this.user = user;
        this.results = new WindowResults<>(codec, resultSerializer, checkTag, allowedLateness);
        this.partialTag = partialTag;
        this.splitting = splitting;
    }

    /** The keyed stage's context as the user's function sees it (no per-window state with splitting on). */
    private UserWindowContext.Source source(Context ctx) {
        return UserWindowContext.of(ctx, !splitting);
    }

    /** The user's window function with its runtime context (keyed state refused) and Flink's checkpoint calls. */
    private transient UserCheckpoints.WindowUser windowUser;

    private UserCheckpoints.WindowUser windowUser() {
        if (windowUser == null) {
            windowUser = new UserCheckpoints.WindowUser(user, getRuntimeContext());
        }
        return windowUser;
    }

    /** The user's window function, if a {@code CheckpointedFunction}, gets Flink's call here (keyed state refused). */
    @Override
    public void initializeState(org.apache.flink.runtime.state.FunctionInitializationContext context)
            throws Exception {
        windowUser().initializeState(context);
    }

    @Override
    public void snapshotState(org.apache.flink.runtime.state.FunctionSnapshotContext context) throws Exception {
        windowUser().snapshotState(context);
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        windowUser().open(openContext);
    }

    @Override
    public void close() throws Exception {
        if (user != null) {
            FunctionUtils.closeFunction(user);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public void process(RoutingKey<K> key, Context ctx, Iterable<OwnedAccumulator<ACC>> elements, Collector<R> out)
            throws Exception {
        OwnedAccumulator<ACC> acc = elements.iterator().next();
        W window = ctx.window();
        if (acc.ownership.partial()) {
            if (windowUser().recordsClear()) {
                // the split merger's window counts now, and its clear gives the side outputs: a window that had fired
                // whole (before a late record after the split's start turned it partial) must not give them again
                UserWindowContext.recordPartial(ctx.windowState());
            }
            ctx.output(partialTag, Tuple5.of(key.key, window.getStart(), window.getEnd(), key.keyGroup, acc.acc));
            return;
        }
        if (windowUser().recordsClear()) {
            UserWindowContext.recordFiring(ctx.windowState(), acc.ownership, window);
        }
        UserWindowContext.Source source = source(ctx);
        results.fire(key, window, acc.ownership, out, ctx::output, collector -> {
            V v = aggregate.getResult(acc.acc);
            if (v == null) {
                // as Flink's window operator: a window whose aggregate has no result (null) fires nothing, and the
                // window function is not called
                return;
            }
            if (user == null) {
                collector.collect((R) v);
            } else {
                boolean authoritative = acc.ownership.owns(window.maxTimestamp());
                user.process(key.key, UserWindowContext.of(user, window, source, authoritative), List.of(v),
                        collector);
            }
        });
    }

    @Override
    public void clear(Context ctx) throws Exception {
        if (user != null) {
            UserWindowContext.clear(user, ctx, source(ctx), windowUser().recordsClear());
        }
    }
}
