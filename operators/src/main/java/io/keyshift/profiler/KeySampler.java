package io.keyshift.profiler;

import io.keyshift.avro.KeyLoadSample;
import io.keyshift.event.Event;

import org.apache.datasketches.frequencies.ItemsSketch;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Samples the keys of the stream, chained to the source: per tumbling event-time window and per subtask, a
 * DataSketches frequent-items sketch of the user keys and the exact record count of every natural key group.
 *
 * <p>A window's {@link KeyLoadSample} is emitted when the watermark passes the window's end, before the watermark is
 * forwarded; so the profiler downstream has every subtask's sample of a window once its own watermark passes it.
 * With {@code samplingRate < 1} a record is offered to the sketch with that probability, decided by a hash of the
 * record's sequence number (deterministic across runs and parallelism); key-group counts always count every record.
 *
 * <p>Memory per open window: about {@code 18 * sketchSize} bytes plus keys, plus {@code 8 * maxParallelism} bytes.
 * State: the open windows, in operator list state (redistributed on rescale; the profiler merges whatever arrives).
 */
public class KeySampler extends AbstractStreamOperator<KeyLoadSample>
        implements OneInputStreamOperator<Event, KeyLoadSample> {

    private static final long serialVersionUID = 1L;

    private final long windowMillis;
    private final int sketchSize;
    private final double samplingRate;

    private transient int maxParallelism;
    private transient TreeMap<Long, Accumulator> open;
    private transient ListState<KeyLoadSample> openState;

    /**
     * @param windowMillis tumbling window length in ms, > 0
     * @param sketchSize maximum map size of the frequent-items sketch, a power of 2 >= 8
     * @param samplingRate probability in (0, 1] that a record is offered to the sketch
     */
    public KeySampler(long windowMillis, int sketchSize, double samplingRate) {
        if (windowMillis <= 0) {
            throw new IllegalArgumentException("window must be > 0 ms, was " + windowMillis);
        }
        if (!(samplingRate > 0 && samplingRate <= 1)) {
            throw new IllegalArgumentException("sampling rate must be in (0, 1], was " + samplingRate);
        }
        HeavyHitters.newSketch(sketchSize);
        this.windowMillis = windowMillis;
        this.sketchSize = sketchSize;
        this.samplingRate = samplingRate;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        io.keyshift.config.AvroTrust.install();
        openState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("open-windows", new AvroTypeInfo<>(KeyLoadSample.class)));
        open = new TreeMap<>();
        if (context.isRestored()) {
            for (KeyLoadSample s : openState.get()) {
                Accumulator acc = open.computeIfAbsent(s.getWindowStart(), k -> new Accumulator(s.getKeyGroupCounts().size()));
                acc.mergeFrom(s);
            }
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        maxParallelism = getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
    }

    @Override
    public void processElement(StreamRecord<Event> element) {
        Event e = element.getValue();
        long start = windowStart(e.timestamp, windowMillis);
        Accumulator acc = open.get(start);
        if (acc == null) {
            acc = new Accumulator(maxParallelism);
            open.put(start, acc);
        }
        acc.records++;
        acc.keyGroupCounts[KeyGroupRangeAssignment.assignToKeyGroup(e.key, maxParallelism)]++;
        if (samplingRate >= 1.0 || sampled(e.sequence, samplingRate)) {
            acc.sketch().update(e.key);
        }
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        while (!open.isEmpty() && open.firstKey() + windowMillis - 1 <= mark.getTimestamp()) {
            Map.Entry<Long, Accumulator> first = open.pollFirstEntry();
            output.collect(new StreamRecord<>(toSample(first.getKey(), first.getValue()),
                    first.getKey() + windowMillis - 1));
        }
        super.processWatermark(mark);
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        List<KeyLoadSample> samples = new ArrayList<>(open.size());
        for (Map.Entry<Long, Accumulator> e : open.entrySet()) {
            samples.add(toSample(e.getKey(), e.getValue()));
        }
        openState.update(samples);
    }

    private KeyLoadSample toSample(long start, Accumulator acc) {
        List<Long> counts = new ArrayList<>(acc.keyGroupCounts.length);
        for (long c : acc.keyGroupCounts) {
            counts.add(c);
        }
        return KeyLoadSample.newBuilder()
                .setWindowStart(start)
                .setWindowEnd(start + windowMillis)
                .setSubtask(getRuntimeContext().getTaskInfo().getIndexOfThisSubtask())
                .setMaxParallelism(acc.keyGroupCounts.length)
                .setRecords(acc.records)
                .setSamplingRate(samplingRate)
                .setKeyGroupCounts(counts)
                .setHeavyHitters(java.nio.ByteBuffer.wrap(HeavyHitters.toBytes(acc.sketch())))
                .build();
    }

    /** Start of the tumbling window (no offset) that contains {@code t}; correct for negative times. */
    public static long windowStart(long t, long windowMillis) {
        return Math.floorDiv(t, windowMillis) * windowMillis;
    }

    /** Deterministic Bernoulli(rate) decision from a record's sequence number (SplitMix64 finalizer). */
    static boolean sampled(long sequence, double rate) {
        long z = sequence + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-53 < rate;
    }

    private final class Accumulator {
        final long[] keyGroupCounts;
        long records;
        private ItemsSketch<String> sketch;

        Accumulator(int maxParallelism) {
            this.keyGroupCounts = new long[maxParallelism];
        }

        ItemsSketch<String> sketch() {
            if (sketch == null) {
                sketch = HeavyHitters.newSketch(sketchSize);
            }
            return sketch;
        }

        void mergeFrom(KeyLoadSample s) {
            records += s.getRecords();
            List<Long> counts = s.getKeyGroupCounts();
            for (int i = 0; i < Math.min(counts.size(), keyGroupCounts.length); i++) {
                keyGroupCounts[i] += counts.get(i);
            }
            byte[] bytes = new byte[s.getHeavyHitters().remaining()];
            s.getHeavyHitters().duplicate().get(bytes);
            sketch().merge(HeavyHitters.fromBytes(bytes));
        }

        @Override
        public String toString() {
            return "Accumulator{records=" + records + ", kg=" + Arrays.toString(keyGroupCounts) + '}';
        }
    }
}
