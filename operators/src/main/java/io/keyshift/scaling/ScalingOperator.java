package io.keyshift.scaling;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.PendingLoad;
import io.keyshift.avro.ScalingDecision;
import io.keyshift.avro.ScalingPolicy;
import io.keyshift.avro.ScalingState;
import io.keyshift.avro.UnitForecast;
import io.keyshift.avro.UnitType;
import io.keyshift.avro.WindowLoad;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

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
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Scaling decisions (parallelism 1): one {@link ScalingPlanner} per policy, fed window by window with the forecaster's
 * {@link LoadForecast} (input 1) and the keyed stage's measured load ({@link WindowLoad}, input 2: copies routed per
 * key group, from which the busiest subtask's load is taken). A window is decided once its load has arrived, or a
 * later window's (loads come in window order; a window without records has none), or once the loads' input has
 * ended; the decision is therefore the same on every run. Not at the final watermark: the profiler passes it on as
 * the routers' inputs end, and the last windows' loads follow once the routers have the final lease (a window
 * decided then went without its measured load, or with it, as the plans' timing had it). The output watermark waits for the decisions: it never passes a window
 * that is not yet decided. Emits a {@link ScalingDecision} when a policy changes its parallelism. Nothing here
 * actuates them: the gauge {@code keyshiftScalingParallelism} reports the actuated policy's parallelism (read by
 * {@code bin/keyshift autoscale} through the REST API), the counter {@code keyshiftScalingDecisions} its decisions.
 * State: both planners, the forecasts and loads of windows not yet decided (operator list state "scaling-v4", one
 * Avro {@link ScalingState}, {@code schemas/ScalingState.avsc}; a savepoint of an earlier keyshift, whose state
 * "scaling-v3" was Java-serialized, is read once and written anew).
 */
