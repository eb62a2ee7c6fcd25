package io.keyshift.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** submit's warning for a job that needs more slots than the cluster has (the REST answers as Flink gives them). */
class SubmitSlotsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s);
    }

    @Test
    void aJobAboveTheClustersSlotsIsWarnedOfUnlessTheSchedulerAdaptsOrSlotsComeOnDemand() throws Exception {
        JsonNode job = json("{\"vertices\":[{\"parallelism\":8},{\"parallelism\":1}]}");
        JsonNode fourSlots = json("{\"slots-total\":4,\"slots-available\":4}");
        JsonNode defaultScheduler = json("[{\"key\":\"jobmanager.scheduler\",\"value\":\"default\"}]");
        assertThat(SubmitCommand.slotWarning(job, fourSlots, json("[]")))
                .contains("parallelism 8").contains("4 task slots").contains("4 more join")
                .contains("--parallelism 4");
        assertThat(SubmitCommand.slotWarning(job, fourSlots, defaultScheduler)).isNotNull();
        assertThat(SubmitCommand.slotWarning(job, fourSlots,
                json("[{\"key\":\"jobmanager.scheduler\",\"value\":\"adaptive\"}]"))).isNull();
        assertThat(SubmitCommand.slotWarning(job, json("{\"slots-total\":8}"), defaultScheduler)).isNull();
        assertThat(SubmitCommand.slotWarning(job, json("{\"slots-total\":0}"), defaultScheduler)).isNull();
    }
}
