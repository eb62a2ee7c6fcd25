package io.keyshift.jobs.cli;

import io.keyshift.jobs.SharedData;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A user's mistakes on the command line end with exit 2 and one line naming the option, before any job starts and
 * before anything in --out is removed (each case here returns within a second or two: no job runs).
 */
class UserMistakesTest {
    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private static String conf() {
        return SharedData.flinkConf().toString();
    }

    private static Path csv(Path dir, String text) throws IOException {
        Path f = dir.resolve("in.csv");
        Files.writeString(f, text);
        return f;
    }

    /**
     * An --interval beyond a long's milliseconds overflowed after the first step, which may have rescaled the job; a
     * --timeout of 300,000 days overflowed once the job was being stopped with a savepoint, or the cluster started.
     */
    @Test
    void aDurationBeyondAHundredYearsIsRefusedBeforeAnyRequest() {
        for (String[] args : new String[][] {
            {"autoscale", "0123456789abcdef0123456789abcdef", "--interval", "200000000000d", "--rest",
                "http://127.0.0.1:1"},
            {"savepoint", "0123456789abcdef0123456789abcdef", "--timeout", "300000d", "--rest", "http://127.0.0.1:1"}}) {
            CliRun r = run(args);
            assertThat(r.exit()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).contains(args[2] + " must be at most 36500d").doesNotContain("\tat ");
        }
        // polled in whole milliseconds: 1500 µs was a poll every millisecond
        CliRun r = run("autoscale", "0123456789abcdef0123456789abcdef", "--interval", "1500micros", "--rest",
                "http://127.0.0.1:1");
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("--interval 1500micros must be whole milliseconds");
    }

    /**
     * bootstrap's --dead-letters in its --out is refused before the input is read: the file took the savepoint's
     * place (or made its directory) once the input was sorted, and the savepoint was refused as "exists", exit 1.
     */
    @Test
    void bootstrapsDeadLettersInItsOutAreRefused(@TempDir Path dir) throws Exception {
        for (Path letters : List.of(dir.resolve("sp"), dir.resolve("sp").resolve("dl.csv"))) {
            CliRun r = run("bootstrap", "--input", "generator", "--out", dir.resolve("sp").toString(),
                    "--dead-letters", letters.toString());
            assertThat(r.exit()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).contains("--dead-letters " + letters + " is --out or lies in it");
        }
        CliRun above = run("bootstrap", "--input", "generator", "--out", dir.resolve("x").resolve("sp").toString(),
                "--dead-letters", dir.resolve("x").toString());
        assertThat(above.exit()).as(above.err()).isEqualTo(2);
        assertThat(above.err()).contains("--out " + dir.resolve("x").resolve("sp") + " lies in --dead-letters");
    }

    /**
     * A command into an --out that another keyshift command holds (here: its lock taken as another process's would
     * be) is refused before it reads anything; it found the other's partial files and wrote into the same ones.
     */
    @Test
    void aSecondCommandIntoAnOutputInUseIsRefused(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("busy");
        try (java.nio.channels.FileChannel other = java.nio.channels.FileChannel.open(ReplayOutput.lockFile(out),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
             java.nio.channels.FileLock held = other.lock()) {
            CliRun replay = run("replay", "--out", out.toString());
            assertThat(replay.exit()).as(replay.err()).isEqualTo(2);
            assertThat(replay.err()).contains("--out " + out + " is in use by another keyshift command");
            assertThat(out).doesNotExist();
            CliRun bootstrap = run("bootstrap", "--input", "generator", "--out", out.toString());
            assertThat(bootstrap.exit()).as(bootstrap.err()).isEqualTo(2);
            assertThat(bootstrap.err()).contains("--out " + out + " is in use by another keyshift command");
            assertThat(out).doesNotExist();
            // the cluster job's main too (a bench before its first bench.json, a replay reading its input: none of
            // their files there yet, and the job wrote beside them)
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> io.keyshift.jobs.KeyshiftJob.main(new String[] {
                "--generator-records", "1000", "--out", out.toString(), "-Dexecution.checkpointing.interval=1s"}))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("--out " + out + " is in use by another keyshift command or job");
            assertThat(out).doesNotExist();
            // the same directory by another name (a symbolic link to its parent): one claim (two spellings took two
            // locks, and the commands wrote into the same partial files)
            Path link = Files.createSymbolicLink(dir.resolve("link"), dir);
            CliRun viaLink = run("replay", "--out", link.resolve("busy").toString());
            assertThat(viaLink.exit()).as(viaLink.err()).isEqualTo(2);
            assertThat(viaLink.err()).contains("is in use by another keyshift command");
            // ".." after a link is the link's target's parent, as the file system reads it (normalized before the
            // link was resolved, link/../busy was taken for a directory beside the link, and took another claim)
            Path inner = Files.createDirectories(dir.resolve("a/b"));
            Path deep = Files.createSymbolicLink(dir.resolve("deep"), inner);
            assertThat(ReplayOutput.real(deep.resolve("../busy"))).isEqualTo(dir.toRealPath().resolve("a/busy"));
            assertThat(ReplayOutput.real(deep.resolve("new/../../busy"))).isEqualTo(dir.toRealPath()
                    .resolve("a/busy"));
            // an input in --out spelled by the directory's physical path, --out by a link to it (the working
            // directory's form): in it all the same (the check compared the two spellings and missed it)
            Path physical = Files.createDirectories(dir.resolve("phys/run"));
            Path runLink = Files.createSymbolicLink(dir.resolve("runlink"), physical);
            assertThat(ReplayOutput.inputInOutput(runLink, java.util.Map.of("--input",
                    physical.resolve("dead-letters.csv")), (option, entry) -> true)).isNotNull();
            assertThat(ReplayOutput.inputInOutput(physical, java.util.Map.of("--input",
                    runLink.resolve("dead-letters.csv")), (option, entry) -> true)).isNotNull();
            // a link elsewhere that leads into --out (its file was truncated as dead letters while it was read)
            Files.writeString(physical.resolve("dead-letters.csv"), "raw_line,line_number,reason\n");
            Path outside = Files.createSymbolicLink(dir.resolve("data.csv"), physical.resolve("dead-letters.csv"));
            assertThat(ReplayOutput.inputInOutput(physical, java.util.Map.of("--input", outside),
                    (option, entry) -> entry.equals("dead-letters.csv"))).isNotNull();
            // and a link in --out under a name the command leaves alone, leading to one it writes
            Path mine = Files.createSymbolicLink(physical.resolve("mine.csv"), physical.resolve("dead-letters.csv"));
            assertThat(ReplayOutput.inputInOutput(physical, java.util.Map.of("--input", mine),
                    (option, entry) -> entry.equals("dead-letters.csv"))).isNotNull();
        }
    }

