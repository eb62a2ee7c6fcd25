package io.keyshift.workload;

import io.keyshift.route.Role;

/**
 * One result of the built-in workload: records and the sum of their values for one user key in one tumbling
 * window, with where it was computed (key group, subtask) and whether it is the PRIMARY or a SHADOW result.
 * Flink POJO.
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
    /** Key group that computed the result. */
    public int keyGroup;
    /** Subtask index of the window operator that computed the result. */
    public int subtask;
    public Role role;

    public WindowResult() {}

    /** Checksum of the result's content (count and sum), for shadow-versus-primary checks. */
    public long checksum() {
        long h = 1469598103934665603L;
        h = (h ^ count) * 1099511628211L;
        h = (h ^ Double.doubleToLongBits(sum)) * 1099511628211L;
        return h;
    }

    /** {@code key,windowStart,windowEnd,count[,sum]} as in results-&lt;strategy&gt;.csv. */
    public String toCsv(boolean withSum) {
        StringBuilder b = new StringBuilder(64);
        b.append(Csv.quote(key)).append(',').append(windowStart).append(',').append(windowEnd).append(',').append(count);
        if (withSum) {
            b.append(',').append(sum);
        }
        return b.toString();
    }

    /** Load line: {@code windowStart,subtask,count,role} (records processed by a subtask). */
    public String toLoadCsv() {
        return windowStart + "," + subtask + "," + count + "," + role + "," + keyGroup + "," + Csv.quote(key);
    }

    @Override
    public String toString() {
        return "WindowResult{" + key + " [" + windowStart + "," + windowEnd + ") count=" + count + " sum=" + sum
                + " kg=" + keyGroup + " subtask=" + subtask + " " + role + '}';
    }
}
