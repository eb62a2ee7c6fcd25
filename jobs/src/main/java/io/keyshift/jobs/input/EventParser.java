package io.keyshift.jobs.input;

import io.keyshift.jobs.event.Event;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Parses one CSV line (raw bytes) into an {@link Event} or says why it cannot.
 *
 * <p>Bytes must be valid UTF-8; fields follow RFC 4180 (Apache Commons CSV), one record per physical line. The time
 * is the time columns joined with one space, parsed with the pattern (Locale.ENGLISH, so "MMM" reads "May"); a
 * time without an offset or zone is read in the spec's time zone ({@code --time-zone}, UTC by default). Without a
 * pattern, ISO-8601 date-times (with or without offset)
 * and {@code yyyy-MM-dd HH:mm:ss[XXX]} are recognised.
 */
public final class EventParser {
    private static final DateTimeFormatter DEFAULT_FORMAT = new DateTimeFormatterBuilder()
            .appendOptional(DateTimeFormatter.ISO_DATE_TIME)
            .appendOptional(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss[XXX]", Locale.ROOT))
            .toFormatter(Locale.ROOT);

    private final CSVFormat csv = CSVFormat.DEFAULT;
    private final List<String> header;
    private final int columnCount;
    private final int keyIndex;
    private final int[] timeIndexes;
    private final int sumIndex;
    private final DateTimeFormatter formatter;
    /** The zone of a time whose text has no offset or zone (--time-zone; UTC by default). */
    private final java.time.ZoneId zone;
    /** Milliseconds per unit of an epoch time ({@link #EPOCH_MILLIS}, {@link #EPOCH_SECONDS}), or null. */
    private final java.math.BigDecimal epochUnit;
    /** The pattern has letters of a time of day (else a date-only time is not parsed a second time to check). */
    private final boolean timeLetters;
    /** Whether the pattern may read an offset or zone (its letters X, x, Z, z, O, V, v; the default format does). */
    private final boolean zoneLetters;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);

    /** Outcome of parsing one line: exactly one of event and deadLetter is non-null. */
    public record Parsed(Event event, DeadLetter deadLetter) {}

