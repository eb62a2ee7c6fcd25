package io.keyshift.plan;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.avro.UnitForecast;
import io.keyshift.avro.UnitType;
import io.keyshift.config.PlanOptions;
import io.keyshift.forecast.ForecastModelKind;
import io.keyshift.forecast.LoadModel;
import io.keyshift.forecast.Models;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The planner with {@code keyshift.plan.shrinkage}: on keys that keep their rates it stops chasing the noise of
 * their counts, and it still follows a real shift.
 */
class PlannerShrinkageTest {
    private static final int MAX_P = 128;
    private static final int P = 4;
    private static final long W = 60_000;
    private static final int KEYS = 60;

    private static RepartitionPlanner planner(double shrinkage) {
        return new RepartitionPlanner(new RepartitionPlanner.Settings(MAX_P, P, W, W, 1, 3, 0.02, 0.1, 0.005, 16,
                4096, 0.0, RepartitionPlanner.Constraints.NONE, 0L, false, 0L, ValidationPolicy.ALL, true,
                PlanOptions.Cost.MEAN_LOAD, shrinkage, 1000));
    }

    /**
     * Forecasts as the forecaster makes them for a steady noisy series: simple exponential smoothing of the counts
     * (the forecaster's SES, alpha 0.2), flat over the horizon.
     */
    private static LoadForecast forecast(long end, Map<String, Integer> counts, Map<String, LoadModel> models) {
        List<UnitForecast> units = new ArrayList<>();
        for (Map.Entry<String, Integer> e : new java.util.TreeMap<>(counts).entrySet()) {
            LoadModel model = models.computeIfAbsent(e.getKey(),
                    k -> Models.create(ForecastModelKind.SES, 0));
            model.observe(e.getValue());
            List<Double> f = Collections.nCopies(5, model.forecast(1));
            units.add(UnitForecast.newBuilder().setUnitType(UnitType.HOT_KEY).setKey(e.getKey())
                    .setKeyGroup(KeyGroupRangeAssignment.assignToKeyGroup(e.getKey(), MAX_P))
                    .setObserved(e.getValue()).setForecast(f).setLower(f).setUpper(f).setModel("naive")
                    .setAnomaly(false).build());
        }
        return LoadForecast.newBuilder().setWindowStart(end - W).setWindowEnd(end).setHorizon(5).setTotalObserved(0)
                .setUnits(units).setAbsoluteErrorSum(0).setNaiveErrorSum(0).setSeasonalAbsoluteErrorSum(0)
                .setSeasonalNaiveErrorSum(0).setAnomalies(0).build();
    }

    /** Poisson(lambda) by counting exponential inter-arrival times (Knuth). */
    private static int poisson(Random r, double lambda) {
        double limit = Math.exp(-lambda);
        double product = r.nextDouble();
        int k = 0;
        while (product > limit) {
            product *= r.nextDouble();
            k++;
        }
        return k;
    }

    /** The subtask each key is routed to under {@code plan} once its migrations have switched. */
    private static Map<String, Integer> routes(RoutingPlan plan) {
        Map<String, Integer> out = new HashMap<>();
        for (RouteEntry e : plan.getEntries()) {
            int kg = e.getMigration() != null ? e.getMigration().getToKeyGroup() : e.getKeyGroup();
            out.put(e.getKey().toString(), KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(MAX_P, P, kg));
        }
        return out;
    }

    private static int subtask(String key, Map<String, Integer> routes) {
        return routes.getOrDefault(key, KeyGroupRangeAssignment.assignKeyToParallelOperator(key, MAX_P, P));
    }

    /**
     * Replays {@code windows} windows, the rate of {@code shifted} ten times higher from window {@code shiftAt};
     * returns {migrations started, mean imbalance of the realized loads after window 20} and adds to
     * {@code shiftedMovedAt} each window from ten before the shift on whose plan starts a migration off the subtask
     * that carries {@code shifted}.
     */
    private static double[] run(double shrinkage, double[] rates, int windows, int shiftAt, String shifted,
                                List<Integer> shiftedMovedAt) {
        RepartitionPlanner planner = planner(shrinkage);
        Random r = new Random(42);
        Map<String, Integer> routes = new HashMap<>();
        Map<String, LoadModel> models = new HashMap<>();
        int migrations = 0;
        double imbalance = 0;
        int measured = 0;
        for (int w = 1; w <= windows; w++) {
            Map<String, Integer> counts = new HashMap<>();
            double[] load = new double[P];
            for (int k = 0; k < rates.length; k++) {
                String key = "key-" + k;
                double rate = w >= shiftAt && key.equals(shifted) ? 10 * rates[k] : rates[k];
                int c = poisson(r, rate);
                counts.put(key, c);
                load[subtask(key, routes)] += c;
            }
            if (w > 20) {
                imbalance += RepartitionPlanner.imbalance(load);
                measured++;
            }
            RoutingPlan plan = planner.onForecast(forecast(w * W, counts, models));
            migrations += plan.getMigrationsStarted();
            int shiftedSubtask = subtask(shifted, routes);
            // a migration this plan starts for the shifted key, or off the subtask that carries it
            boolean forTheShift = plan.getEntries().stream().map(RouteEntry::getMigration)
                    .anyMatch(m -> m != null && m.getPlannedInVersion() == plan.getVersion()
                            && KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(MAX_P, P, m.getFromKeyGroup())
                            == shiftedSubtask);
            if (w >= shiftAt - 10 && forTheShift) {
                shiftedMovedAt.add(w);
            }
            routes = routes(plan);
        }
        return new double[] {migrations, imbalance / measured};
    }

    private static double[] rates() {
        double[] rates = new double[KEYS];
        for (int k = 0; k < KEYS; k++) {
            rates[k] = 0.5 + 0.1 * k; // 0.5 .. 6.4 records per window, steady (a timetable's few events an hour)
        }
        return rates;
    }

    @Test
    void steadyRatesStopChasingNoiseAtTheSameBalance() {
        // 60 keys of 0.5 .. 6.4 records per window: the smoothed forecasts still wander with the counts' noise
        double[] without = run(0, rates(), 300, Integer.MAX_VALUE, "", new ArrayList<>());
        double[] with = run(1.0, rates(), 300, Integer.MAX_VALUE, "", new ArrayList<>());
        System.out.printf("steady rates, 300 windows: without shrinkage %.0f migrations, imbalance %.3f; "
                + "with %.0f, %.3f%n", without[0], without[1], with[0], with[1]);
        assertThat(with[0]).isLessThan(without[0] / 3);
        assertThat(with[1]).isLessThanOrEqualTo(without[1] + 0.01);
    }

    @Test
    void aRealShiftIsStillFollowed() {
        // the busiest key's rate rises tenfold at window 150: the planner starts migrations for it at once
        List<Integer> withMoves = new ArrayList<>();
        List<Integer> withoutMoves = new ArrayList<>();
        String busiest = "key-" + (KEYS - 1);
        run(0, rates(), 160, 150, busiest, withoutMoves);
        double[] with = run(1.0, rates(), 160, 150, busiest, withMoves);
        System.out.printf("%s x 10 from window 150: migrations start without shrinkage in windows %s, with in %s%n",
                busiest, withoutMoves, withMoves);
        assertThat(withoutMoves).isNotEmpty();
        assertThat(withMoves).isNotEmpty();
        // not a move that happened to fall in window 150: none off the key's subtask in the ten windows before it
        assertThat(withMoves.get(0)).isEqualTo(150);
    }
}
