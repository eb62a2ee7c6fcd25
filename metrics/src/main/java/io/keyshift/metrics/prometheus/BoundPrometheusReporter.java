package io.keyshift.metrics.prometheus;

import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.HTTPServer;
import org.apache.flink.metrics.prometheus.AbstractPrometheusReporter;
import org.apache.flink.util.PortRange;

import java.io.IOException;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.util.Iterator;

/**
 * Flink's Prometheus reporter ({@code PrometheusReporter}: the same metric names, labels and {@code /metrics}
 * endpoint) with its HTTP server bound to one address instead of every interface of the machine. Flink 2.3's
 * reporter has a {@code port} option but no host option.
 *
 * <p>The metric registry is the one {@link AbstractPrometheusReporter} fills (a package-private field, read once by
 * reflection); a Flink version that renames it fails here, when the reporter opens, naming the field.
 */
public final class BoundPrometheusReporter extends AbstractPrometheusReporter {
    private final HTTPServer server;
    private final String host;
    private final int port;

    /**
     * Binds the first free port of {@code ports} on {@code host}.
     *
     * @throws IllegalStateException if no port of the range can be bound on {@code host}
     */
    BoundPrometheusReporter(String host, PortRange ports) {
        CollectorRegistry registry = registry(this);
        HTTPServer bound = null;
        int boundPort = -1;
        IOException last = null;
        for (Iterator<Integer> it = ports.getPortsIterator(); it.hasNext() && bound == null; ) {
            int p = it.next();
            try {
                bound = new HTTPServer(new InetSocketAddress(host, p), registry, true);
                boundPort = p;
            } catch (IOException e) {
                last = e;
            }
        }
        if (bound == null) {
            throw new IllegalStateException("the Prometheus reporter could not bind any port of " + ports + " on "
                    + host + (last != null ? ": " + last.getMessage() : ""), last);
        }
        this.server = bound;
        this.host = host;
        this.port = boundPort;
        log.debug("Started the Prometheus reporter's HTTP server on {}:{}.", host, boundPort);
    }

    /** The bound address, host:port. */
    public String address() {
        return host + ":" + port;
    }

    int port() {
        return port;
    }

    @Override
    public void close() {
        server.stop();
        super.close();
    }

    private static CollectorRegistry registry(AbstractPrometheusReporter reporter) {
        try {
            Field f = AbstractPrometheusReporter.class.getDeclaredField("registry");
            f.setAccessible(true);
            return (CollectorRegistry) f.get(reporter);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("this Flink version's AbstractPrometheusReporter has no field 'registry' "
                    + "(keyshift-metrics was built for Flink 2.3): use Flink's PrometheusReporterFactory instead", e);
        }
    }
}
