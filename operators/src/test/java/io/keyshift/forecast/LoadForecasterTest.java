package io.keyshift.forecast;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyshift.avro.LoadForecast;
import io.keyshift.profiler.WindowProfile;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The forecaster operator across a checkpoint and a restore (heap and RocksDB keyed state): its forecasts equal an
 * uninterrupted engine's, with and without a control input whose anomaly-z command is still pending at the
 * checkpoint while profiles wait for the control watermark.
 */
class LoadForecasterTest {
    static {
        io.keyshift.config.AvroTrust.install();
    }

    private static final long W = 3_600_000L;

    private static List<WindowProfile> profiles(int n) {
        Random r = new Random(11);
        List<WindowProfile> out = new ArrayList<>();
        for (int t = 0; t < n; t++) {
            out.add(ForecasterKeyedStateTest.profile(t, r));
        }
        return out;
    }

    /** The engine fed directly: z = 1 for the windows that end after {@code zAt}, else the configured 4. */
    private static List<LoadForecast> reference(List<WindowProfile> ps, long zAt) {
        LoadForecastEngine e = new LoadForecastEngine(ForecasterKeyedStateTest.SETTINGS);
        List<LoadForecast> out = new ArrayList<>();
        for (WindowProfile p : ps) {
            out.add(e.observe(p, zAt < p.windowEnd ? 1.0 : ForecasterKeyedStateTest.SETTINGS.anomalyZ()));
        }
        return out;
    }

