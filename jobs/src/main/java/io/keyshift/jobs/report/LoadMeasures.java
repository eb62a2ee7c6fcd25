package io.keyshift.jobs.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToIntFunction;

/**
 * The load measures every report uses (DESIGN.md, "Measures every report uses"), computed window by window from
 * the realized per-key loads of a run. A window is a tumbling event-time window identified by its start (epoch ms).
 * All loads are in records per window; all imbalances are dimensionless ratios (1.0 = perfectly even).
 *
 * <h2>Inputs</h2>
 * <ul>
 *   <li>{@code parallelism} p &ge; 1, the number of subtasks;</li>
 *   <li>the realized per-key loads: for each window start, the records of each user key in that window. This is
 *       the input's ground truth; the sum over keys is the window's <em>input records</em>;</li>
 *   <li>{@code naturalSubtask}: the subtask a key goes to by plain hashing (what {@code keyBy} does). It is used only
 *       for keys that a reference assignment does not place (see {@link #trendOracle()}).</li>
 * </ul>
 *
 * <h2>Definitions</h2>
 * <ul>
 *   <li>{@link #imbalance(long[]) imbalance} of subtask loads = max / mean over the p subtasks; 1.0 when the total
 *       is 0.</li>
 *   <li>A {@link Summary} over windows holds the imbalance per window, its <em>load-weighted mean</em> (weight = the
 *       window's input records) and its <em>p95</em>: the nearest-rank 95th percentile over the windows with at
 *       least 10&middot;p input records (NaN if there is none).</li>
 *   <li>Reference assignments are built by the greedy LPT rule (longest processing time first; Graham 1969,
 *       "Bounds on multiprocessing timing anomalies", SIAM J. Appl. Math. 17(2)): keys by load descending (ties by
 *       key ascending, {@link String#compareTo}), each onto the currently least-loaded subtask (ties to the lowest
 *       index). Keys with load 0 are left out of the greedy. LPT is within 4/3 of the optimal makespan, so the
 *       "oracles" are strong references, not exact optima.</li>
 *   <li>An assignment is <em>evaluated</em> on window w: each subtask's load is the sum of w's key loads of the keys
 *       assigned to it, keys the assignment does not place going to {@code naturalSubtask(key)}; then the
 *       imbalance of those loads.</li>
 * </ul>
 *
 * <p>Instances are immutable; build them with {@link #builder()}. Pure JDK, no Flink.
 */
public final class LoadMeasures {

    /** Minimum input records per subtask for a window to count towards the p95. */
    public static final int P95_MIN_RECORDS_PER_SUBTASK = 10;
    /** Windows before and after a window that the trend oracle averages over. */
    public static final int TREND_HALF_WIDTH = 3;
    /**
     * Below this (in max/mean, the reports' resolution of 0.001), {@link #headroomCaptured} treats the headroom as
     * zero: a ratio over a headroom of rounding size swings to any figure of either sign.
     */
    public static final double HEADROOM_EPSILON = 1e-3;

    /**
     * Imbalance over windows.
     *
     * @param mean      load-weighted mean of the per-window imbalance (weight = the window's input records, in
     *                  records); NaN if the weights sum to 0
     * @param p95       nearest-rank 95th percentile of the per-window imbalance over windows with at least
     *                  10&middot;p input records; NaN if there is none
     * @param perWindow imbalance by window start (epoch ms), unmodifiable
     */
    public record Summary(double mean, double p95, SortedMap<Long, Double> perWindow) {
        public Summary {
            perWindow = Collections.unmodifiableSortedMap(new TreeMap<>(Objects.requireNonNull(perWindow)));
        }
    }

    private final int parallelism;
    /** Window start → (key → records), unmodifiable. */
    private final SortedMap<Long, Map<String, Long>> keyLoads;
    /** Window start → input records. */
    private final SortedMap<Long, Long> inputRecords;
    private final ToIntFunction<String> naturalSubtask;
    /** The tumbling window's length, ms; 0 = unknown (the trend oracle's neighbours are then taken by position). */
    private final long windowMillis;

