package io.keyshift.examples;

import io.keyshift.api.Keyshift;
import io.keyshift.api.KeyshiftStream;
import io.keyshift.avro.ValidationOutcome;
import io.keyshift.avro.ValidationReport;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * End-to-end (MiniCluster, about 30 s): example 1 on the bike-share year equals its plain-keyBy twin across
 * migrations, and every shadowed window matched its primary; a user aggregate that miscounts on the shadow copy is
 * caught, window by window, and its wrong results never leave.
 */
@Tag("end-to-end")
class SlidingTripStatsTest {
    private static List<String> twin;

    @BeforeAll
    static void runTwin() throws Exception {
        twin = ExampleRuns.twin(4, SlidingTripStats::twin);
    }

    @Test
    void aSlidingAggregateWithAWindowFunctionOnAnIntKeyEqualsItsTwin() throws Exception {
        StreamExecutionEnvironment env = ExampleRuns.env(4);
        KeyshiftStream<BikeTrip, Integer> terminals = terminals(env);
        Collect.Handle<SlidingTripStats.Stats> results = Collect.of(SlidingTripStats.build(terminals));
        var plans = Collect.of(terminals.plans());
        var validation = Collect.of(terminals.validation());
        env.execute("sliding trip stats");
        List<String> got = ExampleRuns.sorted(results.list());
        ExampleRuns.Stage stage = new ExampleRuns.Stage(plans.list(), validation.list());
        long completed = stage.completedMigrations(ExampleRuns.LAST_TRIP);
        System.out.printf("sliding (3h every 1h, lateness 10 min), int key: %,d results (twin %,d), %d completed "
                + "migrations, validation %s%n", got.size(), twin.size(), completed, stage.outcomes());
        assertThat(got).hasSize(twin.size()).isEqualTo(twin);
        assertThat(completed).isGreaterThanOrEqualTo(20);
        assertThat(stage.outcomes()).containsOnlyKeys(ValidationOutcome.MATCH);
    }

    /**
     * The example's aggregate, but its result is one trip too many when it is computed for a shadow copy (a fault only
     * the shadow has; {@code add} must not depend on it: what a shadow copy adds becomes the new owner's state).
     */
    static final class MiscountsOnShadow extends SlidingTripStats.TripsAndDuration {
        @Override
        public long[] getResult(long[] acc) {
            return Keyshift.isShadowCopy() ? new long[] {acc[0] + 1, acc[1]} : acc;
        }
    }

    @Test
    void aShadowThatDisagreesIsReportedByKeyAndWindowAndNeverLeaks() throws Exception {
        StreamExecutionEnvironment env = ExampleRuns.env(4);
        KeyshiftStream<BikeTrip, Integer> terminals = terminals(env);
        AggregateFunction<BikeTrip, long[], long[]> faulty = new MiscountsOnShadow();
        DataStream<SlidingTripStats.Stats> stats = terminals
                .window(SlidingEventTimeWindows.of(SlidingTripStats.SIZE, SlidingTripStats.SLIDE))
                .allowedLateness(SlidingTripStats.LATENESS)
                .aggregate(faulty, new SlidingTripStats.ToStats());
        Collect.Handle<SlidingTripStats.Stats> results = Collect.of(stats);
        var validation = Collect.of(terminals.validation());
        env.execute("sliding trip stats, faulty shadow");
        List<ValidationReport> reports = validation.list();
        ExampleRuns.Stage stage = new ExampleRuns.Stage(List.of(), reports);
        System.out.printf("faulty shadow: validation %s, first %s%n", stage.outcomes(),
                reports.isEmpty() ? "-" : reports.get(0));

        assertThat(ExampleRuns.sorted(results.list())).isEqualTo(twin);
        assertThat(stage.outcomes()).containsOnlyKeys(ValidationOutcome.MISMATCH);
        assertThat(reports).hasSizeGreaterThanOrEqualTo(20).allSatisfy(r -> {
            assertThat(Integer.parseInt(r.getKey())).isPositive();
            assertThat(r.getWindowEnd() - r.getWindowStart()).isEqualTo(SlidingTripStats.SIZE.toMillis());
            assertThat(r.getWindowStart() % SlidingTripStats.SLIDE.toMillis()).isZero();
            assertThat(r.getShadowChecksum()).isNotEqualTo(r.getPrimaryChecksum());
            assertThat(r.getShadowKeyGroup()).isNotEqualTo(r.getPrimaryKeyGroup());
        });
    }

    private static KeyshiftStream<BikeTrip, Integer> terminals(StreamExecutionEnvironment env) {
        return Keyshift.keyBy(BikeTrip.read(env, ExampleRuns.trips()), t -> t.startTerminal, Types.INT)
                .configure(ExampleRuns.conf())
                .uidPrefix("trip-stats")
                .parallelism(4);
    }
}
