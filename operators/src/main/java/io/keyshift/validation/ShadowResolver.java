package io.keyshift.validation;

import io.keyshift.avro.ValidationOutcome;
import io.keyshift.avro.ValidationReport;
import io.keyshift.metrics.KeyshiftMetrics;
import io.keyshift.route.Role;
import io.keyshift.workload.CountSum;
import io.keyshift.workload.WindowResult;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Forwards authoritative results exactly once and checks shadow results against their primaries.
 *
 * <p>Keyed by user key. A PRIMARY result is authoritative (the router stamped its records PRIMARY because the plan
 * in force at their event time gives the key to that key group) and is forwarded at once. A SHADOW result is held
 * until the watermark passes its window's end (by then every window operator has fired the window, so the primary
 * has arrived too) and compared by checksum: a {@link ValidationReport} with MATCH, MISMATCH, MISSING_PRIMARY or
 * DUPLICATE_PRIMARY goes to {@link #VALIDATION}. PARTIAL results (a split key's partial aggregates, one per key
 * group it is spread over) are merged ({@code AggregateFunction.merge} of the count/sum aggregate: counts and sums
 * add) and the merged result is forwarded as PRIMARY when the watermark passes the window's end; a PARTIAL and a
 * PRIMARY for the same (key, window) is a DUPLICATE_PRIMARY. State: one small entry per pending (key, window end),
 * cleared by the timer.
 */
public class ShadowResolver extends KeyedProcessFunction<String, WindowResult, WindowResult> {
    static {
        // before Flink restores this operator's state: an Avro serializer snapshot resolves keyshift's schema classes
        // by name, and a job's own classloader (on a cluster) has a fresh, untrusting Avro
        io.keyshift.config.AvroTrust.install();
    }


    /** Side output of the shadow checks. */
    public static final OutputTag<ValidationReport> VALIDATION =
            new OutputTag<>("validation", new org.apache.flink.formats.avro.typeutils.AvroTypeInfo<>(ValidationReport.class));

    /** The workload's aggregate function, for its merge of partial window aggregates. */
    private static final CountSum.OfEnvelopes MERGE = new CountSum.OfEnvelopes();

    private transient MapState<Long, Pending> pending;
    private transient Counter matches;
    private transient Counter mismatches;

    /** What is known of one (key, window). Flink POJO. */
    public static class Pending {
        public long windowStart;
        public int primaries;
        public int primaryKeyGroup = -1;
        public long primaryChecksum;
        public int shadowKeyGroup = -1;
        public long shadowChecksum;
        public boolean hasShadow;
        /** PARTIAL results so far, their aggregate merged with the workload's AggregateFunction#merge, a subtask. */
        public int partials;
        public CountSum.Acc partial;
        public int partialSubtask;

        public Pending() {}
    }

    @Override
    public void open(OpenContext openContext) {
        pending = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("pending-windows", Types.LONG, TypeInformation.of(Pending.class)));
        matches = getRuntimeContext().getMetricGroup().counter(KeyshiftMetrics.VALIDATION_MATCHES);
        mismatches = getRuntimeContext().getMetricGroup().counter(KeyshiftMetrics.VALIDATION_MISMATCHES);
    }

    @Override
    public void processElement(WindowResult r, Context ctx, Collector<WindowResult> out) throws Exception {
        Pending p = pending.get(r.windowEnd);
        if (p == null) {
            p = new Pending();
            p.windowStart = r.windowStart;
            ctx.timerService().registerEventTimeTimer(r.windowEnd - 1);
        }
        if (r.role == Role.PARTIAL) {
            CountSum.Acc acc = new CountSum.Acc();
            acc.count = r.count;
            acc.sum = r.sum;
            acc.roles = 4;
            p.partial = p.partial == null ? acc : MERGE.merge(p.partial, acc);
            p.partials++;
            p.partialSubtask = r.subtask;
        } else if (r.role == Role.PRIMARY) {
            out.collect(r);
            p.primaries++;
            p.primaryKeyGroup = r.keyGroup;
            p.primaryChecksum = r.checksum();
        } else {
            p.hasShadow = true;
            p.shadowKeyGroup = r.keyGroup;
            p.shadowChecksum = r.checksum();
        }
        pending.put(r.windowEnd, p);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<WindowResult> out) throws Exception {
        long windowEnd = timestamp + 1;
        Pending p = pending.get(windowEnd);
        if (p == null) {
            return;
        }
        pending.remove(windowEnd);
        if (p.partials > 0) {
            WindowResult merged = new WindowResult();
            merged.key = ctx.getCurrentKey();
            merged.windowStart = p.windowStart;
            merged.windowEnd = windowEnd;
            merged.count = p.partial.count;
            merged.sum = p.partial.sum;
            merged.keyGroup = -1;
            merged.subtask = p.partialSubtask;
            merged.role = Role.PRIMARY;
            out.collect(merged);
            p.primaries++;
        }
        ValidationOutcome outcome = null;
        if (p.primaries > 1) {
            outcome = ValidationOutcome.DUPLICATE_PRIMARY;
        } else if (p.hasShadow) {
            if (p.primaries == 0) {
                outcome = ValidationOutcome.MISSING_PRIMARY;
            } else {
                outcome = p.primaryChecksum == p.shadowChecksum ? ValidationOutcome.MATCH : ValidationOutcome.MISMATCH;
            }
        }
        if (outcome == null) {
            return;
        }
        if (outcome == ValidationOutcome.MATCH) {
            matches.inc();
        } else {
            mismatches.inc();
        }
        ctx.output(VALIDATION, ValidationReport.newBuilder()
                .setKey(ctx.getCurrentKey())
                .setWindowStart(p.windowStart)
                .setWindowEnd(windowEnd)
                .setPrimaryKeyGroup(p.primaryKeyGroup)
                .setShadowKeyGroup(p.shadowKeyGroup)
                .setPrimaryChecksum(p.primaryChecksum)
                .setShadowChecksum(p.shadowChecksum)
                .setOutcome(outcome)
                .build());
    }
}
