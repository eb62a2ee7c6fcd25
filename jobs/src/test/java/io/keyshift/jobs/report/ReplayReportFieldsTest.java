package io.keyshift.jobs.report;

import io.keyshift.jobs.input.EventParser;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A CSV line's fields (input rows, result lines): plain lines are split at their commas, quoted ones go to the CSV
 * parser; both give what Commons CSV's default format gives.
 */
class ReplayReportFieldsTest {
    private static List<String> parsed(String line) throws IOException {
        List<CSVRecord> records = CSVFormat.DEFAULT.parse(new StringReader(line)).getRecords();
        List<String> out = new ArrayList<>();
        if (!records.isEmpty()) {
            records.get(0).forEach(out::add);
        }
        return out;
    }

    @Test
    void plainAndQuotedLinesGiveTheFieldsOfTheCsvParser() throws IOException {
        assertThat(ReplayReport.fields("key-7,3600000,7200000,12,")).containsExactly("key-7", "3600000", "7200000",
                "12", "");
        assertThat(ReplayReport.fields("\"Kearny, Washington \"\"St\"\"\",0,86400000,3"))
                .containsExactly("Kearny, Washington \"St\"", "0", "86400000", "3");
        for (String line : List.of("a", "a,,b,", " a , b ", ",", "", "x,\"y,z\"", "2014-01-01 08:14:00+00:00,K,3",
                "\"\"", "\"\",", ",\"\"", "\"a\"\"\",b", "\"a\nb\",c", "a\"b,c", "\"\"\"\"")) {
            assertThat(EventParser.fields(line)).as(line).isEqualTo(parsed(line));
        }
        // not regular: left to the parser (which may read it its own way or refuse it)
        assertThat(io.keyshift.jobs.input.EventParserAccess.regular("a\"b,c")).isNull();
        assertThat(io.keyshift.jobs.input.EventParserAccess.regular("\"a\"x,c")).isNull();
        assertThat(io.keyshift.jobs.input.EventParserAccess.regular("\"unterminated,c")).isNull();
    }

    @Test
    void everyBikeShareRowSplitsAsTheCsvParserReadsIt() throws IOException {
        try (java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(
                new java.util.zip.GZIPInputStream(java.nio.file.Files.newInputStream(io.keyshift.jobs.SharedData.file(
                        "bayarea-bikeshare-2014/batrips.csv.gz"))), java.nio.charset.StandardCharsets.UTF_8))) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null && n < 20_000) {
                assertThat(io.keyshift.jobs.input.EventParserAccess.regular(line)).as(line).isEqualTo(parsed(line));
                n++;
            }
            assertThat(n).isEqualTo(20_000);
        }
    }

    @Test
    void strategiesWithResultsOtherThanHashsAreNamedWithTheirCounts() throws Exception {
        var report = new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"strategies\": {"
                + "\"hash\": {\"result_mismatches\": 0}, \"reactive\": {\"result_mismatches\": 0},"
                + "\"predictive\": {\"result_mismatches\": 3}}}");
        org.assertj.core.api.Assertions.assertThat(ReplayReport.resultMismatches(report))
                .containsExactly(java.util.Map.entry("predictive", 3L));
        org.assertj.core.api.Assertions.assertThat(ReplayReport.resultMismatches(
                new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"strategies\": {\"hash\": "
                        + "{\"result_mismatches\": 0}}}"))).isEmpty();
        // the runs with rescales (--scale), stopped with a savepoint and restored, count too
        org.assertj.core.api.Assertions.assertThat(ReplayReport.resultMismatches(
                new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"strategies\": {\"hash\": "
                        + "{\"result_mismatches\": 0}}, \"scaling\": {\"runs\": {\"scaled-predictive\": "
                        + "{\"result_mismatches\": 2}}}}"))).containsExactly(java.util.Map.entry("scaled-predictive", 2L));
    }

    @Test
    void strategiesThatLostOrDoubledRecordsAreNamedWithTheirCounts() throws Exception {
        var report = new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"strategies\": {"
                + "\"hash\": {\"records_unaccounted\": 0}, \"reactive\": {\"records_unaccounted\": -2},"
                + "\"predictive\": {\"records_unaccounted\": 5}}}");
        org.assertj.core.api.Assertions.assertThat(ReplayReport.recordsUnaccounted(report))
                .containsExactly(java.util.Map.entry("predictive", 5L), java.util.Map.entry("reactive", -2L));
    }
}
