package io.keyshift.jobs.cli;

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
final class ReplayOutput {
    private ReplayOutput() {}

    /** The runs a replay names its files by: its strategies and its scaled runs. */
    private static final List<String> RUNS = List.of("hash", "reactive", "predictive", "scaled-predictive",
            "scaled-reactive");

    /** What a replay names its per-run files: prefix + run + suffix. */
    private static final List<String> PER_RUN_CSV = List.of("results-", "moves-", "scaling-", "rescales-",
            "control-rejected-", "control-", "reverts-", "forecast-units-", "loads-", "utilization-");

    /** Whether {@code file} begins as the dead letters keyshift writes (not a file of the user's by that name). */
    private static boolean deadLettersOfOurs(Path file) {
        try (java.io.BufferedReader r = Files.newBufferedReader(file, java.nio.charset.StandardCharsets.UTF_8)) {
            return "raw_line,line_number,reason".equals(r.readLine());
        } catch (IOException | UncheckedIOException e) {
            return false;
        }
    }

    /** True for an entry of {@code --out} that a replay writes ({@code charts}: only its PNG files, see prepare). */
    static boolean ours(String name) {
        if (name.equals("report.json") || name.equals("report.html") || name.equals("charts")
                || name.equals("dead-letters.csv") || name.equals(".work") || name.equals(".events.bin")
                || name.equals(".report.json.tmp")) {
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
        Path dir = out.toAbsolutePath().normalize();
        inputs.forEach((option, path) -> {
            if (path == null) {
                return;
            }
            Path p = path.toAbsolutePath().normalize();
            if (p.startsWith(dir) && !p.equals(dir)) {
                String entry = dir.relativize(p).getName(0).toString();
                if (written.test(entry)) {
                    throw new ParameterException(cl, option + ": " + path + " lies in --out " + out + " under a name "
                            + "this command writes itself or removes with --overwrite (" + entry + "); move it out of "
                            + "--out");
                }
            }
        });
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
        List<Path> earlier = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(out)) {
            for (Path e : entries) {
                if (earlierOutput.test(e.getFileName().toString())) {
                    earlier.add(e);
                }
            }
        }
        if (earlier.isEmpty()) {
            return;
        }
        // a replay makes its work directory (.work) before its first job and never removes it: without one, and with
        // nothing but its dead letters (and its sorted input), the earlier replay started no job
        if (replaceWhatNoJobLeft && earlier.stream().allMatch(e -> List.of("dead-letters.csv", ".events.bin")
                .contains(e.getFileName().toString()) && Files.isRegularFile(e))
                && earlier.stream().anyMatch(e -> e.getFileName().toString().equals("dead-letters.csv"))
                && deadLettersOfOurs(out.resolve("dead-letters.csv"))) {
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
        if (!overwrite) {
            throw new ParameterException(cl, "--out: " + out + " holds an earlier run's output ("
                    + earlier.get(0).getFileName() + (earlier.size() > 1 ? ", ..." : "")
                    + "); choose another directory or add --overwrite");
        }
        for (Path e : earlier) {
            if (e.getFileName().toString().equals("charts") && Files.isDirectory(e)) {
                // the report's pictures; anything else a user keeps there stays
                try (DirectoryStream<Path> pngs = Files.newDirectoryStream(e, "*.png")) {
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
