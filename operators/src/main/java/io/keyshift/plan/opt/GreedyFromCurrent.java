package io.keyshift.plan.opt;

import java.time.Duration;
import java.util.Arrays;
import java.util.TreeSet;

/**
 * Greedy improvement from the current assignment, moving few units: while it lowers the pair's maximum, move from
 * the most loaded subtask to the least loaded one the movable unit whose load is closest to half their gap (any
 * unit lighter than the gap lowers the maximum of the two; half the gap evens them). Stops when the most loaded
 * subtask has no movable unit lighter than the gap, or when the imbalance is within {@code tolerance} of the lower
 * bound. Each move costs O(log n) (units per subtask and subtasks by load in sorted sets), so a million units
 * are planned in well under a second.
 */
public final class GreedyFromCurrent implements Optimizer {
    private final double tolerance;
    private final int maxMoves;

    /**
     * @param tolerance stop once imbalance <= lowerBound * (1 + tolerance), e.g. 0.005
     * @param maxMoves upper bound on moves (the migration budget), >= 0
     */
    public GreedyFromCurrent(double tolerance, int maxMoves) {
        this.tolerance = tolerance;
        this.maxMoves = maxMoves;
    }

    @Override
    public String name() {
        return "greedy";
    }

    @Override
    public int[] optimize(PlanningProblem p, long seed, Duration budget) {
        return improve(p, p.current().clone(), tolerance, maxMoves);
    }

    /** One move of the greedy: unit, from subtask, to subtask, and both subtasks' loads before it. */
    public record Move(int unit, int from, int to, double fromLoadBefore, double toLoadBefore) {}

    /** The greedy's moves from the current assignment, in the order it makes them. */
    public static java.util.List<Move> moves(PlanningProblem p, double tolerance, int maxMoves) {
        java.util.List<Move> out = new java.util.ArrayList<>();
        improve(p, p.current().clone(), tolerance, maxMoves, out);
        return out;
    }

    /** Improves {@code assignment} in place (and returns it). */
    static int[] improve(PlanningProblem p, int[] assignment, double tolerance, int maxMoves) {
        return improve(p, assignment, tolerance, maxMoves, null);
    }

    private static int[] improve(PlanningProblem p, int[] assignment, double tolerance, int maxMoves,
                                 java.util.List<Move> record) {
        int n = p.units();
        int s = p.subtasks();
        // loads with one extra slot: index n is the probe for floor/ceiling searches in the sorted sets
        double[] load = Arrays.copyOf(p.load(), n + 1);
        double[] sub = p.subtaskLoads(assignment);
        double total = Arrays.stream(sub).sum();
        if (total <= 0 || s == 1) {
            return assignment;
        }
        double target = p.lowerBound() * (1 + tolerance) * (total / s);
        @SuppressWarnings("unchecked")
        TreeSet<Integer>[] units = new TreeSet[s];
        for (int j = 0; j < s; j++) {
            final double[] l = load;
            units[j] = new TreeSet<>((a, b) -> {
                int c = Double.compare(l[a], l[b]);
                return c != 0 ? c : Integer.compare(a, b);
            });
        }
        for (int i = 0; i < n; i++) {
            if (p.movable()[i] && load[i] > 0) {
                units[assignment[i]].add(i);
            }
        }
        TreeSet<Integer> bySub = new TreeSet<>((a, b) -> {
            int c = Double.compare(sub[a], sub[b]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        for (int j = 0; j < s; j++) {
            bySub.add(j);
        }
        int moves = 0;
        while (moves < maxMoves) {
            int hi = bySub.last();
            int lo = bySub.first();
            double gap = sub[hi] - sub[lo];
            if (sub[hi] <= target || gap <= 0) {
                break;
            }
            Integer best = closest(units[hi], load, n, gap / 2, gap);
            if (best == null) {
                break;
            }
            if (record != null) {
                record.add(new Move(best, hi, lo, sub[hi], sub[lo]));
            }
            bySub.remove(hi);
            bySub.remove(lo);
            units[hi].remove(best);
            units[lo].add(best);
            sub[hi] -= load[best];
            sub[lo] += load[best];
            assignment[best] = lo;
            bySub.add(hi);
            bySub.add(lo);
            moves++;
        }
        return assignment;
    }

    /** The unit with load < limit closest to {@code half}, or null; {@code probe} is a free index of {@code load}. */
    private static Integer closest(TreeSet<Integer> set, double[] load, int probe, double half, double limit) {
        load[probe] = half;
        Integer below = set.floor(probe);
        Integer above = set.ceiling(probe);
        Integer best = null;
        if (below != null && load[below] > 0) {
            best = below;
        }
        if (above != null && load[above] < limit && (best == null || load[above] - half < half - load[best])) {
            best = above;
        }
        return best;
    }
}
