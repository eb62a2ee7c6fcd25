package io.keyshift.api;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.time.Duration;

/** A synthetic click stream for API tests: skewed users whose hot set moves through the day. */
final class Clicks {
    private Clicks() {}

    /** A user's click. Flink POJO. */
    public static class Click {
        public String user;
        public int userId;
        public long ts;
        public int bytes;

        public Click() {}

        Click(String user, int userId, long ts, int bytes) {
            this.user = user;
            this.userId = userId;
            this.ts = ts;
            this.bytes = bytes;
        }
    }

    static final long HOUR = Duration.ofHours(1).toMillis();

    /**
     * {@code n} clicks over {@code days} days, in time order per source subtask: 300 users, a quarter of the clicks
     * from a hot set of ten users that changes every six hours.
     */
    static DataStream<Click> stream(StreamExecutionEnvironment env, long n, double days) {
        return stream(env, n, days, 1);
    }

    /**
     * As {@link #stream}, with the clicks dealt round-robin over {@code interleave} equal parts of the sequence: with
     * as many source subtasks, each covers the whole span in time order, so a key's records of one window come from
     * all of them (with 1, each source subtask covers its own stretch of time).
     */
    static DataStream<Click> stream(StreamExecutionEnvironment env, long n, double days, int interleave) {
        long span = (long) (days * 24 * HOUR);
        long part = n / interleave;
        // with interleaved parts, each part goes to a subtask of its own: fromSequence hands its splits to whichever
        // reader asks first, and a reader that read two parts (each spanning the whole time) made the second one late
        DataStream<Long> sequence = interleave == 1 ? env.fromSequence(0, n - 1)
                : env.fromSequence(0, part * interleave - 1).setParallelism(1).partitionCustom(
                        (org.apache.flink.api.common.functions.Partitioner<Integer>) (k, partitions) -> k % partitions,
                        (org.apache.flink.api.java.functions.KeySelector<Long, Integer>) s -> (int) (s / part));
        return sequence
                .map(s -> {
                    long i = interleave == 1 ? s : (s % part) * interleave + s / part;
                    long ts = i * span / n;
                    long mix = mix(i);
                    int user;
                    if (Math.floorMod(mix, 4) == 0) {
                        long block = ts / (6 * HOUR);
                        user = (int) Math.floorMod(block * 37 + Math.floorMod(mix >>> 8, 10), 300);
                    } else {
                        user = (int) Math.floorMod(mix >>> 16, 300);
                    }
                    return new Click("user-" + user, user, ts, (int) Math.floorMod(mix >>> 32, 1000));
                })
                .returns(Click.class)
                .assignTimestampsAndWatermarks(WatermarkStrategy.<Click>forBoundedOutOfOrderness(Duration.ofMinutes(1))
                        .withTimestampAssigner((c, t) -> c.ts));
    }

    /**
     * As {@link #stream}, from one source subtask, with every {@code lateEvery}-th click of the second half of the
     * span dated {@code behind} earlier: late under any watermark that has reached the click's own position.
     */
    static DataStream<Click> streamWithLateClicks(StreamExecutionEnvironment env, long n, double days, int lateEvery,
                                                  Duration behind) {
        long span = (long) (days * 24 * HOUR);
        return env.fromSequence(0, n - 1).setParallelism(1)
                .map(i -> {
                    long ts = i * span / n;
                    long mix = mix(i);
                    int user = Math.floorMod(mix, 4) == 0
                            ? (int) Math.floorMod((ts / (6 * HOUR)) * 37 + Math.floorMod(mix >>> 8, 10), 300)
                            : (int) Math.floorMod(mix >>> 16, 300);
                    if (i >= n / 2 && i % lateEvery == 0) {
                        ts -= behind.toMillis();
                    }
                    return new Click("user-" + user, user, ts, (int) Math.floorMod(mix >>> 32, 1000));
                })
                .returns(Click.class).setParallelism(1)
                .assignTimestampsAndWatermarks(WatermarkStrategy.<Click>forGenerator(ctx -> new PunctuatedWatermarks())
                        .withTimestampAssigner((c, t) -> c.ts)).setParallelism(1);
    }

    /** A watermark one minute behind the latest click after every click: lateness decided by record order alone. */
    static final class PunctuatedWatermarks implements WatermarkGenerator<Click> {
        private long max = Long.MIN_VALUE + Duration.ofMinutes(1).toMillis() + 1;

        @Override
        public void onEvent(Click c, long timestamp, WatermarkOutput out) {
            if (timestamp > max) {
                max = timestamp;
                out.emitWatermark(new Watermark(max - Duration.ofMinutes(1).toMillis() - 1));
            }
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput out) {}
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
