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
        Files.writeString(out.resolve("charts/imbalance-by-region.png"), "mine");
        Files.writeString(out.resolve("charts/load-average.png"), "mine");
        Files.writeString(out.resolve("control-holidays.csv"), "mine");
        Files.writeString(out.resolve("results-2014.csv"), "mine");

        ReplayOutput.prepare(KeyshiftCli.commandLine(), out, true);

        try (var left = Files.list(out)) {
            assertThat(left.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("charts", "control-holidays.csv", "results-2014.csv");
        }
        try (var charts = Files.list(out.resolve("charts"))) {
            assertThat(charts.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("notes.md", "imbalance-by-region.png", "load-average.png");
        }

        // a forecast chart is ours where the report shows it
        Files.writeString(out.resolve("report.html"), "<img class=\"chart\" id=\"forecast-A\" alt=\"x\">\n");
        Files.writeString(out.resolve("charts/forecast-A.png"), "x");
        Files.writeString(out.resolve("charts/forecast-q3.png"), "mine");
        ReplayOutput.prepare(KeyshiftCli.commandLine(), out, true);
        try (var charts = Files.list(out.resolve("charts"))) {
            assertThat(charts.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("notes.md", "imbalance-by-region.png", "load-average.png",
                            "forecast-q3.png");
        }
        Files.delete(out.resolve("charts/forecast-q3.png"));

        // with nothing of its own kept there, the charts directory goes too
        for (String mine : new String[] {"notes.md", "imbalance-by-region.png", "load-average.png"}) {
            Files.delete(out.resolve("charts").resolve(mine));
        }
        Files.writeString(out.resolve("charts/load-hash.png"), "x");
        ReplayOutput.prepare(KeyshiftCli.commandLine(), out, true);
        assertThat(out.resolve("charts")).doesNotExist();
    }

    /**
     * One --out per command: a bench's figures beside a replay's report (or the reverse) are refused, with --overwrite
     * too (which removes a command's own files only), naming the other command and its file; a command's own earlier
     * output is still its --overwrite's business, and plan-bench's two modes share a directory.
     */
    @Test
    void anotherCommandsOutputIsRefusedEvenWithOverwrite(@TempDir Path dir) throws Exception {
        picocli.CommandLine cl = KeyshiftCli.commandLine();
        Path replayed = Files.createDirectories(dir.resolve("replayed"));
        Files.writeString(replayed.resolve("report.json"), "{}");
        // a report.json alone may be the user's
        ReplayOutput.prepare(cl, replayed, false, n -> n.equals("bench.json") || n.equals("bench.png"));
        Files.writeString(replayed.resolve("results-hash.csv"), "key,window_start,window_end,count\n");
        for (boolean overwrite : new boolean[] {false, true}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ReplayOutput.prepare(cl, replayed, overwrite,
                    n -> n.equals("bench.json") || n.equals("bench.png")))
                    .isInstanceOf(picocli.CommandLine.ParameterException.class)
                    .hasMessageContaining("holds replay or forecast-bench's output (results-hash.csv)");
        }
        assertThat(replayed.resolve("report.json")).exists();

        Path benched = Files.createDirectories(dir.resolve("benched"));
        Files.writeString(benched.resolve("bench.png"), "x");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ReplayOutput.prepare(cl, benched, true))
                .isInstanceOf(picocli.CommandLine.ParameterException.class)
                .hasMessageContaining("holds bench's output (bench.png)");
        // the bench's own --overwrite replaces it
        ReplayOutput.prepare(cl, benched, true, n -> n.equals("bench.json") || n.equals("bench.png"));
        assertThat(benched.resolve("bench.png")).doesNotExist();

        // a soak's --out before its first sample (or of a soak that failed before it): its cluster and job only
        Path soaked = Files.createDirectories(dir.resolve("soaked/cluster"));
        Files.writeString(soaked.resolve("cluster.properties"), "rest=http://127.0.0.1:1\n");
        Files.createDirectories(soaked.resolveSibling("job"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ReplayOutput.prepare(cl, soaked.getParent(), true))
                .isInstanceOf(picocli.CommandLine.ParameterException.class)
                .hasMessageContaining("holds soak's output (cluster/cluster.properties)");
        assertThat(soaked.resolve("cluster.properties")).exists();

        // a forecast.json alone may be the user's: bench writes beside it
        Path forecast = Files.createDirectories(dir.resolve("forecast"));
        Files.writeString(forecast.resolve("forecast.json"), "{}");
        ReplayOutput.prepare(cl, forecast, false, n -> n.equals("bench.json") || n.equals("bench.png"));
        assertThat(ReplayOutput.commandOutput(forecast)).isNull();
        // a finished forecast-bench leaves its forecast.json and dead letters only: bench did not see it there
        Files.writeString(forecast.resolve("dead-letters.csv"), "raw_line,line_number,reason\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ReplayOutput.prepare(cl, forecast, true,
                n -> n.equals("bench.json") || n.equals("bench.png")))
                .isInstanceOf(picocli.CommandLine.ParameterException.class)
                .hasMessageContaining("holds forecast-bench's output (forecast.json)");

        // nor does a cluster job write beside forecast-bench's, plan-bench's or soak's output (it knew replay's and
        // bench's names only)
        assertThat(ReplayOutput.commandOutput(forecast)).isEqualTo("forecast.json");
        Path planBenched = Files.createDirectories(dir.resolve("plan-benched"));
        Files.writeString(planBenched.resolve("plan-bench.json"), "{}");
        assertThat(ReplayOutput.commandOutput(planBenched)).isEqualTo("plan-bench.json");
        Path soakFigures = Files.createDirectories(dir.resolve("soak-figures"));
        Files.writeString(soakFigures.resolve("soak.json"), "{}");
        assertThat(ReplayOutput.commandOutput(soakFigures)).isEqualTo("soak.json");
        // a job's --out that holds its own cluster's run directory (bin/keyshift cluster start --dir OUT/cluster) is
        // no soak's
        assertThat(ReplayOutput.commandOutput(soaked.getParent())).isNull();
        Path jobs = Files.createDirectories(dir.resolve("job-out/results"));
        assertThat(ReplayOutput.commandOutput(jobs.getParent())).isNull();

        // plan-bench's two modes: each its own file, one directory
        Path planned = Files.createDirectories(dir.resolve("planned"));
        Files.writeString(planned.resolve("plan-bench.json"), "{}");
        ReplayOutput.prepare(cl, planned, false, "control-path-bench.json"::equals);
        assertThat(planned.resolve("plan-bench.json")).exists();
        // a replay's charts directory counts only with a chart in it
        Path mine = Files.createDirectories(dir.resolve("mine/charts"));
        Files.writeString(mine.resolve("notes.md"), "mine");
        Files.writeString(mine.resolve("imbalance-by-region.png"), "mine");
        ReplayOutput.prepare(cl, mine.getParent(), false, "bench.json"::equals);
    }
}
