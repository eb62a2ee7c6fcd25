package io.keyshift.jobs.cli;

import io.keyshift.jobs.source.ZipfDriftGenerator;

import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.time.Instant;

/** The built-in generator's options (picocli mixin), shared by {@code replay} and the cluster job. */
public final class GeneratorOptions {
    /** Event time of the generator's first record. */
    public static final long START = Instant.parse("2026-01-05T00:00:00Z").toEpochMilli();

    @Option(names = "--generator-records", defaultValue = "336000", paramLabel = "N",
            description = "Generator: records (0 = unbounded, cluster job only). Default: ${DEFAULT-VALUE}.")
    long records;

    @Option(names = "--generator-days", defaultValue = "7", paramLabel = "DAYS",
            description = "Generator: days of event time that --generator-records span (with 0 records, an endless "
                    + "stream: 336,000 records per DAYS days of event time; with --generator-peak-factor above 1 only "
                    + "whole days hold exactly their share: every day begins at the night rate, so a fraction of a day "
                    + "that ends before 18:00 spans longer, one that ends after it shorter). Default: "
                    + "${DEFAULT-VALUE}.")
    double days;

    @Option(names = "--generator-keys", defaultValue = "1000", paramLabel = "N",
            description = "Generator: distinct keys, 1.." + MAX_KEYS_TEXT + " (a table of a double per key, "
                    + "one for every source subtask of a JVM). Default: ${DEFAULT-VALUE}.")
    int keys;

    @Option(names = "--generator-zipf", defaultValue = "1.2", paramLabel = "S",
            description = "Generator: Zipf exponent of the key popularity. Default: ${DEFAULT-VALUE}.")
    double zipf;

    @Option(names = "--generator-drift", defaultValue = "10", paramLabel = "KEYS",
            description = "Generator: how many key positions the hot set moves away and back each day (around the "
                    + "ring of keys: a drift of --generator-keys is back home at noon). Default: ${DEFAULT-VALUE}.")
    int drift;

    @Option(names = "--seed", defaultValue = "42", paramLabel = "N", description = "Generator seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--generator-hot-share", defaultValue = "0", paramLabel = "SHARE",
            description = "Generator: share in [0, 1) of all records that go to one key, '" + ZipfDriftGenerator.HOT_KEY
                    + "' (the rest follow the Zipf law). Default: ${DEFAULT-VALUE}.")
    double hotShare;

    @Option(names = "--generator-peak-factor", defaultValue = "1", paramLabel = "F",
            description = "Generator: daytime rate over night rate, 1..1000: the rate rises from 6:00 to 12:00 to F times "
                    + "the night rate and falls back from 18:00 to 24:00 (2 = doubles over the morning, halves at "
                    + "night). Default: ${DEFAULT-VALUE} (constant).")
    double peakFactor;

    /**
     * Most days of event time the generator's records may span: from {@link #START} to the end of the year 9999, the
     * latest event time keyshift takes ({@link io.keyshift.jobs.input.EventParser#MAX_EVENT_TIME}; 10,000,000 let
     * records past it, times a control command cannot name). An endless stream ({@code --generator-records 0}) takes
     * {@code --generator-days} as its rate and passes the year 9999 after about {@code 336,000 * MAX_DAYS / DAYS}
     * records.
     */
    public static final long MAX_DAYS = (io.keyshift.jobs.input.EventParser.MAX_EVENT_TIME - START) / 86_400_000L;

    /**
     * Most distinct keys of the generator: its cumulative Zipf table holds a double per key, one table for every
     * source subtask of a JVM (160 MB at the most).
     */
    public static final int MAX_KEYS = 20_000_000;
    private static final String MAX_KEYS_TEXT = "20,000,000";

    /** The generator; {@code allowUnbounded} lets 0 records mean an endless stream. ParameterException if invalid. */
    public ZipfDriftGenerator generator(CommandLine cl, boolean allowUnbounded) {
        if (records < 0 || (records == 0 && !allowUnbounded)) {
            throw bad(cl, "--generator-records", (allowUnbounded ? ">= 0" : "> 0"), records);
        }
        if (!(days > 0 && days <= MAX_DAYS)) {
            // far beyond it the records' event times left the range of a long (and went back) once the job ran
            throw bad(cl, "--generator-days", "> 0 and at most " + MAX_DAYS + " (the year 9999)", days);
        }
        if (keys < 1 || keys > MAX_KEYS) {
            // beyond it the generator's table (a double per key) ran the JVM out of heap:
            // "OutOfMemoryError: Java heap space", naming no option
            throw bad(cl, "--generator-keys", "in 1.." + MAX_KEYS_TEXT, keys);
        }
        if (!(zipf >= 0 && zipf < Double.POSITIVE_INFINITY)) {
            throw bad(cl, "--generator-zipf", ">= 0 and finite", zipf);
        }
        if (drift < 0) {
            throw bad(cl, "--generator-drift", ">= 0", drift);
        }
        if (!(hotShare >= 0 && hotShare < 1)) {
            throw bad(cl, "--generator-hot-share", "in [0, 1)", hotShare);
        }
        if (!(peakFactor >= 1 && peakFactor <= io.keyshift.jobs.source.ZipfDriftGenerator.MAX_PEAK_FACTOR)) {
            throw bad(cl, "--generator-peak-factor", "in 1..1000", peakFactor);
        }
        long n = records == 0 ? Long.MAX_VALUE : records;
        // the night rate: a day holds (1 + F) / 2 days' worth of it
        double perSecond = (records == 0 ? 336_000 : records) / (days * 86400.0 * (1 + peakFactor) / 2);
        return new ZipfDriftGenerator(n, START, perSecond, keys, zipf, drift, seed, hotShare, peakFactor);
    }

    private static ParameterException bad(CommandLine cl, String option, String expected, Object was) {
        return new ParameterException(cl, option + " must be " + expected + ", was " + was);
    }

    /** These options as job arguments, with {@code records} and {@code days} in place of the given ones. */
    public java.util.List<String> args(long records, double days) {
        return java.util.List.of("--generator-records", Long.toString(records), "--generator-days", Double.toString(days),
                "--generator-keys", Integer.toString(keys), "--generator-zipf", Double.toString(zipf),
                "--generator-drift", Integer.toString(drift), "--seed", Long.toString(seed),
                "--generator-hot-share", Double.toString(hotShare), "--generator-peak-factor", Double.toString(peakFactor));
    }

    /** Sets the record count and the days they span (a command that sizes the generator itself). */
    public void size(long records, double days) {
        this.records = records;
        this.days = days;
    }

    /**
     * Why a bounded generator's days split into more planning windows of {@code window} than a job plans (as
     * {@code replay} refuses them), or null; null for an unbounded one ({@code --generator-records 0}).
     */
    public String tooManyWindows(java.time.Duration window) {
        return records > 0 ? ReplayCommand.tooManyWindows(days, window) : null;
    }

    public String describe() {
        return String.format("generator (%s records, %d keys, Zipf %.2f, daily drift %d%s%s)",
                records == 0 ? "unbounded" : String.format("%,d", records), keys, zipf, drift,
                hotShare > 0 ? String.format(", %.0f%% on one key", 100 * hotShare) : "",
                peakFactor > 1 ? String.format(", daytime rate %.2f x night", peakFactor) : "");
    }
}
