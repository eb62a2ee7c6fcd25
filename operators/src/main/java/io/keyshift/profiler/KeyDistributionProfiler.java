package io.keyshift.profiler;

import io.keyshift.avro.KeyLoadSample;
import io.keyshift.metrics.KeyshiftMetrics;

import org.apache.datasketches.frequencies.ErrorType;
import org.apache.datasketches.frequencies.ItemsSketch;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Merges the {@link KeyLoadSample}s of one window from every {@link KeySampler} subtask into a
 * {@link WindowProfile} (parallelism 1).
 *
 * <p>A window is complete when this operator's watermark (the minimum over all sampler subtasks) passes its end:
 * every sampler emits a window's sample before forwarding a watermark past it. Complete windows are emitted in
 * order, one profile per window without gaps (a window without records gets an empty profile), before the
 * watermark is forwarded.
 *
 * <p>Heavy hitters: the merged sketch's items with the largest estimates, at most {@code maxHeavyHitters}.
 * State: the incomplete windows' samples (operator list state) and the end of the last emitted window.
 */
public class KeyDistributionProfiler extends AbstractStreamOperator<WindowProfile>
        implements OneInputStreamOperator<KeyLoadSample, WindowProfile> {
    static {
        // before Flink restores this operator's state: an Avro serializer snapshot resolves keyshift's schema classes
        // by name, and a job's own classloader (on a cluster) has a fresh, untrusting Avro
        io.keyshift.config.AvroTrust.install();
    }


    private static final long serialVersionUID = 1L;
    /** Gap filling stops after this many empty windows at once (an idle source far behind the watermark). */
    private static final int MAX_EMPTY_WINDOWS_PER_WATERMARK = 1_000_000;

    private final long windowMillis;
    private final int sketchSize;
    private final int maxHeavyHitters;

    private transient TreeMap<Long, List<KeyLoadSample>> pending;
    private transient long lastEmittedEnd;
    private transient ListState<KeyLoadSample> pendingState;
    private transient ListState<Long> lastEmittedState;
    private transient Counter windowsClosed;

    /**
     * @param windowMillis window length, ms
     * @param sketchSize maximum map size of the merged sketch (power of 2 >= 8)
     * @param maxHeavyHitters how many of the largest keys a profile lists, >= 1
     */
    public KeyDistributionProfiler(long windowMillis, int sketchSize, int maxHeavyHitters) {
        if (maxHeavyHitters < 1) {
            throw new IllegalArgumentException("maxHeavyHitters must be >= 1, was " + maxHeavyHitters);
        }
        this.windowMillis = windowMillis;
        this.sketchSize = sketchSize;
        this.maxHeavyHitters = maxHeavyHitters;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        pendingState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("pending-samples", new AvroTypeInfo<>(KeyLoadSample.class)));
        lastEmittedState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("last-emitted-window-end", Types.LONG));
        pending = new TreeMap<>();
        lastEmittedEnd = Long.MIN_VALUE;
        if (context.isRestored()) {
            for (KeyLoadSample s : pendingState.get()) {
                pending.computeIfAbsent(s.getWindowStart(), k -> new ArrayList<>()).add(s);
            }
            for (Long end : lastEmittedState.get()) {
                lastEmittedEnd = Math.max(lastEmittedEnd, end);
            }
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        windowsClosed = getMetricGroup().counter(KeyshiftMetrics.PROFILER_WINDOWS);
    }

    @Override
    public void processElement(StreamRecord<KeyLoadSample> element) {
        KeyLoadSample s = element.getValue();
        if (lastEmittedEnd != Long.MIN_VALUE && s.getWindowStart() < lastEmittedEnd) {
            throw new IllegalStateException("sample of window " + s.getWindowStart() + " arrived after the window "
                    + "was closed at " + lastEmittedEnd + "; samplers must emit before forwarding watermarks");
        }
        pending.computeIfAbsent(s.getWindowStart(), k -> new ArrayList<>()).add(s);
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        long wm = mark.getTimestamp();
        long next;
        if (lastEmittedEnd != Long.MIN_VALUE) {
            next = lastEmittedEnd;
        } else if (!pending.isEmpty()) {
            next = pending.firstKey();
        } else {
            next = Long.MAX_VALUE;
        }
        int empties = 0;
        while (next != Long.MAX_VALUE && next + windowMillis - 1 <= wm) {
            if (wm == Long.MAX_VALUE && pending.isEmpty()) {
                break;
            }
            List<KeyLoadSample> samples = pending.remove(next);
            if (samples == null) {
                if (++empties > MAX_EMPTY_WINDOWS_PER_WATERMARK) {
                    next = pending.isEmpty() ? Math.floorDiv(wm + 1, windowMillis) * windowMillis : pending.firstKey();
                    continue;
                }
            }
            WindowProfile profile = merge(next, samples);
            output.collect(new StreamRecord<>(profile, next + windowMillis - 1));
            windowsClosed.inc();
            lastEmittedEnd = next + windowMillis;
            next = lastEmittedEnd;
        }
        super.processWatermark(mark);
    }

    private WindowProfile merge(long start, List<KeyLoadSample> samples) {
        if (samples == null || samples.isEmpty()) {
            int maxP = getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
            return WindowProfile.empty(start, start + windowMillis, maxP, 1.0);
        }
        int maxP = samples.get(0).getMaxParallelism();
        long[] counts = new long[maxP];
        long records = 0;
        double rate = samples.get(0).getSamplingRate();
        ItemsSketch<String> merged = HeavyHitters.newSketch(sketchSize);
        // A saturated sketch's merge depends on order: merge by subtask so that profiles do not depend on arrival.
        samples.sort(java.util.Comparator.comparingInt(KeyLoadSample::getSubtask));
        for (KeyLoadSample s : samples) {
            records += s.getRecords();
            List<Long> c = s.getKeyGroupCounts();
            for (int i = 0; i < maxP; i++) {
                counts[i] += c.get(i);
            }
            ByteBuffer buf = s.getHeavyHitters().duplicate();
            byte[] bytes = new byte[buf.remaining()];
            buf.get(bytes);
            merged.merge(HeavyHitters.fromBytes(bytes));
        }
        ItemsSketch.Row<String>[] rows = merged.getFrequentItems(0L, ErrorType.NO_FALSE_NEGATIVES);
        Row[] sorted = new Row[rows.length];
        for (int i = 0; i < rows.length; i++) {
            sorted[i] = new Row(rows[i].getItem(), rows[i].getEstimate(), rows[i].getLowerBound(), rows[i].getUpperBound());
        }
        Arrays.sort(sorted, Comparator.comparingLong((Row r) -> -r.estimate).thenComparing(r -> r.key));
        int n = Math.min(maxHeavyHitters, sorted.length);
        double scale = 1.0; // samplers emit estimates in records (sample and hold, see KeySampler)
        WindowProfile p = new WindowProfile();
        p.windowStart = start;
        p.windowEnd = start + windowMillis;
        p.records = records;
        p.samplingRate = rate;
        p.keyGroupCounts = counts;
        p.hotKeys = new String[n];
        p.hotEstimates = new double[n];
        p.hotLowerBounds = new double[n];
        p.hotUpperBounds = new double[n];
        for (int i = 0; i < n; i++) {
            p.hotKeys[i] = sorted[i].key;
            p.hotEstimates[i] = sorted[i].estimate * scale;
            p.hotLowerBounds[i] = sorted[i].lower * scale;
            p.hotUpperBounds[i] = sorted[i].upper * scale;
        }
        p.maxError = merged.getMaximumError() * scale;
        return p;
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        List<KeyLoadSample> all = new ArrayList<>();
        for (Map.Entry<Long, List<KeyLoadSample>> e : pending.entrySet()) {
            all.addAll(e.getValue());
        }
        pendingState.update(all);
        lastEmittedState.update(List.of(lastEmittedEnd));
    }

    private record Row(String key, long estimate, long lower, long upper) {}
}
