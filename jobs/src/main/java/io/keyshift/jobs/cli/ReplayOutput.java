package io.keyshift.jobs.cli;

import io.keyshift.jobs.input.ReplayInput;

import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a replay writes into its {@code --out} directory, so that a run's output is never mixed with an earlier
 * run's: a directory holding any of it is refused unless {@code --overwrite}, which removes exactly these entries
 * (never anything else the directory holds).
 */
public final class ReplayOutput {
    private ReplayOutput() {}

    /** The runs a replay names its files by: its strategies and its scaled runs. */
    private static final List<String> RUNS = List.of("hash", "reactive", "predictive", "scaled-predictive",
            "scaled-reactive");

    /** What a replay names its per-run files: prefix + run + suffix. */
    private static final List<String> PER_RUN_CSV = List.of("results-", "moves-", "scaling-", "rescales-",
            "control-rejected-", "control-", "reverts-", "forecast-units-", "loads-", "utilization-");

    /** Whether {@code file} begins as the dead letters keyshift writes (not a file of the user's by that name). */
    public static boolean deadLettersOfOurs(Path file) {
        try (java.io.BufferedReader r = Files.newBufferedReader(file, java.nio.charset.StandardCharsets.UTF_8)) {
            return "raw_line,line_number,reason".equals(r.readLine());
        } catch (IOException | UncheckedIOException e) {
            return false;
        }
    }

    /** Where a replay sorts its input before it clears an earlier run's output (then renamed to .events.bin). */
    static final String EVENTS_PART = ".events.bin.part";
    /** Where a replay writes its dead letters before it clears an earlier run's output (then dead-letters.csv). */
    static final String DEAD_LETTERS_PART = ".dead-letters.csv.part";
    /** What an earlier replay that started no job may have left: replaced by the next run, saying so. */
    private static final List<String> LEFT_WITHOUT_JOB = List.of("dead-letters.csv", ".events.bin", EVENTS_PART,
            DEAD_LETTERS_PART);

    /**
     * The pictures in {@code charts} (an {@code --out/charts}) that a replay's report draws ({@code ReportCharts}):
     * imbalance.png, parallelism.png, load-RUN.png, migrations-RUN.png, and forecast-*.png (named by a unit, any
     * name): those the report.html beside it shows, or, without one (a run stopped before it), any. Other PNG files
     * there are the user's (imbalance-by-region.png or forecast-q3.png were taken for ours until 2026-12-07).
     */
    private static DirectoryStream.Filter<Path> chartsOfOurs(Path charts) throws IOException {
        java.util.Set<String> shown = shownCharts(charts.resolveSibling("report.html"));
        return file -> {
            String name = file.getFileName().toString();
            if (!name.endsWith(".png")) {
                return false;
            }
            String stem = name.substring(0, name.length() - ".png".length());
            return stem.equals("imbalance") || stem.equals("parallelism")
                    || stem.startsWith("forecast-") && (shown == null || shown.contains(stem))
                    || RUNS.stream().anyMatch(run -> stem.equals("load-" + run) || stem.equals("migrations-" + run));
        };
    }

    /** The charts a report page shows (its img elements' ids), null where there is no page. */
    private static java.util.Set<String> shownCharts(Path html) throws IOException {
        if (!Files.isRegularFile(html)) {
            return null;
        }
        java.util.regex.Pattern img = java.util.regex.Pattern.compile("<img class=\"chart\" id=\"([^\"]+)\"");
        java.util.Set<String> shown = new java.util.HashSet<>();
        try (Stream<String> lines = Files.lines(html, java.nio.charset.StandardCharsets.UTF_8)) {
            lines.forEach(line -> {
                java.util.regex.Matcher m = img.matcher(line);
                while (m.find()) {
                    shown.add(m.group(1));
                }
            });
        } catch (java.io.UncheckedIOException e) {
            // not text of ours (not UTF-8): no page of a report
            return null;
        }
        return shown;
    }

