package io.keyshift.savepoint;

import io.keyshift.api.Keyshift;
import io.keyshift.api.KeyshiftStream;
import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.UnitForecast;
import io.keyshift.avro.UnitType;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link ForecasterBootstrap#bootstrap}: the library's warm start for a stage keyed by the user's own key type (a
 * record), restored by a job that keys the same way.
 */
class ForecasterBootstrapTest {
    private static final long HOUR = Duration.ofHours(1).toMillis();
    private static final int MAX_P = 128;
    private static final int PER_HOUR = 40;

    /** The stage's key: a record of the user's name and id. */
    public record UserKey(String user, int id) {}

    /** A click. Flink POJO. */
    public static class Click {
        public String user;
        public int id;
        public long ts;

        public Click() {}

        Click(String user, int id, long ts) {
            this.user = user;
            this.id = id;
            this.ts = ts;
        }
    }

    /** {@link #PER_HOUR} clicks an hour from {@code fromHour} for {@code hours}, user 7 about half of them. */
    private static DataStream<Click> clicks(StreamExecutionEnvironment env, int fromHour, int hours) {
        long n = (long) hours * PER_HOUR;
        return env.fromSequence(0, n - 1).setParallelism(1)
                .map(i -> {
                    long ts = (fromHour + i / PER_HOUR) * HOUR + (i % PER_HOUR) * (HOUR / PER_HOUR);
                    long mix = (i + 1) * 0x9E3779B97F4A7C15L;
                    mix ^= mix >>> 29;
                    int id = (mix & 1) == 0 ? 7 : (int) Math.floorMod(mix >>> 8, 40);
                    return new Click("user-" + id, id, ts);
                })
                .setParallelism(1)
                .returns(Click.class)
                .assignTimestampsAndWatermarks(WatermarkStrategy.<Click>forMonotonousTimestamps()
                        .withTimestampAssigner((c, t) -> c.ts))
                .setParallelism(1);
    }

    private static KeyshiftStream<Click, UserKey> stage(DataStream<Click> in) {
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        return Keyshift.keyBy(in, c -> new UserKey(c.user, c.id), TypeInformation.of(UserKey.class))
                .configure(conf)
                .uidPrefix("clicks");
    }

    /** A second stage over the same clicks, keyed by the user's name. */
    private static KeyshiftStream<Click, String> byName(DataStream<Click> in) {
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        return Keyshift.keyBy(in, c -> c.user, Types.STRING).configure(conf).uidPrefix("names");
    }

    private static StreamExecutionEnvironment env(String savepoint) {
        Configuration c = new Configuration();
        if (savepoint != null) {
            c.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, c);
        env.setMaxParallelism(MAX_P);
        return env;
    }

    /** The first forecast of a job over day 4 (hours 72..95), started from {@code savepoint} (null: cold). */
    private static LoadForecast firstForecastOfDayFour(String savepoint) throws Exception {
        StreamExecutionEnvironment env = env(savepoint);
        KeyshiftStream<Click, UserKey> users = stage(clicks(env, 72, 24));
        users.window(TumblingEventTimeWindows.of(Duration.ofHours(1))).aggregate(new ForecasterBootstrap.Count<Click>())
                .sinkTo(new DiscardingSink<>());
        List<LoadForecast> forecasts = new ArrayList<>();
        try (CloseableIterator<LoadForecast> it = users.forecasts().executeAndCollect("day four")) {
            it.forEachRemaining(forecasts::add);
        }
        return forecasts.stream().min(Comparator.comparingLong(LoadForecast::getWindowStart)).orElseThrow();
    }

