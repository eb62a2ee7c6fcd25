package io.keyshift.jobs.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The soak's first and last medians leave out the -1 of a value not there yet (no latency marker through yet). */
class SoakMediansTest {
    @Test
    void aValueNotThereYetDoesNotPullTheFirstMedianDown() {
        ArrayNode samples = new ObjectMapper().createArrayNode();
        double[] p99 = {-1, 300, 310, 320, 330, 340, 350, 360, 370, 380};
        for (double v : p99) {
            samples.addObject().put("latency_p99_ms", v).put("routing_table_entries", 5).put("waiting_records", 0)
                    .putObject("checkpoint").put("state_size", 1000);
        }
        // ten samples a minute apart: the first and last two each (a fifth of the run)
        var firstVsLast = Soak.firstVsLast(samples, Duration.ofMinutes(1));
        assertThat(firstVsLast.at("/latency_p99_ms/last").asDouble()).isEqualTo(375.0);
        // the median of (-1, 300) was 149.5
        assertThat(firstVsLast.at("/latency_p99_ms/first").asDouble()).isEqualTo(300.0);
        samples.removeAll();
        samples.addObject().put("latency_p99_ms", -1);
        assertThat(Soak.firstVsLast(samples, Duration.ofMinutes(1)).at("/latency_p99_ms/first").asDouble())
                .as("no value at all: -1").isEqualTo(-1.0);
    }

    /**
     * soak.png draws a value not there yet (-1, or none: no completed checkpoint in the first minute) as a gap, not as
     * -1 or 0 MB; a series without any value as zeros (XChart draws no series of gaps only). The chart is written.
     */
    @Test
    void theChartLeavesGapsWhereAValueIsNotThereYet(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        var report = new ObjectMapper().createObjectNode();
        ArrayNode samples = report.putArray("samples");
        for (int i = 0; i < 4; i++) {
            var sm = samples.addObject().put("seconds", 60 * i).put("latency_p99_ms", i == 0 ? -1 : 300 + i)
                    .put("routing_table_entries", 5).put("waiting_records", 0);
            if (i > 0) {
                sm.putObject("checkpoint").put("state_size", 1 << 20);
            }
            sm.putObject("heap_after_gc_bytes").put("taskmanager", -1);
        }
        assertThat(Soak.values(samples, "/latency_p99_ms")).containsExactly(null, 301.0, 302.0, 303.0);
        assertThat(Soak.values(samples, "/checkpoint/state_size")).containsExactly(null, 1048576.0, 1048576.0,
                1048576.0);
        assertThat(Soak.values(samples, "/heap_after_gc_bytes/taskmanager")).containsExactly(0.0, 0.0, 0.0, 0.0);
        Soak.write(dir, report);
        assertThat(dir.resolve("soak.png")).isNotEmptyFile();
    }

    /**
     * The first and last five minutes are minutes of the samples' own times: samples meant every 5 s that came every
     * 10 s were counted as 60 each, ten minutes.
     */
    @Test
    void theFirstAndLastFiveMinutesGoByTheSamplesTimes() {
        ArrayNode samples = new ObjectMapper().createArrayNode();
        for (int i = 0; i < 360; i++) {
            samples.addObject().put("seconds", 10 * i).put("latency_p99_ms", i < 30 || i >= 330 ? 100 : 200);
        }
        var firstVsLast = Soak.firstVsLast(samples, Duration.ofSeconds(5));
        assertThat(firstVsLast.at("/latency_p99_ms/first").asDouble()).isEqualTo(100.0);
        assertThat(firstVsLast.at("/latency_p99_ms/last").asDouble()).isEqualTo(100.0);
        assertThat(firstVsLast.at("/samples_first").asInt()).isEqualTo(30);
    }

