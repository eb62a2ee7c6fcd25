package io.keyshift.jobs.source;

import io.keyshift.jobs.event.Event;

import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.core.io.InputStatus;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;

import io.keyshift.jobs.replay.ReplayScalingGate;

/**
 * Reads its strided splits, merged by event time, ties in the input's order (by the records' sequence: the order of
 * the sorted input, which one split per reader reads; by split offset they read split by split after a restore gave a
 * reader several); optionally throttled per split; optionally
 * in lockstep with a {@link ReplayScalingGate}: records below the gate's bound, then the first one at or past it
 * (its timestamp carries the watermark over the bound), then nothing until the bound moves (the reader reports
 * NOTHING_AVAILABLE with a future, so the task's mailbox, watermarks and checkpoints go on).
 */
final class StridedSourceReader implements SourceReader<Event, StrideSplit> {
    private final EventSpace space;
    /** The source's rate over all its splits (0: full speed). */
    private final double recordsPerSecond;
    private final String progressId;
    private final PriorityQueue<Cursor> queue = new PriorityQueue<>(
            Comparator.comparingLong((Cursor c) -> c.next.timestamp).thenComparingLong(c -> c.next.sequence)
                    .thenComparingInt(c -> c.split.offset()));
    private CompletableFuture<Void> available = new CompletableFuture<>();
    private boolean noMoreSplits;
    private long emitted;
    private final ReplayScalingGate.Gate gate;
    /** The gate bound this reader has already emitted its one record past (Long.MIN_VALUE: none). */
    private long passed = Long.MIN_VALUE;
    private CompletableFuture<Void> gateFuture;

    /** @param recordsPerSecond the source's rate over all its splits, each split's share of it (0: full speed) */
    StridedSourceReader(EventSpace space, double recordsPerSecond, String progressId, String gateId) {
        this.space = space;
        this.recordsPerSecond = recordsPerSecond;
        this.progressId = progressId;
        this.gate = ReplayScalingGate.get(gateId);
        if (gateId != null && gate == null) {
            throw new IllegalStateException("no replay scaling gate '" + gateId + "' in this JVM");
        }
    }

    private static final class Cursor {
        final StrideSplit split;
        final EventSpace.Cursor it;
        long position;
        Event next;

        Cursor(StrideSplit split, EventSpace.Cursor it) {
            this.split = split;
            this.it = it;
            this.position = split.position();
        }
    }

    @Override
    public void start() {
        // a throttled reader's schedule starts at its first record
    }

    @Override
    public InputStatus pollNext(ReaderOutput<Event> output) throws Exception {
        if (gate != null && !queue.isEmpty()) {
            long bound = gate.bound();
            if (queue.peek().next.timestamp >= bound) {
                if (passed == bound || gate.passedBeforeRestore(bound)) {
                    gateFuture = gate.whenPast(bound);
                    if (!gateFuture.isDone()) {
                        return InputStatus.NOTHING_AVAILABLE;
                    }
                    return InputStatus.MORE_AVAILABLE;
                }
                passed = bound;
            }
        }
        Cursor c = queue.poll();
        if (c == null) {
            return noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
        }
        // out of the queue, which close() closes: a record whose emission fails (a chained operator throws, a
        // cancelled task's throttle is interrupted) left the cursor's file open until a garbage collection found it
        try {
            long due = EventSpace.Cursor.UNSCHEDULED;
            if (recordsPerSecond > 0) {
                // each split's share by the split count it was made for (its stride): after a restore at another
                // parallelism the job's own count of splits is not the restored splits' count
                due = throttle((queue.size() + 1) / (double) c.split.stride());
            }
            Event e = c.next;
            c.it.emitting(e, due);
            output.collect(e, e.timestamp);
            c.position++;
            emitted++;
            if (progressId != null && emitted == 1) {
                Progress.firstRecord(progressId);
            }
            if (progressId != null && (emitted & 1023) == 0) {
                Progress.position(progressId, c.split.offset(), c.position);
                for (Cursor other : queue) {
                    Progress.position(progressId, other.split.offset(), other.position);
                }
            }
            if (advance(c)) {
                queue.add(c);
            } else {
                c.it.close();
                if (progressId != null) {
                    Progress.position(progressId, c.split.offset(), c.position);
                }
            }
        } catch (Throwable t) {
            try {
                c.it.close();
            } catch (Exception x) {
                t.addSuppressed(x);
            }
            throw t;
        }
        if (!queue.isEmpty()) {
            return InputStatus.MORE_AVAILABLE;
        }
        return noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
    }

