package io.keyshift.api;

import io.keyshift.avro.RoutingPlan;
import io.keyshift.avro.ValidationOutcome;
import io.keyshift.avro.ValidationReport;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.OutputTag;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** End-to-end (MiniCluster): the public API in front of a user's own record type and aggregate. */
@Tag("end-to-end")
class KeyshiftApiTest {

    /** Bytes per user. */
    static class SumBytes implements AggregateFunction<Clicks.Click, long[], Long> {
        @Override
        public long[] createAccumulator() {
            return new long[1];
        }

        @Override
        public long[] add(Clicks.Click c, long[] acc) {
            acc[0] += c.bytes;
            return acc;
        }

        @Override
        public Long getResult(long[] acc) {
            return acc[0];
        }

        @Override
        public long[] merge(long[] a, long[] b) {
            return new long[] {a[0] + b[0]};
        }
    }

    static final class Label extends ProcessWindowFunction<Long, String, String, TimeWindow> {
        @Override
        public void process(String user, Context ctx, Iterable<Long> sums, Collector<String> out) {
            out.collect(user + "," + ctx.window().getStart() + "," + sums.iterator().next());
        }
    }

    private static List<String> sorted(CloseableIterator<String> it) throws Exception {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        it.close();
        out.sort(String::compareTo);
        return out;
    }

    /** Hourly bytes per user with a plain keyBy: the results keyshift must equal. */
    private static List<String> tumblingTwin(long records, double days) throws Exception {
        StreamExecutionEnvironment twinEnv = StreamExecutionEnvironment.createLocalEnvironment(4);
        return sorted(Clicks.stream(twinEnv, records, days)
                .keyBy(c -> c.user, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes(), new Label())
                .executeAndCollect());
    }

    @Test
    void aTumblingAggregateEqualsItsKeyByTwinAcrossMigrations() throws Exception {
        List<String> twin = tumblingTwin(200_000, 7);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(4);
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(Clicks.stream(env, 200_000, 7), c -> c.user,
                Types.STRING).configure(conf);
        DataStream<String> totals = users.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes(), new Label());
        CloseableIterator<String> results = totals.collectAsync();
        CloseableIterator<RoutingPlan> plans = users.plans().collectAsync();
        CloseableIterator<ValidationReport> validation = users.validation().collectAsync();
        CloseableIterator<io.keyshift.profiler.WindowProfile> profiles = users.profiles().collectAsync();
        env.execute("keyshift api test");
        List<String> got = sorted(results);
        List<RoutingPlan> planList = new ArrayList<>();
        plans.forEachRemaining(planList::add);
        // the routers sent their first windows to the natural key groups before the first plan, and its migrations
        // start after them
        io.keyshift.profiler.WindowProfile firstProfile = profiles.next();
        profiles.forEachRemaining(p -> { });
        assertThat(firstProfile.naturalUntil).isGreaterThanOrEqualTo(firstProfile.windowEnd);
        assertThat(planList.stream().flatMap(p -> p.getEntries().stream()).filter(e -> e.getMigration() != null))
                .isNotEmpty().allSatisfy(e -> assertThat(e.getMigration().getShadowFrom())
                        .isGreaterThanOrEqualTo(firstProfile.naturalUntil));
        List<ValidationReport> reports = new ArrayList<>();
        validation.forEachRemaining(reports::add);

