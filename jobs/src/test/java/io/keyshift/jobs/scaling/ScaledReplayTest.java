package io.keyshift.jobs.scaling;

import io.keyshift.jobs.SharedData;
import io.keyshift.jobs.cli.KeyshiftCli;
import io.keyshift.jobs.source.ZipfDriftGenerator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Replay with a simulated scaling actuator (issue 8): rescales by stop-with-savepoint and restore. */
class ScaledReplayTest {

    private static int run(StringWriter out, StringWriter err, String... args) {
        CommandLine cl = KeyshiftCli.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        return cl.execute(args);
    }

    @Test
    void diurnalRateDoublesOverTheMorningAndHalvesAtNight() {
        // 2 days at a night rate of 1 event per second, peak factor 2: a day holds 1.5 days' worth of the night rate
        ZipfDriftGenerator g = new ZipfDriftGenerator(259_200, 0, 1.0, 10, 1.0, 0, 1, 0.0, 2.0);
        double[] cdf = g.cdf();
        long[] perHour = new long[48];
        long previous = Long.MIN_VALUE;
        for (long i = 0; i < g.size(); i++) {
            long t = g.event(i, cdf).timestamp;
            assertThat(t).isGreaterThanOrEqualTo(previous);
            previous = t;
            perHour[(int) (t / 3_600_000)]++;
        }
        for (int day = 0; day < 2; day++) {
            int h0 = day * 24;
            assertThat((double) perHour[h0 + 3]).isCloseTo(3600, within(2.0));      // night: the base rate
            assertThat((double) perHour[h0 + 15]).isCloseTo(7200, within(2.0));     // afternoon: twice it
            assertThat((double) perHour[h0 + 9]).isCloseTo(3600 * (1 + 3.5 / 6), within(2.0)); // morning ramp, 3.5 h in
            assertThat((double) perHour[h0 + 21]).isCloseTo(3600 * (2 - 3.5 / 6), within(2.0)); // evening ramp, 3.5 h in
        }
        assertThat(previous).isLessThan(48 * 3_600_000L);
    }

