package io.keyshift.plan;

import io.keyshift.control.ControlCommand;
import io.keyshift.control.ControlProgress;
import io.keyshift.control.ControlState;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.util.OutputTag;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.metrics.KeyshiftMetrics;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;
import org.apache.flink.runtime.operators.coordination.OperatorEventGateway;
import org.apache.flink.runtime.operators.coordination.OperatorEventHandler;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.util.List;

/**
 * Flink operator (parallelism 1) around {@link RepartitionPlanner}: one plan version per forecast, and a final lease
 * to +infinity when the routers' progress reaches the end of a bounded input (watermark Long.MAX_VALUE). Every plan
 * goes to the output (for sinks and tests) and, as a {@link PlanEvent}, to this operator's coordinator, which
 * publishes it to the routers ({@link PlanChannel}). Routers apply versions strictly in order, so it keeps every plan
 * from the oldest version a router still routes by (the routers report it; at least the last {@value #HISTORY}), and
 * after a restore publishes them all once more, oldest first (a restored router may be versions behind, and plans
 * in flight may have been lost). State: those plans (Avro, operator list state) and the planner's long-run unit
 * loads ({@link LongRunLoads}).
 *
 * <p><b>Rescaling.</b> When the keyed stage runs at the routers' parallelism ({@code followRouters}), the planner
 * plans for the parallelism the routers report with each forecast ({@code LoadForecast.routerParallelism}), not for
 * the one the job was built with: after the adaptive scheduler (or a restore from a savepoint) changes the job's
 * parallelism, the next plan names the new parallelism and balances the new key-group ranges (but for forecasts held
 * for a control input across the change and planned before a forecast of the new parallelism arrives: planned for
 * the old, see the README's Known limitations). Plans name key groups, so the routes already in force stay valid
 * across the change.
 *
 * <p><b>Control input</b> (a second input, with {@link #withControl}): command lines ({@link ControlCommand}). A
 * command applies to the first plan whose migrations start at or after its time; so that replays stay deterministic
 * the planner holds each forecast until the control input's watermark has passed that time (a bounded input, such as
 * a file, reaches its end at once; a live input carries {@code Long.MAX_VALUE} watermarks, and its commands apply
 * from the next plan on). A line that does not parse, or a command that cannot apply, goes to the side output
 * {@link #CONTROL_REJECTED} as the CSV line {@code reason,command} and changes nothing. The overrides in force are in
 * every plan ({@code RoutingPlan.control}) and in the metrics. Two counts in a plan's control record follow arrival
 * rather than time: the lines refused so far ({@code commandsRejected}: a line that does not parse has no time) and
 * the timed sampling rates known so far; with a control stream of event-time watermarks whose lines arrive ahead of
 * the forecasts at one replay speed and behind them at another, those counts, and with them the plan digests, can
 * differ (the commands applied, and so the routes, do not).
 */
