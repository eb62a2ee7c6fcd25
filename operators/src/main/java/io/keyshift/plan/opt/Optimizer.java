package io.keyshift.plan.opt;

import java.time.Duration;

/**
 * Assigns units to subtasks. Contract (checked by one test for every implementation): returns an assignment of
 * every unit to a subtask in [0, p); pinned units stay where they are; the imbalance is never worse than the
 * current assignment's; the same problem and seed give the same assignment where the search ends before its budget
 * ({@link LocalSearch} stops its swaps at a wall-clock deadline: with a budget shorter than its swaps need, two calls
 * can return different assignments; the live planner's default budget 0 runs the greedy alone).
 */
public interface Optimizer {
    /** Short name for reports. */
    String name();

    /**
     * @param seed seed of any randomness (runs are reproducible)
     * @param budget wall-time budget; implementations that need no search may ignore it
     * @return subtask per unit
     */
    int[] optimize(PlanningProblem problem, long seed, Duration budget);
}