    @Test
    void scaleNeedsCapacityAndMaxParallelismNamingThem(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        assertThat(run(new StringWriter(), err, "replay", "--scale", "predictive", "--out", dir.toString(),
                "--config", SharedData.flinkConf().toString())).isEqualTo(2);
        assertThat(err.toString()).contains("keyshift.scaling.capacity");
        err = new StringWriter();
        assertThat(run(new StringWriter(), err, "replay", "--scale", "predictive", "-Dkeyshift.scaling.capacity=100",
                "--out", dir.toString(), "--config", SharedData.flinkConf().toString())).isEqualTo(2);
        assertThat(err.toString()).contains("keyshift.scaling.max-parallelism");
        err = new StringWriter();
        assertThat(run(new StringWriter(), err, "replay", "--scale", "sometimes", "--out", dir.toString(),
                "--config", SharedData.flinkConf().toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--scale");
    }

    /**
     * End-to-end (slow, about 50 s): two generated days whose rate doubles over each morning, p = 2 at the start,
     * capacity 1,200 records per window and subtask. Both policies are applied by stop-with-savepoint and restore;
     * predictive scaling acts a window or more before reactive scaling, so it has fewer overload windows, at no more
     * than 10% more slot-hours; every rescaled run's results equal hash's.
     */
    @Test
    @Tag("end-to-end")
    void predictiveScalingHasFewerOverloadWindowsThanReactiveAndExactResults(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        StringWriter so = new StringWriter();
        StringWriter se = new StringWriter();
        int exit = run(so, se, "replay", "--generator-records", "96000", "--generator-days", "2",
                "--generator-peak-factor", "2", "--window", "1h", "--parallelism", "2", "--strategies", "hash",
                "--scale", "predictive,reactive", "-Dkeyshift.scaling.capacity=1200",
                "-Dkeyshift.scaling.max-parallelism=8", "--out", out.toString(),
                "--config", SharedData.flinkConf().toString());
        assertThat(exit).as(se.toString()).isZero();
        JsonNode runs = new ObjectMapper().readTree(out.resolve("report.json").toFile()).at("/scaling/runs");
        JsonNode hash = runs.get("hash");
        JsonNode predictive = runs.get("scaled-predictive");
        JsonNode reactive = runs.get("scaled-reactive");
        for (JsonNode r : new JsonNode[] {predictive, reactive}) {
            assertThat(r.get("rescales").asInt()).isGreaterThanOrEqualTo(2);
            assertThat(r.get("results").asLong()).isEqualTo(hash.get("results").asLong()).isPositive();
            assertThat(r.get("result_mismatches").asLong()).isZero();
            assertThat(r.get("validation_mismatches").asLong()).isZero();
            assertThat(r.get("overload_windows").asLong()).isLessThan(hash.get("overload_windows").asLong());
        }
        // utilization-<run>.csv: one row per window; the windows above the capacity are the overloaded ones
        for (String run : List.of("hash", "scaled-predictive", "scaled-reactive")) {
            List<String> rows = Files.readAllLines(out.resolve("utilization-" + run + ".csv"));
            assertThat(rows.get(0)).isEqualTo("window_start,parallelism,records,busiest,utilization");
            assertThat(rows).hasSize(1 + runs.get(run).get("windows").asInt());
            assertThat(rows.stream().skip(1).filter(l -> Long.parseLong(l.split(",")[3]) > 1200).count())
                    .isEqualTo(runs.get(run).get("overload_windows").asLong());
        }
        assertThat(predictive.get("overload_windows").asLong()).isLessThan(reactive.get("overload_windows").asLong());
        assertThat(predictive.get("slot_hours").asDouble()).isLessThanOrEqualTo(1.10 * reactive.get("slot_hours").asDouble());
        assertThat(out.resolve("charts").resolve("parallelism.png")).isRegularFile();
        assertThat(Files.readString(out.resolve("rescales-scaled-predictive.csv"))).contains(",2,3,"); // a scale-out from 2
        assertThat(Files.readString(out.resolve("report.html"))).contains("scaled-predictive").contains("slot-hours")
                .contains("id=\"parallelism\"");
    }

    /**
     * Control input (issue 15), end-to-end (slow, about 20 s): the same two days with predictive scaling and a control
     * file that forces parallelism 5 from 03:00 on the first day and releases it at noon on the second. The first
     * rescale goes to 5 for the command, none follows until the release, and the results stay exact.
     */
    @Test
    @Tag("end-to-end")
    void aScaleCommandForcesTheParallelismUntilUnscale(@TempDir Path dir) throws Exception {
        Path control = dir.resolve("control.csv");
        Files.writeString(control, "2026-01-05T03:00:00Z,scale,5\n2026-01-05T04:00:00Z,explode\n"
                + "2026-01-06T12:00:00Z,unscale\n");
        Path out = dir.resolve("out");
        StringWriter se = new StringWriter();
        int exit = run(new StringWriter(), se, "replay", "--generator-records", "96000", "--generator-days", "2",
                "--generator-peak-factor", "2", "--window", "1h", "--parallelism", "2", "--strategies", "hash",
                "--scale", "predictive", "-Dkeyshift.scaling.capacity=1200", "-Dkeyshift.scaling.max-parallelism=8",
                "--control", control.toString(), "--out", out.toString(), "--config", SharedData.flinkConf().toString());
        assertThat(exit).as(se.toString()).isZero();
        java.util.List<String> rescales = Files.readAllLines(out.resolve("rescales-scaled-predictive.csv"));
        System.out.println("scaled replay with a scale command: " + rescales);
        long release = java.time.Instant.parse("2026-01-06T12:00:00Z").toEpochMilli();
        java.util.List<String[]> rows = rescales.stream().skip(1).map(l -> l.split(",", -1)).toList();
        assertThat(rows).isNotEmpty();
        assertThat(rows.get(0)[1]).as("from").isEqualTo("2");
        assertThat(rows.get(0)[2]).as("to").isEqualTo("5");
        assertThat(rescales.get(1)).contains("control: scale 5");
        for (String[] r : rows.subList(1, rows.size())) {
            assertThat(Long.parseLong(r[0])).as("a rescale after the first, before unscale")
                    .isGreaterThanOrEqualTo(release - 3 * 3_600_000L);
        }
        JsonNode runs = new ObjectMapper().readTree(out.resolve("report.json").toFile()).at("/scaling/runs");
        assertThat(runs.get("scaled-predictive").get("results").asLong()).isEqualTo(runs.get("hash").get("results").asLong());
        assertThat(runs.get("scaled-predictive").get("result_mismatches").asLong()).isZero();
        // the refused line reaches the user: its reason in a file of the scaled run's, and its count
        assertThat(runs.get("scaled-predictive").get("control_commands_rejected").asLong()).isEqualTo(1);
        assertThat(Files.readString(out.resolve("control-rejected-scaled-predictive.csv"))).contains("explode");
    }

    /**
     * A split key after a scale-out (end-to-end, about 25 s): a key with 40 % of the records, split at parallelism 4,
     * is spread anew over every subtask once a scale command takes the job to 6 (restored from the savepoint, the
     * planner plans for the new key-group ranges), from the first lease the new job issues; its windows then merge
     * partials from both spreads, and every result equals hash's.
     */
    @Test
    @Tag("end-to-end")
    void aSplitKeyIsSpreadOverTheNewSubtasksAfterAScaleOutAndResultsStayExact(@TempDir Path dir) throws Throwable {
        Path control = dir.resolve("control.csv");
        Files.writeString(control, "2026-01-05T06:00:00Z,scale,6\n");
        Path out = dir.resolve("out");
        StringWriter se = new StringWriter();
        int[] exit = new int[1];
        List<String> log = io.keyshift.LogCapture.of(io.keyshift.plan.RepartitionPlanner.class, () -> exit[0] = run(
                new StringWriter(), se, "replay", "--generator-records", "96000", "--generator-days", "2",
                "--generator-hot-share", "0.4", "--window", "1h", "--parallelism", "2", "--strategies", "hash",
                "--scale", "predictive", "-Dkeyshift.scaling.capacity=1200", "-Dkeyshift.scaling.max-parallelism=8",
                "--control", control.toString(), "--out", out.toString(), "--config",
                SharedData.flinkConf().toString()));
        assertThat(exit[0]).as(se.toString()).isZero();
        assertThat(Files.readString(out.resolve("rescales-scaled-predictive.csv"))).contains(",6,");
        assertThat(log).as("the planner's log").anyMatch(l -> l.startsWith("INFO ")
                && l.contains("split key hot-key spread anew over 6 key groups for parallelism 6"));
        JsonNode runs = new ObjectMapper().readTree(out.resolve("report.json").toFile()).at("/scaling/runs");
        assertThat(runs.get("scaled-predictive").get("results").asLong())
                .isEqualTo(runs.get("hash").get("results").asLong()).isPositive();
        assertThat(runs.get("scaled-predictive").get("result_mismatches").asLong()).isZero();
        assertThat(runs.get("scaled-predictive").get("validation_mismatches").asLong()).isZero();
    }
}
