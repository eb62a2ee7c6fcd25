package io.keyshift.jobs.input;

/**
 * A row that could not become an event: its raw text (or the bytes' Latin-1 rendering if they were not text), its
 * 1-based line number (a Kafka record's offset), and why.
 */
public record DeadLetter(String raw, long line, String reason) {

    /** Reasons whose detail, after the prefix, is a parser's message that may quote the row, and so its key. */
    private static final String[] QUOTING_REASONS = {"not a CSV row", "not JSON"};

    /**
     * Reasons that quote the cell of a column that did not parse, which is key text where the columns are shifted
     * ({@code --columns station,when} on a file of {@code when,station}) or a key holds an unquoted comma.
     */
    private static final String[] QUOTING_A_CELL = {"unparsable time '", "time '", "sum field is not a number: '",
        "sum field is not finite: '", "sum field is not a decimal number: '"};

    /**
     * The dead letter as keyshift writes it under {@code keyshift.privacy.key-secret}, which keeps raw keys out of
     * everything keyshift writes: no raw text (the line number, or the partition and offset, name the row) and no
     * parser message that may quote the row (a JSON parser's "Unrecognized token 'Market'"); the other reasons name
     * a field or a column count, and say that a time or sum did not parse without showing the cell (shifted columns
     * put key text there).
     */
    public DeadLetter withoutKeys() {
        String r = reason;
        for (String prefix : QUOTING_REASONS) {
            if (r.startsWith(prefix)) {
                r = prefix + " (the parser's message is not shown under keyshift.privacy.key-secret)";
            }
        }
        for (String prefix : QUOTING_A_CELL) {
            int close = r.lastIndexOf('\'');
            if (r.startsWith(prefix) && close >= prefix.length()) {
                r = prefix.substring(0, prefix.length() - 1) + "(the value is not shown under "
                        + "keyshift.privacy.key-secret)" + r.substring(close + 1);
                break;
            }
        }
        return new DeadLetter("", line, r);
    }
}
