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

    @Option(names = "--dir", paramLabel = "DIR", description = "Run directory of bin/keyshift cluster (for the address).")
    Path dir;

    /**
     * A REST client of the cluster, checked with one request ({@code GET /config}, 5 s to connect);
     * ParameterException (exit 2) if no address is known, it is not a URL, or nothing there answers as Flink's REST API.
     */
    FlinkRest client(CommandLine cl) {
        String address;
        if (rest != null) {
            address = rest;
        } else {
            StandaloneCluster.Status st = StandaloneCluster.status((dir != null ? dir : ClusterCommand.defaultRunDir())
                    .toAbsolutePath());
            if (st.restAddress() == null) {
                throw new ParameterException(cl, "no --rest given and no cluster started by bin/keyshift cluster start");
            }
            address = st.restAddress();
        }
        FlinkRest api;
        try {
            api = new FlinkRest(address);
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
