package io.keyshift.migration;

import org.apache.flink.api.common.functions.Function;
import org.apache.flink.api.common.state.KeyedStateStore;
import org.apache.flink.api.common.state.OperatorStateStore;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;

import java.util.OptionalLong;
import java.util.function.UnaryOperator;

/**
 * Passes Flink's {@link CheckpointedFunction} calls on to a user's function that keyshift wraps: Flink makes them on
 * the operator's own function only (looking inside its own {@code WrappingFunction}s, not keyshift's wrappers).
 */
final class UserCheckpoints {
    private UserCheckpoints() {}

    /**
     * Calls {@code user.initializeState} if it is a {@link CheckpointedFunction}, with {@code context}'s operator state
     * and its keyed state store passed through {@code keyed} (tracked or refused by the wrapper).
     */
    static void initialize(Function user, FunctionInitializationContext context,
                           UnaryOperator<KeyedStateStore> keyed) throws Exception {
        if (!(user instanceof CheckpointedFunction f)) {
            return;
        }
        f.initializeState(new FunctionInitializationContext() {
            @Override
            public boolean isRestored() {
                return context.isRestored();
            }

            @Override
            public OptionalLong getRestoredCheckpointId() {
                return context.getRestoredCheckpointId();
            }

            @Override
            public OperatorStateStore getOperatorStateStore() {
                return context.getOperatorStateStore();
            }

            @Override
            public KeyedStateStore getKeyedStateStore() {
                return keyed.apply(context.getKeyedStateStore());
            }
        });
    }

    /** Calls {@code user.snapshotState} if it is a {@link CheckpointedFunction}. */
    static void snapshot(Function user, FunctionSnapshotContext context) throws Exception {
        if (user instanceof CheckpointedFunction f) {
            f.snapshotState(context);
        }
    }

    /**
     * A user's window function (or none) behind one of keyshift's window wrappers: its runtime context (Flink's,
     * keyed state refused: {@link StateTrackingContext#forWindowFunction}), set before Flink's
     * {@code initializeState} reaches it, as Flink's own setup does, and before {@code open}.
     */
    static final class WindowUser {
        private final Function user;
        private final StateTrackingContext context;

        /** @param user the user's window function, or null; @param wrapper the wrapper's runtime context */
        WindowUser(Function user, org.apache.flink.api.common.functions.RuntimeContext wrapper) {
            this.user = user;
            this.context = StateTrackingContext.forWindowFunction(wrapper);
            this.recordsClear = user instanceof org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction<
                    ?, ?, ?, ?> f && UserWindowContext.overridesClear(f);
        }

        /** The user's window function overrides clear: each firing records whether its copy's window counts. */
        private final boolean recordsClear;

        boolean recordsClear() {
            return recordsClear;
        }

        void initializeState(FunctionInitializationContext c) throws Exception {
            if (user != null) {
                org.apache.flink.api.common.functions.util.FunctionUtils.setFunctionRuntimeContext(user, context);
                initialize(user, c, context::track);
            }
        }

        void snapshotState(FunctionSnapshotContext c) throws Exception {
            if (user != null) {
                snapshot(user, c);
            }
        }

        void open(org.apache.flink.api.common.functions.OpenContext openContext) throws Exception {
            if (user != null) {
                org.apache.flink.api.common.functions.util.FunctionUtils.setFunctionRuntimeContext(user, context);
                org.apache.flink.api.common.functions.util.FunctionUtils.openFunction(user, openContext);
            }
        }
    }
}
