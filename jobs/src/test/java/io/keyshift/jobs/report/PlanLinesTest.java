package io.keyshift.jobs.report;

import io.keyshift.avro.RoutingPlan;
import io.keyshift.jobs.replay.ReplayJob;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Plan files read back: one JSON decoder for every line, and the digest taken from the lines as written. */
class PlanLinesTest {
    private static RoutingPlan plan(long version, long validUntil, int parallelism) {
        return RoutingPlan.newBuilder().setVersion(version).setValidUntil(validUntil).setBasedOnWindowEnd(0)
                .setMaxParallelism(128).setParallelism(parallelism).setEntries(List.of())
                .setPredictedImbalanceBefore(1.3).setPredictedImbalanceAfter(1.1).setMigrationsStarted(0)
                .setMigrationsCompleted(0).build();
    }

    @Test
    void everyLineDecodesInVersionOrderAndTheDigestOfTheLinesIsThatOfThePlans(@TempDir Path dir) throws IOException {
        List<RoutingPlan> written = List.of(plan(2, 7_200_000, 4), plan(0, 3_600_000, 4), plan(1, 3_600_000, 6));
        StringBuilder part = new StringBuilder();
        for (RoutingPlan p : written) {
            part.append(ReplayJob.planJson(p)).append('\n');
        }
        Files.writeString(dir.resolve("part-0-0"), part);

        List<ReplayReport.PlanLine> lines = ReplayReport.planLines(dir);
        assertThat(lines).extracting(l -> l.plan().getVersion()).containsExactly(0L, 1L, 2L);
        assertThat(lines).extracting(l -> l.plan().getParallelism()).containsExactly(4, 6, 4);
        assertThat(lines).extracting(l -> l.plan().getValidUntil()).containsExactly(3_600_000L, 3_600_000L, 7_200_000L);
        List<RoutingPlan> plans = ReplayReport.plans(dir);
        assertThat(plans).isEqualTo(lines.stream().map(ReplayReport.PlanLine::plan).toList());
        assertThat(ReplayReport.digestOfLines(lines)).isEqualTo(ReplayReport.digest(plans));
        // the digest reads every plan of the history: another plan, another digest
        List<ReplayReport.PlanLine> changed = List.of(lines.get(0), lines.get(1),
                new ReplayReport.PlanLine(plan(2, 10_800_000, 4), ReplayJob.planJson(plan(2, 10_800_000, 4))));
        assertThat(ReplayReport.digestOfLines(changed)).isNotEqualTo(ReplayReport.digestOfLines(lines));
    }
    /**
     * Part files are read in the order the file sink wrote them: its counters sorted as text put part-...-0-10 before
     * part-...-0-2, and the forecast units and rejected control lines of a run of more than ten checkpoints came out of
     * window order.
     */
    @Test
    void partFilesAreReadInTheOrderTheyWereWritten(@TempDir Path dir) throws IOException {
        String uuid = "0b9a3c1e-3f2a-4c6d-9e8f-1a2b3c4d5e6f";
        for (int counter : new int[] {10, 2, 1, 11}) {
            Files.writeString(dir.resolve("part-" + uuid + "-0-" + counter), "line " + counter + "\n");
        }
        assertThat(ReplayReport.lines(dir)).containsExactly("line 1", "line 2", "line 10", "line 11");
    }
    /** Rows of a CSV whose quoted key holds a line break stay whole, so that sorting them by window keeps them intact. */
    @Test
    void aRowWhoseQuotedKeyHoldsALineBreakStaysWhole() {
        List<String> rows = ReplayReport.csvRows(List.of("7200000,1,2,0,3,\"two", "lines\"", "3600000,1,2,0,3,plain",
                "3600000,4,5,0,6,\"a \"\"quote\"\"\""));
        assertThat(rows).containsExactly("7200000,1,2,0,3,\"two\nlines\"", "3600000,1,2,0,3,plain",
                "3600000,4,5,0,6,\"a \"\"quote\"\"\"");
        List<String> sorted = new java.util.ArrayList<>(rows);
        sorted.sort(java.util.Comparator.comparingLong(ReplayReport::leadingLong));
        assertThat(sorted.get(2)).isEqualTo("7200000,1,2,0,3,\"two\nlines\"");
    }

    /**
     * The control counts leave out the final lease, which plans nothing and carries the overrides in force at the
     * input's end: a freeze never lifted over plans 1-3 counted 4 frozen plans.
     */
    @Test
    void theFinalLeaseIsNotCountedAmongTheFrozenPlans() {
        io.keyshift.config.AvroTrust.install();
        List<RoutingPlan> plans = new java.util.ArrayList<>();
        for (long v = 0; v <= 4; v++) {
            RoutingPlan p = plan(v, v == 4 ? Long.MAX_VALUE : (v + 1) * 3_600_000L, 4);
            p.setControl(io.keyshift.avro.PlanControl.newBuilder().setFrozen(v >= 1).setPinnedKeys(List.of())
                    .setRollbackToVersion(v >= 1 ? 0 : -1).setCommandsApplied(1).setCommandsRejected(0)
                    .setForcedParallelism(v >= 1 ? 6 : 0).build());
            plans.add(p);
        }
        assertThat(ReplayReport.controlPlans(plans, c -> c.getFrozen())).isEqualTo(3);
        assertThat(ReplayReport.controlPlans(plans, c -> c.getRollbackToVersion() >= 0)).isEqualTo(3);
        assertThat(ReplayReport.controlPlans(plans, c -> c.getForcedParallelism() > 0)).isEqualTo(3);
    }
}
