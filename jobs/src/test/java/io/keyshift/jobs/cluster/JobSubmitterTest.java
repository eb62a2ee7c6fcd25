package io.keyshift.jobs.cluster;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class JobSubmitterTest {
    /** A cluster's refusal carries its stack trace in the REST error: the line gives its innermost message only. */
    @Test
    void aRefusalsServerSideStackTraceIsOneLine() {
        Exception refused = new RuntimeException("Failed to submit JobGraph.", new Exception(
                "[org.apache.flink.runtime.rest.handler.RestHandlerException: Failed to deserialize JobGraph.\n"
                        + "\tat org.apache.flink.runtime.rest.handler.job.JobSubmitHandler.loadJobGraph(x.java:1)\n"
                        + "Caused by: java.io.InvalidClassException: org.apache.flink.runtime.jobgraph.JobGraph; "
                        + "local class incompatible\n\tat java.io.ObjectStreamClass.initNonProxy(x.java:1)\n]"));
        String line = JobSubmitter.NotSubmitted.innermost(refused);
        assertThat(line.lines()).hasSize(1);
        assertThat(line).contains("local class incompatible").doesNotContain("\tat ");
        Exception internal = new RuntimeException(new Exception("[<Exception on server side:\n"
                + "java.lang.IllegalStateException: the blob store is full\n\tat a.b(c.java:1)\n\nEnd of exception "
                + "on server side>]"));
        assertThat(JobSubmitter.NotSubmitted.innermost(internal))
                .contains("the blob store is full").doesNotContain("\n");
        assertThat(JobSubmitter.NotSubmitted.innermost(
                new RuntimeException(new java.io.IOException("refused by this test"))))
                .isEqualTo("IOException: refused by this test");
    }
}
