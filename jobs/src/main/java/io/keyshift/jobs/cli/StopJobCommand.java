package io.keyshift.jobs.cli;

import io.keyshift.jobs.cluster.FlinkRest;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code keyshift savepoint JOB_ID}: stop-with-savepoint through the REST API; prints the savepoint's path. */
@Command(name = "savepoint",
        header = "Stops a running job with a savepoint and prints its path.",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Stops a running job with a savepoint (Flink's stop-with-savepoint: the savepoint, the sinks'",
            "commit and the stop are one step, so nothing is lost or written twice) and prints the savepoint path.",
            "Restore with bin/keyshift submit --from-savepoint PATH -- JOB_ARGS.",
            "Exit status: 0 done, 1 failed, 2 bad options."})
public final class StopJobCommand implements java.util.concurrent.Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "JOB_ID", description = "The job to stop.")
    String jobId;

    @Option(names = "--target", paramLabel = "DIR",
            description = "Savepoint directory. Default: the cluster's execution.checkpointing.savepoint-dir.")
    String target;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "5min",
            description = "How long to wait for the savepoint (Flink duration). On timeout it goes on at the cluster, "
                    + "and the message says where to ask for its location. Default: ${DEFAULT-VALUE}.")
    String timeout;

    @CommandLine.Mixin
    ClusterAddressOptions cluster;

    @Override
    public Integer call() throws Exception {
        FlinkOptions.jobId(spec.commandLine(), "JOB_ID", jobId);
        Duration wait = FlinkOptions.positive(spec.commandLine(), "--timeout", timeout);
        if (target != null && target.isBlank()) {
            // an unset shell variable: the savepoint went to this command's working directory, not the cluster's
            // savepoint directory that the default names
            throw new CommandLine.ParameterException(spec.commandLine(), "--target is empty: give a directory, or "
                    + "leave the option out for the cluster's execution.checkpointing.savepoint-dir");
        }
        FlinkRest api = cluster.client(spec.commandLine());
        // a relative path would be resolved in the JobManager's working directory, not in this one
        String location = api.stopWithSavepoint(jobId, FlinkOptions.forCluster(spec.commandLine(), "--target", target,
                cluster.rest == null), wait, status -> KeyshiftCli.underway("job " + jobId + " stops with a "
                        + "savepoint, which goes on at the cluster: GET " + status + " tells where it is"));
        KeyshiftCli.result("job " + jobId + " stopped with a savepoint at " + location);
        System.out.println(location);
        return 0;
    }
}
