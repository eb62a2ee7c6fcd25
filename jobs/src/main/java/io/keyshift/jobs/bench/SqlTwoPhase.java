package io.keyshift.jobs.bench;

import io.keyshift.jobs.event.Event;
import io.keyshift.jobs.workload.CapacityModel;

import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.types.Row;

import java.time.Duration;

/**
 * The bench's peer: the skew remedy a Flink user reaches for first, Flink SQL's two-phase (local-global) window
 * aggregation. The same per-key tumbling-window count and sum as keyBy and keyshift, written as a window table-valued
 * function over the same stream, with {@code table.optimizer.agg-phase-strategy = TWO_PHASE} and mini-batch on: each
 * source subtask pre-aggregates its records per key and window (the local phase, chained to the source), and only the
 * partial aggregates cross the exchange to the global phase. Source: Flink's documentation, "Performance Tuning",
 * "Local-Global Aggregation", and "Window Aggregation".
 *
 * <p>The capacity model's service time is paid where the aggregate function takes each record: in the local phase,
 * i.e. spread over the source subtasks, before the skewed exchange. That is the point of the remedy; it is also why it
 * fits only aggregates that can be merged.
 */
final class SqlTwoPhase {
    private SqlTwoPhase() {}

    /** Mini-batch latency and size of the peer (Flink's tuning guide's example values). */
    static final Duration MINI_BATCH_LATENCY = Duration.ofMillis(100);
    static final long MINI_BATCH_SIZE = 5_000;

    /**
     * Checks that the SQL peer can window by {@code d}.
     *
     * @throws IllegalArgumentException unless {@code d} is a whole number of seconds, at least 1
     */
    static void checkWindow(Duration d) {
        if (d.toSeconds() <= 0 || d.getNano() != 0) {
            throw new IllegalArgumentException("the SQL peer needs a window of whole seconds, was " + d);
        }
    }

    /** A SQL interval literal of {@code d} (whole seconds at least). */
    static String interval(Duration d) {
        checkWindow(d);
        long s = d.toSeconds();
        if (s % 86_400 == 0) {
            return "INTERVAL '" + s / 86_400 + "' DAY(" + Long.toString(s / 86_400).length() + ")";
        }
        if (s % 3_600 == 0) {
            return "INTERVAL '" + s / 3_600 + "' HOUR(" + Long.toString(s / 3_600).length() + ")";
        }
        if (s % 60 == 0) {
            return "INTERVAL '" + s / 60 + "' MINUTE(" + Long.toString(s / 60).length() + ")";
        }
        return "INTERVAL '" + s + "' SECOND(" + Long.toString(s).length() + ")";
    }

    /** sum(value) that serves each record through the capacity model (and records its latency) first. */
    public static final class ServeSum extends AggregateFunction<Double, ServeSum.Acc> {
        private static final long serialVersionUID = 1L;
        private final CapacityModel capacity;

        ServeSum(CapacityModel capacity) {
            this.capacity = capacity;
        }

        /** The accumulator: a Flink POJO. */
        public static final class Acc {
            public double sum;
        }

        @Override
        public Acc createAccumulator() {
            return new Acc();
        }

        public void accumulate(Acc acc, Double value) {
            capacity.serve(value);
            acc.sum += value;
        }

        public void merge(Acc acc, Iterable<Acc> others) {
            for (Acc o : others) {
                acc.sum += o.sum;
            }
        }

        @Override
        public Double getValue(Acc acc) {
            return acc.sum;
        }
    }

    /**
     * Adds the two-phase aggregation behind {@code events} (timestamps and watermarks assigned); returns per key and
     * window: {@code k, window_start, cnt, s}.
     */
    static DataStream<Row> build(StreamExecutionEnvironment env, DataStream<Event> events, Duration window,
                                 CapacityModel capacity) {
        EnvironmentSettings settings = EnvironmentSettings.newInstance().inStreamingMode().build();
        StreamTableEnvironment t = StreamTableEnvironment.create(env, settings);
        var conf = t.getConfig();
        conf.set("table.exec.mini-batch.enabled", "true");
        conf.set("table.exec.mini-batch.allow-latency", MINI_BATCH_LATENCY.toMillis() + " ms");
        conf.set("table.exec.mini-batch.size", Long.toString(MINI_BATCH_SIZE));
        conf.set("table.optimizer.agg-phase-strategy", "TWO_PHASE");
        // windows over a TIMESTAMP_LTZ time attribute start at the session time zone's boundaries (Flink's default is
        // the JVM's zone): UTC, as keyBy's and keyshift's TumblingEventTimeWindows, whatever the machine's zone
        conf.set("table.local-time-zone", "UTC");
        // keyshift's Event has its own serializer (not a POJO to the planner): hand the table rows of its fields
        DataStream<Row> rows = events.map(e -> Row.of(e.key, e.value))
                .returns(org.apache.flink.api.common.typeinfo.Types.ROW_NAMED(new String[] {"k", "v"},
                        org.apache.flink.api.common.typeinfo.Types.STRING,
                        org.apache.flink.api.common.typeinfo.Types.DOUBLE))
                .name("event to row");
        Table table = t.fromDataStream(rows, Schema.newBuilder()
                .columnByMetadata("rt", org.apache.flink.table.api.DataTypes.TIMESTAMP_LTZ(3), "rowtime")
                .watermark("rt", "SOURCE_WATERMARK()")
                .build());
        t.createTemporaryView("events", table);
        t.createTemporarySystemFunction("serve_sum", new ServeSum(capacity));
        Table result = t.sqlQuery("SELECT k, window_start, COUNT(*) AS cnt, serve_sum(v) AS s "
                + "FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(rt), " + interval(window) + ")) "
                + "GROUP BY k, window_start, window_end");
        return t.toDataStream(result);
    }
}
