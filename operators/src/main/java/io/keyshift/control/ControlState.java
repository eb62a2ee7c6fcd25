package io.keyshift.control;

import io.keyshift.avro.PlanControl;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.plan.RepartitionPlanner;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The planner's view of its control input (pure logic; the {@code PlannerOperator} holds it in operator state):
 * commands waiting for their time, the overrides in force, and the routing of recent plan versions, which a rollback
 * returns to.
 *
 * <p>Commands apply in (AT, arrival) order once a plan's migrations start at or after AT
 * ({@link #advanceTo}). A command that cannot apply (unpin of a key that is not pinned, rollback to a version that
 * was not issued or is no longer kept) is refused with its reason and changes nothing.
 *
 * <p>Memory: the pending commands, the pinned keys, and at most {@code maxRoutings} routings (one per plan version
 * whose routing differs from the one before, each {@code entries x (key + 8 bytes)}).
 */
public final class ControlState {
    /** A refused command and why. */
    public record Rejected(ControlCommand command, String reason) {}

    /** Sampling-rate commands kept from before a plan's start. */
    public static final int SAMPLING_RATES_KEPT = 4;

    private final int maxRoutings;
    private final List<ControlCommand> pending = new ArrayList<>();
    private final TreeSet<String> pinned = new TreeSet<>();
    private boolean frozen;
    /** Parallelism forced by a scale command, 0 without one. */
    private int forcedParallelism;
    /** The anomaly z of the last anomaly-z command, 0 without one (the forecaster applies it; shown in plans). */
    private double anomalyZ;
    /** The rate of the last sampling-rate command applied, 0 without one (for the metric). */
    private double samplingRate;
    /**
     * Sampling-rate commands by time, known from their arrival on (also before their time: the routers need them
     * before the records of their windows come), for the plans to carry; older ones are dropped once a later one holds.
     */
    private final TreeMap<Long, Double> samplingRates = new TreeMap<>();
    private long rollbackVersion = -1;
    private Map<String, int[]> rollbackTarget;
    /** Per plan version whose routing changed: key -> {key group after its migration, natural key group}. */
    private final TreeMap<Long, Map<String, int[]>> routings = new TreeMap<>();
    /** The oldest version a rollback can name (older routings were dropped); 1 while none was dropped. */
    private long oldestRollbackVersion = 1;
    private long lastVersion;
    private long applied;
    private long rejected;
    /** Reverts waiting for the planner: key -> key group, and their reasons. */
    private final TreeMap<String, int[]> reverts = new TreeMap<>();
    /** Per pending revert: the time since which the key must have been at its IF_AT key group. */
    private final Map<String, Long> revertSince = new HashMap<>();
    private final Map<String, String> revertReasons = new HashMap<>();
    /** Keys held after a revert: key -> until (event time, ms). */
    private final TreeMap<String, Long> holds = new TreeMap<>();
    private long revertsDone;

    /** Whether a scaling operator reads the forced parallelism; without one {@code scale} and {@code unscale} are refused. */
    private boolean scaling = true;

    /**
     * Tells this state whether the stage scales ({@code keyshift.scaling.capacity} above 0): without a scaling
     * operator nothing acts on a forced parallelism, so {@code scale} and {@code unscale} are refused. Configuration,
     * not state: set it again after {@link #fromBytes}.
     */
    public ControlState withScaling(boolean scaling) {
        this.scaling = scaling;
        return this;
    }

    /** Keys pinned by keyshift.plan.pinned-keys (configuration): no command unpins them. */
    private java.util.Set<String> configuredPins = java.util.Set.of();

    /**
     * Tells this state the keys the stage's configuration pins ({@code keyshift.plan.pinned-keys}, as plans name
     * them): an {@code unpin} of one is refused with that reason. Configuration, not state: set it again after
     * {@link #fromBytes}.
     */
    public ControlState withConfiguredPins(java.util.Set<String> keys) {
        this.configuredPins = java.util.Set.copyOf(keys);
        return this;
    }

    /** @param maxRoutings routings kept for rollbacks, >= 1 */
    public ControlState(int maxRoutings) {
        if (maxRoutings < 1) {
            throw new IllegalArgumentException("routings kept must be >= 1, was " + maxRoutings);
        }
        this.maxRoutings = maxRoutings;
    }

    /**
     * Drops the reverts, pending or applied and not yet resolved, that name a key group at or beyond
     * {@code keyGroups} (kept by a version that did not check them: a plan migrating there fails every router), and
     * counts them as refused.
     *
     * @return the dropped commands' lines (an applied revert's as {@code revert,KEY,KEY_GROUP})
     */
    public List<String> dropRevertsOutside(int keyGroups) {
        List<String> dropped = new ArrayList<>();
        for (java.util.Iterator<ControlCommand> it = pending.iterator(); it.hasNext(); ) {
            ControlCommand c = it.next();
            if (c.type() == ControlCommand.Type.REVERT
                    && (c.keyGroup() >= keyGroups || c.ifAtKeyGroup() >= keyGroups)) {
                it.remove();
                dropped.add(c.line());
            }
        }
        for (java.util.Iterator<Map.Entry<String, int[]>> it = reverts.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, int[]> e = it.next();
            if (e.getValue()[0] >= keyGroups || e.getValue()[1] >= keyGroups) {
                it.remove();
                revertSince.remove(e.getKey());
                revertReasons.remove(e.getKey());
                dropped.add("revert," + e.getKey() + "," + e.getValue()[0]);
                // counted as applied when it came due, and it never took effect: refused instead (not both)
                applied = Math.max(0, applied - 1);
            }
        }
        rejected += dropped.size();
        return dropped;
    }

    /**
     * Refuses the queued commands, for the final lease (the input ended: no plan will reach their times); a timed
     * sampling rate stays, since the routers apply it from its time without a plan ({@link #add}). A final lease that
     * is the first plan applies a sampling rate of "now" as a first plan does, from the first window ({@link
     * #advanceTo}: the routers took it so from lines known in advance; it was refused).
     *
     * @return the commands refused, with {@code reason}
     */
    public List<Rejected> refusePending(String reason) {
        return refusePending(reason, reason);
    }

    /** As {@link #refusePending(String)}, with {@code revertReason} for reverts. */
    public List<Rejected> refusePending(String reason, String revertReason) {
        List<Rejected> out = new ArrayList<>();
        for (java.util.Iterator<ControlCommand> it = pending.iterator(); it.hasNext(); ) {
            ControlCommand c = it.next();
            if (lastVersion == 0 && c.type() == ControlCommand.Type.SAMPLING_RATE && c.at() == ControlCommand.NOW) {
                samplingRates.put(Long.MIN_VALUE, c.samplingRate());
                samplingRate = c.samplingRate();
                applied++;
                it.remove();
            } else if (c.type() != ControlCommand.Type.SAMPLING_RATE || c.at() == ControlCommand.NOW) {
                out.add(new Rejected(c, c.type() == ControlCommand.Type.REVERT ? revertReason : reason));
                it.remove();
            }
        }
        rejected += out.size();
        return out;
    }

    /** Counts a line refused before it became a command (it did not parse). */
    public void refusedLine() {
        rejected++;
    }

    /** Queues a command until a plan reaches its time (a sampling-rate command is also in every plan from now on). */
    public void add(ControlCommand c) {
        pending.add(Objects.requireNonNull(c));
        if (c.type() == ControlCommand.Type.SAMPLING_RATE && c.at() != ControlCommand.NOW) {
            // a rate for "now" goes in when it applies, from that plan's start (see advanceTo)
            samplingRates.put(c.at(), c.samplingRate());
        }
    }

    /**
     * Applies the queued commands with {@code at <= migrationsStart}, in (AT, arrival) order.
     *
     * @return the commands refused, with their reasons
     */
    public List<Rejected> advanceTo(long migrationsStart) {
        return advanceTo(migrationsStart, migrationsStart);
    }

    /**
     * Applies the queued commands with {@code at <= migrationsStart}, reverts only up to {@code revertsUpTo} (the
     * time up to which every revert is known: the shadow validation's progress).
     *
     * @return the commands refused, with their reasons
     */
    public List<Rejected> advanceTo(long migrationsStart, long revertsUpTo) {
        List<ControlCommand> due = new ArrayList<>();
        List<ControlCommand> later = new ArrayList<>();
        for (ControlCommand c : pending) {
            long limit = c.type() == ControlCommand.Type.REVERT ? Math.min(revertsUpTo, migrationsStart) : migrationsStart;
            (c.at() <= limit ? due : later).add(c);
        }
        holds.values().removeIf(until -> until <= migrationsStart);
        if (due.isEmpty()) {
            return List.of();
        }
        pending.clear();
        pending.addAll(later);
        // stable: commands with the same AT keep their arrival order; a command of "now" holds from this plan on, so
        // it comes after the timed ones this plan applies, also after one due at the plan's start exactly that
        // arrived later (a window boundary is what a timed command names). A sampling
        // rate of "now" that the first plan applies holds from the first window, before the timed rates, as in lines
        // known in advance (KeyshiftStream#controlKnownInAdvance): the routers sample the windows they open before
        // the first plan comes by those lines, so both must give every window the same rate
        boolean firstPlan = lastVersion == 0;
        due.sort(Comparator.<ControlCommand>comparingLong(c -> c.at() != ControlCommand.NOW ? c.at()
                : firstPlan && c.type() == ControlCommand.Type.SAMPLING_RATE ? Long.MIN_VALUE : migrationsStart)
                .thenComparing(c -> c.at() == ControlCommand.NOW));
        List<Rejected> out = new ArrayList<>();
        for (ControlCommand c : due) {
            if (c.type() == ControlCommand.Type.SAMPLING_RATE && c.at() == ControlCommand.NOW) {
                samplingRates.put(firstPlan ? Long.MIN_VALUE : migrationsStart, c.samplingRate());
            }
            String reason = apply(c);
            if (reason == null) {
                applied++;
            } else {
                rejected++;
                out.add(new Rejected(c, reason));
            }
        }
        // the rate in force is the latest one from or before this plan's start (a timed rate that came after a later
        // one was in force holds only for windows from before that one: it changes no window a router opens now)
        Map.Entry<Long, Double> inForce = samplingRates.floorEntry(migrationsStart);
        if (inForce != null) {
            samplingRate = inForce.getValue();
        }
        return out;
    }

    private static final String NO_SCALING = "this stage does not scale (keyshift.scaling.capacity is 0): nothing "
            + "would act on a forced parallelism";

    private String apply(ControlCommand c) {
        switch (c.type()) {
            case PIN -> pinned.add(c.key());
            case UNPIN -> {
                if (configuredPins.contains(c.key())) {
                    return "key '" + c.key() + "' is pinned by keyshift.plan.pinned-keys, which a command cannot undo";
                }
                if (!pinned.remove(c.key())) {
                    return "key '" + c.key() + "' is not pinned";
                }
            }
            case SCALE -> {
                if (!scaling) {
                    return NO_SCALING;
                }
                forcedParallelism = c.parallelism();
            }
            case ANOMALY_Z -> anomalyZ = c.anomalyZ();
            case SAMPLING_RATE -> samplingRate = c.samplingRate();
            case UNSCALE -> {
                if (forcedParallelism == 0) {
                    // a parallelism forced before a restore into a stage without scaling can still be released
                    return scaling ? "no parallelism is forced" : NO_SCALING;
                }
                forcedParallelism = 0;
            }
            case FREEZE -> frozen = true;
            case UNFREEZE -> frozen = false;
            case ROLLBACK -> {
                if (c.version() > lastVersion) {
                    return "plan version " + c.version() + " was not issued yet (the last is " + lastVersion + ")";
                }
                if (c.version() < oldestRollbackVersion) {
                    return "plan version " + c.version() + " is no longer kept (the oldest a rollback can name is "
                            + oldestRollbackVersion + "; keyshift.control.rollback-versions)";
                }
                Map.Entry<Long, Map<String, int[]>> r = routings.floorEntry(c.version());
                rollbackTarget = r == null ? new HashMap<>() : r.getValue();
                rollbackVersion = c.version();
            }
            case REVERT -> {
                reverts.put(c.key(), new int[] {c.keyGroup(), c.ifAtKeyGroup()});
                revertSince.put(c.key(), c.ifSince());
                revertReasons.put(c.key(), c.reason());
            }
            default -> throw new IllegalStateException(c.type().toString());
        }
        return null;
    }

    /** The overrides for the next plan. */
    public RepartitionPlanner.Control control() {
        return new RepartitionPlanner.Control(frozen, java.util.Set.copyOf(pinned), rollbackTarget,
                Map.copyOf(reverts), Map.copyOf(revertSince), java.util.Set.copyOf(holds.keySet()));
    }

    /**
     * The planner resolved the reverts of {@code resolved}: those of {@code moved} it sent back (they are held until
     * {@code until}), the others were stale (the key had moved on) and are dropped.
     *
     * @return per key sent back, {@code key,keyGroup,reason} (CSV)
     */
    public List<String> reverted(java.util.Set<String> resolved, java.util.Set<String> moved, long until) {
        List<String> out = new ArrayList<>();
        for (String k : new TreeSet<>(resolved)) {
            int[] r = reverts.remove(k);
            String reason = revertReasons.remove(k);
            revertSince.remove(k);
            if (r != null && moved.contains(k)) {
                holds.put(k, until);
                revertsDone++;
                out.add(org.apache.commons.csv.CSVFormat.RFC4180.format(k, r[0], reason == null ? "" : reason));
            }
        }
        return out;
    }

    public long revertsDone() {
        return revertsDone;
    }

    /**
     * Records a plan just issued: its routing (for later rollbacks) and, with {@code rollbackComplete}, the end of the
     * rollback in progress.
     */
    public void issued(RoutingPlan plan, boolean rollbackComplete) {
        lastVersion = plan.getVersion();
        if (rollbackComplete) {
            rollbackTarget = null;
            rollbackVersion = -1;
        }
        Map<String, int[]> routing = new HashMap<>();
        for (RouteEntry e : plan.getEntries()) {
            int kg = e.getMigration() != null ? e.getMigration().getToKeyGroup() : e.getKeyGroup();
            if (kg != e.getNaturalKeyGroup()) {
                routing.put(e.getKey(), new int[] {kg, e.getNaturalKeyGroup()});
            }
        }
        Map.Entry<Long, Map<String, int[]>> last = routings.lastEntry();
        if (last == null) {
            // the first plan this state sees (a job restored without control state starts at a later version): the
            // routings of earlier versions are unknown, and a rollback to one of them is refused, not a return home
            oldestRollbackVersion = plan.getVersion();
        }
        if (last == null || !same(last.getValue(), routing)) {
            routings.put(plan.getVersion(), routing);
            while (routings.size() > maxRoutings) {
                routings.pollFirstEntry();
                oldestRollbackVersion = routings.firstKey();
            }
        }
    }

    /**
     * Takes up a restored plan {@code plan}: if plans after the last one this state recorded were issued without it (a
     * job restored without a control input, then restored with one again), their routings are unknown, so a rollback
     * may name {@code plan}'s version or later only.
     *
     * @return true if plans were issued without this state
     */
    public boolean resumeAt(RoutingPlan plan) {
        if (plan.getVersion() <= lastVersion) {
            return false;
        }
        routings.clear();
        issued(plan, false);
        return true;
    }

    private static boolean same(Map<String, int[]> a, Map<String, int[]> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (Map.Entry<String, int[]> e : a.entrySet()) {
            int[] o = b.get(e.getKey());
            if (o == null || o[0] != e.getValue()[0]) {
                return false;
            }
        }
        return true;
    }

    /**
     * The overrides in force, for the plan's {@code control} field; its sampling rates are every one after
     * {@code planStart} and the last {@link #SAMPLING_RATES_KEPT} before it (older ones are dropped from this state):
     * a router restored from this plan may still open windows from before its start.
     */
    public PlanControl view(long planStart) {
        java.util.NavigableMap<Long, Double> before = samplingRates.headMap(planStart, true);
        while (before.size() > SAMPLING_RATES_KEPT) {
            before.pollFirstEntry();
        }
        List<io.keyshift.avro.SamplingRateChange> rates = new ArrayList<>();
        samplingRates.forEach((from, rate) -> rates.add(new io.keyshift.avro.SamplingRateChange(from, rate)));
        return PlanControl.newBuilder().setFrozen(frozen).setPinnedKeys(new ArrayList<>(pinned))
                .setRollbackToVersion(rollbackVersion).setCommandsApplied(applied).setCommandsRejected(rejected)
                .setReverts(new ArrayList<>()).setHeldKeys(new ArrayList<>(holds.keySet()))
                .setForcedParallelism(forcedParallelism).setAnomalyZ(anomalyZ).setSamplingRates(rates).build();
    }

    /** The overrides in force, with every sampling rate this state knows. */
    public PlanControl view() {
        return view(Long.MIN_VALUE);
    }

    /** The rate of the last sampling-rate command applied, 0 without one. */
    public double samplingRate() {
        return samplingRate;
    }

    public boolean frozen() {
        return frozen;
    }

    /** The parallelism a scale command forces, 0 without one. */
    public int forcedParallelism() {
        return forcedParallelism;
    }

    public int pinnedKeys() {
        return pinned.size();
    }

    public long rollbackVersion() {
        return rollbackVersion;
    }

    public long applied() {
        return applied;
    }

    public long rejected() {
        return rejected;
    }

    /**
     * Serialized form, for operator state (version 5: 1 with strings as length-prefixed UTF-8, the forced parallelism,
     * the anomaly z, the sampling rates; 1 to 4 are read).
     */
    public byte[] toBytes() throws IOException {
        return toBytes(5);
    }

    /** As {@link #toBytes()} in format {@code version}, 4 (strings in modified UTF-8) or 5; 4 for tests of reading it. */
    byte[] toBytes(int version) throws IOException {
        if (version != 4 && version != 5) {
            throw new IllegalArgumentException("writes control state versions 4 and 5, not " + version);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(version);
            out.writeInt(pending.size());
            for (ControlCommand c : pending) {
                writeString(out, version, c.line());
            }
            out.writeInt(pinned.size());
            for (String k : pinned) {
                writeString(out, version, k);
            }
            out.writeBoolean(frozen);
            out.writeLong(rollbackVersion);
            writeRouting(out, version, rollbackTarget);
            out.writeInt(routings.size());
            for (Map.Entry<Long, Map<String, int[]>> r : routings.entrySet()) {
                out.writeLong(r.getKey());
                writeRouting(out, version, r.getValue());
            }
            out.writeLong(oldestRollbackVersion);
            out.writeLong(lastVersion);
            out.writeLong(applied);
            out.writeLong(rejected);
            out.writeInt(reverts.size());
            for (Map.Entry<String, int[]> e : reverts.entrySet()) {
                writeString(out, version, e.getKey());
                out.writeInt(e.getValue()[0]);
                out.writeInt(e.getValue()[1]);
                out.writeLong(revertSince.getOrDefault(e.getKey(), Long.MIN_VALUE));
                writeString(out, version, revertReasons.getOrDefault(e.getKey(), ""));
            }
            out.writeInt(holds.size());
            for (Map.Entry<String, Long> e : holds.entrySet()) {
                writeString(out, version, e.getKey());
                out.writeLong(e.getValue());
            }
            out.writeLong(revertsDone);
            out.writeInt(forcedParallelism);
            out.writeDouble(anomalyZ);
            out.writeDouble(samplingRate);
            out.writeInt(samplingRates.size());
            for (Map.Entry<Long, Double> e : samplingRates.entrySet()) {
                out.writeLong(e.getKey());
                out.writeDouble(e.getValue());
            }
        }
        return bytes.toByteArray();
    }

    /**
     * A waiting command's line as a checkpoint holds it. Builds before 2026-12-03 wrote a revert's reason with a line
     * break unquoted when they rewrote its key, which no longer reads as one CSV line: such a line is read with its
     * line breaks as blanks (only the reason's text changes), so that the state restores.
     */
    static ControlCommand pendingCommand(String line) {
        return ControlCommand.parseKept(line);
    }

    /** Reads {@link #toBytes()}. */
    public static ControlState fromBytes(byte[] b, int maxRoutings) throws IOException {
        ControlState s = new ControlState(maxRoutings);
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(b))) {
            int version = in.readInt();
            if (version < 1 || version > 5) {
                throw new IOException("unknown control state version " + version);
            }
            for (int i = in.readInt(); i > 0; i--) {
                s.pending.add(pendingCommand(readString(in, version)));
            }
            for (int i = in.readInt(); i > 0; i--) {
                s.pinned.add(readString(in, version));
            }
            s.frozen = in.readBoolean();
            s.rollbackVersion = in.readLong();
            s.rollbackTarget = readRouting(in, version);
            for (int i = in.readInt(); i > 0; i--) {
                long v = in.readLong();
                s.routings.put(v, readRouting(in, version));
            }
            s.oldestRollbackVersion = in.readLong();
            s.lastVersion = in.readLong();
            s.applied = in.readLong();
            s.rejected = in.readLong();
            // the first builds with a control input (2026-11-29) wrote version 1 without reverts and holds
            if (version > 1 || in.available() > 0) {
                for (int i = in.readInt(); i > 0; i--) {
                    String k = readString(in, version);
                    s.reverts.put(k, new int[] {in.readInt(), in.readInt()});
                    s.revertSince.put(k, in.readLong());
                    s.revertReasons.put(k, readString(in, version));
                }
                for (int i = in.readInt(); i > 0; i--) {
                    String k = readString(in, version);
                    s.holds.put(k, in.readLong());
                }
                s.revertsDone = in.readLong();
            }
            if (version >= 2) {
                s.forcedParallelism = in.readInt();
            }
            if (version >= 3) {
                s.anomalyZ = in.readDouble();
            }
            if (version >= 4) {
                s.samplingRate = in.readDouble();
                for (int i = in.readInt(); i > 0; i--) {
                    s.samplingRates.put(in.readLong(), in.readDouble());
                }
            } else {
                // sampling-rate commands still pending in an older state
                for (ControlCommand c : s.pending) {
                    if (c.type() == ControlCommand.Type.SAMPLING_RATE && c.at() != ControlCommand.NOW) {
                        s.samplingRates.put(c.at(), c.samplingRate());
                    }
                }
            }
        }
        return s;
    }

    private static void writeRouting(DataOutputStream out, int version, Map<String, int[]> r) throws IOException {
        if (r == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(r.size());
        for (Map.Entry<String, int[]> e : new TreeMap<>(r).entrySet()) {
            writeString(out, version, e.getKey());
            out.writeInt(e.getValue()[0]);
            out.writeInt(e.getValue()[1]);
        }
    }

    /** A string as length-prefixed UTF-8 (keys and command lines of any length; writeUTF refuses over 65,535 bytes). */
    private static void writeString(DataOutputStream out, int version, String s) throws IOException {
        if (version < 5) {
            out.writeUTF(s);
            return;
        }
        byte[] bytes = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    /** A string as {@code version} wrote it: length-prefixed UTF-8 from version 5, modified UTF-8 before. */
    private static String readString(DataInputStream in, int version) throws IOException {
        if (version < 5) {
            return in.readUTF();
        }
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static Map<String, int[]> readRouting(DataInputStream in, int version) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        Map<String, int[]> r = new HashMap<>();
        for (int i = 0; i < n; i++) {
            String k = readString(in, version);
            r.put(k, new int[] {in.readInt(), in.readInt()});
        }
        return r;
    }
}
