package io.keyshift.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/** Options of the dynamic router. */
public final class RouteOptions {
    private RouteOptions() {}

    public static final ConfigOption<Integer> MAX_WAITING_RECORDS = ConfigOptions.key("keyshift.route.max-waiting-records")
            .intType()
            .defaultValue(2_000)
            .withDescription("Records (>= 1) one router subtask holds while they wait for a plan's lease before it "
                    + "paces its event input, so that the input backpressures instead of the waiting records growing "
                    + "without bound (a source running ahead of the plans: at a cold start, or catching up on a "
                    + "backlog at full speed). Beyond this many, once the router's input watermark has passed the "
                    + "lease's end (before the first plan: the end of the first window it saw), so that the next "
                    + "plan has everything it needs from this subtask, the router waits for that plan after each "
                    + "further waiting record: up to 50 ms (a plan that comes ends the wait at once; with plans held "
                    + "back, e.g. by a source partition without data and without withIdleness, about 20 records a "
                    + "second per subtask then wait more, so the heap and every checkpoint grow slowly while the "
                    + "input backpressures). Before that it does not pause (a pause could not bring the "
                    + "plan nearer): the records waiting then are bounded by what arrives while the watermark trails "
                    + "the lease's end, i.e. by the source's out-of-orderness. With keyshift.plan.lease-lead 2 or "
                    + "more, records rarely wait in steady state.");

    public static final ConfigOption<java.time.Duration> NO_WATERMARK_TIMEOUT =
            ConfigOptions.key("keyshift.route.no-watermark-timeout")
                    .durationType()
                    .defaultValue(java.time.Duration.ofMinutes(10))
                    .withDescription("Processing time (>= 0; 0: never) for which records may wait for a plan while no "
                            + "watermark has reached the router before the job fails naming the cause: keyshift routes "
                            + "by event time, and without watermarks no plan comes and the waiting records would fill "
                            + "memory. Keep a source's idle timeout (WatermarkStrategy#withIdleness) shorter. The same "
                            + "limit holds for a control input (KeyshiftStream#control) whose watermark holds every "
                            + "plan back: give a live one ControlInputs.liveWatermarks(). It also fails a router "
                            + "whose own watermark stays where it is, below the plans' lease, while more records than "
                            + "keyshift.route.max-waiting-records wait (a partition without records and without an "
                            + "idle timeout).");

    public static final ConfigOption<Integer> HASH_FORMAT =
            ConfigOptions.key("keyshift.route.hash-format")
                    .intType()
                    .noDefaultValue()
                    .withDescription("The routing-key hash format (1 or 2) of a stage that starts without the "
                            + "router's state. A routing key's hash is part of the keyed stage's state, so a stage "
                            + "keeps the format it started with, which its routers keep in their state. Format 2 "
                            + "(builds from 2026-12-04) picks each key's hash from about 2^31 / maxParallelism per "
                            + "key group; format 1 from up to 1,024, so that the keys of a subtask's heap state share "
                            + "hashes once it holds more than about 16,000 keys (at maxParallelism 128 and "
                            + "parallelism 8) and every lookup walks a chain of them. Unset: format 2 for a new stage, "
                            + "the stage's own when restored. A stage restored from a savepoint of an earlier build "
                            + "(format 1, not named in its state) fails until this is set to 1.");

    public static final ConfigOption<Boolean> NATURAL_FIRST_WINDOW =
            ConfigOptions.key("keyshift.route.natural-first-window")
                    .booleanType()
                    .defaultValue(true)
                    .withDescription("Before the first plan, a router subtask routes the records of the planning "
                            + "window of the earliest record it holds at its first input watermark (and earlier ones) "
                            + "to their natural key groups at once (as keyBy would), and the first plan's migrations start after the "
                            + "latest such window; false: every record waits "
                            + "in the router (in memory and in every checkpoint) until the first plan, made once the "
                            + "first window has closed, and plans depend on the input alone, not on how it is split "
                            + "among the router subtasks.");

    /**
     * A {@code keyshift.route.no-watermark-timeout} as a message says it: whole seconds, else milliseconds (not
     * "0 s" for 500 ms).
     */
    public static String timeoutText(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
    }
}
