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

    /** An iterator over part of the space that may hold resources. */
    interface Cursor extends Iterator<Event>, AutoCloseable {
        @Override
        void close() throws IOException;
    }
}