    /**
     * A sample that comes a little later than its grid time after the first did (60.1 s, then 360.0 s) is not taken
     * into the first five minutes: five samples a minute apart, not six.
     */
    @Test
    void theFirstAndLastFiveMinutesHoldFiveSamplesAMinuteApartWhateverTheirJitter() {
        ArrayNode samples = new ObjectMapper().createArrayNode();
        for (int i = 0; i < 30; i++) {
            samples.addObject().put("seconds", 60.0 * (i + 1) + (i == 0 ? 0.1 : 0)).put("latency_p99_ms", 100);
        }
        var firstVsLast = Soak.firstVsLast(samples, Duration.ofMinutes(1));
        assertThat(firstVsLast.at("/samples_first").asInt()).isEqualTo(5);
        assertThat(firstVsLast.at("/samples_last").asInt()).isEqualTo(5);
    }

    /** The heap after GC is every generation's, as jcmd GC.heap_info prints them for G1, Serial and Parallel. */
    @Test
    void theHeapIsSummedOverItsGenerations() {
        String g1 = " garbage-first heap   total 262144K, used 19929K [0x00000000f0000000, 0x0000000100000000)\n"
                + "  region size 1024K, 20 young (20480K), 0 survivors (0K)\n"
                + " Metaspace       used 9416K, committed 9600K, reserved 1114112K\n"
                + "  class space    used 949K, committed 1024K, reserved 1048576K\n";
        String serial = " def new generation   total 78656K, used 1200K [0x00000000f0000000, 0x00000000f5550000)\n"
                + "  eden space 69952K,   1% used [0x00000000f0000000, 0x00000000f4450000)\n"
                + "  from space 8704K,   0% used [0x00000000f4450000, 0x00000000f4450000)\n"
                + " tenured generation   total 174784K, used 65600K [0x00000000f5550000, 0x0000000100000000)\n"
                + "   the space 174784K,  37% used [0x00000000f5550000, 0x00000000f5550000)\n"
                + " Metaspace       used 122K, committed 320K, reserved 1114112K\n"
                + "  class space    used 3K, committed 128K, reserved 1048576K\n";
        String parallel = " PSYoungGen      total 76288K, used 2621K [0x00000000fab00000, 0x0000000100000000)\n"
                + "  eden space 65536K, 4% used [0x00000000fab00000,0x00000000fad8f5a8,0x00000000feb00000)\n"
                + " ParOldGen       total 175104K, used 65536K [0x00000000f0000000, 0x00000000fab00000)\n"
                + "  object space 175104K, 37% used [0x00000000f0000000,0x00000000f4000000,0x00000000fab00000)\n"
                + " Metaspace       used 122K, committed 320K, reserved 1114112K\n";
        assertThat(Soak.heapUsed(g1)).isEqualTo(19929L * 1024);
        assertThat(Soak.heapUsed(serial)).isEqualTo((1200L + 65600) * 1024);
        assertThat(Soak.heapUsed(parallel)).isEqualTo((2621L + 65536) * 1024);
        assertThat(Soak.heapUsed("jcmd: no such process")).isEqualTo(-1);
    }

    /**
     * A soak counts its job's restarts from the polled states (each entry into RESTARTING once) and ends past
     * {@link Soak.Restarts#MAX}: under Flink's default restart strategy a job that failed at every attempt was sampled
     * for three times the soak's duration, then said to "still run".
     */
    @Test
    void restartsAreCountedOncePerEntryIntoRestarting() {
        Soak.Restarts r = new Soak.Restarts();
        for (String state : new String[] {"CREATED", "RUNNING", "RESTARTING", "RESTARTING", "RUNNING", "RESTARTING",
                "CREATED", "RUNNING"}) {
            assertThat(r.observe(state)).isEqualTo(state);
        }
        assertThat(r.count()).isEqualTo(2);
        for (int i = 0; i < Soak.Restarts.MAX; i++) {
            r.observe("RESTARTING");
            r.observe("RUNNING");
        }
        assertThat(r.count()).isGreaterThan(Soak.Restarts.MAX);
    }

