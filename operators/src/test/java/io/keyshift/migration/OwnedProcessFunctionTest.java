package io.keyshift.migration;

import io.keyshift.route.Envelope;
import io.keyshift.route.KeyCodec;
import io.keyshift.route.KeyGroupHashTable;
import io.keyshift.route.Role;
import io.keyshift.route.RoutingKey;
import io.keyshift.serde.RoutingKeyTypeInfo;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The old owner of a key that migrated away: what it may still emit once the key has left. */
class OwnedProcessFunctionTest {
    private static final long HORIZON = 1_000;
    private static final KeyGroupHashTable TABLE = KeyGroupHashTable.forMaxParallelism(128);

    /** Emits each record and, a wall-clock second later, a timeout (a processing-time timer). */
    static final class Timeout extends KeyedProcessFunction<String, String, String> {
        @Override
        public void processElement(String value, Context ctx, Collector<String> out) {
            out.collect("record " + value);
            ctx.timerService().registerProcessingTimeTimer(ctx.timerService().currentProcessingTime() + 1_000);
        }

        @Override
        public void onTimer(long timestamp, OnTimerContext ctx, Collector<String> out) {
            out.collect("timeout " + ctx.getCurrentKey());
        }
    }

    private static List<String> values(KeyedOneInputStreamOperatorTestHarness<?, ?, String> h) {
        List<String> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                out.add((String) r.getValue());
            }
        }
        return out;
    }

    private static KeyedOneInputStreamOperatorTestHarness<RoutingKey<String>, Envelope<String, String>, String>
            stage() throws Exception {
        var fn = new OwnedProcessFunction<>(new Timeout(), HORIZON,
                KeyCodec.forType(Types.STRING, new SerializerConfigImpl()), StringSerializer.INSTANCE,
                new OutputTag<>("checks", TypeInformation.of(ResultCheck.class)));
        return new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(fn),
                Envelope<String, String>::routingKey, new RoutingKeyTypeInfo<>(Types.STRING));
    }

    /**
     * A record of the old stay that arrives after the stay's state was cleared (a horizon past the switch-over) is
     * dropped, not run on empty state; one of the same time before the cleanup still counts.
     */
    @Test
    void aRecordThatReachesTheOldOwnerAfterItsCleanupIsDroppedNotRunOnEmptyState() throws Exception {
        RoutingKey<String> from = RoutingKey.of("k", 5, 0, TABLE);
        try (var f = stage()) {
            f.open();
            f.setProcessingTime(0);
            f.processElement(new StreamRecord<>(new Envelope<>(from, null, Role.MIGRATE_OUT, 1_000, 2_000), 900));
            f.processElement(new StreamRecord<>(new Envelope<>(from, "early", Role.MIGRATING, 1_000, 2_000), 1_500));
            f.processWatermark(3_000);
            f.processElement(new StreamRecord<>(new Envelope<>(from, "late", Role.MIGRATING, 1_000, 2_000), 1_600));
            f.processElement(new StreamRecord<>(Envelope.of(from, "older", Role.PRIMARY), 500));
            f.processWatermark(4_000);
            // the stay is forgotten; a record of it still finds it departed
            f.processElement(new StreamRecord<>(Envelope.of(from, "oldest", Role.PRIMARY), 400));
            assertThat(values(f)).containsExactly("record early");
        }
    }

    @Test
    void aProcessingTimeTimerThatFiresLongAfterTheKeyLeftEmitsNothing() throws Exception {
        var fn = new OwnedProcessFunction<>(new Timeout(), HORIZON,
                KeyCodec.forType(Types.STRING, new SerializerConfigImpl()), StringSerializer.INSTANCE,
                new OutputTag<>("checks", TypeInformation.of(ResultCheck.class)));
        RoutingKey<String> stay = RoutingKey.of("k", 5, 0, TABLE);
        try (var h = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(fn),
                Envelope<String, String>::routingKey, new RoutingKeyTypeInfo<>(Types.STRING))) {
            h.open();
            h.setProcessingTime(0);
            h.processElement(new StreamRecord<>(Envelope.of(stay, "a", Role.PRIMARY), 100));
            // the key leaves: shadow phase from 1,000, switch-over at 2,000; cleaned up at 3,000, forgotten at 4,000
            h.processElement(new StreamRecord<>(new Envelope<>(stay, null, Role.MIGRATE_OUT, 1_000, 2_000), 900));
            h.processWatermark(3_000);
            h.processWatermark(4_000);
            // in a replay event time ran ahead: the wall-clock second of the timeout passes only now
            h.setProcessingTime(1_000);
            assertThat(values(h)).containsExactly("record a");
        }
    }
}
