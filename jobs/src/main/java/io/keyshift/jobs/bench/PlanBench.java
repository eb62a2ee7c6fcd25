package io.keyshift.jobs.bench;

import io.keyshift.plan.opt.LocalSearch;
import io.keyshift.plan.opt.Optimizer;
import io.keyshift.plan.opt.PlanningProblem;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The planner benchmark: seeded synthetic instances (Zipf loads over n units, hashed onto p subtasks, as plain
 * {@code keyBy} would leave them), planned by {@link LocalSearch} (greedy moves from the current assignment, then swaps: the
 * live planner's optimizer with a {@code keyshift.plan.time-budget} above 0; at its default 0 the greedy alone) from the hash assignment. Per instance: imbalance reached, the lower bound, units moved and
 * the median planning time of repeated runs. With splitting, a unit heavier than a fortieth of a subtask's mean
 * load is first cut into equal pieces no heavier than that (the planner's view of a key split over several key
 * groups), so the bound is 1. Perturbation: from a
 * balanced plan, loads change by ±5 % and the planner runs again; it should move few units.
 */
public final class PlanBench {
    private PlanBench() {}

    /** Zipf(s) loads over n units (largest first), hashed onto p subtasks with seed {@code seed}. */
    static PlanningProblem instance(double s, int n, int p, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] load = new double[n];
        int[] current = new int[n];
        boolean[] movable = new boolean[n];
        for (int i = 0; i < n; i++) {
            load[i] = 1e9 / Math.pow(i + 1, s);
            current[i] = r.nextInt(p);
            movable[i] = true;
        }
        return new PlanningProblem(load, current, movable, p);
    }

    /** Pieces of a split unit are at most this share of a subtask's mean load (so >= 40 pieces fit a subtask). */
    static final double PIECE_SHARE = 1.0 / 40;

    /**
     * Cuts every unit heavier than {@link #PIECE_SHARE} of the mean subtask load into equal pieces no heavier than that
     * (coarser pieces cannot be packed evenly when there are few units per subtask).
     */
    static PlanningProblem split(PlanningProblem p) {
        double total = Arrays.stream(p.load()).sum();
        double share = total / p.subtasks() * PIECE_SHARE;
        int pieces = 0;
        for (double l : p.load()) {
            pieces += l > share ? (int) Math.ceil(l / share) : 1;
        }
        double[] load = new double[pieces];
        int[] current = new int[pieces];
        boolean[] movable = new boolean[pieces];
        int k = 0;
        for (int i = 0; i < p.units(); i++) {
            int c = p.load()[i] > share ? (int) Math.ceil(p.load()[i] / share) : 1;
            for (int j = 0; j < c; j++) {
                load[k] = p.load()[i] / c;
                current[k] = p.current()[i];
                movable[k] = true;
                k++;
            }
        }
        return new PlanningProblem(load, current, movable, p.subtasks());
    }

    /**
     * Time budget of each planning call: the local search stops its swaps there and returns the best assignment so
     * far (recorded in {@code plan-bench.json} as {@code time_limit_ms}, and per instance whether a call reached it).
     */
    static final Duration TIME_LIMIT = Duration.ofMillis(500);

    /** Runs every instance and the perturbation, printing a table to {@code log}. */
    public static ObjectNode run(double[] zipfs, int[] unitCounts, int[] subtaskCounts, int repeats, PrintStream log) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        Optimizer optimizer = new LocalSearch(0.005, Integer.MAX_VALUE);
        root.put("optimizer", optimizer.name());
        root.put("repeats", repeats);
        root.put("time_limit_ms", TIME_LIMIT.toMillis());
        ArrayNode instances = root.putArray("instances");
        log.printf("%6s %9s %6s %6s %10s %10s %6s %9s %9s%n", "zipf", "units", "p", "split", "imbalance", "bound",
                "gap%", "moved", "plan ms");
        for (double s : zipfs) {
            for (int n : unitCounts) {
                PlanningProblem base = instance(s, n, 1, 1);
                for (int p : subtaskCounts) {
                    for (boolean split : new boolean[] {false, true}) {
                        PlanningProblem problem = instance(s, n, p, 17L * n + p);
                        if (split) {
                            problem = split(problem);
                        }
                        long[] nanos = new long[repeats];
                        // one unmeasured call first: the JIT compiles the optimizer on it, not on a timed one
                        int[] a = optimizer.optimize(problem, 42, TIME_LIMIT);
                        for (int r = 0; r < repeats; r++) {
                            long t0 = System.nanoTime();
                            a = optimizer.optimize(problem, 42, TIME_LIMIT);
                            nanos[r] = System.nanoTime() - t0;
                        }
                        java.util.List<Double> times = new java.util.ArrayList<>();
                        for (long t : nanos) {
                            times.add(t / 1e6);
                        }
                        double ms = ThroughputBench.median(times);
                        double imbalance = problem.imbalance(a);
                        double bound = problem.lowerBound();
                        ObjectNode i = instances.addObject();
                        i.put("zipf", s);
                        i.put("units", n);
                        i.put("subtasks", p);
                        i.put("split", split);
                        i.put("units_after_split", problem.units());
                        i.put("imbalance", imbalance);
                        i.put("lower_bound", bound);
                        i.put("gap", imbalance / bound - 1);
                        i.put("units_moved", problem.moved(a));
                        i.put("plan_ms", ms);
                        i.put("time_limit_reached", java.util.Arrays.stream(nanos).max().orElse(0)
                                >= TIME_LIMIT.toNanos());
                        i.put("units_per_subtask", (double) n / p);
                        log.printf("%6.1f %9d %6d %6s %10.4f %10.4f %6.2f %9d %9.1f%n", s, n, p, split, imbalance, bound,
                                100 * (imbalance / bound - 1), problem.moved(a), ms);
                    }
                }
                if (base.units() < 0) {
                    throw new IllegalStateException();
                }
            }
        }
        // Perturbation: balanced plan, then loads change by up to +-5 %.
        PlanningProblem p = instance(1.0, 100_000, 256, 99);
        int[] balanced = optimizer.optimize(p, 42, TIME_LIMIT);
        SplittableRandom r = new SplittableRandom(5);
        double[] perturbed = p.load().clone();
        for (int i = 0; i < perturbed.length; i++) {
            perturbed[i] *= 1 + (r.nextDouble() - 0.5) * 0.1;
        }
        PlanningProblem next = new PlanningProblem(perturbed, balanced, p.movable(), p.subtasks());
        int[] again = optimizer.optimize(next, 42, TIME_LIMIT);
        ObjectNode pert = root.putObject("perturbation");
        pert.put("zipf", 1.0);
        pert.put("subtasks", 256);
        pert.put("units", p.units());
        pert.put("units_moved", next.moved(again));
        pert.put("imbalance_before", next.imbalance(balanced));
        pert.put("imbalance_after", next.imbalance(again));
        pert.put("lower_bound", next.lowerBound());
        log.printf("perturbation (zipf 1.0, 100000 units, 256 subtasks, loads +-5%%): %d units moved, imbalance "
                        + "%.4f -> %.4f (bound %.4f)%n", next.moved(again), next.imbalance(balanced),
                next.imbalance(again), next.lowerBound());
        return root;
    }
}
