package io.keyshift.plan.opt;

/**
 * One balancing instance: units (hot keys, key groups, or pieces of a split key) with a load each (records per
 * window, >= 0), the subtask each is on now, and whether it may move. Arrays are indexed by unit and not copied:
 * callers must not change them while an optimizer runs.
 *
 * @param load load per unit, >= 0
 * @param current current subtask per unit, in [0, subtasks)
 * @param movable false for pinned units (key-group residuals, pinned keys, units in flight)
 * @param subtasks number of subtasks p >= 1
 */
public record PlanningProblem(double[] load, int[] current, boolean[] movable, int subtasks) {
    public PlanningProblem {
        if (load.length != current.length || load.length != movable.length) {
            throw new IllegalArgumentException("load, current and movable must have one entry per unit");
        }
        if (subtasks < 1) {
            throw new IllegalArgumentException("subtasks must be >= 1");
        }
    }

    public int units() {
        return load.length;
    }

    /** Subtask loads under {@code assignment}. */
    public double[] subtaskLoads(int[] assignment) {
        double[] l = new double[subtasks];
        for (int i = 0; i < load.length; i++) {
            l[assignment[i]] += load[i];
        }
        return l;
    }

    /** max / mean subtask load under {@code assignment}; 1 when the total is 0. */
    public double imbalance(int[] assignment) {
        double[] l = subtaskLoads(assignment);
        double max = 0;
        double sum = 0;
        for (double v : l) {
            max = Math.max(max, v);
            sum += v;
        }
        return sum <= 0 ? 1 : max / (sum / subtasks);
    }

    /**
     * Lower bound of the imbalance for one window: {@code max(1, largest unit / mean subtask load)}; pinned units
     * count with their subtask (a pinned subtask's load is a bound too).
     */
    public double lowerBound() {
        double sum = 0;
        double largest = 0;
        double[] pinned = new double[subtasks];
        for (int i = 0; i < load.length; i++) {
            sum += load[i];
            largest = Math.max(largest, load[i]);
            if (!movable[i]) {
                pinned[current[i]] += load[i];
            }
        }
        if (sum <= 0) {
            return 1;
        }
        double mean = sum / subtasks;
        double bound = Math.max(1, largest / mean);
        for (double v : pinned) {
            bound = Math.max(bound, v / mean);
        }
        return bound;
    }

    /** Number of units whose subtask differs between the current assignment and {@code assignment}. */
    public int moved(int[] assignment) {
        int n = 0;
        for (int i = 0; i < current.length; i++) {
            n += assignment[i] != current[i] ? 1 : 0;
        }
        return n;
    }
}
