package io.keyshift.jobs.input;

/**
 * A row that could not become an event: its raw text (or the bytes' Latin-1 rendering if they were not text), its
 * 1-based line number (a Kafka record's offset), and why.
 */
public record DeadLetter(String raw, long line, String reason) {

    /** Reasons whose detail, after the prefix, is a parser's message that may quote the row, and so its key. */
    private static final String[] QUOTING_REASONS = {"not a CSV row", "not JSON"};

    /**
     * The dead letter as keyshift writes it under {@code keyshift.privacy.key-secret}, which keeps raw keys out of
     * everything keyshift writes: no raw text (the line number, or the partition and offset, name the row) and no
     * parser message that may quote the row (a JSON parser's "Unrecognized token 'Market'"); the other reasons name
     * a field, a column count or a time or number that did not parse, never the key.
     */
    public DeadLetter withoutKeys() {
        String r = reason;
        for (String prefix : QUOTING_REASONS) {
            if (r.startsWith(prefix)) {
                r = prefix + " (the parser's message is not shown under keyshift.privacy.key-secret)";
            }
        }
        return new DeadLetter("", line, r);
    }
}