    /**
     * End-to-end (a few seconds): a replay into an --out spelled with ".." after a link writes everything where the
     * file system reads that path (the link's target's parent): the results' sink normalized ".." as text and wrote
     * beside the link, and the report, reading where the claim and markers were, found no results.
     */
    @Test
    @org.junit.jupiter.api.Tag("end-to-end")
    void aReplayIntoAnOutWithDotDotAfterALinkKeepsItsFilesTogether(@TempDir Path dir) throws Exception {
        Path real = dir.toRealPath();
        Files.createDirectories(real.resolve("a/b"));
        Files.createSymbolicLink(real.resolve("l"), real.resolve("a/b"));
        CliRun r = run("replay", "--generator-records", "2000", "--strategies", "hash", "--out",
                real.resolve("l/../r").toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(real.resolve("r")).doesNotExist();
        assertThat(real.resolve("a/r/report.json")).exists();
        assertThat(Files.readAllLines(real.resolve("a/r/results-hash.csv")).size()).isGreaterThan(10);
        assertThat(Files.readString(real.resolve("a/r/report.json"))).doesNotContain("\"results\" : 0,");
        // a --control file spelled so: the check read one file and Flink's source (whose paths normalize ".." as
        // text) looked for another beside the link
        Files.writeString(real.resolve("a/steer.csv"), "2026-01-06T00:00:00Z,freeze\n");
        CliRun steered = run("replay", "--generator-records", "2000", "--strategies", "predictive", "--out",
                real.resolve("s").toString(), "--control", real.resolve("l/../steer.csv").toString());
        assertThat(steered.exit()).as(steered.err()).isZero();
        // (frozen from the plan after the command's time on)
        assertThat(Files.readAllLines(real.resolve("s/control-predictive.csv"))).anyMatch(l -> l.split(",")[2]
                .equals("true"));
    }

    /**
     * A generator replay into an --out that holds an earlier run's output is refused before the generator's records
     * are counted (as a file input is checked before it is read): it was refused only after minutes of counting.
     */
    @Test
    void aGeneratorReplayChecksItsOutBeforeCountingTheRecords(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.writeString(out.resolve("report.json"), "{}");
        Files.writeString(out.resolve("results-hash.csv"), "key,window_start,window_end,count\n");
        // (the counting's progress goes to the process's standard error)
        java.io.PrintStream stderr = System.err;
        java.io.ByteArrayOutputStream progress = new java.io.ByteArrayOutputStream();
        CliRun r;
        System.setErr(new java.io.PrintStream(progress, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            r = run("replay", "--generator-records", "50000000", "--out", out.toString());
        } finally {
            System.setErr(stderr);
        }
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("--overwrite");
        assertThat(progress.toString(java.nio.charset.StandardCharsets.UTF_8)).doesNotContain("counting the generator's");
    }

    /**
     * A config.yaml that is not YAML (a tab indent, a key without its colon's space) fails in one line naming the file
     * and where it breaks, exit 2, nothing written: Flink's parser logged a stack trace and the command ended with exit
     * 1 and a message over several lines.
     */
    @Test
    void aConfigYamlThatDoesNotParseFailsInOneLineNamingTheFile(@TempDir Path dir) throws Exception {
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Files.writeString(conf.resolve("config.yaml"), "keyshift.plan.alpha: 0.2\n\tfoo: bar\n");
        Path out = dir.resolve("out");
        CliRun r = run("replay", "--generator-records", "2000", "--out", out.toString(), "--config", conf.toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
        assertThat(r.err()).contains(conf.resolve("config.yaml").toString()).contains("not valid YAML")
                .contains("line 2");
        assertThat(out).doesNotExist();
    }

    /**
     * A table.* option the SQL contender's planner refuses, and an injected window failure (a restart, which fails the
     * bench), are refused before any run: they failed after keyBy's and keyshift's runs, once --overwrite had deleted
     * the earlier bench.json.
     */
    @Test
    void benchRefusesWhatWouldFailALaterRunBeforeAnyRun(@TempDir Path dir) throws Exception {
        Path b = Files.createDirectories(dir.resolve("b"));
        Files.writeString(b.resolve("bench.json"), "{\"earlier\": true}");
        for (String option : java.util.List.of("-Dtable.sql-dialect=nope",
                "-Dkeyshift.fault.window-failure-times=1767571200000")) {
            CliRun bench = run("bench", "--out", b.toString(), "--overwrite", "--config", conf(), option,
                    "--records", "1000", "--service-times", "0", "--keys-distributions", "uniform",
                    "--repetitions", "1");
            assertThat(bench.exit()).as(bench.err()).isEqualTo(2);
            assertThat(bench.err()).as(option).contains(option.substring(2, option.indexOf('=')).equals(
                    "table.sql-dialect") ? "with table.sql-dialect=nope: " : "keyshift.fault.window-failure-times").doesNotContain("\tat ");
            assertThat(b.resolve("bench.json")).hasContent("{\"earlier\": true}");
        }
    }

    /**
     * bench and plan-bench keep an earlier run's figures unless told to replace them (--overwrite): they deleted them
     * at the start, without a word, before a run of up to 20 minutes that could still fail.
     */
    @Test
    void benchAndPlanBenchKeepAnEarlierRunsFiguresUnlessOverwrite(@TempDir Path dir) throws Exception {
        Path b = Files.createDirectories(dir.resolve("b"));
        Files.writeString(b.resolve("bench.json"), "{\"earlier\": true}");
        CliRun bench = run("bench", "--out", b.toString(), "--config", conf());
        assertThat(bench.exit()).as(bench.err()).isEqualTo(2);
        assertThat(bench.err()).contains("--out").contains("bench.json").contains("--overwrite");
        assertThat(b.resolve("bench.json")).hasContent("{\"earlier\": true}");
        Path pb = Files.createDirectories(dir.resolve("pb"));
        Files.writeString(pb.resolve("plan-bench.json"), "{}");
        CliRun planBench = run("plan-bench", "--out", pb.toString());
        assertThat(planBench.exit()).as(planBench.err()).isEqualTo(2);
        assertThat(planBench.err()).contains("plan-bench.json").contains("--overwrite");
        assertThat(pb.resolve("plan-bench.json")).hasContent("{}");
        // the checkpoints a killed control-path run left in --out are an earlier run's output too
        Path cp = Files.createDirectories(dir.resolve("cp").resolve("control-path-checkpoints-123").resolve("chk-1"));
        CliRun controlPath = run("plan-bench", "--control-path", "--out", dir.resolve("cp").toString());
        assertThat(controlPath.exit()).as(controlPath.err()).isEqualTo(2);
        assertThat(controlPath.err()).contains("control-path-checkpoints-123").contains("--overwrite");
        assertThat(cp).isDirectory();
        // and another command's: bench wrote its figures beside them
        CliRun benchThere = run("bench", "--out", dir.resolve("cp").toString(), "--config", conf());
        assertThat(benchThere.exit()).as(benchThere.err()).isEqualTo(2);
        assertThat(benchThere.err()).contains("plan-bench's output (control-path-checkpoints-123)");
        assertThat(cp).isDirectory();
    }

    /**
     * forecast-bench on an input without a valid row leaves its dead letters (their path in the message); the
     * corrected rerun into the same --out replaces them instead of refusing them as an earlier run's output.
     */
    @Test
    void forecastBenchReplacesTheDeadLettersOfARunThatFoundNoValidRow(@TempDir Path dir) throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.csv"), "k,t\na,notatime\nb,alsonot\n");
        Path out = dir.resolve("fb");
        CliRun r = run("forecast-bench", "--input", bad.toString(), "--key", "k", "--time", "t", "--out",
                out.toString(), "--config", conf());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("has no valid row").contains(out.resolve("dead-letters.csv").toString());
        Path worse = Files.writeString(dir.resolve("worse.csv"), "k,t\nc,neither\n");
        CliRun again = run("forecast-bench", "--input", worse.toString(), "--key", "k", "--time", "t", "--out",
                out.toString(), "--config", conf());
        assertThat(again.exit()).as(again.err()).isEqualTo(2);
        assertThat(again.err()).contains("replaced what an earlier run left without results in")
                .contains("has no valid row (1 dead letters").doesNotContain("holds an earlier run's output");
    }

    /**
     * forecast-bench --overwrite given an input with a header and no data row is refused before the earlier run's
     * output is removed: it removed forecast.json, then failed with "no data rows", leaving nothing in its place.
     */
    @Test
    void forecastBenchOnAHeaderOnlyInputKeepsTheEarlierOutput(@TempDir Path dir) throws Exception {
        Path empty = Files.writeString(dir.resolve("empty.csv"), "k,t\n");
        Path out = Files.createDirectories(dir.resolve("fb"));
        Files.writeString(out.resolve("forecast.json"), "{}");
        CliRun r = run("forecast-bench", "--input", empty.toString(), "--key", "k", "--time", "t", "--out",
                out.toString(), "--overwrite", "--config", conf());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("has no valid row (no data rows)");
        assertThat(out.resolve("forecast.json")).hasContent("{}");
        // a season whose closing timing of 10,000 series could not fit the heap: refused before the input is read
        // (it ran out of memory after the whole scoring, --overwrite having removed forecast.json)
        CliRun big = run("forecast-bench", "--input", empty.toString(), "--key", "k", "--time", "t", "--season",
                "100000", "--out", out.toString(), "--overwrite", "--config", conf());
        assertThat(big.exit()).as(big.err()).isEqualTo(2);
        assertThat(big.err()).contains("a longest season of 100,000 windows (--season, or --window's default "
                + "seasons) needs 3,814 MiB for the timing of 10,000 series");
        assertThat(out.resolve("forecast.json")).hasContent("{}");
    }

    /**
     * The cluster command's N belongs to kill-taskmanager only and counts from 1 (stop 3 and kill-taskmanager 0 were
     * taken), a --dir under a file is named as such (it started a cluster's files there, then failed with a trace),
     * and bench names the one option that is wrong. Nothing starts.
     */
    @Test
    void clusterAndBenchMistakesExitTwoNamingTheOneOptionThatIsWrong(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("afile"), "x");
        for (String[] args : java.util.List.of(new String[] {"cluster", "stop", "3", "--dir", dir.toString()},
                new String[] {"cluster", "kill-taskmanager", "0", "--dir", dir.toString()},
                new String[] {"cluster", "start", "--dir", file.resolve("run").toString()},
                // start's options given to another action were ignored without a word (exit 0)
                new String[] {"cluster", "add-taskmanager", "-D", "taskmanager.numberOfTaskSlots=8", "--dir",
                        dir.toString()},
                new String[] {"cluster", "stop", "--rest-port", "9091", "--dir", dir.toString()},
                new String[] {"cluster", "status", "--timeout", "5s", "--dir", dir.toString()},
                new String[] {"bench", "--records", "-1", "--out", dir.resolve("b").toString()},
                new String[] {"bench", "--keys", "0", "--out", dir.resolve("b").toString()},
                new String[] {"bench", "--keys", "20000001", "--out", dir.resolve("b").toString()},
                new String[] {"bench", "--service-times", "1s", "--out", dir.resolve("b").toString()},
                // a service time beyond every duration option's bound overflowed in the bench's arithmetic (exit 1
                // with a stack-trace file, after --overwrite had cleared the earlier bench.json)
                new String[] {"bench", "--service-times", "0,200000d", "--out", dir.resolve("b").toString()},
                // 24M records at 10 records/s: 28 days a latency run, after the whole matrix
                new String[] {"bench", "--latency-rate", "10", "--service-times", "0", "--out",
                        dir.resolve("b").toString()})) {
            CliRun r = run(args);
            assertThat(r.exit()).as(String.join(" ", args) + ": " + r.err()).isEqualTo(2);
            assertThat(r.err().strip().lines()).hasSize(1);
        }
        // no cluster there: status says so with exit 1, which a script's health check reads
        assertThat(run("cluster", "status", "--dir", dir.resolve("none").toString()).exit()).isEqualTo(1);
        assertThat(run("cluster", "stop", "3", "--dir", dir.toString()).err()).contains("N (3) is kill-taskmanager's");
        assertThat(run("cluster", "add-taskmanager", "-D", "taskmanager.numberOfTaskSlots=8", "--dir", dir.toString())
                .err()).contains("-D is start's only: 'add-taskmanager' uses the configuration and ports the cluster");
        assertThat(run("cluster", "kill-taskmanager", "0", "--dir", dir.toString()).err())
                .contains("kill-taskmanager N must be >= 1");
        assertThat(run("cluster", "start", "--dir", file.resolve("run").toString()).err())
                .contains(file + " is a file, not a directory");
        // ports that were each free before the start and clashed at it: the JobManager died binding the second one
        // (exit 1, "the cluster did not start", after starting its processes)
        assertThat(run("cluster", "start", "--rest-port", "6123", "--dir", dir.resolve("c").toString()))
                .satisfies(r -> assertThat(r.exit()).isEqualTo(2))
                .satisfies(r -> assertThat(r.err()).contains("--rest-port and --rpc-port must differ, both were 6123"));
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Files.writeString(conf.resolve("config.yaml"), "metrics.reporter.prom.port: 9250-9270\n");
        assertThat(run("cluster", "start", "--rest-port", "9255", "--config", conf.toString(), "--dir",
                dir.resolve("c").toString()))
                .satisfies(r -> assertThat(r.exit()).isEqualTo(2))
                .satisfies(r -> assertThat(r.err()).contains("--rest-port 9255 is in the metric reporter's ports "
                        + "(metrics.reporter.prom.port: 9250-9270)"));
        // a Prometheus reporter without a port binds 9249 (it was let through, and the REST endpoint failed to bind)
        Files.writeString(conf.resolve("config.yaml"), "metrics.reporter.prom.factory.class: "
                + "io.keyshift.metrics.prometheus.BoundPrometheusReporterFactory\n");
        assertThat(run("cluster", "start", "--rest-port", "9249", "--config", conf.toString(), "--dir",
                dir.resolve("c").toString()))
                .satisfies(r -> assertThat(r.exit()).isEqualTo(2))
                .satisfies(r -> assertThat(r.err()).contains("--rest-port 9249 is in the metric reporter's ports "
                        + "(metrics.reporter.prom.port (default): 9249)"));
        // Prometheus' push gateway reporter pushes: no port of its own to clash with
        Files.writeString(conf.resolve("config.yaml"), "metrics.reporter.pgw.factory.class: "
                + "org.apache.flink.metrics.prometheus.PrometheusPushGatewayReporterFactory\n");
        // (past the reporters' check, to the next one's: REST TLS)
        assertThat(run("cluster", "start", "--rest-port", "9249", "-D", "security.ssl.rest.enabled=true", "--config",
                conf.toString(), "--dir", dir.resolve("c").toString()).err())
                .doesNotContain("metric reporter's ports").contains("security.ssl.rest.enabled");
        // a REST endpoint with TLS was polled over plain HTTP: never seen up, the cluster stopped after the timeout
        assertThat(run("cluster", "start", "-D", "security.ssl.rest.enabled=true", "--dir",
                dir.resolve("c").toString()))
                .satisfies(r -> assertThat(r.exit()).isEqualTo(2))
                .satisfies(r -> assertThat(r.err()).contains("security.ssl.rest.enabled: cluster start runs a local "
                        + "cluster whose REST API is plain HTTP"));
        // a bind address the start cannot reach (it waited out --timeout, then stopped a healthy cluster), and a
        // misspelled key warned of as every other command does (before the refusal: it came up without the slots)
        assertThat(run("cluster", "start", "-D", "taskmanager.numberOfTaskSlot=8", "-D",
                "rest.bind-address=10.255.255.1", "--dir", dir.resolve("c").toString()))
                .satisfies(r -> assertThat(r.exit()).isEqualTo(2))
                .satisfies(r -> assertThat(r.err()).contains("-Drest.bind-address=10.255.255.1: cluster start "
                        + "reaches its processes on 127.0.0.1")
                        .contains("-Dtaskmanager.numberOfTaskSlot is not a Flink option; did you mean "
                                + "taskmanager.numberOfTaskSlots?"));
        assertThat(run("cluster", "start", "-D", "jobmanager.rpc.address=10.255.255.1", "--dir",
                dir.resolve("c").toString()))
                .satisfies(r -> assertThat(r.exit()).isEqualTo(2))
                .satisfies(r -> assertThat(r.err()).contains("give -Djobmanager.bind-host=0.0.0.0 too"));
        assertThat(ClusterCommand.addressProblem(java.util.Map.of("jobmanager.rpc.address", "10.255.255.1",
                "jobmanager.bind-host", "0.0.0.0", "rest.bind-address", "0:0:0:0:0:0:0:0", "taskmanager.bind-host",
                "LocalHost", "taskmanager.host", "127.0.0.2"))).isNull();
        assertThat(ClusterCommand.addressProblem(java.util.Map.of("rest.bind-address", "[::]"))).isNull();
        // IPv6 loopback alone: the start polls 127.0.0.1
        assertThat(ClusterCommand.addressProblem(java.util.Map.of("rest.bind-address", "::1"))).isNotNull();
        assertThat(ClusterCommand.addressProblem(java.util.Map.of("jobmanager.rpc.address", "::1"))).isNotNull();
        assertThat(ClusterCommand.addressProblem(java.util.Map.of("rest.bind-address", "myhost"))).isNotNull();
        // a mistyped action is named as such (it was told --timeout was start's and add-taskmanager's only)
        assertThat(run("cluster", "strat", "--timeout", "5s", "--dir", dir.resolve("c").toString()))
                .satisfies(r -> assertThat(r.exit()).isEqualTo(2))
                .satisfies(r -> assertThat(r.err()).contains("unknown action 'strat'"));
        assertThat(dir.resolve("c")).doesNotExist();
        // a run directory another cluster command holds (two add-taskmanager at once both started "taskmanager-2")
        Path held = dir.resolve("held");
        try (var channel = java.nio.channels.FileChannel.open(ReplayOutput.lockFile(held),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
             var lock = channel.lock()) {
            CliRun r = run("cluster", "add-taskmanager", "--dir", held.toString());
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.err()).contains("is in use by another keyshift cluster command");
            // status only reads
            assertThat(run("cluster", "status", "--dir", held.toString()).err()).doesNotContain("in use");
        }
        assertThat(run("bench", "--keys", "0", "--out", dir.resolve("b").toString()).err())
                .contains("--keys must be in 1..20,000,000 (the generator's), was 0").doesNotContain("--parallelism");
        // the generator's one table (shared by the source subtasks) fits: a table per subtask was counted, and 20M
        // keys at parallelism 64 refused as needing 9,765 MiB (past it, a later check refuses the --days)
        CliRun wide = run("bench", "--keys", "20000000", "--parallelism", "64", "--days", "-1", "--out",
                dir.resolve("b").toString());
        assertThat(wide.err()).doesNotContain("generator's table").contains("--days must be >= 0");
        // options of distributions the matrix does not run
        assertThat(run("bench", "--keys-distributions", "uniform", "--zipf", "1.5", "--out",
                dir.resolve("b").toString()).err()).contains("--zipf applies to the held and drifting distributions");
        assertThat(run("bench", "--keys-distributions", "uniform,held", "--drift", "20", "--out",
                dir.resolve("b").toString()).err()).contains("--drift applies to the drifting distribution");
        assertThat(dir.resolve("b")).doesNotExist();
        // a matrix run that cannot take less than days
        assertThat(run("bench", "--service-times", "0,1s", "--out", dir.resolve("b").toString()).err())
                .contains("--service-times 1 s: a run's 1,000,000 records (--records, or its default) take at least "
                        + "125,000 s at --parallelism 8");
        assertThat(run("bench", "--service-times", "200000d", "--out", dir.resolve("b").toString()).err())
                .contains("--service-times must be at most");
        assertThat(run("bench", "--latency-rate", "10", "--service-times", "0", "--out", dir.resolve("b").toString())
                .err()).contains("--latency-rate 10.0 offers a latency run's 24,000,000 records");
        assertThat(file).hasContent("x");
    }

    @Test
    /** A -D key one or two edits from a Flink option's is named with the option it misspells; others are not. */
    void aMisspelledFlinkKeyIsNamedWithTheOptionItMisspells() {
        assertThat(FlinkConfig.nearMissOfFlinkKey("execution.checkpointing.intervall"))
                .isEqualTo("execution.checkpointing.interval");
        assertThat(FlinkConfig.nearMissOfFlinkKey("taskmanager.numberOfTaskSlot"))
                .isEqualTo("taskmanager.numberOfTaskSlots");
        assertThat(FlinkConfig.nearMissOfFlinkKey("execution.checkpointing.interval")).isNull();
        assertThat(FlinkConfig.nearMissOfFlinkKey("metrics.reporter.prom.port")).isNull();
        assertThat(FlinkConfig.nearMissOfFlinkKey("keyshift.plan.alpa")).as("keyshift's own are refused apart").isNull();
    }

    /** The scaled replay's internal gate option given as -D: refused before anything (it failed the job, exit 1). */
    @Test
    void theReplayGateOptionIsRefused(@TempDir Path dir) {
        CliRun r = run("replay", "-Dkeyshift.scaling.internal.replay-gate=x", "--out", dir.resolve("r").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("keyshift.scaling.internal.replay-gate' is internal to replay --scale");
        assertThat(dir.resolve("r")).doesNotExist();
    }

    /**
     * A keyshift option with a misspelled prefix (keyshfit., Keyshift., keyshift-) is refused naming the option it
     * misspells, on the command line and in config.yaml: it was neither a keyshift.* key (refused when unknown) nor
     * near a Flink key, and Flink ignores keys it does not know (replay planned with lease lead 1, a job ran without
     * its scaling stage). Keys far from keyshift's stay a Flink matter.
     */
    @Test
    void aKeyshiftOptionWithAMisspelledPrefixIsRefusedNamingTheOption(@TempDir Path dir) throws Exception {
        for (String key : List.of("keyshfit.plan.lease-lead", "Keyshift.plan.lease-lead", "keyshift-plan.lease-lead")) {
            CliRun r = run("replay", "-D" + key + "=2", "--out", dir.resolve("r").toString());
            assertThat(r.exit()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).contains("unknown option '" + key + "' (did you mean 'keyshift.plan.lease-lead'?)");
            assertThat(dir.resolve("r")).doesNotExist();
        }
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Files.writeString(conf.resolve("config.yaml"), "keyshif.scaling.capacity: 300\n");
        CliRun r = run("replay", "--config", conf.toString(), "--out", dir.resolve("r").toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("unknown option 'keyshif.scaling.capacity' (did you mean "
                + "'keyshift.scaling.capacity'?)");
        // a user's own keys further from keyshift's, and Flink's, are not judged
        for (String own : List.of("execution.checkpointing.interval", "dayshift.start", "keystore.path", "keyshift")) {
            assertThat(io.keyshift.config.KeyshiftConfig.misspelledPrefix(own,
                    io.keyshift.config.KeyshiftConfig.options().keySet(), java.util.Set.of())).as(own).isNull();
        }
        assertThat(io.keyshift.config.KeyshiftConfig.misspelledPrefix("keyshif.window",
                io.keyshift.config.KeyshiftConfig.options().keySet(), java.util.Set.of())).isEqualTo("keyshift.window");
    }

    /**
     * A web UI port for replay's local cluster that something already listens on (a cluster of bin/keyshift cluster
     * start on 8081) is refused naming the key before anything is read or removed: the local cluster failed to bind
     * it only after the input was sorted and --overwrite had removed the earlier run's output, in a line naming no
     * option (exit 1).
     */
    @Test
    void aRestPortInUseIsRefusedBeforeAnEarlierRunIsRemoved(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("r"));
        Files.writeString(out.resolve("report.json"), "{}\n");
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            for (String key : List.of("rest.port", "rest.bind-port")) {
                CliRun r = run("replay", "-D" + key + "=" + port, "--overwrite", "--out", out.toString());
                assertThat(r.exit()).as(r.err()).isEqualTo(2);
                assertThat(r.err()).contains(key + " " + port + " (-D / config.yaml): something on 127.0.0.1 already "
                        + "listens on port " + port);
                assertThat(out.resolve("report.json")).exists();
            }
        }
        for (String[] d : new String[][] {{"rest.port", "70000"}, {"rest.bind-port", "99999"},
                {"rest.bind-port", "100000"}, {"rest.bind-port", "-1"}, {"rest.bind-port", "70000-70010"},
                {"rest.bind-port", "8081,70000"}, {"rest.bind-port", "8090-8081"}, {"rest.bind-port", "abc"}}) {
            CliRun r = run("replay", "-D" + d[0] + "=" + d[1], "--overwrite", "--out", out.toString());
            assertThat(r.exit()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).contains(d[0] + " " + d[1] + " (-D / config.yaml) is not a port");
            assertThat(out.resolve("report.json")).exists();
        }
    }

    /**
     * A restore setting, reactive mode where a keyshift stage runs, and a web UI port in use are refused by every
     * command that runs its jobs locally, before an earlier run's output is removed: bench, forecast-bench and
     * bootstrap took them (a restore into every job; reactive mode refused only as the stage was built; the port
     * failed the first run), exit 1 after --overwrite had cleared the earlier run.
     */
    @Test
    void restoreSettingsReactiveModeAndAPortInUseAreRefusedByEveryLocalCommand(@TempDir Path dir) throws Exception {
        Path b = Files.createDirectories(dir.resolve("b"));
        Files.writeString(b.resolve("bench.json"), "{}\n");
        Path f = Files.createDirectories(dir.resolve("f"));
        Files.writeString(f.resolve("forecast.json"), "{}\n");
        Path r = Files.createDirectories(dir.resolve("r"));
        Files.writeString(r.resolve("report.json"), "{}\n");
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            String[][] options = {
                {"-Dexecution.state-recovery.path=" + dir.resolve("sp"), "execution.state-recovery.path"},
                {"-Dexecution.savepoint.path=" + dir.resolve("sp"), "execution.savepoint.path"},
                {"-Dscheduler-mode=reactive", "does not run under Flink's reactive mode"},
                {"-Drest.port=" + taken.getLocalPort(), "already listens on port " + taken.getLocalPort()}};
            for (String[] o : options) {
                List<CliRun> runs = List.of(
                        run("replay", o[0], "--overwrite", "--out", r.toString(), "--config", conf()),
                        run("bench", o[0], "--overwrite", "--out", b.toString(), "--config", conf(), "--records",
                                "1000", "--service-times", "0", "--keys-distributions", "uniform", "--repetitions",
                                "1"),
                        run("forecast-bench", o[0], "--input", "generator", "--overwrite", "--out", f.toString(),
                                "--config", conf()),
                        run("bootstrap", o[0], "--input", "generator", "--out", dir.resolve("sp-new").toString(),
                                "--config", conf()),
                        // its job and its hash reference run after the soak (whose web UI binds config.yaml's port,
                        // below: the soak's own cluster takes a free one)
                        o[0].startsWith("-Drest.port") ? run("replay", o[0], "--out", r.toString(), "--config", conf())
                                : run("soak", o[0], "--window", "1d", "--minutes", "5", "--out",
                                dir.resolve("s").toString(), "--config", conf()));
                for (CliRun run : runs) {
                    assertThat(run.exit()).as(o[0] + ": " + run.err()).isEqualTo(2);
                    assertThat(run.err()).as(o[0]).contains(o[1]);
                }
                assertThat(b.resolve("bench.json")).exists();
                assertThat(f.resolve("forecast.json")).exists();
                assertThat(r.resolve("report.json")).exists();
                assertThat(dir.resolve("sp-new")).doesNotExist();
                assertThat(dir.resolve("s")).doesNotExist();
            }
            Path portConf = Files.createDirectories(dir.resolve("port-conf"));
            Files.writeString(portConf.resolve("config.yaml"), Files.readString(SharedData.flinkConf()
                    .resolve("config.yaml")) + "\nrest.port: " + taken.getLocalPort() + "\n");
            CliRun soak = run("soak", "--window", "1d", "--minutes", "5", "--out", dir.resolve("s").toString(),
                    "--config", portConf.toString());
            assertThat(soak.exit()).as(soak.err()).isEqualTo(2);
            assertThat(soak.err()).contains("already listens on port " + taken.getLocalPort());
            assertThat(dir.resolve("s")).doesNotExist();
        }
        // local recovery tunes a failover and restores nothing: it passes (it was refused as a restore setting)
        CliRun local = run("replay", "-Dexecution.state-recovery.from-local=true", "--strategies", "hash",
                "--generator-records", "2000", "--out", dir.resolve("local").toString(), "--config", conf());
        assertThat(local.exit()).as(local.err()).isZero();
    }