    /** True for an entry of {@code --out} that a replay writes ({@code charts}: only its PNG files, see prepare). */
    static boolean ours(String name) {
        if (name.equals("report.json") || name.equals("report.html") || name.equals("charts")
                || name.equals("dead-letters.csv") || name.equals(".work") || name.equals(".events.bin")
                || name.equals(".report.json.tmp") || name.equals(EVENTS_PART) || name.equals(DEAD_LETTERS_PART)) {
            return true;
        }
        for (String run : RUNS) {
            if (name.equals("profiles-" + run + ".jsonl")) {
                return true;
            }
            for (String prefix : PER_RUN_CSV) {
                if (name.equals(prefix + run + ".csv")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** True for an entry of {@code --out} that {@code forecast-bench} writes, or that a replay wrote there. */
    static boolean forecastBenchOrReplay(String name) {
        return name.equals("forecast.json") || name.equals(".checkpoints") || ours(name);
    }

    /**
     * Refuses (exit 2) an input file (option name to path, null paths skipped) that lies in {@code out} under a name
     * a replay writes: {@code --overwrite} would delete it, and a run would write over it.
     */
    static void refuseInputsInOutput(CommandLine cl, Path out, java.util.Map<String, Path> inputs) {
        refuseInputsInOutput(cl, out, inputs, ReplayOutput::forecastBenchOrReplay);
    }

    /**
     * As {@link #refuseInputsInOutput(CommandLine, Path, java.util.Map)} for a command whose earlier output
     * {@code written} names (what its --overwrite removes).
     */
    static void refuseInputsInOutput(CommandLine cl, Path out, java.util.Map<String, Path> inputs,
                                     java.util.function.Predicate<String> written) {
        InputInOutput found = inputInOutput(out, inputs, (option, entry) -> written.test(entry));
        if (found != null) {
            throw new ParameterException(cl, found.option() + ": " + found.path() + " lies in --out " + out
                    + " under a name this command writes itself or removes with --overwrite (" + found.entry()
                    + "); move it out of --out");
        }
    }

    /** An input ({@code option}, as given) that lies in --out under {@code entry}, the first name below --out. */
    public record InputInOutput(String option, Path path, String entry) {}

    /**
     * The first of {@code inputs} (option → path, null where not given) that lies in {@code out} under a name that
     * {@code written} (option, first name below --out) says the command writes or removes there, or null.
     */
    public static InputInOutput inputInOutput(Path out, java.util.Map<String, Path> inputs,
                                              java.util.function.BiPredicate<String, String> written) {
        // two spellings of one directory compare equal (a link, the working directory's physical path)
        Path dir = io.keyshift.jobs.LocalPaths.real(out);
        for (java.util.Map.Entry<String, Path> e : inputs.entrySet()) {
            if (e.getValue() == null) {
                continue;
            }
            // the input as named (a link in --out is in it) and where it leads (a link, in --out under a name the
            // command leaves alone or elsewhere, to a file the command writes there)
            for (Path p : List.of(io.keyshift.jobs.LocalPaths.resolvedForContainment(e.getValue()),
                    io.keyshift.jobs.LocalPaths.real(e.getValue()))) {
                if (p.startsWith(dir) && !p.equals(dir)) {
                    String entry = dir.relativize(p).getName(0).toString();
                    if (written.test(e.getKey(), entry)) {
                        return new InputInOutput(e.getKey(), e.getValue(), entry);
                    }
                }
            }
        }
        return null;
    }

    /**
     * Refuses (exit 2) an {@code out} that holds an earlier replay's output, unless {@code overwrite} or all of it is
     * what a replay that started no job left; removes nothing (a replay checks this before it reads its input, and
     * clears with {@link #prepare(CommandLine, Path, boolean)} only once every check of the input has passed).
     */
    static void refuse(CommandLine cl, Path out, boolean overwrite,
                       java.util.function.Predicate<String> earlierOutput) throws IOException {
        claim(cl, out);
        refuseAJobsOutput(cl, out);
        refuseOtherCommandsOutput(cl, out, earlierOutput);
        List<Path> earlier = earlier(out, earlierOutput);
        if (!earlier.isEmpty() && !leftWithoutJob(out, earlier)) {
            refuseUnlessOverwrite(cl, out, overwrite, earlier);
        }
    }

    /** The files of one local command's output: {@code names} tells them, {@code examples} are some of them. */
    private record CommandFiles(String command, java.util.function.Predicate<String> names, List<String> examples) {}

    /** What each local command writes into its --out (replay and forecast-bench share theirs: one refuses the other's). */
    private static final List<CommandFiles> COMMAND_FILES = List.of(
            // names of theirs that a user's files hardly have (not report.json, forecast.json, dead-letters.csv:
            // a directory of a replay's or forecast-bench's holds the others beside them)
            new CommandFiles("replay or forecast-bench", ReplayOutput::distinctlyReplayOrForecastBench,
                    List.of("report.json", "forecast.json")),
            new CommandFiles("bench", n -> n.equals("bench.json") || n.equals("bench.png"),
                    List.of("bench.json", "bench.png")),
            // (and the checkpoints of a control-path run killed midway)
            new CommandFiles("plan-bench", n -> n.equals("plan-bench.json") || n.equals("control-path-bench.json")
                    || n.startsWith(io.keyshift.jobs.bench.ControlPathBench.CHECKPOINTS_PREFIX),
                    List.of("plan-bench.json", "control-path-bench.json")),
            new CommandFiles("soak", n -> n.equals("soak.json") || n.equals("soak.png"),
                    List.of("soak.json", "soak.png")));

    /** An entry that only a replay or forecast-bench writes: its work and sorted-input files, a per-run file. */
    private static boolean distinctlyReplayOrForecastBench(String name) {
        return forecastBenchOrReplay(name) && !List.of("report.json", "report.html", "forecast.json",
                "dead-letters.csv", "charts").contains(name);
    }

    /**
     * Whether {@code out} holds what a finished forecast-bench leaves: its forecast.json beside keyshift's own
     * dead-letters.csv, nothing distinct besides (bench and plan-bench wrote beside them; a forecast.json alone may be
     * the user's).
     */
    private static boolean finishedForecastBench(Path out) throws IOException {
        return Files.isRegularFile(out.resolve("forecast.json")) && Files.isRegularFile(out.resolve("dead-letters.csv"))
                && deadLettersOfOurs(out.resolve("dead-letters.csv"));
    }

    /**
     * Refuses (exit 2, even with --overwrite, which removes a command's own files only) an {@code out} that holds
     * another local command's output: the two runs' files would sit in one directory without a word, and a later
     * --overwrite of one would leave the other's behind.
     *
     * @param own this command's earlier output (a command whose own files include one of another's is that one)
     */
    private static void refuseOtherCommandsOutput(CommandLine cl, Path out,
                                                  java.util.function.Predicate<String> own) throws IOException {
        if (!Files.isDirectory(out)) {
            return;
        }
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(out)) {
            for (Path e : entries) {
                String name = e.getFileName().toString();
                if (!(name.equals("charts") && Files.isDirectory(e) && !holdsChart(e))) {
                    names.add(name);
                }
            }
        }
        java.util.Collections.sort(names);
        if (Files.isRegularFile(out.resolve("cluster").resolve("cluster.properties"))) {
            // a soak's cluster (soak.json comes only with its first sample, or never if it failed before)
            throw new ParameterException(cl, "--out: " + out + " holds soak's output (cluster/cluster.properties); "
                    + "give each command its own --out");
        }
        for (CommandFiles c : COMMAND_FILES) {
            if (c.examples().stream().anyMatch(own)) {
                continue;
            }
            if (c.command().equals("replay or forecast-bench") && finishedForecastBench(out)) {
                throw new ParameterException(cl, "--out: " + out + " holds forecast-bench's output (forecast.json); "
                        + "give each command its own --out");
            }
            for (String name : names) {
                if (c.names().test(name)) {
                    throw new ParameterException(cl, "--out: " + out + " holds " + c.command() + "'s output ("
                            + name + "); give each command its own --out");
                }
            }
        }
    }

    /** The output directories this JVM's commands hold (for as long as the JVM runs), with their locks. */
    private static final java.util.Map<Path, java.nio.channels.FileLock> CLAIMED = new java.util.HashMap<>();

    /**
     * Claims {@code out} for this JVM's command: an exclusive lock on a file in the temporary directory named by
     * {@code out}'s absolute path (not in {@code out}, which a command may remove again if it made it), held until the
     * JVM ends, when the operating system releases it, however the process ends. A second command started into the
     * same directory while the first reads its input or runs its jobs found the first's partial files, took them for
     * what a run that started no job leaves, and wrote into the same files; now it is refused (exit 2).
     *
     * @throws ParameterException if another process holds the directory
     */
    static void claim(CommandLine cl, Path out) throws IOException {
        claim(cl, out, "--out " + out + " is in use by another keyshift command on this machine (it reads its input "
                + "or runs its jobs there): wait for it to end, or choose another directory");
    }

    /**
     * As {@link #claim(CommandLine, Path)}, refusing with {@code inUse} if another process holds {@code out}.
     *
     * @throws ParameterException if another process holds the directory
     */
    static synchronized void claim(CommandLine cl, Path out, String inUse) throws IOException {
        Path dir = real(out);
        if (CLAIMED.containsKey(dir)) {
            return;
        }
        java.nio.channels.FileLock lock = lockOf(cl, dir, inUse);
        if (lock != null) {
            CLAIMED.put(dir, lock);
        }
    }

    /**
     * The lock of {@code dir}'s {@link #lockFile}, taken; null where no lock file can be made (another user's lock
     * file of the same path, whose directory this user could not write either, or a temporary directory this user
     * cannot write: the command goes on unclaimed).
     *
     * @throws ParameterException with {@code inUse} if another process, or another claim of this JVM's, holds it
     */
    private static java.nio.channels.FileLock lockOf(CommandLine cl, Path dir, String inUse) throws IOException {
        java.nio.channels.FileChannel channel;
        try {
            channel = java.nio.channels.FileChannel.open(lockFile(dir), java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.WRITE);
        } catch (IOException e) {
            return null;
        }
        java.nio.channels.FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            channel.close();
            throw new ParameterException(cl, inUse);
        }
        return lock;
    }

    /**
     * Claims {@code out} for a cluster job's {@code main} while it runs (its checks, the sort of its input, the job
     * itself where {@code execute} waits for it), as {@link #claim(CommandLine, Path)} does for a command: a job
     * submitted into the {@code --out} of a command still running here (a bench before its first bench.json, a replay
     * reading its input) found none of that command's files, and the two wrote side by side. Returns what releases the
     * claim (nothing to release where this JVM's command holds it already, or no lock file can be made).
     *
     * @throws ParameterException if another process, or another job's main in this JVM, holds the directory
     */
    public static synchronized AutoCloseable claimForJob(CommandLine cl, Path out) throws IOException {
        Path dir = real(out);
        if (CLAIMED.containsKey(dir)) {
            return () -> { };
        }
        java.nio.channels.FileLock lock = lockOf(cl, dir, "--out " + out + " is in use by another keyshift command or "
                + "job on this machine (it reads its input or runs there): wait for it to end, or choose another "
                + "directory");
        if (lock == null) {
            return () -> { };
        }
        return () -> {
            lock.release();
            lock.channel().close();
        };
    }

    /**
     * {@code out} as the file system names it: its nearest existing ancestor's real path (symbolic links resolved,
     * the case a case-insensitive file system keeps) and the names below it, so that two spellings of one directory
     * (a link to it, /tmp and /private/tmp) take one claim; the absolute, normalized path where that cannot be read.
     */
    static Path real(Path out) {
        return io.keyshift.jobs.LocalPaths.real(out);
    }

    /** The file whose lock {@link #claim} takes for {@code out}. */
    static Path lockFile(Path out) {
        String digest = io.keyshift.jobs.KeyshiftJob.sha256Hex(real(out).toString()
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return Path.of(System.getProperty("java.io.tmpdir"))
                .resolve("keyshift-out-" + digest.substring(0, 24) + ".lock");
    }

    /**
     * Refuses (exit 2, with or without {@code --overwrite}) an {@code out} that holds a cluster job's output
     * ({@link io.keyshift.jobs.KeyshiftJob#jobOutput}): this command's files would mix with that job's, and its
     * {@code --overwrite} would delete the sorted input that the job's restore reads.
     */
    private static void refuseAJobsOutput(CommandLine cl, Path out) throws IOException {
        String job = io.keyshift.jobs.KeyshiftJob.jobOutput(out);
        if (job != null) {
            throw new ParameterException(cl, "--out: " + out + " holds a cluster job's output (" + job
                    + (job.startsWith(".") ? "" : "/") + "), which this command neither mixes with nor removes; "
                    + "choose another directory");
        }
    }

    /** Names a cluster job writes into its --out too: they tell nothing of which command wrote them. */
    private static final List<String> SHARED_WITH_THE_JOB = List.of(".events.bin", "dead-letters.csv", EVENTS_PART,
            DEAD_LETTERS_PART);

    /**
     * The first entry of {@code dir} (by name) that {@code replay}, {@code forecast-bench}, {@code bench},
     * {@code plan-bench} or {@code soak} writes and a cluster job does not, or null (also for a directory that does
     * not exist): the cluster job refuses such an {@code --out}.
     */
    public static String commandOutput(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return null;
        }
        List<String> found = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path e : entries) {
                String name = e.getFileName().toString();
                // a charts/ directory only with a picture of a report's (as earlier output counts it)
                if (!SHARED_WITH_THE_JOB.contains(name) && (forecastBenchOrReplay(name)
                        || COMMAND_FILES.stream().anyMatch(c -> c.names().test(name)))
                        && !(name.equals("charts") && Files.isDirectory(e) && !holdsChart(e))
                        && !(name.equals("forecast.json") && !finishedForecastBench(dir))) {
                    found.add(name);
                }
            }
        }
        return found.isEmpty() ? null : java.util.Collections.min(found);
    }

