package io.keyshift.jobs.input;

import io.keyshift.jobs.event.Event;
import io.keyshift.jobs.source.EventSpace;
import io.keyshift.jobs.source.SortedEventFile;
import io.keyshift.jobs.workload.Csv;

import java.io.BufferedInputStream;
import java.io.BufferedWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongConsumer;

/**
 * Prepares a historical CSV file for replay: parses every line (gzip detected by its magic bytes), writes rows that
 * cannot become events to {@code dead-letters.csv} with their reasons, sorts the events by event time (ties by line
 * number, so an unsorted file replays exactly as if it were sorted) and writes them to a {@link SortedEventFile}.
 *
 * <p>Bound: the events are held in memory while sorting, about 100 bytes each plus the key.
 */
public final class ReplayInput {
    private ReplayInput() {}

    /** What the input held. Times are epoch ms; first/last are Long.MIN_VALUE without events. */
    public record Stats(long records, long deadLetters, long keys, long firstEvent, long lastEvent) {}

    /** The prepared input. */
    public record Prepared(SortedEventFile space, Stats stats) {}

    /**
     * Reads the column names: {@code spec.columns()} if given, else the file's first line.
     *
     * @throws IOException if the file cannot be read or is empty
     */
    public static List<String> header(Path file, InputSpec spec) throws IOException {
        try (InputStream in = open(file)) {
            // read even with --columns: a file that cannot be opened or decoded (a truncated or false .gz) fails
            // here, while the options are checked, not after an earlier run's output was cleared
            byte[] first;
            try {
                first = readLine(in);
            } catch (LineTooLongException e) {
                throw new IOException(file + ": the first line is " + e.getMessage(), e);
            } catch (java.io.EOFException | java.util.zip.ZipException e) {
                // a cut within a first line longer than the first read (it said "--input: null")
                throw new IOException(file + ": truncated or corrupt compressed input within its first line ("
                        + cut(e) + ")", e);
            }
            if (!spec.columns().isEmpty()) {
                return spec.columns();
            }
            if (first == null) {
                throw new IOException(file + " is empty: no header row");
            }
            String header = headerText(file, first);
            if (header.strip().isEmpty()) {
                // taken as the header, it named one column "" and the refusal listed no columns at all
                throw new IOException(file + ": line 1, the header row, is blank: remove the blank lines before the "
                        + "header, or give --columns for a file without one");
            }
            return EventParser.fields(header);
        }
    }

