package io.keyshift.jobs.cli;

import io.keyshift.jobs.input.EventParser;
import io.keyshift.jobs.input.InputSpec;
import io.keyshift.jobs.input.ReplayInput;

import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The input options shared by the commands that read a CSV file (picocli mixin). They are optional to picocli so that
 * {@code replay} can fall back to the generator; {@link #spec} checks that key and time come with an input.
 */
public final class InputOptions {
    @Option(names = "--input", paramLabel = "FILE",
            description = "CSV file, optionally gzipped; rows need not be in time order (they are sorted).")
    Path input;

    @Option(names = "--columns", split = ",", paramLabel = "a,b,c", hideParamSyntax = true,
            description = "Column names for a file without a header row (otherwise the first row is the header).")
    List<String> columns = new ArrayList<>();

    @Option(names = "--key", paramLabel = "COL", description = "Key column (required with --input).")
    String key;

    @Option(names = "--time", split = ",", paramLabel = "COL[,COL...]", hideParamSyntax = true,
            description = "Event-time column(s), joined with a space before parsing (required with --input).")
    List<String> time = new ArrayList<>();

    @Option(names = "--time-format", paramLabel = "PATTERN",
            description = "java.time pattern of the time; in --time-zone unless it has an offset; or epoch-millis, "
                    + "epoch-seconds for a number since 1970-01-01T00:00:00Z. Default: ISO-8601 or "
                    + "yyyy-MM-dd HH:mm:ss[XXX].")
    String timeFormat;

    @Option(names = "--time-zone", paramLabel = "ZONE",
            description = "Zone of the times whose text has no offset or zone, e.g. America/New_York (a local time "
                    + "that a clock change skips moves on by the gap; one it repeats takes the earlier offset). "
                    + "Default: UTC.")
    String timeZone;

    private InputSpec spec(CommandLine cl, Optional<String> sumField) {
        try {
            return new InputSpec(columns, key, time, Optional.ofNullable(timeFormat), sumField, timeZone);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, e.getMessage());
        }
    }

    /** The input file, or null. */
    public Path input() {
        return input;
    }

    /** True if an input file was given. */
    public boolean present() {
        return input != null;
    }

    /**
     * The description of a stream's records (a Kafka topic, {@code option} names it in messages): {@code --key}
     * and {@code --time} are required, and for CSV records {@code --columns} too (a record has no header row), which
     * must name the key, time and sum columns. ParameterException (exit 2) names what is wrong.
     *
     * @param json true for JSON objects, whose fields the key, time and sum columns name ({@code --columns} unused)
     */
    public InputSpec streamSpec(CommandLine cl, String option, String sumField, boolean json) {
        if (input != null) {
            throw new ParameterException(cl, "--input and " + option + " exclude each other");
        }
        if (key == null) {
            throw new ParameterException(cl, "--key is required with " + option);
        }
        if (time.isEmpty()) {
            throw new ParameterException(cl, "--time is required with " + option);
        }
        if (!json && columns.isEmpty()) {
            throw new ParameterException(cl, "--columns is required with " + option + " (CSV records have no header row)");
        }
        InputSpec spec = spec(cl, Optional.ofNullable(sumField));
        try {
            if (json) {
                EventParser.forFields(spec);
            } else {
                new EventParser(spec, columns);
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, e.getMessage());
        }
        return spec;
    }

    /**
     * Validates the description against the file's columns; ParameterException (exit 2) names what is wrong.
     *
     * @param sumField a numeric column to sum, or null
     * @param keySecret whether {@code keyshift.privacy.key-secret} is set: a message then names no header value (the
     *                  first line of a file without a header row read without --columns is a record, with its key)
     */
    public InputSpec spec(CommandLine cl, String sumField, boolean keySecret) {
        if (input == null) {
            throw new ParameterException(cl, "--input is required");
        }
        if (!Files.isRegularFile(input) || !Files.isReadable(input)) {
            throw new ParameterException(cl, "--input: not a readable file: '" + input + "'");
        }
        if (key == null) {
            throw new ParameterException(cl, "--key is required with --input");
        }
        if (time.isEmpty()) {
            throw new ParameterException(cl, "--time is required with --input");
        }
        InputSpec spec = spec(cl, Optional.ofNullable(sumField));
        try {
            new EventParser(spec, ReplayInput.header(input, spec));
        } catch (EventParser.UnknownColumnException e) {
            throw new ParameterException(cl, keySecret && spec.columns().isEmpty() ? e.withoutColumns()
                    : e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, e.getMessage());
        } catch (IOException e) {
            throw new ParameterException(cl, "--input: " + e.getMessage());
        } catch (java.io.UncheckedIOException e) {
            // Commons CSV's reading of the header row (an unclosed quote, ...)
            throw new ParameterException(cl, "--input: " + input + ": its header row is not a CSV row ("
                    + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()) + ")");
        }
        return spec;
    }
}
