package io.keyshift.jobs.source;

import io.keyshift.jobs.event.Event;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;

import java.time.Duration;

/**
 * Watermarks of ascending timestamps for a source that replays history at full speed: the largest timestamp so far
 * − 1 every auto-watermark interval ({@code pipeline.auto-watermark-interval}, as
 * {@link WatermarkStrategy#forMonotonousTimestamps()}), plus one the moment a record opens a new tumbling window of
 * {@code windowMillis}: the last millisecond before that window, which closes every window before it (until
 * 2026-12-06 it was the largest timestamp seen before the record, which left the window just passed open unless a
 * record lay in its last millisecond: a plan, or a scaled replay's lockstep, waited for the next periodic watermark).
 *
 * <p>At full speed a window of event time passes in a few milliseconds of wall time, far less than the interval
 * (200 ms by default). keyshift plans each window once every router's watermark has passed its end, and a router
 * holds records whose window no plan covers yet; with periodic watermarks alone, the plans of a replay advance only
 * a batch of windows per interval. Windows and results do not change: a watermark at a window boundary is one that
 * periodic emission could have produced.
 */
public final class WindowBoundaryWatermarks implements WatermarkGenerator<Event> {
    private final long windowMillis;
    private long max = Long.MIN_VALUE;

    /** @param windowMillis tumbling window length, ms, > 0 */
    public WindowBoundaryWatermarks(long windowMillis) {
        if (windowMillis <= 0) {
            throw new IllegalArgumentException("windowMillis must be > 0, was " + windowMillis);
        }
        this.windowMillis = windowMillis;
    }

    /** The strategy: these watermarks, timestamps from {@link Event#timestamp}. */
    public static WatermarkStrategy<Event> strategy(Duration window) {
        long w = window.toMillis();
        return WatermarkStrategy.<Event>forGenerator(ctx -> new WindowBoundaryWatermarks(w))
                .withTimestampAssigner((e, ts) -> e.timestamp);
    }

    @Override
    public void onEvent(Event e, long ts, WatermarkOutput out) {
        if (max != Long.MIN_VALUE && Math.floorDiv(ts, windowMillis) > Math.floorDiv(max, windowMillis)) {
            // every later record is at ts or after: nothing before ts's window is still to come
            out.emitWatermark(new Watermark(Math.floorDiv(ts, windowMillis) * windowMillis - 1));
        }
        max = Math.max(max, ts);
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput out) {
        if (max != Long.MIN_VALUE) {
            out.emitWatermark(new Watermark(max - 1));
        }
    }
}
