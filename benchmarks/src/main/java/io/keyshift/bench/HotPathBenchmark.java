package io.keyshift.bench;

import io.keyshift.avro.KeyLoadSample;
import io.keyshift.avro.Migration;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.plan.PlanEvent;
import io.keyshift.route.Envelope;
import io.keyshift.route.KeyCodec;
import io.keyshift.route.KeyGroupHashTable;
import io.keyshift.route.KeyshiftRouter;
import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.util.OutputTag;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Per-record cost of keyshift's hot path, in ns per record (average time per operation; one operation = one record):
 * the router operator ({@link KeyshiftRouter}, sampling and routing in one operator) in Flink's operator test
 * harness, for a user record of a String key chosen among 10,000. Every record carries a fresh copy of its key string,
 * as after deserialization, so the key's hash is computed per record as in a job. The operator is called directly
 * and its output only counts what it gets (the harness's own output copies every record, and in a job serializing
 * the envelope into a network buffer is the record writer's cost, measured by {@code keyshift bench}).
 *
 * <ul>
 *   <li>{@code router}: sampling (rate 1.0 or 0.1) and routing under a plan that moved 256 keys ({@code plan=moved}:
 *       no migration in flight, emitting the primary envelope; {@code plan=inShadow}: the keys in their shadow
 *       phase, primary and shadow envelopes);</li>
 *   <li>{@code routingKeyHash}: {@link RoutingKey#of}, the key group's hash preimage for a key;</li>
 *   <li>{@code exchange}: a record serialized and read back as {@code keyBy}'s exchange and keyshift's keyed
 *       exchange carry it (see {@link Exchange});</li>
 *   <li>{@code input}: the benchmark's own input alone (the next record and the copy of its key): the router's and
 *       sampler's own cost per record is {@code router} minus {@code input} in the same run.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED"})
public class HotPathBenchmark {
    static final int MAX_P = 128;
    static final int KEYS = 10_000;
    static final int EVENTS = 1 << 16;
    static final long LEASE = 1_000_000_000L;
    static final io.keyshift.route.KeyPseudonymizer PSEUDONYMS =
            io.keyshift.route.KeyPseudonymizer.fromSecret("benchmark-secret-0123456789");

    /** A record of the benchmark: a key and an event time. Flink POJO. */
    public static class Click {
        public String user;
        public long ts;

        public Click() {}

        Click(String user, long ts) {
            this.user = user;
            this.ts = ts;
        }
    }

    /** Records over 10,000 keys, and plans. */
    @State(Scope.Thread)
    public static class Records {
        Click[] records;
        Click[] migrating;
        RoutingPlan moved;
        RoutingPlan inShadow;
        KeyGroupHashTable table;
        int i;

        @Setup
        public void setUp() {
            io.keyshift.config.AvroTrust.install();
            table = KeyGroupHashTable.forMaxParallelism(MAX_P);
            String[] keys = new String[KEYS];
            for (int k = 0; k < KEYS; k++) {
                keys[k] = "key-" + k;
            }
            SplittableRandom r = new SplittableRandom(7);
            records = new Click[EVENTS];
            for (int n = 0; n < EVENTS; n++) {
                records[n] = new Click(keys[r.nextInt(KEYS)], 1000 + n);
            }
            List<RouteEntry> movedEntries = new ArrayList<>();
            List<RouteEntry> shadowEntries = new ArrayList<>();
            for (int k = 0; k < 256; k++) {
                String key = keys[k * 37 % KEYS];
                int natural = KeyGroupRangeAssignment.assignToKeyGroup(key, MAX_P);
                int to = (natural + 64) % MAX_P;
                movedEntries.add(RouteEntry.newBuilder().setKey(key).setNaturalKeyGroup(natural).setKeyGroup(to)
                        .setMigration(null).build());
                shadowEntries.add(RouteEntry.newBuilder().setKey(key).setNaturalKeyGroup(natural).setKeyGroup(natural)
                        .setMigration(Migration.newBuilder().setFromKeyGroup(natural).setToKeyGroup(to)
                                .setShadowFrom(0).setSwitchAt(LEASE).setPlannedInVersion(1).setPredictedLoad(1)
                                .setFromSubtaskLoadBefore(1).setToSubtaskLoadBefore(1).build()).build());
            }
            moved = plan(movedEntries);
            inShadow = plan(shadowEntries);
            migrating = new Click[EVENTS];
            for (int n = 0; n < EVENTS; n++) {
                migrating[n] = new Click(shadowEntries.get(r.nextInt(shadowEntries.size())).getKey(), 1000 + n);
            }
        }

        static RoutingPlan plan(List<RouteEntry> entries) {
            return RoutingPlan.newBuilder().setVersion(1).setValidUntil(LEASE).setBasedOnWindowEnd(0)
                    .setMaxParallelism(MAX_P).setParallelism(8).setEntries(entries)
                    .setPredictedImbalanceBefore(1).setPredictedImbalanceAfter(1)
                    .setMigrationsStarted(0).setMigrationsCompleted(0).build();
        }

        /**
         * The next record, with a fresh copy of its key: new bytes and no cached hash, as after deserialization (a
         * copy by {@code new String(String)} would take the original's cached hash along, and the originals of the
         * plan's keys are hashed when the plan is applied).
         */
        Click next(Click[] from) {
            Click c = from[i++ & (EVENTS - 1)];
            return new Click(new String(c.user.toCharArray()), c.ts);
        }
    }

    /** A router in a Flink operator test harness, with a plan applied. */
    @State(Scope.Thread)
    public static class Router {
        @Param({"1.0", "0.1"})
        double rate;
        @Param({"moved", "inShadow"})
        String plan;
        /** keyshift.privacy.key-secret set: the router computes each record's pseudonym and looks plans up by it. */
        @Param({"false", "true"})
        boolean pseudonymized;
        OneInputStreamOperatorTestHarness<Click, Envelope<Click, String>> harness;
        boolean moved;

        @Setup(Level.Trial)
        public void setUp(Records records) throws Exception {
            KeyshiftRouter<Click, String> router = new KeyshiftRouter<>(
                    new KeyshiftRouter.Settings(Long.MAX_VALUE / 4, MAX_P, 8, 1024, rate, 2_000, false),
                    c -> c.user, pseudonymized
                            ? KeyCodec.pseudonymous(KeyCodec.forType(Types.STRING, new SerializerConfigImpl()),
                                    PSEUDONYMS)
                            : KeyCodec.forType(Types.STRING, new SerializerConfigImpl()),
                    Types.POJO(Click.class), new OutputTag<>("samples", new AvroTypeInfo<>(KeyLoadSample.class)));
            harness = new OneInputStreamOperatorTestHarness<>(router, MAX_P, 1, 0);
            harness.open();
            // the harness's output copies every record; a job's output serializes it into a network buffer (not
            // the router's cost): the router's output here only counts what it gets
            java.lang.reflect.Field f = org.apache.flink.streaming.api.operators.AbstractStreamOperator.class
                    .getDeclaredField("output");
            f.setAccessible(true);
            f.set(router, new CountingSink());
            moved = plan.equals("moved");
            RoutingPlan p = moved ? records.moved : records.inShadow;
            if (pseudonymized) {
                List<RouteEntry> named = new ArrayList<>();
                for (RouteEntry e : p.getEntries()) {
                    named.add(RouteEntry.newBuilder(e).setKey(PSEUDONYMS.pseudonym(e.getKey().toString())).build());
                }
                p = RoutingPlan.newBuilder(p).setEntries(named)
                        .setKeyNaming(io.keyshift.route.KeyPseudonymizer.naming(PSEUDONYMS)).build();
            }
            router.handleOperatorEvent(PlanEvent.of(p, 0));
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            harness.close();
        }

        void process(Click c) throws Exception {
            router0().processElement(reuse.replace(c, c.ts));
        }

        private final StreamRecord<Click> reuse = new StreamRecord<>(null);

        @SuppressWarnings("unchecked")
        private KeyshiftRouter<Click, String> router0() {
            return (KeyshiftRouter<Click, String>) harness.getOneInputOperator();
        }
    }

    /** An operator output that takes every element and keeps only counts (so the JIT cannot drop the work). */
    static final class CountingSink implements org.apache.flink.streaming.api.operators.Output<
            StreamRecord<Envelope<Click, String>>> {
        long records;
        long other;

        @Override
        public void collect(StreamRecord<Envelope<Click, String>> record) {
            records += record.getValue().routingKey.hash;
        }

        @Override
        public <X> void collect(OutputTag<X> tag, StreamRecord<X> record) {
            other++;
        }

        @Override
        public void emitWatermark(org.apache.flink.streaming.api.watermark.Watermark mark) {
            other++;
        }

        @Override
        public void emitWatermarkStatus(org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus s) {
            other++;
        }

        @Override
        public void emitLatencyMarker(org.apache.flink.streaming.runtime.streamrecord.LatencyMarker m) {
            other++;
        }

        @Override
        public void emitRecordAttributes(org.apache.flink.streaming.runtime.streamrecord.RecordAttributes a) {
            other++;
        }

        @Override
        public void emitWatermark(org.apache.flink.runtime.event.WatermarkEvent w) {
            other++;
        }

        @Override
        public void close() { }
    }

    @Benchmark
    public void router(Records s, Router router) throws Exception {
        router.process(s.next(router.moved ? s.records : s.migrating));
    }

    /**
     * The benchmark's own input, without the router: the next record with a fresh copy of its key (what
     * deserializing a record costs in a job, not the router's work). The router's own cost per record is
     * {@code router} minus this, measured in the same run.
     */
    @Benchmark
    public Click input(Records s) {
        return s.next(s.records);
    }

    /** The 64-bit pseudonym of one key (SipHash-2-4 of its UTF-8 bytes), as the router computes it per record. */
    @Benchmark
    public long pseudonym(Records s) {
        return PSEUDONYMS.hash(s.next(s.records).user);
    }

    /**
     * A record through the keyed exchange without the network: serialized into a buffer and read back, as
     * {@code keyBy} sends it (the record alone), and as keyshift's router sends it, in an envelope (a PRIMARY copy with
     * its routing key) in the state format ({@link io.keyshift.serde.EnvelopeSerializer}: key group, epoch and hash in
     * 4 bytes each and the key once more) or the exchange format ({@link io.keyshift.serde.EnvelopeWireSerializer}).
     */
    @State(Scope.Thread)
    public static class Exchange {
        @Param({"keyBy", "state", "wire"})
        String format;
        org.apache.flink.api.common.typeutils.TypeSerializer<Click> record;
        org.apache.flink.api.common.typeutils.TypeSerializer<Envelope<Click, String>> envelope;
        final org.apache.flink.core.memory.DataOutputSerializer out =
                new org.apache.flink.core.memory.DataOutputSerializer(256);
        final org.apache.flink.core.memory.DataInputDeserializer in =
                new org.apache.flink.core.memory.DataInputDeserializer();

        @Setup(Level.Trial)
        public void setUp() {
            SerializerConfigImpl config = new SerializerConfigImpl();
            record = Types.POJO(Click.class).createSerializer(config);
            org.apache.flink.api.java.functions.KeySelector<Click, String> key = c -> c.user;
            envelope = switch (format) {
                case "keyBy" -> null;
                case "state" -> new io.keyshift.serde.EnvelopeTypeInfo<>(Types.POJO(Click.class), Types.STRING)
                        .createSerializer(config);
                default -> new io.keyshift.serde.EnvelopeTypeInfo<>(Types.POJO(Click.class), Types.STRING, key)
                        .createSerializer(config);
            };
        }
    }

    @Benchmark
    public Object exchange(Records s, Exchange x) throws java.io.IOException {
        Click c = s.next(s.records);
        x.out.clear();
        if (x.envelope == null) {
            x.record.serialize(c, x.out);
            x.in.setBuffer(x.out.getSharedBuffer(), 0, x.out.length());
            return x.record.deserialize(x.in);
        }
        x.envelope.serialize(Envelope.of(RoutingKey.restore(c.user, (int) (c.ts & (MAX_P - 1)), 0, 12345), c,
                io.keyshift.route.Role.PRIMARY), x.out);
        x.in.setBuffer(x.out.getSharedBuffer(), 0, x.out.length());
        return x.envelope.deserialize(x.in);
    }

    @Benchmark
    public RoutingKey<String> routingKeyHash(Records s) {
        Click c = s.next(s.records);
        return RoutingKey.of(c.user, (int) (c.ts & (MAX_P - 1)), 0, s.table);
    }
}
