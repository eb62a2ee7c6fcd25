package io.keyshift.jobs.savepoint;

import io.keyshift.avro.RoutingPlan;
import io.keyshift.config.JobOptions;
import io.keyshift.jobs.SharedData;
import io.keyshift.jobs.cli.FlinkConfig;
import io.keyshift.jobs.cli.KeyshiftCli;
import io.keyshift.jobs.input.InputSpec;
import io.keyshift.jobs.input.ReplayInput;
import io.keyshift.jobs.replay.ReplayJob;
import io.keyshift.jobs.report.ReplayReport;
import io.keyshift.jobs.replay.Strategy;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Warm start (issue 6, acceptance 2; slow, about a minute): {@code bootstrap} on the first 8 months of bike share,
 * then the predictive job from that savepoint on the last 4 months, against a cold start on the same 4 months.
 */
@Tag("end-to-end")
class BootstrapTest {
    private static final String TIME_FORMAT = "yyyy-MM-dd HH:mm:ssXXX";
    private static final long DAY = Duration.ofDays(1).toMillis();

    record Run(List<double[]> forecasts, List<RoutingPlan> plans, List<String> validation,
               Map<String, String> results) {}

    @Test
    void bootstrappedForecasterBeatsAColdStartInTheFirstMonth(@TempDir Path dir) throws Exception {
        Path history = dir.resolve("jan-aug.csv");
        Path rest = dir.resolve("sep-dec.csv");
        split(SharedData.file("bayarea-bikeshare-2014/batrips.csv.gz"), history, rest, "2014-09");

        // one malformed row: dead-lettered, with its reason, where --dead-letters says
        java.nio.file.Files.writeString(history, "not,a,trip\n", java.nio.file.StandardOpenOption.APPEND);
        // --out through a link and "..": written where the file system reads it (the link's target's parent), and
        // the printed path is that place (it was printed as given, which Flink, normalizing ".." as text, reads as
        // dir/savepoint)
        java.nio.file.Files.createDirectories(dir.resolve("a/b"));
        Path link = java.nio.file.Files.createSymbolicLink(dir.resolve("link"), dir.resolve("a/b"));
        Path savepoint = dir.resolve("a/savepoint");
        Path deadLetters = dir.resolve("bootstrap-dead-letters.csv");
        java.io.StringWriter printed = new java.io.StringWriter();
        var bootstrap = KeyshiftCli.commandLine();
        bootstrap.setOut(new java.io.PrintWriter(printed));
        int exit = bootstrap.execute("bootstrap", "--input", history.toString(),
                "--key", "start_station", "--time", "start_date", "--time-format", TIME_FORMAT, "--window", "1d",
                "--out", link.resolve("../savepoint").toString(), "--dead-letters", deadLetters.toString(),
                "--config", SharedData.flinkConf().toString());
        assertThat(exit).isZero();
        assertThat(printed.toString()).contains("savepoint: " + savepoint.toRealPath() + System.lineSeparator());
        assertThat(dir.resolve("savepoint")).doesNotExist();
        assertThat(java.nio.file.Files.readAllLines(deadLetters)).hasSize(2).last().asString().contains("not,a,trip");
        assertThat(io.keyshift.savepoint.ForecasterBootstrap.isBootstrap(savepoint.toUri().toString())).isTrue();

        Configuration base = FlinkConfig.load(SharedData.flinkConf(), Map.of());
        base.set(JobOptions.WINDOW, Duration.ofDays(1));
        JsonNode inspected = SavepointInspector.inspect(savepoint.toUri().toString(), io.keyshift.config.KeyshiftConfig.forecastSettings(base, 128));
        assertThat(inspected.at("/forecaster/windows").requireNonNull().asLong()).isBetween(240L, 245L);
        assertThat(inspected.at("/forecaster/window").asText()).isEqualTo("PT24H");
        // another stage's prefix: said so, in one line and exit 1, not "no plan" with exit 0
        java.io.StringWriter err = new java.io.StringWriter();
        var cli = KeyshiftCli.commandLine();
        cli.setErr(new java.io.PrintWriter(err));
        cli.setOut(new java.io.PrintWriter(new java.io.StringWriter()));
        assertThat(cli.execute("inspect-savepoint", savepoint.toString(), "--window", "1d", "--uid-prefix", "clicks",
                "--config", SharedData.flinkConf().toString())).isEqualTo(1);
        assertThat(err.toString()).contains("no keyshift stage with uid prefix 'clicks'").doesNotContain("\tat ");
        assertThat(err.toString().strip().lines()).hasSize(1);
        double[] baseline = new double[4];
        for (int i = 0; i < 4; i++) {
            baseline[i] = inspected.at("/forecaster/error_sums/" + i).asDouble();
        }

        InputSpec spec = new InputSpec(List.of(), "start_station", List.of("start_date"), Optional.of(TIME_FORMAT),
                Optional.empty());
        ReplayInput.Prepared prepared = ReplayInput.prepare(rest, spec, dir.resolve("events.bin"),
                dir.resolve("dead.csv"), n -> { });
        // daily series restored where the windows are hourly, with the same explicit seasons (so the same models):
        // refused at the restore, naming keyshift.window, not forecast hours from days
        Configuration hourly = FlinkConfig.load(SharedData.flinkConf(), Map.of());
        hourly.set(JobOptions.WINDOW, Duration.ofHours(1));
        hourly.set(io.keyshift.config.ForecastOptions.SEASONS, List.of(7));
        hourly.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint.toUri().toString());
        StreamExecutionEnvironment hourlyEnv = StreamExecutionEnvironment.createLocalEnvironment(2, hourly);
        hourlyEnv.setMaxParallelism(128);
        ReplayJob.build(hourlyEnv, prepared.space(), Strategy.PREDICTIVE, hourly, dir.resolve("hourly"), false, 0,
                null);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> hourlyEnv.execute("bootstrap, other window"))
                .hasStackTraceContaining("the forecaster's series were made with planning windows of PT24H, but "
                        + "keyshift.window is PT1H");
        Run warm = run(dir.resolve("warm"), prepared, savepoint.toUri().toString());
        Run cold = run(dir.resolve("cold"), prepared, null);

        long monthEnd = Instant.parse("2014-10-01T00:00:00Z").toEpochMilli();
        double[] warmMase = firstMonthMase(warm.forecasts(), baseline, monthEnd);
        double[] coldMase = firstMonthMase(cold.forecasts(), new double[4], monthEnd);
        long firstWindowEnd = warm.forecasts().get(0)[0] > 0 ? (long) warm.forecasts().get(0)[0] : 0;
        long warmFirstPlan = firstPlanWindow(warm.plans(), firstWindowEnd);
        long coldFirstPlan = firstPlanWindow(cold.plans(), firstWindowEnd);
        System.err.printf("bootstrap: first month forecast_mase (m=7) warm %.3f, cold %.3f; (m=1) warm %.3f, cold %.3f;"
                        + " first plan with migrations in window %d (warm) and %d (cold), counting from 1%n",
                warmMase[1], coldMase[1], warmMase[0], coldMase[0], warmFirstPlan, coldFirstPlan);
        assertThat(warmMase[1]).isLessThan(coldMase[1]);
        assertThat(warmMase[0]).isLessThan(coldMase[0]);
        assertThat(warmFirstPlan).isEqualTo(1);
        // the warm start's moves from its first window on change no result (the cold run's are checked against hash
        // in MigrationCorrectnessTest and the replay tests)
        assertThat(warm.results()).isNotEmpty().isEqualTo(cold.results());
        assertThat(ReplayReport.mismatches(cold.results(), warm.results())).isZero();
        assertThat(warm.validation()).isNotEmpty().allMatch(l -> l.startsWith("MATCH,"));
    }

    private static Run run(Path runDir, ReplayInput.Prepared prepared, String savepoint) throws Exception {
        Configuration c = FlinkConfig.load(SharedData.flinkConf(), Map.of());
        c.set(JobOptions.WINDOW, Duration.ofDays(1));
        c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, runDir.resolve("cp").toUri().toString());
        if (savepoint != null) {
            c.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, c);
        env.setMaxParallelism(128);
        ReplayJob.build(env, prepared.space(), Strategy.PREDICTIVE, c, runDir, false, 0, null);
        env.execute("bootstrap test");
        List<double[]> forecasts = new ArrayList<>();
        for (String line : ReplayReport.lines(runDir.resolve("forecasts"))) {
            String[] f = line.split(",");
            forecasts.add(new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]),
                Double.parseDouble(f[3]), Double.parseDouble(f[4])});
        }
        forecasts.sort((a, b) -> Double.compare(a[0], b[0]));
        return new Run(forecasts, ReplayReport.plans(runDir.resolve("plans")), ReplayReport.lines(runDir.resolve("validation")),
                ReplayReport.results(runDir.resolve("results")));
    }

    /** {m = 1, m = 7} MASE over the windows ending by {@code end}: differences of the running sums from the baseline. */
    private static double[] firstMonthMase(List<double[]> forecasts, double[] baseline, long end) {
        double[] last = null;
        for (double[] f : forecasts) {
            if (f[0] <= end) {
                last = f;
            }
        }
        assertThat(last).isNotNull();
        return new double[] {(last[1] - baseline[0]) / (last[2] - baseline[1]), (last[3] - baseline[2]) / (last[4] - baseline[3])};
    }

    /** 1-based window (from the job's first) whose forecast the first plan that starts migrations was based on. */
    private static long firstPlanWindow(List<RoutingPlan> plans, long firstWindowEnd) {
        return plans.stream().filter(p -> p.getMigrationsStarted() > 0)
                .mapToLong(p -> (p.getBasedOnWindowEnd() - firstWindowEnd) / DAY + 1).min().orElse(-1);
    }

    /** Splits the gzipped CSV by start_date (third column): rows before {@code firstMonth} go to {@code before}. */
    private static void split(Path gz, Path before, Path after, String firstMonth) throws Exception {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(gz)),
                StandardCharsets.UTF_8));
             BufferedWriter a = Files.newBufferedWriter(before);
             BufferedWriter b = Files.newBufferedWriter(after)) {
            String header = r.readLine();
            a.write(header + "\n");
            b.write(header + "\n");
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                String[] f = line.split(",", 4);
                (f.length > 2 && f[2].compareTo(firstMonth) < 0 ? a : b).write(line + "\n");
            }
        }
    }
}
