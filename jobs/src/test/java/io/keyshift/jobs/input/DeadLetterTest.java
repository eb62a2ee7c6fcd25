package io.keyshift.jobs.input;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A dead letter under keyshift.privacy.key-secret holds no text of its row: not the row, not a parser's message, and
 * not the cell of a time or sum column that did not parse, which is key text where the columns are shifted (it was
 * written as "unparsable time 'Market at 4th'").
 */
class DeadLetterTest {
    @Test
    void aReasonThatQuotesACellLosesTheCellUnderAKeySecret() {
        assertThat(new DeadLetter("Market at 4th,2014", 7, "unparsable time 'Market at 4th'").withoutKeys())
                .isEqualTo(new DeadLetter("", 7, "unparsable time (the value is not shown under "
                        + "keyshift.privacy.key-secret)"));
        assertThat(new DeadLetter("x", 8, "unparsable time 'O'Brien's " + "x".repeat(40) + "...' (300 characters)")
                .withoutKeys().reason()).isEqualTo("unparsable time (the value is not shown under "
                        + "keyshift.privacy.key-secret) (300 characters)");
        assertThat(new DeadLetter("x", 9, "sum field is not a number: 'SF'").withoutKeys().reason())
                .isEqualTo("sum field is not a number: (the value is not shown under keyshift.privacy.key-secret)");
        assertThat(new DeadLetter("x", 10, "time '99999999999999' outside the years 0001..9999 (UTC)").withoutKeys()
                .reason()).isEqualTo("time (the value is not shown under keyshift.privacy.key-secret) outside the "
                        + "years 0001..9999 (UTC)");
        // what names no cell stays as it was
        assertThat(new DeadLetter("x", 11, "expected 2 columns, found 3").withoutKeys().reason())
                .isEqualTo("expected 2 columns, found 3");
        assertThat(new DeadLetter("x", 12, "missing field 'when'").withoutKeys().reason())
                .isEqualTo("missing field 'when'");
    }
}