    private LoadMeasures(Builder b) {
        this.parallelism = b.parallelism;
        TreeMap<Long, Map<String, Long>> loads = new TreeMap<>();
        TreeMap<Long, Long> inputs = new TreeMap<>();
        for (Map.Entry<Long, Map<String, Long>> e : b.keyLoads.entrySet()) {
            Map<String, Long> window = Map.copyOf(e.getValue());
            loads.put(e.getKey(), window);
            long total = 0;
            for (long v : window.values()) {
                total = Math.addExact(total, v);
            }
            inputs.put(e.getKey(), total);
        }
        this.keyLoads = Collections.unmodifiableSortedMap(loads);
        this.inputRecords = Collections.unmodifiableSortedMap(inputs);
        this.naturalSubtask = b.naturalSubtask;
        this.windowMillis = b.windowMillis;
    }

    /** A new, empty builder. */
    public static Builder builder() {
        return new Builder();
    }

    /** The number of subtasks p. */
    public int parallelism() {
        return parallelism;
    }

    /** The realized per-key loads: window start → (key → records in that window), unmodifiable. */
    public SortedMap<Long, Map<String, Long>> keyLoads() {
        return keyLoads;
    }

    /** Input records per window (sum of the window's key loads), by window start, unmodifiable. */
    public SortedMap<Long, Long> inputRecords() {
        return inputRecords;
    }

    /**
     * max / mean of {@code subtaskLoads} (records per subtask in one window); 1.0 when the total is 0.
     *
     * @throws IllegalArgumentException if the length is not p or a load is negative
     */
    public double imbalance(long[] subtaskLoads) {
        if (subtaskLoads.length != parallelism) {
            throw new IllegalArgumentException(
                    "expected " + parallelism + " subtask loads, got " + subtaskLoads.length);
        }
        long max = 0;
        long total = 0;
        for (long v : subtaskLoads) {
            if (v < 0) {
                throw new IllegalArgumentException("negative subtask load " + v + " in " + Arrays.toString(subtaskLoads));
            }
            max = Math.max(max, v);
            total = Math.addExact(total, v);
        }
        if (total == 0) {
            return 1.0;
        }
        return (double) max * parallelism / total;
    }

    /**
     * The imbalance of a strategy's measured loads.
     *
     * @param processedPerSubtask window start → records processed per subtask in that window (primary + shadow
     *                            copies), arrays of length p. Windows of the input absent here count as all-zero
     *                            (imbalance 1.0). Windows present here but not in the input are weighted (and
     *                            checked against the p95 threshold) by their processed total instead of their input
     *                            records.
     * @throws IllegalArgumentException if an array's length is not p or it holds a negative load
     */
    public Summary strategy(SortedMap<Long, long[]> processedPerSubtask) {
        TreeSet<Long> windows = new TreeSet<>(keyLoads.keySet());
        windows.addAll(processedPerSubtask.keySet());
        TreeMap<Long, Double> perWindow = new TreeMap<>();
        TreeMap<Long, Long> weights = new TreeMap<>();
        for (long w : windows) {
            long[] processed = processedPerSubtask.get(w);
            if (processed == null) {
                processed = new long[parallelism];
            }
            perWindow.put(w, imbalance(processed));
            Long input = inputRecords.get(w);
            weights.put(w, input != null ? input : Arrays.stream(processed).sum());
        }
        return summarize(perWindow, weights);
    }

