package io.keyshift.jobs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cluster job's {@code main} restored from a savepoint ({@code flink run -s}, a Kubernetes operator's savepoint
 * upgrade) runs where the State Processor API is not on the class path: it is {@code provided} here, not in a Flink
 * distribution's {@code lib/} and not in the job jar. A JVM of its own with this module's test class path minus that
 * jar (a few seconds: the job is refused before it starts): {@code main} tells a bootstrap savepoint from a restore and
 * refuses an {@code --out} with another job's results, as with the API. It failed with {@code NoClassDefFoundError:
 * StateBootstrapFunction} when {@code main} asked {@code ForecasterBootstrap}, which links against the API.
 */
class WithoutStateProcessorApiTest {
    @Test
    void aRestoredJobsMainRunsWithoutTheStateProcessorApi(@TempDir Path dir) throws Exception {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> kept = new ArrayList<>();
        List<String> left = new ArrayList<>();
        for (String entry : classPath.split(File.pathSeparator)) {
            if (!entry.isEmpty() && Path.of(entry).getFileName().toString().startsWith("flink-state-processor-api")) {
                left.add(Path.of(entry).getFileName().toString());
            } else if (!entry.isEmpty()) {
                kept.add(entry);
            }
        }
        assertThat(left).as("the State Processor API jar this test leaves out").isNotEmpty();
        Path out = dir.resolve("out");
        Files.createDirectories(out.resolve("results/2014-09-01--00"));
        Files.writeString(out.resolve("results/2014-09-01--00/part-0-0"), "70,1409529600000,12\n");
        Path savepoint = Files.createDirectories(dir.resolve("savepoint"));
        Files.writeString(savepoint.resolve("_metadata"), "not read here");
        Files.writeString(savepoint.resolve(io.keyshift.savepoint.BootstrapMarker.MARKER), "bootstrap\n");
        Path log = dir.resolve("probe.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", String.join(File.pathSeparator, kept), Probe.class.getName(), out.toString(),
                savepoint.toUri().toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertThat(p.waitFor(3, TimeUnit.MINUTES)).as("the probe JVM ended within 3 minutes").isTrue();
            String output = Files.readString(log, StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(output).isZero();
            assertThat(output).contains("no State Processor API class: ok")
                    .contains("refused: keyshift-job: --out " + out.toAbsolutePath() + " already holds results of another job");
        } finally {
            p.destroyForcibly();
        }
    }

    /** Runs in the JVM without the State Processor API; exits 1 unless the job is refused for its --out. */
    public static final class Probe {
        private Probe() {}

        public static void main(String[] args) {
            try {
                Class.forName("org.apache.flink.state.api.functions.StateBootstrapFunction");
                System.out.println("a State Processor API class is on the class path");
                System.exit(1);
            } catch (ClassNotFoundException expected) {
                System.out.println("no State Processor API class: ok");
            }
            try {
                KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out", args[0],
                        "-Dexecution.state-recovery.path=" + args[1]});
                System.out.println("the job was not refused");
                System.exit(1);
            } catch (IllegalArgumentException e) {
                System.out.println("refused: " + e.getMessage());
                System.exit(0);
            } catch (Throwable t) {
                t.printStackTrace(System.out);
                System.exit(1);
            }
        }
    }
}