        long migrations = planList.stream().mapToLong(RoutingPlan::getMigrationsStarted).sum();
        TreeMap<ValidationOutcome, Integer> outcomes = new TreeMap<>();
        reports.forEach(r -> outcomes.merge(r.getOutcome(), 1, Integer::sum));
        System.out.printf("tumbling: %d results, %d plans, %d migrations, validation %s%n", got.size(),
                planList.size(), migrations, outcomes);
        assertThat(got).isEqualTo(twin);
        assertThat(migrations).isGreaterThanOrEqualTo(20);
        assertThat(outcomes).containsOnlyKeys(ValidationOutcome.MATCH);
    }

    /** One output per click, in the order the window holds them (its records' arrival order). */
    static final class EachClick extends ProcessWindowFunction<Clicks.Click, String, String, TimeWindow> {
        @Override
        public void process(String user, Context ctx, Iterable<Clicks.Click> clicks, Collector<String> out) {
            for (Clicks.Click c : clicks) {
                out.collect(user + "@" + ctx.window().getEnd() + ":" + c.ts + "/" + c.bytes);
            }
        }
    }

    /**
     * A window function that emits one result per record, in the order its window holds them: the old and the new
     * owner get a key's records from four router subtasks interleaved differently, and the shadow's results are the
     * same in another order. Compared as a multiset they match (an ordered checksum had reported mismatches).
     */
    @Test
    void aWindowsResultsInAnotherOrderAtTheShadowStillMatch() throws Exception {
        StreamExecutionEnvironment twinEnv = StreamExecutionEnvironment.createLocalEnvironment(4);
        List<String> twin = sorted(Clicks.stream(twinEnv, 60_000, 3, 4).keyBy(c -> c.user, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1))).process(new EachClick())
                .executeAndCollect());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(4);
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        conf.setString("keyshift.migration.validation", "ALL");
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(Clicks.stream(env, 60_000, 3, 4), c -> c.user,
                Types.STRING).configure(conf);
        CloseableIterator<String> results = users.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .process(new EachClick()).collectAsync();
        CloseableIterator<ValidationReport> validation = users.validation().collectAsync();
        env.execute("keyshift order test");
        List<String> got = sorted(results);
        TreeMap<ValidationOutcome, Integer> outcomes = new TreeMap<>();
        validation.forEachRemaining(r -> outcomes.merge(r.getOutcome(), 1, Integer::sum));
        System.out.printf("per-record window outputs: %d results, validation %s%n", got.size(), outcomes);
        assertThat(got).isEqualTo(twin);
        assertThat(outcomes).containsOnlyKeys(ValidationOutcome.MATCH);
        assertThat(outcomes.get(ValidationOutcome.MATCH)).isGreaterThanOrEqualTo(20);
    }

    /** 60,000 clicks over 3 days by user, hourly planning windows, every migration validated. */
    private static KeyshiftStream<Clicks.Click, String> everyMigrationValidated(StreamExecutionEnvironment env) {
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        conf.setString("keyshift.migration.validation", "ALL");
        return Keyshift.keyBy(Clicks.stream(env, 60_000, 3), c -> c.user, Types.STRING).configure(conf);
    }

    /** Bytes per user, or null for a total divisible by 3 (an aggregate may have no result; Flink's window operator then fires nothing). */
    static final class NullEveryThird implements AggregateFunction<Clicks.Click, long[], Long> {
        private final SumBytes sum = new SumBytes();

        @Override
        public long[] createAccumulator() {
            return sum.createAccumulator();
        }

        @Override
        public long[] add(Clicks.Click c, long[] acc) {
            return sum.add(c, acc);
        }

        @Override
        public Long getResult(long[] acc) {
            return acc[0] % 3 == 0 ? null : acc[0];
        }

        @Override
        public long[] merge(long[] a, long[] b) {
            return sum.merge(a, b);
        }
    }

    /**
     * on-mismatch REVERT with validation NONE over tumbling windows aligned with keyshift.window compares nothing
     * (no migration gets a shadow phase), so no key is ever reverted: the stage says so when it is built; with
     * sliding windows (a correctness shadow is compared) or validation SAMPLE it does not.
     */
    @Test
    void revertWithoutValidationOverAlignedWindowsIsWarnedOf() throws Throwable {
        java.util.function.BiFunction<String, Boolean, List<String>> build = (validation, sliding) -> {
            try {
                return io.keyshift.LogCapture.of(KeyshiftStream.class, () -> {
                    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
                    Configuration conf = new Configuration();
                    conf.setString("keyshift.window", "1h");
                    conf.setString("keyshift.migration.on-mismatch", "REVERT");
                    conf.setString("keyshift.migration.validation", validation);
                    var stage = Keyshift.keyBy(Clicks.stream(env, 100, 1), c -> c.user, Types.STRING).configure(conf);
                    (sliding ? stage.window(org.apache.flink.streaming.api.windowing.assigners
                            .SlidingEventTimeWindows.of(Duration.ofHours(2), Duration.ofHours(1)))
                            : stage.window(TumblingEventTimeWindows.of(Duration.ofHours(1))))
                            .aggregate(new SumBytes(), new Label());
                });
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        };
        assertThat(build.apply("NONE", false)).anySatisfy(l -> assertThat(l).startsWith("WARN ")
                .contains("keyshift.migration.on-mismatch is REVERT but keyshift.migration.validation is NONE")
                .contains("no key is reverted"));
        assertThat(build.apply("SAMPLE", false)).noneMatch(l -> l.contains("on-mismatch is REVERT"));
        assertThat(build.apply("NONE", true)).noneMatch(l -> l.contains("on-mismatch is REVERT"));
    }

    /** A results-path parallelism above the key groups is capped there, with a warning (it was capped silently). */
    @Test
    void aResultsPathParallelismAboveTheKeyGroupsIsWarnedOf() throws Throwable {
        for (int configured : new int[] {64, 32}) {
            List<String> lines = io.keyshift.LogCapture.of(KeyshiftStream.class, () -> {
                StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
                Configuration conf = new Configuration();
                conf.setString("keyshift.window", "1h");
                conf.setString("keyshift.max-parallelism", "32");
                conf.setString("keyshift.results-path.parallelism", Integer.toString(configured));
                Keyshift.keyBy(Clicks.stream(env, 100, 1), c -> c.user, Types.STRING).configure(conf)
                        .window(TumblingEventTimeWindows.of(Duration.ofHours(1))).aggregate(new SumBytes(), new Label());
            });
            if (configured > 32) {
                assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("WARN ")
                        .contains("keyshift.results-path.parallelism is 64, above the 32 key groups")
                        .endsWith("the results path runs at 32"));
            } else {
                assertThat(lines).noneMatch(l -> l.contains("keyshift.results-path.parallelism"));
            }
        }
    }

    /** A walk-through's messages: which read came too early, and how to make a late-data tag of the stream's type. */
    @Test
    void aReadBeforeTheTerminalCallAndALateTagOfAnotherTypeSayWhatToDo() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        var stage = Keyshift.keyBy(Clicks.stream(env, 100, 1), c -> c.user, Types.STRING);
        assertThatThrownBy(stage::plans).hasMessageContaining("plans() reads what the stage built")
                .hasMessageContaining("first");
        var windows = stage.window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        assertThatThrownBy(() -> windows.sideOutputLateData(new org.apache.flink.util.OutputTag<>("late",
                new org.apache.flink.api.java.typeutils.GenericTypeInfo<>(Clicks.Click.class))))
                .hasMessageContaining("make it with the input DataStream's type, new OutputTag<>(\"late\", input.getType())");
    }

    /**
     * A window whose aggregate has no result (null) fires nothing and its window function is not called, as under
     * keyBy (keyshift passed the null on, and List.of(null) threw at the first such window), across migrations whose
     * shadow windows are compared: results equal keyBy's twin, validation finds no mismatch.
     */
    @Test
    void aNullAggregateResultFiresNothingAsWithKeyBy() throws Exception {
        StreamExecutionEnvironment twinEnv = StreamExecutionEnvironment.createLocalEnvironment(4);
        List<String> twin = sorted(Clicks.stream(twinEnv, 60_000, 3).keyBy(c -> c.user, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new NullEveryThird(), new Label()).executeAndCollect());
        // keyBy's: no window with a total divisible by 3, and no null passed on
        assertThat(twin).isNotEmpty().noneMatch(r -> r.endsWith(",null"))
                .allSatisfy(r -> assertThat(Long.parseLong(r.substring(r.lastIndexOf(',') + 1)) % 3).isNotZero());

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(4);
        KeyshiftStream<Clicks.Click, String> users = everyMigrationValidated(env);
        CloseableIterator<String> results = users.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new NullEveryThird(), new Label()).collectAsync();
        CloseableIterator<ValidationReport> validation = users.validation().collectAsync();
        env.execute("keyshift null results");
        List<String> got = sorted(results);
        TreeMap<ValidationOutcome, Integer> outcomes = new TreeMap<>();
        validation.forEachRemaining(r -> outcomes.merge(r.getOutcome(), 1, Integer::sum));
        System.out.printf("null results: %d results, validation %s%n", got.size(), outcomes);
        assertThat(got).isEqualTo(twin);
        // a null result on one side only would show as a missing primary or shadow
        assertThat(outcomes).containsOnlyKeys(ValidationOutcome.MATCH);
    }

    private static final org.apache.flink.util.OutputTag<String> CLEARED =
            new org.apache.flink.util.OutputTag<>("cleared", Types.STRING);

    /** Labels each window's total, and says so in a side output when Flink clears the window. */
    static final class LabelAndClear extends ProcessWindowFunction<Long, String, String, TimeWindow> {
        @Override
        public void process(String user, Context ctx, Iterable<Long> sums, Collector<String> out) {
            out.collect(user + "," + ctx.window().getStart() + "," + sums.iterator().next());
        }

        @Override
        public void clear(Context ctx) {
            ctx.output(CLEARED, ctx.window().getStart() + "," + Keyshift.isShadowCopy());
        }
    }

    /**
     * Side outputs from the window function's clear(): once per window, as from keyBy's one window, across migrations
     * whose shadow windows are compared (they were dropped from every copy: Flink clears the window's contents, with
     * keyshift's ownership flags, before it calls clear).
     */
    @Test
    void sideOutputsFromClearLeaveOncePerWindowAsWithKeyBy() throws Exception {
        StreamExecutionEnvironment twinEnv = StreamExecutionEnvironment.createLocalEnvironment(4);
        var twinResults = Clicks.stream(twinEnv, 60_000, 3).keyBy(c -> c.user, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes(), new LabelAndClear());
        CloseableIterator<String> twinCleared = twinResults.getSideOutput(CLEARED).collectAsync();
        CloseableIterator<String> twinOut = twinResults.collectAsync();
        twinEnv.execute("keyBy twin with clear");
        List<String> twin = sorted(twinCleared);
        sorted(twinOut);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(4);
        KeyshiftStream<Clicks.Click, String> users = everyMigrationValidated(env);
        CloseableIterator<String> results = users.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes(), new LabelAndClear()).collectAsync();
        CloseableIterator<String> cleared = users.sideOutput(CLEARED).collectAsync();
        CloseableIterator<RoutingPlan> plans = users.plans().collectAsync();
        env.execute("keyshift clear side output");
        sorted(results);
        long migrations = 0;
        while (plans.hasNext()) {
            migrations += plans.next().getMigrationsStarted();
        }
        List<String> got = sorted(cleared);
        System.out.printf("clear side outputs: %d (keyBy %d), %d migrations%n", got.size(), twin.size(), migrations);
        assertThat(migrations).isPositive();
        assertThat(twin).isNotEmpty().allSatisfy(l -> assertThat(l).endsWith(",false"));
        assertThat(got).isEqualTo(twin);
    }

    /**
     * sideOutputLateData: clicks two days behind the watermark come out of the late-data side output once each,
     * the same clicks as from keyBy's WindowedStream#sideOutputLateData, and the results equal keyBy's. One source
     * subtask, so that lateness under keyBy is decided by record order alone; a router that paces after each waiting
     * record keeps the plans' lease, and so the keyed stage's watermark, within a few windows of the source's.
     */
    @Test
    void lateRecordsGoToTheLateDataSideOutputOnceEachAsWithKeyBy() throws Exception {
        OutputTag<Clicks.Click> lateTag = new OutputTag<>("late clicks", TypeInformation.of(Clicks.Click.class));
        Duration behind = Duration.ofDays(2);
        StreamExecutionEnvironment twinEnv = StreamExecutionEnvironment.createLocalEnvironment(4);
        SingleOutputStreamOperator<String> twinWindows = Clicks.streamWithLateClicks(twinEnv, 60_000, 6, 97, behind)
                .keyBy(c -> c.user, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .sideOutputLateData(lateTag)
                .aggregate(new SumBytes(), new Label());
        CloseableIterator<String> twinResults = twinWindows.collectAsync();
        CloseableIterator<String> twinLate = twinWindows.getSideOutput(lateTag).map(KeyshiftApiTest::describe)
                .collectAsync();
        twinEnv.execute("keyBy late twin");
        List<String> twin = sorted(twinResults);
        List<String> twinLateClicks = sorted(twinLate);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(4);
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        conf.setString("keyshift.route.max-waiting-records", "1");
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(
                Clicks.streamWithLateClicks(env, 60_000, 6, 97, behind), c -> c.user, Types.STRING)
                .configure(conf).parallelism(4);
        CloseableIterator<String> results = users.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .sideOutputLateData(lateTag)
                .aggregate(new SumBytes(), new Label()).collectAsync();
        CloseableIterator<String> late = users.sideOutput(lateTag).map(KeyshiftApiTest::describe).collectAsync();
        CloseableIterator<RoutingPlan> plans = users.plans().collectAsync();
        env.execute("keyshift late data test");
        List<String> got = sorted(results);
        List<String> lateClicks = sorted(late);
        long migrations = 0;
        while (plans.hasNext()) {
            migrations += plans.next().getMigrationsStarted();
        }
        System.out.printf("late data: %d results, %d late clicks (keyBy %d), %d migrations%n", got.size(),
                lateClicks.size(), twinLateClicks.size(), migrations);
        // every click dated back is late under keyBy, and no other
        assertThat(twinLateClicks).hasSize((int) java.util.stream.LongStream.range(30_000, 60_000)
                .filter(i -> i % 97 == 0).count());
        assertThat(lateClicks).isEqualTo(twinLateClicks);
        assertThat(got).isEqualTo(twin);
        assertThat(migrations).isPositive();
    }

    /** Writes each window's first click to the tag it was made with, and the window's count. */
    static final class FirstClickToTag
            extends ProcessWindowFunction<Clicks.Click, String, String, TimeWindow> {
        private final OutputTag<Clicks.Click> tag;

        FirstClickToTag(OutputTag<Clicks.Click> tag) {
            this.tag = tag;
        }

        @Override
        public void process(String user, Context ctx, Iterable<Clicks.Click> clicks, Collector<String> out) {
            long n = 0;
            for (Clicks.Click c : clicks) {
                if (n++ == 0) {
                    ctx.output(tag, c);
                }
            }
            out.collect(user + "," + ctx.window().getStart() + "," + n);
        }
    }

    /**
     * A window function's outputs to the late-data tag reach {@code sideOutput(tag)} beside the late records, as
     * under keyBy, where both share the window operator's side output (the function's were dropped).
     */
    @Test
    void aWindowFunctionsOutputsToTheLateDataTagAreKeptBesideTheLateRecords() throws Exception {
        OutputTag<Clicks.Click> tag = new OutputTag<>("late or first", TypeInformation.of(Clicks.Click.class));
        Duration behind = Duration.ofDays(2);
        StreamExecutionEnvironment twinEnv = StreamExecutionEnvironment.createLocalEnvironment(2);
        SingleOutputStreamOperator<String> twinWindows = Clicks.streamWithLateClicks(twinEnv, 6_000, 2, 97, behind)
                .keyBy(c -> c.user, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .sideOutputLateData(tag)
                .process(new FirstClickToTag(tag));
        CloseableIterator<String> twinSide = twinWindows.getSideOutput(tag).map(KeyshiftApiTest::describe)
                .collectAsync();
        CloseableIterator<String> twinResults = twinWindows.collectAsync();
        twinEnv.execute("keyBy side output twin");
        List<String> twin = sorted(twinSide);
        List<String> twinWindowResults = sorted(twinResults);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        conf.setString("keyshift.route.max-waiting-records", "1");
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(
                Clicks.streamWithLateClicks(env, 6_000, 2, 97, behind), c -> c.user, Types.STRING)
                .configure(conf).parallelism(2);
        CloseableIterator<String> results = users.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .sideOutputLateData(tag)
                .process(new FirstClickToTag(tag)).collectAsync();
        CloseableIterator<String> side = users.sideOutput(tag).map(KeyshiftApiTest::describe).collectAsync();
        env.execute("keyshift side output test");
        List<String> got = sorted(side);
        assertThat(sorted(results)).isEqualTo(twinWindowResults);
        assertThat(twin.size()).as("late clicks and first clicks").isGreaterThan(twinWindowResults.size());
        assertThat(got).isEqualTo(twin);
    }

    /**
     * Two control inputs are both read: a malformed line from each is refused with its reason (the second call
     * replaced the first input, whose commands never reached the planner); a windowed stream's lateness and late-data
     * tag after its terminal call are refused (they were accepted and ignored, and the late output stayed empty).
     */
    @Test
    void twoControlInputsAreBothReadAndWindowSettingsAfterTheTerminalCallAreRefused() throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(Clicks.stream(env, 2_000, 1), c -> c.user,
                Types.STRING)
                .control(env.fromData("2026-01-05T00:00:00Z,teleport,first"))
                .control(env.fromData("2026-01-05T00:00:00Z,teleport,second"));
        var windows = users.window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        CloseableIterator<Long> totals = windows.aggregate(new SumBytes()).collectAsync();
        CloseableIterator<String> rejected = users.controlRejected().collectAsync();
        assertThatThrownBy(() -> windows.allowedLateness(Duration.ofMinutes(1)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already built");
        assertThatThrownBy(() -> windows.sideOutputLateData(new OutputTag<>("late", users.inputType())))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already built");
        env.execute("two control inputs");
        totals.forEachRemaining(t -> { });
        List<String> refused = new ArrayList<>();
        rejected.forEachRemaining(refused::add);
        assertThat(refused).hasSize(2).anySatisfy(l -> assertThat(l).contains("teleport,first"))
                .anySatisfy(l -> assertThat(l).contains("teleport,second"));
    }

    /** A tag of another type can reach it only unchecked (raw types, or the same class under other type info). */
    @Test
    @SuppressWarnings({"unchecked", "rawtypes"})
    void aLateDataTagOfAnotherTypeIsRefused() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        KeyshiftWindowedStream<Clicks.Click, String, TimeWindow> windows = Keyshift.keyBy(Clicks.stream(env, 10, 1),
                c -> c.user, Types.STRING).window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        assertThatThrownBy(() -> windows.sideOutputLateData((OutputTag) new OutputTag<>("late", Types.STRING)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'late'");
    }

    /**
     * A migrating key's late record is the copy at the owner of its last window, once: with 10 ms windows sliding by
     * 5 and a switch-over at 110, a record at 107 (last window [105, 115), the new owner's) is late where its SHADOW
     * copy is, one at 103 (last window [100, 110), the old owner's) where its MIGRATING copy is. Every PRIMARY and
     * PARTIAL copy passes; markers carry no record.
     */
    @Test
    void theLateDataOfAMigratingKeyIsTheCopyAtTheOwnerOfItsLastWindow() throws Exception {
        KeyshiftWindowedStream.LateRecords<String, String> late = new KeyshiftWindowedStream.LateRecords<>(
                WindowShape.of(org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows.of(
                        Duration.ofMillis(10), Duration.ofMillis(5))));
        io.keyshift.route.RoutingKey<String> rk = io.keyshift.route.RoutingKey.restore("k", 3, 0, 0);
        try (var h = org.apache.flink.streaming.util.ProcessFunctionTestHarnesses.forProcessFunction(late)) {
            for (long t : new long[] {103, 107}) {
                for (io.keyshift.route.Role role : io.keyshift.route.Role.values()) {
                    h.processElement(new io.keyshift.route.Envelope<>(rk, role.isMarker() ? null : role + "@" + t,
                            role, 100, 110), t);
                }
            }
            assertThat(h.extractOutputValues()).containsExactly("PRIMARY@103", "MIGRATING@103", "PARTIAL@103",
                    "PRIMARY@107", "SHADOW@107", "PARTIAL@107");
        }
        // tumbling windows aligned with the switch-over: the record's one window is the old owner's, as before
        KeyshiftWindowedStream.LateRecords<String, String> tumbling = new KeyshiftWindowedStream.LateRecords<>(
                WindowShape.of(TumblingEventTimeWindows.of(Duration.ofMillis(10))));
        assertThat(tumbling.lastWindowMaxTimestamp(107)).isEqualTo(109);
        // hopping windows (a gap from 103 to 110): a record in the gap is judged by its own time
        KeyshiftWindowedStream.LateRecords<String, String> hopping = new KeyshiftWindowedStream.LateRecords<>(
                WindowShape.of(org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows.of(
                        Duration.ofMillis(3), Duration.ofMillis(10))));
        assertThat(hopping.lastWindowMaxTimestamp(101)).isEqualTo(102);
        assertThat(hopping.lastWindowMaxTimestamp(105)).isEqualTo(105);
    }

    /**
     * Staggered tumbling windows (an offset per subtask, drawn from the processing time or at random when a copy
     * assigns its first window) are refused, every time: one probe pair accepted a RANDOM stagger with chance 1/size
     * (a migrating key's windows would then differ at its old and new owner). Aligned ones are taken.
     */
    @Test
    void staggeredWindowsAreRefusedEveryTime() {
        for (var stagger : new org.apache.flink.streaming.api.windowing.assigners.WindowStagger[] {
                org.apache.flink.streaming.api.windowing.assigners.WindowStagger.RANDOM,
                org.apache.flink.streaming.api.windowing.assigners.WindowStagger.NATURAL}) {
            // (an hour's windows: the probes' eight copies of a RANDOM stagger agree with chance 3.6e6^-7; with 4 ms
            // windows, 4^-7 each, 200 probes failed this test once in about 80 runs)
            for (int i = 0; i < 200; i++) {
                assertThatThrownBy(() -> WindowShape.of(TumblingEventTimeWindows.of(Duration.ofHours(1),
                        Duration.ZERO, stagger))).as("%s", stagger).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("staggered windows");
            }
        }
        assertThat(WindowShape.of(TumblingEventTimeWindows.of(Duration.ofMillis(4), Duration.ZERO,
                org.apache.flink.streaming.api.windowing.assigners.WindowStagger.ALIGNED))).isNotNull();
    }

    /** Keyed state from the runtime context: not carried by a migration, so refused behind keyshift. */
    static final class RuntimeContextTotal extends ProcessWindowFunction<Long, String, String, TimeWindow> {
        private transient org.apache.flink.api.common.state.ValueState<Long> total;

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext c) {
            total = getRuntimeContext().getState(
                    new org.apache.flink.api.common.state.ValueStateDescriptor<>("total", Types.LONG));
        }

        @Override
        public void process(String user, Context ctx, Iterable<Long> sums, Collector<String> out) throws Exception {
            long t = (total.value() == null ? 0 : total.value()) + sums.iterator().next();
            total.update(t);
            out.collect(user + "," + t);
        }
    }

    /** A window function that is a CheckpointedFunction with operator state (as under keyBy it gets Flink's calls). */
    static final class CountingWindows extends ProcessWindowFunction<Long, String, String, TimeWindow>
            implements org.apache.flink.streaming.api.checkpoint.CheckpointedFunction {
        static final java.util.concurrent.atomic.AtomicInteger INITIALIZED =
                new java.util.concurrent.atomic.AtomicInteger();
        private transient org.apache.flink.api.common.state.ListState<Long> fired;

        @Override
        public void initializeState(org.apache.flink.runtime.state.FunctionInitializationContext c) throws Exception {
            fired = c.getOperatorStateStore().getListState(
                    new org.apache.flink.api.common.state.ListStateDescriptor<>("fired", Types.LONG));
            // the runtime context is there, as under keyBy
            getRuntimeContext().getMetricGroup();
            INITIALIZED.incrementAndGet();
        }

        static final java.util.concurrent.atomic.AtomicInteger SNAPSHOTS = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public void snapshotState(org.apache.flink.runtime.state.FunctionSnapshotContext c) {
            SNAPSHOTS.incrementAndGet();
        }

        @Override
        public void process(String user, Context ctx, Iterable<Long> sums, Collector<String> out) throws Exception {
            fired.add(ctx.window().getEnd());
            out.collect(user);
        }
    }

    @Test
    void aWindowFunctionGetsCheckpointCallsButNoKeyedStateAndRichAggregatesAreRefused() throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        Keyshift.keyBy(Clicks.stream(env, 2_000, 1), c -> c.user, Types.STRING).configure(conf)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes(), new RuntimeContextTotal()).sinkTo(new org.apache.flink.streaming.api
                        .functions.sink.v2.DiscardingSink<>());
        assertThatThrownBy(() -> env.execute("runtime context state")).rootCause()
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("cannot use keyed state from getRuntimeContext()")
                .hasMessageContaining("KeyshiftStream.process");

        CountingWindows.INITIALIZED.set(0);
        CountingWindows.SNAPSHOTS.set(0);
        StreamExecutionEnvironment env2 = StreamExecutionEnvironment.createLocalEnvironment(2);
        // with checkpointing on, the tasks take a final checkpoint at the end of the input: at least one call each
        env2.enableCheckpointing(100);
        Keyshift.keyBy(Clicks.stream(env2, 2_000, 1), c -> c.user, Types.STRING).configure(conf)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes(), new CountingWindows()).sinkTo(new org.apache.flink.streaming.api
                        .functions.sink.v2.DiscardingSink<>());
        env2.execute("checkpointed window function");
        assertThat(CountingWindows.INITIALIZED.get()).as("initializeState calls (one per window subtask)")
                .isEqualTo(2);
        assertThat(CountingWindows.SNAPSHOTS.get()).as("snapshotState calls (at least one per window subtask)")
                .isGreaterThanOrEqualTo(2);

        // as Flink's WindowedStream: an aggregate or reduce function that is a RichFunction is never opened
        KeyshiftWindowedStream<Clicks.Click, String, TimeWindow> windows = Keyshift.keyBy(
                Clicks.stream(StreamExecutionEnvironment.createLocalEnvironment(2), 10, 1), c -> c.user, Types.STRING)
                .configure(conf).window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        class RichSum extends org.apache.flink.api.common.functions.AbstractRichFunction
                implements AggregateFunction<Clicks.Click, long[], Long> {
            public long[] createAccumulator() {
                return new long[1];
            }

            public long[] add(Clicks.Click c, long[] acc) {
                acc[0] += c.bytes;
                return acc;
            }

            public Long getResult(long[] acc) {
                return acc[0];
            }

            public long[] merge(long[] a, long[] b) {
                return new long[] {a[0] + b[0]};
            }
        }
        assertThatThrownBy(() -> windows.aggregate(new RichSum())).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("cannot be a RichFunction");
    }

    /** A window function that keeps state across windows: behind keyshift it fails, naming what to use instead. */
    static final class RunningTotal extends ProcessWindowFunction<Long, String, String, TimeWindow> {
        @Override
        public void process(String user, Context ctx, Iterable<Long> sums, Collector<String> out) throws Exception {
            org.apache.flink.api.common.state.ValueState<Long> total = ctx.globalState().getState(
                    new org.apache.flink.api.common.state.ValueStateDescriptor<>("total", Types.LONG));
            long t = (total.value() == null ? 0 : total.value()) + sums.iterator().next();
            total.update(t);
            out.collect(user + "," + t);
        }
    }

    /**
     * Also with checkpointing on, whose default restart strategy (exponential delay, unlimited) restarted the job for
     * ever at each failure.
     */
    @Test
    @org.junit.jupiter.api.Timeout(180)
    void aWindowFunctionThatUsesGlobalStateFailsNamingTheKeyedProcessFunction() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        env.enableCheckpointing(500);
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        Keyshift.keyBy(Clicks.stream(env, 2_000, 1), c -> c.user, Types.STRING).configure(conf)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes(), new RunningTotal()).sinkTo(new org.apache.flink.streaming.api.functions
                        .sink.v2.DiscardingSink<>());
        assertThatThrownBy(() -> env.execute("global state")).rootCause()
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("globalState()").hasMessageContaining("process(KeyedProcessFunction");
    }

    /** SumBytes with the merge stub Flink's tumbling windows never call. */
    static final class SumBytesWithoutMerge extends SumBytes {
        @Override
        public long[] merge(long[] a, long[] b) {
            throw new UnsupportedOperationException("not needed for tumbling windows");
        }
    }

    /** An IDE's generated stub: under keyBy with tumbling windows nothing calls it. */
    static final class SumBytesWithNullMerge extends SumBytes {
        @Override
        public long[] merge(long[] a, long[] b) {
            return null;
        }
    }

    static final class SumBytesWithUnimplementedMerge extends SumBytes {
        @Override
        public long[] merge(long[] a, long[] b) {
            throw new IllegalStateException("not implemented");
        }
    }

    /**
     * With splitting on, an aggregate whose merge throws (a stub) is refused when the stage is built: it failed the job
     * at the first split key's first window, and again at every restart. One whose merge returns null dropped every
     * window of every split key without a word.
     */
    @Test
    void anAggregateWhoseMergeThrowsIsRefusedWithSplittingOn() {
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        // without splitting it is taken, as under keyBy
        Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user, Types.STRING).configure(conf)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1))).aggregate(new SumBytesWithoutMerge());
        conf.setString("keyshift.plan.split-threshold", "1.0");
        assertThatThrownBy(() -> Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user, Types.STRING).configure(conf)
                .uidPrefix("split").window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytesWithoutMerge()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.plan.split-threshold > 0").hasMessageContaining("merge throws");
        assertThatThrownBy(() -> Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user, Types.STRING).configure(conf)
                .uidPrefix("split-null").window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytesWithNullMerge()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.plan.split-threshold > 0").hasMessageContaining("returns null");
        assertThatThrownBy(() -> Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user, Types.STRING).configure(conf)
                .uidPrefix("split-ise").window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytesWithUnimplementedMerge()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.plan.split-threshold > 0").hasMessageContaining("not implemented");
    }

    /** A window function that keeps per-window state (a firing count): fine under keyBy and split-threshold 0. */
    static final class FiringCount extends ProcessWindowFunction<Long, String, String, TimeWindow> {
        @Override
        public void process(String user, Context ctx, Iterable<Long> sums, Collector<String> out) throws Exception {
            org.apache.flink.api.common.state.ValueState<Integer> firings = ctx.windowState().getState(
                    new org.apache.flink.api.common.state.ValueStateDescriptor<>("firings", Types.INT));
            firings.update(firings.value() == null ? 1 : firings.value() + 1);
            out.collect(user + "," + firings.value());
        }
    }

    @Test
    void withSplittingOnAWindowFunctionThatUsesWindowStateFailsAtItsFirstWindowNotAtTheFirstSplit() throws Exception {
        // 2,000 clicks over 100 users: no key is anywhere near hot enough to be split
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        StreamExecutionEnvironment plain = StreamExecutionEnvironment.createLocalEnvironment(2);
        List<String> withoutSplitting = sorted(Keyshift.keyBy(Clicks.stream(plain, 2_000, 1), c -> c.user,
                        Types.STRING).configure(conf)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes(), new FiringCount()).executeAndCollect());
        assertThat(withoutSplitting).isNotEmpty().allMatch(r -> r.endsWith(",1"));

        conf.setString("keyshift.plan.split-threshold", "1.0");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        Keyshift.keyBy(Clicks.stream(env, 2_000, 1), c -> c.user, Types.STRING).configure(conf)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes(), new FiringCount()).sinkTo(new org.apache.flink.streaming.api.functions
                        .sink.v2.DiscardingSink<>());
        assertThatThrownBy(() -> env.execute("window state with splitting")).rootCause()
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("windowState()").hasMessageContaining("keyshift.plan.split-threshold");

        // a function that overrides clear() without window state of its own runs with splitting on (keyshift's own
        // record of which copy counted stays in the window operator's state), one clear side output per result
        StreamExecutionEnvironment clearing = StreamExecutionEnvironment.createLocalEnvironment(2);
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(Clicks.stream(clearing, 2_000, 1), c -> c.user,
                Types.STRING).configure(conf);
        CloseableIterator<String> out = users.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes(), new LabelAndClear()).collectAsync();
        CloseableIterator<String> cleared = users.sideOutput(CLEARED).collectAsync();
        clearing.execute("clear with splitting");
        List<String> clearedList = sorted(cleared);
        assertThat(sorted(out)).hasSize(withoutSplitting.size());
        assertThat(clearedList).hasSize(withoutSplitting.size()).allMatch(l -> l.endsWith(",false"));
    }

    /**
     * A key split over several key groups: its merged window is the one that counts, and the user's clear() runs for
     * it, so the side outputs from clear() equal keyBy's (before, a split key's windows called clear() only for the
     * key groups' partial windows, whose outputs are dropped: its windows had none).
     */
    @Test
    void sideOutputsFromClearLeaveOnceForASplitKeysWindowsAsWithKeyBy() throws Exception {
        StreamExecutionEnvironment twinEnv = StreamExecutionEnvironment.createLocalEnvironment(4);
        var twinResults = withAGiant(Clicks.stream(twinEnv, 20_000, 1)).keyBy(c -> c.user, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1))).allowedLateness(Duration.ofMinutes(10))
                .aggregate(new SumBytes(), new LabelAndClear());
        CloseableIterator<String> twinCleared = withTimestamps(twinResults.getSideOutput(CLEARED)).collectAsync();
        CloseableIterator<String> twinOut = twinResults.collectAsync();
        twinEnv.execute("keyBy twin with a giant");
        List<String> twin = sorted(twinCleared);
        List<String> twinResultList = sorted(twinOut);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(4);
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        conf.setString("keyshift.plan.split-threshold", "1.0");
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(withAGiant(Clicks.stream(env, 20_000, 1)),
                c -> c.user, Types.STRING).configure(conf);
        CloseableIterator<String> results = users.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .allowedLateness(Duration.ofMinutes(10)).aggregate(new SumBytes(), new LabelAndClear()).collectAsync();
        // with the timestamps they leave with: the window's max timestamp, also for a split key's merged window,
        // whose clear runs at its cleanup time (they left with that time, ten minutes later than keyBy's)
        CloseableIterator<String> cleared = withTimestamps(users.sideOutput(CLEARED)).collectAsync();
        CloseableIterator<RoutingPlan> plans = users.plans().collectAsync();
        env.execute("keyshift clear side output of a split key");
        List<String> got = sorted(results);
        List<String> gotCleared = sorted(cleared);
        long splitEntries = 0;
        while (plans.hasNext()) {
            splitEntries += plans.next().getEntries().stream().filter(e -> e.getSplit() != null).count();
        }
        System.out.printf("clear with a split key: %d clear side outputs (keyBy %d), split entries %d%n",
                gotCleared.size(), twin.size(), splitEntries);
        assertThat(splitEntries).as("plans that split the giant").isPositive();
        assertThat(got).isEqualTo(twinResultList);
        assertThat(gotCleared).isEqualTo(twin);
    }

    /** Each value with its record's timestamp. */
    private static DataStream<String> withTimestamps(DataStream<String> values) {
        return values.process(new org.apache.flink.streaming.api.functions.ProcessFunction<String, String>() {
            @Override
            public void processElement(String v, Context ctx, Collector<String> out) {
                out.collect(v + "@" + ctx.timestamp());
            }
        });
    }

    /** Half of the clicks (the even user ids) from one user: more than a subtask's mean load at parallelism 4. */
    private static DataStream<Clicks.Click> withAGiant(DataStream<Clicks.Click> clicks) {
        return clicks.map(c -> {
            if (c.userId % 2 == 0) {
                c.user = "giant";
            }
            return c;
        }).returns(Clicks.Click.class);
    }

    private static String describe(Clicks.Click c) {
        return c.user + "," + c.ts + "," + c.bytes;
    }

    /** Bytes of one (user, parity of the bytes) key per window, from a reduce: a composite key. */
    static final class LabelPair extends ProcessWindowFunction<Clicks.Click, String, Tuple2<String, Integer>, TimeWindow> {
        @Override
        public void process(Tuple2<String, Integer> key, Context ctx, Iterable<Clicks.Click> sums,
                            Collector<String> out) {
            out.collect(key.f0 + "/" + key.f1 + "," + ctx.window().getStart() + "," + sums.iterator().next().bytes);
        }
    }

    static Clicks.Click sum(Clicks.Click a, Clicks.Click b) {
        return new Clicks.Click(a.user, a.userId, Math.max(a.ts, b.ts), a.bytes + b.bytes);
    }

    @Test
    void aReduceOnATupleKeyEqualsItsKeyByTwinAcrossMigrations() throws Exception {
        TypeInformation<Tuple2<String, Integer>> keyType = Types.TUPLE(Types.STRING, Types.INT);
        StreamExecutionEnvironment twinEnv = StreamExecutionEnvironment.createLocalEnvironment(4);
        List<String> twin = sorted(Clicks.stream(twinEnv, 150_000, 5)
                .keyBy(c -> Tuple2.of(c.user, c.bytes % 2), keyType)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .reduce(KeyshiftApiTest::sum, new LabelPair())
                .executeAndCollect());

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(4);
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        KeyshiftStream<Clicks.Click, Tuple2<String, Integer>> pairs = Keyshift.keyBy(Clicks.stream(env, 150_000, 5),
                c -> Tuple2.of(c.user, c.bytes % 2), keyType).configure(conf).uidPrefix("pairs");
        CloseableIterator<String> results = pairs.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .reduce(KeyshiftApiTest::sum, new LabelPair()).collectAsync();
        CloseableIterator<RoutingPlan> plans = pairs.plans().collectAsync();
        CloseableIterator<ValidationReport> validation = pairs.validation().collectAsync();
        env.execute("keyshift tuple key test");
        List<String> got = sorted(results);
        long migrations = 0;
        while (plans.hasNext()) {
            migrations += plans.next().getMigrationsStarted();
        }
        TreeMap<ValidationOutcome, Integer> outcomes = new TreeMap<>();
        validation.forEachRemaining(r -> outcomes.merge(r.getOutcome(), 1, Integer::sum));
        System.out.printf("tuple key, reduce: %d results, %d migrations, validation %s%n", got.size(), migrations,
                outcomes);
        assertThat(got).isEqualTo(twin);
        assertThat(migrations).isGreaterThanOrEqualTo(10);
        assertThat(outcomes).containsOnlyKeys(ValidationOutcome.MATCH);
    }

    /**
     * A per-user rate alarm: every click sets an event-time timer ten minutes later, which reports how many of the
     * user's clicks fell in the ten minutes before it (if at least three). State: click counts per minute of the last
     * ten minutes (state horizon ten minutes).
     */
    static final class RateAlarm extends KeyedProcessFunction<Integer, Clicks.Click, String> {
        static final long HORIZON = Duration.ofMinutes(10).toMillis();
        private transient MapState<Long, Integer> perMinute;

        @Override
        public void open(OpenContext ctx) {
            perMinute = getRuntimeContext().getMapState(new MapStateDescriptor<>("per-minute", Types.LONG, Types.INT));
        }

        @Override
        public void processElement(Clicks.Click c, Context ctx, Collector<String> out) throws Exception {
            if (!ctx.getCurrentKey().equals(c.userId)) {
                throw new IllegalStateException("getCurrentKey() " + ctx.getCurrentKey() + " is not the click's user");
            }
            long minute = c.ts / 60_000;
            Integer n = perMinute.get(minute);
            perMinute.put(minute, n == null ? 1 : n + 1);
            ctx.timerService().registerEventTimeTimer(c.ts + HORIZON);
        }

        @Override
        public void onTimer(long ts, OnTimerContext ctx, Collector<String> out) throws Exception {
            long from = (ts - HORIZON) / 60_000;
            List<Long> old = new ArrayList<>();
            int count = 0;
            for (java.util.Map.Entry<Long, Integer> e : perMinute.entries()) {
                if (e.getKey() < from) {
                    old.add(e.getKey());
                } else if (e.getKey() * 60_000 <= ts) {
                    count += e.getValue();
                }
            }
            for (long m : old) {
                perMinute.remove(m);
            }
            if (count >= 3) {
                out.collect(ctx.getCurrentKey() + "," + ts + "," + count);
            }
        }
    }

    @Test
    void aKeyedProcessFunctionWithTimersEqualsItsKeyByTwinAcrossMigrations() throws Exception {
        StreamExecutionEnvironment twinEnv = StreamExecutionEnvironment.createLocalEnvironment(4);
        List<String> twin = sorted(Clicks.stream(twinEnv, 100_000, 4)
                .keyBy(c -> c.userId, Types.INT)
                .process(new RateAlarm())
                .executeAndCollect());

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(4);
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        KeyshiftStream<Clicks.Click, Integer> users = Keyshift.keyBy(Clicks.stream(env, 100_000, 4), c -> c.userId,
                Types.INT).configure(conf);
        CloseableIterator<String> results = users.process(new RateAlarm(), Duration.ofMinutes(11)).collectAsync();
        CloseableIterator<RoutingPlan> plans = users.plans().collectAsync();
        CloseableIterator<ValidationReport> validation = users.validation().collectAsync();
        env.execute("keyshift process test");
        List<String> got = sorted(results);
        long migrations = 0;
        while (plans.hasNext()) {
            migrations += plans.next().getMigrationsStarted();
        }
        TreeMap<ValidationOutcome, Integer> outcomes = new TreeMap<>();
        validation.forEachRemaining(r -> outcomes.merge(r.getOutcome(), 1, Integer::sum));
        System.out.printf("process: %d results, %d migrations, validation %s%n", got.size(), migrations, outcomes);
        assertThat(got).isEqualTo(twin);
        assertThat(migrations).isGreaterThanOrEqualTo(20);
        assertThat(outcomes).containsOnlyKeys(ValidationOutcome.MATCH);
    }

    @Test
    void aSlidingWindowWithLatenessAndAWindowFunctionEqualsItsKeyByTwin() throws Exception {
        StreamExecutionEnvironment twinEnv = StreamExecutionEnvironment.createLocalEnvironment(4);
        List<String> twin = sorted(Clicks.stream(twinEnv, 150_000, 5)
                .keyBy(c -> c.user, Types.STRING)
                .window(SlidingEventTimeWindows.of(Duration.ofMinutes(90), Duration.ofMinutes(30)))
                .allowedLateness(Duration.ofMinutes(5))
                .aggregate(new SumBytes(), new Label())
                .executeAndCollect());

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(4);
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "30min");
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(Clicks.stream(env, 150_000, 5), c -> c.user,
                Types.STRING).configure(conf);
        CloseableIterator<String> results = users
                .window(SlidingEventTimeWindows.of(Duration.ofMinutes(90), Duration.ofMinutes(30)))
                .allowedLateness(Duration.ofMinutes(5))
                .aggregate(new SumBytes(), new Label()).collectAsync();
        CloseableIterator<RoutingPlan> plans = users.plans().collectAsync();
        CloseableIterator<ValidationReport> validation = users.validation().collectAsync();
        env.execute("keyshift sliding test");
        List<String> got = sorted(results);
        long migrations = 0;
        while (plans.hasNext()) {
            migrations += plans.next().getMigrationsStarted();
        }
        TreeMap<ValidationOutcome, Integer> outcomes = new TreeMap<>();
        validation.forEachRemaining(r -> outcomes.merge(r.getOutcome(), 1, Integer::sum));
        System.out.printf("sliding: %d results, %d migrations, validation %s%n", got.size(), migrations, outcomes);
        assertThat(got).isEqualTo(twin);
        assertThat(migrations).isGreaterThanOrEqualTo(20);
        assertThat(outcomes).containsOnlyKeys(ValidationOutcome.MATCH);
    }

    /**
     * Hopping windows (Flink's sliding windows with a slide longer than the size: 30-minute windows every hour) build
     * and equal their keyBy twin across migrations; under validation ALL every migration's shadow phase holds a whole
     * window from the half hour it starts at, and the shadows' windows match.
     */
    @Test
    void hoppingWindowsEqualTheirKeyByTwinAndEveryValidatedShadowPhaseHoldsAWindow() throws Exception {
        StreamExecutionEnvironment twinEnv = StreamExecutionEnvironment.createLocalEnvironment(4);
        List<String> twin = sorted(Clicks.stream(twinEnv, 100_000, 5)
                .keyBy(c -> c.user, Types.STRING)
                .window(SlidingEventTimeWindows.of(Duration.ofMinutes(30), Duration.ofMinutes(60)))
                .aggregate(new SumBytes(), new Label())
                .executeAndCollect());

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(4);
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "30min");
        conf.setString("keyshift.migration.validation", "ALL");
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(Clicks.stream(env, 100_000, 5), c -> c.user,
                Types.STRING).configure(conf);
        CloseableIterator<String> results = users
                .window(SlidingEventTimeWindows.of(Duration.ofMinutes(30), Duration.ofMinutes(60)))
                .aggregate(new SumBytes(), new Label()).collectAsync();
        CloseableIterator<RoutingPlan> plans = users.plans().collectAsync();
        CloseableIterator<ValidationReport> validation = users.validation().collectAsync();
        env.execute("keyshift hopping test");
        List<String> got = sorted(results);
        java.util.Set<Long> shadowPhases = new java.util.TreeSet<>();
        long migrations = 0;
        while (plans.hasNext()) {
            RoutingPlan p = plans.next();
            migrations += p.getMigrationsStarted();
            for (io.keyshift.avro.RouteEntry e : p.getEntries()) {
                if (e.getMigration() != null) {
                    long t0 = e.getMigration().getShadowFrom();
                    long t1 = e.getMigration().getSwitchAt();
                    shadowPhases.add(t1 - t0);
                    // the first window from T0 starts on the next full hour and lies wholly inside [T0, T1)
                    long hour = Duration.ofHours(1).toMillis();
                    long firstStart = Math.floorDiv(t0 + hour - 1, hour) * hour;
                    assertThat(firstStart + Duration.ofMinutes(30).toMillis()).as("[%d, %d)", t0, t1)
                            .isLessThanOrEqualTo(t1);
                }
            }
        }
        TreeMap<ValidationOutcome, Integer> outcomes = new TreeMap<>();
        validation.forEachRemaining(r -> outcomes.merge(r.getOutcome(), 1, Integer::sum));
        System.out.printf("hopping: %d results, %d migrations, shadow phases %s ms, validation %s%n", got.size(),
                migrations, shadowPhases, outcomes);
        assertThat(got).isEqualTo(twin);
        assertThat(migrations).isGreaterThanOrEqualTo(10);
        // sized from each start: half an hour from a full hour, an hour from a half hour
        assertThat(shadowPhases).containsExactly(Duration.ofMinutes(30).toMillis(), Duration.ofMinutes(60).toMillis());
        assertThat(outcomes).containsOnlyKeys(ValidationOutcome.MATCH);
    }

    /**
     * With keyshift.privacy.key-secret: plans and validation reports name pseudonyms only, results equal the twin's;
     * a keyed process function stage is refused.
     */
    @Test
    void withAKeySecretPlansAndValidationNamePseudonymsAndResultsEqualTheTwin() throws Exception {
        List<String> twin = tumblingTwin(100_000, 7);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(4);
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        conf.setString("keyshift.migration.validation", "ALL");
        conf.setString("keyshift.privacy.key-secret", "api-test-secret-0123456789");
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(Clicks.stream(env, 100_000, 7), c -> c.user,
                Types.STRING).configure(conf);
        CloseableIterator<String> results = users.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes(), new Label()).collectAsync();
        CloseableIterator<RoutingPlan> plans = users.plans().collectAsync();
        CloseableIterator<ValidationReport> validation = users.validation().collectAsync();
        env.execute("keyshift pseudonyms test");
        List<String> got = sorted(results);
        List<String> keys = new ArrayList<>();
        plans.forEachRemaining(p -> p.getEntries().forEach(e -> keys.add(e.getKey().toString())));
        List<String> validated = new ArrayList<>();
        validation.forEachRemaining(r -> validated.add(r.getKey().toString()));
        System.out.printf("pseudonyms: %d results, %d plan entries, %d validation reports%n", got.size(), keys.size(),
                validated.size());
        assertThat(got).isEqualTo(twin);
        // every key a plan names is the pseudonym of one of the users, under this secret
        io.keyshift.route.KeyPseudonymizer ps = io.keyshift.route.KeyPseudonymizer.fromSecret(
                "api-test-secret-0123456789");
        java.util.Set<String> pseudonyms = new java.util.HashSet<>();
        got.forEach(r -> pseudonyms.add(ps.pseudonym(r.substring(0, r.indexOf(',')))));
        assertThat(keys).isNotEmpty().allMatch(pseudonyms::contains);
        assertThat(validated).isNotEmpty().allMatch(io.keyshift.route.KeyPseudonymizer::isPseudonym);

        StreamExecutionEnvironment env2 = StreamExecutionEnvironment.createLocalEnvironment(2);
        KeyshiftStream<Clicks.Click, Integer> byId = Keyshift.keyBy(Clicks.stream(env2, 10, 1), c -> c.userId,
                Types.INT).configure(conf);
        assertThatThrownBy(() -> byId.process(new RateAlarm(), Duration.ofMinutes(11)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.privacy.key-secret")
                .hasMessageContaining("keyed process functions");
    }

    /**
     * Under a key secret each record's key is pseudonymized from its serialized form: a key type holding an unsorted
     * map or set (written in iteration order, so equal keys can serialize differently and a move of one pseudonym
     * would route the key's records apart) is refused when the stage is built, naming the option and the field;
     * without a secret too (plans name keys by their serialized form).
     */
    @Test
    void aKeySecretRefusesKeyTypesWithUnsortedMapsOrSets() {
        Configuration conf = new Configuration();
        conf.setString("keyshift.privacy.key-secret", "api-test-secret-0123456789");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        var byTags = Keyshift.keyBy(Clicks.stream(env, 10, 1),
                c -> java.util.Map.of(c.user, c.bytes), Types.MAP(Types.STRING, Types.INT)).configure(conf);
        assertThatThrownBy(() -> byTags.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.privacy.key-secret")
                .hasMessageContaining("the key (a map)");
        // without a secret too: plans name keys by their serialized form, and two names of one key were planned
        // as two keys (a move of one, a home entry of the other: the routers followed whichever came last in the
        // plan while the key's state was where the other had sent it)
        var plain = Keyshift.keyBy(Clicks.stream(env, 10, 1),
                c -> java.util.Map.of(c.user, c.bytes), Types.MAP(Types.STRING, Types.INT)).uidPrefix("plain");
        assertThatThrownBy(() -> plain.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the key (a map)")
                .hasMessageNotContaining("keyshift.privacy.key-secret");

        var byUser = Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user, Types.STRING).uidPrefix("by-user")
                .configure(conf);
        assertThat(byUser.window(TumblingEventTimeWindows.of(Duration.ofHours(1))).aggregate(new SumBytes()))
                .isNotNull();
    }

    @Test
    void pinnedKeysAreTakenInTheFormTheStageWritesAndForeignOnesPinNothing() {
        io.keyshift.route.KeyCodec<Integer> ints = io.keyshift.route.KeyCodec.forType(Types.INT,
                new org.apache.flink.api.common.serialization.SerializerConfigImpl());
        // options shared with a String stage: its keys pin nothing here
        assertThat(KeyshiftStream.pinnedIds(List.of("007", "Market St", "70"), ints, false, "clicks"))
                .containsExactly("7", "70");
        io.keyshift.route.KeyPseudonymizer ps = io.keyshift.route.KeyPseudonymizer.fromSecret(
                "api-test-secret-0123456789");
        assertThat(KeyshiftStream.pinnedIds(List.of(ps.pseudonym("7"), "007"), ints, true, "clicks"))
                .containsExactly(ps.pseudonym("7"), "7");
        // under a secret a foreign entry is named by its place, never by its text (keys are never written out)
        List<String> logged;
        try {
            logged = io.keyshift.LogCapture.of(KeyshiftStream.class, () -> assertThat(KeyshiftStream.pinnedIds(
                    List.of("007", "Market St"), ints, true, "clicks")).containsExactly("7"));
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        assertThat(logged).anySatisfy(l -> assertThat(l).contains("entry 2 of 2").contains("'clicks'"))
                .noneSatisfy(l -> assertThat(l).contains("Market"));
        // the stage builds with them
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        Configuration conf = new Configuration();
        conf.setString("keyshift.plan.pinned-keys", "007;Market St");
        Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.userId, Types.INT).configure(conf)
                .window(TumblingEventTimeWindows.of(Duration.ofMinutes(1))).aggregate(new SumBytes());
    }

    @Test
    void sessionWindowsAreRefusedWhenTheJobIsBuilt() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user,
                Types.STRING);
        assertThatThrownBy(() -> users.window(EventTimeSessionWindows.withGap(Duration.ofMinutes(5))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("session windows")
                .hasMessageContaining("no bounded length");
        assertThatThrownBy(() -> users.window(
                org.apache.flink.streaming.api.windowing.assigners.GlobalWindows.create()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("global windows").hasMessageContaining("never ends");
        // a merging assigner of any name is a session window (it was told by "Session" in its class name)
        assertThatThrownBy(() -> users.window(new Gaps()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("session windows (Gaps)");
        // a subclass of a supported assigner may assign windows of other sizes than the one probed
        assertThatThrownBy(() -> users.window(new Hourly()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Hourly has no state horizon keyshift knows");
    }

    /** Session windows under another name. */
    static final class Gaps extends EventTimeSessionWindows {
        Gaps() {
            super(60_000);
        }
    }

    /** A subclass of tumbling windows (it could assign windows of other sizes). */
    static final class Hourly extends TumblingEventTimeWindows {
        Hourly() {
            super(3_600_000, 0, org.apache.flink.streaming.api.windowing.assigners.WindowStagger.ALIGNED);
        }
    }

    @Test
    void anUnknownOrBadOptionFailsNamingIt() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user,
                Types.STRING);
        Configuration typo = new Configuration();
        typo.setString("keyshift.plan.alfa", "0.2");
        assertThatThrownBy(() -> users.configure(typo)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.plan.alfa").hasMessageContaining("keyshift.plan.alpha");
        // the same typo in a ReadableConfig that is not a Configuration (until 2026-12-06 only a Configuration's keys
        // were checked: another ReadableConfig's misspelled key was dropped without a word)
        org.apache.flink.configuration.ReadableConfig readable = new org.apache.flink.configuration.ReadableConfig() {
            @Override
            public <V> V get(org.apache.flink.configuration.ConfigOption<V> option) {
                return typo.get(option);
            }

            @Override
            public <V> java.util.Optional<V> getOptional(org.apache.flink.configuration.ConfigOption<V> option) {
                return typo.getOptional(option);
            }

            @Override
            public java.util.Map<String, String> toMap() {
                return typo.toMap();
            }
        };
        assertThatThrownBy(() -> users.configure(readable)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.plan.alfa");
        // the command line's own options, which a cluster's config.yaml may hold for it, are no mistake here
        Configuration cluster = new Configuration();
        cluster.setString("keyshift.input.max-event-time-gap", "30d");
        cluster.setString("keyshift.plan.alpha", "0.2");
        users.configure(cluster);
        Configuration negative = new Configuration();
        negative.setString("keyshift.plan.alpha", "-1");
        assertThatThrownBy(() -> users.configure(negative)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.plan.alpha must be >= 0");
        Configuration notANumber = new Configuration();
        notANumber.setString("keyshift.profiler.sampling-rate", "often");
        assertThatThrownBy(() -> users.configure(notANumber)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.profiler.sampling-rate");
        for (String timeout : List.of("500micros", "1500micros")) {
            Configuration noWatermark = new Configuration();
            noWatermark.setString("keyshift.route.no-watermark-timeout", timeout);
            assertThatThrownBy(() -> users.configure(noWatermark)).as(timeout)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("keyshift.route.no-watermark-timeout must be a whole number of milliseconds");
        }
        for (String window : List.of("500000ns", "1500micros")) {
            Configuration submilli = new Configuration();
            submilli.setString("keyshift.window", window);
            assertThatThrownBy(() -> users.configure(submilli)).as(window)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("keyshift.window must be a whole number of milliseconds, at least 1ms");
        }
        // a revert hold under 1 ms (500micros) was taken as 0 once the stage was half built, in a message naming no option; one
        // of a trillion days overflowed there; so did a window or a planning time budget of that length
        for (String[] bad : new String[][] {{"keyshift.migration.on-mismatch.hold", "500micros"},
                {"keyshift.migration.on-mismatch.hold", "1000000000000d"}, {"keyshift.window", "1000000000000d"},
                {"keyshift.route.no-watermark-timeout", "1000000000000d"},
                {"keyshift.plan.time-budget", "1000000000000d"}}) {
            Configuration c = new Configuration();
            c.setString("keyshift.migration.on-mismatch", "REVERT");
            c.setString(bad[0], bad[1]);
            assertThatThrownBy(() -> users.configure(c)).as(bad[0] + "=" + bad[1])
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(bad[0] + " must be ")
                    .hasMessageContaining("at most 36500d");
        }
    }

    @Test
    void theRocksDbManifestBoundIsAKnownOptionAndItsRangeIsChecked() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user,
                Types.STRING);
        Configuration manifest = new Configuration();
        manifest.setString("keyshift.rocksdb.max-manifest-file-size", "64kb");
        users.configure(manifest);
        Configuration tooSmall = new Configuration();
        tooSmall.setString("keyshift.rocksdb.max-manifest-file-size", "512b");
        assertThatThrownBy(() -> users.configure(tooSmall)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.rocksdb.max-manifest-file-size must be at least 1kb");
    }

    @Test
    void scalingBoundsThatCannotHoldFailNamingTheOptions() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        env.setMaxParallelism(16);
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user,
                Types.STRING);
        Configuration crossed = new Configuration();
        crossed.setString("keyshift.scaling.min-parallelism", "8");
        crossed.setString("keyshift.scaling.max-parallelism", "4");
        assertThatThrownBy(() -> users.configure(crossed)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.scaling.min-parallelism must be <= keyshift.scaling.max-parallelism");
        Configuration beyondKeyGroups = new Configuration();
        beyondKeyGroups.setString("keyshift.scaling.capacity", "1000");
        beyondKeyGroups.setString("keyshift.scaling.max-parallelism", "200");
        var windowed = users.configure(beyondKeyGroups).window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        int transformations = env.getTransformations().size();
        assertThatThrownBy(() -> windowed.aggregate(new SumBytes()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.scaling.max-parallelism")
                .hasMessageContaining("16");
        assertThat(env.getTransformations()).as("nothing of the stage joined the job").hasSize(transformations);
        // a scaled stage built below its minimum (p = 2, min 4): the planner sized every decision for 4, and the
        // results path at 4 ran above the stage, so that the autoscaler rescaled it instead
        Configuration belowMin = new Configuration();
        belowMin.setString("keyshift.scaling.capacity", "1000");
        belowMin.setString("keyshift.scaling.min-parallelism", "4");
        var below = Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user, Types.STRING).uidPrefix("below")
                .configure(belowMin).window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        assertThatThrownBy(() -> below.aggregate(new SumBytes())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyed parallelism 2 is outside the scaling bounds")
                .hasMessageContaining("keyshift.scaling.min-parallelism (4)");
    }

    /**
     * A stage's keyshift.max-parallelism that differs from the environment's max parallelism was ignored without a
     * word (the command line refuses it): refused, naming both. Equal, or the stage's alone, it is taken.
     */
    @Test
    void aStageMaxParallelismThatDiffersFromTheEnvironmentsIsRefused() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        env.setMaxParallelism(512);
        Configuration other = new Configuration();
        other.setString("keyshift.max-parallelism", "256");
        var windowed = Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user, Types.STRING).configure(other)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        assertThatThrownBy(() -> windowed.aggregate(new SumBytes())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.max-parallelism is 256")
                .hasMessageContaining("pipeline.max-parallelism) is 512");
        Configuration same = new Configuration();
        same.setString("keyshift.max-parallelism", "512");
        var equal = Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user, Types.STRING).uidPrefix("equal")
                .configure(same);
        equal.window(TumblingEventTimeWindows.of(Duration.ofHours(1))).aggregate(new SumBytes());
        assertThat(equal.maxParallelism()).isEqualTo(512);
    }

    /**
     * The stage's options after its build are the ones it was given (the build wrote keyshift.plan.pinned-keys into
     * them, set or not), and a build refused for a key secret on a keyed process function leaves them as they were.
     */
    @Test
    void aBuildLeavesTheStagesOptionsAsGiven() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        var built = Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user, Types.STRING);
        built.window(TumblingEventTimeWindows.of(Duration.ofHours(1))).aggregate(new SumBytes());
        assertThat(built.options().toMap()).doesNotContainKey("keyshift.plan.pinned-keys");
        Configuration secret = new Configuration();
        secret.setString("keyshift.privacy.key-secret", "a secret of at least thirty-two characters!!");
        secret.setString("keyshift.plan.pinned-keys", "u1");
        var refused = Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user, Types.STRING).uidPrefix("refused")
                .configure(secret);
        java.util.Map<String, String> before = refused.options().toMap();
        assertThatThrownBy(() -> refused.process(new ProcessWithClient2(), Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyshift.privacy.key-secret");
        assertThat(refused.options().toMap()).isEqualTo(before);
    }

    /** A serializable keyed process function. */
    static final class ProcessWithClient2 extends KeyedProcessFunction<String, Clicks.Click, String> {
        @Override
        public void processElement(Clicks.Click c, Context ctx, Collector<String> out) {
            out.collect(c.user);
        }
    }

    /** A window function holding a client that cannot be serialized (a field, as a connection would be). */
    static final class WithClient extends ProcessWindowFunction<Long, String, String, TimeWindow> {
        final Object client = new Object();

        @Override
        public void process(String user, Context ctx, Iterable<Long> sums, Collector<String> out) {
            out.collect(user);
        }
    }

    /** A keyed process function holding the same. */
    static final class ProcessWithClient extends KeyedProcessFunction<String, Clicks.Click, String> {
        final Object client = new Object();

        @Override
        public void processElement(Clicks.Click c, Context ctx, Collector<String> out) {
            out.collect(c.user);
        }
    }

    /**
     * The operator uids of a stage with every optional part, written out: they name the state in every savepoint, so a
     * rename in a later build loses the state of a job restored from an earlier one (tests that build the names with
     * {@link StageUids} would not see it).
     */
    @Test
    void aStagesOperatorUidsAreTheOnesEarlierSavepointsName() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(4);
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        conf.setString("keyshift.plan.split-threshold", "1.0");
        conf.setString("keyshift.migration.on-mismatch", "REVERT");
        conf.setString("keyshift.scaling.capacity", "1000");
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user,
                Types.STRING).configure(conf).uidPrefix("p").control(env.fromData("0,freeze"));
        org.apache.flink.util.OutputTag<Clicks.Click> lateTag = new org.apache.flink.util.OutputTag<>("late",
                TypeInformation.of(Clicks.Click.class));
        users.window(TumblingEventTimeWindows.of(Duration.ofHours(1))).sideOutputLateData(lateTag)
                .aggregate(new SumBytes(), new LabelAndClear()).print();
        users.sideOutput(CLEARED).print();
        users.sideOutput(lateTag).print();
        Configuration plain = new Configuration();
        plain.setString("keyshift.window", "1h");
        Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user, Types.STRING).configure(plain).uidPrefix("q")
                .process(new ProcessWithClient2(), Duration.ofHours(1)).print();
        java.util.Set<String> uids = new java.util.TreeSet<>();
        env.getStreamGraph().getStreamNodes().forEach(n -> {
            String uid = n.getTransformationUID();
            if (uid != null && (uid.startsWith("p-") || uid.startsWith("q-"))) {
                uids.add(uid);
            }
        });
        assertThat(uids).containsExactlyInAnyOrder("p-router", "p-reports", "p-profiler", "p-forecaster",
                "p-planner", "p-window", "p-validator", "p-split-merger", "p-split-merger-side-output-cleared",
                // the merged windows' own outputs to the late-data tag (since 2026-12-05; stateless, so a savepoint
                // of an earlier build restores)
                "p-split-merger-side-output-late",
                "p-scaling", "p-mismatch-reverts", "p-control-progress", "p-late-data",
                "q-router", "q-reports", "q-profiler", "q-forecaster", "q-planner", "q-process", "q-validator");
    }

    /**
     * A function Flink cannot serialize fails as under Flink's own calls, before anything of the stage joins the job:
     * Flink's check came only once keyshift's router, profiler and forecaster had, and a second build under the same
     * prefix was told the prefix was taken.
     */
    @Test
    void aFunctionThatCannotBeSerializedFailsBeforeAnythingJoinsTheJob() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user,
                Types.STRING);
        int transformations = env.getTransformations().size();
        var windowed = users.window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        assertThatThrownBy(() -> windowed.aggregate(new SumBytes(), new WithClient()))
                .isInstanceOf(org.apache.flink.api.common.InvalidProgramException.class)
                .hasMessageContaining("not serializable");
        assertThat(env.getTransformations()).as("nothing of the stage joined the job").hasSize(transformations);
        assertThatThrownBy(() -> Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user, Types.STRING)
                .process(new ProcessWithClient(), Duration.ofHours(1)))
                .isInstanceOf(org.apache.flink.api.common.InvalidProgramException.class);
        assertThat(env.getTransformations().stream().map(t -> t.getUid()))
                .as("no router joined the job").noneMatch(u -> u != null && u.endsWith("-router"));
        // the same stage built again with a function that can be serialized is taken
        assertThat(windowed.aggregate(new SumBytes())).isNotNull();
    }

    /** A generic function whose result type Flink cannot extract, for the error message test below. */
    static final class Emit<R> extends KeyedProcessFunction<String, Clicks.Click, R> {
        @Override
        public void processElement(Clicks.Click c, Context ctx, Collector<R> out) {}
    }

    /** Misuse at build time names what is wrong, before anything joins the job: nulls, a result type lost to erasure. */
    @Test
    void nullArgumentsAndAnUnknownResultTypeFailNamingThem() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user,
                Types.STRING);
        assertThatThrownBy(() -> Keyshift.keyBy(Clicks.stream(env, 10, 1), null))
                .isInstanceOf(NullPointerException.class).hasMessage("key selector");
        assertThatThrownBy(() -> users.window(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("window assigner");
        assertThatThrownBy(() -> users.process(null, Duration.ofHours(1))).isInstanceOf(NullPointerException.class)
                .hasMessage("function");
        assertThatThrownBy(() -> users.window(TumblingEventTimeWindows.of(Duration.ofHours(1))).aggregate(null))
                .isInstanceOf(NullPointerException.class).hasMessage("aggregate function");
        int transformations = env.getTransformations().size();
        assertThatThrownBy(() -> users.process(new Emit<String>(), Duration.ofHours(1)))
                .isInstanceOf(org.apache.flink.api.common.functions.InvalidTypesException.class)
                .hasMessageContaining("Give it with process(function, stateHorizon, outputType)");
        assertThat(env.getTransformations()).hasSize(transformations);
        // and the overload with the type builds
        users.process(new Emit<String>(), Duration.ofHours(1), Types.STRING);

        // a window function whose result type is a type variable: the error names an overload that exists, which
        // builds (reduce had none; aggregate without a window function had none with the types, as Flink's has)
        StreamExecutionEnvironment env2 = StreamExecutionEnvironment.createLocalEnvironment(2);
        KeyshiftWindowedStream<Clicks.Click, String, TimeWindow> windows = Keyshift.keyBy(Clicks.stream(env2, 10, 1),
                c -> c.user, Types.STRING).window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        assertThatThrownBy(() -> windows.reduce((a, b) -> a, new Echo<String>()))
                .isInstanceOf(org.apache.flink.api.common.functions.InvalidTypesException.class)
                .hasMessageContaining("Give it with reduce(function, windowFunction, resultType)");
        windows.reduce((a, b) -> a, new Echo<String>(), Types.STRING);
        KeyshiftWindowedStream<Clicks.Click, String, TimeWindow> more = Keyshift.keyBy(Clicks.stream(env2, 10, 1),
                c -> c.user, Types.STRING).uidPrefix("more").window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        more.aggregate(new SumBytes(),
                org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO, Types.LONG);
        // an aggregate function whose accumulator and result are type variables: the error names the overloads too
        // (it was Flink's own, which names Flink's)
        KeyshiftWindowedStream<Clicks.Click, String, TimeWindow> generic = Keyshift.keyBy(Clicks.stream(env2, 10, 1),
                c -> c.user, Types.STRING).uidPrefix("generic")
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        assertThatThrownBy(() -> generic.aggregate(new Last<String>()))
                .isInstanceOf(org.apache.flink.api.common.functions.InvalidTypesException.class)
                .hasMessageContaining("Give it with aggregate(function, accumulatorType, resultType)");
        assertThatThrownBy(() -> generic.aggregate(new Last<String>(), new Pass<String>()))
                .isInstanceOf(org.apache.flink.api.common.functions.InvalidTypesException.class)
                .hasMessageContaining("Give it with aggregate(function, windowFunction, accumulatorType, aggregateType, "
                        + "resultType)");
        generic.aggregate(new Last<String>(), Types.STRING, Types.STRING);
    }

    /** A window function that passes on its input. */
    static final class Pass<X> extends ProcessWindowFunction<X, X, String, TimeWindow> {
        @Override
        public void process(String user, Context ctx, Iterable<X> in, Collector<X> out) {
            in.forEach(out::collect);
        }
    }

    /** An aggregate function whose accumulator and result are a type variable (erased: Flink cannot tell them). */
    static final class Last<X> implements AggregateFunction<Clicks.Click, X, X> {
        @Override
        public X createAccumulator() {
            return null;
        }

        @Override
        public X add(Clicks.Click c, X acc) {
            return acc;
        }

        @Override
        public X getResult(X acc) {
            return acc;
        }

        @Override
        public X merge(X a, X b) {
            return a;
        }
    }

    /** A window function whose result type is a type variable (erased: Flink cannot tell it). */
    static final class Echo<X> extends ProcessWindowFunction<Clicks.Click, X, String, TimeWindow> {
        @Override
        public void process(String user, Context ctx, Iterable<Clicks.Click> in, Collector<X> out) { }
    }

    /** Options given in several configure() calls are checked together: each call alone may not hold the pair. */
    @Test
    void optionsOfSeveralConfigureCallsAreCheckedTogether() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        KeyshiftStream<Clicks.Click, String> users = Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user,
                Types.STRING);
        Configuration scaleIn = new Configuration();
        scaleIn.setString("keyshift.plan.utilization.scale-in", "0.3");
        Configuration high = new Configuration();
        high.setString("keyshift.plan.utilization.high", "0.5");
        users.configure(scaleIn).configure(high);
        Configuration crossed = new Configuration();
        crossed.setString("keyshift.plan.utilization.scale-in", "0.7");
        assertThatThrownBy(() -> users.configure(crossed)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("scale-in");
        // the refused options are not kept: the stage's options are as before the failed call
        users.configure(new Configuration());
        assertThat(users.config().get(io.keyshift.config.PlanOptions.UTILIZATION_SCALE_IN)).isEqualTo(0.3);
    }

    @Test
    void aStageWhoseBuildFailedLeavesItsUidPrefixFreeAndASecondStageWithItIsRefused() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        env.setMaxParallelism(4);
        DataStream<Clicks.Click> clicks = Clicks.stream(env, 10, 1);
        var tooWide = Keyshift.keyBy(clicks, c -> c.user, Types.STRING).parallelism(8)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        assertThatThrownBy(() -> tooWide.aggregate(new SumBytes())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("exceeds the number of key groups");
        // the same (default) prefix again, now with a parallelism that fits
        Keyshift.keyBy(clicks, c -> c.user, Types.STRING).window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes());
        var second = Keyshift.keyBy(clicks, c -> c.user, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        assertThatThrownBy(() -> second.aggregate(new SumBytes())).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("uid prefix 'keyshift' is used by another keyshift stage");
    }

    /** A uid prefix that starts with '-' is refused saying what the rule is (it said only which characters). */
    @Test
    void aUidPrefixIsRefusedNamingTheWholeRule() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        DataStream<Clicks.Click> clicks = Clicks.stream(env, 10, 1);
        var stage = Keyshift.keyBy(clicks, c -> c.user, Types.STRING);
        assertThatThrownBy(() -> stage.uidPrefix("-clicks")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("starting with a letter or digit").hasMessageContaining("'-clicks'");
        assertThatThrownBy(() -> stage.uidPrefix("a b")).isInstanceOf(IllegalArgumentException.class);
        stage.uidPrefix("clicks-2.v_1");
    }

    /** A job has at most one stage with scaling: the autoscaler applies the sum of the stages' decisions. */
    @Test
    void aSecondStageWithScalingInOneJobIsRefused() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        DataStream<Clicks.Click> clicks = Clicks.stream(env, 10, 1);
        Configuration conf = new Configuration();
        conf.setString("keyshift.scaling.capacity", "1000");
        conf.setString("keyshift.scaling.max-parallelism", "4");
        Keyshift.keyBy(clicks, c -> c.user, Types.STRING).configure(conf).uidPrefix("first")
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1))).aggregate(new SumBytes());
        // a second stage without scaling is fine
        Keyshift.keyBy(clicks, c -> c.user, Types.STRING).uidPrefix("plain")
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1))).aggregate(new SumBytes());
        int transformations = env.getTransformations().size();
        var second = Keyshift.keyBy(clicks, c -> c.user, Types.STRING).configure(conf).uidPrefix("second")
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        assertThatThrownBy(() -> second.aggregate(new SumBytes())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("another keyshift stage of this job already scales")
                .hasMessageContaining("keyshift.scaling.capacity");
        // refused before any operator joined the job
        assertThat(env.getTransformations()).hasSize(transformations);
        // hopping windows whose gaps hold event time 0 (30 minutes every hour from 00:15) build
        Keyshift.keyBy(clicks, c -> c.user, Types.STRING).uidPrefix("hopping")
                .window(SlidingEventTimeWindows.of(Duration.ofMinutes(30), Duration.ofHours(1),
                        Duration.ofMinutes(15))).aggregate(new SumBytes());
    }

    @Test
    void aStateHorizonBeyondAHundredYearsOrUnderAMillisecondIsRefused() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        DataStream<Clicks.Click> clicks = Clicks.stream(env, 10, 1);
        var windowed = Keyshift.keyBy(clicks, c -> c.user, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofDays(1)));
        // "never drop late data": size + lateness would wrap around to a negative horizon
        assertThatThrownBy(() -> windowed.allowedLateness(Duration.ofMillis(Long.MAX_VALUE)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("allowed lateness")
                .hasMessageContaining("36500 days");
        // within the bound alone, beyond it with the window's size
        windowed.allowedLateness(Duration.ofDays(36_500));
        assertThatThrownBy(() -> windowed.aggregate(new SumBytes())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("window size + allowed lateness");
        var byId = Keyshift.keyBy(clicks, c -> c.userId, Types.INT).uidPrefix("alarms");
        assertThatThrownBy(() -> byId.process(new RateAlarm(), Duration.ofDays(40_000)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyed process function");
        // under a millisecond it would be 0 ms, whose cleanup timer sets itself again at its own time for ever
        assertThatThrownBy(() -> byId.process(new RateAlarm(), Duration.ofNanos(500_000)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1 ms");
        // event time is in ms: 1.999999 ms ran as 1 ms; the options refuse a fraction of a millisecond alike
        assertThatThrownBy(() -> byId.process(new RateAlarm(), Duration.ofNanos(1_999_999)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("whole number of milliseconds");
        assertThatThrownBy(() -> byId.process(new RateAlarm(), null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("state horizon");
        // the allowed lateness alike: 1.5 ms ran as 1 ms; null is a NullPointerException naming it, as elsewhere
        assertThatThrownBy(() -> windowed.allowedLateness(Duration.ofNanos(1_500_000)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("whole number of milliseconds")
                // as Flink writes durations, not ISO-8601's PT0.0015S
                .hasMessageNotContaining("PT");
        assertThatThrownBy(() -> windowed.allowedLateness(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("allowed lateness");
        assertThatThrownBy(() -> byId.uidPrefix(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("uid prefix");
    }

    /** An enum's hashCode is its identity hash: it differs between JVMs. */
    enum Tier { FREE, PAID }

    /** A POJO that keeps Object's hashCode. */
    public static class Account {
        public String id;

        public Account() {}
    }

    /**
     * Flink's reactive mode (every vertex at its max parallelism) is refused when the job is built, naming
     * scheduler-mode; where a vertex's parallelism is changed all the same (an autoscaler), the profiler fails for
     * good as it starts at 2 subtasks: at several, each profiler merged a part of the routers' reports into a profile
     * of its own, and the forecaster took each for a window.
     */
    @Test
    void reactiveModeIsRefusedAndTheProfilerRunsAtOneSubtaskOnly() throws Exception {
        Configuration c = new Configuration();
        c.set(org.apache.flink.configuration.JobManagerOptions.SCHEDULER_MODE,
                org.apache.flink.configuration.SchedulerExecutionMode.REACTIVE);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, c);
        var windowed = Keyshift.keyBy(Clicks.stream(env, 10, 1), c2 -> c2.user, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        assertThatThrownBy(() -> windowed.aggregate(new SumBytes())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("scheduler-mode: reactive");
        try (var h = new org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness<
                io.keyshift.avro.KeyLoadSample, io.keyshift.profiler.WindowProfile>(
                new io.keyshift.profiler.KeyDistributionProfiler(3_600_000L, 8, 128,
                        new org.apache.flink.util.OutputTag<>("loads",
                                TypeInformation.of(io.keyshift.avro.WindowLoad.class))), 128, 2, 0)) {
            h.setup();
            assertThatThrownBy(h::initializeEmptyState)
                    .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                    .rootCause().hasMessageContaining("keyshift's profiler runs at 2 subtasks, but it must run at 1");
        }
    }

    /**
     * What keyshift cannot run is refused when the job is built, naming it: BATCH execution (watermarks dropped, the
     * control path after the routers: it hung at the end of its input) or AUTOMATIC, and a broadcast input (each
     * router subtask would take every record: windows counted each record once per subtask).
     */
    @Test
    void batchExecutionAndABroadcastInputAreRefusedWhenTheJobIsBuilt() {
        for (org.apache.flink.api.common.RuntimeExecutionMode mode : List.of(
                org.apache.flink.api.common.RuntimeExecutionMode.BATCH,
                org.apache.flink.api.common.RuntimeExecutionMode.AUTOMATIC)) {
            Configuration c = new Configuration();
            c.set(org.apache.flink.configuration.ExecutionOptions.RUNTIME_MODE, mode);
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, c);
            var windowed = Keyshift.keyBy(Clicks.stream(env, 10, 1), c2 -> c2.user, Types.STRING)
                    .window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
            assertThatThrownBy(() -> windowed.aggregate(new SumBytes())).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("execution.runtime-mode is " + mode).hasMessageContaining("STREAMING");
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        var broadcast = Keyshift.keyBy(Clicks.stream(env, 10, 1).broadcast(), c -> c.user, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        assertThatThrownBy(() -> broadcast.aggregate(new SumBytes())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("broadcast");
        // also one input of a union (keyBy's partitioner replaces the broadcast there; the router's edge kept it)
        var unionOfBroadcast = Keyshift.keyBy(Clicks.stream(env, 10, 1).broadcast()
                        .union(Clicks.stream(env, 10, 1)), c -> c.user, Types.STRING).uidPrefix("union")
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        assertThatThrownBy(() -> unionOfBroadcast.aggregate(new SumBytes()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("broadcast");
        Keyshift.keyBy(Clicks.stream(env, 10, 1).union(Clicks.stream(env, 10, 1)), c -> c.user, Types.STRING)
                .uidPrefix("plain-union").window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes());
        // a rebalanced input is keyed as keyBy keys it
        Keyshift.keyBy(Clicks.stream(env, 10, 1).rebalance(), c -> c.user, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1))).aggregate(new SumBytes());
    }

    /**
     * A source with watermark alignment is found behind any transformation with one input (a timestamp assigner, a
     * forward edge, a side output), so that the router gets its own chain there: the guard had stopped at the first
     * that is not a one-input operator.
     */
    @Test
    void anAlignedSourceIsFoundBehindAnyOneInputTransformation() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        var aligned = org.apache.flink.api.common.eventtime.WatermarkStrategy.<Long>forMonotonousTimestamps()
                .withWatermarkAlignment("g", Duration.ofMinutes(1));
        DataStream<Long> source = env.fromSource(new org.apache.flink.api.connector.source.lib.NumberSequenceSource(
                0, 10), aligned, "aligned");
        var stamped = source.assignTimestampsAndWatermarks(
                org.apache.flink.api.common.eventtime.WatermarkStrategy.<Long>forMonotonousTimestamps()
                        .withTimestampAssigner((x, t) -> x));
        assertThat(KeyshiftStream.alignedSourceInChain(stamped.getTransformation())).isTrue();
        assertThat(KeyshiftStream.alignedSourceInChain(source.forward().map(x -> x).getTransformation())).isTrue();
        var tag = new OutputTag<Long>("side", Types.LONG);
        var split = source.process(new org.apache.flink.streaming.api.functions.ProcessFunction<Long, Long>() {
            @Override
            public void processElement(Long x, Context ctx, Collector<Long> out) {
                ctx.output(tag, x);
            }
        });
        assertThat(KeyshiftStream.alignedSourceInChain(split.getSideOutput(tag).getTransformation())).isTrue();
        DataStream<Long> plain = env.fromSource(new org.apache.flink.api.connector.source.lib.NumberSequenceSource(
                0, 10), org.apache.flink.api.common.eventtime.WatermarkStrategy.forMonotonousTimestamps(), "plain");
        assertThat(KeyshiftStream.alignedSourceInChain(plain.map(x -> x).getTransformation())).isFalse();
        assertThat(KeyshiftStream.alignedSourceInChain(plain.union(source).getTransformation())).isFalse();
    }

    @Test
    void aKeyTypeThatKeyByRefusesIsRefusedAsKeyByRefusesIt() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        DataStream<Clicks.Click> clicks = Clicks.stream(env, 10, 1);
        int transformations = env.getTransformations().size();
        assertThatThrownBy(() -> Keyshift.keyBy(clicks, c -> c.bytes > 100 ? Tier.PAID : Tier.FREE,
                TypeInformation.of(Tier.class)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyshift cannot key by")
                .hasMessageContaining("cannot be used as key");
        assertThatThrownBy(() -> Keyshift.keyBy(clicks, c -> {
            Account a = new Account();
            a.id = c.user;
            return a;
        }, TypeInformation.of(Account.class)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyshift cannot key by");
        // keys keyBy takes are still taken (a list too: keyBy checks hashing only, not Flink's isKeyType), and
        // building the check added nothing to the job
        clicks.keyBy(c -> List.of(c.user), Types.LIST(Types.STRING));
        Keyshift.keyBy(clicks, c -> List.of(c.user), Types.LIST(Types.STRING));
        Keyshift.keyBy(clicks, c -> c.user, Types.STRING);
        Keyshift.keyBy(clicks, c -> Tuple2.of(c.user, c.userId), Types.TUPLE(Types.STRING, Types.INT));
        assertThat(env.getTransformations()).hasSize(transformations);
    }

    /**
     * An input whose type Flink could not tell (a lambda's erased generic result) fails as keyBy fails on it, with
     * Flink's InvalidTypesException; it was an IllegalArgumentException that blamed the key selector and key type.
     */
    @Test
    void anInputOfUnknownTypeFailsAsKeyByFailsOnIt() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        DataStream<List<String>> lists = env.fromData(1, 2).map(i -> List.of("a" + i));
        assertThatThrownBy(() -> lists.keyBy(l -> l.get(0), Types.STRING))
                .isInstanceOf(org.apache.flink.api.common.functions.InvalidTypesException.class);
        assertThatThrownBy(() -> Keyshift.keyBy(lists, l -> l.get(0), Types.STRING))
                .isInstanceOf(org.apache.flink.api.common.functions.InvalidTypesException.class)
                .hasMessageNotContaining("keyshift cannot key by");
    }

    /** A record key with an enum component: its implicit hashCode is the enum's identity hash, different per JVM. */
    public record TieredUser(String user, Tier tier) {}

    /** A record key of records: one level down, an enum. */
    public record Visit(String page, TieredUser visitor) {}

    /** A record key whose components all hash alike in every JVM. */
    public record UserDay(String user, long day) {}

    /** A POJO that declares its own hashCode over an enum's name: trusted as written. */
    public static class NamedTier {
        public String user;
        public Tier tier;

        public NamedTier() {}

        @Override
        public boolean equals(Object o) {
            return o instanceof NamedTier n && java.util.Objects.equals(user, n.user) && tier == n.tier;
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(user, tier == null ? null : tier.name());
        }
    }

    /** A POJO that declares its own hashCode over arrays: of ints (stable), and of enums (identity hashes). */
    public static class TierHistory {
        public String user;
        public int[] counts;
        public Tier[] tiers;

        public TierHistory() {}

        @Override
        public boolean equals(Object o) {
            return o instanceof TierHistory t && java.util.Objects.equals(user, t.user)
                    && java.util.Arrays.equals(counts, t.counts) && java.util.Arrays.equals(tiers, t.tiers);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(user, java.util.Arrays.hashCode(counts), java.util.Arrays.hashCode(tiers));
        }
    }

    /**
     * A generic class Flink keeps without its type arguments, in a Tuple field or as the key itself
     * ({@code Optional<Tier>} hashes the enum's identity hash), is warned of; a Tuple of plain types, or a generic
     * class that has no type parameters, is not.
     */
    @Test
    void aGenericClassWhoseTypeArgumentsFlinkDropsIsWarnedOf() {
        TypeInformation<java.util.Optional<Tier>> optional =
                new org.apache.flink.api.common.typeinfo.TypeHint<java.util.Optional<Tier>>() {}.getTypeInfo();
        assertThat(KeyHashes.unstable(Types.TUPLE(Types.STRING, optional))).isNull();
        assertThat(KeyHashes.unseenTypeArguments(Types.TUPLE(Types.STRING, optional))).singleElement()
                .satisfies(w -> assertThat(w).contains("f1").contains("java.util.Optional"));
        assertThat(KeyHashes.unseenTypeArguments(optional)).singleElement()
                .satisfies(w -> assertThat(w).startsWith("the key is a java.util.Optional"));
        assertThat(KeyHashes.unseenTypeArguments(Types.TUPLE(Types.STRING, Types.LONG))).isEmpty();
        assertThat(KeyHashes.unseenTypeArguments(Types.LIST(Types.STRING))).isEmpty();
        assertThat(KeyHashes.unseenTypeArguments(TypeInformation.of(java.math.BigDecimal.class))).isEmpty();
    }

    /** A region: a known one (an enum) or a custom one (a record), as a sealed interface lets a key hold either. */
    public sealed interface Region permits KnownRegion, CustomRegion {}

    public enum KnownRegion implements Region { EU, US }

    public record CustomRegion(String name) implements Region {}

    public record UserRegion(String user, Region region) {}

    public record UserPayload(String user, java.io.Serializable payload, java.util.List<String> tags) {}

    /**
     * A key part declared as an interface (a sealed one that an enum implements), an abstract class or Object is
     * warned of: the value's own class decides its hashCode, and an enum there has an identity hash (it was passed
     * without a word, as if checked); the JDK's collections over checked elements are not.
     */
    @Test
    void aKeyPartDeclaredAsAnInterfaceIsWarnedOf() {
        assertThat(KeyHashes.unstable(TypeInformation.of(UserRegion.class))).isNull();
        assertThat(KeyHashes.undeclaredParts(TypeInformation.of(UserRegion.class))).singleElement()
                .satisfies(w -> assertThat(w).contains("region").contains("declared as " + Region.class.getName()));
        assertThat(KeyHashes.undeclaredParts(TypeInformation.of(UserPayload.class))).singleElement()
                .satisfies(w -> assertThat(w).contains("payload").contains("java.io.Serializable"));
        assertThat(KeyHashes.undeclaredParts(TypeInformation.of(Region.class))).singleElement()
                .satisfies(w -> assertThat(w).startsWith("the key is declared as"));
        assertThat(KeyHashes.undeclaredParts(Types.TUPLE(Types.STRING, Types.LONG))).isEmpty();
        assertThat(KeyHashes.undeclaredParts(TypeInformation.of(CustomRegion.class))).isEmpty();
        assertThat(KeyHashes.undeclaredParts(Types.LIST(Types.STRING))).isEmpty();
    }

    /** A trusted hashCode over an array of enums is warned of (Arrays.hashCode takes the enums' identity hashes). */
    @Test
    void aTrustedHashCodeOverAnArrayOfEnumsIsWarnedOf() {
        assertThat(KeyHashes.trustedOverEnums(TypeInformation.of(TierHistory.class))).singleElement()
                .satisfies(w -> assertThat(w).contains("tiers").contains("an array of enums"));
        assertThat(KeyHashes.trustedOverEnums(TypeInformation.of(NamedTier.class))).singleElement()
                .satisfies(w -> assertThat(w).contains("tier").contains("an enum"));
    }

    /**
     * An immutable key class as Lombok's {@code @Value} makes it (final fields, no no-argument constructor: Flink
     * types it generically, for Kryo), whose generated hashCode hashes its enum field.
     */
    public static final class RegionKey {
        private final Tier region;
        private final String city;

        public RegionKey(Tier region, String city) {
            this.region = region;
            this.city = city;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof RegionKey k && region == k.region && java.util.Objects.equals(city, k.city);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(region, city);
        }
    }

    /** A generated protocol buffers message, as far as its interfaces and hashCode go. */
    public static final class ClickKeyMessage implements com.google.protobuf.MessageOrBuilder {
        private final String user;

        public ClickKeyMessage(String user) {
            this.user = user;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ClickKeyMessage m && user.equals(m.user);
        }

        @Override
        public int hashCode() {
            return user.hashCode();
        }
    }

    /**
     * A key class Flink serializes generically is checked too: its own hashCode over an enum field is warned of (it
     * was trusted without a word: only POJOs and records were looked into), and a protocol buffers message, whose
     * hashCode mixes in its descriptor's identity hash, is refused.
     */
    @Test
    void aGenericKeyClassIsLookedIntoAndAProtobufMessageIsRefused() {
        assertThat(TypeInformation.of(RegionKey.class)).isInstanceOf(
                org.apache.flink.api.java.typeutils.GenericTypeInfo.class);
        assertThat(KeyHashes.unstable(TypeInformation.of(RegionKey.class))).isNull();
        assertThat(KeyHashes.trustedOverEnums(TypeInformation.of(RegionKey.class))).singleElement()
                .satisfies(w -> assertThat(w).contains("region").contains("an enum"));
        assertThat(KeyHashes.unstable(TypeInformation.of(ClickKeyMessage.class)))
                .contains("a protocol buffers message").contains("ClickKeyMessage");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        DataStream<String> users = env.fromData("a", "b");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Keyshift.keyBy(users, ClickKeyMessage::new,
                        TypeInformation.of(ClickKeyMessage.class)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("protocol buffers message");
        // a String key is neither; nor is a Row typed generically (it hashes its RowKind by its byte value)
        assertThat(KeyHashes.trustedOverEnums(TypeInformation.of(String.class))).isEmpty();
        assertThat(KeyHashes.trustedOverEnums(new org.apache.flink.api.java.typeutils.GenericTypeInfo<>(
                org.apache.flink.types.Row.class))).isEmpty();
    }

    /**
     * A reduce function that cannot be serialized fails the build as Flink's reduce does, naming the user's function,
     * not the AggregateFunction keyshift wraps it in.
     */
    @Test
    void aReduceFunctionThatCannotBeSerializedIsNamedAsSuch() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        DataStream<String> words = env.fromData("a", "b").assignTimestampsAndWatermarks(
                org.apache.flink.api.common.eventtime.WatermarkStrategy.<String>forMonotonousTimestamps()
                        .withTimestampAssigner((w, t) -> 0L));
        Object notSerializable = new Object();
        org.apache.flink.api.common.functions.ReduceFunction<String> reduce = (a, b) -> a + b + notSerializable;
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Keyshift.keyBy(words, w -> w, Types.STRING)
                        .window(org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows.of(
                                java.time.Duration.ofMinutes(1))).reduce(reduce))
                .isInstanceOf(org.apache.flink.api.common.InvalidProgramException.class)
                .hasMessageNotContaining("AggregateFunction")
                .hasMessageContaining("KeyshiftApiTest$$Lambda").hasMessageContaining("is not serializable");
    }

    /** A record that overrides the implicit hashCode, over the enum's name: trusted as written. */
    public record NamedTierRecord(String user, Tier tier) {
        @Override
        public int hashCode() {
            return java.util.Objects.hash(user, tier.name());
        }
    }

    /** A record of a set of enums (Flink types a Set field with its own type information). */
    public record UserTiers(String user, java.util.Set<Tier> tiers) {}

    /** A generic record: its type variable's type information is what Flink resolved it to. */
    public record Tagged<T>(String id, T tag) {}

    /** A public record with an Optional of an enum, which Flink types generically. */
    public record MaybeTier(String user, java.util.Optional<Tier> tier) {}

    /** A record Flink serializes generically (not public): judged by its components' declared types. */
    record HiddenTiers(String user, List<Tier> tiers) {}

    /** A class Flink serializes generically that keeps Object's hashCode. */
    public static final class Opaque {
        final String id;

        Opaque(String id) {
            this.id = id;
        }
    }

    /**
     * keyBy checks a key type's hashing at the top level and in Tuples and Rows, not inside POJOs and records, and lets a
     * generic (Kryo) class without a hashCode of its own through. Behind keyBy such a key fails loudly (its key group is
     * computed again on the receiving side); behind keyshift, whose routing keys carry their hash, one key would have
     * been put in several key groups by routers in different JVMs, silently: refused, naming the field.
     */
    @Test
    void aKeyWithAnEnumOrIdentityHashInsideARecordIsRefusedNamingTheField() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        DataStream<Clicks.Click> clicks = Clicks.stream(env, 10, 1);
        // keyBy takes this one
        clicks.keyBy(c -> new TieredUser(c.user, Tier.FREE), TypeInformation.of(TieredUser.class));
        assertThatThrownBy(() -> Keyshift.keyBy(clicks, c -> new TieredUser(c.user, Tier.FREE),
                TypeInformation.of(TieredUser.class)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("its field tier is an enum (" + Tier.class.getName() + "), whose hashCode "
                        + "differs between JVMs");
        assertThatThrownBy(() -> Keyshift.keyBy(clicks, c -> new Visit("/", new TieredUser(c.user, Tier.PAID)),
                TypeInformation.of(Visit.class)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("its field visitor.tier is an enum");
        assertThatThrownBy(() -> Keyshift.keyBy(clicks, c -> new Opaque(c.user),
                new org.apache.flink.api.java.typeutils.GenericTypeInfo<>(Opaque.class)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the key is a class that keeps Object's hashCode (" + Opaque.class.getName());
        assertThatThrownBy(() -> Keyshift.keyBy(clicks, c -> Tuple2.of(c.user, new TieredUser(c.user, Tier.FREE)),
                Types.TUPLE(Types.STRING, TypeInformation.of(TieredUser.class))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("its field f1.tier is an enum");
        assertThatThrownBy(() -> Keyshift.keyBy(clicks, c -> new UserTiers(c.user, java.util.Set.of(Tier.FREE)),
                TypeInformation.of(UserTiers.class)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the key's part tiers[] is an enum");
        assertThat(TypeInformation.of(HiddenTiers.class))
                .isInstanceOf(org.apache.flink.api.java.typeutils.GenericTypeInfo.class);
        assertThatThrownBy(() -> Keyshift.keyBy(clicks, c -> new HiddenTiers(c.user, List.of(Tier.FREE)),
                TypeInformation.of(HiddenTiers.class)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the key's part tiers<0> is an enum");
        assertThatThrownBy(() -> Keyshift.keyBy(clicks, c -> new MaybeTier(c.user, java.util.Optional.empty()),
                TypeInformation.of(MaybeTier.class)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the key's part tier<0> is an enum");
        assertThatThrownBy(() -> Keyshift.keyBy(clicks, c -> new Tagged<>(c.user, new Opaque(c.user)),
                TypeInformation.of(new org.apache.flink.api.common.typeinfo.TypeHint<Tagged<Opaque>>() { })))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("its field tag is a class that keeps Object's hashCode");
        assertThatThrownBy(() -> Keyshift.keyBy(clicks, c -> List.of(Tier.FREE),
                Types.LIST(TypeInformation.of(Tier.class))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the key's part [] is an enum");
        // stable ones are taken
        assertThat(KeyHashes.implicitRecordHashCode(TieredUser.class)).isTrue();
        assertThat(KeyHashes.implicitRecordHashCode(NamedTierRecord.class)).isFalse();
        Keyshift.keyBy(clicks, c -> new NamedTierRecord(c.user, Tier.FREE), TypeInformation.of(NamedTierRecord.class));
        Keyshift.keyBy(clicks, c -> new UserDay(c.user, 1), TypeInformation.of(UserDay.class));
        Keyshift.keyBy(clicks, c -> {
            NamedTier n = new NamedTier();
            n.user = c.user;
            n.tier = Tier.FREE;
            return n;
        }, TypeInformation.of(NamedTier.class));
        Keyshift.keyBy(clicks, c -> new org.apache.flink.types.Row(0), org.apache.flink.api.common.typeinfo.Types.ROW(
                Types.STRING, Types.LONG));
    }

    /**
     * The command line's own keys in a configuration given to configure() are ignored, as before, but no longer
     * silently: a library user who sets keyshift.allowed-lateness there would have had late records dropped.
     */
    @Test
    void commandLineKeysGivenToConfigureAreNamedAsIgnored() {
        org.apache.flink.configuration.Configuration conf = new org.apache.flink.configuration.Configuration();
        conf.setString("keyshift.allowed-lateness", "30s");
        conf.setString("keyshift.control.file", "/tmp/commands");
        conf.setString("keyshift.plan.horizon", "2");
        assertThat(KeyshiftStream.ignoredCommandLineKeys(conf))
                .containsExactly("keyshift.allowed-lateness", "keyshift.control.file");
        assertThat(KeyshiftStream.ignoredKeyWarning("keyshift.allowed-lateness"))
                .contains("ignored by a library stage").contains("allowedLateness");
        assertThat(KeyshiftStream.ignoredKeyWarning("keyshift.control.file")).contains("control(...)");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        // still taken: the rest applies, the ignored keys fail nothing
        Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user, Types.STRING).configure(conf);
    }

    /** The typed aggregate overload checks its aggregate type as Flink's WindowedStream does (it was taken unchecked). */
    @Test
    void theTypedAggregateOverloadRefusesANullAggregateType() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        var windows = Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)));
        assertThatThrownBy(() -> windows.aggregate(new SumBytes(), new Label(),
                TypeInformation.of(long[].class), null, Types.STRING))
                .isInstanceOf(NullPointerException.class).hasMessage("aggregate type");
        // a null window function (it passed the aggregate's result on as the window's: a ClassCastException in the
        // running job), and a null result type named as such (it was called the aggregate type)
        assertThatThrownBy(() -> windows.aggregate(new SumBytes(), null, TypeInformation.of(long[].class),
                Types.LONG, Types.STRING))
                .isInstanceOf(NullPointerException.class).hasMessage("window function");
        assertThatThrownBy(() -> windows.aggregate(new SumBytes(), TypeInformation.of(long[].class), null))
                .isInstanceOf(NullPointerException.class).hasMessage("result type");
        assertThatThrownBy(() -> windows.reduce((a, b) -> a, null))
                .isInstanceOf(NullPointerException.class).hasMessage("window function");
    }

    /**
     * The keyed exchange's format follows what the keyed logic keeps in state: Flink's window contents of
     * process(ProcessWindowFunction) hold envelopes, which need the versioned state format with the key; every other
     * terminal call keeps none, and its envelopes cross in the shorter exchange format (whose serializer has no
     * snapshot: in a state it would fail the first checkpoint).
     */
    @Test
    void onlyAStageThatKeepsEnvelopesInStateGetsThemInTheStateFormat() {
        java.util.Map<String, java.util.function.Consumer<KeyshiftStream<Clicks.Click, String>>> stages =
                new java.util.LinkedHashMap<>();
        stages.put("aggregate", u -> u.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes(), new Label()));
        stages.put("reduce", u -> u.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .reduce((a, b) -> a, new Echo<String>(), Types.STRING));
        stages.put("process window", u -> u.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .process(new EachClick()));
        stages.put("keyed process", u -> u.process(new Emit<String>(), Duration.ofHours(1), Types.STRING));
        java.util.Map<String, Class<?>> formats = new java.util.LinkedHashMap<>();
        stages.forEach((name, stage) -> {
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
            stage.accept(Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user, Types.STRING));
            org.apache.flink.streaming.api.graph.StreamGraph graph = env.getStreamGraph(false);
            org.apache.flink.streaming.api.graph.StreamNode router = graph.getStreamNodes().stream()
                    .filter(n -> n.getOperatorName().contains("router")).findFirst().orElseThrow();
            org.apache.flink.streaming.api.graph.StreamEdge keyed = router.getOutEdges().stream()
                    .filter(e -> e.getOutputTag() == null).findFirst().orElseThrow();
            formats.put(name, graph.getStreamNode(keyed.getTargetId()).getTypeSerializersIn()[0].getClass());
        });
        assertThat(formats).containsEntry("aggregate", io.keyshift.serde.EnvelopeWireSerializer.class)
                .containsEntry("reduce", io.keyshift.serde.EnvelopeWireSerializer.class)
                .containsEntry("process window", io.keyshift.serde.EnvelopeSerializer.class)
                .containsEntry("keyed process", io.keyshift.serde.EnvelopeWireSerializer.class);
    }

    /** Parallelism of the first stream-graph node whose name contains {@code name}. */
    private static int parallelismOf(StreamExecutionEnvironment env, String name) {
        return env.getStreamGraph(false).getStreamNodes().stream().filter(n -> n.getOperatorName().contains(name))
                .findFirst().orElseThrow(() -> new AssertionError("no node named " + name)).getParallelism();
    }

    private static StreamExecutionEnvironment splitAggregate(int parallelism, Configuration conf) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism);
        conf.setString("keyshift.plan.split-threshold", "1.0");
        Keyshift.keyBy(Clicks.stream(env, 10, 1), c -> c.user, Types.STRING).configure(conf)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new SumBytes(), new Label())
                .sinkTo(new org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink<>());
        return env;
    }

    @Test
    void theResultsPathRunsAtOneSubtaskPerEightOfTheKeyedStageUnlessConfigured() {
        StreamExecutionEnvironment twelve = splitAggregate(12, new Configuration());
        assertThat(parallelismOf(twelve, "window SumBytes")).isEqualTo(12);
        assertThat(parallelismOf(twelve, "shadow validator")).isEqualTo(2);
        assertThat(parallelismOf(twelve, "split merger")).isEqualTo(2);
        assertThat(parallelismOf(splitAggregate(8, new Configuration()), "shadow validator")).isEqualTo(1);

        Configuration three = new Configuration();
        three.setString("keyshift.results-path.parallelism", "3");
        StreamExecutionEnvironment configured = splitAggregate(12, three);
        assertThat(parallelismOf(configured, "shadow validator")).isEqualTo(3);
        assertThat(parallelismOf(configured, "split merger")).isEqualTo(3);

        Configuration negative = new Configuration();
        negative.setString("keyshift.results-path.parallelism", "-1");
        assertThatThrownBy(() -> splitAggregate(4, negative)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.results-path.parallelism");
        // scaled, the keyed stage may run below a fixed results path (the autoscaler then rescaled the results path
        // and never the stage): above the scaling minimum it is refused; at it, or 0, it passes
        Configuration scaled = three.clone();
        scaled.setString("keyshift.scaling.capacity", "1000");
        assertThatThrownBy(() -> splitAggregate(12, scaled)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.results-path.parallelism (3) must be at most "
                        + "keyshift.scaling.min-parallelism (1) when keyshift.scaling.capacity is set");
        scaled.setString("keyshift.scaling.min-parallelism", "3");
        assertThat(parallelismOf(splitAggregate(12, scaled), "shadow validator")).isEqualTo(3);
    }

    /**
     * The profiler skips a long gap by whole seasonal periods: the least common multiple of the forecaster's seasons
     * (a week of hourly windows by default), or the longest season when that multiple exceeds the gap bound.
     */
    @Test
    void theSeasonalPeriodIsTheSeasonsLeastCommonMultipleWithinTheGapBound() {
        Configuration c = new Configuration();
        assertThat(KeyshiftStream.seasonalPeriod(c, Duration.ofHours(1).toMillis())).isEqualTo(168);
        assertThat(KeyshiftStream.seasonalPeriod(c, Duration.ofMinutes(1).toMillis())).isEqualTo(1440);
        c.setString("keyshift.forecast.seasons", "7;11;0");
        assertThat(KeyshiftStream.seasonalPeriod(c, Duration.ofHours(1).toMillis())).isEqualTo(77);
        c.setString("keyshift.forecast.seasons", "500;501");
        assertThat(KeyshiftStream.seasonalPeriod(c, Duration.ofHours(1).toMillis())).isEqualTo(501);
        c.setString("keyshift.forecast.seasons", "0");
        assertThat(KeyshiftStream.seasonalPeriod(c, Duration.ofHours(1).toMillis())).isEqualTo(1);
    }
}
