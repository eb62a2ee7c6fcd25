package io.keyshift.jobs.input;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventParserTest {
    private static final List<String> HEADER = List.of("id", "when", "station", "amount");

    private static EventParser parser(String format, String sum) {
        return new EventParser(new InputSpec(List.of(), "station", List.of("when"), Optional.ofNullable(format),
                Optional.ofNullable(sum)), HEADER);
    }

    private static EventParser.Parsed parse(EventParser p, String line) {
        return p.parse(line.getBytes(StandardCharsets.UTF_8), 7);
    }

    /**
     * Epoch times: a number of milliseconds or seconds; one with an exponent no epoch time has is a dead letter at
     * once (1e100000000 had made BigDecimal build a number of a hundred million digits); several time columns are
     * refused, since joined they are no number.
     */
    @Test
    void epochTimesAreNumbersAndAbsurdOnesDeadLetters() {
        EventParser millis = parser("epoch-millis", null);
        assertThat(parse(millis, "1,1388563200000,s1,0").event().timestamp).isEqualTo(1388563200000L);
        long start = System.nanoTime();
        // a million digits: refused by its length, before a parse that takes time quadratic in it
        for (String absurd : List.of("1e100000000", "1e-100000000", "123456789012345678901234", "NaN", "",
                "1".repeat(1_000_000))) {
            EventParser.Parsed r = parse(millis, "1," + absurd + ",s1,0");
            assertThat(r.event()).as(absurd.length() > 30 ? absurd.substring(0, 30) : absurd).isNull();
            assertThat(r.deadLetter().reason()).as(absurd.length() > 30 ? absurd.substring(0, 30) : absurd)
                    .contains("unparsable time").hasSizeLessThan(1_000);
        }
        // far below the minutes the exponent took (a loose bound: this machine is shared)
        assertThat(System.nanoTime() - start).isLessThan(java.util.concurrent.TimeUnit.SECONDS.toNanos(10));
        assertThat(parse(parser("epoch-seconds", null), "1,1388563200.0015,s1,0").event().timestamp)
                .isEqualTo(1388563200001L);
        assertThatThrownBy(() -> new EventParser(new InputSpec(List.of(), "station", List.of("id", "when"),
                Optional.of("epoch-millis"), Optional.empty()), HEADER))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reads one --time column, not 2");
    }

    /**
     * A JSON number with a fraction as an epoch time is read as written, as the same digits in a CSV record are: read
     * as a double, 1388620799.9999999 seconds (an Instant as Jackson writes it) was 1388620800.0, a millisecond later,
     * and the record went into the next day's window. Other number fields keep a double's text (a key's name).
     */
    @Test
    void aJsonEpochTimeWithAFractionIsReadAsWritten() {
        EventParser seconds = EventParser.forFields(new InputSpec(List.of(), "k", List.of("t"),
                Optional.of("epoch-seconds"), Optional.empty()));
        EventParser.Parsed r = seconds.parseJson("{\"k\":1e2,\"t\":1388620799.9999999}"
                .getBytes(StandardCharsets.UTF_8), 0);
        assertThat(r.deadLetter()).isNull();
        assertThat(r.event().timestamp).isEqualTo(1388620799999L);
        assertThat(r.event().key).isEqualTo("100.0");
        // keys as a double's text, as before: negative zero, an exponent past a double's
        for (String[] k : new String[][] {{"-0.0", "-0.0"}, {"1e2147483648", "Infinity"}, {"1.50", "1.5"}}) {
            assertThat(seconds.parseJson(("{\"k\":" + k[0] + ",\"t\":1388620799}").getBytes(StandardCharsets.UTF_8),
                    0).event().key).as(k[0]).isEqualTo(k[1]);
        }
        EventParser csv = new EventParser(new InputSpec(List.of(), "k", List.of("t"), Optional.of("epoch-seconds"),
                Optional.empty()), List.of("k", "t"));
        assertThat(csv.parse("a,1388620799.9999999".getBytes(StandardCharsets.UTF_8), 1).event().timestamp)
                .isEqualTo(r.event().timestamp);
        assertThat(seconds.parseJson("{\"k\":\"a\",\"t\":1.3886208E9}".getBytes(StandardCharsets.UTF_8), 0)
                .event().timestamp).isEqualTo(1388620800000L);
        assertThat(seconds.parseJson("{\"k\":\"a\",\"t\":1e999999}".getBytes(StandardCharsets.UTF_8), 0)
                .deadLetter().reason()).contains("unparsable time");
    }

    @Test
    void parsesOffsetTimesQuotedKeysAndSums() {
        EventParser p = parser("yyyy-MM-dd HH:mm:ssXXX", "amount");
        EventParser.Parsed r = parse(p, "1,2014-01-01 00:14:00-08:00,\"City Hall, SF\",2.5");
        assertThat(r.deadLetter()).isNull();
        assertThat(r.event().key).isEqualTo("City Hall, SF");
        assertThat(r.event().timestamp).isEqualTo(Instant.parse("2014-01-01T08:14:00Z").toEpochMilli());
        assertThat(r.event().value).isEqualTo(2.5);
        assertThat(r.event().sequence).isEqualTo(7);
    }

    @Test
    void patternWithoutOffsetIsUtcAndDefaultFormatsAreRecognised() {
        EventParser p = parser("dd/MMM/yyyy HH:mm:ss", null);
        assertThat(parse(p, "1,01/May/1998 12:10:53,/a.gif,0").event().timestamp)
                .isEqualTo(Instant.parse("1998-05-01T12:10:53Z").toEpochMilli());
        EventParser d = parser(null, null);
        assertThat(d.parseTime("2014-01-01 00:14:00-08:00")).isEqualTo(Instant.parse("2014-01-01T08:14:00Z").toEpochMilli());
        assertThat(d.parseTime("2014-01-01T00:14:00")).isEqualTo(Instant.parse("2014-01-01T00:14:00Z").toEpochMilli());
        assertThat(d.parseTime("2014-01-01 00:14:00")).isEqualTo(Instant.parse("2014-01-01T00:14:00Z").toEpochMilli());
    }

    /**
     * A pattern with hh (the clock hour 1-12) and no AM/PM marker read every row's time as its date's midnight, with
     * no dead letter; then each row was a dead letter saying why; now the pattern is refused where the parser is made
     * (before any input is read or any Kafka job starts), as is any pattern that cannot read back the times it writes
     * (YYYY, the week-based year; mm, the minute, for the month). A date-only pattern still reads midnight, and 24:00
     * of the flights' "Hmm" is still the next day's midnight.
     */
    @Test
    void aPatternThatCannotReadBackItsOwnTimesIsRefused() {
        // with an optional section too, where the parse of what it writes takes the whole text (it was not checked)
        for (String pattern : List.of("yyyy-MM-dd hh:mm:ss", "YYYY-MM-dd HH:mm:ss", "yyyy-mm-dd HH:mm:ss",
                "YYYY-MM-dd HH:mm:ss[.SSS]", "yyyy-MM-dd hh:mm[:ss]")) {
            assertThatThrownBy(() -> parser(pattern, null)).as(pattern).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("--time-format '" + pattern + "' cannot read back the times it writes")
                    .hasMessageContaining("every record would be a dead letter");
        }
        assertThat(parser("yyyy-MM-dd HH:mm:ss[.SSS]", null).parseTime("2014-07-15 14:35:27"))
                .isEqualTo(Instant.parse("2014-07-15T14:35:27Z").toEpochMilli());
        // alternatives whose written text the first one reads whole, but as another time (day 1520140715): not
        // refused, each alternative reads
        assertThat(parser("[yyyy-M-d][yyyyMMdd]", null).parseTime("2014-7-15"))
                .isEqualTo(Instant.parse("2014-07-15T00:00:00Z").toEpochMilli());
        assertThat(parser("[yyyy-M-d][yyyyMMdd]", null).parseTime("20140715"))
                .isEqualTo(Instant.parse("2014-07-15T00:00:00Z").toEpochMilli());
        // a pattern of alternatives writes them all one after the other: not checked, each alternative reads
        assertThat(parser("[dd.MM.yyyy][yyyy-MM-dd]", null).parseTime("15.07.2014"))
                .isEqualTo(Instant.parse("2014-07-15T00:00:00Z").toEpochMilli());
        assertThat(parser("[dd.MM.yyyy][yyyy-MM-dd]", null).parseTime("2014-07-15"))
                .isEqualTo(Instant.parse("2014-07-15T00:00:00Z").toEpochMilli());
        assertThat(parse(parser("yyyy-MM-dd HH:mm:ss", null), "1,2014-01-01 03:15:00,s1,0").event().timestamp)
                .isEqualTo(Instant.parse("2014-01-01T03:15:00Z").toEpochMilli());
        assertThat(parse(parser("yyyy-MM-dd hh:mm:ss a", null), "1,2014-01-01 03:15:00 PM,s1,0").event().timestamp)
                .isEqualTo(Instant.parse("2014-01-01T15:15:00Z").toEpochMilli());
        assertThat(parse(parser("yyyy-MM-dd", null), "1,2014-01-01,s1,0").event().timestamp)
                .isEqualTo(Instant.parse("2014-01-01T00:00:00Z").toEpochMilli());
        assertThat(parser("yyyy M d Hmm", null).parseTime("2013 1 1 2400"))
                .isEqualTo(Instant.parse("2013-01-02T00:00:00Z").toEpochMilli());
        assertThat(parser("yyyy M d Hmm", null).parseTime("2013 2 27 2400"))
                .isEqualTo(Instant.parse("2013-02-28T00:00:00Z").toEpochMilli());
        // a day the month does not have was read as the month's last (java.time's SMART resolver)
        EventParser.Parsed feb30 = parse(parser("yyyy-MM-dd HH:mm:ss", null), "1,2014-02-30 12:00:00,s1,0");
        assertThat(feb30.event()).isNull();
        assertThat(feb30.deadLetter().reason()).contains("day of month is not in its month");
        assertThat(parse(parser(null, null), "1,2014-02-31T12:00:00Z,s1,0").event()).isNull();
        assertThat(parse(parser("yyyy-MM-dd HH:mm:ss", null), "1,2016-02-29 12:00:00,s1,0").event().timestamp)
                .isEqualTo(Instant.parse("2016-02-29T12:00:00Z").toEpochMilli());
        assertThat(parse(parser("yyyy-MM-dd HH:mm:ss", null), "1,2014-01-31 12:00:00,s1,0").event().timestamp)
                .isEqualTo(Instant.parse("2014-01-31T12:00:00Z").toEpochMilli());
        // ... and at 24:00 as the next month's first (the day clipped, then the day after it)
        assertThat(parse(parser("yyyy-MM-dd HH:mm:ss", null), "1,2014-02-30 24:00:00,s1,0").event()).isNull();
        assertThatThrownBy(() -> parser("yyyy M d Hmm", null).parseTime("2013 2 30 2400"))
                .hasMessageContaining("day of month is not in its month");
        assertThat(parser("yyyy M d Hmm", null).parseTime("2013 2 28 2400"))
                .isEqualTo(Instant.parse("2013-03-01T00:00:00Z").toEpochMilli());
        assertThat(parse(parser("yyyy-MM-dd HH:mm:ss", null), "1,2014-01-31 24:00:00,s1,0").event().timestamp)
                .isEqualTo(Instant.parse("2014-02-01T00:00:00Z").toEpochMilli());
    }

    @Test
    void badRowsBecomeDeadLettersWithReasons() {
        EventParser p = parser("yyyy-MM-dd HH:mm:ssXXX", "amount");
        assertThat(parse(p, "1,2014-01-01 00:14:00-08:00,x").deadLetter().reason()).contains("expected 4 columns, found 3");
        assertThat(parse(p, "1,yesterday,x,1").deadLetter().reason()).contains("unparsable time 'yesterday'");
        assertThat(parse(p, "1,2014-01-01 00:14:00-08:00,  ,1").deadLetter().reason()).isEqualTo("empty key");
        // a key longer than 256 KiB (UTF-8): a result carries it twice, and one of 600 KB failed a Kafka results sink
        // at every restart; 256 KiB itself, and a shorter key of multi-byte characters, are keys
        assertThat(parse(p, "1,2014-01-01 00:14:00-08:00," + "k".repeat(EventParser.MAX_KEY_BYTES + 1) + ",1")
                .deadLetter().reason()).isEqualTo("key longer than " + EventParser.MAX_KEY_BYTES + " bytes");
        assertThat(parse(p, "1,2014-01-01 00:14:00-08:00," + "\u00e9".repeat(EventParser.MAX_KEY_BYTES / 2 + 1)
                + ",1").deadLetter().reason()).isEqualTo("key longer than " + EventParser.MAX_KEY_BYTES + " bytes");
        assertThat(parse(p, "1,2014-01-01 00:14:00-08:00," + "k".repeat(EventParser.MAX_KEY_BYTES) + ",1")
                .deadLetter()).isNull();
        assertThat(parse(p, "1,2014-01-01 00:14:00-08:00," + "\u00e9".repeat(EventParser.MAX_KEY_BYTES / 2) + ",1")
                .deadLetter()).isNull();
        assertThat(parse(p, "1,2014-01-01 00:14:00-08:00,x,abc").deadLetter().reason()).contains("not a number");
        // a blank value is missing, not zero
        assertThat(parse(p, "1,2014-01-01 00:14:00-08:00,x, ").deadLetter().reason()).isEqualTo("sum field is empty");
        // Java's own number forms, which Double.parseDouble reads, summed 5, 5 and -8
        for (String javaForm : List.of("5d", "5f", "-0x1p3")) {
            assertThat(parse(p, "1,2014-01-01 00:14:00-08:00,x," + javaForm).deadLetter().reason()).as(javaForm)
                    .isEqualTo("sum field is not a decimal number: '" + javaForm + "'");
        }
        assertThat(parse(p, "1,2014-01-01 00:14:00-08:00,x,5.").event().value).isEqualTo(5.0);
        assertThat(parse(p, "1,2014-01-01 00:14:00-08:00,x,-2.5e3").event().value).isEqualTo(-2500.0);
        byte[] latin1 = "1,2014-01-01 00:14:00-08:00,caf\u00e9,1".getBytes(StandardCharsets.ISO_8859_1);
        EventParser.Parsed bad = p.parse(latin1, 3);
        // a time the router could never route (within a window of Long.MAX_VALUE) is the record's mistake
        EventParser d = parser(null, null);
        assertThat(parse(d, "1,+292278994-08-17T07:00:00Z,x,1").deadLetter().reason())
                .contains("outside the years 0001..9999");
        assertThat(parse(d, "1,9999-12-31T23:59:59Z,x,1").deadLetter()).isNull();
        assertThat(parse(d, "1,0001-01-01T00:00:00Z,x,1").deadLetter()).isNull();
        assertThat(parse(d, "1,-0001-12-31T23:59:59Z,x,1").deadLetter().reason())
                .contains("outside the years 0001..9999");
        assertThat(bad.deadLetter().reason()).isEqualTo("not valid UTF-8 text");
        assertThat(bad.deadLetter().line()).isEqualTo(3);
        assertThat(bad.deadLetter().raw()).contains("caf\u00e9");
    }

    @Test
    void unknownColumnsAndBadPatternsFailFastNamingTheProblem() {
        assertThatThrownBy(() -> new EventParser(new InputSpec(List.of(), "no_such_column", List.of("when"),
                Optional.empty(), Optional.empty()), HEADER))
                .isInstanceOf(EventParser.UnknownColumnException.class)
                .hasMessageContaining("--key: unknown column 'no_such_column'");
        assertThatThrownBy(() -> parser("yyyy-MM-dd qqqqqq", null)).hasMessageContaining("--time-format");
        // a column named twice: the first was taken without a word
        assertThatThrownBy(() -> new EventParser(new InputSpec(List.of(), "station", List.of("when"),
                Optional.empty(), Optional.empty()), List.of("station", "station", "when")))
                .isInstanceOf(EventParser.UnknownColumnException.class)
                .hasMessageContaining("--key: column 'station' appears more than once");
    }

    /**
     * --time-zone: a local time without an offset is in the zone given (New York's flights were read as UTC), across
     * a change of the clocks; a time with an offset keeps its own; an epoch time takes none; a bad zone is named.
     */
    @Test
    void aTimeWithoutAnOffsetIsInTheZoneGiven() {
        EventParser ny = new EventParser(new InputSpec(List.of(), "station", List.of("when"),
                Optional.of("yyyy-MM-dd HH:mm[XXX]"), Optional.empty(), "America/New_York"), HEADER);
        // summer (EDT, -4) and winter (EST, -5)
        assertThat(parse(ny, "1,2013-07-01 05:17,s1,0").event().timestamp)
                .isEqualTo(Instant.parse("2013-07-01T09:17:00Z").toEpochMilli());
        assertThat(parse(ny, "1,2013-01-01 05:17,s1,0").event().timestamp)
                .isEqualTo(Instant.parse("2013-01-01T10:17:00Z").toEpochMilli());
        // the hour the clocks repeat: the earlier offset
        assertThat(parse(ny, "1,2013-11-03 01:30,s1,0").event().timestamp)
                .isEqualTo(Instant.parse("2013-11-03T05:30:00Z").toEpochMilli());
        assertThat(parse(ny, "1,2013-07-01 05:17+00:00,s1,0").event().timestamp)
                .isEqualTo(Instant.parse("2013-07-01T05:17:00Z").toEpochMilli());
        EventParser days = new EventParser(new InputSpec(List.of(), "station", List.of("when"),
                Optional.of("yyyy-MM-dd"), Optional.empty(), "America/New_York"), HEADER);
        assertThat(parse(days, "1,2013-07-01,s1,0").event().timestamp)
                .isEqualTo(Instant.parse("2013-07-01T04:00:00Z").toEpochMilli());
        assertThat(parse(parser("yyyy-MM-dd HH:mm", null), "1,2013-07-01 05:17,s1,0").event().timestamp)
                .isEqualTo(Instant.parse("2013-07-01T05:17:00Z").toEpochMilli());
        // a date with a generic zone name begins at its midnight there (it began at midnight UTC)
        assertThat(parse(parser("yyyy-MM-dd v", null), "1,2014-07-15 PT,s1,0").event().timestamp)
                .isEqualTo(Instant.parse("2014-07-15T07:00:00Z").toEpochMilli());
        assertThatThrownBy(() -> new InputSpec(List.of(), "station", List.of("when"), Optional.empty(),
                Optional.empty(), "Mars/Olympus")).hasMessageContaining("--time-zone").hasMessageContaining("Mars");
        assertThatThrownBy(() -> new EventParser(new InputSpec(List.of(), "station", List.of("when"),
                Optional.of("epoch-millis"), Optional.empty(), "UTC"), HEADER))
                .hasMessageContaining("--time-zone does not apply");
        // nor to a pattern whose every time has its own offset or zone (the option was taken and did nothing)
        for (String withOffset : new String[] {"yyyy-MM-dd HH:mm:ssXXX", "yyyy-MM-dd'T'HH:mm VV",
                "yyyy-MM-dd'T'HH:mm:ss[.SSS]XXX", "yyyy-MM-dd'T'HH:mm:ss[.SSS[SSS]]'['VV']'",
                "[yyyy-MM-dd][dd.MM.yyyy] HH:mm:ssXXX"}) {
            assertThatThrownBy(() -> new EventParser(new InputSpec(List.of(), "station", List.of("when"),
                    Optional.of(withOffset), Optional.empty(), "America/Los_Angeles"), HEADER)).as(withOffset)
                    .hasMessageContaining("--time-zone does not apply to --time-format '" + withOffset + "'");
            assertThat(parser(withOffset, null)).as(withOffset).isNotNull();
        }
        // a date with its own offset begins in it (it was taken as the day in --time-zone, or UTC)
        assertThat(parse(parser("yyyy-MM-ddXXX", null), "1,2014-07-15+02:00,s1,0").event().timestamp)
                .isEqualTo(Instant.parse("2014-07-14T22:00:00Z").toEpochMilli());
        assertThat(parse(parser("yyyy-MM-dd", null), "1,2014-07-15,s1,0").event().timestamp)
                .isEqualTo(Instant.parse("2014-07-15T00:00:00Z").toEpochMilli());
        assertThat(EventParser.withoutOptionalSections("yyyy-MM-dd'T'HH:mm[:ss[.SSS]]'[x]'[XXX]"))
                .isEqualTo("yyyy-MM-dd'T'HH:mm'[x]'");
    }

    /**
     * A record that begins with a UTF-8 byte order mark (a file's first line sent as a Kafka record) keeps its key;
     * JSON escapes that spell no text (half of a surrogate pair, NUL) are dead letters, as their bytes would be in CSV.
     */
    @Test
    void aByteOrderMarkIsNotPartOfTheKeyAndJsonEscapesThatSpellNoTextAreDeadLetters() {
        byte[] row = "1,2014-01-01T00:00:00Z,s1,0".getBytes(StandardCharsets.UTF_8);
        byte[] withBom = new byte[row.length + 3];
        withBom[0] = (byte) 0xEF;
        withBom[1] = (byte) 0xBB;
        withBom[2] = (byte) 0xBF;
        System.arraycopy(row, 0, withBom, 3, row.length);
        EventParser keyFirst = new EventParser(new InputSpec(List.of(), "station", List.of("when"), Optional.empty(),
                Optional.empty()), List.of("station", "when", "id", "amount"));
        byte[] keyRow = "s1,2014-01-01T00:00:00Z,1,0".getBytes(StandardCharsets.UTF_8);
        byte[] keyWithBom = new byte[keyRow.length + 3];
        System.arraycopy(withBom, 0, keyWithBom, 0, 3);
        System.arraycopy(keyRow, 0, keyWithBom, 3, keyRow.length);
        assertThat(keyFirst.parse(keyWithBom, 1).event().key).isEqualTo("s1");
        assertThat(parser(null, null).parse(withBom, 1).event().key).isEqualTo("s1");
        EventParser json = EventParser.forFields(new InputSpec(List.of(), "k", List.of("t"), Optional.empty(),
                Optional.empty()));
        for (String bad : List.of("a\\ud83d", "a\\udc00b", "a\\u0000")) {
            EventParser.Parsed r = json.parseJson(("{\"k\":\"" + bad + "\",\"t\":\"2014-01-01T00:00:00Z\"}")
                    .getBytes(StandardCharsets.UTF_8), 0);
            assertThat(r.event()).as(bad).isNull();
            assertThat(r.deadLetter().reason()).as(bad).contains("field 'k'");
        }
        byte[] object = "{\"k\":\"k1\",\"t\":\"2014-01-01T00:00:00Z\"}".getBytes(StandardCharsets.UTF_8);
        byte[] objectWithBom = new byte[object.length + 3];
        System.arraycopy(withBom, 0, objectWithBom, 0, 3);
        System.arraycopy(object, 0, objectWithBom, 3, object.length);
        assertThat(json.parseJson(objectWithBom, 0).event().key).isEqualTo("k1");
        assertThat(json.parseJson("{\"k\":\"\\ud83d\\ude00\",\"t\":\"2014-01-01T00:00:00Z\"}"
                .getBytes(StandardCharsets.UTF_8), 0).event().key).isEqualTo("\ud83d\ude00");
    }
}
