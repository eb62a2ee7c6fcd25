package io.keyshift.jobs;

import java.nio.file.Path;

/** Local paths handed to Flink as strings (checkpoint and savepoint directories, a savepoint to read). */
public final class LocalPaths {
    private LocalPaths() {
    }

    /**
     * {@code p} as a {@code file://} URI string that Flink's {@link org.apache.flink.core.fs.Path} reads back as
     * {@code p}: the path is not percent-encoded, since Flink encodes it once more (from {@link Path#toUri()}, a
     * directory {@code my out} would become {@code my%20out}, a sibling of the one meant). The scheme keeps a
     * configured {@code fs.default-scheme} (HDFS, S3) from taking a local path as its own.
     */
    public static String uri(Path p) {
        return "file://" + p.toAbsolutePath().normalize();
    }
}