    /**
     * A lower bound no assignment of whole keys can beat: per window, max(1, largest single key load / (window
     * input records / p)); 1.0 for an empty window.
     */
    public Summary lowerBound() {
        TreeMap<Long, Double> perWindow = new TreeMap<>();
        for (Map.Entry<Long, Map<String, Long>> e : keyLoads.entrySet()) {
            long total = inputRecords.get(e.getKey());
            long largest = 0;
            for (long v : e.getValue().values()) {
                largest = Math.max(largest, v);
            }
            double bound = total == 0 ? 1.0 : Math.max(1.0, (double) largest * parallelism / total);
            perWindow.put(e.getKey(), bound);
        }
        return summarize(perWindow, inputRecords);
    }

    /**
     * Oracle: per window, an LPT assignment built from that window's exact key loads, evaluated on the same window.
     * It knows the window's noise, so it is a bound, not a target.
     */
    public Summary oracle() {
        TreeMap<Long, Double> perWindow = new TreeMap<>();
        for (Map.Entry<Long, Map<String, Long>> e : keyLoads.entrySet()) {
            perWindow.put(e.getKey(), evaluate(lptAssignment(e.getValue(), parallelism), e.getValue()));
        }
        return summarize(perWindow, inputRecords);
    }

    /**
     * Static oracle: ONE LPT assignment for the whole run, built from each key's total load over all windows,
     * evaluated on every window. It knows stable popularity, not its changes.
     */
    public Summary staticOracle() {
        Map<String, Long> totals = new HashMap<>();
        for (Map<String, Long> window : keyLoads.values()) {
            window.forEach((k, v) -> totals.merge(k, v, Math::addExact));
        }
        Map<String, Integer> assignment = lptAssignment(totals, parallelism);
        TreeMap<Long, Double> perWindow = new TreeMap<>();
        for (Map.Entry<Long, Map<String, Long>> e : keyLoads.entrySet()) {
            perWindow.put(e.getKey(), evaluate(assignment, e.getValue()));
        }
        return summarize(perWindow, inputRecords);
    }

    /**
     * Trend oracle: per window w, an LPT assignment built from each key's mean load over the
     * {@value #TREND_HALF_WIDTH} windows before w and the {@value #TREND_HALF_WIDTH} windows after w (with
     * {@link Builder#windowMillis} by time, within the input's span, a window without records counting as one with no
     * load; without it by position in the window list; fewer at the ends; w itself excluded; a key absent from a
     * window counts 0 there), evaluated on w. Keys with mean 0 are not part of the greedy and go to
     * {@code naturalSubtask(key)}. With a single window, that window's own loads are used. It knows the trend, not
     * the noise.
     */
    public Summary trendOracle() {
        List<Long> starts = new ArrayList<>(keyLoads.keySet());
        List<Map<String, Long>> windows = new ArrayList<>(keyLoads.values());
        int n = windows.size();
        TreeMap<Long, Double> perWindow = new TreeMap<>();
        if (windowMillis > 0 && n > 1) {
            // by time: the windows w - 3 window .. w + 3 window within the input's span, a window without records
            // counting as one with no load (a night hour of the flights is a neighbour, not skipped)
            long first = starts.get(0);
            long last = starts.get(n - 1);
            for (int i = 0; i < n; i++) {
                long w = starts.get(i);
                Map<String, Long> sums = new HashMap<>();
                for (int k = -TREND_HALF_WIDTH; k <= TREND_HALF_WIDTH; k++) {
                    long at = w + k * windowMillis;
                    if (k != 0 && at >= first && at <= last) {
                        Map<String, Long> neighbour = keyLoads.get(at);
                        if (neighbour != null) {
                            neighbour.forEach((key, v) -> sums.merge(key, v, Math::addExact));
                        }
                    }
                }
                perWindow.put(w, evaluate(lptAssignment(sums, parallelism), windows.get(i)));
            }
            return summarize(perWindow, inputRecords);
        }
        for (int i = 0; i < n; i++) {
            // All neighbour sets of window i have the same size, so LPT on the sums places keys exactly as LPT on
            // the means would, without rounding.
            Map<String, Long> sums = new HashMap<>();
            if (n == 1) {
                sums.putAll(windows.get(0));
            } else {
                int from = Math.max(0, i - TREND_HALF_WIDTH);
                int to = Math.min(n - 1, i + TREND_HALF_WIDTH);
                for (int j = from; j <= to; j++) {
                    if (j != i) {
                        windows.get(j).forEach((k, v) -> sums.merge(k, v, Math::addExact));
                    }
                }
            }
            perWindow.put(starts.get(i), evaluate(lptAssignment(sums, parallelism), windows.get(i)));
        }
        return summarize(perWindow, inputRecords);
    }

