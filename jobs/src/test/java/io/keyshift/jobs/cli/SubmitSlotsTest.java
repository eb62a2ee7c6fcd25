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

    /**
     * A job that scales and follows its parallelism on restore is refused on an adaptive-scheduler cluster before it
     * is submitted (the job's main sees its own options, not the cluster's scheduler): by config.yaml or by the job's
     * -D, which overrides config.yaml.
     */
    @Test
    void followingRestoresWithScalingIsReadFromConfigYamlAndTheJobsOwnOptions() throws Exception {
        org.apache.flink.configuration.Configuration none = new org.apache.flink.configuration.Configuration();
        org.apache.flink.configuration.Configuration scaling = org.apache.flink.configuration.Configuration.fromMap(
                java.util.Map.of("keyshift.scaling.capacity", "300"));
        java.util.List<String> follow = java.util.List.of("--out", "o",
                "-Dkeyshift.scaling.follow-job-parallelism-on-restore=true");
        assertThat(SubmitCommand.followsRestoresWithScaling(scaling, follow)).isTrue();
        assertThat(SubmitCommand.followsRestoresWithScaling(none, java.util.List.of("-D",
                "keyshift.scaling.capacity=300", "-Dkeyshift.scaling.follow-job-parallelism-on-restore=true"))).isTrue();
        assertThat(SubmitCommand.followsRestoresWithScaling(none, follow)).as("no capacity").isFalse();
        assertThat(SubmitCommand.followsRestoresWithScaling(scaling, java.util.List.of())).as("the default").isFalse();
        assertThat(SubmitCommand.followsRestoresWithScaling(scaling, java.util.List.of(
                "-Dkeyshift.scaling.follow-job-parallelism-on-restore=true", "-Dkeyshift.scaling.capacity=0")))
                .as("the job's -D overrides config.yaml").isFalse();
        assertThat(SubmitCommand.followsRestoresWithScaling(scaling, java.util.List.of(
                "-Dkeyshift.scaling.follow-job-parallelism-on-restore=maybe"))).as("left to the job's refusal").isFalse();
        assertThat(SubmitCommand.adaptive(json("[{\"key\":\"jobmanager.scheduler\",\"value\":\"Adaptive\"}]")))
                .isTrue();
        assertThat(SubmitCommand.adaptive(json("[{\"key\":\"jobmanager.scheduler\",\"value\":\"default\"}]")))
                .isFalse();
        assertThat(SubmitCommand.adaptive(json("[]"))).isFalse();
        // what submit refuses on such a cluster
        assertThat(SubmitCommand.underAdaptiveScheduler(scaling, follow)).contains("follow-job-parallelism-on-restore");
        assertThat(SubmitCommand.underAdaptiveScheduler(none, java.util.List.of("--kafka-topic", "t",
                "--kafka-bounded"))).startsWith("--kafka-bounded cannot run under the adaptive scheduler (the "
                + "cluster's jobmanager.scheduler: adaptive, or its scheduler-mode: reactive)");
        assertThat(SubmitCommand.underAdaptiveScheduler(none, java.util.List.of("--kafka-topic", "t"))).isNull();
        // picocli's forms of the boolean option
        assertThat(SubmitCommand.underAdaptiveScheduler(none, java.util.List.of("--kafka-bounded=true")))
                .startsWith("--kafka-bounded cannot run");
        assertThat(SubmitCommand.underAdaptiveScheduler(none, java.util.List.of("--kafka-bounded=false"))).isNull();
        assertThat(SubmitCommand.adaptive(json("[{\"key\":\"scheduler-mode\",\"value\":\"reactive\"}]")))
                .as("reactive mode runs the adaptive scheduler").isTrue();
    }
}
