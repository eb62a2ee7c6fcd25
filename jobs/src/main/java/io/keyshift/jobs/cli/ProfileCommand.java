package io.keyshift.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.io.BufferedReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code keyshift profile}: the profiler's view of a replay over a time range, window by window: records, the heavy
 * hitters with their estimates and error bounds, and the forecast made after the window for the next one. Reads the
 * replay's {@code profiles-<strategy>.jsonl} and {@code forecast-units-<strategy>.csv}.
 */
@Command(name = "profile",
        header = "Prints a replay's window profiles: top keys, error bounds and forecasts.",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Prints the profiler's view of a replay window by window: records, the top keys with their",
            "estimated counts and error bounds, and the forecast made after the window for the next one.",
            "Exit status: 0 printed, 1 a damaged profile or forecast file (its name and line), 2 bad options or",
            "no such replay output."},
        footer = {"", "Example:",
            "  bin/keyshift profile --dir out/bikes --from 2014-07-01T00:00:00Z --to 2014-07-08T00:00:00Z --top 3"})
public final class ProfileCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", required = true, description = "A replay's --out directory.")
    Path dir;

    @Option(names = "--strategy", paramLabel = "S", defaultValue = "predictive",
            description = "reactive or predictive. Default: ${DEFAULT-VALUE}.")
    String strategy;

    @Option(names = "--from", paramLabel = "TIME", description = "First window start to print (ISO-8601 instant or "
            + "epoch ms). Default: the first window.")
    String from;

    @Option(names = "--to", paramLabel = "TIME", description = "Print windows that start before this time. Default: "
            + "after the last window.")
    String to;

    @Option(names = "--top", paramLabel = "N", defaultValue = "5", description = "Top keys per window. Default: "
            + "${DEFAULT-VALUE}.")
    int top;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (!strategy.equals("predictive") && !strategy.equals("reactive")) {
            // hash makes no plans and profiles nothing
            throw new ParameterException(cl, "--strategy must be reactive or predictive, was '" + strategy + "'");
        }
        Path profiles = dir.resolve("profiles-" + strategy + ".jsonl");
        if (!Files.isRegularFile(profiles)) {
            String other = strategy.equals("predictive") ? "reactive" : "predictive";
            throw new ParameterException(cl, "--dir: no " + profiles.getFileName() + " in " + dir
                    + " (the --out of a replay that ran the " + strategy + " strategy)"
                    + (Files.isRegularFile(dir.resolve("profiles-" + other + ".jsonl"))
                    ? "; it has " + other + "'s: add --strategy " + other : ""));
        }
        if (top < 0) {
            throw new ParameterException(cl, "--top must be >= 0, was " + top);
        }
        long lo = time(cl, "--from", from, Long.MIN_VALUE);
        long hi = time(cl, "--to", to, Long.MAX_VALUE);
        if (hi <= lo) {
            throw new ParameterException(cl, "--to must be after --from (the range is [--from, --to)), were " + from
                    + " and " + to);
        }
        // first every line is checked and the windows in range found, so that a damaged line prints nothing and
        // only the forecasts of those windows are kept (a year of 1-minute windows holds millions of forecast rows)
        ObjectMapper json = new ObjectMapper();
        // the ends of the windows printed (read again to print: a long range is not held in memory)
        java.util.Set<Long> ends = new java.util.HashSet<>();
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        try (BufferedReader r = Files.newBufferedReader(profiles, StandardCharsets.UTF_8)) {
            long lineNumber = 0;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode p;
                try {
                    p = json.readTree(line);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    return damaged(cl, profiles, lineNumber, "not JSON (" + e.getOriginalMessage() + ")");
                }
                String wrong = notAProfile(p);
                if (wrong != null) {
                    return damaged(cl, profiles, lineNumber, wrong);
                }
                long start = p.get("window_start").asLong();
                first = Math.min(first, start);
                last = Math.max(last, start);
                if (start >= lo && start < hi) {
                    ends.add(p.get("window_end").asLong());
                }
            }
        } catch (java.nio.charset.CharacterCodingException e) {
            // the reader decodes ahead: the file, not the line
            return damaged(cl, profiles, -1, "not UTF-8 text");
        }
        // the forecast made after window w for the next window, per key, for the windows printed
        Map<Long, Map<String, double[]>> forecasts = new HashMap<>();
        Path units = dir.resolve("forecast-units-" + strategy + ".csv");
        if (Files.isRegularFile(units)) {
            try (Reader r = Files.newBufferedReader(units, StandardCharsets.UTF_8);
                 org.apache.commons.csv.CSVParser parser = CSVFormat.RFC4180.builder().setHeader()
                         .setSkipHeaderRecord(true).build().parse(r)) {
                // an empty file or another header would print every profile without its forecasts
                for (String column : List.of("window_end", "key", "forecast_next", "lower_next", "upper_next")) {
                    if (!parser.getHeaderNames().contains(column)
                            || parser.getHeaderNames().indexOf(column) != parser.getHeaderNames().lastIndexOf(column)) {
                        return damaged(cl, units, 1, "its header needs the column '" + column + "' once, has "
                                + parser.getHeaderNames());
                    }
                }
                for (CSVRecord rec : parser) {
                    if (rec.size() == 1 && rec.get(0).isEmpty()) {
                        // the blank line a run without forecast lines ends its file with
                        continue;
                    }
                    try {
                        long end = Long.parseLong(rec.get("window_end"));
                        double[] f = {Double.parseDouble(rec.get("forecast_next")),
                            Double.parseDouble(rec.get("lower_next")), Double.parseDouble(rec.get("upper_next"))};
                        if (ends.contains(end)) {
                            forecasts.computeIfAbsent(end, k -> new HashMap<>()).put(rec.get("key"), f);
                        }
                    } catch (IllegalArgumentException | IllegalStateException e) {
                        return damaged(cl, units, rec.getRecordNumber() + 1, e.getMessage());
                    }
                }
            } catch (java.io.UncheckedIOException | IllegalStateException | IllegalArgumentException e) {
                // (Commons CSV's refusal of a header, e.g. a name missing)
                return damaged(cl, units, -1, e.getCause() instanceof java.nio.charset.CharacterCodingException
                        ? "not UTF-8 text" : e.getMessage());
            } catch (java.nio.charset.CharacterCodingException e) {
                return damaged(cl, units, -1, "not UTF-8 text");
            } catch (java.io.IOException e) {
                // Commons CSV reads the header as it opens the file: a damaged one (an unclosed quote) is a
                // CSVException, an IOException, which named neither the file nor the line
                return damaged(cl, units, e instanceof org.apache.commons.csv.CSVException ? 1 : -1, e.getMessage());
            }
        }
        // the command's own output (System.out by default; an embedding caller's writer otherwise)
        java.io.PrintWriter out = cl.getOut();
        java.util.Locale root = java.util.Locale.ROOT;
        int windows = 0;
        // the file checked above, read again: the same lines
        try (BufferedReader r = Files.newBufferedReader(profiles, StandardCharsets.UTF_8)) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode p = json.readTree(line);
                long start = p.get("window_start").asLong();
                long end = p.get("window_end").asLong();
                if (start < lo || start >= hi) {
                    continue;
                }
                windows++;
                // the rate as given (0.001 printed as 0.00 with two decimals); numbers as in every locale
                out.printf(root, "%s .. %s  %,d records, sampling rate %s, max error %.1f, %d key groups with "
                        + "records%n", Instant.ofEpochMilli(start), Instant.ofEpochMilli(end), p.get("records").asLong(),
                        java.math.BigDecimal.valueOf(p.get("sampling_rate").asDouble()).stripTrailingZeros()
                                .toPlainString(), p.get("max_error").asDouble(), p.get("key_group_counts").size());
                Map<String, double[]> next = forecasts.getOrDefault(end, Map.of());
                int n = 0;
                for (JsonNode k : p.get("top_keys")) {
                    if (n++ >= top) {
                        break;
                    }
                    double[] f = next.get(k.get("key").asText());
                    out.printf(root, "  %-40s key group %4d  %10.1f [%.1f, %.1f]%s%n", k.get("key").asText(),
                            k.get("key_group").asInt(), k.get("estimate").asDouble(), k.get("lower").asDouble(),
                            k.get("upper").asDouble(), f == null ? "" : String.format(root,
                                    "  next window forecast %.1f [%.1f, %.1f]", f[0], f[1], f[2]));
                }
            }
        }
        if (windows == 0 && first <= last) {
            // a range past the replay, or epoch seconds taken for milliseconds: say what the file covers
            throw new ParameterException(cl, "no window starts in [--from, --to) = [" + (from == null ? "-inf"
                    : Instant.ofEpochMilli(lo)) + ", " + (to == null ? "+inf" : Instant.ofEpochMilli(hi)) + "); the "
                    + "profiles' windows start from " + Instant.ofEpochMilli(first) + " to " + Instant.ofEpochMilli(last));
        }
        out.printf("%d window%s%n", windows, windows == 1 ? "" : "s");
        out.flush();
        return 0;
    }

    /** Why {@code p} is not a window profile as the replay writes it, or null: each field there, of its type. */
    static String notAProfile(JsonNode p) {
        if (!p.isObject()) {
            return "not a window profile (not a JSON object)";
        }
        for (String field : List.of("window_start", "window_end", "records", "sampling_rate", "max_error",
                "key_group_counts", "top_keys")) {
            if (!p.hasNonNull(field)) {
                return "not a window profile (no '" + field + "')";
            }
        }
        for (String field : List.of("window_start", "window_end", "records")) {
            if (!p.get(field).canConvertToLong() || !p.get(field).isIntegralNumber()) {
                return "'" + field + "' is not a whole number of at most 64 bits: " + p.get(field);
            }
        }
        for (String field : List.of("sampling_rate", "max_error")) {
            // (1e400 reads as an infinite double: the rate's printing failed halfway through the output)
            if (!p.get(field).isNumber() || !Double.isFinite(p.get(field).asDouble())) {
                return "'" + field + "' is not a finite number: " + p.get(field);
            }
        }
        if (!p.get("key_group_counts").isContainerNode()) {
            return "'key_group_counts' is neither an object nor an array";
        }
        if (!p.get("top_keys").isArray()) {
            return "'top_keys' is not an array";
        }
        for (JsonNode k : p.get("top_keys")) {
            for (String field : List.of("key", "key_group", "estimate", "lower", "upper")) {
                if (!k.hasNonNull(field)) {
                    return "a top key without '" + field + "'";
                }
            }
            if (!k.get("key_group").canConvertToInt() || !k.get("key_group").isIntegralNumber()) {
                return "a top key's 'key_group' is not a whole number: " + k.get("key_group");
            }
            for (String field : List.of("estimate", "lower", "upper")) {
                if (!k.get(field).isNumber() || !Double.isFinite(k.get(field).asDouble())) {
                    return "a top key's '" + field + "' is not a finite number: " + k.get(field);
                }
            }
        }
        return null;
    }

    /** Prints one line naming the file and line (or only the file, for {@code line} < 0) and returns exit 1. */
    private static int damaged(CommandLine cl, Path file, long line, String reason) {
        cl.getErr().println("keyshift profile: " + file + (line >= 0 ? " line " + line : "") + ": " + reason);
        cl.getErr().flush();
        return 1;
    }

    private static long time(CommandLine cl, String option, String value, long otherwise) {
        if (value == null) {
            return otherwise;
        }
        try {
            return io.keyshift.control.ControlCommand.instant(value.strip());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, option + ": " + e.getMessage());
        }
    }
}
