package io.keyshift.jobs.savepoint;

import io.keyshift.avro.Migration;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.forecast.LoadForecastEngine;
import io.keyshift.jobs.replay.ReplayJob;
import io.keyshift.jobs.replay.Workload;
import io.keyshift.savepoint.StageSavepoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads a keyshift savepoint with Flink's State Processor API: the planner's current {@link RoutingPlan}, the
 * forecaster's series and chosen models ({@link LoadForecastEngine}), and the keyed state size per key group of every
 * keyed operator, from the savepoint's metadata (key-group offsets of canonical savepoints; bytes).
 *
 * <p>Decoding the forecaster needs the job's forecaster settings (window, seasons, models, max parallelism): pass the
 * same {@code --window} and options the job ran with.
 */
public final class SavepointInspector {
    private SavepointInspector() {}

    /** Inspects {@code path} (the command line's stage, uid prefix keyshift). */
    public static ObjectNode inspect(String path, LoadForecastEngine.Settings forecasterSettings) throws Exception {
        return inspect(path, forecasterSettings, Workload.UID_PREFIX);
    }

    /**
     * Inspects the stage with {@code uidPrefix} in {@code path}; the result is the JSON {@code inspect-savepoint --json}
     * prints.
     *
     * @throws IllegalArgumentException if no operator of such a stage is in the savepoint
     */
    public static ObjectNode inspect(String path, LoadForecastEngine.Settings forecasterSettings, String uidPrefix)
            throws Exception {
        // the command line's hash job stands for its own stage (prefix keyshift) only, not any other prefix's
        StageSavepoint state = StageSavepoint.read(path, uidPrefix, forecasterSettings,
                List.of(ReplayJob.SOURCE_UID, Workload.HASH_WINDOW_UID),
                uidPrefix.equals(Workload.UID_PREFIX) ? List.of(Workload.HASH_WINDOW_UID) : List.of());
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("savepoint", path);
        root.put("checkpoint_id", state.checkpointId());
        root.set("plan", state.plan() == null ? null : planJson(state.plan()));
        // null: no router state of the stage (a bootstrap savepoint); 1: a build before 2026-12-04
        Integer hashFormat = StageSavepoint.routingKeyHashFormat(path, uidPrefix);
        if (hashFormat == null) {
            root.putNull("routing_key_hash_format");
        } else {
            root.put("routing_key_hash_format", hashFormat);
        }
        LoadForecastEngine engine = state.forecaster();
        if (engine != null) {
            ObjectNode f = root.putObject("forecaster");
            f.put("windows", engine.windows());
            // the planning window the series were learnt from (null: a state of a build until 2026-12-02)
            f.put("window", engine.windowMillis() > 0
                    ? java.time.Duration.ofMillis(engine.windowMillis()).toString() : null);
            f.put("series", engine.seriesCount());
            // null until the forecaster has scored windows (Jackson would write NaN as a string)
            double mase = engine.mase();
            if (Double.isFinite(mase)) {
                f.put("mase", mase);
            } else {
                f.putNull("mase");
            }
            ArrayNode sums = f.putArray("error_sums");
            for (double d : engine.errorSums()) {
                sums.add(d);
            }
            Map<String, Integer> mix = new TreeMap<>();
            ArrayNode series = f.putArray("tracked_series");
            for (LoadForecastEngine.SeriesInfo si : engine.series()) {
                mix.merge(si.model(), 1, Integer::sum);
                ObjectNode n = series.addObject();
                n.put("unit", si.key() != null ? "hot_key" : "key_group");
                if (si.key() != null) {
                    n.put("key", si.key());
                }
                n.put("key_group", si.keyGroup());
                n.put("model", si.model());
                n.put("observations", si.observations());
                n.put("last_observed", si.lastObserved());
                n.put("next_forecast", si.nextForecast());
            }
            ObjectNode m = f.putObject("model_mix");
            mix.forEach(m::put);
        }
        ObjectNode keyed = root.putObject("keyed_state_bytes_per_key_group");
        for (Map.Entry<String, StageSavepoint.KeyedState> e : state.keyedStateBytes().entrySet()) {
            ObjectNode op = keyed.putObject(e.getKey());
            op.put("parallelism", e.getValue().parallelism());
            op.put("max_parallelism", e.getValue().maxParallelism());
            op.put("total", e.getValue().total());
            ObjectNode kg = op.putObject("key_groups");
            e.getValue().bytesPerKeyGroup().forEach((g, b) -> kg.put(Integer.toString(g), b));
        }
        return root;
    }

