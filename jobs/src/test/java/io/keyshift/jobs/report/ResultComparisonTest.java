package io.keyshift.jobs.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report's result comparison counts a window that fired more or fewer times than the reference's, as late firings
 * under allowed lateness do (each firing is a result: one doubled or lost is a mismatch).
 */
class ResultComparisonTest {

    private static Map<String, String> results(Path dir, String... lines) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("part-0"), String.join("\n", lines) + "\n");
        return ReplayReport.results(dir);
    }

    @Test
    void lateFiringsAgreeOnlyWhenFiredAsOftenWithEqualCounts(@TempDir Path tmp) throws Exception {
        // key a's window fired on time (2 records) and once late (3); b fired once
        Map<String, String> reference = results(tmp.resolve("hash"), "a,0,10,2", "b,0,10,5", "a,0,10,3");
        // the same firings in another order (another subtask's file order)
        assertThat(ReplayReport.mismatches(reference, results(tmp.resolve("same"), "a,0,10,3", "b,0,10,5",
                "a,0,10,2"))).isZero();
        // the late firing lost: a's window differs
        assertThat(ReplayReport.mismatches(reference, results(tmp.resolve("lost"), "a,0,10,2", "b,0,10,5")))
                .isEqualTo(1);
        // the late firing doubled
        assertThat(ReplayReport.mismatches(reference, results(tmp.resolve("doubled"), "a,0,10,2", "a,0,10,3",
                "a,0,10,3", "b,0,10,5"))).isEqualTo(1);
        // the on-time firing doubled instead of the late one: as many firings, not the same results
        assertThat(ReplayReport.mismatches(reference, results(tmp.resolve("wrong"), "a,0,10,2", "a,0,10,2",
                "b,0,10,5"))).isEqualTo(1);
        // b doubled with an equal result: still a doubled result
        assertThat(ReplayReport.mismatches(reference, results(tmp.resolve("b2"), "a,0,10,2", "a,0,10,3",
                "b,0,10,5", "b,0,10,5"))).isEqualTo(1);
    }

    @Test
    void sumsOfEachFiringAreComparedWithTheirTolerance(@TempDir Path tmp) throws Exception {
        Map<String, String> reference = results(tmp.resolve("hash"), "a,0,10,2,0.30000000000000004",
                "a,0,10,3,0.6");
        assertThat(ReplayReport.mismatches(reference, results(tmp.resolve("close"), "a,0,10,3,0.6000000000000001",
                "a,0,10,2,0.3"))).isZero();
        assertThat(ReplayReport.mismatches(reference, results(tmp.resolve("far"), "a,0,10,3,0.7",
                "a,0,10,2,0.3"))).isEqualTo(1);
        // firings of equal count are paired by their sums, not their text ("10.0" sorts before "9.9...")
        Map<String, String> equalCounts = results(tmp.resolve("equal"), "b,0,10,2,10.000000000000002",
                "b,0,10,2,5.0");
        assertThat(ReplayReport.mismatches(equalCounts, results(tmp.resolve("equal2"), "b,0,10,2,5.000000000000001",
                "b,0,10,2,9.999999999999998"))).isZero();
        // a sum that overflowed differs from a finite one (the tolerance relative to it was infinite too)
        Map<String, String> overflowed = results(tmp.resolve("inf"), "c,0,10,2,Infinity");
        assertThat(ReplayReport.mismatches(overflowed, results(tmp.resolve("finite"), "c,0,10,2,1.0E308")))
                .isEqualTo(1);
        assertThat(ReplayReport.mismatches(overflowed, results(tmp.resolve("inf2"), "c,0,10,2,Infinity"))).isZero();
    }
}
