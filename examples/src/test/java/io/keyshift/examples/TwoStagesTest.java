package io.keyshift.examples;

import io.keyshift.api.Keyshift;
import io.keyshift.api.KeyshiftStream;
import io.keyshift.avro.ValidationOutcome;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** End-to-end (MiniCluster, about 25 s): example 3, two keyshift stages in one job, both exact. */
@Tag("end-to-end")
class TwoStagesTest {
    @Test
    void twoStagesWithDifferentPrefixesAndKeysAreBothExact() throws Exception {
        List<String> departuresTwin = ExampleRuns.twin(4, trips -> trips.keyBy(t -> t.startStation, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new TwoStages.Count(), new TwoStages.Label<>()));
        List<String> arrivalsTwin = ExampleRuns.twin(4, trips -> trips.keyBy(t -> t.endTerminal, Types.INT)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new TwoStages.Count(), new TwoStages.Label<>()));

        StreamExecutionEnvironment env = ExampleRuns.env(4);
        DataStream<BikeTrip> trips = BikeTrip.read(env, ExampleRuns.trips());
        KeyshiftStream<BikeTrip, String> stations = Keyshift.keyBy(trips, t -> t.startStation, Types.STRING)
                .configure(ExampleRuns.conf()).uidPrefix("departures").parallelism(4);
        KeyshiftStream<BikeTrip, Integer> terminals = Keyshift.keyBy(trips, t -> t.endTerminal, Types.INT)
                .configure(ExampleRuns.conf()).uidPrefix("arrivals").parallelism(4);
        Collect.Handle<String> departures = Collect.of(TwoStages.departures(stations));
        Collect.Handle<String> arrivals = Collect.of(TwoStages.arrivals(terminals));
        var departurePlans = Collect.of(stations.plans());
        var departureChecks = Collect.of(stations.validation());
        var arrivalPlans = Collect.of(terminals.plans());
        var arrivalChecks = Collect.of(terminals.validation());
        env.execute("two stages");
        List<String> d = ExampleRuns.sorted(departures.list());
        List<String> a = ExampleRuns.sorted(arrivals.list());
        ExampleRuns.Stage ds = new ExampleRuns.Stage(departurePlans.list(), departureChecks.list());
        ExampleRuns.Stage as = new ExampleRuns.Stage(arrivalPlans.list(), arrivalChecks.list());
        System.out.printf("two stages: departures %,d results, %d migrations, validation %s; arrivals %,d results, "
                        + "%d migrations, validation %s%n", d.size(), ds.completedMigrations(ExampleRuns.LAST_TRIP),
                ds.outcomes(), a.size(), as.completedMigrations(ExampleRuns.LAST_TRIP), as.outcomes());
        assertThat(d).isEqualTo(departuresTwin);
        assertThat(a).isEqualTo(arrivalsTwin);
        assertThat(ds.completedMigrations(ExampleRuns.LAST_TRIP)).isPositive();
        assertThat(as.completedMigrations(ExampleRuns.LAST_TRIP)).isPositive();
        assertThat(ds.outcomes()).containsOnlyKeys(ValidationOutcome.MATCH);
        assertThat(as.outcomes()).containsOnlyKeys(ValidationOutcome.MATCH);
    }

    /**
     * Issue 18, as a user writes it: one option line, {@code keyshift.migration.validation: NONE}. Hourly tumbling
     * windows align with the hourly planning window, so no migration has a shadow phase, nothing is validated, and
     * the results still equal the plain-keyBy twin's.
     */
    @Test
    void withoutValidationAlignedTumblingWindowsMoveWithoutShadowsAndStayExact() throws Exception {
        List<String> twin = ExampleRuns.twin(4, trips -> trips.keyBy(t -> t.startStation, Types.STRING)
                .window(TumblingEventTimeWindows.of(Duration.ofHours(1)))
                .aggregate(new TwoStages.Count(), new TwoStages.Label<>()));

        StreamExecutionEnvironment env = ExampleRuns.env(4);
        DataStream<BikeTrip> trips = BikeTrip.read(env, ExampleRuns.trips());
        org.apache.flink.configuration.Configuration conf = ExampleRuns.conf();
        conf.set(io.keyshift.config.PlanOptions.VALIDATION, io.keyshift.plan.ValidationPolicy.Mode.NONE);
        KeyshiftStream<BikeTrip, String> stations = Keyshift.keyBy(trips, t -> t.startStation, Types.STRING)
                .configure(conf).parallelism(4);
        Collect.Handle<String> departures = Collect.of(TwoStages.departures(stations));
        var plans = Collect.of(stations.plans());
        var checks = Collect.of(stations.validation());
        env.execute("no validation");
        ExampleRuns.Stage st = new ExampleRuns.Stage(plans.list(), checks.list());
        assertThat(ExampleRuns.sorted(departures.list())).isEqualTo(twin);
        assertThat(st.completedMigrations(ExampleRuns.LAST_TRIP)).isPositive();
        assertThat(plans.list().stream().flatMap(p -> p.getEntries().stream()).filter(e -> e.getMigration() != null))
                .isNotEmpty().allMatch(e -> e.getMigration().getSwitchAt() == e.getMigration().getShadowFrom());
        assertThat(checks.list()).isEmpty();
    }

    @Test
    void twoStagesWithTheSamePrefixAreRefusedWhenTheJobIsBuilt() {
        StreamExecutionEnvironment env = ExampleRuns.env(2);
        DataStream<BikeTrip> trips = BikeTrip.read(env, ExampleRuns.trips());
        TwoStages.departures(Keyshift.keyBy(trips, t -> t.startStation, Types.STRING));
        assertThatThrownBy(() -> TwoStages.arrivals(Keyshift.keyBy(trips, t -> t.endTerminal, Types.INT)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("uid prefix 'keyshift' is used by another keyshift stage");
    }
}
