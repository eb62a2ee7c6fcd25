package io.keyshift.jobs;

import java.nio.file.Path;

/** Savepoints for tests, written with Flink's State Processor API. */
public final class SavepointFixtures {
    private SavepointFixtures() {
    }

    /** A savepoint (State Processor API) with one list entry of operator state for the operator of {@code uid}. */
    public static void withOperatorState(Path savepoint, String uid) throws Exception {
        var env = org.apache.flink.streaming.api.environment.StreamExecutionEnvironment.getExecutionEnvironment();
        env.setRuntimeMode(org.apache.flink.api.common.RuntimeExecutionMode.BATCH);
        env.setParallelism(1);
        var transformation = org.apache.flink.state.api.OperatorTransformation.bootstrapWith(env.fromData(1L))
                .transform(new OneEntry());
        org.apache.flink.state.api.SavepointWriter.newSavepoint(env, 128)
                .withOperator(org.apache.flink.state.api.OperatorIdentifier.forUid(uid), transformation)
                .write(savepoint.toUri().toString());
        env.execute("operator state");
    }

    private static final class OneEntry extends org.apache.flink.state.api.functions.StateBootstrapFunction<Long> {
        private transient org.apache.flink.api.common.state.ListState<Long> state;

        @Override
        public void processElement(Long value, Context ctx) throws Exception {
            state.add(value);
        }

        @Override
        public void snapshotState(org.apache.flink.runtime.state.FunctionSnapshotContext context) {
        }

        @Override
        public void initializeState(org.apache.flink.runtime.state.FunctionInitializationContext context)
                throws Exception {
            state = context.getOperatorStateStore().getListState(
                    new org.apache.flink.api.common.state.ListStateDescriptor<>("entries", Long.class));
        }
    }
}
