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

    /** A REST client of the cluster; ParameterException (exit 2) if no address is known. */
    FlinkRest client(CommandLine cl) {
        if (rest != null) {
            return new FlinkRest(rest);
        }
        StandaloneCluster.Status st = StandaloneCluster.status((dir != null ? dir : ClusterCommand.defaultRunDir()).toAbsolutePath());
        if (st.restAddress() == null) {
            throw new ParameterException(cl, "no --rest given and no cluster started by bin/keyshift cluster start");
        }
        return new FlinkRest(st.restAddress());
    }
}
