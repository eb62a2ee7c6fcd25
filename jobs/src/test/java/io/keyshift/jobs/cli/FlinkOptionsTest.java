package io.keyshift.jobs.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Locations handed to a cluster, whose JobManager has another working directory. */
class FlinkOptionsTest {
    @Test
    void aRelativePathGoesToTheClusterAsItsAbsoluteFileUriAndFlinkReadsItBack() {
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
    void anotherClustersPathsAreTheirsARelativeOneIsRefused() {
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
}