    /**
     * @param spec the input description
     * @param header the column names in file order
     * @throws UnknownColumnException if the key, a time or the sum column is not in {@code header}
     * @throws IllegalArgumentException if the time pattern is not a valid java.time pattern
     */
    public EventParser(InputSpec spec, List<String> header) {
        this.header = List.copyOf(header);
        this.columnCount = header.size();
        this.keyIndex = index(header, spec.keyColumn(), "--key");
        this.timeIndexes = new int[spec.timeColumns().size()];
        for (int i = 0; i < timeIndexes.length; i++) {
            timeIndexes[i] = index(header, spec.timeColumns().get(i), "--time");
        }
        this.sumIndex = spec.sumField().isPresent() ? index(header, spec.sumField().get(), "--sum-field") : -1;
        this.epochUnit = spec.timeFormat().map(EventParser::epochUnit).orElse(null);
        if (epochUnit != null && timeIndexes.length != 1) {
            throw new IllegalArgumentException("--time-format " + spec.timeFormat().get() + " reads one --time "
                    + "column, not " + timeIndexes.length + " (" + String.join(",", spec.timeColumns()) + ")");
        }
        if (epochUnit != null && spec.timeZone() != null) {
            throw new IllegalArgumentException("--time-zone does not apply to --time-format " + spec.timeFormat().get()
                    + " (a number since 1970-01-01T00:00:00Z)");
        }
        this.zone = spec.timeZone() == null ? ZoneOffset.UTC : java.time.ZoneId.of(spec.timeZone());
        if (epochUnit != null) {
            this.formatter = DEFAULT_FORMAT;
        } else if (spec.timeFormat().isPresent()) {
            try {
                this.formatter = DateTimeFormatter.ofPattern(spec.timeFormat().get(), Locale.ENGLISH);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--time-format: invalid pattern '" + spec.timeFormat().get()
                        + "': " + e.getMessage(), e);
            }
        } else {
            this.formatter = DEFAULT_FORMAT;
        }
        // quoted literals may hold such letters too: the check then runs needlessly, never wrongly
        this.timeLetters = spec.timeFormat().map(f -> f.matches("(?s).*[HhKkms].*")).orElse(true);
        // (v too: a generic zone name, "PT"; a date-only time of one began at midnight UTC)
        this.zoneLetters = spec.timeFormat().map(f -> f.matches("(?s).*[XxZzOVv].*")).orElse(true);
        if (epochUnit == null && spec.timeFormat().isPresent()) {
            checkReadsWhatItWrites(spec.timeFormat().get(), spec.timeZone() != null);
        }
    }

    /**
     * Refuses a pattern that cannot read back a time it writes: one that parses as a pattern but no record's time
     * ever resolves (YYYY, the week-based year, with a month; mm, minutes, where the month was meant; hh, the hour of
     * the half day, without a); every record of the input would be a dead letter (a Kafka job would run for ever
     * writing only dead letters); and, with {@code zoneGiven} ({@code --time-zone}), one whose every time carries
     * its own offset or zone (outside its optional sections), which the zone would never apply to.
     */
    private void checkReadsWhatItWrites(String pattern, boolean zoneGiven) {
        java.time.ZonedDateTime sample = java.time.ZonedDateTime.of(2014, 7, 15, 14, 35, 27, 123_000_000, zone);
        String written;
        try {
            written = formatter.format(sample);
        } catch (java.time.DateTimeException e) {
            throw new IllegalArgumentException("--time-format '" + pattern + "' cannot write a time (" + e.getMessage()
                    + ")", e);
        }
        if (zoneGiven) {
            checkZoneApplies(pattern, sample);
        }
        if (pattern.indexOf('[') >= 0) {
            // a pattern of optional sections ("[dd.MM.yyyy][yyyy-MM-dd]") writes them all, one after the other,
            // which no record holds: checked only where its parse takes the whole text ("yyyy-MM-dd HH:mm[:ss]",
            // "YYYY-MM-dd HH:mm:ss[.SSS]"), where the fields it read then either resolve or say why not
            java.text.ParsePosition at = new java.text.ParsePosition(0);
            TemporalAccessor read = formatter.parseUnresolved(written, at);
            if (read == null || at.getErrorIndex() >= 0 || at.getIndex() != written.length()) {
                return;
            }
            // nor where it took the whole text by misreading it: "[yyyy-M-d][yyyyMMdd]" reads "2014-7-1520140715"
            // as day 1520140715 of the first alternative, while each record holds one alternative, which reads
            for (java.time.temporal.ChronoField f : java.time.temporal.ChronoField.values()) {
                if (read.isSupported(f) && sample.isSupported(f) && read.getLong(f) != sample.getLong(f)) {
                    return;
                }
            }
        }
        try {
            parseTime(written);
        } catch (java.time.DateTimeException | ArithmeticException e) {
            throw new IllegalArgumentException("--time-format '" + pattern + "' cannot read back the times it writes "
                    + "(2014-07-15 14:35:27 as '" + written + "': " + e.getMessage() + "): every record would be a "
                    + "dead letter; yyyy is the year, MM the month, dd the day, HH the hour 0-23 (hh 1-12 needs a), "
                    + "mm the minute, ss the second (YYYY is the week-based year, DD the day of the year)", e);
        }
    }

    /**
     * Refuses {@code --time-zone} with a pattern whose every time carries its own offset or zone (outside its
     * optional sections): the zone would never apply, as with the epoch formats.
     */
    private void checkZoneApplies(String pattern, java.time.ZonedDateTime sample) {
        // the pattern without its optional sections: what every time holds ("yyyy-MM-dd HH:mm:ss[XXX]" takes the
        // zone for times without the offset; "yyyy-MM-dd'T'HH:mm:ss[.SSS]XXX" never does)
        TemporalAccessor t;
        try {
            DateTimeFormatter always = DateTimeFormatter.ofPattern(withoutOptionalSections(pattern), Locale.ENGLISH);
            // the fields as read, unresolved: a date only in optional sections ("[yyyy-MM-dd][dd.MM.yyyy]
            // HH:mm:ssXXX") leaves a required offset that does not resolve alone
            t = always.parseUnresolved(always.format(sample), new java.text.ParsePosition(0));
        } catch (IllegalArgumentException | java.time.DateTimeException e) {
            // (what the optional sections leave cannot be written alone: not judged)
            return;
        }
        if (t != null && (t.isSupported(java.time.temporal.ChronoField.OFFSET_SECONDS)
                || t.query(java.time.temporal.TemporalQueries.zoneId()) != null)) {
            // as with the epoch formats: the option was taken and did nothing
            throw new IllegalArgumentException("--time-zone does not apply to --time-format '" + pattern
                    + "': every time it reads carries its own offset or zone");
        }
    }

    /**
     * {@code pattern} without its optional sections ({@code [...]}, nested ones too); quoted text ({@code '...'},
     * {@code ''} a quote) is kept as it is, brackets in it included.
     */
    static String withoutOptionalSections(String pattern) {
        StringBuilder kept = new StringBuilder();
        int depth = 0;
        boolean quoted = false;
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '\'') {
                quoted = !quoted;
            } else if (!quoted && c == '[') {
                depth++;
                continue;
            } else if (!quoted && c == ']' && depth > 0) {
                depth--;
                continue;
            }
            if (depth == 0) {
                kept.append(c);
            }
        }
        return kept.toString();
    }

    /** The time format of a number since 1970-01-01T00:00:00Z in milliseconds ({@code --time-format}). */
    public static final String EPOCH_MILLIS = "epoch-millis";
    /** The time format of a number since 1970-01-01T00:00:00Z in seconds, fractions allowed. */
    public static final String EPOCH_SECONDS = "epoch-seconds";

    /** Milliseconds per unit of an epoch time format, or null for a java.time pattern. */
    private static java.math.BigDecimal epochUnit(String format) {
        return switch (format) {
            case EPOCH_MILLIS -> java.math.BigDecimal.ONE;
            case EPOCH_SECONDS -> java.math.BigDecimal.valueOf(1000);
            default -> null;
        };
    }

    /** Thrown when an option names a column the input does not have. */
    public static final class UnknownColumnException extends IllegalArgumentException {
        private final String withoutColumns;

        public UnknownColumnException(String message) {
            this(message, message);
        }

        /**
         * @param withoutColumns the message without the column names, for a header row that may be a record (a file
         *                       without a header row read without --columns), whose key is not to be printed under a
         *                       key secret
         */
        public UnknownColumnException(String message, String withoutColumns) {
            super(message);
            this.withoutColumns = withoutColumns;
        }

        /** The message without the column names (which may hold a record's key). */
        public String withoutColumns() {
            return withoutColumns;
        }
    }

    private static int index(List<String> header, String column, String option) {
        int i = header.indexOf(column);
        if (i < 0) {
            throw new UnknownColumnException(option + ": unknown column '" + column + "' (columns: "
                    + String.join(", ", header) + ")", option + ": unknown column '" + column + "' (the header row "
                    + "has " + header.size() + " columns, not listed: keyshift.privacy.key-secret is set, and the "
                    + "first line of a file without a header row is a record; name such a file's columns with "
                    + "--columns)");
        }
        if (header.lastIndexOf(column) != i) {
            // which of them is meant cannot be told: the first was taken without a word
            throw new UnknownColumnException(option + ": column '" + column + "' appears more than once (columns: "
                    + String.join(", ", header) + "); rename one with --columns", option + ": column '" + column
                    + "' appears more than once in the header row; rename one with --columns");
        }
        return i;
    }

    /**
     * Splits a header (or any) line into fields (RFC 4180, Commons CSV's default format); IOException if it is not
     * CSV. A regular line (fields either plain or wholly quoted, with "" for a quote inside) is split here; any other
     * goes to a new Commons CSV parser, which decides what it means or that it is not CSV. A parser per line had
     * been most of the time a replay spent reading its input, and of the report after it.
     */
    public static List<String> fields(String line) throws IOException {
        List<String> regular = regularFields(line);
        if (regular != null) {
            return regular;
        }
        try (CSVParser p = CSVParser.parse(new StringReader(line), CSVFormat.DEFAULT)) {
            List<CSVRecord> records = p.getRecords();
            if (records.isEmpty()) {
                return List.of();
            }
            if (records.size() > 1) {
                // one row must be one record: rows joined at a stray quote, or a file whose lines end in CR only,
                // would otherwise lose every record after the first without a trace
                throw new IOException(records.size() + " records in one row (a line break outside quotes, or a "
                        + "quote that does not start its field)");
            }
            List<String> out = new ArrayList<>();
            records.get(0).forEach(out::add);
            return out;
        }
    }

    /** The fields of a regular line as Commons CSV's default format reads them, or null if the line is not regular. */
    static List<String> regularFields(String line) {
        if (line.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        int n = line.length();
        int i = 0;
        while (true) {
            if (i < n && line.charAt(i) == '"') {
                StringBuilder field = new StringBuilder();
                int j = i + 1;
                while (true) {
                    int q = line.indexOf('"', j);
                    if (q < 0) {
                        return null; // unterminated: the parser's business
                    }
                    field.append(line, j, q);
                    if (q + 1 < n && line.charAt(q + 1) == '"') {
                        field.append('"');
                        j = q + 2;
                        continue;
                    }
                    i = q + 1;
                    break;
                }
                out.add(field.toString());
                if (i == n) {
                    return out;
                }
                if (line.charAt(i) != ',') {
                    return null; // text after a closing quote
                }
                i++;
            } else {
                int c = line.indexOf(',', i);
                int end = c < 0 ? n : c;
                for (int k = i; k < end; k++) {
                    char ch = line.charAt(k);
                    if (ch == '"' || ch == '\r' || ch == '\n') {
                        return null;
                    }
                }
                out.add(line.substring(i, end));
                if (c < 0) {
                    return out;
                }
                i = c + 1;
            }
        }
    }

    /**
     * Parses one line.
     *
     * @param bytes the line without its line terminator
     * @param line 1-based line number in the file
     */
    public Parsed parse(byte[] bytes, long line) {
        String text;
        try {
            text = decode(bytes);
        } catch (CharacterCodingException e) {
            return dead(new String(bytes, StandardCharsets.ISO_8859_1), line, "not valid UTF-8 text");
        }
        if (text.indexOf('\0') >= 0) {
            return dead(text, line, "contains NUL bytes (not text)");
        }
        List<String> f;
        try {
            f = fields(text);
        } catch (IOException | RuntimeException e) {
            return dead(text, line, "not a CSV row: " + e.getMessage());
        }
        return parseFields(f, text, line);
    }

    /**
     * {@code bytes} as UTF-8 text, without a leading byte order mark (a file's first line sent as a record), which is
     * not part of the record.
     */
    private String decode(byte[] bytes) throws CharacterCodingException {
        int bom = bytes.length >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB
                && (bytes[2] & 0xFF) == 0xBF ? 3 : 0;
        return decoder.reset().decode(ByteBuffer.wrap(bytes, bom, bytes.length - bom)).toString();
    }

    /** True if {@code s} holds a UTF-16 surrogate that is not part of a pair. */
    static boolean unpairedSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A parser of JSON objects: the key, time and sum columns of {@code spec} name the object's fields (the spec's
     * {@code columns} are not used). See {@link #parseJson}.
     *
     * @throws IllegalArgumentException if the time pattern is not a valid java.time pattern
     */
    public static EventParser forFields(InputSpec spec) {
        List<String> names = new ArrayList<>();
        names.add(spec.keyColumn());
        for (String t : spec.timeColumns()) {
            if (!names.contains(t)) {
                names.add(t);
            }
        }
        spec.sumField().filter(s -> !names.contains(s)).ifPresent(names::add);
        return new EventParser(spec, names);
    }

    /**
     * Parses one JSON object (a parser made by {@link #forFields}): each named field must be present and a string
     * or a number; other fields are ignored, but an object that gives any field twice (nested ones too) is a dead
     * letter, since which one counts is undefined in JSON.
     *
     * @param bytes the object's UTF-8 bytes
     * @param line the record's position in its source (a Kafka offset), for the event's sequence and dead letters
     */
    public Parsed parseJson(byte[] bytes, long line) {
        String text;
        try {
            text = decode(bytes);
        } catch (CharacterCodingException e) {
            return dead(new String(bytes, StandardCharsets.ISO_8859_1), line, "not valid UTF-8 text");
        }
        com.fasterxml.jackson.databind.JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (IOException | RuntimeException e) {
            return dead(text, line, "not JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (node == null || !node.isObject()) {
            return dead(text, line, "not a JSON object");
        }
        List<String> f = new ArrayList<>(header.size());
        for (String name : header) {
            com.fasterxml.jackson.databind.JsonNode v = node.get(name);
            if (v == null || v.isNull()) {
                return dead(text, line, "missing field '" + name + "'");
            }
            if (!v.isTextual() && !v.isNumber()) {
                // a boolean too: the README's JSON fields are strings or numbers
                return dead(text, line, "field '" + name + "' is not a string or a number");
            }
            // a time in epoch units with a fraction as written (read as a double, 1388620799.9999999 seconds was
            // 1388620800, and the record went into the next window: Jackson writes an Instant as seconds with
            // nanoseconds); every other field as before (a double's text: numeric keys keep their names)
            String value = v.isFloatingPointNumber() && epochUnit != null && timeIndexes[0] == f.size()
                    ? literal(text, name, v.asText()) : v.asText();
            // JSON's escapes can spell what UTF-8 bytes cannot: a NUL, half of a surrogate pair (which every UTF-8
            // output writes as '?', so keys "a\ud83d" and "a\udc00" would give results under one key)
            if (value.indexOf('\0') >= 0) {
                return dead(text, line, "field '" + name + "' contains NUL (\\u0000)");
            }
            if (unpairedSurrogate(value)) {
                return dead(text, line, "field '" + name + "' holds half of a UTF-16 surrogate pair (not text)");
            }
            f.add(value);
        }
        return parseFields(f, text, line);
    }

    /**
     * The text of the number that the top-level field {@code name} of the JSON object {@code json} holds, as written;
     * {@code otherwise} where it cannot be read again.
     */
    private static String literal(String json, String name, String otherwise) {
        try (com.fasterxml.jackson.core.JsonParser p = JSON.getFactory().createParser(json)) {
            if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                return otherwise;
            }
            while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                String field = p.currentName();
                com.fasterxml.jackson.core.JsonToken value = p.nextToken();
                if (field.equals(name) && value != null && value.isNumeric()) {
                    return p.getText();
                }
                p.skipChildren();
            }
        } catch (IOException | RuntimeException e) {
            return otherwise;
        }
        return otherwise;
    }

    /**
     * Fails on anything after the first value (a record of two JSON objects is one dead letter, not one event) and on
     * a field given twice ({@code {"key":"a",...,"key":"b"}} was read as key b without a word).
     */
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper(
            com.fasterxml.jackson.core.JsonFactory.builder()
                    .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build())
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Parsed parseFields(List<String> f, String text, long line) {
        if (f.size() != columnCount) {
            return dead(text, line, "expected " + columnCount + " columns, found " + f.size());
        }
        String key = f.get(keyIndex);
        if (key == null || key.isBlank()) {
            return dead(text, line, "empty key");
        }
        if (key.indexOf('\n') >= 0 || key.indexOf('\r') >= 0) {
            // the results, the plans and the report are line-oriented files
            return dead(text, line, "key contains a line break");
        }
        if (key.length() > MAX_KEY_BYTES / 4 && key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
            // a result record carries its key twice (the Kafka record's key and its value): one of 600 KB took a
            // result over the producer's max.request.size (1 MiB), and the sink failed the job at every restart
            return dead(text, line, "key longer than " + MAX_KEY_BYTES + " bytes");
        }
        StringBuilder time = new StringBuilder();
        for (int i = 0; i < timeIndexes.length; i++) {
            if (i > 0) {
                time.append(' ');
            }
            time.append(f.get(timeIndexes[i]).trim());
        }
        long ts;
        try {
            ts = parseTime(time.toString());
        } catch (DateTimeParseException | ArithmeticException e) {
            return dead(text, line, "unparsable time '" + (time.length() > MAX_EPOCH_CHARS ? time.substring(0, 40)
                    + "...' (" + time.length() + " characters" + ")" : time + "'")
                    + (TIME_OF_DAY_UNRESOLVED.equals(e.getMessage()) || DAY_NOT_IN_MONTH.equals(e.getMessage())
                    ? ": " + e.getMessage() : ""));
        }
        if (ts < MIN_EVENT_TIME || ts > MAX_EVENT_TIME) {
            // such a time fails the job where it is routed (no lease or window end reaches it) and again after every
            // restart from the source's last offsets: it is the record's mistake, not the job's
            return dead(text, line, "time '" + time + "' outside the years 0001..9999 (UTC)");
        }
        double value = 0;
        if (sumIndex >= 0) {
            String v = f.get(sumIndex).trim();
            if (v.isEmpty()) {
                // a missing value, not a zero: summed as 0 it would lower the key's load without a word
                return dead(text, line, "sum field is empty");
            }
            try {
                value = Double.parseDouble(v);
            } catch (NumberFormatException e) {
                return dead(text, line, "sum field is not a number: '" + v + "'");
            }
            if (!Double.isFinite(value)) {
                return dead(text, line, "sum field is not finite: '" + v + "'");
            }
            char last = v.charAt(v.length() - 1);
            if (!(last >= '0' && last <= '9' || last == '.') || v.indexOf('x') >= 0 || v.indexOf('X') >= 0) {
                // Java's own forms (5d, 5f, hexadecimal -0x1p3), which Double.parseDouble reads, are not a CSV's number
                return dead(text, line, "sum field is not a decimal number: '" + v + "'");
            }
        }
        return new Parsed(new Event(ts, key, value, line), null);
    }

    /** Earliest event time a record may carry, epoch ms: 0001-01-01T00:00:00Z (earlier ones are dead letters). */
    public static final long MIN_EVENT_TIME = java.time.Instant.parse("0001-01-01T00:00:00Z").toEpochMilli();
    /** Latest event time a record may carry, epoch ms: 9999-12-31T23:59:59.999Z (later ones are dead letters). */
    public static final long MAX_EVENT_TIME = java.time.Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli();

    /** The longest epoch time read (sign, 20 integer digits, point, 30 decimals, an exponent, and leading zeros). */
    static final int MAX_EPOCH_CHARS = 100;

    /** The longest key, in UTF-8 bytes: a longer one is a dead letter. */
    public static final int MAX_KEY_BYTES = 262_144;

    /**
     * Epoch ms of a time text under this parser's pattern; DateTimeParseException if it does not parse. Records whose
     * time lies outside [{@link #MIN_EVENT_TIME}, {@link #MAX_EVENT_TIME}] are dead letters ({@link #parse}).
     */
    public long parseTime(String text) {
        if (epochUnit != null) {
            // a number, as text or JSON (1388563200000, 1.3885632E12, 1388563200.25 seconds): whole milliseconds,
            // rounded down
            java.math.BigDecimal d;
            String digits = text.strip();
            if (digits.length() > MAX_EPOCH_CHARS) {
                // parsing a number of a million digits takes time quadratic in its length: a record of them would
                // stall the source, not be a dead letter
                throw new DateTimeParseException("out of range (more than " + MAX_EPOCH_CHARS + " characters)",
                        digits.substring(0, 20) + "...", 0);
            }
            try {
                d = new java.math.BigDecimal(digits);
            } catch (NumberFormatException e) {
                throw new DateTimeParseException("not a number", text, 0);
            }
            // no epoch time has more than 20 integer digits or needs 30 decimals: 1e100000000 would make setScale
            // build a number of a hundred million digits (a stalled source), not a dead letter
            if (d.precision() - d.scale() > 20 || d.scale() > 30) {
                throw new DateTimeParseException("out of range", text, 0);
            }
            return d.multiply(epochUnit).setScale(0, java.math.RoundingMode.FLOOR).longValueExact();
        }
        TemporalAccessor t = formatter.parseBest(text, ZonedDateTime::from, OffsetDateTime::from,
                LocalDateTime::from, LocalDate::from);
        if (t.isSupported(java.time.temporal.ChronoField.DAY_OF_MONTH)) {
            int day = t.get(java.time.temporal.ChronoField.DAY_OF_MONTH);
            // a clipped day resolves to the month's last; with 24:00, to the next month's first
            if (day >= 28 || day == 1) {
                checkDayNotClipped(text, LocalDate.from(t));
            }
        }
        if (t instanceof ZonedDateTime z) {
            return z.toInstant().toEpochMilli();
        }
        if (t instanceof OffsetDateTime o) {
            return o.toInstant().toEpochMilli();
        }
        if (t instanceof LocalDateTime l) {
            // in a zone's gap (a clock put forward) the time moves on by the gap; in an overlap, the earlier offset
            return l.atZone(zone).toInstant().toEpochMilli();
        }
        if (timeLetters && hasTimeOfDay(formatter.parseUnresolved(text, new java.text.ParsePosition(0)))) {
            // the pattern read a time of day that did not resolve (hh without a): taking the date alone would move
            // every record to midnight without a word
            throw new DateTimeParseException(TIME_OF_DAY_UNRESOLVED, text, 0);
        }
        // a date with its own offset or zone ("yyyy-MM-ddXXX": 2014-07-15+02:00) begins in it, not in --time-zone
        // (parsed again only where the pattern can hold one: not per record of a plain date format)
        java.time.ZoneId own = zoneLetters ? formatter.parse(text).query(java.time.temporal.TemporalQueries.zone())
                : null;
        return ((LocalDate) t).atStartOfDay(own != null ? own : zone).toInstant().toEpochMilli();
    }

    /** The reason of a day of month that the month does not have. */
    static final String DAY_NOT_IN_MONTH = "its day of month is not in its month";

    /**
     * java.time's SMART resolver reads a day the month does not have (February 30) as the month's last day, and with
     * 24:00 (the next day's midnight, as SMART reads it) as the next month's first: such a time is refused instead.
     * Called only where the resolved day is 28 or later, or 1.
     */
    private void checkDayNotClipped(String text, LocalDate resolved) {
        TemporalAccessor read = formatter.parseUnresolved(text, new java.text.ParsePosition(0));
        if (read == null || !read.isSupported(java.time.temporal.ChronoField.DAY_OF_MONTH)) {
            return;
        }
        boolean endOfDay = read.isSupported(java.time.temporal.ChronoField.HOUR_OF_DAY)
                && read.getLong(java.time.temporal.ChronoField.HOUR_OF_DAY) == 24;
        int day = (endOfDay ? resolved.minusDays(1) : resolved).getDayOfMonth();
        if (read.getLong(java.time.temporal.ChronoField.DAY_OF_MONTH) != day) {
            throw new DateTimeParseException(DAY_NOT_IN_MONTH, text, 0);
        }
    }

    /** The reason of a time whose time-of-day fields were read but did not resolve. */
    static final String TIME_OF_DAY_UNRESOLVED = "its time of day does not resolve under the pattern (hh is the clock "
            + "hour 1-12 and needs a, the AM/PM marker; HH is the hour 0-23)";

    private static boolean hasTimeOfDay(TemporalAccessor unresolved) {
        if (unresolved == null) {
            return false;
        }
        for (java.time.temporal.ChronoField f : new java.time.temporal.ChronoField[] {
                java.time.temporal.ChronoField.HOUR_OF_DAY, java.time.temporal.ChronoField.CLOCK_HOUR_OF_AMPM,
                java.time.temporal.ChronoField.HOUR_OF_AMPM, java.time.temporal.ChronoField.CLOCK_HOUR_OF_DAY,
                java.time.temporal.ChronoField.MINUTE_OF_HOUR, java.time.temporal.ChronoField.SECOND_OF_MINUTE}) {
            if (unresolved.isSupported(f)) {
                return true;
            }
        }
        return false;
    }

    private static Parsed dead(String raw, long line, String reason) {
        return new Parsed(null, new DeadLetter(raw, line, reason));
    }
}