    /**
     * The header row as text, or an error naming the file if it is not UTF-8 text (a UTF-16 file, a binary format
     * such as Parquet or Avro: its bytes were printed as the columns, or taken for rows joined at a line break).
     */
    private static String headerText(Path file, byte[] first) throws IOException {
        String text = null;
        boolean utf16 = first.length >= 2 && ((first[0] & 0xFF) == 0xFF && (first[1] & 0xFF) == 0xFE
                || (first[0] & 0xFF) == 0xFE && (first[1] & 0xFF) == 0xFF);
        if (!utf16) {
            try {
                text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(first)).toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                text = null;
            }
        }
        if (text == null || text.indexOf('\0') >= 0) {
            throw new IOException(file + ": line 1 (the header row) is not UTF-8 text" + (utf16 || text != null
                    ? " (UTF-16? save the file as UTF-8)" : " (a binary format such as Parquet or Avro?)")
                    + "; keyshift reads CSV files and JSON lines in UTF-8");
        }
        return text;
    }

    /**
     * Parses, dead-letters, sorts and writes the events.
     *
     * @param progress called with the number of lines read so far, every 50,000 lines
     */
    public static Prepared prepare(Path file, InputSpec spec, Path sortedFile, Path deadLetters, LongConsumer progress)
            throws IOException {
        return prepare(file, spec, sortedFile, deadLetters, progress, DEFAULT_MAX_EVENT_TIME_GAP);
    }

    /**
     * Parses, dead-letters, sorts and writes the events; then dead-letters the events that an event-time gap longer
     * than {@code maxGap} separates from the bulk of the stream (see {@link #outsideLargestRun}).
     *
     * @param maxGap the longest plausible event-time gap between consecutive events; zero keeps every event
     */
    public static Prepared prepare(Path file, InputSpec spec, Path sortedFile, Path deadLetters, LongConsumer progress,
                                   java.time.Duration maxGap) throws IOException {
        return prepare(file, spec, sortedFile, deadLetters, progress, maxGap, false);
    }

    /**
     * As {@link #prepare(Path, InputSpec, Path, Path, LongConsumer, java.time.Duration)}; with {@code keySecret}
     * (keyshift.privacy.key-secret is set) the dead letters hold no row text ({@link DeadLetter#withoutKeys()}).
     */
    public static Prepared prepare(Path file, InputSpec spec, Path sortedFile, Path deadLetters, LongConsumer progress,
                                   java.time.Duration maxGap, boolean keySecret) throws IOException {
        List<String> header = header(file, spec);
        // rows are parsed in batches, in parallel, each batch's results taken in input order: one parser per thread
        // (a parser holds a UTF-8 decoder, which is not thread-safe)
        ThreadLocal<EventParser> parsers = ThreadLocal.withInitial(() -> new EventParser(spec, header));
        List<byte[]> batch = new ArrayList<>(PARSE_BATCH);
        List<Long> batchLines = new ArrayList<>(PARSE_BATCH);
        List<Event> events = new ArrayList<>();
        long dead = 0;
        long batchBytes = 0;
        try (InputStream raw = open(file);
             BufferedWriter dl = Files.newBufferedWriter(deadLetters, StandardCharsets.UTF_8)) {
            Lines in = new Lines(raw);
            dl.write("raw_line,line_number,reason\n");
            long line = 0;
            if (spec.columns().isEmpty()) {
                // through nextLine too: the buffer's first fill may already meet a truncated end
                nextLine(in, file, 0);
                line = 1;
            }
            byte[] bytes;
            // lines read ahead for a row that turned out not to be one (a stray quote): each is read again as a row
            java.util.ArrayDeque<byte[]> again = new java.util.ArrayDeque<>();
            while ((bytes = again.isEmpty() ? nextLine(in, file, line) : again.pollFirst()) != null) {
                line++;
                long rowLine = line;
                // RFC 4180: a quoted field may hold line breaks; a row continues while its quotes are unbalanced
                java.util.List<byte[]> parts = null;
                // the quote state is carried from line to line (each line scanned once) and the row joined once at
                // the end: joining and rescanning at every line made a stray quote before long lines quadratic
                QuoteState quotes = new QuoteState();
                int joined = bytes.length;
                while (quotes.openAfter(bytes) && (parts == null || parts.size() <= MAX_LINES_PER_ROW)) {
                    byte[] more = again.isEmpty() ? nextLine(in, file, line) : again.pollFirst();
                    if (more == null) {
                        break;
                    }
                    if ((long) joined + 1 + more.length > MAX_LINE_BYTES) {
                        // a row as long as a line may be at most: not joined (the int length overflowed), so the
                        // open quote's row is a dead letter and this line is read as a row of its own
                        again.addFirst(more);
                        break;
                    }
                    if (parts == null) {
                        parts = new java.util.ArrayList<>();
                        parts.add(bytes);
                    }
                    parts.add(more);
                    line++;
                    joined += 1 + more.length;
                    quotes.lineBreak();
                    bytes = more;
                }
                if (parts != null) {
                    bytes = join(parts, joined);
                }
                if (parts != null && !csvRow(bytes)) {
                    // the lines joined do not make a CSV row: a stray quote's line alone is the dead letter, and the
                    // lines after it are rows of their own (they had been swallowed, up to MAX_LINES_PER_ROW of them,
                    // into one dead letter)
                    for (int i = parts.size() - 1; i >= 1; i--) {
                        again.addFirst(parts.get(i));
                    }
                    line = rowLine;
                    bytes = parts.get(0);
                }
                if (line % 50_000 == 0) {
                    progress.accept(line);
                }
                batch.add(bytes);
                batchLines.add(bytes.length == 0 ? line : rowLine);
                batchBytes += bytes.length;
                // by bytes too: 8,192 rows of a wide column keyshift does not read (600 KB each) held 4.9 GB at once
                if (batch.size() == PARSE_BATCH || batchBytes >= PARSE_BATCH_BYTES) {
                    dead += parseBatch(batch, batchLines, parsers, events, dl, keySecret);
                    batchBytes = 0;
                }
            }
            dead += parseBatch(batch, batchLines, parsers, events, dl, keySecret);
            events.sort(Comparator.comparingLong((Event e) -> e.timestamp).thenComparingLong(e -> e.sequence));
            if (!maxGap.isZero()) {
                int[] run = largestRun(events, maxGap.toMillis());
                for (int i = 0; i < events.size(); i++) {
                    if (i < run[0] || i >= run[1]) {
                        Event e = events.get(i);
                        // no key: the line number names the row (and keyshift prints no key under a key secret)
                        dl.write("," + e.sequence + "," + Csv.quote("event time " + java.time.Instant.ofEpochMilli(
                                e.timestamp) + " lies beyond a gap of more than " + maxGap
                                + " from the stream's " + java.time.Instant.ofEpochMilli(events.get(run[0]).timestamp)
                                + " .. " + java.time.Instant.ofEpochMilli(events.get(run[1] - 1).timestamp)
                                + " (keyshift.input.max-event-time-gap)") + "\n");
                        dead++;
                    }
                }
                events = new ArrayList<>(events.subList(run[0], run[1]));
            }
        }
        Set<String> keys = new HashSet<>();
        for (Event e : events) {
            keys.add(e.key);
        }
        SortedEventFile space = SortedEventFile.write(sortedFile, events);
        long first = events.isEmpty() ? Long.MIN_VALUE : events.get(0).timestamp;
        long last = events.isEmpty() ? Long.MIN_VALUE : events.get(events.size() - 1).timestamp;
        return new Prepared(space, new Stats(events.size(), dead, keys.size(), first, last));
    }

    /** Rows parsed together (in parallel) before their results are taken in order. */
    static final int PARSE_BATCH = 8_192;

    /**
     * The bytes of rows read before a batch is parsed ahead of {@link #PARSE_BATCH} rows: a batch holds its rows' bytes
     * (and a dead letter's text) until it is parsed, and the replay's memory is otherwise about 100 bytes per event.
     */
    static final int PARSE_BATCH_BYTES = 64 << 20;

    /**
     * Parses the batch's rows in parallel, then in input order adds the events to {@code events} and writes the dead
     * letters (an empty row is one); clears the batch.
     *
     * @return the dead letters written
     */
    private static long parseBatch(List<byte[]> batch, List<Long> lines, ThreadLocal<EventParser> parsers,
                                   List<Event> events, BufferedWriter dl, boolean keySecret) throws IOException {
        EventParser.Parsed[] parsed = new EventParser.Parsed[batch.size()];
        java.util.stream.IntStream.range(0, batch.size()).parallel().forEach(i -> {
            if (batch.get(i).length > 0) {
                parsed[i] = parsers.get().parse(batch.get(i), lines.get(i));
            }
        });
        long dead = 0;
        for (int i = 0; i < parsed.length; i++) {
            EventParser.Parsed p = parsed[i];
            if (p == null) {
                // a blank line is no row (RFC 4180 readers such as Commons CSV skip it): a trailing one made every
                // file a dead letter, and a header-only file "has no valid row"
                continue;
            } else if (p.event() != null) {
                events.add(p.event());
            } else {
                DeadLetter d = keySecret ? p.deadLetter().withoutKeys() : p.deadLetter();
                dl.write(Csv.quote(d.raw()) + "," + d.line() + "," + Csv.quote(d.reason()) + "\n");
                dead++;
            }
        }
        batch.clear();
        lines.clear();
        return dead;
    }

    /** Default of {@code keyshift.input.max-event-time-gap}. */
    public static final java.time.Duration DEFAULT_MAX_EVENT_TIME_GAP = java.time.Duration.ofDays(365);

    /**
     * The bulk of a stream sorted by event time: cut it wherever two consecutive events lie more than
     * {@code maxGapMillis} apart and keep the run with the most events (the earliest of equal runs). One row dated
     * year 3000 (or 1900) among a year of rows is then a dead letter, not 986 years of empty windows to profile.
     *
     * @return {from, to}: the run's index range in {@code events}, to exclusive; {0, 0} for no events
     */
    static int[] largestRun(List<Event> events, long maxGapMillis) {
        int bestFrom = 0;
        int bestTo = 0;
        int from = 0;
        for (int i = 1; i <= events.size(); i++) {
            if (i == events.size() || events.get(i).timestamp - events.get(i - 1).timestamp > maxGapMillis) {
                if (i - from > bestTo - bestFrom) {
                    bestFrom = from;
                    bestTo = i;
                }
                from = i;
            }
        }
        return new int[] {bestFrom, bestTo};
    }

    /** Physical lines one row may span (a quoted field with line breaks); beyond it the row is a dead letter. */
    static final int MAX_LINES_PER_ROW = 1_000;

    /** Whether {@code bytes} (UTF-8) is one well-formed CSV row (RFC 4180), whatever its fields hold. */
    private static boolean csvRow(byte[] bytes) {
        try {
            EventParser.fields(new String(bytes, StandardCharsets.UTF_8));
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** {@code parts} joined by line feeds, {@code length} bytes in all. */
    private static byte[] join(List<byte[]> parts, int length) {
        byte[] row = new byte[length];
        int at = 0;
        for (byte[] part : parts) {
            if (at > 0) {
                row[at++] = '\n';
            }
            System.arraycopy(part, 0, row, at, part.length);
            at += part.length;
        }
        return row;
    }

    /**
     * True if a quoted field is still open at the end of {@code bytes} (RFC 4180 as Commons CSV reads it: a quote
     * opens a quoted field only as the field's first character, {@code ""} inside one is a quote, and a quote elsewhere
     * in a field is an ordinary character), so the row continues on the next line.
     */
    static boolean unbalancedQuotes(byte[] bytes) {
        return new QuoteState().openAfter(bytes);
    }

    /**
     * The quote state of a CSV row read line by line, as {@link #unbalancedQuotes} reads the joined row: a quote that
     * ends a line inside a quoted field closes it (the line break that follows is no quote).
     */
    static final class QuoteState {
        private boolean quoted;
        private boolean fieldStart = true;

        /** Scans {@code line} on from the state so far; true if a quoted field is open at its end. */
        boolean openAfter(byte[] line) {
            for (int i = 0; i < line.length; i++) {
                byte b = line[i];
                if (quoted) {
                    if (b == '"') {
                        if (i + 1 < line.length && line[i + 1] == '"') {
                            i++;
                        } else {
                            quoted = false;
                        }
                    }
                } else if (b == '"' && fieldStart) {
                    quoted = true;
                    fieldStart = false;
                } else {
                    fieldStart = b == ',' || b == '\n' || b == '\r';
                }
            }
            return quoted;
        }

        /** The line feed that joins the next line to the row. */
        void lineBreak() {
            if (!quoted) {
                fieldStart = true;
            }
        }
    }

    /**
     * The next line, or an IOException naming the file and the last line read when the (compressed) input is
     * truncated or corrupt: the run is refused before any job starts.
     */
    private static byte[] nextLine(Lines in, Path file, long linesRead) throws IOException {
        try {
            return in.next();
        } catch (LineTooLongException e) {
            throw new IOException(file + ": line " + (linesRead + 1) + " is " + e.getMessage() + "; nothing was "
                    + "replayed", e);
        } catch (java.io.EOFException | java.util.zip.ZipException e) {
            throw new IOException(file + ": truncated or corrupt compressed input after line " + linesRead + " ("
                    + cut(e) + "); nothing was replayed", e);
        }
    }

    /**
     * The gzip members of {@code in} (buffered, so that what follows a member is pushed back) decompressed one after
     * the other (gzip's concatenation, RFC 1952 §2.2), with Apache Commons Compress: anything after the last member
     * that is not a whole member fails the read (the JDK's GZIPInputStream takes it for the end of the input, and rows
     * appended to a .gz file were dropped without a word). Its errors other than a cut (EOFException) come as
     * ZipExceptions, which the reader reports as a corrupt input.
     */
    private static InputStream gunzipped(BufferedInputStream in) throws IOException {
        InputStream gz = new org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream(in, true);
        return new java.io.FilterInputStream(gz) {
            @Override
            public int read() throws IOException {
                try {
                    return super.read();
                } catch (java.io.EOFException | java.util.zip.ZipException e) {
                    throw e;
                } catch (IOException e) {
                    throw corrupt(e);
                }
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                try {
                    // at most 8 KB a call, as the JDK's reader gives: Commons Compress fills the whole request, and
                    // the 64 KB buffer's first fill (the byte-order mark's check) would meet a cut at the start
                    return super.read(b, off, Math.min(len, 8192));
                } catch (java.io.EOFException | java.util.zip.ZipException e) {
                    throw e;
                } catch (IOException e) {
                    throw corrupt(e);
                }
            }

            private java.util.zip.ZipException corrupt(IOException e) {
                java.util.zip.ZipException z = new java.util.zip.ZipException(e.getMessage());
                z.initCause(e);
                return z;
            }
        };
    }

    /** The name of a compression other than gzip whose magic bytes {@code magic} begins with, or null. */
    static String otherCompression(byte[] magic) {
        // bzip2's "BZh" and block size ('1'..'9'), then its first block's magic (the digits of pi) or, for an empty
        // stream, its end-of-stream magic (the square root of pi): "BZh" alone is text (a column named BZh_id)
        int[][] known = {{'B', 'Z', 'h', -'9', 0x31, 0x41, 0x59, 0x26, 0x53, 0x59},
            {'B', 'Z', 'h', -'9', 0x17, 0x72, 0x45, 0x38, 0x50, 0x90}, {0xFD, '7', 'z', 'X', 'Z', 0x00},
            {'P', 'K', 0x03, 0x04}, {0x28, 0xB5, 0x2F, 0xFD}, {'7', 'z', 0xBC, 0xAF, 0x27, 0x1C}};
        String[] names = {"bzip2", "bzip2", "xz", "zip", "zstd", "7-Zip"};
        for (int k = 0; k < known.length; k++) {
            boolean match = magic.length >= known[k].length;
            for (int i = 0; match && i < known[k].length; i++) {
                // -'9': a digit 1-9
                match = known[k][i] == -'9' ? magic[i] >= '1' && magic[i] <= '9' : (magic[i] & 0xff) == known[k][i];
            }
            if (match) {
                return names[k];
            }
        }
        return null;
    }

    /** The file's bytes, gunzipped if it starts with gzip's magic number, without a UTF-8 byte-order mark. */
    static InputStream open(Path file) throws IOException {
        BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.mark(10);
        byte[] magic = in.readNBytes(10);
        in.reset();
        String other = otherCompression(magic);
        if (other != null) {
            in.close();
            throw new IOException(file + " is compressed with " + other + ": only gzip is read (or plain text); "
                    + "decompress it first");
        }
        BufferedInputStream text;
        try {
            text = magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b
                    ? new BufferedInputStream(gunzipped(in), 1 << 16) : in;
        } catch (IOException e) {
            // (a file cut within the gzip header: EOFException without a message)
            in.close();
            throw new IOException(file + " starts as gzip but is not (" + (e.getMessage() != null ? e.getMessage()
                    : "it ends within the gzip header") + ")", e);
        }
        text.mark(3);
        try {
            if (!(text.read() == 0xEF && text.read() == 0xBB && text.read() == 0xBF)) {
                text.reset();
            }
        } catch (java.io.EOFException | java.util.zip.ZipException e) {
            // the first read fills the buffer: a small file's whole content, up to what follows its last member
            text.close();
            throw new IOException(file + ": truncated or corrupt compressed input at its start (" + cut(e)
                    + "); nothing was replayed", e);
        }
        return text;
    }

    /** The reason of a failed read of compressed input: its message, or that it ends mid-stream (a cut has none). */
    private static String cut(IOException e) {
        return e.getMessage() != null ? e.getMessage() : "it ends mid-stream";
    }

    /**
     * The longest line the input may have, bytes (64 MiB): a file without line feeds (a binary file, one with
     * carriage returns alone, as "CSV (Macintosh)" writes) was read whole into memory as one line, and past 1 GiB
     * the line buffer's size overflowed.
     */
    static final int MAX_LINE_BYTES = 64 << 20;

    /** A line longer than {@link #MAX_LINE_BYTES}. */
    static final class LineTooLongException extends IOException {
        LineTooLongException() {
            super("a line longer than " + (MAX_LINE_BYTES >> 20) + " MiB: not a CSV of lines ending in a line feed "
                    + "(a binary file, or one whose lines end in a carriage return alone?)");
        }
    }

    /**
     * The lines of a stream, as {@link #readLine} reads them, from a buffer of 64 KB scanned for line feeds (reading
     * byte by byte through a buffered stream was the replay's slowest step before its jobs).
     */
    static final class Lines {
        private final InputStream in;
        private final byte[] buffer = new byte[1 << 16];
        private int position;
        private int limit;

        Lines(InputStream in) {
            this.in = in;
        }

        /** The next line's bytes without its line feed and a carriage return before it, or null at end of input. */
        byte[] next() throws IOException {
            byte[] pending = null;
            int pendingLength = 0;
            boolean any = false;
            while (true) {
                if (position == limit) {
                    limit = in.read(buffer, 0, buffer.length);
                    position = 0;
                    if (limit <= 0) {
                        limit = 0;
                        if (!any) {
                            return null;
                        }
                        return line(pending, pendingLength, buffer, 0, 0);
                    }
                }
                any = true;
                int start = position;
                while (position < limit && buffer[position] != '\n') {
                    position++;
                }
                if (position < limit) {
                    byte[] out = line(pending, pendingLength, buffer, start, position - start);
                    position++;
                    return out;
                }
                int n = position - start;
                if ((long) pendingLength + n > MAX_LINE_BYTES) {
                    throw new LineTooLongException();
                }
                if (pending == null || pendingLength + n > pending.length) {
                    pending = java.util.Arrays.copyOf(pending == null ? new byte[0] : pending,
                            Math.max(2 * (pendingLength + n), 256));
                }
                System.arraycopy(buffer, start, pending, pendingLength, n);
                pendingLength += n;
            }
        }

        private static byte[] line(byte[] pending, int pendingLength, byte[] tail, int from, int n) {
            int length = pendingLength + n;
            byte[] last = n > 0 ? tail : pending;
            int lastIndex = n > 0 ? from + n - 1 : pendingLength - 1;
            if (length > 0 && last[lastIndex] == '\r') {
                length--;
                if (n > 0) {
                    n--;
                } else {
                    pendingLength--;
                }
            }
            byte[] out = new byte[length];
            if (pendingLength > 0) {
                System.arraycopy(pending, 0, out, 0, pendingLength);
            }
            System.arraycopy(tail, from, out, pendingLength, n);
            return out;
        }
    }

    /**
     * The next line's bytes without CR/LF, or null at end of input, read one byte at a time: {@link #header} reads
     * no further than the header row, so a compressed file truncated later fails in the replay's reading of the rows
     * (one line naming the file and the line), not while the options are checked.
     */
    static byte[] readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(160);
        int c;
        boolean any = false;
        while ((c = in.read()) >= 0) {
            any = true;
            if (c == '\n') {
                break;
            }
            if (b.size() >= MAX_LINE_BYTES) {
                throw new LineTooLongException();
            }
            b.write(c);
        }
        if (!any) {
            return null;
        }
        byte[] bytes = b.toByteArray();
        if (bytes.length > 0 && bytes[bytes.length - 1] == '\r') {
            return java.util.Arrays.copyOf(bytes, bytes.length - 1);
        }
        return bytes;
    }

    /** Statistics of a generated space (iterates it once). */
    public static Stats stats(EventSpace space) throws IOException {
        return stats(space, Long.MAX_VALUE, n -> { });
    }

    /**
     * Statistics of a generated space (iterates it once: the built-in generator gives about 8 million records a
     * second on this project's 2-core machine, so 10^10 records take about 20 minutes).
     *
     * @param every    records between two calls of {@code progress}, &gt; 0
     * @param progress called with the number of records counted so far, every {@code every} records
     */
    public static Stats stats(EventSpace space, long every, LongConsumer progress) throws IOException {
        if (every <= 0) {
            throw new IllegalArgumentException("every must be > 0, was " + every);
        }
        Set<String> keys = new HashSet<>();
        long n = 0;
        long first = Long.MIN_VALUE;
        long last = Long.MIN_VALUE;
        try (EventSpace.Cursor c = space.open(0, 1, 0)) {
            while (c.hasNext()) {
                Event e = c.next();
                if (n == 0) {
                    first = e.timestamp;
                }
                last = e.timestamp;
                keys.add(e.key);
                n++;
                if (n % every == 0) {
                    progress.accept(n);
                }
            }
        }
        return new Stats(n, 0, keys.size(), first, last);
    }
}
