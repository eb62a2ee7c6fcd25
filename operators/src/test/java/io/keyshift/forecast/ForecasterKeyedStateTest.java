package io.keyshift.forecast;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyshift.avro.LoadForecast;
import io.keyshift.profiler.WindowProfile;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The forecaster's state entry by entry ({@link LoadForecastEngine#writeChanges}, kept by the operator in keyed
 * state): a restore gives the same engine as the one that wrote it, each write carries only what changed, and the
 * series that are no longer tracked leave the store.
 */
class ForecasterKeyedStateTest {
    private static final int MAX_P = 64;
    static final LoadForecastEngine.Settings SETTINGS = new LoadForecastEngine.Settings(MAX_P, 5, 3,
            ModelSpec.candidates(List.of(24)), 24, 2, 0.99, 1.96, 4.0);

    /** An in-memory store that counts what is written. */
    static final class MemoryStore implements LoadForecastEngine.StateStore {
        byte[] header;
        final Map<String, byte[]> series = new HashMap<>();
        final Map<String, byte[]> history = new HashMap<>();
        int seriesPuts;
        int chunkPuts;
        int removals;

        MemoryStore copy() {
            MemoryStore c = new MemoryStore();
            c.header = header.clone();
            series.forEach((k, v) -> c.series.put(k, v.clone()));
            history.forEach((k, v) -> c.history.put(k, v.clone()));
            return c;
        }

        void resetCounts() {
            seriesPuts = 0;
            chunkPuts = 0;
            removals = 0;
        }

        @Override public byte[] header() { return header; }
        @Override public void putHeader(byte[] bytes) { header = bytes; }
        @Override public byte[] series(String id) { return series.get(id); }
        @Override public void putSeries(String id, byte[] models) { series.put(id, models); seriesPuts++; }
        @Override public byte[] chunk(String id, int chunk) { return history.get(id + "#" + chunk); }
        @Override public void putChunk(String id, int chunk, byte[] values) { history.put(id + "#" + chunk, values); chunkPuts++; }

        @Override
        public void remove(String id, int chunks) {
            series.remove(id);
            for (int c = 0; c < chunks; c++) {
                history.remove(id + "#" + c);
            }
            removals++;
        }
    }

    /**
     * Window t: 20 candidate keys whose loads follow a day of 24 windows with phases of their own, so that the top 5
     * change through the day and keys age out and come back; key groups get the keys' loads plus a background.
     */
    static WindowProfile profile(int t, Random r) {
        WindowProfile p = WindowProfile.empty(t * 3_600_000L, (t + 1) * 3_600_000L, MAX_P, 1.0);
        List<double[]> hot = new ArrayList<>();
        for (int k = 0; k < 20; k++) {
            double load = Math.max(0, Math.rint(200 * (1 + Math.sin(2 * Math.PI * (t + 3 * k) / 24)) + 20 * r.nextGaussian()));
            hot.add(new double[] {k, load});
            p.keyGroupCounts[(k * 7) % MAX_P] += (long) load;
        }
        for (int g = 0; g < MAX_P; g += 3) {
            p.keyGroupCounts[g] += 10 + r.nextInt(20);
        }
        hot.sort(Comparator.comparingDouble((double[] h) -> -h[1]));
        int n = 8;
        p.hotKeys = new String[n];
        p.hotKeyGroups = new int[n];
        p.hotEstimates = new double[n];
        p.hotLowerBounds = new double[n];
        p.hotUpperBounds = new double[n];
        for (int i = 0; i < n; i++) {
            int k = (int) hot.get(i)[0];
            p.hotKeys[i] = "station-" + k;
            p.hotKeyGroups[i] = (k * 7) % MAX_P;
            p.hotEstimates[i] = hot.get(i)[1];
        }
        p.records = Arrays.stream(p.keyGroupCounts).sum();
        return p;
    }