    static ObjectNode planJson(RoutingPlan plan) {
        ObjectNode n = new ObjectMapper().createObjectNode();
        int maxP = plan.getMaxParallelism();
        int p = plan.getParallelism();
        n.put("version", plan.getVersion());
        // raw, or the fingerprint of the key secret its keys are pseudonyms under (KeyPseudonymizer.naming)
        n.put("key_naming", plan.getKeyNaming() == null ? "raw" : plan.getKeyNaming().toString());
        n.put("valid_until", time(plan.getValidUntil()));
        n.put("max_parallelism", maxP);
        n.put("parallelism", p);
        n.put("predicted_imbalance_before", plan.getPredictedImbalanceBefore());
        n.put("predicted_imbalance_after", plan.getPredictedImbalanceAfter());
        io.keyshift.avro.PlanControl c = plan.getControl();
        if (c != null) {
            // the control input's overrides this plan was made under (the planner's state holds the same)
            ObjectNode cn = n.putObject("control");
            cn.put("frozen", c.getFrozen());
            ArrayNode pinned = cn.putArray("pinned_keys");
            c.getPinnedKeys().forEach(pinned::add);
            cn.put("rollback_to_version", c.getRollbackToVersion());
            ArrayNode held = cn.putArray("held_keys");
            c.getHeldKeys().forEach(held::add);
            cn.put("commands_applied", c.getCommandsApplied());
            cn.put("commands_rejected", c.getCommandsRejected());
            cn.put("forced_parallelism", c.getForcedParallelism());
            cn.put("anomaly_z", c.getAnomalyZ());
            ArrayNode rates = cn.putArray("sampling_rates");
            // a rate given for now holds from the first window (its from is Long.MIN_VALUE, printed "none" before)
            c.getSamplingRates().forEach(r -> rates.addObject().put("from", r.getFrom() == Long.MIN_VALUE
                    ? "the first window" : time(r.getFrom())).put("rate", r.getRate()));
        }
        ArrayNode moved = n.putArray("moved_units");
        for (RouteEntry e : plan.getEntries()) {
            int natural = e.getNaturalKeyGroup() >= 0 ? e.getNaturalKeyGroup()
                    : KeyGroupRangeAssignment.assignToKeyGroup(e.getKey(), maxP);
            Migration m = e.getMigration();
            if (m == null && e.getSplit() == null && e.getKeyGroup() == natural) {
                // back home, kept for its epoch or its minimum windows between moves: not moved
                continue;
            }
            int from = m != null ? e.getKeyGroup() : natural;
            int to = m != null ? m.getToKeyGroup() : e.getKeyGroup();
            ObjectNode u = moved.addObject();
            u.put("key", e.getKey());
            u.put("from_key_group", from);
            u.put("from_subtask", KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(maxP, p, from));
            u.put("to_key_group", to);
            u.put("to_subtask", KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(maxP, p, to));
            u.put("state", m != null ? "migrating" : "moved");
            if (e.getSplit() != null) {
                ArrayNode over = u.putArray("split_key_groups");
                e.getSplit().getKeyGroups().forEach(over::add);
                // spreads before a rescale, whose key groups may still hold open partial windows
                if (e.getSplit().getEarlier() != null && !e.getSplit().getEarlier().isEmpty()) {
                    ArrayNode earlier = u.putArray("split_earlier");
                    for (io.keyshift.avro.SplitSpread sp : e.getSplit().getEarlier()) {
                        ObjectNode o = earlier.addObject();
                        ArrayNode groups = o.putArray("key_groups");
                        sp.getKeyGroups().forEach(groups::add);
                        o.put("until", time(sp.getUntil()));
                    }
                }
            }
            if (m != null) {
                u.put("shadow_from", time(m.getShadowFrom()));
                u.put("switch_at", time(m.getSwitchAt()));
                u.put("predicted_load", m.getPredictedLoad());
            }
        }
        return n;
    }

    private static String time(long t) {
        return t == Long.MAX_VALUE ? "end of input" : t == Long.MIN_VALUE ? "none" : Instant.ofEpochMilli(t).toString();
    }

