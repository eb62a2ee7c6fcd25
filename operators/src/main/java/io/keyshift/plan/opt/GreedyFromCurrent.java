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
        return moves(p, tolerance, maxMoves, 0);
    }

    /**
     * As {@link #moves(PlanningProblem, double, int)}, then, with a {@code capacity} above 0 (load per subtask), moves
     * that relieve subtasks above it: where the busiest subtask cannot be improved (one unit heavier than the gap, a
     * pinned key) the greedy stops there, and another subtask above capacity would stay so. Each such move takes, from
     * the busiest subtask above capacity that has a unit lighter than its gap to the least loaded subtask, the unit
     * closest to half that gap, to the least loaded subtask (so the pair's maximum falls and the moves end).
     */
    public static java.util.List<Move> moves(PlanningProblem p, double tolerance, int maxMoves, double capacity) {
        java.util.List<Move> out = new java.util.ArrayList<>();
        improve(p, p.current().clone(), tolerance, maxMoves, capacity, out);
        return out;
    }

    /** Improves {@code assignment} in place (and returns it). */
    static int[] improve(PlanningProblem p, int[] assignment, double tolerance, int maxMoves) {
        return improve(p, assignment, tolerance, maxMoves, 0, null);
    }

    private static int[] improve(PlanningProblem p, int[] assignment, double tolerance, int maxMoves,
                                 double capacity, java.util.List<Move> record) {
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
            move(best, hi, lo, units, bySub, sub, load, assignment, record);
            moves++;
        }
        while (capacity > 0 && moves < maxMoves) {
            // relieve subtasks above capacity that the busiest one's stop left so (each move lowers the sum of the
            // squared subtask loads: the loop ends)
            int lo = bySub.first();
            Integer best = null;
            int from = -1;
            for (int j : bySub.descendingSet()) {
                double gap = sub[j] - sub[lo];
                if (sub[j] <= capacity || gap <= 0) {
                    break;
                }
                best = closest(units[j], load, n, gap / 2, gap);
                if (best != null) {
                    from = j;
                    break;
                }
            }
            if (best == null) {
                break;
            }
            move(best, from, lo, units, bySub, sub, load, assignment, record);
            moves++;
        }
        return assignment;
    }

    private static void move(int unit, int from, int to, TreeSet<Integer>[] units, TreeSet<Integer> bySub,
                             double[] sub, double[] load, int[] assignment, java.util.List<Move> record) {
        if (record != null) {
            record.add(new Move(unit, from, to, sub[from], sub[to]));
        }
        bySub.remove(from);
        bySub.remove(to);
        units[from].remove(unit);
        units[to].add(unit);
        sub[from] -= load[unit];
        sub[to] += load[unit];
        assignment[unit] = to;
        bySub.add(from);
        bySub.add(to);
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
