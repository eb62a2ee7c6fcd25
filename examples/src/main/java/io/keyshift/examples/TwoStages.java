package io.keyshift.examples;

import io.keyshift.api.Keyshift;
import io.keyshift.api.KeyshiftStream;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

import java.time.Duration;

/**
 * Example 3: two keyshift stages in one job, each with its own uid prefix and key: hourly departures per start
 * station (a {@code String} key) and the same hours' trips per end terminal (an {@code int} key), from the same
 * trips. Every trip's event time is its start ({@link BikeTrip#read}): the second stage counts the trips bound for a
 * terminal by the hour they left, not by the hour they arrived.
 */
public final class TwoStages {
    private TwoStages() {}

    /** Trips in an hour, for one key. */
    public static class Count implements AggregateFunction<BikeTrip, Long, Long> {
        @Override
        public Long createAccumulator() {
            return 0L;
        }

        @Override
        public Long add(BikeTrip t, Long acc) {
            return acc + 1;
        }

        @Override
        public Long getResult(Long acc) {
            return acc;
        }

        @Override
        public Long merge(Long a, Long b) {
            return a + b;
        }
    }

    /** "key,windowStart,count". */
    public static class Label<K> extends ProcessWindowFunction<Long, String, K, TimeWindow> {
        @Override
        public void process(K key, Context ctx, Iterable<Long> counts, Collector<String> out) {
            out.collect(key + "," + ctx.window().getStart() + "," + counts.iterator().next());
        }
    }

    /** Departures per start station and hour behind keyshift stage "departures". */
    public static DataStream<String> departures(KeyshiftStream<BikeTrip, String> stations) {
        return stations.window(TumblingEventTimeWindows.of(Duration.ofHours(1))).aggregate(new Count(), new Label<>());
    }

    /**
     * Trips per end terminal and departure hour (the trips' event time is their start) behind keyshift stage
     * "arrivals".
     */
    public static DataStream<String> arrivals(KeyshiftStream<BikeTrip, Integer> terminals) {
        return terminals.window(TumblingEventTimeWindows.of(Duration.ofHours(1))).aggregate(new Count(), new Label<>());
    }

    /** Runs the example: {@code <trips.csv.gz> [parallelism]} (default 4). */
    public static void main(String[] args) throws Exception {
        ExampleArgs a = ExampleArgs.parse(args, TwoStages.class);
        if (a == null) {
            return;
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        int parallelism = a.parallelism();
        // the keyshift.* options flink run gets (-D, the cluster's config.yaml), the example's window over them
        Configuration conf = Configuration.fromMap(env.getConfiguration().toMap());
        conf.setString("keyshift.window", "1h");
        DataStream<BikeTrip> trips = BikeTrip.read(env, a.trips());
        departures(Keyshift.keyBy(trips, t -> t.startStation, Types.STRING).configure(conf).uidPrefix("departures")
                .parallelism(parallelism)).print().uid("departures-print");
        arrivals(Keyshift.keyBy(trips, t -> t.endTerminal, Types.INT).configure(conf).uidPrefix("arrivals")
                .parallelism(parallelism)).print().uid("arrivals-print");
        env.execute("keyshift example: two stages");
    }
}
