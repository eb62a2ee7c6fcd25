package io.keyshift.migration;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple5;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A split key's partial aggregates (one per key group) are merged with the user's AggregateFunction into one result at
 * the window's end; a late partial re-fires the window with the corrected total, not a double-counted one; state is
 * cleared once the allowed lateness has passed.
 */
class PartialMergerTest {
    private static final TypeInformation<long[]> ACC = PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO;

    /** Partial: key, window start, window end, key group, accumulator {count, sum}. */
    private static Tuple5<String, Long, Long, Integer, long[]> partial(String key, long start, long end, int keyGroup,
                                                                        long count, long sum) {
        return Tuple5.of(key, start, end, keyGroup, new long[] {count, sum});
    }

    /**
     * Count and sum of the values, the result is the sum. Like many aggregates, merge adds the second accumulator into
     * the first and returns it: merging into a partial that is kept in state would change that partial.
     */
    private static final class CountSum implements AggregateFunction<Long, long[], Long> {
        @Override
        public long[] createAccumulator() {
            return new long[2];
        }

        @Override
        public long[] add(Long value, long[] acc) {
            acc[0]++;
            acc[1] += value;
            return acc;
        }

        @Override
        public Long getResult(long[] acc) {
            return acc[1];
        }

        @Override
        public long[] merge(long[] a, long[] b) {
            a[0] += b[0];
            a[1] += b[1];
            return a;
        }
    }

    /** The user's window function: names the key and the window it was given, and the aggregate. */
    private static final class Describe extends ProcessWindowFunction<Long, String, String, TimeWindow> {
        @Override
        public void process(String key, Context ctx, Iterable<Long> sums, Collector<String> out) {
            for (Long s : sums) {
                out.collect(key + "@" + ctx.window().getStart() + "-" + ctx.window().getEnd() + "=" + s);
            }
        }
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, Tuple5<String, Long, Long, Integer, long[]>, String>
            harness(long allowedLateness) throws Exception {
        PartialMerger<String, long[], Long, String> merger =
                new PartialMerger<>(new CountSum(), new Describe(), ACC, allowedLateness);
        return ProcessFunctionTestHarnesses.forKeyedProcessFunction(merger, p -> p.f0, Types.STRING);
    }