public class PlannerOperator extends AbstractStreamOperator<RoutingPlan>
        implements OneInputStreamOperator<LoadForecast, RoutingPlan>,
        TwoInputStreamOperator<LoadForecast, String, RoutingPlan>, OperatorEventHandler {
    static {
        // before Flink restores this operator's state: an Avro serializer snapshot resolves keyshift's schema classes
        // by name, and a job's own classloader (on a cluster) has a fresh, untrusting Avro
        io.keyshift.config.AvroTrust.install();
    }


    private static final long serialVersionUID = 1L;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PlannerOperator.class);

    private final RepartitionPlanner.Settings settings;
    private final boolean followRouters;
    /** Routings kept for rollbacks; 0 = no control input. */
    private int controlRoutings;
    /** With reverts fed back from the shadow validation: how far its progress may trail a plan's start, ms. */
    private long revertLagMillis;
    /** Event time a reverted key is held, ms. */
    private long holdMillis;
    /**
     * Whether the control input carries the user's control watermark in band ({@link ControlProgress}), beside the
     * reverts: plans then wait for it up to their start.
     */
    private boolean userControlProgress;
    /** Processing time, ms, that a plan may wait for the user's control watermark before the task fails; 0 = never. */
    private long controlWatermarkTimeoutMillis;
    private transient io.keyshift.control.ControlWatermarkWait controlWait;

    /** Refused control commands, as CSV lines {@code reason,command}. */
    public static final OutputTag<String> CONTROL_REJECTED = new OutputTag<>("keyshift-control-rejected", Types.STRING);

    /**
     * Every forecast, as it is planned (after the control input's watermark has passed it), with
     * {@code forcedParallelism} set from the control input's scale commands: the scaling operator's input.
     */
    public static final OutputTag<LoadForecast> CONTROLLED_FORECASTS = new OutputTag<>("keyshift-controlled-forecasts",
            new io.keyshift.serde.SharedAvroTypeInfo<>(LoadForecast.class));

    private transient ControlState control;
    /** Whether {@link #control} came from the restored state (not made afresh). */
    private transient boolean controlRestored;
    private transient ListState<byte[]> controlStore;
    private transient ListState<LoadForecast> heldStore;
    private transient ListState<Long> watermarkStore;
    /** Forecasts waiting for the control input's watermark, oldest first. */
    private transient java.util.ArrayDeque<LoadForecast> held;
    /**
     * The routers' parallelism the newest forecast received reports (after a restore: the newest held at the
     * checkpoint, else 0 until one comes): the one a plan made now is routed at. A forecast held for the control
     * input, and restored after a rescale, reports the parallelism of its window, and planned by it where a newer
     * forecast had come, the plan was made for the ranges of the old parallelism. Restored forecasts planned before
     * any newer one came are planned by their own (they do not wait for one: the routers wait for the lease their plan
     * gives, and the next forecast needs the routers to read a whole window further); see the README's Known
     * limitations.
     */
    private transient int newestParallelism;
    private transient long controlWatermark;
    /** The user's control input's watermark, from {@link ControlProgress} lines (with {@link #userControlProgress}). */
    private transient long userControlWatermark;
    private transient ListState<Long> userWatermarkStore;
    private transient long forecastWatermark;
    private transient long forwardedWatermark = Long.MIN_VALUE;
    private transient volatile double observedImbalance = 1.0;
    /** The last observed imbalance: the gauge reads it after a restore, not 1.0 until the next plan. */
    private transient ListState<Double> observedStore;
    // volatile: the metric reporter's thread reads it (a gauge), and a rescale replaces it
    private transient volatile RepartitionPlanner planner;
    private transient ListState<RoutingPlan> state;
    /** The planner's long-run unit loads ({@link LongRunLoads#toBytes}); absent in savepoints of earlier versions. */
    private transient ListState<byte[]> longRunStore;
    /** {state horizon, correctness shadow, window} (ms) of the stage the plans were made for. */
    private transient ListState<long[]> shapeStore;
    private transient OperatorEventGateway gateway;
    private transient boolean restored;
    /** The last plans issued, oldest first. */
    private transient java.util.ArrayDeque<RoutingPlan> history;

    /** Plans kept at least (more while a router is further behind) and published again after a restore. */
    public static final int HISTORY = 16;
    private transient Counter started;
    private transient Counter completed;
    private transient Counter validated;
    private transient volatile long planNanos;

    private String keyNaming = "raw";
    /** The stage's key codec, to check the keys control commands name ({@link #withKeyIds}); null: unchecked. */
    private io.keyshift.route.KeyCodec<?> keyIds;

    /** A planner for a keyed stage at {@code settings.parallelism()}, whatever the routers report. */

    public PlannerOperator(RepartitionPlanner.Settings settings) {
        this(settings, false);
    }

    /**
     * @param settings the planner's settings, for the parallelism the job is built with
     * @param followRouters the keyed stage runs at the routers' parallelism: plan for the parallelism each forecast
     *                      reports (see the class comment)
     */
    public PlannerOperator(RepartitionPlanner.Settings settings, boolean followRouters) {
        this.settings = settings;
        this.followRouters = followRouters;
    }

    /** Whether a scaling operator reads this planner's forced parallelism (else {@code scale} is refused). */
    private boolean scaling = true;

    /**
     * Whether the stage scales ({@code keyshift.scaling.capacity} above 0); without it the control commands
     * {@code scale} and {@code unscale} are refused (dead-lettered with the reason), not applied to nothing.
     */
    public PlannerOperator withScaling(boolean scaling) {
        this.scaling = scaling;
        return this;
    }

    /**
     * Makes this the planner of a stage with a control input (its second input).
     *
     * @param rollbackRoutings routings of past plan versions kept for rollback commands, >= 1
     */
    public PlannerOperator withControl(int rollbackRoutings) {
        if (rollbackRoutings < 1) {
            throw new IllegalArgumentException("keyshift.control.rollback-versions must be >= 1, was "
                    + rollbackRoutings);
        }
        this.controlRoutings = rollbackRoutings;
        return this;
    }

    /**
     * How long a key sent back by a {@code revert} command starts no migration of the planner's own (event time, ms,
     * > 0; keyshift.migration.on-mismatch.hold): for the control input's reverts under any on-mismatch policy.
     */
    public PlannerOperator withRevertHold(long holdMillis) {
        if (holdMillis <= 0) {
            throw new IllegalArgumentException("revert hold must be > 0");
        }
        this.holdMillis = holdMillis;
        return this;
    }

    /**
     * Makes the control input carry the shadow validation's reverts ({@code keyshift.migration.on-mismatch=REVERT}):
     * a plan then waits only until the control input's watermark is {@code lagMillis} before its start (the
     * validation trails the routing), and applies the reverts up to there; every other command as before.
     *
     * @param lagMillis > 0, one planning window
     * @param holdMillis event time a reverted key starts no migration of the planner's own, > 0
     */
    public PlannerOperator withReverts(long lagMillis, long holdMillis) {
        if (lagMillis <= 0 || holdMillis <= 0) {
            throw new IllegalArgumentException("revert lag and hold must be > 0");
        }
        this.revertLagMillis = lagMillis;
        this.holdMillis = holdMillis;
        return this;
    }

    /**
     * With {@link #withReverts}: the control input is the reverts and the user's control input joined by
     * {@link ControlProgress}, whose lines carry the user's watermark. A plan then waits until the user's commands
     * are known up to its start (as without reverts; the first plan too), and the reverts up to a window before it.
     */
    public PlannerOperator withUserControlProgress() {
        this.userControlProgress = true;
        return this;
    }

    /**
     * How long (processing time) forecasts may wait for the user's control input's watermark, with nothing planned,
     * before the task fails naming the cause ({@link io.keyshift.control.ControlWatermarkWait};
     * {@code keyshift.route.no-watermark-timeout}; zero: never). The forecaster has the same watch for the window
     * profiles; the planner's covers the windows between a forecast's end and its plan's start (at the end of the
     * input, nothing comes behind them that the forecaster would hold).
     */
    public PlannerOperator withControlWatermarkTimeout(java.time.Duration timeout) {
        this.controlWatermarkTimeoutMillis = timeout.toMillis();
        return this;
    }

    /**
     * How the stage names keys ({@link io.keyshift.route.KeyPseudonymizer#naming}; default "raw"): stamped on every
     * plan, and a restored plan that names them otherwise is refused.
     */
    public PlannerOperator withKeyNaming(String naming) {
        this.keyNaming = java.util.Objects.requireNonNull(naming);
        return this;
    }

    /**
     * The stage's key codec: a control command's key is taken in the form the stage writes it ("70" for "070" of an
     * integer key), and one that names no key of the stage's type (not a number for an integer key, not a serialized
     * key's id) is refused with the reason instead of being kept for a key no plan names. Without it, any key is taken
     * as written.
     */
    public PlannerOperator withKeyIds(io.keyshift.route.KeyCodec<?> codec) {
        this.keyIds = codec;
        return this;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        io.keyshift.config.JobOptions.checkOneSubtask("planner",
                getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks());
        state = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("routing-plan", new AvroTypeInfo<>(RoutingPlan.class)));
        planner = new RepartitionPlanner(settings);
        longRunStore = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("long-run-loads",
                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        shapeStore = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("stage-shape",
                PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        observedStore = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("observed-imbalance",
                Types.DOUBLE));
        observedImbalance = 1.0;
        if (context.isRestored()) {
            // (absent in savepoints of builds before 2026-12-05: 1.0 until the next plan, as before)
            for (Double o : observedStore.get()) {
                observedImbalance = o;
            }
            // at parallelism 1 there is one entry; a savepoint from before this state starts the means afresh
            for (byte[] b : longRunStore.get()) {
                try {
                    planner.longRunLoads().restore(b);
                } catch (IllegalStateException | java.io.UncheckedIOException e) {
                    // the same at every restart: fail for good
                    throw io.keyshift.config.JobOptions.unrecoverable("the planner's long-run loads cannot be "
                            + "restored: " + e.getMessage());
                }
            }
        }
        restored = context.isRestored();
        history = new java.util.ArrayDeque<>();
        held = new java.util.ArrayDeque<>();
        controlWatermark = Long.MIN_VALUE;
        userControlWatermark = Long.MIN_VALUE;
        forecastWatermark = Long.MIN_VALUE;
        forwardedWatermark = Long.MIN_VALUE;
        if (controlRoutings > 0) {
            control = new ControlState(controlRoutings).withScaling(scaling)
                    .withConfiguredPins(settings.constraints().pinned());
            controlStore = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("control-state",
                    PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
            heldStore = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("held-forecasts",
                    new AvroTypeInfo<>(LoadForecast.class)));
            watermarkStore = context.getOperatorStateStore().getListState(new ListStateDescriptor<>(
                    "control-watermark", Types.LONG));
            if (context.isRestored()) {
                for (byte[] b : controlStore.get()) {
                    try {
                        control = ControlState.fromBytes(b, controlRoutings).withScaling(scaling)
                                .withConfiguredPins(settings.constraints().pinned());
                    } catch (java.io.IOException | IllegalArgumentException e) {
                        // the same at every restart (a savepoint of a newer build, or damaged): fail for good
                        throw io.keyshift.config.JobOptions.unrecoverable("the planner's control state cannot be "
                                + "restored: " + e.getMessage() + " (a savepoint of a newer keyshift build: restore "
                                + "with that build)");
                    }
                    controlRestored = true;
                }
                for (String line : control.dropRevertsOutside(settings.maxParallelism())) {
                    LOG.warn("Control command refused after restore (revert: a key group outside the job's key "
                            + "groups [0, {})): {}", settings.maxParallelism(), line);
                }
                heldStore.get().forEach(held::add);
                for (Long w : watermarkStore.get()) {
                    controlWatermark = w;
                }
            }
            if (userControlProgress) {
                userWatermarkStore = context.getOperatorStateStore().getListState(new ListStateDescriptor<>(
                        "user-control-watermark", Types.LONG));
                // a savepoint from before this state: the joined watermark, which the user's never trails
                userControlWatermark = controlWatermark;
                boolean userRestored = false;
                for (Long w : userWatermarkStore.get()) {
                    userControlWatermark = Math.max(userControlWatermark, w);
                    userRestored = true;
                }
                if (context.isRestored() && !userRestored) {
                    // a state without the user's own watermark: a job without reverts (its control watermark is the
                    // user's alone, at the end of time for a finished file) or from before this state. Kept as the
                    // joined one it never let the reverts' progress gate a plan again (it only rises); the joined
                    // watermark is learnt again from the joined input
                    controlWatermark = Long.MIN_VALUE;
                }
            }
        }
        if (controlRoutings == 0 && context.isRestored()
                && context.getOperatorStateStore().getRegisteredStateNames().contains("held-forecasts")) {
            // a job with a control input (or reverts), restored without one: the forecasts it held for the control
            // watermark are planned first, in order, with the next forecast (dropped, their windows were never
            // planned: the leases stood still and the long-run loads missed them); kept until then
            heldStore = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("held-forecasts",
                    new AvroTypeInfo<>(LoadForecast.class)));
            heldStore.get().forEach(held::add);
        }
        if (controlRoutings == 0 && context.isRestored()
                && context.getOperatorStateStore().getRegisteredStateNames().contains("control-state")) {
            // a savepoint of a job with a control input, restored without one: its overrides stay in the state (for a
            // later restore with the input) but do not apply; say so rather than drop them without a word
            for (byte[] b : context.getOperatorStateStore().getListState(new ListStateDescriptor<>("control-state",
                    PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO)).get()) {
                String overrides;
                try {
                    io.keyshift.avro.PlanControl view = ControlState.fromBytes(b, Integer.MAX_VALUE).view();
                    if (!"raw".equals(keyNaming)) {
                        // under a key secret no key is logged: the state may even hold raw keys (a savepoint of a
                        // job without a secret, which the plans' naming check below refuses)
                        int pins = view.getPinnedKeys().size();
                        int holds = view.getHeldKeys().size();
                        view.setPinnedKeys(new java.util.ArrayList<>());
                        view.setHeldKeys(new java.util.ArrayList<>());
                        overrides = view + " (" + pins + " pinned and " + holds + " held keys, not named under "
                                + "keyshift.privacy.key-secret)";
                    } else {
                        overrides = view.toString();
                    }
                } catch (java.io.IOException | RuntimeException e) {
                    overrides = "unreadable: " + e.getMessage();
                }
                LOG.warn("The restored state holds control overrides that this job, built without a control input, "
                        + "does not apply (freeze, pins, rollback, scale and the commands waiting are ignored until a "
                        + "restore with its control input): {}", overrides);
            }
        }
        if (context.isRestored()) {
            List<RoutingPlan> kept = new java.util.ArrayList<>();
            state.get().forEach(kept::add);
            kept.sort(java.util.Comparator.comparingLong(RoutingPlan::getVersion));
            history.addAll(kept);
            if (!kept.isEmpty()) {
                RoutingPlan last = kept.get(kept.size() - 1);
                if ((last.getKeyNaming() == null || "raw".contentEquals(last.getKeyNaming()))
                        && last.getValidUntil() == Long.MAX_VALUE && kept.size() > 1) {
                    // a final lease of a build before 2026-12-03 set no naming, which Avro's builder and a read of the
                    // older schema take as the default "raw" (a null never came): its plan before it names keys
                    last = kept.get(kept.size() - 2);
                }
                String naming = last.getKeyNaming() == null ? "raw" : last.getKeyNaming().toString();
                if (!naming.equals(keyNaming)) {
                    throw io.keyshift.config.JobOptions.unrecoverable(io.keyshift.route.KeyPseudonymizer.namingMismatch(
                            "the planner's state (plan " + last.getVersion() + ")", naming, keyNaming));
                }
            }
            for (RoutingPlan p : state.get()) {
                if (planner.current() == null || p.getVersion() > planner.current().getVersion()) {
                    planner.restore(p);
                }
            }
            if (control != null && !controlRestored && planner.current() != null) {
                // a savepoint of a job without a control input: this control state starts at the restored plan (a
                // command of "now" holds from the next plan's start, not from before the first plan)
                control.issued(planner.current(), false);
            } else if (control != null && planner.current() != null && control.resumeAt(planner.current())) {
                // control state of a job before one that ran without a control input: the plans that job issued are
                // unknown to it (a rollback to one would take an older routing), and the forecasts it held were
                // planned since
                long planned = planner.current().getBasedOnWindowEnd();
                held.removeIf(f -> f.getWindowEnd() <= planned);
                LOG.warn("The restored control state was last used at an earlier plan than the restored plan {}: a "
                        + "rollback can name version {} or later", planner.current().getVersion(),
                        planner.current().getVersion());
            }
            if (control == null && planner.current() != null) {
                // held forecasts of a job with a control input, restored without it: those whose window a restored
                // plan (of a job without it since) was based on are planned already
                long planned = planner.current().getBasedOnWindowEnd();
                held.removeIf(f -> f.getWindowEnd() <= planned);
            }
            warnOfTheFinalLease(planner.current());
            refuseSplitsWithoutMerger(planner.current(), planner.settings().splitThreshold());
            // a savepoint of an earlier build has no shape: nothing to compare
            for (long[] shape : shapeStore.get()) {
                refuseMigrationsOfAnotherShape(planner.current(), shape, settings);
            }
        }
        // the newest forecast received before the checkpoint, where one is still held (a failover after a rescale
        // planned the held forecasts of the old parallelism by their own, although one of the new had come)
        newestParallelism = held.isEmpty() ? 0 : held.peekLast().getRouterParallelism();
    }

    /**
     * A state whose plan holds the final lease, issued when the input ended: a checkpoint taken while the last
     * windows fired (a failover from it finishes the job, as it should), or a savepoint taken with
     * {@code stop --drain}, which Flink means for a job that ends for good. Restored into a job whose input goes on,
     * its routers would route every later record by that plan and no migration could start after a lease that never
     * ends: logged as a warning, since a failover cannot be told from such a resume by the state alone.
     */
    static void warnOfTheFinalLease(RoutingPlan plan) {
        if (plan != null && plan.getValidUntil() == Long.MAX_VALUE) {
            LOG.warn("Restored the final lease (plan {}, issued when the input ended): keyshift plans no more in "
                    + "this job. A recovery at the end of a bounded input finishes as before; a job resumed with more "
                    + "input from a savepoint taken with stop --drain routes by this plan for good: take the "
                    + "savepoint without --drain, or start the stage without keyshift's state", plan.getVersion());
        }
    }

    /**
     * A migration in flight was planned for the stage's shape then: its shadow phase covers what the old state horizon
     * and windows needed (a tumbling window aligned with the planning window needs none). Under another window size,
     * allowed lateness or declared state horizon the old and the new owner could both count a window as theirs, or
     * the new owner take over without the state the function needs. Likewise a split that started less than a state
     * horizon (the larger of both) before the plan's window ended, with a pre-roll shorter than the new shape needs.
     * Plans without either restore.
     *
     * @param shape {state horizon, correctness shadow, window} in ms, as {@link #snapshotState} wrote them
     * @throws org.apache.flink.runtime.execution.SuppressRestartsException around an IllegalStateException naming
     *                                                                     both shapes and a migrating key
     */
    static void refuseMigrationsOfAnotherShape(RoutingPlan plan, long[] shape, RepartitionPlanner.Settings now) {
        if (plan == null || shape.length < 3 || shape[0] == now.stateHorizonMillis()
                && shape[1] == now.correctnessShadowMillis() && shape[2] == now.windowMillis()) {
            return;
        }
        for (io.keyshift.avro.RouteEntry e : plan.getEntries()) {
            if (e.getMigration() != null) {
                throw io.keyshift.config.JobOptions.unrecoverable("the restored routing plan (version "
                        + plan.getVersion() + ") has migrations in flight (e.g. " + e.getKey() + ") planned for a "
                        + "stage whose state reaches back " + java.time.Duration.ofMillis(shape[0]) + " (shadow phase "
                        + "needed " + java.time.Duration.ofMillis(shape[1]) + ", planning window "
                        + java.time.Duration.ofMillis(shape[2]) + "), but this stage's reaches back "
                        + java.time.Duration.ofMillis(now.stateHorizonMillis()) + " (shadow phase needed "
                        + java.time.Duration.ofMillis(now.correctnessShadowMillis()) + ", planning window "
                        + java.time.Duration.ofMillis(now.windowMillis()) + "): change the window size, allowed "
                        + "lateness or declared state horizon with a savepoint taken when no migration is in flight "
                        + "(after the control command freeze, each migration ends one state horizon after its "
                        + "switch-over), or restore with the stage the savepoint was taken with");
            }
            io.keyshift.avro.Split split = e.getSplit();
            long preRoll = split == null || split.getPreRollFrom() == Long.MIN_VALUE ? 0
                    : split.getFrom() - split.getPreRollFrom();
            if (split != null && now.splitPreRollMillis() > preRoll && split.getFrom() > plan.getBasedOnWindowEnd()
                    - Math.max(shape[0], now.stateHorizonMillis())) {
                // its pre-roll (records before the split routed as partials at the key's own key group) was sized
                // for the old shape, shorter than the new one needs: a longer window of the new one that holds the
                // split's start could begin before the pre-roll, and count its records before it at one key group
                // and after it at the merger (a shorter window, or less lateness, is safe)
                throw io.keyshift.config.JobOptions.unrecoverable("the restored routing plan (version "
                        + plan.getVersion() + ") splits " + e.getKey() + " from "
                        + java.time.Instant.ofEpochMilli(split.getFrom()) + ", less than a state horizon before the "
                        + "window it was based on ended, with a pre-roll of " + java.time.Duration.ofMillis(preRoll)
                        + " (this stage needs " + java.time.Duration.ofMillis(now.splitPreRollMillis()) + ") sized for "
                        + "a stage whose state reaches back "
                        + java.time.Duration.ofMillis(shape[0]) + " (planning window "
                        + java.time.Duration.ofMillis(shape[2]) + "), but this stage's reaches back "
                        + java.time.Duration.ofMillis(now.stateHorizonMillis()) + " (planning window "
                        + java.time.Duration.ofMillis(now.windowMillis()) + "): change the window size or allowed "
                        + "lateness with a savepoint taken a state horizon after the split's start, or restore with "
                        + "the stage the savepoint was taken with");
            }
        }
    }

    /**
     * A restored plan that splits keys over several key groups needs a stage that merges their partial results: a
     * split never ends, and without the split merger (split threshold 0, or a window function that cannot merge
     * partials) every window result of those keys would be dropped as a partial, or the window function fail on it.
     *
     * @throws org.apache.flink.runtime.execution.SuppressRestartsException around an IllegalStateException naming
     *                                                                     the option and a split key
     */
    static void refuseSplitsWithoutMerger(RoutingPlan plan, double splitThreshold) {
        if (plan == null || splitThreshold > 0) {
            return;
        }
        for (io.keyshift.avro.RouteEntry e : plan.getEntries()) {
            if (e.getSplit() != null) {
                throw io.keyshift.config.JobOptions.unrecoverable("the restored routing plan (version "
                        + plan.getVersion() + ") splits "
                        + "keys over several key groups (e.g. " + e.getKey() + "), but this stage does not merge "
                        + "split keys' partial results (" + io.keyshift.config.PlanOptions.SPLIT_THRESHOLD.key()
                        + " is 0, as process(ProcessWindowFunction) and keyed process functions need): restore "
                        + "with the split threshold and window function the savepoint was taken with (a split key "
                        + "stays split), or start this stage without keyshift's state");
            }
        }
    }

    /** The planner's long-run unit loads (for tests). */
    LongRunLoads longRunLoads() {
        return planner.longRunLoads();
    }

    /** Set by the factory: the gateway to this operator's coordinator. */
    void setGateway(OperatorEventGateway gateway) {
        this.gateway = gateway;
    }

    @Override
    public void handleOperatorEvent(OperatorEvent event) {}

    /** The oldest plan version a router still routes by, as the last forecast reported it. */
    private transient long oldestRouted;

    /**
     * Keeps every plan from the oldest version a router still routes by (at least the last {@value #HISTORY}), so that
     * a router that restarts or falls behind can catch up version by version.
     */
    private void issue(RoutingPlan plan) {
        republish();
        history.addLast(plan);
        while (history.size() > HISTORY && history.peekFirst().getVersion() < oldestRouted) {
            history.pollFirst();
        }
        publish(plan);
    }

    /** The restored plans are still to be published again (see {@link #republish}). */
    private transient boolean republishPending;

    /** What the {@code keyshiftObservedImbalance} gauge reads. */
    double observedImbalance() {
        return observedImbalance;
    }

    /** The control state (null without a control input): its counts are what the control gauges read. */
    ControlState controlState() {
        return control;
    }

    /**
     * Publishes the restored plans again, oldest first, once, and before any new plan: a router rescaled without a
     * plan takes the first plan it gets, and its waiting records must be routed by a version no later than the one
     * they waited under (a later one may have forgotten their migration).
     */
    private void republish() {
        if (republishPending) {
            republishPending = false;
            history.forEach(this::publish);
        }
    }

    private void publish(RoutingPlan plan) {
        if (gateway != null) {
            gateway.sendEventToCoordinator(PlanEvent.of(plan, history.peekFirst().getVersion()));
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        republishPending = restored && !history.isEmpty();
        if (republishPending) {
            getProcessingTimeService().registerTimer(getProcessingTimeService().getCurrentProcessingTime(),
                    t -> republish());
        }
        started = getMetricGroup().counter(KeyshiftMetrics.PLAN_MIGRATIONS_STARTED);
        completed = getMetricGroup().counter(KeyshiftMetrics.PLAN_MIGRATIONS_COMPLETED);
        validated = getMetricGroup().counter(KeyshiftMetrics.PLAN_MIGRATIONS_VALIDATED);
        getMetricGroup().gauge(KeyshiftMetrics.PLAN_TIME_MS, () -> planNanos / 1e6);
        getMetricGroup().gauge(KeyshiftMetrics.PLAN_PARALLELISM, this::planParallelism);
        if (control != null) {
            controlWait = new io.keyshift.control.ControlWatermarkWait(controlWatermarkTimeoutMillis,
                    getProcessingTimeService(), () -> held.size() + " forecasts, the first of the window ending at "
                            + java.time.Instant.ofEpochMilli(held.isEmpty() ? 0 : held.peekFirst().getWindowEnd())
                            + ", waited for their plans' start in the control input's watermark, "
                            + (userWatermark() == Long.MIN_VALUE ? "none so far"
                            : "at " + java.time.Instant.ofEpochMilli(userWatermark())));
            // from the control state, as the applied count: a restore carries both on
            getMetricGroup().gauge(KeyshiftMetrics.CONTROL_REJECTED, () -> control.rejected());
            getMetricGroup().gauge(KeyshiftMetrics.CONTROL_FROZEN, () -> control.frozen() ? 1 : 0);
            getMetricGroup().gauge(KeyshiftMetrics.CONTROL_PINNED_KEYS, () -> control.pinnedKeys());
            getMetricGroup().gauge(KeyshiftMetrics.CONTROL_ROLLBACK_VERSION, () -> control.rollbackVersion());
            getMetricGroup().gauge(KeyshiftMetrics.CONTROL_FORCED_PARALLELISM, () -> control.forcedParallelism());
            getMetricGroup().gauge(KeyshiftMetrics.CONTROL_SAMPLING_RATE, () -> control.samplingRate());
            getMetricGroup().gauge(KeyshiftMetrics.CONTROL_APPLIED, () -> control.applied());
        }
        getMetricGroup().gauge(KeyshiftMetrics.PLAN_OBSERVED_IMBALANCE, () -> observedImbalance);
        // each gauge reads the current plan once (it read it twice, and a rescale's new planner between the two reads
        // threw on the reporter's thread)
        getMetricGroup().gauge(KeyshiftMetrics.PLAN_MAX_UTILIZATION, () -> {
            RoutingPlan p = planner.current();
            return p == null ? -1.0 : p.getMaxUtilization();
        });
        getMetricGroup().gauge(KeyshiftMetrics.PLAN_SCALE_IN, () -> {
            RoutingPlan p = planner.current();
            return p != null && p.getScaleInOpportunity() ? 1 : 0;
        });
        getMetricGroup().gauge(KeyshiftMetrics.PLAN_PREDICTED_IMBALANCE, () -> {
            RoutingPlan p = planner.current();
            return p == null ? 1.0 : p.getPredictedImbalanceAfter();
        });
        getMetricGroup().gauge(KeyshiftMetrics.PLAN_MIGRATIONS_IN_FLIGHT, () -> {
            RoutingPlan p = planner.current();
            int n = 0;
            if (p != null) {
                // migrations with a shadow phase that has not ended at the planner's last window end
                for (RouteEntry e : p.getEntries()) {
                    io.keyshift.avro.Migration m = e.getMigration();
                    n += m != null && m.getSwitchAt() > m.getShadowFrom() && m.getSwitchAt() > p.getBasedOnWindowEnd()
                            ? 1 : 0;
                }
            }
            return n;
        });
        // what a restore into a stage of another shape refuses (see refuseMigrationsOfAnotherShape)
        getMetricGroup().gauge(KeyshiftMetrics.PLAN_MIGRATIONS_UNFINISHED, () -> migrationsUnfinished(planner.current()));
    }

    /**
     * The gauge {@code keyshiftMigrationsUnfinished} of {@code plan}: its migrations, from their start until a state
     * horizon after their switch-over. 0 exactly where {@link #refuseMigrationsOfAnotherShape} lets a stage of another
     * shape restore the plan, but for a key split within the last state horizon.
     */
    static int migrationsUnfinished(RoutingPlan plan) {
        return plan == null ? 0 : (int) plan.getEntries().stream().filter(e -> e.getMigration() != null).count();
    }

    @Override
    public void processElement(StreamRecord<LoadForecast> element) {
        newestParallelism = element.getValue().getRouterParallelism();
        // forecasts a restored state held for a control input this job no longer has: first, in order
        while (!held.isEmpty() && held.peekFirst().getWindowEnd() < element.getValue().getWindowEnd()) {
            LoadForecast f = held.pollFirst();
            plan(f, f.getWindowEnd() - 1);
        }
        held.clear();
        plan(element.getValue(), element.getTimestamp());
    }

    /** A forecast: planned once the control input's watermark allows. */
    @Override
    public void processElement1(StreamRecord<LoadForecast> element) throws Exception {
        newestParallelism = element.getValue().getRouterParallelism();
        held.addLast(element.getValue());
        drain();
    }

    /**
     * Why a revert is refused once the input has ended, pending or arriving after the final lease alike (which of the
     * two a revert of the validation's last windows is depends on the subtasks' timing).
     */
    static final String REVERT_AFTER_THE_END = "no plan reaches its time: the input ended";

    /** A control command line. */
    @Override
    public void processElement2(StreamRecord<String> element) throws Exception {
        String line = element.getValue();
        // the shadow validation's own revert: its key as the plans name it, U+FFFD included (a user's line with that
        // character is refused: it stands for bytes that were not UTF-8, and would name another key)
        boolean generated = ControlCommand.isGeneratedRevert(line);
        if (generated) {
            line = ControlCommand.withoutGeneratedMark(line);
        }
        if (userControlProgress) {
            long w = ControlProgress.watermarkOf(line);
            if (w != Long.MIN_VALUE) {
                userControlWatermark = Math.max(userControlWatermark, w);
                drain();
                return;
            }
        }
        try {
            ControlCommand c = generated ? ControlCommand.parseGenerated(line) : ControlCommand.parse(line);
            if (c != null) {
                checkKeyGroups(c);
                c = canonicalKey(c);
                RoutingPlan last = planner.current();
                if (last != null && last.getValidUntil() == Long.MAX_VALUE) {
                    // the final lease is out (the input ended; a watched directory keeps the job running): no plan
                    // will take the command, and it stayed pending without a word
                    throw new IllegalArgumentException(c.type() == ControlCommand.Type.REVERT ? REVERT_AFTER_THE_END
                            : "it came after the last plan: the input ended");
                }
                control.add(c);
            }
        } catch (IllegalArgumentException e) {
            control.refusedLine();
            reject(e.getMessage(), line);
        }
    }

    /**
     * {@code c} with its key in the form the stage's plans name it ({@link #withKeyIds}: "7" for "007" of an integer
     * key); IllegalArgumentException, with the reason, for a key of another type.
     */
    private ControlCommand canonicalKey(ControlCommand c) {
        // anomaly-z and sampling-rate keep their number where a key would be
        if (keyIds == null || c.key() == null || !(c.type() == ControlCommand.Type.PIN
                || c.type() == ControlCommand.Type.UNPIN || c.type() == ControlCommand.Type.REVERT)) {
            return c;
        }
        String canonical = keyIds.canonicalId(c.key());
        // the line too: a checkpoint keeps waiting commands as lines, and a restore parses them again
        return canonical.equals(c.key()) ? c : c.withKey(canonical);
    }

    /** A revert's key groups must be the job's (a plan naming another would fail every router that applies it). */
    private void checkKeyGroups(ControlCommand c) {
        if (c.type() != ControlCommand.Type.REVERT) {
            return;
        }
        int maxP = settings.maxParallelism();
        for (int kg : new int[] {c.keyGroup(), c.ifAtKeyGroup()}) {
            if (kg >= maxP) {
                throw new IllegalArgumentException("revert: key group " + kg + " is outside the job's key groups [0, "
                        + maxP + ")");
            }
        }
    }

    private void reject(String reason, String line) {
        LOG.warn("Control command refused ({}): {}", reason, line);
        output.collect(CONTROL_REJECTED, new StreamRecord<>(
                org.apache.commons.csv.CSVFormat.RFC4180.format(reason, line == null ? "" : line)));
    }

    @Override
    public void processWatermark1(Watermark mark) throws Exception {
        forecastWatermark = Math.max(forecastWatermark, mark.getTimestamp());
        drain();
    }

    /** The control input's progress: commands up to it are known. Not forwarded (plans follow the forecasts). */
    @Override
    public void processWatermark2(Watermark mark) throws Exception {
        controlWatermark = Math.max(controlWatermark, mark.getTimestamp());
        drain();
    }

    /** Plans the held forecasts whose time the control input has passed; then forwards the forecasts' watermark. */
    private void drain() throws Exception {
        boolean released = false;
        while (!held.isEmpty() && controlKnownFor(held.peekFirst())) {
            LoadForecast f = held.pollFirst();
            plan(f, f.getWindowEnd() - 1);
            released = true;
        }
        if (controlWait != null) {
            controlWait.afterDrain(!held.isEmpty() && heldByTheUsersControl(held.peekFirst()), released);
        }
        if (held.isEmpty() && forecastWatermark > forwardedWatermark) {
            processWatermark(new Watermark(forecastWatermark));
        }
    }

    /**
     * Whether the control input is known far enough for the plan after {@code f}: up to its migrations' start; with
     * reverts, those only up to a window before (the validation trails the routing) and none for the first plan
     * (nothing is in flight, and the validation moves only once the routers have a first lease), the user's
     * commands, when they come with their own progress, still up to the start.
     */
    private boolean controlKnownFor(LoadForecast f) {
        if (finalLeaseOut()) {
            // no plan follows (plan() takes nothing from the forecast): held for a control watermark at the end of
            // time, which a live control input or the reverts never reach, the forecasts piled up in the state
            return true;
        }
        long start = planner.migrationsStartAt(f);
        if (revertLagMillis <= 0) {
            return controlWatermark >= start;
        }
        if (userControlProgress && userControlWatermark < start) {
            return false;
        }
        return planner.current() == null || controlWatermark >= start - revertLagMillis;
    }

    /** The user's control input's watermark as far as the planner knows it. */
    private long userWatermark() {
        return revertLagMillis > 0 && userControlProgress ? userControlWatermark : controlWatermark;
    }

    /** Whether the user's control input (not the reverts) is what holds the plan after {@code f}. */
    private boolean heldByTheUsersControl(LoadForecast f) {
        if (finalLeaseOut()) {
            return false;
        }
        long start = planner.migrationsStartAt(f);
        if (revertLagMillis <= 0) {
            return controlWatermark < start;
        }
        return userControlProgress && userControlWatermark < start;
    }

    /** The forecasts held for the control input (for tests). */
    int heldForecasts() {
        return held == null ? 0 : held.size();
    }

    /** Whether the last plan is the final lease (the input ended; or restored with it): no plan follows. */
    private boolean finalLeaseOut() {
        return planner.current() != null && planner.current().getValidUntil() == Long.MAX_VALUE;
    }

    private void plan(LoadForecast forecast, long timestamp) {
        // the newest forecast's (received, or held at the checkpoint restored); where there is none, its own
        followParallelism(newestParallelism > 0 ? newestParallelism : forecast.getRouterParallelism());
        // over the subtasks the window ran on: the routers' parallelism of the window where the planner follows it
        // (after a rescale the last plan was made for the one before, and a held forecast's window ran before the
        // rescale), else the stage's own (the routers may run at another)
        int ran = forecast.getRouterParallelism();
        observedImbalance = observedImbalance(forecast, planner.current(), followRouters && ran >= 1
                ? Math.min(ran, settings.maxParallelism()) : planner.settings().parallelism());
        oldestRouted = Math.max(oldestRouted, forecast.getRouterPlanVersion());
        if (finalLeaseOut()) {
            // the final lease is out (the input ended; or restored with it, see warnOfTheFinalLease): nothing more to
            // plan, and issuing it again each window would grow the history by a copy each time; nor does a command
            // apply (a timed sampling rate the final lease kept was counted applied by the next forecast, no plan
            // issued)
            return;
        }
        RepartitionPlanner.Control overrides = RepartitionPlanner.Control.NONE;
        io.keyshift.avro.PlanControl view = null;
        long start = planner.migrationsStartAt(forecast);
        if (control != null) {
            for (ControlState.Rejected r : control.advanceTo(start, start - revertLagMillis)) {
                reject(r.reason(), r.command().line());
            }
            overrides = control.control();
            view = control.view(start);
        }
        int forced = control != null ? control.forcedParallelism() : 0;
        if (forecast.getForcedParallelism() != forced) {
            // a forecast is read-only once emitted (its other chained consumers get the same instance)
            forecast = LoadForecast.newBuilder(forecast).setForcedParallelism(forced).build();
        }
        output.collect(CONTROLLED_FORECASTS, new StreamRecord<>(forecast, timestamp));
        long t0 = System.nanoTime();
        RoutingPlan plan = planner.onForecast(forecast, overrides);
        planNanos = System.nanoTime() - t0;
        if (control != null) {
            view.setReverts(control.reverted(planner.revertsResolved(), planner.revertsStarted(),
                    start > Long.MAX_VALUE - holdMillis ? Long.MAX_VALUE : start + holdMillis));
            view.setHeldKeys(control.view().getHeldKeys());
            plan.setControl(view);
            control.issued(plan, planner.rollbackComplete());
        }
        plan.setKeyNaming(keyNaming);
        started.inc(plan.getMigrationsStarted());
        completed.inc(plan.getMigrationsCompleted());
        validated.inc(validatedCompleted(plan, settings));
        // to the routers first: a chained consumer of plans() gets this instance (read-only, see
        // SharedAvroTypeInfo), and one that changed it anyway must not change what the routers route by
        issue(plan);
        output.collect(new StreamRecord<>(plan, timestamp));
    }

    /** With {@code followRouters}: a planner for {@code reported} subtasks, continuing from the current plan. */
    private void followParallelism(int reported) {
        int p = Math.min(reported, settings.maxParallelism());
        if (!followRouters || p < 1 || p == planner.settings().parallelism()) {
            return;
        }
        LOG.info("The keyed stage runs at parallelism {} (was {}): planning for its key-group ranges from now on", p,
                planner.settings().parallelism());
        RoutingPlan current = planner.current();
        byte[] longRun = planner.longRunLoads().toBytes();
        // made whole before the gauges see it (they read an empty planner in between: no migration unfinished)
        RepartitionPlanner next = new RepartitionPlanner(planner.settings().withParallelism(p));
        next.longRunLoads().restore(longRun);
        if (current != null) {
            next.restore(current);
        }
        planner = next;
    }

    /**
     * What keyshiftPlanParallelism reads: the last plan's parallelism, or before the first plan the planner's (after a
     * restore the planner is built for the submitted parallelism until the next forecast follows the routers: the
     * gauge read the submitted one for a window after every restart of a rescaled job).
     */
    int planParallelism() {
        RepartitionPlanner pl = planner;
        RoutingPlan current = pl.current();
        return current != null ? current.getParallelism() : pl.settings().parallelism();
    }

    /**
     * Migrations folded by {@code plan} (its entries' retired ones) whose shadow phase had results to compare, i.e.
     * were validated ({@link RepartitionPlanner.Settings#compares}: a keyed process function's outputs from
     * {@code T0 +} its horizon on, a window stage's windows that lie wholly inside the shadow phase).
     */
    static int validatedCompleted(RoutingPlan plan, RepartitionPlanner.Settings settings) {
        int n = 0;
        for (io.keyshift.avro.RouteEntry e : plan.getEntries()) {
            if (e.getRetired() != null) {
                for (io.keyshift.avro.Migration m : e.getRetired()) {
                    n += settings.compares(m.getShadowFrom(), m.getSwitchAt()) ? 1 : 0;
                }
            }
        }
        return n;
    }

    /** The key groups a split deals records of event time {@code t >= from} to: an earlier spread's, or its own. */
    static List<Integer> keyGroupsAt(io.keyshift.avro.Split split, long t) {
        io.keyshift.avro.SplitSpread in = null;
        for (io.keyshift.avro.SplitSpread sp : split.getEarlier() == null ? List.<io.keyshift.avro.SplitSpread>of()
                : split.getEarlier()) {
            if (t < sp.getUntil() && (in == null || sp.getUntil() < in.getUntil())) {
                in = sp;
            }
        }
        return in == null ? split.getKeyGroups() : in.getKeyGroups();
    }

    /**
     * max/mean of the forecast's observed unit loads per subtask under {@code plan} (1.0 before the first plan or when
     * nothing loaded). A migrating key counts on its primary at the window's last instant (its target once switched
     * over). A key split before the forecast's window ends counts in equal shares on its pieces' key groups,
     * as the routers deal its records (counted whole on one key group, a key split for its load had shown the
     * imbalance it no longer has). Over the plan's parallelism.
     */
    static double observedImbalance(LoadForecast f, RoutingPlan plan) {
        return plan == null ? 1.0 : observedImbalance(f, plan, plan.getParallelism());
    }

    /**
     * As {@link #observedImbalance(LoadForecast, RoutingPlan)}, over {@code parallelism} subtasks: those the window ran
     * on (after a rescale, the last plan was made for the parallelism before it, and the first window's gauge read
     * its load over the old key-group ranges).
     */
    static double observedImbalance(LoadForecast f, RoutingPlan plan, int parallelism) {
        if (plan == null) {
            return 1.0;
        }
        int maxP = plan.getMaxParallelism();
        int p = parallelism >= 1 && parallelism <= maxP ? parallelism : plan.getParallelism();
        java.util.Map<String, List<Integer>> moved = new java.util.HashMap<>();
        for (RouteEntry e : plan.getEntries()) {
            List<Integer> spread = e.getSplit() == null ? null : keyGroupsAt(e.getSplit(), f.getWindowEnd() - 1);
            // a migration counts at its primary at the window's last instant: its target from the switch-over on
            // (counted at its origin until it folded, the window in which a move paid off showed none of it)
            int primary = e.getMigration() != null && f.getWindowEnd() - 1 >= e.getMigration().getSwitchAt()
                    ? e.getMigration().getToKeyGroup() : e.getKeyGroup();
            moved.put(e.getKey(), e.getSplit() != null && e.getSplit().getFrom() < f.getWindowEnd()
                    && !spread.isEmpty() ? spread : List.of(primary));
        }
        double[] load = new double[p];
        for (io.keyshift.avro.UnitForecast u : f.getUnits()) {
            List<Integer> groups = u.getKey() != null ? moved.get(u.getKey()) : null;
            if (groups == null) {
                groups = List.of(u.getKeyGroup());
            }
            for (int kg : groups) {
                load[org.apache.flink.runtime.state.KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(maxP, p,
                        kg)] += u.getObserved() / groups.size();
            }
        }
        double sum = 0;
        double max = 0;
        for (double l : load) {
            sum += l;
            max = Math.max(max, l);
        }
        return sum > 0 ? max / (sum / p) : 1.0;
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        if (control == null) {
            // forecasts a restored state held for a control input this job lacks: planned before the watermark
            // passes them (their plans would come behind it, or the final lease before them)
            while (!held.isEmpty() && held.peekFirst().getWindowEnd() - 1 <= mark.getTimestamp()) {
                LoadForecast f = held.pollFirst();
                plan(f, f.getWindowEnd() - 1);
            }
        }
        if (control != null && (!held.isEmpty() || mark.getTimestamp() <= forwardedWatermark)) {
            // forecasts still wait for the control input; or a combined watermark of Flink's (after an input's
            // status change) that is not the forecasts' progress
            return;
        }
        forwardedWatermark = mark.getTimestamp();
        if (mark.getTimestamp() == Long.MAX_VALUE) {
            RoutingPlan last = planner.current();
            if (last == null || last.getValidUntil() != Long.MAX_VALUE) {
                RoutingPlan fin = planner.finalLease();
                // as every plan: a restore from a state whose last plan is this one checks it
                fin.setKeyNaming(keyNaming);
                if (control != null) {
                    // the commands refused before it: not those it refuses itself below (the shadow validation's
                    // reverts of the last windows reach it before or after it, as the subtasks' timing has it: two
                    // runs of one input gave two plan digests)
                    long rejectedBefore = control.rejected();
                    // no plan will reach a later command's time: refused, not left pending without a word
                    for (ControlState.Rejected r : control.refusePending(
                            "its time lies after the last plan: the input ended", REVERT_AFTER_THE_END)) {
                        reject(r.reason(), r.command().line());
                    }
                    // the final lease carries the overrides in force too (and the routing, for the record)
                    io.keyshift.avro.PlanControl view = control.view();
                    view.setCommandsRejected(rejectedBefore);
                    fin.setControl(view);
                    control.issued(fin, false);
                }
                issue(fin);
                output.collect(new StreamRecord<>(fin, Long.MAX_VALUE));
            }
        }
        super.processWatermark(mark);
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        RoutingPlan p = planner.current();
        if (p != null) {
            state.update(new java.util.ArrayList<>(history));
        } else {
            state.clear();
        }
        longRunStore.update(java.util.List.of(planner.longRunLoads().toBytes()));
        observedStore.update(java.util.List.of(observedImbalance));
        RepartitionPlanner.Settings s = planner.settings();
        shapeStore.update(java.util.List.of(new long[] {s.stateHorizonMillis(), s.correctnessShadowMillis(),
            s.windowMillis()}));
        if (control != null) {
            controlStore.update(java.util.List.of(control.toBytes()));
            heldStore.update(new java.util.ArrayList<>(held));
            watermarkStore.update(java.util.List.of(controlWatermark));
        } else if (heldStore != null) {
            // restored without the control input: what is still held, until the next forecast plans it
            heldStore.update(new java.util.ArrayList<>(held));
        }
        if (userWatermarkStore != null) {
            userWatermarkStore.update(java.util.List.of(userControlWatermark));
        }
    }
}
