package io.keyshift.plan.opt;

import java.util.ArrayList;
import java.util.List;

/**
 * Best-improvement greedy from the current assignment on the mean over the planning horizon of each window's own
 * imbalance, {@code (1/H) Σ_h max_s load(s, h) / mean_s load(s, h)}, instead of the imbalance of the horizon's mean
 * load: a hot set that changes within the horizon is balanced window by window, not on average.
 *
 * <p>Each step takes the single move (a movable unit to another subtask) that lowers {@code per-window imbalance +
 * SPREAD_WEIGHT × the windows' mean sum of squared subtask loads (over mean², per subtask) + movePenalty(unit)} the
 * most (the sum of squares only breaks ties between busiest subtasks, which would otherwise stall the descent; a move
 * that raises the per-window imbalance is never taken), and stops when no move lowers it or after {@code maxMoves} moves. Only
 * units on a subtask that is the busiest in some window can lower a maximum, so only they are tried: a step costs
 * O(units on those subtasks × subtasks × H), each candidate evaluated in O(H) from the three busiest subtasks of
 * each window. This is steepest-descent local search with single-unit moves (Aarts and Lenstra, "Local Search in
 * Combinatorial Optimization", 1997, ch. 1), applied to makespan-style load balancing.
 */
public final class GreedyPerWindow {
    private GreedyPerWindow() {}

    /** Weight of the sum-of-squares tie-breaker against the maxima (0.03 and 0.3 gave the same balance in replays). */
    static final double SPREAD_WEIGHT = 0.1;

    /**
     * The greedy's moves, in order.
     *
     * @param unitLoads  per unit, its forecast load in each of the H windows ({@code [units][H]}, >= 0)
     * @param at         per unit, its subtask now (0..subtasks-1)
     * @param movable    per unit, whether it may move
     * @param subtasks   number of subtasks (>= 1)
     * @param movePenalty per unit, the cost of moving it (same unit as the imbalance, >= 0)
     * @param maxMoves   upper bound on moves (>= 0)
     * @return the moves; {@link GreedyFromCurrent.Move}'s loads are the subtasks' mean loads over the H windows
     */
    public static List<GreedyFromCurrent.Move> moves(double[][] unitLoads, int[] at, boolean[] movable, int subtasks,
                                                     double[] movePenalty, int maxMoves) {
        List<GreedyFromCurrent.Move> out = new ArrayList<>();
        int n = unitLoads.length;
        if (n == 0 || subtasks < 2 || maxMoves <= 0) {
            return out;
        }
        int h = unitLoads[0].length;
        double[][] sub = new double[subtasks][h];
        double[] mean = new double[h];
        for (int i = 0; i < n; i++) {
            for (int w = 0; w < h; w++) {
                sub[at[i]][w] += unitLoads[i][w];
                mean[w] += unitLoads[i][w];
            }
        }
        int windows = 0;
        for (int w = 0; w < h; w++) {
            mean[w] /= subtasks;
            windows += mean[w] > 0 ? 1 : 0;
        }
        if (windows == 0) {
            return out;
        }
        int[] where = at.clone();
        int[][] top = new int[h][3];
        while (out.size() < maxMoves) {
            for (int w = 0; w < h; w++) {
                top3(sub, w, top[w]);
            }
            double current = 0;
            for (int w = 0; w < h; w++) {
                current += mean[w] > 0 ? sub[top[w][0]][w] / mean[w] : 0;
            }
            boolean[] busiest = new boolean[subtasks];
            for (int w = 0; w < h; w++) {
                if (mean[w] > 0) {
                    busiest[top[w][0]] = true;
                }
            }
            int bestUnit = -1;
            int bestTo = -1;
            double bestGain = 1e-12;
            for (int i = 0; i < n; i++) {
                int from = where[i];
                if (!movable[i] || !busiest[from]) {
                    continue;
                }
                for (int to = 0; to < subtasks; to++) {
                    if (to == from) {
                        continue;
                    }
                    double after = 0;
                    double spread = 0;
                    for (int w = 0; w < h; w++) {
                        if (mean[w] <= 0) {
                            continue;
                        }
                        double x = unitLoads[i][w];
                        spread += 2 * x * (sub[to][w] - sub[from][w] + x) / (mean[w] * mean[w]);
                        double others = 0;
                        for (int k = 0; k < 3; k++) {
                            int t = top[w][k];
                            if (t >= 0 && t != from && t != to) {
                                others = sub[t][w];
                                break;
                            }
                        }
                        double m = Math.max(others, Math.max(sub[from][w] - x, sub[to][w] + x));
                        after += m / mean[w];
                    }
                    // the maxima first; among moves that leave them, the one that evens the subtasks most (sum of
                    // squares), so that ties between busiest subtasks do not stall the descent
                    double gain = (current - after) / windows - SPREAD_WEIGHT * spread / (windows * subtasks)
                            - movePenalty[i];
                    // and never a move that raises them: summed over every window, the squares' drop in windows whose
                    // busiest subtask the unit is not on could outweigh a rise of the maximum in another
                    if (gain > bestGain && after <= current + 1e-12) {
                        bestGain = gain;
                        bestUnit = i;
                        bestTo = to;
                    }
                }
            }
            if (bestUnit < 0) {
                break;
            }
            int from = where[bestUnit];
            out.add(new GreedyFromCurrent.Move(bestUnit, from, bestTo, avg(sub[from]), avg(sub[bestTo])));
            for (int w = 0; w < h; w++) {
                sub[from][w] -= unitLoads[bestUnit][w];
                sub[bestTo][w] += unitLoads[bestUnit][w];
            }
            where[bestUnit] = bestTo;
        }
        return out;
    }

    /** Mean over the H windows of each window's max / mean subtask load (windows without load left out; 1 if none). */
    public static double perWindowImbalance(double[][] subtaskLoads) {
        int h = subtaskLoads.length == 0 ? 0 : subtaskLoads[0].length;
        double sum = 0;
        int windows = 0;
        for (int w = 0; w < h; w++) {
            double max = 0;
            double total = 0;
            for (double[] s : subtaskLoads) {
                max = Math.max(max, s[w]);
                total += s[w];
            }
            if (total > 0) {
                sum += max / (total / subtaskLoads.length);
                windows++;
            }
        }
        return windows == 0 ? 1.0 : sum / windows;
    }

    private static double avg(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    /** The indexes of the three busiest subtasks in window w (ties by index; -1 where fewer exist). */
    private static void top3(double[][] sub, int w, int[] top) {
        top[0] = top[1] = top[2] = -1;
        for (int s = 0; s < sub.length; s++) {
            double v = sub[s][w];
            if (top[0] < 0 || v > sub[top[0]][w]) {
                top[2] = top[1];
                top[1] = top[0];
                top[0] = s;
            } else if (top[1] < 0 || v > sub[top[1]][w]) {
                top[2] = top[1];
                top[1] = s;
            } else if (top[2] < 0 || v > sub[top[2]][w]) {
                top[2] = s;
            }
        }
    }
}
