package io.keyshift.route;

import io.keyshift.config.RouteOptions;

import io.keyshift.avro.KeyLoadSample;
import io.keyshift.avro.Migration;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.avro.WindowLoad;
import io.keyshift.avro.WindowSample;
import io.keyshift.config.AvroTrust;
import io.keyshift.metrics.KeyshiftMetrics;
import io.keyshift.plan.PlanEvent;
import io.keyshift.plan.PlanRequest;
import io.keyshift.profiler.KeySampler;

import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.typeutils.TupleTypeInfo;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
import org.apache.flink.runtime.operators.coordination.OperatorEventHandler;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.collect.CollectCoordinationResponse;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.util.OutputTag;
import org.apache.flink.util.SerializedValue;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The dynamic partitioner's first half, chained to the user's stream: samples every record's key (a
 * {@link KeySampler} per planning window) and stamps it with its {@link RoutingKey} under the routing plan whose
 * lease covers the record's event time, writing a second, SHADOW copy while its key migrates. The keyed stage behind
 * it is {@code keyBy(Envelope::routingKey)}.
 *
 * <p><b>Plans arrive as operator events</b> ({@link PlanEvent}, through {@link RouterCoordinator}), so the router is a
 * one-input operator that Flink chains to the user's stream: no extra exchange per record. A record whose event time
 * the current lease does not cover waits, in checkpointed operator state, until a plan extends the lease; the route
 * of every record therefore depends only on the input, never on when a plan arrived. The output watermark is the
 * input watermark held back at the lease ({@code min(input, validUntil - 1)}), so a record that waited is never late
 * when it is released.
 *
 * <p><b>Reports</b> go to the side output {@code samples}, for the profiler (parallelism 1): a window's key sample
 * once the input watermark passes the window's end; a window's routed copies per key group (the keyed stage's load)
 * once the output watermark passes it; and the input and output watermarks, as data, whenever either crosses a
 * window boundary (the profiler cannot use Flink's watermark on that edge: it is held back at the lease).
 *
 * <p><b>Pacing</b>: beyond {@code maxWaiting} waiting records, once this subtask's input watermark has reached the
 * lease end (so the profiler has everything it needs from it for the next plan), the router waits up to
 * {@value #PACING_MILLIS} ms per further record for the next plan (a long poll to its coordinator, which answers the
 * moment the plan is published), so the input backpressures and cannot run far ahead of the plans (at a cold start,
 * or catching up on a backlog). It never runs the task's mailbox from inside a record (a checkpoint there could split
 * a source reader's record from its position); between records, checkpoints and plans go on as usual.
 *
 * <p><b>End of input</b>: {@link #finish()} waits (running the mailbox and polling its coordinator) while records
 * wait, for the lease that covers them, and releases them; with nothing waiting it ends at once (it does not wait for
 * the planner's final lease). <b>Rescaling</b>: waiting records and open windows are redistributed (any subtask
 * may route any record); Flink hands each list state out on its own, so a rescaled subtask starts without a plan,
 * whatever plans it was handed: it routes naturally what it had decided to before (the largest such bound among
 * those Flink hands it; a subtask handed none waits for the plans) and takes the plans the planner publishes again
 * after a restore, before any new one, from the oldest version any router routed by. <b>Start</b>: before the first plan, the records of the
 * planning window of the earliest record the subtask has read when its first input watermark arrives (of the window
 * holding that watermark if it has read none), and of every earlier window, go to their natural key groups at once (see
 * {@code decideNaturalRouting}). Plans name key groups, never subtasks, so a restore with another parallelism keeps
 * every key in the key group that holds its state. Memory: the waiting records (~48 bytes each plus the record), the
 * sampler's open windows and {@code 16 x maxParallelism} bytes per open window of loads.
 *
 * @param <T> the user's record type
 * @param <K> the user's key type
 */
public final class KeyshiftRouter<T, K> extends AbstractStreamOperator<Envelope<T, K>>
        implements OneInputStreamOperator<T, Envelope<T, K>>, OperatorEventHandler {
    static {
        // before Flink restores this operator's state: an Avro serializer snapshot resolves keyshift's schema classes
        // by name, and a job's own classloader (on a cluster) has a fresh, untrusting Avro
        AvroTrust.install();
    }

    private static final long serialVersionUID = 1L;

    /**
     * The longest wait for a plan after each record that waits beyond the bound of waiting records, ms. A plan that
     * comes ends the wait at once, so a job whose plans come pays nothing more; one whose plans stop (a source
     * partition without data and without withIdleness holds every plan back) takes in about 20 records a second per
     * subtask beyond the bound.
     */
    static final long PACING_MILLIS = 50;

    /**
     * Router settings.
     *
     * @param windowMillis planning window, ms, > 0
     * @param maxParallelism key groups of the keyed stage
     * @param parallelism parallelism of the keyed stage (for the per-target-subtask metrics)
     * @param sketchSize the sampler's sketch size (power of 2 >= 8)
     * @param samplingRate the sampler's rate, (0, 1]
     * @param maxWaiting records waiting for a lease beyond which the router paces its input, >= 1
     * @param processFunction the keyed stage is a keyed process function, whose state outlives windows: route to the
     *                        plan's epochs and emit {@link Role#MIGRATE_OUT}/{@link Role#MIGRATE_IN} markers
     * @param followsRouters the keyed stage runs at the routers' parallelism, also after a rescale (the adaptive
     *                       scheduler changes every vertex together): the router's own parallelism at run time
     *                       replaces {@code parallelism}
     */
    public record Settings(long windowMillis, int maxParallelism, int parallelism, int sketchSize, double samplingRate,
                           int maxWaiting, boolean processFunction, boolean followsRouters) implements Serializable {
        /** The keyed stage at {@code parallelism}, whatever the routers' parallelism. */
        public Settings(long windowMillis, int maxParallelism, int parallelism, int sketchSize, double samplingRate,
                        int maxWaiting, boolean processFunction) {
            this(windowMillis, maxParallelism, parallelism, sketchSize, samplingRate, maxWaiting, processFunction,
                    false);
        }

        public Settings {
            if (windowMillis <= 0 || maxParallelism < 1 || parallelism < 1 || parallelism > maxParallelism
                    || maxWaiting < 1) {
                throw new IllegalArgumentException("window > 0, 1 <= parallelism <= maxParallelism and maxWaiting >= 1 "
                        + "required");
            }
        }
    }

    private final Settings s;
    private final KeySelector<T, K> keySelector;
    private final KeyCodec<K> codec;
    private final TypeInformation<T> valueType;
    private final OutputTag<KeyLoadSample> sampleTag;
    /** Sampling-rate commands known before the job started (from -> rate): applied exactly from their time. */
    private java.util.TreeMap<Long, Double> knownSamplingRates = new java.util.TreeMap<>();

    private transient KeyGroupHashTable hashTable;
    /**
     * Copies a record before it waits, with pipeline.object-reuse (the operator in front may reuse the object it
     * hands over once this call returns); null without it.
     */
    private transient org.apache.flink.api.common.typeutils.TypeSerializer<T> waitingCopier;
    private transient KeySampler<K> sampler;
    private transient RoutingTable<K> routing;
    /** Keys are pseudonymized (the codec is not reversible): samples and plan lookups go by pseudonym. */
    private transient boolean pseudonymous;
    private transient RoutingPlan currentPlan;
    private transient WaitingRecords<T> waiting;
    private transient TreeMap<Long, long[][]> loads;
    private transient long lastLoadWindow;
    private transient long lastLoadWindowEnd;
    private transient long[][] lastLoad;
    private transient RoutingTable.Route route;
    private transient StreamRecord<Envelope<T, K>> reuse;
    /**
     * The envelope reused for every copy of a record (primary and shadow) when the router's records go straight into a
     * network exchange (serialized before the next record; the keyed exchange behind the router is never chained);
     * null where an operator is chained to the router's main output.
     */
    private transient Envelope<T, K> reusable;
    /** To the router's coordinator (set by its operator factory; null in a test harness without one). */
    private transient org.apache.flink.runtime.operators.coordination.OperatorEventGateway coordinatorGateway;
    private transient long spread;
    private transient long inputWatermark;
    /** Processing time since which records have waited without any watermark, or Long.MIN_VALUE. */
    private transient long waitingWithoutWatermarkSince;
    /** The input watermark that more than max-waiting-records waiting records found, and since when (processing time). */
    private transient long stalledWatermark;
    private transient long stalledSince;
    private long noWatermarkTimeoutMillis = RouteOptions.NO_WATERMARK_TIMEOUT.defaultValue().toMillis();
    private boolean naturalFirstWindow = RouteOptions.NATURAL_FIRST_WINDOW.defaultValue();
    private transient long outputWatermark;
    /** The output watermark up to which routed loads were reported before a restore (Long.MIN_VALUE: none). */
    private transient long loadsReportedUpTo;
    /** {@link KeySampler#closedUpTo()} and the loads reported up to, at the checkpoint. */
    private transient ListState<Long> closedState;
    private transient long firstWindowEnd;
    /**
     * Before the first plan, records earlier than this go to their natural key groups at once: the end of the planning
     * window of the earliest record this subtask holds at its first input watermark (of that watermark's window if
     * it holds none; Long.MIN_VALUE: none). Decided at that watermark, before the first report, which carries it (the
     * profiler may close a window on that report, and the first plan's migrations start at or after the largest
     * value it has been told); as none if the input turns idle first, ends without a record, or a plan comes first;
     * restored from a checkpoint. Records wait until that first watermark.
     */
    private transient long naturalUntil;
    private transient boolean naturalDecided;
    private transient boolean inputIdle;
    private transient boolean forwardedIdle;
    /**
     * Back from a forwarded IDLE with the output watermark below the lease's end: downstream, Flink's watermark valves
     * pass this channel by until its watermark reaches theirs, so a shadow phase's copy after this router's watermark
     * may still be late at one owner and not at the other. Its copies are marked late (comparisons skipped) until the
     * output watermark reaches the end of the lease it resumed under ({@link #resumedUntil}), which bounded every
     * other router's of that plan (not that of a later lease: with a lease lead of two windows or more the current
     * lease keeps ahead of the watermark, and the marks never ended). Under the final lease, until the input ends.
     */
    private transient boolean resumedBehind;
    /** The lease's end when this router resumed behind it ({@link #resumedBehind}). */
    private transient long resumedUntil;
    private transient long reportedInputWindow;
    private transient long reportedOutputWindow;
    private transient boolean reportedIdle;
    private transient boolean reportedOutputIdle;
    private transient long reportedPlanVersion;
    /** Input ended and every record routed: the output watermark is at its end. */
    private transient boolean ended;
    private transient int subtask;
    private transient int subtasks;
    /** Parallelism of the keyed stage this router routes to: the configured one, or its own when it follows it. */
    private transient int keyedParallelism;
    private transient int[] subtaskOfKeyGroup;
    private transient MailboxExecutor mailbox;
    private transient CompletableFuture<CoordinationResponse> planPoll;
    /** Plans that arrived before the versions between them and the current one. */
    private transient TreeMap<Long, RoutingPlan> aheadPlans;
    /** Plans decoded by this stage's routers in this JVM; null outside a task (tests that call apply directly). */
    private transient SharedPlans.Scope sharedPlans;
    /** Tables of {@link #aheadPlans} made by {@link #sharedPlans}, by version (a version may lack one). */
    private transient Map<Long, RoutingTable<K>> aheadTables;

    private transient ListState<Tuple2<Long, T>> waitingState;
    private transient ListState<RoutingPlan> planState;
    private transient ListState<KeyLoadSample> openState;
    private transient ListState<Long> naturalState;
    /** {@link #spread} at the checkpoint, so that a split key's records are dealt on where they were. */
    private transient ListState<Long> spreadState;
    /** The waiting records' numbers ({@link #spread} at their arrival), in the order of {@link #waitingState}. */
    private transient ListState<Long> waitingNumberState;
    /** {@link #writer()} at the checkpoint: whether a restore hands this subtask its own waiting records. */
    private transient ListState<Long> writerState;
    /** The sampler's hold below sampling rate 1 ({@link KeySampler#snapshotHold}): none, or this subtask's. */
    private transient ListState<byte[]> sampleHoldState;

    private transient Counter primaryCopies;
    private transient Counter shadowCopies;
    private transient Counter pacedRecords;
    private transient Counter[] routedTo;

    /**
     * @param keySelector the user's key selector (deterministic; its key's hashCode deterministic across JVMs)
     * @param codec ids of keys in plans and samples
     * @param valueType the user's record type (for the waiting records' state)
     * @param sampleTag side output of the reports to the profiler
     */
    public KeyshiftRouter(Settings settings, KeySelector<T, K> keySelector, KeyCodec<K> codec,
                          TypeInformation<T> valueType, OutputTag<KeyLoadSample> sampleTag) {
        if (settings.processFunction() && !codec.reversible()) {
            throw new IllegalArgumentException("pseudonymized keys (keyshift.privacy.key-secret) are not supported "
                    + "for keyed process functions: their migration markers name keys");
        }
        this.s = settings;
        this.keySelector = keySelector;
        this.codec = codec;
        this.valueType = valueType;
        this.sampleTag = sampleTag;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        subtasks = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        hashTable = KeyGroupHashTable.forMaxParallelism(s.maxParallelism(), hashFormat(context));
        sampler = new KeySampler<>(s.windowMillis(), s.sketchSize(), s.samplingRate(), s.maxParallelism(), codec,
                subtask);
        knownSamplingRates.forEach(sampler::rateFrom);
        routing = RoutingTable.empty();
        pseudonymous = !codec.reversible();
        waiting = new WaitingRecords<>();
        loads = new TreeMap<>();
        lastLoadWindow = Long.MIN_VALUE;
        lastLoad = null;
        route = new RoutingTable.Route();
        aheadPlans = new TreeMap<>();
        aheadTables = new HashMap<>();
        reuse = new StreamRecord<>(null);
        inputWatermark = Long.MIN_VALUE;
        waitingWithoutWatermarkSince = Long.MIN_VALUE;
        stalledWatermark = Long.MIN_VALUE;
        stalledSince = Long.MIN_VALUE;
        outputWatermark = Long.MIN_VALUE;
        loadsReportedUpTo = Long.MIN_VALUE;
        firstWindowEnd = Long.MAX_VALUE;
        reportedInputWindow = Long.MIN_VALUE;
        reportedOutputWindow = Long.MIN_VALUE;
        waitingState = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("waiting-records",
                new TupleTypeInfo<>(Types.LONG, valueType)));
        // not union state: Flink refuses checkpoints of a vertex with union state once some of its subtasks have
        // finished (a bounded input's routers finish one by one); a subtask restored without a plan (beyond what it
        // routes naturally) waits for the planner, which publishes every plan it kept again, oldest first
        planState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>(PLAN_STATE, new AvroTypeInfo<>(RoutingPlan.class)));
        openState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("open-windows", new AvroTypeInfo<>(KeyLoadSample.class)));
        naturalState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("natural-until", Types.LONG));
        spreadState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("split-spread", Types.LONG));
        waitingNumberState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("waiting-numbers", Types.LONG));
        // which subtask (of how many) wrote the waiting records a restore hands this one (absent before this state)
        boolean writersKnown = stageRestored
                && context.getOperatorStateStore().getRegisteredStateNames().contains("waiting-writer");
        writerState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("waiting-writer", Types.LONG));
        closedState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("closed-up-to", Types.LONG));
        sampleHoldState = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("sampler-hold",
                org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        naturalUntil = Long.MIN_VALUE;
        naturalDecided = !naturalFirstWindow;
        if (stageRestored) {
            // restored: what this subtask (or, after a rescale, any) routed naturally is known to the profiler;
            // without a value (a savepoint of an earlier build, or a subtask that had decided nothing) none more
            naturalDecided = true;
            for (Long n : naturalState.get()) {
                naturalUntil = Math.max(naturalUntil, n);
            }
            // this subtask's own count (after a rescale, the largest of the counts it was handed: Flink hands them
            // in no fixed order, and the last one made the pieces of split keys, and so the subtasks' loads, differ
            // from run to run; none before this state existed: 0)
            boolean anySpread = false;
            for (Long n : spreadState.get()) {
                spread = anySpread ? Math.max(spread, n) : n;
                anySpread = true;
            }
            // this subtask's own state (the same parallelism), or pieces of several subtasks' (a rescale)
            List<Long> writers = new ArrayList<>();
            writerState.get().forEach(writers::add);
            boolean own = !writersKnown || (writers.size() == 1 && writers.get(0) == writer());
            List<Long> closed = new ArrayList<>();
            closedState.get().forEach(closed::add);
            if (own && writersKnown && closed.size() == 2) {
                // this subtask's own: what it had closed and reported, so that a late record of such a window is
                // left out after the restore too (after a rescale a subtask reads others' input: nothing is known)
                sampler.closedUpTo(closed.get(0));
                loadsReportedUpTo = closed.get(1);
            }
            // its own plan; after a rescale none: Flink hands each list state out on its own, so the plan a subtask
            // gets may be another subtask's than the records waiting it gets, and a record that waited at a subtask
            // behind the others must be routed by the first version whose lease covers it (a later version may have
            // forgotten a migration it falls in). Without a plan it takes the versions the planner publishes again
            // after a restore, oldest first: from the oldest version any router routed by
            if (restoredNaming != null && !restoredNaming.equals(codec.naming())
                    && !(SOME_SECRET.equals(restoredNaming) && !codec.reversible())) {
                // (pseudonyms of a secret not named: the same or another one, which the plans tell)
                // raw keys read as pseudonyms (or those of another secret): the first forecasts would count a key
                // under two names; pseudonyms read as raw String keys: every key a stranger
                throw io.keyshift.config.JobOptions.unrecoverable(SOME_SECRET.equals(restoredNaming)
                        ? "the router's state names keys by pseudonyms, but this job names them raw (no key secret): "
                        + io.keyshift.config.PrivacyOptions.KEY_SECRET.key() + " must stay as it was for the whole "
                        + "life of a job's keyshift state"
                        : KeyPseudonymizer.namingMismatch("the router's state", restoredNaming, codec.naming()));
            }
            List<RoutingPlan> handed = new ArrayList<>();
            // the state says how it names keys (as this stage does: checked above), or a plan that names keys as this stage
            // does settles it (below)
            boolean namingChecked = restoredNaming != null;
            planState.get().forEach(handed::add);
            handed.sort(java.util.Comparator.comparingLong(RoutingPlan::getVersion));
            for (RoutingPlan p : handed) {
                // a plan that names keys as this stage does settles how the state names them (below)
                namingChecked |= !((p.getKeyNaming() == null || "raw".contentEquals(p.getKeyNaming()))
                        && p.getValidUntil() == Long.MAX_VALUE);
                try {
                    checkNaming(p);
                } catch (IllegalStateException e) {
                    // the same at every restart
                    throw io.keyshift.config.JobOptions.unrecoverable(e.getMessage());
                }
                // the sampling rates the later versions knew hold already: the windows this subtask opens before
                // those versions come again are sampled as at the subtasks that kept running
                learnSamplingRates(p);
            }
            // (a savepoint of a build without the writers' state: the oldest plan it was handed)
            currentPlan = handed.isEmpty() || (writersKnown && !own) ? null : handed.get(0);
            routing = currentPlan != null ? RoutingTable.of(currentPlan, codec, s.processFunction())
                    : RoutingTable.naturalUntil(naturalUntil);
            // the numbers the records took at their arrival (this subtask's own, from a build that kept them), or,
            // after a rescale, new ones in the fixed order
            List<Long> numbers = new ArrayList<>();
            waitingNumberState.get().forEach(numbers::add);
            List<Tuple2<Long, T>> restored = new ArrayList<>();
            (own ? waitingState.get() : restoredInFixedOrder(waitingState.get())).forEach(restored::add);
            boolean numbered = own && numbers.size() == restored.size();
            for (int i = 0; i < restored.size(); i++) {
                waiting.add(restored.get(i).f0, numbered ? numbers.get(i) : spread++, restored.get(i).f1);
            }
            // keys named in the samples and the hold: {all, pseudonyms}
            int[] named = new int[2];
            java.util.function.Consumer<String> countNamed = id -> {
                named[0]++;
                named[1] += KeyPseudonymizer.isPseudonym(id) ? 1 : 0;
            };
            // after a rescale, samples of several subtasks in no fixed order: merged into one sketch, their order
            // decides what a full sketch keeps, so they are taken by the subtask that wrote them
            List<KeyLoadSample> restoredOpen = new ArrayList<>();
            openState.get().forEach(restoredOpen::add);
            restoredOpen.sort(java.util.Comparator.comparingInt(KeyLoadSample::getSubtask));
            for (KeyLoadSample r : restoredOpen) {
                if (r.getWindow() != null) {
                    for (io.keyshift.avro.HeavyHitter h : r.getWindow().getHeavyHitters()) {
                        countNamed.accept(h.getKey().toString());
                    }
                    io.keyshift.config.JobOptions.checkRestoredWindow("the router's open windows",
                            r.getWindow().getWindowEnd() - r.getWindow().getWindowStart(), s.windowMillis());
                    try {
                        sampler.restore(r.getWindow());
                    } catch (IllegalArgumentException e) {
                        throw unreadableKeys(e);
                    }
                    firstWindowEnd = Math.min(firstWindowEnd, r.getWindow().getWindowEnd());
                }
                if (r.getLoad() != null) {
                    io.keyshift.config.JobOptions.checkRestoredWindow("the router's open windows",
                            r.getLoad().getWindowEnd() - r.getLoad().getWindowStart(), s.windowMillis());
                    long[][] l = loadOf(r.getLoad().getWindowStart());
                    add(l[0], r.getLoad().getRoutedKeyGroupCounts());
                    add(l[1], r.getLoad().getShadowKeyGroupCounts());
                }
            }
            List<byte[]> holds = new ArrayList<>();
            sampleHoldState.get().forEach(holds::add);
            if (holds.size() == 1) {
                // this subtask's own hold at the same parallelism restores exactly; after a rescale (another
                // subtask's, or several) the windows stay as their samples restored them
                try {
                    sampler.restoreHold(holds.get(0), subtask, subtasks, countNamed);
                } catch (IllegalArgumentException e) {
                    throw unreadableKeys(e);
                } catch (java.io.IOException | RuntimeException e) {
                    // a damaged state or one of a newer build fails the same way on every restart
                    throw io.keyshift.config.JobOptions.unrecoverable("the router's sampler state ('sampler-hold') "
                            + "does not read: " + e.getMessage() + "; restore from a savepoint of this build or an "
                            + "earlier one, or start this stage without keyshift's state");
                }
            }
            if (!pseudonymous && !namingChecked && named[0] > 0 && named[1] == named[0]) {
                // state of a build that did not say how it names keys: every key named by pseudonym (a savepoint
                // taken with a key secret) in a stage without one: a String codec takes them as raw keys without a
                // word (a guess: a stage's own keys may look so, where no plan of the state named keys as this stage
                // does; with one, they are its raw keys)
                throw io.keyshift.config.JobOptions.unrecoverable("the router's open windows name keys by pseudonym "
                        + "(a savepoint taken with " + io.keyshift.config.PrivacyOptions.KEY_SECRET.key() + "), and "
                        + "this stage has no key secret: restore with the same, or start this stage without "
                        + "keyshift's state");
            }
        }
    }

    /** This subtask as the writer of its state: its index and the parallelism, one number. */
    private long writer() {
        return ((long) subtasks << 32) | subtask;
    }

    /**
     * The waiting records of a restore after a rescale in an order that does not depend on Flink's: a subtask then gets
     * the records of several subtasks in no fixed order, and the order they are routed in decides which piece of a
     * split key each one goes to. By event time, ties by their serialized bytes (a restore at the same parallelism
     * keeps the subtask's own order, that of their arrival).
     */
    private List<Tuple2<Long, T>> restoredInFixedOrder(Iterable<Tuple2<Long, T>> restored) throws java.io.IOException {
        List<Tuple2<Long, T>> records = new ArrayList<>();
        restored.forEach(records::add);
        if (records.size() < 2) {
            return records;
        }
        org.apache.flink.api.common.typeutils.TypeSerializer<T> serializer =
                valueType.createSerializer(getExecutionConfig().getSerializerConfig());
        org.apache.flink.core.memory.DataOutputSerializer out = new org.apache.flink.core.memory.DataOutputSerializer(64);
        List<Map.Entry<Tuple2<Long, T>, byte[]>> keyed = new ArrayList<>(records.size());
        for (Tuple2<Long, T> r : records) {
            out.clear();
            serializer.serialize(r.f1, out);
            keyed.add(Map.entry(r, out.getCopyOfBuffer()));
        }
        keyed.sort(java.util.Comparator.<Map.Entry<Tuple2<Long, T>, byte[]>>comparingLong(e -> e.getKey().f0)
                .thenComparing(Map.Entry::getValue, java.util.Arrays::compareUnsigned));
        return keyed.stream().map(Map.Entry::getKey).toList();
    }

    /**
     * A key id in the router's state that this stage's codec cannot read (a NumberFormatException too): the same at
     * every restart. The message names no key (with a new key secret it would be a raw one).
     */
    private static RuntimeException unreadableKeys(IllegalArgumentException e) {
        return io.keyshift.config.JobOptions.unrecoverable("the router's open windows name keys in a form this stage "
                + "cannot read (" + e.getClass().getSimpleName() + "): a savepoint taken with another "
                + io.keyshift.config.PrivacyOptions.KEY_SECRET.key() + " setting or another key type; restore with "
                + "the same, or start this stage without keyshift's state");
    }

    private static void add(long[] into, List<Long> counts) {
        for (int i = 0; i < Math.min(into.length, counts.size()); i++) {
            into[i] += counts.get(i);
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        mailbox = getContainingTask().getMailboxExecutorFactory().createExecutor(TaskMailbox.MIN_PRIORITY);
        waitingCopier = getExecutionConfig().isObjectReuseEnabled()
                ? valueType.createSerializer(getExecutionConfig().getSerializerConfig()) : null;
        if (waitingCopier != null && !pseudonymous && codec.keysMayChange()) {
            // under object reuse a key object the sampler keeps may be changed by the operator in front: the sampler
            // copies a key the first time it keeps it (a pseudonym is the router's own, made per record)
            sampler.withKeyCopies(k -> codec.keep(keyOf(k)));
        }
        boolean chainedMainOutput = getOperatorConfig().getChainedOutputs(getUserCodeClassloader()).stream()
                .anyMatch(edge -> edge.getOutputTag() == null);
        reusable = chainedMainOutput ? null : Envelope.of(RoutingKey.restore(null, 0, 0, 0), null, Role.PRIMARY);
        primaryCopies = getMetricGroup().counter(KeyshiftMetrics.ROUTER_PRIMARY_RECORDS);
        shadowCopies = getMetricGroup().counter(KeyshiftMetrics.ROUTER_SHADOW_RECORDS);
        pacedRecords = getMetricGroup().counter(KeyshiftMetrics.ROUTER_PACED_RECORDS);
        getMetricGroup().gauge(KeyshiftMetrics.ROUTER_WAITING_RECORDS, () -> waiting.size());
        getMetricGroup().gauge(KeyshiftMetrics.ROUTER_SHADOW_OVERHEAD,
                () -> primaryCopies.getCount() == 0 ? 0.0 : (double) shadowCopies.getCount() / primaryCopies.getCount());
        getMetricGroup().gauge(KeyshiftMetrics.ROUTER_PLAN_VERSION, () -> routing.version());
        getMetricGroup().gauge(KeyshiftMetrics.ROUTER_SAMPLING_RATE, () -> sampler.lastRate());
        getMetricGroup().gauge(KeyshiftMetrics.ROUTER_LATE_RECORDS_UNPROFILED, () -> sampler.lateRecords());
        getMetricGroup().gauge(KeyshiftMetrics.ROUTER_TABLE_ENTRIES, () -> routing.size());
        if (waiting.size() > 0 && inputWatermark == Long.MIN_VALUE && noWatermarkTimeoutMillis > 0) {
            // restored with records waiting (a restart after this check failed, say): if no record comes, only the
            // timer of the check finds the watermark still missing; checked with records alone, it waited silently
            checkWatermarksArrive();
        }
        keyedParallelism = s.followsRouters() ? Math.min(subtasks, s.maxParallelism()) : s.parallelism();
        subtaskOfKeyGroup = new int[s.maxParallelism()];
        for (int g = 0; g < s.maxParallelism(); g++) {
            subtaskOfKeyGroup[g] = KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(s.maxParallelism(),
                    keyedParallelism, g);
        }
        routedTo = new Counter[keyedParallelism];
        for (int i = 0; i < routedTo.length; i++) {
            routedTo[i] = getMetricGroup().addGroup(KeyshiftMetrics.TARGET_SUBTASK_GROUP, Integer.toString(i))
                    .counter(KeyshiftMetrics.ROUTER_ROUTED_RECORDS);
        }
        // records restored with a plan whose lease covers them (none that this build checkpointed: a record waits only
        // beyond its subtask's lease, and a rescaled subtask restores no plan)
        releaseCovered();
        if (coordinatorGateway != null) {
            sharedPlans = SharedPlans.acquire(getRuntimeContext().getJobInfo().getJobId() + "/" + getOperatorID()
                    + "/" + s.processFunction() + "/" + codec.naming());
            // plans from now on: a subtask restored as finished never gets here, and never gets a plan it would refuse
            coordinatorGateway.sendEventToCoordinator(new RouterReady());
        }
    }

    /** The gateway to this operator's coordinator, to which {@code open()} announces the subtask. */
    public void setCoordinatorGateway(org.apache.flink.runtime.operators.coordination.OperatorEventGateway gateway) {
        this.coordinatorGateway = gateway;
    }

    private void releaseCovered() throws Exception {
        waiting.releaseBefore(routing.validUntil(), (t, n, v) -> {
            K key = key(v);
            int natural = KeyGroupRangeAssignment.assignToKeyGroup(key, s.maxParallelism());
            emit(key, pseudonymous ? codec.pseudonym(key, natural) : key, natural, v, t, n);
        });
    }

    @Override
    public void processElement(StreamRecord<T> element) throws Exception {
        // Long.MIN_VALUE is Flink's "no timestamp" marker too: a FLIP-27 source without a timestamp assigner stamps
        // records with it (TimestampAssigner.NO_TIMESTAMP), and Flink's window assigners refuse it as such
        if (!element.hasTimestamp() || element.getTimestamp() == Long.MIN_VALUE) {
            throw io.keyshift.config.JobOptions.misuse(new IllegalStateException("keyshift routes records by event "
                    + "time, but a record has no timestamp: give the stream in front of Keyshift.keyBy timestamps and "
                    + "watermarks (DataStream#assignTimestampsAndWatermarks, or a source with a WatermarkStrategy)"));
        }
        T value = element.getValue();
        long t = element.getTimestamp();
        if (t > Long.MAX_VALUE - s.windowMillis()) {
            // no lease ever covers it (the final one ends at Long.MAX_VALUE), and its window's end would overflow
            throw io.keyshift.config.JobOptions.misuse(new IllegalStateException("keyshift routes records by event "
                    + "time, but a record's timestamp " + t + " lies within one planning window of the end of time "
                    + "(Long.MAX_VALUE): give the stream in front of Keyshift.keyBy real event times"));
        }
        if (t < Long.MIN_VALUE + s.windowMillis()) {
            // its planning window's start (a multiple of the window before t) would overflow
            throw io.keyshift.config.JobOptions.misuse(new IllegalStateException("keyshift routes records by event "
                    + "time, but a record's timestamp " + t + " lies within one planning window of the beginning of "
                    + "time (Long.MIN_VALUE): give the stream in front of Keyshift.keyBy real event times"));
        }
        K key = key(value);
        int natural = KeyGroupRangeAssignment.assignToKeyGroup(key, s.maxParallelism());
        // with a key secret, the pseudonym is computed here, once per record: the sampler counts it, plans name it
        Object id = pseudonymous ? codec.pseudonym(key, natural) : key;
        sampler.add(id, natural, t);
        if (firstWindowEnd == Long.MAX_VALUE) {
            firstWindowEnd = KeySampler.windowStart(t, s.windowMillis()) + s.windowMillis();
        }
        // the record's number in this subtask's input, which deals a split key's records over its pieces: taken at
        // arrival, so that a record that waits for a plan goes to the piece it would have gone to without waiting
        long n = spread++;
        if (routing.covers(t)) {
            emit(key, id, natural, value, t, n);
            return;
        }
        // (a record that waits while IDLE stood forwarded: the profiler closed its window's loads without its copies,
        // and the keyed stage passed this channel by, where another router's watermark could make it late)
        activeAgain();
        waiting.add(t, n, waitingCopier == null ? value : waitingCopier.copy(value));
        if (inputWatermark == Long.MIN_VALUE && noWatermarkTimeoutMillis > 0) {
            checkWatermarksArrive();
        }
        if (waiting.size() > s.maxWaiting() && mayWait()) {
            pacedRecords.inc();
            awaitPlan(PACING_MILLIS);
        } else if (waiting.size() > s.maxWaiting() && inputWatermark != Long.MIN_VALUE && noWatermarkTimeoutMillis > 0) {
            checkWatermarkMoves();
        } else if (!aheadPlans.isEmpty() && planPoll == null && !missingRequested) {
            // a version went missing and the request for it failed: ask again without waiting
            awaitPlan(0);
        }
    }

    /** Name of the router's list state that holds its plan (every build's router has it). */
    private static final String PLAN_STATE = "routing-plan";

    /** Name of the router's broadcast state that holds the routing-key hash format. */
    public static final String HASH_FORMAT_STATE = "routing-key-hash-format";

    /**
     * The routing-key hash format of this stage ({@link KeyGroupHashTable}). A routing key's hash is part of the keyed
     * stage's state, so a stage keeps the format it started with: every router subtask keeps it in a broadcast state
     * (after a rescale each subtask gets a copy; Flink checkpoints it while some subtasks have finished, unlike a union
     * list state). Restored with it: that format (a configured other one fails: the state's keys would not be found).
     * Restored with router state of a build before format 2 (which names none; its keys have format 1): format 1 if
     * {@code keyshift.route.hash-format} is 1, else a failure that says so, because a subtask restored without any
     * state after a rescale cannot tell such a stage from a new one, and routers of one stage must agree. Otherwise
     * (a new stage): the configured format, by default {@link KeyGroupHashTable#CURRENT_FORMAT}.
     */
    private int hashFormat(StateInitializationContext context) throws Exception {
        org.apache.flink.api.common.state.BroadcastState<String, Integer> state = context.getOperatorStateStore()
                .getBroadcastState(new org.apache.flink.api.common.state.MapStateDescriptor<>(HASH_FORMAT_STATE,
                        Types.STRING, Types.INT));
        Integer restored = state.get("format");
        String option = RouteOptions.HASH_FORMAT.key();
        int format;
        stageRestored = restored != null;
        if (restored != null) {
            if (restored != KeyGroupHashTable.FORMAT_PREIMAGE_TABLE
                    && restored != KeyGroupHashTable.FORMAT_INVERTED_MURMUR) {
                throw io.keyshift.config.JobOptions.unrecoverable("the router's state names routing-key hash format "
                        + restored + ", which this build does not know (a savepoint of a newer build): restore with "
                        + "that build");
            }
            if (configuredHashFormat != null && configuredHashFormat.intValue() != restored) {
                throw io.keyshift.config.JobOptions.unrecoverable("the stage's state holds routing keys of hash "
                        + "format " + restored + ", and " + option + " is " + configuredHashFormat + ": a stage keeps "
                        + "the format it started with (its keyed state is found by it); remove the option or set "
                        + restored);
            }
            format = restored;
        } else if (context.isRestored()
                && context.getOperatorStateStore().getRegisteredStateNames().contains(PLAN_STATE)) {
            if (configuredHashFormat == null
                    || configuredHashFormat != KeyGroupHashTable.FORMAT_PREIMAGE_TABLE) {
                throw io.keyshift.config.JobOptions.unrecoverable("the router's state is of a keyshift build before "
                        + "2026-12-04, whose routing keys have hash format 1: set " + option + ": 1 to restore it (a "
                        + "stage started without state takes format 2)");
            }
            format = KeyGroupHashTable.FORMAT_PREIMAGE_TABLE;
            stageRestored = true;
        } else {
            format = configuredHashFormat != null ? configuredHashFormat : KeyGroupHashTable.CURRENT_FORMAT;
            // a subtask of a stage of a build before format 2 that a scale-up handed none of the router's list state
            // sees no state of it; told format 1, it is such a stage's (one that started without state takes 2)
            stageRestored = context.isRestored() && configuredHashFormat != null
                    && configuredHashFormat == KeyGroupHashTable.FORMAT_PREIMAGE_TABLE;
        }
        state.put("format", format);
        // how the stage names keys in its state (KeyCodec#naming: raw, or which key secret's pseudonyms), beside the
        // format: a restore knows it without guessing from the keys (absent in a savepoint of a build before this
        // entry; builds of 2026-12-07 before the secret's fingerprint wrote "key-naming" as 0 raw, 1 pseudonyms)
        restoredNaming = null;
        List<java.util.Map.Entry<String, Integer>> namings = new ArrayList<>();
        for (java.util.Map.Entry<String, Integer> e : state.entries()) {
            if (e.getKey().startsWith(NAMING_ENTRY) || e.getKey().equals(LEGACY_NAMING_ENTRY)) {
                namings.add(java.util.Map.entry(e.getKey(), e.getValue()));
            }
        }
        for (java.util.Map.Entry<String, Integer> entry : namings) {
            restoredNaming = entry.getKey().equals(LEGACY_NAMING_ENTRY)
                    ? (entry.getValue() == 0 ? KeyPseudonymizer.naming(null) : SOME_SECRET)
                    : entry.getKey().substring(NAMING_ENTRY.length());
            state.remove(entry.getKey());
        }
        state.put(NAMING_ENTRY + codec.naming(), 1);
        return format;
    }

    /**
     * The prefix of the entry of {@link #HASH_FORMAT_STATE} that names how the stage's state names keys (the rest of
     * the entry's key: {@link KeyCodec#naming()}, "raw" or a secret's fingerprint).
     */
    private static final String NAMING_ENTRY = "key-naming=";
    /** The entry of builds of 2026-12-07 before {@link #NAMING_ENTRY}: 0 raw, 1 pseudonyms of a secret it did not name. */
    private static final String LEGACY_NAMING_ENTRY = "key-naming";
    /** {@link #restoredNaming} of pseudonyms of a secret not named ({@link #LEGACY_NAMING_ENTRY} 1). */
    private static final String SOME_SECRET = "pseudonyms of a key secret";

    /** The naming of {@link #NAMING_ENTRY} as restored; null: none (a new stage, or state of a build before it). */
    private transient String restoredNaming;

    /** {@code keyshift.route.hash-format}; null: unset. */
    private Integer configuredHashFormat;

    /**
     * Whether this stage's own router state was restored: its hash format (every subtask's copy, also after a
     * rescale), or a build's before it (its plan state, or, in a subtask a scale-up handed none, format 1 set). Not
     * {@code context.isRestored()}: Flink restores every operator of a task one of whose operators has state (a Kafka
     * source the router is chained to), so a stage new to a restored job would take itself for a restored one that
     * had decided nothing, and hold its whole first window for the first plan.
     */
    private transient boolean stageRestored;

    /**
     * The routing-key hash format of a stage that starts without state, and the one a stage restored from a savepoint
     * of a build before format 2 must be told (1); null: unset (see {@link #hashFormat(StateInitializationContext)}).
     */
    public KeyshiftRouter<T, K> withHashFormat(Integer format) {
        if (format != null && format != KeyGroupHashTable.FORMAT_PREIMAGE_TABLE
                && format != KeyGroupHashTable.FORMAT_INVERTED_MURMUR) {
            throw new IllegalArgumentException(RouteOptions.HASH_FORMAT.key() + " must be 1 or 2, was " + format);
        }
        configuredHashFormat = format;
        return this;
    }

    /** The routing-key hash format this router uses (tests). */
    int hashFormat() {
        return hashTable.format();
    }

    /** Rewrites the sampler's state before a checkpoint takes it (tests: a damaged state); null: none. */
    private transient java.util.function.UnaryOperator<byte[]> holdRewrite;

    /**
     * Writes the naming entry as builds of 2026-12-07 before the secret's fingerprint wrote it ({@code "key-naming"},
     * 0 raw, 1 pseudonyms) in place of this build's (tests).
     */
    void writeLegacyNamingForTest(int value) throws Exception {
        org.apache.flink.api.common.state.BroadcastState<String, Integer> state = getOperatorStateBackend()
                .getBroadcastState(new org.apache.flink.api.common.state.MapStateDescriptor<>(HASH_FORMAT_STATE,
                        Types.STRING, Types.INT));
        state.remove(NAMING_ENTRY + codec.naming());
        state.put(LEGACY_NAMING_ENTRY, value);
    }

    /** Rewrites the sampler's state before each checkpoint takes it (tests). */
    void rewriteSamplerStateForTest(java.util.function.UnaryOperator<byte[]> rewrite) {
        this.holdRewrite = rewrite;
    }

    /** Where plan requests go instead of the coordinator (tests); null: the coordinator. */
    private transient java.util.function.Function<PlanRequest, CompletableFuture<CoordinationResponse>> planRequests;

    /** Sends plan requests to {@code requests} instead of the coordinator (tests). */
    void requestPlansFrom(java.util.function.Function<PlanRequest, CompletableFuture<CoordinationResponse>> requests) {
        this.planRequests = requests;
    }

    /** Asks the coordinator for the plan after the current one (a long poll, answered when it is published). */
    private CompletableFuture<CoordinationResponse> requestPlan() throws java.io.IOException {
        PlanRequest request = new PlanRequest(routing.version(),
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
        return planRequests != null ? planRequests.apply(request)
                : getContainingTask().getEnvironment().getOperatorCoordinatorEventGateway()
                        .sendRequestToCoordinator(getOperatorID(), new SerializedValue<>(request));
    }

    /** A request for a missing plan version is open (see {@link #requestMissingPlan()}). */
    private transient boolean missingRequested;

    /**
     * Asks the coordinator for the version after the current plan, one having gone missing (lost with a failed
     * attempt; plan events are loss tolerant), and applies the answer in the mailbox: at once, whether or not records
     * or watermarks arrive (an idle input would otherwise hold the keyed stage's watermark at this router's lease
     * until more records came). A failed request is asked again a second later.
     */
    private void requestMissingPlan() throws java.io.IOException {
        if (missingRequested) {
            return;
        }
        missingRequested = true;
        requestPlan().whenComplete((r, e) -> {
            try {
                mailbox.execute(() -> {
                    missingRequested = false;
                    if (e != null) {
                        // the request failed (a superseded poll, a failed RPC): ask again in a second, records or not
                        long now = getProcessingTimeService().getCurrentProcessingTime();
                        getProcessingTimeService().registerTimer(now + 1000, ts -> {
                            if (!aheadPlans.isEmpty()) {
                                requestMissingPlan();
                            }
                        });
                        return;
                    }
                    long before = routing.version();
                    if (r instanceof CollectCoordinationResponse c && PlanRequest.TAG.equals(c.getVersion())) {
                        apply(PlanRequest.plan(c));
                    }
                    if (routing.version() > before && !aheadPlans.isEmpty()) {
                        // another version is missing after the one that came
                        requestMissingPlan();
                    }
                }, "keyshift: a missing routing plan");
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                // the task is ending: nothing more to route
            }
        });
    }

    /**
     * Records wait for a lease, and no watermark has reached this router: without watermarks no plan ever comes, and
     * the waiting records would grow until memory runs out. Fails once that has lasted the no-watermark timeout of
     * processing time since the first record waited (a cold start's first watermark comes within the watermark
     * interval; a source's idle split holds it back for its idle timeout), naming the cause. Checked with each record
     * that waits and, for an input that falls silent after its records, by a processing-time timer at the timeout;
     * also from a restore with records waiting (a restart after this failure, whose input may give no record).
     */
    private void checkWatermarksArrive() {
        if (inputIdle) {
            // an input its source marks idle (withIdleness) has no watermark to give: not the missing watermarks
            // this check is for (a restored router whose partition stays quiet failed every timeout); the check
            // starts anew when the input is active again
            waitingWithoutWatermarkSince = Long.MIN_VALUE;
            return;
        }
        long now = getProcessingTimeService().getCurrentProcessingTime();
        if (waitingWithoutWatermarkSince == Long.MIN_VALUE) {
            waitingWithoutWatermarkSince = now;
            getProcessingTimeService().registerTimer(now + noWatermarkTimeoutMillis, ts -> {
                if (inputWatermark == Long.MIN_VALUE && waiting.size() > 0 && !inputIdle
                        && waitingWithoutWatermarkSince != Long.MIN_VALUE) {
                    checkWatermarksArrive();
                }
            });
        } else if (now - waitingWithoutWatermarkSince >= noWatermarkTimeoutMillis) {
            throw new IllegalStateException("keyshift routes records by event time, but no watermark reached the "
                    + "router in " + timeoutText() + " while " + waiting.size() + " records "
                    + "waited for a plan: give the stream in front of Keyshift.keyBy watermarks (a WatermarkStrategy "
                    + "other than noWatermarks(); withIdleness(...) shorter than "
                    + RouteOptions.NO_WATERMARK_TIMEOUT.key() + " if some source partitions or splits stay empty)");
        }
    }

    /** The no-watermark timeout as a message says it ({@link io.keyshift.config.RouteOptions#timeoutText}). */
    private String timeoutText() {
        return io.keyshift.config.RouteOptions.timeoutText(noWatermarkTimeoutMillis);
    }

    /**
     * More records wait than {@code keyshift.route.max-waiting-records}, and this router's own watermark is below the
     * lease (so it may not pace: the next plan needs its watermark). Where that watermark has not moved for the
     * no-watermark timeout of processing time while records kept coming to wait, it is stalled (a partition or split
     * this subtask reads gives no record and has no idle timeout): no plan comes, and the waiting records, kept on the
     * heap and written whole into every checkpoint, would grow until memory runs out, and again after every restart.
     * Fails naming the cause.
     */
    private void checkWatermarkMoves() {
        long now = getProcessingTimeService().getCurrentProcessingTime();
        if (inputWatermark != stalledWatermark || stalledSince == Long.MIN_VALUE) {
            stalledWatermark = inputWatermark;
            stalledSince = now;
        } else if (now - stalledSince >= noWatermarkTimeoutMillis) {
            throw new IllegalStateException("keyshift routes records by event time, but the router's watermark "
                    + "has stayed at " + java.time.Instant.ofEpochMilli(inputWatermark) + " for "
                    + timeoutText() + " while " + waiting.size() + " records beyond it waited "
                    + "for a plan, which needs that watermark to move: a partition or split this subtask reads gives "
                    + "no records and holds it back; give the source WatermarkStrategy#withIdleness(...) shorter "
                    + "than " + RouteOptions.NO_WATERMARK_TIMEOUT.key());
        }
    }

    /**
     * Whether, before the first plan, the records of the first planning window this subtask sees go to their natural
     * key groups at once ({@code keyshift.route.natural-first-window}, default true) or wait for the plan.
     */
    public KeyshiftRouter<T, K> withNaturalFirstWindow(boolean natural) {
        naturalFirstWindow = natural;
        return this;
    }

    /**
     * How long (processing time, ms; 0: never) records may wait without any watermark reaching the router before it
     * fails; {@code keyshift.route.no-watermark-timeout}.
     */
    public KeyshiftRouter<T, K> withNoWatermarkTimeout(java.time.Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException(RouteOptions.NO_WATERMARK_TIMEOUT.key() + " must be >= 0, was "
                    + timeout);
        }
        noWatermarkTimeoutMillis = timeout.toMillis();
        return this;
    }

    /**
     * Waits up to {@code millis} for a newer plan (a long poll to the coordinator, answered on the RPC thread) and
     * applies it. It does not run the task's mailbox: a checkpoint must never start while the chained input is in the
     * middle of emitting a record (a source reader's position would not match what this operator has taken in). The
     * thread parks until the answer unparks it or the time is up (no exception per wait that times out: a replay's
     * routers wait once per record beyond their bound).
     */
    private void awaitPlan(long millis) throws Exception {
        if (planPoll == null) {
            planPoll = requestPlan();
            Thread task = Thread.currentThread();
            planPoll.whenComplete((r, e) -> LockSupport.unpark(task));
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        long left;
        while (!planPoll.isDone() && (left = deadline - System.nanoTime()) > 0) {
            LockSupport.parkNanos(this, left);
            if (Thread.interrupted()) {
                throw new InterruptedException("keyshift: interrupted while the router waited for a plan");
            }
        }
        if (!planPoll.isDone()) {
            return;
        }
        CompletableFuture<CoordinationResponse> answered = planPoll;
        planPoll = null;
        if (answered.isCompletedExceptionally()) {
            return;
        }
        if (answered.getNow(null) instanceof CollectCoordinationResponse c && PlanRequest.TAG.equals(c.getVersion())) {
            apply(PlanRequest.plan(c));
        }
    }

    /**
     * True if this subtask has reported everything the next plan needs from it (its input watermark reached the
     * lease end, or, before the first plan, the end of the first window it saw), so waiting cannot deadlock.
     */
    private boolean mayWait() {
        long needed = currentPlan != null ? routing.validUntil() : firstWindowEnd;
        return needed != Long.MAX_VALUE && inputWatermark >= needed - 1;
    }

    @SuppressWarnings("unchecked")
    private static <K> K keyOf(Object k) {
        return (K) k;
    }

    private K key(T value) throws Exception {
        K key = keySelector.getKey(value);
        if (key == null) {
            // the same at every restart (as under keyBy, which restarts for ever); the record itself stays out of the
            // message (it may hold what a key secret keeps out of logs, and be large)
            throw io.keyshift.config.JobOptions.misuse(new NullPointerException("the key selector of Keyshift.keyBy "
                    + "returned null for " + (value == null ? "a null record" : "a record of " + value.getClass().getName())
                    + ": a key must not be null (as under keyBy); map a missing key to a value of its own"));
        }
        return key;
    }

    /**
     * Emits the record's copies; {@code id} is what plans name the key by: the key, or its pseudonym; {@code n} the
     * record's number in the subtask's input.
     */
    private void emit(K key, Object id, int natural, T value, long t, long n) {
        activeAgain();
        routing.route(id, t, natural, n, route);
        // null: the window's routed loads were reported already (a late record), as its sample was
        long[][] load = loadOf(t);
        boolean migrating = route.role == Role.MIGRATING;
        // a copy of a shadow phase behind the watermark this router sent: the owners may judge it late differently
        // (as any while this router's channel may be passed by downstream, back from idle behind the others)
        boolean late = migrating && (t <= outputWatermark || resumedBehind);
        output.collect(reuse.replace(copy(key, route.primary, route.primaryEpoch, value, route.role,
                migrating ? route.shadowFrom : Long.MIN_VALUE, migrating ? route.switchAt : Long.MIN_VALUE)
                .late(late), t));
        if (load != null) {
            load[0][route.primary]++;
        }
        primaryCopies.inc();
        routedTo[subtaskOfKeyGroup[route.primary]].inc();
        if (route.shadow >= 0) {
            output.collect(reuse.replace(copy(key, route.shadow, route.shadowEpoch, value, Role.SHADOW,
                    route.shadowFrom, route.switchAt).late(t <= outputWatermark || resumedBehind), t));
            if (load != null) {
                load[1][route.shadow]++;
            }
            shadowCopies.inc();
        }
    }

    /**
     * One copy of a record: the reused envelope where the main output serializes it at once (no operator chained to
     * it), else a new one.
     */
    private Envelope<T, K> copy(K key, int keyGroup, int epoch, T value, Role role, long t0, long t1) {
        int hash = hashTable.hashFor(keyGroup, key.hashCode());
        if (reusable == null) {
            return new Envelope<>(RoutingKey.restore(key, keyGroup, epoch, hash), value, role, t0, t1);
        }
        reusable.routingKey.reuse(key, keyGroup, epoch, hash);
        return reusable.reuse(value, role, t0, t1);
    }

    /**
     * The routed-load counters of the window of event time {@code t} (no division while t stays in one window); null
     * for a window whose loads were reported already (a late record: the output watermark passed its end).
     */
    private long[][] loadOf(long t) {
        if (t >= lastLoadWindow && t <= lastLoadWindowEnd && lastLoad != null) {
            return lastLoad;
        }
        long windowStart = KeySampler.windowStart(t, s.windowMillis());
        if (windowStart + s.windowMillis() - 1 <= Math.max(outputWatermark, loadsReportedUpTo)) {
            return null;
        }
        long[][] l = loads.computeIfAbsent(windowStart, w -> new long[2][s.maxParallelism()]);
        lastLoadWindow = windowStart;
        // the router refuses times within a window of Long.MAX_VALUE: no overflow
        lastLoadWindowEnd = windowStart + s.windowMillis() - 1;
        lastLoad = l;
        return l;
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        if (mark.getTimestamp() <= inputWatermark) {
            return;
        }
        inputWatermark = mark.getTimestamp();
        if (inputWatermark == Long.MAX_VALUE) {
            // the end of the input is not idleness: the profiler must see this subtask reach the end
            inputIdle = false;
        }
        decideNaturalRouting();
        for (WindowSample w : sampler.closeUpTo(inputWatermark)) {
            // several windows may close at once: each report claims progress only up to its own window, so the
            // profiler does not close the next window before its sample (the next report) has arrived
            report(w, null, Math.min(inputWatermark, w.getWindowEnd() - 1), outputWatermark);
        }
        advanceOutput();
        reportProgress();
    }

    @Override
    public void processWatermarkStatus(WatermarkStatus status) throws Exception {
        // Flink's idleness: an idle input (a source reader without splits, or idle by its watermark strategy) does not
        // hold back the profiler or the keyed stage; records it sends later may be late, as behind a plain keyBy
        if (status.isIdle()) {
            // the profiler passes an idle subtask by: what it counted of its open windows goes now, or those windows,
            // closed once the other subtasks pass them, would be profiled without it (after a rescale, windows
            // restored at a subtask that never gets input). Those reports say active, and the one after them idle:
            // from a subtask's first idle report on, the profiler may close every window the others have passed, and
            // a second open window's sample, reported idle after the first, came late and was dropped
            inputIdle = false;
            for (WindowSample w : sampler.takeOpen()) {
                report(w, null, inputWatermark, outputWatermark);
            }
            inputIdle = true;
            waitingWithoutWatermarkSince = Long.MIN_VALUE;
            forwardIdleIfDrained();
        } else {
            inputIdle = false;
            if (forwardedIdle) {
                forwardedIdle = false;
                output.emitWatermarkStatus(WatermarkStatus.ACTIVE);
                resumedBehind();
            }
            if (waiting.size() > 0 && inputWatermark == Long.MIN_VALUE && noWatermarkTimeoutMillis > 0) {
                checkWatermarksArrive();
            }
        }
        reportProgress();
    }

    /**
     * At the first input watermark before any plan and any report: the records earlier than the end of the planning
     * window of the earliest record so far (without a record yet, of the window that holds the watermark) go to their
     * natural key groups from now on (those waiting at once), instead of waiting in memory, and in every checkpoint,
     * until the first plan (made once the first window has closed). The earliest of all records so far, not the
     * first: one record far ahead, read first, does not hold every migration off. Nothing at the end of an input
     * without records (a lease to the end of time would keep the first plan from ever migrating).
     */
    private void decideNaturalRouting() throws Exception {
        if (naturalDecided) {
            return;
        }
        naturalDecided = true;
        if (currentPlan != null || inputIdle || inputWatermark == Long.MIN_VALUE) {
            return;
        }
        long bound = Long.MAX_VALUE;
        if (!waiting.isEmpty()) {
            // the window of the earliest record so far: a watermark that trails the records by its out-of-orderness
            // may lie before it, a fast source's far into its records, a bounded one's at its end
            bound = KeySampler.windowStart(waiting.firstTimestamp(), s.windowMillis()) + s.windowMillis();
        } else if (inputWatermark < Long.MAX_VALUE - 2 * s.windowMillis()) {
            bound = KeySampler.windowStart(inputWatermark + 1, s.windowMillis()) + s.windowMillis();
        }
        if (bound == Long.MAX_VALUE) {
            // the end of the input without a record: nothing to route, and a lease to the end of time would keep the
            // first plan from ever migrating
            return;
        }
        naturalUntil = bound;
        routing = RoutingTable.naturalUntil(naturalUntil);
        releaseCovered();
    }

    /**
     * A record came after this subtask forwarded IDLE (Flink's sources send records before the status that makes them
     * active again): ACTIVE downstream, and the profiler told, whether the record goes out now or waits for a lease.
     */
    private void activeAgain() {
        if (forwardedIdle) {
            forwardedIdle = false;
            output.emitWatermarkStatus(WatermarkStatus.ACTIVE);
            resumedBehind();
            // the profiler no longer closes loads without this subtask: this record's copies count in them
            reportProgress();
        }
    }

    /** Notes whether this router resumes with its output watermark below the lease's end (others' may be ahead). */
    private void resumedBehind() {
        resumedUntil = routing.validUntil();
        resumedBehind = resumedUntil != Long.MIN_VALUE && outputWatermark < resumedUntil - 1;
    }

    private void forwardIdleIfDrained() {
        if (inputIdle && !forwardedIdle && waiting.isEmpty()) {
            // its routed loads so far, for the same reason as its samples (see processWatermarkStatus)
            while (!loads.isEmpty()) {
                Map.Entry<Long, long[][]> first = loads.pollFirstEntry();
                report(null, load(first.getKey(), first.getValue()), inputWatermark, outputWatermark);
            }
            lastLoad = null;
            forwardedIdle = true;
            output.emitWatermarkStatus(WatermarkStatus.IDLE);
            // after its loads: from this report on the profiler closes loads without this subtask
            reportProgress();
        }
    }

    @Override
    public void handleOperatorEvent(OperatorEvent event) {
        if (event instanceof PlanEvent p) {
            try {
                apply(p.bytes());
            } catch (Exception e) {
                throw new IllegalStateException("keyshift router could not apply a routing plan", e);
            }
        }
    }

    /**
     * Takes a plan: versions are applied strictly in order (a later one is kept until the ones before it arrived),
     * because a plan forgets a folded migration after one more version and records that waited for a lease must be
     * routed by the plans in between.
     */
    void apply(RoutingPlan plan) throws Exception {
        apply(plan, null);
    }

    /**
     * Takes a plan in Avro binary ({@link PlanEvent#encode}): one this router has, or had, is dropped by its version
     * alone; another is decoded and indexed once for all of this stage's routers in the JVM ({@link SharedPlans}).
     */
    private void apply(byte[] plan) throws Exception {
        if (ended || currentPlan != null && PlanEvent.version(plan) <= currentPlan.getVersion()) {
            return;
        }
        if (sharedPlans == null) {
            apply(PlanEvent.decode(plan), null);
            return;
        }
        SharedPlans.Decoded<K> d = sharedPlans.decode(plan, p -> {
            checkPlan(p);
            return RoutingTable.of(p, codec, s.processFunction());
        });
        apply(d.plan(), d.table());
    }

    /** @param table the plan's routing table, or null to make it */
    private void apply(RoutingPlan plan, RoutingTable<K> table) throws Exception {
        if (ended) {
            // finished: nothing more to route, and no marker may follow the end of the output
            return;
        }
        if (currentPlan != null && plan.getVersion() <= currentPlan.getVersion()) {
            return;
        }
        if (currentPlan != null && plan.getVersion() > currentPlan.getVersion() + 1) {
            // the first arrival of a version is kept, with its table (every arrival comes from the same history)
            if (aheadPlans.putIfAbsent(plan.getVersion(), plan) == null) {
                if (table != null) {
                    aheadTables.put(plan.getVersion(), table);
                }
                requestMissingPlan();
            }
            return;
        }
        // a plan first: it covers what this subtask routes, nothing goes naturally
        naturalDecided = true;
        applyInOrder(plan, table);
        while (!aheadPlans.isEmpty() && aheadPlans.firstKey() <= currentPlan.getVersion() + 1) {
            RoutingPlan next = aheadPlans.pollFirstEntry().getValue();
            RoutingTable<K> nextTable = aheadTables.remove(next.getVersion());
            if (next.getVersion() == currentPlan.getVersion() + 1) {
                applyInOrder(next, nextTable);
            }
        }
    }

    /**
     * Sampling-rate commands known before the job starts (from -> rate, rate in (0, 1]): the sampler applies each to
     * the windows that start at or after its time, exactly. Others reach the router with the plans and apply to the
     * windows that open after the plan came.
     */
    public KeyshiftRouter<T, K> withSamplingRates(java.util.Map<Long, Double> rates) {
        rates.values().forEach(r -> {
            if (!(r > 0 && r <= 1)) {
                throw new IllegalArgumentException("sampling rate must be in (0, 1], was " + r);
            }
        });
        knownSamplingRates = new java.util.TreeMap<>(rates);
        return this;
    }

    /**
     * Refuses a plan that names keys otherwise than this router does (made before a restore under another
     * keyshift.privacy.key-secret, or with or without one): its entries would never match, and keys it moved would
     * be routed away from their state.
     */
    private void checkNaming(RoutingPlan plan) {
        if ((plan.getKeyNaming() == null || "raw".contentEquals(plan.getKeyNaming()))
                && plan.getValidUntil() == Long.MAX_VALUE) {
            // a final lease of a build before 2026-12-03 set no naming, which Avro's builder and a read of the older
            // schema take as the default "raw" (the planner checks the plan before it)
            return;
        }
        String naming = plan.getKeyNaming() == null ? "raw" : plan.getKeyNaming().toString();
        if (!naming.equals(codec.naming())) {
            throw new IllegalStateException(KeyPseudonymizer.namingMismatch("routing plan " + plan.getVersion(), naming,
                    codec.naming()));
        }
    }

    /** The plan's sampling-rate commands, for the windows this router opens from now on. */
    private void learnSamplingRates(RoutingPlan plan) {
        if (plan.getControl() != null) {
            for (io.keyshift.avro.SamplingRateChange c : plan.getControl().getSamplingRates()) {
                sampler.rateFrom(c.getFrom(), c.getRate());
            }
        }
    }

    /** Refuses a plan made for another max parallelism or key naming. */
    private void checkPlan(RoutingPlan plan) {
        if (plan.getMaxParallelism() != s.maxParallelism()) {
            throw new IllegalStateException("Routing plan " + plan.getVersion() + " was made for maxParallelism "
                    + plan.getMaxParallelism() + " but this keyed stage has " + s.maxParallelism()
                    + "; set pipeline.max-parallelism (or keyshift.max-parallelism) to the same value everywhere");
        }
        checkNaming(plan);
    }

    /**
     * Applies the next plan: markers for new migrations, then release what its lease covers.
     *
     * @param table the plan's routing table, or null to make it
     */
    private void applyInOrder(RoutingPlan plan, RoutingTable<K> table) throws Exception {
        checkPlan(plan);
        RoutingTable<K> next = table != null ? table : RoutingTable.of(plan, codec, s.processFunction());
        learnSamplingRates(plan);
        if (s.processFunction()) {
            emitMarkers(currentPlan, plan);
        }
        currentPlan = plan;
        routing = next;
        releaseCovered();
        advanceOutput();
        reportProgress();
        forwardIdleIfDrained();
    }

    /**
     * Tells the keyed stage about every migration of {@code next} that {@code previous} did not have: MIGRATE_OUT to
     * the old owner, MIGRATE_IN to the new one, stamped T0. Every router subtask sends them (the keyed stage takes
     * duplicates in its stride): the keyed stage's watermark cannot pass T0 before every router has applied the plan,
     * and T0 is at or after the previous lease's end, beyond this router's output watermark, so the markers arrive
     * before it does, also after a restore at another parallelism.
     */
    private void emitMarkers(RoutingPlan previous, RoutingPlan next) {
        Set<String> known = new HashSet<>();
        if (previous != null) {
            for (RouteEntry e : previous.getEntries()) {
                for (Migration m : migrations(e)) {
                    known.add(e.getKey() + "@" + m.getPlannedInVersion());
                }
            }
        }
        for (RouteEntry e : next.getEntries()) {
            for (Migration m : migrations(e)) {
                if (!known.contains(e.getKey() + "@" + m.getPlannedInVersion())) {
                    if (forwardedIdle) {
                        forwardedIdle = false;
                        output.emitWatermarkStatus(WatermarkStatus.ACTIVE);
                    }
                    K key = codec.key(e.getKey());
                    int from = m.getFromKeyGroup() >= 0 ? m.getFromKeyGroup() : e.getKeyGroup();
                    int fromEpoch = (int) (m.getFromKeyGroup() >= 0 ? m.getFromEpoch() : e.getEpoch());
                    output.collect(reuse.replace(new Envelope<>(RoutingKey.of(key, from, fromEpoch, hashTable), null,
                            Role.MIGRATE_OUT, m.getShadowFrom(), m.getSwitchAt()), m.getShadowFrom()));
                    output.collect(reuse.replace(new Envelope<>(RoutingKey.of(key, m.getToKeyGroup(),
                            (int) m.getPlannedInVersion(), hashTable), null, Role.MIGRATE_IN, m.getShadowFrom(),
                            m.getSwitchAt()), m.getShadowFrom()));
                }
            }
        }
    }

    private static List<Migration> migrations(RouteEntry e) {
        List<Migration> out = new ArrayList<>(e.getRetired() == null ? List.of() : e.getRetired());
        if (e.getMigration() != null) {
            out.add(e.getMigration());
        }
        return out;
    }

    /** Emits the output watermark: the input watermark held back at the lease (and before any waiting record). */
    private void advanceOutput() {
        long target = routing.validUntil() == Long.MIN_VALUE ? Long.MIN_VALUE
                : Math.min(inputWatermark, routing.validUntil() - 1);
        if (!waiting.isEmpty()) {
            target = Math.min(target, waiting.firstTimestamp() - 1);
        }
        advanceOutputTo(target);
    }

    /** At the end of input with nothing waiting: the output watermark (and the loads' reports) go to the end. */
    private void endOutput() {
        ended = true;
        advanceOutputTo(Long.MAX_VALUE);
        reportProgress();
    }

    private void advanceOutputTo(long target) {
        if (target <= outputWatermark) {
            return;
        }
        outputWatermark = target;
        if (resumedBehind && outputWatermark >= resumedUntil - 1) {
            resumedBehind = false;
        }
        while (!loads.isEmpty() && loads.firstKey() + s.windowMillis() - 1 <= outputWatermark) {
            Map.Entry<Long, long[][]> first = loads.pollFirstEntry();
            long end = first.getKey() + s.windowMillis();
            report(null, load(first.getKey(), first.getValue()), inputWatermark, Math.min(outputWatermark, end - 1));
        }
        lastLoadWindow = Long.MIN_VALUE;
        lastLoad = null;
        // Flink's outputs drop a watermark while the announced status is IDLE: announce ACTIVE for it (a plan that
        // extends the lease while the input idles, the end of the input), then IDLE again if the input still idles
        boolean wasIdle = forwardedIdle;
        if (wasIdle) {
            forwardedIdle = false;
            output.emitWatermarkStatus(WatermarkStatus.ACTIVE);
        }
        output.emitWatermark(new Watermark(outputWatermark));
        if (wasIdle && !ended) {
            forwardIdleIfDrained();
        }
    }

    private WindowLoad load(long start, long[][] counts) {
        return WindowLoad.newBuilder()
                .setWindowStart(start)
                .setWindowEnd(start + s.windowMillis())
                .setParallelism(keyedParallelism)
                .setRoutedKeyGroupCounts(list(counts[0]))
                .setShadowKeyGroupCounts(list(counts[1]))
                .build();
    }

    private static List<Long> list(long[] a) {
        List<Long> out = new ArrayList<>(a.length);
        for (long v : a) {
            out.add(v);
        }
        return out;
    }

    /**
     * A progress report when a watermark crossed a window boundary or the input or output idle status changed, or,
     * while the input is idle, the plan version it routes by changed: the planner keeps every plan from the oldest
     * version a router reported, and an idle router (a subtask without a Kafka partition) reported its version once,
     * when it went idle, so the planner's checkpointed history grew by a plan per window for as long as it idled.
     */
    private void reportProgress() {
        if (windowIndex(inputWatermark) != reportedInputWindow || windowIndex(outputWatermark) != reportedOutputWindow
                || inputIdle != reportedIdle || forwardedIdle != reportedOutputIdle
                || inputIdle && routing.version() != reportedPlanVersion) {
            report(null, null, inputWatermark, outputWatermark);
        }
    }

    private long windowIndex(long watermark) {
        return watermark == Long.MAX_VALUE ? Long.MAX_VALUE
                : watermark == Long.MIN_VALUE ? Long.MIN_VALUE : Math.floorDiv(watermark + 1, s.windowMillis());
    }

    /** Sends a report claiming progress {@code in} (input) and {@code out} (output watermark). */
    private void report(WindowSample window, WindowLoad load, long in, long out) {
        // the profiler may close a window on any report: what this subtask routes naturally is decided before it
        naturalDecided = true;
        reportedInputWindow = windowIndex(in);
        reportedOutputWindow = windowIndex(out);
        reportedIdle = inputIdle;
        reportedOutputIdle = forwardedIdle;
        reportedPlanVersion = routing.version();
        KeyLoadSample r = KeyLoadSample.newBuilder()
                .setSubtask(subtask)
                .setSubtasks(subtasks)
                .setWatermark(in)
                .setOutputWatermark(out)
                .setIdle(inputIdle)
                // idle once its input idles with nothing waiting for a lease and its loads so far reported
                .setOutputIdle(forwardedIdle)
                // an ended subtask routes nothing more: it needs no older plan kept for it
                .setPlanVersion(ended ? Long.MAX_VALUE : routing.version())
                .setNaturalUntil(naturalUntil)
                .setMaxParallelism(s.maxParallelism())
                .setWindow(window)
                .setLoad(load)
                .build();
        output.collect(sampleTag, new StreamRecord<>(r, Math.max(0L, Math.min(in, Long.MAX_VALUE - 1))));
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        List<Tuple2<Long, T>> w = new ArrayList<>(waiting.size());
        List<Long> numbers = new ArrayList<>(waiting.size());
        for (WaitingRecords.Waiting<T> x : waiting.toList()) {
            w.add(Tuple2.of(x.timestamp(), x.value()));
            numbers.add(x.arrival());
        }
        waitingState.update(w);
        waitingNumberState.update(numbers);
        if (currentPlan != null) {
            planState.update(List.of(currentPlan));
        } else {
            planState.clear();
        }
        List<KeyLoadSample> open = new ArrayList<>();
        for (WindowSample ws : sampler.snapshot()) {
            open.add(stateRecord(ws, null));
        }
        for (Map.Entry<Long, long[][]> e : loads.entrySet()) {
            open.add(stateRecord(null, load(e.getKey(), e.getValue())));
        }
        openState.update(open);
        naturalState.update(naturalDecided ? List.of(naturalUntil) : List.of());
        spreadState.update(List.of(spread));
        writerState.update(List.of(writer()));
        byte[] hold = sampler.snapshotHold(subtask, subtasks);
        if (hold != null && holdRewrite != null) {
            hold = holdRewrite.apply(hold);
        }
        sampleHoldState.update(hold == null ? List.of() : List.of(hold));
        // in this order (a subtask restored at the same parallelism gets its own list as it was)
        closedState.update(List.of(sampler.closedUpTo(), Math.max(loadsReportedUpTo, outputWatermark)));
    }

    private KeyLoadSample stateRecord(WindowSample window, WindowLoad load) {
        return KeyLoadSample.newBuilder().setSubtask(subtask).setSubtasks(subtasks).setWatermark(Long.MIN_VALUE)
                .setOutputWatermark(Long.MIN_VALUE).setIdle(false).setMaxParallelism(s.maxParallelism())
                .setWindow(window).setLoad(load).build();
    }

    /**
     * Waits (processing plans, checkpoints and timers) until every waiting record is routed, then ends this subtask's
     * output at {@link Watermark#MAX_WATERMARK}: with nothing waiting, this subtask will send nothing more, so its
     * watermark may pass the lease (the other subtasks' watermarks still hold the keyed stage at theirs).
     *
     * <p>It does not wait for a lease it has no record for: a source whose task is still finishing does not report
     * its end to Flink's watermark alignment, so a subtask waiting here for the planner's final lease (which needs
     * every subtask's input to end) could hold an aligned source paused behind its last watermark for ever.
     */
    @Override
    public void finish() throws Exception {
        if (inputWatermark != Long.MAX_VALUE) {
            processWatermark(Watermark.MAX_WATERMARK);
        }
        while (!waiting.isEmpty()) {
            // run the mailbox (plans, checkpoints, timers), and poll the coordinator for the plan after the current
            // one: a version missing before those that arrived, or the one the waiting records need, lost on its way
            // (plan events are loss tolerant; after the final lease no later version would show the gap)
            mailbox.tryYield();
            awaitPlan(10);
        }
        endOutput();
        super.finish();
    }

    @Override
    public void close() throws Exception {
        if (sharedPlans != null) {
            SharedPlans.release(sharedPlans);
            sharedPlans = null;
        }
        super.close();
    }

    // --- for tests ---

    int waitingRecords() {
        return waiting.size();
    }

    long pacedRecords() {
        return pacedRecords.getCount();
    }

    long outputWatermark() {
        return outputWatermark;
    }

    long planVersion() {
        return routing.version();
    }
}