    /** The warning comes once per key (a command loads its configuration twice: to check the window, then with it). */
    @Test
    void aMisspelledFlinkKeyIsWarnedOfOnce(@TempDir Path dir) {
        CliRun r = run("replay", "-Dexecution.checkpointing.intervall=1s", "--window", "1ms", "--out",
                dir.resolve("r").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err().split("did you mean execution.checkpointing.interval", -1)).as(r.err()).hasSize(2);
    }

    @Test
    void anInputFileInOutUnderAReplaysOwnNameIsRefusedAndKeptEvenWithOverwrite(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("out"));
        Path control = out.resolve("control-predictive.csv");
        Files.writeString(control, "2026-01-05T00:00:00Z,freeze\n");
        CliRun r = run("replay", "--control", control.toString(), "--out", out.toString(),
                "--generator-records", "2000", "--strategies", "predictive", "--overwrite", "--config", conf());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("--control").contains("control-predictive.csv").contains("move it out of --out");
        assertThat(control).hasContent("2026-01-05T00:00:00Z,freeze");
    }

    /**
     * forecast-bench --overwrite with its --input under a name it clears (dead-letters.csv) deleted the user's file
     * and then failed naming only the path: refused, the file kept. A replay into a forecast-bench's output is
     * refused as forecast-bench's into a replay's is, not written beside it.
     */
    @Test
    void forecastBenchKeepsAnInputInOutAndAReplayIsNotWrittenBesideItsOutput(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("fb"));
        Path input = out.resolve("dead-letters.csv");
        Files.writeString(input, "key,time\nk1,2014-01-01 00:00:00\n");
        CliRun r = run("forecast-bench", "--input", input.toString(), "--key", "key", "--time", "time",
                "--out", out.toString(), "--overwrite", "--config", conf());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("--input").contains("move it out of --out");
        assertThat(input).hasContent("key,time\nk1,2014-01-01 00:00:00\n");

        Path earlier = Files.createDirectories(dir.resolve("earlier"));
        Files.writeString(earlier.resolve("forecast.json"), "{}");
        CliRun replay = run("replay", "--generator-records", "2000", "--strategies", "hash", "--out",
                earlier.toString(), "--config", conf());
        assertThat(replay.exit()).as(replay.err()).isEqualTo(2);
        assertThat(replay.err()).contains("forecast.json");
    }

    /**
     * forecast-bench under the cluster job's scaling bounds (a shared config.yaml) runs without scaling, as bootstrap
     * does: its profiling stage at --parallelism 2 was refused below min-parallelism 4 once the input had been read
     * and the earlier forecast.json removed (exit 1).
     */
    @Test
    void forecastBenchRunsWithoutTheJobsScaling(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("fb"));
        Files.writeString(out.resolve("forecast.json"), "{}");
        StringBuilder csv = new StringBuilder("key,time\n");
        for (int i = 0; i < 2000; i++) {
            csv.append("k").append(i % 7).append(',').append(java.time.Instant.parse("2026-01-05T00:00:00Z")
                    .plusSeconds(i * 90L)).append('\n');
        }
        Path input = Files.writeString(dir.resolve("in.csv"), csv);
        CliRun r = run("forecast-bench", "--input", input.toString(), "--key", "key", "--time", "time",
                "--parallelism", "2", "--out", out.toString(), "--overwrite", "--config", conf(),
                "-Dkeyshift.scaling.capacity=100",
                "-Dkeyshift.scaling.min-parallelism=4");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve("forecast.json").toFile())
                .path("models").size()).isPositive();
    }

    /**
     * A file without a header row read without --columns takes its first record for the header: under a key secret
     * the unknown-column message printed that record's key; now it names no header value (without a secret it does).
     */
    @Test
    void anUnknownColumnUnderAKeySecretPrintsNoHeaderValue(@TempDir Path dir) throws Exception {
        Path input = Files.writeString(dir.resolve("trips.csv"), "Market at 4th,2014-01-01 08:14:00\n"
                + "Townsend at 7th,2014-01-01 08:15:00\n");
        CliRun secret = run("replay", "--input", input.toString(), "--key", "station", "--time", "t",
                "--out", dir.resolve("a").toString(), "--config", conf(),
                "-Dkeyshift.privacy.key-secret=cli-test-secret-0123456");
        assertThat(secret.exit()).as(secret.err()).isEqualTo(2);
        assertThat(secret.err()).contains("--key: unknown column 'station'").contains("--columns")
                .doesNotContain("Market at 4th");
        CliRun plain = run("replay", "--input", input.toString(), "--key", "station", "--time", "t",
                "--out", dir.resolve("b").toString(), "--config", conf());
        assertThat(plain.exit()).as(plain.err()).isEqualTo(2);
        assertThat(plain.err()).contains("(columns: Market at 4th, 2014-01-01 08:14:00)");
    }

    /**
     * A --strategy reactive job's savepoint (its forecaster the naive model alone, an option the job sets itself) is
     * inspected with the job's window and no -D: it was refused as a restore "with the candidate models [naive]",
     * exit 1, and the plan and state sizes were not printed.
     */
    @Test
    void aReactiveJobsSavepointIsInspectedWithoutItsModelGiven(@TempDir Path dir) throws Exception {
        org.apache.flink.configuration.Configuration reactive = new org.apache.flink.configuration.Configuration();
        reactive.set(io.keyshift.config.JobOptions.WINDOW, java.time.Duration.ofHours(1));
        io.keyshift.jobs.replay.Workload.reacting(reactive);
        io.keyshift.forecast.LoadForecastEngine.Settings naive =
                io.keyshift.config.KeyshiftConfig.forecastSettings(reactive, 128);
        List<io.keyshift.profiler.WindowProfile> profiles = new java.util.ArrayList<>();
        for (int t = 0; t < 5; t++) {
            io.keyshift.profiler.WindowProfile p = io.keyshift.profiler.WindowProfile.empty(t * 3_600_000L,
                    (t + 1) * 3_600_000L, 128, 1.0);
            p.keyGroupCounts[7] = 100 + t;
            p.records = 100 + t;
            profiles.add(p);
        }
        Path sp = dir.resolve("sp");
        io.keyshift.savepoint.ForecasterBootstrap.write(io.keyshift.savepoint.ForecasterBootstrap.train(profiles,
                naive), sp.toUri().toString(), 128, "keyshift");
        java.io.PrintStream stdout = System.out;
        java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
        CliRun r;
        try {
            // (the command prints the report to System.out)
            System.setOut(new java.io.PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8));
            r = run("inspect-savepoint", sp.toString(), "--window", "1h", "--json", "--config", conf());
        } finally {
            System.setOut(stdout);
        }
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(printed.toString(java.nio.charset.StandardCharsets.UTF_8)).contains("\"naive\"");
        // with a --window that does not fit, as any savepoint: exit 2 naming the one that does (exit 1, a restore's)
        CliRun wrong = run("inspect-savepoint", sp.toString(), "--window", "2h", "--json", "--config", conf());
        assertThat(wrong.exit()).as(wrong.err()).isEqualTo(2);
        assertThat(wrong.err()).contains("inspect it with --window 1h");
    }

    /**
     * A replay given -Drest.bind-port prints the web UI's address there: it printed the runner's own rest.port, where
     * nothing listened (Flink binds rest.bind-port whatever rest.port says).
     */
    @Test
    void aReplayWithARestBindPortPrintsTheWebUiThere(@TempDir Path dir) throws Exception {
        int port = io.keyshift.jobs.cluster.StandaloneCluster.freeLoopbackPort();
        java.io.PrintStream stderr = System.err;
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
        CliRun r;
        try {
            // (the replay's log goes to System.err)
            System.setErr(new java.io.PrintStream(log, true, java.nio.charset.StandardCharsets.UTF_8));
            r = run("replay", "--generator-records", "2000", "--strategies", "hash", "--out",
                    dir.resolve("o").toString(), "--config", conf(), "-Drest.bind-port=" + port);
        } finally {
            System.setErr(stderr);
        }
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(log.toString(java.nio.charset.StandardCharsets.UTF_8))
                .contains("web UI with the keyshift metrics while it runs: http://127.0.0.1:" + port + "\n");
    }

    @Test
    void anInputsOptionsWithoutInputAndTheGeneratorsWithInputAreRefused(@TempDir Path dir) throws Exception {
        CliRun noInput = run("replay", "--key", "key", "--time", "ts", "--out", dir.resolve("a").toString(),
                "--config", conf());
        assertThat(noInput.exit()).as(noInput.err()).isEqualTo(2);
        assertThat(noInput.err()).contains("--key").contains("there is none");
        assertThat(dir.resolve("a/report.json")).doesNotExist();

        Path in = csv(dir, "key,ts\na,2024-03-01T00:00:00Z\n");
        CliRun withGenerator = run("replay", "--input", in.toString(), "--key", "key", "--time", "ts",
                "--generator-keys", "5", "--out", dir.resolve("b").toString(), "--config", conf());
        assertThat(withGenerator.exit()).as(withGenerator.err()).isEqualTo(2);
        assertThat(withGenerator.err()).contains("--generator-keys").contains("does not run with --input");
    }

    /**
     * A header row with an unclosed quote ended in exit 1 naming neither option nor file; a --window that splits the
     * bench's or the soak's event time into millions of planning windows was taken (replay refused it).
     */
    @Test
    void aHeaderThatIsNotCsvAndMillionsOfWindowsAreRefusedNamingThem(@TempDir Path dir) throws Exception {
        Path in = csv(dir, "\"key,time\nk1,2014-01-01 00:00:00\n");
        CliRun header = run("replay", "--input", in.toString(), "--key", "key", "--time", "time", "--out",
                dir.resolve("o").toString(), "--config", conf());
        assertThat(header.exit()).as(header.err()).isEqualTo(2);
        assertThat(header.err()).contains("--input").contains(in.toString()).contains("header row is not a CSV row");
        assertThat(header.err().strip().lines()).hasSize(1);
        CliRun bench = run("bench", "--window", "1ms", "--out", dir.resolve("b").toString(), "--config", conf());
        assertThat(bench.exit()).as(bench.err()).isEqualTo(2);
        assertThat(bench.err()).contains("--window 1 ms").contains("planning windows, more than 1,000,000");
        CliRun soak = run("soak", "--window", "1ms", "--out", dir.resolve("s").toString(), "--config", conf());
        assertThat(soak.exit()).as(soak.err()).isEqualTo(2);
        assertThat(soak.err()).contains("planning windows, more than 1,000,000");
    }

    /** savepoint --target "" (an unset shell variable) wrote the savepoint into the working directory. */
    @Test
    void anEmptySavepointTargetIsRefused() {
        CliRun r = run("savepoint", "0123456789abcdef0123456789abcdef", "--target", "", "--rest",
                "http://127.0.0.1:1");
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("--target is empty");
    }

    /**
     * -Dparallelism.default where --parallelism sets every run's, and replay's checkpoint or savepoint directory:
     * refused (each was ignored without a word).
     */
    @Test
    void aDefaultParallelismGivenAsDashDIsRefusedWhereParallelismSetsIt(@TempDir Path dir) throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("out"), "");
        for (String command : java.util.List.of("replay", "forecast-bench", "soak")) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(command,
                    "-Dparallelism.default=8", "--out", notADirectory.toString(), "--config", conf()));
            if (command.equals("soak")) {
                args.addAll(java.util.List.of("--minutes", "5"));
            } else if (command.equals("replay")) {
                args.addAll(java.util.List.of("--generator-records", "2000"));
            }
            CliRun r = run(args.toArray(String[]::new));
            assertThat(r.exit()).as(command + ": " + r.err()).isEqualTo(2);
            assertThat(r.err()).as(command).contains("-Dparallelism.default: this command takes the parallelism "
                    + "from --parallelism");
        }
        // replay's checkpoint and savepoint directories: under --out/.work (the -D was ignored too)
        for (String key : java.util.List.of("execution.checkpointing.dir", "execution.checkpointing.savepoint-dir",
                "state.checkpoints.dir")) {
            CliRun r = run("replay", "--generator-records", "2000", "-D" + key + "=file:///tmp/elsewhere", "--out",
                    notADirectory.toString(), "--config", conf());
            assertThat(r.exit()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).contains("-D" + key + ": replay keeps each run's checkpoints and savepoints under");
        }
    }

    /**
     * Options that depend on the window are checked against --window, not first against config.yaml's window or the
     * default hour: a calendar whose reference days reach 4,201 daily windows (100,801 hourly ones) was refused as
     * "windows of keyshift.window PT1H" under --window 1d.
     */
    @Test
    void windowDependentOptionsAreCheckedAgainstTheWindowGiven(@TempDir Path dir) throws Exception {
        Path calendar = Files.writeString(dir.resolve("cal.csv"), "2026-01-06,holiday\n");
        Path notADirectory = Files.writeString(dir.resolve("out"), "");
        CliRun r = run("replay", "--generator-records", "2000", "--window", "1d", "--out", notADirectory.toString(),
                "-Dkeyshift.forecast.calendar=" + calendar, "-Dkeyshift.forecast.calendar.reference-days=600",
                "--config", conf());
        // past the calendar's check, to the next option's
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).doesNotContain("reference-days").contains("--out");
        CliRun soak = run("soak", "--window", "1d", "--minutes", "5", "--out", notADirectory.toString(),
                "-Dkeyshift.forecast.calendar=" + calendar, "-Dkeyshift.forecast.calendar.reference-days=600",
                "--config", conf());
        assertThat(soak.exit()).as(soak.err()).isEqualTo(2);
        assertThat(soak.err()).doesNotContain("reference-days");
        CliRun hourly = run("replay", "--generator-records", "2000", "--window", "1h", "--out",
                notADirectory.toString(), "-Dkeyshift.forecast.calendar=" + calendar,
                "-Dkeyshift.forecast.calendar.reference-days=600", "--config", conf());
        assertThat(hourly.err()).contains("keyshift.forecast.calendar.reference-days 600 reaches");
    }

    /**
     * A control file that does not read as its suffix says (a plain file named .gz; an .xz, whose library keyshift
     * does not ship) failed only when the keyshift job was built: after the hash strategy had run and --overwrite had
     * cleared the earlier output, with "ZipException: Not in GZIP format" or a NoClassDefFoundError (exit 1).
     */
    @Test
    void aControlFileThatDoesNotReadAsItsSuffixSaysIsRefusedBeforeAnyJob(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("o");
        Files.createDirectories(out);
        Files.writeString(out.resolve("report.json"), "{}");
        Path fakeGz = dir.resolve("c.csv.gz");
        Files.writeString(fakeGz, "2026-01-05T00:00:00Z,freeze\n");
        Path xz = dir.resolve("c.csv.xz");
        Files.write(xz, new byte[] {(byte) 0xFD, '7', 'z', 'X', 'Z', 0x00, 0, 4, (byte) 0xE6, (byte) 0xD6});
        for (Path control : java.util.List.of(fakeGz, xz)) {
            CliRun r = run("replay", "--generator-records", "2000", "--strategies", "hash,predictive", "--control",
                    control.toString(), "--out", out.toString(), "--overwrite", "--config", conf());
            assertThat(r.exit()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).contains("--control: " + control);
            assertThat(out.resolve("report.json")).hasContent("{}");
            assertThat(out.resolve(".work")).doesNotExist();
        }
        // bzip2 reads (commons-compress): accepted
        Path bz2 = dir.resolve("c.csv.bz2");
        try (var o = new org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream(
                Files.newOutputStream(bz2))) {
            o.write("2026-01-05T00:00:00Z,freeze\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        io.keyshift.jobs.replay.Workload.checkControlFile(bz2);
    }

    /**
     * Files of the wrong kind: a bzip2 input printed its binary header as the columns; a file with gzip's magic that
     * is not gzip named no file; an empty file given to inspect-savepoint printed "EOFException: null".
     */
    @Test
    void filesOfTheWrongKindAreNamedForWhatTheyAre(@TempDir Path dir) throws Exception {
        Path bz2 = dir.resolve("in.csv.bz2");
        Files.write(bz2, new byte[] {'B', 'Z', 'h', '9', '1', 'A', 'Y', '&', 'S', 'Y'});
        CliRun r = run("replay", "--input", bz2.toString(), "--key", "key", "--time", "time", "--out",
                dir.resolve("o").toString(), "--config", conf());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains(bz2 + " is compressed with bzip2: only gzip is read");
        Path fake = dir.resolve("in.csv.gz");
        Files.write(fake, new byte[] {0x1f, (byte) 0x8b, 'n', 'o', 't'});
        CliRun g = run("replay", "--input", fake.toString(), "--key", "key", "--time", "time", "--out",
                dir.resolve("o").toString(), "--config", conf());
        assertThat(g.exit()).as(g.err()).isEqualTo(2);
        assertThat(g.err()).contains(fake + " starts as gzip but is not");
        // cut within the gzip header: it said "--input: null"
        Path cut = dir.resolve("cut.csv.gz");
        Files.write(cut, new byte[] {0x1f, (byte) 0x8b, 8, 0, 0});
        CliRun c = run("replay", "--input", cut.toString(), "--key", "key", "--time", "time", "--out",
                dir.resolve("o").toString(), "--config", conf());
        assertThat(c.exit()).as(c.err()).isEqualTo(2);
        assertThat(c.err()).contains(cut + " starts as gzip but is not (it ends within the gzip header)");
        // a Parquet file printed its bytes as the columns; a UTF-16 CSV (Excel's "Unicode Text") the same, or with
        // CRLF line ends "2 records in one row", naming no file
        Path parquet = dir.resolve("in.parquet");
        Files.write(parquet, new byte[] {'P', 'A', 'R', '1', 0x15, 0x04, (byte) 0x94, (byte) 0xc3, 0x01, '\n'});
        Path utf16 = dir.resolve("utf16.csv");
        Files.write(utf16, "key,time\r\na,2026-01-05T00:00:00Z\r\n".getBytes(java.nio.charset.StandardCharsets.UTF_16LE));
        Path utf16Bom = dir.resolve("utf16-bom.csv");
        Files.write(utf16Bom, "\uFEFFkey,time\na,2026-01-05T00:00:00Z\n".getBytes(java.nio.charset.StandardCharsets.UTF_16LE));
        for (Path notText : java.util.List.of(parquet, utf16, utf16Bom)) {
            CliRun t = run("replay", "--input", notText.toString(), "--key", "key", "--time", "time", "--out",
                    dir.resolve("o").toString(), "--config", conf());
            assertThat(t.exit()).as(t.err()).isEqualTo(2);
            assertThat(t.err()).contains(notText + ": line 1 (the header row) is not UTF-8 text").hasLineCount(1);
        }
        assertThat(dir.resolve("o")).doesNotExist();
        Path empty = Files.createFile(dir.resolve("empty"));
        CliRun i = run("inspect-savepoint", empty.toString(), "--config", conf());
        assertThat(i.exit()).as(i.err()).isEqualTo(2);
        assertThat(i.err()).contains("is not a Flink savepoint or checkpoint").doesNotContain("EOFException");
        // metadata cut short after Flink's magic number: one line naming it (it was "EOFException: null", exit 1)
        Path cutShort = Files.createDirectories(dir.resolve("cut-savepoint"));
        Files.write(cutShort.resolve("_metadata"), new byte[] {0x49, 0x60, 0x67, 0x2d, 0, 0});
        CliRun truncated = run("inspect-savepoint", cutShort.toString(), "--config", conf());
        assertThat(truncated.exit()).as(truncated.err()).isEqualTo(2);
        assertThat(truncated.err()).contains("is not a readable Flink savepoint or checkpoint")
                .contains("metadata ends early").doesNotContain("EOFException").hasLineCount(1);
        // a path that does not exist, a directory without metadata, and the same with bootstrap --onto: exit 2,
        // before any input is read (inspect-savepoint ended with exit 1 and Flink's words)
        CliRun missing = run("inspect-savepoint", dir.resolve("no-such-savepoint").toString(), "--config", conf());
        assertThat(missing.exit()).as(missing.err()).isEqualTo(2);
        assertThat(missing.err()).contains("PATH: no such savepoint directory or file");
        // a uid prefix no stage can have, before the savepoint is read (it ended as a stage not found, exit 1)
        CliRun prefix = run("inspect-savepoint", dir.resolve("no-such-savepoint").toString(), "--uid-prefix",
                "clicks ", "--config", conf());
        assertThat(prefix.exit()).as(prefix.err()).isEqualTo(2);
        assertThat(prefix.err()).contains("--uid-prefix must be letters, digits").contains("was 'clicks '");
        Path noMetadata = Files.createDirectories(dir.resolve("2024-05-01T10:00"));
        CliRun colon = run("inspect-savepoint", noMetadata.getFileName().toString(), "--config", conf());
        assertThat(colon.exit()).as(colon.err()).isEqualTo(2);
        assertThat(colon.err()).contains("no such savepoint directory or file");
        // the file: URI that bin/keyshift savepoint prints is a local path too (it went to Flink: exit 1)
        CliRun uri = run("inspect-savepoint", "file:" + dir.resolve("no-such-savepoint"), "--config", conf());
        assertThat(uri.exit()).as(uri.err()).isEqualTo(2);
        assertThat(uri.err()).contains("PATH: no such savepoint directory or file");
        // a relative name with a colon is a local path, not a URI (the former rule took backup-...:00 for a scheme)
        assertThat(FlinkOptions.isUri("backup-2024-05-01T10:00")).isFalse();
        assertThat(FlinkOptions.isUri("backup:2024")).isFalse();
        assertThat(FlinkOptions.isUri("file:/tmp/sp")).isTrue();
        assertThat(FlinkOptions.isUri("s3://bucket/sp")).isTrue();
        CliRun bare = run("inspect-savepoint", noMetadata.toString(), "--config", conf());
        assertThat(bare.exit()).as(bare.err()).isEqualTo(2);
        assertThat(bare.err()).contains("is not a Flink savepoint or checkpoint: no " + noMetadata.resolve("_metadata"));
        Files.createFile(noMetadata.resolve("_metadata"));
        CliRun onto = run("bootstrap", "--input", csv(dir, "key,time\na,2026-01-05T00:00:00Z\n").toString(),
                "--key", "key", "--time", "time", "--out", dir.resolve("sp").toString(), "--onto",
                noMetadata.toString(), "--config", conf());
        assertThat(onto.exit()).as(onto.err()).isEqualTo(2);
        assertThat(onto.err()).contains("--onto").contains("has 0 bytes").doesNotContain("null");
    }

    /**
     * replay and forecast-bench --overwrite given an input whose every row is a dead letter (here a --time-format
     * that fits no row) keep the earlier run's output: they cleared it, then refused the input, leaving nothing.
     */
    @Test
    void anInputOfDeadLettersOnlyKeepsTheEarlierOutputUnderOverwrite(@TempDir Path dir) throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.csv"), "k,t\na,2014-01-01 00:00:00\nb,2014-01-01 00:01:00\n");
        for (String command : java.util.List.of("replay", "forecast-bench")) {
            Path out = Files.createDirectories(dir.resolve(command));
            String own = command.equals("replay") ? "report.json" : "forecast.json";
            Files.writeString(out.resolve(own), "{}");
            Files.writeString(out.resolve("dead-letters.csv"), "raw_line,line_number,reason\n");
            CliRun r = run(command, "--input", bad.toString(), "--key", "k", "--time", "t", "--time-format",
                    "dd/MM/yyyy", "--out", out.toString(), "--overwrite", "--config", conf());
            assertThat(r.exit()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).contains("has no valid row (2 dead letters; the first: ")
                    .contains("stays as it was").doesNotContain("Exception");
            assertThat(out.resolve(own)).hasContent("{}");
            assertThat(out.resolve("dead-letters.csv")).hasContent("raw_line,line_number,reason\n");
            try (var left = Files.list(out)) {
                assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder(own,
                        "dead-letters.csv");
            }
        }
        // where --out holds only what a killed run left (its sorted input, its dead letters), no earlier output is
        // kept: this run's dead letters replace them, and no --overwrite is spoken of
        Path killed = Files.createDirectories(dir.resolve("killed"));
        Files.writeString(killed.resolve(".events.bin"), "");
        Files.writeString(killed.resolve("dead-letters.csv"), "raw_line,line_number,reason\n");
        CliRun r = run("replay", "--input", bad.toString(), "--key", "k", "--time", "t", "--time-format",
                "dd/MM/yyyy", "--out", killed.toString(), "--config", conf());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("has no valid row").doesNotContain("stays as it was");
        assertThat(Files.readAllLines(killed.resolve("dead-letters.csv"))).hasSize(3);
    }

    @Test
    void aDirectoryAsInputIsRefusedBeforeAnEarlierRunIsCleared(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.writeString(out.resolve("report.json"), "{}");
        Path notAFile = Files.createDirectories(dir.resolve("adir"));
        CliRun r = run("replay", "--input", notAFile.toString(), "--columns", "id,key,ts", "--key", "key",
                "--time", "ts", "--out", out.toString(), "--overwrite", "--config", conf());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("--input: not a readable file");
        assertThat(out.resolve("report.json")).hasContent("{}");
    }

    /** An --out that cannot be created says why (a file system error's message is often the path alone). */
    @Test
    void anOutThatCannotBeCreatedSaysWhy(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("afile"), "x");
        CliRun r = run("replay", "--generator-records", "100", "--out", file.resolve("sub").toString(),
                "--config", conf());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        // (a permission denied, whose exception's message is the path alone, cannot be brought about as root)
        assertThat(r.err()).contains("--out: cannot create " + file.resolve("sub") + " (" + file.resolve("sub")
                + ": Not a directory)").doesNotContain("Exception");
    }

    @Test
    void nonFiniteAndOutOfRangeNumbersAreRefusedNamingTheOption(@TempDir Path dir) throws IOException {
        // a billion keys ran the JVM out of heap (the generator's table), naming no option, exit 1
        CliRun keys = run("replay", "--generator-keys", "1000000000", "--out", dir.resolve("k").toString(),
                "--config", conf());
        assertThat(keys.exit()).as(keys.err()).isEqualTo(2);
        assertThat(keys.err()).contains("--generator-keys must be in 1..20,000,000, was 1000000000");
        assertThat(dir.resolve("k")).doesNotExist();
        CliRun zipf = run("replay", "--generator-zipf", "Infinity", "--out", dir.resolve("z").toString(),
                "--config", conf());
        assertThat(zipf.exit()).isEqualTo(2);
        assertThat(zipf.err()).contains("--generator-zipf");
        // a huge peak factor made the night rate so low that event times overflowed (the job failed later, on a time
        // near the end of time)
        CliRun peak = run("replay", "--generator-peak-factor", "1e200", "--out", dir.resolve("p").toString(),
                "--config", conf());
        assertThat(peak.exit()).isEqualTo(2);
        assertThat(peak.err()).contains("--generator-peak-factor").contains("1..1000");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new io.keyshift.jobs.source.ZipfDriftGenerator(
                        10, 0, 1, 10, 1.1, 0, 1, 0, 1e200))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("peak factor in [1, 1000]");
        CliRun rate = run("replay", "--rate", "NaN", "--out", dir.resolve("r").toString(), "--config", conf());
        assertThat(rate.exit()).isEqualTo(2);
        assertThat(rate.err()).contains("--rate");
        CliRun maxP = run("replay", "-Dpipeline.max-parallelism=0", "--out", dir.resolve("m").toString(),
                "--config", conf());
        assertThat(maxP.exit()).isEqualTo(2);
        assertThat(maxP.err()).contains("pipeline.max-parallelism").contains("1..32768");
        CliRun backend = run("replay", "-Dstate.backend.type=nosuch", "--out", dir.resolve("sb").toString(),
                "--config", conf());
        assertThat(backend.exit()).isEqualTo(2);
        assertThat(backend.err()).contains("'state.backend.type' must be hashmap, rocksdb, forst");
        // ForSt and a factory class keyshift does not ship: a ClassNotFoundException naming no option once the first
        // job started, after --overwrite had cleared the earlier output
        for (String backendName : java.util.List.of("forst", "com.example.NoSuchStateBackendFactory")) {
            CliRun missing = run("replay", "-Dstate.backend.type=" + backendName, "--out",
                    dir.resolve("sb").toString(), "--config", conf());
            assertThat(missing.exit()).as(missing.err()).isEqualTo(2);
            assertThat(missing.err()).contains("'state.backend.type' is '" + backendName + "'")
                    .contains("not on keyshift's class path");
        }
        // the soak's and cluster start's clusters run from keyshift's class path too
        Path forstConf = Files.createDirectories(dir.resolve("conf-forst"));
        Files.writeString(forstConf.resolve("config.yaml"), Files.readString(SharedData.flinkConf()
                .resolve("config.yaml")).replaceAll("(?m)^state\\.backend\\.type:.*$", "") + "\nstate.backend.type: forst\n");
        for (String[] args : new String[][] {{"soak", "--config", forstConf.toString(), "--out",
                dir.resolve("soak-forst").toString()}, {"cluster", "start", "--config", forstConf.toString(),
                "--dir", dir.resolve("cluster-forst").toString()}}) {
            CliRun forst = run(args);
            assertThat(forst.exit()).as(args[0] + ": " + forst.err()).isEqualTo(2);
            assertThat(forst.err()).as(args[0]).contains("'state.backend.type' is 'forst'");
            assertThat(dir.resolve(args[0].equals("soak") ? "soak-forst" : "cluster-forst")).doesNotExist();
        }
        // Flink's restart strategy and slots, which Flink checks only when the first job starts (a stack trace and
        // exit 1, after --overwrite had cleared an earlier run's output)
        CliRun restart = run("replay", "-Drestart-strategy.type=bogus", "--out", dir.resolve("rs").toString(),
                "--config", conf());
        assertThat(restart.exit()).as(restart.err()).isEqualTo(2);
        assertThat(restart.err()).contains("restart-strategy.*: bogus is an unknown value");
        assertThat(dir.resolve("rs")).doesNotExist();
        // attempts without a type: the local runs' fixed-delay default takes them
        CliRun attempts = run("replay", "-Drestart-strategy.fixed-delay.attempts=-1", "--out",
                dir.resolve("ra").toString(), "--config", conf());
        assertThat(attempts.exit()).as(attempts.err()).isEqualTo(2);
        assertThat(attempts.err())
                .contains("restart-strategy.*: Maximum number of restart attempts must be at least 0");
        // checkpointing settings Flink checks when the environment takes them (its message names no key)
        for (String[] bad : new String[][] {{"execution.checkpointing.interval=5ms", "'execution.checkpointing.interval'"},
            {"execution.checkpointing.max-concurrent-checkpoints=0",
                "'execution.checkpointing.max-concurrent-checkpoints'"},
            {"execution.checkpointing.tolerable-failed-checkpoints=-1",
                "'execution.checkpointing.tolerable-failed-checkpoints'"},
            // two at fault: the one whose failure Flink reports is named, with its own message
            {"execution.checkpointing.timeout=5ms -Dexecution.checkpointing.max-concurrent-checkpoints=0",
                "'execution.checkpointing.timeout': Checkpoint timeout must be"}}) {
            Path out = dir.resolve("cp-" + bad[0].hashCode());
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("replay"));
            for (String d : bad[0].split(" -D")) {
                args.add("-D" + d);
            }
            args.addAll(java.util.List.of("--out", out.toString(), "--config", conf()));
            CliRun cp = run(args.toArray(String[]::new));
            assertThat(cp.exit()).as(cp.err()).isEqualTo(2);
            assertThat(cp.err()).contains(bad[1]).doesNotContain("\tat ");
            assertThat(out).doesNotExist();
        }
        CliRun slots = run("replay", "-Dtaskmanager.numberOfTaskSlots=0", "--out", dir.resolve("ts").toString(),
                "--config", conf());
        assertThat(slots.exit()).as(slots.err()).isEqualTo(2);
        assertThat(slots.err()).contains("'taskmanager.numberOfTaskSlots' must be >= 1");
        // no periodic watermarks: no window would fire and no plan come (a Kafka input waited without a word)
        CliRun noWatermarks = run("replay", "-Dpipeline.auto-watermark-interval=0", "--out",
                dir.resolve("wm").toString(), "--config", conf());
        assertThat(noWatermarks.exit()).as(noWatermarks.err()).isEqualTo(2);
        assertThat(noWatermarks.err()).contains("'pipeline.auto-watermark-interval' must be at least 1ms")
                .doesNotContain("\tat ");
        assertThat(dir.resolve("wm")).doesNotExist();
        // the scaled runs' sources wait for each window's decision, the plan for the validation beyond it: for ever
        CliRun hang = run("replay", "--scale", "predictive", "-Dkeyshift.scaling.capacity=2000",
                "-Dkeyshift.scaling.max-parallelism=8", "-Dkeyshift.migration.on-mismatch=REVERT",
                "-Dkeyshift.plan.lease-lead=3", "--out", dir.resolve("hang").toString(), "--config", conf());
        assertThat(hang.exit()).as(hang.err()).isEqualTo(2);
        assertThat(hang.err()).contains("keyshift.plan.lease-lead (3) at most keyshift.migration.on-mismatch"
                + ".lag-windows (2)");
        CliRun batch = run("replay", "-Dexecution.runtime-mode=BATCH", "--out", dir.resolve("bm").toString(),
                "--config", conf());
        assertThat(batch.exit()).as(batch.err()).isEqualTo(2);
        assertThat(batch.err()).contains("'execution.runtime-mode' must be STREAMING");
        assertThat(dir.resolve("bm")).doesNotExist();
        CliRun bench = run("bench", "--zipf", "-1", "--out", dir.resolve("b").toString(), "--config", conf());
        assertThat(bench.exit()).isEqualTo(2);
        assertThat(bench.err()).contains("--zipf");
        CliRun benchP = run("bench", "--parallelism", "200", "--out", dir.resolve("p").toString(), "--config", conf());
        assertThat(benchP.exit()).isEqualTo(2);
        assertThat(benchP.err()).contains("--parallelism").contains("128");
        CliRun soak = run("soak", "--rate", "1", "--minutes", "0.001", "--out", dir.resolve("s").toString());
        assertThat(soak.exit()).isEqualTo(2);
        assertThat(soak.err()).contains("gives no record").doesNotContain("--generator-records");
        // below a record a second a source subtask sleeps for minutes per record: in effect a hang
        CliRun slowSoak = run("soak", "--rate", "0.001", "--minutes", "1", "--out", dir.resolve("s2").toString());
        assertThat(slowSoak.exit()).isEqualTo(2);
        assertThat(slowSoak.err()).contains("--rate at least 1 record/s");
        // a run whose event time would pass the year 9999: said of --rate and --minutes, before --out is made
        CliRun beyond9999 = run("soak", "--rate", "2400", "--minutes", "1000000", "--out", dir.resolve("s9").toString());
        assertThat(beyond9999.exit()).isEqualTo(2);
        assertThat(beyond9999.err()).contains("--rate 2400.0 over --minutes 1000000.0").contains("year 9999")
                .doesNotContain("--generator-days");
        assertThat(dir.resolve("s9")).doesNotExist();
        // a sampling interval as long as the run took no sample and named a soak.png it never drew (exit 0)
        CliRun unsampled = run("soak", "--minutes", "1", "--sample-every", "2min", "--out", dir.resolve("s3").toString(),
                "--config", conf());
        assertThat(unsampled.exit()).as(unsampled.err()).isEqualTo(2);
        assertThat(unsampled.err()).contains("--sample-every 2min must be shorter than --minutes");
        // samples back to back kept the cluster in full garbage collections
        CliRun busy = run("soak", "--minutes", "1", "--sample-every", "1s", "--out", dir.resolve("s5").toString(),
                "--config", conf());
        assertThat(busy.exit()).as(busy.err()).isEqualTo(2);
        assertThat(busy.err()).contains("--sample-every 1s must be at least 10 s");
        CliRun planned = run("plan-bench", "--repeats", "100000000", "--out", dir.resolve("pb").toString());
        assertThat(planned.exit()).as(planned.err()).isEqualTo(2);
        assertThat(planned.err()).contains("--repeats must be in 1..1000, was 100000000");
        // a hundred million minutes overflowed the run's time limit once the cluster had started
        CliRun endless = run("soak", "--minutes", "100000000", "--window", "30d", "--out",
                dir.resolve("s4").toString(), "--config", conf());
        assertThat(endless.exit()).as(endless.err()).isEqualTo(2);
        assertThat(endless.err()).contains("--minutes must be > 0 and at most 10,000,000");
        // a results path wider than the soak's TaskManager's slots waited and restarted until the soak's time limit
        CliRun wide = run("soak", "-Dkeyshift.results-path.parallelism=8", "--out", dir.resolve("s5").toString(),
                "--config", conf());
        assertThat(wide.exit()).as(wide.err()).isEqualTo(2);
        assertThat(wide.err()).contains("keyshift.results-path.parallelism 8 needs more slots");
        // the hash reference after the soak runs on a local cluster with config.yaml's slots
        Path fewSlotsConf = Files.createDirectories(dir.resolve("conf2"));
        Files.writeString(fewSlotsConf.resolve("config.yaml"), Files.readString(SharedData.flinkConf()
                .resolve("config.yaml")) + "\ntaskmanager.numberOfTaskSlots: 2\n");
        CliRun fewSoakSlots = run("soak", "--out", dir.resolve("s6").toString(), "--config", fewSlotsConf.toString());
        assertThat(fewSoakSlots.exit()).as(fewSoakSlots.err()).isEqualTo(2);
        assertThat(fewSoakSlots.err()).contains("taskmanager.numberOfTaskSlots 2 is fewer slots than --parallelism "
                + "(the hash reference");
        for (String s : List.of("s3", "s4", "s5", "s6")) {
            assertThat(dir.resolve(s)).doesNotExist();
        }
        // plan-bench's control path had no bound on its keys: a hundred million ran the JVM out of heap
        CliRun manyKeys = run("plan-bench", "--control-path", "--keys", "100000000", "--out",
                dir.resolve("pb").toString());
        assertThat(manyKeys.exit()).as(manyKeys.err()).isEqualTo(2);
        assertThat(manyKeys.err()).contains("--keys must be in 1..1,000,000");
        // within that range, more series than the heap holds: it ran out of heap after the whole forecast loop
        long perKey = io.keyshift.jobs.bench.ControlPathBench.heapNeeded(64, 2, 1800)
                - io.keyshift.jobs.bench.ControlPathBench.heapNeeded(64, 1, 1800);
        int heapTooMany = (int) Math.min(1_000_000, Runtime.getRuntime().maxMemory() / perKey + 1);
        if (io.keyshift.jobs.bench.ControlPathBench.heapNeeded(4096, heapTooMany, 1800)
                > Runtime.getRuntime().maxMemory()) {
            Files.createDirectories(dir.resolve("pb2"));
            Files.writeString(dir.resolve("pb2").resolve("control-path-bench.json"), "{}");
            CliRun heapKeys = run("plan-bench", "--control-path", "--keys", String.valueOf(heapTooMany), "--overwrite",
                    "--out", dir.resolve("pb2").toString());
            assertThat(heapKeys.exit()).as(heapKeys.err()).isEqualTo(2);
            assertThat(heapKeys.err()).contains(String.format("--keys %,d with --max-parallelism", heapTooMany))
                    .contains("KEYSHIFT_JAVA_OPTS=-Xmx");
            assertThat(dir.resolve("pb2").resolve("control-path-bench.json")).hasContent("{}");
        }
        // fewer slots than the job's parallelism: Flink waited minutes for them, then failed with exit 1
        CliRun fewSlots = run("replay", "-Dtaskmanager.numberOfTaskSlots=2", "--out", dir.resolve("slots").toString(),
                "--config", conf());
        assertThat(fewSlots.exit()).as(fewSlots.err()).isEqualTo(2);
        assertThat(fewSlots.err()).contains("taskmanager.numberOfTaskSlots 2 is fewer slots than --parallelism 4");
        // a results path set wider than the keyed stage needs its slots too (the keyshift run waited minutes for
        // them after hash's, then failed with exit 1)
        CliRun wideResults = run("replay", "--parallelism", "4", "-Dtaskmanager.numberOfTaskSlots=4",
                "-Dkeyshift.results-path.parallelism=8", "--out", dir.resolve("wide").toString(), "--config", conf());
        assertThat(wideResults.exit()).as(wideResults.err()).isEqualTo(2);
        assertThat(wideResults.err()).contains("taskmanager.numberOfTaskSlots 4 is fewer slots than "
                + "keyshift.results-path.parallelism (above --parallelism 4) 8");
        assertThat(dir.resolve("wide")).doesNotExist();
        // bootstrap's profiling job (parallelism 2) on one slot: the same wait, after the history was read
        CliRun bootstrapSlots = run("bootstrap", "-Dtaskmanager.numberOfTaskSlots=1", "--input",
                dir.resolve("nothing-read.csv").toString(), "--key", "k", "--time", "t", "--out",
                dir.resolve("bsp").toString(), "--config", conf());
        assertThat(bootstrapSlots.exit()).as(bootstrapSlots.err()).isEqualTo(2);
        assertThat(bootstrapSlots.err())
                .contains("taskmanager.numberOfTaskSlots 1 is fewer slots than the profiling job's parallelism 2");
        CliRun benchSlots = run("bench", "-Dtaskmanager.numberOfTaskSlots=4", "--out", dir.resolve("bs").toString(),
                "--config", conf());
        assertThat(benchSlots.exit()).as(benchSlots.err()).isEqualTo(2);
        assertThat(benchSlots.err()).contains("fewer slots than --parallelism 8");
        // the other max parallelism was ignored without a word (config.yaml sets pipeline.max-parallelism)
        CliRun twoMaxP = run("forecast-bench", "-Dkeyshift.max-parallelism=256", "--out", dir.resolve("fb").toString(),
                "--config", conf());
        assertThat(twoMaxP.exit()).as(twoMaxP.err()).isEqualTo(2);
        assertThat(twoMaxP.err()).contains("'keyshift.max-parallelism' is 256 but 'pipeline.max-parallelism'");
        // a window beyond a long's milliseconds: "long overflow" with a stack trace, exit 1
        CliRun hugeWindow = run("replay", "--window", "200000000000d", "--out", dir.resolve("hw").toString(),
                "--config", conf());
        assertThat(hugeWindow.exit()).as(hugeWindow.err()).isEqualTo(2);
        assertThat(hugeWindow.err()).contains("--window must be at most 36500d");
        // below a record a second the latency runs would never end
        CliRun slowLatency = run("bench", "--latency-rate", "0.5", "--out", dir.resolve("lr").toString(),
                "--config", conf());
        assertThat(slowLatency.exit()).as(slowLatency.err()).isEqualTo(2);
        assertThat(slowLatency.err()).contains("--latency-rate must be 0 (no latency runs) or at least 1 record/s");
        // an empty path is the working directory: a replay wrote its files there
        CliRun emptyOut = run("replay", "--out", "", "--config", conf());
        assertThat(emptyOut.exit()).as(emptyOut.err()).isEqualTo(2);
        assertThat(emptyOut.err()).contains("'--out'").contains("an empty path");
        // a job id that is none is refused before any request: it had reached the REST API and failed with exit 1
        for (String command : java.util.List.of("savepoint", "autoscale")) {
            CliRun badId = run(command, "a b", "--rest", "http://127.0.0.1:1");
            assertThat(badId.exit()).as(badId.err()).isEqualTo(2);
            assertThat(badId.err()).contains("JOB_ID must be a Flink job id, 32 hexadecimal digits, was 'a b'");
        }
        // the job's own refusals, before soak starts a cluster: the job failed only once submitted to it
        CliRun soakMaxP = run("soak", "--parallelism", "8", "-Dpipeline.max-parallelism=4", "--out",
                dir.resolve("s3").toString());
        assertThat(soakMaxP.exit()).as(soakMaxP.err()).isEqualTo(2);
        assertThat(soakMaxP.err()).contains("--parallelism must be in 1..4");
        Path noCheckpoints = Files.createDirectories(dir.resolve("conf-no-checkpoints"));
        Files.write(noCheckpoints.resolve("config.yaml"), Files.readAllLines(SharedData.flinkConf()
                .resolve("config.yaml")).stream().filter(l -> !l.startsWith("execution.checkpointing.interval"))
                .toList());
        CliRun soakNoCheckpoints = run("soak", "--config", noCheckpoints.toString(), "--out",
                dir.resolve("s4").toString());
        assertThat(soakNoCheckpoints.exit()).as(soakNoCheckpoints.err()).isEqualTo(2);
        assertThat(soakNoCheckpoints.err()).contains("execution.checkpointing.interval is not set");
        // the cluster's memory sizes that do not add up: one line and exit 2 before --out is made (Flink's sizing
        // failed with a stack trace, --out left behind)
        Path smallTm = Files.createDirectories(dir.resolve("conf-small-tm"));
        java.util.List<String> smallTmConf = new java.util.ArrayList<>(Files.readAllLines(SharedData.flinkConf()
                .resolve("config.yaml")).stream().filter(l -> !l.startsWith("taskmanager.memory.process.size"))
                .toList());
        smallTmConf.add("taskmanager.memory.process.size: 1g");
        Files.write(smallTm.resolve("config.yaml"), smallTmConf);
        CliRun soakMemory = run("soak", "--config", smallTm.toString(), "--out", dir.resolve("s5").toString());
        assertThat(soakMemory.exit()).as(soakMemory.err()).isEqualTo(2);
        assertThat(soakMemory.err()).contains("taskmanager.memory").doesNotContain("\tat ");
        assertThat(dir.resolve("s5")).doesNotExist();
        assertThat(dir.resolve("s3")).doesNotExist();
        assertThat(dir.resolve("s4")).doesNotExist();
        CliRun slowReplay = run("replay", "--rate", "0.5", "--out", dir.resolve("r2").toString(), "--config", conf());
        assertThat(slowReplay.exit()).isEqualTo(2);
        assertThat(slowReplay.err()).contains("--rate must be 0 (full speed) or at least 1 record/s");
        // every window released before the first checkpoint: no checkpoint to measure, found only at the end
        CliRun perCheckpoint = run("plan-bench", "--control-path", "--windows-per-checkpoint", "5000", "--out",
                dir.resolve("cp").toString());
        assertThat(perCheckpoint.exit()).isEqualTo(2);
        assertThat(perCheckpoint.err()).contains("--windows-per-checkpoint must be in 1..1799");
        CliRun planBench = run("plan-bench", "--keys", "5", "--out", dir.resolve("pb").toString());
        assertThat(planBench.exit()).isEqualTo(2);
        assertThat(planBench.err()).contains("--keys applies only with --control-path");
    }

    @Test
    void aWindowThatSplitsTheSpanIntoMillionsOfWindowsIsRefused(@TempDir Path dir) throws Exception {
        Path in = csv(dir, "key,ts\na,2024-03-01T00:00:00Z\nb,2024-03-01T02:10:00Z\n");
        CliRun r = run("replay", "--input", in.toString(), "--key", "key", "--time", "ts", "--window", "1ms",
                "--strategies", "predictive", "--out", dir.resolve("o").toString(), "--config", conf());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("--window 1 ms").contains("7,800,001 planning windows");
        assertThat(dir.resolve("o/report.json")).doesNotExist();
        CliRun generator = run("replay", "--window", "10ms", "--out", dir.resolve("g").toString(), "--config", conf());
        assertThat(generator.exit()).isEqualTo(2);
        assertThat(generator.err()).contains("choose a longer --window");
        CliRun bench = run("forecast-bench", "--input", in.toString(), "--key", "key", "--time", "ts",
                "--window", "1ms", "--out", dir.resolve("f").toString(), "--config", conf());
        assertThat(bench.exit()).isEqualTo(2);
        assertThat(bench.err()).contains("planning windows");
    }

    /**
     * With --overwrite, an earlier run's report was deleted before the input's own checks (a --window too short for
     * its span, a truncated gzip file) refused the run: the user lost a good report to a mistake.
     */
    @Test
    void anEarlierRunsOutputOutlivesAMistakeTheInputReveals(@TempDir Path dir) throws Exception {
        Path in = csv(dir, "key,ts\na,2024-03-01T00:00:00Z\nb,2024-03-01T02:10:00Z\n");
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.writeString(out.resolve("report.json"), "{}");
        Files.writeString(out.resolve("dead-letters.csv"), "raw_line,line_number,reason\n");
        Path charts = Files.createDirectories(out.resolve("charts"));
        Files.writeString(charts.resolve("imbalance.png"), "png");
        CliRun r = run("replay", "--input", in.toString(), "--key", "key", "--time", "ts", "--window", "1ms",
                "--strategies", "predictive", "--out", out.toString(), "--overwrite", "--config", conf());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("planning windows");
        Path gz = dir.resolve("cut.csv.gz");
        try (var z = new java.util.zip.GZIPOutputStream(Files.newOutputStream(gz))) {
            z.write("key,ts\n".repeat(2000).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        byte[] whole = Files.readAllBytes(gz);
        Files.write(gz, java.util.Arrays.copyOf(whole, whole.length / 2));
        CliRun cut = run("replay", "--input", gz.toString(), "--key", "key", "--time", "ts",
                "--strategies", "predictive", "--out", out.toString(), "--overwrite", "--config", conf());
        assertThat(cut.exit()).as(cut.err()).isNotZero();
        CliRun bench = run("forecast-bench", "--input", in.toString(), "--key", "key", "--time", "ts",
                "--window", "1ms", "--out", out.toString(), "--overwrite", "--config", conf());
        assertThat(bench.exit()).as(bench.err()).isEqualTo(2);
        assertThat(out.resolve("report.json")).hasContent("{}");
        assertThat(charts.resolve("imbalance.png")).hasContent("png");
        try (var left = Files.list(out)) {
            assertThat(left.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("report.json", "dead-letters.csv", "charts");
        }
    }

    /** --overwrite removes the report's charts only: a picture of the user's own in --out/charts stays. */
    @Test
    void overwriteKeepsTheUsersOwnPicturesInCharts(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("out"));
        Path charts = Files.createDirectories(out.resolve("charts"));
        Files.writeString(charts.resolve("my-diagram.png"), "mine");
        // a charts directory without a chart of a replay's is not an earlier run's output
        CliRun first = run("replay", "--generator-records", "2000", "--strategies", "hash", "--out", out.toString(),
                "--config", conf());
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(charts.resolve("imbalance.png")).exists();
        CliRun again = run("replay", "--generator-records", "2000", "--strategies", "hash", "--out", out.toString(),
                "--overwrite", "--config", conf());
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(charts.resolve("my-diagram.png")).hasContent("mine");
    }

    @Test
    void forecastBenchChecksParallelismAndSeasonsBeforeReading(@TempDir Path dir) throws Exception {
        Path in = csv(dir, "key,ts\na,2024-03-01T00:00:00Z\n");
        CliRun p = run("forecast-bench", "--input", in.toString(), "--key", "key", "--time", "ts", "--parallelism", "0",
                "--out", dir.resolve("p").toString(), "--config", conf());
        assertThat(p.exit()).isEqualTo(2);
        assertThat(p.err()).contains("--parallelism must be in 1..128");
        assertThat(dir.resolve("p")).doesNotExist();
        CliRun season = run("forecast-bench", "--input", in.toString(), "--key", "key", "--time", "ts",
                "--season", "-5", "--out", dir.resolve("s").toString(), "--config", conf());
        assertThat(season.exit()).isEqualTo(2);
        assertThat(season.err()).contains("--season must be in 0..100000");
        // each window forecasts every series this many steps: 5000 ran for hours
        CliRun horizon = run("forecast-bench", "--input", in.toString(), "--key", "key", "--time", "ts",
                "--horizon", "5000", "--out", dir.resolve("h").toString(), "--config", conf());
        assertThat(horizon.exit()).isEqualTo(2);
        assertThat(horizon.err()).contains("--horizon must be in 1..100, was 5000");
        assertThat(dir.resolve("h")).doesNotExist();
    }

    @Test
    void bootstrapWithoutAValidRowWritesNoSavepointAndGivesTheReason(@TempDir Path dir) throws Exception {
        Path in = csv(dir, "key,ts\na,yesterday\nb,not a time\n");
        Path out = dir.resolve("sp");
        CliRun r = run("bootstrap", "--input", in.toString(), "--key", "key", "--time", "ts", "--out", out.toString(),
                "--config", conf());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("has no valid row").contains("2 dead letters").contains("no savepoint written");
        assertThat(out).doesNotExist();

        // the rows asked for are written on this exit too
        Path deadLetters = dir.resolve("dead.csv");
        CliRun kept = run("bootstrap", "--input", in.toString(), "--key", "key", "--time", "ts", "--out",
                out.toString(), "--dead-letters", deadLetters.toString(), "--config", conf());
        assertThat(kept.exit()).as(kept.err()).isEqualTo(2);
        assertThat(kept.err()).contains("dead letters: " + deadLetters.toAbsolutePath());
        assertThat(Files.readAllLines(deadLetters)).hasSize(3).anySatisfy(l -> assertThat(l).contains("not a time"));
        assertThat(out).doesNotExist();

        CliRun underAFile = run("bootstrap", "--input", in.toString(), "--key", "key", "--time", "ts",
                "--out", in.resolve("sp").toString(), "--config", conf());
        assertThat(underAFile.exit()).isEqualTo(2);
        assertThat(underAFile.err()).contains("is not a writable directory");
    }

    /**
     * bootstrap run with the job's options: its scaling bounds (min-parallelism 4 refused the profiling job's stage at
     * parallelism 2 once the whole history had been read) and a results path wider than the local cluster's slots
     * (it waited out Flink's slot request) do not shape the forecaster's state and are left to the job; the output
     * says where the history ends.
     */
    @Test
    void bootstrapTakesTheJobsScalingAndResultsPathOptions(@TempDir Path dir) throws Exception {
        StringBuilder rows = new StringBuilder("key,ts\n");
        for (int h = 0; h < 30; h++) {
            rows.append("k").append(h % 3).append(',')
                    .append(java.time.Instant.parse("2026-01-05T00:10:00Z").plusSeconds(3600L * h)).append('\n');
        }
        Path in = csv(dir, rows.toString());
        Path out = dir.resolve("sp");
        CliRun r = run("bootstrap", "--input", in.toString(), "--key", "key", "--time", "ts", "--out", out.toString(),
                "-Dkeyshift.scaling.capacity=5000", "-Dkeyshift.scaling.min-parallelism=4",
                "-Dkeyshift.results-path.parallelism=4", "-Dtaskmanager.numberOfTaskSlots=2", "--config", conf());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(out.resolve("_metadata")).isRegularFile();
        assertThat(r.out()).contains("the history ends at 2026-01-06T06:00:00Z, where the job's input should begin");
    }

    @Test
    void profileRefusesAnEmptyOrReversedRange(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("profiles-predictive.jsonl"), "");
        CliRun r = run("profile", "--dir", dir.toString(), "--from", "2026-01-07T00:00:00Z", "--to",
                "2026-01-06T00:00:00Z");
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("--to must be after --from");
        CliRun hash = run("profile", "--dir", dir.toString(), "--strategy", "hash");
        assertThat(hash.exit()).isEqualTo(2);
        assertThat(hash.err()).contains("--strategy must be reactive or predictive");
    }

    @Test
    void controlNamesAtWhenItsTimeDoesNotParse(@TempDir Path dir) {
        CliRun r = run("control", "--file", dir.resolve("c.csv").toString(), "--at", "yesterday", "freeze");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--at: ").contains("'yesterday'");
        assertThat(dir.resolve("c.csv")).doesNotExist();
    }

    @Test
    void submitRefusesABadJobOptionWithExitTwoBeforeAnythingReachesTheCluster(@TempDir Path dir) throws Exception {
        // a REST endpoint that answers the address check, and counts what else is asked of it
        java.util.concurrent.atomic.AtomicInteger others = new java.util.concurrent.atomic.AtomicInteger();
        com.sun.net.httpserver.HttpServer rest = io.keyshift.jobs.StubHttp.answering(path -> {
            if (!path.equals("/config")) {
                others.incrementAndGet();
            }
            return "{}";
        });
        try {
            // an empty jar: the job's classes come from this class path, as the job jar's would
            Path jar = dir.resolve("job.jar");
            try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar),
                    new java.util.jar.Manifest())) {
                out.flush();
            }
            // a file that is not a jar: refused naming --jar, before anything reaches the cluster
            Path notJar = Files.writeString(dir.resolve("notes.txt"), "not a jar");
            CliRun text = run("submit", "--rest", "http://127.0.0.1:" + rest.getAddress().getPort(),
                    "--jar", notJar.toString(), "--config", conf(), "--", "--out", dir.resolve("o").toString());
            assertThat(text.exit()).as(text.err()).isEqualTo(2);
            assertThat(text.err()).contains("--jar: " + notJar + " is not a jar");
            CliRun r = run("submit", "--rest", "http://127.0.0.1:" + rest.getAddress().getPort(),
                    "--jar", jar.toString(), "--config", conf(), "--", "--strategy", "bogus",
                    "--out", dir.resolve("o").toString());
            assertThat(r.exit()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).contains("job option: --strategy").contains("bogus");
            // a restore through the job's own -D: its main read on as restored while the cluster started it afresh
            CliRun restore = run("submit", "--rest", "http://127.0.0.1:" + rest.getAddress().getPort(),
                    "--jar", jar.toString(), "--config", conf(), "--", "--out", dir.resolve("o").toString(),
                    "-D", "execution.state-recovery.path=/tmp/sp-1");
            assertThat(restore.exit()).as(restore.err()).isEqualTo(2);
            assertThat(restore.err()).contains("-Dexecution.state-recovery.path").contains("--from-savepoint");
            CliRun oldName = run("submit", "--rest", "http://127.0.0.1:" + rest.getAddress().getPort(),
                    "--jar", jar.toString(), "--config", conf(), "--", "--out", dir.resolve("o").toString(),
                    "-Dexecution.savepoint.path=/tmp/sp-1");
            assertThat(oldName.exit()).as(oldName.err()).isEqualTo(2);
            assertThat(oldName.err()).contains("-Dexecution.savepoint.path");
            assertThat(others.get()).as("requests besides /config").isZero();
        } finally {
            rest.stop(0);
        }
    }

    @Test
    void aWrappedFailureShowsItsRootCauseNotTheWrappersMessage() {
        StringWriter err = new StringWriter();
        CommandLine cl = KeyshiftCli.commandLine().getSubcommands().get("bootstrap");
        cl.setErr(new PrintWriter(err, true));
        Exception wrapped = new org.apache.flink.runtime.client.JobExecutionException(
                new org.apache.flink.api.common.JobID(), "Job execution failed.",
                new IllegalStateException("stage", new java.nio.file.FileAlreadyExistsException("/tmp/x/good.csv")));
        assertThat(KeyshiftCli.failed(wrapped, cl, null)).isEqualTo(1);
        assertThat(err.toString()).startsWith("keyshift bootstrap: /tmp/x/good.csv: already exists");
        // one line, and the stack trace in the temporary file it names
        assertThat(err.toString().strip().lines()).hasSize(1);
        java.util.regex.Matcher trace = java.util.regex.Pattern.compile("\\(stack trace: ([^)]+)\\)")
                .matcher(err.toString());
        assertThat(trace.find()).as(err.toString()).isTrue();
        Path traceFile = Path.of(trace.group(1));
        try {
            assertThat(traceFile).exists().content().contains("FileAlreadyExistsException")
                    .contains("JobExecutionException").contains("\tat ");
        } finally {
            try {
                Files.deleteIfExists(traceFile);
            } catch (IOException e) {
                // a temporary file
            }
        }
        // a file-system failure says what went wrong, not only the path (Java's message of these is the path)
        StringWriter denied = new StringWriter();
        cl.setErr(new PrintWriter(denied, true));
        KeyshiftCli.failed(new java.nio.file.AccessDeniedException("/flink-data/control/.control-1-2.csv"), cl, null);
        assertThat(denied.toString())
                .startsWith("keyshift bootstrap: /flink-data/control/.control-1-2.csv: permission denied");
        // keyshift's own message (naming the file) stays, with or without the cause it wraps
        StringWriter own = new StringWriter();
        cl.setErr(new PrintWriter(own, true));
        KeyshiftCli.failed(new java.io.IOException("in.csv.gz: truncated after line 3",
                new java.io.EOFException("Unexpected end of ZLIB input stream")), cl, null);
        assertThat(own.toString()).startsWith("keyshift bootstrap: in.csv.gz: truncated after line 3");
        // also where Flink's client wrapped it (submit runs the job's main in a ProgramInvocationException)
        StringWriter submitted = new StringWriter();
        cl.setErr(new PrintWriter(submitted, true));
        KeyshiftCli.failed(new org.apache.flink.client.program.ProgramInvocationException("The main method caused an "
                + "error: in.csv.gz: truncated after line 3", new java.io.IOException("in.csv.gz: truncated after line "
                + "3", new java.io.EOFException("Unexpected end of ZLIB input stream"))), cl, null);
        assertThat(submitted.toString()).startsWith("keyshift bootstrap: in.csv.gz: truncated after line 3");
        // but not a message Flink's own code gave the exception it wraps (the root cause says more there)
        StringWriter restore = new StringWriter();
        cl.setErr(new PrintWriter(restore, true));
        Exception flinks = new Exception("Exception while creating StreamOperatorStateContext.",
                new java.io.FileNotFoundException("/ckpt/chk-3/x"));
        flinks.setStackTrace(new StackTraceElement[] {new StackTraceElement(
                "org.apache.flink.streaming.api.operators.StreamTaskStateInitializerImpl", "streamOperatorStateContext",
                "StreamTaskStateInitializerImpl.java", 1)});
        KeyshiftCli.failed(new org.apache.flink.runtime.client.JobExecutionException(
                new org.apache.flink.api.common.JobID(), "Job execution failed.", flinks), cl, null);
        assertThat(restore.toString()).startsWith("keyshift bootstrap: FileNotFoundException: /ckpt/chk-3/x");
    }

    @Test
    void optionsAreCheckedAgainstTheCommandsWindowBeforeAnyJobOrCleanUp(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.writeString(out.resolve("report.json"), "{}");
        // holt-winters needs a season of at most 288 windows: a day of 1-minute windows has 1440
        CliRun model = run("replay", "--window", "1min", "-Dkeyshift.forecast.model=holt-winters",
                "--generator-records", "2000", "--out", out.toString(), "--overwrite", "--config", conf());
        assertThat(model.exit()).as(model.err()).isEqualTo(2);
        assertThat(model.err()).contains("keyshift.forecast.model").contains("holt-winters");
        assertThat(out.resolve("report.json")).hasContent("{}");

        Path in = csv(dir, "key,ts\na,2024-03-01T00:00:00Z\n");
        CliRun bootstrap = run("bootstrap", "--input", in.toString(), "--key", "key", "--time", "ts",
                "--window", "1min", "-Dkeyshift.forecast.model=holt-winters", "--out",
                dir.resolve("sp").toString(), "--config", conf());
        assertThat(bootstrap.exit()).as(bootstrap.err()).isEqualTo(2);
        assertThat(bootstrap.err()).contains("keyshift.forecast.model").doesNotContain("reading and sorting");

        CliRun both = run("replay", "-Dkeyshift.window=5min", "--out", dir.resolve("w").toString(),
                "--config", conf());
        assertThat(both.exit()).as(both.err()).isEqualTo(2);
        assertThat(both.err()).contains("-Dkeyshift.window").contains("--window");
        // a RocksDB option's value is parsed before anything runs or --overwrite clears anything (the first job
        // failed opening its state)
        Path earlier = Files.createDirectories(dir.resolve("w-rocks"));
        Files.writeString(earlier.resolve("report.json"), "{}");
        CliRun rocks = run("replay", "-Dstate.backend.rocksdb.compaction.style=SIDEWAYS", "--overwrite", "--out",
                earlier.toString(), "--config", conf());
        assertThat(rocks.exit()).as(rocks.err()).isEqualTo(2);
        assertThat(rocks.err()).contains("state.backend.rocksdb.compaction.style").hasLineCount(1);
        assertThat(earlier.resolve("report.json")).hasContent("{}");
        // config.yaml's keyshift.window was replaced by --window (or its default, 1h) without a word
        Path dayConf = Files.createDirectories(dir.resolve("conf-window"));
        java.util.List<String> dayLines = new java.util.ArrayList<>(Files.readAllLines(SharedData.flinkConf()
                .resolve("config.yaml")));
        dayLines.add("keyshift.window: 1d");
        Files.write(dayConf.resolve("config.yaml"), dayLines);
        for (String command : java.util.List.of("replay", "soak")) {
            CliRun yaml = run(command, "--out", dir.resolve("w-" + command).toString(), "--config", dayConf.toString());
            assertThat(yaml.exit()).as(yaml.err()).isEqualTo(2);
            assertThat(yaml.err()).contains("config.yaml: keyshift.window is 1 d").contains("--window (1 h)")
                    .hasLineCount(1);
            assertThat(dir.resolve("w-" + command)).doesNotExist();
        }
        org.apache.flink.configuration.Configuration day = new org.apache.flink.configuration.Configuration();
        day.setString("keyshift.window", "1d");
        assertThat(FlinkConfig.otherWindow(day, java.time.Duration.ofDays(1))).as("the same window").isNull();
        assertThat(FlinkConfig.otherWindow(new org.apache.flink.configuration.Configuration(),
                java.time.Duration.ofHours(1))).as("none set").isNull();

        // the SQL peer's window is whole seconds: a bench failed there after its keyBy and keyshift runs, exit 1
        CliRun bench = run("bench", "--window", "1500ms", "--days", "0.01", "--records", "1000", "--out",
                dir.resolve("b").toString(), "--config", conf());
        assertThat(bench.exit()).as(bench.err()).isEqualTo(2);
        assertThat(bench.err()).contains("--window: the SQL peer needs a window of whole seconds");
        assertThat(bench.out()).doesNotContain("warming up");
        // the bench's lease lead (the library's default, 1) + 100 forecast steps: refused before any run
        CliRun lead = run("bench", "-Dkeyshift.plan.horizon=100", "--records", "1000", "--out",
                dir.resolve("b").toString(), "--config", conf());
        assertThat(lead.exit()).as(lead.err()).isEqualTo(2);
        assertThat(lead.err()).contains("must be at most 100").contains("keyshift.plan.horizon");
        assertThat(lead.out()).doesNotContain("warming up");

        for (String w : new String[] {"1ns", "500micros", "1500micros"}) {
            CliRun r = run("replay", "--window", w, "--out", dir.resolve("w").toString(), "--config", conf());
            assertThat(r.exit()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).contains("--window must be a whole number of milliseconds, at least 1ms")
                    .doesNotContain("by zero");
        }
    }

    /** The scaled runs start at --parallelism: a minimum above it is refused before any run. */
    @Test
    void aScalingMinimumAboveTheStartingParallelismIsRefused(@TempDir Path dir) throws Exception {
        CliRun r = run("replay", "--generator-records", "2000", "--parallelism", "2", "--scale", "predictive",
                "-Dkeyshift.scaling.capacity=100", "-Dkeyshift.scaling.max-parallelism=8",
                "-Dkeyshift.scaling.min-parallelism=4", "--out", dir.resolve("s").toString(), "--config", conf());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("keyshift.scaling.min-parallelism (4) is above --parallelism (2)");
        assertThat(dir.resolve("s/report.json")).doesNotExist();
    }

    /**
     * A scaled stage (capacity set) at a --parallelism below its minimum is refused before any run, also without
     * --scale (its build failed after the hash run, exit 1).
     */
    @Test
    void aParallelismOutsideTheScalingBoundsIsRefusedBeforeAnyRun(@TempDir Path dir) throws Exception {
        CliRun r = run("replay", "--generator-records", "2000", "--parallelism", "2",
                "-Dkeyshift.scaling.capacity=100", "-Dkeyshift.scaling.min-parallelism=4",
                "--out", dir.resolve("s").toString(), "--config", conf());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("keyed parallelism 2 is outside the scaling bounds");
        assertThat(dir.resolve("s/report.json")).doesNotExist();
    }

    /** Scaling bounds beyond the key groups failed the predictive run's build after the hash run, exit 1. */
    @Test
    void scalingBoundsBeyondTheKeyGroupsAreRefusedBeforeAnyRun(@TempDir Path dir) throws Exception {
        CliRun r = run("replay", "--generator-records", "2000", "--parallelism", "2",
                "-Dkeyshift.scaling.capacity=300", "-Dkeyshift.scaling.max-parallelism=200",
                "--out", dir.resolve("s").toString(), "--config", conf());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err().strip().lines()).singleElement().satisfies(l -> assertThat(l)
                .contains("keyshift.scaling.max-parallelism must be at most the job's max parallelism (key groups), "
                        + "128, were 1 and 200"));
        assertThat(dir.resolve("s")).doesNotExist();
    }

    /** bootstrap writes a local savepoint: a URI --out is refused as the user wrote it (a Path made it ./s3:/b/sp). */
    @Test
    void bootstrapRefusesAUriOut(@TempDir Path dir) throws Exception {
        Path in = csv(dir, "key,ts\na,2024-03-01T00:00:00Z\n");
        CliRun r = run("bootstrap", "--input", in.toString(), "--key", "key", "--time", "ts", "--out", "s3://b/sp",
                "--config", conf());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("--out must be a local directory, was 's3://b/sp'");
        assertThat(Path.of("s3:")).doesNotExist();
        // a backslash, which Flink reads as '/': the savepoint went to another directory than the one checked
        String slashed = dir.resolve("warm\\x").toString();
        CliRun b = run("bootstrap", "--input", in.toString(), "--key", "key", "--time", "ts", "--out", slashed,
                "--config", conf());
        assertThat(b.exit()).as(b.err()).isEqualTo(2);
        assertThat(b.err()).contains("holds a backslash, which Flink reads as '/'");
        assertThat(dir.resolve("warm")).doesNotExist();
    }

    /** A control file with a byte that is not UTF-8 (a Latin-1 comment) runs: the line is read as the source reads it. */
    @Test
    void aControlFileWithALatin1ByteRuns(@TempDir Path dir) throws Exception {
        Path control = dir.resolve("cmds.csv");
        Files.write(control, "# caf\u00e9 au lait\n2026-01-05T00:00:00Z,freeze\n"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        Path out = dir.resolve("o");
        CliRun r = run("replay", "--strategies", "predictive", "--control", control.toString(),
                "--generator-records", "2000", "--out", out.toString(), "--config", conf());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(Files.readString(out.resolve("report.json"))).contains("\"commands_applied\"");
    }

    @Test
    void optionsACommandWouldIgnoreAreRefused(@TempDir Path dir) throws Exception {
        Path control = Files.writeString(dir.resolve("cmds.csv"), "2026-01-05T00:00:00Z,freeze\n");
        CliRun hashOnly = run("replay", "--strategies", "hash", "--control", control.toString(),
                "--generator-records", "2000", "--out", dir.resolve("h").toString(), "--config", conf());
        assertThat(hashOnly.exit()).as(hashOnly.err()).isEqualTo(2);
        assertThat(hashOnly.err()).contains("--control").contains("hash");

        Path in = csv(dir, "key,ts\na,2024-03-01T00:00:00Z\n");
        CliRun model = run("forecast-bench", "--input", in.toString(), "--key", "key", "--time", "ts",
                "-Dkeyshift.forecast.model=ses", "--out", dir.resolve("f").toString(), "--config", conf());
        assertThat(model.exit()).as(model.err()).isEqualTo(2);
        assertThat(model.err()).contains("keyshift.forecast.model does not apply to forecast-bench");
        CliRun seasons = run("forecast-bench", "--input", in.toString(), "--key", "key", "--time", "ts",
                "--season", "24", "-Dkeyshift.forecast.seasons=24", "--out", dir.resolve("f").toString(),
                "--config", conf());
        assertThat(seasons.exit()).as(seasons.err()).isEqualTo(2);
        assertThat(seasons.err()).contains("--season and keyshift.forecast.seasons");

        CliRun season = run("forecast-bench", "--input", in.toString(), "--key", "key", "--time", "ts",
                "--season", "86400000", "--out", dir.resolve("f").toString(), "--config", conf());
        assertThat(season.exit()).as(season.err()).isEqualTo(2);
        assertThat(season.err()).contains("--season must be in 0..100000");
        CliRun soakWindow = run("soak", "-Dkeyshift.window=5min", "--out", dir.resolve("s").toString(),
                "--config", conf());
        assertThat(soakWindow.exit()).as(soakWindow.err()).isEqualTo(2);
        assertThat(soakWindow.err()).contains("-Dkeyshift.window").contains("--window");

        // the bench sets these for every run: a -D of one was overridden without a word
        CliRun backend = run("bench", "-Dstate.backend.type=rocksdb", "--records", "1000", "--out",
                dir.resolve("b").toString(), "--config", conf());
        assertThat(backend.exit()).as(backend.err()).isEqualTo(2);
        assertThat(backend.err()).contains("-Dstate.backend.type: the bench sets it for every run");
        // ... and the SQL contender's own options (its two-phase plan with mini-batch set them over the user's)
        CliRun onePhase = run("bench", "-Dtable.optimizer.agg-phase-strategy=ONE_PHASE", "--records", "1000", "--out",
                dir.resolve("b1").toString(), "--config", conf());
        assertThat(onePhase.exit()).as(onePhase.err()).isEqualTo(2);
        assertThat(onePhase.err()).contains("-Dtable.optimizer.agg-phase-strategy: the bench sets it");
        // ... and the parallelism (--parallelism replaced it)
        CliRun parallelism = run("bench", "-Dparallelism.default=4", "--records", "1000", "--out",
                dir.resolve("b2").toString(), "--config", conf());
        assertThat(parallelism.exit()).as(parallelism.err()).isEqualTo(2);
        assertThat(parallelism.err()).contains("-Dparallelism.default: the bench sets it").contains("--parallelism");
        // forecast-bench prints an undefined figure as "-", as forecast.json holds null (it printed NaN)
        assertThat(ForecastBenchCommand.figure(Double.NaN, 3)).isEqualTo("-");
        assertThat(ForecastBenchCommand.figure(0.8125, 3)).isEqualTo("0.813");
        CliRun repeats = run("plan-bench", "--control-path", "--repeats", "5", "--out", dir.resolve("pb").toString());
        assertThat(repeats.exit()).as(repeats.err()).isEqualTo(2);
        assertThat(repeats.err()).contains("--repeats does not apply with --control-path");

        CliRun soakHelp = run("soak", "--help");
        assertThat(soakHelp.exit()).isZero();
        assertThat(soakHelp.out()).contains("--generator-keys").doesNotContain("--generator-records")
                .doesNotContain("--generator-days");
        CliRun soak = run("soak", "--generator-records", "1000", "--out", dir.resolve("s").toString(),
                "--config", conf());
        assertThat(soak.exit()).as(soak.err()).isEqualTo(2);
        assertThat(soak.err()).contains("--generator-records does not apply to soak");
    }

    @Test
    void planBenchKeepsTheLastFiguresWhenAnOptionIsBad(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("pb"));
        Files.writeString(out.resolve("control-path-bench.json"), "{}");
        CliRun r = run("plan-bench", "--control-path", "--windows-per-checkpoint", "0", "--out", out.toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("--windows-per-checkpoint");
        assertThat(out.resolve("control-path-bench.json")).hasContent("{}");
    }

    /**
     * The command line's numbers print the same in every locale: under a German one the report's table, inspect-savepoint
     * and bootstrap printed "1,128" for 1.128 and "1.234.567" for 1,234,567, beside figures formatted in Locale.ROOT.
     */
    @Test
    void numbersPrintTheSameInEveryLocale() {
        java.util.Locale before = java.util.Locale.getDefault();
        java.util.Locale formatBefore = java.util.Locale.getDefault(java.util.Locale.Category.FORMAT);
        try {
            java.util.Locale.setDefault(java.util.Locale.GERMANY);
            assertThat(String.format("%.3f", 1.128)).isEqualTo("1,128");
            KeyshiftCli.commandLine();
            assertThat(String.format("%.3f %,d", 1.128, 1_234_567)).isEqualTo("1.128 1,234,567");
        } finally {
            java.util.Locale.setDefault(before);
            java.util.Locale.setDefault(java.util.Locale.Category.FORMAT, formatBefore);
        }
    }
}
