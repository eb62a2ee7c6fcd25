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
 */
public record InputSpec(List<String> columns, String keyColumn, List<String> timeColumns,
                        Optional<String> timeFormat, Optional<String> sumField) implements Serializable {
    public InputSpec {
        columns = List.copyOf(columns);
        timeColumns = List.copyOf(timeColumns);
        if (timeColumns.isEmpty()) {
            throw new IllegalArgumentException("at least one time column is needed");
        }
    }
}
