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
     * A build that fails, and a Java runtime that is not there, end the launcher with exit 1 and a last line of its
     * own (Maven's exit code and its help lines, or bash's "exec: java: not found" with exit 127, ended it).
     */
    @Test
    void aFailedBuildAndAMissingJavaEndInOneLineOfTheLaunchersOwn(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("main/bin"));
        Path launcher = dir.resolve("main/bin/keyshift");
        Files.copy(Path.of("..", "bin", "keyshift"), launcher);
        Path fakeBin = Files.createDirectories(dir.resolve("fake-bin"));
        Path mvn = Files.writeString(fakeBin.resolve("mvn"), "#!/bin/sh\necho '[ERROR] release version 17 not supported'\n"
                + "exit 1\n");
        mvn.toFile().setExecutable(true);
        ProcessBuilder pb = new ProcessBuilder("bash", launcher.toString(), "--help").redirectErrorStream(true);
        pb.environment().put("PATH", fakeBin + ":" + System.getenv("PATH"));
        pb.environment().remove("KEYSHIFT_NO_BUILD");
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isEqualTo(1);
        assertThat(output.strip().lines().reduce((a, b) -> b).orElse("")).startsWith("keyshift: the build of ")
                .contains("failed");

        Path target = Files.createDirectories(dir.resolve("main/jobs/target"));
        Files.write(target.resolve("keyshift-jobs-0.1.0-SNAPSHOT.jar"), new byte[0]);
        Files.writeString(target.resolve("runtime-classpath.txt"), "");
        ProcessBuilder noJava = new ProcessBuilder("bash", launcher.toString(), "--help").redirectErrorStream(true);
        noJava.environment().put("KEYSHIFT_NO_BUILD", "1");
        noJava.environment().put("JAVA_HOME", dir.resolve("no-jdk").toString());
        Process q = noJava.start();
        String missing = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(q.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(q.exitValue()).as(missing).isEqualTo(1);
        assertThat(missing.strip()).startsWith("keyshift: no Java runtime").contains("Java 17");
    }

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

    /**
     * A source saved while the launcher's build runs is built by the next command: the jar was stamped with the
     * build's end, so that edit was taken for built. The build is of the modules the commands run (-pl jobs -am): an
     * example or a benchmark being edited cannot stop a command.
     */
    @Test
    void aSourceSavedDuringTheBuildIsBuiltNextTime(@TempDir Path dir) throws Exception {
        Path home = dir.resolve("main");
        Path target = Files.createDirectories(home.resolve("jobs/target"));
        Files.createDirectories(home.resolve("bin"));
        Path source = Files.createDirectories(home.resolve("operators/src/main")).resolve("A.java");
        Files.writeString(source, "class A {}");
        Path launcher = home.resolve("bin/keyshift");
        Files.copy(Path.of("..", "bin", "keyshift"), launcher);
        Path jar = target.resolve("keyshift-jobs-0.1.0-SNAPSHOT.jar");
        Files.write(jar, new byte[0]);
        Files.writeString(target.resolve("runtime-classpath.txt"), "");
        // the jar older than the source: the first command builds
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(
                Files.getLastModifiedTime(source).toMillis() - 60_000));
        Path bin = Files.createDirectories(dir.resolve("fake/bin"));
        Path runs = dir.resolve("mvn-runs");
        // a build during which the source is saved again
        Files.writeString(bin.resolve("mvn"), "#!/usr/bin/env bash\necho \"$*\" >> '" + runs + "'\nsleep 0.3\n"
                + "touch '" + source + "'\n");
        Files.writeString(bin.resolve("java"), "#!/usr/bin/env bash\nexit 0\n");
        for (Path f : java.util.List.of(bin.resolve("mvn"), bin.resolve("java"))) {
            f.toFile().setExecutable(true);
        }
        for (int command = 1; command <= 2; command++) {
            ProcessBuilder pb = new ProcessBuilder("bash", launcher.toString(), "--help").redirectErrorStream(true);
            pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
            pb.environment().put("JAVA_HOME", dir.resolve("fake").toString());
            pb.environment().remove("KEYSHIFT_NO_BUILD");
            Process p = pb.start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(output).isZero();
        }
        assertThat(Files.readAllLines(runs)).as("builds").hasSize(2)
                .allMatch(args -> args.contains("-pl jobs -am"));
    }

    /**
     * A command runs from a copy of keyshift's jars: a build (here the jar rewritten in place, as Maven's jar plugin
     * does) while it runs leaves the bytes it reads alone. The copy of a command still running is kept; once it has
     * ended, the next launch deletes it. Other jars on the class path are run where they are.
     */
    @Test
    void aCommandRunsFromACopyOfTheJarsThatALaterBuildLeavesAlone(@TempDir Path dir) throws Exception {
        Path launcher = fakeCheckout(dir);
        Path target = dir.resolve("main/jobs/target");
        Path jar = target.resolve("keyshift-jobs-0.1.0-SNAPSHOT.jar");
        Path flink = dir.resolve("flink-core.jar");

        Path release = dir.resolve("release");
        Process first = launch(launcher, dir, dir.resolve("cp-1"), release);
        java.util.List<Path> firstJars = waitForClassPath(dir.resolve("cp-1"), first);
        assertThat(firstJars).hasSize(3).endsWith(flink);
        assertThat(firstJars.get(0)).startsWith(target.resolve("launch")).hasContent("jobs v1");
        assertThat(firstJars.get(1)).startsWith(target.resolve("launch")).hasContent("operators v1");

        Path firstJobJar = property(dir.resolve("cp-1"), "keyshift.job-jar");
        assertThat(firstJobJar).startsWith(target.resolve("launch")).hasContent("shaded v1");
        assertThat(property(dir.resolve("cp-1"), "keyshift.cluster-classpath")).hasContent("cluster v1");

        Files.writeString(jar, "jobs v2");
        Files.writeString(target.resolve("keyshift-jobs.jar"), "shaded v2");
        Process second = launch(launcher, dir, dir.resolve("cp-2"), null);
        assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
        java.util.List<Path> secondJars = waitForClassPath(dir.resolve("cp-2"), second);
        assertThat(secondJars.get(0)).hasContent("jobs v2");
        assertThat(firstJars.get(0)).as("the running command's copy").hasContent("jobs v1");
        assertThat(property(dir.resolve("cp-2"), "keyshift.job-jar")).hasContent("shaded v2");
        assertThat(firstJobJar).as("the running command's job jar").hasContent("shaded v1");
        assertThat(first.isAlive()).isTrue();

        Files.writeString(release, "");
        assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(first.exitValue()).isZero();
        Process third = launch(launcher, dir, dir.resolve("cp-3"), null);
        assertThat(third.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(waitForClassPath(dir.resolve("cp-3"), third)).isEqualTo(secondJars);
        assertThat(firstJars.get(0).getParent()).as("the ended command's copy").doesNotExist();
        assertThat(secondJars.get(0)).hasContent("jobs v2");
    }

    /**
     * A command started while another command's build holds the build lock says that it waits, and runs once the
     * build is done (from the jars and class path that build left; it waited with nothing said).
     */
    @Test
    void aCommandWaitingForAnotherCommandsBuildSaysSo(@TempDir Path dir) throws Exception {
        Path launcher = fakeCheckout(dir);
        Process first = launch(launcher, dir, dir.resolve("cp-1"), null);
        assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
        Path lock;
        try (var locks = Files.newDirectoryStream(dir, "keyshift-build-*.lock")) {
            lock = locks.iterator().next();
        }
        Path held = dir.resolve("held");
        Path done = dir.resolve("build-done");
        // a build: holds the lock until told to end
        Process build = new ProcessBuilder("flock", lock.toString(), "bash", "-c",
                "touch '" + held + "'; while [ ! -f '" + done + "' ]; do sleep 0.05; done").start();
        while (!Files.exists(held)) {
            assertThat(build.isAlive()).isTrue();
            Thread.sleep(20);
        }
        ProcessBuilder pb = new ProcessBuilder("bash", launcher.toString(), "--help").redirectErrorStream(true);
        pb.environment().put("KEYSHIFT_NO_BUILD", "1");
        pb.environment().put("JAVA_HOME", dir.resolve("fake").toString());
        pb.environment().put("TMPDIR", dir.toString());
        pb.environment().put("CP_OUT", dir.resolve("cp-2").toString());
        pb.environment().remove("HOLD");
        Process second = pb.start();
        try {
            java.io.BufferedReader err = new java.io.BufferedReader(new java.io.InputStreamReader(
                    second.getInputStream(), StandardCharsets.UTF_8));
            // (a launcher that waits without a word would keep this read waiting: bounded)
            String said = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return err.readLine();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).completeOnTimeout("(nothing said in 30 s)", 30, TimeUnit.SECONDS).get();
            assertThat(said).startsWith("keyshift: waiting for another keyshift command of ").contains("its build");
            assertThat(second.isAlive()).isTrue();
            assertThat(dir.resolve("cp-2")).doesNotExist();
            Files.writeString(done, "");
            assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(second.exitValue()).isZero();
            assertThat(waitForClassPath(dir.resolve("cp-2"), second).get(0)).startsWith(
                    dir.resolve("main/jobs/target/launch"));
            assertThat(build.waitFor(60, TimeUnit.SECONDS)).isTrue();
        } finally {
            Files.writeString(done, "");
            second.destroyForcibly();
            build.destroyForcibly();
        }
    }

    /**
     * A checkout under {@code dir}/main with keyshift's jars ("jobs v1", "operators v1") and a class path naming the
     * operators' jar and a Flink jar ({@code dir}/flink-core.jar), and a fake JDK at {@code dir}/fake whose java
     * writes its class path to $CP_OUT and, where $HOLD names a file, runs until that file exists. Returns the launcher.
     */
    private static Path fakeCheckout(Path dir) throws Exception {
        Path home = dir.resolve("main");
        Path target = Files.createDirectories(home.resolve("jobs/target"));
        Files.createDirectories(home.resolve("bin"));
        Path launcher = home.resolve("bin/keyshift");
        Files.copy(Path.of("..", "bin", "keyshift"), launcher);
        Files.writeString(target.resolve("keyshift-jobs-0.1.0-SNAPSHOT.jar"), "jobs v1");
        // the shaded job jar that submit and soak send, and the cluster's class path
        Files.writeString(target.resolve("keyshift-jobs.jar"), "shaded v1");
        Files.writeString(target.resolve("cluster-classpath.txt"), "cluster v1");
        Path operators = Files.writeString(Files.createDirectories(home.resolve("operators/target"))
                .resolve("keyshift-operators-0.1.0-SNAPSHOT.jar"), "operators v1");
        Path flink = Files.writeString(dir.resolve("flink-core.jar"), "flink");
        Files.writeString(target.resolve("runtime-classpath.txt"), operators.toRealPath() + ":" + flink);
        Path bin = Files.createDirectories(dir.resolve("fake/bin"));
        Path java = Files.writeString(bin.resolve("java"), "#!/usr/bin/env bash\n"
                + "printf '%s\\n' \"$@\" > \"$CP_OUT.args\"\n"
                + "while [ \"$1\" != -cp ]; do shift; done\nprintf '%s' \"$2\" > \"$CP_OUT\"\n"
                + "if [ -n \"${HOLD:-}\" ]; then while [ ! -f \"$HOLD\" ]; do sleep 0.05; done; fi\n");
        java.toFile().setExecutable(true);
        return launcher;
    }

    private static Process launch(Path launcher, Path dir, Path cpOut, Path hold) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", launcher.toString(), "--help").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("KEYSHIFT_NO_BUILD", "1");
        pb.environment().put("JAVA_HOME", dir.resolve("fake").toString());
        pb.environment().put("TMPDIR", dir.toString());
        pb.environment().put("CP_OUT", cpOut.toString());
        if (hold != null) {
            pb.environment().put("HOLD", hold.toString());
        } else {
            pb.environment().remove("HOLD");
        }
        return pb.start();
    }

    /** The file a -D property of the launched JVM names (its arguments are written beside its class path). */
    private static Path property(Path cpOut, String name) throws Exception {
        return Files.readAllLines(cpOut.resolveSibling(cpOut.getFileName() + ".args")).stream()
                .filter(a -> a.startsWith("-D" + name + "=")).map(a -> Path.of(a.substring(name.length() + 3)))
                .findFirst().orElseThrow(() -> new AssertionError("no -D" + name));
    }

    private static java.util.List<Path> waitForClassPath(Path cpOut, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(cpOut) && System.nanoTime() < deadline) {
            assertThat(p.isAlive() || Files.exists(cpOut)).as("launcher ended without running java").isTrue();
            Thread.sleep(20);
        }
        return java.util.Arrays.stream(Files.readString(cpOut).split(":")).map(Path::of).toList();
    }
}
