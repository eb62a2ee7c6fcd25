package io.keyshift.jobs.cli;

import io.keyshift.jobs.bench.PlanBench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code keyshift plan-bench}: planner quality and speed on seeded synthetic instances. */
@Command(name = "plan-bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Plans seeded synthetic instances (Zipf exponents 0.8-1.5; 1k, 100k and 1M units; 8, 64, 256 "
                + "and 1024 subtasks; with and without hot-key splitting) from the hash assignment and writes "
                + "DIR/plan-bench.json: imbalance, lower bound, units moved and median planning time per instance, "
                + "and the units moved after a 5%% change of load."})
public final class PlanBenchCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", defaultValue = "plan-bench-out", paramLabel = "DIR",
            description = "Output directory. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--repeats", defaultValue = "3", paramLabel = "N",
            description = "Runs per instance; the median time is reported. Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--quick", description = "Only 1k and 100k units (skips the 1M-unit instances).")
    boolean quick;

    @Override
    public Integer call() throws Exception {
        if (repeats < 1) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--repeats must be >= 1");
        }
        FlinkOptions.outputDirectory(spec.commandLine(), "--out", out);
        int[] units = quick ? new int[] {1_000, 100_000} : new int[] {1_000, 100_000, 1_000_000};
        ObjectNode json = PlanBench.run(new double[] {0.8, 1.0, 1.2, 1.5}, units, new int[] {8, 64, 256, 1024},
                repeats, System.out);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("plan-bench.json").toFile(), json);
        System.out.println("plan-bench.json: " + out.resolve("plan-bench.json"));
        return 0;
    }
}
