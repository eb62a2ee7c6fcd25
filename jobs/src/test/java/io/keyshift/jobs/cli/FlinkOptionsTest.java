package io.keyshift.jobs.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Locations handed to a cluster, whose JobManager has another working directory. */
class FlinkOptionsTest {
    @Test
    void aRelativePathGoesToTheClusterAsItsAbsoluteFileUriAndFlinkReadsItBack() throws Exception {
        String sent = FlinkOptions.forCluster("savepoints/./a b/savepoint-1");
        Path expected = Path.of("").toAbsolutePath().resolve("savepoints/a b/savepoint-1");
        assertThat(sent).isEqualTo("file://" + expected);
        // as the JobManager reads it: Flink's Path, the space kept, nothing resolved against its own directory
        org.apache.flink.core.fs.Path read = new org.apache.flink.core.fs.Path(sent);
        assertThat(read.toUri().getScheme()).isEqualTo("file");
        assertThat(read.toUri().getPath()).isEqualTo(expected.toString());
        // URIs and no location pass unchanged
        assertThat(FlinkOptions.forCluster("s3://bucket/savepoints")).isEqualTo("s3://bucket/savepoints");
        assertThat(FlinkOptions.forCluster("file:/tmp/sp")).isEqualTo("file:/tmp/sp");
        assertThat(FlinkOptions.forCluster(null)).isNull();
    }

    @Test
    void anotherClustersPathsAreTheirsARelativeOneIsRefused() throws Exception {
        picocli.CommandLine cl = KeyshiftCli.commandLine();
        // a cluster at --rest: its file system, not this machine's; a path without a scheme keeps its
        // fs.default-scheme
        assertThat(FlinkOptions.forCluster(cl, "--target", "/savepoints/x", false)).isEqualTo("/savepoints/x");
        assertThat(FlinkOptions.forCluster(cl, "--target", "s3://b/sp", false)).isEqualTo("s3://b/sp");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FlinkOptions.forCluster(cl, "--from-savepoint",
                        "sp/savepoint-1", false))
                .isInstanceOf(picocli.CommandLine.ParameterException.class)
                .hasMessageStartingWith("--from-savepoint: sp/savepoint-1 is a relative path");
        // the local cluster: this machine's file system
        assertThat(FlinkOptions.forCluster(cl, "--target", "sp", true))
                .isEqualTo("file://" + Path.of("sp").toAbsolutePath());
    }

    /**
     * A path with ".." after a symbolic link names the directory the file system reads (the link's target's parent),
     * in the check and in what Flink is given: the check read one savepoint and Flink, whose paths normalize ".." as
     * text, restored or wrote another (the one beside the link).
     */
    @Test
    void dotDotAfterALinkIsResolvedAsTheFileSystemReadsIt(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        Path real = dir.toRealPath();
        java.nio.file.Files.createDirectories(real.resolve("a/b"));
        java.nio.file.Files.createSymbolicLink(real.resolve("l"), real.resolve("a/b"));
        for (Path sp : new Path[] {real.resolve("a/sp"), real.resolve("sp")}) {
            java.nio.file.Files.createDirectories(sp);
            java.nio.file.Files.write(sp.resolve("_metadata"), new byte[16]);
        }
        picocli.CommandLine cl = KeyshiftCli.commandLine();
        assertThat(FlinkOptions.savepoint(cl, "--from-savepoint", real + "/l/../sp"))
                .isEqualTo("file://" + real.resolve("a/sp"));
        // the file: URI bin/keyshift savepoint prints, as submit --from-savepoint checks and sends it
        assertThat(FlinkOptions.savepoint(cl, "--from-savepoint", "file://" + real + "/l/../sp"))
                .isEqualTo("file://" + real.resolve("a/sp"));
        assertThat(FlinkOptions.forCluster(real + "/l/../new")).isEqualTo("file://" + real.resolve("a/new"));
        assertThat(io.keyshift.jobs.LocalPaths.uri(real.resolve("l/../out"))).isEqualTo("file://"
                + real.resolve("a/out"));
    }
}
