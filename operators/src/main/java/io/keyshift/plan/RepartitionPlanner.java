package io.keyshift.plan;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.Migration;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.avro.UnitForecast;
import io.keyshift.avro.UnitType;
import io.keyshift.plan.opt.GreedyFromCurrent;
import io.keyshift.plan.opt.PlanningProblem;

import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns load forecasts into routing-plan versions with leases. Pure logic (no Flink runtime); the
 * {@link PlannerOperator} runs it in the job.
 *
 * <p><b>Leases.</b> After window w (end E) the plan holds until {@code E + lead * window}. A migration started
 * then shadows from the previous lease's end T0 (so no record already routed changes route) and switches at
 * {@code T1 = T0 +} its shadow phase: what correctness needs ({@code ceil(stateHorizon / window) * window}, 0 for
 * tumbling windows aligned with the planning window), or if it is validated one long enough to compare results
 * ({@link Settings#compares}). A migration is folded into its entry (the key's key group
 * becomes the target) once {@code T1 + stateHorizon} has passed in every routed record, i.e. once both E and the
 * previous lease reach it; an entry that points to the key's natural key group is then removed.
 *
 * <p><b>Cost</b> of an assignment, from the forecast load of each unit in the {@code horizon} windows starting with
 * the first window a new migration owns (shrunk towards the unit's long-run load with {@link Settings#shrinkage()},
 * see {@link LongRunLoads}): {@code imbalance + alpha * (moved load / mean subtask load) + beta *
 * migrations}. The imbalance is, with {@link io.keyshift.config.PlanOptions.Cost#MEAN_LOAD} (default), the max / mean
 * of the subtasks' loads from each unit's mean forecast over them; with {@code PER_WINDOW}, the mean over those
 * windows of each window's max / mean subtask load. Units: tracked hot keys (movable) and the residual load of each
 * natural key group (fixed here). The moves come from {@link GreedyFromCurrent} (the movable key whose load is
 * closest to half the gap between the most and the least loaded subtask of the mean loads moves from the former to
 * the latter, at most the migration budget) and, with {@code PER_WINDOW}, also from
 * {@link io.keyshift.plan.opt.GreedyPerWindow}: of each, the prefix of moves with the lowest cost, the cheaper of
 * the two (the first on a tie), and only if it lowers the cost by more than {@code threshold}. Targets are key groups: the key's natural key group if
 * it lies on the target subtask, else a key group of the target's range chosen by the key's hash. Deterministic:
 * ties are broken by key (with a {@code keyshift.plan.time-budget} above 0, the local search's result depends on
 * how far it gets in that time, and so on the machine's speed).
 */
public final class RepartitionPlanner {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RepartitionPlanner.class);

    static {
        // copying plans deep-copies their Avro records, which Avro 1.12 allows only for trusted classes
        io.keyshift.config.AvroTrust.install();
    }

    /**
     * Capacity and move constraints.
     *
     * @param capacity records per window one subtask can process; 0 = unknown (no utilization thresholds)
     * @param high utilization above which load is moved off a subtask (0.75)
     * @param critical utilization above which moves ignore the migration budget (0.90)
     * @param scaleIn utilization below which, on every subtask, a scale-in opportunity is reported (0.60)
     * @param minWindowsBetweenMoves a key moves at most once per this many windows; 0 = no limit
     * @param pinned keys that never move or split
     * @param searchBudget time for {@link io.keyshift.plan.opt.LocalSearch} after the greedy (zero = greedy only)
     */
    public record Constraints(double capacity, double high, double critical, double scaleIn, int minWindowsBetweenMoves,
                              java.util.Set<String> pinned, java.time.Duration searchBudget)
            implements java.io.Serializable {
        public static final Constraints NONE = new Constraints(0, 0.75, 0.90, 0.60, 0, java.util.Set.of(),
                java.time.Duration.ZERO);

        /** Without a local-search budget. */
        public Constraints(double capacity, double high, double critical, double scaleIn, int minWindowsBetweenMoves,
                           java.util.Set<String> pinned) {
            this(capacity, high, critical, scaleIn, minWindowsBetweenMoves, pinned, java.time.Duration.ZERO);
        }

        public Constraints {
            if (capacity < 0 || !(0 < scaleIn && scaleIn <= high && high <= critical) || minWindowsBetweenMoves < 0) {
                throw new IllegalArgumentException("capacity >= 0, 0 < scale-in <= high <= critical utilization and "
                        + "min windows between moves >= 0 required");
            }
            pinned = java.util.Set.copyOf(pinned);
            if (searchBudget == null || searchBudget.isNegative()) {
                throw new IllegalArgumentException("search budget must be >= 0");
            }
        }
    }

    /**
     * What a stage's control input asks of one plan (see {@link io.keyshift.control.ControlCommand}).
     *
     * @param frozen no migration starts (no move, split or return home); in-flight ones finish
     * @param pinned keys that start no migration, in addition to {@link Constraints#pinned()}
     * @param rollbackTarget null, or per key the key group to go back to and the key's natural key group
     *                       ({@code int[] {keyGroup, natural}}); keys not named go to their natural key group. While
     *                       it is set, no other migration starts but reverts ({@code revertTo}, which come first: a
     *                       reverted key is then held where its revert takes it, and the rollback leaves it there); it
     *                       is done once every other key is there ({@link #rollbackComplete()})
     * @param revertTo keys to move back to a key group (a shadow that disagreed with its primary), whatever else
     *                 holds: {@code int[] {keyGroup, ifAt}}, where ifAt >= 0 is the key group the key must still be
     *                 routed to (else the revert is stale). A key in flight to ifAt waits ({@link #revertsResolved()})
     * @param revertSince per key of {@code revertTo} with ifAt: the time since which it must have been routed there
     *                    (its last move started no later)
     * @param held keys that start no migration of the planner's own (after a revert), like pinned ones
     */
    public record Control(boolean frozen, java.util.Set<String> pinned, Map<String, int[]> rollbackTarget,
                          Map<String, int[]> revertTo, Map<String, Long> revertSince, java.util.Set<String> held)
            implements java.io.Serializable {
        /** No override. */
        public static final Control NONE = new Control(false, java.util.Set.of(), null);

        /** Without reverts. */
        public Control(boolean frozen, java.util.Set<String> pinned, Map<String, int[]> rollbackTarget) {
            this(frozen, pinned, rollbackTarget, Map.of(), Map.of(), java.util.Set.of());
        }
    }

    /**
     * Planner configuration; times in ms. {@code stateHorizonMillis} is at least one window; {@code comparedFromMillis}
     * is, for a keyed process function, its declared horizon (its outputs are compared from {@code T0 +} it on), and
     * 0 for window stages; {@code comparedWindows} is, for a window stage, the user's windows whose results a shadow
     * phase compares (null for a keyed process function; tumbling windows of the planning window if not given).
     */
    public record Settings(int maxParallelism, int parallelism, long windowMillis, long stateHorizonMillis,
                           int leaseLead, int horizon, double threshold, double alpha, double beta,
                           int maxConcurrentMigrations, int maxRoutingEntries, double splitThreshold,
                           Constraints constraints, long splitPreRollMillis, boolean keepEpochs,
                           long correctnessShadowMillis, ValidationPolicy validation, boolean returnColdKeys,
                           io.keyshift.config.PlanOptions.Cost cost, double shrinkage, int longRunWindows,
                           long comparedFromMillis, ComparedWindows comparedWindows)
            implements java.io.Serializable {
        /**
         * As the canonical constructor; a window stage ({@code keepEpochs} false) has tumbling windows of the planning
         * window ({@link ComparedWindows#tumbling}).
         */
        public Settings(int maxParallelism, int parallelism, long windowMillis, long stateHorizonMillis, int leaseLead,
                        int horizon, double threshold, double alpha, double beta, int maxConcurrentMigrations,
                        int maxRoutingEntries, double splitThreshold, Constraints constraints, long splitPreRollMillis,
                        boolean keepEpochs, long correctnessShadowMillis, ValidationPolicy validation,
                        boolean returnColdKeys, io.keyshift.config.PlanOptions.Cost cost, double shrinkage,
                        int longRunWindows, long comparedFromMillis) {
            this(maxParallelism, parallelism, windowMillis, stateHorizonMillis, leaseLead, horizon, threshold, alpha,
                    beta, maxConcurrentMigrations, maxRoutingEntries, splitThreshold, constraints, splitPreRollMillis,
                    keepEpochs, correctnessShadowMillis, validation, returnColdKeys, cost, shrinkage, longRunWindows,
                    comparedFromMillis, keepEpochs ? null : ComparedWindows.tumbling(windowMillis));
        }

        /**
         * As the canonical constructor; a keyed process function ({@code keepEpochs}) compares its outputs from
         * {@code T0 + stateHorizonMillis} ({@link #comparedFromMillis}).
         */
        public Settings(int maxParallelism, int parallelism, long windowMillis, long stateHorizonMillis, int leaseLead,
                        int horizon, double threshold, double alpha, double beta, int maxConcurrentMigrations,
                        int maxRoutingEntries, double splitThreshold, Constraints constraints, long splitPreRollMillis,
                        boolean keepEpochs, long correctnessShadowMillis, ValidationPolicy validation,
                        boolean returnColdKeys, io.keyshift.config.PlanOptions.Cost cost, double shrinkage,
                        int longRunWindows) {
            this(maxParallelism, parallelism, windowMillis, stateHorizonMillis, leaseLead, horizon, threshold, alpha,
                    beta, maxConcurrentMigrations, maxRoutingEntries, splitThreshold, constraints, splitPreRollMillis,
                    keepEpochs, correctnessShadowMillis, validation, returnColdKeys, cost, shrinkage, longRunWindows,
                    keepEpochs ? stateHorizonMillis : 0);
        }

        /** Planning on the forecasts alone (shrinkage 0; see {@link LongRunLoads}). */
        public Settings(int maxParallelism, int parallelism, long windowMillis, long stateHorizonMillis, int leaseLead,
                        int horizon, double threshold, double alpha, double beta, int maxConcurrentMigrations,
                        int maxRoutingEntries, double splitThreshold, Constraints constraints, long splitPreRollMillis,
                        boolean keepEpochs, long correctnessShadowMillis, ValidationPolicy validation,
                        boolean returnColdKeys, io.keyshift.config.PlanOptions.Cost cost) {
            this(maxParallelism, parallelism, windowMillis, stateHorizonMillis, leaseLead, horizon, threshold, alpha,
                    beta, maxConcurrentMigrations, maxRoutingEntries, splitThreshold, constraints, splitPreRollMillis,
                    keepEpochs, correctnessShadowMillis, validation, returnColdKeys, cost, 0.0, 1000);
        }

        /** With the default cost, {@link io.keyshift.config.PlanOptions.Cost#MEAN_LOAD}. */
        public Settings(int maxParallelism, int parallelism, long windowMillis, long stateHorizonMillis, int leaseLead,
                        int horizon, double threshold, double alpha, double beta, int maxConcurrentMigrations,
                        int maxRoutingEntries, double splitThreshold, Constraints constraints, long splitPreRollMillis,
                        boolean keepEpochs, long correctnessShadowMillis, ValidationPolicy validation,
                        boolean returnColdKeys) {
            this(maxParallelism, parallelism, windowMillis, stateHorizonMillis, leaseLead, horizon, threshold, alpha,
                    beta, maxConcurrentMigrations, maxRoutingEntries, splitThreshold, constraints, splitPreRollMillis,
                    keepEpochs, correctnessShadowMillis, validation, returnColdKeys,
                    io.keyshift.config.PlanOptions.Cost.MEAN_LOAD);
        }

        /** Idle moved keys that drop out of the forecast's hot keys go home ({@code returnColdKeys} true). */
        public Settings(int maxParallelism, int parallelism, long windowMillis, long stateHorizonMillis, int leaseLead,
                        int horizon, double threshold, double alpha, double beta, int maxConcurrentMigrations,
                        int maxRoutingEntries, double splitThreshold, Constraints constraints, long splitPreRollMillis,
                        boolean keepEpochs, long correctnessShadowMillis, ValidationPolicy validation) {
            this(maxParallelism, parallelism, windowMillis, stateHorizonMillis, leaseLead, horizon, threshold, alpha,
                    beta, maxConcurrentMigrations, maxRoutingEntries, splitThreshold, constraints, splitPreRollMillis,
                    keepEpochs, correctnessShadowMillis, validation, true);
        }

        /** Every migration validated, with the full shadow phase (the state horizon rounded up to windows). */
        public Settings(int maxParallelism, int parallelism, long windowMillis, long stateHorizonMillis, int leaseLead,
                        int horizon, double threshold, double alpha, double beta, int maxConcurrentMigrations,
                        int maxRoutingEntries, double splitThreshold, Constraints constraints, long splitPreRollMillis,
                        boolean keepEpochs) {
            this(maxParallelism, parallelism, windowMillis, stateHorizonMillis, leaseLead, horizon, threshold, alpha,
                    beta, maxConcurrentMigrations, maxRoutingEntries, splitThreshold, constraints, splitPreRollMillis,
                    keepEpochs, -1, ValidationPolicy.ALL);
        }

        /** Without per-stay epochs (window stages). */
        public Settings(int maxParallelism, int parallelism, long windowMillis, long stateHorizonMillis, int leaseLead,
                        int horizon, double threshold, double alpha, double beta, int maxConcurrentMigrations,
                        int maxRoutingEntries, double splitThreshold, Constraints constraints, long splitPreRollMillis) {
            this(maxParallelism, parallelism, windowMillis, stateHorizonMillis, leaseLead, horizon, threshold, alpha,
                    beta, maxConcurrentMigrations, maxRoutingEntries, splitThreshold, constraints, splitPreRollMillis,
                    false);
        }

        /** Splits start at once (the stage's windows align with planning windows). */
        public Settings(int maxParallelism, int parallelism, long windowMillis, long stateHorizonMillis, int leaseLead,
                        int horizon, double threshold, double alpha, double beta, int maxConcurrentMigrations,
                        int maxRoutingEntries, double splitThreshold, Constraints constraints) {
            this(maxParallelism, parallelism, windowMillis, stateHorizonMillis, leaseLead, horizon, threshold, alpha,
                    beta, maxConcurrentMigrations, maxRoutingEntries, splitThreshold, constraints, 0L);
        }

        /** Without hot-key splitting and constraints. */
        public Settings(int maxParallelism, int parallelism, long windowMillis, long stateHorizonMillis, int leaseLead,
                        int horizon, double threshold, double alpha, double beta, int maxConcurrentMigrations,
                        int maxRoutingEntries) {
            this(maxParallelism, parallelism, windowMillis, stateHorizonMillis, leaseLead, horizon, threshold, alpha,
                    beta, maxConcurrentMigrations, maxRoutingEntries, 0.0, Constraints.NONE);
        }

        /** Without constraints. */
        public Settings(int maxParallelism, int parallelism, long windowMillis, long stateHorizonMillis, int leaseLead,
                        int horizon, double threshold, double alpha, double beta, int maxConcurrentMigrations,
                        int maxRoutingEntries, double splitThreshold) {
            this(maxParallelism, parallelism, windowMillis, stateHorizonMillis, leaseLead, horizon, threshold, alpha,
                    beta, maxConcurrentMigrations, maxRoutingEntries, splitThreshold, Constraints.NONE);
        }

        public Settings {
            if (constraints == null) {
                constraints = Constraints.NONE;
            }
            if (splitPreRollMillis < 0 || splitPreRollMillis % windowMillis != 0) {
                throw new IllegalArgumentException("split pre-roll must be a multiple of the window >= 0, was "
                        + splitPreRollMillis);
            }
            if (splitThreshold < 0) {
                throw new IllegalArgumentException("split threshold must be >= 0 (0 = no splitting), was " + splitThreshold);
            }
            if (parallelism < 1 || parallelism > maxParallelism) {
                throw new IllegalArgumentException("parallelism must be in [1, maxParallelism], was " + parallelism);
            }
            if (windowMillis <= 0 || stateHorizonMillis < windowMillis) {
                throw new IllegalArgumentException("window must be > 0 and state horizon >= window");
            }
            if (leaseLead < 1 || horizon < 1 || maxConcurrentMigrations < 0 || maxRoutingEntries < 1) {
                throw new IllegalArgumentException("lease lead and horizon must be >= 1, migration and entry bounds >= 0");
            }
            if (validation == null) {
                validation = ValidationPolicy.ALL;
            }
            if (keepEpochs) {
                comparedWindows = null;
            } else if (comparedWindows == null) {
                comparedWindows = ComparedWindows.tumbling(windowMillis);
            }
            if (cost == null) {
                cost = io.keyshift.config.PlanOptions.Cost.MEAN_LOAD;
            }
            if (!(shrinkage >= 0) || longRunWindows < 1) {
                throw new IllegalArgumentException("shrinkage must be >= 0 and the long-run memory >= 1 window, were "
                        + shrinkage + " and " + longRunWindows);
            }
            long full = (stateHorizonMillis + windowMillis - 1) / windowMillis * windowMillis;
            if (correctnessShadowMillis < 0 || correctnessShadowMillis > full) {
                correctnessShadowMillis = full;
            }
            if (correctnessShadowMillis % windowMillis != 0) {
                throw new IllegalArgumentException("the correctness shadow must be a multiple of the window, was "
                        + correctnessShadowMillis);
            }
        }

        /**
         * The shadow phase of a migration: if it is validated, one that leaves results to compare ({@link
         * #shadowMillis()}), else what correctness needs (0 for tumbling windows aligned with the planning window).
         */
        long shadowMillis(boolean validated) {
            return validated ? shadowMillis() : correctnessShadowMillis;
        }

        /**
         * The shadow phase of a migration from {@code shadowFrom}: as {@link #shadowMillis(boolean)}, a validated one
         * of a window stage sized for its own start (the least whole number of planning windows, not below the state
         * horizon's, that holds the first of the user's windows starting at or after {@code shadowFrom}) rather than
         * for the worst start: daily windows with hourly planning windows need 24 to 47 hours, not always 47.
         */
        long shadowMillis(boolean validated, long shadowFrom) {
            if (!validated || comparedWindows == null) {
                return shadowMillis(validated);
            }
            return windowShadowMillis(comparedWindows.firstStartFrom(shadowFrom) - shadowFrom);
        }

        /**
         * A window stage's validated shadow phase when the first of the user's windows starts {@code gap} ms after
         * its start: whole planning windows holding that window, at least the state horizon's.
         */
        private long windowShadowMillis(long gap) {
            long horizonWindows = (stateHorizonMillis + windowMillis - 1) / windowMillis;
            long fit = gap + comparedWindows.size();
            return Math.max(horizonWindows, (fit + windowMillis - 1) / windowMillis) * windowMillis;
        }

        /**
         * The first forecast step (0 = the window after the one just ended) that a migration planned now owns as
         * primary, for the shadow phase most migrations get under the validation policy.
         */
        int firstOwnedStep() {
            // SAMPLE with sample-every 1 validates every migration, as ALL does (it was planned from the window
            // before the first one such a move owns)
            long typical = validation.validatesEvery() ? shadowMillis() : correctnessShadowMillis;
            // in long: a state horizon of many windows (36,500 days of 1 s windows) overflowed an int cast, and a
            // negative step failed the first forecast lookup; callers clamp to the forecast's last step
            return (int) Math.min(Integer.MAX_VALUE, leaseLead - 1L + typical / windowMillis);
        }

        /**
         * Forecast steps the planner reads: from the first step a migration planned now owns as primary through the
         * planning horizon ({@code firstOwnedStep() + horizon()}, at most {@code Integer.MAX_VALUE}). A shorter
         * forecast makes the planner read its last step in their place.
         */
        public int forecastStepsNeeded() {
            return (int) Math.min(Integer.MAX_VALUE, (long) firstOwnedStep() + horizon);
        }

        /** The same settings for a keyed stage of {@code p} subtasks (after a rescale). */
        public Settings withParallelism(int p) {
            return new Settings(maxParallelism, p, windowMillis, stateHorizonMillis, leaseLead, horizon, threshold,
                    alpha, beta, maxConcurrentMigrations, maxRoutingEntries, splitThreshold, constraints,
                    splitPreRollMillis, keepEpochs, correctnessShadowMillis, validation, returnColdKeys, cost,
                    shrinkage, longRunWindows, comparedFromMillis, comparedWindows);
        }

        /**
         * A validated migration's shadow phase, a whole number of planning windows: for a keyed process function
         * (each stay kept apart, {@code keepEpochs}) the least one longer than its declared horizon
         * ({@link #comparedFromMillis}), since its outputs are compared from {@code T0 +} that horizon to {@code T1}
         * only (the shadow's state is complete from then on); for a window stage the state horizon rounded up, and at
         * least long enough that one of the user's windows lies wholly inside it whatever planning-window boundary
         * {@code T0} is ({@link ComparedWindows#longestGap}): a tumbling window of two planning windows fitted only
         * every other {@code T0}.
         */
        long shadowMillis() {
            if (keepEpochs) {
                return (comparedFromMillis / windowMillis + 1) * windowMillis;
            }
            return windowShadowMillis(comparedWindows.longestGap(windowMillis));
        }

        /**
         * True if a migration whose shadow phase is {@code [shadowFrom, switchAt)} (epoch ms) has results to compare:
         * a keyed process function's outputs from {@code shadowFrom +} its horizon on ({@link #comparedFromMillis}),
         * a window stage's windows that lie wholly inside it ({@link ComparedWindows#fitIn}). A shadow phase that
         * leaves nothing to compare validates nothing, whatever the policy asked.
         */
        public boolean compares(long shadowFrom, long switchAt) {
            if (switchAt <= shadowFrom) {
                return false;
            }
            return comparedWindows == null ? switchAt - shadowFrom > comparedFromMillis
                    : comparedWindows.fitIn(shadowFrom, switchAt);
        }
    }

    /**
     * A window stage's windows, as far as validation needs them: windows {@code [a, a + size)} for every
     * {@code a ≡ offset (mod slide)} (Flink's tumbling and sliding event-time windows; ms). A shadow phase compares
     * the results of the windows that lie wholly inside it (see {@code Ownership#checkSide}).
     *
     * @param size   window size, > 0
     * @param slide  window slide, > 0 (equal to size for tumbling windows; larger than size for hopping windows,
     *               which Flink's sliding windows allow)
     * @param offset offset of the window starts, in [0, slide)
     */
    public record ComparedWindows(long size, long slide, long offset) implements java.io.Serializable {
        public ComparedWindows {
            if (size <= 0 || slide <= 0 || offset < 0 || offset >= slide) {
                throw new IllegalArgumentException("windows need size > 0, slide > 0 and offset in [0, slide), were "
                        + size + ", " + slide + ", " + offset);
            }
        }

        /** Tumbling windows of {@code size}, offset 0 (the built-in workload's, with size = the planning window). */
        public static ComparedWindows tumbling(long size) {
            return new ComparedWindows(size, size, 0);
        }

        /** The first window start at or after {@code t}. */
        long firstStartFrom(long t) {
            return t + Math.floorMod(offset - t, slide);
        }

        /** True if a window {@code [a, a + size)} lies wholly inside {@code [from, until)}. */
        public boolean fitIn(long from, long until) {
            long a = firstStartFrom(from);
            return a >= from && a <= until - size;
        }

        /**
         * The longest wait from a multiple of {@code planningWindow} to the next window start: with
         * {@code g = gcd(planningWindow, slide)}, the starts' distances from multiples of the planning window take
         * every value {@code ≡ offset (mod g)} in {@code [0, slide)}, the largest {@code slide - g + offset mod g}.
         */
        long longestGap(long planningWindow) {
            long g = java.math.BigInteger.valueOf(planningWindow).gcd(java.math.BigInteger.valueOf(slide)).longValue();
            return slide - g + Math.floorMod(offset, g);
        }
    }

    private final Settings s;
    private final LongRunLoads longRun;
    private volatile RoutingPlan current;
    private boolean rollbackComplete;
    private java.util.Set<String> revertsStarted = java.util.Set.of();
    private java.util.Set<String> revertsResolved = java.util.Set.of();

    public RepartitionPlanner(Settings settings) {
        this.s = settings;
        this.longRun = new LongRunLoads(settings.longRunWindows());
    }

    /**
     * The units' long-run loads that forecasts are shrunk towards (with {@link Settings#shrinkage()} > 0; observed
     * either way). Part of the planner's state: {@link LongRunLoads#toBytes}, {@link LongRunLoads#restore}.
     */
    public LongRunLoads longRunLoads() {
        return longRun;
    }

    /** This planner's settings. */
    public Settings settings() {
        return s;
    }

    /** The last plan issued, or null before the first. */
    public RoutingPlan current() {
        return current;
    }

    /** Restores the planner from the last plan it issued. */
    public void restore(RoutingPlan plan) {
        this.current = plan;
    }

    /** True for plans of the deterministic plan history (every version >= 1). */
    public static boolean isHistory(RoutingPlan plan) {
        return plan.getVersion() > 0;
    }

    /**
     * The net effect of {@code moves} on units that start on subtask {@code at[unit]}: a unit moved more than once
     * moves once, from where it was to where its last move took it (at that move's place in the order, with that
     * move's load figures), and not at all if that is where it was; a migration from a key group to itself would
     * otherwise be planned.
     */
    static List<GreedyFromCurrent.Move> netMoves(List<GreedyFromCurrent.Move> moves, int[] at) {
        Map<Integer, Integer> last = new HashMap<>();
        for (int k = 0; k < moves.size(); k++) {
            last.put(moves.get(k).unit(), k);
        }
        List<GreedyFromCurrent.Move> net = new ArrayList<>();
        for (int k = 0; k < moves.size(); k++) {
            GreedyFromCurrent.Move mv = moves.get(k);
            int origin = at[mv.unit()];
            if (last.get(mv.unit()) == k && mv.to() != origin) {
                net.add(new GreedyFromCurrent.Move(mv.unit(), origin, mv.to(), mv.fromLoadBefore(), mv.toLoadBefore()));
            }
        }
        return net;
    }

    /** The final plan at the end of a bounded input: same routes, lease to +infinity. */
    public RoutingPlan finalLease() {
        long version = current == null ? 1 : current.getVersion() + 1;
        List<RouteEntry> entries = current == null ? new ArrayList<>() : copy(current.getEntries());
        double before = current == null ? 1 : current.getPredictedImbalanceAfter();
        RoutingPlan last = current;
        current = plan(version, Long.MAX_VALUE, current == null ? Long.MIN_VALUE : current.getBasedOnWindowEnd(),
                entries, before, before, 0, 0);
        if (last != null) {
            // the utilization the last plan predicted stays what the planner's gauges read (Avro's defaults, -1 and
            // false, read as "no capacity" there)
            current.setMaxUtilization(last.getMaxUtilization());
            current.setScaleInOpportunity(last.getScaleInOpportunity());
        }
        return current;
    }

    /**
     * The time from which the migrations of the plan made after the window ending {@code windowEnd} start: the
     * previous lease's end (Long.MAX_VALUE after the final lease).
     */
    public long migrationsStartAt(long windowEnd) {
        return migrationsStartAt(windowEnd, Long.MIN_VALUE);
    }

    /**
     * The time from which the migrations of the plan made after {@code forecast}'s window start: as
     * {@link #migrationsStartAt(long)}, and for the first plan not before what the routers routed to natural key
     * groups before it ({@link LoadForecast#getNaturalRoutingUntil()}).
     */
    public long migrationsStartAt(LoadForecast forecast) {
        return migrationsStartAt(forecast.getWindowEnd(), forecast.getNaturalRoutingUntil());
    }

    private long migrationsStartAt(long windowEnd, long naturalUntil) {
        // The previous lease: the last plan's, or, without one, the lease the window before would have issued, and
        // no earlier than the records the routers routed to their natural key groups before their first plan (each
        // the first window it saw). Every route is then a function of the input (and its split among the routers).
        long implied = windowEnd + (s.leaseLead() - 1) * s.windowMillis();
        return current != null ? Math.max(current.getValidUntil(), implied) : Math.max(implied, naturalUntil);
    }

    /** True if the last plan, made under a rollback target, found every key at its target and nothing in flight. */
    public boolean rollbackComplete() {
        return rollbackComplete;
    }

    /** The keys of {@link Control#revertTo()} that the last plan sent back to their key group. */
    public java.util.Set<String> revertsStarted() {
        return revertsStarted;
    }

    /** The keys of {@link Control#revertTo()} that the last plan dealt with: sent back, already there, or stale. */
    public java.util.Set<String> revertsResolved() {
        return revertsResolved;
    }

    /** Plans after one window's forecast; always returns a new version (at least the lease moves on). */
    public RoutingPlan onForecast(LoadForecast forecast) {
        return onForecast(forecast, Control.NONE);
    }

    /** Plans after one window's forecast under {@code control}; always returns a new version. */
    public RoutingPlan onForecast(LoadForecast forecast, Control control) {
        long w = s.windowMillis();
        long end = forecast.getWindowEnd();
        long prevLease = migrationsStartAt(forecast);
        Control ctl = control == null ? Control.NONE : control;
        boolean hold = ctl.frozen() || ctl.rollbackTarget() != null;
        rollbackComplete = false;
        revertsStarted = new java.util.TreeSet<>();
        revertsResolved = new java.util.TreeSet<>();
        if (prevLease == Long.MAX_VALUE) {
            return current;
        }
        long newLease = Math.max(prevLease, end + s.leaseLead() * w);
        long version = current == null ? 1 : current.getVersion() + 1;

        // 1. Fold migrations whose switch-over and state horizon have passed.
        TreeMap<String, RouteEntry> entries = new TreeMap<>();
        int completed = 0;
        if (current != null) {
            for (RouteEntry e : copy(current.getEntries())) {
                // a folded migration stays in retired for one plan (records later than its horizon may still come)
                e.setRetired(new ArrayList<>());
                Migration m = e.getMigration();
                if (m != null) {
                    long done = m.getSwitchAt() + s.stateHorizonMillis();
                    if (done <= end && done <= prevLease) {
                        e.setKeyGroup(m.getToKeyGroup());
                        e.setEpoch(m.getPlannedInVersion());
                        e.getRetired().add(m);
                        e.setMigration(null);
                        completed++;
                    }
                }
                io.keyshift.avro.Split split = e.getSplit();
                if (split != null && split.getParallelism() == 0 && current.getParallelism() > 0) {
                    // a plan written before splits kept their parallelism: chosen at the plan's (or before a rescale
                    // that plan did not see; then the key stays spread as it is)
                    split = io.keyshift.avro.Split.newBuilder(split).setParallelism(current.getParallelism()).build();
                    e.setSplit(split);
                }
                if (split != null && split.getEarlier() != null && !split.getEarlier().isEmpty()) {
                    // an earlier spread (before the key was spread anew) stays for one plan after a state horizon
                    // past its end, as a folded migration stays in retired
                    long prevEnd = current.getBasedOnWindowEnd();
                    List<io.keyshift.avro.SplitSpread> kept = new ArrayList<>();
                    for (io.keyshift.avro.SplitSpread sp : split.getEarlier()) {
                        long done = sp.getUntil() + s.stateHorizonMillis();
                        if (done > prevEnd || done > prevLease) {
                            kept.add(sp);
                        }
                    }
                    if (kept.size() < split.getEarlier().size()) {
                        e.setSplit(io.keyshift.avro.Split.newBuilder(split).setEarlier(kept).build());
                    }
                }
                // a key back in its natural key group needs no entry, unless the stage keeps each stay apart (a
                // keyed process function): then it stays under the epoch it came back with
                if (e.getMigration() == null && e.getSplit() == null && e.getKeyGroup() == natural(e)
                        && (e.getEpoch() == 0 || !s.keepEpochs())
                        && !recentlyMoved(e, end) && e.getRetired().isEmpty()) {
                    continue;
                }
                entries.put(e.getKey(), e);
            }
        }

        // 2. Units for the planning horizon: hot keys (movable unless migrating) and key-group residuals (pinned).
        int p = s.parallelism();
        int inFlight = 0;
        for (RouteEntry e : entries.values()) {
            inFlight += e.getMigration() != null ? 1 : 0;
        }
        Map<String, Double> hotLoad = new HashMap<>();
        // a hot key's natural key group as the forecast gives it (from the router's sample of the key itself): a
        // key's id need not hash like the key (integral keys, serialized keys, pseudonyms)
        Map<String, Integer> hotNatural = new HashMap<>();
        for (UnitForecast u : forecast.getUnits()) {
            if (u.getUnitType() == UnitType.HOT_KEY) {
                hotNatural.put(u.getKey(), u.getKeyGroup());
            }
        }
        longRun.observe(forecast);
        List<UnitForecast> units = new ArrayList<>(forecast.getUnits());
        units.sort(Comparator.comparing((UnitForecast u) -> u.getUnitType()).thenComparing(u -> u.getKey() == null ? "" : u.getKey())
                .thenComparingInt(UnitForecast::getKeyGroup));
        // Planning units: key-group residuals (pinned), hot keys (movable unless migrating or split), and the pieces
        // of split keys (pinned on their key groups' subtasks, load / pieces each).
        List<UnitForecast> unitOf = new ArrayList<>();
        List<Double> loadList = new ArrayList<>();
        List<Integer> atList = new ArrayList<>();
        List<Boolean> movableList = new ArrayList<>();
        // units of split keys to spread anew (their split was chosen at another parallelism)
        List<Integer> respread = new ArrayList<>();
        for (UnitForecast u : units) {
            double l = planningLoad(u);
            if (u.getUnitType() == UnitType.KEY_GROUP) {
                addUnit(unitOf, loadList, atList, movableList, u, l, subtask(u.getKeyGroup()), false);
                continue;
            }
            hotLoad.put(u.getKey(), l);
            RouteEntry e = entries.get(u.getKey());
            if (e != null && e.getSplit() != null && e.getSplit().getParallelism() != p && !hold
                    && !pinned(u.getKey(), ctl)) {
                // spread for another parallelism (a restore after a rescale): spread anew below, from this lease on
                respread.add(unitOf.size());
                addUnit(unitOf, loadList, atList, movableList, u, l, subtask(kgOf(e)), false);
                continue;
            }
            if (e != null && e.getSplit() != null) {
                List<Integer> groups = e.getSplit().getKeyGroups();
                for (int g : groups) {
                    addUnit(unitOf, loadList, atList, movableList, u, l / groups.size(), subtask(g), false);
                }
                continue;
            }
            int kg = e == null ? u.getKeyGroup()
                    : e.getMigration() != null ? e.getMigration().getToKeyGroup() : e.getKeyGroup();
            boolean canMove = (e == null || e.getMigration() == null && !recentlyMoved(e, prevLease))
                    && !pinned(u.getKey(), ctl);
            addUnit(unitOf, loadList, atList, movableList, u, l, subtask(kg), canMove);
        }
        // 2a. Spread anew a split key whose key groups were chosen at another parallelism (a restore after a
        //     rescale, or a plan before the split's parallelism was kept): as a split would spread it now, on the
        //     least loaded subtasks, from this lease on; times an issued lease covered keep their spread (earlier).
        if (!respread.isEmpty()) {
            double meanLoad = loadList.stream().mapToDouble(Double::doubleValue).sum() / p;
            // the heaviest first (longest processing time first, Graham 1969), each placed beside the load of every
            // unit but those still to be spread
            respread.sort(Comparator.comparingDouble((Integer i) -> -loadList.get(i)).thenComparingInt(i -> i));
            java.util.Set<Integer> toSpread = new java.util.HashSet<>(respread);
            for (int i : respread) {
                UnitForecast u = unitOf.get(i);
                double l = loadList.get(i);
                // at least as many pieces as the subtasks its old key groups are on now: a split is spread once per
                // parallelism and its pieces never move, so a key spread anew while light (a scale-in at night)
                // would keep a few pieces when it is heavy again, where the old spread covered every subtask
                // (and on every subtask where it was on every subtask at its own parallelism: a key split over all
                // 4 at p = 4 and spread anew at 8 while lighter than the new mean, on a scale-out in the morning,
                // kept 4 pieces on 8 subtasks when it was heavy again at noon)
                io.keyshift.avro.Split was = entries.get(u.getKey()).getSplit();
                int wasP = was.getParallelism();
                boolean everySubtask = wasP > 0 && was.getKeyGroups().stream()
                        .map(g -> KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(s.maxParallelism(), wasP, g))
                        .distinct().count() == wasP;
                int pieces = everySubtask ? p : Math.max(splitPieces(l, meanLoad, p), (int) was.getKeyGroups()
                        .stream().map(this::subtask).distinct().count());
                Integer[] order = subtasksByLoadWithout(unitOf, loadList, atList, toSpread, p);
                toSpread.remove(i);
                List<Integer> groups = pieceKeyGroups(u, order, pieces);
                RouteEntry e = entries.get(u.getKey());
                io.keyshift.avro.Split old = e.getSplit();
                List<io.keyshift.avro.SplitSpread> earlier = new ArrayList<>(
                        old.getEarlier() == null ? List.of() : old.getEarlier());
                long lastUntil = earlier.isEmpty() ? Long.MIN_VALUE : earlier.get(earlier.size() - 1).getUntil();
                if (prevLease > old.getFrom() && prevLease > lastUntil) {
                    // records before this lease were (or may have been) dealt over the old key groups
                    earlier.add(io.keyshift.avro.SplitSpread.newBuilder().setKeyGroups(old.getKeyGroups())
                            .setUntil(prevLease).build());
                }
                // the same epoch (plannedInVersion): a key group in both spreads keeps one partial per window
                e.setSplit(io.keyshift.avro.Split.newBuilder(old).setKeyGroups(groups).setParallelism(p)
                        .setEarlier(earlier).setPredictedLoad(l).build());
                LOG.info("Plan {}: split key {} spread anew over {} key groups for parallelism {} (was {} key groups "
                        + "for parallelism {}) from {}", version, u.getKey(), pieces, p, old.getKeyGroups().size(),
                        old.getParallelism(), java.time.Instant.ofEpochMilli(Math.max(prevLease, old.getFrom())));
                becomePieces(unitOf, loadList, atList, movableList, i, pieces, order);
            }
        }
        // 2b. Split a hot key that fits on no subtask: its load plus the least fixed load of any subtask (key-group
        //     residuals and pieces of split keys, which no move takes off) above splitThreshold x a subtask's mean
        //     load (window aggregates only).
        int splitsStarted = 0;
        if (s.splitThreshold() > 0 && p > 1 && !hold) {
            double total = loadList.stream().mapToDouble(Double::doubleValue).sum();
            double meanLoad = total / p;
            double[] fixedLoad = new double[p];
            for (int j = 0; j < unitOf.size(); j++) {
                UnitForecast u = unitOf.get(j);
                RouteEntry e = u.getUnitType() == UnitType.HOT_KEY ? entries.get(u.getKey()) : null;
                if (u.getUnitType() == UnitType.KEY_GROUP || e != null && e.getSplit() != null) {
                    fixedLoad[atList.get(j)] += loadList.get(j);
                }
            }
            double leastFixed = java.util.Arrays.stream(fixedLoad).min().orElse(0);
            for (int i = 0; i < unitOf.size(); i++) {
                UnitForecast u = unitOf.get(i);
                if (!movableList.get(i) || u.getUnitType() != UnitType.HOT_KEY || meanLoad <= 0
                        || loadList.get(i) + leastFixed <= s.splitThreshold() * meanLoad) {
                    continue;
                }
                double l = loadList.get(i);
                // A key heavier than a subtask's mean load fits on no subtask whatever moves: it is spread over
                // every subtask, so that it adds the same load to each and never needs placing again (splits are
                // kept, their pieces fixed). Placed on the subtasks least loaded now, its pieces became fixed
                // holes and humps once other keys moved: a hot set held for days ran at 1.12 where 1.05 is
                // reachable (README, "What the live planner does each window"). A lighter key that fits on no
                // subtask only beside the load no move takes off is split into a few pieces of about a quarter
                // of the mean, on the least loaded subtasks.
                int pieces = splitPieces(l, meanLoad, p);
                Integer[] order = subtasksByLoadWithout(unitOf, loadList, atList, java.util.Set.of(i), p);
                List<Integer> groups = pieceKeyGroups(u, order, pieces);
                RouteEntry e = entries.get(u.getKey());
                if (e == null) {
                    e = newEntry(u);
                    entries.put(u.getKey(), e);
                }
                e.setSplit(io.keyshift.avro.Split.newBuilder().setKeyGroups(groups)
                        .setFrom(prevLease + s.splitPreRollMillis()).setPreRollFrom(prevLease)
                        .setPlannedInVersion(version).setPredictedLoad(l).setParallelism(p).build());
                becomePieces(unitOf, loadList, atList, movableList, i, pieces, order);
                splitsStarted++;
            }
        }
        double[] loads = new double[unitOf.size()];
        int[] at = new int[unitOf.size()];
        boolean[] movable = new boolean[unitOf.size()];
        for (int i = 0; i < loads.length; i++) {
            loads[i] = loadList.get(i);
            at[i] = atList.get(i);
            movable[i] = movableList.get(i);
        }
        units = unitOf;
        PlanningProblem problem = new PlanningProblem(loads, at, movable, p);
        double[] load = problem.subtaskLoads(at);
        double mean = java.util.Arrays.stream(load).sum() / p;
        double imbalanceBefore = imbalance(load);

        // 3. Greedy moves from the current assignment (GreedyFromCurrent), then the cheapest prefix.
        Constraints c = s.constraints();
        double capacity = c.capacity();
        double maxBefore = java.util.Arrays.stream(load).max().orElse(0);
        boolean critical = capacity > 0 && maxBefore > c.critical() * capacity;
        int budget = hold ? 0
                : critical ? movableCount(movable) : Math.max(0, s.maxConcurrentMigrations() - inFlight);
        // PER_WINDOW: each unit's load in every window of the horizon; the cost's imbalance is their windows' mean
        boolean perWindow = s.cost() == io.keyshift.config.PlanOptions.Cost.PER_WINDOW;
        double[][] unitSteps = perWindow ? stepLoads(units, loads) : null;
        List<GreedyFromCurrent.Move> moves = mean > 0 ? GreedyFromCurrent.moves(problem, 0.0, budget, capacity)
                : List.of();
        List<double[]> terms = costTerms(moves, load, loads, mean, capacity, unitSteps, at, p);
        if (perWindow && mean > 0) {
            // the pair greedy evens the horizon's mean load; the per-window greedy each window's maximum: the one
            // whose best prefix costs less is taken (the pair greedy on a tie)
            List<GreedyFromCurrent.Move> windowed = io.keyshift.plan.opt.GreedyPerWindow.moves(unitSteps, at, movable,
                    p, new double[loads.length], budget);
            List<double[]> windowedTerms = costTerms(windowed, load, loads, mean, capacity, unitSteps, at, p);
            if (minTotal(windowedTerms) < minTotal(terms)) {
                moves = windowed;
                terms = windowedTerms;
            }
        }
        // (no migration budget: whatever the search moves is thrown away, and it spent the time budget on it)
        if (mean > 0 && budget > 0 && !c.searchBudget().isZero()) {
            List<GreedyFromCurrent.Move> searched = localSearchMoves(problem, budget, loads, at);
            if (!searched.isEmpty()) {
                List<double[]> searchedTerms = costTerms(searched, load, loads, mean, capacity, unitSteps, at, p);
                double whole = total(searchedTerms.get(searchedTerms.size() - 1));
                if (terms.stream().allMatch(t -> whole < total(t))) {
                    // the searched assignment counts only whole: a prefix of it may split a swap
                    for (int k = 1; k < searchedTerms.size() - 1; k++) {
                        searchedTerms.set(k, null);
                    }
                    moves = searched;
                    terms = searchedTerms;
                }
            }
        }
        List<Double> costs = new ArrayList<>();
        for (double[] t : terms) {
            costs.add(t == null ? Double.POSITIVE_INFINITY : total(t));
        }
        int bestPrefix = 0;
        for (int k = 1; k < costs.size(); k++) {
            if (costs.get(k) < costs.get(bestPrefix)) {
                bestPrefix = k;
            }
        }
        // With a capacity, load moves only off subtasks predicted above the high utilization.
        boolean high = capacity <= 0 || maxBefore > c.high() * capacity;
        // An anomaly (a unit's actual outside its prediction interval by more than the anomaly z) re-plans at once:
        // any cost reduction is taken, not only one above the improvement threshold.
        boolean anomaly = forecast.getAnomalies() > 0;
        double threshold = anomaly ? 0.0 : s.threshold();
        if (!high || costs.get(0) - costs.get(bestPrefix) <= threshold) {
            bestPrefix = 0;
        }
        double[] chosen = terms.get(bestPrefix);
        double[] planned = load.clone();
        Map<String, int[]> movedTo = new java.util.TreeMap<>();
        long shadowFrom = prevLease;
        List<GreedyFromCurrent.Move> net = netMoves(moves.subList(0, bestPrefix), at);
        int started = net.size();
        for (GreedyFromCurrent.Move mv : net) {
            int origin = mv.from();
            UnitForecast u = units.get(mv.unit());
            long moveSwitchAt = shadowFrom
                    + s.shadowMillis(s.validation().validates(u.getKey(), version), shadowFrom);
            planned[origin] -= loads[mv.unit()];
            planned[mv.to()] += loads[mv.unit()];
            int target = targetKeyGroup(u.getKey(), u.getKeyGroup(), mv.to());
            RouteEntry e = entries.get(u.getKey());
            if (e == null) {
                e = newEntry(u);
                entries.put(u.getKey(), e);
            }
            e.setMigration(Migration.newBuilder()
                    .setFromKeyGroup(e.getKeyGroup())
                    .setFromEpoch(e.getEpoch())
                    .setToKeyGroup(target)
                    .setShadowFrom(shadowFrom)
                    .setSwitchAt(moveSwitchAt)
                    .setPlannedInVersion(version)
                    .setPredictedLoad(loads[mv.unit()])
                    .setFromSubtaskLoadBefore(mv.fromLoadBefore())
                    .setToSubtaskLoadBefore(mv.toLoadBefore())
                    .setFromSubtaskLoadAfter(0)
                    .setToSubtaskLoadAfter(0)
                    .build());
            e.setMovedAt(shadowFrom);
            movedTo.put(u.getKey(), new int[] {origin, mv.to()});
        }
        for (Map.Entry<String, int[]> m : movedTo.entrySet()) {
            Migration mig = entries.get(m.getKey()).getMigration();
            mig.setFromSubtaskLoadAfter(planned[m.getValue()[0]]);
            mig.setToSubtaskLoadAfter(planned[m.getValue()[1]]);
        }

        // 3a. Reverts: a key whose shadow disagreed with its primary goes back to the key group it came from.
        for (Map.Entry<String, int[]> r : new TreeMap<>(ctl.revertTo()).entrySet()) {
            String key = r.getKey();
            int to = r.getValue()[0];
            int ifAt = r.getValue()[1];
            RouteEntry e = entries.get(key);
            Integer known = e != null ? Integer.valueOf(natural(e)) : hotNatural.get(key);
            if (known == null) {
                // neither routed nor forecast: the key is at its natural key group, which only its own sample tells;
                // nothing to send back
                revertsResolved.add(key);
                continue;
            }
            int natural = known;
            int routedTo = e == null ? natural : e.getMigration() != null ? e.getMigration().getToKeyGroup()
                    : e.getKeyGroup();
            long since = ctl.revertSince().getOrDefault(key, Long.MIN_VALUE);
            boolean movedSince = e != null && e.getMovedAt() > since;
            if (ifAt >= 0 && (routedTo != ifAt || movedSince) || e != null && e.getSplit() != null) {
                // stale: the key has moved on since the mismatching shadow (or is split)
                revertsResolved.add(key);
                continue;
            }
            if (ifAt >= 0 && ctl.held().contains(key) && !movedSince) {
                // a revert of the validation's (it names the shadow's key group) of a key held: a revert sent it
                // here, and its last move is that revert (a held key starts no migration of the planner's), so the
                // check that failed is of the revert's own shadow phase (a correctness shadow, for windows that reach
                // across the switch-over): a revert returns to the side the validation trusted, and is not reverted
                // in turn (a revert without IF_AT, an operator's, always applies)
                revertsResolved.add(key);
                continue;
            }
            if (e != null && e.getMigration() != null) {
                // the migration the shadow belonged to is still in flight: once it is done
                continue;
            }
            int now = e == null ? natural : e.getKeyGroup();
            revertsResolved.add(key);
            if (now != to) {
                if (e == null) {
                    e = homeEntry(key, natural);
                    entries.put(key, e);
                }
                // not validated: it returns to the primary that the validation trusted (a validated revert of a
                // corrupted shadow would be reverted in turn)
                shift(planned, e.getKeyGroup(), to, hotLoad.getOrDefault(key, 0.0));
                migrate(e, to, shadowFrom, s.shadowMillis(false), version, hotLoad.getOrDefault(key, 0.0));
                e.setMovedAt(shadowFrom);
                started++;
                revertsStarted.add(key);
            }
        }

        // 3b. A rollback: every key that is not where the target routes it goes there (pinned and split keys stay),
        //     with the shadow phase its validation asks for; done once nothing differs and nothing is in flight.
        if (ctl.rollbackTarget() != null) {
            java.util.TreeSet<String> keys = new java.util.TreeSet<>(entries.keySet());
            keys.addAll(ctl.rollbackTarget().keySet());
            boolean differs = false;
            for (String key : keys) {
                RouteEntry e = entries.get(key);
                int[] target = ctl.rollbackTarget().get(key);
                // (a routing of a plan from before format 2 names no natural key group: -1)
                int natural = e != null ? natural(e) : target[1] >= 0 ? target[1]
                        : hotNatural.getOrDefault(key, KeyGroupRangeAssignment.assignToKeyGroup(key, s.maxParallelism()));
                int desired = target != null ? target[0] : natural;
                if (pinned(key, ctl) || e != null && e.getSplit() != null) {
                    continue;
                }
                if (e != null && e.getMigration() != null) {
                    differs |= e.getMigration().getToKeyGroup() != desired;
                    continue;
                }
                int now = e == null ? natural : e.getKeyGroup();
                if (now == desired) {
                    continue;
                }
                differs = true;
                if (e == null) {
                    e = homeEntry(key, natural);
                    entries.put(key, e);
                }
                shift(planned, e.getKeyGroup(), desired, hotLoad.getOrDefault(key, 0.0));
                migrate(e, desired, shadowFrom,
                        s.shadowMillis(s.validation().validates(key, version), shadowFrom), version,
                        hotLoad.getOrDefault(key, 0.0));
                e.setMovedAt(shadowFrom);
                started++;
            }
            boolean inFlightNow = entries.values().stream().anyMatch(x -> x.getMigration() != null);
            rollbackComplete = !differs && !inFlightNow;
        }

        // 4. Keep the routing table to the hot set: an idle moved key that is no longer among the forecast's hot
        //    keys goes home (a cold key needs no entry: otherwise the table would hold every key ever moved), and
        //    while the table is over its bound the coldest idle ones do too; all within the migration budget.
        List<RouteEntry> idle = new ArrayList<>();
        for (RouteEntry e : entries.values()) {
            // an entry already at its natural key group (kept for its epoch or its retired migration) is home
            // (a key moved less than min-windows-between-moves ago stays, as the planner's own moves do)
            if (!hold && e.getMigration() == null && e.getSplit() == null && e.getKeyGroup() != natural(e)
                    && !pinned(e.getKey(), ctl) && !recentlyMoved(e, prevLease)) {
                idle.add(e);
            }
        }
        // cold keys first (a hot key forecast at 0 among them would stop the loop below before the cold ones after
        // it), then the lightest
        idle.sort(Comparator.comparing((RouteEntry e) -> hotLoad.containsKey(e.getKey()))
                .thenComparingDouble((RouteEntry e) -> hotLoad.getOrDefault(e.getKey(), 0.0))
                .thenComparing(RouteEntry::getKey));
        // a keyed process function's key back home keeps its entry (the epoch of its stay there), which no return can
        // shorten: not counted, or once the bound is reached every plan would send hot moved keys home
        // and so does a split key (splits never end): neither counts towards the bound; nor does any key already home
        // (its entry kept for a plan or two: the retired route of its return, min-windows-between-moves), which no
        // return can remove either, nor any key on its way home (a return, revert or rollback in flight: counted, it
        // sent one more hot moved key home every plan until the return folded, a state horizon after its switch-over)
        int keptHome = 0;
        for (RouteEntry e : entries.values()) {
            keptHome += e.getSplit() != null || (e.getMigration() == null ? e.getKeyGroup()
                    : e.getMigration().getToKeyGroup()) == natural(e) ? 1 : 0;
        }
        int excess = entries.size() - keptHome - s.maxRoutingEntries();
        double meanPlanned = java.util.Arrays.stream(planned).sum() / p;
        int sentHome = 0;
        // cold keys go home with at most half of the budget this plan leaves, so that the in-flight returns never
        // take the places that the next windows' hot moves may need
        // (only with Settings.returnColdKeys: not under a capacity model or predictive scaling, where the scaling
        // operator sizes the job from the forecast of the current assignment and max-routing-entries alone bounds the
        // table; in ScaledReplayTest, returns cost predictive scaling 19 slot-hours and an overload window)
        int coldBudget = s.returnColdKeys() && capacity <= 0 ? (budget - started) / 2 : 0;
        int coldSent = 0;
        for (int i = 0; i < idle.size() && started < budget; i++) {
            RouteEntry e = idle.get(i);
            boolean cold = !hotLoad.containsKey(e.getKey());
            if (!cold && sentHome >= excess) {
                break;
            }
            if (sentHome >= excess && coldSent >= coldBudget) {
                break;
            }
            // a cold key goes home only to a subtask planned at or below the mean (never onto a hot spot)
            if (sentHome >= excess && planned[subtask(natural(e))] > meanPlanned) {
                continue;
            }
            shift(planned, e.getKeyGroup(), natural(e), hotLoad.getOrDefault(e.getKey(), 0.0));
            migrate(e, natural(e), shadowFrom,
                    s.shadowMillis(s.validation().validates(e.getKey(), version), shadowFrom), version,
                    hotLoad.getOrDefault(e.getKey(), 0.0));
            // a return home is a move: min-windows-between-moves counts from it
            e.setMovedAt(shadowFrom);
            started++;
            if (sentHome >= excess) {
                coldSent++;
            }
            sentHome++;
        }
        RoutingPlan next = plan(version, newLease, end, new ArrayList<>(entries.values()), imbalanceBefore,
                imbalance(planned), started, completed);
        double maxAfter = java.util.Arrays.stream(planned).max().orElse(0);
        next.setCostImbalance(chosen[0]);
        next.setCostStateMoved(chosen[1]);
        next.setCostMigrations(chosen[2]);
        next.setCostOverload(chosen[3]);
        next.setMaxUtilization(capacity > 0 ? maxAfter / capacity : -1.0);
        next.setScaleInOpportunity(capacity > 0 && maxAfter < c.scaleIn() * capacity);
        next.setAnomalyReplan(anomaly && bestPrefix > 0);
        // published whole: the planner's gauges read it from the metric reporter's thread
        current = next;
        return current;
    }

    /**
     * The moves to {@link io.keyshift.plan.opt.LocalSearch}'s assignment within the search budget, heaviest unit
     * first; empty if it moves nothing or more units than the migration budget allows.
     */
    private List<GreedyFromCurrent.Move> localSearchMoves(PlanningProblem problem, int budget, double[] loads, int[] at) {
        int[] target = new io.keyshift.plan.opt.LocalSearch(0.0, budget)
                .optimize(problem, 0L, s.constraints().searchBudget());
        List<Integer> changed = new ArrayList<>();
        for (int i = 0; i < target.length; i++) {
            if (target[i] != at[i]) {
                changed.add(i);
            }
        }
        if (changed.size() > budget) {
            return List.of();
        }
        changed.sort(Comparator.comparingDouble((Integer i) -> -loads[i]).thenComparingInt(i -> i));
        double[] sub = problem.subtaskLoads(at);
        List<GreedyFromCurrent.Move> out = new ArrayList<>();
        for (int i : changed) {
            out.add(new GreedyFromCurrent.Move(i, at[i], target[i], sub[at[i]], sub[target[i]]));
            sub[at[i]] -= loads[i];
            sub[target[i]] += loads[i];
        }
        return out;
    }

    /**
     * Cost terms {imbalance, alpha x moved / mean, beta x migrations, overload} of every prefix of {@code moves}
     * (element k: after the first k moves) from the subtask loads {@code start}. Moved load and migrations count the
     * units away from where they were ({@code at}) after the prefix, each once, as the plan's migrations do: a unit
     * moved twice (A to B, then B to C) is one migration, one moved back none (they were counted per move).
     */
    List<double[]> costTerms(List<GreedyFromCurrent.Move> moves, double[] start, double[] loads, double mean,
                                     double capacity, double[][] unitSteps, int[] at, int p) {
        double[] after = start.clone();
        double[][] afterSteps = null;
        if (unitSteps != null) {
            int h = unitSteps.length == 0 ? 0 : unitSteps[0].length;
            afterSteps = new double[p][h];
            for (int i = 0; i < unitSteps.length; i++) {
                for (int w = 0; w < h; w++) {
                    afterSteps[at[i]][w] += unitSteps[i][w];
                }
            }
        }
        List<double[]> terms = new ArrayList<>();
        terms.add(new double[] {imbalanceTerm(after, afterSteps), 0, 0, overload(after, capacity)});
        double moved = 0;
        int migrations = 0;
        Map<Integer, Integer> position = new HashMap<>();
        for (GreedyFromCurrent.Move mv : moves) {
            int u = mv.unit();
            boolean away = position.getOrDefault(u, at[u]) != at[u];
            position.put(u, mv.to());
            boolean awayAfter = mv.to() != at[u];
            if (away != awayAfter) {
                moved += awayAfter ? loads[u] : -loads[u];
                migrations += awayAfter ? 1 : -1;
            }
            after[mv.from()] -= loads[mv.unit()];
            after[mv.to()] += loads[mv.unit()];
            if (afterSteps != null) {
                for (int w = 0; w < afterSteps[0].length; w++) {
                    afterSteps[mv.from()][w] -= unitSteps[mv.unit()][w];
                    afterSteps[mv.to()][w] += unitSteps[mv.unit()][w];
                }
            }
            terms.add(new double[] {imbalanceTerm(after, afterSteps), s.alpha() * Math.max(0, moved) / mean,
                s.beta() * migrations, overload(after, capacity)});
        }
        return terms;
    }

    private static double imbalanceTerm(double[] meanLoads, double[][] stepLoads) {
        return stepLoads == null || stepLoads.length == 0 || stepLoads[0].length == 0 ? imbalance(meanLoads)
                : io.keyshift.plan.opt.GreedyPerWindow.perWindowImbalance(stepLoads);
    }

    private static double minTotal(List<double[]> terms) {
        double m = Double.POSITIVE_INFINITY;
        for (double[] t : terms) {
            m = Math.min(m, total(t));
        }
        return m;
    }

    /**
     * Per unit, its forecast load in each window of the planning horizon, scaled as its planning load is scaled from
     * its mean forecast (a split key's piece, the shrinkage towards the long-run load).
     */
    private double[][] stepLoads(List<UnitForecast> units, double[] loads) {
        double[][] out = new double[units.size()][s.horizon()];
        for (int i = 0; i < units.size(); i++) {
            UnitForecast u = units.get(i);
            List<Double> f = u.getForecast();
            int from = Math.min(s.firstOwnedStep(), f.size() - 1);
            double pl = forecastLoad(u);
            double scale = pl > 0 ? loads[i] / pl : 0;
            for (int w = 0; w < s.horizon(); w++) {
                int k = Math.min(f.size() - 1, from + w);
                // a unit forecast at 0 whose planning load is not (its long-run load) is flat at that load
                out[i][w] = pl <= 0 ? loads[i] : k >= 0 ? Math.max(0, f.get(k)) * scale : 0;
            }
        }
        return out;
    }

    private static double total(double[] terms) {
        return terms[0] + terms[1] + terms[2] + terms[3];
    }

    /** True while {@code e}'s last move is less than min-windows-between-moves windows before {@code t}. */
    private boolean recentlyMoved(RouteEntry e, long t) {
        return movedWithin(e.getMovedAt(), s.constraints().minWindowsBetweenMoves(), s.windowMillis(), t);
    }

    /**
     * Whether {@code t} is less than {@code minWindows} windows after a move at {@code movedAt} (Long.MIN_VALUE: never
     * moved); saturating, so that a "never again" minimum with long windows does not overflow into "at once".
     */
    static boolean movedWithin(long movedAt, int minWindows, long windowMillis, long t) {
        if (minWindows <= 0 || movedAt == Long.MIN_VALUE) {
            return false;
        }
        long until;
        try {
            until = Math.addExact(movedAt, Math.multiplyExact((long) minWindows, windowMillis));
        } catch (ArithmeticException beyondTime) {
            until = Long.MAX_VALUE;
        }
        return t < until;
    }

    private static int movableCount(boolean[] movable) {
        int n = 0;
        for (boolean b : movable) {
            n += b ? 1 : 0;
        }
        return n;
    }

    /** 10 x the sum over subtasks of load above capacity / capacity; 0 without a capacity. */
    static double overload(double[] loads, double capacity) {
        if (capacity <= 0) {
            return 0;
        }
        double sum = 0;
        for (double l : loads) {
            sum += Math.max(0, l - capacity) / capacity;
        }
        return 10 * sum;
    }

    private static void addUnit(List<UnitForecast> unitOf, List<Double> loads, List<Integer> at, List<Boolean> movable,
                                UnitForecast u, double load, int subtask, boolean canMove) {
        unitOf.add(u);
        loads.add(load);
        at.add(subtask);
        movable.add(canMove);
    }

    /**
     * The unit's load for planning: its mean forecast over the planning horizon, shrunk towards its long-run load
     * ({@link LongRunLoads#shrink}) with {@link Settings#shrinkage()}.
     */
    private double planningLoad(UnitForecast u) {
        List<Double> f = u.getForecast();
        if (f.isEmpty()) {
            // no step forecast (the forecaster always gives +1..+H; a forecast built by hand may not): no load
            return 0;
        }
        int from = Math.min(s.firstOwnedStep(), f.size() - 1);
        int windows = Math.max(1, Math.min(f.size(), from + s.horizon()) - from);
        return longRun.shrink(u, forecastLoad(u), windows, s.shrinkage());
    }

    /** The unit's mean forecast over the planning horizon. */
    private double forecastLoad(UnitForecast u) {
        List<Double> f = u.getForecast();
        if (f.isEmpty()) {
            // no step forecast (the forecaster always gives +1..+H; a forecast built by hand may not): no load
            return 0;
        }
        int from = Math.min(s.firstOwnedStep(), f.size() - 1);
        int to = Math.min(f.size(), from + s.horizon());
        double sum = 0;
        for (int i = from; i < to; i++) {
            sum += f.get(i);
        }
        return sum / Math.max(1, to - from);
    }

    /**
     * How many pieces a split key gets: every one of the {@code p} subtasks for a key heavier than a subtask's mean
     * load {@code meanLoad} (or when that mean is 0), else about a quarter of the mean each, at least 2 and at most
     * {@code p}.
     */
    static int splitPieces(double load, double meanLoad, int p) {
        return meanLoad <= 0 || load > meanLoad ? p
                : (int) Math.min(p, Math.max(2, Math.ceil(load / (0.25 * meanLoad))));
    }

    /** The key groups of a split key's {@code pieces} pieces, one on each of the first subtasks of {@code order}. */
    private List<Integer> pieceKeyGroups(UnitForecast u, Integer[] order, int pieces) {
        List<Integer> groups = new ArrayList<>(pieces);
        for (int t = 0; t < pieces; t++) {
            groups.add(targetKeyGroup(u.getKey(), u.getKeyGroup(), order[t]));
        }
        return groups;
    }

    /**
     * Unit {@code i} becomes its {@code pieces} pieces, fixed, each of its load / pieces: itself on {@code order[0]},
     * new units on the next subtasks of {@code order}.
     */
    private static void becomePieces(List<UnitForecast> unitOf, List<Double> loadList, List<Integer> atList,
                                     List<Boolean> movableList, int i, int pieces, Integer[] order) {
        double piece = loadList.get(i) / pieces;
        loadList.set(i, piece);
        atList.set(i, order[0]);
        movableList.set(i, false);
        for (int t = 1; t < pieces; t++) {
            addUnit(unitOf, loadList, atList, movableList, unitOf.get(i), piece, order[t], false);
        }
    }

    /**
     * The subtasks {@code 0..p-1} by the load of every unit but those of {@code left} on them, ascending (ties by
     * index): where a split's pieces go.
     */
    private static Integer[] subtasksByLoadWithout(List<UnitForecast> unitOf, List<Double> loadList,
                                                   List<Integer> atList, java.util.Set<Integer> left, int p) {
        double[] without = new double[p];
        for (int j = 0; j < unitOf.size(); j++) {
            if (!left.contains(j)) {
                without[atList.get(j)] += loadList.get(j);
            }
        }
        Integer[] order = new Integer[p];
        for (int t = 0; t < p; t++) {
            order[t] = t;
        }
        java.util.Arrays.sort(order, Comparator.comparingDouble((Integer t) -> without[t]).thenComparingInt(t -> t));
        return order;
    }

    /** The key group an entry's records go to from its lease on, before any split (a migration's target). */
    private static int kgOf(RouteEntry e) {
        return e.getMigration() != null ? e.getMigration().getToKeyGroup() : e.getKeyGroup();
    }

    private int targetKeyGroup(String key, int naturalKeyGroup, int subtask) {
        if (subtask(naturalKeyGroup) == subtask) {
            return naturalKeyGroup;
        }
        KeyGroupRange range = KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(
                s.maxParallelism(), s.parallelism(), subtask);
        return range.getStartKeyGroup() + Math.floorMod(key.hashCode(), range.getNumberOfKeyGroups());
    }

    /** Whether {@code key} is pinned: by the constraints, a control command, or a revert's hold. */
    private boolean pinned(String key, Control ctl) {
        return s.constraints().pinned().contains(key) || ctl.pinned().contains(key) || ctl.held().contains(key)
                || ctl.revertTo().containsKey(key);
    }

    /**
     * The entry's natural key group (entries of plans before format 2 lack it: then the key group of the id string).
     */
    private int natural(RouteEntry e) {
        return e.getNaturalKeyGroup() >= 0 ? e.getNaturalKeyGroup()
                : KeyGroupRangeAssignment.assignToKeyGroup(e.getKey(), s.maxParallelism());
    }

    /**
     * Moves {@code load} from the subtask of key group {@code from} to that of {@code to} in {@code planned}: a move
     * the greedy did not choose (a revert, a rollback, a return home) changes the plan's predicted loads too (its
     * predicted imbalance, utilization and scale-in flag left them out).
     */
    private void shift(double[] planned, int from, int to, double load) {
        planned[subtask(from)] -= load;
        planned[subtask(to)] += load;
    }

    /** An entry for a key at its natural key group (to start a migration from). */
    private static RouteEntry homeEntry(String key, int natural) {
        return RouteEntry.newBuilder().setKey(key).setNaturalKeyGroup(natural).setKeyGroup(natural).setMigration(null)
                .build();
    }

    /**
     * Starts a migration of {@code e}'s key to {@code to}: shadow from {@code shadowFrom}, switch-over
     * {@code shadowMillis} later; no subtask loads (a move the planner's cost did not choose: a return, revert or
     * rollback).
     */
    private static void migrate(RouteEntry e, int to, long shadowFrom, long shadowMillis, long version,
                                double predictedLoad) {
        e.setMigration(Migration.newBuilder()
                .setFromKeyGroup(e.getKeyGroup())
                .setFromEpoch(e.getEpoch())
                .setToKeyGroup(to)
                .setShadowFrom(shadowFrom)
                .setSwitchAt(shadowFrom + shadowMillis)
                .setPlannedInVersion(version)
                .setPredictedLoad(predictedLoad)
                .setFromSubtaskLoadBefore(0)
                .setToSubtaskLoadBefore(0)
                .build());
    }

    private static RouteEntry newEntry(UnitForecast u) {
        return RouteEntry.newBuilder().setKey(u.getKey()).setNaturalKeyGroup(u.getKeyGroup())
                .setKeyGroup(u.getKeyGroup()).setMigration(null).build();
    }

    private int subtask(int keyGroup) {
        return KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(s.maxParallelism(), s.parallelism(), keyGroup);
    }

    private RoutingPlan plan(long version, long validUntil, long basedOn, List<RouteEntry> entries,
                             double before, double after, int started, int completed) {
        entries.sort(Comparator.comparing(RouteEntry::getKey));
        return RoutingPlan.newBuilder()
                .setVersion(version)
                .setValidUntil(validUntil)
                .setBasedOnWindowEnd(basedOn)
                .setMaxParallelism(s.maxParallelism())
                .setParallelism(s.parallelism())
                .setEntries(entries)
                .setPredictedImbalanceBefore(before)
                .setPredictedImbalanceAfter(after)
                .setMigrationsStarted(started)
                .setMigrationsCompleted(completed)
                .build();
    }

    /**
     * The entries as new objects with a list of retired migrations of their own: the planner changes an entry's fields
     * and its retired list, never a migration or split an earlier plan holds (those are made anew), and the earlier
     * plan is read-only once emitted. (Avro's builder copied each entry deeply: 5 % of the planner's CPU time on a
     * year of hourly windows.)
     */
    private static List<RouteEntry> copy(List<RouteEntry> entries) {
        List<RouteEntry> out = new ArrayList<>(entries.size());
        for (RouteEntry e : entries) {
            List<Migration> retired = e.getRetired() == null ? new ArrayList<>() : new ArrayList<>(e.getRetired());
            out.add(new RouteEntry(e.getKey(), e.getNaturalKeyGroup(), e.getKeyGroup(), e.getEpoch(), e.getMigration(),
                    e.getMovedAt(), e.getSplit(), retired));
        }
        return out;
    }

    /** max / mean of the loads; 1 when all are 0. */
    public static double imbalance(double[] loads) {
        double max = 0;
        double sum = 0;
        for (double v : loads) {
            max = Math.max(max, v);
            sum += v;
        }
        return sum <= 0 ? 1.0 : max / (sum / loads.length);
    }

}
