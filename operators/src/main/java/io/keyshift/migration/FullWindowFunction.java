package io.keyshift.migration;

import io.keyshift.route.Envelope;
import io.keyshift.route.KeyCodec;
import io.keyshift.route.Role;
import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.util.FunctionUtils;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.util.Iterator;

/**
 * The window function behind {@code process(ProcessWindowFunction)} in keyshift's keyed stage: the window holds the
 * envelopes; their roles give the window's {@link Ownership}, and the user's function sees the records themselves.
 *
 * @param <T> the user's record type
 * @param <K> the user key type
 * @param <R> the result type
 * @param <W> the window type
 */
public final class FullWindowFunction<T, K, R, W extends TimeWindow>
        extends ProcessWindowFunction<Envelope<T, K>, R, RoutingKey<K>, W>
        implements org.apache.flink.streaming.api.checkpoint.CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    private final ProcessWindowFunction<T, R, K, W> user;
    private final WindowResults<K, R> results;

    public FullWindowFunction(ProcessWindowFunction<T, R, K, W> user, KeyCodec<K> codec,
                              TypeSerializer<R> resultSerializer, OutputTag<ResultCheck> checkTag,
                              long allowedLateness) {
        this.user = user;
        this.results = new WindowResults<>(codec, resultSerializer, checkTag, allowedLateness);
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
        FunctionUtils.closeFunction(user);
    }

    @Override
    public void process(RoutingKey<K> key, Context ctx, Iterable<Envelope<T, K>> elements, Collector<R> out)
            throws Exception {
        Ownership o = new Ownership();
        for (Envelope<T, K> e : elements) {
            if (e.role == Role.PARTIAL) {
                throw new IllegalStateException("a split key reached process(ProcessWindowFunction), which cannot "
                        + "merge partial windows; splitting is for aggregate and reduce only");
            }
            o.observe(e);
        }
        W window = ctx.window();
        Iterable<T> values = () -> new Iterator<>() {
            private final Iterator<Envelope<T, K>> it = elements.iterator();

            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public T next() {
                return it.next().value;
            }
        };
        if (windowUser().recordsClear()) {
            UserWindowContext.recordFiring(ctx.windowState(), o, window);
        }
        UserWindowContext.Source source = UserWindowContext.of(ctx);
        results.fire(key, window, o, out, ctx::output, collector -> user.process(key.key,
                UserWindowContext.of(user, window, source, o.owns(window.maxTimestamp())), values, collector));
    }

    @Override
    public void clear(Context ctx) throws Exception {
        UserWindowContext.clear(user, ctx, UserWindowContext.of(ctx), windowUser().recordsClear());
    }
}
