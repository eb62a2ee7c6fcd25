package io.keyshift.forecast;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ModelsTest {

    @Test
    void seasonalNaiveRepeatsTheLastSeason() {
        LoadModel m = new Models.SeasonalNaive(3);
        for (double y : new double[] {1, 2, 3, 4, 5, 6}) {
            m.observe(y);
        }
        // t = 6: y(7) = y(4) = 4, y(8) = 5, y(9) = 6, y(10) = y(7) = 4
        assertThat(m.forecast(1)).isEqualTo(4);
        assertThat(m.forecast(2)).isEqualTo(5);
        assertThat(m.forecast(3)).isEqualTo(6);
        assertThat(m.forecast(4)).isEqualTo(4);
    }

    @Test
    void sesIsTheExponentiallyWeightedLevel() {
        LoadModel m = new Models.Ses(0.5);
        m.observe(2);
        m.observe(4);
        m.observe(10);
        // l1 = 2, l2 = 0.5*4 + 0.5*2 = 3, l3 = 0.5*10 + 0.5*3 = 6.5
        assertThat(m.forecast(1)).isEqualTo(6.5);
        assertThat(m.forecast(5)).isEqualTo(6.5);
    }

    @Test
    void holtContinuesALinearTrendExactly() {
        LoadModel m = new Models.Holt(0.3, 0.1, 1.0);
        for (int t = 0; t < 20; t++) {
            m.observe(10 + 2 * t);
        }
        assertThat(m.forecast(1)).isCloseTo(50, within(1e-9));
        assertThat(m.forecast(5)).isCloseTo(58, within(1e-9));
    }

    @Test
    void dampedTrendSumIsAGeometricSeries() {
        assertThat(Models.dampedSum(0.5, 3)).isCloseTo(0.5 + 0.25 + 0.125, within(1e-12));
        assertThat(Models.dampedSum(1.0, 4)).isEqualTo(4);
    }

    @Test
    void holtWintersReproducesAPureSeasonalPattern() {
        double[] pattern = {10, 30, 50, 20};
        LoadModel m = new Models.HoltWinters(0.2, 0.1, 0.3, 0.9, 4);
        for (int t = 0; t < 12; t++) {
            m.observe(pattern[t % 4]);
        }
        for (int h = 1; h <= 8; h++) {
            assertThat(m.forecast(h)).isCloseTo(pattern[(12 + h - 1) % 4], within(1e-9));
        }
    }

    /**
     * One update by hand (FPP3 §8.3): after 10, 20 (level 15, trend 0, seasons -5 and 5) comes 25 at the first
     * position; level 0.5 * (25 + 5) + 0.5 * 15 = 22.5, trend 0.5 * 7.5 = 3.75, and the season's term against the
     * previous level and trend, 0.5 * (25 - 15 - 0) + 0.5 * -5 = 2.5 (against the new trend it would be 0.625).
     */
    @Test
    void holtWintersUpdatesTheSeasonWithThePreviousLevelAndTrend() {
        LoadModel m = new Models.HoltWinters(0.5, 0.5, 0.5, 1.0, 2);
        m.observe(10);
        m.observe(20);
        m.observe(25);
        // two windows ahead lands on the first position again: 22.5 + 2 * 3.75 + 2.5
        assertThat(m.forecast(2)).isCloseTo(32.5, within(1e-9));
    }

    @Test
    void stateRoundTripsThroughWriteAndRead() throws Exception {
        LoadModel a = new Models.HoltWinters(0.2, 0.1, 0.3, 0.9, 5);
        Random r = new Random(3);
        for (int t = 0; t < 17; t++) {
            a.observe(50 + r.nextInt(20));
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        a.write(new DataOutputStream(bytes));
        LoadModel b = new Models.HoltWinters(0.2, 0.1, 0.3, 0.9, 5);
        b.read(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        for (int h = 1; h < 7; h++) {
            assertThat(b.forecast(h)).isEqualTo(a.forecast(h));
        }
    }

    @Test
    void multiplicativeHoltWintersScalesTheSeasonWithTheLevel() {
        double[] factors = {0.5, 1.0, 1.5, 1.0};
        LoadModel m = new Models.HoltWintersMultiplicative(0.2, 0.1, 0.3, 0.9, 4);
        for (int t = 0; t < 40; t++) {
            m.observe(100 * factors[t % 4]);
        }
        for (int h = 1; h <= 4; h++) {
            assertThat(m.forecast(h)).isCloseTo(100 * factors[(40 + h - 1) % 4], within(1e-6));
        }
    }

    /** 2,000 steps of y(t) = 20 + 0.6 y(t-1) + e, e ~ N(0, 1) (mean 50), seed 11, each given to {@code observe}. */
    private static double ar1(java.util.function.DoubleConsumer observe) {
        Random r = new Random(11);
        double y = 50;
        for (int t = 0; t < 2000; t++) {
            y = 20 + 0.6 * y + r.nextGaussian();
            observe.accept(y);
        }
        return y;
    }

    @Test
    void autoregressiveRecoversAKnownAr1Process() {
        // the one-step forecast is 20 + 0.6 y(t)
        Autoregressive m = new Autoregressive(1, 0, 400, 50);
        double y = ar1(m::observe);
        assertThat(m.forecast(1)).isCloseTo(20 + 0.6 * y, within(0.5));
        assertThat(m.forecast(50)).isCloseTo(50, within(1.0));
    }

    @Test
    void autoregressionDoesNotDependOnTheSeriesScale() {
        // The AR(1) process above scaled by 10,000 (mean 500,000 records per window, as a key group of a busy job
        // has) must be forecast as the process itself, scaled. A ridge proportional to X'X's trace once shrank the
        // intercept, whose diagonal entry does not grow with the series, towards 0 on large series.
        Autoregressive small = new Autoregressive(3, 0, 400, 50);
        Autoregressive large = new Autoregressive(3, 0, 400, 50);
        ar1(y -> {
            small.observe(y);
            large.observe(1e4 * y);
        });
        for (int h : new int[] {1, 2, 5, 50}) {
            assertThat(large.forecast(h) / 1e4).as("step %d", h).isCloseTo(small.forecast(h), within(1e-3));
        }
    }

    @Test
    void seasonalAutoregressionFollowsAWeeklyPattern() {
        double[] week = {100, 120, 130, 125, 110, 30, 20};
        Autoregressive m = new Autoregressive(3, 7, 60, 7);
        for (int t = 0; t < 140; t++) {
            m.observe(week[t % 7]);
        }
        for (int h = 1; h <= 7; h++) {
            assertThat(m.forecast(h)).isCloseTo(week[(140 + h - 1) % 7], within(1.0));
        }
    }
}