    /** The human-readable summary {@code inspect-savepoint} prints. */
    public static void print(ObjectNode r, java.io.PrintStream out) {
        out.println("savepoint " + r.get("savepoint").asText() + " (checkpoint " + r.get("checkpoint_id").asLong() + ")");
        var hashFormat = r.get("routing_key_hash_format");
        out.println("routing-key hash format: " + (hashFormat == null || hashFormat.isNull()
                ? "none (no router state: the stage starts anew)"
                : hashFormat.asText()));
        var plan = r.get("plan");
        if (plan == null || plan.isNull()) {
            out.println("routing plan: none (a hash job, or no plan yet)");
        } else {
            out.printf("routing plan: version %d, lease until %s, %d key groups on %d subtasks, predicted imbalance "
                            + "%.3f -> %.3f, %d moved units%n", plan.get("version").asLong(), plan.get("valid_until").asText(),
                    plan.get("max_parallelism").asInt(), plan.get("parallelism").asInt(),
                    plan.get("predicted_imbalance_before").asDouble(), plan.get("predicted_imbalance_after").asDouble(),
                    plan.get("moved_units").size());
            var c = plan.get("control");
            if (c != null && !c.isNull()) {
                out.printf("control: %s, pinned %s, rollback %s, held after a revert %s, scaling %s, anomaly z %s; "
                                + "%d commands applied, %d refused%n",
                        c.get("frozen").asBoolean() ? "frozen" : "not frozen", c.get("pinned_keys"),
                        c.get("rollback_to_version").asLong() < 0 ? "none"
                                : "to version " + c.get("rollback_to_version").asLong(),
                        c.get("held_keys"), c.path("forced_parallelism").asInt() > 0
                                ? "forced to " + c.get("forced_parallelism").asInt() : "by its policy",
                        c.path("anomaly_z").asDouble() > 0 ? c.get("anomaly_z").asDouble() : "as configured",
                        c.get("commands_applied").asLong(), c.get("commands_rejected").asLong());
                if (c.path("sampling_rates").size() > 0) {
                    StringBuilder b = new StringBuilder();
                    for (var change : c.get("sampling_rates")) {
                        b.append(b.length() == 0 ? "" : ", ").append(change.get("rate").asDouble()).append(" from ")
                                .append(change.get("from").asText());
                    }
                    out.printf("control: sampling rate %s%n", b);
                }
            }
            int keyWidth = 30;
            for (var u : plan.get("moved_units")) {
                keyWidth = Math.max(keyWidth, u.get("key").asText().length());
            }
            for (var u : plan.get("moved_units")) {
                // the key column as wide as the longest key, so that the key groups line up
                out.printf("  %-9s %-" + keyWidth + "s key group %3d (subtask %d) -> key group %3d (subtask %d)%s%n",
                        u.get("state").asText(), u.get("key").asText(), u.get("from_key_group").asInt(),
                        u.get("from_subtask").asInt(), u.get("to_key_group").asInt(), u.get("to_subtask").asInt(),
                        (u.has("split_key_groups") ? ", split over key groups " + u.get("split_key_groups") : "")
                        + (u.has("split_earlier") ? earlierSpreads(u.get("split_earlier")) : "")
                        + (u.has("switch_at") ? ", shadow from " + u.get("shadow_from").asText() + ", switch at "
                                + u.get("switch_at").asText() : ""));
            }
        }
        var f = r.get("forecaster");
        if (f != null) {
            out.printf("forecaster: %d windows%s observed, %d series, MASE %s, models chosen %s%n",
                    f.get("windows").asLong(), f.get("window").isNull() ? "" : " of " + f.get("window").asText(),
                    f.get("series").asInt(), f.path("mase").isNumber()
                            ? String.format(java.util.Locale.ROOT, "%.3f", f.get("mase").asDouble()) : "-",
                    f.get("model_mix"));
            int keyWidth = 30;
            int modelWidth = 28;
            for (var s : f.get("tracked_series")) {
                keyWidth = Math.max(keyWidth, s.path("key").asText().length());
                modelWidth = Math.max(modelWidth, s.path("model").asText().length());
            }
            for (var s : f.get("tracked_series")) {
                if (s.get("unit").asText().equals("hot_key")) {
                    out.printf("  hot key %-" + keyWidth + "s key group %3d  %-" + modelWidth
                            + "s last %10.1f  next %10.1f%n",
                            s.get("key").asText(),
                            s.get("key_group").asInt(), s.get("model").asText(), s.get("last_observed").asDouble(),
                            s.get("next_forecast").asDouble());
                }
            }
        }
        var keyed = r.get("keyed_state_bytes_per_key_group");
        if (keyed.isEmpty()) {
            out.println("keyed state: none of this stage's keyed operators in the savepoint (a bootstrap holds only "
                    + "the forecaster)");
        }
        keyed.fields().forEachRemaining(e -> {
            var kgs = e.getValue().get("key_groups");
            long max = 0;
            String maxKg = "";
            for (var it = kgs.fields(); it.hasNext(); ) {
                var k = it.next();
                if (k.getValue().asLong() > max) {
                    max = k.getValue().asLong();
                    maxKg = k.getKey();
                }
            }
            if (kgs.isEmpty()) {
                out.printf("keyed state of %s: %,d bytes, no key group holds data%n", e.getKey(),
                        e.getValue().get("total").asLong());
            } else {
                out.printf("keyed state of %s: %,d bytes in %d key groups (largest: key group %s, %,d bytes); "
                        + "--json lists every key group%n", e.getKey(), e.getValue().get("total").asLong(), kgs.size(),
                        maxKg, max);
            }
        });
    }

    /** ", before <until> over key groups [..]" per earlier spread of a split key (its spreads before a rescale). */
    private static String earlierSpreads(com.fasterxml.jackson.databind.JsonNode earlier) {
        StringBuilder b = new StringBuilder();
        for (var sp : earlier) {
            b.append(", before ").append(sp.get("until").asText()).append(" over key groups ")
                    .append(sp.get("key_groups"));
        }
        return b.toString();
    }
}
