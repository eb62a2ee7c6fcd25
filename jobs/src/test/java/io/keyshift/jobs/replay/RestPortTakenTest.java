package io.keyshift.jobs.replay;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** The replay tries another web UI port only when the local cluster could not bind the one it was given. */
class RestPortTakenTest {
    @Test
    void aTakenRestPortIsRecognisedAndOtherFailuresAreNot() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Configuration conf = new Configuration();
            conf.set(RestOptions.PORT, taken.getLocalPort());
            conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
            MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setConfiguration(conf)
                    .setNumTaskManagers(1).setNumSlotsPerTaskManager(1).build());
            Throwable e = catchThrowable(cluster::start);
            cluster.close();
            assertThat(e).isNotNull();
            assertThat(ReplayRunner.restPortTaken(e)).as(String.valueOf(e)).isTrue();
        }
        assertThat(ReplayRunner.restPortTaken(new RuntimeException("job failed", new java.io.IOException("disk full"))))
                .isFalse();
    }
}
