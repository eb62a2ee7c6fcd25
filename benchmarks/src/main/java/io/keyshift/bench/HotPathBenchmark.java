package io.keyshift.bench;

import io.keyshift.avro.Migration;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.event.Event;
import io.keyshift.profiler.KeySampler;
import io.keyshift.route.DynamicRouter;
import io.keyshift.route.Envelope;
import io.keyshift.route.KeyGroupHashTable;
import io.keyshift.route.RetiredRoute;
import io.keyshift.route.Role;
import io.keyshift.route.RoutingKey;
import io.keyshift.route.RoutingTable;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
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
import org.openjdk.jmh.infra.Blackhole;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Per-record cost of keyshift's hot path, in ns per record (average time per operation; one operation = one record).
 * Every record carries a fresh copy of its key string, as after deserialization, so the key's hash is computed per
 * record as in a job.
 *
 * <ul>
 *   <li>{@code routerNoMigration}: the router's decision and its primary envelope for a record of any of 10,000 keys,
 *       under a plan that has moved 256 of them (no migration in flight).</li>
 *   <li>{@code routerDuringMigration}: the same for records of keys in their shadow phase: the decision and both
 *       envelopes (primary and shadow).</li>
 *   <li>{@code routingKeyHash}: {@link RoutingKey#of}: the key group's hash preimage for a key.</li>
 *   <li>{@code sampler}: {@link KeySampler#processElement} at sampling rate 1.0 and 0.1 (sample and hold): the
 *       key-group count and the heavy-hitter sketch (1024) of an open window.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.foreign", "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED"})
public class HotPathBenchmark {
    static final int MAX_P = 128;
    static final int KEYS = 10_000;
    static final int EVENTS = 1 << 16;
    static final long LEASE = 1_000_000_000L;

    /** Events over 10,000 keys (Zipf-free, uniform) at event times inside the lease. */
    @State(Scope.Thread)
    public static class Records {
        Event[] events;
        Event[] migrating;
        String[] keys;
        RoutingTable plan;
        RoutingTable migrationPlan;
        Map<String, List<RetiredRoute>> noRetired = new HashMap<>();
        KeyGroupHashTable table;
        int i;

        @Setup
        public void setUp() {
            io.keyshift.config.AvroTrust.install();
            table = KeyGroupHashTable.forMaxParallelism(MAX_P);
            keys = new String[KEYS];
            for (int k = 0; k < KEYS; k++) {
                keys[k] = "key-" + k;
            }
            SplittableRandom r = new SplittableRandom(7);
            events = new Event[EVENTS];
            for (int n = 0; n < EVENTS; n++) {
                events[n] = new Event(1000 + n, keys[r.nextInt(KEYS)], 1, n);
            }
            List<RouteEntry> moved = new ArrayList<>();
            List<RouteEntry> inShadow = new ArrayList<>();
            for (int k = 0; k < 256; k++) {
                String key = keys[k * 37 % KEYS];
                int natural = KeyGroupRangeAssignment.assignToKeyGroup(key, MAX_P);
                int to = (natural + 64) % MAX_P;
                moved.add(RouteEntry.newBuilder().setKey(key).setKeyGroup(to).setMigration(null).build());
                inShadow.add(RouteEntry.newBuilder().setKey(key).setKeyGroup(natural).setMigration(Migration.newBuilder()
                        .setToKeyGroup(to).setShadowFrom(0).setSwitchAt(LEASE).setPlannedInVersion(1)
                        .setPredictedLoad(1).setFromSubtaskLoadBefore(1).setToSubtaskLoadBefore(1).build()).build());
            }
            plan = RoutingTable.of(plan(moved));
            migrationPlan = RoutingTable.of(plan(inShadow));
            migrating = new Event[EVENTS];
            for (int n = 0; n < EVENTS; n++) {
                migrating[n] = new Event(1000 + n, inShadow.get(r.nextInt(inShadow.size())).getKey(), 1, n);
            }
        }

        static RoutingPlan plan(List<RouteEntry> entries) {
            return RoutingPlan.newBuilder().setVersion(1).setValidUntil(LEASE).setBasedOnWindowEnd(0)
                    .setMaxParallelism(MAX_P).setParallelism(8).setEntries(entries)
                    .setPredictedImbalanceBefore(1).setPredictedImbalanceAfter(1)
                    .setMigrationsStarted(0).setMigrationsCompleted(0).build();
        }

        /** The next event, with a fresh copy of its key (hash not cached, as after deserialization). */
        Event next(Event[] from) {
            Event e = from[i++ & (EVENTS - 1)];
            return new Event(e.timestamp, new String(e.key), e.value, e.sequence);
        }
    }

    @Benchmark
    public void routerNoMigration(Records s, Blackhole bh) {
        Event e = s.next(s.events);
        long route = DynamicRouter.route(e, s.plan, s.noRetired, MAX_P);
        bh.consume(new Envelope(RoutingKey.of(e.key, RoutingTable.primary(route), s.table), e, Role.PRIMARY));
    }

    @Benchmark
    public void routerDuringMigration(Records s, Blackhole bh) {
        Event e = s.next(s.migrating);
        long route = DynamicRouter.route(e, s.migrationPlan, s.noRetired, MAX_P);
        bh.consume(new Envelope(RoutingKey.of(e.key, RoutingTable.primary(route), s.table), e, Role.PRIMARY));
        int shadow = RoutingTable.shadow(route);
        if (shadow >= 0) {
            bh.consume(new Envelope(RoutingKey.of(e.key, shadow, s.table), e, Role.SHADOW));
        }
    }

    @Benchmark
    public RoutingKey routingKeyHash(Records s) {
        Event e = s.next(s.events);
        return RoutingKey.of(e.key, (int) (e.sequence & (MAX_P - 1)), s.table);
    }

    /** A KeySampler in a Flink test harness, one open window (no watermark, so nothing is emitted). */
    @State(Scope.Thread)
    public static class Sampler {
        @Param({"1.0", "0.1"})
        double rate;
        OneInputStreamOperatorTestHarness<Event, io.keyshift.avro.KeyLoadSample> harness;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            harness = new OneInputStreamOperatorTestHarness<>(new KeySampler(Long.MAX_VALUE / 4, 1024, rate), MAX_P, 1, 0);
            harness.open();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            harness.close();
        }
    }

    @Benchmark
    public void sampler(Records s, Sampler sampler) throws Exception {
        Event e = s.next(s.events);
        sampler.harness.processElement(new StreamRecord<>(e, e.timestamp));
    }
}
