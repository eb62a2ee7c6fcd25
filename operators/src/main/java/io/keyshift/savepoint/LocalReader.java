package io.keyshift.savepoint;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.util.Map;

/**
 * The environment that reads or writes a savepoint with the State Processor API. Outside a cluster's client (the
 * command line's {@code inspect-savepoint} and {@code bootstrap}, a user's tool) that is a local MiniCluster, which
 * with Flink's defaults serves its REST endpoint (with jar upload) and its blob server on every network interface of
 * the machine; reading a file needs neither to be reachable from elsewhere: they listen on 127.0.0.1, jar upload off.
 */
final class LocalReader {
    /** Flink options of the local environment (each left as {@code getExecutionEnvironment} would merge it). */
    static final Map<String, String> LOOPBACK = Map.of(
            "rest.bind-address", "127.0.0.1", "rest.address", "127.0.0.1",
            "jobmanager.bind-host", "127.0.0.1", "taskmanager.bind-host", "127.0.0.1", "taskmanager.host", "127.0.0.1",
            "web.submit.enable", "false");

    private LocalReader() {}

    /**
     * {@code StreamExecutionEnvironment.getExecutionEnvironment()}; where that is a local environment, a local one
     * with {@link #LOOPBACK}. A client's context environment (under {@code flink run}, a test's MiniCluster) is left
     * as it is: the options laid over it would send the job to 127.0.0.1 instead of the cluster.
     */
    static StreamExecutionEnvironment environment() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        return env instanceof org.apache.flink.streaming.api.environment.LocalStreamEnvironment
                ? StreamExecutionEnvironment.createLocalEnvironment(Configuration.fromMap(LOOPBACK)) : env;
    }
}
