package io.keyshift.profiler;

import io.keyshift.avro.HeavyHitter;
import io.keyshift.avro.WindowSample;
import io.keyshift.route.KeyCodec;
import io.keyshift.route.KeyPseudonym;

import org.apache.datasketches.frequencies.ErrorType;
import org.apache.datasketches.frequencies.ItemsSketch;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Samples the keys one router subtask sees, per tumbling planning window: an Apache DataSketches frequent-items
 * sketch ({@link ItemsSketch}, in memory only) of the user keys and the exact record count of every natural key
 * group. The router calls it for every record; a window's {@link WindowSample} is taken when the subtask's input
 * watermark passes the window's end.
 *
 * <p>The sketch is the Misra-Gries / Space-Saving family as implemented by DataSketches (Anderson et al., "A
 * High-Performance Algorithm for Identifying Frequent Items in Data Streams", IMC 2017): with maximum map size
 * {@code M} it keeps at most {@code 0.75 M} keys in about {@code 18 M} bytes plus the keys, and every estimate is
 * within {@code getMaximumError() <= 3.5 / M * n} of the true count of {@code n} updates. Only its rows leave this
 * class (as Avro {@link HeavyHitter}s), never its binary form, which needs DataSketches' memory module.
 *
 * <p>Sampling ({@code samplingRate < 1}) follows <em>sample and hold</em> with preserved entries (Estan and
 * Varghese, "New Directions in Traffic Measurement and Accounting", SIGCOMM 2002, sections 3.1 and 4.1): a record of
 * a key that is not held is sampled with probability {@code rate}, decided by a hash of the record's position in the
 * window at this subtask (deterministic for a given input order); a sampled key is then held and every later record
 * of it is counted exactly. At most {@code 3/4 x sketchSize} keys are held per window; the half of them with the
 * largest counts, decayed over windows, stay held in the next window (their places are kept for them there: keys
 * newly sampled fill only the rest). A key held from a window's start is exact; a
 * key first sampled within the window is short by about {@code (1 - rate) / rate} records (standard deviation
 * {@code sqrt(1 - rate) / rate}); a sampled key that finds the hold full goes to an overflow sketch, scaled by
 * {@code 1 / rate}. Key-group counts always count every record, but a late one whose window has closed (see {@link #lateRecords()}).
 *
 * <p>Error bounds: {@code maxError} of a sample bounds the sketches' error only (purges of the overflow sketch and of
 * the merge of the held counts, the overflow rows and any restored rows into one sketch of size {@code M}, whose
 * bounds add: up to about twice {@code 3.5 / M * n}, more with restored parts). Below rate 1 it does not bound the
 * sampling error: a key first sampled within a window is undercounted by a random number of records (above), and an
 * overflow row's scaled count is itself an estimate.
 *
 * <p>Memory per open window: the sketch, {@code 8 x maxParallelism} bytes of counts and, when sampling, the hold.
 * Not thread-safe.
 *
 * @param <K> the user key type
 */
public final class KeySampler<K> {
    private final long windowMillis;
    private final int sketchSize;
    private final double samplingRate;
    private final int maxParallelism;
    private final KeyCodec<K> codec;
    private final long seed;

    private final TreeMap<Long, Accumulator> open = new TreeMap<>();
    /** Sampling-rate commands: the rate from a time on (windows that start at or after it); else samplingRate. */
    private final TreeMap<Long, Double> rates = new TreeMap<>();
    /** The rate of the window opened last. */
    private double lastRate;
    /** Start of the latest window {@link #restore restored}. */
    private long latestRestored = Long.MIN_VALUE;
    /** The window of the last record and its accumulator (records come mostly in order: no map lookup for most). */
    private long lastStart = Long.MIN_VALUE;
    /** The last event time of {@link #lastStart}'s window. */
    private long lastEnd = Long.MIN_VALUE;
    private Accumulator last;
    /** Keys held from the start of the next window, with their decayed counts (sampling only). */
    private final Map<Object, Double> preserved = new HashMap<>();
    private long holdWindow = Long.MIN_VALUE;
    /** The hold window's part taken before an idle spell (see {@link #takeOpen}); null: none (not checkpointed). */
    private Accumulator takenHold;
    /** The preserved keys that the hold window's accumulator does not hold yet: their places stay free for them. */
    private int preservedPending;
    /** The highest watermark windows were closed up to (Long.MIN_VALUE before any; restored by the router). */
    private long closedUpTo = Long.MIN_VALUE;
    /** Records of windows already closed, not counted (see {@link #lateRecords()}). */
    private long lateRecords;
    private Accumulator holdAccumulator;

    /**
     * @param windowMillis planning window, ms, > 0
     * @param sketchSize maximum map size of the sketch, a power of 2 >= 8
     * @param samplingRate probability in (0, 1] that a record of a key not held is sampled
     * @param maxParallelism number of key groups
     * @param seed distinguishes subtasks' sampling decisions (e.g. the subtask index)
     */
    public KeySampler(long windowMillis, int sketchSize, double samplingRate, int maxParallelism, KeyCodec<K> codec,
                      long seed) {
        if (windowMillis <= 0) {
            throw new IllegalArgumentException("window must be > 0 ms, was " + windowMillis);
        }
        if (!(samplingRate > 0 && samplingRate <= 1)) {
            throw new IllegalArgumentException("sampling rate must be in (0, 1], was " + samplingRate);
        }
        if (sketchSize < 8 || Integer.bitCount(sketchSize) != 1) {
            throw new IllegalArgumentException("sketch size must be a power of 2 >= 8, was " + sketchSize);
        }
        this.windowMillis = windowMillis;
        this.sketchSize = sketchSize;
        this.samplingRate = samplingRate;
        this.maxParallelism = maxParallelism;
        this.codec = codec;
        this.seed = seed;
        this.lastRate = samplingRate;
    }

    /**
     * Samples the windows that start at or after {@code from} and open after this call at {@code rate} (a
     * sampling-rate command); a window's rate is fixed when its first record comes.
     *
     * @throws IllegalArgumentException unless rate is in (0, 1]
     */
    public void rateFrom(long from, double rate) {
        if (!(rate > 0 && rate <= 1)) {
            throw new IllegalArgumentException("sampling rate must be in (0, 1], was " + rate);
        }
        rates.put(from, rate);
    }

    /** The rate a window that starts at {@code windowStart} and opens now is sampled at. */
    public double rateFor(long windowStart) {
        Map.Entry<Long, Double> e = rates.floorEntry(windowStart);
        return e == null ? samplingRate : e.getValue();
    }

    /** The highest watermark this sampler closed windows up to (Long.MIN_VALUE: none), for a checkpoint. */
    public long closedUpTo() {
        return closedUpTo;
    }

    /** Restores {@link #closedUpTo()} (this subtask's own, at the same parallelism): windows up to it are closed. */
    public void closedUpTo(long watermark) {
        closedUpTo = Math.max(closedUpTo, watermark);
    }

    /**
     * Records {@link #add} left out because their window had already closed ({@link #closeUpTo} had passed its end):
     * late records, behind this subtask's watermark by more than the rest of their window.
     */
    public long lateRecords() {
        return lateRecords;
    }

    /** The rate of the window opened last (the configured rate before any). */
    public double lastRate() {
        return lastRate;
    }

    /**
     * Counts one record of {@code key} (natural key group {@code keyGroup}) at event time {@code t}.
     *
     * @param key the user key ({@code K}), or its {@link KeyPseudonym} when keys are pseudonymized
     */
    public void add(Object key, int keyGroup, long t) {
        long start;
        Accumulator acc;
        if (t >= lastStart && t <= lastEnd && last != null) {
            // the window of the last record (no division per record)
            start = lastStart;
            acc = last;
        } else {
            start = windowStart(t, windowMillis);
            long end = start > Long.MAX_VALUE - windowMillis ? Long.MAX_VALUE - 1 : start + windowMillis - 1;
            if (end <= closedUpTo) {
                // its window has closed here (its sample went out): reopened, it would go out a second time, and
                // whether the profile counted it would depend on when the other subtasks' reports came
                lateRecords++;
                return;
            }
            acc = open.get(start);
            if (acc == null) {
                acc = new Accumulator(rateFor(start));
                lastRate = acc.rate;
                open.put(start, acc);
                if (start == holdWindow && holdAccumulator != null) {
                    // the hold window again, its earlier part taken (an input that turned idle, takeOpen): the hold
                    // goes on here, the earlier part's held counts still count towards what is preserved next
                    if (takenHold == null) {
                        takenHold = holdAccumulator;
                    } else {
                        // taken a second time: the parts' counts add up
                        holdAccumulator.held.forEach((k, c) -> takenHold.held.merge(k, c.clone(),
                                (a, b) -> new long[] {a[0] + b[0]}));
                    }
                    holdAccumulator = acc;
                    // the keys the earlier parts held stay held here (from 0): every later record of a held key is
                    // counted, and the parts together hold no more keys than the hold's capacity
                    for (Object k : takenHold.held.keySet()) {
                        if (acc.held.size() >= holdCapacity()) {
                            break;
                        }
                        acc.held.putIfAbsent(k, new long[] {0});
                    }
                    preservedPending = preservedNotHeld(acc);
                }
            }
            lastStart = start;
            lastEnd = end;
            last = acc;
        }
        long position = acc.records++;
        acc.keyGroupCounts[keyGroup]++;
        double rate = acc.rate;
        if (rate >= 1.0) {
            acc.sketch().update(kept(acc, key));
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
            preservedPending = preservedNotHeld(acc);
        }
        long[] held = acc.held.get(key);
        if (held != null) {
            held[0]++;
        } else if (preserved.containsKey(key) && acc.held.size() < holdCapacity()) {
            acc.held.put(keyCopies == null ? key : keyCopies.apply(key), new long[] {1});
            if (acc == holdAccumulator) {
                preservedPending--;
            }
        } else if (sampled(start ^ seed * 0x9E3779B97F4A7C15L, position, rate)) {
            // in the window the preserved keys are held for, their places are kept for them until they come
            if (acc.held.size() + (acc == holdAccumulator ? preservedPending : 0) < holdCapacity()) {
                acc.held.put(keyCopies == null ? key : keyCopies.apply(key), new long[] {1});
            } else {
                acc.sketch().update(kept(acc, key));
            }
        }
    }

    /** Makes a copy of each key before this sampler first keeps it (null: keys are kept as given). */
    private java.util.function.UnaryOperator<Object> keyCopies;

    /**
     * Copies each key with {@code copies} before this sampler first keeps it: under pipeline.object-reuse the operator
     * in front may change a key object after handing it over. A key already kept is counted without a copy.
     */
    public KeySampler<K> withKeyCopies(java.util.function.UnaryOperator<Object> copies) {
        this.keyCopies = copies;
        return this;
    }

    /** {@code key}, or its copy where the window's sketch does not hold it yet and keys are copied. */
    private Object kept(Accumulator acc, Object key) {
        return keyCopies == null || acc.sketch().getEstimate(key) > 0 ? key : keyCopies.apply(key);
    }

    /** Removes and returns the samples of every open window that ends at or before {@code watermark + 1}. */
    public List<WindowSample> closeUpTo(long watermark) {
        closedUpTo = Math.max(closedUpTo, watermark);
        return removeUpTo(watermark);
    }

    /**
     * Removes and returns the samples of every open window, as they are so far, without closing them: a record of
     * such a window that comes later opens it again, and its sample goes out when the watermark passes its end (for
     * an input that turned idle, whose open windows would otherwise be profiled without it).
     */
    public List<WindowSample> takeOpen() {
        return removeUpTo(Long.MAX_VALUE);
    }

    private List<WindowSample> removeUpTo(long watermark) {
        List<WindowSample> out = new ArrayList<>();
        while (!open.isEmpty() && open.firstKey() + windowMillis - 1 <= watermark) {
            Map.Entry<Long, Accumulator> first = open.pollFirstEntry();
            if (first.getValue() == last) {
                last = null;
            }
            out.add(toSample(first.getKey(), first.getValue()));
        }
        return out;
    }

    /** The samples of the open windows so far (for a checkpoint; the windows stay open). */
    public List<WindowSample> snapshot() {
        List<WindowSample> out = new ArrayList<>(open.size());
        for (Map.Entry<Long, Accumulator> e : open.entrySet()) {
            out.add(toSample(e.getKey(), e.getValue()));
        }
        return out;
    }

    /**
     * Adds a window restored from a checkpoint (possibly several per window after a rescale): its estimates are kept
     * beside the window's new counts. {@link #restoreHold} then puts a window's own sketch and hold back where the
     * checkpoint was this subtask's at the same parallelism.
     */
    public void restore(WindowSample s) {
        if (s.getWindowStart() >= latestRestored) {
            // the rate of the latest window restored is the one in force (the keyshiftSamplingRate gauge)
            latestRestored = s.getWindowStart();
            lastRate = s.getSamplingRate();
        }
        Accumulator acc = open.computeIfAbsent(s.getWindowStart(), k -> new Accumulator(s.getSamplingRate()));
        acc.records += s.getRecords();
        List<Long> counts = s.getKeyGroupCounts();
        for (int i = 0; i < Math.min(counts.size(), maxParallelism); i++) {
            acc.keyGroupCounts[i] += counts.get(i);
        }
        if (acc.restored == null) {
            acc.restored = new ItemsSketch<>(sketchSize);
        }
        for (HeavyHitter h : s.getHeavyHitters()) {
            acc.restored.update(restoredKey(h), h.getEstimate());
        }
        acc.restoredMaxError += s.getMaxError();
    }

    /** The key of a restored row: the user key, or with a key secret the pseudonym and its key group. */
    private Object restoredKey(HeavyHitter h) {
        return codec.reversible() ? codec.key(h.getKey())
                : new KeyPseudonym(io.keyshift.route.KeyPseudonymizer.parse(h.getKey()), h.getKeyGroup());
    }

    /**
     * Format version of {@link #snapshotHold}: 3 also keeps the held counts of a hold window's part taken before it
     * closed ({@link #takeOpen}); 2 (still read) left them out, 1 (still read) also a window restored from several
     * samples (after a rescale) with the estimates it restored.
     */
    private static final int HOLD_FORMAT = 3;

    /**
     * What a window's sample leaves out, for a checkpoint: per open window its sketch's counters (lower bounds) and
     * purged total, and below rate 1 (sample and hold) its held keys' exact counts; the keys preserved for the next
     * window with their scores, and the window whose held keys are preserved next (its held keys also if it has
     * closed, and those of its part taken before it closed). With it, {@link #restoreHold} after the windows'
     * {@link #restore} continues as if the sampler had not stopped, up to the sketch's next purge: DataSketches' purge
     * subtracts the median of all counters but the last in its hash table's order (it purges at 0.75 × sketch size +
     * 1 counters and samples 0.75 × sketch size of them, 1,024 at most), and the restored table's order is not the
     * uninterrupted one's; where the counters around the median are equal (a long tail of ones, the usual case) the
     * purge is the same, where they differ it may not be. A window restored from samples (after a rescale) keeps, beside its own sketch and
     * held keys since, the estimates it restored and their error. Null when there is nothing to keep. Keys are written
     * by their ids (pseudonyms with a key secret).
     *
     * @param subtask this sampler's subtask; {@code subtasks} the number of them (a restore checks both)
     */
    public byte[] snapshotHold(int subtask, int subtasks) throws java.io.IOException {
        List<Map.Entry<Long, Accumulator>> sampled = new ArrayList<>(open.entrySet());
        if (sampled.isEmpty() && preserved.isEmpty() && holdAccumulator == null) {
            return null;
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
        out.writeInt(HOLD_FORMAT);
        out.writeInt(subtask);
        out.writeInt(subtasks);
        out.writeInt(preserved.size());
        for (Map.Entry<Object, Double> e : preserved.entrySet()) {
            writeKey(out, e.getKey());
            out.writeDouble(e.getValue());
        }
        out.writeLong(holdWindow);
        boolean holdOpen = holdAccumulator != null && open.get(holdWindow) == holdAccumulator;
        out.writeBoolean(holdAccumulator != null && !holdOpen);
        if (holdAccumulator != null && !holdOpen) {
            writeHeld(out, holdAccumulator);
        }
        out.writeInt(sampled.size());
        for (Map.Entry<Long, Accumulator> e : sampled) {
            Accumulator acc = e.getValue();
            out.writeLong(e.getKey());
            writeHeld(out, acc);
            out.writeLong(acc.sketchOffset + (acc.sketch == null ? 0 : acc.sketch.getMaximumError()));
            ItemsSketch.Row<Object>[] rows = acc.sketch == null ? null
                    : acc.sketch.getFrequentItems(0L, ErrorType.NO_FALSE_NEGATIVES);
            out.writeInt(rows == null ? 0 : rows.length);
            if (rows != null) {
                for (ItemsSketch.Row<Object> r : rows) {
                    writeKey(out, r.getItem());
                    out.writeLong(r.getLowerBound());
                }
            }
            // the estimates restored after a rescale, with what their sketch purged folded in (it takes no updates
            // after the restore, so its estimates are all that is read of it)
            out.writeBoolean(acc.restored != null);
            if (acc.restored != null) {
                out.writeDouble(acc.restoredMaxError + acc.restored.getMaximumError());
                ItemsSketch.Row<Object>[] restoredRows = acc.restored.getFrequentItems(0L,
                        ErrorType.NO_FALSE_NEGATIVES);
                out.writeInt(restoredRows.length);
                for (ItemsSketch.Row<Object> r : restoredRows) {
                    writeKey(out, r.getItem());
                    out.writeLong(r.getEstimate());
                }
            }
        }
        // the hold window's part taken before it closed (an input that turned idle): its held counts count towards
        // the keys preserved into the next window
        out.writeBoolean(takenHold != null);
        if (takenHold != null) {
            writeHeld(out, takenHold);
        }
        out.flush();
        return bytes.toByteArray();
    }

    /**
     * Restores {@link #snapshotHold}'s state, after every window's {@link #restore}, if it was this subtask's at the
     * same number of subtasks; otherwise (after a rescale) keeps the windows as restored from their samples and
     * returns false.
     *
     * @throws java.io.IOException if the bytes are not in the format {@link #snapshotHold} writes
     * @throws IllegalArgumentException if a key id does not read with this sampler's codec
     */
    public boolean restoreHold(byte[] state, int subtask, int subtasks) throws java.io.IOException {
        return restoreHold(state, subtask, subtasks, null);
    }

    /**
     * As {@link #restoreHold(byte[], int, int)}, telling {@code keyIds} (if not null) the id of every key it reads
     * (so that a caller can see keys named by pseudonym in a stage without a key secret).
     */
    public boolean restoreHold(byte[] state, int subtask, int subtasks,
                               java.util.function.Consumer<String> keyIds) throws java.io.IOException {
        java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(state));
        int format = in.readInt();
        if (format < 1 || format > HOLD_FORMAT) {
            throw new java.io.IOException("sampler hold state of format " + format + ", this build reads 1 to "
                    + HOLD_FORMAT);
        }
        this.keyIdsRead = keyIds;
        try {
            return restoreHold(in, format, subtask, subtasks);
        } finally {
            this.keyIdsRead = null;
        }
    }

    /** Told the id of each key {@link #readKey} reads, during a {@link #restoreHold}; else null. */
    private java.util.function.Consumer<String> keyIdsRead;

    private boolean restoreHold(java.io.DataInputStream in, int format, int subtask, int subtasks)
            throws java.io.IOException {
        if (in.readInt() != subtask || in.readInt() != subtasks) {
            return false;
        }
        preserved.clear();
        for (int n = in.readInt(); n > 0; n--) {
            Object key = readKey(in);
            preserved.put(key, in.readDouble());
        }
        if (preserved.size() > holdCapacity() / 2) {
            // written at a larger keyshift.profiler.sketch-size: the best scores keep their places (more would take
            // every place of the next window, and no key newly sampled there could be held)
            List<Map.Entry<Object, Double>> ranked = new ArrayList<>(preserved.entrySet());
            ranked.sort(Map.Entry.<Object, Double>comparingByValue().reversed().thenComparing(e -> id(e.getKey())));
            preserved.clear();
            for (Map.Entry<Object, Double> e : ranked.subList(0, holdCapacity() / 2)) {
                preserved.put(e.getKey(), e.getValue());
            }
        }
        holdWindow = in.readLong();
        holdAccumulator = null;
        takenHold = null;
        if (in.readBoolean()) {
            // the closed window whose held keys are preserved when the next window opens
            holdAccumulator = new Accumulator(0.5);
            readHeld(in, holdAccumulator);
        }
        for (int w = in.readInt(); w > 0; w--) {
            long start = in.readLong();
            Accumulator acc = open.get(start);
            if (acc == null) {
                throw new java.io.IOException("sampler hold state names window " + start + ", which no sample "
                        + "restored");
            }
            acc.held.clear();
            readHeld(in, acc);
            acc.sketch = null;
            acc.sketchOffset = in.readLong();
            int rows = in.readInt();
            for (int r = 0; r < rows; r++) {
                Object key = readKey(in);
                acc.sketch().update(key, in.readLong());
            }
            // the window's sample was its sketch (scaled), held counts and any restored estimates merged: superseded
            // by the parts themselves
            acc.restored = null;
            acc.restoredMaxError = 0;
            if (format >= 2 && in.readBoolean()) {
                acc.restoredMaxError = in.readDouble();
                acc.restored = new ItemsSketch<>(sketchSize);
                for (int r = in.readInt(); r > 0; r--) {
                    Object key = readKey(in);
                    acc.restored.update(key, in.readLong());
                }
            }
        }
        if (format >= 3 && in.readBoolean()) {
            takenHold = new Accumulator(0.5);
            readHeld(in, takenHold);
        }
        if (holdAccumulator == null && holdWindow != Long.MIN_VALUE) {
            holdAccumulator = open.get(holdWindow);
        }
        preservedPending = holdAccumulator == null ? 0 : preservedNotHeld(holdAccumulator);
        return true;
    }

    /** The preserved keys that {@code acc} does not hold yet. */
    private int preservedNotHeld(Accumulator acc) {
        int n = 0;
        for (Object k : preserved.keySet()) {
            if (!acc.held.containsKey(k)) {
                n++;
            }
        }
        return n;
    }

    private void writeHeld(java.io.DataOutputStream out, Accumulator acc) throws java.io.IOException {
        out.writeInt(acc.held.size());
        for (Map.Entry<Object, long[]> h : acc.held.entrySet()) {
            writeKey(out, h.getKey());
            out.writeLong(h.getValue()[0]);
        }
    }

    private void readHeld(java.io.DataInputStream in, Accumulator acc) throws java.io.IOException {
        for (int n = in.readInt(); n > 0; n--) {
            Object key = readKey(in);
            acc.held.put(key, new long[] {in.readLong()});
        }
    }

    /** A key by its id (any length) and, for a pseudonym, its key group. */
    private void writeKey(java.io.DataOutputStream out, Object key) throws java.io.IOException {
        byte[] id = id(key).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.writeInt(id.length);
        out.write(id);
        out.writeInt(key instanceof KeyPseudonym p ? p.keyGroup() : -1);
    }

    private Object readKey(java.io.DataInputStream in) throws java.io.IOException {
        int length = in.readInt();
        if (length < 0 || length > in.available()) {
            throw new java.io.IOException("sampler hold state is damaged: a key of " + length + " bytes where "
                    + in.available() + " remain");
        }
        byte[] id = new byte[length];
        in.readFully(id);
        int keyGroup = in.readInt();
        String s = new String(id, java.nio.charset.StandardCharsets.UTF_8);
        if (keyIdsRead != null) {
            keyIdsRead.accept(s);
        }
        return codec.reversible() ? codec.key(s)
                : new KeyPseudonym(io.keyshift.route.KeyPseudonymizer.parse(s), keyGroup);
    }

    /** Number of open windows. */
    public int openWindows() {
        return open.size();
    }

    private int holdCapacity() {
        return Math.max(1, sketchSize * 3 / 4);
    }

    /**
     * Preserved entries when this subtask moves on to a later window: every preserved or held key scores half its
     * previous score plus its count in the closed window; the half hold capacity with the largest scores stays held.
     */
    private void preserve(Accumulator closed) {
        Map<Object, Double> scores = new HashMap<>();
        preserved.forEach((k, v) -> scores.put(k, v / 2));
        closed.held.forEach((k, c) -> scores.merge(k, (double) c[0], Double::sum));
        if (takenHold != null) {
            takenHold.held.forEach((k, c) -> scores.merge(k, (double) c[0], Double::sum));
            takenHold = null;
        }
        preserved.clear();
        List<Map.Entry<Object, Double>> ranked = new ArrayList<>(scores.entrySet());
        // ties by the key's id, so that the choice is deterministic
        ranked.sort(Map.Entry.<Object, Double>comparingByValue().reversed()
                .thenComparing(e -> id(e.getKey())));
        for (int i = 0; i < Math.min(ranked.size(), holdCapacity() / 2); i++) {
            preserved.put(ranked.get(i).getKey(), ranked.get(i).getValue());
        }
    }

    /** The window's estimates in records: held counts, the overflow sketch scaled by 1 / rate, restored rows. */
    private ItemsSketch<Object> estimates(Accumulator acc) {
        if (acc.rate >= 1.0 && acc.restored == null) {
            return acc.sketch();
        }
        // each part in the order of its counts, ties by key id: where the merge purges, what it keeps depends on the
        // order of insertion, which must not depend on the hash tables' layouts (a restored sketch has its own)
        ItemsSketch<Object> out = new ItemsSketch<>(sketchSize);
        List<Map.Entry<Object, Long>> held = new ArrayList<>(acc.held.size());
        acc.held.forEach((k, c) -> {
            // a key held on from a part taken earlier (an idle spell) without a record since
            if (c[0] > 0) {
                held.add(Map.entry(k, c[0]));
            }
        });
        insertInOrder(out, held);
        if (acc.sketch != null) {
            double scale = acc.rate >= 1.0 ? 1.0 : 1.0 / acc.rate;
            List<Map.Entry<Object, Long>> rows = new ArrayList<>();
            for (ItemsSketch.Row<Object> r : acc.sketch.getFrequentItems(0L, ErrorType.NO_FALSE_NEGATIVES)) {
                long estimate = r.getEstimate() + acc.sketchOffset;
                rows.add(Map.entry(r.getItem(), Math.max(1, Math.round(estimate * scale))));
            }
            insertInOrder(out, rows);
        }
        if (acc.restored != null) {
            List<Map.Entry<Object, Long>> rows = new ArrayList<>();
            for (ItemsSketch.Row<Object> r : acc.restored.getFrequentItems(0L, ErrorType.NO_FALSE_NEGATIVES)) {
                rows.add(Map.entry(r.getItem(), r.getEstimate()));
            }
            insertInOrder(out, rows);
        }
        return out;
    }

    /** Adds {@code counts} to {@code sketch}, largest first, ties by key id. */
    private void insertInOrder(ItemsSketch<Object> sketch, List<Map.Entry<Object, Long>> counts) {
        counts.sort(Map.Entry.<Object, Long>comparingByValue().reversed().thenComparing(e -> id(e.getKey())));
        for (Map.Entry<Object, Long> e : counts) {
            sketch.update(e.getKey(), e.getValue());
        }
    }

    private WindowSample toSample(long start, Accumulator acc) {
        List<Long> counts = new ArrayList<>(maxParallelism);
        for (long c : acc.keyGroupCounts) {
            counts.add(c);
        }
        ItemsSketch<Object> sketch = estimates(acc);
        // the window's own sketch, restored exactly from a checkpoint: what it had purged before it
        long offset = sketch == acc.sketch ? acc.sketchOffset : 0;
        ItemsSketch.Row<Object>[] rows = sketch.getFrequentItems(0L, ErrorType.NO_FALSE_NEGATIVES);
        List<HeavyHitter> hitters = new ArrayList<>(rows.length);
        for (ItemsSketch.Row<Object> r : rows) {
            hitters.add(HeavyHitter.newBuilder()
                    .setKey(id(r.getItem()))
                    .setKeyGroup(r.getItem() instanceof KeyPseudonym p ? p.keyGroup()
                            : KeyGroupRangeAssignment.assignToKeyGroup(r.getItem(), maxParallelism))
                    .setEstimate(r.getEstimate() + offset)
                    .build());
        }
        hitters.sort(Comparator.comparingLong(HeavyHitter::getEstimate).reversed().thenComparing(h -> h.getKey().toString()));
        double maxError = sketch.getMaximumError() + offset;
        if (sketch != acc.sketch) {
            // merged from parts: each part's own error comes on top of what the merge purged
            // (what the window's sketch purged also where a restore left it without a sketch: every counter purged
            // before the checkpoint, no overflow record since)
            if (acc.sketch != null || acc.sketchOffset != 0) {
                maxError += ((acc.sketch == null ? 0 : acc.sketch.getMaximumError()) + acc.sketchOffset)
                        * (acc.rate >= 1.0 ? 1.0 : 1.0 / acc.rate);
            }
            if (acc.restored != null) {
                maxError += acc.restored.getMaximumError() + acc.restoredMaxError;
            }
        }
        return WindowSample.newBuilder()
                .setWindowStart(start)
                .setWindowEnd(start + windowMillis)
                .setRecords(acc.records)
                .setSamplingRate(acc.rate)
                .setKeyGroupCounts(counts)
                .setHeavyHitters(hitters)
                .setMaxError(maxError)
                .build();
    }

    /** The id in samples of a sampled key: a pseudonym's own, else the codec's. */
    @SuppressWarnings("unchecked")
    private String id(Object item) {
        return item instanceof KeyPseudonym p ? p.id() : codec.id((K) item);
    }

    /**
     * Start of the tumbling window (no offset) that contains {@code t}; correct for negative times from one window
     * after Long.MIN_VALUE on (the router refuses earlier ones: the product would overflow).
     */
    public static long windowStart(long t, long windowMillis) {
        return Math.floorDiv(t, windowMillis) * windowMillis;
    }

    /** Deterministic Bernoulli(rate) decision from a window's seed and a record's position in it (SplitMix64). */
    static boolean sampled(long windowSeed, long position, double rate) {
        long z = windowSeed + position * 0x9E3779B97F4A7C15L + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-53 < rate;
    }

    private final class Accumulator {
        /** The window's sampling rate, fixed when it opens. */
        final double rate;
        final long[] keyGroupCounts = new long[maxParallelism];
        long records;
        /** Sampled records' sketch (every record when not sampling). */
        private ItemsSketch<Object> sketch;
        /** Held keys: {count}. */
        final Map<Object, long[]> held = new HashMap<>();
        /** What the sketch had purged before a checkpoint it was restored from exactly (added to its estimates). */
        long sketchOffset;
        /** Estimates restored from a checkpoint, already in records. */
        ItemsSketch<Object> restored;
        double restoredMaxError;

        Accumulator(double rate) {
            this.rate = rate;
        }

        ItemsSketch<Object> sketch() {
            if (sketch == null) {
                sketch = new ItemsSketch<>(sketchSize);
            }
            return sketch;
        }
    }
}
