package io.keyshift.jobs.savepoint;

import io.keyshift.avro.Migration;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.config.AvroTrust;
import io.keyshift.forecast.LoadForecastEngine;
import io.keyshift.pipeline.Uids;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.KeyGroupsStateHandle;
import org.apache.flink.runtime.state.KeyedStateHandle;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.runtime.SavepointLoader;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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

    /** Inspects {@code path}; the result is the JSON {@code inspect-savepoint --json} prints. */
    public static ObjectNode inspect(String path, LoadForecastEngine.Settings forecasterSettings) throws Exception {
        AvroTrust.install();
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("savepoint", path);
        CheckpointMetadata meta = SavepointLoader.loadSavepointMetadata(path);
        root.put("checkpoint_id", meta.getCheckpointId());

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setRuntimeMode(RuntimeExecutionMode.BATCH);
        env.setParallelism(1);
        SavepointReader reader = SavepointReader.read(env, path);
        Map<OperatorID, String> uids = new LinkedHashMap<>();
        for (String uid : List.of(Uids.SOURCE, Uids.SAMPLER, Uids.PROFILER, Uids.FORECASTER, Uids.PLANNER, Uids.ROUTER,
                Uids.WINDOW, Uids.RESOLVER, Uids.HASH_WINDOW, Uids.SHADOW_AWARE, Uids.PLAIN_KEYED)) {
            uids.put(OperatorIdentifier.forUid(uid).getOperatorId(), uid);
        }
        Map<String, OperatorState> byUid = new TreeMap<>();
        for (OperatorState s : meta.getOperatorStates()) {
            byUid.put(uids.getOrDefault(s.getOperatorID(), s.getOperatorID().toHexString()), s);
        }

        // 1. The routing plan: the planner's (its current plan), else the router's union state.
        List<RoutingPlan> plans = new ArrayList<>();
        AvroTypeInfo<RoutingPlan> planType = new AvroTypeInfo<>(RoutingPlan.class);
        if (byUid.containsKey(Uids.PLANNER)) {
            collect(reader.readListState(OperatorIdentifier.forUid(Uids.PLANNER), "routing-plan", planType), plans);
        }
        if (plans.isEmpty() && byUid.containsKey(Uids.ROUTER)) {
            collect(reader.readUnionState(OperatorIdentifier.forUid(Uids.ROUTER), "routing-plan", planType), plans);
        }
        RoutingPlan plan = plans.stream().max(java.util.Comparator.comparingLong(RoutingPlan::getVersion)).orElse(null);
        root.set("plan", plan == null ? null : planJson(plan));

        // 2. The forecaster.
        if (byUid.containsKey(Uids.FORECASTER)) {
            List<byte[]> bytes = new ArrayList<>();
            collect(reader.readListState(OperatorIdentifier.forUid(Uids.FORECASTER), "forecaster",
                    PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO), bytes);
            if (!bytes.isEmpty()) {
                LoadForecastEngine engine = new LoadForecastEngine(forecasterSettings);
                engine.restore(bytes.get(0));
                ObjectNode f = root.putObject("forecaster");
                f.put("windows", engine.windows());
                f.put("series", engine.seriesCount());
                f.put("mase", engine.mase());
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
        }

        // 3. Keyed state per key group, from the metadata.
        ObjectNode keyed = root.putObject("keyed_state_bytes_per_key_group");
        for (Map.Entry<String, OperatorState> e : byUid.entrySet()) {
            TreeMap<Integer, Long> sizes = keyGroupSizes(e.getValue());
            if (!sizes.isEmpty()) {
                ObjectNode op = keyed.putObject(e.getKey());
                op.put("parallelism", e.getValue().getParallelism());
                op.put("max_parallelism", e.getValue().getMaxParallelism());
                op.put("total", sizes.values().stream().mapToLong(Long::longValue).sum());
                ObjectNode kg = op.putObject("key_groups");
                sizes.forEach((g, b) -> kg.put(Integer.toString(g), b));
            }
        }
        return root;
    }

    private static <T> void collect(org.apache.flink.streaming.api.datastream.DataStream<T> stream, List<T> into)
            throws Exception {
        try (CloseableIterator<T> it = stream.executeAndCollect("inspect-savepoint")) {
            it.forEachRemaining(into::add);
        }
    }

    /** Bytes per key group of an operator's keyed state (canonical savepoints; empty for other handle kinds). */
    static TreeMap<Integer, Long> keyGroupSizes(OperatorState state) {
        TreeMap<Integer, Long> out = new TreeMap<>();
        for (OperatorSubtaskState sub : state.getStates()) {
            for (KeyedStateHandle h : sub.getManagedKeyedState()) {
                if (!(h instanceof KeyGroupsStateHandle kh)) {
                    continue;
                }
                List<Tuple2<Integer, Long>> offsets = new ArrayList<>();
                for (Tuple2<Integer, Long> t : kh.getGroupRangeOffsets()) {
                    offsets.add(t);
                }
                offsets.sort(java.util.Comparator.comparingLong(t -> t.f1));
                for (int i = 0; i < offsets.size(); i++) {
                    long end = i + 1 < offsets.size() ? offsets.get(i + 1).f1 : kh.getStateSize();
                    out.merge(offsets.get(i).f0, Math.max(0, end - offsets.get(i).f1), Long::sum);
                }
            }
        }
        return out;
    }

    static ObjectNode planJson(RoutingPlan plan) {
        ObjectNode n = new ObjectMapper().createObjectNode();
        int maxP = plan.getMaxParallelism();
        int p = plan.getParallelism();
        n.put("version", plan.getVersion());
        n.put("valid_until", time(plan.getValidUntil()));
        n.put("max_parallelism", maxP);
        n.put("parallelism", p);
        n.put("predicted_imbalance_before", plan.getPredictedImbalanceBefore());
        n.put("predicted_imbalance_after", plan.getPredictedImbalanceAfter());
        ArrayNode moved = n.putArray("moved_units");
        for (RouteEntry e : plan.getEntries()) {
            int natural = KeyGroupRangeAssignment.assignToKeyGroup(e.getKey(), maxP);
            Migration m = e.getMigration();
            int from = m != null ? e.getKeyGroup() : natural;
            int to = m != null ? m.getToKeyGroup() : e.getKeyGroup();
            ObjectNode u = moved.addObject();
            u.put("key", e.getKey());
            u.put("from_key_group", from);
            u.put("from_subtask", KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(maxP, p, from));
            u.put("to_key_group", to);
            u.put("to_subtask", KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(maxP, p, to));
            u.put("state", m != null ? "migrating" : "moved");
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
        var plan = r.get("plan");
        if (plan == null || plan.isNull()) {
            out.println("routing plan: none (a hash job, or no plan yet)");
        } else {
            out.printf("routing plan: version %d, lease until %s, %d key groups on %d subtasks, predicted imbalance "
                            + "%.3f -> %.3f, %d moved units%n", plan.get("version").asLong(), plan.get("valid_until").asText(),
                    plan.get("max_parallelism").asInt(), plan.get("parallelism").asInt(),
                    plan.get("predicted_imbalance_before").asDouble(), plan.get("predicted_imbalance_after").asDouble(),
                    plan.get("moved_units").size());
            for (var u : plan.get("moved_units")) {
                out.printf("  %-9s %-30s key group %3d (subtask %d) -> key group %3d (subtask %d)%s%n",
                        u.get("state").asText(), u.get("key").asText(), u.get("from_key_group").asInt(),
                        u.get("from_subtask").asInt(), u.get("to_key_group").asInt(), u.get("to_subtask").asInt(),
                        u.has("switch_at") ? ", shadow from " + u.get("shadow_from").asText() + ", switch at "
                                + u.get("switch_at").asText() : "");
            }
        }
        var f = r.get("forecaster");
        if (f != null) {
            out.printf("forecaster: %d windows observed, %d series, MASE %.3f, models chosen %s%n",
                    f.get("windows").asLong(), f.get("series").asInt(), f.get("mase").asDouble(), f.get("model_mix"));
            for (var s : f.get("tracked_series")) {
                if (s.get("unit").asText().equals("hot_key")) {
                    out.printf("  hot key %-30s key group %3d  %-28s last %10.1f  next %10.1f%n", s.get("key").asText(),
                            s.get("key_group").asInt(), s.get("model").asText(), s.get("last_observed").asDouble(),
                            s.get("next_forecast").asDouble());
                }
            }
        }
        var keyed = r.get("keyed_state_bytes_per_key_group");
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
            out.printf("keyed state of %s: %,d bytes in %d key groups (largest: key group %s, %,d bytes); "
                    + "--json lists every key group%n", e.getKey(), e.getValue().get("total").asLong(), kgs.size(), maxKg, max);
        });
    }
}
