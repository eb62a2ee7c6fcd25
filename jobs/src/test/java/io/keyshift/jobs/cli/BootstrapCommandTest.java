package io.keyshift.jobs.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * bootstrap writes its savepoint beside --out and renames it once whole and marked: after a failed write what it wrote
 * there is removed, and --out, which appears only whole, is never removed (a savepoint written in place and cut off
 * before its marker was taken by a job for a continuing run's, and started from without the bootstrap's checks).
 */
class BootstrapCommandTest {

    @Test
    void aSavepointWhoseWriteFailedIsRemovedAndOutIsNeverTouched(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("sp");
        Path partial = BootstrapCommand.inProgress(out);
        assertThat(partial).isEqualTo(dir.resolve(".sp.inprogress"));
        // as Flink is given the path: x/. is x
        assertThat(BootstrapCommand.inProgress(out.resolve("."))).isEqualTo(partial);
        var writing = new java.util.concurrent.atomic.AtomicBoolean();
        assertThatThrownBy(() -> BootstrapCommand.removingOnFailure(out, writing, beforeWrite -> {
            // the library makes its place of writing, then tells
            Files.createDirectories(partial.resolve("op"));
            beforeWrite.run();
            Files.writeString(partial.resolve("_metadata"), "state");
            throw new IOException("No space left on device (the marker)");
        })).isInstanceOf(IOException.class).hasMessageContaining("No space left");
        assertThat(partial).doesNotExist();
        assertThat(out).doesNotExist();
        // another run's savepoint, there before this write began (which refuses it): kept
        Files.createDirectories(out);
        Files.writeString(out.resolve("_metadata"), "another run's");
        assertThatThrownBy(() -> BootstrapCommand.removingOnFailure(out, writing, beforeWrite -> {
            throw new IllegalArgumentException("savepoint path " + out + " exists");
        })).hasMessageContaining("exists");
        assertThat(out.resolve("_metadata")).hasContent("another run's");
        // nor would an interrupted run's shutdown hook remove anything: this run never began writing
        assertThat(writing).isFalse();
        // another run writing beside it: its files kept (the library refuses to make the place it found made, and
        // does not tell)
        io.keyshift.jobs.replay.ReplayRunner.deleteRecursively(out);
        Files.createDirectories(partial);
        Files.writeString(partial.resolve("_metadata"), "another run's, being written");
        assertThatThrownBy(() -> BootstrapCommand.removingOnFailure(out, writing, beforeWrite -> {
            throw new IllegalArgumentException(partial + " exists");
        })).hasMessageContaining("exists");
        assertThat(writing).isFalse();
        assertThat(partial.resolve("_metadata")).hasContent("another run's, being written");
        io.keyshift.jobs.replay.ReplayRunner.deleteRecursively(partial);
        // a savepoint made at --out by another party while this one was written (its rename then fails): kept
        assertThatThrownBy(() -> BootstrapCommand.removingOnFailure(out, writing, beforeWrite -> {
            Files.createDirectories(partial);
            beforeWrite.run();
            assertThat(writing).isTrue();
            Files.writeString(partial.resolve("_metadata"), "this run's");
            Files.createDirectories(out);
            Files.writeString(out.resolve("_metadata"), "another party's");
            throw new IOException("could not name the savepoint " + out + ": the path was made meanwhile");
        })).hasMessageContaining("made meanwhile");
        assertThat(out.resolve("_metadata")).hasContent("another party's");
        assertThat(partial).doesNotExist();
        io.keyshift.jobs.replay.ReplayRunner.deleteRecursively(out);
        assertThat(BootstrapCommand.<Path>removingOnFailure(out, writing, beforeWrite -> {
            beforeWrite.run();
            assertThat(writing).isTrue();
            Files.createDirectories(out);
            return Files.writeString(out.resolve("_metadata"), "state");
        })).hasContent("state");
    }

    /**
     * With the library's write: the run counts as writing (an interrupt's hook removes what it wrote beside --out)
     * once the library made its place of writing, where --out lies under directories still to be made too (the
     * write made its place before it told, and the command took it for another party's: an interrupted run left it,
     * and every rerun was refused; the place's parents were not made, and the write failed after the history)
     */
    @Test
    void theLibrarysWriteCountsAsThisRunsOnceItMadeItsPlace(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("new/deeper/sp");
        var writing = new java.util.concurrent.atomic.AtomicBoolean();
        var seen = new java.util.concurrent.atomic.AtomicBoolean();
        var env = org.apache.flink.streaming.api.environment.StreamExecutionEnvironment.createLocalEnvironment(1);
        env.setMaxParallelism(128);
        var in = env.fromSequence(0, 1_999).map(i -> new long[] {i % 10, i * 60_000})
                .returns(long[].class)
                .assignTimestampsAndWatermarks(org.apache.flink.api.common.eventtime.WatermarkStrategy
                        .<long[]>forMonotonousTimestamps().withTimestampAssigner((c, t) -> c[1]));
        var conf = new org.apache.flink.configuration.Configuration();
        conf.setString("keyshift.window", "1h");
        var stage = io.keyshift.api.Keyshift.keyBy(in, c -> "k" + c[0],
                org.apache.flink.api.common.typeinfo.Types.STRING).configure(conf);
        BootstrapCommand.removingOnFailure(out, writing, beforeWrite -> io.keyshift.savepoint.ForecasterBootstrap
                .bootstrap(stage, null, io.keyshift.jobs.LocalPaths.uri(out), () -> {
                    beforeWrite.run();
                    seen.set(writing.get() && Files.isDirectory(BootstrapCommand.inProgress(out)));
                }));
        assertThat(seen).isTrue();
        assertThat(out.resolve(io.keyshift.savepoint.ForecasterBootstrap.MARKER)).exists();
        assertThat(BootstrapCommand.inProgress(out)).doesNotExist();
    }

    /** What an interrupted bootstrap's shutdown hook removes: what it wrote beside --out, never --out. */
    @Test
    void anUnfinishedSavepointIsRemovedAndOutKept(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("sp");
        assertThat(BootstrapCommand.removeUnfinished(out)).isFalse();
        Path partial = BootstrapCommand.inProgress(out);
        Files.createDirectories(partial.resolve("op"));
        Files.writeString(partial.resolve("op").resolve("state"), "partial");
        Files.createDirectories(out);
        Files.writeString(out.resolve("_metadata"), "state");
        assertThat(BootstrapCommand.removeUnfinished(out)).isTrue();
        assertThat(partial).doesNotExist();
        assertThat(out.resolve("_metadata")).hasContent("state");
    }
}