    @Test
    void aRestoreFromTheWrittenEntriesForecastsExactlyAsTheEngineThatWroteThem() throws Exception {
        LoadForecastEngine a = new LoadForecastEngine(SETTINGS);
        MemoryStore store = new MemoryStore();
        Random r = new Random(7);
        List<WindowProfile> profiles = new ArrayList<>();
        for (int t = 0; t < 300; t++) {
            profiles.add(profile(t, r));
        }
        LoadForecastEngine b = null;
        int restoredAt = 150;
        for (int t = 0; t < 300; t++) {
            LoadForecast fa = a.observe(profiles.get(t));
            if (b != null) {
                assertThat(b.observe(profiles.get(t))).as("window %d after the restore", t).isEqualTo(fa);
            }
            if (t % 7 == 0 || t == restoredAt) {
                a.writeChanges(store);
            }
            if (t == restoredAt) {
                b = new LoadForecastEngine(SETTINGS);
                b.restore(store.copy());
                assertThat(b.toBytes()).isEqualTo(a.toBytes());
            }
        }
        assertThat(b.toBytes()).isEqualTo(a.toBytes());
        assertThat(a.windows()).isEqualTo(300);
        // the size counted without the bytes (plan-bench's control path) is theirs
        assertThat(a.serializedSize()).isEqualTo(a.toBytes().length).isGreaterThan(1000);
    }

    /**
     * The keyed header of the first builds with this form (2026-11-30) ended after the key groups, without the history
     * sizes, the model list and the window that later builds append: it restores (it failed every restore on reading
     * the sizes past its end).
     */
    @Test
    void aHeaderOfTheFirstKeyedBuildsWithoutTheSizesRestores() throws Exception {
        LoadForecastEngine a = new LoadForecastEngine(SETTINGS);
        MemoryStore store = new MemoryStore();
        Random r = new Random(9);
        for (int t = 0; t < 60; t++) {
            a.observe(profile(t, r));
        }
        a.writeChanges(store);
        int tail = 2 * Integer.BYTES + 2 + a.modelList().getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                + Long.BYTES;
        store.header = Arrays.copyOf(store.header, store.header.length - tail);
        LoadForecastEngine b = new LoadForecastEngine(SETTINGS);
        b.restore(store);
        assertThat(b.seriesCount()).isEqualTo(a.seriesCount());
        WindowProfile next = profile(60, r);
        assertThat(b.observe(next)).isEqualTo(a.observe(next));
    }

