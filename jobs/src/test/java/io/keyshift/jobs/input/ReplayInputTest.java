package io.keyshift.jobs.input;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Reading an input file: RFC 4180 rows whose quoted fields hold line breaks. */
class ReplayInputTest {
    /**
     * A line longer than 64 MiB (a file without line feeds: binary, or with carriage returns alone) is refused with an
     * IOException saying so; it was read whole into memory, and past 1 GiB the line buffer's size overflowed into an
     * IndexOutOfBoundsException.
     */
    @Test
    void aLineLongerThanTheLimitIsRefused() {
        java.util.function.Supplier<java.io.InputStream> noLineFeed = () -> new java.io.InputStream() {
            private long left = ReplayInput.MAX_LINE_BYTES + 10L;

            @Override
            public int read() {
                return left-- > 0 ? '\r' : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left <= 0) {
                    return -1;
                }
                int n = (int) Math.min(len, left);
                java.util.Arrays.fill(b, off, off + n, (byte) 'x');
                left -= n;
                return n;
            }
        };
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ReplayInput.Lines(noLineFeed.get()).next())
                .isInstanceOf(java.io.IOException.class).hasMessageContaining("a line longer than 64 MiB");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ReplayInput.readLine(noLineFeed.get()))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining("a line longer than 64 MiB");
    }

    /**
     * End-to-end (a few seconds, its own JVM with a 256 MiB heap): rows with a wide column keyshift does not read (1,000
     * rows of 512 KiB, in a gzip file of a few MB) are read in batches bounded by bytes as well as rows: a batch of
     * 8,192 rows held them all at once (4.9 GB for 600 KB rows), and the replay ran out of memory before its job.
     */
    @Test
    @org.junit.jupiter.api.Tag("end-to-end")
    void wideRowsAreReadWithinABoundedHeap(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("wide.csv.gz");
        byte[] blob = "a".repeat(512 << 10).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (java.io.OutputStream out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(file), 1 << 16)) {
            out.write("id,when,payload\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            for (int i = 0; i < 1_000; i++) {
                out.write(("k" + (i % 7) + "," + (1_700_000_000_000L + i * 1000L) + ",")
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                out.write(blob);
                out.write('\n');
            }
        }
        Path log = dir.resolve("out.txt");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), WideRows.class.getName(), file.toString(),
                dir.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean ended = p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String out = Files.readString(log);
        assertThat(ended).as(out).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("records 1000, dead letters 0, keys 7");
    }

    /** {@link #wideRowsAreReadWithinABoundedHeap}'s JVM: prepares FILE (epoch milliseconds in "when") in DIR. */
    static final class WideRows {
        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[1]);
            ReplayInput.Prepared p = ReplayInput.prepare(Path.of(args[0]), new InputSpec(List.of(), "id",
                    List.of("when"), Optional.of("epoch-millis"), Optional.empty()), dir.resolve("events.bin"),
                    dir.resolve("dead.csv"), n -> { });
            System.out.println("records " + p.stats().records() + ", dead letters " + p.stats().deadLetters()
                    + ", keys " + p.stats().keys());
        }
    }

    @Test
    void aQuotedFieldWithLineBreaksIsOneRowAndAnUnterminatedOneIsOneDeadLetter(@TempDir Path dir) throws Exception {
        String csv = "id,when,note\n"
                + "a,2024-03-01T00:00:00Z,plain\n"
                + "b,2024-03-01T00:01:00Z,\"two\nlines\"\n"
                + "c,2024-03-01T00:02:00Z,\"three\nlines, with \"\"quotes\"\"\nand a comma\"\n"
                + "d,2024-03-01T00:03:00Z,plain\n"
                + "e,2024-03-01T00:04:00Z,\"never closed\n";
        Path file = Files.writeString(dir.resolve("in.csv"), csv);
        InputSpec spec = new InputSpec(List.of(), "id", List.of("when"), Optional.empty(), Optional.empty());
        ReplayInput.Prepared p = ReplayInput.prepare(file, spec, dir.resolve("events.bin"),
                dir.resolve("dead.csv"), n -> { });
        // five rows: four records, one dead letter (records + dead letters = rows, no fragment taken for a row)
        assertThat(p.stats().records()).isEqualTo(4);
        assertThat(p.stats().deadLetters()).isEqualTo(1);
        assertThat(p.stats().keys()).isEqualTo(4);
        List<String> dead = Files.readAllLines(dir.resolve("dead.csv"));
        assertThat(dead).hasSize(2);
        assertThat(dead.get(1)).contains(",9,").contains("EOF reached before encapsulated token finished");
    }

    /**
     * Under keyshift.privacy.key-secret no raw key reaches what keyshift writes: the dead letters keep the line
     * number and the reason, not the row, nor a CSV parser's message that may quote it (they held the whole row).
     */
    @Test
    void underAKeySecretTheDeadLettersHoldNoRowText(@TempDir Path dir) throws Exception {
        String csv = "id,when\n"
                + "Market at 4th,2024-03-01T00:00:00Z\n"
                + "Townsend at 7th,not a time\n"
                + "\"Secret Street\"x,2024-03-01T00:02:00Z\n";
        Path file = Files.writeString(dir.resolve("in.csv"), csv);
        InputSpec spec = new InputSpec(List.of(), "id", List.of("when"), Optional.empty(), Optional.empty());
        for (boolean secret : new boolean[] {false, true}) {
            Path dead = dir.resolve("dead-" + secret + ".csv");
            ReplayInput.Prepared p = ReplayInput.prepare(file, spec, dir.resolve("events-" + secret + ".bin"),
                    dead, n -> { }, ReplayInput.DEFAULT_MAX_EVENT_TIME_GAP, secret);
            assertThat(p.stats().records()).isEqualTo(1);
            assertThat(p.stats().deadLetters()).isEqualTo(2);
            List<String> rows = Files.readAllLines(dead);
            assertThat(rows).hasSize(3);
            assertThat(rows.get(1)).contains(",3,").contains("unparsable time");
            assertThat(rows.get(2)).contains(",4,").contains("not a CSV row");
            if (secret) {
                assertThat(String.join("\n", rows)).doesNotContain("Townsend").doesNotContain("Secret")
                        .doesNotContain("Market");
                assertThat(rows.get(1)).startsWith(",3,");
            } else {
                assertThat(rows.get(1)).contains("Townsend at 7th");
                assertThat(rows.get(2)).contains("Secret Street");
            }
        }
    }

    /**
     * A stray opening quote: the lines after it that do not make one row with it are rows of their own (they had been
     * joined to it, up to a thousand, and counted as one dead letter); a quoted field with line breaks after them is
     * still one row, and a quote that never closes at the end is one dead letter.
     */
    @Test
    void aStrayQuoteIsOneDeadLetterAndTheRowsAfterItAreRead(@TempDir Path dir) throws Exception {
        String csv = "id,when,note\n"
                + "a,2024-03-01T00:00:00Z,\"stray\n"
                + "b,2024-03-01T00:01:00Z,ok\n"
                + "c,2024-03-01T00:02:00Z,ok\n"
                + "d,2024-03-01T00:03:00Z,\"x\"\n"
                + "e,2024-03-01T00:04:00Z,\"two\nlines\"\n"
                + "f,2024-03-01T00:05:00Z,\"never closed\n";
        Path file = Files.writeString(dir.resolve("in.csv"), csv);
        InputSpec spec = new InputSpec(List.of(), "id", List.of("when"), Optional.empty(), Optional.empty());
        ReplayInput.Prepared p = ReplayInput.prepare(file, spec, dir.resolve("events.bin"),
                dir.resolve("dead.csv"), n -> { });
        // b, c and d were joined to a's stray quote (a later quote closed it) and lost as one dead letter with it
        assertThat(p.stats().records()).isEqualTo(4);
        assertThat(p.stats().deadLetters()).isEqualTo(2);
        assertThat(p.stats().keys()).isEqualTo(4);
        List<String> dead = Files.readAllLines(dir.resolve("dead.csv"));
        assertThat(dead).hasSize(3);
        assertThat(dead.get(1)).startsWith("\"a,2024-03-01T00:00:00Z,\"\"stray\",2,");
        assertThat(dead.get(2)).contains(",8,");
    }

    @Test
    void aQuoteInsideAFieldIsACharacterAndAKeyWithALineBreakIsADeadLetter(@TempDir Path dir) throws Exception {
        String csv = "id,when,note\n"
                + "a,2024-03-01T00:00:00Z,5\" pipe\n"
                + "b,2024-03-01T00:01:00Z,plain\n"
                + "\"c\nd\",2024-03-01T00:02:00Z,plain\n"
                + "e,2024-03-01T00:03:00Z,plain\n";
        Path file = Files.writeString(dir.resolve("in.csv"), csv);
        InputSpec spec = new InputSpec(List.of(), "id", List.of("when"), Optional.empty(), Optional.empty());
        ReplayInput.Prepared p = ReplayInput.prepare(file, spec, dir.resolve("events.bin"),
                dir.resolve("dead.csv"), n -> { });
        // four rows: a, b and e are records (the quote after 5 is part of the note); the key "c<LF>d" is a dead letter
        assertThat(p.stats().records()).isEqualTo(3);
        assertThat(p.stats().deadLetters()).isEqualTo(1);
        assertThat(Files.readString(dir.resolve("dead.csv"))).contains("key contains a line break");
    }

    @Test
    void aLineHoldingSeveralRecordsIsRefusedNotCutToTheFirst() throws Exception {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> EventParser.fields("a,1\rb,2\rc,3"))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining("3 records in one row");
        assertThat(EventParser.fields("a,\"x\ny\",2")).containsExactly("a", "x\ny", "2");
    }

    /**
     * Issue 17: one row dated year 3000 and one dated 1900 among rows of 2014 are dead letters with the reason
     * (keyshift.input.max-event-time-gap, default 365 days); with the option at 0 every row is kept.
     */
    @Test
    void rowsFarFromTheStreamAreDeadLettersNamingTheGapOption(@TempDir Path dir) throws Exception {
        StringBuilder csv = new StringBuilder("id,when\n");
        for (int day = 1; day <= 28; day++) {
            csv.append("k").append(day % 3).append(",2014-02-").append(String.format("%02d", day)).append("T10:00:00Z\n");
        }
        csv.append("k9,3000-01-01T00:00:00Z\n").append("k8,1900-06-01T00:00:00Z\n");
        Path file = Files.writeString(dir.resolve("in.csv"), csv.toString());
        InputSpec spec = new InputSpec(List.of(), "id", List.of("when"), Optional.empty(), Optional.empty());
        ReplayInput.Prepared p = ReplayInput.prepare(file, spec, dir.resolve("events.bin"), dir.resolve("dead.csv"),
                n -> { }, ReplayInput.DEFAULT_MAX_EVENT_TIME_GAP);
        assertThat(p.stats().records()).isEqualTo(28);
        assertThat(p.stats().deadLetters()).isEqualTo(2);
        assertThat(p.stats().lastEvent()).isEqualTo(java.time.Instant.parse("2014-02-28T10:00:00Z").toEpochMilli());
        List<String> dead = Files.readAllLines(dir.resolve("dead.csv"));
        assertThat(dead).hasSize(3);
        assertThat(dead.get(1)).startsWith(",31,").contains("1900-06-01").contains("keyshift.input.max-event-time-gap");
        assertThat(dead.get(2)).startsWith(",30,").contains("3000-01-01").doesNotContain("k9");

        ReplayInput.Prepared all = ReplayInput.prepare(file, spec, dir.resolve("events2.bin"), dir.resolve("dead2.csv"),
                n -> { }, java.time.Duration.ZERO);
        assertThat(all.stats().records()).isEqualTo(30);
        assertThat(all.stats().deadLetters()).isZero();
    }

    @Test
    void theLargestRunWinsAndTiesKeepTheEarliest() {
        List<io.keyshift.jobs.event.Event> es = new java.util.ArrayList<>();
        long[] times = {0, 10, 20, 1000, 1010, 5000};
        for (int i = 0; i < times.length; i++) {
            es.add(new io.keyshift.jobs.event.Event(times[i], "k", 1, i));
        }
        assertThat(ReplayInput.largestRun(es, 100)).containsExactly(0, 3);
        assertThat(ReplayInput.largestRun(es.subList(3, 5), 100)).containsExactly(0, 2);
        assertThat(ReplayInput.largestRun(es.subList(2, 4), 100)).containsExactly(0, 1);
        assertThat(ReplayInput.largestRun(List.of(), 100)).containsExactly(0, 0);
    }

    /** Every line of {@code bytes} as the byte-by-byte reader gives them. */
    private static java.util.List<byte[]> byteByByte(byte[] bytes) throws java.io.IOException {
        java.util.List<byte[]> out = new java.util.ArrayList<>();
        java.io.InputStream in = new java.io.ByteArrayInputStream(bytes);
        byte[] line;
        while ((line = ReplayInput.readLine(in)) != null) {
            out.add(line);
        }
        return out;
    }

    private static java.util.List<byte[]> buffered(byte[] bytes, int chunk) throws java.io.IOException {
        java.util.List<byte[]> out = new java.util.ArrayList<>();
        // a stream that hands out at most `chunk` bytes per read, so lines straddle the reads
        java.io.InputStream in = new java.io.ByteArrayInputStream(bytes) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, chunk));
            }
        };
        ReplayInput.Lines lines = new ReplayInput.Lines(in);
        byte[] line;
        while ((line = lines.next()) != null) {
            out.add(line);
        }
        return out;
    }

    @org.junit.jupiter.api.Test
    void theBufferedLineReaderGivesTheLinesOfTheByteByByteOne() throws java.io.IOException {
        java.util.Random random = new java.util.Random(7);
        byte[] alphabet = "ab,\"\r\n\u00e9".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.util.List<byte[]> inputs = new java.util.ArrayList<>(java.util.List.of(new byte[0], "\n".getBytes(),
                "\r\n".getBytes(), "a".getBytes(), "a\r".getBytes(), "a\n\nb\r\n\r\rc".getBytes(),
                ("x".repeat(200_000) + "\r\ny").getBytes()));
        for (int i = 0; i < 300; i++) {
            byte[] b = new byte[random.nextInt(400)];
            for (int j = 0; j < b.length; j++) {
                b[j] = alphabet[random.nextInt(alphabet.length)];
            }
            inputs.add(b);
        }
        for (byte[] input : inputs) {
            java.util.List<byte[]> expected = byteByByte(input);
            for (int chunk : new int[] {1, 2, 3, 7, 1 << 16}) {
                java.util.List<byte[]> got = buffered(input, chunk);
                org.assertj.core.api.Assertions.assertThat(got).as("chunk %d", chunk).hasSameSizeAs(expected);
                for (int k = 0; k < got.size(); k++) {
                    org.assertj.core.api.Assertions.assertThat(got.get(k)).isEqualTo(expected.get(k));
                }
            }
        }
    }

    /**
     * A row's quote state carried from line to line (each line scanned once) is the joined row's, whatever the lines
     * hold: quotes that end a line, {@code ""} escapes, quotes inside a field, carriage returns. The rows were joined
     * and rescanned at every line, quadratic in a stray quote's row.
     */
    @Test
    void theQuoteStateCarriedOverLinesIsTheJoinedRowsState() {
        java.util.Random random = new java.util.Random(11);
        byte[] alphabet = "a,\"\"\r".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int open = 0;
        for (int i = 0; i < 3000; i++) {
            int n = 1 + random.nextInt(5);
            ReplayInput.QuoteState state = new ReplayInput.QuoteState();
            StringBuilder joined = new StringBuilder();
            for (int k = 0; k < n; k++) {
                byte[] line = new byte[random.nextInt(8)];
                for (int j = 0; j < line.length; j++) {
                    line[j] = alphabet[random.nextInt(alphabet.length)];
                }
                if (k > 0) {
                    state.lineBreak();
                    joined.append('\n');
                }
                joined.append(new String(line, java.nio.charset.StandardCharsets.UTF_8));
                boolean carried = state.openAfter(line);
                boolean whole = ReplayInput.unbalancedQuotes(
                        joined.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                assertThat(carried).as("%s", joined).isEqualTo(whole);
                open += whole ? 1 : 0;
            }
        }
        assertThat(open).as("rows left open among those drawn").isGreaterThan(100);
    }

    /**
     * What follows the last whole gzip member is refused, naming the file, not dropped: plain rows appended to a .gz
     * file, or a second member cut within its header (the JDK's GZIPInputStream took either for the end of the
     * input, and the rows after it were neither read nor counted). Two whole members are read as one input (gzip's
     * concatenation).
     */
    @Test
    void whatFollowsTheLastGzipMemberIsRefusedNotDropped(@TempDir Path dir) throws Exception {
        InputSpec spec = new InputSpec(List.of(), "id", List.of("when"), Optional.empty(), Optional.empty());
        byte[] first = gzip("id,when\na,2024-03-01T00:00:00Z\n");
        byte[] rows = "b,2024-03-01T00:01:00Z\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] cutHeader = {0x1f, (byte) 0x8b, 8};
        for (byte[] after : List.of(rows, cutHeader)) {
            Path file = dir.resolve("in-" + after.length + ".csv.gz");
            Files.write(file, concat(first, after));
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ReplayInput.prepare(file, spec,
                            dir.resolve("events.bin"), dir.resolve("dead.csv"), n -> { }))
                    .isInstanceOf(java.io.IOException.class)
                    .hasMessageContaining(file + ": truncated or corrupt compressed input")
                    .hasMessageContaining("nothing was replayed");
        }
        Path two = Files.write(dir.resolve("two.csv.gz"), concat(first, gzip("b,2024-03-01T00:01:00Z\n")));
        ReplayInput.Prepared p = ReplayInput.prepare(two, spec, dir.resolve("events.bin"), dir.resolve("dead.csv"),
                n -> { });
        assertThat(p.stats().records()).isEqualTo(2);
        assertThat(p.stats().deadLetters()).isZero();
    }

    /**
     * A gzip file cut within a header row longer than the first read: refused naming the file and the cut (it said
     * "null": the cut's EOFException has no message, and the header's read caught only an over-long line).
     */
    @Test
    void aGzipCutWithinALongHeaderRowIsNamedAsSuch(@TempDir Path dir) throws Exception {
        StringBuilder header = new StringBuilder("id,when");
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; header.length() < 40_000; i++) {
            // random names, which gzip cannot shrink to a few bytes: the cut falls within the header row
            header.append(",c").append(i).append('_').append(Long.toHexString(random.nextLong()));
        }
        byte[] whole = gzip(header + "\na,2024-03-01T00:00:00Z\n");
        Path file = Files.write(dir.resolve("wide.csv.gz"), java.util.Arrays.copyOf(whole, whole.length * 6 / 10));
        InputSpec spec = new InputSpec(List.of(), "id", List.of("when"), Optional.empty(), Optional.empty());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ReplayInput.header(file, spec))
                .isInstanceOf(java.io.IOException.class)
                .hasMessageContaining(file + ": truncated or corrupt compressed input within its first line")
                .hasMessageNotContaining("null");
    }

    private static byte[] gzip(String text) throws java.io.IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        try (var z = new java.util.zip.GZIPOutputStream(b)) {
            z.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Blank lines are no rows: skipped, neither records nor dead letters (each was a dead letter, "empty line"). */
    @Test
    void blankLinesAreNoRows(@TempDir Path dir) throws Exception {
        InputSpec spec = new InputSpec(List.of(), "id", List.of("when"), Optional.empty(), Optional.empty());
        Path headerOnly = Files.writeString(dir.resolve("h.csv"), "id,when\r\n\r\n");
        ReplayInput.Prepared h = ReplayInput.prepare(headerOnly, spec, dir.resolve("e1.bin"), dir.resolve("d1.csv"),
                n -> { });
        assertThat(h.stats().records()).isZero();
        assertThat(h.stats().deadLetters()).isZero();
        Path rows = Files.writeString(dir.resolve("r.csv"), "id,when\na,2024-03-01T00:00:00Z\n\nb,2024-03-01T00:01:00Z\n\n");
        ReplayInput.Prepared r = ReplayInput.prepare(rows, spec, dir.resolve("e2.bin"), dir.resolve("d2.csv"),
                n -> { });
        assertThat(r.stats().records()).isEqualTo(2);
        assertThat(r.stats().deadLetters()).isZero();
    }

    /**
     * Counting a generated space reports its progress (a replay of 10^11 generated records counted for hours without
     * a word before its first run).
     */
    @Test
    void countingAGeneratedSpaceReportsItsProgress() throws Exception {
        var generator = new io.keyshift.jobs.source.ZipfDriftGenerator(2_500, 0L, 10.0, 50, 1.2, 0, 7L);
        List<Long> calls = new java.util.ArrayList<>();
        ReplayInput.Stats stats = ReplayInput.stats(generator, 1_000, calls::add);
        assertThat(calls).containsExactly(1_000L, 2_000L);
        assertThat(stats.records()).isEqualTo(2_500);
        assertThat(stats.keys()).isBetween(2L, 50L);
        assertThat(ReplayInput.stats(generator)).isEqualTo(stats);
    }

    /** A blank first line is refused as a blank header row (it named one column "" and the refusal listed none). */
    @Test
    void aBlankHeaderRowIsRefusedAsSuch(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("in.csv"), "\r\nid,when\na,2024-03-01T00:00:00Z\n");
        InputSpec spec = new InputSpec(List.of(), "id", List.of("when"), Optional.empty(), Optional.empty());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ReplayInput.header(file, spec))
                .isInstanceOf(java.io.IOException.class)
                .hasMessageContaining(file + ": line 1, the header row, is blank");
    }

    /**
     * A plain CSV whose first bytes are "BZh" (a column BZh_id) is read: it was refused as bzip2, whose signature is
     * checked in full now (an empty bzip2 stream's too).
     */
    @Test
    void aTextFileStartingWithBzhIsNotTakenForBzip2(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("in.csv"), "BZh_id,t\nx,2014-01-01 00:00:00\n");
        InputSpec spec = new InputSpec(List.of(), "BZh_id", List.of("t"), Optional.empty(), Optional.empty());
        assertThat(ReplayInput.header(file, spec)).containsExactly("BZh_id", "t");
        for (String text : List.of("", "a,b\n")) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            try (var o = new org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream(bytes)) {
                o.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            assertThat(ReplayInput.otherCompression(bytes.toByteArray())).as("'%s' compressed", text)
                    .isEqualTo("bzip2");
        }
    }
}
