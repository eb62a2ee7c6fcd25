package io.keyshift.forecast;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class SeriesForecasterTest {

    @Test
    void backtestPicksASeasonalModelForASeasonalSeries() {
        SeriesForecaster f = new SeriesForecaster(7, 0.95, null);
        Random r = new Random(1);
        double[] week = {100, 120, 130, 125, 110, 30, 20};
        for (int t = 0; t < 70; t++) {
            f.observe(week[t % 7] + r.nextGaussian() * 2, 4);
        }
        assertThat(f.chosen()).isIn(ForecastModelKind.SEASONAL_NAIVE, ForecastModelKind.HOLT_WINTERS);
        assertThat(f.forecast(1)).isBetween(90.0, 110.0);
        assertThat(f.forecast(6)).isBetween(20.0, 40.0);
    }

    @Test
    void backtestPicksSmoothingForNoiseAroundALevel() {
        SeriesForecaster f = new SeriesForecaster(7, 0.95, null);
        Random r = new Random(2);
        for (int t = 0; t < 200; t++) {
            f.observe(100 + r.nextGaussian() * 10, 4);
        }
        // A level model (SES, Holt or AR with intercept), not one that chases the last value or last season.
        assertThat(f.chosen()).isNotIn(ForecastModelKind.NAIVE, ForecastModelKind.SEASONAL_NAIVE);
        assertThat(f.forecast(1)).isBetween(94.0, 106.0);
    }

    @Test
    void keepsTheNaiveBenchmarkUntilEnoughOriginsAreScored() {
        SeriesForecaster f = new SeriesForecaster(7, 0.95, null);
        Random r = new Random(2);
        for (int t = 0; t < SeriesForecaster.SELECTION_WARM_UP; t++) {
            double y = 100 + r.nextGaussian() * 10;
            f.observe(y, 4);
            // t + 1 observations, t origins scored: still the benchmark, whatever the scores say
            assertThat(f.chosen()).as("after %d scored origins", t).isEqualTo(ForecastModelKind.NAIVE);
            assertThat(f.forecast(1)).isEqualTo((float) y);
        }
        // from the warm-up on: noise around a level is forecast by a level model from then on (as in the test above)
        for (int t = 0; t < 20; t++) {
            f.observe(100 + r.nextGaussian() * 10, 4);
        }
        assertThat(f.chosen()).isNotEqualTo(ForecastModelKind.NAIVE);
    }

    /** Naive and SES, no season, backtest decay {@code decay}. */
    private static SeriesForecaster naiveAndSes(double decay) {
        return new SeriesForecaster(java.util.List.of(ModelSpec.of(ForecastModelKind.NAIVE, java.util.List.of()),
                ModelSpec.of(ForecastModelKind.SES, java.util.List.of())), 0, decay);
    }

    /** At a decay so small that the weight stops growing within 12 windows, the warm-up still lasts 12 origins. */
    @Test
    void theWarmUpLastsTwelveOriginsAtAnyDecay() {
        SeriesForecaster f = naiveAndSes(0.01);
        f.observe(100, 4);
        for (int t = 0; t < SeriesForecaster.SELECTION_WARM_UP - 1; t++) {
            // alternating 0 and 100: naive errs by 100 each time, SES by about half that
            f.observe(t % 2 == 0 ? 0 : 100, 4);
            assertThat(f.chosen()).as("after %d scored origins", t + 1).isEqualTo(ForecastModelKind.NAIVE);
        }
    }

    /**
     * Windows a calendar marks are observed but not scored, and do not count towards the warm-up: a series made just
     * before a marked day kept the benchmark through it and then chose on one scored origin.
     */
    @Test
    void markedWindowsDoNotCountTowardsTheSelectionWarmUp() {
        SeriesForecaster f = naiveAndSes(0.95);
        f.observe(100, 4);
        for (int t = 0; t < 11; t++) {
            f.observeMarked(t % 2 == 0 ? 0 : 100, 4, f.forecast(1), false);
        }
        // the first scored origin: naive's error 100, SES's about 52; one origin is no ground to leave the benchmark
        f.observe(100, 4);
        assertThat(f.chosen()).isEqualTo(ForecastModelKind.NAIVE);
        for (int t = 0; t < SeriesForecaster.SELECTION_WARM_UP - 2; t++) {
            f.observe(100, 4);
            assertThat(f.chosen()).isEqualTo(ForecastModelKind.NAIVE);
        }
    }

    /** Restored after any number of observations, a series forecasts with the model it forecast with before. */
    @Test
    void aRestoredSeriesForecastsWithTheModelItChoseBefore() throws Exception {
        SeriesForecaster f = new SeriesForecaster(7, 0.95, null);
        Random r = new Random(2);
        for (int t = 0; t < SeriesForecaster.SELECTION_WARM_UP + 8; t++) {
            f.observe(100 + r.nextGaussian() * 10, 4);
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            f.write(new java.io.DataOutputStream(bytes));
            SeriesForecaster restored = new SeriesForecaster(7, 0.95, null);
            restored.read(new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray())));
            assertThat(restored.chosenName()).as("after %d observations", t + 1).isEqualTo(f.chosenName());
            assertThat(restored.forecast(1)).isEqualTo(f.forecast(1));
        }
    }

    @Test
    void backtestPicksNaiveForARandomWalk() {
        SeriesForecaster f = new SeriesForecaster(0, 0.95, null);
        Random r = new Random(3);
        double y = 1000;
        for (int t = 0; t < 300; t++) {
            y = Math.max(0, y + r.nextGaussian() * 50);
            f.observe(y, 4);
        }
        assertThat(f.chosen()).isEqualTo(ForecastModelKind.NAIVE);
    }

    @Test
    void predictionIntervalCoversAboutTheNominalShare() {
        SeriesForecaster f = new SeriesForecaster(0, 0.99, ForecastModelKind.SES);
        Random r = new Random(4);
        int inside = 0;
        int n = 0;
        for (int t = 0; t < 3000; t++) {
            double y = 200 + r.nextGaussian() * 10;
            if (t >= 100) {
                n++;
                if (y >= f.lower(1, 1.96) && y <= f.upper(1, 1.96)) {
                    inside++;
                }
            }
            f.observe(y, 4);
        }
        assertThat((double) inside / n).isBetween(0.92, 0.98);
    }

    /**
     * An autoregression with momentum (y = 100 + 1.5 y(t-1) - 0.6 y(t-2) + e, sd(e) = 10): its 5-step errors have
     * sd 3.2 sd(e) (sum of psi^2 = 10.3), not sqrt(5) sd(e); the band at z = 1.96 holds about 95 % of the actuals 5
     * windows ahead (about 80 % with sqrt(h), until 2026-12-06).
     */
    @Test
    void anAutoregressionsBandBeyondStepOneCoversAboutTheNominalShare() {
        SeriesForecaster f = new SeriesForecaster(0, 0.99, ForecastModelKind.AUTOREGRESSIVE);
        Random r = new Random(1);
        int n = 6000;
        int h = 5;
        double[] y = new double[n];
        double a = 1000;
        double b = 1000;
        for (int t = 0; t < n; t++) {
            double v = 100 + 1.5 * a - 0.6 * b + 10 * r.nextGaussian();
            b = a;
            a = v;
            y[t] = Math.rint(v);
        }
        double[] lo = new double[n];
        double[] hi = new double[n];
        for (int t = 0; t < n; t++) {
            f.observe(y[t], 4);
            lo[t] = f.lower(h, 1.96);
            hi[t] = f.upper(h, 1.96);
        }
        int inside = 0;
        int counted = 0;
        for (int t = 500; t < n - h; t++) {
            counted++;
            inside += y[t + h] >= lo[t] && y[t + h] <= hi[t] ? 1 : 0;
        }
        assertThat((double) inside / counted).isBetween(0.90, 0.99);
    }

    /** At the default decay and at short ones (the decayed weight stayed below 3 for any decay under 2/3). */
    @ParameterizedTest
    @ValueSource(doubles = {0.95, 0.5})
    void flagsAnInjectedSpikeAsAnAnomaly(double decay) {
        SeriesForecaster f = new SeriesForecaster(0, decay, null);
        Random r = new Random(5);
        int flagged = 0;
        for (int t = 0; t < 100; t++) {
            flagged += f.observe(100 + r.nextGaussian() * 3, 5).anomaly() ? 1 : 0;
        }
        assertThat(flagged).isLessThanOrEqualTo(1);
        assertThat(f.observe(400, 5).anomaly()).isTrue();
    }

    /**
     * Just above a decay of 2/3 the decayed weight creeps towards 3 from below (17 scored windows at 0.667, 23 at
     * 0.6667, never at the double 2/3): anomalies are flagged after a few scored windows there too.
     */
    @ParameterizedTest
    @ValueSource(doubles = {2.0 / 3, 0.6667, 0.7, 0.75, 0.9})
    void flagsASpikeAfterAFewWindowsAtDecaysJustAboveTwoThirds(double decay) {
        SeriesForecaster f = new SeriesForecaster(java.util.List.of(ModelSpec.of(ForecastModelKind.NAIVE,
                java.util.List.of())), 0, decay);
        Random r = new Random(7);
        for (int t = 0; t < 6; t++) {
            f.observe(100 + r.nextGaussian() * 3, 4);
        }
        assertThat(f.observe(1000, 4).anomaly()).isTrue();
    }

    @Test
    void fixedModelIsAlwaysUsed() {
        SeriesForecaster f = new SeriesForecaster(7, 0.95, ForecastModelKind.NAIVE);
        f.observe(5, 4);
        f.observe(9, 4);
        assertThat(f.chosen()).isEqualTo(ForecastModelKind.NAIVE);
        assertThat(f.forecast(3)).isEqualTo(9);
    }

    @Test
    void backtestPicksHoltForALinearTrend() {
        // AR(3) with an intercept also follows a straight line (y_t = 2 y_t-1 - y_t-2), so the smoothing family alone
        SeriesForecaster f = new SeriesForecaster(java.util.List.of(
                ModelSpec.of(ForecastModelKind.NAIVE, java.util.List.of()),
                ModelSpec.of(ForecastModelKind.SES, java.util.List.of()),
                ModelSpec.of(ForecastModelKind.HOLT, java.util.List.of())), 0, 0.95);
        // a steady trend under noise: naive follows the noise, SES lags the trend by about slope / alpha
        Random r = new Random(6);
        for (int t = 0; t < 300; t++) {
            f.observe(100 + 2.0 * t + r.nextGaussian() * 10, 4);
        }
        assertThat(f.chosen()).isEqualTo(ForecastModelKind.HOLT);
        assertThat(f.forecast(1)).isBetween(680.0, 720.0);
    }

    @Test
    void backtestPicksAutoregressionForAMeanRevertingProcess() {
        SeriesForecaster f = new SeriesForecaster(0, 0.95, null);
        Random r = new Random(7);
        double x = 0;
        for (int t = 0; t < 400; t++) {
            x = 0.8 * x + r.nextGaussian() * 10;
            f.observe(500 + x, 4);
        }
        assertThat(f.chosen()).isEqualTo(ForecastModelKind.AUTOREGRESSIVE);
    }

    @Test
    void backtestPicksMultiplicativeSeasonalityWhenTheSeasonGrowsWithTheLevel() {
        // a seasonal AR with lag 6 fits y_t = 1.02^6 y_t-6 exactly, so the Holt-Winters family alone
        java.util.List<Integer> six = java.util.List.of(6);
        SeriesForecaster f = new SeriesForecaster(java.util.List.of(
                ModelSpec.of(ForecastModelKind.SEASONAL_NAIVE, six),
                ModelSpec.of(ForecastModelKind.HOLT_WINTERS, six),
                ModelSpec.of(ForecastModelKind.HOLT_WINTERS_MULTIPLICATIVE, six)), 6, 0.95);
        Random r = new Random(8);
        double[] shape = {0.4, 0.8, 1.6, 1.8, 0.9, 0.5};
        for (int t = 0; t < 240; t++) {
            double level = 100 * Math.pow(1.02, t);
            f.observe(level * shape[t % 6] * (1 + r.nextGaussian() * 0.01), 4);
        }
        assertThat(f.chosen()).isEqualTo(ForecastModelKind.HOLT_WINTERS_MULTIPLICATIVE);
    }

    /**
     * A window the calendar marks, taken as missing (observe=missing): each model moves on with its own one-step
     * forecast, so an exponential-smoothing model's error term is 0 and its forecast stays (Hyndman, Koehler, Ord and
     * Snyder 2008, §6.5); until 2026-12-05 every model took the chosen model's forecast.
     */
    @Test
    void aMissingWindowFeedsEachModelItsOwnForecast() {
        List<Integer> none = List.of();
        SeriesForecaster f = new SeriesForecaster(List.of(ModelSpec.of(ForecastModelKind.NAIVE, none),
                ModelSpec.of(ForecastModelKind.SES, none)), 0, 0.95);
        for (double y : new double[] {100, 50}) {
            f.observe(y, 4.0);
        }
        double naive = f.modelForecast(0, 1);
        double ses = f.modelForecast(1, 1);
        assertThat(naive).isEqualTo(50.0);
        assertThat(ses).isNotCloseTo(naive, org.assertj.core.data.Offset.offset(1.0));
        f.observeMarked(0, 4.0, f.forecast(1), true);
        assertThat(f.modelForecast(0, 1)).isEqualTo(naive);
        assertThat(f.modelForecast(1, 1)).isCloseTo(ses, org.assertj.core.data.Offset.offset(1e-3));
    }
    /**
     * AR reads its lags from the shared history: a missing window must feed it the forecast it made before the history
     * received the window (it fed the forecast made after, read one window on: its forecast of the window after).
     * Taking the window as missing is then the same as observing AR's own one-step forecast.
     */
    @Test
    void aMissingWindowFeedsAutoregressionTheForecastMadeBeforeTheHistoryMoved() {
        List<ModelSpec> ar = List.of(ModelSpec.of(ForecastModelKind.AUTOREGRESSIVE, List.of(24)));
        SeriesForecaster marked = new SeriesForecaster(ar, 0, 0.95);
        SeriesForecaster observed = new SeriesForecaster(ar, 0, 0.95);
        java.util.Random r = new java.util.Random(7);
        double[] ys = new double[300];
        for (int t = 0; t < ys.length; t++) {
            // a daily curve with a steep hour and noise: one window on is far from the window itself
            ys[t] = 100 + 80 * Math.sin(2 * Math.PI * t / 24) + 5 * r.nextGaussian();
        }
        for (int t = 0; t < 200; t++) {
            marked.observe(ys[t], 4.0);
            observed.observe(ys[t], 4.0);
        }
        double own = observed.forecast(1);
        marked.observeMarked(0, 4.0, marked.forecast(1), true);
        observed.observe((float) own, 4.0);
        for (int t = 201; t < ys.length; t++) {
            marked.observe(ys[t], 4.0);
            observed.observe(ys[t], 4.0);
        }
        assertThat(marked.forecast(1)).isEqualTo(observed.forecast(1));
    }
}
