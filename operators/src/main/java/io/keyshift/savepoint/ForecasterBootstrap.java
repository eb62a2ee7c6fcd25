package io.keyshift.savepoint;

import io.keyshift.api.StageUids;
import io.keyshift.forecast.LoadForecastEngine;
import io.keyshift.profiler.WindowProfile;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.OperatorTransformation;
import org.apache.flink.state.api.SavepointWriter;
import org.apache.flink.state.api.functions.StateBootstrapFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.util.List;

/**
 * Warm start of a keyshift stage: trains its forecaster on historical window profiles and writes a savepoint that
 * holds the forecaster's state (the whole engine in the {@code forecaster} list state of operator
 * {@link StageUids#forecaster}, the form of earlier versions, which the forecaster reads on restore and moves into its
 * keyed state; see {@link io.keyshift.forecast.LoadForecaster}), with Flink's State Processor API. A job started from
 * it forecasts, and so plans,
 * from its first window; its other operators start empty. The history should end where the job's input begins
 * (windows are observed in order). Needs {@code flink-state-processor-api} on the classpath.
 */
public final class ForecasterBootstrap {
    private ForecasterBootstrap() {}

    /**
     * A file {@link #write} puts beside the savepoint's metadata: a job started from this savepoint starts its outputs
     * afresh (it continues no earlier run), which the cluster job's check of its {@code --out} needs to know.
     */
    public static final String MARKER = "_keyshift-bootstrap";

    /**
     * Whether the savepoint at {@code path} (its directory or its {@code _metadata} file) was written by
     * {@link #write}; false where that cannot be read.
     */
    public static boolean isBootstrap(String path) {
        try {
            org.apache.flink.core.fs.Path p = new org.apache.flink.core.fs.Path(path);
            if (p.getName().equals("_metadata")) {
                p = p.getParent();
            }
            return p.getFileSystem().exists(new org.apache.flink.core.fs.Path(p, MARKER));
        } catch (Exception | LinkageError e) {
            return false;
        }
    }

    /** Feeds {@code profiles} (window order) to a new engine and returns it. */
    public static LoadForecastEngine train(List<WindowProfile> profiles, LoadForecastEngine.Settings settings) {
        LoadForecastEngine engine = new LoadForecastEngine(settings);
        for (WindowProfile p : profiles) {
            engine.observe(p);
        }
        return engine;
    }

    /**
     * Writes a savepoint with the engine's state to {@code path} (a URI or path; must not exist) for the stage with
     * uid prefix {@code uidPrefix} and {@code maxParallelism} key groups, and the {@link #MARKER} file beside it.
     */
    public static void write(LoadForecastEngine engine, String path, int maxParallelism, String uidPrefix)
            throws Exception {
        byte[] state = engine.toBytes();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setRuntimeMode(RuntimeExecutionMode.BATCH);
        env.setParallelism(1);
        var transformation = OperatorTransformation
                .bootstrapWith(env.fromData(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO, state))
                .transform(new StateWriter());
        SavepointWriter.newSavepoint(env, maxParallelism)
                .withOperator(OperatorIdentifier.forUid(StageUids.forecaster(uidPrefix)), transformation)
                .write(path);
        env.execute("keyshift bootstrap");
        org.apache.flink.core.fs.Path dir = new org.apache.flink.core.fs.Path(path);
        try (var out = dir.getFileSystem().create(new org.apache.flink.core.fs.Path(dir, MARKER),
                org.apache.flink.core.fs.FileSystem.WriteMode.NO_OVERWRITE)) {
            out.write(("written by keyshift bootstrap: a job started from this savepoint continues no earlier run\n")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    /** Puts the engine bytes into the forecaster's list state. */
    static final class StateWriter extends StateBootstrapFunction<byte[]> {
        private static final long serialVersionUID = 1L;
        private transient ListState<byte[]> state;

        @Override
        public void processElement(byte[] value, Context ctx) throws Exception {
            state.add(value);
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) {}

        @Override
        public void initializeState(FunctionInitializationContext context) throws Exception {
            state = context.getOperatorStateStore().getListState(
                    new ListStateDescriptor<>("forecaster", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        }
    }
}
