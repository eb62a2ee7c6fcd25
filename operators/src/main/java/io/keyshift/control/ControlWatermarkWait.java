package io.keyshift.control;

import org.apache.flink.streaming.runtime.tasks.ProcessingTimeService;

import java.util.function.Supplier;

/**
 * Watches that what an operator holds for the user's control input's watermark moves on: the forecaster's window
 * profiles (until the watermark passes their window), the planner's forecasts (until it passes their plan's start,
 * a few windows later; under {@code on-mismatch=REVERT} the planner also waits up to a window for the validation's
 * reverts, by design and without this watch). A control input whose
 * watermark never passes them (a live input without {@link ControlInputs#liveWatermarks()}: {@code noWatermarks()},
 * or an event-time strategy on a quiet or idle topic) would hold every plan back without a word, while the routers'
 * waiting records fill memory. When nothing held has been released for {@code timeout} of processing time, the next
 * timer fails the task with an {@link IllegalStateException} naming the cause ({@code keyshift.route.no-watermark-timeout}, 0 = never).
 *
 * <p>Used by one operator, on its task thread; not serializable (made in {@code open()}).
 */
public final class ControlWatermarkWait {
    private final long timeoutMillis;
    private final ProcessingTimeService time;
    private final Supplier<String> waiting;
    /** Processing time since which something is held and nothing was released, or Long.MIN_VALUE. */
    private long since = Long.MIN_VALUE;
    private boolean timerSet;

    /**
     * @param timeoutMillis processing time, ms, that held data may wait without any release; 0 = never fail
     * @param time          the operator's processing-time service
     * @param waiting       what is held and since which control watermark, for the message ("3 profiles, the first
     *                      of the window ending at ..., and the control input's watermark is at ...")
     */
    public ControlWatermarkWait(long timeoutMillis, ProcessingTimeService time, Supplier<String> waiting) {
        if (timeoutMillis < 0) {
            throw new IllegalArgumentException("timeout must be >= 0, was " + timeoutMillis);
        }
        this.timeoutMillis = timeoutMillis;
        this.time = time;
        this.waiting = waiting;
    }

    /** After each attempt to release: {@code held} whether anything is still held, {@code released} whether any was. */
    public void afterDrain(boolean held, boolean released) {
        if (!held) {
            since = Long.MIN_VALUE;
            return;
        }
        if (released || since == Long.MIN_VALUE) {
            since = time.getCurrentProcessingTime();
        }
        if (timeoutMillis > 0 && !timerSet) {
            timerSet = true;
            time.registerTimer(since + timeoutMillis, this::check);
        }
    }

    private void check(long now) {
        timerSet = false;
        if (since == Long.MIN_VALUE) {
            return;
        }
        if (now - since >= timeoutMillis) {
            throw new IllegalStateException("keyshift's control input held the plans back for "
                    + io.keyshift.config.RouteOptions.timeoutText(timeoutMillis) + " of processing time (" + waiting.get() + "): give a live control input (a Kafka topic, a "
                    + "watched directory) ControlInputs.liveWatermarks() as its WatermarkStrategy; a bounded one (a "
                    + "file read once) needs none. keyshift.route.no-watermark-timeout sets how long plans may wait");
        }
        timerSet = true;
        time.registerTimer(since + timeoutMillis, this::check);
    }
}
