package io.keyshift.migration;

import io.keyshift.avro.ValidationOutcome;
import io.keyshift.avro.ValidationReport;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shadow validator compares each (key, window)'s primary and shadow checks once the watermark reaches their
 * compare time: MATCH, MISMATCH naming key and window, MISSING_SHADOW and MISSING_PRIMARY; a late firing replaces its
 * side (a window whose on-time firings agree matches), a process function's outputs add up.
 */
class ShadowValidatorTest {
    private static final Checksums<String> CHECKSUMS = new Checksums<>(StringSerializer.INSTANCE);
    private static final long LATENESS = 500;

    private static KeyedOneInputStreamOperatorTestHarness<String, ResultCheck, ValidationReport> harness()
            throws Exception {
        return ProcessFunctionTestHarnesses.forKeyedProcessFunction(new ShadowValidator(), c -> c.key, Types.STRING);
    }

    /** A validator restored from {@code snapshot}, open. */
    private static KeyedOneInputStreamOperatorTestHarness<String, ResultCheck, ValidationReport> restored(
            org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot) throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<String, ResultCheck, ValidationReport>(
                new org.apache.flink.streaming.api.operators.KeyedProcessOperator<>(new ShadowValidator()),
                c -> c.key, Types.STRING);
        h.setup();
        h.initializeState(snapshot);
        h.open();
        return h;
    }

    /** The checksum of one window firing's results, combined order-free as the keyed stage does. */
    private static long firing(String... results) {
        long sum = 0L;
        for (String r : results) {
            sum = Checksums.plus(sum, CHECKSUMS.of(r));
        }
        return sum;
    }

    /** One side's check of a window firing of {@code key} in [start, end), compared at end - 1 + lateness. */
    private static ResultCheck check(String key, long start, long end, boolean shadow, int keyGroup,
                                     String... results) {
        ResultCheck c = new ResultCheck();
        c.key = key;
        c.start = start;
        c.end = end;
        c.compareAt = end - 1 + LATENESS;
        c.shadow = shadow;
        c.keyGroup = keyGroup;
        c.checksum = firing(results);
        c.results = results.length;
        c.additive = false;
        return c;
    }

    /** One side's check of one output of a keyed process function at {@code timestamp} in the interval. */
    private static ResultCheck output(String key, long start, long end, boolean shadow, int keyGroup, String result,
                                      long timestamp) {
        ResultCheck c = new ResultCheck();
        c.key = key;
        c.start = start;
        c.end = end;
        c.compareAt = end - 1;
        c.shadow = shadow;
        c.keyGroup = keyGroup;
        c.checksum = Checksums.unordered(CHECKSUMS.of(result), timestamp);
        c.results = 1;
        c.additive = true;
        return c;
    }

    private static ValidationReport only(List<ValidationReport> reports, String key) {
        List<ValidationReport> of = reports.stream().filter(r -> r.getKey().equals(key)).toList();
        assertThat(of).hasSize(1);
        return of.get(0);
    }

    /**
     * One side's output of a late record, after the comparison of its interval was made: not compared (it could only
     * report the other side missing, and with on-mismatch REVERT move the key back for nothing).
     */
    @Test
    void aSidesResultAfterTheComparisonIsNotReportedAsAMissingOtherSide() throws Exception {
        try (var h = harness()) {
            h.processElement(output("k", 0, 1000, false, 5, "r1", 300), 300);
            h.processElement(output("k", 0, 1000, true, 9, "r1", 300), 300);
            h.processWatermark(999);
            assertThat(h.extractOutputValues()).extracting(ValidationReport::getOutcome)
                    .containsExactly(ValidationOutcome.MATCH);
            h.processElement(output("k", 0, 1000, false, 5, "late", 400), 1500);
            h.processWatermark(2000);
            assertThat(h.extractOutputValues()).extracting(ValidationReport::getOutcome)
                    .containsExactly(ValidationOutcome.MATCH);
        }
    }

    /**
     * The same after a restore, before the first watermark reaches the restored subtask (Flink restores no watermark):
     * the late side is judged at the watermark of the checkpoint (the operator's, read when the checkpoint is taken,
     * even where no check came after it passed), and opens no comparison.
     */
    @Test
    void aSidesResultAfterTheComparisonThatReachesARestoredSubtaskBeforeAnyWatermarkIsNotCompared() throws Exception {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        try (var h = harness()) {
            h.processElement(output("j", 1000, 1500, false, 5, "r1", 1200), 1200);
            h.processElement(output("j", 1000, 1500, true, 9, "r1", 1200), 1200);
            h.processElement(output("other", 2000, 3000, false, 5, "x", 2100), 2100);
            // j is compared at 1499, in a timer: no check reaches the validator after that
            h.processWatermark(2000);
            assertThat(h.extractOutputValues()).extracting(r -> r.getKey() + ":" + r.getOutcome())
                    .containsExactly("j:" + ValidationOutcome.MATCH);
            snapshot = h.snapshot(1, 0);
        }
        try (var h = restored(snapshot)) {
            h.processElement(output("j", 1000, 1500, false, 5, "late", 1400), 2500);
            h.processElement(output("other", 2000, 3000, true, 9, "x", 2100), 2100);
            h.processWatermark(4000);
            // "j" opened nothing; "other", pending at the checkpoint, is compared as before
            assertThat(h.extractOutputValues()).extracting(r -> r.getKey() + ":" + r.getOutcome())
                    .containsExactly("other:" + ValidationOutcome.MATCH);
        }
    }

    /**
     * A restored subtask that compares its pending windows in timers, with no check reaching it, still records the
     * watermark they were compared at in its next checkpoint: it wrote the floor it was restored with, and after a
     * second restore a late side of a window already compared opened a comparison and reported the other side missing.
     */
    @Test
    void aSubtaskThatOnlyFiresTimersAfterARestoreCheckpointsItsWatermark() throws Exception {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState first;
        try (var h = harness()) {
            h.processElement(output("j", 1000, 1500, false, 5, "r1", 1200), 1200);
            h.processElement(output("j", 1000, 1500, true, 9, "r1", 1200), 1200);
            h.processWatermark(1000);
            first = h.snapshot(1, 0);
        }
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState second;
        try (var h = restored(first)) {
            h.processWatermark(2000);
            assertThat(h.extractOutputValues()).extracting(r -> r.getKey() + ":" + r.getOutcome())
                    .containsExactly("j:" + ValidationOutcome.MATCH);
            second = h.snapshot(2, 0);
        }
        try (var h = restored(second)) {
            h.processElement(output("j", 1000, 1500, false, 5, "late", 1400), 2500);
            h.processWatermark(4000);
            assertThat(h.extractOutputValues()).as("a window compared before the checkpoint opens nothing").isEmpty();
        }
    }

    @Test
    void aMismatchIsLoggedAsAWarningNamingKeyWindowAndBothKeyGroups() throws Throwable {
        ShadowValidator validator = new ShadowValidator();
        List<String> lines = io.keyshift.LogCapture.of(ShadowValidator.class, () -> {
            try (var h = ProcessFunctionTestHarnesses.forKeyedProcessFunction(validator, c -> c.key, Types.STRING)) {
                h.processElement(check("a", 0, 1000, false, 5, "a=5"), 999);
                h.processElement(check("a", 0, 1000, true, 9, "a=5"), 999);
                h.processElement(check("c", 0, 1000, false, 3, "c=4"), 999);
                h.processElement(check("c", 0, 1000, true, 8, "c=7"), 999);
                h.processWatermark(999 + LATENESS);
                // a side's result after its window was compared: counted as a late check, not compared
                h.processElement(check("a", 0, 1000, true, 9, "a=6"), 999 + LATENESS + 1);
            }
        });
        // keyshiftValidationMatches, keyshiftValidationMismatches, keyshiftValidationLateChecks
        assertThat(validator.counts()).containsExactly(1, 1, 1);
        // the match is not logged, the mismatch is
        assertThat(lines).singleElement().asString().startsWith("WARN keyshift validation MISMATCH")
                .contains("key c, window [0, 1000)").contains("primary key group 3").contains("shadow key group 8");
    }

    @Test
    void matchesAndMismatchesAreReportedWhenTheWatermarkReachesTheCompareTime() throws Exception {
        try (var h = harness()) {
            h.processElement(check("a", 0, 1000, false, 5, "a=5"), 999);
            h.processElement(check("a", 0, 1000, true, 9, "a=5"), 999);
            h.processElement(check("c", 0, 1000, false, 3, "c=4"), 999);
            h.processElement(check("c", 0, 1000, true, 8, "c=7"), 999);
            // the window has fired, but late firings may still come within the allowed lateness
            h.processWatermark(999 + LATENESS - 1);
            assertThat(h.extractOutputValues()).isEmpty();

            h.processWatermark(999 + LATENESS);
            List<ValidationReport> reports = h.extractOutputValues();
            assertThat(reports).extracting(r -> r.getKey() + ":" + r.getOutcome())
                    .containsExactlyInAnyOrder("a:" + ValidationOutcome.MATCH, "c:" + ValidationOutcome.MISMATCH);
            ValidationReport a = only(reports, "a");
            assertThat(a.getPrimaryChecksum()).isEqualTo(firing("a=5"));
            assertThat(a.getShadowChecksum()).isEqualTo(firing("a=5"));
            assertThat(a.getPrimaryKeyGroup()).isEqualTo(5);
            assertThat(a.getShadowKeyGroup()).isEqualTo(9);
            ValidationReport c = only(reports, "c");
            assertThat(c.getWindowStart()).isZero();
            assertThat(c.getWindowEnd()).isEqualTo(1000);
            assertThat(c.getPrimaryKeyGroup()).isEqualTo(3);
            assertThat(c.getShadowKeyGroup()).isEqualTo(8);
            assertThat(c.getPrimaryChecksum()).isEqualTo(firing("c=4"));
            assertThat(c.getShadowChecksum()).isEqualTo(firing("c=7"));
            assertThat(c.getPrimaryResults()).isEqualTo(1);
            assertThat(c.getShadowResults()).isEqualTo(1);
            // every check is cleared once compared
            assertThat(h.numKeyedStateEntries()).isZero();
        }
    }

    @Test
    void equalChecksumsOfDifferentResultCountsMismatch() throws Exception {
        try (var h = harness()) {
            ResultCheck primary = check("a", 0, 1000, false, 5, "a=5");
            ResultCheck shadow = check("a", 0, 1000, true, 9, "a=5");
            shadow.results = 2;
            h.processElement(primary, 999);
            h.processElement(shadow, 999);
            h.processWatermark(999 + LATENESS);
            assertThat(h.extractOutputValues()).singleElement()
                    .satisfies(r -> assertThat(r.getOutcome()).isEqualTo(ValidationOutcome.MISMATCH));
        }
    }

    @Test
    void aSideWithoutItsCounterpartIsReportedMissing() throws Exception {
        try (var h = harness()) {
            h.processElement(check("p", 0, 1000, false, 4, "p=1"), 999);
            h.processElement(check("s", 0, 1000, true, 6, "s=1", "s=2"), 999);
            h.processWatermark(999 + LATENESS);
            List<ValidationReport> reports = h.extractOutputValues();
            assertThat(reports).hasSize(2);
            ValidationReport p = only(reports, "p");
            assertThat(p.getOutcome()).isEqualTo(ValidationOutcome.MISSING_SHADOW);
            assertThat(p.getPrimaryKeyGroup()).isEqualTo(4);
            assertThat(p.getShadowKeyGroup()).isEqualTo(-1);
            assertThat(p.getPrimaryResults()).isEqualTo(1);
            assertThat(p.getShadowResults()).isZero();
            ValidationReport s = only(reports, "s");
            assertThat(s.getOutcome()).isEqualTo(ValidationOutcome.MISSING_PRIMARY);
            assertThat(s.getPrimaryKeyGroup()).isEqualTo(-1);
            assertThat(s.getShadowKeyGroup()).isEqualTo(6);
            assertThat(s.getShadowResults()).isEqualTo(2);
            assertThat(s.getWindowEnd()).isEqualTo(1000);
            assertThat(h.numKeyedStateEntries()).isZero();
        }
    }

    @Test
    void aLateFiringReplacesItsSideWhileAProcessFunctionsOutputsAddUp() throws Exception {
        try (var h = harness()) {
            // a window's late firing repeats its whole result: it replaces the first firing's check
            h.processElement(check("w", 0, 1000, false, 5, "w=5"), 999);
            h.processElement(check("w", 0, 1000, true, 9, "w=6"), 999);
            h.processElement(check("w", 0, 1000, false, 5, "w=6"), 1200);

            // a keyed process function: one check per output, in any order on either side
            h.processElement(output("f", 2000, 3000, false, 1, "f1", 2100), 2100);
            h.processElement(output("f", 2000, 3000, false, 1, "f2", 2500), 2500);
            h.processElement(output("f", 2000, 3000, true, 2, "f2", 2500), 2500);
            h.processElement(output("f", 2000, 3000, true, 2, "f1", 2100), 2100);
            // the shadow missed one output
            h.processElement(output("g", 2000, 3000, false, 1, "g1", 2100), 2100);
            h.processElement(output("g", 2000, 3000, false, 1, "g2", 2500), 2500);
            h.processElement(output("g", 2000, 3000, true, 2, "g1", 2100), 2100);

            h.processWatermark(3000);
            List<ValidationReport> reports = h.extractOutputValues();
            assertThat(reports).hasSize(3);
            ValidationReport w = only(reports, "w");
            assertThat(w.getOutcome()).isEqualTo(ValidationOutcome.MATCH);
            assertThat(w.getPrimaryChecksum()).isEqualTo(firing("w=6"));
            assertThat(w.getPrimaryResults()).isEqualTo(1);
            ValidationReport f = only(reports, "f");
            assertThat(f.getOutcome()).isEqualTo(ValidationOutcome.MATCH);
            assertThat(f.getPrimaryResults()).isEqualTo(2);
            assertThat(f.getShadowResults()).isEqualTo(2);
            assertThat(f.getWindowStart()).isEqualTo(2000);
            ValidationReport g = only(reports, "g");
            assertThat(g.getOutcome()).isEqualTo(ValidationOutcome.MISMATCH);
            assertThat(g.getPrimaryResults()).isEqualTo(2);
            assertThat(g.getShadowResults()).isEqualTo(1);
        }
    }

    /**
     * A late record that the new owner took within the allowed lateness while the old owner's watermark was past it
     * (each judges by its own): only the shadow fires late. The on-time firings agree: a match (it was a mismatch, and
     * with on-mismatch REVERT a correct migration went back). Where the first firings differ too, it mismatches.
     */
    @Test
    void aLateFiringAtOneSideOnlyMatchesWhereTheOnTimeFiringsAgree() throws Exception {
        try (var h = harness()) {
            h.processElement(check("w", 0, 1000, false, 5, "w=5"), 999);
            h.processElement(check("w", 0, 1000, true, 9, "w=5"), 999);
            h.processElement(check("w", 0, 1000, true, 9, "w=6"), 1200);
            // the first firings differ: a mismatch whatever came later
            h.processElement(check("v", 0, 1000, false, 5, "v=5"), 999);
            h.processElement(check("v", 0, 1000, true, 9, "v=7"), 999);
            h.processElement(check("v", 0, 1000, true, 9, "v=8"), 1200);
            // both sides fired late and their late results differ: a mismatch, though the on-time firings agree
            h.processElement(check("u", 0, 1000, false, 5, "u=5"), 999);
            h.processElement(check("u", 0, 1000, true, 9, "u=5"), 999);
            h.processElement(check("u", 0, 1000, false, 5, "u=6"), 1200);
            h.processElement(check("u", 0, 1000, true, 9, "u=7"), 1200);
            // both fired late, the old owner once more (a second late record that the new owner, its watermark
            // past the lateness, dropped): their last firing in common decides (it was a mismatch)
            h.processElement(check("t", 0, 1000, false, 5, "t=5"), 999);
            h.processElement(check("t", 0, 1000, true, 9, "t=5"), 999);
            h.processElement(check("t", 0, 1000, false, 5, "t=6"), 1100);
            h.processElement(check("t", 0, 1000, true, 9, "t=6"), 1100);
            h.processElement(check("t", 0, 1000, false, 5, "t=7"), 1200);
            // ... and where that one differs, a mismatch
            h.processElement(check("s", 0, 1000, false, 5, "s=5"), 999);
            h.processElement(check("s", 0, 1000, true, 9, "s=5"), 999);
            h.processElement(check("s", 0, 1000, false, 5, "s=6"), 1100);
            h.processElement(check("s", 0, 1000, true, 9, "s=9"), 1100);
            h.processElement(check("s", 0, 1000, false, 5, "s=7"), 1200);
            h.processWatermark(3000);
            List<ValidationReport> reports = h.extractOutputValues();
            assertThat(only(reports, "u").getOutcome()).isEqualTo(ValidationOutcome.MISMATCH);
            ValidationReport t = only(reports, "t");
            assertThat(t.getOutcome()).isEqualTo(ValidationOutcome.MATCH);
            assertThat(t.getPrimaryChecksum()).isEqualTo(firing("t=6")).isEqualTo(t.getShadowChecksum());
            assertThat(only(reports, "s").getOutcome()).isEqualTo(ValidationOutcome.MISMATCH);
            ValidationReport w = only(reports, "w");
            assertThat(w.getOutcome()).isEqualTo(ValidationOutcome.MATCH);
            assertThat(w.getShadowChecksum()).isEqualTo(firing("w=5"));
            assertThat(only(reports, "v").getOutcome()).isEqualTo(ValidationOutcome.MISMATCH);
        }
    }

    /**
     * State of a build that counted firings but kept no per-firing checksums (restored): a window one side fired once
     * and the other again (late) matches where the on-time firings agree, and mismatches where they differ.
     */
    @Test
    void olderStateWithoutPerFiringChecksumsKeepsTheOnTimeRule() throws Exception {
        try (var h = harness()) {
            h.processElement(check("w", 0, 1000, false, 5, "w=5"), 999);
            h.processElement(check("w", 0, 1000, true, 9, "w=5"), 999);
            h.processElement(check("v", 0, 1000, false, 5, "v=5"), 999);
            h.processElement(check("v", 0, 1000, true, 9, "v=7"), 999);
            // as an older build left them: firings counted, no checksum per firing
            var operator = (org.apache.flink.streaming.api.operators.AbstractStreamOperator<?>) h.getOperator();
            var descriptor = new org.apache.flink.api.common.state.MapStateDescriptor<>("pending-checks",
                    Types.STRING, org.apache.flink.api.common.typeinfo.TypeInformation.of(ShadowValidator.Pending.class));
            for (String key : List.of("w", "v")) {
                operator.setCurrentKey(key);
                var state = operator.getKeyedStateBackend().getPartitionedState(
                        org.apache.flink.runtime.state.VoidNamespace.INSTANCE,
                        org.apache.flink.runtime.state.VoidNamespaceSerializer.INSTANCE, descriptor);
                ShadowValidator.Pending p = state.get("0,1000");
                assertThat(p.primaryFirings).isEqualTo(1);
                assertThat(p.primaryFiringChecksums).isNotNull();
                p.primaryFiringChecksums = null;
                p.primaryFiringResults = null;
                p.shadowFiringChecksums = null;
                p.shadowFiringResults = null;
                state.put("0,1000", p);
            }
            // the shadow fires again (a late record the old owner dropped)
            h.processElement(check("w", 0, 1000, true, 9, "w=6"), 1200);
            h.processElement(check("v", 0, 1000, true, 9, "v=8"), 1200);
            h.processWatermark(3000);
            List<ValidationReport> reports = h.extractOutputValues();
            ValidationReport w = only(reports, "w");
            assertThat(w.getOutcome()).isEqualTo(ValidationOutcome.MATCH);
            assertThat(w.getShadowChecksum()).isEqualTo(firing("w=5")).isEqualTo(w.getPrimaryChecksum());
            assertThat(only(reports, "v").getOutcome()).isEqualTo(ValidationOutcome.MISMATCH);
        }
    }

    @Test
    void theWindowsOfOneKeyAreComparedEachAtItsOwnTime() throws Exception {
        try (var h = harness()) {
            h.processElement(check("a", 0, 1000, false, 5, "a=1"), 999);
            h.processElement(check("a", 0, 1000, true, 9, "a=1"), 999);
            h.processElement(check("a", 1000, 2000, false, 5, "a=2"), 1999);
            h.processElement(check("a", 1000, 2000, true, 9, "a=3"), 1999);

            h.processWatermark(999 + LATENESS);
            assertThat(h.extractOutputValues()).singleElement().satisfies(r -> {
                assertThat(r.getWindowStart()).isZero();
                assertThat(r.getOutcome()).isEqualTo(ValidationOutcome.MATCH);
            });
            // the later window is still pending
            assertThat(h.numKeyedStateEntries()).isPositive();

            h.processWatermark(1999 + LATENESS);
            List<ValidationReport> reports = h.extractOutputValues();
            assertThat(reports).hasSize(2);
            assertThat(reports.get(1).getKey()).isEqualTo("a");
            assertThat(reports.get(1).getWindowStart()).isEqualTo(1000);
            assertThat(reports.get(1).getWindowEnd()).isEqualTo(2000);
            assertThat(reports.get(1).getOutcome()).isEqualTo(ValidationOutcome.MISMATCH);
            assertThat(h.numKeyedStateEntries()).isZero();
        }
    }

    /**
     * A window whose only record was late at its router: the owner whose watermark was ahead dropped it and made no
     * window, the other took it and fired. One side's check, marked: not a missing side (it was counted as a failed
     * validation for a correct migration); the same check unmarked still is.
     */
    @Test
    void aWindowWhoseOnlyRecordWasLateAtItsRouterIsNotAMissingSide() throws Exception {
        ShadowValidator validator = new ShadowValidator();
        try (var h = ProcessFunctionTestHarnesses.forKeyedProcessFunction(validator, c -> c.key, Types.STRING)) {
            ResultCheck late = check("l", 0, 1000, false, 5, "l=1");
            late.lateRecord = true;
            h.processElement(late, 999);
            h.processElement(check("m", 0, 1000, true, 9, "m=1"), 999);
            h.processWatermark(999 + LATENESS);
            assertThat(h.extractOutputValues()).extracting(r -> r.getKey() + ":" + r.getOutcome())
                    .containsExactly("m:" + ValidationOutcome.MISSING_PRIMARY);
        }
        assertThat(validator.counts()).containsExactly(0, 1, 1);
    }

    /**
     * A keyed process function's interval in which neither side emitted (each sent only its presence, a check of no
     * output) is not a comparison: no report and no match counted; one side's output against the other's presence
     * is a MISMATCH.
     */
    @Test
    void presencesAloneAreNoComparison() throws Exception {
        try (var h = harness()) {
            h.open();
            ResultCheck primary = output("k", 2_000, 4_000, false, 3, "x", 2_500);
            primary.checksum = 0;
            primary.results = 0;
            ResultCheck shadow = output("k", 2_000, 4_000, true, 9, "x", 2_500);
            shadow.checksum = 0;
            shadow.results = 0;
            h.processElement(primary, 900);
            h.processElement(shadow, 900);
            h.processWatermark(4_000);
            assertThat(h.extractOutputValues()).isEmpty();

            ResultCheck quiet = output("q", 5_000, 7_000, true, 9, "x", 5_500);
            quiet.checksum = 0;
            quiet.results = 0;
            h.processElement(output("q", 5_000, 7_000, false, 3, "alarm", 5_500), 5_500);
            h.processElement(quiet, 4_100);
            h.processWatermark(8_000);
            assertThat(h.extractOutputValues()).singleElement().satisfies(r -> {
                assertThat(r.getOutcome()).isEqualTo(ValidationOutcome.MISMATCH);
                assertThat(r.getShadowKeyGroup()).isEqualTo(9);
            });
        }
    }
}
