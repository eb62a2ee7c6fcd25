package io.keyshift.jobs.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * bootstrap's --out after a failed write: removed (a savepoint cut short, or a whole one without its marker, which a
 * job took for a continuing run's and started from without the bootstrap's checks); kept after a write that ends.
 */
class BootstrapCommandTest {

    @Test
    void aSavepointWhoseWriteFailedIsRemovedAndOneWrittenWholeIsKept(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("sp");
        var writing = new java.util.concurrent.atomic.AtomicBoolean();
        assertThatThrownBy(() -> BootstrapCommand.removingOnFailure(out, writing, beforeWrite -> {
            beforeWrite.run();
            Files.createDirectories(out.resolve("op"));
            Files.writeString(out.resolve("_metadata"), "state");
            throw new IOException("No space left on device (the marker)");
        })).isInstanceOf(IOException.class).hasMessageContaining("No space left");
        assertThat(out).doesNotExist();
        // another run's savepoint, there before this write began (which refuses it): kept
        Files.createDirectories(out);
        Files.writeString(out.resolve("_metadata"), "another run's");
        assertThatThrownBy(() -> BootstrapCommand.removingOnFailure(out, writing, beforeWrite -> {
            throw new IllegalArgumentException("savepoint path " + out + " exists");
        })).hasMessageContaining("exists");
        assertThat(out.resolve("_metadata")).hasContent("another run's");
        // nor would an interrupted run's shutdown hook remove it: this run never began writing there
        assertThat(writing).isFalse();
        Files.delete(out.resolve("_metadata"));
        Files.delete(out);
        // another party's, made while this run read its history (not there when the run began), which the write
        // refuses before it begins: kept, and an interruption meanwhile would not remove it either (it was removed)
        assertThatThrownBy(() -> BootstrapCommand.removingOnFailure(out, writing, beforeWrite -> {
            Files.createDirectories(out);
            Files.writeString(out.resolve("_metadata"), "another party's");
            assertThat(writing).isFalse();
            throw new IllegalArgumentException("savepoint path " + out + " exists");
        })).hasMessageContaining("exists");
        assertThat(out.resolve("_metadata")).hasContent("another party's");
        assertThat(writing).isFalse();
        io.keyshift.jobs.replay.ReplayRunner.deleteRecursively(out);
        // another run's, written and marked while this one profiled, on whose files this write failed: kept
        assertThatThrownBy(() -> BootstrapCommand.removingOnFailure(out, writing, beforeWrite -> {
            beforeWrite.run();
            Files.createDirectories(out);
            Files.writeString(out.resolve("_metadata"), "another run's");
            Files.writeString(out.resolve(io.keyshift.savepoint.BootstrapMarker.MARKER), "written by keyshift");
            throw new IOException("Target file " + out.resolve("_metadata") + " already exists");
        })).hasMessageContaining("already exists");
        assertThat(out.resolve("_metadata")).hasContent("another run's");
        io.keyshift.jobs.replay.ReplayRunner.deleteRecursively(out);
        assertThat(BootstrapCommand.<Path>removingOnFailure(out, writing, beforeWrite -> {
            beforeWrite.run();
            assertThat(writing).isTrue();
            Files.createDirectories(out);
            return Files.writeString(out.resolve("_metadata"), "state");
        })).hasContent("state");
    }

    /**
     * What an interrupted bootstrap's shutdown hook leaves: an unfinished savepoint (files without _metadata, or whole
     * without its marker) removed, a marked one kept. It left both behind.
     */
    @Test
    void anUnfinishedSavepointIsRemovedAndAMarkedOneKept(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("sp");
        assertThat(BootstrapCommand.removeUnfinished(out)).isFalse();
        Files.createDirectories(out.resolve("op"));
        Files.writeString(out.resolve("op").resolve("state"), "partial");
        assertThat(BootstrapCommand.removeUnfinished(out)).isTrue();
        assertThat(out).doesNotExist();
        Files.createDirectories(out);
        Files.writeString(out.resolve("_metadata"), "state");
        Files.writeString(out.resolve(io.keyshift.savepoint.BootstrapMarker.MARKER), "written by keyshift");
        assertThat(BootstrapCommand.removeUnfinished(out)).isFalse();
        assertThat(out.resolve("_metadata")).hasContent("state");
    }
}
