package io.keyshift.migration;

import io.keyshift.route.Envelope;
import io.keyshift.route.Role;

/**
 * What the copies in one window of one routing key (user key, key group) say about who owns the key there, from
 * which the window's result is judged (../shared/DESIGN.md, "which result counts"): a result at event time {@code m}
 * (a window's max timestamp) is authoritative at this key group iff {@code ownedFrom <= m < ownedUntil}, and never
 * when the window holds PARTIAL copies (a split key's partial aggregate, merged downstream).
 *
 * <ul>
 *   <li>a MIGRATING copy (old owner, shadow phase) bounds ownership to {@code t < T1};</li>
 *   <li>a SHADOW copy (new owner, shadow phase) starts ownership at T1;</li>
 *   <li>PRIMARY copies say nothing beyond the record's own time (they are authoritative where they are).</li>
 * </ul>
 *
 * A window of the old owner whose max timestamp reaches T1 always holds a MIGRATING copy (its records from
 * [T0, T1) reached it as MIGRATING, and with T1 - T0 >= the state horizon it has no record before T0), and a window of
 * the new owner that ends before T1 holds only SHADOW copies; so these bounds decide every window. Mutable.
 */
public final class Ownership implements java.io.Serializable {
    private static final long serialVersionUID = 1L;

    static final int PRIMARY = 1;
    static final int MIGRATING = 2;
    static final int SHADOW = 4;
    static final int PARTIAL = 8;
    /** Not a role: a MIGRATING or SHADOW copy that was late at its router ({@link Envelope#late}) is in the window. */
    static final int LATE = 16;

    /** Bits of the roles seen. */
    public int roles;
    /** Ownership starts here (epoch ms): the largest T1 of the SHADOW copies seen, else Long.MIN_VALUE. */
    public long ownedFrom = Long.MIN_VALUE;
    /** Ownership ends here (exclusive): the smallest T1 of the MIGRATING copies seen, else Long.MAX_VALUE. */
    public long ownedUntil = Long.MAX_VALUE;
    /** The largest T0 of the MIGRATING and SHADOW copies seen, else Long.MIN_VALUE. */
    public long shadowFrom = Long.MIN_VALUE;

    public Ownership() {}

    /** Takes one copy into account. */
    public void observe(Envelope<?, ?> e) {
        observe(e.role, e.shadowFrom, e.switchAt);
        if (e.late && (e.role == Role.MIGRATING || e.role == Role.SHADOW)) {
            roles |= LATE;
        }
    }

    void observe(Role role, long t0, long t1) {
        switch (role) {
            case PRIMARY -> roles |= PRIMARY;
            case MIGRATING -> {
                roles |= MIGRATING;
                ownedUntil = Math.min(ownedUntil, t1);
                shadowFrom = Math.max(shadowFrom, t0);
            }
            case SHADOW -> {
                roles |= SHADOW;
                ownedFrom = Math.max(ownedFrom, t1);
                shadowFrom = Math.max(shadowFrom, t0);
            }
            case PARTIAL -> roles |= PARTIAL;
            default -> throw new IllegalArgumentException("a window cannot hold a " + role + " envelope");
        }
    }

    /** Merges another window's ownership into this one (merging windows). */
    public void merge(Ownership o) {
        roles |= o.roles;
        ownedFrom = Math.max(ownedFrom, o.ownedFrom);
        ownedUntil = Math.min(ownedUntil, o.ownedUntil);
        shadowFrom = Math.max(shadowFrom, o.shadowFrom);
    }

    public boolean partial() {
        return (roles & PARTIAL) != 0;
    }

    /**
     * True if the window holds a shadow phase's copy of a record that was late at its router: the other owner may
     * have fired the window without it (or taken it into another firing), so its check may differ for no fault.
     */
    public boolean lateRecord() {
        return (roles & LATE) != 0;
    }

    /** True if a result at event time {@code t} from these copies is authoritative. */
    public boolean owns(long t) {
        return !partial() && ownedFrom <= t && t < ownedUntil;
    }

    /**
     * Which side of a shadow-versus-primary check a result of a window {@code [start, end)} is on, or null if it is
     * not compared: the old owner's authoritative results and the new owner's shadow results of windows that lie in
     * the shadow phase (start >= T0, so the shadow saw all of them).
     */
    public CheckSide checkSide(long start, long maxTimestamp) {
        if (partial() || start < shadowFrom || shadowFrom == Long.MIN_VALUE) {
            return null;
        }
        boolean owns = owns(maxTimestamp);
        if (owns && (roles & MIGRATING) != 0 && (roles & SHADOW) == 0) {
            return CheckSide.PRIMARY;
        }
        if (!owns && (roles & SHADOW) != 0 && (roles & MIGRATING) == 0 && maxTimestamp < ownedFrom) {
            return CheckSide.SHADOW;
        }
        return null;
    }

    /** The two sides of a shadow check. */
    public enum CheckSide { PRIMARY, SHADOW }

    @Override
    public String toString() {
        return "Ownership{roles=" + roles + ", [" + ownedFrom + ", " + ownedUntil + "), T0=" + shadowFrom + '}';
    }
}