    /** Reads an input into the given sorted-events file and dead-letters file. */
    @FunctionalInterface
    interface InputReader {
        ReplayInput.Prepared read(Path sortedEvents, Path deadLetters) throws IOException;
    }

    /**
     * Reads a command's input into {@code out} without losing an earlier run's output to a mistake the input reveals:
     * refuses (exit 2) an {@code out} holding earlier output ({@code earlierOutput}) unless {@code overwrite}; reads
     * the input into temporary files there ({@link #EVENTS_PART}, {@link #DEAD_LETTERS_PART}); if {@code refusal}
     * finds a reason in the input's statistics, removes them, prints it ("keyshift COMMAND: reason") and returns null
     * (exit 2; the earlier output stays as it was); so it does, with the first dead letter's reason, for an input whose
     * every row is a dead letter where earlier output would be removed; otherwise clears the earlier output (as
     * {@link #prepare}) and renames them to {@code .events.bin} and {@code dead-letters.csv}. A read that fails leaves
     * nothing behind.
     */
    static ReplayInput.Prepared readInput(CommandLine cl, Path out, boolean overwrite,
                                          java.util.function.Predicate<String> earlierOutput, InputReader reader,
                                          java.util.function.Function<ReplayInput.Stats, String> refusal)
            throws IOException {
        refuse(cl, out, overwrite, earlierOutput);
        Path eventsPart = out.resolve(EVENTS_PART);
        Path deadLettersPart = out.resolve(DEAD_LETTERS_PART);
        ReplayInput.Prepared read;
        try {
            read = reader.read(eventsPart, deadLettersPart);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(eventsPart);
            Files.deleteIfExists(deadLettersPart);
            FlinkOptions.removeCreatedIfEmpty();
            throw e;
        }
        String refused = refusal.apply(read.stats());
        if (refused != null) {
            Files.deleteIfExists(eventsPart);
            Files.deleteIfExists(deadLettersPart);
            FlinkOptions.removeCreatedIfEmpty();
            cl.getErr().println("keyshift " + cl.getCommandName() + ": " + refused);
            cl.getErr().flush();
            return null;
        }
        java.util.function.Predicate<String> notThisRuns = name -> !name.equals(EVENTS_PART)
                && !name.equals(DEAD_LETTERS_PART) && earlierOutput.test(name);
        List<Path> earlierRuns = earlier(out, notThisRuns);
        if (read.stats().records() == 0 && read.stats().deadLetters() > 0 && !earlierRuns.isEmpty()
                && !leftWithoutJob(out, earlierRuns)) {
            // every row a dead letter (a --time-format that fits no row, the wrong --columns): nothing would replace
            // the earlier run's output that --overwrite removes (it did, and then the command refused the input);
            // the dead letters of a run that left only them are replaced as before, below
            String first = ReplayCommand.firstReason(deadLettersPart);
            Files.deleteIfExists(eventsPart);
            Files.deleteIfExists(deadLettersPart);
            cl.getErr().println("keyshift " + cl.getCommandName() + ": the input has no valid row ("
                    + read.stats().deadLetters() + " dead letters; the first: " + first + "); no job was started, "
                    + "and the earlier run's output in " + out + " stays as it was (--overwrite replaces it only "
                    + "with a run that has valid rows; a new --out keeps every dead letter)");
            cl.getErr().flush();
            return null;
        }
        // this run's own files in part stay (an earlier run's that a kill left were written over)
        try {
            prepare(cl, out, overwrite, notThisRuns, true);
        } catch (IOException | RuntimeException e) {
            // refused there (a cluster job's output appeared while the input was read): the input-sized parts go
            Files.deleteIfExists(eventsPart);
            Files.deleteIfExists(deadLettersPart);
            throw e;
        }
        Files.move(deadLettersPart, out.resolve("dead-letters.csv"));
        return new ReplayInput.Prepared(read.space().moveTo(out.resolve(".events.bin")), read.stats());
    }

