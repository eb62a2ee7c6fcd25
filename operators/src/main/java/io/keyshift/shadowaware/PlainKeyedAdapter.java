package io.keyshift.shadowaware;

import io.keyshift.event.Event;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Runs a {@link ShadowAwareFunction} behind a plain {@code keyBy(key)}, in event-time order per key (ties by source
 * sequence), exactly as {@link ShadowAwareAdapter} does: the reference twin of a keyshift run.
 */
public class PlainKeyedAdapter<OUT> extends KeyedProcessFunction<String, Event, OUT> {
    private static final long serialVersionUID = 1L;

    private final ShadowAwareFunction<OUT> function;
    private transient MapState<Long, List<Event>> buffer;

    public PlainKeyedAdapter(ShadowAwareFunction<OUT> function) {
        this.function = function;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        function.open(getRuntimeContext());
        buffer = getRuntimeContext().getMapState(new MapStateDescriptor<>("plain-buffer", Types.LONG,
                Types.LIST(TypeInformation.of(Event.class))));
    }

    @Override
    public void processElement(Event e, Context ctx, Collector<OUT> out) throws Exception {
        List<Event> at = buffer.get(e.timestamp);
        if (at == null) {
            at = new ArrayList<>(2);
        }
        at.add(e);
        buffer.put(e.timestamp, at);
        ctx.timerService().registerEventTimeTimer(e.timestamp);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<OUT> out) throws Exception {
        List<Event> due = buffer.get(timestamp);
        if (due == null) {
            return;
        }
        buffer.remove(timestamp);
        due.sort(Comparator.comparingLong((Event x) -> x.sequence));
        for (Event e : due) {
            function.processElement(e, out);
        }
    }
}