    private static List<Long> timestamps(KeyedOneInputStreamOperatorTestHarness<?, ?, ?> h) {
        List<Long> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                out.add(r.getTimestamp());
            }
        }
        return out;
    }

    @Test
    void partialsOfSeveralKeyGroupsAreMergedIntoOneResultAtTheWindowsEnd() throws Exception {
        try (var h = harness(0)) {
            h.processElement(partial("hot", 0, 1000, 3, 2, 10), 999);
            h.processElement(partial("hot", 0, 1000, 40, 3, 20), 999);
            h.processElement(partial("hot", 0, 1000, 90, 1, 5), 999);
            h.processElement(partial("other", 0, 1000, 7, 1, 1), 999);
            // the next window's partial waits for its own end
            h.processElement(partial("hot", 1000, 2000, 3, 1, 100), 1999);
            h.processWatermark(998);
            assertThat(h.extractOutputValues()).isEmpty();

            h.processWatermark(999);
            assertThat(h.extractOutputValues()).containsExactlyInAnyOrder("hot@0-1000=35", "other@0-1000=1");
            // as the window operator would have fired the whole key: at the window's max timestamp
            assertThat(timestamps(h)).containsOnly(999L);

            h.processWatermark(1999);
            assertThat(h.extractOutputValues()).hasSize(3).last().isEqualTo("hot@1000-2000=100");
            // no allowed lateness: everything is cleared once fired
            assertThat(h.numKeyedStateEntries()).isZero();
        }
    }

    @Test
    void aLatePartialReFiresTheWindowWithTheCorrectTotal() throws Exception {
        try (var h = harness(500)) {
            h.processElement(partial("hot", 0, 1000, 3, 2, 10), 999);
            h.processElement(partial("hot", 0, 1000, 40, 3, 20), 999);
            h.processWatermark(999);
            assertThat(h.extractOutputValues()).containsExactly("hot@0-1000=30");

            // a late firing of key group 40 repeats its whole partial, now 27: the merged window fires again at once,
            // with 10 + 27 (merging into a kept partial would have given 30 + 27)
            h.processWatermark(1200);
            h.processElement(partial("hot", 0, 1000, 40, 4, 27), 1200);
            assertThat(h.extractOutputValues()).containsExactly("hot@0-1000=30", "hot@0-1000=37");

            // a late first partial of another key group adds to the others
            h.processElement(partial("hot", 0, 1000, 90, 1, 5), 1300);
            assertThat(h.extractOutputValues()).containsExactly("hot@0-1000=30", "hot@0-1000=37", "hot@0-1000=42");

            // the partials are kept until the window's max timestamp plus the allowed lateness
            h.processWatermark(999 + 500 - 1);
            assertThat(h.numKeyedStateEntries()).isPositive();
            h.processWatermark(999 + 500);
            assertThat(h.numKeyedStateEntries()).isZero();
            assertThat(h.extractOutputValues()).hasSize(3);
        }
    }

    private static final org.apache.flink.util.OutputTag<String> CLEARED =
            new org.apache.flink.util.OutputTag<>("cleared", Types.STRING);

    /** Describes, and names each window it is asked to clear in a side output, as Flink calls clear at cleanup. */
    private static final class DescribeAndClear extends ProcessWindowFunction<Long, String, String, TimeWindow> {
        @Override
        public void process(String key, Context ctx, Iterable<Long> sums, Collector<String> out) {
            out.collect(key + "=" + sums.iterator().next());
        }

        @Override
        public void clear(Context ctx) {
            ctx.output(CLEARED, ctx.window().getStart() + "-" + ctx.window().getEnd() + "@" + ctx.currentWatermark());
        }
    }

    /**
     * A split key's merged window is the one that counts, so the user's {@code clear} runs for it at the window's
     * cleanup time and its side outputs leave once (the key groups' partial windows call it for copies whose outputs
     * are dropped): before, a split key's windows never ran it where its outputs could leave.
     */
    @Test
    void theUsersClearRunsForTheMergedWindowAtItsCleanupTime() throws Exception {
        for (long lateness : new long[] {0, 500}) {
            PartialMerger<String, long[], Long, String> merger =
                    new PartialMerger<>(new CountSum(), new DescribeAndClear(), ACC, lateness);
            try (var h = ProcessFunctionTestHarnesses.forKeyedProcessFunction(merger, p -> p.f0, Types.STRING)) {
                h.processElement(partial("hot", 0, 1000, 3, 2, 10), 999);
                h.processElement(partial("hot", 0, 1000, 40, 3, 20), 999);
                h.processWatermark(999);
                assertThat(h.extractOutputValues()).containsExactly("hot=30");
                List<String> cleared = new ArrayList<>();
                if (lateness > 0) {
                    assertThat(h.getSideOutput(PartialMerger.stamped(CLEARED))).as("lateness " + lateness).isNull();
                    h.processWatermark(999 + lateness);
                }
                // each with the window's max timestamp, as Flink's window operator stamps it (the cleanup timer's,
                // 999 + lateness, was the record's)
                h.getSideOutput(PartialMerger.stamped(CLEARED)).forEach(r -> cleared.add(r.getValue().f0 + " "
                        + r.getValue().f1));
                assertThat(cleared).as("lateness " + lateness).containsExactly("999 0-1000@" + (999 + lateness));
                assertThat(h.numKeyedStateEntries()).isZero();
            }
        }
    }

    /**
     * A window whose key groups had no on-time records gets only late partials: each fires the merged window at once,
     * as keyBy's window fires at once for each late record (the merger had waited for the next watermark and merged
     * the late firings that came before it into one).
     */
    @Test
    void lateFirstPartialsFireAtOnceEachAsKeyByWould() throws Exception {
        try (var h = harness(500)) {
            h.processWatermark(1200);
            h.processElement(partial("hot", 0, 1000, 3, 1, 5), 1200);
            assertThat(h.extractOutputValues()).containsExactly("hot@0-1000=5");
            h.processElement(partial("hot", 0, 1000, 40, 1, 7), 1200);
            assertThat(h.extractOutputValues()).containsExactly("hot@0-1000=5", "hot@0-1000=12");
            h.processWatermark(999 + 500);
            assertThat(h.extractOutputValues()).hasSize(2);
            assertThat(h.numKeyedStateEntries()).isZero();
        }
    }

    /** As a reduce is given to the merger: no accumulator while empty, merge returns and changes its arguments. */
    private static final class ReduceLike implements AggregateFunction<Long, long[], Long> {
        @Override
        public long[] createAccumulator() {
            return null;
        }

        @Override
        public long[] add(Long value, long[] acc) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Long getResult(long[] acc) {
            return acc[1];
        }

        @Override
        public long[] merge(long[] a, long[] b) {
            if (a == null) {
                return b;
            }
            a[0] += b[0];
            a[1] += b[1];
            return a;
        }
    }

    /** A merge that returns its stored argument and changes it later must not change the kept partials. */
    @Test
    void aMergeThatReturnsAStoredPartialLeavesThePartialsAsTheyWere() throws Exception {
        PartialMerger<String, long[], Long, Long> merger = new PartialMerger<>(new ReduceLike(), null, ACC, 500, true);
        try (var h = ProcessFunctionTestHarnesses.forKeyedProcessFunction(merger, p -> p.f0, Types.STRING)) {
            h.processElement(partial("hot", 0, 1000, 3, 1, 10), 999);
            h.processElement(partial("hot", 0, 1000, 40, 1, 20), 999);
            h.processWatermark(999);
            h.processElement(partial("hot", 0, 1000, 40, 2, 21), 1200);
            // 10 + 21, not the 30 that the first firing would have left in key group 3's partial + 21
            assertThat(h.extractOutputValues()).containsExactly(30L, 31L);
        }
    }

    /**
     * The largest reading: {@code {max, n}}, whose fresh accumulator's 0 is no reading (add takes the first value as it
     * is). Its merge is right for any two accumulators that hold readings, which is all Flink's window operator merges.
     */
    private static final class MaxReading implements AggregateFunction<Long, long[], Long> {
        @Override
        public long[] createAccumulator() {
            return new long[2];
        }

        @Override
        public long[] add(Long value, long[] acc) {
            acc[0] = acc[1] == 0 ? value : Math.max(acc[0], value);
            acc[1]++;
            return acc;
        }

        @Override
        public Long getResult(long[] acc) {
            return acc[0];
        }

        @Override
        public long[] merge(long[] a, long[] b) {
            a[0] = Math.max(a[0], b[0]);
            a[1] += b[1];
            return a;
        }
    }

    /**
     * A split key's partials are merged with each other only, never into a fresh accumulator, which the window
     * operator never merges (the largest of negative readings came out as the fresh accumulator's 0).
     */
    @Test
    void thePartialsAreMergedWithEachOtherNotIntoAFreshAccumulator() throws Exception {
        PartialMerger<String, long[], Long, Long> merger = new PartialMerger<>(new MaxReading(), null, ACC, 0);
        try (var h = ProcessFunctionTestHarnesses.forKeyedProcessFunction(merger, p -> p.f0, Types.STRING)) {
            h.processElement(Tuple5.of("hot", 0L, 1000L, 3, new long[] {-5, 2}), 999);
            h.processElement(Tuple5.of("hot", 0L, 1000L, 40, new long[] {-7, 1}), 999);
            h.processElement(Tuple5.of("cold", 0L, 1000L, 9, new long[] {-3, 1}), 999);
            h.processWatermark(999);
            assertThat(h.extractOutputValues()).containsExactlyInAnyOrder(-5L, -3L);
        }
    }

    /** A sum whose accumulator is null until its first record, with the merge an IDE generates: null. */
    private static final class NullStubMerge implements AggregateFunction<Long, long[], Long> {
        @Override
        public long[] createAccumulator() {
            return null;
        }

        @Override
        public long[] add(Long value, long[] acc) {
            return acc == null ? new long[] {value, 1} : new long[] {acc[0] + value, acc[1] + 1};
        }

        @Override
        public Long getResult(long[] acc) {
            return acc == null ? null : acc[0];
        }

        @Override
        public long[] merge(long[] a, long[] b) {
            return null;
        }
    }

    /**
     * A merge stub that returns null, where fresh accumulators are null (the build's check cannot see it), fails the
     * job for good at the first split window, naming the function: the last piece's aggregate was the window's result.
     */
    @Test
    void aMergeThatReturnsNullForTwoPartialsFailsTheJobForGood() throws Exception {
        PartialMerger<String, long[], Long, Long> merger = new PartialMerger<>(new NullStubMerge(), null, ACC, 0);
        try (var h = ProcessFunctionTestHarnesses.forKeyedProcessFunction(merger, p -> p.f0, Types.STRING)) {
            h.processElement(Tuple5.of("hot", 0L, 1000L, 3, new long[] {10, 2}), 999);
            h.processElement(Tuple5.of("hot", 0L, 1000L, 40, new long[] {20, 3}), 999);
            h.processElement(Tuple5.of("hot", 0L, 1000L, 90, new long[] {5, 1}), 999);
            assertThatThrownBy(() -> h.processWatermark(999))
                    .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                    .satisfies(e -> assertThat(e.getCause()).hasMessageContaining(NullStubMerge.class.getName())
                            .hasMessageContaining("split-threshold"));
            assertThat(h.extractOutputValues()).isEmpty();
        }
    }

    /** A reduce function's null is "no value yet", as in Flink's reducing state: the pieces after it go on. */
    @Test
    void aReduceThatReturnsNullGoesOnWithTheNextPiece() throws Exception {
        PartialMerger<String, long[], Long, Long> merger =
                new PartialMerger<>(new NullStubMerge(), null, ACC, 0, true);
        try (var h = ProcessFunctionTestHarnesses.forKeyedProcessFunction(merger, p -> p.f0, Types.STRING)) {
            h.processElement(Tuple5.of("hot", 0L, 1000L, 3, new long[] {10, 2}), 999);
            h.processElement(Tuple5.of("hot", 0L, 1000L, 40, new long[] {20, 3}), 999);
            h.processElement(Tuple5.of("hot", 0L, 1000L, 90, new long[] {5, 1}), 999);
            h.processWatermark(999);
            assertThat(h.extractOutputValues()).containsExactly(5L);
        }
    }

    @Test
    void withoutAWindowFunctionTheMergedAggregateIsTheResult() throws Exception {
        PartialMerger<String, long[], Long, Long> merger = new PartialMerger<>(new CountSum(), null, ACC, 0);
        try (var h = ProcessFunctionTestHarnesses.forKeyedProcessFunction(merger, p -> p.f0, Types.STRING)) {
            h.processElement(partial("hot", 0, 1000, 3, 2, 10), 999);
            h.processElement(partial("hot", 0, 1000, 40, 3, 20), 999);
            h.processWatermark(999);
            assertThat(h.extractOutputValues()).containsExactly(30L);
        }
    }

    /** Writes a split key's partials as format 1 did (three maps, a timer at the window's max timestamp). */
    private static final class FormatOne
            extends org.apache.flink.streaming.api.functions.KeyedProcessFunction<String,
                    Tuple5<String, Long, Long, Integer, long[]>, String> {
        private transient org.apache.flink.api.common.state.MapState<String, long[]> partials;
        private transient org.apache.flink.api.common.state.MapState<Long, Long> windows;
        private transient org.apache.flink.api.common.state.MapState<Long, Boolean> fired;

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext ctx) {
            partials = getRuntimeContext().getMapState(
                    new org.apache.flink.api.common.state.MapStateDescriptor<>("split-partials", Types.STRING, ACC));
            windows = getRuntimeContext().getMapState(
                    new org.apache.flink.api.common.state.MapStateDescriptor<>("split-windows", Types.LONG, Types.LONG));
            fired = getRuntimeContext().getMapState(
                    new org.apache.flink.api.common.state.MapStateDescriptor<>("split-fired", Types.LONG, Types.BOOLEAN));
        }

        @Override
        public void processElement(Tuple5<String, Long, Long, Integer, long[]> p, Context ctx, Collector<String> out)
                throws Exception {
            partials.put(p.f2 + "," + p.f3, p.f4);
            windows.put(p.f2, p.f1);
            if (p.f3 < 0) {
                // a window that had fired before the snapshot (key group < 0 only marks it)
                partials.remove(p.f2 + "," + p.f3);
                fired.put(p.f2, true);
            } else {
                ctx.timerService().registerEventTimeTimer(p.f2 - 1);
            }
        }
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, Tuple5<String, Long, Long, Integer, long[]>, String>
            restored(org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot, long allowedLateness)
            throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<String, Tuple5<String, Long, Long, Integer, long[]>, String>(
                new org.apache.flink.streaming.api.operators.KeyedProcessOperator<>(
                        new PartialMerger<>(new CountSum(), new Describe(), ACC, allowedLateness)),
                p -> p.f0, Types.STRING);
        h.setup();
        h.initializeState(snapshot);
        h.open();
        return h;
    }

    @Test
    void aSavepointOfStateFormatOneRestoresAndItsWindowsFireAndClear() throws Exception {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        try (var old = new KeyedOneInputStreamOperatorTestHarness<String, Tuple5<String, Long, Long, Integer, long[]>,
                String>(new org.apache.flink.streaming.api.operators.KeyedProcessOperator<>(new FormatOne()),
                p -> p.f0, Types.STRING)) {
            old.open();
            old.processElement(partial("hot", 0, 1000, 3, 2, 10), 999);
            old.processElement(partial("hot", 0, 1000, 40, 3, 20), 999);
            old.processElement(partial("other", 1000, 2000, 7, 1, 4), 1999);
            // fired before the snapshot; with allowed lateness 500 it waits for its cleanup
            old.processElement(partial("cold", -1000, 0, -1, 0, 0), 0);
            snapshot = old.snapshot(1, 1);
        }
        try (var h = restored(snapshot, 500)) {
            h.processWatermark(999);
            assertThat(h.extractOutputValues()).containsExactly("hot@0-1000=30");
            // a late partial of the restored window re-fires it with the total
            h.processElement(partial("hot", 0, 1000, 90, 1, 5), 1100);
            assertThat(h.extractOutputValues()).containsExactly("hot@0-1000=30", "hot@0-1000=35");
            h.processWatermark(1999 + 500);
            assertThat(h.extractOutputValues()).containsExactly("hot@0-1000=30", "hot@0-1000=35", "other@1000-2000=4");
            // hot's and other's windows cleared, format 1's maps included; their moved flags stay (2). "cold", seen
            // by no element or timer since, keeps its format-1 entries (2): format 1 cleared a fired window only at a
            // later timer of its key
            assertThat(h.numKeyedStateEntries()).isEqualTo(4);

            // the next snapshot is format 2 only once no format-1 state can be left: here it still says 1
            org.apache.flink.runtime.checkpoint.OperatorSubtaskState again = h.snapshot(2, 2);
            try (var h2 = restored(again, 500)) {
                h2.processElement(partial("hot", 2000, 3000, 3, 1, 7), 2999);
                h2.processWatermark(2999);
                assertThat(h2.extractOutputValues()).containsExactly("hot@2000-3000=7");
            }
        }
    }

    @Test
    void aSnapshotOfFormatTwoRestoresWithItsWindows() throws Exception {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        try (var h = harness(0)) {
            h.processElement(partial("hot", 0, 1000, 3, 2, 10), 999);
            h.processElement(partial("hot", 0, 1000, 40, 3, 20), 999);
            snapshot = h.snapshot(1, 1);
        }
        try (var h = restored(snapshot, 0)) {
            h.processElement(partial("hot", 0, 1000, 90, 1, 5), 999);
            h.processWatermark(999);
            assertThat(h.extractOutputValues()).containsExactly("hot@0-1000=35");
            assertThat(h.numKeyedStateEntries()).isZero();
        }
    }
}
