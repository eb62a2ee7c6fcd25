package io.keyshift.forecast;

import io.keyshift.avro.LoadForecast;
import io.keyshift.metrics.KeyshiftMetrics;
import io.keyshift.profiler.WindowProfile;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.util.List;

/**
 * Flink operator (parallelism 1) around {@link LoadForecastEngine}: one {@link LoadForecast} per
 * {@link WindowProfile}, with the profile's timestamp. State: the engine, in operator list state (one byte array,
 * versioned format).
 */
public class LoadForecaster extends AbstractStreamOperator<LoadForecast>
        implements OneInputStreamOperator<WindowProfile, LoadForecast> {
    static {
        // before Flink restores this operator's state: an Avro serializer snapshot resolves keyshift's schema classes
        // by name, and a job's own classloader (on a cluster) has a fresh, untrusting Avro
        io.keyshift.config.AvroTrust.install();
    }


    private static final long serialVersionUID = 1L;

    private final LoadForecastEngine.Settings settings;
    private transient LoadForecastEngine engine;
    private transient ListState<byte[]> state;
    private transient Counter anomalies;
    private transient volatile double mase = Double.NaN;

    public LoadForecaster(LoadForecastEngine.Settings settings) {
        this.settings = settings;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        state = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("forecaster", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        engine = new LoadForecastEngine(settings);
        if (context.isRestored()) {
            for (byte[] bytes : state.get()) {
                engine.restore(bytes);
            }
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        anomalies = getMetricGroup().counter(KeyshiftMetrics.FORECAST_ANOMALIES);
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
        state.update(List.of(engine.toBytes()));
    }
}
