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
 *
 * <p>With a control input (second input, the stage's command lines keyed by {@link SingleLineKey}) it takes the
 * {@code anomaly-z} commands: each profile waits until the control input's watermark has passed its window's end,
 * then is observed with the anomaly z of the last command whose time is before that end (the configured one without
 * any), so a bounded control input gives the same forecasts on every run. Other commands are the planner's.
 */
public class LoadForecaster extends AbstractStreamOperator<LoadForecast>
        implements OneInputStreamOperator<WindowProfile, LoadForecast>,
        org.apache.flink.streaming.api.operators.TwoInputStreamOperator<WindowProfile, String, LoadForecast> {
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
    /** With a control input: profiles waiting for its watermark, and anomaly-z commands not yet applied. */
    private transient java.util.ArrayDeque<WindowProfile> held;
    private transient java.util.List<io.keyshift.control.ControlCommand> pendingZ;
    private transient double anomalyZ;
    /** True once an anomaly-z command has set {@link #anomalyZ}. */
    private transient boolean commandZ;
    private transient long controlWatermark;
    private transient long profileWatermark;
    private transient long forwardedWatermark;
    private transient org.apache.flink.api.common.state.ListState<WindowProfile> heldStore;
    private transient org.apache.flink.api.common.state.ListState<String> pendingStore;
    private transient ValueState<Double> anomalyZStore;
    private transient ListState<byte[]> legacy;
    private transient boolean legacyRestored;
    private transient LoadForecastEngine.StateStore store;
    private transient Counter anomalies;
    private transient Counter stateEntries;
    private transient volatile double mase = Double.NaN;

    public LoadForecaster(LoadForecastEngine.Settings settings) {
        this.settings = settings;
    }

    /** Whether a control input is connected (second input). */
    private boolean controlled;

    /** Processing time, ms, profiles may wait for the control input's watermark before the task fails; 0: never. */
    private long controlWatermarkTimeoutMillis =
            io.keyshift.config.RouteOptions.NO_WATERMARK_TIMEOUT.defaultValue().toMillis();
    private transient io.keyshift.control.ControlWatermarkWait controlWait;

    /** Keys are pseudonyms ({@code keyshift.privacy.key-secret}): a restored state naming raw keys is refused. */
    private boolean pseudonymousKeys;

    /** How the stage names keys ({@code KeyCodec#naming}); null: not checked against a restored bootstrap's. */
    private String keyNaming;

    /**
     * Refuses, at a restore, forecaster state written by {@code bootstrap} under another key naming (another key
     * secret, or with or without one): its hot keys would be names no router uses.
     */
    public LoadForecaster withKeyNaming(String naming) {
        this.keyNaming = naming;
        return this;
    }

    /** Marks this forecaster's keys as pseudonyms (the stage has a key secret); returns it. */
    public LoadForecaster withPseudonymousKeys(boolean pseudonymous) {
        this.pseudonymousKeys = pseudonymous;
        return this;
    }

    /** Length (ms) of the stage's planning windows; 0: not known (a restored state's is then not checked). */
    private long windowMillis;

    /**
     * The stage's planning window ({@code keyshift.window}, ms &gt; 0): a restored state learnt from windows of another
     * length fails the job at once, naming both (its series would forecast, say, hours from days); returns it.
     */
    public LoadForecaster withWindow(long windowMillis) {
        if (windowMillis <= 0) {
            throw new IllegalArgumentException("the planning window must be > 0 ms, was " + windowMillis);
        }
        this.windowMillis = windowMillis;
        return this;
    }

    /** Marks this forecaster as connected to a control input (its second input); returns it. */
    public LoadForecaster withControlInput() {
        this.controlled = true;
        return this;
    }

    /**
     * How long (processing time; 0: never) profiles may wait for the control input's watermark, with none released,
     * before the task fails naming the cause ({@link io.keyshift.control.ControlWatermarkWait};
     * {@code keyshift.route.no-watermark-timeout}).
     */
    public LoadForecaster withControlWatermarkTimeout(java.time.Duration timeout) {
        this.controlWatermarkTimeoutMillis = timeout.toMillis();
        return this;
    }

    /** Keys every profile by {@link #KEY}: put {@code keyBy(new SingleKey())} before this operator. */
    public static final class SingleKey implements KeySelector<WindowProfile, Integer> {
        private static final long serialVersionUID = 1L;

        @Override
        public Integer getKey(WindowProfile value) {
            return KEY;
        }
    }

    /** Keys every control line by {@link #KEY}, to meet the profiles: {@code control.keyBy(new SingleLineKey())}. */
    public static final class SingleLineKey implements KeySelector<String, Integer> {
        private static final long serialVersionUID = 1L;

        @Override
        public Integer getKey(String value) {
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
        io.keyshift.config.JobOptions.checkOneSubtask("forecaster",
                getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks());
        legacy = context.getOperatorStateStore().getListState(legacyDescriptor());
        var keyed = context.getKeyedStateStore();
        if (keyed == null) {
            throw new IllegalStateException("the keyshift forecaster needs a keyed input: keyBy(new "
                    + "LoadForecaster.SingleKey()) before it");
        }
        store = store(keyed.getState(headerDescriptor()), keyed.getMapState(seriesDescriptor()),
                keyed.getMapState(historyDescriptor()));
        engine = new LoadForecastEngine(settings).withKeyNaming(keyNaming);
        held = new java.util.ArrayDeque<>();
        pendingZ = new java.util.ArrayList<>();
        anomalyZ = settings.anomalyZ();
        controlWatermark = Long.MIN_VALUE;
        profileWatermark = Long.MIN_VALUE;
        forwardedWatermark = Long.MIN_VALUE;
        heldStore = keyed.getListState(new ListStateDescriptor<>("forecaster-held-profiles",
                org.apache.flink.api.common.typeinfo.TypeInformation.of(WindowProfile.class)));
        pendingStore = keyed.getListState(new ListStateDescriptor<>("forecaster-pending-control", Types.STRING));
        anomalyZStore = keyed.getState(new ValueStateDescriptor<>("forecaster-anomaly-z", Types.DOUBLE));
        if (context.isRestored()) {
            setCurrentKey(KEY);
            for (WindowProfile p : heldStore.get()) {
                held.add(p);
            }
            for (String line : pendingStore.get()) {
                // as the build that kept it accepted it (a strict parse of a line it took failed every restore)
                pendingZ.add(io.keyshift.control.ControlCommand.parseKept(line));
            }
            Double z = anomalyZStore.value();
            if (z != null) {
                // set by an anomaly-z command (the configured value is not stored, so a new configuration applies)
                anomalyZ = z;
                commandZ = true;
            }
            for (byte[] bytes : legacy.get()) {
                engine.restore(bytes);
                legacyRestored = true;
            }
            if (!legacyRestored) {
                setCurrentKey(KEY);
                engine.restore(store);
            }
            if (windowMillis > 0 && engine.windowMillis() > 0) {
                // a savepoint or a bootstrap's (explicit keyshift.forecast.seasons give the same models for hourly
                // and daily windows, so the model list alone does not tell)
                io.keyshift.config.JobOptions.checkRestoredWindow("the forecaster's series", engine.windowMillis(),
                        windowMillis);
            }
            if (pseudonymousKeys && !engine.trackedKeys().stream().allMatch(
                    io.keyshift.route.KeyPseudonymizer::isPseudonym)) {
                // no raw key may enter a stage with a key secret (its forecasts, plans and later savepoints would
                // carry it); the message names none
                throw io.keyshift.config.JobOptions.unrecoverable("the forecaster's restored state names keys raw (a "
                        + "savepoint of a stage without " + io.keyshift.config.PrivacyOptions.KEY_SECRET.key()
                        + ", or written by bootstrap without it), and this stage pseudonymizes its keys: restore a "
                        + "savepoint taken with the secret, run bootstrap with the same secret, or start the stage "
                        + "without the forecaster's state");
            }
            // the restored error sums' MASE, not NaN until the next window (a day with daily windows)
            mase = engine.mase();
        }
    }

    /** What the {@code keyshiftForecastMase} gauge reads: the running MASE, NaN before any error was scored. */
    double maseGauge() {
        return mase;
    }

    @Override
    public void open() throws Exception {
        super.open();
        anomalies = getMetricGroup().counter(KeyshiftMetrics.FORECAST_ANOMALIES);
        stateEntries = getMetricGroup().counter(KeyshiftMetrics.FORECAST_STATE_ENTRIES);
        getMetricGroup().gauge(KeyshiftMetrics.FORECAST_SERIES, () -> engine.seriesCount());
        getMetricGroup().gauge(KeyshiftMetrics.FORECAST_MASE, this::maseGauge);
        getMetricGroup().gauge(KeyshiftMetrics.FORECAST_ANOMALY_Z, () -> anomalyZ);
        if (controlled) {
            controlWait = new io.keyshift.control.ControlWatermarkWait(controlWatermarkTimeoutMillis,
                    getProcessingTimeService(), () -> held.size() + " window profiles, the first of the window "
                            + "ending at "
                            + java.time.Instant.ofEpochMilli(held.isEmpty() ? 0 : held.peekFirst().windowEnd)
                            + ", waited for the control input's watermark, "
                            + (controlWatermark == Long.MIN_VALUE ? "none so far"
                            : "at " + java.time.Instant.ofEpochMilli(controlWatermark)));
        }
    }

    @Override
    public void processElement(StreamRecord<WindowProfile> element) {
        // restored from a job that had a control input: the profiles it held come first (windows in order)
        while (!held.isEmpty()) {
            WindowProfile p = held.pollFirst();
            observe(p, p.windowEnd - 1);
        }
        observe(element.getValue(), element.getTimestamp());
    }

    private void observe(WindowProfile p, long timestamp) {
        LoadForecast f = engine.observe(p, anomalyZ);
        anomalies.inc(f.getAnomalies());
        mase = engine.mase();
        output.collect(new StreamRecord<>(f, timestamp));
    }

    /** A profile, with a control input: observed once the control input's watermark has passed its window's end. */
    @Override
    public void processElement1(StreamRecord<WindowProfile> element) throws Exception {
        held.addLast(element.getValue());
        drain();
    }

    /** A control line: anomaly-z commands are kept; the rest, and bad lines, are the planner's business. */
    @Override
    public void processElement2(StreamRecord<String> element) {
        try {
            io.keyshift.control.ControlCommand c = io.keyshift.control.ControlCommand.parse(element.getValue());
            if (c != null && c.type() == io.keyshift.control.ControlCommand.Type.ANOMALY_Z) {
                pendingZ.add(c);
            }
        } catch (IllegalArgumentException e) {
            // refused and dead-lettered by the planner, which reads the same lines
        }
    }

    /**
     * One input: the profiles' watermark, after any profiles held by a restored job that had a control input. With a
     * control input Flink calls this only with a combined watermark after an input's status change, which is not the
     * profiles' progress: ignored (see {@link #processWatermark1}).
     */
    @Override
    public void processWatermark(org.apache.flink.streaming.api.watermark.Watermark mark) throws Exception {
        if (controlled) {
            return;
        }
        while (!held.isEmpty()) {
            WindowProfile p = held.pollFirst();
            observe(p, p.windowEnd - 1);
        }
        super.processWatermark(mark);
    }

    @Override
    public void processWatermark1(org.apache.flink.streaming.api.watermark.Watermark mark) throws Exception {
        profileWatermark = Math.max(profileWatermark, mark.getTimestamp());
        drain();
    }

    @Override
    public void processWatermark2(org.apache.flink.streaming.api.watermark.Watermark mark) throws Exception {
        controlWatermark = Math.max(controlWatermark, mark.getTimestamp());
        drain();
    }

    private void drain() throws Exception {
        boolean released = false;
        while (!held.isEmpty() && controlWatermark >= held.peekFirst().windowEnd - 1) {
            released = true;
            WindowProfile p = held.pollFirst();
            // commands in time order (stable: same time, arrival order) up to the window's end; one of "now" holds
            // from this window on, after the timed ones due here
            long due = p.windowEnd - 1;
            pendingZ.sort(java.util.Comparator.<io.keyshift.control.ControlCommand>comparingLong(
                    c -> c.at() == io.keyshift.control.ControlCommand.NOW ? due : c.at())
                    .thenComparing(c -> c.at() == io.keyshift.control.ControlCommand.NOW));
            while (!pendingZ.isEmpty() && pendingZ.get(0).at() < p.windowEnd) {
                anomalyZ = pendingZ.remove(0).anomalyZ();
                commandZ = true;
            }
            observe(p, p.windowEnd - 1);
        }
        // while profiles wait, time may still advance up to just before the first of them (its forecast's time is
        // its window's end - 1), so that a control input that lags far behind cannot stall what follows
        if (controlWait != null) {
            controlWait.afterDrain(!held.isEmpty(), released);
        }
        long wm = held.isEmpty() ? profileWatermark : Math.min(profileWatermark, held.peekFirst().windowEnd - 2);
        if (wm > forwardedWatermark) {
            forwardedWatermark = wm;
            output.emitWatermark(new org.apache.flink.streaming.api.watermark.Watermark(wm));
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        // before the keyed state backend takes its snapshot (Flink calls this first): what changed since the last one
        setCurrentKey(KEY);
        stateEntries.inc(engine.writeChanges(store));
        heldStore.update(new java.util.ArrayList<>(held));
        java.util.List<String> lines = new java.util.ArrayList<>();
        for (io.keyshift.control.ControlCommand c : pendingZ) {
            lines.add(c.line());
        }
        pendingStore.update(lines);
        if (commandZ) {
            anomalyZStore.update(anomalyZ);
        } else {
            anomalyZStore.clear();
        }
        if (legacyRestored) {
            legacy.clear();
            legacyRestored = false;
        }
    }
}
