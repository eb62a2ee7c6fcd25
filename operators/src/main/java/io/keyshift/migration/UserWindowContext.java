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

    /**
     * Per window of the keyed stage: whether this copy's window counted when it last fired (kept only for a function
     * that overrides {@link ProcessWindowFunction#clear}: Flink clears the window's contents, and with them the
     * ownership flags, before it calls {@code clear}).
     */
    private static final org.apache.flink.api.common.state.ValueStateDescriptor<Boolean> COUNTED =
            new org.apache.flink.api.common.state.ValueStateDescriptor<>("keyshift-window-counted",
                    org.apache.flink.api.common.typeinfo.Types.BOOLEAN);

    /** Whether {@code f} overrides {@link ProcessWindowFunction#clear} (false for null). */
    static boolean overridesClear(ProcessWindowFunction<?, ?, ?, ?> f) {
        if (f == null) {
            return false;
        }
        try {
            return f.getClass().getMethod("clear", ProcessWindowFunction.Context.class).getDeclaringClass()
                    != ProcessWindowFunction.class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    /**
     * At a firing of a window whose user function overrides clear: records whether this copy's window counts (true),
     * or fires only to be compared (false); a copy that neither counts nor is compared (the old owner's window that
     * reaches past the switch-over, a shadow window that began before the shadow phase) does not run the user's
     * process, and records nothing unless an earlier firing did (then false), so that its clear is not run either.
     */
    static void recordFiring(KeyedStateStore windowState, Ownership ownership, TimeWindow window)
            throws java.io.IOException {
        org.apache.flink.api.common.state.ValueState<Boolean> counted = windowState.getState(COUNTED);
        long maxTs = window.maxTimestamp();
        if (ownership.owns(maxTs)) {
            counted.update(true);
        } else if (ownership.checkSide(window.getStart(), maxTs) != null || counted.value() != null) {
            counted.update(false);
        }
    }

    /**
     * At a firing of a window whose user function overrides clear, as a split key's partial: the split merger's
     * window counts now (its clear gives the side outputs); a copy whose process ran before (it fired whole before a
     * late record after the split's start turned it partial) runs clear with its side outputs dropped, and one that
     * never ran process records nothing and runs no clear.
     */
    static void recordPartial(KeyedStateStore windowState) throws java.io.IOException {
        org.apache.flink.api.common.state.ValueState<Boolean> counted = windowState.getState(COUNTED);
        if (counted.value() != null) {
            counted.update(false);
        }
    }

    /**
     * Calls the user's {@code clear} for the window of {@code ctx}: its side outputs leave only if this copy's window
     * counted when it fired ({@code recorded}: the function overrides clear, so that was recorded; else nothing it
     * could output), as they would from the one window of a plain keyBy; then forgets the record.
     */
    static <V, R, K, W extends TimeWindow> void clear(ProcessWindowFunction<V, R, K, W> user,
                                                      ProcessWindowFunction<?, ?, ?, W>.Context ctx,
                                                      Source source, boolean recorded) throws Exception {
        // keyshift's own record, in the window operator's state (the user's source may refuse window state)
        org.apache.flink.api.common.state.ValueState<Boolean> counted =
                recorded ? ctx.windowState().getState(COUNTED) : null;
        Boolean fired = counted == null ? null : counted.value();
        if (counted != null && fired == null) {
            // this copy never ran the user's process: Flink's window operator runs clear only for a window it fired
            // (or whose aggregate had no result, which is recorded too), and a clear may read what process wrote
            return;
        }
        boolean counts = Boolean.TRUE.equals(fired);
        boolean before = ShadowScope.enter(!counts);
        try {
            user.clear(of(user, ctx.window(), source, counts));
        } finally {
            ShadowScope.exit(before);
        }
        if (counted != null) {
            counted.clear();
        }
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

    /** Why a window function behind hot-key splitting has no per-window state. */
    static RuntimeException noWindowStateWithSplitting() {
        return io.keyshift.config.JobOptions.misuse(new UnsupportedOperationException("per-window state (context.windowState()) is not available to a "
                + "window function behind keyshift.plan.split-threshold > 0: a split key's merged window has none; "
                + "set keyshift.plan.split-threshold to 0 if your window function needs it"));
    }

    /** Why a window function behind keyshift has no global state. */
    static RuntimeException noGlobalState() {
        return io.keyshift.config.JobOptions.misuse(new UnsupportedOperationException("global state "
                + "(context.globalState()) is not available to a window function behind keyshift: it would live with "
                + "one stay of the key in one key group, and a migration would leave it behind; keep state across "
                + "windows in KeyshiftStream#process(KeyedProcessFunction, stateHorizon), whose state migrates"));
    }

    /** The keyed stage's own window context as a source. */
    static <IN, OUT, KEY, W extends TimeWindow> Source of(ProcessWindowFunction<IN, OUT, KEY, W>.Context ctx) {
        return of(ctx, true);
    }

    /**
     * The keyed stage's own window context as a source; without {@code withWindowState} its per-window state is
     * refused ({@link #noWindowStateWithSplitting()}): with hot-key splitting on, a window function that uses it fails
     * at its first window, not when a key first turns hot and is split.
     */
    static <IN, OUT, KEY, W extends TimeWindow> Source of(ProcessWindowFunction<IN, OUT, KEY, W>.Context ctx,
                                                          boolean withWindowState) {
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
                if (!withWindowState) {
                    throw noWindowStateWithSplitting();
                }
                return ctx.windowState();
            }

            @Override
            public KeyedStateStore globalState() {
                throw noGlobalState();
            }

            @Override
            public <X> void output(OutputTag<X> tag, X value) {
                ctx.output(tag, value);
            }
        };
    }
}
