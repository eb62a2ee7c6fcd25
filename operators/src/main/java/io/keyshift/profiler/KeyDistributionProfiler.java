package io.keyshift.profiler;

import io.keyshift.avro.HeavyHitter;
import io.keyshift.avro.KeyLoadSample;
import io.keyshift.avro.WindowLoad;
import io.keyshift.avro.WindowSample;
import io.keyshift.config.AvroTrust;
import io.keyshift.metrics.KeyshiftMetrics;

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
import org.apache.flink.util.OutputTag;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Merges the reports of every router subtask (parallelism 1): per planning window, the key samples into one
 * {@link WindowProfile} (main output, to the forecaster), and the routed copies into one {@link WindowLoad} (side
 * output {@code loads}: the keyed stage's load per key group).
 *
 * <p><b>Progress is data.</b> Every report carries its subtask's input and output watermarks; a window's profile is
 * complete once every subtask that is not idle has reported an input watermark at or past the window's end (a router
 * sends a window's sample before it reports that watermark), its load once every subtask whose output is not idle has
 * reported an output watermark at or past it (a subtask whose input idles while records wait for a lease is not: their
 * copies count in those loads); a subtask back from idle with an input watermark behind the one this operator emitted
 * is passed by until it catches up, as Flink's {@code StatusWatermarkValve} passes by such a channel. Flink's watermark on the input edge is ignored (the
 * routers hold it back at their leases); this operator emits the minimum input watermark as its own, so the forecaster,
 * planner and scaling decisions downstream run on the routers' progress. Profiles are emitted in order, one per window
 * (a window without records gets an empty profile), so the forecaster sees every window; a gap without records longer
 * than the gap bound is skipped by whole seasonal periods (see the constructor), so the seasons keep their phase.
 *
 * <p>Heavy hitters: the subtasks' rows (each a DataSketches frequent-items estimate, its sketch's upper bound) summed
 * exactly per key; the largest {@code maxHeavyHitters} are listed, ties by key. {@code maxError} = the sum of the
 * subtasks' maximum errors (error bounds add under merging; Agarwal et al., "Mergeable Summaries", PODS 2012).
 * State: pending samples and loads, and the ends of the last emitted windows (operator list state).
 */
