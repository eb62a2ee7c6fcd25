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

    /**
     * A user's state built from {@code forecasts()}'s type (a window's contents, an async wait's inputs) is written in
     * this serializer's encoding, and its snapshot restores a serializer that reads it: the snapshot was Flink's Avro
     * serializer's, which restored one that reads fixed-width ints and longs, and the restore failed or read other
     * values.
     */
    @Test
    void theSnapshotRestoresASerializerThatReadsWhatWasWritten() throws IOException {
        LoadForecast f = forecast();
        TypeSerializer<LoadForecast> shared = new SharedAvroTypeInfo<>(LoadForecast.class)
                .createSerializer(new SerializerConfigImpl());
        DataOutputSerializer data = new DataOutputSerializer(256);
        shared.serialize(f, data);
        DataOutputSerializer snap = new DataOutputSerializer(256);
        org.apache.flink.api.common.typeutils.TypeSerializerSnapshot.writeVersionedSnapshot(snap,
                shared.snapshotConfiguration());
        org.apache.flink.api.common.typeutils.TypeSerializerSnapshot<LoadForecast> read =
                org.apache.flink.api.common.typeutils.TypeSerializerSnapshot.readVersionedSnapshot(
                        new DataInputDeserializer(snap.getCopyOfBuffer()), getClass().getClassLoader());
        assertThat(read.restoreSerializer().deserialize(new DataInputDeserializer(data.getCopyOfBuffer())))
                .isEqualTo(f);
        assertThat(shared.snapshotConfiguration().resolveSchemaCompatibility(read).isCompatibleAsIs()).isTrue();
        assertThat(read.restoreSerializer()).isEqualTo(shared);
    }

    /** State written with an older schema (here without {@code forcedParallelism}) is read by schema resolution. */
    @Test
    void stateOfAnOlderSchemaIsMigratedBySchemaResolution() throws IOException {
        org.apache.avro.Schema current = LoadForecast.getClassSchema();
        List<org.apache.avro.Schema.Field> fields = new java.util.ArrayList<>();
        for (org.apache.avro.Schema.Field fd : current.getFields()) {
            if (!fd.name().equals("forcedParallelism")) {
                fields.add(new org.apache.avro.Schema.Field(fd, fd.schema()));
            }
        }
        org.apache.avro.Schema older = org.apache.avro.Schema.createRecord(current.getName(), current.getDoc(),
                current.getNamespace(), false, fields);
        LoadForecast f = forecast();
        org.apache.avro.generic.GenericData.Record r = new org.apache.avro.generic.GenericData.Record(older);
        for (org.apache.avro.Schema.Field fd : older.getFields()) {
            r.put(fd.name(), f.get(fd.name()));
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(b, null);
        new org.apache.avro.specific.SpecificDatumWriter<org.apache.avro.generic.GenericRecord>(older).write(r, enc);
        enc.flush();
        SharedAvroTypeInfo.Snapshot<LoadForecast> old = new SharedAvroTypeInfo.Snapshot<>(LoadForecast.class,
                older.toString());
        TypeSerializer<LoadForecast> now = new SharedAvroTypeInfo<>(LoadForecast.class)
                .createSerializer(new SerializerConfigImpl());
        assertThat(now.snapshotConfiguration().resolveSchemaCompatibility(old).isCompatibleAfterMigration()).isTrue();
        LoadForecast back = old.restoreSerializer().deserialize(new DataInputDeserializer(b.toByteArray()));
        assertThat(back.getUnits()).isEqualTo(f.getUnits());
        assertThat(back.getWindowEnd()).isEqualTo(f.getWindowEnd());
        assertThat(back.getForcedParallelism()).isEqualTo(f.getForcedParallelism());
        // another record class: refused
        SharedAvroTypeInfo.Snapshot<LoadForecast> other = new SharedAvroTypeInfo.Snapshot<>(LoadForecast.class,
                io.keyshift.avro.WindowLoad.getClassSchema().toString());
        assertThat(now.snapshotConfiguration().resolveSchemaCompatibility(other).isIncompatible()).isTrue();
        // the builds of 2026-12-01 to 12-05 wrote this encoding under Flink's Avro snapshot: as is, as Flink's own
        // check answered then (RocksDB state is then read with this serializer; after migration it was read with
        // Flink's, which reads another encoding)
        assertThat(now.snapshotConfiguration().resolveSchemaCompatibility(new AvroTypeInfo<>(LoadForecast.class)
                .createSerializer(new SerializerConfigImpl()).snapshotConfiguration()).isCompatibleAsIs()).isTrue();
    }

    /**
     * Not equal to Flink's Avro type of the same class, either way: Flink's PojoTypeInfo equality took them for one
     * type, so a union of {@code plans()} with a stream of Flink's Avro type was accepted and each side's records were
     * read in the other's encoding.
     */
    @Test
    void isNotTheSameTypeAsFlinksAvroTypeOfTheClass() {
        SharedAvroTypeInfo<LoadForecast> shared = new SharedAvroTypeInfo<>(LoadForecast.class);
        AvroTypeInfo<LoadForecast> plain = new AvroTypeInfo<>(LoadForecast.class);
        assertThat(shared).isNotEqualTo(plain).isEqualTo(new SharedAvroTypeInfo<>(LoadForecast.class))
                .hasSameHashCodeAs(new SharedAvroTypeInfo<>(LoadForecast.class));
        assertThat(plain).isNotEqualTo(shared);
        org.apache.flink.streaming.api.environment.StreamExecutionEnvironment env =
                org.apache.flink.streaming.api.environment.StreamExecutionEnvironment.getExecutionEnvironment();
        var a = env.fromData(List.of(forecast()), shared);
        var b = env.fromData(List.of(forecast()), plain);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> a.union(b))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
