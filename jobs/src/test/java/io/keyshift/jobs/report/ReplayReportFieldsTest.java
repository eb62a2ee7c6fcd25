package io.keyshift.jobs.report;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

/** A result line's fields: plain lines by a split, quoted keys (commas, quotes inside) by the CSV parser. */
class ReplayReportFieldsTest {
    @Test
    void plainAndQuotedLinesGiveTheirFields() throws IOException {
        assertThat(ReplayReport.fields("key-7,3600000,7200000,12,")).containsExactly("key-7", "3600000", "7200000",
                "12", "");
        assertThat(ReplayReport.fields("\"Kearny, Washington \"\"St\"\"\",0,86400000,3"))
                .containsExactly("Kearny, Washington \"St\"", "0", "86400000", "3");
    }
}
