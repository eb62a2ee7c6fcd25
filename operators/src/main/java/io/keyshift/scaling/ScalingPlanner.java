package io.keyshift.scaling;

import io.keyshift.avro.ScalingDecision;
import io.keyshift.avro.ScalingKind;
import io.keyshift.avro.ScalingPolicy;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Decides the job's parallelism, window by window, from load against a fixed capacity per subtask.
 *
 * <p><b>The busiest subtask at parallelism p</b> is estimated as {@code max(load × κ / p, largestUnit)} (a key that is
 * not split stays on one subtask), its utilization as that over the capacity. κ is the imbalance that rebalancing
 * actually achieved: the load-weighted ratio of the busiest subtask's measured records (shadow copies included) to
 * the mean, {@code Σ busiest·p / Σ total}, over the last {@value #IMBALANCE_WINDOWS} measured windows (1 until one
 * is measured). It is measured at the parallelism in force and assumed at the others.
 *
 * <p><b>PREDICTIVE</b> acts on the forecast totals for the next windows (+1..+H), before the load arrives: it scales
 * out when the next window's forecast would put the busiest subtask above the critical utilization, or when the last
 * window's measured busiest subtask was above its capacity, or above the critical utilization (measured at the
 * parallelism in force) while the forecast total does not bring it back below (measured busiest &times; next
 * forecast total / observed total): an overload the forecast missed is not left running, and a critical window
 * that reactive would act on is acted on too unless the forecast expects the load to fall. Where the measured
 * window is one of those critical ones it sizes for the larger of forecast and measured load, otherwise (a scale-out
 * the forecast alone calls for) for the forecast. It scales in when
 * the quiet run reaches {@code scaleInWindows}: the leading forecast windows predicted below the scale-in utilization,
 * plus the windows in a row measured below it if the forecast stays quiet over the whole horizon or is quiet for
 * {@code scaleInWindows} windows on its own (a quiet spell the forecast sees ending sooner does not count the past). Either way the new parallelism must carry the largest forecast
 * of the windows up to the next possible decision (+1..+cooldown+1, within the horizon) at or below the high
 * utilization. <b>REACTIVE</b> reads only what a metrics-based autoscaler sees: it scales out when the last window's
 * measured busiest subtask was above the critical utilization, scales in after {@code scaleInWindows} measured
 * windows below the scale-in utilization, and sizes for the last window's total.
 *
 * <p>Among parallelisms, those that divide the key groups (equal key-group ranges per subtask) are preferred: the
 * smallest divisor that meets the target is taken when it costs at most 25% more subtasks than the smallest
 * parallelism that meets it; if none meets it (one key keeps every parallelism above), the smallest parallelism with
 * the lowest utilization, and no scale-out if that is no lower. No decision within {@code cooldownWindows} windows of
 * the last one. The thresholds follow the planning issue's utilization bands (high 0.75, critical 0.90, scale-in
 * 0.60 by default); the structure (act on a forecast horizon, cool down, prefer even key-group ranges) is that of
 * forecast-driven autoscalers such as Google's Autopilot (Rzadca et al., EuroSys 2020) and Flink's own autoscaler
 * (FLIP-271), which sizes from measured rates instead.
 */
public final class ScalingPlanner implements Serializable {
    private static final long serialVersionUID = 2L;

    /** Windows over which the achieved imbalance κ is measured. */
    public static final int IMBALANCE_WINDOWS = 8;

