package io.keyshift.forecast;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Known events that the load history cannot foretell (public holidays, a campaign, a scheduled batch), as time
 * ranges with a label, and the rule by which the forecaster treats the windows they mark.
 *
 * <p><b>Which windows are marked.</b> A window is marked when its midpoint lies in an entry's range (start
 * inclusive, end exclusive), so a day-long window is marked by the day that holds most of it. Calendars describe
 * windows of at most a day.
 *
 * <p><b>Day type.</b> A marked window is forecast like the mean of the same local time on the most recent earlier
 * days of {@link #likeDays()} (by default the last two Sundays) that the calendar does not mark: a holiday is a
 * Sunday, the day-type
 * treatment of holidays in load forecasting (Hyndman &amp; Athanasopoulos, "Forecasting: Principles and
 * Practice", 3rd ed., §7.4 "Some useful predictors": trading days and holidays as dummy variables, i.e. a day type of
 * their own; holidays treated as Sundays: Hong, "Short Term Electric Load Forecasting", PhD thesis, NC State 2010,
 * §4). A mean of several days, because one day's counts carry their full Poisson noise. See
 * {@link #referenceStarts}.
 *
 * <p><b>Observation</b> ({@link #markedAsMissing()}, {@link SeriesForecaster#observeMarked}). By default the
 * series' models learn from a marked window's load as from any other. Alternatively they take it as a missing
 * observation, which in a state-space (exponential smoothing) model means the state moves on with the one-step
 * prediction (Hyndman, Koehler, Ord &amp; Snyder, "Forecasting with Exponential Smoothing", 2008, §6.5; FPP3 §13.9
 * "Dealing with outliers and missing values"): the day after a holiday is then forecast as if the holiday had been
 * an ordinary day. Either way the backtest that chooses a series' model does not score the marked window.
 *
 * <p><b>File format</b> ({@link #read}): CSV, one entry per line, {@code #} starts a comment line, an optional header
 * whose first field is {@code date}, {@code first} or {@code start}; a leading byte order mark is ignored:
 * <ul>
 *   <li>{@code date,label}: one day, e.g. {@code 2014-07-04,holiday};</li>
 *   <li>{@code first,last,label}: a range of whole days (both inclusive), e.g. {@code 2014-12-24,2014-12-26,xmas};</li>
 *   <li>{@code start,end,label} with ISO local date-times ({@code 2014-11-03T18:00}), end exclusive.</li>
 * </ul>
 * Dates and times are local to {@link #zone()}. Instances are immutable and serializable (the job carries the
 * parsed entries; the file is read once, where the job is built).
 */
public final class ForecastCalendar implements Serializable {
    private static final long serialVersionUID = 1L;

    /** One entry: [startMillis, endMillis) epoch milliseconds, with its label. */
    public record Entry(long startMillis, long endMillis, String label) implements Serializable {
        public Entry {
            if (endMillis <= startMillis) {
                throw new IllegalArgumentException("entry '" + label + "' ends before it starts");
            }
            Objects.requireNonNull(label, "label");
        }
    }

    private final Entry[] entries;
    private final String zoneId;
    private final java.util.EnumSet<DayOfWeek> likeDays;
    private final int referenceDays;
    private final boolean markedAsMissing;
    private transient ZoneId zone;

    /**
     * @param entries       the calendar's ranges (any order; they may overlap)
     * @param zone          the zone of the calendar's local dates and of the "same local time" of a reference day
     * @param likeDays      the days of week whose load a marked window is forecast like (not empty)
     * @param referenceDays how many of the most recent unmarked like-days a marked window's forecast averages, >= 1
     * @param markedAsMissing whether the models take a marked window's load as missing (else as any other)
     */
    public ForecastCalendar(List<Entry> entries, ZoneId zone, java.util.Collection<DayOfWeek> likeDays,
                            int referenceDays, boolean markedAsMissing) {
        if (likeDays.isEmpty()) {
            throw new IllegalArgumentException("at least one like-day is needed");
        }
        if (referenceDays < 1) {
            throw new IllegalArgumentException("reference days must be >= 1, was " + referenceDays);
        }
        this.entries = entries.toArray(new Entry[0]);
        Arrays.sort(this.entries, Comparator.comparingLong(Entry::startMillis).thenComparingLong(Entry::endMillis));
        this.zoneId = zone.getId();
        this.zone = zone;
        this.likeDays = java.util.EnumSet.copyOf(likeDays);
        this.referenceDays = referenceDays;
        this.markedAsMissing = markedAsMissing;
    }

    /** Whether the models take a marked window's load as missing ({@link SeriesForecaster#observeMarked}). */
    public boolean markedAsMissing() {
        return markedAsMissing;
    }

    /**
     * Days back that {@link #referenceStarts} may reach: enough weeks to hold {@link #referenceDays()} like-days,
     * one more week for marked ones, and a day of rounding.
     */
    public int reachDays() {
        // in long: a reference-days near Integer.MAX_VALUE overflowed to a negative reach that passed the bound
        long weeks = ((long) referenceDays + likeDays.size() - 1) / likeDays.size() + 1;
        return (int) Math.min(Integer.MAX_VALUE, 7 * weeks + 1);
    }

    /**
     * Reads a calendar file (format: class comment).
     *
     * @throws IllegalArgumentException naming the file and line of a bad entry, or a missing or unreadable file
     */
    public static ForecastCalendar read(Path file, ZoneId zone, java.util.Collection<DayOfWeek> likeDays,
                                        int referenceDays, boolean markedAsMissing) {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(in, file.toString(), zone, likeDays, referenceDays, markedAsMissing);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("calendar file " + file + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read calendar file " + file + ": " + e.getMessage());
        }
    }

    /** Parses calendar text ({@code source} names it in errors); see {@link #read}. */
    public static ForecastCalendar parse(Reader text, String source, ZoneId zone,
                                         java.util.Collection<DayOfWeek> likeDays, int referenceDays,
                                         boolean markedAsMissing) throws IOException {
        List<Entry> out = new ArrayList<>();
        CSVFormat format = CSVFormat.DEFAULT.builder().setCommentMarker('#').setIgnoreSurroundingSpaces(true)
                .setIgnoreEmptyLines(true).build();
        java.io.StringWriter whole = new java.io.StringWriter();
        text.transferTo(whole);
        StringBuffer all = whole.getBuffer();
        // a byte order mark (a spreadsheet's "CSV UTF-8") is no part of the first field
        if (!all.isEmpty() && all.charAt(0) == '\uFEFF') {
            all.deleteCharAt(0);
        }
        // the parser counts the line breaks read: a last line without one would be named as the line before it
        if (!all.isEmpty() && all.charAt(all.length() - 1) != '\n') {
            all.append('\n');
        }
        try (CSVParser parser = CSVParser.parse(all.toString(), format)) {
            for (CSVRecord r : parser) {
                long line = r.getParser().getCurrentLineNumber();
                String first = r.get(0);
                if (r.getRecordNumber() == 1 && (first.equalsIgnoreCase("date") || first.equalsIgnoreCase("first")
                        || first.equalsIgnoreCase("start"))) {
                    continue;
                }
                try {
                    out.add(entry(r, zone));
                } catch (java.time.DateTimeException | ArithmeticException | IllegalArgumentException e) {
                    // a year of nine digits parses and overflows: "long overflow" without file or line, exit 1
                    throw new IllegalArgumentException(source + " line " + line + ": "
                            + (e instanceof ArithmeticException ? "a time beyond epoch milliseconds" : e.getMessage())
                            + " (expected date,label or first,last,label with yyyy-MM-dd dates, or"
                            + " start,end,label with yyyy-MM-ddTHH:mm local times)");
                }
            }
        } catch (java.io.UncheckedIOException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage());
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(source + " has no entries");
        }
        return new ForecastCalendar(out, zone, likeDays, referenceDays, markedAsMissing);
    }

    private static Entry entry(CSVRecord r, ZoneId zone) {
        if (r.size() == 2) {
            LocalDate d = LocalDate.parse(r.get(0));
            if (r.get(1).matches("\\d{4}-\\d{2}-\\d{2}.*")) {
                // first,last without its label: read as date,label it marked the first day alone
                throw new IllegalArgumentException("'" + r.get(1) + "' is a date, not a label: a range of days is "
                        + "first,last,label");
            }
            return new Entry(startOf(d, zone), startOf(d.plusDays(1), zone), label(r.get(1)));
        }
        if (r.size() == 3) {
            String a = r.get(0);
            String b = r.get(1);
            if (a.contains("T") != b.contains("T")) {
                throw new IllegalArgumentException("'" + a + "' and '" + b + "' mix a date and a date-time");
            }
            if (a.contains("T")) {
                return new Entry(LocalDateTime.parse(a).atZone(zone).toInstant().toEpochMilli(),
                        LocalDateTime.parse(b).atZone(zone).toInstant().toEpochMilli(), label(r.get(2)));
            }
            LocalDate from = LocalDate.parse(a);
            LocalDate to = LocalDate.parse(b);
            if (to.isBefore(from)) {
                throw new IllegalArgumentException("last day " + to + " is before first day " + from);
            }
            return new Entry(startOf(from, zone), startOf(to.plusDays(1), zone), label(r.get(2)));
        }
        throw new IllegalArgumentException(r.size() + " fields");
    }

    private static String label(String s) {
        if (s.isBlank()) {
            throw new IllegalArgumentException("empty label");
        }
        return s;
    }

    private static long startOf(LocalDate d, ZoneId zone) {
        return d.atStartOfDay(zone).toInstant().toEpochMilli();
    }

    /** The entries, sorted by start. */
    public List<Entry> entries() {
        return List.of(entries);
    }

    /** The zone of the calendar's local dates. */
    public ZoneId zone() {
        if (zone == null) {
            zone = ZoneId.of(zoneId);
        }
        return zone;
    }

    /** The days of week whose load a marked window is forecast like. */
    public java.util.Set<DayOfWeek> likeDays() {
        return java.util.Collections.unmodifiableSet(likeDays);
    }

    /** How many of the most recent unmarked like-days a marked window's forecast averages. */
    public int referenceDays() {
        return referenceDays;
    }

    /** The label of the first entry whose range holds {@code millis}, or null. */
    public String labelAt(long millis) {
        for (Entry e : entries) {
            if (e.startMillis() > millis) {
                break;
            }
            if (millis < e.endMillis()) {
                return e.label();
            }
        }
        return null;
    }

    /** The label of the window [start, end) (an entry holds its midpoint), or null if the calendar does not mark it. */
    public String label(long windowStart, long windowEnd) {
        return labelAt(windowStart + (windowEnd - windowStart) / 2);
    }

    /** True if the calendar marks the window [start, start + windowMillis). */
    public boolean marks(long windowStart, long windowMillis) {
        return label(windowStart, windowStart + windowMillis) != null;
    }

    /**
     * Starts of the windows a marked window is forecast like: the same local time (in {@link #zone()}) on the
     * {@link #referenceDays()} most recent earlier days whose day of week is one of {@link #likeDays()} and whose
     * window the calendar does not mark, most recent first, looking back at most {@link #reachDays()} days (fewer if
     * there are not enough). Each is rounded to the window grid ({@code windowMillis} from the epoch), so a change of
     * UTC offset in between does not shift it off the grid.
     *
     * @param windowStart  start of the marked window, epoch ms
     * @param windowMillis window length, ms (at most a day)
     * @return 0 .. referenceDays window starts, epoch ms
     */
    public long[] referenceStarts(long windowStart, long windowMillis) {
        long mid = windowStart + windowMillis / 2;
        ZonedDateTime local = Instant.ofEpochMilli(mid).atZone(zone());
        long[] out = new long[referenceDays];
        int found = 0;
        for (int days = 1; days <= reachDays() && found < out.length; days++) {
            ZonedDateTime day = local.minusDays(days);
            if (!likeDays.contains(day.getDayOfWeek())) {
                continue;
            }
            long refMid = day.toInstant().toEpochMilli();
            long ref = Math.round((double) (refMid - windowMillis / 2) / windowMillis) * windowMillis;
            if (!marks(ref, windowMillis)) {
                out[found++] = ref;
            }
        }
        return Arrays.copyOf(out, found);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ForecastCalendar c && Arrays.equals(entries, c.entries) && zoneId.equals(c.zoneId)
                && likeDays.equals(c.likeDays) && referenceDays == c.referenceDays
                && markedAsMissing == c.markedAsMissing;
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(entries), zoneId, likeDays, referenceDays, markedAsMissing);
    }

    @Override
    public String toString() {
        return entries.length + " calendar entries in " + zoneId + ", forecast like the mean of the last "
                + referenceDays + " of " + likeDays;
    }
}
