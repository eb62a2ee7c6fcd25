package io.keyshift.jobs.workload;

/**
 * One result of the built-in workload: records and the sum of their values for one user key in one tumbling window.
 * Flink POJO. It says nothing about where it was computed: keyshift compares a shadow's results with the primary's,
 * and a result that named its subtask would differ between them.
 */
public class WindowResult {
    public String key;
    /** Window start, epoch ms, inclusive. */
    public long windowStart;
    /** Window end, epoch ms, exclusive. */
    public long windowEnd;
    /** Records of the key in the window. */
    public long count;
    /** Sum of the records' values. */
    public double sum;

    public WindowResult() {}

    /** {@code key,windowStart,windowEnd,count[,sum]} as in results-&lt;strategy&gt;.csv. */
    public String toCsv(boolean withSum) {
        StringBuilder b = new StringBuilder(64);
        b.append(Csv.quote(key)).append(',').append(windowStart).append(',').append(windowEnd).append(',').append(count);
        if (withSum) {
            b.append(',').append(sum);
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return "WindowResult{" + key + " [" + windowStart + "," + windowEnd + ") count=" + count + " sum=" + sum
                + '}';
    }
}
