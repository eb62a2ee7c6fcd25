package io.keyshift.jobs.workload;

/** RFC 4180 quoting of one CSV field. */
public final class Csv {
    private Csv() {}

    /** The field, quoted (with doubled quotes) if it contains a comma, quote, CR or LF. */
    public static String quote(String field) {
        if (field == null) {
            return "";
        }
        boolean needs = false;
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == ',' || c == '"' || c == '\n' || c == '\r') {
                needs = true;
                break;
            }
        }
        return needs ? '"' + field.replace("\"", "\"\"") + '"' : field;
    }
}
