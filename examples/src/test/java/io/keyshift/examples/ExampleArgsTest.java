package io.keyshift.examples;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The examples' arguments: a mistake is an exception with the usage (it was System.exit, which ends a JobManager that
 * runs main: web UI, REST, application mode), --help prints the usage, and a URI of another file system is Flink's to
 * read (it was refused as a missing local file).
 */
class ExampleArgsTest {
    @Test
    void mistakesThrowWithTheUsageHelpReturnsNothingAndAUriIsKept() {
        assertThat(ExampleArgs.parse(new String[] {"--help"}, QuickStart.class)).isNull();
        assertThatThrownBy(() -> ExampleArgs.parse(new String[0], QuickStart.class))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the trips file is missing")
                .hasMessageContaining("usage: flink run -c io.keyshift.examples.QuickStart");
        assertThatThrownBy(() -> ExampleArgs.parse(new String[] {"/no/such/trips.csv"}, QuickStart.class))
                .hasMessageContaining("trips file /no/such/trips.csv does not exist");
        assertThatThrownBy(() -> ExampleArgs.parse(new String[] {"s3://bucket/trips.csv", "0"}, QuickStart.class))
                .hasMessageContaining("parallelism must be a positive integer, was 0");
        ExampleArgs remote = ExampleArgs.parse(new String[] {"s3://bucket/trips.csv", "8"}, QuickStart.class);
        assertThat(remote.trips()).isEqualTo("s3://bucket/trips.csv");
        assertThat(remote.parallelism()).isEqualTo(8);
    }

    /**
     * A location as Flink prints one ({@code file:/...}, {@code hdfs:/...}: one slash) is a URI too: a file: one is
     * checked on this machine, another is Flink's to read. Both were taken for relative local paths and refused.
     */
    @Test
    void aUriWithOneSlashIsAUri(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path trips = java.nio.file.Files.writeString(dir.resolve("trips.csv"), "x\n");
        String uri = "file:" + trips.toAbsolutePath();
        assertThat(ExampleArgs.parse(new String[] {uri}, QuickStart.class).trips()).isEqualTo(uri);
        assertThatThrownBy(() -> ExampleArgs.parse(new String[] {"file:/no/such/trips.csv"}, QuickStart.class))
                .hasMessageContaining("trips file file:/no/such/trips.csv does not exist");
        assertThat(ExampleArgs.parse(new String[] {"hdfs:/data/trips.csv"}, QuickStart.class).trips())
                .isEqualTo("hdfs:/data/trips.csv");
        // a drive letter is no scheme (it was taken for one: the file went unchecked and the job failed at its source)
        assertThatThrownBy(() -> ExampleArgs.parse(new String[] {"C:/no/such/trips.csv"}, QuickStart.class))
                .hasMessageContaining("trips file C:/no/such/trips.csv does not exist").hasMessageContaining("usage:");
    }

    /**
     * A file: URI is checked as Flink reads it, unescaped: {@code %20} is no space (it was checked as one, and the job
     * failed on the cluster), a space is one (the file was never checked); a directory is no missing file.
     */
    @Test
    void aFileUriIsCheckedAsFlinkReadsItAndADirectoryIsNamedSo(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path trips = java.nio.file.Files.writeString(dir.resolve("my trips.csv"), "x\n");
        String spaced = "file:" + trips.toAbsolutePath();
        assertThat(ExampleArgs.parse(new String[] {spaced}, QuickStart.class).trips()).isEqualTo(spaced);
        String escaped = "file:" + dir.toAbsolutePath() + "/my%20trips.csv";
        assertThatThrownBy(() -> ExampleArgs.parse(new String[] {escaped}, QuickStart.class))
                .hasMessageContaining("does not exist");
        assertThatThrownBy(() -> ExampleArgs.parse(new String[] {"file:/no such/trips.csv"}, QuickStart.class))
                .hasMessageContaining("does not exist");
        assertThatThrownBy(() -> ExampleArgs.parse(new String[] {dir.toString()}, QuickStart.class))
                .hasMessageContaining("is a directory");
        // a host, which Flink refuses only in the running job (a slash too few: file://data/trips.csv), and a URI
        // Flink cannot read, each with the usage
        String host = "file://localhost" + trips.toAbsolutePath();
        assertThatThrownBy(() -> ExampleArgs.parse(new String[] {host}, QuickStart.class))
                .hasMessageContaining("names the host 'localhost'").hasMessageContaining("usage:");
        assertThatThrownBy(() -> ExampleArgs.parse(new String[] {"file://[oops/trips.csv"}, QuickStart.class))
                .hasMessageContaining("is no path of a file").hasMessageContaining("usage:");
    }

    /** The quick start takes no arguments: --help prints its usage and runs nothing, anything else is refused. */
    @Test
    void theQuickStartRefusesArguments() throws Exception {
        QuickStart.main(new String[] {"--help"});
        assertThatThrownBy(() -> QuickStart.main(new String[] {"trips.csv", "4"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("QuickStart takes no arguments")
                .hasMessageContaining("usage: flink run -c io.keyshift.examples.QuickStart keyshift-examples.jar");
    }
}
