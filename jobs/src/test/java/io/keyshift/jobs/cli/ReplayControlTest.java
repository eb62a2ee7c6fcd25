package io.keyshift.jobs.cli;

import io.keyshift.jobs.SharedData;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 15, acceptance 1 and 5: a bike-share replay (1d, p=8) with a control file that pins the busiest station from
 * March on, freezes planning for June and rolls back to the plan of April 1 on July 1, with a malformed line among
 * the commands. Three runs (about 45 s): one without the file (the pin and the freeze must change something), two
 * with it (the same plan digest).
 */
@Tag("end-to-end")
class ReplayControlTest {
    private static final String BUSIEST = "San Francisco Caltrain (Townsend at 4th)";
    private static final long MARCH = Instant.parse("2014-03-01T00:00:00Z").toEpochMilli();
    private static final long APRIL = Instant.parse("2014-04-01T00:00:00Z").toEpochMilli();
    private static final long JUNE = Instant.parse("2014-06-01T00:00:00Z").toEpochMilli();
    private static final long JULY = Instant.parse("2014-07-01T00:00:00Z").toEpochMilli();
    private static final int MAX_P = 128;

    private record Move(long version, String key, int toKeyGroup, long shadowFrom) {}

    private static JsonNode replay(Path out, Path control) throws Exception {
        List<String> args = new ArrayList<>(List.of("replay", "--input",
                SharedData.file("bayarea-bikeshare-2014/batrips.csv.gz").toString(), "--key", "start_station",
                "--time", "start_date", "--time-format", "yyyy-MM-dd HH:mm:ssXXX", "--window", "1d",
                "--parallelism", "8", "--strategies", "hash,predictive", "--out", out.toString(),
                "--config", SharedData.flinkConf().toString()));
        if (control != null) {
            args.addAll(List.of("--control", control.toString()));
        }
        StringWriter err = new StringWriter();
        CommandLine cl = KeyshiftCli.commandLine();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute(args.toArray(String[]::new))).as(err.toString()).isZero();
        return new ObjectMapper().readTree(out.resolve("report.json").toFile());
    }

    private static List<CSVRecord> csv(Path file) throws Exception {
        try (Reader r = Files.newBufferedReader(file)) {
            return CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).build().parse(r).getRecords();
        }
    }

    private static List<Move> moves(Path out) throws Exception {
        List<Move> moves = new ArrayList<>();
        for (CSVRecord r : csv(out.resolve("moves-predictive.csv"))) {
            moves.add(new Move(Long.parseLong(r.get("plan_version")), r.get("key"),
                    Integer.parseInt(r.get("to_key_group")), Long.parseLong(r.get("shadow_from"))));
        }
        return moves;
    }

    /** Key -> key group after plan {@code version}'s migrations, for every key that moved (else: natural). */
    private static Map<String, Integer> routing(List<Move> moves, long version) {
        Map<String, Integer> r = new TreeMap<>();
        for (Move m : moves) {
            if (m.version() <= version) {
                r.put(m.key(), m.toKeyGroup());
            }
        }
        r.entrySet().removeIf(e -> e.getValue() == KeyGroupRangeAssignment.assignToKeyGroup(e.getKey(), MAX_P));
        return r;
    }

    @Test
    void pinFreezeAndRollbackFromAControlFileAreDeterministicAndExact(@TempDir Path dir) throws Exception {
        JsonNode free = replay(dir.resolve("free"), null);
        List<Move> freeMoves = moves(dir.resolve("free"));
        // without the file migrations start in June, and some key moves often after March: it is pinned too, beside
        // the busiest station (which the planner, left alone, moves only once, in January)
        assertThat(freeMoves).anyMatch(m -> m.shadowFrom() >= JUNE && m.shadowFrom() < JULY);
        // the premise of the pins here and in the revert test: left alone, the busiest station moves
        assertThat(freeMoves).anyMatch(m -> m.key().equals(BUSIEST) && m.shadowFrom() < MARCH);
        Map<String, Long> movesAfterMarch = new TreeMap<>();
        freeMoves.stream().filter(m -> m.shadowFrom() >= MARCH).forEach(m -> movesAfterMarch.merge(m.key(), 1L, Long::sum));
        String mover = movesAfterMarch.entrySet().stream().filter(e -> !e.getKey().equals(BUSIEST))
                .max(Map.Entry.<String, Long>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                .orElseThrow().getKey();
        assertThat(movesAfterMarch.get(mover)).isGreaterThanOrEqualTo(5);

        // the plan of April 1: the one made after the window that ends on April 1 (it routes April 1). Plans come one
        // per daily window from the first (version 1 after the window of the first event), with or without the file
        Instant firstEvent = Instant.parse(free.at("/input/first_event").requireNonNull().asText());
        long firstWindowEnd = Math.floorDiv(firstEvent.toEpochMilli(), 86_400_000L) * 86_400_000L + 86_400_000L;
        long version = 1 + (APRIL - firstWindowEnd) / 86_400_000L;
        Path control = dir.resolve("control.csv");
        Files.writeString(control, String.join("\n",
                "# pin the busiest station from March on, freeze June, roll back to April 1's plan on July 1",
                "2014-03-01T00:00:00Z,pin," + BUSIEST,
                "2014-03-01T00:00:00Z,pin,\"" + mover + "\"",
                "2014-05-01T00:00:00Z,teleport,Market at 4th",
                "2014-06-01T00:00:00Z,freeze",
                "2014-07-01T00:00:00Z,unfreeze",
                "2014-07-01T00:00:00Z,rollback,VERSION",
                "2014-09-01T00:00:00Z,sampling-rate,0.25") + "\n");
        Path file = writeWithVersion(control, version);
        JsonNode a = replay(dir.resolve("a"), file);
        // the second run reads the file gzipped, as Flink's file source reads a .gz: the same plans (the routers knew
        // its commands in advance only from a plain file, and sampled at 1.0 until a plan brought the rate)
        Path gzipped = dir.resolve(file.getFileName() + ".gz");
        try (java.io.OutputStream gz = new java.util.zip.GZIPOutputStream(Files.newOutputStream(gzipped))) {
            Files.copy(file, gz);
        }
        JsonNode b = replay(dir.resolve("b"), gzipped);
        assertThat(a.at("/strategies/predictive/plan_digest").requireNonNull().asText())
                .isEqualTo(b.at("/strategies/predictive/plan_digest").requireNonNull().asText());
        assertThat(a.at("/strategies/predictive/result_mismatches").requireNonNull().asLong()).isZero();
        assertThat(a.at("/strategies/predictive/results").requireNonNull().asLong())
                .isEqualTo(a.at("/strategies/hash/results").requireNonNull().asLong());

        Path out = dir.resolve("a");
        List<Move> moves = moves(out);
        // the pinned key never moves after March
        assertThat(moves).noneMatch(m -> (m.key().equals(BUSIEST) || m.key().equals(mover)) && m.shadowFrom() >= MARCH);
        // no migration starts in June, and the leases still advance: a plan for every day of June, all frozen
        assertThat(moves).noneMatch(m -> m.shadowFrom() >= JUNE && m.shadowFrom() < JULY);
        List<CSVRecord> plans = csv(out.resolve("control-predictive.csv"));
        long v = version;
        assertThat(plans).anyMatch(r -> Long.parseLong(r.get("plan_version")) == v
                && Long.parseLong(r.get("based_on_window_end")) == APRIL);
        assertThat(plans.stream().filter(r -> Long.parseLong(r.get("based_on_window_end")) >= JUNE
                && Long.parseLong(r.get("based_on_window_end")) < JULY)).hasSize(30)
                .allMatch(r -> Boolean.parseBoolean(r.get("frozen")));
        // the rollback: the last plan under it finds the routing equal to April 1's plan
        long lastUnderRollback = -1;
        for (CSVRecord r : plans) {
            if (Long.parseLong(r.get("rollback_to_version")) == version) {
                lastUnderRollback = Long.parseLong(r.get("plan_version"));
            }
        }
        assertThat(lastUnderRollback).as("a rollback that completed").isPositive();
        long done = lastUnderRollback;
        assertThat(plans.stream().filter(r -> Long.parseLong(r.get("plan_version")) == done + 1)
                .findFirst().orElseThrow().get("rollback_to_version")).isEqualTo("-1");
        Map<String, Integer> april = routing(moves, version);
        Map<String, Integer> rolledBack = routing(moves, lastUnderRollback);
        assertThat(rolledBack).isEqualTo(april);
        assertThat(routing(moves, version + 89)).as("the routing had changed by the end of June")
                .isNotEqualTo(april);
        // the malformed command: refused with its reason, the others applied
        List<CSVRecord> rejected = csv(out.resolve("control-rejected-predictive.csv"));
        assertThat(rejected).hasSize(1);
        assertThat(rejected.get(0).get("reason")).contains("unknown command 'teleport'");
        assertThat(rejected.get(0).get("command")).contains("teleport,Market at 4th");
        assertThat(a.at("/strategies/predictive/control/commands_applied").requireNonNull().asLong()).isEqualTo(6);
        // the sampling rate: every profile of a window from September 1 on sampled at 0.25, every earlier one at 1.0
        // (the routers know the file's command from the start; the two runs' equal digests show it deterministic)
        long september = Instant.parse("2014-09-01T00:00:00Z").toEpochMilli();
        Map<Boolean, java.util.Set<Double>> rates = new TreeMap<>();
        for (String line : Files.readAllLines(out.resolve("profiles-predictive.jsonl"))) {
            JsonNode p = new ObjectMapper().readTree(line);
            rates.computeIfAbsent(p.get("window_start").asLong() >= september, k -> new java.util.TreeSet<>())
                    .add(p.get("sampling_rate").asDouble());
        }
        assertThat(rates).containsEntry(false, java.util.Set.of(1.0)).containsEntry(true, java.util.Set.of(0.25));
        assertThat(csv(out.resolve("control-predictive.csv"))).last()
                .satisfies(r -> assertThat(r.get("sampling_rates")).isEqualTo(september + "=0.25"));
        assertThat(a.at("/strategies/predictive/control/commands_rejected").requireNonNull().asLong()).isEqualTo(1);
        System.err.printf("control replay: pinned %s (%d moves after March without the file); April 1's plan v%d, rollback done in v%d, %d moves (%d without the file), "
                        + "digest %s, imbalance %.3f (%.3f without)%n", mover, movesAfterMarch.get(mover), version, lastUnderRollback, moves.size(),
                freeMoves.size(), a.at("/strategies/predictive/plan_digest").requireNonNull().asText(),
                a.at("/strategies/predictive/imbalance_mean").requireNonNull().asDouble(),
                free.at("/strategies/predictive/imbalance_mean").requireNonNull().asDouble());
    }

    /**
     * Issue 15, acceptance 2: every shadow result of one key is corrupted (a fault of the test workload), every
     * migration validated, on-mismatch REVERT: each mismatch sends the key back to the key group it came from, where
     * it stays for the hold; results equal hash's; the report lists each revert with its reason.
     */
    @Test
    void aMismatchingShadowSendsItsKeyBackAndResultsStayExact(@TempDir Path dir) throws Exception {
        String corrupted = "Mountain View Caltrain Station";
        Path out = dir.resolve("revert");
        List<String> args = new ArrayList<>(List.of("replay", "--input",
                SharedData.file("bayarea-bikeshare-2014/batrips.csv.gz").toString(), "--key", "start_station",
                "--time", "start_date", "--time-format", "yyyy-MM-dd HH:mm:ssXXX", "--window", "1d",
                "--parallelism", "8", "--strategies", "hash,predictive", "--out", out.toString(),
                "--config", SharedData.flinkConf().toString(), "-Dkeyshift.fault.corrupt-shadow-key=" + corrupted,
                "-Dkeyshift.migration.validation=ALL", "-Dkeyshift.migration.on-mismatch=REVERT",
                // a replay at full speed runs ahead of the validation by up to this many windows
                "-Dkeyshift.migration.on-mismatch.lag-windows=8"));
        // a user's control file beside the reverts (joined with them by the stage's control-progress operator, which
        // carries the user's watermark in band; PlannerOperatorTest checks the waiting): the busiest station, which
        // the planner left alone moves in January, is pinned from the start and never moves
        Path control = dir.resolve("control.csv");
        Files.writeString(control, "2014-01-01T00:00:00Z,pin," + BUSIEST + "\n2014-02-01T00:00:00Z,teleport,x\n");
        args.addAll(List.of("--control", control.toString()));
        StringWriter err = new StringWriter();
        CommandLine cl = KeyshiftCli.commandLine();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute(args.toArray(String[]::new))).as(err.toString()).isZero();
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        JsonNode predictive = report.at("/strategies/predictive");
        assertThat(predictive.get("result_mismatches").asLong()).isZero();
        assertThat(predictive.get("results").asLong()).isEqualTo(report.at("/strategies/hash/results").requireNonNull().asLong());
        assertThat(predictive.at("/validation/mismatches").requireNonNull().asLong()).isPositive();

        List<CSVRecord> reverts = csv(out.resolve("reverts-predictive.csv"));
        assertThat(reverts).isNotEmpty().allSatisfy(r -> {
            assertThat(r.get("key")).isEqualTo(corrupted);
            assertThat(r.get("reason")).contains("disagreed with the primary's in key group " + r.get("key_group"));
        });
        assertThat(predictive.at("/control/reverts").requireNonNull().asLong()).isEqualTo(reverts.size());
        assertThat(moves(out)).noneMatch(m -> m.key().equals(BUSIEST));
        // pinned from the first plan on: that is why it does not move
        assertThat(csv(out.resolve("control-predictive.csv"))).isNotEmpty()
                .allSatisfy(r -> assertThat(r.get("pinned_keys").split(";")).contains(BUSIEST));
        assertThat(csv(out.resolve("control-rejected-predictive.csv"))).singleElement()
                .satisfies(r -> assertThat(r.toString()).contains("teleport"));
        List<Move> moves = moves(out).stream().filter(m -> m.key().equals(corrupted)).toList();
        long hold = java.time.Duration.ofDays(7).toMillis();
        for (CSVRecord r : reverts) {
            long v = Long.parseLong(r.get("plan_version"));
            // after the revert's plan the key routes to the key group it came from
            Move last = moves.stream().filter(m -> m.version() <= v).reduce((a, b) -> b).orElseThrow();
            assertThat(last.toKeyGroup()).as("plan " + v).isEqualTo(Integer.parseInt(r.get("key_group")));
            // and the planner does not move it again for the hold
            assertThat(moves).noneMatch(m -> m.shadowFrom() > last.shadowFrom()
                    && m.shadowFrom() < last.shadowFrom() + hold && m.version() > v);
        }
        System.err.printf("revert replay: %d reverts of %s, %d of its moves, %d mismatches reported, results exact; "
                        + "first: %s%n", reverts.size(), corrupted, moves.size(),
                predictive.at("/validation/mismatches").requireNonNull().asLong(), reverts.get(0).get("reason"));
    }

    /** Window end to the number of anomalous units, from the predictive run's forecasts (windowEnd,...,anomalies). */
    private static java.util.TreeMap<Long, Long> anomalies(Path out) throws Exception {
        java.util.TreeMap<Long, Long> m = new java.util.TreeMap<>();
        for (String line : io.keyshift.jobs.report.ReplayReport.lines(out.resolve(".work").resolve("predictive")
                .resolve("forecasts"))) {
            String[] f = line.split(",");
            m.put(Long.parseLong(f[0]), Long.parseLong(f[f.length - 1]));
        }
        return m;
    }

    /**
     * An anomaly-z command reaches the forecaster: with {@code anomaly-z 1} from March 1 (the configured z is 4) the
     * windows before March flag exactly the anomalies of a run without it, the windows from March on flag more, plans
     * carry the z in force, and results stay exact.
     */
    @Test
    void anAnomalyZCommandChangesTheForecastersThresholdFromItsTimeOn(@TempDir Path dir) throws Exception {
        Path control = dir.resolve("control.csv");
        Files.writeString(control, "2014-03-01T00:00:00Z,anomaly-z,1\n");
        Path plain = dir.resolve("plain");
        Path with = dir.resolve("with");
        replay(plain, null);
        JsonNode report = replay(with, control);
        java.util.TreeMap<Long, Long> before = anomalies(plain);
        java.util.TreeMap<Long, Long> after = anomalies(with);
        assertThat(after.keySet()).isEqualTo(before.keySet());
        assertThat(after.headMap(MARCH, true)).isEqualTo(before.headMap(MARCH, true));
        long plainFromMarch = before.tailMap(MARCH, false).values().stream().mapToLong(Long::longValue).sum();
        long withFromMarch = after.tailMap(MARCH, false).values().stream().mapToLong(Long::longValue).sum();
        System.out.printf("anomaly-z 1 from March: %,d anomalous units after March 1 (%,d with the configured z)%n",
                withFromMarch, plainFromMarch);
        assertThat(withFromMarch).isGreaterThan(2 * plainFromMarch);
        List<CSVRecord> overrides = csv(with.resolve("control-predictive.csv"));
        assertThat(overrides.get(overrides.size() - 1).get("anomaly_z")).isEqualTo("1.0");
        JsonNode p = report.at("/strategies/predictive");
        assertThat(p.get("result_mismatches").asLong()).isZero();
    }

    private static Path writeWithVersion(Path template, long version) throws Exception {
        Path f = template.resolveSibling("control-" + version + ".csv");
        Files.writeString(f, Files.readString(template).replace("VERSION", Long.toString(version)));
        return f;
    }
}
