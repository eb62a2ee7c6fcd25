package io.keyshift.migration;

/**
 * Whether the user code that keyshift is calling right now runs for a shadow: a copy of a migrating key's records
 * (or a result from them) at its new owner before the switch-over, whose outputs are compared with the primary's and
 * then dropped. Read it through {@link io.keyshift.api.Keyshift#isShadowCopy()}. A thread-local flag, clear outside
 * keyshift's calls into user code and set around those made for a shadow (a call for a primary leaves it alone: no
 * thread-local lookup per primary record).
 */
public final class ShadowScope {
    private static final ThreadLocal<boolean[]> FLAG = ThreadLocal.withInitial(() -> new boolean[1]);

    private ShadowScope() {}

    /** True while keyshift runs user code for a shadow copy. */
    public static boolean active() {
        return FLAG.get()[0];
    }

    /** Sets the flag; returns the previous value, to be restored with {@link #exit}. */
    static boolean enter(boolean shadow) {
        boolean[] f = FLAG.get();
        boolean before = f[0];
        f[0] = shadow;
        return before;
    }

    static void exit(boolean before) {
        FLAG.get()[0] = before;
    }
}
