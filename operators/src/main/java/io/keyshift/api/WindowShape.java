package io.keyshift.api;

import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.api.windowing.windows.Window;
import org.apache.flink.util.InstantiationUtil;

import java.util.Collection;

/**
 * What keyshift needs to know of a user's window assigner: the windows' size, slide and offset (ms), from which the
 * state horizon (size + allowed lateness) and whether windows fall on planning-window boundaries follow.
 *
 * <p>Supported: {@link TumblingEventTimeWindows} and {@link SlidingEventTimeWindows} themselves (aligned, not
 * staggered; not subclasses, which may assign windows of other sizes). Refused, with the reason: merging windows
 * (sessions, dynamic gaps: a session has no bounded length, so no shadow phase is known to
 * cover it), processing-time windows (keyshift routes by event time, so a processing-time window of a migrating key
 * would hold different records at its old and new owner), staggered windows (their offset differs per subtask) and
 * any other assigner (its state horizon is unknown).
 */
record WindowShape(long size, long slide, long offset) {

    static WindowShape of(WindowAssigner<?, ? extends Window> assigner) {
        String name = assigner.getClass().getSimpleName();
        if (assigner instanceof org.apache.flink.streaming.api.windowing.assigners.MergingWindowAssigner<?, ?>) {
            throw new IllegalArgumentException("keyshift refuses session windows (" + name + "): a session has no "
                    + "bounded length, so no shadow phase is known to cover a migrating key's open session. Use "
                    + "tumbling or sliding event-time windows, or a keyed process function with a declared state "
                    + "horizon.");
        }
        if (assigner instanceof org.apache.flink.streaming.api.windowing.assigners.GlobalWindows) {
            throw new IllegalArgumentException("keyshift refuses global windows (" + name + "): a global window never "
                    + "ends, so no shadow phase is known to cover a migrating key's window. Use tumbling or sliding "
                    + "event-time windows, or a keyed process function with a declared state horizon.");
        }
        if (!assigner.isEventTime()) {
            throw new IllegalArgumentException("keyshift refuses processing-time windows (" + name + "): it routes "
                    + "records by event time, so a processing-time window of a migrating key would hold different "
                    + "records at its old and new owner. Use event-time windows.");
        }
        if (assigner.getClass() != TumblingEventTimeWindows.class
                && assigner.getClass() != SlidingEventTimeWindows.class) {
            // a subclass of either may assign windows of other sizes than the one probed below
            throw new IllegalArgumentException("keyshift supports TumblingEventTimeWindows and SlidingEventTimeWindows; "
                    + name + " has no state horizon keyshift knows");
        }
        // fresh copies at several processing times: a staggered assigner takes its offset from the processing time
        // (NATURAL: any two of these differ unless the size is 1 ms) or draws it at random (RANDOM: all eight copies
        // agree with chance size^-7) when it assigns its first window, as each subtask's copy does
        TimeWindow a = first(assigner, 0L);
        boolean staggered = false;
        for (long now : new long[] {1L, 2L, 3L, 5L, 8L, 13L, 123_456_789L}) {
            TimeWindow b = first(assigner, now);
            if (a == null || b == null) {
                throw new IllegalArgumentException("cannot inspect the window assigner " + assigner + ": it gives no "
                        + "window to any event time it was probed with");
            }
            staggered |= a.getStart() != b.getStart();
        }
        if (staggered) {
            throw new IllegalArgumentException("keyshift refuses staggered windows (" + name + "): their offset differs "
                    + "per subtask, so a migrating key's windows would differ at its old and new owner");
        }
        long size = a.getEnd() - a.getStart();
        long slide = assigner instanceof SlidingEventTimeWindows s ? s.getSlide() : size;
        return new WindowShape(size, slide, Math.floorMod(a.getStart(), slide));
    }

    /**
     * The earliest window a fresh copy of the assigner gives an element at the first event time from 0 on (in steps
     * of the window size, up to a slide: hopping windows, whose slide exceeds their size, give event times in their
     * gaps none) that has one, at processing time {@code now}; null if none does.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static TimeWindow first(WindowAssigner<?, ?> assigner, long now) {
        try {
            WindowAssigner copy = InstantiationUtil.clone(assigner, assigner.getClass().getClassLoader());
            long step = assigner instanceof SlidingEventTimeWindows s ? s.getSize() : Long.MAX_VALUE;
            long until = assigner instanceof SlidingEventTimeWindows s ? s.getSlide() : 1;
            TimeWindow earliest = null;
            for (long t = 0; earliest == null && t < until; t = step > until - t ? until : t + step) {
                Collection<TimeWindow> ws = copy.assignWindows(null, t, new WindowAssigner.WindowAssignerContext() {
                    @Override
                    public long getCurrentProcessingTime() {
                        return now;
                    }
                });
                for (TimeWindow w : ws) {
                    if (earliest == null || w.getStart() < earliest.getStart()) {
                        earliest = w;
                    }
                }
            }
            return earliest;
        } catch (Exception e) {
            throw new IllegalArgumentException("cannot inspect the window assigner " + assigner, e);
        }
    }

    /**
     * State horizon: how far a window's state reaches back, size + allowed lateness (ms).
     *
     * @throws IllegalArgumentException above {@link #MAX_STATE_HORIZON} (an allowed lateness meant as "never drop"
     *                                  must not overflow the event-time arithmetic of migrations)
     */
    long horizon(long allowedLateness) {
        long h;
        try {
            h = Math.addExact(size, allowedLateness);
        } catch (ArithmeticException e) {
            h = Long.MAX_VALUE;
        }
        checkHorizon(h, "window size + allowed lateness");
        return h;
    }

    /**
     * The longest state horizon keyshift takes: 36,500 days. A migrated key's earlier stay is kept, and its
     * switch-over and validation are timed, this far in event time; far beyond any real lateness, far below overflow.
     */
    static final java.time.Duration MAX_STATE_HORIZON = io.keyshift.config.JobOptions.MAX_STATE_HORIZON;

    /** IllegalArgumentException naming {@code what} if {@code horizonMillis} exceeds {@link #MAX_STATE_HORIZON}. */
    static void checkHorizon(long horizonMillis, String what) {
        if (horizonMillis > MAX_STATE_HORIZON.toMillis()) {
            throw new IllegalArgumentException(what + " must be at most " + MAX_STATE_HORIZON.toDays() + " days (the "
                    + "state horizon over which keyshift keeps a migrated key's earlier state), was " + horizonMillis
                    + " ms");
        }
    }

    /** The windows whose results a shadow phase compares, as the planner sees them. */
    io.keyshift.plan.RepartitionPlanner.ComparedWindows compared() {
        return new io.keyshift.plan.RepartitionPlanner.ComparedWindows(size, slide, offset);
    }

    /** True if every planning-window boundary is a window boundary (tumbling, offset 0, size divides the planning window). */
    boolean alignedWith(long planningWindow) {
        return size == slide && offset == 0 && planningWindow % size == 0;
    }
}
