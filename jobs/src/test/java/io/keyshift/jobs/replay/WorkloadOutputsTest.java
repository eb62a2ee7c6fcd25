package io.keyshift.jobs.replay;

import io.keyshift.config.PlanOptions;
import io.keyshift.jobs.event.Event;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** What the workload's job hands to the replay's outputs. */
class WorkloadOutputsTest {
    private static Workload.Outputs build(Configuration config) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        DataStream<Event> events = env.fromData(new Event(3_600_000L, "a", 1.0, 0), new Event(7_200_000L, "b", 1.0, 1))
                .assignTimestampsAndWatermarks(WatermarkStrategy.<Event>forBoundedOutOfOrderness(Duration.ZERO)
                        .withTimestampAssigner((e, t) -> e.timestamp));
        return Workload.build(events, Strategy.PREDICTIVE, config, 2);
    }

    /**
     * With on-mismatch REVERT and no control input of the user's, the stage's own reverts are its control input: the
     * refused ones (a revert after the input's end) go out to control-rejected/ (they went nowhere, and the report
     * counted none refused while the planner's gauge counted them).
     */
    @Test
    void refusedRevertsGoOutWithoutAControlInputOfTheUsers() {
        Configuration revert = new Configuration();
        revert.set(PlanOptions.ON_MISMATCH, PlanOptions.OnMismatch.REVERT);
        assertThat(build(revert).controlRejected()).isNotNull();
        assertThat(build(new Configuration()).controlRejected()).as("no control input at all").isNull();
    }
}
