package io.keyshift.scaling;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.ScalingDecision;
import io.keyshift.avro.ScalingPolicy;
import io.keyshift.avro.UnitForecast;
import io.keyshift.avro.UnitType;
import io.keyshift.workload.WindowResult;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Scaling decisions (parallelism 1): one {@link ScalingPlanner} per policy, fed window by window with the forecaster's
 * {@link LoadForecast} (input 1) and the window operator's per-key results (input 2, {@link WindowResult}: each says
 * which subtask processed how many records), from which the busiest subtask's measured load is taken. A window is
 * decided once the watermark (the lower of both inputs') has passed its end, so that every subtask's results are in;
 * the decision is therefore the same on every run. Emits a {@link ScalingDecision} when a policy changes its
 * parallelism. Nothing here actuates them: the gauge {@code keyshiftScalingParallelism} reports the actuated policy's
 * parallelism (read by {@code bin/keyshift autoscale} through the REST API), the counter {@code keyshiftScalingDecisions}
 * its decisions; in a replay with {@code --scale}, a {@link ReplayScalingGate} hands them to the simulated actuator.
 * State: both planners, the forecasts and per-subtask counts of windows not yet decided (operator list state
 * "scaling-v2", Java-serialized, one element).
 */
public class ScalingOperator extends AbstractStreamOperator<ScalingDecision>
        implements TwoInputStreamOperator<LoadForecast, WindowResult, ScalingDecision> {
    static {
        // before Flink restores this operator's state: an Avro serializer snapshot resolves keyshift's schema classes
        // by name, and a job's own classloader (on a cluster) has a fresh, untrusting Avro
        io.keyshift.config.AvroTrust.install();
    }

    private static final long serialVersionUID = 1L;

    /** What the operator keeps between windows (and in its state). */
    private static final class Held implements Serializable {
        private static final long serialVersionUID = 1L;
        ScalingPlanner predictive;
        ScalingPlanner reactive;
        /** Forecasts of windows not yet decided, by window end. */
        final TreeMap<Long, LoadForecast> pending = new TreeMap<>();
        /**
         * Records per (subtask, role, key group, key) of windows not yet decided, by window end: the latest firing's count (a late
         * firing repeats the key's cumulative count, so it replaces, never adds).
         */
        final Map<Long, Map<String, Long>> counts = new HashMap<>();
        /** End of the last decided window; results of windows up to it (late firings) are dropped. */
        long decidedUpTo = Long.MIN_VALUE;
    }

    private final ScalingPlanner.Settings settings;
    private final int initialParallelism;
    private final String gateId;
    private final ScalingPolicy actuated;
    private transient ReplayScalingGate.Gate gate;
    private transient org.apache.flink.metrics.Counter decisions;
    private transient Held held;
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
                new ListStateDescriptor<>("scaling-v2", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        held = new Held();
        held.predictive = new ScalingPlanner(settings, ScalingPolicy.PREDICTIVE, initialParallelism);
        held.reactive = new ScalingPlanner(settings, ScalingPolicy.REACTIVE, initialParallelism);
        for (byte[] b : state.get()) {
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(b))) {
                held = (Held) in.readObject();
            }
            if (gateId != null) {
                // a replay rebuilds the job at the decided parallelism: continue from the job's. (On a cluster the
                // adaptive scheduler rescales the submitted graph, so the planners keep their own decided value.)
                held.predictive.syncParallelism(initialParallelism);
                held.reactive.syncParallelism(initialParallelism);
            }
        }
        gate = ReplayScalingGate.get(gateId);
    }

    @Override
    public void open() throws Exception {
        super.open();
        getMetricGroup().gauge("keyshiftScalingParallelism",
                () -> (actuated == ScalingPolicy.REACTIVE ? held.reactive : held.predictive).parallelism());
        decisions = getMetricGroup().counter("keyshiftScalingDecisions");
    }

    @Override
    public void processElement1(StreamRecord<LoadForecast> element) {
        held.pending.put(element.getValue().getWindowEnd(), element.getValue());
    }

    @Override
    public void processElement2(StreamRecord<WindowResult> element) {
        WindowResult r = element.getValue();
        if (r.windowEnd > held.decidedUpTo) {
            held.counts.computeIfAbsent(r.windowEnd, k -> new HashMap<>())
                    .put(r.subtask + "\u0000" + r.role + "\u0000" + r.keyGroup + "\u0000" + r.key, r.count);
        }
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        // a window's results and forecast are emitted before the watermark that passes its end (end - 1)
        while (!held.pending.isEmpty() && held.pending.firstKey() - 1 <= mark.getTimestamp()) {
            LoadForecast f = held.pending.pollFirstEntry().getValue();
            Map<String, Long> results = held.counts.remove(f.getWindowEnd());
            held.counts.keySet().removeIf(end -> end <= f.getWindowEnd());
            held.decidedUpTo = Math.max(held.decidedUpTo, f.getWindowEnd());
            double busiest = -1;
            int subtasks = 0;
            if (results != null) {
                Map<Integer, Long> perSubtask = new HashMap<>();
                results.forEach((k, c) -> perSubtask.merge(Integer.parseInt(k.substring(0, k.indexOf('\u0000'))), c,
                        Long::sum));
                busiest = perSubtask.values().stream().mapToLong(Long::longValue).max().orElse(0);
                subtasks = perSubtask.keySet().stream().mapToInt(i -> i + 1).max().orElse(0);
            }
            // the parallelism the window ran at: in a replay the job is rebuilt at each decided parallelism; on a
            // cluster the scheduler may run fewer subtasks than decided, so count them (highest index + 1)
            decide(f, busiest, gateId != null ? initialParallelism : subtasks, f.getWindowEnd() - 1);
        }
        super.processWatermark(mark);
        if (gate != null) {
            gate.onWatermark(mark.getTimestamp());
        }
    }

    private void decide(LoadForecast f, double measuredBusiest, int measuredParallelism, long timestamp) {
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
        // no measurement for a window without records (no results): nothing processed anywhere
        double busiest = measuredBusiest >= 0 ? measuredBusiest : observed > 0 ? -1 : 0;
        ScalingPlanner.Window w = new ScalingPlanner.Window(f.getWindowEnd(), observed, busiest,
                busiest >= 0 ? measuredParallelism : 0, largestObserved, total, largestForecast);
        emit(held.predictive.onWindow(w), timestamp);
        emit(held.reactive.onWindow(w), timestamp);
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
            out.writeObject(held);
        }
        state.update(new ArrayList<>(List.of(b.toByteArray())));
    }
}
