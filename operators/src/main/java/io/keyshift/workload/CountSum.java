package io.keyshift.workload;

import io.keyshift.event.Event;
import io.keyshift.route.Envelope;
import io.keyshift.route.Role;
import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/**
 * The built-in workload: per key and tumbling event-time window, the count of records and the sum of their values,
 * computed incrementally by Flink's window operator on keyed state. Two entry points compute the same thing: one
 * for plain {@code keyBy(key)} (the hash strategy) and one for routed {@link Envelope}s (keyshift).
 */
public final class CountSum {
    private CountSum() {}

    /** Accumulator: count, sum, and the role of the copies seen (a window must not mix roles). Flink POJO. */
    public static class Acc {
        public long count;
        public double sum;
        /** Bits of the roles seen: 1 = primary, 2 = shadow, 4 = partial; more than one bit is a protocol error. */
        public int roles;

        public Acc() {}
    }

    /** Aggregates events of a plain keyed stream. */
    public static class OfEvents implements AggregateFunction<Event, Acc, Acc> {
        private final CapacityModel capacity;

        public OfEvents() {
            this(CapacityModel.off());
        }

        /** @param capacity BENCHMARK ONLY: service time and latency recording per record */
        public OfEvents(CapacityModel capacity) {
            this.capacity = capacity;
        }

        @Override
        public Acc createAccumulator() {
            return new Acc();
        }

        @Override
        public Acc add(Event e, Acc acc) {
            if (!capacity.isOff()) {
                capacity.serve(e.value);
            }
            acc.count++;
            acc.sum += e.value;
            acc.roles |= 1;
            return acc;
        }

        @Override
        public Acc getResult(Acc acc) {
            return acc;
        }

        @Override
        public Acc merge(Acc a, Acc b) {
            return CountSum.merge(a, b);
        }
    }

    /** Aggregates routed envelopes; remembers whether the copies were primary or shadow. */
    public static class OfEnvelopes implements AggregateFunction<Envelope, Acc, Acc> {
        private final CapacityModel capacity;

        public OfEnvelopes() {
            this(CapacityModel.off());
        }

        /** @param capacity BENCHMARK ONLY: service time and latency recording per record (primary copies only) */
        public OfEnvelopes(CapacityModel capacity) {
            this.capacity = capacity;
        }

        @Override
        public Acc createAccumulator() {
            return new Acc();
        }

        @Override
        public Acc add(Envelope e, Acc acc) {
            if (!capacity.isOff()) {
                if (e.role != Role.SHADOW) {
                    capacity.serve(e.event.value);
                } else {
                    capacity.serve(Double.NaN);
                }
            }
            acc.count++;
            acc.sum += e.event.value;
            acc.roles |= e.role == Role.SHADOW ? 2 : e.role == Role.PARTIAL ? 4 : 1;
            return acc;
        }

        @Override
        public Acc getResult(Acc acc) {
            return acc;
        }

        @Override
        public Acc merge(Acc a, Acc b) {
            return CountSum.merge(a, b);
        }
    }

    static Acc merge(Acc a, Acc b) {
        Acc m = new Acc();
        m.count = a.count + b.count;
        m.sum = a.sum + b.sum;
        m.roles = a.roles | b.roles;
        return m;
    }

    /** Emits the result of a plain keyed window with its natural key group. */
    public static class EmitByKey extends ProcessWindowFunction<Acc, WindowResult, String, TimeWindow> {
        @Override
        public void process(String key, Context ctx, Iterable<Acc> accs, Collector<WindowResult> out) {
            Acc acc = accs.iterator().next();
            int maxP = getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
            out.collect(result(key, KeyGroupRangeAssignment.assignToKeyGroup(key, maxP), ctx.window(), acc,
                    getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(), Role.PRIMARY));
        }
    }

    /** Emits the result of a routed window with the routing key's key group and role. */
    public static class EmitByRoutingKey extends ProcessWindowFunction<Acc, WindowResult, RoutingKey, TimeWindow> {
        private final String corruptShadowKey;

        public EmitByRoutingKey() {
            this(null);
        }

        /** @param corruptShadowKey TEST ONLY: a key whose SHADOW results get count + 1 (null = none) */
        public EmitByRoutingKey(String corruptShadowKey) {
            this.corruptShadowKey = corruptShadowKey;
        }

        @Override
        public void process(RoutingKey key, Context ctx, Iterable<Acc> accs, Collector<WindowResult> out) {
            Acc acc = accs.iterator().next();
            if (Integer.bitCount(acc.roles) > 1) {
                throw new IllegalStateException("window " + ctx.window() + " of " + key + " received copies of "
                        + "different roles (bits " + acc.roles + "): migration and split boundaries must lie on "
                        + "window boundaries");
            }
            Role role = acc.roles == 2 ? Role.SHADOW : acc.roles == 4 ? Role.PARTIAL : Role.PRIMARY;
            WindowResult r = result(key.key, key.keyGroup, ctx.window(), acc,
                    getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(), role);
            if (role == Role.SHADOW && key.key.equals(corruptShadowKey)) {
                r.count++;
            }
            out.collect(r);
        }
    }

    static WindowResult result(String key, int keyGroup, TimeWindow w, Acc acc, int subtask, Role role) {
        WindowResult r = new WindowResult();
        r.key = key;
        r.windowStart = w.getStart();
        r.windowEnd = w.getEnd();
        r.count = acc.count;
        r.sum = acc.sum;
        r.keyGroup = keyGroup;
        r.subtask = subtask;
        r.role = role;
        return r;
    }
}
