package io.keyshift.metrics.prometheus;

import org.apache.flink.metrics.reporter.MetricReporterFactory;
import org.apache.flink.util.PortRange;

import java.util.Properties;

/**
 * Creates a {@link BoundPrometheusReporter}. Options (under {@code metrics.reporter.<name>.}):
 * <ul>
 *   <li>{@code port}: a port or range, e.g. {@code 9250-9270}; the first free one is bound. Default 9249, as Flink's.
 *   <li>{@code host}: the address to bind. Default {@code 127.0.0.1}; {@code 0.0.0.0} listens on every interface,
 *       as Flink's own reporter does.
 * </ul>
 * Example config.yaml: {@code metrics.reporter.prom.factory.class: io.keyshift.metrics.prometheus.BoundPrometheusReporterFactory}.
 */
public final class BoundPrometheusReporterFactory implements MetricReporterFactory {
    /** Option: port or port range. */
    public static final String ARG_PORT = "port";
    /** Option: bind address. */
    public static final String ARG_HOST = "host";
    /** Default port, Flink's. */
    public static final String DEFAULT_PORT = "9249";
    /** Default bind address. */
    public static final String DEFAULT_HOST = "127.0.0.1";

    @Override
    public BoundPrometheusReporter createMetricReporter(Properties properties) {
        // config.yaml is typed YAML: "port: 9300" arrives as an Integer, which Properties#getProperty does not return
        String host = option(properties, ARG_HOST, DEFAULT_HOST);
        String ports = option(properties, ARG_PORT, DEFAULT_PORT);
        if (host.isEmpty()) {
            throw new IllegalArgumentException("metrics reporter option 'host' is empty");
        }
        return new BoundPrometheusReporter(host, new PortRange(ports));
    }

    /** The option {@code key} as text (a number or text in config.yaml), trimmed, or {@code otherwise} if unset. */
    private static String option(Properties properties, String key, String otherwise) {
        Object v = properties.get(key);
        return (v == null ? otherwise : String.valueOf(v)).trim();
    }
}
