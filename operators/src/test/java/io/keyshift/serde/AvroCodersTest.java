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
