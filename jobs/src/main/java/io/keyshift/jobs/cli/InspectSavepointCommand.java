package io.keyshift.jobs.cli;

import io.keyshift.config.JobOptions;
import io.keyshift.jobs.savepoint.SavepointInspector;
import io.keyshift.jobs.replay.Strategy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code keyshift inspect-savepoint PATH [--json]}: what a keyshift savepoint holds (State Processor API). */
@Command(name = "inspect-savepoint", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Reads a keyshift job's savepoint with Flink's State Processor API and prints the current",
            "routing plan (version, lease, every moved unit with from/to key groups and subtasks), the forecaster's",
            "series and chosen models, and the keyed state size per key group. Pass the job's --window and -D",
            "options: the forecaster's state is decoded with the job's settings.",
            "Exit status: 0 done, 1 unreadable savepoint, 2 bad options."})
public final class InspectSavepointCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PATH", description = "Savepoint directory (file:/... or a path).")
    String path;

    @Option(names = "--json", description = "Print everything as JSON (every series and key group).")
    boolean json;

    @Option(names = "--window", paramLabel = "DURATION", defaultValue = "1h",
            description = "The job's window. Default: ${DEFAULT-VALUE}.")
    String window;

    @Option(names = "--uid-prefix", paramLabel = "PREFIX", defaultValue = "keyshift",
            description = "The uid prefix of the stage to read (KeyshiftStream#uidPrefix). Default: ${DEFAULT-VALUE}, "
                    + "the command line's.")
    String uidPrefix;

    @Mixin
    FlinkOptions flink;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        Duration w = FlinkOptions.window(cl, "--window", window);
        Configuration conf = flink.load(cl, w);
        int maxP = conf.getOptional(PipelineOptions.MAX_PARALLELISM).orElse(conf.get(JobOptions.DEFAULT_MAX_PARALLELISM));
        var settings = io.keyshift.config.KeyshiftConfig.forecastSettings(conf, maxP);
        String p = path.contains(":") ? path : java.nio.file.Path.of(path).toAbsolutePath().toUri().toString();
        // a failure ends as every command's does: one line with the root cause (KeyshiftCli), the trace in a file
        if (!path.contains(":")) {
            // Flink's metadata reader on an empty or short file says only "EOFException: null"
            java.nio.file.Path local = java.nio.file.Path.of(path);
            java.nio.file.Path metadata = java.nio.file.Files.isDirectory(local) ? local.resolve("_metadata") : local;
            if (java.nio.file.Files.isRegularFile(metadata) && java.nio.file.Files.size(metadata) < Integer.BYTES) {
                throw new ParameterException(cl, path + " is not a Flink savepoint or checkpoint: its metadata "
                        + metadata + " has " + java.nio.file.Files.size(metadata) + " bytes");
            }
        }
        ObjectNode r = SavepointInspector.inspect(p, settings, uidPrefix);
        if (json) {
            System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(r));
        } else {
            SavepointInspector.print(r, System.out);
        }
        return 0;
    }
}
