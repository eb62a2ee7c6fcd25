package io.keyshift.migration;

import org.apache.flink.api.common.state.KeyedStateStore;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.OutputTag;

/**
 * The context a user's {@link ProcessWindowFunction} sees behind keyshift: the window, times and per-window state of
 * the keyed stage's window operator (scoped to the routing key, so primary and shadow have their own), and side
 * outputs only for authoritative results. No global state: {@code globalState()} throws
 * {@link UnsupportedOperationException} (state across windows would not move with a migration).
 */
final class UserWindowContext {
    private UserWindowContext() {}

    /** Time and state source: the keyed stage's context, or the split merger's (no per-window state there). */
    interface Source {
        long currentProcessingTime();

        long currentWatermark();

        KeyedStateStore windowState();

        KeyedStateStore globalState();

        <X> void output(OutputTag<X> tag, X value);
    }

    static <V, R, K, W extends TimeWindow> ProcessWindowFunction<V, R, K, W>.Context of(
            ProcessWindowFunction<V, R, K, W> user, W window, Source source, boolean authoritative) {
        return user.new Context() {
            @Override
            public W window() {
                return window;
            }

            @Override
            public long currentProcessingTime() {
                return source.currentProcessingTime();
            }

            @Override
            public long currentWatermark() {
                return source.currentWatermark();
            }

            @Override
            public KeyedStateStore windowState() {
                return source.windowState();
            }

            @Override
            public KeyedStateStore globalState() {
                return source.globalState();
            }

            @Override
            public <X> void output(OutputTag<X> outputTag, X value) {
                if (authoritative) {
                    source.output(outputTag, value);
                }
            }
        };
    }

    /** The keyed stage's own window context as a source. */
    static <IN, OUT, KEY, W extends TimeWindow> Source of(ProcessWindowFunction<IN, OUT, KEY, W>.Context ctx) {
        return new Source() {
            @Override
            public long currentProcessingTime() {
                return ctx.currentProcessingTime();
            }

            @Override
            public long currentWatermark() {
                return ctx.currentWatermark();
            }

            @Override
            public KeyedStateStore windowState() {
                return ctx.windowState();
            }

            @Override
            public KeyedStateStore globalState() {
                throw new UnsupportedOperationException("global state (context.globalState()) is not available to "
                        + "a window function behind keyshift: it would live with one stay of the key in one key "
                        + "group, and a migration would leave it behind; keep state across windows in "
                        + "KeyshiftStream#process(KeyedProcessFunction, stateHorizon), whose state migrates");
            }

            @Override
            public <X> void output(OutputTag<X> tag, X value) {
                ctx.output(tag, value);
            }
        };
    }
}