    /**
     * Waits until the next record is due.
     *
     * @param share the share of the source's splits this reader reads now
     * @return the {@code System.nanoTime()} at which the record was due (before now where the reader is behind)
     */
    private long throttle(double share) throws InterruptedException {
        if (schedule == null) {
            // from the first record on: the time the reader waits for its splits is no record's
            schedule = new Schedule(System.nanoTime());
        }
        long due = schedule.due(emitted, recordsPerSecond * share);
        // parked until due, never before (Thread.sleep rounds to whole milliseconds on Java 17: a record left up
        // to half a millisecond before it was due)
        for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
            java.util.concurrent.locks.LockSupport.parkNanos(wait);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
        return due;
    }

    private Schedule schedule;

    /**
     * When the next record is due at a rate that changes as the reader's splits end: each rate holds from where the
     * schedule stood when it changed (a split that ended halved a reader's rate, and the schedule counted every record
     * so far at the new rate: the reader slept as long again as it had read). A reader behind its schedule (a pause,
     * backpressure, a gate) catches up at full speed, as a source with a backlog does: the rate is an offered load.
     */
    static final class Schedule {
        private long fromNanos;
        private long fromRecord;
        private double rate;

        Schedule(long startNanos) {
            this.fromNanos = startNanos;
        }

        /**
         * @param records records emitted so far, >= those of the last call
         * @param perSecond the rate now, > 0
         * @return the {@code System.nanoTime()} at which record number {@code records} (0-based) is due
         */
        long due(long records, double perSecond) {
            if (perSecond != rate) {
                if (rate > 0) {
                    fromNanos += (long) ((records - fromRecord) / rate * 1e9);
                    fromRecord = records;
                }
                rate = perSecond;
            }
            return fromNanos + (long) ((records - fromRecord) / rate * 1e9);
        }
    }

    private static boolean advance(Cursor c) {
        try {
            if (c.it.hasNext()) {
                c.next = c.it.next();
                return true;
            }
        } catch (RuntimeException e) {
            // a damaged or unreadable file: the cursor is in no queue that close() would reach
            try {
                c.it.close();
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        c.next = null;
        return false;
    }

    @Override
    public List<StrideSplit> snapshotState(long checkpointId) {
        List<StrideSplit> out = new ArrayList<>(queue.size());
        for (Cursor c : queue) {
            out.add(new StrideSplit(c.split.offset(), c.split.stride(), c.position, space.fingerprint()));
        }
        return out;
    }

    @Override
    public CompletableFuture<Void> isAvailable() {
        if (gateFuture != null && !gateFuture.isDone()) {
            return gateFuture;
        }
        if (!queue.isEmpty() || noMoreSplits) {
            return CompletableFuture.completedFuture(null);
        }
        if (available.isDone()) {
            available = new CompletableFuture<>();
        }
        return available;
    }

    @Override
    public void addSplits(List<StrideSplit> splits) {
        for (StrideSplit s : splits) {
            StridedSource.refuseAnotherSpace(s, space);
            try {
                Cursor c = new Cursor(s, space.open(s.offset(), s.stride(), s.position()));
                if (advance(c)) {
                    queue.add(c);
                } else {
                    c.it.close();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open split " + s.splitId(), e);
            }
        }
        available.complete(null);
    }

    @Override
    public void notifyNoMoreSplits() {
        noMoreSplits = true;
        available.complete(null);
    }

    @Override
    public void close() throws Exception {
        for (Cursor c : queue) {
            c.it.close();
        }
        queue.clear();
    }
}
