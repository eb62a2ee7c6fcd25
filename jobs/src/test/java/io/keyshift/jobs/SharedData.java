package io.keyshift.jobs;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates ../shared/data (beside the repository) from a test's working directory. */
public final class SharedData {
    private SharedData() {}

    /** The file {@code relative} under shared/data; fails (never skips) if it is not there. */
    public static Path file(String relative) {
        Path dir = Path.of("").toAbsolutePath();
        for (int i = 0; i < 4 && dir != null; i++, dir = dir.getParent()) {
            Path candidate = dir.resolveSibling("shared").resolve("data").resolve(relative);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("shared/data/" + relative + " not found beside the repository");
    }

    /** The repository's flink-conf directory. */
    public static Path flinkConf() {
        Path dir = Path.of("").toAbsolutePath();
        for (int i = 0; i < 3 && dir != null; i++, dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("flink-conf").resolve("config.yaml"))) {
                return dir.resolve("flink-conf");
            }
        }
        throw new IllegalStateException("flink-conf/config.yaml not found");
    }

    /** The repository's root (the directory of flink-conf and README.md). */
    public static Path repositoryRoot() {
        return flinkConf().getParent();
    }
}
