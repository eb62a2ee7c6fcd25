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
}
