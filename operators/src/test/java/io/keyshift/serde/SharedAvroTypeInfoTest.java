package io.keyshift.serde;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.UnitForecast;
import io.keyshift.avro.UnitType;

import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The control path's stream type: chained consumers get the emitted instance (no deep copy), every serializer
 * duplicate keeps that, and across an exchange the record is Avro's binary encoding and round-trips exactly.
 */
class SharedAvroTypeInfoTest {
    static {
        // copying and building records with record defaults deep-copies them, which Avro allows for trusted classes
        io.keyshift.config.AvroTrust.install();
    }

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
    void acrossAnExchangeTheRecordIsAvrosBinaryEncodingAndRoundTrips() throws IOException {
        LoadForecast f = forecast();
        TypeSerializer<LoadForecast> shared = new SharedAvroTypeInfo<>(LoadForecast.class)
                .createSerializer(new SerializerConfigImpl());
        DataOutputSerializer a = new DataOutputSerializer(256);
        shared.serialize(f, a);
        shared.serialize(f, a);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(b, null);
        new SpecificDatumWriter<>(LoadForecast.class).write(f, enc);
        enc.flush();
        byte[] one = b.toByteArray();
        assertThat(a.length()).isEqualTo(2 * one.length);
        assertThat(java.util.Arrays.copyOf(a.getCopyOfBuffer(), one.length)).isEqualTo(one);
        // two records back to back: the reader stops at the end of the first
        DataInputDeserializer in = new DataInputDeserializer(a.getCopyOfBuffer());
        assertThat(shared.deserialize(in)).isEqualTo(f).isNotSameAs(f);
        assertThat(shared.deserialize(in)).isEqualTo(f);
        assertThat(in.available()).isZero();
        // copy across views, as a network hop without deserializing would
        DataOutputSerializer c = new DataOutputSerializer(256);
        shared.copy(new DataInputDeserializer(one), c);
        assertThat(c.getCopyOfBuffer()).isEqualTo(one);
    }
}
