package io.keyshift.jobs.shadowaware;

import io.keyshift.avro.Migration;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.config.AvroTrust;
import io.keyshift.config.JobOptions;
import io.keyshift.event.Event;
import io.keyshift.jobs.SharedData;
import io.keyshift.jobs.cli.FlinkConfig;
import io.keyshift.jobs.input.InputSpec;
import io.keyshift.jobs.input.ReplayInput;
import io.keyshift.jobs.replay.ReplayJob;
import io.keyshift.jobs.report.ReplayReport;
import io.keyshift.jobs.source.Progress;
import io.keyshift.jobs.source.SortedEventFile;
import io.keyshift.jobs.source.StridedSource;
import io.keyshift.pipeline.KeyshiftPipeline;
import io.keyshift.pipeline.Strategy;
import io.keyshift.pipeline.Uids;
import io.keyshift.route.RoutingKey;
import io.keyshift.shadowaware.RunningCount;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * End-to-end (slow, about 60 s): a general keyed function behind keyshift (a per-station count over the last hour on
 * the first two months of the bike-share year, planned in daily windows) equals its plain-keyBy twin across migrations, and the state a key
 * leaves in the key group it moved away from is removed (read back with the State Processor API).
 */
@Tag("end-to-end")
class ShadowAwareTest {
    private static final long DAY = Duration.ofDays(1).toMillis();
    private static final RunningCount FUNCTION = new RunningCount(Duration.ofHours(1));
    private static final TypeInformation<RunningCount.Count> TYPE = TypeInformation.of(RunningCount.Count.class);

    @TempDir
    static Path dir;
    /** The first 60,000 trips of 2014 (about two months). */
    static final int TRIPS = 60_000;
    static SortedEventFile input;

    @BeforeAll
    static void prepare() throws Exception {
        ReplayInput.Prepared year = ReplayInput.prepare(SharedData.file("bayarea-bikeshare-2014/batrips.csv.gz"),
                new InputSpec(List.of(), "start_station", List.of("start_date"), Optional.of("yyyy-MM-dd HH:mm:ssXXX"),
                        Optional.empty()),
                dir.resolve("events.bin"), dir.resolve("dead.csv"), n -> { });
        List<Event> first = new ArrayList<>(TRIPS);
        try (var c = year.space().open(0, 1, 0)) {
            while (c.hasNext() && first.size() < TRIPS) {
                first.add(c.next());
            }
        }
        input = SortedEventFile.write(dir.resolve("first.bin"), first);
    }

