package io.keyshift.examples;

import io.keyshift.api.Keyshift;
import io.keyshift.api.KeyshiftStream;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

import java.time.Duration;

/**
 * Example 1: a user POJO ({@link BikeTrip}) keyed by an {@code int} (the start terminal), a sliding window of three
 * hours every hour with ten minutes of allowed lateness, an incremental aggregate and a {@link ProcessWindowFunction}:
 * the departures and their mean duration per terminal. The plain-Flink job reads
 * {@code trips.keyBy(t -> t.startTerminal).window(...)...}; with keyshift only the {@code keyBy} line changes.
 *
 * <p>On a cluster: {@code flink run -c io.keyshift.examples.SlidingTripStats examples/target/keyshift-examples.jar
 * <trips.csv.gz> [parallelism]}; in an IDE, run {@code main} (a local MiniCluster).
 */
public final class SlidingTripStats {
    private SlidingTripStats() {}

    static final Duration SIZE = Duration.ofHours(3);
    static final Duration SLIDE = Duration.ofHours(1);
    static final Duration LATENESS = Duration.ofMinutes(10);

    /** The statistics of one terminal in one window. Flink POJO. */
    public static class Stats {
        public int terminal;
        public long windowStart;
        public long windowEnd;
        public long trips;
        public double meanDurationSeconds;

        public Stats() {}

        @Override
        public String toString() {
            return terminal + "," + windowStart + "," + windowEnd + "," + trips + "," + meanDurationSeconds;
        }
    }

    /** Trips and their total duration. */
    public static class TripsAndDuration implements AggregateFunction<BikeTrip, long[], long[]> {
        @Override
        public long[] createAccumulator() {
            return new long[2];
        }

        @Override
        public long[] add(BikeTrip t, long[] acc) {
            acc[0]++;
            acc[1] += t.duration;
            return acc;
        }

        @Override
        public long[] getResult(long[] acc) {
            return acc;
        }

        @Override
        public long[] merge(long[] a, long[] b) {
            return new long[] {a[0] + b[0], a[1] + b[1]};
        }
    }

    /** The window function: the terminal's statistics with the window. */
    public static class ToStats extends ProcessWindowFunction<long[], Stats, Integer, TimeWindow> {
        @Override
        public void process(Integer terminal, Context ctx, Iterable<long[]> sums, Collector<Stats> out) {
            long[] s = sums.iterator().next();
            Stats stats = new Stats();
            stats.terminal = terminal;
            stats.windowStart = ctx.window().getStart();
            stats.windowEnd = ctx.window().getEnd();
            stats.trips = s[0];
            stats.meanDurationSeconds = s[0] == 0 ? 0 : (double) s[1] / s[0];
            out.collect(stats);
        }
    }

    /** The job behind keyshift, on {@code terminals} (a stage its caller has configured: keyshift.window, ...). */
    public static DataStream<Stats> build(KeyshiftStream<BikeTrip, Integer> terminals) {
        return terminals
                .window(SlidingEventTimeWindows.of(SIZE, SLIDE))
                .allowedLateness(LATENESS)
                .aggregate(new TripsAndDuration(), new ToStats());
    }

    /** Its plain-Flink twin. */
    public static DataStream<Stats> twin(DataStream<BikeTrip> trips) {
        return trips.keyBy(t -> t.startTerminal, Types.INT)
                .window(SlidingEventTimeWindows.of(SIZE, SLIDE))
                .allowedLateness(LATENESS)
                .aggregate(new TripsAndDuration(), new ToStats());
    }

    /** Runs the example: {@code <trips.csv.gz> [parallelism]} (default 4). */
    public static void main(String[] args) throws Exception {
        ExampleArgs a = ExampleArgs.parse(args, SlidingTripStats.class);
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
                .uidPrefix("trip-stats")
                .parallelism(parallelism);
        build(terminals).print().uid("trip-stats-print");
        terminals.validation().print().uid("trip-stats-validation-print");
        env.execute("keyshift example: sliding trip statistics");
    }
}