    /** The entries of {@code out} that {@code earlierOutput} accepts (a charts/ directory only with a chart). */
    private static List<Path> earlier(Path out, java.util.function.Predicate<String> earlierOutput) throws IOException {
        List<Path> earlier = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(out)) {
            for (Path e : entries) {
                if (earlierOutput.test(e.getFileName().toString()) && !(e.getFileName().toString().equals("charts")
                        && Files.isDirectory(e) && !holdsChart(e))) {
                    earlier.add(e);
                }
            }
        }
        return earlier;
    }

    private static boolean holdsChart(Path charts) throws IOException {
        try (DirectoryStream<Path> pngs = Files.newDirectoryStream(charts, chartsOfOurs(charts))) {
            return pngs.iterator().hasNext();
        }
    }

    /**
     * Whether {@code earlier} is all an earlier replay that started no job left: a replay makes its work directory
     * (.work) before its first job and never removes it; without one, and with nothing but its dead letters (and its
     * sorted input, whole or in part), it started none.
     */
    private static boolean leftWithoutJob(Path out, List<Path> earlier) {
        return earlier.stream().allMatch(e -> LEFT_WITHOUT_JOB.contains(e.getFileName().toString())
                && Files.isRegularFile(e))
                && (Files.notExists(out.resolve("dead-letters.csv")) || deadLettersOfOurs(out.resolve("dead-letters.csv")));
    }

    private static void refuseUnlessOverwrite(CommandLine cl, Path out, boolean overwrite, List<Path> earlier) {
        if (!overwrite) {
            throw new ParameterException(cl, "--out: " + out + " holds an earlier run's output ("
                    + earlier.get(0).getFileName() + (earlier.size() > 1 ? ", ..." : "")
                    + "); choose another directory or add --overwrite");
        }
    }

    /** Refuses (exit 2) or, with {@code overwrite}, clears an earlier replay's output in {@code out}. */
    static void prepare(CommandLine cl, Path out, boolean overwrite) throws IOException {
        // forecast-bench's output too: a replay's files beside a forecast-bench's would be one directory of two runs
        prepare(cl, out, overwrite, ReplayOutput::forecastBenchOrReplay, true);
    }

    /** As {@link #prepare(CommandLine, Path, boolean, java.util.function.Predicate, boolean)}, no replacing. */
    static void prepare(CommandLine cl, Path out, boolean overwrite, java.util.function.Predicate<String> earlierOutput)
            throws IOException {
        prepare(cl, out, overwrite, earlierOutput, false);
    }

    /**
     * Refuses (exit 2) or, with {@code overwrite}, clears the entries of {@code out} that {@code earlierOutput}
     * accepts (by file name); every other entry is left as it is.
     */
    static void prepare(CommandLine cl, Path out, boolean overwrite, java.util.function.Predicate<String> earlierOutput,
                        boolean replaceWhatNoJobLeft) throws IOException {
        claim(cl, out);
        refuseAJobsOutput(cl, out);
        refuseOtherCommandsOutput(cl, out, earlierOutput);
        List<Path> earlier = earlier(out, earlierOutput);
        if (earlier.isEmpty()) {
            return;
        }
        if (replaceWhatNoJobLeft && leftWithoutJob(out, earlier)) {
            // all an earlier replay left is its dead letters (and its sorted input): it started no job (every row
            // a dead letter, or it was stopped while reading its input), so this run replaces them, saying so
            for (Path e : earlier) {
                Files.delete(e);
            }
            cl.getErr().println(cl.getCommandName() + ": replaced what an earlier run left without results in "
                    + out + " (" + earlier.stream().map(e -> e.getFileName().toString()).sorted()
                    .collect(java.util.stream.Collectors.joining(", ")) + ")");
            cl.getErr().flush();
            return;
        }
        refuseUnlessOverwrite(cl, out, overwrite, earlier);
        // (read before report.html goes, which names the report's forecast charts)
        DirectoryStream.Filter<Path> charts = chartsOfOurs(out.resolve("charts"));
        for (Path e : earlier) {
            if (e.getFileName().toString().equals("charts") && Files.isDirectory(e)) {
                // the report's pictures; anything else a user keeps there stays
                try (DirectoryStream<Path> pngs = Files.newDirectoryStream(e, charts)) {
                    for (Path png : pngs) {
                        Files.delete(png);
                    }
                }
                try (Stream<Path> left = Files.list(e)) {
                    if (left.findAny().isEmpty()) {
                        Files.delete(e);
                    }
                }
                continue;
            }
            try (Stream<Path> tree = Files.walk(e)) {
                tree.sorted(Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.delete(p);
                    } catch (IOException x) {
                        throw new UncheckedIOException(x);
                    }
                });
            }
        }
    }
}