    /**
     * The share of the hash → reference headroom a strategy captures: (hash − strategy) / (hash − reference),
     * with imbalances as arguments (typically load-weighted means; reference = min(static oracle, trend oracle)).
     * 1.0 = as good as the reference, 0 = no better than hash, negative = worse than hash. NaN if
     * hash − reference &lt; {@link #HEADROOM_EPSILON} (no headroom to speak of) or an argument is NaN.
     */
    public static double headroomCaptured(double hash, double strategy, double reference) {
        double headroom = hash - reference;
        if (!(headroom >= HEADROOM_EPSILON)) {
            return Double.NaN;
        }
        return (hash - strategy) / headroom;
    }

    /**
     * The LPT (Graham 1969) assignment of keys to {@code parallelism} subtasks: keys by load descending, ties by key
     * ascending ({@link String#compareTo}); each key onto the currently least-loaded subtask, ties to the lowest
     * index. Keys with load 0 are left out.
     *
     * @param loads key → load (records, or any non-negative weight)
     * @return key → subtask index in [0, parallelism), unmodifiable
     */
    public static Map<String, Integer> lptAssignment(Map<String, Long> loads, int parallelism) {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
        }
        List<Map.Entry<String, Long>> keys = new ArrayList<>();
        for (Map.Entry<String, Long> e : loads.entrySet()) {
            if (e.getValue() < 0) {
                throw new IllegalArgumentException("negative load " + e.getValue() + " for key " + e.getKey());
            }
            if (e.getValue() > 0) {
                keys.add(e);
            }
        }
        keys.sort((a, b) -> {
            int byLoad = Long.compare(b.getValue(), a.getValue());
            return byLoad != 0 ? byLoad : a.getKey().compareTo(b.getKey());
        });
        // Entries are {load, subtask}; the head is the least-loaded subtask, ties to the lowest index.
        PriorityQueue<long[]> subtasks = new PriorityQueue<>(parallelism, (a, b) -> {
            int byLoad = Long.compare(a[0], b[0]);
            return byLoad != 0 ? byLoad : Long.compare(a[1], b[1]);
        });
        for (int s = 0; s < parallelism; s++) {
            subtasks.add(new long[] {0L, s});
        }
        Map<String, Integer> assignment = new HashMap<>();
        for (Map.Entry<String, Long> e : keys) {
            long[] least = subtasks.poll();
            assignment.put(e.getKey(), (int) least[1]);
            least[0] = Math.addExact(least[0], e.getValue());
            subtasks.add(least);
        }
        return Collections.unmodifiableMap(assignment);
    }

    /** Imbalance of {@code assignment} on one window's key loads; unplaced keys go to their natural subtask. */
    private double evaluate(Map<String, Integer> assignment, Map<String, Long> window) {
        long[] subtaskLoads = new long[parallelism];
        for (Map.Entry<String, Long> e : window.entrySet()) {
            Integer s = assignment.get(e.getKey());
            int subtask = s != null ? s : naturalSubtask.applyAsInt(e.getKey());
            if (subtask < 0 || subtask >= parallelism) {
                throw new IllegalStateException("naturalSubtask(" + e.getKey() + ") = " + subtask
                        + " is outside [0, " + parallelism + ")");
            }
            subtaskLoads[subtask] = Math.addExact(subtaskLoads[subtask], e.getValue());
        }
        return imbalance(subtaskLoads);
    }

    /** Weighted mean and thresholded nearest-rank p95 of per-window imbalances; weights in records. */
    private Summary summarize(SortedMap<Long, Double> perWindow, Map<Long, Long> records) {
        double weighted = 0;
        double weightSum = 0;
        List<Double> eligible = new ArrayList<>();
        long threshold = (long) P95_MIN_RECORDS_PER_SUBTASK * parallelism;
        for (Map.Entry<Long, Double> e : perWindow.entrySet()) {
            long weight = records.getOrDefault(e.getKey(), 0L);
            weighted += weight * e.getValue();
            weightSum += weight;
            if (weight >= threshold) {
                eligible.add(e.getValue());
            }
        }
        double mean = weightSum > 0 ? weighted / weightSum : Double.NaN;
        return new Summary(mean, nearestRank(eligible, 0.95), perWindow);
    }

    /** The nearest-rank percentile: the ceil(q·n)-th smallest value (1-based); NaN for no values. */
    public static double nearestRank(List<Double> values, double q) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(1, Math.min(sorted.length, rank)) - 1];
    }

    /** Builder of {@link LoadMeasures}; loads added for the same window and key are summed. */
    public static final class Builder {
        private int parallelism;
        private final TreeMap<Long, Map<String, Long>> keyLoads = new TreeMap<>();
        private ToIntFunction<String> naturalSubtask;
        private long windowMillis;

        private Builder() {
        }

        /**
         * The number of subtasks p. Required.
         *
         * @throws IllegalArgumentException if p &lt; 1
         */
        public Builder parallelism(int parallelism) {
            if (parallelism < 1) {
                throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
            }
            this.parallelism = parallelism;
            return this;
        }

        /**
         * The tumbling window's length, ms (&gt; 0): the trend oracle then takes its neighbours by time, a window
         * without records counting as one with no load. Optional; without it, by position in the list of windows.
         */
        public Builder windowMillis(long windowMillis) {
            if (windowMillis <= 0) {
                throw new IllegalArgumentException("window must be > 0 ms, was " + windowMillis);
            }
            this.windowMillis = windowMillis;
            return this;
        }

        /** The subtask a key goes to by plain hashing; must return a value in [0, p). Required. */
        public Builder naturalSubtask(ToIntFunction<String> naturalSubtask) {
            this.naturalSubtask = Objects.requireNonNull(naturalSubtask);
            return this;
        }

        /** Adds {@code records} (&ge; 0) of {@code key} to window {@code windowStart}; registers the window. */
        public Builder add(long windowStart, String key, long records) {
            Objects.requireNonNull(key, "key");
            if (records < 0) {
                throw new IllegalArgumentException("negative load " + records + " for key " + key
                        + " in window " + windowStart);
            }
            keyLoads.computeIfAbsent(windowStart, w -> new HashMap<>()).merge(key, records, Math::addExact);
            return this;
        }

        /** Adds one window's key loads (key → records); registers the window even if the map is empty. */
        public Builder window(long windowStart, Map<String, Long> loads) {
            keyLoads.computeIfAbsent(windowStart, w -> new HashMap<>());
            loads.forEach((k, v) -> add(windowStart, k, v));
            return this;
        }

        /** Adds the key loads of many windows: window start → (key → records). */
        public Builder keyLoads(Map<Long, ? extends Map<String, Long>> loads) {
            loads.forEach(this::window);
            return this;
        }

        /**
         * @throws IllegalStateException if parallelism or naturalSubtask was not set
         */
        public LoadMeasures build() {
            if (parallelism < 1) {
                throw new IllegalStateException("parallelism is required");
            }
            if (naturalSubtask == null) {
                throw new IllegalStateException("naturalSubtask is required");
            }
            return new LoadMeasures(this);
        }
    }
}
