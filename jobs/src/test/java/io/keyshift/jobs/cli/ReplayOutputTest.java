package io.keyshift.jobs.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** --overwrite removes what a replay wrote, by its exact names, and nothing a user keeps beside it. */
class ReplayOutputTest {
    @Test
    void overwriteRemovesOnlyTheReplaysOwnFiles(@TempDir Path out) throws Exception {
        for (String ours : new String[] {"report.json", "results-hash.csv", "control-predictive.csv",
                "control-rejected-predictive.csv", "utilization-scaled-predictive.csv", "profiles-predictive.jsonl"}) {
            Files.writeString(out.resolve(ours), "x");
        }
        Files.createDirectories(out.resolve("charts"));
        Files.writeString(out.resolve("charts/imbalance.png"), "x");
        Files.writeString(out.resolve("charts/notes.md"), "mine");
        Files.writeString(out.resolve("control-holidays.csv"), "mine");
        Files.writeString(out.resolve("results-2014.csv"), "mine");

        ReplayOutput.prepare(KeyshiftCli.commandLine(), out, true);

        try (var left = Files.list(out)) {
            assertThat(left.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("charts", "control-holidays.csv", "results-2014.csv");
        }
        try (var charts = Files.list(out.resolve("charts"))) {
            assertThat(charts.map(p -> p.getFileName().toString())).containsExactly("notes.md");
        }

        // with nothing of its own kept there, the charts directory goes too
        Files.delete(out.resolve("charts/notes.md"));
        Files.writeString(out.resolve("charts/load-hash.png"), "x");
        ReplayOutput.prepare(KeyshiftCli.commandLine(), out, true);
        assertThat(out.resolve("charts")).doesNotExist();
    }
}
