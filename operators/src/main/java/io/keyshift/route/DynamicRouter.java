package io.keyshift.route;

import io.keyshift.avro.Migration;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.event.Event;
import io.keyshift.metrics.KeyshiftMetrics;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The dynamic partitioner's first half: stamps every record with its {@link RoutingKey} under the routing plan
 * whose lease covers the record's event time, and writes a second, SHADOW copy while its key migrates.
 *
 * <p>Input 1: events; input 2: {@link RoutingPlan} versions, broadcast from the planner (parallelism 1). A record
 * whose event time is not covered by the current lease waits, in checkpointed operator state, until a plan extends
 * the lease; so the route of every record depends only on the input, never on when a plan arrived. The output
 * watermark is the minimum of both inputs' watermarks and the planner's watermark trails its lease, so a record
 * that waited is never late when it is released.
 *
 * <p>Plans may overtake records: a plan travels source → sampler → profiler → forecaster → planner → router while
 * older records may still wait in the network buffers between source and router. Leases make that harmless for new
 * migrations (they start at the previous lease's end, which no routed record has reached). When a newer plan folds
 * a finished migration into its entry (the entry then names the new key group for every time), the router keeps the
 * migration as a {@link RetiredRoute} and routes event times before its switch-over by it, until its own data-input
 * watermark has passed {@code switchAt + stateHorizon} (records older than that are late for the workload too).
 *
 * <p>Rescaling: waiting records are redistributed round-robin (any subtask may route any record); the plan is kept
 * in union list state, so every new subtask restores the newest version. Plans name key groups, never subtasks,
 * so a restore with another parallelism keeps every key in the key group that holds its state.
 *
 * <p>Pacing: beyond {@code maxWaiting} waiting records, the router slows its event input down, so that the source
 * backpressures and cannot run far ahead of the plans (at a cold start, before the first plan, or catching up on a
 * backlog) and records do not pile up waiting for a lease. (A Flink operator cannot stop reading one of two inputs
 * while checkpointing is on, so it slows that input instead.) Once the event input's watermark has passed the
 * lease's end, the source has already sent the watermark the next plan waits for, and the router waits 1 ms per
 * further record; before that, and before the first plan (which also waits for the planner's task to start and for
 * every source's first watermark), it reads on at most {@value #GENTLE_PACING_RECORDS} records per ms. With aligned
 * checkpoints, a barrier that reaches the plan input before the event input holds the plans back until the event
 * input's barrier arrives; a paced router then reads the records ahead of that barrier at the paced rate, which
 * delays (never blocks) the checkpoint and the plan. Memory ~ 100 bytes per waiting record.
 */
public class DynamicRouter extends AbstractStreamOperator<Envelope>
        implements TwoInputStreamOperator<Event, RoutingPlan, Envelope> {
    static {
        // before Flink restores this operator's state: an Avro serializer snapshot resolves keyshift's schema classes
        // by name, and a job's own classloader (on a cluster) has a fresh, untrusting Avro
        io.keyshift.config.AvroTrust.install();
    }


    private static final long serialVersionUID = 1L;

    /** Records per ms the router still reads, beyond the bound, while the watermark a plan needs is not in. */
    static final int GENTLE_PACING_RECORDS = 50;

    private final long stateHorizonMillis;
    private final int maxWaiting;
    private transient Counter pacedRecords;
    /** The event input's watermark (Long.MIN_VALUE until the first; not state: a restore starts over). */
    private transient long dataWatermark;

    /** Per target subtask of the keyed operator (same parallelism as the router): primary copies routed there. */
    private transient org.apache.flink.metrics.Counter[] routedTo;
    /** Keyed subtask of each key group (the keyed operator has the router's parallelism). */
    private transient int[] subtaskOfKeyGroup;
    private transient KeyGroupHashTable hashTable;
    private transient Map<String, List<RetiredRoute>> retired;
    private transient ListState<RetiredRoute> retiredState;
    private transient int maxParallelism;
    private transient RoutingTable routing;
    private transient RoutingPlan currentPlan;
    private transient WaitingRecords waiting;
    private transient ListState<Event> waitingState;
    private transient ListState<RoutingPlan> planState;
    private transient Counter primaryCopies;
    private transient Counter shadowCopies;

    /** A router with the default bound of waiting records before it paces its input. */
    public DynamicRouter(long stateHorizonMillis) {
        this(stateHorizonMillis, io.keyshift.config.RouteOptions.MAX_WAITING_RECORDS.defaultValue());
    }

    /**
     * @param stateHorizonMillis the workload's state horizon (window + allowed lateness), ms, >= 0
     * @param maxWaiting         records waiting for a lease beyond which the event input is paced (>= 1)
     */
    public DynamicRouter(long stateHorizonMillis, int maxWaiting) {
        if (stateHorizonMillis < 0) {
            throw new IllegalArgumentException("state horizon must be >= 0, was " + stateHorizonMillis);
        }
        if (maxWaiting < 1) {
            throw new IllegalArgumentException(io.keyshift.config.RouteOptions.MAX_WAITING_RECORDS.key()
                    + " must be >= 1, was " + maxWaiting);
        }
        this.stateHorizonMillis = stateHorizonMillis;
        this.maxWaiting = maxWaiting;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        waitingState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("waiting-records", TypeInformation.of(Event.class)));
        planState = context.getOperatorStateStore()
                .getUnionListState(new ListStateDescriptor<>("routing-plan", new AvroTypeInfo<>(RoutingPlan.class)));
        retiredState = context.getOperatorStateStore()
                .getUnionListState(new ListStateDescriptor<>("retired-routes", TypeInformation.of(RetiredRoute.class)));
        retired = new HashMap<>();
        dataWatermark = Long.MIN_VALUE;
        waiting = new WaitingRecords();
        routing = RoutingTable.empty();
        currentPlan = null;
        if (context.isRestored()) {
            List<Event> restored = new ArrayList<>();
            for (Event e : waitingState.get()) {
                restored.add(e);
            }
            restored.forEach(waiting::add);
            for (RoutingPlan p : planState.get()) {
                if (currentPlan == null || p.getVersion() > currentPlan.getVersion()) {
                    currentPlan = p;
                }
            }
            if (currentPlan != null) {
                routing = RoutingTable.of(currentPlan);
            }
            for (RetiredRoute r : retiredState.get()) {
                addRetired(r);
            }
        }
    }

    private void addRetired(RetiredRoute r) {
        List<RetiredRoute> list = retired.computeIfAbsent(r.key, k -> new ArrayList<>(2));
        for (RetiredRoute x : list) {
            if (x.sameAs(r)) {
                return;
            }
        }
        list.add(r);
        list.sort((a, b) -> Long.compare(a.switchAt, b.switchAt));
    }

    @Override
    public void open() throws Exception {
        super.open();
        maxParallelism = getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
        hashTable = KeyGroupHashTable.forMaxParallelism(maxParallelism);
        primaryCopies = getMetricGroup().counter(KeyshiftMetrics.ROUTER_PRIMARY_RECORDS);
        shadowCopies = getMetricGroup().counter(KeyshiftMetrics.ROUTER_SHADOW_RECORDS);
        pacedRecords = getMetricGroup().counter(KeyshiftMetrics.ROUTER_PACED_RECORDS);
        getMetricGroup().gauge(KeyshiftMetrics.ROUTER_WAITING_RECORDS, () -> waiting.size());
        getMetricGroup().gauge(KeyshiftMetrics.ROUTER_SHADOW_OVERHEAD,
                () -> primaryCopies.getCount() == 0 ? 0.0 : (double) shadowCopies.getCount() / primaryCopies.getCount());
        int targets = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        routedTo = new org.apache.flink.metrics.Counter[targets];
        subtaskOfKeyGroup = new int[maxParallelism];
        for (int g = 0; g < maxParallelism; g++) {
            subtaskOfKeyGroup[g] = KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(maxParallelism, targets, g);
        }
        for (int i = 0; i < targets; i++) {
            routedTo[i] = getMetricGroup().addGroup(KeyshiftMetrics.TARGET_SUBTASK_GROUP, Integer.toString(i))
                    .counter(KeyshiftMetrics.ROUTER_ROUTED_RECORDS);
        }
        getMetricGroup().gauge(KeyshiftMetrics.ROUTER_PLAN_VERSION, () -> routing.version());
        getMetricGroup().gauge(KeyshiftMetrics.ROUTER_TABLE_ENTRIES, () -> routing.size());
    }

    @Override
    public void processElement1(StreamRecord<Event> element) throws Exception {
        Event e = element.getValue();
        if (routing.covers(e.timestamp)) {
            emit(e);
        } else {
            waiting.add(e);
            int over = waiting.size() - maxWaiting;
            if (over > 0) {
                if (currentPlan != null && dataWatermark >= routing.validUntil()) {
                    // the source has already sent the watermark the next plan needs: slow the event input down to
                    // ~1 record per ms until that plan extends the lease (plans, on the other input, are read
                    // between records). Not before the first plan: that one also waits for the planner's task to
                    // come up and for every source's first watermark, which can take seconds
                    pacedRecords.inc();
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
                } else if (over % GENTLE_PACING_RECORDS == 0) {
                    // the watermark the plan needs may still be queued behind records: read on, but at most
                    // GENTLE_PACING_RECORDS per ms, so that a source at full speed cannot run through its input
                    // before the first plan exists
                    pacedRecords.inc();
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
                }
            }
        }
    }

    @Override
    public void processElement2(StreamRecord<RoutingPlan> element) throws Exception {
        RoutingPlan plan = element.getValue();
        if (currentPlan != null && plan.getVersion() <= currentPlan.getVersion()) {
            return;
        }
        if (plan.getMaxParallelism() != maxParallelism) {
            throw new IllegalStateException("Routing plan " + plan.getVersion() + " was made for maxParallelism "
                    + plan.getMaxParallelism() + " but this job runs with maxParallelism " + maxParallelism
                    + "; set pipeline.max-parallelism to the same value everywhere");
        }
        RoutingTable next = RoutingTable.of(plan);
        if (currentPlan != null) {
            for (RouteEntry old : currentPlan.getEntries()) {
                Migration m = old.getMigration();
                if (m == null) {
                    continue;
                }
                RouteEntry now = next.entry(old.getKey());
                if (now == null || now.getMigration() == null
                        || now.getMigration().getPlannedInVersion() != m.getPlannedInVersion()) {
                    addRetired(new RetiredRoute(old.getKey(), old.getKeyGroup(), m.getToKeyGroup(), m.getShadowFrom(),
                            m.getSwitchAt()));
                }
            }
        }
        currentPlan = plan;
        routing = next;
        release();
    }

    private void release() {
        if (waiting.isEmpty()) {
            return;
        }
        waiting.releaseBefore(routing.validUntil(), this::emit);
    }

    /**
     * The route of one record (the router's per-record decision): its natural key group, then the plan's entry, then
     * a retired migration that still governs its event time. Encoded as {@link RoutingTable#route}.
     */
    public static long route(Event e, RoutingTable routing, Map<String, List<RetiredRoute>> retired, int maxParallelism) {
        int natural = KeyGroupRangeAssignment.assignToKeyGroup(e.key, maxParallelism);
        long route = routing.route(e.key, e.timestamp, natural, e.sequence);
        if (!retired.isEmpty()) {
            List<RetiredRoute> old = retired.get(e.key);
            if (old != null) {
                for (RetiredRoute r : old) {
                    if (e.timestamp < r.switchAt) {
                        return r.route(e.timestamp);
                    }
                }
            }
        }
        return route;
    }

    private void emit(Event e) {
        long route = route(e, routing, retired, maxParallelism);
        int primary = RoutingTable.primary(route);
        int shadow = RoutingTable.shadow(route);
        output.collect(new StreamRecord<>(new Envelope(RoutingKey.of(e.key, primary, hashTable), e,
                shadow == RoutingTable.PARTIAL ? Role.PARTIAL : Role.PRIMARY), e.timestamp));
        primaryCopies.inc();
        routedTo[subtaskOfKeyGroup[primary]].inc();
        if (shadow >= 0) {
            output.collect(new StreamRecord<>(
                    new Envelope(RoutingKey.of(e.key, shadow, hashTable), e, Role.SHADOW), e.timestamp));
            shadowCopies.inc();
        }
    }

    /** Drops retired routes whose switch-over plus state horizon the data input's watermark has passed. */
    @Override
    public void processWatermark1(Watermark mark) throws Exception {
        dataWatermark = Math.max(dataWatermark, mark.getTimestamp());
        if (!retired.isEmpty()) {
            long wm = mark.getTimestamp();
            retired.values().removeIf(list -> {
                list.removeIf(r -> r.switchAt + stateHorizonMillis <= wm);
                return list.isEmpty();
            });
        }
        super.processWatermark1(mark);
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        waitingState.update(waiting.toList());
        List<RetiredRoute> all = new ArrayList<>();
        for (List<RetiredRoute> list : retired.values()) {
            all.addAll(list);
        }
        retiredState.update(all);
        if (currentPlan != null) {
            planState.update(List.of(currentPlan));
        } else {
            planState.clear();
        }
    }

    @Override
    public void finish() throws Exception {
        if (!waiting.isEmpty()) {
            throw new IllegalStateException(waiting.size() + " records still wait for a routing-plan lease at the "
                    + "end of the input (first at event time " + waiting.first().timestamp + ", lease ends at "
                    + routing.validUntil() + "); the planner must issue a final lease before its input ends");
        }
        super.finish();
    }

    /** Retired routes currently kept (for tests). */
    int retiredRoutes() {
        return retired.values().stream().mapToInt(List::size).sum();
    }

    /** Records paced so far (for tests). */
    long pacedRecords() {
        return pacedRecords.getCount();
    }

    /** Records currently waiting for a lease (for tests). */
    int waitingRecords() {
        return waiting.size();
    }
}
