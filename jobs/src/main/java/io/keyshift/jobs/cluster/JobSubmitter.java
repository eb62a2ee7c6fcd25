package io.keyshift.jobs.cluster;

import org.apache.flink.api.common.JobID;
import org.apache.flink.client.deployment.StandaloneClusterId;
import org.apache.flink.client.program.PackagedProgram;
import org.apache.flink.client.program.PackagedProgramUtils;
import org.apache.flink.client.program.rest.RestClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * Submits a job jar the way Flink's {@code flink run} does: the program's {@code main} runs here, in the client,
 * to build the job graph; the graph and the jar go to the cluster's REST API ({@code POST /jobs}, the blob server),
 * which needs no web jar upload ({@code web.submit.enable} stays off). The program's argument checks (a refused
 * {@code --out}, a bad option) therefore fail here, before anything reaches the cluster.
 */
public final class JobSubmitter {
    /** How long a submission waits for the cluster to take the job (its jar uploaded, its graph accepted). */
    static final java.time.Duration SUBMIT_TIMEOUT = java.time.Duration.ofMinutes(10);

    private JobSubmitter() {}

    /**
     * The program built its job graph, and submitting it failed: the cluster refused it, or the answer did not come
     * (the cluster may run it all the same: ask it for {@link #jobId()}). The cause is the client's exception.
     */
    public static final class NotSubmitted extends Exception {
        private static final long serialVersionUID = 1L;
        private final String jobId;

        NotSubmitted(String jobId, Throwable cause) {
            super("the cluster did not take the job: " + innermost(cause), cause);
            this.jobId = jobId;
        }

        /**
         * "Class: message" of the innermost cause (Flink's outer ones say only "Failed to submit ..."); a message of
         * several lines (a REST error's, which carries the server's stack trace: "[<Exception on server side: ...",
         * "[...RestHandlerException: ...\n\tat ...]") as the message of its innermost cause, in one line.
         */
        public static String innermost(Throwable e) {
            Throwable t = e;
            while (t.getCause() != null && t.getCause() != t) {
                t = t.getCause();
            }
            String m = String.valueOf(t.getMessage()).strip();
            if (m.lines().count() > 1) {
                if (m.startsWith("[") && m.endsWith("]")) {
                    m = m.substring(1, m.length() - 1).strip();
                }
                if (m.startsWith("<Exception on server side:")) {
                    m = m.substring(m.indexOf('\n') + 1);
                }
                m = FlinkRest.innermostCause(m);
            }
            return t.getClass().getSimpleName() + ": " + m;
        }

        /** The id the job graph carries (32 hex digits). */
        public String jobId() {
            return jobId;
        }
    }

    /**
     * Builds the job graph of {@code entryClass} in {@code jar} with {@code args} and submits it.
     *
     * @param restBase the cluster's REST address, {@code http://host[:port]} or {@code https://host[:port]} (TLS
     *                 with the trust store of {@code conf}'s {@code security.ssl.rest.*} options)
     * @param conf the client's configuration (config.yaml and -D options); the program sees it as its environment's
     * @param savepoint a savepoint or retained checkpoint to restore from, or null
     * @return the job id
     * @throws org.apache.flink.client.program.ProgramInvocationException if the program fails while building its graph
     * @throws NotSubmitted if the graph was built and its submission failed
     */
    public static String submit(String restBase, Path jar, String entryClass, List<String> args, Configuration conf,
                                String savepoint, boolean allowNonRestoredState) throws Exception {
        return submit(restBase, jar, entryClass, args, conf, savepoint, allowNonRestoredState, () -> { });
    }

    /**
     * As above; {@code graphBuilt} runs once the program has built its graph (its main has returned) and before the
     * graph is sent.
     */
    public static String submit(String restBase, Path jar, String entryClass, List<String> args, Configuration conf,
                                String savepoint, boolean allowNonRestoredState, Runnable graphBuilt)
            throws Exception {
        Configuration c = new Configuration(conf);
        URI rest = URI.create(restBase);
        boolean https = "https".equalsIgnoreCase(rest.getScheme());
        c.set(RestOptions.ADDRESS, rest.getHost());
        // a URL without a port means the scheme's (a Service or load balancer on 80 or 443)
        c.set(RestOptions.PORT, rest.getPort() >= 0 ? rest.getPort() : https ? 443 : 80);
        if (https) {
            c.set(org.apache.flink.configuration.SecurityOptions.SSL_REST_ENABLED, true);
        }
        SavepointRestoreSettings restore = savepoint == null ? SavepointRestoreSettings.none()
                : SavepointRestoreSettings.forPath(savepoint, allowNonRestoredState);
        SavepointRestoreSettings.toConfiguration(restore, c);
        PackagedProgram program = PackagedProgram.newBuilder().setJarFile(jar.toFile()).setEntryPointClassName(entryClass)
                .setArguments(args.toArray(String[]::new)).setConfiguration(c).setSavepointRestoreSettings(restore).build();
        try {
            JobGraph graph = PackagedProgramUtils.createJobGraph(program, c, c.get(CoreOptions.DEFAULT_PARALLELISM), false);
            graphBuilt.run();
            try (RestClusterClient<StandaloneClusterId> client = new RestClusterClient<>(c, StandaloneClusterId.getInstance())) {
                JobID id = client.submitJob(graph).get(SUBMIT_TIMEOUT.toMinutes(),
                        java.util.concurrent.TimeUnit.MINUTES);
                return id.toHexString();
            } catch (java.util.concurrent.TimeoutException e) {
                // Flink's client retries a JobManager that takes the connection and does not answer (its idleness
                // timeout, 5 min, some 20 times): about 100 minutes without a word
                throw new NotSubmitted(graph.getJobID().toHexString(), new java.io.IOException("the cluster at "
                        + rest + " did not take the job within " + SUBMIT_TIMEOUT.toMinutes() + " minutes", e));
            } catch (Exception e) {
                throw new NotSubmitted(graph.getJobID().toHexString(), e);
            }
        } finally {
            program.close();
        }
    }
}
