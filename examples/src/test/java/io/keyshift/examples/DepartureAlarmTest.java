package io.keyshift.examples;

import io.keyshift.api.Keyshift;
import io.keyshift.api.KeyshiftStream;
import io.keyshift.avro.ValidationOutcome;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * End-to-end (MiniCluster, about 20 s): example 2, a keyed process function with event-time timers, a
 * {@code ValueState} and {@code getCurrentKey()}, equals its plain-keyBy twin across migrations.
 */
@Tag("end-to-end")
class DepartureAlarmTest {
    @Test
    void aKeyedProcessFunctionWithTimersEqualsItsTwin() throws Exception {
        List<String> twin = ExampleRuns.twin(4, DepartureAlarm::twin);

        StreamExecutionEnvironment env = ExampleRuns.env(4);
        KeyshiftStream<BikeTrip, Integer> terminals = Keyshift
                .keyBy(BikeTrip.read(env, ExampleRuns.trips()), t -> t.startTerminal, Types.INT)
                .configure(ExampleRuns.conf())
                .uidPrefix("rush-alarm")
                .parallelism(4);
        Collect.Handle<DepartureAlarm.Alarm> results = Collect.of(DepartureAlarm.build(terminals));
        var plans = Collect.of(terminals.plans());
        var validation = Collect.of(terminals.validation());
        env.execute("departure alarm");
        List<String> got = ExampleRuns.sorted(results.list());
        ExampleRuns.Stage stage = new ExampleRuns.Stage(plans.list(), validation.list());
        long completed = stage.completedMigrations(ExampleRuns.LAST_TRIP);
        System.out.printf("keyed process function (timers, ValueState): %,d alarms (twin %,d), %d completed "
                + "migrations, validation %s%n", got.size(), twin.size(), completed, stage.outcomes());
        assertThat(twin).isNotEmpty();
        assertThat(got).isEqualTo(twin);
        assertThat(completed).isGreaterThanOrEqualTo(20);
        // keyed process functions are validated too (the default policy samples migrations): some checks, all MATCH
        assertThat(stage.outcomes()).containsOnlyKeys(ValidationOutcome.MATCH);
    }
}
