package io.keyshift.control;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;

/** Watermarks for a stage's control input ({@code KeyshiftStream#control}). */
public final class ControlInputs {
    private ControlInputs() {}

    /**
     * For a live control input (a watched directory, a Kafka topic): a watermark of {@code Long.MAX_VALUE} with each
     * command and periodically (Flink's {@code pipeline.auto-watermark-interval}, 200 ms by default; with 0, only with
     * commands), so that the planner does not wait for it (with an interval of 0 and no command yet, none comes, and
     * plans wait for the control input until {@code keyshift.route.no-watermark-timeout}). A command applies to the
     * plans made after it arrives whose migrations start at or after its AT ({@code now}: from the first plan made
     * after it arrives). A bounded input (a file read once) needs no watermarks: at its end Flink sends
     * {@code Long.MAX_VALUE}, after every command, so plans are the same on every run.
     */
    public static <T> WatermarkStrategy<T> liveWatermarks() {
        return ctx -> new WatermarkGenerator<>() {
            @Override
            public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {
                output.emitWatermark(new Watermark(Long.MAX_VALUE));
            }

            @Override
            public void onPeriodicEmit(WatermarkOutput output) {
                output.emitWatermark(new Watermark(Long.MAX_VALUE));
            }
        };
    }
}
