package io.keyshift.scaling;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.ScalingDecision;
import io.keyshift.avro.ScalingPolicy;
import io.keyshift.avro.UnitForecast;
import io.keyshift.avro.UnitType;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;

/**
 * Scaling decisions from the forecasts (parallelism 1): one {@link ScalingPlanner} per policy, PREDICTIVE on the
 * largest forecast total over the horizon, REACTIVE on the last window's measured total. Emits a
 * {@link ScalingDecision} when a policy changes its parallelism. Nothing here actuates them: the gauge
 * {@code keyshiftScalingParallelism} reports the actuated policy's parallelism (read by {@code bin/keyshift
 * autoscale} through the REST API), the counter {@code keyshiftScalingDecisions} its decisions; in a replay with
 * {@code --scale}, a {@link ReplayScalingGate} hands them to the simulated actuator. State: both planners (operator
 * list state, Java-serialized, one element).
 */
public class ScalingOperator extends AbstractStreamOperator<ScalingDecision>
        implements OneInputStreamOperator<LoadForecast, ScalingDecision> {
    static {
        // before Flink restores this operator's state: an Avro serializer snapshot resolves keyshift's schema classes
        // by name, and a job's own classloader (on a cluster) has a fresh, untrusting Avro
        io.keyshift.config.AvroTrust.install();
    }

    private static final long serialVersionUID = 1L;

    private final ScalingPlanner.Settings settings;
    private final int initialParallelism;
    private final String gateId;
    private transient ReplayScalingGate.Gate gate;
    private transient org.apache.flink.metrics.Counter decisions;
    private final ScalingPolicy actuated;
    private transient ScalingPlanner predictive;
    private transient ScalingPlanner reactive;
    private transient ListState<byte[]> state;

    public ScalingOperator(ScalingPlanner.Settings settings, int initialParallelism) {
        this(settings, initialParallelism, null, ScalingPolicy.PREDICTIVE);
    }

    /**
     * @param initialParallelism the parallelism of the job this operator is built into; after a restore the planners
     *                           continue from it (the job may have been rescaled since the savepoint)
     * @param gateId             a {@link ReplayScalingGate} to report decisions and watermarks to (replay only), or null
     * @param actuated           the policy whose parallelism the gauge {@code keyshiftScalingParallelism} reports
     *                           (what {@code bin/keyshift autoscale} applies)
     */
    public ScalingOperator(ScalingPlanner.Settings settings, int initialParallelism, String gateId,
                           ScalingPolicy actuated) {
        this.actuated = actuated;
        this.settings = settings;
        this.initialParallelism = initialParallelism;
        this.gateId = gateId;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        state = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("scaling-planners", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        predictive = new ScalingPlanner(settings, ScalingPolicy.PREDICTIVE, initialParallelism);
        reactive = new ScalingPlanner(settings, ScalingPolicy.REACTIVE, initialParallelism);
        for (byte[] b : state.get()) {
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(b))) {
                predictive = (ScalingPlanner) in.readObject();
                reactive = (ScalingPlanner) in.readObject();
            }
            if (gateId != null) {
                // a replay rebuilds the job at the decided parallelism: continue from the job's. (On a cluster the
                // adaptive scheduler rescales the submitted graph, so the planners keep their own decided value.)
                predictive.syncParallelism(initialParallelism);
                reactive.syncParallelism(initialParallelism);
            }
        }
        gate = ReplayScalingGate.get(gateId);
    }

    @Override
    public void open() throws Exception {
        super.open();
        getMetricGroup().gauge("keyshiftScalingParallelism",
                () -> (actuated == ScalingPolicy.REACTIVE ? reactive : predictive).parallelism());
        decisions = getMetricGroup().counter("keyshiftScalingDecisions");
    }

    @Override
    public void processWatermark(org.apache.flink.streaming.api.watermark.Watermark mark) throws Exception {
        super.processWatermark(mark);
        if (gate != null) {
            gate.onWatermark(mark.getTimestamp());
        }
    }

    @Override
    public void processElement(StreamRecord<LoadForecast> element) {
        LoadForecast f = element.getValue();
        int horizon = f.getHorizon();
        double[] total = new double[horizon];
        double observed = 0;
        double largestForecast = 0;
        double largestObserved = 0;
        for (UnitForecast u : f.getUnits()) {
            List<Double> fc = u.getForecast();
            for (int h = 0; h < Math.min(horizon, fc.size()); h++) {
                total[h] += fc.get(h);
            }
            observed += u.getObserved();
            if (u.getUnitType() == UnitType.HOT_KEY) {
                largestObserved = Math.max(largestObserved, u.getObserved());
                for (double v : fc) {
                    largestForecast = Math.max(largestForecast, v);
                }
            }
        }
        double peak = 0;
        for (double t : total) {
            peak = Math.max(peak, t);
        }
        emit(predictive.onWindow(f.getWindowEnd(), peak, largestForecast), element.getTimestamp());
        emit(reactive.onWindow(f.getWindowEnd(), observed, largestObserved), element.getTimestamp());
    }

    private void emit(ScalingDecision d, long timestamp) {
        if (d != null) {
            if (d.getPolicy() == actuated && decisions != null) {
                decisions.inc();
            }
            if (gate != null) {
                gate.onDecision(d);
            }
            output.collect(new StreamRecord<>(d, timestamp));
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(b)) {
            out.writeObject(predictive);
            out.writeObject(reactive);
        }
        state.update(List.of(b.toByteArray()));
    }
}
