package io.keyshift.jobs.cli;

import io.keyshift.jobs.cluster.Autoscaler;
import io.keyshift.jobs.cluster.FlinkRest;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.List;

/** {@code keyshift autoscale JOB_ID}: applies the job's scaling decisions through the adaptive scheduler. */
@Command(name = "autoscale",
        header = "Applies a running job's scaling decisions to the cluster through Flink's REST API.",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Applies a running job's scaling decisions (keyshift.scaling.*) through Flink's REST API:",
            "polls the job's keyshiftScalingParallelism metric and, when it differs from the job's resource",
            "requirements, PUTs /jobs/JOB_ID/resource-requirements with the decided parallelism as the upper bound",
            "of the job's parallel vertices. The cluster must run the adaptive scheduler",
            "(bin/keyshift cluster start -D jobmanager.scheduler=adaptive), which then rescales the job from its",
            "latest checkpoint. Runs until the job ends (or once, with --once).",
            "Exit status: 0 the job finished (or --once done while it runs), 1 the job failed or was canceled,",
            "or autoscaling failed, 2 bad options or a job it cannot scale (one at parallelism 1, or without",
            "keyshift's scaling stage: keyshift.scaling.capacity unset)."})
public final class AutoscaleCommand implements java.util.concurrent.Callable<Integer> {
    /**
     * Why the cluster refused a rescale for good, or null for an error that may pass: an HTTP 4xx answer but 404 (a
     * request Flink refuses as it is), or Flink's refusals of the adaptive scheduler in reactive mode and of a
     * parallelism beyond the job's maximum (HTTP 500).
     */
    static String cannotScale(java.io.IOException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("reactive mode") || m.contains("exceeds its maximum parallelism")
                || e instanceof io.keyshift.jobs.cluster.FlinkRest.HttpStatusException h && h.status() >= 400
                && h.status() < 500 && h.status() != 404 && h.status() != 408 && h.status() != 429) {
            return "the cluster refused to rescale the job: " + m;
        }
        return null;
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "JOB_ID", description = "The job to scale.")
    String jobId;

    @Option(names = "--interval", paramLabel = "DURATION", defaultValue = "10s",
            description = "Time between two polls, Flink duration syntax. Default: ${DEFAULT-VALUE}.")
    String interval;

    @Option(names = "--once", description = "Poll and apply once, then exit.")
    boolean once;

    /** Consecutive failed polls (REST errors after the job was seen) before the autoscaler gives up. */
    static final int MAX_FAILURES = 30;

    @CommandLine.Mixin
    ClusterAddressOptions cluster;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        FlinkOptions.jobId(cl, "JOB_ID", jobId);
        // at most 100 years (FlinkOptions): its milliseconds overflowed only after the first step, which may already
        // have rescaled the job
        Duration every = FlinkOptions.positive(cl, "--interval", interval);
        if (every.getNano() % 1_000_000 != 0) {
            // polled in whole milliseconds: 500us was a poll every millisecond, 1500us one every millisecond too
            throw new picocli.CommandLine.ParameterException(cl, "--interval " + interval + " must be whole "
                    + "milliseconds");
        }
        FlinkRest api = cluster.client(cl);
        Autoscaler scaler = new Autoscaler(api, jobId);
        int failures = 0;
        while (true) {
            Autoscaler.Step s;
            try {
                s = scaler.step();
                failures = 0;
            } catch (IllegalStateException e) {
                // a cluster whose scheduler cannot rescale a running job: a job it cannot scale (exit 2, as --help
                // says; it was 1)
                cl.getErr().println("keyshift autoscale: " + e.getMessage());
                cl.getErr().flush();
                return 2;
            } catch (java.io.IOException e) {
                String cannot = cannotScale(e);
                if (cannot != null) {
                    // refused for good (the adaptive scheduler in reactive mode, a parallelism beyond the job's
                    // maximum, a request Flink refuses): retrying it 30 times said "retrying" for minutes
                    cl.getErr().println("keyshift autoscale: " + cannot);
                    cl.getErr().flush();
                    return 2;
                }
                // once the job was seen, a REST error is taken for a passing one (a JobManager failover, a job
                // recovering): retried for MAX_FAILURES intervals; the first step's error is the user's (a wrong id)
                if (once || !scaler.seen() || ++failures > MAX_FAILURES
                        || e instanceof io.keyshift.jobs.cluster.FlinkRest.HttpStatusException h && h.status() == 404) {
                    // (a job the cluster no longer knows does not come back: a JobManager restarted without HA)
                    throw e;
                }
                System.out.printf("%s autoscale %s: %s; retrying (%d of %d)%n",
                        LocalTime.now().truncatedTo(ChronoUnit.SECONDS), jobId, e.getMessage(), failures, MAX_FAILURES);
                Thread.sleep(Math.max(1, every.toMillis()));
                continue;
            }
            System.out.printf("%s autoscale %s: %s%n", LocalTime.now().truncatedTo(ChronoUnit.SECONDS), jobId, s.message());
            if (s.state().equals("FAILED") || s.state().equals("CANCELED")) {
                // a supervising script must tell a job that failed from one that finished
                String cause = "";
                if (s.state().equals("FAILED")) {
                    try {
                        cause = api.rootCause(jobId);
                    } catch (java.io.IOException e) {
                        // the JobManager gone after the job failed: the state alone
                    }
                }
                cl.getErr().println("keyshift autoscale: job " + jobId + " is " + s.state()
                        + (cause.isBlank() ? "" : ": " + cause));
                cl.getErr().flush();
                return 1;
            }
            if (s.cannotAct() && s.state().equals("RUNNING")) {
                // the same line every interval for as long as the job runs, and exit 0 at its end: said once
                cl.getErr().println("keyshift autoscale: " + s.message());
                cl.getErr().flush();
                return 2;
            }
            if (once || s.state().equals("FINISHED")) {
                return 0;
            }
            Thread.sleep(Math.max(1, every.toMillis()));
        }
    }
}
