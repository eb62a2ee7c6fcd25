package io.keyshift.serde;

import io.keyshift.avro.KeyLoadSample;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.plan.PlanEvent;
import io.keyshift.route.Plans;

import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * keyshift's own readers and writers use Avro's generated coders, write the same bytes as Avro's reflective writer,
 * and read them back to equal records (plans with migrations in flight: nested records and unions).
 */
class AvroCodersTest {
    static {
        // copying and building records with record defaults deep-copies them, which Avro allows for trusted classes
        io.keyshift.config.AvroTrust.install();
    }

    private static RoutingPlan plan() {
        RouteEntry moved = RouteEntry.newBuilder().setKey("moved").setNaturalKeyGroup(3).setKeyGroup(9).build();
        return Plans.plan(7, 3_600_000, 128, Plans.migrating("hot", 5, 77, 0, 3_600_000), moved);
    }

    private static byte[] reflective(RoutingPlan p) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<>(RoutingPlan.class).write(p, enc);
        enc.flush();
        return out.toByteArray();
    }

    /**
     * Every record and enum the schemas in {@code schemas/} name is on {@link io.keyshift.config.AvroTrust}'s list:
     * a type left off fails the first plan, report or state that holds it (Avro refuses untrusted classes).
     */
    @Test
    void everyTypeOfKeyshiftsSchemasIsTrusted() throws Exception {
        java.util.Set<String> names = new java.util.TreeSet<>();
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(
                java.nio.file.Path.of("..", "schemas"))) {
            org.apache.avro.Schema.Parser parser = new org.apache.avro.Schema.Parser();
            // schemas that others refer to by name first, as the build parses them
            for (String first : java.util.List.of("WindowLoad.avsc", "LoadForecast.avsc")) {
                parser.parse(java.nio.file.Path.of("..", "schemas", first).toFile());
            }
            for (java.nio.file.Path f : files.filter(f -> f.toString().endsWith(".avsc")).sorted().toList()) {
                if (!parser.getTypes().containsKey("io.keyshift.avro."
                        + f.getFileName().toString().replace(".avsc", ""))) {
                    parser.parse(f.toFile());
                }
            }
            names.addAll(parser.getTypes().keySet());
        }
        assertThat(names).contains("io.keyshift.avro.RoutingPlan", "io.keyshift.avro.SplitSpread");
        for (String name : names) {
            assertThat(org.apache.avro.util.ClassSecurityValidator.getGlobal().isTrusted(Class.forName(name)))
                    .as("%s is trusted", name).isTrue();
        }
    }

    /**
     * A plan written before splits kept their parallelism and earlier spreads (a savepoint's planner and router state,
     * which Flink's Avro serializer reads with the schema it was written with as the writer's) reads as a split of
     * parallelism 0 (unknown: the planner takes the plan's) with no earlier spread.
     */
    @Test
    void aPlanWrittenBeforeSplitsKeptTheirSpreadsReadsWithDefaults() throws IOException {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.JsonNode schema = json.readTree(RoutingPlan.getClassSchema().toString());
        java.util.Deque<com.fasterxml.jackson.databind.JsonNode> walk = new java.util.ArrayDeque<>(java.util.List.of(schema));
        int cut = 0;
        while (!walk.isEmpty()) {
            com.fasterxml.jackson.databind.JsonNode n = walk.pop();
            if ("Split".equals(n.path("name").asText()) && n.has("fields")) {
                var fields = (com.fasterxml.jackson.databind.node.ArrayNode) n.get("fields");
                for (int i = fields.size() - 1; i >= 0; i--) {
                    String name = fields.get(i).get("name").asText();
                    if (name.equals("parallelism") || name.equals("earlier")) {
                        fields.remove(i);
                        cut++;
                    }
                }
            }
            n.elements().forEachRemaining(walk::push);
        }
        assertThat(cut).isEqualTo(2);
        org.apache.avro.Schema old = new org.apache.avro.Schema.Parser().parse(json.writeValueAsString(schema));
        assertThat(org.apache.avro.SchemaCompatibility.checkReaderWriterCompatibility(RoutingPlan.getClassSchema(), old)
                .getType()).isEqualTo(org.apache.avro.SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
        // a split written with the old schema
        org.apache.avro.Schema oldSplit = old.getField("entries").schema().getElementType().getField("split").schema()
                .getTypes().get(1);
        org.apache.avro.generic.GenericRecord split = new org.apache.avro.generic.GenericRecordBuilder(oldSplit)
                .set("keyGroups", java.util.List.of(1, 2)).set("from", 10L).set("plannedInVersion", 3L)
                .set("predictedLoad", 5.0).set("preRollFrom", 10L).build();
        org.apache.avro.Schema oldEntry = old.getField("entries").schema().getElementType();
        org.apache.avro.generic.GenericRecord entry = new org.apache.avro.generic.GenericRecordBuilder(oldEntry)
                .set("key", "hot").set("naturalKeyGroup", 1).set("keyGroup", 1).set("split", split).build();
        RoutingPlan p = plan();
        org.apache.avro.generic.GenericRecordBuilder b = new org.apache.avro.generic.GenericRecordBuilder(old);
        for (org.apache.avro.Schema.Field f : old.getFields()) {
            Object v = f.name().equals("entries") ? java.util.List.of(entry) : p.get(f.name());
            b.set(f.name(), v instanceof org.apache.avro.specific.SpecificRecord r ? toGeneric(r, f.schema()) : v);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new org.apache.avro.generic.GenericDatumWriter<org.apache.avro.generic.GenericRecord>(old).write(b.build(), enc);
        enc.flush();
        RoutingPlan back = new org.apache.avro.specific.SpecificDatumReader<RoutingPlan>(old, RoutingPlan.getClassSchema())
                .read(null, org.apache.avro.io.DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
        io.keyshift.avro.Split read = back.getEntries().get(0).getSplit();
        assertThat(read.getKeyGroups()).containsExactly(1, 2);
        assertThat(read.getParallelism()).isZero();
        assertThat(read.getEarlier()).isEmpty();
    }

    /** A specific record as a generic one of {@code schema} (a union's record branch where the field is a union). */
    private static Object toGeneric(org.apache.avro.specific.SpecificRecord r, org.apache.avro.Schema schema)
            throws IOException {
        org.apache.avro.Schema s = schema.getType() == org.apache.avro.Schema.Type.UNION
                ? schema.getTypes().stream().filter(t -> t.getType() == org.apache.avro.Schema.Type.RECORD)
                .findFirst().orElseThrow() : schema;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<org.apache.avro.specific.SpecificRecord>(r.getSchema()).write(r, enc);
        enc.flush();
        return new org.apache.avro.generic.GenericDatumReader<>(r.getSchema(), s)
                .read(null, org.apache.avro.io.DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
    }

    @Test
    void readersAndWritersUseTheGeneratedCodersAndNotTheFastReader() {
        SpecificData w = (SpecificData) AvroCoders.writer(KeyLoadSample.class).getData();
        SpecificData r = (SpecificData) AvroCoders.reader(RoutingPlan.class).getData();
        assertThat(w.useCustomCoders()).isTrue();
        assertThat(r.useCustomCoders()).isTrue();
        assertThat(r.isFastReaderEnabled()).isFalse();
        // Avro's own default is unchanged: a user's readers and writers are not affected
        assertThat(SpecificData.get().useCustomCoders()).isFalse();
    }

    @Test
    void aPlanEventHasAvrosBinaryEncodingAndRoundTrips() throws IOException {
        RoutingPlan p = plan();
        byte[] bytes = PlanEvent.encode(p);
        assertThat(bytes).isEqualTo(reflective(p));
        RoutingPlan back = PlanEvent.decode(bytes);
        assertThat(back).isEqualTo(p);
        assertThat(back.getEntries().get(0).getMigration().getToKeyGroup()).isEqualTo(77);
        assertThat(back.getEntries().get(1).getMigration()).isNull();
    }
}
