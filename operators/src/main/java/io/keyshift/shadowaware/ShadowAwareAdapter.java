package io.keyshift.shadowaware;

import io.keyshift.route.Envelope;
import io.keyshift.route.Role;
import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Runs a {@link ShadowAwareFunction} behind keyshift's routing key. Every copy, primary and shadow, is processed, so
 * a migrating key's new owner builds its state during the shadow phase. Only outputs of PRIMARY copies go to the main
 * output (authoritative, exactly once); shadow outputs go to the side output given.
 *
 * <p>Order: records are buffered per key and handed to the function in event-time order (ties by the record's
 * source sequence) when the watermark passes them. A key's records arrive from several router subtasks in no fixed
 * order, so this makes the function's outputs deterministic, and equal to {@link PlainKeyedAdapter}'s.
 *
 * <p>Cleanup: each record also sets an event-time timer at its time + state horizon. When that timer fires for
 * the routing key's latest record, no record has reached this (key, key group) for a whole horizon, and the
 * function's state is cleared. A key that moved away stops receiving records at the switch-over, so its old key
 * group holds no state for it once {@code switchAt + horizon} has passed.
 */
public class ShadowAwareAdapter<OUT> extends KeyedProcessFunction<RoutingKey, Envelope, OUT> {
    private static final long serialVersionUID = 1L;

    private final ShadowAwareFunction<OUT> function;
    private final OutputTag<OUT> shadowTag;
    private transient ValueState<Long> lastSeen;
    private transient MapState<Long, List<Envelope>> buffer;

    public ShadowAwareAdapter(ShadowAwareFunction<OUT> function, OutputTag<OUT> shadowTag) {
        this.function = function;
        this.shadowTag = shadowTag;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        function.open(getRuntimeContext());
        lastSeen = getRuntimeContext().getState(new ValueStateDescriptor<>("shadow-aware-last-seen", Types.LONG));
        buffer = getRuntimeContext().getMapState(new MapStateDescriptor<>("shadow-aware-buffer", Types.LONG,
                Types.LIST(TypeInformation.of(Envelope.class))));
    }

    @Override
    public void processElement(Envelope e, Context ctx, Collector<OUT> out) throws Exception {
        long t = e.event.timestamp;
        List<Envelope> at = buffer.get(t);
        if (at == null) {
            at = new ArrayList<>(2);
        }
        at.add(e);
        buffer.put(t, at);
        ctx.timerService().registerEventTimeTimer(t);
        Long last = lastSeen.value();
        if (last == null || t > last) {
            lastSeen.update(t);
        }
        ctx.timerService().registerEventTimeTimer(t + function.stateHorizon().toMillis());
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<OUT> out) throws Exception {
        List<Envelope> due = buffer.get(timestamp);
        if (due != null) {
            buffer.remove(timestamp);
            due.sort(Comparator.comparingLong((Envelope x) -> x.event.sequence));
            for (Envelope e : due) {
                if (e.role == Role.PRIMARY) {
                    function.processElement(e.event, out);
                } else {
                    function.processElement(e.event, new Collector<>() {
                        @Override
                        public void collect(OUT record) {
                            ctx.output(shadowTag, record);
                        }

                        @Override
                        public void close() {}
                    });
                }
            }
        }
        Long last = lastSeen.value();
        if (last != null && last + function.stateHorizon().toMillis() <= timestamp) {
            function.clear();
            lastSeen.clear();
        }
    }
}
