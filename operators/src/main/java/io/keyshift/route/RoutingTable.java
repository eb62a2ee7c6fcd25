package io.keyshift.route;

import io.keyshift.avro.Migration;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;

import java.util.HashMap;
import java.util.Map;

/**
 * The routing function of one {@link RoutingPlan} version, indexed for the per-record hot path.
 *
 * <p>For a record of user key {@code k} at event time {@code t < validUntil()}: a key without an entry stays in its
 * natural key group; an entry without a migration routes to its key group; an entry with a migration routes
 * {@code t < shadowFrom} to the old key group, {@code shadowFrom <= t < switchAt} to the old key group (PRIMARY)
 * and the new one (SHADOW), and {@code t >= switchAt} to the new one (PRIMARY). See ../shared/DESIGN.md,
 * "Migration: event-time fenced, shadowed, deterministic".
 *
 * <p>{@link #route} returns both key groups packed in a long so that the hot path allocates nothing: use
 * {@link #primary(long)} and {@link #shadow(long)} ({@code -1} = no shadow copy).
 */
public final class RoutingTable {
    private static final RoutingTable EMPTY = new RoutingTable(0L, Long.MIN_VALUE, new HashMap<>());

    private final long version;
    private final long validUntil;
    private final Map<String, RouteEntry> entries;

    private RoutingTable(long version, long validUntil, Map<String, RouteEntry> entries) {
        this.version = version;
        this.validUntil = validUntil;
        this.entries = entries;
    }

    /** The table before any plan arrived: no lease, so every record waits. */
    public static RoutingTable empty() {
        return EMPTY;
    }

    /** Indexes {@code plan}; entries are looked up by user key. */
    public static RoutingTable of(RoutingPlan plan) {
        Map<String, RouteEntry> index = new HashMap<>(Math.max(16, plan.getEntries().size() * 2));
        for (RouteEntry e : plan.getEntries()) {
            index.put(e.getKey(), e);
        }
        return new RoutingTable(plan.getVersion(), plan.getValidUntil(), index);
    }

    /** Plan version, 0 for {@link #empty()}. */
    public long version() {
        return version;
    }

    /** Lease end: records with event time {@code >= validUntil()} must wait for a later plan. */
    public long validUntil() {
        return validUntil;
    }

    /** True if this plan's lease covers event time {@code t}. */
    public boolean covers(long t) {
        return t < validUntil;
    }

    /** The entry of {@code key}, or null. */
    RouteEntry entry(String key) {
        return entries.get(key);
    }

    /** Number of explicit entries (the routing table's size, besides the natural routes). */
    public int size() {
        return entries.size();
    }

    /**
     * Key groups for user key {@code key} at event time {@code t}.
     *
     * @param naturalKeyGroup the key's natural key group, used when the plan has no entry for it
     * @return primary and shadow key group packed; decode with {@link #primary(long)} / {@link #shadow(long)}
     */
    public long route(String key, long t, int naturalKeyGroup) {
        return route(key, t, naturalKeyGroup, 0);
    }

    /**
     * As {@link #route(String, long, int)}; a split key's record at or after the split's start goes to one of the
     * split's key groups, chosen by a hash of {@code sequence}, with shadow {@link #PARTIAL} (no shadow copy).
     */
    public long route(String key, long t, int naturalKeyGroup, long sequence) {
        RouteEntry e = entries.get(key);
        if (e == null) {
            return pack(naturalKeyGroup, -1);
        }
        io.keyshift.avro.Split split = e.getSplit();
        if (split != null && t >= split.getFrom()) {
            java.util.List<Integer> groups = split.getKeyGroups();
            return pack(groups.get((int) Long.remainderUnsigned(mix(sequence), groups.size())), PARTIAL);
        }
        Migration m = e.getMigration();
        if (m == null || t < m.getShadowFrom()) {
            return pack(e.getKeyGroup(), -1);
        }
        if (t < m.getSwitchAt()) {
            return pack(e.getKeyGroup(), m.getToKeyGroup());
        }
        return pack(m.getToKeyGroup(), -1);
    }

    /** Shadow value of a split key's route: the primary is a PARTIAL copy, there is no shadow. */
    public static final int PARTIAL = -2;

    /** SplitMix64 finalizer: spreads consecutive sequence numbers evenly over a split's key groups. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public static int primary(long route) {
        return (int) (route >>> 32);
    }

    public static int shadow(long route) {
        return (int) route;
    }

    static long pack(int primary, int shadow) {
        return ((long) primary << 32) | (shadow & 0xFFFFFFFFL);
    }
}
