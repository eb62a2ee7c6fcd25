package io.keyshift.plan.opt;

import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * {@link GreedyFromCurrent}, then targeted swaps within the time budget: the most loaded subtask {@code hi} trades one
 * of its units {@code x} for a lighter unit {@code y} of one of the least loaded subtasks {@code lo}, choosing y by
 * binary search (units per subtask kept sorted by load) as close as possible to {@code load(x) − gap/2}, so that
 * the pair ends up even. Swaps fix what single moves cannot: a most loaded subtask whose every unit is heavier than
 * its gap to the least loaded one (typically the pieces of a split hot key). Stops at the lower bound (within
 * {@code tolerance}), when no swap with one of the {@value #CANDIDATES} least loaded subtasks lowers the maximum, or
 * when the budget is spent. If the result is still more than {@value #FALLBACK_GAP} above the lower bound (few units
 * per subtask, where moves and swaps get stuck), {@link LptFromScratch} is tried too and the better assignment kept
 * (ties to the one that moves fewer units). At most {@code maxMoves} units end on another subtask than in
 * {@link PlanningProblem#current()}: a swap that would take the count beyond it is not made, and an LPT assignment
 * beyond it is not taken. No randomness is used (the seed is ignored), but the budget is wall-clock time: the result
 * is a function of the problem alone only when the swaps stop before the budget is spent (at the lower bound, or with
 * no swap that helps); a budget that runs out first ends them after as many swaps as the time allowed, and the LPT
 * comparison then starts from that point (so {@code keyshift.plan.time-budget} 0, greedy only, is the deterministic
 * setting).
 */
public final class LocalSearch implements Optimizer {
    /** Least loaded subtasks tried as swap partners per step. */
    static final int CANDIDATES = 8;
    /** Relative gap above the lower bound beyond which LPT from scratch is tried as well. */
    static final double FALLBACK_GAP = 0.02;

    private final double tolerance;
    private final int maxMoves;

    public LocalSearch(double tolerance, int maxMoves) {
        this.tolerance = tolerance;
        this.maxMoves = maxMoves;
    }

    @Override
    public String name() {
        return "greedy+swap";
    }

    @Override
    public int[] optimize(PlanningProblem p, long seed, Duration budget) {
        int[] a = GreedyFromCurrent.improve(p, p.current().clone(), tolerance, maxMoves);
        int n = p.units();
        int s = p.subtasks();
        if (n == 0 || s == 1) {
            return a;
        }
        double[] load = p.load();
        double[] sub = p.subtaskLoads(a);
        double total = Arrays.stream(sub).sum();
        if (total <= 0) {
            return a;
        }
        double target = p.lowerBound() * (1 + tolerance) * (total / s);
        int[][] members = members(p, a);
        for (int j = 0; j < s; j++) {
            sortByLoad(members[j], load);
        }
        long deadline = System.nanoTime() + budget.toNanos();
        int[] current = p.current();
        int changed = p.moved(a);
        while (System.nanoTime() < deadline) {
            int hi = 0;
            for (int j = 1; j < s; j++) {
                if (sub[j] > sub[hi]) {
                    hi = j;
                }
            }
            if (sub[hi] <= target) {
                break;
            }
            final int top = hi;
            int[] partners = IntStream.range(0, s).filter(j -> j != top).boxed()
                    .sorted(Comparator.comparingDouble((Integer j) -> sub[j]).thenComparingInt(j -> j))
                    .limit(CANDIDATES).mapToInt(Integer::intValue).toArray();
            double bestMax = sub[hi];
            int bx = -1;
            int by = -1;
            int bo = -1;
            for (int lo : partners) {
                double gap = sub[hi] - sub[lo];
                for (int xi = 0; xi < members[hi].length; xi++) {
                    double lx = load[members[hi][xi]];
                    int yi = nearest(members[lo], load, lx - gap / 2);
                    for (int c = Math.max(0, yi - 1); c <= Math.min(members[lo].length - 1, yi + 1); c++) {
                        double d = lx - load[members[lo][c]];
                        double m = Math.max(sub[hi] - d, sub[lo] + d);
                        if (d > 0 && m < bestMax - 1e-9
                                && changed + swapChange(current, members[hi][xi], members[lo][c], hi, lo) <= maxMoves) {
                            bestMax = m;
                            bx = xi;
                            by = c;
                            bo = lo;
                        }
                    }
                }
            }
            if (bx < 0) {
                break;
            }
            int x = members[hi][bx];
            int y = members[bo][by];
            double d = load[x] - load[y];
            sub[hi] -= d;
            sub[bo] += d;
            a[x] = bo;
            a[y] = hi;
            members[hi][bx] = y;
            members[bo][by] = x;
            changed += swapChange(current, x, y, hi, bo);
            sortByLoad(members[hi], load);
            sortByLoad(members[bo], load);
        }
        double bound = p.lowerBound();
        if (p.imbalance(a) > bound * (1 + FALLBACK_GAP)) {
            int[] lpt = new LptFromScratch().optimize(p, seed, budget);
            double gain = p.imbalance(a) - p.imbalance(lpt);
            if (p.moved(lpt) <= maxMoves && (gain > 1e-12 || (gain >= -1e-12 && p.moved(lpt) < p.moved(a)))) {
                return lpt;
            }
        }
        return a;
    }

    /**
     * How a swap of unit {@code x} (on {@code hi}, to {@code lo}) with unit {@code y} (on {@code lo}, to {@code hi})
     * changes the number of units away from their subtask in {@code current}: -2 to +2.
     */
    static int swapChange(int[] current, int x, int y, int hi, int lo) {
        return (lo != current[x] ? 1 : 0) - (hi != current[x] ? 1 : 0)
                + (hi != current[y] ? 1 : 0) - (lo != current[y] ? 1 : 0);
    }

    private static int[][] members(PlanningProblem p, int[] a) {
        int s = p.subtasks();
        int[] count = new int[s];
        for (int i = 0; i < a.length; i++) {
            if (p.movable()[i]) {
                count[a[i]]++;
            }
        }
        int[][] m = new int[s][];
        for (int j = 0; j < s; j++) {
            m[j] = new int[count[j]];
            count[j] = 0;
        }
        for (int i = 0; i < a.length; i++) {
            if (p.movable()[i]) {
                m[a[i]][count[a[i]]++] = i;
            }
        }
        return m;
    }

    private static void sortByLoad(int[] units, double[] load) {
        Integer[] boxed = new Integer[units.length];
        for (int i = 0; i < units.length; i++) {
            boxed[i] = units[i];
        }
        Arrays.sort(boxed, (x, y) -> {
            int c = Double.compare(load[x], load[y]);
            return c != 0 ? c : Integer.compare(x, y);
        });
        for (int i = 0; i < units.length; i++) {
            units[i] = boxed[i];
        }
    }

    /** Index of the unit (in ascending load order) whose load is nearest to {@code want}; 0 if empty. */
    private static int nearest(int[] sorted, double[] load, double want) {
        int lo = 0;
        int hi = sorted.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (load[sorted[mid]] < want) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
