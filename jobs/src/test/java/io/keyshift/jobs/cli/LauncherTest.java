package io.keyshift.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** bin/keyshift's own checks, run by bash on a copy of the launcher in a tree of its own. */
class LauncherTest {

    /**
     * A checkout built at /old/T/main and moved to T/main: its class path names the old jars, whose path holds
     * "T/main/" (the check matched a substring and took them for this checkout's: java started on jars that were no
     * longer there, or on another checkout's).
     */
    @Test
    void aCheckoutBuiltWhereAPathEndingLikeItsWasIsTakenForMoved(@TempDir Path dir) throws Exception {
        Path target = Files.createDirectories(dir.resolve("main/jobs/target"));
        Files.createDirectories(dir.resolve("main/bin"));
        Path launcher = dir.resolve("main/bin/keyshift");
        Files.copy(Path.of("..", "bin", "keyshift"), launcher);
        Files.write(target.resolve("keyshift-jobs-0.1.0-SNAPSHOT.jar"), new byte[0]);
        String real = dir.toRealPath().resolve("main").toString();
        Files.writeString(target.resolve("runtime-classpath.txt"),
                "/old" + real + "/operators/target/keyshift-operators-0.1.0-SNAPSHOT.jar:/old" + real
                        + "/metrics/target/keyshift-metrics-0.1.0-SNAPSHOT.jar");
        ProcessBuilder pb = new ProcessBuilder("bash", launcher.toString(), "--help").redirectErrorStream(true);
        pb.environment().put("KEYSHIFT_NO_BUILD", "1");
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isEqualTo(1);
        assertThat(output).contains("was built where this checkout was before it moved");
    }
}
