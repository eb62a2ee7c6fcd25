package io.keyshift.migration;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Whether the user code that keyshift is calling right now runs for a shadow: a copy of a migrating key's records
 * (or a result from them) at its new owner before the switch-over, whose outputs are compared with the primary's and
 * then dropped. Read it through {@link io.keyshift.api.Keyshift#isShadowCopy()}. A thread-local flag, clear outside
 * keyshift's calls into user code and set around those made for a shadow (a call for a primary leaves it alone: no
 * thread-local lookup per primary record). {@link #active()} reads the thread-local only while some thread of the JVM
 * has its flag set: a count of such threads, changed only when a flag changes (around shadow calls), gates it, so
 * the common case (no migration in its shadow phase) costs a user function's check one volatile read.
 */
public final class ShadowScope {
    private static final ThreadLocal<boolean[]> FLAG = ThreadLocal.withInitial(() -> new boolean[1]);
    /** Threads whose flag is set. */
    private static final AtomicInteger SET = new AtomicInteger();

    private ShadowScope() {}

    /** True while keyshift runs user code for a shadow copy. */
    public static boolean active() {
        return SET.get() != 0 && FLAG.get()[0];
    }

    /** Sets the flag; returns the previous value, to be restored with {@link #exit}. */
    static boolean enter(boolean shadow) {
        boolean[] f = FLAG.get();
        boolean before = f[0];
        set(f, shadow);
        return before;
    }

    static void exit(boolean before) {
        set(FLAG.get(), before);
    }

    private static void set(boolean[] f, boolean value) {
        if (f[0] != value) {
            // count first when setting, last when clearing: active() never misses a set flag of its own thread
            if (value) {
                SET.incrementAndGet();
                f[0] = true;
            } else {
                f[0] = false;
                SET.decrementAndGet();
            }
        }
    }
}
