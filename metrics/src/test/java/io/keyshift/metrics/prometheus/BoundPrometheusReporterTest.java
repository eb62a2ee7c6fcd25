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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
            // the kernel's table of the listening TCP sockets (Linux): the port is held on 127.0.0.1, in IPv4's
            // table or as IPv6's v4-mapped ::ffff:127.0.0.1, and on no wildcard address (zeros: 0.0.0.0 or ::)
            org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/net/tcp")),
                    "needs Linux's /proc/net/tcp");
            List<String> addresses = listeningAddresses(port);
            assertThat(addresses).containsAnyOf("0100007F", "0000000000000000FFFF00000100007F")
                    .noneMatch(a -> a.chars().allMatch(ch -> ch == '0'));
        } finally {
            r.close();
        }
    }

    /**
     * config.yaml is typed YAML: {@code port: 9300} reaches the factory as an Integer, which Properties#getProperty
     * does not return (the default port was taken without a word).
     */
    @Test
    void aPortGivenAsANumberIsTaken() throws Exception {
        int port = freePort();
        Properties p = new Properties();
        p.put("port", port);
        BoundPrometheusReporter r = new BoundPrometheusReporterFactory().createMetricReporter(p);
        try {
            assertThat(r.address()).isEqualTo("127.0.0.1:" + port);
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

    /**
     * The local addresses (hex, as in {@code /proc/net/tcp}: 0100007F is 127.0.0.1,
     * 00000000 is 0.0.0.0) on which this process listens on
     * {@code port}, IPv4 and IPv6 (Linux only).
     */
    private static List<String> listeningAddresses(int port) throws java.io.IOException {
        List<String> out = new ArrayList<>();
        String hexPort = String.format("%04X", port);
        for (String table : List.of("/proc/self/net/tcp", "/proc/self/net/tcp6")) {
            Path path = Path.of(table);
            if (!Files.exists(path)) {
                continue;
            }
            for (String line : Files.readAllLines(path)) {
                String[] f = line.trim().split("\\s+");
                // sl local_address rem_address st ...; st 0A is LISTEN
                if (f.length > 3 && f[1].endsWith(":" + hexPort) && f[3].equals("0A")) {
                    out.add(f[1].substring(0, f[1].indexOf(':')));
                }
            }
        }
        return out;
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
