package io.keyshift.jobs.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A library job's savepoint read without the job's classes: Flink restores every state of the router to read its
 * plan, and the records it holds for a lease are of the user's type; the failure's causes name the class, which the
 * command's line names with KEYSHIFT_CLASSPATH (checked end to end on 2026-12-05 with the README's QuickStart stage:
 * "names the class io.keyshift.examples.QuickStart$Click", exit 1; with the examples' classes on KEYSHIFT_CLASSPATH
 * the plan and the forecaster's 369 series were printed).
 */
class InspectSavepointCommandTest {
    @Test
    void aClassMissingFromTheClasspathIsNamedFromTheFailuresCauses() {
        Exception failure = new RuntimeException("Failed to fetch next result", new java.io.IOException(
                "Failed when trying to restore operator state backend",
                new ClassNotFoundException("com.example.Click")));
        assertThat(InspectSavepointCommand.missingClass(failure)).isEqualTo("com.example.Click");
        assertThat(InspectSavepointCommand.missingClass(new RuntimeException("other", new IllegalStateException())))
                .isNull();
    }
}