    /**
     * Settings; utilizations are shares of the capacity. {@code windowMillis} (ms, > 0 with a season) and
     * {@code seasonWindows} (windows, 0 = none) let PREDICTIVE read the imbalance of the same window a season ago.
     */
    public record Settings(double capacity, double high, double critical, double scaleIn, int minParallelism,
                           int maxParallelism, int keyGroups, int cooldownWindows, int scaleInWindows,
                           long windowMillis, int seasonWindows)
            implements Serializable {
        public Settings {
            if (!(capacity > 0) || !(0 < scaleIn && scaleIn <= high && high <= critical) || minParallelism < 1
                    || maxParallelism < minParallelism || keyGroups < maxParallelism || cooldownWindows < 0
                    || scaleInWindows < 1 || windowMillis < 0 || seasonWindows < 0
                    || (seasonWindows > 0 && windowMillis == 0)) {
                throw new IllegalArgumentException("scaling: capacity > 0, 0 < scale-in <= high <= critical, "
                        + "1 <= min <= max parallelism <= key groups, cooldown >= 0, scale-in windows >= 1, "
                        + "window > 0 ms for a season >= 1 window required");
            }
        }

        /** Settings without a season: κ is the recent one only. */
        public Settings(double capacity, double high, double critical, double scaleIn, int minParallelism,
                        int maxParallelism, int keyGroups, int cooldownWindows, int scaleInWindows) {
            this(capacity, high, critical, scaleIn, minParallelism, maxParallelism, keyGroups, cooldownWindows,
                    scaleInWindows, 0, 0);
        }
    }

    /**
     * What one closed window tells the planners.
     *
     * @param windowEnd        end of the window, epoch ms (exclusive)
     * @param observedTotal    the window's records (every key, estimated from the samples), >= 0
     * @param measuredBusiest  records the busiest subtask processed in the window (shadow and partial copies
     *                         included), or a negative number if not measured
     * @param measuredParallelism subtasks the window ran on (what the busiest subtask is compared with), or 0 if
     *                         unknown: then the planner's own parallelism is assumed
     * @param largestObserved  the heaviest tracked key's records in the window
     * @param forecastTotals   forecast total records for windows +1..+H (H >= 1)
     * @param largestForecast  the heaviest tracked key's largest forecast over the horizon
     */
    public record Window(long windowEnd, double observedTotal, double measuredBusiest, int measuredParallelism,
                         double largestObserved, double[] forecastTotals, double largestForecast) {
        public Window {
            if (forecastTotals.length == 0) {
                throw new IllegalArgumentException("a window needs a forecast horizon of at least 1");
            }
        }

        /** A window with only totals: the forecast is flat at {@code load}, nothing measured per subtask. */
        public static Window ofLoad(long windowEnd, double load, double largestUnit) {
            return new Window(windowEnd, load, -1, 0, largestUnit, new double[] {load}, largestUnit);
        }
    }

    private Settings s;
    private final ScalingPolicy policy;
    private int parallelism;
    private int windowsSinceDecision;
    /**
     * {@link #windowsSinceDecision} before the first decision, which no cooldown holds (the count saturates below it;
     * it started at MAX_VALUE / 2, and a cooldown from there on, which the option takes, held even the first one).
     */
    private static final int NO_DECISION = Integer.MAX_VALUE;
    private int windowsBelow;
    private final double[] busiestTimesP = new double[IMBALANCE_WINDOWS];
    private final double[] totals = new double[IMBALANCE_WINDOWS];
    private int measured;
    /** κ of each window of the last season (by window index modulo the season), and which window it belongs to. */
    private double[] seasonalKappa;
    private long[] seasonalWindowEnd;
    private int[] seasonalParallelism;

    public ScalingPlanner(Settings s, ScalingPolicy policy, int initialParallelism) {
        this.s = s;
        this.policy = policy;
        this.parallelism = Math.max(s.minParallelism(), Math.min(s.maxParallelism(), initialParallelism));
        this.windowsSinceDecision = NO_DECISION;
    }

    /** This planner between windows, as operator state (Avro, {@code schemas/ScalingState.avsc}). */
    public io.keyshift.avro.ScalingPlannerState toState() {
        return io.keyshift.avro.ScalingPlannerState.newBuilder()
                .setParallelism(parallelism)
                .setWindowsSinceDecision(windowsSinceDecision)
                .setWindowsBelow(windowsBelow)
                .setMeasured(measured)
                .setSeasonWindowMillis(seasonalKappa == null ? 0 : s.windowMillis())
                .setBusiestTimesP(Arrays.stream(busiestTimesP).boxed().toList())
                .setTotals(Arrays.stream(totals).boxed().toList())
                .setSeasonalKappa(seasonalKappa == null ? null : Arrays.stream(seasonalKappa).boxed().toList())
                .setSeasonalWindowEnd(seasonalWindowEnd == null ? null
                        : Arrays.stream(seasonalWindowEnd).boxed().toList())
                .setSeasonalParallelism(seasonalParallelism == null ? null
                        : Arrays.stream(seasonalParallelism).boxed().toList())
                .build();
    }

