package io.keyshift.jobs.cli;

import io.keyshift.jobs.cluster.FlinkRest;
import io.keyshift.jobs.cluster.StandaloneCluster;

import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.nio.file.Path;

/** Where the cluster's REST API is (picocli mixin): {@code --rest URL}, or the cluster {@code cluster start} recorded. */
public final class ClusterAddressOptions {
    @Option(names = "--rest", paramLabel = "URL",
            description = "REST address of the cluster. Default: the one bin/keyshift cluster start recorded.")
    String rest;

    @Option(names = "--dir", paramLabel = "DIR", description = "Run directory of bin/keyshift cluster (for the address); not with --rest.")
    Path dir;

    /**
     * Why Flink's client cannot submit to {@code address} (null if it can): it takes a scheme, a host and a port, not
     * a path below them (an ingress prefix), which the job's submission would lose.
     */
    static String unusable(String address) {
        java.net.URI u;
        try {
            u = java.net.URI.create(address);
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (u.getScheme() != null && !u.getScheme().equals("http") && !u.getScheme().equals("https")) {
            return "Flink's REST API is reached by http:// or https://, not " + u.getScheme() + "://";
        }
        if (u.getRawPath() != null && !u.getRawPath().isEmpty() && !u.getRawPath().equals("/")
                || u.getRawQuery() != null) {
            return "give the REST API's own address, scheme://host:port, without a path or query (Flink's client "
                    + "submits jobs at the root of it)";
        }
        return null;
    }

    /**
     * A REST client of the cluster, checked with one request ({@code GET /config}, 5 s to connect);
     * ParameterException (exit 2) if no address is known, it is not a URL, or nothing there answers as Flink's REST API.
     */
    FlinkRest client(CommandLine cl) {
        org.apache.flink.configuration.Configuration conf;
        try {
            conf = FlinkConfig.loadWithoutWindow(FlinkConfig.defaultConfDir(), java.util.Map.of());
        } catch (IllegalArgumentException e) {
            if (rest != null && rest.regionMatches(true, 0, "https:", 0, 6)) {
                // its REST trust store is read from there: the JDK's CAs alone would be a silent fallback
                String file = FlinkConfig.defaultConfDir().resolve("config.yaml").toString();
                throw new ParameterException(cl, (e.getMessage().contains(file) ? "" : file + ": ")
                        + e.getMessage() + " (the REST trust store of an https --rest is read from it)");
            }
            // (the default config.yaml is only read for the REST trust store here)
            conf = null;
        }
        return client(cl, conf);
    }

    /**
     * The client of the cluster, checked to answer ({@code GET /config}); an https address is verified with the REST
     * trust store {@code conf} sets (config.yaml: {@code security.ssl.rest.truststore}, as Flink's own client).
     */
    FlinkRest client(CommandLine cl, org.apache.flink.configuration.Configuration conf) {
        if (rest != null && dir != null) {
            // --rest won, and the cluster --dir named was silently not the one asked
            throw new ParameterException(cl, "--rest and --dir both name the cluster: give one");
        }
        String address;
        if (rest != null) {
            address = rest;
        } else {
            java.nio.file.Path run = (dir != null ? dir : ClusterCommand.defaultRunDir()).toAbsolutePath();
            StandaloneCluster.Status st = StandaloneCluster.status(run);
            if (st.restAddress() == null) {
                throw new ParameterException(cl, "no --rest given and no cluster started by bin/keyshift cluster start");
            }
            if (st.jobManager() == null || !st.jobManager().alive()) {
                // the record of a cluster since stopped: whatever listens on its port now (another Flink on 8081)
                // would have been given the job, the savepoint or the rescale
                throw new ParameterException(cl, "no --rest given, and the cluster recorded in " + run + " is not "
                        + "running (its JobManager" + (st.jobManager() == null ? ""
                        : ", PID " + st.jobManager().pid() + ",") + " has ended): start it with bin/keyshift cluster "
                        + "start, or give --rest");
            }
            address = st.restAddress();
        }
        String unusable = unusable(address);
        if (unusable != null) {
            throw new ParameterException(cl, (rest != null ? "--rest: " : "") + address + ": " + unusable);
        }
        FlinkRest api;
        try {
            api = new FlinkRest(address, conf);
        } catch (IllegalArgumentException e) {
            // the trust store or key store of config.yaml
            throw new ParameterException(cl, "config.yaml: " + e.getMessage());
        }
        try {
            api.get("/config");
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--rest: not a URL: " + address + " (" + e.getMessage() + ")");
        } catch (java.io.IOException e) {
            throw new ParameterException(cl, (rest != null ? "--rest: " : "") + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ParameterException(cl, "interrupted while reaching " + address);
        }
        return api;
    }
}
