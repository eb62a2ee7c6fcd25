package io.keyshift.examples;

import io.keyshift.api.Keyshift;
import io.keyshift.api.KeyshiftStream;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Example 2: a {@link KeyedProcessFunction} with event-time timers and keyed state: a per-terminal rush alarm. It
 * counts each terminal's departures of the last 30 minutes (a {@code MapState} of departures per start time, exact to
 * the millisecond: the bike-share times are whole minutes; bucketing finer times into minutes would move the 30-minute
 * boundaries, and the state holds one entry per distinct time within them) and
 * raises a RUSH alarm when a departure brings that count to {@value #THRESHOLD}; an event-time timer 30 minutes after
 * each departure reports CALM when the count drops below the threshold again, and removes what has expired. A
 * {@code ValueState} keeps the last departure, for the gap each RUSH alarm reports.
 *
 * <p>Its outputs depend only on event time, never on when a watermark happens to arrive: a timer at {@code T} counts
 * only departures up to {@code T}, and a departure counts only those of the 30 minutes before it. (A function whose
 * output depends on how far the watermark lags the records is not deterministic even behind a plain {@code keyBy},
 * and keyshift's routing adds watermark lag.) Its state reaches back 30 minutes and its timers fire 30 minutes after
 * what set them: that is the state horizon it declares to keyshift.
 */
public final class DepartureAlarm {
    private DepartureAlarm() {}

    static final Duration WINDOW = Duration.ofMinutes(30);
    static final int THRESHOLD = 8;

    /** An alarm: terminal (from {@code ctx.getCurrentKey()}), RUSH or CALM, when, the departures of 30 minutes. */
    public static class Alarm {
        public int terminal;
        public String kind;
        public long at;
        public int departures;
        /** Ms since the terminal's previous departure, -1 if none in the last 30 minutes (CALM: -1). */
        public long gap;

        public Alarm() {}

        @Override
        public String toString() {
            return terminal + "," + kind + "," + at + "," + departures + "," + gap;
        }
    }

    /** The rush alarm. */
    public static class RushAlarm extends KeyedProcessFunction<Integer, BikeTrip, Alarm> {
        private transient MapState<Long, Integer> perMinute;
        private transient ValueState<Long> lastDeparture;

        @Override
        public void open(OpenContext ctx) {
            perMinute = getRuntimeContext().getMapState(new MapStateDescriptor<>("departures-per-minute", Types.LONG,
                    Types.INT));
            lastDeparture = getRuntimeContext().getState(new ValueStateDescriptor<>("last-departure", Types.LONG));
        }

        @Override
        public void processElement(BikeTrip trip, Context ctx, Collector<Alarm> out) throws Exception {
            if (ctx.getCurrentKey() != trip.startTerminal) {
                throw new IllegalStateException("getCurrentKey() is " + ctx.getCurrentKey() + ", the trip's terminal "
                        + trip.startTerminal);
            }
            Integer m = perMinute.get(trip.start);
            perMinute.put(trip.start, m == null ? 1 : m + 1);
            ctx.timerService().registerEventTimeTimer(trip.start + WINDOW.toMillis());
            Long last = lastDeparture.value();
            long gap = last == null || last <= trip.start - WINDOW.toMillis() ? -1 : trip.start - last;
            lastDeparture.update(trip.start);
            int n = departures(trip.start);
            if (n == THRESHOLD) {
                out.collect(alarm(ctx.getCurrentKey(), "RUSH", trip.start, n, gap));
            }
        }

        @Override
        public void onTimer(long timestamp, OnTimerContext ctx, Collector<Alarm> out) throws Exception {
            // every departure up to the timer's time is in (the watermark passed it); later ones are not counted
            int before = departures(timestamp - 1);
            int now = departures(timestamp);
            if (before >= THRESHOLD && now < THRESHOLD) {
                out.collect(alarm(ctx.getCurrentKey(), "CALM", timestamp, now, -1));
            }
            List<Long> expired = new ArrayList<>();
            for (Long start : perMinute.keys()) {
                if (start <= timestamp - WINDOW.toMillis()) {
                    expired.add(start);
                }
            }
            for (Long start : expired) {
                perMinute.remove(start);
            }
            Long last = lastDeparture.value();
            if (last != null && last <= timestamp - WINDOW.toMillis()) {
                lastDeparture.clear();
            }
        }

        /** Departures in {@code (t - 30 min, t]}. */
        private int departures(long t) throws Exception {
            int n = 0;
            for (Map.Entry<Long, Integer> e : perMinute.entries()) {
                if (e.getKey() > t - WINDOW.toMillis() && e.getKey() <= t) {
                    n += e.getValue();
                }
            }
            return n;
        }

        private static Alarm alarm(int terminal, String kind, long at, int departures, long gap) {
            Alarm a = new Alarm();
            a.terminal = terminal;
            a.kind = kind;
            a.at = at;
            a.departures = departures;
            a.gap = gap;
            return a;
        }
    }

    /** The alarm behind keyshift (state horizon: the alarm's 30 minutes). */
    public static DataStream<Alarm> build(KeyshiftStream<BikeTrip, Integer> terminals) {
        return terminals.process(new RushAlarm(), WINDOW);
    }

    /** Its plain-Flink twin. */
    public static DataStream<Alarm> twin(DataStream<BikeTrip> trips) {
        return trips.keyBy(t -> t.startTerminal, Types.INT).process(new RushAlarm());
    }

    /** Runs the example: {@code <trips.csv.gz> [parallelism]} (default 4). */
    public static void main(String[] args) throws Exception {
        ExampleArgs a = ExampleArgs.parse(args, DepartureAlarm.class);
        if (a == null) {
            return;
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        int parallelism = a.parallelism();
        // the keyshift.* options flink run gets (-D, the cluster's config.yaml), the example's window over them
        Configuration conf = Configuration.fromMap(env.getConfiguration().toMap());
        conf.setString("keyshift.window", "1h");
        KeyshiftStream<BikeTrip, Integer> terminals = Keyshift
                .keyBy(BikeTrip.read(env, a.trips()), t -> t.startTerminal, Types.INT)
                .configure(conf)
                .uidPrefix("rush-alarm")
                .parallelism(parallelism);
        build(terminals).print().uid("rush-alarm-print");
        env.execute("keyshift example: departure rush alarm");
    }
}