    private static List<LoadForecast> forecasts(AbstractStreamOperatorTestHarness<LoadForecast> h) {
        List<LoadForecast> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                out.add((LoadForecast) r.getValue());
            }
        }
        return out;
    }

    /** A forecaster without a control input, on heap or RocksDB keyed state (128 key groups, one subtask). */
    private static KeyedOneInputStreamOperatorTestHarness<Integer, WindowProfile, LoadForecast> oneInput(
            boolean rocksdb) throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(new LoadForecaster(ForecasterKeyedStateTest.SETTINGS),
                new LoadForecaster.SingleKey(), Types.INT, 128, 1, 0);
        backend(h, rocksdb);
        return h;
    }

    /**
     * A state naming raw keys (a savepoint or bootstrap without the key secret) restored into a stage with one is
     * refused for good, naming the option and no key: the raw keys would reach its forecasts, plans and savepoints.
     */
    @Test
    void aRawKeyedStateIsRefusedByAStageWithAKeySecret() throws Exception {
        OperatorSubtaskState snapshot;
        List<WindowProfile> ps = profiles(30);
        try (var h = oneInput(false)) {
            h.open();
            for (WindowProfile p : ps) {
                h.processElement(p, p.windowEnd - 1);
            }
            snapshot = h.snapshot(1, 0);
        }
        var secret = new KeyedOneInputStreamOperatorTestHarness<>(new LoadForecaster(ForecasterKeyedStateTest.SETTINGS)
                .withPseudonymousKeys(true), new LoadForecaster.SingleKey(), Types.INT, 128, 1, 0);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
            secret.initializeState(snapshot);
            secret.open();
        }).isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("names keys raw").hasStackTraceContaining("keyshift.privacy.key-secret")
                .satisfies(e -> assertThat(stackTrace(e)).doesNotContain("'" + ps.get(29).hotKeys[0] + "'"));
        secret.close();
    }

    /**
     * A forecaster state learnt from hourly windows, restored into a stage whose keyshift.window is a day, fails the
     * job at the restore (not a window later), naming the option and both lengths; the same window restores.
     */
    @Test
    void aStateOfAnotherWindowLengthIsRefusedAtTheRestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = oneInput(false)) {
            h.open();
            for (WindowProfile p : profiles(10)) {
                h.processElement(p, p.windowEnd - 1);
            }
            snapshot = h.snapshot(1, 0);
        }
        var daily = new KeyedOneInputStreamOperatorTestHarness<>(new LoadForecaster(ForecasterKeyedStateTest.SETTINGS)
                .withWindow(86_400_000L), new LoadForecaster.SingleKey(), Types.INT, 128, 1, 0);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> daily.initializeState(snapshot))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("keyshift.window").hasStackTraceContaining("PT1H")
                .hasStackTraceContaining("PT24H");
        daily.close();
        try (var hourly = new KeyedOneInputStreamOperatorTestHarness<>(
                new LoadForecaster(ForecasterKeyedStateTest.SETTINGS).withWindow(W), new LoadForecaster.SingleKey(),
                Types.INT, 128, 1, 0)) {
            hourly.initializeState(snapshot);
            hourly.open();
            WindowProfile next = profiles(11).get(10);
            hourly.processElement(next, next.windowEnd - 1);
            assertThat(forecasts(hourly)).hasSize(1);
        }
    }

    private static String stackTrace(Throwable e) {
        java.io.StringWriter w = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(w));
        return w.toString();
    }

    /** A forecaster with a control input (its second input). */
    private static KeyedTwoInputStreamOperatorTestHarness<Integer, WindowProfile, String, LoadForecast> twoInput(
            boolean rocksdb) throws Exception {
        var h = new KeyedTwoInputStreamOperatorTestHarness<>(
                new LoadForecaster(ForecasterKeyedStateTest.SETTINGS).withControlInput(),
                new LoadForecaster.SingleKey(), new LoadForecaster.SingleLineKey(), Types.INT, 128, 1, 0);
        backend(h, rocksdb);
        return h;
    }

    private static void backend(AbstractStreamOperatorTestHarness<?> h, boolean rocksdb) {
        if (rocksdb) {
            h.setStateBackend(new EmbeddedRocksDBStateBackend(true));
        }
    }

    /**
     * Profiles held for a control input whose watermark stops short of them fail the task after the timeout, naming
     * the cause (without it, no plan would ever come); while profiles are released, the wait starts afresh.
     */
    @org.junit.jupiter.api.Test
    void profilesHeldForAControlWatermarkThatNeverComesFailTheTaskNamingTheCause() throws Exception {
        List<WindowProfile> ps = profiles(10);
        try (var h = new KeyedTwoInputStreamOperatorTestHarness<>(
                new LoadForecaster(ForecasterKeyedStateTest.SETTINGS).withControlInput()
                        .withControlWatermarkTimeout(java.time.Duration.ofSeconds(30)),
                new LoadForecaster.SingleKey(), new LoadForecaster.SingleLineKey(), Types.INT, 128, 1, 0)) {
            h.open();
            h.setProcessingTime(0);
            for (int t = 0; t < 10; t++) {
                h.processElement1(ps.get(t), ps.get(t).windowEnd - 1);
            }
            h.setProcessingTime(20_000);
            h.processWatermark2(new Watermark(5 * W - 1)); // windows 0..4 go at 20 s; 5..9 wait from then
            assertThat(forecasts(h)).hasSize(5);
            h.setProcessingTime(49_999);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> h.setProcessingTime(50_000))
                    .hasStackTraceContaining("held the plans back for 30 s")
                    .hasStackTraceContaining("5 window profiles")
                    .hasStackTraceContaining("ControlInputs.liveWatermarks()");
        }
    }

    @ParameterizedTest(name = "rocksdb={0}")
    @ValueSource(booleans = {false, true})
    void aRestoredForecasterForecastsAsAnUninterruptedOne(boolean rocksdb) throws Exception {
        List<WindowProfile> ps = profiles(150);
        List<LoadForecast> expected = reference(ps, Long.MAX_VALUE);
        List<LoadForecast> got = new ArrayList<>();
        OperatorSubtaskState snapshot;
        try (var h = oneInput(rocksdb)) {
            h.open();
            for (int t = 0; t < 90; t++) {
                h.processElement(ps.get(t), ps.get(t).windowEnd - 1);
                if (t == 40) {
                    h.snapshot(1, 0); // an earlier checkpoint: the next one carries only the changes since
                }
            }
            snapshot = h.snapshot(2, 0);
            got.addAll(forecasts(h));
        }
        try (var h = oneInput(rocksdb)) {
            h.initializeState(snapshot);
            h.open();
            for (int t = 90; t < 150; t++) {
                h.processElement(ps.get(t), ps.get(t).windowEnd - 1);
            }
            got.addAll(forecasts(h));
        }
        assertThat(got).hasSize(150).isEqualTo(expected);
    }

    /** The MASE gauge reads the restored error sums' MASE after a restore (it read NaN until the next window). */
    @Test
    void theMaseGaugeReadsTheRestoredMase() throws Exception {
        List<WindowProfile> ps = profiles(60);
        OperatorSubtaskState snapshot;
        double before;
        try (var h = oneInput(false)) {
            h.open();
            for (WindowProfile p : ps) {
                h.processElement(p, p.windowEnd - 1);
            }
            before = ((LoadForecaster) h.getOperator()).maseGauge();
            snapshot = h.snapshot(1, 0);
        }
        assertThat(before).isFinite().isPositive();
        try (var h = oneInput(false)) {
            h.initializeState(snapshot);
            h.open();
            assertThat(((LoadForecaster) h.getOperator()).maseGauge()).isEqualTo(before);
        }
    }

    @ParameterizedTest(name = "rocksdb={0}")
    @ValueSource(booleans = {false, true})
    void withAControlInputHeldProfilesAndAPendingCommandSurviveARestore(boolean rocksdb) throws Exception {
        List<WindowProfile> ps = profiles(150);
        long zAt = 80 * W;
        List<LoadForecast> expected = reference(ps, zAt);
        List<LoadForecast> got = new ArrayList<>();
        OperatorSubtaskState snapshot;
        try (var h = twoInput(rocksdb)) {
            h.open();
            h.processElement2(java.time.Instant.ofEpochMilli(zAt) + ",anomaly-z,1", zAt);
            h.processElement2("not a command", zAt); // the planner's business: ignored here
            for (int t = 0; t < 100; t++) {
                h.processElement1(ps.get(t), ps.get(t).windowEnd - 1);
                h.processWatermark1(new Watermark(ps.get(t).windowEnd - 1));
            }
            h.processWatermark2(new Watermark(60 * W - 1)); // windows 0..59 go; 60..99 wait; the command pends
            snapshot = h.snapshot(1, 0);
            got.addAll(forecasts(h));
            assertThat(got).hasSize(60);
        }
        try (var h = twoInput(rocksdb)) {
            h.initializeState(snapshot);
            h.open();
            for (int t = 100; t < 150; t++) {
                h.processElement1(ps.get(t), ps.get(t).windowEnd - 1);
            }
            h.processWatermark2(new Watermark(Long.MAX_VALUE));
            got.addAll(forecasts(h));
        }
        assertThat(got).hasSize(150).isEqualTo(expected);
        assertThat(got.subList(80, 150).stream().mapToLong(LoadForecast::getAnomalies).sum())
                .as("anomalies at z = 1").isGreaterThan(got.subList(10, 80).stream()
                        .mapToLong(LoadForecast::getAnomalies).sum());
    }

    /**
     * A pending anomaly-z an earlier build accepted and kept (a time in epoch microseconds, a number in hexadecimal),
     * which the control input refuses now as it arrives, is restored as it was: parsed strictly, it failed every
     * restore.
     */
    @Test
    void aPendingCommandAnEarlierBuildKeptIsRestoredAsItWas() throws Exception {
        java.lang.reflect.Field pendingField = LoadForecaster.class.getDeclaredField("pendingZ");
        pendingField.setAccessible(true);
        List<String> kept = List.of("1393632000000000,anomaly-z,3", "2030-01-01T00:00:00Z,anomaly-z,0x1p2");
        OperatorSubtaskState snapshot;
        try (var h = twoInput(false)) {
            h.open();
            @SuppressWarnings("unchecked")
            List<io.keyshift.control.ControlCommand> pending =
                    (List<io.keyshift.control.ControlCommand>) pendingField.get(h.getOperator());
            for (String line : kept) {
                // as an earlier build took them (this build refuses both as they arrive)
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> io.keyshift.control.ControlCommand.parse(
                        line)).isInstanceOf(IllegalArgumentException.class);
                pending.add(io.keyshift.control.ControlCommand.parseKept(line));
            }
            snapshot = h.snapshot(1, 0);
        }
        List<WindowProfile> ps = profiles(20);
        try (var h = twoInput(false)) {
            h.initializeState(snapshot);
            h.open();
            @SuppressWarnings("unchecked")
            List<io.keyshift.control.ControlCommand> pending =
                    (List<io.keyshift.control.ControlCommand>) pendingField.get(h.getOperator());
            assertThat(pending).extracting(io.keyshift.control.ControlCommand::line)
                    .containsExactlyInAnyOrderElementsOf(kept);
            for (WindowProfile p : ps) {
                h.processElement1(p, p.windowEnd - 1);
            }
            h.processWatermark2(new Watermark(Long.MAX_VALUE));
            assertThat(forecasts(h)).hasSize(20);
        }
    }

    /**
     * A "now" anomaly-z comes after a timed one due at the same window, also where the timed one arrived later, as the
     * planner orders them (ControlState): the forecaster took whichever arrived last, and forecast under another z
     * than the plan reported.
     */
    @org.junit.jupiter.api.Test
    void aNowAnomalyZComesAfterATimedOneDueAtTheSameWindow() throws Exception {
        List<WindowProfile> ps = profiles(40);
        double configured = ForecasterKeyedStateTest.SETTINGS.anomalyZ();
        try (var h = twoInput(false)) {
            h.open();
            h.processElement2("now,anomaly-z,1", 0);
            h.processElement2(java.time.Instant.ofEpochMilli(ps.get(0).windowEnd - 1) + ",anomaly-z," + configured, 0);
            for (WindowProfile p : ps) {
                h.processElement1(p, p.windowEnd - 1);
            }
            h.processWatermark2(new Watermark(Long.MAX_VALUE));
            assertThat(forecasts(h)).isEqualTo(reference(ps, Long.MIN_VALUE)).isNotEqualTo(reference(ps, Long.MAX_VALUE));
        }
    }

    /**
     * A job that checkpointed with profiles waiting for its control input and restarts without one observes them
     * first, in order; while they waited, time still advanced up to just before the first of them.
     */
    @ParameterizedTest(name = "rocksdb={0}")
    @ValueSource(booleans = {false, true})
    void heldProfilesGoFirstWhenTheControlInputIsGoneAndTimeAdvancedWhileTheyWaited(boolean rocksdb) throws Exception {
        List<WindowProfile> ps = profiles(120);
        List<LoadForecast> expected = reference(ps, Long.MAX_VALUE);
        List<LoadForecast> got = new ArrayList<>();
        OperatorSubtaskState snapshot;
        try (var h = twoInput(rocksdb)) {
            h.open();
            for (int t = 0; t < 80; t++) {
                h.processElement1(ps.get(t), ps.get(t).windowEnd - 1);
                h.processWatermark1(new Watermark(ps.get(t).windowEnd - 1));
            }
            h.processWatermark2(new Watermark(50 * W - 1)); // windows 0..49 go; 50..79 wait
            long lastWatermark = Long.MIN_VALUE;
            for (Object o : h.getOutput()) {
                if (o instanceof Watermark w) {
                    lastWatermark = Math.max(lastWatermark, w.getTimestamp());
                }
            }
            assertThat(lastWatermark).as("time up to just before the first waiting window")
                    .isEqualTo(ps.get(50).windowEnd - 2);
            snapshot = h.snapshot(1, 0);
            got.addAll(forecasts(h));
        }
        try (var h = oneInput(rocksdb)) {
            h.initializeState(snapshot);
            h.open();
            for (int t = 80; t < 120; t++) {
                h.processElement(ps.get(t), ps.get(t).windowEnd - 1);
            }
            got.addAll(forecasts(h));
        }
        assertThat(got).hasSize(120).isEqualTo(expected);
    }
}