    @Test
    void aStageKeyedByARecordStartsFromItsHistoryWithItsHotKeyInTheRecordsKeyGroup(@TempDir Path dir)
            throws Exception {
        int recordGroup = KeyGroupRangeAssignment.assignToKeyGroup(new UserKey("user-7", 7), MAX_P);
        int stringGroup = KeyGroupRangeAssignment.assignToKeyGroup("user-7", MAX_P);
        assertThat(recordGroup).as("the test needs the two hashes apart").isNotEqualTo(stringGroup);
        String savepoint = dir.resolve("sp").toUri().toString();

        ForecasterBootstrap.Summary learnt = ForecasterBootstrap.bootstrap(stage(clicks(env(null), 0, 72)), savepoint);
        System.out.printf("bootstrap: %s%n", learnt);
        assertThat(learnt.records()).isEqualTo(72L * PER_HOUR);
        assertThat(learnt.windows()).isEqualTo(72);
        assertThat(learnt.series()).isGreaterThanOrEqualTo(2);
        assertThat(dir.resolve("sp").resolve(ForecasterBootstrap.MARKER)).exists();

        LoadForecast warm = firstForecastOfDayFour(savepoint);
        LoadForecast cold = firstForecastOfDayFour(null);
        System.out.printf("first forecast of day four: naive error sum %.1f warm, %.1f cold%n",
                warm.getNaiveErrorSum(), cold.getNaiveErrorSum());
        // the running error sums carry the 72 windows of history only where the forecaster's state was restored
        assertThat(warm.getNaiveErrorSum()).isGreaterThan(cold.getNaiveErrorSum() + 100);
        UnitForecast hot = warm.getUnits().stream()
                .filter(u -> u.getUnitType() == UnitType.HOT_KEY)
                .max(Comparator.comparingDouble(u -> u.getForecast().get(0))).orElseThrow();
        assertThat(hot.getKeyGroup()).isEqualTo(recordGroup);
        assertThat(hot.getForecast().get(0)).isBetween(PER_HOUR * 0.4, PER_HOUR * 0.65);
    }