    static Configuration conf() {
        Configuration c = FlinkConfig.load(SharedData.flinkConf(), Map.of());
        c.set(JobOptions.WINDOW, Duration.ofDays(1));
        c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.resolve("cp-" + UUID.randomUUID()).toUri().toString());
        return c;
    }

    static DataStream<Event> events(StreamExecutionEnvironment env, double rate, String progress) {
        return env.fromSource(new StridedSource(input, env.getParallelism(), rate, progress),
                WatermarkStrategy.<Event>forMonotonousTimestamps().withTimestampAssigner((e, ts) -> e.timestamp),
                "bikes").uid(Uids.SOURCE);
    }

    private static List<String> sorted(Path dir) throws Exception {
        List<String> out = new ArrayList<>(ReplayReport.lines(dir));
        out.sort(null);
        return out;
    }

    private static void write(DataStream<RunningCount.Count> s, Path dir) {
        ReplayJob.sink(s.map(RunningCount.Count::toString).returns(Types.STRING), dir, dir.getFileName().toString(), 4);
    }

    @Test
    void runningCountBehindKeyshiftEqualsItsPlainKeyByTwinAcrossMigrations() throws Exception {
        StreamExecutionEnvironment plainEnv = StreamExecutionEnvironment.createLocalEnvironment(4, conf());
        plainEnv.setMaxParallelism(128);
        Path run = dir.resolve("twin-" + UUID.randomUUID());
        write(KeyshiftPipeline.plainKeyed(events(plainEnv, 0, null), 4, FUNCTION, TYPE), run.resolve("plain"));
        plainEnv.execute("plain running count");
        List<String> expected = sorted(run.resolve("plain"));

        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(4, conf());
        env.setMaxParallelism(128);
        KeyshiftPipeline.ShadowAwareOutputs<RunningCount.Count> out = KeyshiftPipeline.shadowAware(
                events(env, 0, null), Strategy.PREDICTIVE, conf(), 4, 128, FUNCTION, TYPE);
        write(out.results(), run.resolve("results"));
        write(out.shadowResults(), run.resolve("shadows"));
        ReplayJob.sink(out.plans().map(ReplayJob::planJson).returns(Types.STRING).setParallelism(1),
                run.resolve("plans"), "plans", 1);
        env.execute("keyshift running count");
        List<String> actual = sorted(run.resolve("results"));
        long shadowResults = ReplayReport.lines(run.resolve("shadows")).size();
        long migrations = 0;
        for (RoutingPlan p : ReplayReport.plans(run.resolve("plans"))) {
            migrations += p.getMigrationsStarted();
        }
        assertThat(expected).hasSize(TRIPS);
        assertThat(migrations).isGreaterThanOrEqualTo(20);
        assertThat(shadowResults).isPositive();
        assertThat(actual).isEqualTo(expected);
    }

    /** Reads, per routing key, the last event time seen and how many entries the count's state holds. */
    static class StateRows extends KeyedStateReaderFunction<RoutingKey, String> {
        private transient ValueState<Long> lastSeen;
        private transient MapState<Long, Long> perTime;

        @Override
        public void open(OpenContext context) {
            lastSeen = getRuntimeContext().getState(new ValueStateDescriptor<>("shadow-aware-last-seen", Types.LONG));
            perTime = getRuntimeContext().getMapState(new MapStateDescriptor<>("records-per-time", Types.LONG, Types.LONG));
        }

        @Override
        public void readKey(RoutingKey key, Context ctx, Collector<String> out) throws Exception {
            int entries = 0;
            for (Long ignored : perTime.keys()) {
                entries++;
            }
            Long last = lastSeen.value();
            if (last != null || entries > 0) {
                out.collect(key.key + "\u0000" + key.keyGroup + "\u0000" + (last == null ? Long.MIN_VALUE : last)
                        + "\u0000" + entries);
            }
        }
    }

    @Test
    void noStateIsLeftUnderAKeyGroupAKeyMovedAwayFrom() throws Exception {
        Configuration c = conf();
        c.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(500));
        String progress = "cleanup-" + UUID.randomUUID();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(4, c);
        env.setMaxParallelism(128);
        KeyshiftPipeline.ShadowAwareOutputs<RunningCount.Count> out = KeyshiftPipeline.shadowAware(
                events(env, 10_000, progress), Strategy.PREDICTIVE, c, 4, 128, FUNCTION, TYPE);
        out.results().sinkTo(new org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink<>());
        Path planDir = dir.resolve("cleanup-plans-" + UUID.randomUUID());
        ReplayJob.sink(out.plans().map(ReplayJob::planJson).returns(Types.STRING).setParallelism(1), planDir, "plans", 1);
        JobClient client = env.executeAsync("keyshift running count, savepoint");
        while (Progress.get(progress) < TRIPS * 9 / 10) {
            Thread.sleep(50);
        }
        String savepoint = client.stopWithSavepoint(false, dir.resolve("sp").toUri().toString(),
                SavepointFormatType.CANONICAL).get();

        AvroTrust.install();
        StreamExecutionEnvironment readEnv = StreamExecutionEnvironment.createLocalEnvironment(1, new Configuration());
        SavepointReader reader = SavepointReader.read(readEnv, savepoint);
        List<RoutingPlan> planState = new ArrayList<>();
        reader.readListState(OperatorIdentifier.forUid(Uids.PLANNER), "routing-plan",
                new AvroTypeInfo<>(RoutingPlan.class)).executeAndCollect().forEachRemaining(planState::add);
        List<String> rows = new ArrayList<>();
        reader.readKeyedState(OperatorIdentifier.forUid(Uids.SHADOW_AWARE), new StateRows(),
                TypeInformation.of(RoutingKey.class), Types.STRING).executeAndCollect().forEachRemaining(rows::add);

        assertThat(planState).hasSize(1);
        RoutingPlan plan = planState.get(0);
        long migrations = ReplayReport.plans(planDir).stream().mapToLong(RoutingPlan::getMigrationsStarted).sum();
        assertThat(migrations).as("migrations before the savepoint").isGreaterThanOrEqualTo(20);
        long planned = plan.getBasedOnWindowEnd();
        assertThat(plan.getVersion()).isGreaterThan(40);
        assertThat(rows).isNotEmpty();
        int movedAway = 0;
        Set<String> owners = new HashSet<>();
        for (String row : rows) {
            String[] f = row.split("\u0000");
            String key = f[0];
            int keyGroup = Integer.parseInt(f[1]);
            long last = Long.parseLong(f[2]);
            Set<Integer> current = owners(plan, key, planned);
            if (!current.contains(keyGroup)) {
                movedAway++;
                // a key group the key has left may hold state only until its last record + horizon passes
                assertThat(last + FUNCTION.stateHorizon().toMillis())
                        .as("state of %s left in key group %d", key, keyGroup)
                        .isGreaterThan(planned - 2 * DAY);
            } else {
                owners.add(key);
            }
        }
        assertThat(owners).isNotEmpty();
        assertThat(movedAway).isLessThan(rows.size());
    }

    /** Key groups that own {@code key} (primary, and shadow during a migration) at event time {@code t}. */
    private static Set<Integer> owners(RoutingPlan plan, String key, long t) {
        for (RouteEntry e : plan.getEntries()) {
            if (e.getKey().equals(key)) {
                Migration m = e.getMigration();
                if (m == null) {
                    return Set.of(e.getKeyGroup());
                }
                return Set.of(e.getKeyGroup(), m.getToKeyGroup());
            }
        }
        return Set.of(KeyGroupRangeAssignment.assignToKeyGroup(key, plan.getMaxParallelism()));
    }
}
