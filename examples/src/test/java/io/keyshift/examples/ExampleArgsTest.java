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
}
