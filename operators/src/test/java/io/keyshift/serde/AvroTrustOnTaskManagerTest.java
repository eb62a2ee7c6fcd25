package io.keyshift.serde;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.UnitForecast;
import io.keyshift.avro.UnitType;
import io.keyshift.avro.ValidationOutcome;
import io.keyshift.avro.ValidationReport;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.formats.avro.typeutils.AvroSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A TaskManager that runs only a user's consumer of a keyshift stream (validation(), forecasts(), ...) and no keyshift
 * operator: it gets the stream's serializer with the job graph (Java serialization) and must read keyshift's Avro
 * records, which Avro 1.12 refuses for classes nobody trusted. Checked in a JVM of its own (about 2 s) that loads no
 * keyshift operator class: Flink's plain AvroSerializer fails there, keyshift's serializers read.
 */
class AvroTrustOnTaskManagerTest {
    static ValidationReport report() {
        return ValidationReport.newBuilder().setKey("k").setWindowStart(0).setWindowEnd(1).setPrimaryKeyGroup(1)
                .setShadowKeyGroup(2).setPrimaryChecksum(3).setShadowChecksum(3).setOutcome(ValidationOutcome.MATCH)
                .setPrimaryResults(1).setShadowResults(1).build();
    }

    static LoadForecast forecast() {
        return LoadForecast.newBuilder().setWindowStart(0).setWindowEnd(1).setHorizon(1).setTotalObserved(1)
                .setUnits(List.of(UnitForecast.newBuilder().setUnitType(UnitType.HOT_KEY).setKey("k").setKeyGroup(1)
                        .setObserved(1).setForecast(List.of(1.0)).setLower(List.of(1.0)).setUpper(List.of(1.0))
                        .setModel("m").setAnomaly(false).build()))
                .setAbsoluteErrorSum(0).setNaiveErrorSum(0).setSeasonalAbsoluteErrorSum(0).setSeasonalNaiveErrorSum(0)
                .setAnomalies(0).setRouterPlanVersion(0).setRouterParallelism(1).build();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static void write(Path dir, String name, TypeSerializer serializer, Object record) throws Exception {
        try (ObjectOutputStream out = new ObjectOutputStream(Files.newOutputStream(dir.resolve(name + ".ser")))) {
            out.writeObject(serializer);
        }
        DataOutputSerializer bytes = new DataOutputSerializer(256);
        serializer.serialize(record, bytes);
        Files.write(dir.resolve(name + ".bin"), bytes.getCopyOfBuffer());
    }

    @Test
    void keyshiftsSerializersReadItsRecordsInAJvmWithoutKeyshiftOperators(@TempDir Path dir) throws Exception {
        SerializerConfigImpl config = new SerializerConfigImpl();
        write(dir, "plain", new AvroSerializer<>(ValidationReport.class), report());
        write(dir, "trusted", new TrustedAvroTypeInfo<>(ValidationReport.class).createSerializer(config), report());
        write(dir, "shared", new SharedAvroTypeInfo<>(LoadForecast.class).createSerializer(config), forecast());
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        // one JVM per serializer: the first to trust keyshift's classes would let the other read too
        for (String name : List.of("trusted", "shared")) {
            Path log = dir.resolve(name + ".log");
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", classPath, Probe.class.getName(), dir.toString(), name)
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("the probe JVM ended within 2 minutes").isTrue();
                String output = Files.readString(log, StandardCharsets.UTF_8);
                assertThat(p.exitValue()).as(output).isZero();
                // Flink's plain serializer, read first, shows the failure keyshift's prevent
                assertThat(output).contains("plain: SecurityException")
                        .contains(name.equals("trusted") ? "trusted: MATCH" : "shared: 1 units");
            } finally {
                p.destroyForcibly();
            }
        }
    }

    /** The TaskManager's side: reads each serializer as the job graph hands it over, then its record. */
    public static final class Probe {
        private Probe() {}

        @SuppressWarnings("rawtypes")
        static Object read(Path dir, String name) throws Exception {
            TypeSerializer s;
            try (ObjectInputStream in = new ObjectInputStream(Files.newInputStream(dir.resolve(name + ".ser")))) {
                s = (TypeSerializer) in.readObject();
            }
            return s.deserialize(new DataInputDeserializer(Files.readAllBytes(dir.resolve(name + ".bin"))));
        }

        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            try {
                read(dir, "plain");
                System.out.println("plain: read");
            } catch (SecurityException e) {
                System.out.println("plain: SecurityException");
            }
            Object r = read(dir, args[1]);
            System.out.println(r instanceof ValidationReport v ? "trusted: " + v.getOutcome()
                    : "shared: " + ((LoadForecast) r).getUnits().size() + " units");
        }
    }
}
