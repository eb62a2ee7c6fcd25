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
}
