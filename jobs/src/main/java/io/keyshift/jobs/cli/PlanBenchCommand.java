package io.keyshift.jobs.cli;

import io.keyshift.jobs.bench.PlanBench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code keyshift plan-bench}: planner quality and speed on seeded synthetic instances. */
@Command(name = "plan-bench",
        header = "Measures the planner on synthetic instances (imbalance, moves, planning time).",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Plans seeded synthetic instances (Zipf exponents 0.8-1.5; 1k, 100k and 1M units; 8, 64, 256 "
                + "and 1024 subtasks; with and without hot-key splitting) from the hash assignment and writes "
                + "DIR/plan-bench.json: imbalance, lower bound, units moved and median planning time per instance, "
                + "and the units moved after a 5%% change of load."})
public final class PlanBenchCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", defaultValue = "plan-bench-out", paramLabel = "DIR",
            description = "Output directory; refused if it holds an earlier run's figures of the same mode "
                    + "(plan-bench.json, or control-path-bench.json with --control-path), unless --overwrite, and "
                    + "if it holds another command's output (give each its own). Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--overwrite", description = "Replace an earlier run's figures of the same mode in --out.")
    boolean overwrite;

    @Option(names = "--repeats", defaultValue = "3", paramLabel = "N",
            description = "Runs per instance; the median time is reported. Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--quick", description = "Only 1k and 100k units (skips the 1M-unit instances).")
    boolean quick;

    @Option(names = "--control-path", description = "Instead: the control path at scale (forecaster and planner fed "
            + "window by window: --keys tracked keys, --max-parallelism key groups, one-minute windows with a daily "
            + "season); per window forecast and plan ms, and, in a job with RocksDB and incremental checkpoints, the bytes "
            + "each checkpoint uploads. Writes "
            + "DIR/control-path-bench.json.")
    boolean controlPath;

    @Option(names = "--keys", defaultValue = "10000", paramLabel = "N",
            description = "With --control-path: tracked hot keys, 1..1,000,000 (keyshift.profiler.top-k's bound). "
                    + "Default: ${DEFAULT-VALUE}.")
    int keys;

    @Option(names = "--max-parallelism", defaultValue = "4096", paramLabel = "N",
            description = "With --control-path: key groups, 64..32768. Default: ${DEFAULT-VALUE}.")
    int maxParallelism;

    @Option(names = "--windows", defaultValue = "1800", paramLabel = "N",
            description = "With --control-path: one-minute windows fed (a day is 1,440). Default: ${DEFAULT-VALUE}.")
    int windows;

    @Option(names = "--windows-per-checkpoint", defaultValue = "10", paramLabel = "N",
            description = "With --control-path: windows the checkpointed forecaster job processes between two "
                    + "checkpoints. Default: ${DEFAULT-VALUE}.")
    int windowsPerCheckpoint;

    /** Most tracked keys of {@code --control-path}: the bound of {@code keyshift.profiler.top-k}. */
    static final int MAX_KEYS = 1_000_000;

    /** Most --repeats (timings per instance and planner). */
    static final int MAX_REPEATS = 1_000;

    @Override
    public Integer call() throws Exception {
        picocli.CommandLine cl = spec.commandLine();
        if (repeats < 1 || repeats > MAX_REPEATS) {
            // each repeat plans every instance again; a hundred million ran out of heap after --overwrite
            throw new picocli.CommandLine.ParameterException(cl, "--repeats must be in 1.." + MAX_REPEATS + ", was "
                    + repeats);
        }
        if (!controlPath) {
            for (String o : List.of("--keys", "--max-parallelism", "--windows", "--windows-per-checkpoint")) {
                if (cl.getParseResult().hasMatchedOption(o)) {
                    throw new picocli.CommandLine.ParameterException(cl, o + " applies only with --control-path");
                }
            }
        } else {
            for (String o : List.of("--repeats", "--quick")) {
                if (cl.getParseResult().hasMatchedOption(o)) {
                    throw new picocli.CommandLine.ParameterException(cl, o + " does not apply with --control-path");
                }
            }
        }
        if (controlPath && (keys < 1 || keys > MAX_KEYS)) {
            // a hundred million ran the JVM out of heap ("OutOfMemoryError: Java heap space", naming no option) after
            // --overwrite had removed the earlier figures
            throw new picocli.CommandLine.ParameterException(cl, "--keys must be in 1..1,000,000 (a job tracks at "
                    + "most keyshift.profiler.top-k's 1,000,000 keys a window), was " + keys);
        }
        if (controlPath && (maxParallelism < 64
                || maxParallelism > org.apache.flink.runtime.state.KeyGroupRangeAssignment.UPPER_BOUND_MAX_PARALLELISM)) {
            throw new picocli.CommandLine.ParameterException(cl, "--max-parallelism must be in 64.."
                    + org.apache.flink.runtime.state.KeyGroupRangeAssignment.UPPER_BOUND_MAX_PARALLELISM + ", was "
                    + maxParallelism);
        }
        if (controlPath && keys >= 1 && keys <= MAX_KEYS && maxParallelism >= 1 && windows >= 1) {
            // the forecaster's engine is held in this JVM: 400,000 keys passed the range check above and ran out of
            // heap after the whole forecast loop (after --overwrite had removed the earlier figures)
            long needed = io.keyshift.jobs.bench.ControlPathBench.heapNeeded(maxParallelism, keys, windows);
            long heap = Runtime.getRuntime().maxMemory();
            if (needed > heap) {
                throw new picocli.CommandLine.ParameterException(cl, String.format("--keys %,d with --max-parallelism "
                        + "%,d over --windows %,d needs about %,d MiB of heap for the forecaster's series (about %.1f KB "
                        + "each once a daily season of one-minute windows is held, twice over), more than this JVM's "
                        + "%,d MiB: fewer keys, or a larger heap (KEYSHIFT_JAVA_OPTS=-Xmx...)", keys, maxParallelism,
                        windows, needed >> 20, io.keyshift.jobs.bench.ControlPathBench.seriesBytes(windows) / 1000.0,
                        heap >> 20));
            }
        }
        if (controlPath && windows < 4) {
            throw new picocli.CommandLine.ParameterException(cl, "--windows must be >= 4, was " + windows);
        }
        if (controlPath && (windowsPerCheckpoint < 1 || windowsPerCheckpoint >= windows)) {
            // the checkpointed job releases that many windows per checkpoint: all of them at once leaves it no
            // checkpoint to measure, found only after the whole forecast loop
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--windows-per-checkpoint must be in 1.." + (windows - 1) + " (below --windows), was "
                            + windowsPerCheckpoint);
        }
        FlinkOptions.outputDirectory(cl, "--out", out);
        // never leave an earlier run's figures of this mode behind, nor remove them unasked (the other mode's file is
        // another bench's)
        String figures = controlPath ? "control-path-bench.json" : "plan-bench.json";
        // (and the checkpoints a control-path run killed midway left in --out: removed with --overwrite)
        ReplayOutput.prepare(cl, out, overwrite, n -> n.equals(figures)
                || controlPath && n.startsWith(io.keyshift.jobs.bench.ControlPathBench.CHECKPOINTS_PREFIX));
        if (controlPath) {
            ObjectNode json = io.keyshift.jobs.bench.ControlPathBench.run(maxParallelism, keys,
                    java.time.Duration.ofMinutes(1), windows, 64, windowsPerCheckpoint, out, System.err);
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValue(out.resolve("control-path-bench.json").toFile(), json);
            System.out.printf("control path: %,d series (%,d keys, %,d key groups), 1-minute windows, %,d windows; "
                            + "forecast %.1f ms per window (median of the last quarter; p95 %.1f), plan %.1f ms "
                            + "(p95 %.1f); forecaster engine %,d bytes (%.0f per series), planner %,d bytes%n",
                    json.get("series").asInt(), keys, maxParallelism, windows, json.get("forecast_ms_median").asDouble(),
                    json.get("forecast_ms_p95").asDouble(), json.get("plan_ms_median").asDouble(),
                    json.get("plan_ms_p95").asDouble(), json.get("forecaster_engine_bytes").asLong(),
                    json.get("engine_bytes_per_series").asDouble(), json.get("planner_state_bytes").asLong());
            System.out.printf("checkpoints (RocksDB, incremental, %d windows released per checkpoint): %d "
                            + "completed; uploaded per checkpoint %,.0f bytes (median of the last quarter; p95 %,.0f, "
                            + "max of all %,.0f), %,d in total; full state at the last one %,d bytes%n", windowsPerCheckpoint,
                    json.get("checkpoints_completed").asInt(), json.get("checkpointed_bytes_median").asDouble(),
                    json.get("checkpointed_bytes_p95").asDouble(), json.get("checkpointed_bytes_max").asDouble(),
                    json.get("checkpointed_bytes_total").asLong(), json.get("state_bytes_last").asLong());
            System.out.println("control-path-bench.json: " + out.resolve("control-path-bench.json"));
            return 0;
        }
        int[] units = quick ? new int[] {1_000, 100_000} : new int[] {1_000, 100_000, 1_000_000};
        ObjectNode json = PlanBench.run(new double[] {0.8, 1.0, 1.2, 1.5}, units, new int[] {8, 64, 256, 1024},
                repeats, System.out);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("plan-bench.json").toFile(), json);
        System.out.println("plan-bench.json: " + out.resolve("plan-bench.json"));
        return 0;
    }
}
