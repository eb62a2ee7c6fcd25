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
 * Key-group counts always count every record.
 *
 * <p>Sampling ({@code samplingRate < 1}) follows <em>sample and hold</em> with preserved entries (Estan and Varghese,
 * "New Directions in Traffic Measurement and Accounting", SIGCOMM 2002, sections 3.1 and 4.1): a record of a key
 * that is not held is sampled with probability {@code rate} (a hash of the record's sequence number, deterministic
 * across runs and parallelism); a sampled key is then held, and every later record of a held key is counted exactly.
 * At most {@code 3/4 x sketchSize} keys are held per window; the half of them with the largest counts, decayed over
 * windows, stay held in the next window, so a persistent heavy hitter is counted exactly from the start of every window. The estimate of a
 * key held from a window's start is its exact count; of a key first sampled within the window, its count since then,
 * as in the paper: short by the unseen prefix, {@code (1 - rate) / rate} records on average (standard deviation
 * {@code sqrt(1 - rate) / rate}). Adding that mean instead would be unbiased but would lift every rare key that
 * happens to be sampled above the exactly counted heavy hitters, and the profiler ranks keys by estimate;
 * a sampled key that finds the hold full is counted in an overflow sketch and scaled by {@code 1 / rate}. The
 * emitted sketch holds these estimates in records, so the profiler does not scale again.
 *
 * <p>Memory per open window: about {@code 18 * sketchSize} bytes plus keys, plus {@code 8 * maxParallelism} bytes,
 * plus, when sampling, a hold of at most {@code 3/4 x sketchSize} keys with 16 bytes of counters each.
 * State: the open windows, in operator list state (redistributed on rescale; the profiler merges whatever arrives).
 * The preserved hold is not state: after a restore it starts empty, and the first window estimates by sampling.
 */
public class KeySampler extends AbstractStreamOperator<KeyLoadSample>
        implements OneInputStreamOperator<Event, KeyLoadSample> {
    static {
        // before Flink restores this operator's state: an Avro serializer snapshot resolves keyshift's schema classes
        // by name, and a job's own classloader (on a cluster) has a fresh, untrusting Avro
        io.keyshift.config.AvroTrust.install();
    }


    private static final long serialVersionUID = 1L;

    private final long windowMillis;
    private final int sketchSize;
    private final double samplingRate;

    private transient int maxParallelism;
    private transient TreeMap<Long, Accumulator> open;
    /**
     * Keys held from the start of the next window (sample and hold's preserved entries), with their decayed count
     * (halved every window, plus the window's count); only when sampling.
     */
    private transient Map<String, Double> preserved;
    /** The latest window this subtask has seen a record of (the one the preserved entries were not yet taken from). */
    private transient long holdWindow;
    /** That window's accumulator, kept after the watermark closed it. */
    private transient Accumulator holdAccumulator;
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
        openState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("open-windows", new AvroTypeInfo<>(KeyLoadSample.class)));
        open = new TreeMap<>();
        preserved = new java.util.HashMap<>();
        holdWindow = Long.MIN_VALUE;
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
        if (samplingRate >= 1.0) {
            acc.sketch().update(e.key);
            return;
        }
        if (start > holdWindow) {
            // the first record of a later window on this subtask: preserve from the last one (independent of when
            // watermarks arrive, so runs are deterministic)
            if (holdAccumulator != null) {
                preserve(holdAccumulator);
            }
            holdWindow = start;
            holdAccumulator = acc;
        }
        long[] held = acc.held.get(e.key);
        if (held != null) {
            held[0]++;
        } else if (preserved.containsKey(e.key) && acc.held.size() < holdCapacity()) {
            acc.held.put(e.key, new long[] {1, 1});
        } else if (sampled(e.sequence, samplingRate)) {
            if (acc.held.size() < holdCapacity()) {
                acc.held.put(e.key, new long[] {1, 0});
            } else {
                acc.sketch().update(e.key);
            }
        }
    }

    private int holdCapacity() {
        return Math.max(1, sketchSize * 3 / 4);
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

    /**
     * The preserved entries when this subtask's records move on to a later window: every preserved or held key scores half its previous score plus
     * its count in the closed window, and the half hold capacity with the largest scores stays held (so a key that
     * misses a window on this subtask is not forgotten at once).
     */
    private void preserve(Accumulator closed) {
        Map<String, Double> scores = new java.util.HashMap<>();
        preserved.forEach((k, v) -> scores.put(k, v / 2));
        closed.held.forEach((k, c) -> scores.merge(k, (double) c[0], Double::sum));
        preserved.clear();
        scores.entrySet().stream()
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .limit(holdCapacity() / 2)
                .forEach(e -> preserved.put(e.getKey(), e.getValue()));
    }

    /** The window's estimates in records: held counts, the overflow sketch scaled by 1 / rate, restored sketches. */
    private ItemsSketch<String> estimates(Accumulator acc) {
        if (samplingRate >= 1.0) {
            return acc.sketch();
        }
        ItemsSketch<String> out = HeavyHitters.newSketch(sketchSize);
        for (Map.Entry<String, long[]> h : acc.held.entrySet()) {
            out.update(h.getKey(), h.getValue()[0]);
        }
        if (acc.sketch != null) {
            for (ItemsSketch.Row<String> r : acc.sketch.getFrequentItems(0L,
                    org.apache.datasketches.frequencies.ErrorType.NO_FALSE_NEGATIVES)) {
                out.update(r.getItem(), Math.max(1, Math.round(r.getEstimate() / samplingRate)));
            }
        }
        if (acc.restored != null) {
            out.merge(acc.restored);
        }
        return out;
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
                .setHeavyHitters(java.nio.ByteBuffer.wrap(HeavyHitters.toBytes(estimates(acc))))
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
        /** Sampled records' sketch (counts of sampled records; every record when not sampling). */
        private ItemsSketch<String> sketch;
        /** Held keys: {count, 1 if held from the window's start else 0}. */
        final Map<String, long[]> held = new java.util.HashMap<>();
        /** Estimates restored from a checkpoint, already in records. */
        ItemsSketch<String> restored;

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
            if (samplingRate >= 1.0) {
                sketch().merge(HeavyHitters.fromBytes(bytes));
            } else {
                if (restored == null) {
                    restored = HeavyHitters.newSketch(sketchSize);
                }
                restored.merge(HeavyHitters.fromBytes(bytes));
            }
        }

        @Override
        public String toString() {
            return "Accumulator{records=" + records + ", kg=" + Arrays.toString(keyGroupCounts) + '}';
        }
    }
}
