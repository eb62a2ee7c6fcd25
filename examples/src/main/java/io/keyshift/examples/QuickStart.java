package io.keyshift.examples;

import io.keyshift.api.Keyshift;
import io.keyshift.api.KeyshiftStream;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

import java.time.Duration;

/**
 * The README's "Use keyshift in your job": bytes per user over a sliding window, on a user's own record type (a Java
 * record). {@link #totals} holds the README's snippet word for word ({@code QuickStartTest} checks both), and
 * {@link #twin} the plain-Flink job it replaces.
 */
public final class QuickStart {
    private QuickStart() {}

    /** A user's click: any type Flink can serialize (here a Java record, a Flink POJO). */
    public record Click(String user, long ts, int bytes) {}

    /** Bytes of one user in one window. */
    public record Total(String user, long windowEnd, long bytes) {}

    /** Sum of the clicks' bytes. */
    public static class SumBytes implements AggregateFunction<Click, Long, Long> {
        @Override
        public Long createAccumulator() {
            return 0L;
        }

        @Override
        public Long add(Click c, Long acc) {
            return acc + c.bytes();
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

    /** The user's total with its window. */
    public static class ToTotal extends ProcessWindowFunction<Long, Total, String, TimeWindow> {
        @Override
        public void process(String user, Context ctx, Iterable<Long> sums, Collector<Total> out) {
            out.collect(new Total(user, ctx.window().getEnd(), sums.iterator().next()));
        }
    }

    /** The keyshift stage and its results. */
    public record Job(KeyshiftStream<Click, String> users, DataStream<Total> totals) {}

    /** The job behind keyshift; {@code conf} holds the keyshift.* options. */
    public static Job totals(DataStream<Click> clicks, ReadableConfig conf) {
        // README begin
        KeyshiftStream<Click, String> users = Keyshift.keyBy(clicks, Click::user, Types.STRING)
                .configure(conf)                     // keyshift.* options, checked here: a bad one fails the build
                .uidPrefix("clicks");                // stable operator uids clicks-router, clicks-planner, ...
        DataStream<Total> totals = users
                .window(SlidingEventTimeWindows.of(Duration.ofMinutes(3), Duration.ofMinutes(1)))
                .allowedLateness(Duration.ofSeconds(30))
                .aggregate(new SumBytes(), new ToTotal());   // the results of clicks.keyBy(Click::user)...
        // README end
        return new Job(users, totals);
    }

    /** The plain-Flink job. */
    public static DataStream<Total> twin(DataStream<Click> clicks) {
        return clicks.keyBy(Click::user, Types.STRING)
                .window(SlidingEventTimeWindows.of(Duration.ofMinutes(3), Duration.ofMinutes(1)))
                .allowedLateness(Duration.ofSeconds(30))
                .aggregate(new SumBytes(), new ToTotal());
    }

    /**
     * {@code n} generated clicks over {@code hours} hours of event time: 500 users, a third of the clicks from a hot
     * set of five that changes every 20 minutes; up to 20 s out of order (watermarks bound it).
     */
    public static DataStream<Click> clicks(StreamExecutionEnvironment env, long n, int hours) {
        long span = Duration.ofHours(hours).toMillis();
        return env.fromSequence(0, n - 1)
                .uid("clicks-sequence")                      // stable uids: a savepoint maps state by them
                .map(i -> {
                    long z = mix(i);
                    long ts = i * span / n - Math.floorMod(z >>> 40, 20_000);
                    long block = Math.max(0, ts) / Duration.ofMinutes(20).toMillis();
                    long user = Math.floorMod(z, 3) == 0 ? Math.floorMod(block * 7 + Math.floorMod(z >>> 8, 5), 500)
                            : Math.floorMod(z >>> 16, 500);
                    return new Click("user-" + user, ts, (int) Math.floorMod(z >>> 32, 1500));
                })
                .returns(Click.class)
                .uid("clicks-generate")
                .assignTimestampsAndWatermarks(WatermarkStrategy.<Click>forBoundedOutOfOrderness(
                        Duration.ofSeconds(20)).withTimestampAssigner((c, t) -> c.ts()))
                .uid("clicks-watermarks");
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Runs the snippet over 200,000 generated clicks (six hours), printing the totals: on a local MiniCluster from an
     * IDE, on the cluster under {@code flink run}. Takes no arguments: {@code --help} prints the usage, anything else
     * is refused (an {@link IllegalArgumentException} with the usage; no System.exit, as in {@link ExampleArgs}).
     */
    public static void main(String[] args) throws Exception {
        String usage = "usage: flink run -c " + QuickStart.class.getName() + " keyshift-examples.jar";
        if (args.length == 1 && args[0].equals("--help")) {
            System.out.println(usage + " (no arguments: the clicks are generated)");
            return;
        }
        if (args.length > 0) {
            throw new IllegalArgumentException("QuickStart takes no arguments (it generates its clicks), was "
                    + String.join(" ", args) + " (" + usage + ")");
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        printing(env);
        env.execute("keyshift quick start");
    }

    /** {@link #main}'s job on {@code env}: every operator with a stable uid. */
    static void printing(StreamExecutionEnvironment env) {
        // the keyshift.* options flink run gets (-D, the cluster's config.yaml), the example's window over them
        Configuration conf = Configuration.fromMap(env.getConfiguration().toMap());
        conf.setString("keyshift.window", "5min");
        Job job = totals(clicks(env, 200_000, 6), conf);
        job.totals().print().uid("clicks-totals-print");
        job.users().validation().print().uid("clicks-validation-print");
    }
}
