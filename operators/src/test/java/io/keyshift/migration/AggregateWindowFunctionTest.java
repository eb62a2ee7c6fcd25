package io.keyshift.migration;

import io.keyshift.api.Keyshift;
import io.keyshift.avro.ValidationOutcome;
import io.keyshift.avro.ValidationReport;
import io.keyshift.api.KeyshiftStream;
import io.keyshift.route.Envelope;
import io.keyshift.route.KeyGroupHashTable;
import io.keyshift.route.Role;
import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.transformations.OneInputTransformation;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * keyshift's window function in the keyed stage's own window operator (as {@code KeyshiftWindowedStream} builds it),
 * fed envelopes as the routers send them.
 */
class AggregateWindowFunctionTest {
    private static final long HOUR = Duration.ofHours(1).toMillis();
    private static final long LATENESS = Duration.ofMinutes(10).toMillis();
    private static final OutputTag<String> CLEARED = new OutputTag<>("cleared", Types.STRING);

    /** Counts records. */
    static final class Count implements AggregateFunction<String, Long, Long> {
        @Override
        public Long createAccumulator() {
            return 0L;
        }

        @Override
        public Long add(String value, Long acc) {
            return acc + 1;
        }

        @Override
        public Long getResult(Long acc) {
            return acc;
        }

        @Override
        public Long merge(Long a, Long b) {
            return a + b;
        }
    }

    /** Labels a window's count; says in a side output when the window is cleared. */
    static final class LabelAndClear extends ProcessWindowFunction<Long, String, String, TimeWindow> {
        @Override
        public void process(String key, Context ctx, Iterable<Long> counts, Collector<String> out) {
            out.collect(key + "," + ctx.window().getStart() + "," + counts.iterator().next());
        }

        @Override
        public void clear(Context ctx) {
            ctx.output(CLEARED, ctx.window().getStart() + "," + ctx.window().getEnd());
        }
    }

    /** The keyed stage's window operator of a splitting stage with sliding 2 h / 1 h windows, under a test harness. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static KeyedOneInputStreamOperatorTestHarness<RoutingKey<String>, Envelope<String, String>, String>
            windowOperator() throws Exception {
        return windowOperator("1.0", new LabelAndClear());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static KeyedOneInputStreamOperatorTestHarness<RoutingKey<String>, Envelope<String, String>, String>
            windowOperator(String splitThreshold, ProcessWindowFunction<Long, String, String, TimeWindow> function)
            throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        conf.setString("keyshift.plan.split-threshold", splitThreshold);
        KeyshiftStream<String, String> stage = Keyshift.keyBy(env.fromData("a").assignTimestampsAndWatermarks(
                WatermarkStrategy.<String>forMonotonousTimestamps().withTimestampAssigner((s, t) -> 0L)),
                s -> s, Types.STRING).configure(conf);
        stage.window(SlidingEventTimeWindows.of(Duration.ofHours(2), Duration.ofHours(1)))
                .allowedLateness(Duration.ofMillis(LATENESS))
                .aggregate(new Count(), function);
        OneInputTransformation window = null;
        for (Transformation<?> t : env.getTransformations()) {
            for (Transformation<?> p : t.getTransitivePredecessors()) {
                if (p instanceof OneInputTransformation o && p.getName().contains("window Count")) {
                    window = o;
                }
            }
        }
        assertThat(window).as("the keyed stage's window operator").isNotNull();
        return new KeyedOneInputStreamOperatorTestHarness<>((org.apache.flink.streaming.api.operators.OneInputStreamOperator)
                ((org.apache.flink.streaming.api.operators.SimpleOperatorFactory) window.getOperatorFactory()).getOperator(),
                window.getStateKeySelector(), window.getStateKeyType(), 128, 1, 0);
    }

    private static StreamRecord<Envelope<String, String>> record(String key, int keyGroup, Role role, long t) {
        RoutingKey<String> rk = RoutingKey.of(key, keyGroup, 0, KeyGroupHashTable.forMaxParallelism(128));
        return new StreamRecord<>(Envelope.of(rk, key, role), t);
    }

    /**
     * A window that fired as the key's whole result and then, late, as a split key's partial (a late record after the
     * split's start): the merged window is now the one that counts, so this copy's clear() outputs nothing (the split
     * merger's clear() gives the window's one side output). It had given a second one.
     */
    @Test
    void aWindowThatTurnsPartialLeavesItsClearToTheMerger() throws Exception {
        try (var h = windowOperator()) {
            h.open();
            // window [0 h, 2 h): the key's on-time record before the split
            h.processElement(record("hot", 7, Role.PRIMARY, HOUR / 2));
            h.processWatermark(2 * HOUR - 1);
            assertThat(h.extractOutputValues()).contains("hot,0,1");
            // a late record after the split's start, dealt to this key group as a partial: re-fired as a partial
            h.processWatermark(2 * HOUR + LATENESS / 2);
            h.processElement(record("hot", 7, Role.PARTIAL, HOUR + HOUR / 2));
            h.processWatermark(3 * HOUR + LATENESS);
            List<String> cleared = new ArrayList<>();
            if (h.getSideOutput(CLEARED) != null) {
                h.getSideOutput(CLEARED).forEach(r -> cleared.add(r.getValue()));
            }
            // window [-1 h, 1 h) counted whole and is cleared here; [0 h, 2 h) is the merger's to clear
            assertThat(cleared).contains("-3600000,3600000").doesNotContain("0,7200000");
        }
    }

