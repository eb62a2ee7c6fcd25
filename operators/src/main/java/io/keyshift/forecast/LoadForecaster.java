package io.keyshift.forecast;

import io.keyshift.avro.LoadForecast;
import io.keyshift.metrics.KeyshiftMetrics;
import io.keyshift.profiler.WindowProfile;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Flink operator (parallelism 1) around {@link LoadForecastEngine}: one {@link LoadForecast} per
 * {@link WindowProfile}, with the profile's timestamp.
 *
 * <p>State: keyed state under one key ({@link SingleKey}: the input is keyed so that the engine's state lives in the
 * job's keyed state backend), entry by entry ({@link LoadForecastEngine.StateStore}): a header, each series' models
 * and its history in chunks of {@link LoadForecastEngine#CHUNK} values. Each checkpoint writes only what changed
 * since the last one (the models of the series observed since, about 0.8 KB each, and the history chunks that took
 * the new values); on RocksDB with incremental checkpoints only those entries are uploaded, instead of the whole
 * engine (6.5 KB per series with a daily season of 1-minute windows) as the operator list state of earlier versions
 * did. That list state ({@code forecaster}, one versioned byte array; also what {@link
 * io.keyshift.savepoint.ForecasterBootstrap} writes) is still read on restore and moved into keyed state.
 */
public class LoadForecaster extends AbstractStreamOperator<LoadForecast>
        implements OneInputStreamOperator<WindowProfile, LoadForecast> {
    static {
        // before Flink restores this operator's state: an Avro serializer snapshot resolves keyshift's schema classes
        // by name, and a job's own classloader (on a cluster) has a fresh, untrusting Avro
        io.keyshift.config.AvroTrust.install();
    }

    private static final long serialVersionUID = 1L;
    /** The one key of the forecaster's keyed state. */
    public static final Integer KEY = 0;

    private final LoadForecastEngine.Settings settings;
    private transient LoadForecastEngine engine;
    private transient ListState<byte[]> legacy;
    private transient boolean legacyRestored;
    private transient LoadForecastEngine.StateStore store;
    private transient Counter anomalies;
    private transient Counter stateEntries;
    private transient volatile double mase = Double.NaN;

    public LoadForecaster(LoadForecastEngine.Settings settings) {
        this.settings = settings;
    }

    /** Keys every profile by {@link #KEY}: put {@code keyBy(new SingleKey())} before this operator. */
    public static final class SingleKey implements KeySelector<WindowProfile, Integer> {
        private static final long serialVersionUID = 1L;

        @Override
        public Integer getKey(WindowProfile value) {
            return KEY;
        }
    }

    /** Descriptors of the keyed state (also read by {@link io.keyshift.savepoint.StageSavepoint}). */
    public static ValueStateDescriptor<byte[]> headerDescriptor() {
        return new ValueStateDescriptor<>("forecaster-header", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
    }

    /** Series id to its models. */
    public static MapStateDescriptor<String, byte[]> seriesDescriptor() {
        return new MapStateDescriptor<>("forecaster-series", Types.STRING,
                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
    }

    /** Series id + "#" + chunk index to the chunk's history values. */
    public static MapStateDescriptor<String, byte[]> historyDescriptor() {
        return new MapStateDescriptor<>("forecaster-history", Types.STRING,
                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
    }

    /** The operator list state of earlier versions (and of {@link io.keyshift.savepoint.ForecasterBootstrap}). */
    public static ListStateDescriptor<byte[]> legacyDescriptor() {
        return new ListStateDescriptor<>("forecaster", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
    }

    /** A {@link LoadForecastEngine.StateStore} over the three keyed states, at whatever key is current. */
    public static LoadForecastEngine.StateStore store(ValueState<byte[]> header, MapState<String, byte[]> series,
                                                      MapState<String, byte[]> history) {
        return new LoadForecastEngine.StateStore() {
            @Override
            public byte[] header() throws Exception {
                return header.value();
            }

            @Override
            public void putHeader(byte[] bytes) throws Exception {
                header.update(bytes);
            }

            @Override
            public byte[] series(String id) throws Exception {
                return series.get(id);
            }

            @Override
            public void putSeries(String id, byte[] models) throws Exception {
                series.put(id, models);
            }

            @Override
            public byte[] chunk(String id, int chunk) throws Exception {
                return history.get(id + "#" + chunk);
            }

            @Override
            public void putChunk(String id, int chunk, byte[] values) throws Exception {
                history.put(id + "#" + chunk, values);
            }

            @Override
            public void remove(String id, int chunks) throws Exception {
                series.remove(id);
                for (int c = 0; c < chunks; c++) {
                    history.remove(id + "#" + c);
                }
            }
        };
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        legacy = context.getOperatorStateStore().getListState(legacyDescriptor());
        var keyed = context.getKeyedStateStore();
        if (keyed == null) {
            throw new IllegalStateException("the keyshift forecaster needs a keyed input: keyBy(new "
                    + "LoadForecaster.SingleKey()) before it");
        }
        store = store(keyed.getState(headerDescriptor()), keyed.getMapState(seriesDescriptor()),
                keyed.getMapState(historyDescriptor()));
        engine = new LoadForecastEngine(settings);
        if (context.isRestored()) {
            for (byte[] bytes : legacy.get()) {
                engine.restore(bytes);
                legacyRestored = true;
            }
            if (!legacyRestored) {
                setCurrentKey(KEY);
                engine.restore(store);
            }
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        anomalies = getMetricGroup().counter(KeyshiftMetrics.FORECAST_ANOMALIES);
        stateEntries = getMetricGroup().counter(KeyshiftMetrics.FORECAST_STATE_ENTRIES);
        getMetricGroup().gauge(KeyshiftMetrics.FORECAST_SERIES, () -> engine.seriesCount());
        getMetricGroup().gauge(KeyshiftMetrics.FORECAST_MASE, () -> mase);
    }

    @Override
    public void processElement(StreamRecord<WindowProfile> element) {
        LoadForecast f = engine.observe(element.getValue());
        anomalies.inc(f.getAnomalies());
        mase = engine.mase();
        output.collect(new StreamRecord<>(f, element.getTimestamp()));
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        // before the keyed state backend takes its snapshot (Flink calls this first): what changed since the last one
        setCurrentKey(KEY);
        stateEntries.inc(engine.writeChanges(store));
        if (legacyRestored) {
            legacy.clear();
            legacyRestored = false;
        }
    }
}