public class KeyDistributionProfiler extends AbstractStreamOperator<WindowProfile>
        implements OneInputStreamOperator<KeyLoadSample, WindowProfile> {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KeyDistributionProfiler.class);

    static {
        AvroTrust.install();
    }

    private static final long serialVersionUID = 2L;
    /** Empty windows profiled after the last window with records, by default (see the constructor). */
    public static final int DEFAULT_MAX_GAP_WINDOWS = 1_000;

    private final long windowMillis;
    private final int maxHeavyHitters;
    private final OutputTag<WindowLoad> loadTag;
    private final int maxParallelism;
    private final int maxGapWindows;
    private final int phaseWindows;

    private transient TreeMap<Long, List<KeyLoadSample>> pending;
    private transient TreeMap<Long, WindowLoad> pendingLoads;
    private transient long lastEmittedEnd;
    /** The sampling rate of the last window with reports: an empty window's profile says it (1.0 before any). */
    private transient double lastRate;
    /** End of the last window that had records (Long.MIN_VALUE before the first). */
    private transient long lastDataEnd;
    private transient long lastLoadEnd;
    /** The largest KeyLoadSample.naturalUntil reported (what routers routed naturally before their first plan). */
    private transient long naturalUntil;
    private transient long emittedWatermark;
    /**
     * Per router subtask: {input watermark, output watermark, idle (1/0), plan version, output idle (1/0)}, as last
     * reported. Checkpointed (all but the output's idleness, which a restored row takes from its input's)
     * ("router-progress"): a router subtask that had finished before the checkpoint and is restored as finished never
     * reports again, and without its last report (watermark at the end of time) no window would close. A live
     * subtask's row is restored as not idle (it was idle at the checkpoint or not), and its first report after the
     * restore replaces it; rows of another parallelism are dropped.
     */
    private transient Map<Integer, long[]> progress;
    private transient int subtasks;
    private transient ListState<long[]> progressState;
    /** The rows restored, for the router parallelism they were reported at; null once used or dropped. */
    private transient Map<Integer, long[]> restoredProgress;
    /** Router subtasks back from idle with an input watermark still behind the one emitted (not checkpointed). */
    private transient java.util.Set<Integer> behind;
    private transient int restoredSubtasks;
    private transient ListState<KeyLoadSample> pendingState;
    private transient ListState<Long> endsState;
    private transient Counter windowsClosed;
    private transient Counter lateReports;

    /**
     * @param windowMillis planning window, ms
     * @param maxHeavyHitters how many of the largest keys a profile lists, >= 1
     * @param maxParallelism key groups of the keyed stage
     * @param loadTag side output of the merged loads
     */
    public KeyDistributionProfiler(long windowMillis, int maxHeavyHitters, int maxParallelism,
                                   OutputTag<WindowLoad> loadTag) {
        this(windowMillis, maxHeavyHitters, maxParallelism, loadTag, DEFAULT_MAX_GAP_WINDOWS);
    }

    /**
     * @param maxGapWindows empty windows profiled after the last window with records (>= 1): the forecaster sees
     *                      each as a window of zero load; beyond it the profiler waits for the next window with
     *                      records and profiles that one next, so a gap in event time (an outlier timestamp, a
     *                      stream that resumes after months) costs at most this many profiles and plans. Which
     *                      windows are profiled depends only on the input, so plans stay deterministic.
     */
    public KeyDistributionProfiler(long windowMillis, int maxHeavyHitters, int maxParallelism,
                                   OutputTag<WindowLoad> loadTag, int maxGapWindows) {
        this(windowMillis, maxHeavyHitters, maxParallelism, loadTag, maxGapWindows, 1);
    }

    /**
     * @param maxGapWindows as above
     * @param phaseWindows the forecaster's seasonal period in windows (the seasons' least common multiple, >= 1): a
     *                     long gap is skipped by a whole number of periods, and the empty windows left over are
     *                     profiled, so that the forecaster, which counts windows, keeps each season's phase (a day's
     *                     hour stays that hour) after the gap
     */
    public KeyDistributionProfiler(long windowMillis, int maxHeavyHitters, int maxParallelism,
                                   OutputTag<WindowLoad> loadTag, int maxGapWindows, int phaseWindows) {
        if (maxGapWindows < 1) {
            throw new IllegalArgumentException("maxGapWindows must be >= 1, was " + maxGapWindows);
        }
        if (phaseWindows < 1) {
            throw new IllegalArgumentException("phaseWindows must be >= 1, was " + phaseWindows);
        }
        this.maxGapWindows = maxGapWindows;
        this.phaseWindows = phaseWindows;
        if (maxHeavyHitters < 1) {
            throw new IllegalArgumentException("maxHeavyHitters must be >= 1, was " + maxHeavyHitters);
        }
        this.windowMillis = windowMillis;
        this.maxHeavyHitters = maxHeavyHitters;
        this.loadTag = loadTag;
        this.maxParallelism = maxParallelism;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        io.keyshift.config.JobOptions.checkOneSubtask("profiler",
                getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks());
        pendingState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("pending-reports", new AvroTypeInfo<>(KeyLoadSample.class)));
        endsState = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("emitted-ends", Types.LONG));
        progressState = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("router-progress",
                org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        pending = new TreeMap<>();
        pendingLoads = new TreeMap<>();
        progress = new HashMap<>();
        behind = new java.util.HashSet<>();
        restoredProgress = null;
        lastEmittedEnd = Long.MIN_VALUE;
        lastRate = 1.0;
        lastDataEnd = Long.MIN_VALUE;
        lastLoadEnd = Long.MIN_VALUE;
        naturalUntil = Long.MIN_VALUE;
        emittedWatermark = Long.MIN_VALUE;
        if (context.isRestored()) {
            for (KeyLoadSample s : pendingState.get()) {
                if (s.getWindow() != null) {
                    io.keyshift.config.JobOptions.checkRestoredWindow("the profiler's pending reports",
                            s.getWindow().getWindowEnd() - s.getWindow().getWindowStart(), windowMillis);
                }
                if (s.getLoad() != null) {
                    io.keyshift.config.JobOptions.checkRestoredWindow("the profiler's pending reports",
                            s.getLoad().getWindowEnd() - s.getLoad().getWindowStart(), windowMillis);
                }
                keep(s);
            }
            List<Long> ends = new ArrayList<>();
            endsState.get().forEach(ends::add);
            if (ends.size() >= 2) {
                lastEmittedEnd = ends.get(0);
                lastLoadEnd = ends.get(1);
                // a checkpoint of an older build has no third entry: count the gap from the last profile
                lastDataEnd = ends.size() >= 3 ? ends.get(2) : lastEmittedEnd;
                naturalUntil = ends.size() >= 4 ? ends.get(3) : Long.MIN_VALUE;
                if (ends.size() >= 5) {
                    io.keyshift.config.JobOptions.checkRestoredWindow("the profiler's profiles", ends.get(4),
                            windowMillis);
                }
                if (ends.size() >= 6) {
                    lastRate = Double.longBitsToDouble(ends.get(5));
                }
            }
            // {subtask, subtasks, input watermark, output watermark, idle, plan version}; none in older checkpoints
            for (long[] row : progressState.get()) {
                if (restoredProgress == null) {
                    restoredProgress = new HashMap<>();
                    restoredSubtasks = (int) row[1];
                }
                // a router that had not finished is live after the restore: it starts not idle and reports with its
                // first watermark (and again once its input idles), so its row is not passed by as idle meanwhile
                long idle = row[2] == Long.MAX_VALUE ? row[4] : 0;
                restoredProgress.put((int) row[0], new long[] {row[2], row[3], idle, row[5], idle});
            }
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        windowsClosed = getMetricGroup().counter(KeyshiftMetrics.PROFILER_WINDOWS);
        lateReports = getMetricGroup().counter(KeyshiftMetrics.PROFILER_LATE_REPORTS);
    }

    @Override
    public void processElement(StreamRecord<KeyLoadSample> element) {
        KeyLoadSample s = element.getValue();
        if (s.getSubtasks() != subtasks) {
            subtasks = s.getSubtasks();
            // another router parallelism (a rescale): the old subtasks' rows say nothing of the new ones, which hold
            // the old ones' open windows redistributed; wait for every new subtask's report
            progress.clear();
            behind.clear();
            if (restoredProgress != null && restoredSubtasks == subtasks) {
                // the routers of the checkpoint: those that finished before it will not report again
                restoredProgress.forEach(progress::putIfAbsent);
            }
            restoredProgress = null;
        }
        long[] was = progress.get(s.getSubtask());
        if (s.getIdle() || s.getWatermark() >= emittedWatermark) {
            behind.remove(s.getSubtask());
        } else if (was != null && was[2] == 1) {
            // back from idle behind the watermark already emitted: passed by until it catches up, as Flink's
            // StatusWatermarkValve passes by a channel that turns active below its output watermark (the keyed stage
            // drops its records as late, as under keyBy; waiting for it would hold every plan back)
            behind.add(s.getSubtask());
        }
        progress.put(s.getSubtask(), new long[] {s.getWatermark(), s.getOutputWatermark(), s.getIdle() ? 1 : 0,
            s.getPlanVersion(), s.getOutputIdle() ? 1 : 0});
        naturalUntil = Math.max(naturalUntil, s.getNaturalUntil());
        WindowSample w = s.getWindow();
        if (w != null && (lastEmittedEnd != Long.MIN_VALUE && w.getWindowEnd() <= lastEmittedEnd
                || emittedWatermark != Long.MIN_VALUE && w.getWindowEnd() - 1 <= emittedWatermark)) {
            // a subtask that was idle and came back behind the others: its window was closed without it (or, before
            // the first profile, the watermark emitted has passed it: a profile of it would come after that)
            lateReports.inc();
            s.setWindow(null);
        }
        WindowLoad l = s.getLoad();
        if (l != null && lastLoadEnd != Long.MIN_VALUE && l.getWindowEnd() <= lastLoadEnd) {
            lateReports.inc();
            s.setLoad(null);
        }
        keep(s);
        closeWindows();
    }

    private void keep(KeyLoadSample s) {
        if (s.getWindow() != null) {
            pending.computeIfAbsent(s.getWindow().getWindowStart(), k -> new ArrayList<>()).add(s);
        }
        WindowLoad l = s.getLoad();
        if (l != null) {
            WindowLoad sum = pendingLoads.get(l.getWindowStart());
            if (sum == null) {
                pendingLoads.put(l.getWindowStart(), WindowLoad.newBuilder(l)
                        .setRoutedKeyGroupCounts(new ArrayList<>(l.getRoutedKeyGroupCounts()))
                        .setShadowKeyGroupCounts(new ArrayList<>(l.getShadowKeyGroupCounts())).build());
            } else {
                // after a rescale a window's reports may come from both parallelisms: the newest names the stage's
                sum.setParallelism(l.getParallelism());
                addInto(sum.getRoutedKeyGroupCounts(), l.getRoutedKeyGroupCounts());
                addInto(sum.getShadowKeyGroupCounts(), l.getShadowKeyGroupCounts());
            }
        }
    }

    private static void addInto(List<Long> into, List<Long> add) {
        for (int i = 0; i < Math.min(into.size(), add.size()); i++) {
            into.set(i, into.get(i) + add.get(i));
        }
    }

    /**
     * The minimum over reporting subtasks of field {@code f} (0: input watermark, 1: output watermark), passing by those
     * whose input (for 0) or output (for 1) is idle; Long.MIN_VALUE until every subtask reported. Where every
     * subtask's input is idle, the input watermark is the largest of theirs, as Flink's watermark valve emits the
     * largest of its channels' when the last active one goes idle: a router that read ahead and went idle with
     * records waiting for a lease, the others idle behind it, held every window it had read back (their results
     * unfired, where {@code keyBy}'s fire), for as long as the input stayed quiet. Likewise the output watermark where
     * every subtask's output is idle (an output idles only once the loads of what it read were reported: the last
     * window's loads were held until the input resumed). Where a subtask is active but every active one is back from
     * idle behind the emitted watermark, Long.MIN_VALUE: the valve holds its output there too (the largest watermark
     * closed the windows that subtask was still reading, and its samples of them came late).
     */
    private long minimum(int f) {
        if (subtasks == 0 || progress.size() < subtasks) {
            return Long.MIN_VALUE;
        }
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        boolean aligned = false;
        boolean active = false;
        for (Map.Entry<Integer, long[]> e : progress.entrySet()) {
            long[] p = e.getValue();
            max = Math.max(max, p[f]);
            // idle subtasks, and those back from idle behind the emitted watermark, are passed by
            // an idle input whose records still wait for a lease holds the loads back: their copies count in them
            if (p[f == 0 ? 2 : 4] == 0) {
                active = true;
                if (!behind.contains(e.getKey())) {
                    min = Math.min(min, p[f]);
                    aligned = true;
                }
            }
        }
        return aligned ? min : active ? Long.MIN_VALUE : max;
    }

    /** The oldest plan version any router subtask reported routing by. */
    private long oldestPlanVersion() {
        long min = Long.MAX_VALUE;
        for (long[] p : progress.values()) {
            min = Math.min(min, p[3]);
        }
        return min == Long.MAX_VALUE ? 0 : min;
    }

    private void closeWindows() {
        long wm = minimum(0);
        long next;
        if (lastEmittedEnd != Long.MIN_VALUE) {
            next = lastEmittedEnd;
        } else if (!pending.isEmpty()) {
            next = pending.firstKey();
        } else {
            next = Long.MAX_VALUE;
        }
        while (next != Long.MAX_VALUE && next + windowMillis - 1 <= wm) {
            if (wm == Long.MAX_VALUE && pending.isEmpty()) {
                break;
            }
            if (!pending.containsKey(next) && lastDataEnd != Long.MIN_VALUE
                    && (next - lastDataEnd) / windowMillis >= maxGapWindows) {
                // a long gap: skip it by whole seasonal periods once the next window with records has its reports
                // in, and profile the empty windows left over (fewer than a period), so the seasons keep their phase
                if (pending.isEmpty() || pending.firstKey() + windowMillis - 1 > wm) {
                    // the empty windows left over after the skip come from here on: the watermark stays before them
                    // (emitted at the routers' minimum, it made those profiles late for every consumer downstream)
                    wm = Math.min(wm, next - 1);
                    break;
                }
                long periods = (pending.firstKey() - next) / windowMillis / phaseWindows;
                if (periods > 0) {
                    next += periods * phaseWindows * windowMillis;
                    continue;
                }
            }
            List<KeyLoadSample> samples = pending.remove(next);
            if (samples != null) {
                lastDataEnd = next + windowMillis;
            }
            WindowProfile profile = merge(next, samples);
            profile.routerPlanVersion = oldestPlanVersion();
            profile.routerParallelism = subtasks;
            profile.naturalUntil = naturalUntil;
            output.collect(new StreamRecord<>(profile, next + windowMillis - 1));
            windowsClosed.inc();
            lastEmittedEnd = next + windowMillis;
            next = lastEmittedEnd;
        }
        long out = minimum(1);
        while (!pendingLoads.isEmpty() && pendingLoads.firstKey() + windowMillis - 1 <= out) {
            WindowLoad l = pendingLoads.pollFirstEntry().getValue();
            output.collect(loadTag, new StreamRecord<>(l, l.getWindowEnd() - 1));
            lastLoadEnd = l.getWindowEnd();
        }
        if (wm > emittedWatermark) {
            emittedWatermark = wm;
            output.emitWatermark(new Watermark(wm));
        }
    }

    /** Ignored: the routers' progress comes as data (see the class comment). */
    @Override
    public void processWatermark(Watermark mark) {}

    /**
     * Ignored, as watermarks are: this operator's output watermark is its own, made from the routers' reports (an idle
     * router says so in them). Forwarded, the routers' idleness made this output idle, and Flink drops the watermarks
     * an idle output is given: one emitted on a report that came while every router's channel was idle was lost.
     */
    @Override
    public void processWatermarkStatus(org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus status) {}

    private WindowProfile merge(long start, List<KeyLoadSample> reports) {
        if (reports == null || reports.isEmpty()) {
            return WindowProfile.empty(start, start + windowMillis, maxParallelism, lastRate);
        }
        int maxP = maxParallelism;
        long[] counts = new long[maxP];
        long records = 0;
        double maxError = 0;
        // subtasks that learnt a sampling-rate command at different times may differ for one window: the lowest
        double rate = reports.stream().mapToDouble(r -> r.getWindow().getSamplingRate()).min().orElse(1.0);
        lastRate = rate;
        // the subtasks' rows summed exactly: at most subtasks × 0.75 × sketch-size of them. Merged into a sketch of
        // that size, they purged once more than 0.75 × sketch-size distinct keys were listed, and every key inserted
        // after a purge carried its offset: keys listed by the later subtasks looked heavier than the same counts at
        // the first ones, and those listed before a purge were dropped
        Map<String, Long> sums = new HashMap<>();
        Map<String, Integer> keyGroups = new HashMap<>();
        // per key, the maximum errors of the subtasks that listed it (the rest may each have purged up to theirs)
        Map<String, Double> listedError = new HashMap<>();
        // in subtask order, so that the warning below does not depend on arrival
        reports.sort(Comparator.comparingInt(KeyLoadSample::getSubtask));
        for (KeyLoadSample r : reports) {
            WindowSample s = r.getWindow();
            records += s.getRecords();
            List<Long> c = s.getKeyGroupCounts();
            for (int i = 0; i < Math.min(maxP, c.size()); i++) {
                counts[i] += c.get(i);
            }
            for (HeavyHitter h : s.getHeavyHitters()) {
                sums.merge(h.getKey(), h.getEstimate(), Long::sum);
                Integer before = keyGroups.putIfAbsent(h.getKey(), h.getKeyGroup());
                if (before != null && before != h.getKeyGroup() && unstableKeysWarned < 10) {
                    unstableKeysWarned++;
                    LOG.warn(unstableKeyHash(h.getKey(), before, h.getKeyGroup()));
                }
                listedError.merge(h.getKey(), s.getMaxError(), Double::sum);
            }
            maxError += s.getMaxError();
        }
        List<Map.Entry<String, Long>> sorted = new ArrayList<>(sums.entrySet());
        sorted.sort(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry::getKey));
        int n = Math.min(maxHeavyHitters, sorted.size());
        WindowProfile p = new WindowProfile();
        p.windowStart = start;
        p.windowEnd = start + windowMillis;
        p.records = records;
        p.samplingRate = rate;
        p.keyGroupCounts = counts;
        p.hotKeys = new String[n];
        p.hotKeyGroups = new int[n];
        p.hotEstimates = new double[n];
        p.hotLowerBounds = new double[n];
        p.hotUpperBounds = new double[n];
        for (int i = 0; i < n; i++) {
            String key = sorted.get(i).getKey();
            long estimate = sorted.get(i).getValue();
            p.hotKeys[i] = key;
            p.hotKeyGroups[i] = keyGroups.get(key);
            p.hotEstimates[i] = estimate;
            // a subtask's estimate is its sketch's upper bound (counter + offset): the true count there is at most its
            // maximum error below it, and at most its maximum error where the key was purged and not listed
            double listed = listedError.get(key);
            p.hotLowerBounds[i] = Math.max(0, estimate - listed);
            p.hotUpperBounds[i] = estimate + (maxError - listed);
        }
        p.maxError = maxError;
        return p;
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        List<KeyLoadSample> all = new ArrayList<>();
        for (List<KeyLoadSample> l : pending.values()) {
            for (KeyLoadSample s : l) {
                all.add(KeyLoadSample.newBuilder(s).setLoad(null).build());
            }
        }
        for (WindowLoad l : pendingLoads.values()) {
            all.add(KeyLoadSample.newBuilder().setSubtask(0).setSubtasks(0).setWatermark(Long.MIN_VALUE)
                    .setOutputWatermark(Long.MIN_VALUE).setIdle(false).setMaxParallelism(l.getRoutedKeyGroupCounts().size())
                    .setWindow(null).setLoad(l).build());
        }
        pendingState.update(all);
        endsState.update(List.of(lastEmittedEnd, lastLoadEnd, lastDataEnd, naturalUntil, windowMillis,
                Double.doubleToLongBits(lastRate)));
        List<long[]> rows = new ArrayList<>(progress.size());
        progress.forEach((i, p) -> rows.add(new long[] {i, subtasks, p[0], p[1], p[2], p[3]}));
        if (progress.isEmpty() && restoredProgress != null) {
            // restored and not yet reported to: keep what was restored
            restoredProgress.forEach((i, p) -> rows.add(new long[] {i, restoredSubtasks, p[0], p[1], p[2], p[3]}));
        }
        progressState.update(rows);
    }

    /** Keys logged by {@link #unstableKeyHash} so far (the first 10). */
    private transient int unstableKeysWarned;

    /**
     * Why one key id came from two natural key groups: routers in different JVMs hashed it differently (a key class
     * whose hashCode reads an enum's or an object's identity hash: its records are split over both key groups and
     * their windows counted at each, where Flink's keyBy fails such a job with "Key group ... is not in
     * KeyGroupRange"), or its id does not read back as the key (a copy restored from state that hashes otherwise).
     * Logged as a warning, not a failure: a restored copy's hash alone changes no result.
     */
    static String unstableKeyHash(String key, int one, int other) {
        return "keyshift: key " + key + " was reported in natural key group " + one + " by one router subtask and in "
                + "key group " + other + " by another: if its hashCode differs between JVMs (a hashCode over an enum "
                + "field or an object's identity hash), its records are split over both key groups and its windows "
                + "counted at each (Flink's keyBy fails such a key with 'Key group ... is not in KeyGroupRange'): give "
                + "the key class a hashCode stable across JVMs, e.g. over the enum's name() or ordinal(). After a "
                + "restore it may also be a key whose copy read back from state hashes otherwise (a Row in name-based "
                + "mode, Row.withNames: key by Row.of(...); a String with an unpaired surrogate)";
    }
}
