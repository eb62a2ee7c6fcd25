package io.keyshift.plan;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.Migration;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.avro.UnitForecast;
import io.keyshift.avro.UnitType;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class RepartitionPlannerTest {
    private static final int MAX_P = 128;
    private static final int P = 4;
    private static final long W = 60_000;

    private static RepartitionPlanner planner(double threshold) {
        return new RepartitionPlanner(new RepartitionPlanner.Settings(MAX_P, P, W, W, 1, 2, threshold, 0.1, 0.001, 8, 100));
    }

    private static int subtask(String key) {
        return KeyGroupRangeAssignment.assignKeyToParallelOperator(key, MAX_P, P);
    }

    /** Keys with a constant forecast load, all in window ending at {@code end}. */
    private static LoadForecast forecast(long end, Map<String, Double> loads) {
        List<UnitForecast> units = new ArrayList<>();
        for (Map.Entry<String, Double> e : loads.entrySet()) {
            List<Double> f = Collections.nCopies(3, e.getValue());
            units.add(UnitForecast.newBuilder().setUnitType(UnitType.HOT_KEY).setKey(e.getKey())
                    .setKeyGroup(KeyGroupRangeAssignment.assignToKeyGroup(e.getKey(), MAX_P)).setObserved(e.getValue())
                    .setForecast(f).setLower(f).setUpper(f).setModel("NAIVE").setAnomaly(false).build());
        }
        return LoadForecast.newBuilder().setWindowStart(end - W).setWindowEnd(end).setHorizon(3)
                .setTotalObserved(0).setUnits(units).setAbsoluteErrorSum(0).setNaiveErrorSum(0)
                .setSeasonalAbsoluteErrorSum(0).setSeasonalNaiveErrorSum(0).setAnomalies(0).build();
    }

    /**
     * A keyed process function's keys back home keep their entries (the epoch of their stay), which no return can
     * shorten: beyond {@code max-routing-entries} of them, a hot moved key stays where the plans put it (every plan
     * sent such keys home, undoing the balance, once the bound was reached).
     */
    @Test
    void keysBackHomeUnderAnEpochDoNotSendHotMovedKeysHome() {
        List<RouteEntry> returned = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String key = "returned-" + i;
            int natural = KeyGroupRangeAssignment.assignToKeyGroup(key, MAX_P);
            returned.add(RouteEntry.newBuilder().setKey(key).setNaturalKeyGroup(natural).setKeyGroup(natural)
                    .setEpoch(2 + i).setMigration(null).build());
        }
        aHotMovedKeyStaysBeside(returned, true);
    }

    /** The same for split keys, whose entries no plan removes either (splits never end). */
    @Test
    void splitKeysDoNotSendHotMovedKeysHome() {
        List<RouteEntry> split = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String key = "split-" + i;
            int natural = KeyGroupRangeAssignment.assignToKeyGroup(key, MAX_P);
            split.add(RouteEntry.newBuilder().setKey(key).setNaturalKeyGroup(natural).setKeyGroup(natural)
                    .setMigration(null).setSplit(io.keyshift.avro.Split.newBuilder()
                            .setKeyGroups(List.of(natural, (natural + 1) % MAX_P)).setFrom(0).setPlannedInVersion(1)
                            .setPredictedLoad(1).setPreRollFrom(0).build()).build());
        }
        aHotMovedKeyStaysBeside(split, false);
    }

    /**
     * The same for keys on their way home (returns in flight until a state horizon after their switch-over): each
     * counted towards the bound, and every plan while they were in flight sent one more hot moved key home.
     */
    @Test
    void keysOnTheirWayHomeDoNotSendHotMovedKeysHome() {
        List<RouteEntry> returning = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String key = "returning-" + i;
            int natural = KeyGroupRangeAssignment.assignToKeyGroup(key, MAX_P);
            int from = (natural + 1) % MAX_P;
            returning.add(RouteEntry.newBuilder().setKey(key).setNaturalKeyGroup(natural).setKeyGroup(from)
                    .setMigration(io.keyshift.route.Plans.migration(from, natural, W, 3 * W, 1)).build());
        }
        // a budget the greedy's moves leave room in: the returns in flight take 6 of it
        aHotMovedKeyStaysBeside(returning, false, 64);
    }

    /**
     * A hot key moved off the crowded subtask 0 stays where it is beside {@code others} (6 entries no plan removes),
     * with max-routing-entries 4.
     */
    private static void aHotMovedKeyStaysBeside(List<RouteEntry> others, boolean keepEpochs) {
        aHotMovedKeyStaysBeside(others, keepEpochs, 8);
    }

    /** As above, with {@code maxConcurrentMigrations}. */
    private static void aHotMovedKeyStaysBeside(List<RouteEntry> others, boolean keepEpochs,
                                                int maxConcurrentMigrations) {
        io.keyshift.config.AvroTrust.install();
        Map<String, Double> loads = skewed();
        String hot = loads.keySet().stream().filter(k -> k.startsWith("hot-")).findFirst().orElseThrow();
        int naturalHot = KeyGroupRangeAssignment.assignToKeyGroup(hot, MAX_P);
        // a key group of subtask 1: the hot key was moved off the crowded subtask 0
        int away = firstKeyGroupOf(1);
        List<RouteEntry> entries = new ArrayList<>();
        entries.add(RouteEntry.newBuilder().setKey(hot).setNaturalKeyGroup(naturalHot).setKeyGroup(away).setEpoch(1)
                .setMigration(null).build());
        entries.addAll(others);
        RepartitionPlanner planner = new RepartitionPlanner(new RepartitionPlanner.Settings(MAX_P, P, W, W, 1, 2,
                0.02, 0.1, 0.001, maxConcurrentMigrations, 4, 0.0, RepartitionPlanner.Constraints.NONE, 0L,
                keepEpochs));
        planner.restore(RoutingPlan.newBuilder().setVersion(1).setValidUntil(2 * W).setBasedOnWindowEnd(W)
                .setMaxParallelism(MAX_P).setParallelism(P).setEntries(entries).setPredictedImbalanceBefore(1)
                .setPredictedImbalanceAfter(1).setMigrationsStarted(0).setMigrationsCompleted(0).build());
        RoutingPlan next = planner.onForecast(forecast(2 * W, loads));
        RouteEntry moved = next.getEntries().stream().filter(e -> e.getKey().toString().equals(hot)).findFirst()
                .orElseThrow();
        assertThat(moved.getMigration()).as("the hot key is not sent home").isNull();
        assertThat(moved.getKeyGroup()).isEqualTo(away);
        java.util.Set<String> kept = others.stream().map(e -> e.getKey().toString())
                .collect(java.util.stream.Collectors.toSet());
        assertThat(next.getEntries()).filteredOn(e -> kept.contains(e.getKey().toString())).hasSize(others.size());
    }

    /** The first key group that subtask {@code subtask} of {@code P} owns. */
    private static int firstKeyGroupOf(int subtask) {
        int g = 0;
        while (KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(MAX_P, P, g) != subtask) {
            g++;
        }
        return g;
    }

    /** Max / mean of the subtasks' loads with every key where {@code plan} routes it (a migration at its target). */
    private static double routedImbalance(RoutingPlan plan, Map<String, Double> loads) {
        Map<String, Integer> at = new TreeMap<>();
        for (RouteEntry e : plan.getEntries()) {
            at.put(e.getKey().toString(), e.getMigration() != null ? e.getMigration().getToKeyGroup() : e.getKeyGroup());
        }
        double[] load = new double[P];
        loads.forEach((k, l) -> load[KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(MAX_P, P,
                at.getOrDefault(k, KeyGroupRangeAssignment.assignToKeyGroup(k, MAX_P)))] += l);
        return RepartitionPlanner.imbalance(load);
    }

    /** A planner restored from plan 3, in which {@code key} is home, brought back by a move at {@code movedAt}. */
    private static RepartitionPlanner backHome(String key, int natural, long movedAt) {
        RepartitionPlanner planner = new RepartitionPlanner(new RepartitionPlanner.Settings(MAX_P, P, W, W, 1, 2,
                0.02, 0.1, 0.001, 8, 4, 0.0, RepartitionPlanner.Constraints.NONE, 0L, true));
        planner.restore(RoutingPlan.newBuilder().setVersion(3).setValidUntil(2 * W).setBasedOnWindowEnd(W)
                .setMaxParallelism(MAX_P).setParallelism(P).setEntries(new ArrayList<>(List.of(RouteEntry.newBuilder()
                        .setKey(key).setNaturalKeyGroup(natural).setKeyGroup(natural).setEpoch(3).setMigration(null)
                        .setMovedAt(movedAt).build())))
                .setPredictedImbalanceBefore(1).setPredictedImbalanceAfter(1).setMigrationsStarted(0)
                .setMigrationsCompleted(0).build());
        return planner;
    }

    /**
     * A revert's own shadow phase (a correctness shadow: windows that reach across the switch-over) is checked too; a
     * mismatch there sent the key back to the side the first check had distrusted, and on, every few windows.
     */
    @Test
    void aMismatchOfARevertsOwnShadowPhaseDoesNotRevertIt() {
        io.keyshift.config.AvroTrust.install();
        Map<String, Double> loads = skewed();
        String hot = loads.keySet().stream().filter(k -> k.startsWith("hot-")).findFirst().orElseThrow();
        int naturalHot = KeyGroupRangeAssignment.assignToKeyGroup(hot, MAX_P);
        int away = firstKeyGroupOf(1);
        long revertedAt = W / 2;
        for (boolean held : new boolean[] {true, false}) {
            // the hot key is back home from away: a revert started at revertedAt, and has switched over
            RepartitionPlanner planner = backHome(hot, naturalHot, revertedAt);
            // the check of a window of the revert's shadow phase failed: primary away, shadow home
            RepartitionPlanner.Control again = new RepartitionPlanner.Control(false, java.util.Set.of(), null,
                    Map.of(hot, new int[] {away, naturalHot}), Map.of(hot, revertedAt),
                    held ? java.util.Set.of(hot) : java.util.Set.of());
            RoutingPlan next = planner.onForecast(forecast(2 * W, loads), again);
            RouteEntry e = next.getEntries().stream().filter(x -> x.getKey().toString().equals(hot)).findFirst()
                    .orElseThrow();
            if (held) {
                assertThat(e.getMigration()).as("a revert is not reverted").isNull();
                assertThat(e.getKeyGroup()).isEqualTo(naturalHot);
                assertThat(planner.revertsResolved()).contains(hot);
                assertThat(planner.revertsStarted()).doesNotContain(hot);
            } else {
                // not held (not sent here by a revert): the mismatch is the planner's move's, and reverts it
                assertThat(e.getMigration()).isNotNull();
                assertThat(e.getMigration().getToKeyGroup()).isEqualTo(away);
                // the plan's predicted loads count the revert's move (they left every move but the greedy's out)
                assertThat(next.getPredictedImbalanceAfter()).isCloseTo(routedImbalance(next, loads),
                        org.assertj.core.data.Offset.offset(1e-9));
            }
        }
        // the revert's entry folded and gone (the key home, where a plan names it no more): dropped all the same
        RepartitionPlanner folded = backHome(hot, naturalHot, revertedAt);
        folded.restore(RoutingPlan.newBuilder().setVersion(4).setValidUntil(2 * W).setBasedOnWindowEnd(W)
                .setMaxParallelism(MAX_P).setParallelism(P).setEntries(new ArrayList<>())
                .setPredictedImbalanceBefore(1).setPredictedImbalanceAfter(1).setMigrationsStarted(0)
                .setMigrationsCompleted(0).build());
        RoutingPlan afterFold = folded.onForecast(forecast(2 * W, loads), new RepartitionPlanner.Control(false,
                java.util.Set.of(), null, Map.of(hot, new int[] {away, naturalHot}), Map.of(hot, revertedAt),
                java.util.Set.of(hot)));
        assertThat(afterFold.getEntries()).filteredOn(x -> x.getKey().toString().equals(hot))
                .allSatisfy(x -> assertThat(x.getMigration()).isNull());
        assertThat(folded.revertsStarted()).doesNotContain(hot);
        // an operator's revert (no IF_AT) of a held key applies
        RoutingPlan byHand = backHome(hot, naturalHot, revertedAt).onForecast(forecast(2 * W, loads), new RepartitionPlanner.Control(false,
                java.util.Set.of(), null, Map.of(hot, new int[] {away, -1}), Map.of(), java.util.Set.of(hot)));
        assertThat(byHand.getEntries()).filteredOn(x -> x.getKey().toString().equals(hot)).singleElement()
                .satisfies(x -> assertThat(x.getMigration().getToKeyGroup()).isEqualTo(away));
    }

    /**
     * A moved key that has gone cold goes home only {@code min-windows-between-moves} after its move, as the planner's
     * own moves wait (it went home in the next plan).
     */
    @Test
    void aColdMovedKeyGoesHomeOnlyAfterTheMinimumWindowsBetweenMoves() {
        io.keyshift.config.AvroTrust.install();
        // one key of 100 per subtask: balanced, nothing to move
        Map<String, Double> loads = onePerSubtask();
        String cold = "cold-moved";
        int natural = KeyGroupRangeAssignment.assignToKeyGroup(cold, MAX_P);
        int away = (natural + MAX_P / P) % MAX_P;
        for (int moved : new int[] {1, 7}) {
            RepartitionPlanner planner = new RepartitionPlanner(new RepartitionPlanner.Settings(MAX_P, P, W, W, 1, 2,
                    0.02, 0.1, 0.001, 8, 100, 0.0, new RepartitionPlanner.Constraints(0, 0.75, 0.90, 0.60, 6,
                    java.util.Set.of())));
            long now = 10 * W;
            planner.restore(RoutingPlan.newBuilder().setVersion(1).setValidUntil(now + W).setBasedOnWindowEnd(now)
                    .setMaxParallelism(MAX_P).setParallelism(P).setEntries(new ArrayList<>(List.of(RouteEntry
                            .newBuilder().setKey(cold).setNaturalKeyGroup(natural).setKeyGroup(away).setEpoch(1)
                            .setMigration(null).setMovedAt(now + W - moved * W).build())))
                    .setPredictedImbalanceBefore(1).setPredictedImbalanceAfter(1).setMigrationsStarted(0)
                    .setMigrationsCompleted(0).build());
            RoutingPlan next = planner.onForecast(forecast(now + W, loads));
            RouteEntry e = next.getEntries().stream().filter(x -> x.getKey().toString().equals(cold)).findFirst()
                    .orElseThrow();
            if (moved == 1) {
                assertThat(e.getMigration()).as("moved a window ago: stays").isNull();
            } else {
                assertThat(e.getMigration()).as("moved 7 windows ago: goes home").isNotNull();
                assertThat(e.getMigration().getToKeyGroup()).isEqualTo(natural);
                // the return is a move: the key moves again only min-windows-between-moves after it
                assertThat(e.getMovedAt()).as("the return restarts the clock")
                        .isEqualTo(e.getMigration().getShadowFrom());
            }
        }
    }

    /** min-windows-between-moves saturates: Integer.MAX_VALUE windows of 60 days after a move is never (it overflowed). */
    @Test
    void theMinimumWindowsBetweenMovesSaturate() {
        long day = 86_400_000L;
        assertThat(RepartitionPlanner.movedWithin(1_000 * day, Integer.MAX_VALUE, 60 * day, 2_000 * day)).isTrue();
        assertThat(RepartitionPlanner.movedWithin(1_000 * day, Integer.MAX_VALUE, 60 * day, Long.MAX_VALUE - 1))
                .isTrue();
        assertThat(RepartitionPlanner.movedWithin(10 * W, 6, W, 15 * W)).isTrue();
        assertThat(RepartitionPlanner.movedWithin(10 * W, 6, W, 16 * W)).isFalse();
        assertThat(RepartitionPlanner.movedWithin(Long.MIN_VALUE, 6, W, 0)).isFalse();
        assertThat(RepartitionPlanner.movedWithin(10 * W, 0, W, 10 * W)).isFalse();
    }

    /**
     * A moved key still among the forecast's hot keys but forecast at load 0 sorted among the cold ones and, named
     * first, stopped the returns: the cold moved key after it stayed away.
     */
    @Test
    void aHotKeyForecastAtZeroDoesNotKeepAColdMovedKeyAway() {
        io.keyshift.config.AvroTrust.install();
        Map<String, Double> loads = onePerSubtask();
        loads.put("a-moved", 0.0);
        long now = 10 * W;
        List<RouteEntry> entries = new ArrayList<>();
        for (String k : List.of("a-moved", "b-moved")) {
            int natural = KeyGroupRangeAssignment.assignToKeyGroup(k, MAX_P);
            entries.add(RouteEntry.newBuilder().setKey(k).setNaturalKeyGroup(natural)
                    .setKeyGroup((natural + MAX_P / P) % MAX_P).setEpoch(1).setMigration(null)
                    .setMovedAt(Long.MIN_VALUE).build());
        }
        RepartitionPlanner planner = new RepartitionPlanner(new RepartitionPlanner.Settings(MAX_P, P, W, W, 1, 2,
                0.02, 0.1, 0.001, 8, 100, 0.0, new RepartitionPlanner.Constraints(0, 0.75, 0.90, 0.60, 6,
                java.util.Set.of())));
        planner.restore(RoutingPlan.newBuilder().setVersion(1).setValidUntil(now + W).setBasedOnWindowEnd(now)
                .setMaxParallelism(MAX_P).setParallelism(P).setEntries(entries)
                .setPredictedImbalanceBefore(1).setPredictedImbalanceAfter(1).setMigrationsStarted(0)
                .setMigrationsCompleted(0).build());
        RoutingPlan next = planner.onForecast(forecast(now + W, loads));
        RouteEntry b = next.getEntries().stream().filter(x -> x.getKey().toString().equals("b-moved")).findFirst()
                .orElseThrow();
        assertThat(b.getMigration()).as("the cold moved key goes home").isNotNull();
        assertThat(b.getMigration().getToKeyGroup()).isEqualTo(b.getNaturalKeyGroup());
    }

    /** Keys with the loads {@code want[subtask]} on each of {@code want.length} subtasks. */
    private static Map<String, Double> unitsOn(double[][] want) {
        Map<String, Double> loads = new TreeMap<>();
        for (int sub = 0; sub < want.length; sub++) {
            int found = 0;
            for (int i = 0; found < want[sub].length; i++) {
                String k = "u" + sub + "-" + i;
                if (KeyGroupRangeAssignment.assignKeyToParallelOperator(k, MAX_P, want.length) == sub) {
                    loads.put(k, want[sub][found++]);
                }
            }
        }
        return loads;
    }

    /** One key of load 100 per subtask: balanced, nothing to move. */
    private static Map<String, Double> onePerSubtask() {
        Map<String, Double> loads = new TreeMap<>();
        putOnePerSubtask(loads, "even-", 100.0, 0);
        return loads;
    }

    /** Puts one key named {@code prefix + subtask + "-" + i} of {@code load} on each subtask from {@code from} on. */
    private static void putOnePerSubtask(Map<String, Double> loads, String prefix, double load, int from) {
        for (int s = from; s < P; s++) {
            for (int i = 0; ; i++) {
                if (subtask(prefix + s + "-" + i) == s) {
                    loads.put(prefix + s + "-" + i, load);
                    break;
                }
            }
        }
    }

    /** Four hot keys that all hash to subtask 0, plus one cold key per other subtask. */
    private static Map<String, Double> skewed() {
        Map<String, Double> loads = new TreeMap<>();
        int found = 0;
        for (int i = 0; found < 4; i++) {
            if (subtask("hot-" + i) == 0) {
                loads.put("hot-" + i, 100.0);
                found++;
            }
        }
        putOnePerSubtask(loads, "cold-", 10.0, 1);
        return loads;
    }

    /**
     * The routers sent the records of their first windows to the natural key groups before any plan (the latest up to
     * 5 windows after the first profiled one): the first plan's migrations start no earlier, and its lease covers
     * them. Later plans go by the previous lease alone.
     */
    @Test
    void theFirstPlansMigrationsStartAfterWhatTheRoutersRoutedNaturally() {
        RepartitionPlanner planner = planner(0.02);
        LoadForecast first = LoadForecast.newBuilder(forecast(W, skewed())).setNaturalRoutingUntil(5 * W).build();
        assertThat(planner.migrationsStartAt(first)).isEqualTo(5 * W);
        assertThat(planner.migrationsStartAt(LoadForecast.newBuilder(first).setNaturalRoutingUntil(Long.MIN_VALUE)
                .build())).isEqualTo(W);
        RoutingPlan plan = planner.onForecast(first);
        assertThat(plan.getValidUntil()).isGreaterThanOrEqualTo(5 * W);
        assertThat(plan.getEntries()).isNotEmpty().allSatisfy(e -> assertThat(e.getMigration().getShadowFrom())
                .isGreaterThanOrEqualTo(5 * W));
        assertThat(planner.migrationsStartAt(LoadForecast.newBuilder(forecast(2 * W, skewed()))
                .setNaturalRoutingUntil(50 * W).build())).isEqualTo(plan.getValidUntil());
    }

    /**
     * A keyed process function's state horizon of 36,500 days (the most keyshift accepts) over 1 s windows is more
     * than 2^31 windows: the first step a move owns overflowed an int, and the forecast lookup at a negative step
     * threw. It is clamped to the forecast's last step, and the plan still moves the hot keys.
     */
    @Test
    void aStateHorizonOfMoreThanTwoBillionWindowsPlans() {
        long second = 1_000;
        long horizon = java.time.Duration.ofDays(36_500).toMillis();
        RepartitionPlanner planner = new RepartitionPlanner(new RepartitionPlanner.Settings(MAX_P, P, second, horizon,
                1, 2, 0.02, 0.1, 0.001, 8, 100));
        long end = 10 * second;
        List<UnitForecast> units = new ArrayList<>(forecast(end, skewed()).getUnits());
        LoadForecast f = LoadForecast.newBuilder().setWindowStart(end - second).setWindowEnd(end).setHorizon(3)
                .setTotalObserved(0).setUnits(units).setAbsoluteErrorSum(0).setNaiveErrorSum(0)
                .setSeasonalAbsoluteErrorSum(0).setSeasonalNaiveErrorSum(0).setAnomalies(0).build();
        RoutingPlan plan = planner.onForecast(f);
        assertThat(plan.getEntries()).anySatisfy(e -> assertThat(e.getMigration()).isNotNull());
    }

    @Test
    void movesHotKeysOffTheOverloadedSubtaskWithShadowFromThePreviousLease() {
        RepartitionPlanner planner = planner(0.02);
        long end = 10 * W;
        RoutingPlan plan = planner.onForecast(forecast(end, skewed()));
        assertThat(plan.getVersion()).isEqualTo(1);
        assertThat(plan.getValidUntil()).isEqualTo(end + W);
        assertThat(plan.getMigrationsStarted()).isEqualTo(3);
        assertThat(plan.getPredictedImbalanceBefore()).isGreaterThan(2.5);
        assertThat(plan.getPredictedImbalanceAfter()).isLessThan(1.3);
        for (RouteEntry e : plan.getEntries()) {
            Migration m = e.getMigration();
            assertThat(m.getShadowFrom()).isEqualTo(end);
            assertThat(m.getSwitchAt()).isEqualTo(end + W);
            assertThat(KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(MAX_P, P, m.getToKeyGroup()))
                    .isNotZero();
        }
    }

    @Test
    void doesNotChurnWhenBalancedAndFoldsFinishedMigrations() {
        RepartitionPlanner planner = planner(0.02);
        long end = 10 * W;
        RoutingPlan first = planner.onForecast(forecast(end, skewed()));
        // Same forecast with the moved keys now in place: the plan is balanced, nothing more moves.
        RoutingPlan second = planner.onForecast(forecast(end + W, skewed()));
        assertThat(second.getMigrationsStarted()).isZero();
        assertThat(second.getValidUntil()).isEqualTo(end + 2 * W);
        // After switchAt + horizon (end + 2W) the migrations are folded into their entries.
        planner.onForecast(forecast(end + 2 * W, skewed()));
        RoutingPlan folded = planner.onForecast(forecast(end + 3 * W, skewed()));
        assertThat(folded.getMigrationsStarted()).isZero();
        assertThat(folded.getEntries()).hasSize(first.getEntries().size())
                .allSatisfy(e -> assertThat(e.getMigration()).isNull());
    }

    @Test
    void thresholdBlocksSmallGains() {
        RoutingPlan plan = planner(10.0).onForecast(forecast(10 * W, skewed()));
        assertThat(plan.getMigrationsStarted()).isZero();
        assertThat(plan.getEntries()).isEmpty();
    }

    @Test
    void theFirstPlanStartsAtTheLeaseTheWindowBeforeWouldHaveIssuedAndTheLastLeaseIsInfinite() {
        RepartitionPlanner planner = planner(0.02);
        RoutingPlan first = planner.onForecast(forecast(6 * W, skewed()));
        assertThat(first.getVersion()).isEqualTo(1);
        assertThat(first.getValidUntil()).isEqualTo(7 * W);
        assertThat(first.getEntries()).isNotEmpty()
                .allSatisfy(e -> assertThat(e.getMigration().getShadowFrom()).isEqualTo(6 * W));
        assertThat(first.getEntries()).allSatisfy(e -> {
            assertThat(e.getNaturalKeyGroup()).isEqualTo(KeyGroupRangeAssignment.assignToKeyGroup(e.getKey(), MAX_P));
            assertThat(e.getMigration().getFromKeyGroup()).isEqualTo(e.getKeyGroup());
        });
        RoutingPlan last = planner.finalLease();
        assertThat(last.getValidUntil()).isEqualTo(Long.MAX_VALUE);
        assertThat(last.getEntries()).isEqualTo(first.getEntries());
    }

    @Test
    void aFoldedMigrationStaysInRetiredForOnePlan() {
        RepartitionPlanner planner = planner(0.02);
        RoutingPlan first = planner.onForecast(forecast(6 * W, skewed()));
        RouteEntry moved = first.getEntries().get(0);
        RoutingPlan folded = null;
        for (long end = 7 * W; end <= 12 * W; end += W) {
            RoutingPlan p = planner.onForecast(forecast(end, skewed()));
            RouteEntry e = p.getEntries().stream().filter(x -> x.getKey().equals(moved.getKey())).findFirst().orElse(null);
            if (e != null && !e.getRetired().isEmpty()) {
                folded = p;
                assertThat(e.getMigration()).isNull();
                assertThat(e.getKeyGroup()).isEqualTo(moved.getMigration().getToKeyGroup());
                assertThat(e.getRetired().get(0).getSwitchAt()).isEqualTo(moved.getMigration().getSwitchAt());
                break;
            }
        }
        assertThat(folded).as("the migration is folded within six windows").isNotNull();
        RoutingPlan next = planner.onForecast(forecast(folded.getBasedOnWindowEnd() + W, skewed()));
        assertThat(next.getEntries()).allSatisfy(e -> assertThat(e.getRetired()).isEmpty());
    }

    @Test
    void splitsAKeyHeavierThanASubtasksShareOverKeyGroupsOnDistinctSubtasks() {
        RepartitionPlanner planner = new RepartitionPlanner(
                new RepartitionPlanner.Settings(MAX_P, P, W, W, 1, 2, 0.02, 0.1, 0.001, 8, 100, 1.0));
        Map<String, Double> loads = new TreeMap<>();
        loads.put("giant", 400.0);
        for (int i = 0; i < 40; i++) {
            loads.put("small-" + i, 15.0);
        }
        RoutingPlan plan = planner.onForecast(forecast(10 * W, loads));
        RouteEntry giant = plan.getEntries().stream().filter(e -> e.getKey().equals("giant")).findFirst().orElseThrow();
        assertThat(giant.getSplit()).isNotNull();
        List<Integer> groups = giant.getSplit().getKeyGroups();
        // 400 records against a mean of 250 per subtask: pieces of at most a quarter of the mean, on all 4 subtasks
        assertThat(groups).hasSize(P);
        assertThat(groups.stream().map(g -> KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(MAX_P, P, g)))
                .containsExactlyInAnyOrder(0, 1, 2, 3);
        assertThat(giant.getSplit().getFrom()).isEqualTo(plan.getValidUntil() - W);
        assertThat(giant.getMigration()).isNull();
        // the split stays, and the key is never moved while split
        RoutingPlan next = planner.onForecast(forecast(11 * W, loads));
        RouteEntry again = next.getEntries().stream().filter(e -> e.getKey().equals("giant")).findFirst().orElseThrow();
        assertThat(again.getSplit()).isEqualTo(giant.getSplit());
        assertThat(again.getMigration()).isNull();
    }

    /**
     * A Zipf(1.1) hot set over 2,000 keys held window after window over 8 subtasks, as in the bench's held cell: the
     * hottest key carries 1.35 times a subtask's mean load, the second 0.66 of it; the 256 hottest keys are tracked,
     * the other keys are the key groups' residuals. Split into six pieces on the subtasks least loaded at the time,
     * the hottest key left fixed holes and humps that later moves could not even out: 30 plans ended at 1.149.
     * Spread over all 8 subtasks it adds the same load to each: 1.092 (what is left is the cost of further moves
     * against a window's gain, alpha and beta).
     */
    @Test
    void aKeyHeavierThanASubtasksMeanLoadIsSpreadOverEverySubtask() {
        int p = 8;
        double[] zipf = new double[2000];
        double sum = 0;
        for (int r = 0; r < zipf.length; r++) {
            zipf[r] = 1 / Math.pow(r + 1, 1.1);
            sum += zipf[r];
        }
        Map<String, Double> hot = new TreeMap<>();
        double[] residual = new double[MAX_P];
        for (int r = 0; r < zipf.length; r++) {
            double load = 8_000 * zipf[r] / sum;
            if (r < 256) {
                hot.put("key-" + r, load);
            } else {
                residual[KeyGroupRangeAssignment.assignToKeyGroup("key-" + r, MAX_P)] += load;
            }
        }
        RepartitionPlanner planner = new RepartitionPlanner(
                new RepartitionPlanner.Settings(MAX_P, p, W, W, 1, 1, 0.02, 0.1, 0.005, 16, 4096, 1.0));
        RoutingPlan plan = null;
        for (int w = 10; w < 40; w++) {
            LoadForecast f = forecast(w * W, hot);
            List<UnitForecast> units = new ArrayList<>(f.getUnits());
            for (int g = 0; g < MAX_P; g++) {
                List<Double> r = Collections.nCopies(3, residual[g]);
                units.add(UnitForecast.newBuilder().setUnitType(UnitType.KEY_GROUP).setKey(null).setKeyGroup(g)
                        .setObserved(residual[g]).setForecast(r).setLower(r).setUpper(r).setModel("NAIVE")
                        .setAnomaly(false).build());
            }
            f.setUnits(units);
            plan = planner.onForecast(f);
        }
        Map<String, RouteEntry> entries = new TreeMap<>();
        plan.getEntries().forEach(e -> entries.put(e.getKey(), e));
        RouteEntry hottest = entries.get("key-0");
        assertThat(hottest.getSplit()).isNotNull();
        assertThat(hottest.getSplit().getKeyGroups().stream()
                .map(g -> KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(MAX_P, p, g)).distinct())
                .as("one piece on every subtask").hasSize(p);
        double[] load = new double[p];
        for (int g = 0; g < MAX_P; g++) {
            load[KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(MAX_P, p, g)] += residual[g];
        }
        for (Map.Entry<String, Double> k : hot.entrySet()) {
            RouteEntry e = entries.get(k.getKey());
            List<Integer> groups = e == null ? List.of(KeyGroupRangeAssignment.assignToKeyGroup(k.getKey(), MAX_P))
                    : e.getSplit() != null ? e.getSplit().getKeyGroups()
                    : List.of(e.getMigration() != null ? e.getMigration().getToKeyGroup() : e.getKeyGroup());
            for (int g : groups) {
                load[KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(MAX_P, p, g)] += k.getValue() / groups.size();
            }
        }
        double max = java.util.Arrays.stream(load).max().orElseThrow();
        assertThat(max / 1_000).as("max / mean of the subtasks' loads after 30 plans").isLessThan(1.11);
    }

    /** A forecast with hot keys {@code loads} and a key-group residual of {@code residual[s]} on each subtask s. */
    private static LoadForecast withResiduals(long end, Map<String, Double> loads, double[] residual) {
        LoadForecast f = forecast(end, loads);
        List<UnitForecast> units = new ArrayList<>(f.getUnits());
        for (int s = 0; s < residual.length; s++) {
            List<Double> r = Collections.nCopies(3, residual[s]);
            // the first key group of subtask s's range
            units.add(UnitForecast.newBuilder().setUnitType(UnitType.KEY_GROUP).setKey(null).setKeyGroup(s * MAX_P / P)
                    .setObserved(residual[s]).setForecast(r).setLower(r).setUpper(r).setModel("NAIVE")
                    .setAnomaly(false).build());
        }
        f.setUnits(units);
        return f;
    }

    @Test
    void splitsAKeyThatFitsOnNoSubtaskBesideTheLoadNoMoveTakesOff() {
        Map<String, Double> loads = new TreeMap<>();
        loads.put("giant", 220.0);
        for (int i = 0; i < 40; i++) {
            loads.put("small-" + i, 15.0);
        }
        // 80 records of key-group residuals on every subtask: the mean is 285, and the giant (220) with any
        // subtask's residual (80) is 300 > 1.0 x 285: no assignment keeps it at or below the mean
        RoutingPlan plan = new RepartitionPlanner(new RepartitionPlanner.Settings(MAX_P, P, W, W, 1, 2, 0.02, 0.1,
                0.001, 8, 100, 1.0)).onForecast(withResiduals(10 * W, loads, new double[] {80, 80, 80, 80}));
        assertThat(plan.getEntries()).filteredOn(e -> e.getKey().equals("giant")).singleElement()
                .satisfies(e -> assertThat(e.getSplit()).as("split although lighter than a subtask's mean load")
                        .isNotNull());

        // the same residual load, all of it on three subtasks: the giant fits on the fourth (220 <= 285) and stays whole
        double third = 320.0 / 3;
        RoutingPlan whole = new RepartitionPlanner(new RepartitionPlanner.Settings(MAX_P, P, W, W, 1, 2, 0.02, 0.1,
                0.001, 8, 100, 1.0)).onForecast(withResiduals(10 * W, loads, new double[] {third, third, third, 0}));
        assertThat(whole.getEntries()).allSatisfy(e -> assertThat(e.getSplit()).isNull());
    }

    @Test
    void neverSplitsWithoutAThreshold() {
        Map<String, Double> loads = new TreeMap<>();
        loads.put("giant", 400.0);
        for (int i = 0; i < 40; i++) {
            loads.put("small-" + i, 15.0);
        }
        RoutingPlan plan = planner(0.02).onForecast(forecast(10 * W, loads));
        assertThat(plan.getEntries()).allSatisfy(e -> assertThat(e.getSplit()).isNull());
    }

    private static RepartitionPlanner constrained(int budget, RepartitionPlanner.Constraints c) {
        return new RepartitionPlanner(new RepartitionPlanner.Settings(MAX_P, P, W, W, 1, 2, 0.02, 0.1, 0.001, budget,
                100, 0.0, c));
    }

    private static RepartitionPlanner.Constraints capacity(double capacity, java.util.Set<String> pinned) {
        return new RepartitionPlanner.Constraints(capacity, 0.75, 0.90, 0.60, 0, pinned);
    }

    @Test
    void pinnedKeysNeverMove() {
        java.util.Set<String> hot = new java.util.HashSet<>();
        skewed().keySet().stream().filter(k -> k.startsWith("hot-")).forEach(hot::add);
        RoutingPlan plan = constrained(8, capacity(0, hot)).onForecast(forecast(10 * W, skewed()));
        assertThat(plan.getMigrationsStarted()).isZero();
        assertThat(plan.getEntries()).isEmpty();
    }

    @Test
    void belowTheHighUtilizationNothingMovesAndScaleInIsReported() {
        // busiest subtask 400 of a capacity of 1000: utilization 0.4 < 0.75 (and < 0.60 everywhere)
        RepartitionPlanner quiet = constrained(8, capacity(1000, java.util.Set.of()));
        RoutingPlan plan = quiet.onForecast(forecast(10 * W, skewed()));
        assertThat(plan.getMigrationsStarted()).isZero();
        assertThat(plan.getMaxUtilization()).isCloseTo(0.4, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(plan.getScaleInOpportunity()).isTrue();
        // the final lease (end of input) keeps what the last plan predicted: the planner's gauges read it (it
        // carried Avro's defaults, -1 "without a capacity" and false, until 2026-12-06)
        RoutingPlan last = quiet.finalLease();
        assertThat(last.getMaxUtilization()).isEqualTo(plan.getMaxUtilization());
        assertThat(last.getScaleInOpportunity()).isTrue();
        // 400 of 500: 0.8 > 0.75, so load moves off subtask 0, and the plan ends below capacity
        RoutingPlan busy = constrained(8, capacity(500, java.util.Set.of())).onForecast(forecast(10 * W, skewed()));
        assertThat(busy.getMigrationsStarted()).isPositive();
        assertThat(busy.getMaxUtilization()).isCloseTo(110.0 / 500, org.assertj.core.api.Assertions.within(1e-9));
        // balanced, every subtask is at 0.22 or less: fewer subtasks would do
        assertThat(busy.getScaleInOpportunity()).isTrue();
    }

    /** The first key named {@code prefix-i} that hashes to {@code subtask}. */
    private static String keyOn(int subtask, String prefix) {
        for (int i = 0; ; i++) {
            if (subtask(prefix + "-" + i) == subtask) {
                return prefix + "-" + i;
            }
        }
    }

    /**
     * A subtask above capacity beside a busiest one that no move can improve (one key heavier than the mean) is
     * relieved when a move can: "avoids plans with a subtask above capacity when moves can avoid it". The greedy
     * worked only on the busiest subtask and stopped there, leaving subtask 1 at 450 of 400.
     */
    @Test
    void anOverloadedSubtaskBesideAStuckBusiestOneIsRelieved() {
        Map<String, Double> loads = Map.of(keyOn(0, "big"), 500.0, keyOn(1, "a"), 300.0, keyOn(1, "b"), 150.0);
        RoutingPlan plan = constrained(8, capacity(400, java.util.Set.of())).onForecast(forecast(10 * W, loads));
        assertThat(plan.getMigrationsStarted()).isEqualTo(1);
        assertThat(plan.getEntries()).singleElement().satisfies(e -> assertThat(e.getKey()).isEqualTo(keyOn(1, "b")));
        // subtask 0 stays at 500 (its one key), subtask 1 goes to 300 of 400
        assertThat(plan.getCostOverload()).isCloseTo(10 * 100.0 / 400,
                org.assertj.core.api.Assertions.within(1e-6));
    }

    @Test
    void aboveTheCriticalUtilizationTheMigrationBudgetIsIgnored() {
        RoutingPlan budgeted = constrained(1, capacity(0, java.util.Set.of())).onForecast(forecast(10 * W, skewed()));
        assertThat(budgeted.getMigrationsStarted()).isEqualTo(1);
        // 400 of 420: 0.95 > 0.90 is critical
        RoutingPlan critical = constrained(1, capacity(420, java.util.Set.of())).onForecast(forecast(10 * W, skewed()));
        assertThat(critical.getMigrationsStarted()).isEqualTo(3);
        assertThat(critical.getMaxUtilization()).isLessThan(1.0);
    }

    @Test
    void thePlanExplainsEachMoveAndItsCostTerms() {
        RoutingPlan plan = planner(0.02).onForecast(forecast(10 * W, skewed()));
        double mean = 430.0 / P;
        assertThat(plan.getCostImbalance()).isEqualTo(plan.getPredictedImbalanceAfter());
        assertThat(plan.getCostStateMoved()).isCloseTo(0.1 * 300 / mean, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(plan.getCostMigrations()).isCloseTo(0.001 * 3, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(plan.getCostOverload()).isZero();
        for (RouteEntry e : plan.getEntries()) {
            Migration m = e.getMigration();
            assertThat(m.getPredictedLoad()).isEqualTo(100.0);
            // before each move in turn: 400, then 300, then 200
            assertThat(m.getFromSubtaskLoadBefore()).isIn(400.0, 300.0, 200.0);
            // every hot key left subtask 0, which keeps one: 100 after; each target got one hot key: 110
            assertThat(m.getFromSubtaskLoadAfter()).isEqualTo(100.0);
            assertThat(m.getToSubtaskLoadAfter()).isEqualTo(110.0);
            assertThat(e.getMovedAt()).isEqualTo(m.getShadowFrom());
        }
        // each move sees the one before it: not one stale load for all three
        assertThat(plan.getEntries()).extracting(e -> e.getMigration().getFromSubtaskLoadBefore())
                .containsExactlyInAnyOrder(400.0, 300.0, 200.0);
    }

    @Test
    void localSearchWithinTheTimeBudgetSwapsWhereNoSingleMoveHelps() {
        // two subtasks: {60, 40} and {50, 30}; no single move lowers the maximum, the swap 60 <-> 50 balances
        Map<String, Double> loads = unitsOn(new double[][] {{60, 40}, {50, 30}});
        RepartitionPlanner.Constraints withSearch = new RepartitionPlanner.Constraints(0, 0.75, 0.90, 0.60, 0,
                java.util.Set.of(), java.time.Duration.ofSeconds(1));
        RoutingPlan greedyOnly = new RepartitionPlanner(new RepartitionPlanner.Settings(MAX_P, 2, W, W, 1, 2, 0.02,
                0.01, 0.001, 8, 100, 0.0, RepartitionPlanner.Constraints.NONE)).onForecast(forecast(10 * W, loads));
        assertThat(greedyOnly.getMigrationsStarted()).isZero();
        RoutingPlan searched = new RepartitionPlanner(new RepartitionPlanner.Settings(MAX_P, 2, W, W, 1, 2, 0.02,
                0.01, 0.001, 8, 100, 0.0, withSearch)).onForecast(forecast(10 * W, loads));
        assertThat(searched.getMigrationsStarted()).isEqualTo(2);
        assertThat(searched.getPredictedImbalanceAfter()).isEqualTo(1.0);
    }

    /**
     * The search keeps to the migration budget: with two migrations allowed, subtasks {100, 60} | {80, 40, 30} |
     * {60, 40} (no single move helps) have a swap within it (60 <-> 40 with the third subtask: 140 | 150 | 120). The
     * search made two swaps (three or four units changed), and the planner discarded the whole result: no migration.
     */
    @Test
    void localSearchKeepsToTheMigrationBudget() {
        Map<String, Double> loads = unitsOn(new double[][] {{100, 60}, {80, 40, 30}, {60, 40}});
        RepartitionPlanner.Constraints withSearch = new RepartitionPlanner.Constraints(0, 0.75, 0.90, 0.60, 0,
                java.util.Set.of(), java.time.Duration.ofSeconds(1));
        RoutingPlan searched = new RepartitionPlanner(new RepartitionPlanner.Settings(MAX_P, 3, W, W, 1, 2, 0.02,
                0.01, 0.001, 2, 100, 0.0, withSearch)).onForecast(forecast(10 * W, loads));
        assertThat(searched.getMigrationsStarted()).isBetween(1, 2);
        assertThat(searched.getPredictedImbalanceAfter()).isLessThan(1.17);
    }

    @Test
    void anAnomalyReplansAtOnceDespiteTheThreshold() {
        LoadForecast quiet = forecast(10 * W, skewed());
        assertThat(planner(10.0).onForecast(quiet).getMigrationsStarted()).isZero();
        LoadForecast anomalous = LoadForecast.newBuilder(quiet).setAnomalies(1).build();
        RoutingPlan plan = planner(10.0).onForecast(anomalous);
        assertThat(plan.getMigrationsStarted()).isEqualTo(3);
        assertThat(plan.getAnomalyReplan()).isTrue();
    }

    /**
     * Issue 18: with no shadow needed for correctness (aligned tumbling windows), a migration gets the full shadow
     * phase only if the validation policy picks it: ALL every one, NONE none, SAMPLE a deterministic subset.
     */
    @Test
    void theValidationPolicyDecidesWhichMigrationsGetAShadowPhase() {
        long end = 10 * W;
        Map<ValidationPolicy.Mode, List<Long>> shadows = new TreeMap<>();
        for (ValidationPolicy policy : List.of(ValidationPolicy.ALL, new ValidationPolicy(ValidationPolicy.Mode.NONE, 1),
                new ValidationPolicy(ValidationPolicy.Mode.SAMPLE, 2))) {
            RepartitionPlanner planner = new RepartitionPlanner(new RepartitionPlanner.Settings(MAX_P, P, W, W, 1, 2,
                    0.02, 0.1, 0.001, 8, 100, 0.0, RepartitionPlanner.Constraints.NONE, 0L, false, 0L, policy));
            RoutingPlan plan = planner.onForecast(forecast(end, skewed()));
            List<Long> lengths = new ArrayList<>();
            for (RouteEntry e : plan.getEntries()) {
                if (e.getMigration() != null) {
                    assertThat(e.getMigration().getShadowFrom()).isEqualTo(end);
                    lengths.add(e.getMigration().getSwitchAt() - e.getMigration().getShadowFrom());
                    assertThat(e.getMigration().getSwitchAt() > e.getMigration().getShadowFrom())
                            .isEqualTo(policy.validates(e.getKey(), plan.getVersion()));
                }
            }
            assertThat(lengths).hasSize(3);
            shadows.put(policy.mode(), lengths);
        }
        assertThat(shadows.get(ValidationPolicy.Mode.ALL)).containsOnly(W);
        assertThat(shadows.get(ValidationPolicy.Mode.NONE)).containsOnly(0L);
        assertThat(shadows.get(ValidationPolicy.Mode.SAMPLE)).isSubsetOf(0L, W);
        // the sample is a function of (key, version) alone, about 1 in N over many keys: the documented hash (fmix64 of
        // the key's String hash times the golden ratio plus the version), computed here independently, picks it, in
        // any JVM; another version picks another sample
        ValidationPolicy tenth = new ValidationPolicy(ValidationPolicy.Mode.SAMPLE, 10);
        java.util.function.BiPredicate<String, Long> documented = (key, version) -> {
            long h = key.hashCode() * 0x9E3779B97F4A7C15L + version;
            h = (h ^ (h >>> 33)) * 0xFF51AFD7ED558CCDL;
            h = (h ^ (h >>> 33)) * 0xC4CEB9FE1A85EC53L;
            return Math.floorMod(h ^ (h >>> 33), 10) == 0;
        };
        List<Integer> at7 = java.util.stream.IntStream.range(0, 10_000).filter(i -> tenth.validates("key-" + i, 7))
                .boxed().toList();
        assertThat(at7).hasSizeBetween(900, 1100).isEqualTo(java.util.stream.IntStream.range(0, 10_000)
                .filter(i -> documented.test("key-" + i, 7L)).boxed().toList());
        List<Integer> at8 = java.util.stream.IntStream.range(0, 10_000).filter(i -> tenth.validates("key-" + i, 8))
                .boxed().toList();
        assertThat(at8).hasSizeBetween(900, 1100).isNotEqualTo(at7);
    }

    /**
     * A moved key that drops out of the forecast's hot keys goes home once its migration has completed, so the
     * routing table follows the hot set instead of holding every key ever moved (issue 17's soak).
     */
    @Test
    void aMovedKeyThatTurnsColdReturnsToItsNaturalKeyGroup() {
        RepartitionPlanner planner = planner(0.02);
        Map<String, Double> loads = skewed();
        RoutingPlan first = planner.onForecast(forecast(10 * W, loads));
        List<String> moved = first.getEntries().stream().filter(e -> e.getMigration() != null)
                .map(RouteEntry::getKey).toList();
        assertThat(moved).hasSize(3);
        // from now on only the cold keys are forecast: the moved hot keys are no longer hot
        Map<String, Double> coldOnly = new TreeMap<>(loads);
        coldOnly.keySet().removeIf(k -> k.startsWith("hot-"));
        RoutingPlan plan = first;
        List<String> home = new ArrayList<>();
        for (long end = 11 * W; end <= 16 * W && home.size() < 3; end += W) {
            plan = planner.onForecast(forecast(end, coldOnly));
            for (RouteEntry e : plan.getEntries()) {
                Migration m = e.getMigration();
                if (m != null && m.getPlannedInVersion() == plan.getVersion()
                        && m.getToKeyGroup() == KeyGroupRangeAssignment.assignToKeyGroup(e.getKey(), MAX_P)) {
                    home.add(e.getKey());
                }
            }
        }
        assertThat(home).containsExactlyInAnyOrderElementsOf(moved);
    }

    @Test
    void aUnitMovedTwiceMigratesOnceAndOneMovedBackNotAtAll() {
        // units 0, 1, 2 on subtasks 0, 1, 2; unit 0 goes 0 -> 3 -> 1, unit 1 goes 1 -> 2 -> 1 (back), unit 2 once
        int[] at = {0, 1, 2};
        List<io.keyshift.plan.opt.GreedyFromCurrent.Move> moves = List.of(
                new io.keyshift.plan.opt.GreedyFromCurrent.Move(0, 0, 3, 10, 1),
                new io.keyshift.plan.opt.GreedyFromCurrent.Move(1, 1, 2, 9, 2),
                new io.keyshift.plan.opt.GreedyFromCurrent.Move(2, 2, 3, 8, 3),
                new io.keyshift.plan.opt.GreedyFromCurrent.Move(0, 3, 1, 7, 4),
                new io.keyshift.plan.opt.GreedyFromCurrent.Move(1, 2, 1, 6, 5));
        assertThat(RepartitionPlanner.netMoves(moves, at)).containsExactly(
                new io.keyshift.plan.opt.GreedyFromCurrent.Move(2, 2, 3, 8, 3),
                new io.keyshift.plan.opt.GreedyFromCurrent.Move(0, 0, 1, 7, 4));
        assertThat(RepartitionPlanner.netMoves(moves.subList(0, 3), at)).extracting(m -> m.unit())
                .containsExactly(0, 1, 2);
        // the cost of each prefix counts the same: moved load and migrations of the units away from where they were
        // (they were counted per move: 5 migrations and 45 records moved for the 2 migrations and 18 records above)
        RepartitionPlanner planner = new RepartitionPlanner(
                new RepartitionPlanner.Settings(MAX_P, 4, W, W, 1, 1, 0.02, 0.1, 0.005, 16, 4096, 1.0));
        double[] loads = {10, 9, 8};
        double mean = 27 / 4.0;
        List<double[]> terms = planner.costTerms(moves, new double[] {10, 9, 8, 0}, loads, mean, 0, null, at, 4);
        double alpha = planner.settings().alpha();
        double beta = planner.settings().beta();
        double[][] expected = {{0, 0}, {10, 1}, {19, 2}, {27, 3}, {27, 3}, {18, 2}};
        for (int k = 0; k < expected.length; k++) {
            assertThat(terms.get(k)[1]).as("moved after %d moves", k).isCloseTo(alpha * expected[k][0] / mean,
                    org.assertj.core.data.Offset.offset(1e-12));
            assertThat(terms.get(k)[2]).as("migrations after %d moves", k).isCloseTo(beta * expected[k][1],
                    org.assertj.core.data.Offset.offset(1e-12));
        }
    }

    /**
     * A key split over 2 subtasks at parallelism 2 and restored at parallelism 8 (as PlannerOperator#followParallelism
     * restores the plan into a planner for the new parallelism): heavier than a subtask's mean load, it must come to
     * be spread over every subtask, as a key split at 8 would be; and no plan may change where a record that an
     * earlier plan's lease already covered goes (routing depends only on the input, never on when a plan arrived).
     */
    @Test
    void aSplitKeyRestoredAtAHigherParallelismIsSpreadOverTheNewSubtasksFromTheNextLeaseOn() {
        int p = 8;
        String giant = "giant";
        int natural = KeyGroupRangeAssignment.assignToKeyGroup(giant, MAX_P);
        // pieces on key groups 0 and 64: subtasks 0 and 1 at parallelism 2, subtasks 0 and 4 at 8
        RouteEntry split = RouteEntry.newBuilder().setKey(giant).setNaturalKeyGroup(natural).setKeyGroup(natural)
                .setMigration(null).setSplit(io.keyshift.avro.Split.newBuilder().setKeyGroups(List.of(0, 64))
                        .setFrom(8 * W).setPreRollFrom(8 * W).setPlannedInVersion(3).setPredictedLoad(800).build())
                .build();
        RoutingPlan restored = RoutingPlan.newBuilder().setVersion(5).setValidUntil(10 * W).setBasedOnWindowEnd(9 * W)
                .setMaxParallelism(MAX_P).setParallelism(2).setEntries(new ArrayList<>(List.of(split)))
                .setPredictedImbalanceBefore(1).setPredictedImbalanceAfter(1).setMigrationsStarted(0)
                .setMigrationsCompleted(0).build();
        RepartitionPlanner planner = new RepartitionPlanner(
                new RepartitionPlanner.Settings(MAX_P, p, W, W, 1, 1, 0.02, 0.1, 0.005, 16, 4096, 1.0));
        planner.restore(restored);
        // 800 of 1,400 records: 4.6 times a subtask's mean load (175) at parallelism 8; 400 on each old piece
        Map<String, Double> loads = new TreeMap<>();
        loads.put(giant, 800.0);
        for (int i = 0; i < 40; i++) {
            loads.put("small-" + i, 15.0);
        }
        io.keyshift.route.KeyCodec<String> codec = io.keyshift.route.KeyCodec.forType(
                org.apache.flink.api.common.typeinfo.Types.STRING,
                new org.apache.flink.api.common.serialization.SerializerConfigImpl());
        // frozen, or the key pinned: it stays spread as it is (no split starts, nor changes)
        for (RepartitionPlanner.Control c : List.of(new RepartitionPlanner.Control(true, java.util.Set.of(), null),
                new RepartitionPlanner.Control(false, java.util.Set.of(giant), null))) {
            RepartitionPlanner held = new RepartitionPlanner(
                    new RepartitionPlanner.Settings(MAX_P, p, W, W, 1, 1, 0.02, 0.1, 0.005, 16, 4096, 1.0));
            held.restore(restored);
            io.keyshift.avro.Split kept = held.onForecast(forecast(10 * W, loads), c).getEntries().stream()
                    .filter(e -> e.getKey().equals(giant)).findFirst().orElseThrow().getSplit();
            assertThat(kept.getKeyGroups()).as("under %s", c).containsExactly(0, 64);
            assertThat(kept.getEarlier()).isEmpty();
        }
        List<RoutingPlan> plans = new ArrayList<>(List.of(restored));
        for (long end = 10 * W; end <= 14 * W; end += W) {
            plans.add(planner.onForecast(forecast(end, loads)));
        }
        // the first plan after the restore keeps the old spread for the times the restored lease covered
        io.keyshift.avro.Split respread = plans.get(1).getEntries().stream().filter(e -> e.getKey().equals(giant))
                .findFirst().orElseThrow().getSplit();
        assertThat(respread.getParallelism()).isEqualTo(p);
        assertThat(respread.getPlannedInVersion()).as("the pieces' epoch").isEqualTo(3);
        assertThat(respread.getEarlier()).singleElement().satisfies(sp -> {
            assertThat(sp.getKeyGroups()).containsExactly(0, 64);
            assertThat(sp.getUntil()).isEqualTo(10 * W);
        });
        RoutingPlan last = plans.get(plans.size() - 1);
        assertThat(last.getEntries().stream().filter(e -> e.getKey().equals(giant)).findFirst().orElseThrow()
                .getSplit().getEarlier()).as("the earlier spread, a state horizon and one plan past its end").isEmpty();
        // spread once: the plans after the first keep its key groups
        for (RoutingPlan later : plans.subList(2, plans.size())) {
            assertThat(later.getEntries().stream().filter(e -> e.getKey().equals(giant)).findFirst().orElseThrow()
                    .getSplit().getKeyGroups()).isEqualTo(respread.getKeyGroups());
        }
        io.keyshift.route.RoutingTable.Route out = new io.keyshift.route.RoutingTable.Route();

        // 1. at the last plan's lease end, the key's records are dealt over every one of the 8 subtasks
        io.keyshift.route.RoutingTable<String> lastTable = io.keyshift.route.RoutingTable.of(last, codec);
        java.util.Set<Integer> subtasks = new java.util.TreeSet<>();
        for (long n = 0; n < 1_000; n++) {
            lastTable.route(giant, last.getValidUntil() - 1, natural, n, out);
            assertThat(out.role).isEqualTo(io.keyshift.route.Role.PARTIAL);
            subtasks.add(KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(MAX_P, p, out.primary));
        }
        assertThat(subtasks).as("subtasks the split key's pieces are on after the restore at parallelism 8")
                .hasSize(p);

        // 2. every plan routes what its predecessor's lease covered, and records of it may still come (from the
        //    window the predecessor was based on, a state horizon of W before this plan's window end), as the
        //    predecessor did (an earlier phase may be folded once a state horizon is past, as retired migrations are)
        for (int v = 1; v < plans.size(); v++) {
            RoutingPlan prev = plans.get(v - 1);
            io.keyshift.route.RoutingTable<String> before = io.keyshift.route.RoutingTable.of(prev, codec);
            io.keyshift.route.RoutingTable<String> after = io.keyshift.route.RoutingTable.of(plans.get(v), codec);
            for (long t : new long[] {Math.max(8 * W, prev.getBasedOnWindowEnd()), prev.getValidUntil() - 1}) {
                for (long n = 0; n < 1_000; n++) {
                    before.route(giant, t, natural, n, out);
                    int was = out.primary;
                    after.route(giant, t, natural, n, out);
                    assertThat(out.primary).as("plan %s routes record %s at %s as plan %s did",
                            plans.get(v).getVersion(), n, t, prev.getVersion()).isEqualTo(was);
                }
            }
        }
    }

    /**
     * A key split over every subtask at parallelism 8, restored at 4 while it is light (below a subtask's mean load):
     * spread anew, it keeps every subtask it was on (all 4 now), as the old spread did, and does not shrink to the 2
     * pieces a key of that load would be split into. Pieces never move and a split key is spread once per
     * parallelism, so when it grew heavy again two pieces carried it all (an imbalance of about 1.5 until the next
     * rescale).
     */
    @Test
    void aSplitKeySpreadAnewWhileLightKeepsEverySubtaskItWasOn() {
        spreadAnewWhileLightThenHeavy(8, 4, 20.0);
    }

    /**
     * The other way round: a key split over every subtask at parallelism 4, restored at 8 while lighter than the new
     * mean load (a scale-out in the morning; 0.73 of a subtask's mean load at 8: three pieces by its load, four by its
     * old key groups). It was on every subtask, so it is spread over all 8 again. It kept 4 pieces on 8 subtasks, and
     * when it grew heavy at noon half the subtasks carried it all until the next rescale.
     */
    @Test
    void aSplitKeyOnEverySubtaskSpreadAnewAfterAScaleOutWhileLightIsOnEverySubtaskAgain() {
        spreadAnewWhileLightThenHeavy(4, 8, 60.0);
    }

    /**
     * A key split over every subtask at parallelism {@code was}, restored into a planner at {@code p} with the key at
     * {@code lightLoad} beside 40 keys of 15, then at 2,000 for ten windows: spread anew at the first plan, its pieces
     * end on every subtask at {@code p} and the plan balances.
     */
    private static void spreadAnewWhileLightThenHeavy(int was, int p, double lightLoad) {
        io.keyshift.config.AvroTrust.install();
        String giant = "giant";
        int natural = KeyGroupRangeAssignment.assignToKeyGroup(giant, MAX_P);
        List<Integer> everySubtask = new ArrayList<>();
        for (int i = 0; i < was; i++) {
            everySubtask.add(i * MAX_P / was);
        }
        RouteEntry split = RouteEntry.newBuilder().setKey(giant).setNaturalKeyGroup(natural).setKeyGroup(natural)
                .setMigration(null).setSplit(io.keyshift.avro.Split.newBuilder().setKeyGroups(everySubtask)
                        .setFrom(8 * W).setPreRollFrom(8 * W).setPlannedInVersion(3).setPredictedLoad(2000)
                        .setParallelism(was).build())
                .build();
        RoutingPlan restored = RoutingPlan.newBuilder().setVersion(5).setValidUntil(10 * W).setBasedOnWindowEnd(9 * W)
                .setMaxParallelism(MAX_P).setParallelism(was).setEntries(new ArrayList<>(List.of(split)))
                .setPredictedImbalanceBefore(1).setPredictedImbalanceAfter(1).setMigrationsStarted(0)
                .setMigrationsCompleted(0).build();
        RepartitionPlanner planner = new RepartitionPlanner(
                new RepartitionPlanner.Settings(MAX_P, p, W, W, 1, 1, 0.02, 0.1, 0.005, 16, 4096, 1.0));
        planner.restore(restored);
        Map<String, Double> light = new TreeMap<>();
        light.put(giant, lightLoad);
        for (int i = 0; i < 40; i++) {
            light.put("small-" + i, 15.0);
        }
        RoutingPlan last = planner.onForecast(forecast(10 * W, light));
        assertThat(last.getEntries().stream().filter(e -> e.getKey().equals(giant)).findFirst().orElseThrow()
                .getSplit().getParallelism()).as("spread anew at the first plan").isEqualTo(p);
        Map<String, Double> heavy = new TreeMap<>(light);
        heavy.put(giant, 2000.0);
        for (long end = 11 * W; end <= 20 * W; end += W) {
            last = planner.onForecast(forecast(end, heavy));
        }
        io.keyshift.avro.Split now = last.getEntries().stream().filter(e -> e.getKey().equals(giant)).findFirst()
                .orElseThrow().getSplit();
        assertThat(now.getParallelism()).isEqualTo(p);
        assertThat(now.getKeyGroups().stream()
                .map(g -> KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(MAX_P, p, g)).distinct())
                .as("subtasks of the split key's pieces at parallelism %d", p).hasSize(p);
        assertThat(last.getPredictedImbalanceAfter()).isLessThan(1.1);
    }
}
