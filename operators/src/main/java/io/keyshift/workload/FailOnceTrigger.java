package io.keyshift.workload;

import org.apache.flink.streaming.api.windowing.triggers.EventTimeTrigger;
import org.apache.flink.streaming.api.windowing.triggers.Trigger;
import org.apache.flink.streaming.api.windowing.triggers.TriggerResult;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * TEST ONLY ({@link io.keyshift.config.FaultOptions}): Flink's event-time trigger that throws once, per failure
 * time and fault id in this JVM, when the window operator first receives a record at or after a failure time.
 * The restarted task (restored from the last checkpoint) does not throw again.
 */
public class FailOnceTrigger extends Trigger<Object, TimeWindow> {
    private static final Set<String> FIRED = ConcurrentHashMap.newKeySet();

    private final List<Long> failureTimes;
    private final String faultId;

    public FailOnceTrigger(List<Long> failureTimes, String faultId) {
        this.failureTimes = List.copyOf(failureTimes);
        this.faultId = faultId;
    }

    /** How many of the failures named {@code faultId} have fired in this JVM (for tests). */
    public static long fired(String faultId) {
        return FIRED.stream().filter(f -> f.startsWith(faultId + "@")).count();
    }

    @Override
    public TriggerResult onElement(Object element, long timestamp, TimeWindow window, TriggerContext ctx) throws Exception {
        for (Long t : failureTimes) {
            if (timestamp >= t && FIRED.add(faultId + "@" + t)) {
                throw new IllegalStateException("injected failure (keyshift.fault.window-failure-times) at event time "
                        + timestamp + " >= " + t);
            }
        }
        return EventTimeTrigger.create().onElement(element, timestamp, window, ctx);
    }

    @Override
    public TriggerResult onEventTime(long time, TimeWindow window, TriggerContext ctx) {
        return EventTimeTrigger.create().onEventTime(time, window, ctx);
    }

    @Override
    public TriggerResult onProcessingTime(long time, TimeWindow window, TriggerContext ctx) {
        return TriggerResult.CONTINUE;
    }

    @Override
    public void clear(TimeWindow window, TriggerContext ctx) {
        ctx.deleteEventTimeTimer(window.maxTimestamp());
    }

    @Override
    public boolean canMerge() {
        return false;
    }
}