public class ScalingOperator extends AbstractStreamOperator<ScalingDecision>
        implements TwoInputStreamOperator<LoadForecast, WindowLoad, ScalingDecision>,
        org.apache.flink.streaming.api.operators.BoundedMultiInput {
    static {
        // before Flink restores this operator's state: an Avro serializer snapshot resolves keyshift's schema classes
        // by name, and a job's own classloader (on a cluster) has a fresh, untrusting Avro
        io.keyshift.config.AvroTrust.install();
    }

    private static final long serialVersionUID = 1L;

    /** What the operator keeps between windows (and in its state). */
    private static final class Held implements Serializable {
        private static final long serialVersionUID = 2L;
        ScalingPlanner predictive;
        ScalingPlanner reactive;
        /** Forecasts of windows not yet decided, by window end. */
        final TreeMap<Long, LoadForecast> pending = new TreeMap<>();
        /** Per-subtask measured loads of windows not yet decided, by window end. */
        final Map<Long, double[]> loads = new HashMap<>();
        /** End of the latest window whose load arrived. */
        long loadedUpTo = Long.MIN_VALUE;
        /** End of the last decided window. */
        long decidedUpTo = Long.MIN_VALUE;
    }

    private final ScalingPlanner.Settings settings;
    private final int initialParallelism;
    private final boolean followJobOnRestore;
    private final ScalingPolicy actuated;
    /** Forecast steps a decision reads (0 = every step the forecaster gives). */
    private int lookAhead;
    private transient org.apache.flink.metrics.Counter decisions;
    private transient Held held;
    private transient ListState<ScalingState> state;
    private transient ListState<byte[]> legacyState;
    private transient long inputWatermark;
    private transient long emittedWatermark;
    /** Whether the loads' input (2) has ended: no load comes any more, every pending window is decided. */
    private transient boolean loadsEnded;
    /** The stage's planner splits hot keys: a hot key's load is not a unit's ({@link #withSplitting}). */
    private boolean splitting;

    public ScalingOperator(ScalingPlanner.Settings settings, int initialParallelism) {
        this(settings, initialParallelism, false, ScalingPolicy.PREDICTIVE);
    }

    /**
     * @param initialParallelism the parallelism of the job this operator is built into
     * @param followJobOnRestore after a restore, the planners continue from {@code initialParallelism} (the job was
     *                           restarted at the decided parallelism from a savepoint) instead of their own decision
     *                           (the adaptive scheduler rescales the submitted job: its declared parallelism is old)
     * @param actuated           the policy whose parallelism the gauge {@code keyshiftScalingParallelism} reports
     *                           (what {@code bin/keyshift autoscale} applies)
     */
    public ScalingOperator(ScalingPlanner.Settings settings, int initialParallelism, boolean followJobOnRestore,
                           ScalingPolicy actuated) {
        this.actuated = actuated;
        this.settings = settings;
        this.initialParallelism = initialParallelism;
        this.followJobOnRestore = followJobOnRestore;
    }

    /**
     * The same operator reading only the first {@code steps} forecast windows (+1..+steps) of each forecast: the
     * lease lead plus {@code keyshift.scaling.horizon}, when the forecaster forecasts further for the planner.
     *
     * @param steps &ge; 1
     * @return this
     */
    public ScalingOperator withLookAhead(int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("look-ahead must be >= 1 forecast step, was " + steps);
        }
        this.lookAhead = steps;
        return this;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        io.keyshift.config.JobOptions.checkOneSubtask("scaling operator",
                getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks());
        state = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("scaling-v4",
                new org.apache.flink.formats.avro.typeutils.AvroTypeInfo<>(ScalingState.class)));
        // keyshift before the Avro state kept it Java-serialized: read once, written as "scaling-v4" from then on
        legacyState = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("scaling-v3", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        held = new Held();
        held.predictive = new ScalingPlanner(settings, ScalingPolicy.PREDICTIVE, initialParallelism);
        held.reactive = new ScalingPlanner(settings, ScalingPolicy.REACTIVE, initialParallelism);
        for (ScalingState st : state.get()) {
            held = fromState(st);
            if (followJobOnRestore) {
                held.predictive.syncParallelism(initialParallelism);
                held.reactive.syncParallelism(initialParallelism);
            }
        }
        if (context.isRestored() && !state.get().iterator().hasNext()) {
            restoreLegacy();
        }
        legacyState.clear();
        inputWatermark = Long.MIN_VALUE;
        emittedWatermark = Long.MIN_VALUE;
    }

    private Held fromState(ScalingState st) {
        Held h = new Held();
        h.predictive = ScalingPlanner.fromState(settings, ScalingPolicy.PREDICTIVE, st.getPredictive());
        h.reactive = ScalingPlanner.fromState(settings, ScalingPolicy.REACTIVE, st.getReactive());
        for (LoadForecast f : st.getPending()) {
            h.pending.put(f.getWindowEnd(), f);
        }
        for (PendingLoad l : st.getLoads()) {
            h.loads.put(l.getWindowEnd(), l.getPerSubtask().stream().mapToDouble(Double::doubleValue).toArray());
        }
        h.loadedUpTo = st.getLoadedUpTo();
        h.decidedUpTo = st.getDecidedUpTo();
        return h;
    }

    private ScalingState toState() {
        List<PendingLoad> loads = new ArrayList<>();
        new TreeMap<>(held.loads).forEach((end, perSubtask) -> loads.add(PendingLoad.newBuilder().setWindowEnd(end)
                .setPerSubtask(java.util.Arrays.stream(perSubtask).boxed().toList()).build()));
        return ScalingState.newBuilder()
                .setPredictive(held.predictive.toState())
                .setReactive(held.reactive.toState())
                .setPending(new ArrayList<>(held.pending.values()))
                .setLoads(loads)
                .setLoadedUpTo(held.loadedUpTo)
                .setDecidedUpTo(held.decidedUpTo)
                .build();
    }

    /** The Java-serialized state of keyshift before "scaling-v4". */
    private void restoreLegacy() throws Exception {
        for (byte[] b : legacyState.get()) {
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(b))) {
                held = (Held) in.readObject();
            } catch (java.io.IOException | ClassNotFoundException | RuntimeException e) {
                // the forecasts waiting for their load are Avro records in Java serialization, readable only with the
                // schema they were written with: state from before LoadForecast.forcedParallelism cannot be read
                org.slf4j.LoggerFactory.getLogger(ScalingOperator.class).warn("keyshift scaling: the checkpointed "
                        + "scaling state was written by an older keyshift and cannot be read ({}); the scaling "
                        + "decisions start afresh at parallelism {}", e.toString(), initialParallelism);
                held = new Held();
                held.predictive = new ScalingPlanner(settings, ScalingPolicy.PREDICTIVE, initialParallelism);
                held.reactive = new ScalingPlanner(settings, ScalingPolicy.REACTIVE, initialParallelism);
            }
            // the options of the restored job, not those the checkpoint was taken with
            held.predictive.reconfigure(settings);
            held.reactive.reconfigure(settings);
            if (followJobOnRestore) {
                held.predictive.syncParallelism(initialParallelism);
                held.reactive.syncParallelism(initialParallelism);
            }
        }
    }

    /** The gauge {@code keyshiftScalingParallelism}: the actuated policy's parallelism (what autoscale applies). */
    int actuatedParallelism() {
        return (actuated == ScalingPolicy.REACTIVE ? held.reactive : held.predictive).parallelism();
    }

    /** The counter {@code keyshiftScalingDecisions}: the actuated policy's decisions (for tests). */
    long actuatedDecisions() {
        return decisions.getCount();
    }

    @Override
    public void open() throws Exception {
        super.open();
        getMetricGroup().gauge(io.keyshift.metrics.KeyshiftMetrics.SCALING_PARALLELISM, this::actuatedParallelism);
        getMetricGroup().gauge(io.keyshift.metrics.KeyshiftMetrics.SCALING_DECIDED_UP_TO, () -> held.decidedUpTo);
        decisions = getMetricGroup().counter(io.keyshift.metrics.KeyshiftMetrics.SCALING_DECISIONS);
    }

    @Override
    public void processElement1(StreamRecord<LoadForecast> element) throws Exception {
        if (element.getValue().getWindowEnd() > held.decidedUpTo) {
            held.pending.put(element.getValue().getWindowEnd(), element.getValue());
        }
        decideReady();
    }

    @Override
    public void processElement2(StreamRecord<WindowLoad> element) throws Exception {
        WindowLoad l = element.getValue();
        if (l.getWindowEnd() <= held.decidedUpTo) {
            return;
        }
        int p = l.getParallelism();
        int maxP = l.getRoutedKeyGroupCounts().size();
        double[] perSubtask = new double[p];
        for (int g = 0; g < maxP; g++) {
            perSubtask[KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(maxP, p, g)] +=
                    l.getRoutedKeyGroupCounts().get(g) + l.getShadowKeyGroupCounts().get(g);
        }
        held.loads.put(l.getWindowEnd(), perSubtask);
        held.loadedUpTo = Math.max(held.loadedUpTo, l.getWindowEnd());
        decideReady();
    }

    /**
     * Decides every window whose load (or a later window's) is in, in window order. A window without records is
     * decided as soon as its forecast is next: no load comes for it (the routers report loads of windows with
     * records), and waiting for a later window's held back the watermark that a replay's source waits for (a replay
     * with empty windows, such as bike share's nights at hourly windows, stopped at the first one).
     */
    private void decideReady() throws Exception {
        while (!held.pending.isEmpty() && (held.pending.firstKey() <= held.loadedUpTo
                || loadsEnded || noRecords(held.pending.firstEntry().getValue()))) {
            LoadForecast f = held.pending.pollFirstEntry().getValue();
            double[] perSubtask = held.loads.remove(f.getWindowEnd());
            held.loads.keySet().removeIf(end -> end <= f.getWindowEnd());
            held.decidedUpTo = Math.max(held.decidedUpTo, f.getWindowEnd());
            double busiest = -1;
            int subtasks = 0;
            if (perSubtask != null) {
                busiest = java.util.Arrays.stream(perSubtask).max().orElse(0);
                subtasks = perSubtask.length;
            }
            decide(f, busiest, subtasks, f.getWindowEnd() - 1);
        }
        long wm = held.pending.isEmpty() ? inputWatermark : Math.min(inputWatermark, held.pending.firstKey() - 2);
        if (wm > emittedWatermark) {
            emittedWatermark = wm;
            output.emitWatermark(new Watermark(wm));
        }
    }

    @Override
    public void endInput(int inputId) throws Exception {
        if (inputId == 2) {
            loadsEnded = true;
            decideReady();
        }
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        inputWatermark = Math.max(inputWatermark, mark.getTimestamp());
        decideReady();
    }

    /** True if the forecast's window had no records (its units observed nothing). */
    private static boolean noRecords(LoadForecast f) {
        for (UnitForecast u : f.getUnits()) {
            if (u.getObserved() > 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * The same operator for a stage whose planner splits hot keys (a split threshold above 0 on a mergeable
     * aggregate): a hot key's load then spreads over several subtasks, so it is no lower bound of the busiest
     * subtask's, and decisions go by the total load alone.
     */
    public ScalingOperator withSplitting(boolean splitting) {
        this.splitting = splitting;
        return this;
    }

    private void decide(LoadForecast f, double measuredBusiest, int measuredParallelism, long timestamp) {
        int horizon = lookAhead > 0 ? Math.min(lookAhead, f.getHorizon()) : f.getHorizon();
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
                for (int h = 0; h < Math.min(horizon, fc.size()); h++) {
                    largestForecast = Math.max(largestForecast, fc.get(h));
                }
            }
        }
        if (splitting) {
            // a split key is divided among subtasks: taken whole, it kept every decision at its load (no scale-in
            // while it was split, and no scale-out could ever bring it under the capacity)
            largestObserved = 0;
            largestForecast = 0;
        }
        // no measurement for a window without records (no results): nothing processed anywhere
        double busiest = measuredBusiest >= 0 ? measuredBusiest : observed > 0 ? -1 : 0;
        ScalingPlanner.Window w = new ScalingPlanner.Window(f.getWindowEnd(), observed, busiest,
                busiest >= 0 ? measuredParallelism : 0, largestObserved, total, largestForecast);
        emit(held.predictive.onWindow(w, f.getForcedParallelism()), timestamp);
        emit(held.reactive.onWindow(w, f.getForcedParallelism()), timestamp);
    }

    private void emit(ScalingDecision d, long timestamp) {
        if (d != null) {
            if (d.getPolicy() == actuated && decisions != null) {
                decisions.inc();
            }
            output.collect(new StreamRecord<>(d, timestamp));
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        state.update(new ArrayList<>(List.of(toState())));
    }
}
