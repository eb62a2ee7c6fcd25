package io.keyshift.migration;

import io.keyshift.avro.ValidationOutcome;
import io.keyshift.avro.ValidationReport;
import io.keyshift.config.AvroTrust;
import io.keyshift.metrics.KeyshiftMetrics;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Compares a shadow's results with the primary's, per key and window (or interval of a keyed process function's
 * shadow phase), and emits a {@link ValidationReport}: MATCH, MISMATCH (checksums differ), MISSING_PRIMARY (only the
 * shadow produced results), MISSING_SHADOW (only the primary did). Keyed by the key's id; only checks of migrating
 * keys reach it: per migration one check per window and side and firing, or (keyed process functions) one per call
 * that emits (or takes a copy that was late at its router) in the compared interval, and one of no output per side
 * and migration (its presence: a side that emits nothing where the other emits is a MISMATCH).
 *
 * <p>Both sides of a check are complete when this operator's watermark passes the check's {@code compareAt} (every
 * keyed subtask has fired the window, late firings within the allowed lateness included); a later check of the same
 * side replaces the earlier (window firings) or adds to it (a function's outputs). A window that one side fired once
 * and the other again (late), whose last firings differ while its first (on-time) firings agree, matches: a late
 * record that one owner took within the allowed lateness and the other, its watermark past that, dropped (each judges
 * by its own watermark; the results that count are one owner's). Generally the last firings decide; where they
 * differ and the sides fired a different number of times, their last firing in common decides (the k-th of each, k
 * the fewer firings, up to {@link #FIRINGS_KEPT}). A window that still differs
 * and holds a shadow phase's copy of a record that was late at its router ({@link ResultCheck#lateRecord}) is not
 * compared: one owner may have fired it without that record while the other, its watermark behind, took it into the
 * same firing, or, where it was the window's only record, one side has no check at all (counted in {@code keyshiftValidationLateChecks}, logged at INFO, no report and no revert; a fault in
 * such a window goes undetected).
 * State: one small entry per pending (key, window), cleared by its timer. Metrics
 * {@code keyshiftValidationMatches/Mismatches}.
 */
public final class ShadowValidator extends KeyedProcessFunction<String, ResultCheck, ValidationReport>
        implements org.apache.flink.streaming.api.checkpoint.CheckpointedFunction {
    static {
        AvroTrust.install();
    }

    private static final long serialVersionUID = 1L;

    /** Firings per side and window whose results are kept for the comparison of the last firing in common. */
    static final int FIRINGS_KEPT = 16;

    private transient MapState<String, Pending> pending;
    private transient Counter matches;
    private transient Counter mismatches;

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ShadowValidator.class);

    /** Mismatches logged by this subtask: the first 20, then the 2^n-th (a broken function does not flood the log). */
    private transient long mismatchesSeen;
    /** Differences of windows with a late record not compared by this subtask (logged: the first 20, the 2^n-th). */
    private transient long lateMismatchesSeen;
    private transient Counter lateChecks;

    /** {matches, mismatches, late checks} as this subtask's counters have them (for tests). */
    long[] counts() {
        return new long[] {matches.getCount(), mismatches.getCount(), lateChecks.getCount()};
    }
    /** The watermark at the last checkpoint: checks that reach a restored subtask before its first watermark. */
    private transient WatermarkFloor watermarkFloor;

    @Override
    public void initializeState(org.apache.flink.runtime.state.FunctionInitializationContext context)
            throws Exception {
        watermarkFloor = WatermarkFloor.initialize(context, getRuntimeContext());
    }

    @Override
    public void snapshotState(org.apache.flink.runtime.state.FunctionSnapshotContext context) throws Exception {
        watermarkFloor.snapshot();
    }

    /** The two sides of one (key, window) so far. Flink POJO. */
    public static class Pending {
        public long start;
        public long end;
        public long compareAt;
        public boolean hasPrimary;
        public long primaryChecksum;
        public int primaryResults;
        public int primaryKeyGroup = -1;
        public boolean hasShadow;
        public long shadowChecksum;
        public int shadowResults;
        public int shadowKeyGroup = -1;
        /** A window's first (on-time) firing per side, kept where a late firing replaced it (false in older state). */
        public boolean primaryFirstKept;
        public long primaryFirstChecksum;
        public int primaryFirstResults;
        public boolean shadowFirstKept;
        public long shadowFirstChecksum;
        public int shadowFirstResults;
        /** A window's firings per side (0 in older state). */
        public int primaryFirings;
        public int shadowFirings;
        /**
         * Each firing's checksum and result count per side, the first {@link #FIRINGS_KEPT} (null in older state,
         * and for a function's outputs, which add up instead of firing).
         */
        public long[] primaryFiringChecksums;
        public int[] primaryFiringResults;
        public long[] shadowFiringChecksums;
        public int[] shadowFiringResults;
        /**
         * A check of either side came from a window holding a shadow phase's copy of a record late at its router
         * ({@link ResultCheck#lateRecord}; false in older state).
         */
        public boolean lateRecord;

        public Pending() {}
    }

    @Override
    public void open(OpenContext openContext) {
        pending = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("pending-checks", Types.STRING, TypeInformation.of(Pending.class)));
        matches = getRuntimeContext().getMetricGroup().counter(KeyshiftMetrics.VALIDATION_MATCHES);
        mismatches = getRuntimeContext().getMetricGroup().counter(KeyshiftMetrics.VALIDATION_MISMATCHES);
        lateChecks = getRuntimeContext().getMetricGroup().counter(KeyshiftMetrics.VALIDATION_LATE_CHECKS);
    }

    @Override
    public void processElement(ResultCheck c, Context ctx, Collector<ValidationReport> out) throws Exception {
        String id = c.start + "," + c.end;
        Pending p = pending.get(id);
        // after a restore, before the first watermark, the one at the checkpoint (Flink restores no watermark)
        long watermark = watermarkFloor == null ? ctx.timerService().currentWatermark()
                : watermarkFloor.at(ctx.getCurrentKey(), ctx.timerService());
        if (p == null && c.compareAt <= watermark) {
            // a side's contribution after its comparison was made (a late record's output, one side only): it would
            // open a comparison that can only report the other side missing (and, with on-mismatch REVERT, move the
            // key back for nothing); counted, not compared
            lateChecks.inc();
            return;
        }
        if (p == null) {
            p = new Pending();
            p.start = c.start;
            p.end = c.end;
            p.compareAt = c.compareAt;
            ctx.timerService().registerEventTimeTimer(c.compareAt);
        }
        if (!c.additive) {
            // a window's first firing, kept: a late record may reach one owner within the allowed lateness and the
            // other past it, so that only one side fires late (see onTimer)
            if (c.shadow) {
                p.shadowFirings++;
                // kept from a side's first firing on (state of an older build counted firings without them: none)
                if (p.shadowFirings <= FIRINGS_KEPT && (p.shadowFirings == 1 || p.shadowFiringChecksums != null)) {
                    p.shadowFiringChecksums = kept(p.shadowFiringChecksums, p.shadowFirings, c.checksum);
                    p.shadowFiringResults = kept(p.shadowFiringResults, p.shadowFirings, c.results);
                }
            } else {
                p.primaryFirings++;
                if (p.primaryFirings <= FIRINGS_KEPT && (p.primaryFirings == 1 || p.primaryFiringChecksums != null)) {
                    p.primaryFiringChecksums = kept(p.primaryFiringChecksums, p.primaryFirings, c.checksum);
                    p.primaryFiringResults = kept(p.primaryFiringResults, p.primaryFirings, c.results);
                }
            }
            if (c.shadow && !p.hasShadow) {
                p.shadowFirstKept = true;
                p.shadowFirstChecksum = c.checksum;
                p.shadowFirstResults = c.results;
            } else if (!c.shadow && !p.hasPrimary) {
                p.primaryFirstKept = true;
                p.primaryFirstChecksum = c.checksum;
                p.primaryFirstResults = c.results;
            }
        }
        p.lateRecord |= c.lateRecord;
        if (c.shadow) {
            p.shadowChecksum = c.additive && p.hasShadow ? p.shadowChecksum + c.checksum : c.checksum;
            p.shadowResults = c.additive && p.hasShadow ? p.shadowResults + c.results : c.results;
            p.shadowKeyGroup = c.keyGroup;
            p.hasShadow = true;
        } else {
            p.primaryChecksum = c.additive && p.hasPrimary ? p.primaryChecksum + c.checksum : c.checksum;
            p.primaryResults = c.additive && p.hasPrimary ? p.primaryResults + c.results : c.results;
            p.primaryKeyGroup = c.keyGroup;
            p.hasPrimary = true;
        }
        pending.put(id, p);
    }

    /** {@code values} with its {@code n}-th entry (1-based) set to {@code v}, grown as needed. */
    private static long[] kept(long[] values, int n, long v) {
        long[] a = values == null ? new long[Math.min(4, FIRINGS_KEPT)]
                : values.length < n ? java.util.Arrays.copyOf(values, Math.min(FIRINGS_KEPT, 2 * values.length)) : values;
        a[n - 1] = v;
        return a;
    }

    private static int[] kept(int[] values, int n, int v) {
        int[] a = values == null ? new int[Math.min(4, FIRINGS_KEPT)]
                : values.length < n ? java.util.Arrays.copyOf(values, Math.min(FIRINGS_KEPT, 2 * values.length)) : values;
        a[n - 1] = v;
        return a;
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ValidationReport> out) throws Exception {
        if (watermarkFloor != null) {
            watermarkFloor.seen(ctx.timerService());
        }
        List<String> due = new ArrayList<>();
        for (Map.Entry<String, Pending> e : pending.entries()) {
            if (e.getValue().compareAt <= timestamp) {
                due.add(e.getKey());
            }
        }
        due.sort(String::compareTo);
        for (String id : due) {
            Pending p = pending.get(id);
            pending.remove(id);
            ValidationOutcome outcome;
            if (!p.hasPrimary) {
                outcome = ValidationOutcome.MISSING_PRIMARY;
            } else if (!p.hasShadow) {
                outcome = ValidationOutcome.MISSING_SHADOW;
            } else {
                outcome = p.primaryChecksum == p.shadowChecksum && p.primaryResults == p.shadowResults
                        ? ValidationOutcome.MATCH : ValidationOutcome.MISMATCH;
                // where the sides fired a different number of times: their last firing in common decides (a late
                // record one owner fired the window for and the other, its watermark past it, dropped); where they
                // fired equally often and disagree, a mismatch
                int common = Math.min(p.primaryFirings, p.shadowFirings);
                if (outcome == ValidationOutcome.MISMATCH && p.primaryFirings != p.shadowFirings && common >= 1
                        && p.primaryFiringChecksums != null && p.shadowFiringChecksums != null
                        && common <= p.primaryFiringChecksums.length && common <= p.shadowFiringChecksums.length) {
                    p.primaryChecksum = p.primaryFiringChecksums[common - 1];
                    p.primaryResults = p.primaryFiringResults[common - 1];
                    p.shadowChecksum = p.shadowFiringChecksums[common - 1];
                    p.shadowResults = p.shadowFiringResults[common - 1];
                    outcome = p.primaryChecksum == p.shadowChecksum && p.primaryResults == p.shadowResults
                            ? ValidationOutcome.MATCH : ValidationOutcome.MISMATCH;
                }
                // (state from before the firings were kept: one side fired once and the other again)
                boolean oneSideLate = (p.primaryFiringChecksums == null || p.shadowFiringChecksums == null)
                        && (p.primaryFirings == 1 && p.shadowFirings > 1 || p.shadowFirings == 1 && p.primaryFirings > 1);
                if (outcome == ValidationOutcome.MISMATCH && oneSideLate && p.primaryFirstKept && p.shadowFirstKept
                        && p.primaryFirstChecksum == p.shadowFirstChecksum
                        && p.primaryFirstResults == p.shadowFirstResults) {
                    // the on-time firings agree, the last ones do not: a late record that one owner fired the window
                    // for within the allowed lateness and the other, its watermark past that, dropped (each owner
                    // judges lateness by its own watermark); compared as fired on time
                    outcome = ValidationOutcome.MATCH;
                    p.primaryChecksum = p.primaryFirstChecksum;
                    p.primaryResults = p.primaryFirstResults;
                    p.shadowChecksum = p.shadowFirstChecksum;
                    p.shadowResults = p.shadowFirstResults;
                }
            }
            if (outcome == ValidationOutcome.MATCH && p.primaryFirings == 0 && p.shadowFirings == 0
                    && p.primaryResults == 0 && p.shadowResults == 0) {
                // a keyed process function's interval in which neither side emitted (their presences only):
                // nothing was compared, no report
                continue;
            }
            if (outcome != ValidationOutcome.MATCH && p.lateRecord) {
                // a window holding a record late at its router: one owner may have fired it without the record (its
                // watermark, the minimum over every router's, already past the window) while the other, its
                // watermark behind, took it; the sides then differ by that record (or, where it was the window's
                // only record, one side has none), for no fault of the migration. Not compared (no mismatch, no
                // revert): counted
                lateChecks.inc();
                lateMismatchesSeen++;
                if (lateMismatchesSeen <= 20 || Long.bitCount(lateMismatchesSeen) == 1) {
                    LOG.info("keyshift validation: key {}, window [{}, {}): the sides differ and the window holds a "
                                    + "record that was late at its router (the owners may judge its lateness "
                                    + "differently): not compared ({} of this subtask)", ctx.getCurrentKey(), p.start,
                            p.end, lateMismatchesSeen);
                }
                continue;
            }
            if (outcome == ValidationOutcome.MATCH) {
                matches.inc();
            } else {
                mismatches.inc();
                mismatchesSeen++;
                if (mismatchesSeen <= 20 || Long.bitCount(mismatchesSeen) == 1) {
                    // the key as the report has it (its pseudonym under a key secret)
                    LOG.warn("keyshift validation {} (mismatch {} of this subtask): key {}, window [{}, {}), primary "
                                    + "key group {} gave {} results (checksum {}), shadow key group {} gave {} "
                                    + "(checksum {}); the primary's results count", outcome, mismatchesSeen,
                            ctx.getCurrentKey(), p.start, p.end, p.primaryKeyGroup, p.primaryResults,
                            p.primaryChecksum, p.shadowKeyGroup, p.shadowResults, p.shadowChecksum);
                }
            }
            out.collect(ValidationReport.newBuilder()
                    .setKey(ctx.getCurrentKey())
                    .setWindowStart(p.start)
                    .setWindowEnd(p.end)
                    .setPrimaryKeyGroup(p.primaryKeyGroup)
                    .setShadowKeyGroup(p.shadowKeyGroup)
                    .setPrimaryChecksum(p.primaryChecksum)
                    .setShadowChecksum(p.shadowChecksum)
                    .setOutcome(outcome)
                    .setPrimaryResults(p.primaryResults)
                    .setShadowResults(p.shadowResults)
                    .build());
        }
    }
}
