package io.keyshift.jobs.input;

import java.io.Serializable;
import java.util.List;
import java.util.Optional;

/**
 * How to read a keyed CSV file: column names (from the header row, or given), the key column, the time columns
 * (joined with a space before parsing), the time pattern, and an optional column to sum.
 *
 * @param columns column names given on the command line for a file without a header row; empty = header row
 * @param keyColumn name of the key column
 * @param timeColumns names of the time columns, at least one
 * @param timeFormat a java.time pattern, {@code epoch-millis} or {@code epoch-seconds} (one time column), or empty
 *                   for ISO-8601 / {@code yyyy-MM-dd HH:mm:ss[XXX]}
 * @param sumField name of a numeric column to sum per key and window, or empty
 * @param timeZone the zone (a {@link java.time.ZoneId}, e.g. {@code America/New_York}) of times whose text has no
 *                 offset or zone; null for UTC
 */
public record InputSpec(List<String> columns, String keyColumn, List<String> timeColumns,
                        Optional<String> timeFormat, Optional<String> sumField, String timeZone)
        implements Serializable {
    public InputSpec {
        columns = List.copyOf(columns);
        timeColumns = List.copyOf(timeColumns);
        if (timeColumns.isEmpty()) {
            throw new IllegalArgumentException("at least one time column is needed");
        }
        if (timeZone != null) {
            try {
                java.time.ZoneId.of(timeZone);
            } catch (java.time.DateTimeException e) {
                throw new IllegalArgumentException("--time-zone: not a zone id (such as America/New_York or "
                        + "+01:00): '" + timeZone + "'");
            }
        }
    }

    /** Times without an offset in UTC. */
    public InputSpec(List<String> columns, String keyColumn, List<String> timeColumns, Optional<String> timeFormat,
                     Optional<String> sumField) {
        this(columns, keyColumn, timeColumns, timeFormat, sumField, null);
    }
}
