package io.keyshift.plan;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.UnitForecast;
import io.keyshift.avro.UnitType;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class LongRunLoadsTest {

    private static UnitForecast key(String key, double observed) {
        List<Double> f = List.of(observed);
        return UnitForecast.newBuilder().setUnitType(UnitType.HOT_KEY).setKey(key).setKeyGroup(7)
                .setObserved(observed).setForecast(f).setLower(f).setUpper(f).setModel("naive").setAnomaly(false)
                .build();
    }

    private static UnitForecast group(int keyGroup, double observed) {
        List<Double> f = List.of(observed);
        return UnitForecast.newBuilder().setUnitType(UnitType.KEY_GROUP).setKey(null).setKeyGroup(keyGroup)
                .setObserved(observed).setForecast(f).setLower(f).setUpper(f).setModel("naive").setAnomaly(false)
                .build();
    }

    private static LoadForecast forecast(UnitForecast... units) {
        return LoadForecast.newBuilder().setWindowStart(0).setWindowEnd(1).setHorizon(1).setTotalObserved(0)
                .setUnits(new ArrayList<>(List.of(units))).setAbsoluteErrorSum(0).setNaiveErrorSum(0)
                .setSeasonalAbsoluteErrorSum(0).setSeasonalNaiveErrorSum(0).setAnomalies(0).build();
    }

    @Test
    void meanIsAnExponentiallyWeightedMeanKnownFromTheSecondObservation() {
        LongRunLoads loads = new LongRunLoads(2); // weight 1/2 per window
        loads.observe(forecast(key("a", 10), group(3, 4)));
        assertThat(loads.mean(key("a", 0))).isNaN();
        loads.observe(forecast(key("a", 20), group(3, 8)));
        // (10 * 0.5 + 20) / (0.5 + 1)
        assertThat(loads.mean(key("a", 0))).isCloseTo(25 / 1.5, within(1e-12));
        assertThat(loads.mean(group(3, 0))).isCloseTo(10 / 1.5, within(1e-12));
        // a key and a key group are different units, whatever their numbers
        assertThat(loads.mean(group(7, 0))).isNaN();
    }

    @Test
    void unitsAbsentFromAForecastAreForgotten() {
        LongRunLoads loads = new LongRunLoads(100);
        loads.observe(forecast(key("a", 10), key("b", 5)));
        loads.observe(forecast(key("a", 10), key("b", 5)));
        assertThat(loads.size()).isEqualTo(2);
        loads.observe(forecast(key("a", 10)));
        assertThat(loads.size()).isEqualTo(1);
        assertThat(loads.mean(key("b", 0))).isNaN();
        loads.observe(forecast(key("a", 10), key("b", 50)));
        assertThat(loads.mean(key("b", 0))).isNaN(); // starts afresh
    }

    @Test
    void shrinksADeviationOfTheSizeOfTheNoiseAndKeepsALargeShift() {
        LongRunLoads loads = new LongRunLoads(1000);
        for (int i = 0; i < 50; i++) {
            loads.observe(forecast(key("a", 30)));
        }
        UnitForecast a = key("a", 0);
        assertThat(loads.mean(a)).isCloseTo(30, within(1e-9));
        // noise variance 30 / 3 = 10 windows of horizon 3: a deviation of sqrt(10) keeps half
        double d = Math.sqrt(10);
        assertThat(loads.shrink(a, 30 + d, 3, 1.0)).isCloseTo(30 + d / 2, within(1e-9));
        // a shift of 300 (d^2 = 90,000 against 10) is kept to within 0.04
        assertThat(loads.shrink(a, 330, 3, 1.0)).isCloseTo(330, within(0.04));
        // a larger noise scale shrinks more; 0 keeps the forecast
        assertThat(loads.shrink(a, 30 + d, 3, 4.0)).isCloseTo(30 + d / 5, within(1e-9));
        assertThat(loads.shrink(a, 37, 3, 0.0)).isEqualTo(37);
        // a unit not known yet keeps its forecast
        assertThat(loads.shrink(key("new", 0), 37, 3, 1.0)).isEqualTo(37);
    }

    @Test
    void stateRoundTripsThroughBytes() {
        LongRunLoads loads = new LongRunLoads(10);
        loads.observe(forecast(key("ä-key", 3), group(5, 9)));
        loads.observe(forecast(key("ä-key", 4), group(5, 1), key("once", 2)));
        LongRunLoads restored = new LongRunLoads(10);
        restored.restore(loads.toBytes());
        assertThat(restored.size()).isEqualTo(3);
        assertThat(restored.mean(key("ä-key", 0))).isEqualTo(loads.mean(key("ä-key", 0)));
        assertThat(restored.mean(group(5, 0))).isEqualTo(loads.mean(group(5, 0)));
        assertThat(restored.mean(key("once", 0))).isNaN();
        assertThat(restored.toBytes()).isEqualTo(loads.toBytes());
        assertThatThrownBy(() -> restored.restore(new byte[] {0, 0, 0, 1})).hasMessageContaining("long-run load state");
        assertThatThrownBy(() -> new LongRunLoads(0)).hasMessageContaining(">= 1");
        // the bytes name their format: a newer build's is refused as such; the format before, without it, restores
        assertThat(loads.toBytes()).startsWith(0xff, 0xff, 0xff, 0xfe);
        byte[] newer = loads.toBytes();
        newer[3] = (byte) 0xfd;
        assertThatThrownBy(() -> restored.restore(newer)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("long-run load state of format 3, which this build does not know");
        byte[] earlier = java.util.Arrays.copyOfRange(loads.toBytes(), 4, loads.toBytes().length);
        LongRunLoads fromEarlier = new LongRunLoads(10);
        fromEarlier.restore(earlier);
        assertThat(fromEarlier.toBytes()).isEqualTo(loads.toBytes());
    }
}
