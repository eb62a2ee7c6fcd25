package io.keyshift.forecast;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bounded state per series: one shared float history; Holt-Winters only up to ModelSpec.MAX_SMOOTHING_SEASON. */
class ForecastStateSizeTest {
    private static final int LIMIT = 8 * 1024;

    /** Whole record counts: a daily pattern of {@code day} windows (a weekly one if {@code week > 0}) plus noise. */
    private static double load(int t, int day, int week, Random r) {
        double daily = 500 + 300 * Math.sin(2 * Math.PI * (t % day) / day);
        double weekly = week > 0 && (t % week) >= 5 * day ? 0.6 : 1.0;
        return Math.max(0, Math.rint(daily * weekly + r.nextGaussian() * 30));
    }

    private static SeriesForecaster fed(List<Integer> seasons, int windows, long seed) {
        SeriesForecaster f = new SeriesForecaster(ModelSpec.candidates(seasons), seasons.get(0), 0.99);
        Random r = new Random(seed);
        int day = seasons.get(0);
        int week = seasons.size() > 1 ? seasons.get(1) : 0;
        for (int t = 0; t < windows; t++) {
            f.observe(load(t, day, week, r), 4);
        }
        return f;
    }

    private static byte[] bytes(SeriesForecaster f) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DataOutputStream data = new DataOutputStream(out)) {
            f.write(data);
        }
        return out.toByteArray();
    }

    private static SeriesForecaster restored(List<Integer> seasons, byte[] state) throws IOException {
        SeriesForecaster f = new SeriesForecaster(ModelSpec.candidates(seasons), seasons.get(0), 0.99);
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(state))) {
            f.read(in);
            assertThat(in.read()).as("bytes left after read").isEqualTo(-1);
        }
        return f;
    }

    @Test
    void aDayOfOneMinuteWindowsTakesLessThan8KBPerSeries() throws Exception {
        List<Integer> seasons = List.of(1440);
        byte[] state = bytes(fed(seasons, 3000, 21));
        System.out.println("forecast state per series, seasons " + seasons + ", 3000 windows: " + state.length
                + " bytes");
        assertThat(state.length).isLessThan(LIMIT);
        // 12 + 4 * (1440 + 1) of them are the shared history; once it is full the size no longer grows
        assertThat(bytes(fed(seasons, 1500, 21)).length).isEqualTo(state.length);
    }

    @Test
    void aDayAndAWeekOfHourlyWindowsTakeLessThan8KBPerSeries() throws Exception {
        List<Integer> seasons = List.of(24, 168);
        byte[] state = bytes(fed(seasons, 3000, 22));
        System.out.println("forecast state per series, seasons " + seasons + ", 3000 windows: " + state.length
                + " bytes");
        assertThat(state.length).isLessThan(LIMIT);
        assertThat(bytes(fed(seasons, 200, 22)).length).isEqualTo(state.length);
    }

    @Test
    void stateRoundTripsExactly() throws Exception {
        for (List<Integer> seasons : List.of(List.of(1440), List.of(24, 168), List.of(7))) {
            int day = seasons.get(0);
            int week = seasons.size() > 1 ? seasons.get(1) : 0;
            SeriesForecaster a = fed(seasons, 3000, 23);
            byte[] state = bytes(a);
            SeriesForecaster b = restored(seasons, state);
            assertThat(bytes(b)).isEqualTo(state);
            assertThat(b.observations()).isEqualTo(a.observations());
            assertThat(b.lastObserved()).isEqualTo(a.lastObserved());
            assertThat(b.chosenName()).isEqualTo(a.chosenName());
            assertThat(b.sd()).isEqualTo(a.sd());
            for (int h = 1; h <= 48; h++) {
                assertThat(b.forecast(h)).as("%s h=%d", seasons, h).isEqualTo(a.forecast(h));
            }
            // and both continue alike: the state written is all the state there is
            Random r = new Random(24);
            for (int t = 3000; t < 3000 + 2 * day; t++) {
                double y = load(t, day, week, r);
                assertThat(b.observe(y, 4)).isEqualTo(a.observe(y, 4));
                assertThat(b.chosenName()).isEqualTo(a.chosenName());
                assertThat(b.forecast(1)).isEqualTo(a.forecast(1));
                assertThat(b.forecast(day)).isEqualTo(a.forecast(day));
            }
        }
    }

    @Test
    void readRefusesAStateWithAnotherHistoryLength() throws Exception {
        byte[] state = bytes(fed(List.of(24, 168), 300, 25));
        // same models, but a MASE scale of season 200 needs 201 observations instead of 169
        SeriesForecaster other = new SeriesForecaster(ModelSpec.candidates(List.of(24, 168)), 200, 0.99);
        assertThatThrownBy(() -> other.read(new DataInputStream(new ByteArrayInputStream(state))))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("169").hasStackTraceContaining("201");
    }

    @Test
    void candidatesHoldNoModelTwice() {
        // a seasonal AR whose season is at most its order is AR(3) again: same lags, same forecasts
        Autoregressive plain = new Autoregressive(Models.AR_ORDER, 0, 40, 12);
        Autoregressive season2 = new Autoregressive(Models.AR_ORDER, 2, 40, 12);
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        for (int t = 0; t < 200; t++) {
            double y = 100 + 30 * Math.sin(t / 3.0) + r.nextInt(20);
            plain.observe(y);
            season2.observe(y);
        }
        assertThat(season2.forecast(4)).isEqualTo(plain.forecast(4));

        List<ModelSpec> c = ModelSpec.candidates(List.of(2, 3, 24, 24));
        assertThat(c).doesNotHaveDuplicates()
                .doesNotContain(new ModelSpec(ForecastModelKind.AUTOREGRESSIVE, 2),
                        new ModelSpec(ForecastModelKind.AUTOREGRESSIVE, 3))
                .contains(new ModelSpec(ForecastModelKind.AUTOREGRESSIVE, 0),
                        new ModelSpec(ForecastModelKind.AUTOREGRESSIVE, 24),
                        new ModelSpec(ForecastModelKind.SEASONAL_NAIVE, 2),
                        new ModelSpec(ForecastModelKind.HOLT_WINTERS, 3));
        assertThat(c).filteredOn(m -> m.season() == 24).hasSize(4);
    }

    @Test
    void holtWintersIsACandidateOnlyUpToTheBound() {
        assertThat(ModelSpec.MAX_SMOOTHING_SEASON).isEqualTo(288);
        assertThat(ModelSpec.candidates(List.of(288))).contains(
                new ModelSpec(ForecastModelKind.HOLT_WINTERS, 288),
                new ModelSpec(ForecastModelKind.HOLT_WINTERS_MULTIPLICATIVE, 288));
        List<ModelSpec> day = ModelSpec.candidates(List.of(1440));
        assertThat(day).extracting(ModelSpec::kind).doesNotContain(
                ForecastModelKind.HOLT_WINTERS, ForecastModelKind.HOLT_WINTERS_MULTIPLICATIVE);
        assertThat(day).contains(new ModelSpec(ForecastModelKind.SEASONAL_NAIVE, 1440),
                new ModelSpec(ForecastModelKind.AUTOREGRESSIVE, 1440));

        assertThatThrownBy(() -> ModelSpec.of(ForecastModelKind.HOLT_WINTERS, List.of(1440)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("288");
        assertThatThrownBy(() -> ModelSpec.of(ForecastModelKind.HOLT_WINTERS_MULTIPLICATIVE, List.of(289)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("288");
        assertThatThrownBy(() -> new ModelSpec(ForecastModelKind.HOLT_WINTERS, 1440))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("288");
        // the first season that suits it
        assertThat(ModelSpec.of(ForecastModelKind.HOLT_WINTERS, List.of(1440, 24)).season()).isEqualTo(24);
        assertThat(ModelSpec.of(ForecastModelKind.SEASONAL_NAIVE, List.of(1440, 24)).season()).isEqualTo(1440);
    }

    @Test
    void historyLengthIsTheLargestLagPlusOne() {
        assertThat(SeriesForecaster.historyLength(ModelSpec.candidates(List.of(1440)), 1440)).isEqualTo(1441);
        assertThat(SeriesForecaster.historyLength(ModelSpec.candidates(List.of(24, 168)), 24)).isEqualTo(169);
        assertThat(SeriesForecaster.historyLength(ModelSpec.candidates(List.of()), 0)).isEqualTo(4);
        assertThat(SeriesForecaster.historyLength(List.of(new ModelSpec(ForecastModelKind.SEASONAL_NAIVE, 7)), 0))
                .isEqualTo(7);
        assertThat(SeriesForecaster.historyLength(List.of(new ModelSpec(ForecastModelKind.NAIVE, 0)), 0))
                .isEqualTo(1);
    }

    @Test
    void modelsOnASharedHistoryForecastLikeModelsWithTheirOwn() {
        SeriesHistory shared = new SeriesHistory(Autoregressive.historyLength(3, 7));
        LoadModel sharedNaive = new Models.SeasonalNaive(7, shared);
        LoadModel sharedAr = new Autoregressive(3, 7, 60, 7, shared);
        LoadModel ownNaive = new Models.SeasonalNaive(7);
        LoadModel ownAr = new Autoregressive(3, 7, 60, 7);
        Random r = new Random(26);
        for (int t = 0; t < 300; t++) {
            double y = load(t, 7, 0, r);
            shared.add(y);
            sharedNaive.observe(y);
            sharedAr.observe(y);
            ownNaive.observe(y);
            ownAr.observe(y);
            for (int h = 1; h <= 15; h++) {
                assertThat(sharedNaive.forecast(h)).isEqualTo(ownNaive.forecast(h));
                assertThat(sharedAr.forecast(h)).isEqualTo(ownAr.forecast(h));
            }
        }
        // the owner must append before observe
        assertThatThrownBy(() -> sharedAr.observe(5)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new Models.SeasonalNaive(24, shared)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void historyKeepsFloatsAndRoundTrips() throws Exception {
        SeriesHistory h = new SeriesHistory(3);
        for (int y = 1; y <= 5; y++) {
            h.add(y);
        }
        assertThat(h.get(0)).isEqualTo(5);
        assertThat(h.get(2)).isEqualTo(3);
        assertThatThrownBy(() -> h.get(3)).isInstanceOf(IndexOutOfBoundsException.class);
        h.add(1 << 24);
        assertThat(h.get(0)).isEqualTo(16_777_216.0);
        h.add((1 << 24) + 1);
        assertThat(h.get(0)).as("above 2^24 not every integer is a float").isEqualTo(16_777_216.0);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        h.write(new DataOutputStream(out));
        assertThat(out.size()).isEqualTo(12 + 4 * 3);
        SeriesHistory back = new SeriesHistory(3);
        back.read(new DataInputStream(new ByteArrayInputStream(out.toByteArray())));
        assertThat(back.count()).isEqualTo(7);
        for (int lag = 0; lag < 3; lag++) {
            assertThat(back.get(lag)).isEqualTo(h.get(lag));
        }
        assertThatThrownBy(() -> new SeriesHistory(4).read(
                new DataInputStream(new ByteArrayInputStream(out.toByteArray()))))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("keeps 3 observations per series");
    }
}
