package io.keyshift.jobs.cli;

import io.keyshift.config.ProfilerOptions;
import io.keyshift.jobs.bench.ForecastBench;
import io.keyshift.jobs.input.InputSpec;
import io.keyshift.jobs.input.ReplayInput;
import io.keyshift.profiler.WindowProfile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Map.Entry;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/** {@code keyshift forecast-bench}: forecast accuracy of every model and of auto-selection on a replayed file. */
@Command(name = "forecast-bench",
        header = "Scores every forecasting model on a replayed file (MASE, sMAPE, recall).",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Replays a file through a keyshift stage (local MiniCluster, without scaling; its results "
                + "are discarded), forecasts every "
                + "window's load per hot key and key group with each model and with per-series auto-selection, and "
                + "writes DIR/forecast.json: MASE and sMAPE per model and horizon, the auto-selection's model mix, "
                + "heavy-hitter recall of the true top 20, forecasting time per window and state size."})
public final class ForecastBenchCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    InputOptions in;

    @Option(names = "--window", defaultValue = "1h", paramLabel = "DURATION",
            description = "Tumbling window (5min, 1h, 1d). Default: ${DEFAULT-VALUE}.")
    String window;

    @Option(names = "--season", split = ",", paramLabel = "WINDOWS[,WINDOWS...]", hideParamSyntax = true,
            description = "Season length(s) in windows, e.g. 24,168. Default: keyshift.forecast.seasons if set, else "
                    + "keyshift's default for the window (a day and a week of windows from 1h up to a day, a day below "
                    + "1h, a week from 1d).")
    List<Integer> seasons;

    @Option(names = "--horizon", defaultValue = "3", paramLabel = "H",
            description = "Windows forecast ahead (scored at 1..H). Default: ${DEFAULT-VALUE}.")
    int horizon;

    @Option(names = "--parallelism", defaultValue = "4", paramLabel = "N",
            description = "Sampler parallelism. Default: ${DEFAULT-VALUE}.")
    int parallelism;

    @Option(names = "--out", defaultValue = "forecast-bench-out", paramLabel = "DIR",
            description = "Output directory; refused if it holds an earlier run's output (forecast.json or a "
                    + "replay's files), unless --overwrite; a dead-letters.csv alone (of a run that found no valid "
                    + "row) is replaced; refused if it holds a bench's, plan-bench's or soak's (give each its own). "
                    + "Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--overwrite",
            description = "Remove an earlier run's output from --out once the input has been read and checked "
                    + "(only the files forecast-bench or replay write; nothing else).")
    boolean overwrite;

    @Mixin
    FlinkOptions flink;


    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        Duration w = FlinkOptions.window(cl, "--window", window);
        if (horizon < 1 || horizon > io.keyshift.config.KeyshiftConfig.MAX_FORECAST_STEPS) {
            // as a stage's forecaster: each window forecasts every series this many steps (a recursive model at
            // O(steps^2))
            throw new ParameterException(cl, "--horizon must be in 1.." + io.keyshift.config.KeyshiftConfig
                    .MAX_FORECAST_STEPS + ", was " + horizon);
        }
        flink.refuseParallelismDefault(cl);
        Configuration conf = flink.load(cl, w);
        FlinkOptions.checkLocalRun(cl, conf, true);
        // the bench scores every model, and the forecasts without a calendar: options that choose otherwise would be
        // ignored without a word
        for (org.apache.flink.configuration.ConfigOption<?> o : List.of(io.keyshift.config.ForecastOptions.MODEL,
                io.keyshift.config.ForecastOptions.CALENDAR)) {
            if (conf.contains(o)) {
                throw new ParameterException(cl, o.key() + " does not apply to forecast-bench (it scores every "
                        + "model, without a calendar); unset it");
            }
        }
        if (seasons != null && conf.contains(io.keyshift.config.ForecastOptions.SEASONS)) {
            throw new ParameterException(cl, "--season and " + io.keyshift.config.ForecastOptions.SEASONS.key()
                    + " both set the seasons; give one");
        }
        if (conf.getOptional(io.keyshift.config.PrivacyOptions.KEY_SECRET).isPresent()) {
            // the bench scores the profiles' heavy hitters against the input's own keys
            throw new ParameterException(cl, io.keyshift.config.PrivacyOptions.KEY_SECRET.key()
                    + " does not apply to forecast-bench (it compares the profiles with the input's keys); unset it");
        }
        int maxP = conf.getOptional(PipelineOptions.MAX_PARALLELISM)
                .orElse(conf.get(io.keyshift.config.JobOptions.DEFAULT_MAX_PARALLELISM));
        // the profiles do not depend on scaling, as in bootstrap: with a config.yaml's scaling bounds (the cluster
        // job's) the profiling stage at --parallelism was refused once the whole input had been read and the earlier
        // forecast.json removed
        conf.set(io.keyshift.config.ScalingOptions.CAPACITY, 0.0);
        if (parallelism < 1 || parallelism > maxP) {
            throw new ParameterException(cl, "--parallelism must be in 1.." + maxP + " (the max parallelism), was "
                    + parallelism);
        }
        FlinkOptions.checkSlots(cl, conf, parallelism);
        if (seasons != null) {
            for (int m : seasons) {
                if (m < 0 || m > io.keyshift.config.KeyshiftConfig.MAX_SEASON_WINDOWS) {
                    throw new ParameterException(cl, "--season must be in 0.."
                            + io.keyshift.config.KeyshiftConfig.MAX_SEASON_WINDOWS + " windows (each series keeps one "
                            + "value per window of the longest), was " + m);
                }
            }
        }
        if (seasons != null) {
            // the profiler too: its gap bound and seasonal period came from the default seasons, so a --season that
            // does not divide them lost its phase after a long gap in the input
            conf.set(io.keyshift.config.ForecastOptions.SEASONS, seasons);
        }
        List<Integer> s = seasons != null ? seasons : io.keyshift.config.KeyshiftConfig.seasons(conf, w.toMillis());
        // the closing timing of 10,000 synthetic series keeps a float per window of the longest season in each: at
        // --season 100000 (or --window 1s's daily season) 4 GB, out of memory after the whole scoring, no figures
        long longest = s.stream().mapToLong(Integer::longValue).max().orElse(0);
        long timingBytes = 10_000L * (longest + 1) * Float.BYTES;
        if (timingBytes > Runtime.getRuntime().maxMemory() / 4) {
            throw new ParameterException(cl, String.format("a longest season of %,d windows (--season, or --window's "
                    + "default seasons) needs %,d MiB for the timing of 10,000 series, more than a quarter of this "
                    + "JVM's heap (%,d MiB): a shorter season or a longer --window, or a larger heap "
                    + "(KEYSHIFT_JAVA_OPTS=-Xmx...)", longest, timingBytes >> 20, Runtime.getRuntime().maxMemory() >> 20));
        }
        InputSpec inputSpec = in.spec(cl, null, false); // (a key secret refused above)
        FlinkOptions.outputDirectory(cl, "--out", out);
        // an input under a name this command writes or --overwrite removes would be deleted before it is read
        ReplayOutput.refuseInputsInOutput(cl, out, java.util.Map.of("--input", in.input));
        // a run that found no valid row left only its dead letters: the corrected run replaces them, saying so; an
        // earlier run's output is removed (--overwrite) only once the input has been read and checked
        ReplayInput.Prepared prepared = ReplayOutput.readInput(cl, out, overwrite, ReplayOutput::forecastBenchOrReplay,
                (events, deadLetters) -> {
                    System.err.printf("forecast-bench: reading and sorting %s%n", in.input);
                    return ReplayInput.prepare(in.input, inputSpec, events, deadLetters,
                            lines -> System.err.printf("forecast-bench: %,d lines read%n", lines),
                            conf.get(io.keyshift.jobs.replay.Workload.MAX_EVENT_TIME_GAP));
                }, stats -> stats.records() == 0 && stats.deadLetters() == 0
                        // refused before an earlier run's output is removed (--overwrite): nothing would replace it
                        ? in.input + " has no valid row (no data rows)"
                        : ReplayCommand.tooManyWindows(stats, w));
        if (prepared == null) {
            return 2;
        }
        if (prepared.stats().records() == 0) {
            Files.deleteIfExists(out.resolve(".events.bin"));
            cl.getErr().println("keyshift forecast-bench: " + in.input + " has no valid row"
                    + (prepared.stats().deadLetters() == 0 ? " (no data rows)"
                    : " (" + prepared.stats().deadLetters() + " dead letters in " + out.resolve("dead-letters.csv")
                    + "; the first: "
                    + ReplayCommand.firstReason(out.resolve("dead-letters.csv")) + ")"));
            cl.getErr().flush();
            return 2;
        }
        try {
            conf.set(PipelineOptions.MAX_PARALLELISM, maxP);
            // checkpoints on disk under --out, as replay does: the JobManager's heap storage (Flink's default without
            // a directory) refuses state over 5 MB, which the profiling job of a long input exceeds
            if (!conf.contains(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY)) {
                conf.set(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                        io.keyshift.jobs.LocalPaths.uri(out.resolve(".checkpoints")));
            }
            ForecastBench.Settings settings = new ForecastBench.Settings(prepared.space(), parallelism, w.toMillis(), s,
                    horizon, conf);
            System.err.printf("forecast-bench: %,d records (%,d dead letters), window %s, seasons %s: profiling%n",
                    prepared.stats().records(), prepared.stats().deadLetters(), w, s);
            List<WindowProfile> profiles = ForecastBench.profiles(settings, System.err);
            TreeMap<Long, Map<String, Long>> truth = ForecastBench.truth(prepared.space(), w.toMillis());
            System.err.printf("forecast-bench: %,d windows profiled; forecasting with every model%n", profiles.size());
            ObjectNode json = ForecastBench.run(profiles, truth, conf, s, horizon,
                    line -> System.err.println("forecast-bench: " + line));
            // an undefined figure (MASE of a series too short, recall without 20 keys in a window) as null, not "NaN"
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("forecast.json").toFile(),
                    io.keyshift.jobs.report.ReplayReport.finiteOrNull(json.deepCopy()));
            print(json);
            System.out.println("forecast.json: " + out.resolve("forecast.json"));
            return 0;
        } finally {
            io.keyshift.jobs.replay.ReplayRunner.deleteRecursively(out.resolve(".checkpoints"));
            Files.deleteIfExists(out.resolve(".events.bin"));
        }
    }

    /** {@code v} with {@code decimals}, or "-" where it is undefined (NaN or infinite: as null in forecast.json). */
    static String figure(double v, int decimals) {
        return Double.isFinite(v) ? String.format(java.util.Locale.ROOT, "%." + decimals + "f", v) : "-";
    }

    private static void print(ObjectNode json) {
        System.out.printf("%-34s %8s %8s%n", "model (horizon 1)", "MASE", "sMAPE");
        for (Entry<String, com.fasterxml.jackson.databind.JsonNode> e : json.get("models").properties()) {
            System.out.printf("%-34s %8s %8s%n", e.getKey(), figure(e.getValue().get("mase").asDouble(), 3),
                    figure(e.getValue().get("smape").asDouble(), 3));
        }
        System.out.printf("%-34s %8s %8s%n", "auto", figure(json.at("/auto/mase").asDouble(), 3),
                figure(json.at("/auto/smape").asDouble(), 3));
        System.out.printf(java.util.Locale.ROOT, "MASE season m=%d; heavy-hitter recall (top 20) %s (load-weighted %s); "
                        + "%.2f ms per window for %d series; %,d state bytes; 10k series: %.1f ms per window (median "
                        + "%.1f, max %.1f)%n",
                json.get("mase_season").asInt(), figure(json.get("heavy_hitter_recall").asDouble(), 3),
                figure(json.get("heavy_hitter_load_recall").asDouble(), 3),
                json.get("ms_per_window").asDouble(), json.get("series").asInt(), json.get("state_bytes").asLong(),
                json.at("/scaling/ms_per_window").asDouble(), json.at("/scaling/ms_per_window_median").asDouble(),
                json.at("/scaling/ms_per_window_max").asDouble());
    }
}
