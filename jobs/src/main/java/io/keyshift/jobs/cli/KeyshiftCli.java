package io.keyshift.jobs.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code bin/keyshift}. */
@Command(name = "keyshift",
        mixinStandardHelpOptions = true,
        version = "keyshift 0.1.0 (Apache Flink 2.3.0)",
        description = "Predictive key repartitioning for Apache Flink jobs.",
        subcommands = {ReplayCommand.class, ForecastBenchCommand.class, PlanBenchCommand.class, BenchCommand.class,
            ClusterCommand.class, SubmitCommand.class, StopJobCommand.class, InspectSavepointCommand.class, BootstrapCommand.class,
            AutoscaleCommand.class,
            CommandLine.HelpCommand.class})
public final class KeyshiftCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new KeyshiftCli()).execute(args));
    }
}
