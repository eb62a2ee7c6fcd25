package io.keyshift.serde;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.UnitForecast;
import io.keyshift.avro.UnitType;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The control path's stream type: chained consumers get the emitted instance (no deep copy), every serializer
 * duplicate keeps that, and across an exchange the record round-trips exactly as with Flink's Avro serializer.
 */
class SharedAvroTypeInfoTest {
    private static LoadForecast forecast() {
        List<Double> f = List.of(3.0, 4.0, 5.0);
        return LoadForecast.newBuilder().setWindowStart(0).setWindowEnd(3_600_000).setHorizon(3)
                .setTotalObserved(12).setUnits(List.of(UnitForecast.newBuilder().setUnitType(UnitType.HOT_KEY)
                        .setKey("k").setKeyGroup(7).setObserved(3).setForecast(f).setLower(f).setUpper(f)
                        .setModel("NAIVE").setAnomaly(false).build()))
                .setAbsoluteErrorSum(0).setNaiveErrorSum(0).setSeasonalAbsoluteErrorSum(0).setSeasonalNaiveErrorSum(0)
                .setAnomalies(0).build();
    }

    @Test
    void chainedConsumersGetTheInstanceWhereFlinksAvroSerializerDeepCopies() {
        LoadForecast f = forecast();
        TypeSerializer<LoadForecast> shared = new SharedAvroTypeInfo<>(LoadForecast.class)
                .createSerializer(new SerializerConfigImpl());
        TypeSerializer<LoadForecast> plain = new AvroTypeInfo<>(LoadForecast.class)
                .createSerializer(new SerializerConfigImpl());
        assertThat(shared.copy(f)).isSameAs(f);
        assertThat(shared.copy(f, null)).isSameAs(f);
        assertThat(shared.duplicate().copy(f)).isSameAs(f);
        assertThat(shared.duplicate()).isEqualTo(shared).isNotSameAs(shared).hasSameHashCodeAs(shared);
        assertThat(plain.copy(f)).isEqualTo(f).isNotSameAs(f);
    }

    @Test
    void acrossAnExchangeTheRecordRoundTripsAsWithFlinksAvroSerializer() throws IOException {
        LoadForecast f = forecast();
        TypeSerializer<LoadForecast> shared = new SharedAvroTypeInfo<>(LoadForecast.class)
                .createSerializer(new SerializerConfigImpl());
        DataOutputSerializer a = new DataOutputSerializer(256);
        shared.serialize(f, a);
        DataOutputSerializer b = new DataOutputSerializer(256);
        new AvroTypeInfo<>(LoadForecast.class).createSerializer(new SerializerConfigImpl()).serialize(f, b);
        assertThat(a.getCopyOfBuffer()).isEqualTo(b.getCopyOfBuffer());
        LoadForecast back = shared.deserialize(new DataInputDeserializer(a.getCopyOfBuffer()));
        assertThat(back).isEqualTo(f).isNotSameAs(f);
    }
}
