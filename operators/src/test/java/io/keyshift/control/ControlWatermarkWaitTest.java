package io.keyshift.control;

import org.apache.flink.streaming.runtime.tasks.TestProcessingTimeService;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The watch over what an operator holds for the control input's watermark. */
class ControlWatermarkWaitTest {

    /**
     * Held past the timeout without a release, the task fails naming the timeout as it was set: 500 ms, not "0 s"
     * (whole seconds were printed, as the router's message did before).
     */
    @Test
    void aSubSecondTimeoutIsNamedInMilliseconds() throws Exception {
        TestProcessingTimeService time = new TestProcessingTimeService();
        time.setCurrentTime(1_000);
        ControlWatermarkWait wait = new ControlWatermarkWait(500, time, () -> "1 profile");
        wait.afterDrain(true, false);
        time.setCurrentTime(1_400);
        assertThatThrownBy(() -> time.setCurrentTime(1_600)).hasStackTraceContaining("held the plans back for 500 ms "
                + "of processing time (1 profile)");
        TestProcessingTimeService seconds = new TestProcessingTimeService();
        seconds.setCurrentTime(0);
        ControlWatermarkWait inSeconds = new ControlWatermarkWait(2_000, seconds, () -> "1 forecast");
        inSeconds.afterDrain(true, false);
        assertThatThrownBy(() -> seconds.setCurrentTime(2_000)).hasStackTraceContaining("held the plans back for 2 s "
                + "of processing time");
    }
}
