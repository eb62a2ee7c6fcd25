package io.keyshift.plan.opt;

import java.time.Duration;
import java.util.Arrays;
import java.util.PriorityQueue;

/**
 * Longest processing time first (Graham 1969, "Bounds on multiprocessing timing anomalies"): pinned units stay,
 * movable units in descending load each go to the least-loaded subtask (ties to the lower index). Without pinned units at
 * most 4/3 of the optimal makespan (Graham's bound); with pinned units (subtasks that start loaded) the worst case is
 * 3/2 - 1/(2p) (Lee 1991, "Parallel machines scheduling with nonsimultaneous machine available time"); usually
 * within a fraction of a percent of the lower bound on many units, but ignores where units are now: it moves most of
 * them. O(n log n + n log p).
 */
public final class LptFromScratch implements Optimizer {
    @Override
    public String name() {
        return "lpt";
    }

    @Override
    public int[] optimize(PlanningProblem p, long seed, Duration budget) {
        int n = p.units();
        int[] a = p.current().clone();
        double[] sub = new double[p.subtasks()];
        Integer[] order;
        int movable = 0;
        for (int i = 0; i < n; i++) {
            if (!p.movable()[i]) {
                sub[a[i]] += p.load()[i];
            } else {
                movable++;
            }
        }
        order = new Integer[movable];
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (p.movable()[i]) {
                order[k++] = i;
            }
        }
        double[] load = p.load();
        Arrays.sort(order, (x, y) -> {
            int c = Double.compare(load[y], load[x]);
            return c != 0 ? c : Integer.compare(x, y);
        });
        PriorityQueue<Integer> heap = new PriorityQueue<>((x, y) -> {
            int c = Double.compare(sub[x], sub[y]);
            return c != 0 ? c : Integer.compare(x, y);
        });
        for (int j = 0; j < sub.length; j++) {
            heap.add(j);
        }
        for (int i : order) {
            int j = heap.poll();
            a[i] = j;
            sub[j] += load[i];
            heap.add(j);
        }
        // never worse than where we started
        return p.imbalance(a) <= p.imbalance(p.current()) ? a : p.current().clone();
    }
}
