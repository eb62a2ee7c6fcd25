package io.keyshift.route;

import io.keyshift.avro.Migration;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.avro.Split;
import io.keyshift.avro.SplitSpread;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The routing function of one {@link RoutingPlan} version, indexed by user key for the per-record hot path.
 *
 * <p>For a record of user key {@code k} at event time {@code t < validUntil()} (see ../shared/DESIGN.md, "Migration:
 * event-time fenced, shadowed, deterministic"):
 * <ol>
 *   <li>a key without an entry stays in its natural key group (PRIMARY);</li>
 *   <li>a retired migration of the entry with {@code t < switchAt} routes as that migration did;</li>
 *   <li>a split routes {@code t >= from} to one of its key groups (PARTIAL, spread by the caller's counter; a time
 *       before an earlier spread's {@code until} to one of that spread's key groups: a key spread anew at another
 *       parallelism) and {@code preRollFrom <= t < from} to the entry's key group (PARTIAL);</li>
 *   <li>a migration routes {@code t < T0} to its old key group (PRIMARY), {@code T0 <= t < T1} to the old one
 *       (MIGRATING) and the new one (SHADOW), {@code t >= T1} to the new one (PRIMARY);</li>
 *   <li>else the entry's key group (PRIMARY).</li>
 * </ol>
 * A folded migration stays in {@code retired} for one more plan only, so a record must be routed by the first
 * version whose lease covers it: routers apply versions strictly in order and never skip one.
 *
 * @param <K> the user key type
 */
public final class RoutingTable<K> {
    static {
        io.keyshift.config.AvroTrust.install();
    }
    private final long version;
    private final long validUntil;
    /** By user key, or by pseudonym for a codec that is not reversible. */
    private final Map<Object, Entry> entries;
    /**
     * A one-hash Bloom filter of the entries' keys, by {@link #filterBit(int, int)} of their hashCode: most records
     * of a key without an entry are routed after one read of this small array, without a lookup in {@link #entries}
     * (16 to 32 bits per entry from 4 entries to a million, at least 64 bits in all: about 1 in 16 or fewer of them
     * reaches the lookup).
     */
    private final long[] filter;
    /** {@code 32 - log2(filter bits)}: the shift of {@link #filterBit(int, int)}. */
    private final int filterShift;

    private RoutingTable(long version, long validUntil, Map<Object, Entry> entries) {
        this.version = version;
        this.validUntil = validUntil;
        this.entries = entries;
        // a power of 2 in [64, 2^24] (2 MiB at most; beyond a million entries more of them reach the lookup)
        int want = (int) Math.min(1 << 24, Math.max(64L, entries.size() * 16L));
        int bits = Integer.highestOneBit(want - 1) << 1;
        this.filter = new long[bits >>> 6];
        this.filterShift = 32 - Integer.numberOfTrailingZeros(bits);
        for (Object k : entries.keySet()) {
            int b = filterBit(k.hashCode(), filterShift);
            filter[b >>> 6] |= 1L << b;
        }
    }

    /** The filter bit of a key's hashCode: Fibonacci hashing (Knuth, TAOCP vol. 3, 6.4) to {@code 32 - shift} bits. */
    private static int filterBit(int hashCode, int shift) {
        return (hashCode * 0x9E3779B9) >>> shift;
    }

    /** The table before any plan arrived: no lease, so every record waits. */
    public static <K> RoutingTable<K> empty() {
        return new RoutingTable<>(0L, Long.MIN_VALUE, Map.of());
    }

    /**
     * The table before any plan arrived at a router that routes the records earlier than {@code until} (epoch ms,
     * exclusive) to their natural key groups at once (version 0, no entries; the first plan's migrations start at
     * or after it); {@link #empty()} for Long.MIN_VALUE.
     */
    public static <K> RoutingTable<K> naturalUntil(long until) {
        return new RoutingTable<>(0L, until, Map.of());
    }

    /**
     * Indexes {@code plan}, turning its key ids back into keys with {@code codec} (or, for a codec that is not
     * {@link KeyCodec#reversible() reversible}, by {@link KeyPseudonym}); every epoch 0.
     */
    public static <K> RoutingTable<K> of(RoutingPlan plan, KeyCodec<K> codec) {
        return of(plan, codec, false);
    }

    /**
     * Indexes {@code plan}.
     *
     * @param epochs route to the plan's epochs (stages whose state outlives a window: keyed process functions); else
     *               every epoch is 0 (windows: a stay's windows never overlap another stay's)
     */
    public static <K> RoutingTable<K> of(RoutingPlan plan, KeyCodec<K> codec, boolean epochs) {
        Map<Object, Entry> index = new HashMap<>(Math.max(16, plan.getEntries().size() * 2));
        boolean byKey = codec.reversible();
        for (RouteEntry e : plan.getEntries()) {
            index.put(byKey ? codec.key(e.getKey()) : KeyPseudonym.of(e.getKey()), new Entry(e, epochs));
        }
        return new RoutingTable<>(plan.getVersion(), plan.getValidUntil(), index);
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

    /** Number of explicit entries (the routing table's size besides the natural routes). */
    public int size() {
        return entries.size();
    }

    /**
     * Writes the route of a record of {@code key} at event time {@code t} into {@code out}.
     *
     * @param key the user key, or its {@link KeyPseudonym} where the table was indexed with a codec that is not
     *            reversible
     * @param naturalKeyGroup the key's natural key group, used when the plan has no entry for it
     * @param spread a per-record counter that spreads a split key's records over its key groups
     */
    public void route(Object key, long t, int naturalKeyGroup, long spread, Route out) {
        int b = filterBit(key.hashCode(), filterShift);
        if ((filter[b >>> 6] & 1L << b) == 0) {
            out.primary(naturalKeyGroup, 0, Role.PRIMARY);
            return;
        }
        Entry e = entries.get(key);
        if (e == null || e.natural != naturalKeyGroup && e.natural >= 0) {
            // no entry; or an entry of another natural key group: the plan's entry is not this key's, which stays
            // home. A pseudonym shared with a key of another natural key group (a collision), or a String key that
            // the plan's Avro could not carry (an unpaired surrogate, written as '?': the entry names another
            // string, which may be a key of the job). A key whose name it shares within its own natural key group
            // moves with it: either way each key is routed by a function of itself, so results stay exact
            out.primary(naturalKeyGroup, 0, Role.PRIMARY);
            return;
        }
        e.route(t, spread, out);
    }

    /** Where one record goes: the authoritative copy and, during a shadow phase, the shadow copy. Mutable, reused. */
    public static final class Route {
        /** Key group of the authoritative copy. */
        public int primary;
        /** Epoch of the key's stay in the primary key group. */
        public int primaryEpoch;
        /** Epoch of the key's stay in the shadow key group (the migration's plan version). */
        public int shadowEpoch;
        /** PRIMARY, MIGRATING or PARTIAL. */
        public Role role;
        /** Key group of the shadow copy, or -1 for none. */
        public int shadow;
        /** T0 and T1 of the migration (role MIGRATING). */
        public long shadowFrom;
        public long switchAt;

        void primary(int keyGroup, int epoch, Role r) {
            primary = keyGroup;
            primaryEpoch = epoch;
            role = r;
            shadow = -1;
        }

        void migrating(int from, int fromEpoch, int to, int toEpoch, long t0, long t1) {
            primary = from;
            primaryEpoch = fromEpoch;
            role = Role.MIGRATING;
            shadow = to;
            shadowEpoch = toEpoch;
            shadowFrom = t0;
            switchAt = t1;
        }
    }

    /** A migration's key groups and times (the plan's Migration, unpacked). */
    private record Move(int from, int fromEpoch, int to, int toEpoch, long shadowFrom, long switchAt) {
        static Move of(Migration m, int defaultFrom, int defaultFromEpoch, boolean epochs) {
            return new Move(m.getFromKeyGroup() >= 0 ? m.getFromKeyGroup() : defaultFrom,
                    !epochs ? 0 : m.getFromKeyGroup() >= 0 ? (int) m.getFromEpoch() : defaultFromEpoch,
                    m.getToKeyGroup(), epochs ? (int) m.getPlannedInVersion() : 0, m.getShadowFrom(), m.getSwitchAt());
        }

        void route(long t, Route out) {
            if (t >= switchAt) {
                out.primary(to, toEpoch, Role.PRIMARY);
            } else if (t >= shadowFrom) {
                out.migrating(from, fromEpoch, to, toEpoch, shadowFrom, switchAt);
            } else {
                out.primary(from, fromEpoch, Role.PRIMARY);
            }
        }
    }

    private static final class Entry {
        /** The key's natural key group, -1 in plans before format 2. */
        final int natural;
        final int keyGroup;
        final int epoch;
        final int splitEpoch;
        final Move migration;
        final Move[] retired;
        final int[] splitGroups;
        final long splitFrom;
        final long splitPreRollFrom;
        /** The split's earlier spreads' ends, ascending, and their key groups (empty: spread once). */
        final long[] earlierUntil;
        final int[][] earlierGroups;

        Entry(RouteEntry e, boolean epochs) {
            natural = e.getNaturalKeyGroup();
            keyGroup = e.getKeyGroup();
            epoch = epochs ? (int) e.getEpoch() : 0;
            Migration m = e.getMigration();
            migration = m == null ? null : Move.of(m, keyGroup, epoch, epochs);
            List<Move> old = new ArrayList<>();
            if (e.getRetired() != null) {
                for (Migration r : e.getRetired()) {
                    old.add(Move.of(r, keyGroup, epoch, epochs));
                }
            }
            old.sort(Comparator.comparingLong(Move::switchAt));
            retired = old.toArray(new Move[0]);
            Split s = e.getSplit();
            if (s != null) {
                splitGroups = s.getKeyGroups().stream().mapToInt(Integer::intValue).toArray();
                splitFrom = s.getFrom();
                splitPreRollFrom = s.getPreRollFrom() == Long.MIN_VALUE ? s.getFrom() : s.getPreRollFrom();
                splitEpoch = epochs ? (int) s.getPlannedInVersion() : 0;
                List<SplitSpread> earlier = s.getEarlier() == null ? List.of() : new ArrayList<>(s.getEarlier());
                earlier.sort(Comparator.comparingLong(SplitSpread::getUntil));
                earlierUntil = new long[earlier.size()];
                earlierGroups = new int[earlier.size()][];
                for (int i = 0; i < earlierUntil.length; i++) {
                    earlierUntil[i] = earlier.get(i).getUntil();
                    earlierGroups[i] = earlier.get(i).getKeyGroups().stream().mapToInt(Integer::intValue).toArray();
                }
            } else {
                splitEpoch = 0;
                splitGroups = null;
                splitFrom = Long.MAX_VALUE;
                splitPreRollFrom = Long.MAX_VALUE;
                earlierUntil = null;
                earlierGroups = null;
            }
        }

        void route(long t, long spread, Route out) {
            for (Move r : retired) {
                if (t < r.switchAt) {
                    r.route(t, out);
                    return;
                }
            }
            if (t >= splitFrom) {
                int[] groups = splitGroups;
                for (int i = 0; i < earlierUntil.length; i++) {
                    if (t < earlierUntil[i]) {
                        groups = earlierGroups[i];
                        break;
                    }
                }
                out.primary(groups[(int) Long.remainderUnsigned(mix(spread), groups.length)], splitEpoch,
                        Role.PARTIAL);
                return;
            }
            if (t >= splitPreRollFrom) {
                out.primary(keyGroup, splitEpoch, Role.PARTIAL);
                return;
            }
            if (migration != null) {
                migration.route(t, out);
                return;
            }
            out.primary(keyGroup, epoch, Role.PRIMARY);
        }
    }

    /** SplitMix64's finalizer: spreads consecutive counters evenly over a split's key groups. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
