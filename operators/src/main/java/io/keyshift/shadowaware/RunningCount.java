package io.keyshift.shadowaware;

import io.keyshift.event.Event;

import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.util.Collector;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Example {@link ShadowAwareFunction}: for every record, the number of records of its key with event time in
 * (t − span, t]. State: records per event-time millisecond of the last span (MapState), pruned as time moves on; the
 * state horizon is the span.
 */
public class RunningCount implements ShadowAwareFunction<RunningCount.Count> {
    private static final long serialVersionUID = 1L;

    private final long spanMillis;
    private transient MapState<Long, Long> perTime;

    /** Output: key, event time, count over the span ending at it. Flink POJO. */
    public static class Count {
        public String key;
        public long timestamp;
        public long count;

        public Count() {}

        public Count(String key, long timestamp, long count) {
            this.key = key;
            this.timestamp = timestamp;
            this.count = count;
        }

        @Override
        public String toString() {
            return key + "," + timestamp + "," + count;
        }
    }

    /** @param span length of the sliding span (> 0) */
    public RunningCount(Duration span) {
        if (span.toMillis() <= 0) {
            throw new IllegalArgumentException("span must be positive");
        }
        this.spanMillis = span.toMillis();
    }

    @Override
    public Duration stateHorizon() {
        return Duration.ofMillis(spanMillis);
    }

    @Override
    public void open(RuntimeContext context) {
        perTime = context.getMapState(new MapStateDescriptor<>("records-per-time", Types.LONG, Types.LONG));
    }

    @Override
    public void processElement(Event event, Collector<Count> out) throws Exception {
        long t = event.timestamp;
        Long c = perTime.get(t);
        perTime.put(t, c == null ? 1 : c + 1);
        long count = 0;
        List<Long> expired = new ArrayList<>();
        for (Map.Entry<Long, Long> e : perTime.entries()) {
            if (e.getKey() <= t - spanMillis) {
                expired.add(e.getKey());
            } else if (e.getKey() <= t) {
                count += e.getValue();
            }
        }
        for (Long k : expired) {
            perTime.remove(k);
        }
        out.collect(new Count(event.key, t, count));
    }

    @Override
    public void clear() {
        perTime.clear();
    }
}