    /** Keeps per-window state from process and reads it in clear, as a user's function may: clear follows process. */
    static final class SeenInClear extends ProcessWindowFunction<Long, String, String, TimeWindow> {
        private static final org.apache.flink.api.common.state.ValueStateDescriptor<Boolean> SEEN =
                new org.apache.flink.api.common.state.ValueStateDescriptor<>("seen", Types.BOOLEAN);

        @Override
        public void process(String key, Context ctx, Iterable<Long> counts, Collector<String> out) throws Exception {
            ctx.windowState().getState(SEEN).update(true);
            out.collect(key + "," + ctx.window().getStart() + "," + counts.iterator().next());
        }

        @Override
        public void clear(Context ctx) throws Exception {
            boolean seen = ctx.windowState().getState(SEEN).value();
            ctx.output(CLEARED, ctx.window().getStart() + "," + seen);
        }
    }

    /**
     * The old owner's copy of a window that reaches past the switch-over (only its migrating records: it neither
     * counts nor is compared) never runs the user's process, and so not its clear either, as Flink's window operator
     * calls clear only for a window it fired. clear ran there, and a clear that reads what process wrote failed the
     * job with a NullPointerException at every restart.
     */
    @Test
    void aWindowCopyThatNeverFiredDoesNotRunTheUsersClear() throws Exception {
        try (var h = windowOperator("0", new SeenInClear())) {
            h.open();
            RoutingKey<String> rk = RoutingKey.of("k", 7, 0, KeyGroupHashTable.forMaxParallelism(128));
            // the key migrates out: shadow phase from 0, switch-over at 2 h; its record at 1.5 h is in [0 h, 2 h)
            // (the old owner's, before the switch-over) and in [1 h, 3 h) (the new owner's)
            h.processElement(new StreamRecord<>(new Envelope<>(rk, "k", Role.MIGRATING, 0L, 2 * HOUR), HOUR + HOUR / 2));
            h.processWatermark(3 * HOUR + LATENESS);
            assertThat(h.extractOutputValues()).containsExactly("k,0,1");
            List<String> cleared = new ArrayList<>();
            h.getSideOutput(CLEARED).forEach(r -> cleared.add(r.getValue()));
            assertThat(cleared).containsExactly("0,true");
        }
    }

    /**
     * A record late at its router, in a shadow phase: the old owner A, its watermark behind (another router's copies
     * still queued), takes it into its on-time firing of [0 h, 2 h); the new owner B, its watermark already past the
     * window's end plus the lateness, has fired the window without it and drops it. Both fired once, with different
     * counts: the validator reported a MISMATCH (and with on-mismatch REVERT sent the key back) for a correct
     * migration. The router marks such copies late, the window's check says so, and the difference is not compared; a
     * difference without a late record still is.
     */
    @Test
    void aRecordLateAtItsRouterThatOneOwnerTookAndTheOtherDroppedIsNotAMismatch() throws Exception {
        for (boolean markedLate : new boolean[] {true, false}) {
            long t0 = 0;
            long t1 = 10 * HOUR;
            List<ResultCheck> checks = new ArrayList<>();
            OutputTag<ResultCheck> checkTag = new OutputTag<>("keyshift-checks",
                    org.apache.flink.api.common.typeinfo.TypeInformation.of(ResultCheck.class));
            try (var a = windowOperator(); var b = windowOperator()) {
                a.open();
                b.open();
                a.processElement(shadowPhase("k", 7, Role.MIGRATING, HOUR / 2, t0, t1, false));
                b.processElement(shadowPhase("k", 9, Role.SHADOW, HOUR / 2, t0, t1, false));
                // B's watermark passes [0 h, 2 h) and its lateness: fired with one record
                b.processWatermark(2 * HOUR + LATENESS);
                // the late record reaches both: B drops it, A (its watermark behind) takes it
                a.processElement(shadowPhase("k", 7, Role.MIGRATING, HOUR + HOUR / 2, t0, t1, markedLate));
                b.processElement(shadowPhase("k", 9, Role.SHADOW, HOUR + HOUR / 2, t0, t1, markedLate));
                a.processWatermark(2 * HOUR + LATENESS);
                for (var h : List.of(a, b)) {
                    if (h.getSideOutput(checkTag) != null) {
                        h.getSideOutput(checkTag).forEach(r -> checks.add(r.getValue()));
                    }
                }
            }
            List<ResultCheck> window = checks.stream().filter(c -> c.start == 0).toList();
            assertThat(window).as("both sides' checks of [0 h, 2 h)").hasSize(2);
            assertThat(window).extracting(c -> c.results).containsExactlyInAnyOrder(1, 1);
            ShadowValidator validator = new ShadowValidator();
            List<ValidationReport> reports;
            try (var v = org.apache.flink.streaming.util.ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                    validator, c -> c.key, Types.STRING)) {
                for (ResultCheck c : window) {
                    v.processElement(c, c.compareAt);
                }
                v.processWatermark(3 * HOUR + LATENESS);
                reports = v.extractOutputValues();
            }
            if (markedLate) {
                assertThat(reports).as("a difference by a record late at its router").isEmpty();
                assertThat(validator.counts()).containsExactly(0, 0, 1);
            } else {
                assertThat(reports).extracting(ValidationReport::getOutcome)
                        .containsExactly(ValidationOutcome.MISMATCH);
            }
        }
    }

    private static StreamRecord<Envelope<String, String>> shadowPhase(String key, int keyGroup, Role role, long t,
                                                                      long t0, long t1, boolean late) {
        RoutingKey<String> rk = RoutingKey.of(key, keyGroup, 1, KeyGroupHashTable.forMaxParallelism(128));
        return new StreamRecord<>(new Envelope<>(rk, key, role, t0, t1).late(late), t);
    }
}
