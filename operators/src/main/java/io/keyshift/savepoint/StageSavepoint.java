package io.keyshift.savepoint;

import io.keyshift.api.StageUids;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.config.AvroTrust;
import io.keyshift.forecast.LoadForecastEngine;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.state.KeyGroupsStateHandle;
import org.apache.flink.runtime.state.KeyedStateHandle;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.runtime.SavepointLoader;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A keyshift stage's own state in a savepoint, read with Flink's State Processor API: the planner's current
 * {@link RoutingPlan} (or the routers' if the planner has none), the forecaster ({@link LoadForecastEngine}, decoded
 * with the stage's forecaster settings) and the keyed state size per key group of every keyed operator, from the
 * savepoint's metadata (key-group offsets of canonical savepoints, bytes). Needs {@code flink-state-processor-api}.
 *
 * @param plan the newest plan, or null (a stage without plans yet, or a job without keyshift)
 * @param forecaster the forecaster, or null
 * @param keyedStateBytes per operator (its uid, or the operator id in hex if the uid is not known): key group to bytes
 */
public record StageSavepoint(long checkpointId, RoutingPlan plan, LoadForecastEngine forecaster,
                             Map<String, KeyedState> keyedStateBytes) {

    /**
     * An operator's keyed state in the savepoint: {@code total} bytes (its state handles', metadata included) and
     * the bytes of each key group that holds data.
     */
    public record KeyedState(int parallelism, int maxParallelism, long total, TreeMap<Integer, Long> bytesPerKeyGroup) {
    }

    /**
     * Reads the stage with uid prefix {@code uidPrefix} from the savepoint at {@code path}.
     *
     * @param forecasterSettings the stage's forecaster settings (window, seasons, models, max parallelism)
     * @param otherUids uids of other operators of the job, to name them in {@link #keyedStateBytes}
     * @throws IllegalArgumentException if none of the stage's operators is in the savepoint
     */
    public static StageSavepoint read(String path, String uidPrefix, LoadForecastEngine.Settings forecasterSettings,
                                      Collection<String> otherUids) throws Exception {
        return read(path, uidPrefix, forecasterSettings, otherUids, List.of());
    }

    /**
     * As {@link #read(String, String, LoadForecastEngine.Settings, Collection)}; an operator of {@code stageEvidence}
     * in the savepoint also counts as the stage's (a job that ran without the stage in its place, e.g. plain keyBy).
     */
    public static StageSavepoint read(String path, String uidPrefix, LoadForecastEngine.Settings forecasterSettings,
                                      Collection<String> otherUids, Collection<String> stageEvidence) throws Exception {
        AvroTrust.install();
        CheckpointMetadata meta = SavepointLoader.loadSavepointMetadata(path);
        StreamExecutionEnvironment env = LocalReader.environment();
        env.setRuntimeMode(RuntimeExecutionMode.BATCH);
        env.setParallelism(1);
        SavepointReader reader = SavepointReader.read(env, path);
        Map<OperatorID, String> uids = new LinkedHashMap<>();
        List<String> known = new ArrayList<>(StageUids.all(uidPrefix));
        known.addAll(otherUids);
        for (String uid : known) {
            uids.put(OperatorIdentifier.forUid(uid).getOperatorId(), uid);
        }
        Map<String, OperatorState> byUid = new TreeMap<>();
        for (OperatorState s : meta.getOperatorStates()) {
            byUid.put(uids.getOrDefault(s.getOperatorID(), s.getOperatorID().toHexString()), s);
        }
        // the stage's own operators (or a caller's uid that stands for the stage, e.g. the command line's hash window;
        // not its source, which every job of the command line has)
        List<String> evidence = new ArrayList<>(StageUids.all(uidPrefix));
        evidence.addAll(stageEvidence);
        if (evidence.stream().noneMatch(byUid::containsKey)) {
            throw new IllegalArgumentException("no keyshift stage with uid prefix '" + uidPrefix + "' in " + path
                    + " (a job without keyshift, or a stage with another prefix: pass it with --uid-prefix)");
        }
        // every operator's keyed state: the key-group sizes are read from the canonical form only, and a checkpoint
        // in a native form would show none without a word
        for (OperatorState state : byUid.values()) {
            for (OperatorSubtaskState sub : state.getStates()) {
                for (KeyedStateHandle h : sub.getManagedKeyedState()) {
                    if (!(h instanceof KeyGroupsStateHandle)) {
                        throw new IllegalArgumentException(path + " holds keyed state in a backend's native form ("
                                + h.getClass().getSimpleName() + ", e.g. an incremental RocksDB checkpoint), which the "
                                + "State Processor API here cannot read: inspect a savepoint (canonical format)");
                    }
                }
            }
        }
        OperatorState forecasterState = byUid.get(StageUids.forecaster(uidPrefix));
        if (forecasterState != null && forecasterState.getMaxParallelism() != forecasterSettings.maxParallelism()) {
            // the savepoint's own max parallelism (the job's pipeline.max-parallelism), not the reader's configuration
            forecasterSettings = forecasterSettings.withMaxParallelism(forecasterState.getMaxParallelism());
        }

        List<RoutingPlan> plans = new ArrayList<>();
        AvroTypeInfo<RoutingPlan> planType = new AvroTypeInfo<>(RoutingPlan.class);
        String planner = StageUids.planner(uidPrefix);
        String router = StageUids.router(uidPrefix);
        if (byUid.containsKey(planner)) {
            collect(reader.readListState(OperatorIdentifier.forUid(planner), "routing-plan", planType), plans);
        }
        if (plans.isEmpty() && byUid.containsKey(router)) {
            collect(reader.readListState(OperatorIdentifier.forUid(router), "routing-plan", planType), plans);
        }
        RoutingPlan plan = plans.stream().max(Comparator.comparingLong(RoutingPlan::getVersion)).orElse(null);

        LoadForecastEngine engine = null;
        String forecaster = StageUids.forecaster(uidPrefix);
        if (byUid.containsKey(forecaster)) {
            List<byte[]> bytes = new ArrayList<>();
            collect(reader.readListState(OperatorIdentifier.forUid(forecaster), "forecaster",
                    PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO), bytes);
            if (bytes.isEmpty()) {
                // this version's layout: keyed state under one key (see LoadForecaster)
                collect(reader.readKeyedState(OperatorIdentifier.forUid(forecaster),
                        new ForecasterStateReader(forecasterSettings), Types.INT,
                        PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO), bytes);
            }
            if (!bytes.isEmpty()) {
                engine = new LoadForecastEngine(forecasterSettings);
                engine.restore(bytes.get(0));
            }
        }

        Map<String, KeyedState> keyed = new TreeMap<>();
        for (Map.Entry<String, OperatorState> e : byUid.entrySet()) {
            long total = 0;
            for (OperatorSubtaskState sub : e.getValue().getStates()) {
                for (KeyedStateHandle h : sub.getManagedKeyedState()) {
                    total += h instanceof KeyGroupsStateHandle kh ? kh.getStateSize() : 0;
                }
            }
            if (total > 0) {
                keyed.put(e.getKey(), new KeyedState(e.getValue().getParallelism(), e.getValue().getMaxParallelism(),
                        total, keyGroupSizes(e.getValue())));
            }
        }
        return new StageSavepoint(meta.getCheckpointId(), plan, engine, keyed);
    }

    /** The forecaster's keyed state as one engine, in {@link LoadForecastEngine#toBytes()} form. */
    static final class ForecasterStateReader
            extends org.apache.flink.state.api.functions.KeyedStateReaderFunction<Integer, byte[]> {
        private static final long serialVersionUID = 1L;
        private final LoadForecastEngine.Settings settings;
        private transient LoadForecastEngine.StateStore store;

        ForecasterStateReader(LoadForecastEngine.Settings settings) {
            this.settings = settings;
        }

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext context) {
            var ctx = getRuntimeContext();
            store = io.keyshift.forecast.LoadForecaster.store(
                    ctx.getState(io.keyshift.forecast.LoadForecaster.headerDescriptor()),
                    ctx.getMapState(io.keyshift.forecast.LoadForecaster.seriesDescriptor()),
                    ctx.getMapState(io.keyshift.forecast.LoadForecaster.historyDescriptor()));
        }

        @Override
        public void readKey(Integer key, Context ctx, org.apache.flink.util.Collector<byte[]> out) throws Exception {
            LoadForecastEngine engine = new LoadForecastEngine(settings);
            engine.restore(store);
            out.collect(engine.toBytes());
        }
    }

    /**
     * The routing-key hash format ({@link io.keyshift.route.KeyGroupHashTable}) of the routers of the stage with uid
     * prefix {@code uidPrefix} in the savepoint at {@code path}: the format their state names; 1 for routers of a build
     * before 2026-12-04, whose state names none (a restore of them needs {@code keyshift.route.hash-format: 1}); null
     * if the savepoint holds no state of the stage's routers (a bootstrap savepoint: the stage starts anew).
     */
    public static Integer routingKeyHashFormat(String path, String uidPrefix) throws Exception {
        // reading the broadcast state restores every state of the routers, keyshift's Avro records among them (as
        // read does; a program that calls only this had them refused by Avro's class trust)
        AvroTrust.install();
        CheckpointMetadata meta = SavepointLoader.loadSavepointMetadata(path);
        OperatorIdentifier router = OperatorIdentifier.forUid(StageUids.router(uidPrefix));
        boolean any = false;
        boolean named = false;
        for (OperatorState state : meta.getOperatorStates()) {
            if (!state.getOperatorID().equals(router.getOperatorId())) {
                continue;
            }
            for (OperatorSubtaskState sub : state.getStates()) {
                for (org.apache.flink.runtime.state.OperatorStateHandle h : sub.getManagedOperatorState()) {
                    any = true;
                    named |= h.getStateNameToPartitionOffsets()
                            .containsKey(io.keyshift.route.KeyshiftRouter.HASH_FORMAT_STATE);
                }
            }
        }
        if (!named) {
            return any ? io.keyshift.route.KeyGroupHashTable.FORMAT_PREIMAGE_TABLE : null;
        }
        StreamExecutionEnvironment env = LocalReader.environment();
        env.setRuntimeMode(RuntimeExecutionMode.BATCH);
        env.setParallelism(1);
        List<Tuple2<String, Integer>> entries = new ArrayList<>();
        collect(SavepointReader.read(env, path).readBroadcastState(router,
                io.keyshift.route.KeyshiftRouter.HASH_FORMAT_STATE, Types.STRING, Types.INT), entries);
        return entries.stream().filter(e -> "format".equals(e.f0)).map(e -> e.f1).findFirst()
                .orElse(io.keyshift.route.KeyGroupHashTable.FORMAT_PREIMAGE_TABLE);
    }

    /**
     * Largest record the readers collect: the forecaster's engine is one record (about 6.5 KB per series once a
     * season is held, 92 MB for 14,000 series), beyond Flink's default collect batch of 2 MB from a few hundred series.
     */
    static final org.apache.flink.configuration.MemorySize MAX_RECORD =
            org.apache.flink.configuration.MemorySize.ofMebiBytes(1024);

    static <T> void collect(DataStream<T> stream, List<T> into) throws Exception {
        // the collect sink takes its batch size from the environment's configuration when the stream is collected
        stream.getExecutionEnvironment().configure(new org.apache.flink.configuration.Configuration().set(
                org.apache.flink.streaming.api.operators.collect.CollectSinkOperatorFactory.MAX_BATCH_SIZE,
                MAX_RECORD));
        try (CloseableIterator<T> it = stream.executeAndCollect("keyshift savepoint reader")) {
            it.forEachRemaining(into::add);
        }
    }

    /**
     * Bytes per key group of an operator's keyed state, for the key groups that hold any (canonical savepoints; empty
     * for other handle kinds).
     */
    static TreeMap<Integer, Long> keyGroupSizes(OperatorState state) {
        TreeMap<Integer, Long> out = new TreeMap<>();
        for (OperatorSubtaskState sub : state.getStates()) {
            for (KeyedStateHandle h : sub.getManagedKeyedState()) {
                if (!(h instanceof KeyGroupsStateHandle kh)) {
                    continue;
                }
                List<Tuple2<Integer, Long>> offsets = new ArrayList<>();
                for (Tuple2<Integer, Long> t : kh.getGroupRangeOffsets()) {
                    // a canonical savepoint sets the offsets of the key groups it wrote only: the others stay 0, where
                    // the stream's header lies
                    if (t.f1 > 0) {
                        offsets.add(t);
                    }
                }
                offsets.sort(Comparator.comparingLong(t -> t.f1));
                for (int i = 0; i < offsets.size(); i++) {
                    long end = i + 1 < offsets.size() ? offsets.get(i + 1).f1 : kh.getStateSize();
                    out.merge(offsets.get(i).f0, Math.max(0, end - offsets.get(i).f1), Long::sum);
                }
            }
        }
        return out;
    }
}
