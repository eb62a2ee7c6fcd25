package io.keyshift.examples;

import io.keyshift.avro.RoutingPlan;
import io.keyshift.avro.ValidationOutcome;
import io.keyshift.avro.ValidationReport;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/** What the example tests share: the trips file, the twin run, and reading a keyshift stage's side streams. */
final class ExampleRuns {
    private ExampleRuns() {}

    /** The bike-share trips beside the repository (../shared/data); fails, never skips, if missing. */
    static String trips() {
        Path dir = Path.of("").toAbsolutePath();
        for (int i = 0; i < 4 && dir != null; i++, dir = dir.getParent()) {
            Path f = dir.resolveSibling("shared").resolve("data").resolve("bayarea-bikeshare-2014/batrips.csv.gz");
            if (Files.isRegularFile(f)) {
                return f.toString();
            }
        }
        throw new IllegalStateException("shared/data/bayarea-bikeshare-2014/batrips.csv.gz not found");
    }

    /** keyshift options of the example tests: hourly planning windows. */
    static Configuration conf() {
        Configuration c = new Configuration();
        c.setString("keyshift.window", "1h");
        return c;
    }

    static StreamExecutionEnvironment env(int parallelism) {
        Configuration c = new Configuration();
        // no Kryo anywhere: user records, keys, envelopes and keyshift's state all have their own serializers
        c.setString("pipeline.generic-types", "false");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, c);
        env.setMaxParallelism(128);
        return env;
    }

    /** Runs the plain-Flink twin: {@code job} over the trips, results as sorted strings. */
    static <R> List<String> twin(int parallelism, Function<DataStream<BikeTrip>, DataStream<R>> job) throws Exception {
        StreamExecutionEnvironment env = env(parallelism);
        return sorted(job.apply(BikeTrip.read(env, trips())).executeAndCollect());
    }

    static <R> List<String> sorted(CloseableIterator<R> it) throws Exception {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(r -> out.add(r.toString()));
        it.close();
        out.sort(String::compareTo);
        return out;
    }

    static <R> List<String> sorted(List<R> results) {
        List<String> out = new ArrayList<>();
        results.forEach(r -> out.add(r.toString()));
        out.sort(String::compareTo);
        return out;
    }

    /** Plans and validation reports of a stage, and its completed migrations. */
    record Stage(List<RoutingPlan> plans, List<ValidationReport> validation) {
        /** Migrations (key, plan version) whose switch-over lies before {@code lastEvent}. */
        long completedMigrations(long lastEvent) {
            Set<String> done = new HashSet<>();
            for (RoutingPlan p : plans) {
                for (var e : p.getEntries()) {
                    var m = e.getMigration();
                    if (m != null && m.getSwitchAt() <= lastEvent) {
                        done.add(e.getKey() + "@" + m.getPlannedInVersion());
                    }
                    for (var r : e.getRetired()) {
                        done.add(e.getKey() + "@" + r.getPlannedInVersion());
                    }
                }
            }
            return done.size();
        }

        TreeMap<ValidationOutcome, Integer> outcomes() {
            TreeMap<ValidationOutcome, Integer> out = new TreeMap<>();
            validation.forEach(r -> out.merge(r.getOutcome(), 1, Integer::sum));
            return out;
        }
    }

    /** Event time of the last trip of 2014 (the trips file's last start), ms. */
    static final long LAST_TRIP = java.time.Instant.parse("2015-01-01T07:33:00Z").toEpochMilli();
}
