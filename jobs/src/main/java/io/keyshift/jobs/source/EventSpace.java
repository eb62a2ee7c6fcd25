package io.keyshift.jobs.source;

import io.keyshift.jobs.event.Event;

import java.io.IOException;
import java.io.Serializable;
import java.util.Iterator;

/**
 * A sequence of events in non-decreasing event time, addressable by index: the records a {@link StridedSource}
 * reads. Index i's event must be a pure function of i (same in every run and at every parallelism).
 */
public interface EventSpace extends Serializable {
    /** Number of events; Long.MAX_VALUE for an unbounded space. */
    long size();

    /**
     * Events {@code offset + stride * k} for {@code k = position, position + 1, ...} while below {@link #size()}.
     * The iterator may hold a file open: close it through {@link AutoCloseable} when done.
     */
    Cursor open(int offset, int stride, long position) throws IOException;

    /**
     * A digest of what the events are, never 0 (0: not known), kept with every split's read position in checkpoints
     * and savepoints: a restore into a space of another fingerprint (a file job's {@code --input} or input options
     * changed, or another generator) would resume at positions of other events, and the source refuses it (see
     * {@link StridedSource}). Not of {@link #size()} where event i does not depend on it.
     */
    default long fingerprint() {
        return 0;
    }

    /** An iterator over part of the space that may hold resources. */
    interface Cursor extends Iterator<Event>, AutoCloseable {
        /** {@link #emitting}'s due time of a record that a source at full speed emits: none but now. */
        long UNSCHEDULED = Long.MIN_VALUE;

        @Override
        void close() throws IOException;

        /**
         * Called by the source with an event this cursor returned, just before the source emits it (after any
         * throttling wait): the source reads each cursor one event ahead, to merge the cursors by event time, so
         * {@link #next()} runs one record before the emission. Does nothing by default.
         *
         * @param dueNanos for a throttled source, the {@code System.nanoTime()} at which its schedule made this
         *     record due: the moment a record of the offered load arrives, at or before now (a source held back
         *     by backpressure emits late and catches up); {@link #UNSCHEDULED} for a source at full speed
         */
        default void emitting(Event e, long dueNanos) {
        }
    }

    /** A cursor that hands every call on to another: a wrapper overrides what it adds (its {@link #emitting}). */
    class ForwardingCursor implements Cursor {
        private final Cursor inner;

        public ForwardingCursor(Cursor inner) {
            this.inner = inner;
        }

        @Override
        public boolean hasNext() {
            return inner.hasNext();
        }

        @Override
        public Event next() {
            return inner.next();
        }

        @Override
        public void emitting(Event e, long dueNanos) {
            inner.emitting(e, dueNanos);
        }

        @Override
        public void close() throws IOException {
            inner.close();
        }
    }
}
