package io.keyshift.jobs.cli;

import io.keyshift.jobs.cluster.FlinkRest;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

/** Which of the cluster's refusals autoscale takes as final (exit 2 at once) and which it retries. */
class AutoscaleCommandTest {
    /**
     * A refusal that no retry changes ends autoscale at once: it was retried 30 times ("retrying (n of 30)" every
     * interval, minutes), then ended with exit 1.
     */
    @Test
    void aRefusalForGoodIsNotRetried() {
        assertThat(AutoscaleCommand.cannotScale(new FlinkRest.HttpStatusException(500, "Flink REST PUT "
                + "http://127.0.0.1:8081/jobs/j/resource-requirements: HTTP 500 Cannot change the parallelism of a job "
                + "running in reactive mode."))).startsWith("the cluster refused to rescale the job: ");
        assertThat(AutoscaleCommand.cannotScale(new FlinkRest.HttpStatusException(400, "HTTP 400 bad request")))
                .isNotNull();
        assertThat(AutoscaleCommand.cannotScale(new IOException("the requested parallelism 300 exceeds its maximum "
                + "parallelism 128"))).isNotNull();
        // what may pass: a JobManager that does not answer for a moment, one that is busy, a transport error
        assertThat(AutoscaleCommand.cannotScale(new FlinkRest.HttpStatusException(503, "HTTP 503 not now"))).isNull();
        assertThat(AutoscaleCommand.cannotScale(new FlinkRest.HttpStatusException(429, "HTTP 429"))).isNull();
        assertThat(AutoscaleCommand.cannotScale(new IOException("cannot reach Flink's REST API"))).isNull();
        // a job the cluster does not know is not "cannot scale": it ends autoscale as a failure (exit 1)
        assertThat(AutoscaleCommand.cannotScale(new FlinkRest.HttpStatusException(404, "HTTP 404 Job not found")))
                .isNull();
    }
}
