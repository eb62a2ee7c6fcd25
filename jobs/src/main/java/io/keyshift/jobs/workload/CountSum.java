package io.keyshift.jobs.workload;

import io.keyshift.api.Keyshift;
import io.keyshift.jobs.event.Event;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/**
 * The command line's workload: per key and tumbling event-time window, the count of records and the sum of their
 * values. One aggregate and one window function, run the same way behind a plain {@code keyBy} (the hash strategy)
 * and behind {@link io.keyshift.api.Keyshift#keyBy}: keyshift's public API is all the replay, the bench and the
 * cluster job use.
 */
public final class CountSum implements AggregateFunction<Event, CountSum.Acc, CountSum.Acc> {
    private static final long serialVersionUID = 1L;

    private final CapacityModel capacity;
    private final FailOnce faults;

    public CountSum() {
        this(CapacityModel.off(), FailOnce.none());
    }

    /**
     * @param capacity BENCHMARK ONLY: service time per record and latency recording (primary copies only)
     * @param faults TEST ONLY: failures to inject
     */
    public CountSum(CapacityModel capacity, FailOnce faults) {
        this.capacity = capacity;
        this.faults = faults;
    }

    /**
     * Accumulator: records and the sum of their values, summed with Neumaier's compensation (Neumaier 1974, "Rundungs
     * fehleranalyse einiger Verfahren zur Summation endlicher Summen"; Higham, "Accuracy and Stability of Numerical
     * Algorithms", 2nd ed., section 4.3): the error is at most about two units in the last place of the exact sum plus
     * n²·ε²·Σ|x| (ε = 2⁻⁵³; negligible below millions of values of one window), whatever order the records came in and
     * however a split key's partial sums were merged; an infinite or overflowing sum stays infinite (not NaN). A plain sum's error grows
     * with the magnitudes summed, so values that cancel gave sums that differed between keyBy and keyshift (which adds
     * in another order) by more than the replay's relative tolerance. Flink POJO ({@code compensation} is 0 in a
     * savepoint taken before it existed).
     */
    public static class Acc {
        public long count;
        public double sum;
        /** The low-order part that {@code sum} lost; the sum is {@code sum + compensation}. */
        public double compensation;

        public Acc() {}

        /** Adds {@code x} (Neumaier's step). */
        void add(double x) {
            double t = sum + x;
            if (Double.isFinite(t)) {
                compensation += Math.abs(sum) >= Math.abs(x) ? (sum - t) + x : (x - t) + sum;
            }
            sum = t;
        }

        /** The compensated sum of the values added (the plain sum where that is infinite or NaN). */
        public double total() {
            return Double.isFinite(sum) ? sum + compensation : sum;
        }
    }

    @Override
    public Acc createAccumulator() {
        return new Acc();
    }

    @Override
    public Acc add(Event e, Acc acc) {
        if (!faults.isNone()) {
            faults.check(e.timestamp);
        }
        if (!capacity.isOff()) {
            // the shadow copy costs service time too, but its latency is not a result's
            capacity.serve(Keyshift.isShadowCopy() ? Double.NaN : e.value);
        }
        acc.count++;
        acc.add(e.value);
        return acc;
    }

    @Override
    public Acc getResult(Acc acc) {
        return acc;
    }

    @Override
    public Acc merge(Acc a, Acc b) {
        Acc m = new Acc();
        m.count = a.count + b.count;
        m.sum = a.sum;
        m.compensation = a.compensation + b.compensation;
        m.add(b.sum);
        return m;
    }

    /** Emits a window's result. */
    public static class Emit extends ProcessWindowFunction<Acc, WindowResult, String, TimeWindow> {
        private static final long serialVersionUID = 1L;
        private final String corruptShadowKey;

        public Emit() {
            this(null);
        }

        /**
         * @param corruptShadowKey TEST ONLY ({@link FaultOptions#CORRUPT_SHADOW_KEY}): a key whose results computed
         *                         for a shadow copy get count + 1, which keyshift's validation must report
         */
        public Emit(String corruptShadowKey) {
            this.corruptShadowKey = corruptShadowKey;
        }

        @Override
        public void process(String key, Context ctx, Iterable<Acc> accs, Collector<WindowResult> out) {
            Acc acc = accs.iterator().next();
            WindowResult r = new WindowResult();
            r.key = key;
            r.windowStart = ctx.window().getStart();
            r.windowEnd = ctx.window().getEnd();
            r.count = acc.count;
            r.sum = acc.total();
            if (key.equals(corruptShadowKey) && Keyshift.isShadowCopy()) {
                r.count++;
            }
            out.collect(r);
        }
    }
}