    @Test
    void eachWriteCarriesOnlyWhatChangedAndUntrackedKeysLeaveTheStore() throws Exception {
        LoadForecastEngine e = new LoadForecastEngine(SETTINGS);
        MemoryStore store = new MemoryStore();
        Random r = new Random(8);
        for (int t = 0; t < 100; t++) {
            e.observe(profile(t, r));
        }
        e.writeChanges(store);
        int series = e.seriesCount();
        int chunksPerSeries = (24 + 1 + LoadForecastEngine.CHUNK - 1) / LoadForecastEngine.CHUNK;
        assertThat(store.seriesPuts).isEqualTo(series);
        // 100 windows filled every series' history (25 values, one chunk)
        assertThat(store.chunkPuts).isEqualTo(series * chunksPerSeries);
        int removalsBefore = 0;
        for (int t = 100; t < 200; t++) {
            store.resetCounts();
            e.observe(profile(t, r));
            e.writeChanges(store);
            // one new value per series: its models and the one chunk that holds the value
            assertThat(store.seriesPuts).as("models written at window %d", t).isEqualTo(e.seriesCount());
            assertThat(store.chunkPuts).as("chunks written at window %d", t).isEqualTo(e.seriesCount());
            removalsBefore += store.removals;
            assertThat(store.series).as("series in the store at window %d", t).hasSize(e.seriesCount());
        }
        assertThat(removalsBefore).as("tracked keys that aged out in 100 windows").isPositive();
        List<String> ids = new ArrayList<>();
        for (LoadForecastEngine.SeriesInfo s : e.series()) {
            ids.add(s.key() != null ? "k" + s.key() : "g" + s.keyGroup());
        }
        assertThat(store.series.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(store.history.keySet().stream().map(k -> k.substring(0, k.indexOf('#'))).distinct())
                .containsExactlyInAnyOrderElementsOf(ids);
        // nothing observed since the last write: only the header
        store.resetCounts();
        e.writeChanges(store);
        assertThat(store.seriesPuts + store.chunkPuts + store.removals).isZero();
    }

    @Test
    void anEngineRestoredFromTheOperatorListStateOfEarlierVersionsIsWrittenWhole() throws Exception {
        LoadForecastEngine a = new LoadForecastEngine(SETTINGS);
        Random r = new Random(9);
        for (int t = 0; t < 60; t++) {
            a.observe(profile(t, r));
        }
        LoadForecastEngine legacy = new LoadForecastEngine(SETTINGS);
        legacy.restore(a.toBytes());
        MemoryStore store = new MemoryStore();
        legacy.writeChanges(store);
        assertThat(store.seriesPuts).isEqualTo(a.seriesCount());
        LoadForecastEngine b = new LoadForecastEngine(SETTINGS);
        b.restore(store);
        assertThat(b.toBytes()).isEqualTo(a.toBytes());
        WindowProfile next = profile(60, r);
        assertThat(b.observe(next)).isEqualTo(a.observe(next));
    }

    /**
     * A bootstrap's state (written whole) records how its stage named keys: restored under another key secret, or
     * with or without one, it was taken without a word, and its hot keys were names no router uses.
     */
    @Test
    void aWholeStateWrittenUnderAnotherKeyNamingIsRefused() throws Exception {
        LoadForecastEngine a = new LoadForecastEngine(SETTINGS).withKeyNaming("~0123456789abcdef");
        Random r = new Random(11);
        for (int t = 0; t < 30; t++) {
            a.observe(profile(t, r));
        }
        byte[] bytes = a.toBytes();
        for (String other : List.of("raw", "~fedcba9876543210")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(
                    () -> new LoadForecastEngine(SETTINGS).withKeyNaming(other).restore(bytes))
                    .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                    .hasStackTraceContaining("keyshift.privacy.key-secret");
        }
        LoadForecastEngine same = new LoadForecastEngine(SETTINGS).withKeyNaming("~0123456789abcdef");
        same.restore(bytes);
        assertThat(same.toBytes()).isEqualTo(bytes);
        // unknown on either side: not checked (a state of an earlier build, a caller that does not say)
        new LoadForecastEngine(SETTINGS).restore(bytes);
        LoadForecastEngine unnamed = new LoadForecastEngine(SETTINGS);
        unnamed.restore(bytes);
        LoadForecastEngine earlier = new LoadForecastEngine(SETTINGS);
        earlier.restore(unnamed.toBytes());
        new LoadForecastEngine(SETTINGS).withKeyNaming("raw").restore(unnamed.toBytes());
    }

    @Test
    void aStoreWrittenWithAnotherSeasonIsRefusedNamingTheOptions() throws Exception {
        LoadForecastEngine a = new LoadForecastEngine(SETTINGS);
        Random r = new Random(10);
        for (int t = 0; t < 30; t++) {
            a.observe(profile(t, r));
        }
        MemoryStore store = new MemoryStore();
        a.writeChanges(store);
        // the candidate models with a season of 48 (a history twice as long): the models are named first, with the
        // window the state was made from, the usual cause
        LoadForecastEngine b = new LoadForecastEngine(new LoadForecastEngine.Settings(MAX_P, 5, 3,
                ModelSpec.candidates(List.of(48)), 48, 2, 0.99, 1.96, 4.0));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> b.restore(store))
                // every restart would read the same state: the job fails for good instead of restarting for ever
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("candidate models").hasStackTraceContaining("keyshift.forecast.seasons");
        // the same models keeping a longer history (a calendar's reference days): the history is named
        LoadForecastEngine c = new LoadForecastEngine(new LoadForecastEngine.Settings(MAX_P, 5, 3,
                ModelSpec.candidates(List.of(24)), 24, 2, 0.99, 1.96, 4.0, null, 1_000));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.restore(store))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("observations per series").hasStackTraceContaining("keyshift.forecast.*");
    }

    /**
     * The same number of models with the same history, in another order (seasons 24 and 168 given the other way
     * round): each series' entry would be read into the wrong models without any error. The restore is refused,
     * naming the options; a header without the model list (an earlier build) restores as before.
     */
    @Test
    void aStoreWrittenWithOtherModelsOfTheSameSizeIsRefusedNamingTheOptions() throws Exception {
        LoadForecastEngine.Settings dayWeek = new LoadForecastEngine.Settings(MAX_P, 5, 3,
                ModelSpec.candidates(List.of(24, 168)), 24, 2, 0.99, 1.96, 4.0);
        LoadForecastEngine.Settings weekDay = new LoadForecastEngine.Settings(MAX_P, 5, 3,
                ModelSpec.candidates(List.of(168, 24)), 168, 2, 0.99, 1.96, 4.0);
        LoadForecastEngine a = new LoadForecastEngine(dayWeek);
        Random r = new Random(10);
        for (int t = 0; t < 30; t++) {
            a.observe(profile(t, r));
        }
        MemoryStore store = new MemoryStore();
        a.writeChanges(store);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LoadForecastEngine(weekDay).restore(store))
                .hasStackTraceContaining("keyshift.forecast.model and keyshift.forecast.seasons");
        new LoadForecastEngine(dayWeek).restore(store);
        // builds until 2026-12-02: the same header without the window length; earlier ones without the model list
        store.header = java.util.Arrays.copyOf(store.header, store.header.length - Long.BYTES);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LoadForecastEngine(weekDay).restore(store))
                .hasStackTraceContaining("keyshift.forecast.model and keyshift.forecast.seasons");
        LoadForecastEngine noWindow = new LoadForecastEngine(dayWeek);
        noWindow.restore(store);
        assertThat(noWindow.windowMillis()).as("a header without the window length").isZero();
        byte[] list = modelListBytes(store.header);
        store.header = java.util.Arrays.copyOf(store.header, store.header.length - list.length);
        new LoadForecastEngine(weekDay).restore(store);
    }

    /**
     * Series learnt from hourly windows restored where the windows are daily (explicit keyshift.forecast.seasons give
     * both the same models, so the model list does not tell): the engine knows the windows' length from its state,
     * in either form, and refuses a window of another length naming keyshift.window; forms of earlier builds, without
     * it, restore and learn it from the next window.
     */
    @Test
    void seriesLearntFromWindowsOfAnotherLengthAreRefused() throws Exception {
        LoadForecastEngine a = new LoadForecastEngine(SETTINGS);
        Random r = new Random(12);
        for (int t = 0; t < 30; t++) {
            a.observe(profile(t, r));
        }
        assertThat(a.windowMillis()).isEqualTo(3_600_000L);
        MemoryStore store = new MemoryStore();
        a.writeChanges(store);
        LoadForecastEngine fromStore = new LoadForecastEngine(SETTINGS);
        fromStore.restore(store);
        byte[] bytes = a.toBytes();
        LoadForecastEngine whole = new LoadForecastEngine(SETTINGS);
        whole.restore(bytes);
        WindowProfile daily = WindowProfile.empty(30 * 3_600_000L, 30 * 3_600_000L + 86_400_000L, MAX_P, 1.0);
        for (LoadForecastEngine restored : List.of(fromStore, whole)) {
            assertThat(restored.windowMillis()).isEqualTo(3_600_000L);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> restored.observe(daily))
                    .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                    .hasStackTraceContaining("PT1H").hasStackTraceContaining("PT24H")
                    .hasStackTraceContaining("keyshift.window");
        }
        // the form of 2026-12-01 and 02: the model list and its length, then the marker "KSML"
        java.nio.ByteBuffer earlier = java.nio.ByteBuffer.allocate(bytes.length - Long.BYTES);
        earlier.put(bytes, 0, bytes.length - 12).putInt(0x4B534D4C);
        LoadForecastEngine noWindow = new LoadForecastEngine(SETTINGS);
        noWindow.restore(earlier.array());
        assertThat(noWindow.windowMillis()).isZero();
        assertThat(noWindow.observe(daily).getWindowEnd()).isEqualTo(daily.windowEnd);
        assertThat(noWindow.windowMillis()).isEqualTo(86_400_000L);
    }

    /**
     * The whole-engine form ({@link LoadForecastEngine#toBytes()}, which {@code bootstrap} writes into a savepoint):
     * additive and multiplicative Holt-Winters keep the same numbers, and seasons in another order the same sizes; a
     * restore with either is refused before any series is read, naming the options. A form without the model list
     * (builds until 2026-12-01) restores as before.
     */
    @Test
    void aWholeEngineWrittenWithOtherModelsIsRefusedNamingTheOptions() throws Exception {
        LoadForecastEngine.Settings additive = new LoadForecastEngine.Settings(MAX_P, 5, 3,
                List.of(new ModelSpec(ForecastModelKind.HOLT_WINTERS, 24)), 24, 2, 0.99, 1.96, 4.0);
        LoadForecastEngine.Settings multiplicative = new LoadForecastEngine.Settings(MAX_P, 5, 3,
                List.of(new ModelSpec(ForecastModelKind.HOLT_WINTERS_MULTIPLICATIVE, 24)), 24, 2, 0.99, 1.96, 4.0);
        LoadForecastEngine a = new LoadForecastEngine(additive);
        Random r = new Random(11);
        for (int t = 0; t < 60; t++) {
            a.observe(profile(t, r));
        }
        byte[] bytes = a.toBytes();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LoadForecastEngine(multiplicative).restore(bytes))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("keyshift.forecast.model and keyshift.forecast.seasons")
                .hasStackTraceContaining("holt-winters-multiplicative");
        LoadForecastEngine same = new LoadForecastEngine(additive);
        same.restore(bytes);
        assertThat(same.toBytes()).isEqualTo(bytes);
        // seasons in another order: the same sizes, other models at each place
        LoadForecastEngine dayWeek = new LoadForecastEngine(new LoadForecastEngine.Settings(MAX_P, 5, 3,
                ModelSpec.candidates(List.of(24, 168)), 24, 2, 0.99, 1.96, 4.0));
        for (int t = 0; t < 30; t++) {
            dayWeek.observe(profile(t, r));
        }
        LoadForecastEngine.Settings weekDay = new LoadForecastEngine.Settings(MAX_P, 5, 3,
                ModelSpec.candidates(List.of(168, 24)), 168, 2, 0.99, 1.96, 4.0);
        byte[] dayWeekBytes = dayWeek.toBytes();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LoadForecastEngine(weekDay).restore(dayWeekBytes))
                .hasStackTraceContaining("keyshift.forecast.model and keyshift.forecast.seasons");
        // an earlier build's form: the same bytes without the model list, its length, the window's and the marker
        int listLength = java.nio.ByteBuffer.wrap(bytes).getInt(bytes.length - 16);
        byte[] earlier = java.util.Arrays.copyOf(bytes, bytes.length - 16 - listLength);
        new LoadForecastEngine(multiplicative).restore(earlier);
    }

    /** The trailing writeUTF of the header: its 2-byte length and the model names. */
    private static byte[] modelListBytes(byte[] header) throws Exception {
        for (int start = header.length - 2; start >= 0; start--) {
            int len = ((header[start] & 0xff) << 8) | (header[start + 1] & 0xff);
            if (start + 2 + len == header.length) {
                String s = new String(header, start + 2, len, java.nio.charset.StandardCharsets.UTF_8);
                if (s.startsWith("naive,")) {
                    return java.util.Arrays.copyOfRange(header, start, header.length);
                }
            }
        }
        throw new AssertionError("no model list at the end of the header");
    }
}