    /**
     * A planner restored from {@code state} ({@link #toState}), deciding with {@code s} (the restored job's options):
     * the parallelism in force is clamped to its bounds; the season's history is kept if it was measured in the same
     * window length and season.
     *
     * @throws IllegalArgumentException if the state's measurement ring is not {@value #IMBALANCE_WINDOWS} long or its
     *                                  season arrays differ in length
     */
    public static ScalingPlanner fromState(Settings s, ScalingPolicy policy, io.keyshift.avro.ScalingPlannerState state) {
        if (state.getBusiestTimesP().size() != IMBALANCE_WINDOWS || state.getTotals().size() != IMBALANCE_WINDOWS) {
            throw new IllegalArgumentException("scaling state: a measurement ring of " + IMBALANCE_WINDOWS
                    + " windows expected, was " + state.getBusiestTimesP().size());
        }
        ScalingPlanner p = new ScalingPlanner(s, policy, state.getParallelism());
        p.parallelism = state.getParallelism();
        p.windowsSinceDecision = state.getWindowsSinceDecision();
        p.windowsBelow = state.getWindowsBelow();
        p.measured = state.getMeasured();
        for (int i = 0; i < IMBALANCE_WINDOWS; i++) {
            p.busiestTimesP[i] = state.getBusiestTimesP().get(i);
            p.totals[i] = state.getTotals().get(i);
        }
        // the season's history, if it was measured in the windows and season of the restored job
        if (state.getSeasonalKappa() != null && state.getSeasonalWindowEnd() != null
                && state.getSeasonalParallelism() != null && state.getSeasonWindowMillis() == s.windowMillis()
                && state.getSeasonalKappa().size() == s.seasonWindows()) {
            int n = state.getSeasonalKappa().size();
            if (state.getSeasonalWindowEnd().size() != n || state.getSeasonalParallelism().size() != n) {
                throw new IllegalArgumentException("scaling state: season arrays of different lengths");
            }
            p.seasonalKappa = state.getSeasonalKappa().stream().mapToDouble(Double::doubleValue).toArray();
            p.seasonalWindowEnd = state.getSeasonalWindowEnd().stream().mapToLong(Long::longValue).toArray();
            p.seasonalParallelism = state.getSeasonalParallelism().stream().mapToInt(Integer::intValue).toArray();
        }
        p.syncParallelism(p.parallelism);
        return p;
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

    /**
     * Decides with {@code next} from now on (the job was restored with changed {@code keyshift.scaling.*} or
     * utilization options): the parallelism in force is clamped to its bounds; the cooldown, the scale-in count and
     * the measured imbalance carry on; the season's history is kept only if the window and season are unchanged.
     */
    public void reconfigure(Settings next) {
        if (next.windowMillis() != s.windowMillis() || next.seasonWindows() != s.seasonWindows()) {
            seasonalKappa = null;
            seasonalWindowEnd = null;
            seasonalParallelism = null;
        }
        s = next;
        syncParallelism(parallelism);
    }

    /** The settings decisions are made with. */
    public Settings settings() {
        return s;
    }

    /** κ: the measured busiest subtask over the mean subtask load, load-weighted over the last windows (>= 1). */
    public double imbalance() {
        double b = 0;
        double t = 0;
        for (int i = 0; i < Math.min(measured, IMBALANCE_WINDOWS); i++) {
            b += busiestTimesP[i];
            t += totals[i];
        }
        return t > 0 ? Math.max(1.0, b / t) : 1.0;
    }

    /** Estimated utilization of the busiest subtask at parallelism {@code p}: max(load × κ / p, largestUnit) / capacity. */
    public double utilization(double load, double largestUnit, int p) {
        return utilization(load, largestUnit, p, imbalance());
    }

    private double utilization(double load, double largestUnit, int p, double kappa) {
        return Math.max(load * kappa / p, largestUnit) / s.capacity();
    }

    private int seasonSlot(long windowEnd) {
        return (int) Math.floorMod(Math.floorDiv(windowEnd, s.windowMillis()), (long) s.seasonWindows());
    }

    /**
     * κ expected for the window that ends at {@code windowEnd}: the larger of the recent κ ({@link #imbalance()}) and
     * the κ measured in the same window one season earlier, if it was measured (seasonal naive, Hyndman and
     * Athanasopoulos, "Forecasting: Principles and Practice", 3rd ed., 5.2). The imbalance rebalancing leaves follows
     * the day like the load does: a hot set that moves at the same hour every day makes the same hour's κ spike.
     * The κ of a season ago counts only if it was measured at no more subtasks than the parallelism in force: with
     * more subtasks each holds fewer keys and the same load splits less evenly, so a κ measured there overstates it.
     */
    public double imbalanceFor(long windowEnd) {
        double recent = imbalance();
        if (seasonalKappa == null) {
            return recent;
        }
        int j = seasonSlot(windowEnd);
        long seasonAgo = windowEnd - s.seasonWindows() * s.windowMillis();
        return seasonalWindowEnd[j] == seasonAgo && seasonalParallelism[j] <= parallelism
                ? Math.max(recent, seasonalKappa[j]) : recent;
    }

    /** One closed window: returns a decision, or null to keep the parallelism. */
    public ScalingDecision onWindow(Window w) {
        return onWindow(w, 0);
    }

    /**
     * One closed window under a control command: with {@code forced >= 1} (scale N) the decision goes to N, clamped
     * to [minParallelism, maxParallelism], once, and the policy decides nothing else until the command is released
     * (forced = 0, unscale); the measurements (imbalance, quiet windows) go on meanwhile.
     */
    public ScalingDecision onWindow(Window w, int forced) {
        if (forced < 1) {
            return decideOn(w);
        }
        observe(w);
        int target = Math.max(s.minParallelism(), Math.min(s.maxParallelism(), forced));
        if (target == parallelism) {
            return null;
        }
        double load = policy == ScalingPolicy.PREDICTIVE ? w.forecastTotals()[0] : w.observedTotal();
        return decide(w, target > parallelism ? ScalingKind.SCALE_OUT : ScalingKind.SCALE_IN, target, load,
                "control: scale " + forced + (target != forced ? " (clamped to keyshift.scaling.min/max-parallelism: "
                        + target + ")" : "") + "; the scaling policy decides again after unscale", imbalance());
    }

    private ScalingDecision decideOn(Window w) {
        double measuredNow = observe(w);
        return policy == ScalingPolicy.PREDICTIVE ? predictive(w, measuredNow) : reactive(w, measuredNow);
    }

    /** Updates the measurements with the window; returns the busiest subtask's utilization now. */
    private double observe(Window w) {
        if (windowsSinceDecision < Integer.MAX_VALUE - 1) {
            windowsSinceDecision++;
        }
        if (w.measuredBusiest() >= 0 && w.observedTotal() > 0) {
            int i = measured++ % IMBALANCE_WINDOWS;
            // at most p times the mean: the busiest subtask cannot carry more than everything
            int p = w.measuredParallelism() > 0 ? w.measuredParallelism() : parallelism;
            busiestTimesP[i] = Math.min(w.measuredBusiest(), w.observedTotal()) * p;
            totals[i] = w.observedTotal();
            if (s.seasonWindows() > 0) {
                if (seasonalKappa == null) {
                    seasonalKappa = new double[s.seasonWindows()];
                    seasonalWindowEnd = new long[s.seasonWindows()];
                    seasonalParallelism = new int[s.seasonWindows()];
                    Arrays.fill(seasonalWindowEnd, Long.MIN_VALUE);
                }
                int j = seasonSlot(w.windowEnd());
                seasonalKappa[j] = busiestTimesP[i] / totals[i];
                seasonalWindowEnd[j] = w.windowEnd();
                seasonalParallelism[j] = p;
            }
        }
        double measuredNow = w.measuredBusiest() >= 0 ? w.measuredBusiest() / s.capacity()
                : utilization(w.observedTotal(), w.largestObserved(), parallelism);
        // at the parallelism in force: windows that ran before a scale in took effect were quieter than the decided
        // parallelism will be, and counted as quiet they let the next scale in come before scale-in-windows at it
        boolean quietNow = atParallelismInForce(w, measuredNow) < s.scaleIn();
        windowsBelow = quietNow ? windowsBelow + 1 : 0;
        return measuredNow;
    }

    /** Whether the cooldown after the last decision holds this window's (never before the first decision). */
    private boolean cooling() {
        return windowsSinceDecision != NO_DECISION && windowsSinceDecision <= s.cooldownWindows();
    }

    /** Convenience for a window known by its totals only (see {@link Window#ofLoad}). */
    public ScalingDecision onWindow(long windowEnd, double load, double largestUnit) {
        return onWindow(Window.ofLoad(windowEnd, load, largestUnit));
    }

    private ScalingDecision predictive(Window w, double measuredNow) {
        if (cooling()) {
            return null;
        }
        double[] f = w.forecastTotals();
        double largest = w.largestForecast();
        // the decided parallelism holds at least until the next decision can be made: size for those windows
        double span = Arrays.stream(f, 0, (int) Math.min(f.length, s.cooldownWindows() + 1L)).max().orElse(f[0]);
        // the next window's busiest subtask: with the κ expected for that window (recent, or a season ago if higher)
        double kappa = imbalanceFor(w.windowEnd() + s.windowMillis());
        double next = utilization(f[0], largest, parallelism, kappa);
        int quietAhead = 0;
        while (quietAhead < f.length && utilization(f[quietAhead], largest, parallelism, kappa) < s.scaleIn()) {
            quietAhead++;
        }
        int quietRun = quietAhead == f.length || quietAhead >= s.scaleInWindows()
                ? windowsBelow + quietAhead : quietAhead;
        // a measured overload (above the capacity itself) that the forecast missed is acted on too: the critical
        // utilization is the forecast's margin, a window past the capacity says the forecast was wrong
        // and so is a window measured above the critical utilization at the parallelism in force, unless the
        // forecast sees the load fall below it: the last window's busiest subtask scaled by the forecast total over
        // the observed one
        boolean measuredHere = w.measuredParallelism() == 0 || w.measuredParallelism() == parallelism;
        // an overload measured at another parallelism (a window that ran before the decided one took effect) is
        // scaled to the parallelism in force: taken as it was, a window still at the old parallelism after a scale
        // out (a rescale slower than the cooldown) scaled out again, and again, up to the maximum
        double overload = atParallelismInForce(w, measuredNow);
        boolean measuredCritical = overload > 1.0 || (measuredHere && measuredNow > s.critical()
                && w.observedTotal() > 0 && measuredNow * f[0] / w.observedTotal() > s.critical());
        boolean critical = next > s.critical() || measuredCritical;
        if (critical && parallelism < s.maxParallelism()) {
            if (measuredCritical) {
                // the measured load is critical (whether or not the forecast is): size for the larger of forecast
                // and measured load, so that a forecast below what is already there does not under-size the job
                span = Math.max(span, w.observedTotal());
                largest = Math.max(largest, w.largestObserved());
            }
            int target = smallestMeeting(span, largest, parallelism + 1, s.maxParallelism(), kappa);
            if (utilization(span, largest, target, kappa) < utilization(span, largest, parallelism, kappa)) {
                return decide(w, ScalingKind.SCALE_OUT, target, span, next > s.critical()
                        ? String.format("next window forecast to put the busiest subtask at %.2f of capacity > "
                                + "critical %.2f (imbalance %.2f)", next, s.critical(), kappa)
                        : overload > 1.0 ? String.format("busiest subtask measured at %.2f of capacity "
                                + "(overloaded)%s, above the forecast's %.2f", measuredNow, measuredHere ? ""
                                : String.format(" at parallelism %d, %.2f at %d", w.measuredParallelism(), overload,
                                        parallelism), next)
                        : String.format("busiest subtask measured at %.2f of capacity > critical %.2f, load not "
                                + "forecast to fall below it (forecast %.2f at the usual imbalance)", measuredNow,
                                s.critical(), next), kappa, largest);
            }
        } else if (!critical && overload <= s.critical() && quietRun >= s.scaleInWindows()
                && parallelism > s.minParallelism()) {
            // never from a critical window: at the maximum parallelism it cannot scale out, and a forecast that
            // missed the overload is no ground to take subtasks away; nor from a window measured above the critical
            // utilization whose load the forecast sees fall: not critical enough to scale out for, but the
            // measurement, not the forecast, is what the job is running at now
            int target = smallestMeeting(span, largest, s.minParallelism(), parallelism - 1, kappa);
            if (target < parallelism && utilization(span, largest, target, kappa) <= s.high()) {
                return decide(w, ScalingKind.SCALE_IN, target, span, String.format(
                        "every subtask below %.2f of capacity for %d windows (%d measured, %d forecast)",
                        s.scaleIn(), quietRun, quietRun - quietAhead, quietAhead), kappa, largest);
            }
        }
        return null;
    }

    /**
     * The busiest subtask's measured utilization {@code measuredNow} of window {@code w} at the parallelism in force:
     * as measured, or for a window that ran at another parallelism (before the decided one took effect) scaled by
     * its parallelism over the one in force.
     */
    private double atParallelismInForce(Window w, double measuredNow) {
        return w.measuredParallelism() == 0 || w.measuredParallelism() == parallelism ? measuredNow
                : measuredNow * w.measuredParallelism() / parallelism;
    }

    private ScalingDecision reactive(Window w, double measuredNow) {
        if (cooling()) {
            return null;
        }
        double load = w.observedTotal();
        double largest = w.largestObserved();
        // a window that ran at another parallelism (before the decided one took effect), scaled to the one in force
        double measured = atParallelismInForce(w, measuredNow);
        if (measured > s.critical() && parallelism < s.maxParallelism()) {
            int target = smallestMeeting(load, largest, parallelism + 1, s.maxParallelism(), imbalance());
            if (utilization(load, largest, target) < measured) {
                return decide(w, ScalingKind.SCALE_OUT, target, load, String.format(
                        "busiest subtask measured at %.2f of capacity > critical %.2f", measured, s.critical()),
                        imbalance());
            }
        } else if (windowsBelow >= s.scaleInWindows() && parallelism > s.minParallelism()) {
            int target = smallestMeeting(load, largest, s.minParallelism(), parallelism - 1, imbalance());
            if (target < parallelism && utilization(load, largest, target) <= s.high()) {
                return decide(w, ScalingKind.SCALE_IN, target, load, String.format(
                        "every subtask below %.2f of capacity for %d windows", s.scaleIn(), windowsBelow), imbalance());
            }
        }
        return null;
    }

    private ScalingDecision decide(Window w, ScalingKind kind, int target, double load, String reason, double kappa) {
        return decide(w, kind, target, load, reason, kappa,
                policy == ScalingPolicy.PREDICTIVE ? w.largestForecast() : w.largestObserved());
    }

    /** A decision sized for {@code load} with {@code largest} the largest unit's load (its utilizations use both). */
    private ScalingDecision decide(Window w, ScalingKind kind, int target, double load, String reason, double kappa,
                                   double largest) {
        ScalingDecision d = ScalingDecision.newBuilder()
                .setWindowEnd(w.windowEnd()).setPolicy(policy).setKind(kind)
                .setFromParallelism(parallelism).setToParallelism(target)
                .setCapacity(s.capacity()).setLoad(load).setImbalance(kappa)
                .setUtilizationBefore(utilization(load, largest, parallelism, kappa))
                .setUtilizationAfter(utilization(load, largest, target, kappa))
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
    int smallestMeeting(double load, double largestUnit, int from, int to, double kappa) {
        int plain = -1;
        int lowest = to;
        for (int p = to; p >= from; p--) {
            if (utilization(load, largestUnit, p, kappa) <= utilization(load, largestUnit, lowest, kappa)) {
                lowest = p;
            }
        }
        for (int p = from; p <= to; p++) {
            if (utilization(load, largestUnit, p, kappa) <= s.high()) {
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
