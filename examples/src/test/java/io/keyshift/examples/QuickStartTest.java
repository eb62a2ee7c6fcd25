package io.keyshift.examples;

import io.keyshift.avro.ValidationOutcome;

import io.keyshift.api.Keyshift;
import io.keyshift.api.KeyshiftStream;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's snippet: it is the code of {@link QuickStart#totals} word for word, and (end-to-end, MiniCluster,
 * about 15 s) gives its plain-keyBy twin's results across migrations.
 */
class QuickStartTest {
    @Test
    void theReadmeSnippetIsTheQuickStartsCode() throws Exception {
        Path root = Path.of("").toAbsolutePath().getParent();
        String source = Files.readString(root.resolve("examples/src/main/java/io/keyshift/examples/QuickStart.java"));
        String code = source.substring(source.indexOf("// README begin\n") + "// README begin\n".length(),
                source.indexOf("        // README end"));
        String snippet = code.lines().map(l -> l.length() >= 8 ? l.substring(8) : l.strip())
                .collect(Collectors.joining("\n"));
        assertThat(snippet).contains("Keyshift.keyBy(clicks, Click::user, Types.STRING)");
        assertThat(Files.readString(root.resolve("README.md"))).contains(snippet);
    }

    @Test
    void everyOperatorOfTheQuickStartHasAStableUid() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        QuickStart.printing(env);
        var nodes = env.getStreamGraph().getStreamNodes();
        assertThat(nodes).hasSizeGreaterThan(10);
        assertThat(nodes).filteredOn(n -> n.getTransformationUID() == null)
                .extracting(n -> n.getOperatorName()).isEmpty();
        assertThat(nodes).extracting(n -> n.getTransformationUID())
                .contains("clicks-sequence", "clicks-watermarks", "clicks-totals-print").doesNotHaveDuplicates();
    }

    /**
     * The keyshift.* options flink run gives the job (-D, the cluster's config.yaml) reach the example's stage, the
     * example's own window over them: they were dropped without a word, a misspelled one too.
     */
    @Test
    void theOptionsFlinkRunGivesReachTheStage() {
        org.apache.flink.configuration.Configuration given = new org.apache.flink.configuration.Configuration();
        given.setString("keyshfit.plan.lease-lead", "2");
        StreamExecutionEnvironment misspelled = StreamExecutionEnvironment.getExecutionEnvironment(given);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> QuickStart.printing(misspelled))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyshfit.plan.lease-lead");
        org.apache.flink.configuration.Configuration window = new org.apache.flink.configuration.Configuration();
        window.setString("keyshift.window", "1h");
        window.setString("keyshift.plan.lease-lead", "0");
        StreamExecutionEnvironment refused = StreamExecutionEnvironment.getExecutionEnvironment(window);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> QuickStart.printing(refused))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyshift.plan.lease-lead");
    }

    @Test
    @Tag("end-to-end")
    void theSnippetGivesItsTwinsResults() throws Exception {
        StreamExecutionEnvironment twinEnv = ExampleRuns.env(4);
        List<String> twin = ExampleRuns.sorted(QuickStart.twin(QuickStart.clicks(twinEnv, 200_000, 6))
                .executeAndCollect());

        StreamExecutionEnvironment env = ExampleRuns.env(4);
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "5min");
        QuickStart.Job job = QuickStart.totals(QuickStart.clicks(env, 200_000, 6), conf);
        Collect.Handle<QuickStart.Total> totals = Collect.of(job.totals());
        var plans = Collect.of(job.users().plans());
        var validation = Collect.of(job.users().validation());
        env.execute("quick start");
        List<String> got = ExampleRuns.sorted(totals.list());
        ExampleRuns.Stage stage = new ExampleRuns.Stage(plans.list(), validation.list());
        // switched over within the clicks' six hours, not merely planned
        long completed = stage.completedMigrations(Duration.ofHours(6).toMillis());
        System.out.printf("quick start: %,d totals (twin %,d), %d migrations, validation %s%n", got.size(),
                twin.size(), completed, stage.outcomes());
        assertThat(got).hasSize(twin.size()).isEqualTo(twin);
        assertThat(completed).isGreaterThanOrEqualTo(5);
        assertThat(stage.outcomes()).containsOnlyKeys(ValidationOutcome.MATCH);
    }

    /**
     * Issue 15 through the public API, as a user writes it: the README snippet with one line added, a control stream
     * that freezes planning from the start, sets the forecaster's anomaly z, and carries one malformed command. No migration starts, every plan says
     * it was made frozen, the malformed line comes out of controlRejected() with its reason, results equal the twin's.
     */
    @Test
    @Tag("end-to-end")
    void aControlStreamFreezesThePlannerAndResultsStayExact() throws Exception {
        StreamExecutionEnvironment twinEnv = ExampleRuns.env(4);
        List<String> twin = ExampleRuns.sorted(QuickStart.twin(QuickStart.clicks(twinEnv, 100_000, 3))
                .executeAndCollect());

        StreamExecutionEnvironment env = ExampleRuns.env(4);
        Configuration conf = new Configuration();
        conf.setString("keyshift.window", "5min");
        DataStream<QuickStart.Click> clicks = QuickStart.clicks(env, 100_000, 3);
        DataStream<String> commands = env.fromData("-86400000,freeze", "-86400000,anomaly-z,2.5",
                "-86400000,teleport,user-1");
        KeyshiftStream<QuickStart.Click, String> users = Keyshift.keyBy(clicks, QuickStart.Click::user, Types.STRING)
                .configure(conf)
                .uidPrefix("clicks")
                .control(commands);
        DataStream<QuickStart.Total> totals = users
                .window(SlidingEventTimeWindows.of(Duration.ofMinutes(3), Duration.ofMinutes(1)))
                .allowedLateness(Duration.ofSeconds(30))
                .aggregate(new QuickStart.SumBytes(), new QuickStart.ToTotal());
        Collect.Handle<QuickStart.Total> got = Collect.of(totals);
        var plans = Collect.of(users.plans());
        var rejected = Collect.of(users.controlRejected());
        env.execute("quick start, frozen");

        assertThat(ExampleRuns.sorted(got.list())).hasSize(twin.size()).isEqualTo(twin);
        assertThat(plans.list()).isNotEmpty().allSatisfy(p -> {
            assertThat(p.getMigrationsStarted()).isZero();
            assertThat(p.getControl().getFrozen()).isTrue();
            assertThat(p.getControl().getAnomalyZ()).isEqualTo(2.5);
        });
        assertThat(rejected.list()).singleElement().asString().contains("unknown command 'teleport'");
        System.out.printf("quick start, frozen: %,d totals = twin, %d plans, none starts a migration; refused: %s%n",
                got.list().size(), plans.list().size(), rejected.list().get(0));
    }
}
