package io.keyshift.metrics.prometheus;

import org.apache.flink.metrics.CharacterFilter;
import org.apache.flink.metrics.LogicalScopeProvider;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BoundPrometheusReporterTest {

    @Test
    void servesFlinksMetricsOnLoopbackOnly() throws Exception {
        int port = freePort();
        Properties p = new Properties();
        p.setProperty("port", Integer.toString(port));
        BoundPrometheusReporter r = new BoundPrometheusReporterFactory().createMetricReporter(p);
        try {
            r.open(new MetricConfig());
            SimpleCounter c = new SimpleCounter();
            c.inc(42);
            r.notifyOfAddedMetric(c, "keyshiftTestCounter", new OperatorScope());
            assertThat(r.address()).isEqualTo("127.0.0.1:" + port);
            HttpResponse<String> resp = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(resp.statusCode()).isEqualTo(200);
            assertThat(resp.body()).contains("keyshift_test_keyshiftTestCounter").contains("42.0");
            // the reporter holds the port on 127.0.0.1
            assertThatThrownBy(() -> new ServerSocket(port, 1, InetAddress.getLoopbackAddress()).close())
                    .isInstanceOf(java.io.IOException.class);
        } finally {
            r.close();
        }
    }

    @Test
    void anUnbindableRangeFailsNamingHostAndRange() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Properties p = new Properties();
            p.setProperty("port", Integer.toString(taken.getLocalPort()));
            assertThatThrownBy(() -> new BoundPrometheusReporterFactory().createMetricReporter(p))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("127.0.0.1").hasMessageContaining(Integer.toString(taken.getLocalPort()));
        }
    }

    /** A metric group with the logical scope Flink's reporter names metrics by ("keyshift_test"). */
    private static final class OperatorScope extends UnregisteredMetricsGroup implements LogicalScopeProvider {
        @Override
        public String getLogicalScope(CharacterFilter filter) {
            return getLogicalScope(filter, '.');
        }

        @Override
        public String getLogicalScope(CharacterFilter filter, char delimiter) {
            return "keyshift" + delimiter + "test";
        }

        @Override
        public MetricGroup getWrappedMetricGroup() {
            return this;
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