    /**
     * {@code beforeWrite} tells a caller (bootstrap's shutdown hook) when the savepoint's directory is about to be
     * made: once, with the directory still absent; and not at all where a directory appeared there while the history
     * was read, which the write refuses (bootstrap's hook and failure path removed such another party's directory).
     */
    @Test
    void beforeWriteRunsOnceJustBeforeTheSavepointIsMadeAndNotWhereADirectoryAppearedMeanwhile(@TempDir Path dir)
            throws Exception {
        Path sp = dir.resolve("sp");
        List<Boolean> absentAtCall = new ArrayList<>();
        ForecasterBootstrap.bootstrap(stage(clicks(env(null), 0, 2)), null, sp.toUri().toString(),
                () -> absentAtCall.add(java.nio.file.Files.notExists(sp)));
        assertThat(absentAtCall).containsExactly(true);
        assertThat(sp.resolve(ForecasterBootstrap.MARKER)).exists();
        // written beside the path and renamed once whole and marked (in place, a process killed between the job and
        // the marker left a whole savepoint without it): nothing left beside it
        assertThat(dir.resolve(".sp.inprogress")).doesNotExist();
        // a relative path of one name (in the working directory): written beside it and renamed (the rename had no
        // parent directory to go to)
        String relative = "keyshift-test-bootstrap-" + java.util.UUID.randomUUID();
        try {
            ForecasterBootstrap.bootstrap(stage(clicks(env(null), 0, 2)), null, relative, () -> { });
            assertThat(Path.of(relative).resolve(ForecasterBootstrap.MARKER)).exists();
            assertThat(Path.of("." + relative + ".inprogress")).doesNotExist();
        } finally {
            deleteTree(Path.of(relative));
            deleteTree(Path.of("." + relative + ".inprogress"));
        }
        // a path under directories still to be made: made (the in-progress directory's parents were not, and the
        // write failed once the history was read)
        Path deeper = dir.resolve("new/deeper/sp");
        ForecasterBootstrap.bootstrap(stage(clicks(env(null), 0, 2)), null, deeper.toUri().toString(), () -> { });
        assertThat(deeper.resolve(ForecasterBootstrap.MARKER)).exists();
        // under a file: named as such, not as another bootstrap's directory
        java.nio.file.Files.writeString(dir.resolve("plain"), "a file");
        assertThatThrownBy(() -> ForecasterBootstrap.bootstrap(stage(clicks(env(null), 0, 2)), null,
                dir.resolve("plain/sp").toUri().toString(), () -> { }))
                .hasMessageNotContaining("inprogress exists").hasMessageContaining("plain");
        // another write's place (one in progress, or cut short) is refused before anything is written
        java.nio.file.Files.createDirectories(dir.resolve(".busy.inprogress"));
        assertThatThrownBy(() -> ForecasterBootstrap.bootstrap(stage(clicks(env(null), 0, 2)), null,
                dir.resolve("busy").toUri().toString(), () -> { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(".busy.inprogress exists");
        assertThat(dir.resolve("busy")).doesNotExist();
        // a path made by another party while the savepoint was written: its rename refused, the path left as that
        // party made it, and nothing of this write left (in place, the savepoint was written into that directory)
        Path raced = dir.resolve("raced");
        assertThatThrownBy(() -> ForecasterBootstrap.bootstrap(stage(clicks(env(null), 0, 2)), null,
                raced.toUri().toString(), () -> {
                    try {
                        java.nio.file.Files.createDirectories(raced);
                        java.nio.file.Files.writeString(raced.resolve("theirs"), "another party's");
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }))
                .hasMessageContaining("made meanwhile");
        try (var files = java.nio.file.Files.list(raced)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactly("theirs");
        }
        assertThat(dir.resolve(".raced.inprogress")).doesNotExist();

        Path taken = dir.resolve("taken");
        String takenPath = taken.toString();
        DataStream<Click> makingIt = clicks(env(null), 0, 2).map(c -> {
            // another party makes the directory while the history is read
            java.nio.file.Files.createDirectories(Path.of(takenPath));
            return c;
        }).returns(Click.class);
        List<Boolean> calls = new ArrayList<>();
        assertThatThrownBy(() -> ForecasterBootstrap.bootstrap(stage(makingIt), null, taken.toUri().toString(),
                () -> calls.add(true)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exists");
        assertThat(calls).isEmpty();
        assertThat(taken).isDirectory();
    }

    @Test
    void aSecondStageGoesOntoTheFirstStagesSavepointAndAJobWithBothStartsBothWarm(@TempDir Path dir) throws Exception {
        String first = dir.resolve("first").toUri().toString();
        String both = dir.resolve("both").toUri().toString();
        ForecasterBootstrap.bootstrap(stage(clicks(env(null), 0, 72)), first);
        ForecasterBootstrap.Summary names = ForecasterBootstrap.bootstrapOnto(byName(clicks(env(null), 0, 72)), first,
                both);
        assertThat(names.records()).isEqualTo(72L * PER_HOUR);
        assertThat(dir.resolve("both").resolve(ForecasterBootstrap.MARKER)).exists();
        // the marker names the stages it warm-starts, the base's first (a job of other stages is refused by it)
        assertThat(BootstrapMarker.stages(first)).containsExactly("clicks");
        assertThat(BootstrapMarker.stages(both + "/_metadata")).containsExactly("clicks", "names");
        assertThat(BootstrapMarker.stages(dir.resolve("no-such").toUri().toString())).isEmpty();
        // ... and what each stage's state was made for (window, key groups, key type), the base's kept
        assertThat(BootstrapMarker.attributes(both, "clicks")).containsEntry(BootstrapMarker.WINDOW_MILLIS, "3600000")
                .containsEntry(BootstrapMarker.MAX_PARALLELISM, "128").containsKey(BootstrapMarker.KEY_TYPE);
        assertThat(BootstrapMarker.attributes(both, "names")).containsEntry(BootstrapMarker.KEY_TYPE, "String")
                .containsEntry(BootstrapMarker.WINDOW_MILLIS, "3600000");
        assertThat(BootstrapMarker.attributes(first, "names")).isEmpty();
        assertThat(BootstrapMarker.attributes(both, "clicks").get(BootstrapMarker.KEY_TYPE))
                .isEqualTo(String.valueOf(stage(clicks(env(null), 0, 1)).getKeyType()));

        StreamExecutionEnvironment env = env(both);
        DataStream<Click> dayFour = clicks(env, 72, 24);
        KeyshiftStream<Click, UserKey> users = stage(dayFour);
        KeyshiftStream<Click, String> byName = byName(dayFour);
        users.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new ForecasterBootstrap.Count<Click>()).sinkTo(new DiscardingSink<>());
        byName.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new ForecasterBootstrap.Count<Click>()).sinkTo(new DiscardingSink<>());
        CloseableIterator<LoadForecast> userForecasts = users.forecasts().collectAsync();
        CloseableIterator<LoadForecast> nameForecasts = byName.forecasts().collectAsync();
        env.execute("day four, two stages");
        LoadForecast userFirst = first(userForecasts);
        LoadForecast nameFirst = first(nameForecasts);
        System.out.printf("two stages, first forecasts of day four: naive error sums %.1f and %.1f%n",
                userFirst.getNaiveErrorSum(), nameFirst.getNaiveErrorSum());
        assertThat(userFirst.getNaiveErrorSum()).isGreaterThan(100);
        assertThat(nameFirst.getNaiveErrorSum()).isGreaterThan(100);
        assertThat(nameFirst.getUnits().stream().filter(u -> u.getUnitType() == UnitType.HOT_KEY)
                .max(Comparator.comparingDouble(u -> u.getForecast().get(0))).orElseThrow().getKeyGroup())
                .isEqualTo(KeyGroupRangeAssignment.assignToKeyGroup("user-7", MAX_P));

        // the same stage again: refused before the history is read
        assertThatThrownBy(() -> ForecasterBootstrap.bootstrapOnto(byName(clicks(env(null), 0, 2)), both,
                dir.resolve("again").toUri().toString()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds the forecaster of the stage "
                        + "with uid prefix 'names'");
        assertThat(dir.resolve("again")).doesNotExist();
        // a stage of another max parallelism than the base's operators (a job's operators may each have their own):
        // its forecaster is written with its own (it took the base's largest, which the job would refuse)
        StreamExecutionEnvironment other = env(null);
        other.setMaxParallelism(64);
        ForecasterBootstrap.bootstrapOnto(byName(clicks(other, 0, 2)), first, dir.resolve("other").toUri().toString());
        org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata written;
        try (var in = new java.io.DataInputStream(java.nio.file.Files.newInputStream(
                dir.resolve("other").resolve("_metadata")))) {
            written = org.apache.flink.runtime.checkpoint.Checkpoints.loadCheckpointMetadata(in,
                    getClass().getClassLoader(), dir.resolve("other").toString());
        }
        var nameForecaster = org.apache.flink.state.api.OperatorIdentifier.forUid(
                io.keyshift.api.StageUids.forecaster("names")).getOperatorId();
        assertThat(written.getOperatorStates()).filteredOn(o -> o.getOperatorID().equals(nameForecaster)).singleElement()
                .satisfies(o -> assertThat(o.getMaxParallelism()).isEqualTo(64));
        assertThat(written.getOperatorStates()).filteredOn(o -> !o.getOperatorID().equals(nameForecaster))
                .allSatisfy(o -> assertThat(o.getMaxParallelism()).isEqualTo(MAX_P));
        assertThat(BootstrapMarker.stages(dir.resolve("other").toString())).containsExactly("clicks", "names");
        // onto a bootstrap of an earlier build, whose marker names no stage: the new one names none either (the
        // base's stage is unknown, and a job of it must not be refused)
        java.nio.file.Files.writeString(dir.resolve("first").resolve(ForecasterBootstrap.MARKER),
                "written by keyshift bootstrap: a job started from this savepoint continues no earlier run\n");
        ForecasterBootstrap.bootstrapOnto(byName(clicks(env(null), 0, 2)), first,
                dir.resolve("onto-old").toUri().toString());
        assertThat(ForecasterBootstrap.isBootstrap(dir.resolve("onto-old").toString())).isTrue();
        assertThat(BootstrapMarker.stages(dir.resolve("onto-old").toString())).isEmpty();
        // onto a job's own savepoint (no marker): the copy is no bootstrap (a job started from it continues that
        // job's run), and its stages file names the stage added and what it was made for (it recorded nothing)
        java.nio.file.Files.delete(dir.resolve("first").resolve(ForecasterBootstrap.MARKER));
        ForecasterBootstrap.bootstrapOnto(byName(clicks(env(null), 0, 2)), first,
                dir.resolve("onto-job").toUri().toString());
        assertThat(ForecasterBootstrap.isBootstrap(dir.resolve("onto-job").toString())).isFalse();
        assertThat(dir.resolve("onto-job").resolve(BootstrapMarker.STAGES_FILE)).exists();
        assertThat(BootstrapMarker.stages(dir.resolve("onto-job").toString())).containsExactly("names");
        assertThat(BootstrapMarker.attributes(dir.resolve("onto-job").toString(), "names"))
                .containsEntry(BootstrapMarker.WINDOW_MILLIS, "3600000")
                .containsEntry(BootstrapMarker.KEY_TYPE, "String");
    }

    /** A stage keyed by the user's name whose keys are pseudonymized with {@code secret} (null: raw). */
    private static KeyshiftStream<Click, String> byNameUnder(DataStream<Click> in, String secret) {
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "1h");
        if (secret != null) {
            conf.setString("keyshift.privacy.key-secret", secret);
        }
        return Keyshift.keyBy(in, c -> c.user, Types.STRING).configure(conf).uidPrefix("names");
    }

    /**
     * A bootstrap under one key secret restored by a stage under another (or none) failed with nothing: a bootstrap
     * savepoint holds no plan whose key naming the routers check, and its hot keys were names no router uses.
     */
    @Test
    void aBootstrapRestoredUnderAnotherKeySecretFailsAtOnce(@TempDir Path dir) throws Exception {
        String savepoint = dir.resolve("secret-a").toUri().toString();
        ForecasterBootstrap.bootstrap(byNameUnder(clicks(env(null), 0, 24), "a-secret-of-twenty-chars"), savepoint);
        for (String other : new String[] {"another-secret-of-twenty", null}) {
            StreamExecutionEnvironment env = env(savepoint);
            byNameUnder(clicks(env, 24, 2), other).window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                    .aggregate(new ForecasterBootstrap.Count<Click>()).sinkTo(new DiscardingSink<>());
            assertThatThrownBy(() -> env.execute("restored under " + (other == null ? "no secret" : "another")))
                    .hasStackTraceContaining("keyshift.privacy.key-secret must stay as it was");
        }
    }

    /** A savepoint's metadata file with {@code operators}, as Flink writes it. */
    private static String metadata(Path dir, List<org.apache.flink.runtime.checkpoint.OperatorState> operators)
            throws Exception {
        java.nio.file.Files.createDirectories(dir);
        try (var out = new java.io.DataOutputStream(java.nio.file.Files.newOutputStream(dir.resolve("_metadata")))) {
            org.apache.flink.runtime.checkpoint.Checkpoints.storeCheckpointMetadata(
                    new org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata(1L, operators, List.of()), out);
        }
        return dir.toUri().toString();
    }

    /** An operator whose one subtask keeps keyed state of key groups [0, 128) in {@code delegate}. */
    private static org.apache.flink.runtime.checkpoint.OperatorState keyedIn(
            org.apache.flink.runtime.state.StreamStateHandle delegate) {
        var operator = new org.apache.flink.runtime.checkpoint.OperatorState(null, "user-window",
                org.apache.flink.state.api.OperatorIdentifier.forUid("user-window").getOperatorId(), 1, MAX_P);
        operator.putState(0, org.apache.flink.runtime.checkpoint.OperatorSubtaskState.builder()
                .setManagedKeyedState(new org.apache.flink.runtime.state.KeyGroupsStateHandle(
                        new org.apache.flink.runtime.state.KeyGroupRangeOffsets(0, MAX_P - 1), delegate))
                .build());
        return operator;
    }

    @Test
    void aBaseWithoutOperatorsOrWithStateTheCopyWouldNotTakeAlongIsRefused(@TempDir Path dir) throws Exception {
        String empty = metadata(dir.resolve("empty"), List.of());
        assertThatThrownBy(() -> ForecasterBootstrap.checkBase(empty, "clicks", MAX_P))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds no operator state");
        String merged = metadata(dir.resolve("merged"), List.of(keyedIn(
                new org.apache.flink.runtime.state.filemerging.SegmentFileStateHandle(
                        new org.apache.flink.core.fs.Path(dir.resolve("segment").toUri()), 0, 10,
                        org.apache.flink.runtime.state.CheckpointedStateScope.SHARED,
                        new org.apache.flink.runtime.checkpoint.filemerging.LogicalFile.LogicalFileId("f")))));
        assertThatThrownBy(() -> ForecasterBootstrap.checkBase(merged, "clicks", MAX_P))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not copy into a new savepoint (keyed state in SegmentFileStateHandle");
        // a file named by its full path stays where it is: the copy would point at it there (Flink removes a
        // checkpoint's files with it)
        String absolute = metadata(dir.resolve("absolute"), List.of(keyedIn(
                new org.apache.flink.runtime.state.filesystem.FileStateHandle(
                        new org.apache.flink.core.fs.Path(dir.resolve("shared").resolve("state").toUri()), 10))));
        assertThatThrownBy(() -> ForecasterBootstrap.checkBase(absolute, "clicks", MAX_P))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyed state in a file named by its full path");
        String canonical = metadata(dir.resolve("canonical"), List.of(keyedIn(
                new org.apache.flink.runtime.state.filesystem.RelativeFileStateHandle(
                        new org.apache.flink.core.fs.Path(dir.resolve("canonical").resolve("state").toUri()),
                        "state", 10))));
        ForecasterBootstrap.checkBase(canonical, "clicks", MAX_P);
        // a stage of another max parallelism joins it: each operator keeps its own; not for a job that sets one max
        // parallelism for all its operators (the command line's)
        ForecasterBootstrap.checkBase(canonical, "clicks", 256);
        assertThatThrownBy(() -> ForecasterBootstrap.checkBase(canonical, "clicks", 256, true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("was taken with max parallelism 128, the job has 256 for all its operators");
    }

    private static LoadForecast first(CloseableIterator<LoadForecast> forecasts) throws Exception {
        List<LoadForecast> all = new ArrayList<>();
        forecasts.forEachRemaining(all::add);
        forecasts.close();
        return all.stream().min(Comparator.comparingLong(LoadForecast::getWindowStart)).orElseThrow();
    }

    /**
     * Refused before the history is read (which may take hours): a directory left beside the path by a bootstrap cut
     * short (it was refused only once the history was read), and a symbolic link at the path, dangling or not (the
     * savepoint's rename replaced it, and the savepoint was not where the link pointed).
     */
    @Test
    void aLeftoverInProgressDirectoryOrALinkAtThePathIsRefusedBeforeTheHistoryIsRead(@TempDir Path dir)
            throws Exception {
        java.util.function.Supplier<KeyshiftStream<Click, UserKey>> unread = () -> stage(clicks(env(null), 0, 2)
                .map((org.apache.flink.api.common.functions.MapFunction<Click, Click>) c -> {
                    throw new IllegalStateException("the history was read");
                }).returns(Click.class));
        java.nio.file.Files.createDirectories(dir.resolve(".left.inprogress"));
        assertThatThrownBy(() -> ForecasterBootstrap.bootstrap(unread.get(), null,
                dir.resolve("left").toUri().toString(), () -> { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(".left.inprogress exists");
        Path link = java.nio.file.Files.createSymbolicLink(dir.resolve("linked"), dir.resolve("not-yet"));
        assertThatThrownBy(() -> ForecasterBootstrap.bootstrap(unread.get(), null, link.toUri().toString(),
                () -> { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exists");
        assertThat(java.nio.file.Files.isSymbolicLink(link)).isTrue();
        assertThat(dir.resolve("not-yet")).doesNotExist();
    }

    @Test
    void aStageAfterItsTerminalCallAnExistingPathOrAnEmptyHistoryIsRefusedWithoutASavepoint(@TempDir Path dir)
            throws Exception {
        KeyshiftStream<Click, UserKey> built = stage(clicks(env(null), 0, 2));
        built.window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new ForecasterBootstrap.Count<Click>());
        assertThatThrownBy(() -> ForecasterBootstrap.bootstrap(built, dir.resolve("a").toUri().toString()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already built");
        assertThat(dir.resolve("a")).doesNotExist();

        java.nio.file.Files.createDirectories(dir.resolve("taken"));
        assertThatThrownBy(() -> ForecasterBootstrap.bootstrap(stage(clicks(env(null), 0, 2)),
                dir.resolve("taken").toUri().toString()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exists");

        StreamExecutionEnvironment env = env(null);
        DataStream<Click> none = clicks(env, 0, 1).filter(c -> false).setParallelism(1);
        assertThatThrownBy(() -> ForecasterBootstrap.bootstrap(stage(none), dir.resolve("b").toUri().toString()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("held no record");
        assertThat(dir.resolve("b")).doesNotExist();
    }

    /**
     * A canonical savepoint leaves the offsets of key groups it wrote nothing for at 0, where its header lies:
     * inspect-savepoint gave the last empty key group the header's bytes and listed every empty one.
     */
    @Test
    void keyGroupSizesCountOnlyTheKeyGroupsASavepointWrote() {
        org.apache.flink.runtime.checkpoint.OperatorState state = new org.apache.flink.runtime.checkpoint.OperatorState(
                "window", "window", new org.apache.flink.runtime.jobgraph.OperatorID(), 1, 4);
        var handle = new org.apache.flink.runtime.state.KeyGroupsStateHandle(
                new org.apache.flink.runtime.state.KeyGroupRangeOffsets(
                        new org.apache.flink.runtime.state.KeyGroupRange(0, 3), new long[] {100, 0, 150, 0}),
                new org.apache.flink.runtime.state.memory.ByteStreamStateHandle("sp", new byte[200]));
        state.putState(0, org.apache.flink.runtime.checkpoint.OperatorSubtaskState.builder()
                .setManagedKeyedState(handle).build());
        assertThat(StageSavepoint.keyGroupSizes(state)).containsExactly(java.util.Map.entry(0, 50L),
                java.util.Map.entry(2, 50L));
    }

    /**
     * Where a bootstrap writes before it names its savepoint: beside it on file systems whose rename moves (local,
     * HDFS), in place on object stores; a name with a colon stays one name (read as a child path, its start was taken
     * for a scheme, and the bootstrap failed once the history was read).
     */
    @Test
    void aSavepointIsWrittenBesideItsPathWhereARenameMovesIt() throws Exception {
        org.apache.flink.core.fs.FileSystem local = org.apache.flink.core.fs.FileSystem.getLocalFileSystem();
        assertThat(ForecasterBootstrap.inProgress(new org.apache.flink.core.fs.Path("file:///data/warm-20:57:45"),
                local).toString()).isEqualTo("file:/data/.warm-20:57:45.inprogress");
        assertThat(ForecasterBootstrap.inProgress(new org.apache.flink.core.fs.Path("/warm"), local).toString())
                .isEqualTo("file:/.warm.inprogress");
        // a directory named as "x/." (written in place where it had a scheme)
        assertThat(ForecasterBootstrap.inProgress(new org.apache.flink.core.fs.Path("file:///data/sp/."), local)
                .toString()).isEqualTo("file:/data/.sp.inprogress");
        // a relative path: beside it in the working directory (it went to the root)
        String cwd = new org.apache.flink.core.fs.Path(new java.io.File("").getAbsoluteFile().toURI()).toUri().getPath();
        assertThat(ForecasterBootstrap.inProgress(new org.apache.flink.core.fs.Path("warm"), local).toUri().getPath())
                .isEqualTo((cwd.endsWith("/") ? cwd : cwd + "/") + ".warm.inprogress");
        // HDFS (its rename moves) and an object store (in place), told by the path's own scheme
        org.apache.flink.core.fs.FileSystem other = fileSystemAt("hdfs://nn:8020/");
        assertThat(ForecasterBootstrap.inProgress(new org.apache.flink.core.fs.Path("hdfs://nn:8020/sp/warm"), other)
                .toString()).isEqualTo("hdfs://nn:8020/sp/.warm.inprogress");
        org.apache.flink.core.fs.FileSystem store = fileSystemAt("s3://bucket/");
        assertThat(ForecasterBootstrap.inProgress(new org.apache.flink.core.fs.Path("s3://bucket/sp/warm"), store)
                .toString()).isEqualTo("s3://bucket/sp/warm");
        // ... and by the file system's where the path names none (an object store as fs.default-scheme)
        assertThat(ForecasterBootstrap.inProgress(new org.apache.flink.core.fs.Path("/sp/warm"), store).toString())
                .isEqualTo("/sp/warm");
    }

    /** A local file system that names itself by {@code uri} (what decides where a bootstrap writes). */
    private static org.apache.flink.core.fs.FileSystem fileSystemAt(String uri) {
        return new org.apache.flink.core.fs.local.LocalFileSystem() {
            @Override
            public java.net.URI getUri() {
                return java.net.URI.create(uri);
            }
        };
    }

    private static void deleteTree(Path p) throws java.io.IOException {
        if (!java.nio.file.Files.exists(p)) {
            return;
        }
        try (var all = java.nio.file.Files.walk(p)) {
            for (Path f : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.delete(f);
            }
        }
    }

    /**
     * A savepoint path this JVM cannot read (no file system for its scheme) is neither a bootstrap nor a savepoint of
     * the job to the client: the cluster job warns that it takes it for a restore and does not check --out.
     */
    @Test
    void aPathOfAFileSystemThisJvmLacksIsNotKnownToBeABootstrap() {
        org.assertj.core.api.Assertions.assertThat(ForecasterBootstrap.bootstrapIfKnown("s3://bucket/warm")).isNull();
        org.assertj.core.api.Assertions.assertThat(ForecasterBootstrap.isBootstrap("s3://bucket/warm")).isFalse();
        // a path this JVM does not have (one of the cluster's machines): not known either (it was "no bootstrap", and
        // the job took it for its own savepoint without the warning that says so)
        org.assertj.core.api.Assertions.assertThat(ForecasterBootstrap.bootstrapIfKnown(
                new java.io.File("target/no-such-savepoint").toURI().toString())).isNull();
    }
}
