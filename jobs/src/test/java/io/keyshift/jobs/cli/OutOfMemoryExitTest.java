package io.keyshift.jobs.cli;

import io.keyshift.jobs.SharedData;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * End-to-end (a few seconds): the command line in its own JVM with a heap too small for the local cluster's network
 * buffers. The OutOfMemoryError escapes the command on the main thread; the process must still end, with exit 1 and
 * one line naming the error (it used to stay alive on the cluster's threads until killed).
 */
@Tag("end-to-end")
class OutOfMemoryExitTest {
    @Test
    void aReplayThatRunsOutOfMemoryEndsTheProcess(@TempDir Path dir) throws Exception {
        Path home = Path.of("").toAbsolutePath().getParent();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED",
                "-Dkeyshift.home=" + home, "-cp", System.getProperty("java.class.path"),
                KeyshiftCli.class.getName(), "replay", "--input",
                SharedData.file("bayarea-bikeshare-2014/batrips.csv.gz").toString(), "--key", "start_station",
                "--time", "start_date", "--time-format", "yyyy-MM-dd HH:mm:ssXXX", "--window", "1d",
                "--parallelism", "2", "--strategies", "hash", "--out", dir.resolve("out").toString()));
        Path err = dir.resolve("stderr.txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(err.toFile()).start();
        boolean ended = p.waitFor(180, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String out = Files.readString(err, StandardCharsets.UTF_8);
        assertThat(ended).as("the process ended; its output:\n" + out).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(out.lines().filter(l -> l.startsWith("keyshift: OutOfMemoryError:"))).hasSize(1);
    }
}