    /**
     * The JobManager's numRestarts counts where the polled states missed a restart (a job RESTARTING for about a
     * second while a sample took several): the soak said 0 restarts, and its "more than 5" stop came late.
     */
    @Test
    void restartsTheJobManagerReportsCountWhereThePolledStatesMissedThem() {
        Soak.Restarts r = new Soak.Restarts();
        r.observe("RUNNING");
        r.reported(Double.NaN);
        assertThat(r.count()).isZero();
        // two restarts between polls
        r.reported(2);
        r.observe("RUNNING");
        assertThat(r.count()).isEqualTo(2);
        // a third, seen by the states and not yet reported (the metric fetcher updates every few seconds)...
        r.observe("RESTARTING");
        r.observe("RUNNING");
        r.reported(2);
        assertThat(r.count()).isEqualTo(2);
        r.reported(3);
        assertThat(r.count()).isEqualTo(3);
        // ...and states that show more than the metric (not reported at all): counted
        Soak.Restarts states = new Soak.Restarts();
        states.observe("RESTARTING");
        states.observe("RUNNING");
        states.reported(Double.NaN);
        assertThat(states.count()).isEqualTo(1);
        r.reported(Soak.Restarts.MAX + 1);
        assertThat(r.count()).isGreaterThan(Soak.Restarts.MAX);
    }

    /** A soak that fails says how in soak.json, beside the samples it kept (it read as a run cut short). */
    @Test
    void aFailedSoakSaysSoInItsJson(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        var report = new ObjectMapper().createObjectNode();
        report.putArray("samples").addObject().put("seconds", 60);
        IllegalStateException e = Soak.failed(dir, report, "FAILED", "the soak job ended FAILED: disk full");
        assertThat(e).hasMessage("the soak job ended FAILED: disk full");
        var json = new ObjectMapper().readTree(dir.resolve("soak.json").toFile());
        assertThat(json.path("job_state").asText()).isEqualTo("FAILED");
        assertThat(json.path("failure").asText()).isEqualTo("the soak job ended FAILED: disk full");
        assertThat(json.path("samples")).hasSize(1);
    }

    /**
     * The p99 latency is scraped where the cluster's config.yaml puts its Prometheus reporters (127.0.0.1:9250-9270
     * was scraped whatever the file said, and a reporter elsewhere gave -1 in every sample without a word).
     */
    @Test
    void theLatencyIsScrapedWhereTheConfigPutsTheReporter() throws Exception {
        com.sun.net.httpserver.HttpServer server = io.keyshift.jobs.StubHttp.start("/metrics",
                exchange -> io.keyshift.jobs.StubHttp.respond(exchange, 200,
                        "flink_taskmanager_job_latency_source_id_operator_id_operator_subtask_index_latency"
                                + "{job_id=\"J\",quantile=\"0.99\",} 12.0\n"));
        try {
            int port = server.getAddress().getPort();
            org.apache.flink.configuration.Configuration conf = new org.apache.flink.configuration.Configuration();
            conf.setString("metrics.reporter.mine.factory.class",
                    "io.keyshift.metrics.prometheus.BoundPrometheusReporterFactory");
            conf.setString("metrics.reporter.mine.port", port + "-" + (port + 1));
            conf.setString("metrics.reporter.push.factory.class",
                    "org.apache.flink.metrics.prometheus.PrometheusPushGatewayReporterFactory");
            var endpoints = Soak.prometheusEndpoints(conf);
            assertThat(endpoints).extracting(java.net.URI::toString).containsExactly(
                    "http://127.0.0.1:" + port + "/metrics", "http://127.0.0.1:" + (port + 1) + "/metrics");
            assertThat(Soak.latencyP99("J", endpoints)).isEqualTo(12.0);
            assertThat(Soak.latencyP99("other", endpoints)).isNaN();
            assertThat(Soak.prometheusEndpoints(new org.apache.flink.configuration.Configuration())).isEmpty();
            // a reporter metrics.reporters leaves out is not started by Flink
            conf.setString("metrics.reporters", "jmx");
            assertThat(Soak.prometheusEndpoints(conf)).isEmpty();
            conf.setString("metrics.reporters", "jmx, mine");
            assertThat(Soak.prometheusEndpoints(conf)).hasSize(2);
        } finally {
            server.stop(0);
        }
    }
}
