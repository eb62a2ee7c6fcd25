package io.keyshift.jobs.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** What a user reads of Flink's REST errors: the message, not the server's stack trace. */
class FlinkRestTest {
    @Test
    void anErrorIsItsFirstLineWithoutTheExceptionClass() throws Exception {
        var reply = new ObjectMapper().readTree("{\"errors\": [\"org.apache.flink.runtime.rest.NotFoundException: "
                + "Job 0123 not found\\n\\tat org.apache.flink.runtime.rest.handler.job.AbstractExecutionGraphHandler"
                + ".lambda$handleRequest$1(AbstractExecutionGraphHandler.java:99)\\nCaused by: "
                + "org.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job (0123)\", "
                + "\"Internal server error.\"]}");
        assertThat(FlinkRest.errors(reply.path("errors"))).isEqualTo("Job 0123 not found; Internal server error.");
        assertThat(FlinkRest.errors(new ObjectMapper().readTree("{}").path("errors"))).isEqualTo("(no error message)");
    }

    /**
     * A handler's unhandled exception (HTTP 500) comes as "Internal server error." and the stringified exception: the
     * message of its innermost cause is what the user reads (it was "<Exception on server side:").
     */
    @Test
    void anInternalServerErrorShowsItsInnermostCause() throws Exception {
        var reply = new ObjectMapper().readTree("{\"errors\": [\"Internal server error.\", \"<Exception on server "
                + "side:\\njava.util.concurrent.CompletionException: java.lang.UnsupportedOperationException: The "
                + "DefaultScheduler does not support changing the parallelism without a job restart.\\n\\tat "
                + "java.base/java.util.concurrent.CompletableFuture.encodeThrowable(CompletableFuture.java:315)\\n"
                + "Caused by: java.lang.UnsupportedOperationException: The DefaultScheduler does not support changing "
                + "the parallelism without a job restart.\\n\\t... 12 more\\n\\nEnd of exception on server side>\"]}");
        assertThat(FlinkRest.errors(reply.path("errors"))).isEqualTo("Internal server error.; The DefaultScheduler "
                + "does not support changing the parallelism without a job restart.");
    }
}
