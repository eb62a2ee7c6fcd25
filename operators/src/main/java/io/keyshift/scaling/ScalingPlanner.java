package io.keyshift.scaling;

import io.keyshift.avro.ScalingDecision;
import io.keyshift.avro.ScalingKind;
import io.keyshift.avro.ScalingPolicy;

import java.io.Serializable;

/**
 * Decides the job's parallelism from load per window against a fixed capacity per subtask.
 *
 * <p>The busiest subtask after rebalancing at parallelism p is estimated as {@code max(load / p, largestUnit)}
 * (load spread evenly except for a key that cannot be split), its utilization as that over the capacity. Scale
 * out when it exceeds the critical utilization at the current parallelism: to the smallest parallelism at or
 * below the high utilization (or, if a single key keeps every parallelism above it, to the smallest one with the
 * lowest utilization, and not at all if that is no lower). Scale in when it stays below the scale-in utilization for {@code scaleInWindows}
 * windows in a row: to the smallest parallelism at or below the high utilization. Among parallelisms, those that
 * divide the max parallelism (equal key-group ranges per subtask) are preferred: the smallest divisor that meets
 * the target is taken when it costs at most 25% more subtasks than the smallest parallelism that meets it. No decision
 * within {@code cooldownWindows} windows of the last one. PREDICTIVE passes the largest forecast total over the
 * horizon (it acts before the load arrives); REACTIVE the last window's measured total (as an autoscaler that
 * reads metrics).
 */
public final class ScalingPlanner implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Settings; utilizations are shares of the capacity. */
    public record Settings(double capacity, double high, double critical, double scaleIn, int minParallelism,
                           int maxParallelism, int keyGroups, int cooldownWindows, int scaleInWindows)
            implements Serializable {
        public Settings {
            if (!(capacity > 0) || !(0 < scaleIn && scaleIn <= high && high <= critical) || minParallelism < 1
                    || maxParallelism < minParallelism || keyGroups < maxParallelism || cooldownWindows < 0
                    || scaleInWindows < 1) {
                throw new IllegalArgumentException("scaling: capacity > 0, 0 < scale-in <= high <= critical, "
                        + "1 <= min <= max parallelism <= key groups, cooldown >= 0, scale-in windows >= 1 required");
            }
        }
    }

    private final Settings s;
    private final ScalingPolicy policy;
    private int parallelism;
    private int windowsSinceDecision;
    private int windowsBelow;

    public ScalingPlanner(Settings s, ScalingPolicy policy, int initialParallelism) {
        this.s = s;
        this.policy = policy;
        this.parallelism = Math.max(s.minParallelism(), Math.min(s.maxParallelism(), initialParallelism));
        this.windowsSinceDecision = Integer.MAX_VALUE / 2;
    }

    /** The parallelism in force (the last decision's). */
    public int parallelism() {
        return parallelism;
    }

    /**
     * The job runs at {@code p} (it was rescaled, by this planner's decision or otherwise): decide from there on.
     * Clamped to the bounds; the cooldown and the scale-in count carry on.
     */
    public void syncParallelism(int p) {
        parallelism = Math.max(s.minParallelism(), Math.min(s.maxParallelism(), p));
    }

    /** Utilization of the busiest subtask after rebalancing at parallelism {@code p}. */
    public double utilization(double load, double largestUnit, int p) {
        return Math.max(load / p, largestUnit) / s.capacity();
    }

    /**
     * One window: returns a decision, or null to keep the parallelism.
     *
     * @param windowEnd end of the observed window, epoch ms
     * @param load records per window the policy looks at (>= 0)
     * @param largestUnit the heaviest single key's records per window (a key that is not split stays on one subtask)
     */
    public ScalingDecision onWindow(long windowEnd, double load, double largestUnit) {
        windowsSinceDecision++;
        double now = utilization(load, largestUnit, parallelism);
        windowsBelow = now < s.scaleIn() ? windowsBelow + 1 : 0;
        if (windowsSinceDecision <= s.cooldownWindows()) {
            return null;
        }
        ScalingKind kind = null;
        int target = parallelism;
        String reason = null;
        if (now > s.critical() && parallelism < s.maxParallelism()) {
            target = smallestMeeting(load, largestUnit, parallelism + 1, s.maxParallelism());
            if (utilization(load, largestUnit, target) < now) {
                kind = ScalingKind.SCALE_OUT;
                reason = String.format("busiest subtask at %.2f of capacity > critical %.2f", now, s.critical());
            }
        } else if (windowsBelow >= s.scaleInWindows() && parallelism > s.minParallelism()) {
            int candidate = smallestMeeting(load, largestUnit, s.minParallelism(), parallelism - 1);
            if (candidate < parallelism && utilization(load, largestUnit, candidate) <= s.high()) {
                target = candidate;
                kind = ScalingKind.SCALE_IN;
                reason = String.format("every subtask below %.2f of capacity for %d windows", s.scaleIn(), windowsBelow);
            }
        }
        if (kind == null || target == parallelism) {
            return null;
        }
        ScalingDecision d = ScalingDecision.newBuilder()
                .setWindowEnd(windowEnd).setPolicy(policy).setKind(kind)
                .setFromParallelism(parallelism).setToParallelism(target)
                .setCapacity(s.capacity()).setLoad(load)
                .setUtilizationBefore(now).setUtilizationAfter(utilization(load, largestUnit, target))
                .setReason(reason).build();
        parallelism = target;
        windowsSinceDecision = 0;
        windowsBelow = 0;
        return d;
    }

    /**
     * Smallest p in [from, to] with utilization <= high, preferring divisors of the key groups; if none meets it,
     * the smallest p with the lowest utilization (more subtasks do not help a key that cannot be split).
     */
    int smallestMeeting(double load, double largestUnit, int from, int to) {
        int plain = -1;
        int lowest = to;
        for (int p = to; p >= from; p--) {
            if (utilization(load, largestUnit, p) <= utilization(load, largestUnit, lowest)) {
                lowest = p;
            }
        }
        for (int p = from; p <= to; p++) {
            if (utilization(load, largestUnit, p) <= s.high()) {
                if (s.keyGroups() % p == 0) {
                    return plain < 0 || p <= 1.25 * plain ? p : plain;
                }
                if (plain < 0) {
                    plain = p;
                }
            }
        }
        return plain > 0 ? plain : lowest;
    }
}
