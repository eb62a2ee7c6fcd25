package io.keyshift.examples;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A user's job run from an IDE has Flink's streaming and client jars, not the RocksDB state backend's (that is in a
 * Flink distribution's {@code lib/}; this module's tests get it only through {@code flink-test-utils}). End-to-end
 * (a JVM of its own with a MiniCluster, about 15 s): the quick start builds and runs on the heap state backend with
 * this module's test class path minus every RocksDB jar, and gives its plain-keyBy twin's results. It failed with
 * {@code NoClassDefFoundError: ConfigurableRocksDBOptionsFactory} when the option check loaded keyshift's RocksDB
 * options factory.
 */
class WithoutRocksDbTest {
    @Test
    @Tag("end-to-end")
    void theQuickStartRunsWithoutTheRocksDbJars() throws Exception {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> kept = new ArrayList<>();
        List<String> left = new ArrayList<>();
        for (String entry : classPath.split(File.pathSeparator)) {
            if (!entry.isEmpty() && Path.of(entry).getFileName().toString().contains("rocksdb")) {
                left.add(Path.of(entry).getFileName().toString());
            } else if (!entry.isEmpty()) {
                kept.add(entry);
            }
        }
        assertThat(left).as("the RocksDB jars this test leaves out").isNotEmpty();
        Path log = Files.createTempFile("without-rocksdb", ".log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", String.join(File.pathSeparator, kept), Probe.class.getName())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("the probe JVM ended within 5 minutes").isTrue();
            String output = Files.readString(log, StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(output).isZero();
            assertThat(output).contains("no RocksDB class: ok").containsPattern("equal results: [1-9][0-9]*");
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(log);
        }
    }

    /** Runs in the JVM without RocksDB: the quick start's twin and keyshift job; exits 1 unless they agree. */
    public static final class Probe {
        private Probe() {}

        public static void main(String[] args) throws Exception {
            try {
                Class.forName("org.apache.flink.state.rocksdb.ConfigurableRocksDBOptionsFactory");
                System.out.println("a RocksDB class is on the class path");
                System.exit(1);
            } catch (ClassNotFoundException expected) {
                System.out.println("no RocksDB class: ok");
            }
            StreamExecutionEnvironment twinEnv = StreamExecutionEnvironment.createLocalEnvironment(2);
            List<String> twin = sorted(QuickStart.twin(QuickStart.clicks(twinEnv, 20_000, 1)).executeAndCollect());

            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
            Configuration conf = new Configuration();
            conf.setString("keyshift.window", "5min");
            List<String> keyshift = sorted(QuickStart.totals(QuickStart.clicks(env, 20_000, 1), conf).totals()
                    .executeAndCollect());
            if (twin.isEmpty() || !twin.equals(keyshift)) {
                System.out.println("results differ: twin " + twin.size() + ", keyshift " + keyshift.size());
                System.exit(1);
            }
            System.out.println("equal results: " + twin.size());
            System.exit(0);
        }

        private static List<String> sorted(Iterator<QuickStart.Total> it) throws Exception {
            List<String> out = new ArrayList<>();
            it.forEachRemaining(t -> out.add(t.toString()));
            if (it instanceof AutoCloseable c) {
                c.close();
            }
            out.sort(null);
            return out;
        }
    }
}
