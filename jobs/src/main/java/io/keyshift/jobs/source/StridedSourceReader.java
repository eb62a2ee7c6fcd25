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
 * Reads its strided splits, merged by event time (ties by split offset); optionally throttled per split; optionally
 * in lockstep with a {@link ReplayScalingGate}: records below the gate's bound, then the first one at or past it
 * (its timestamp carries the watermark over the bound), then nothing until the bound moves (the reader reports
 * NOTHING_AVAILABLE with a future, so the task's mailbox, watermarks and checkpoints go on).
 */
final class StridedSourceReader implements SourceReader<Event, StrideSplit> {
    private final EventSpace space;
    private final double recordsPerSecondPerSplit;
    private final String progressId;
    private final PriorityQueue<Cursor> queue = new PriorityQueue<>(
            Comparator.comparingLong((Cursor c) -> c.next.timestamp).thenComparingInt(c -> c.split.offset()));
    private CompletableFuture<Void> available = new CompletableFuture<>();
    private boolean noMoreSplits;
    private long emitted;
    private long startNanos;
    private final ReplayScalingGate.Gate gate;
    /** The gate bound this reader has already emitted its one record past (Long.MIN_VALUE: none). */
    private long passed = Long.MIN_VALUE;
    private CompletableFuture<Void> gateFuture;

    StridedSourceReader(EventSpace space, double recordsPerSecondPerSplit, String progressId, String gateId) {
        this.space = space;
        this.recordsPerSecondPerSplit = recordsPerSecondPerSplit;
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
        startNanos = System.nanoTime();
    }

    @Override
    public InputStatus pollNext(ReaderOutput<Event> output) throws Exception {
        if (gate != null && !queue.isEmpty()) {
            long bound = gate.bound();
            if (queue.peek().next.timestamp >= bound) {
                if (passed == bound) {
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
        if (recordsPerSecondPerSplit > 0) {
            throttle(queue.size() + 1);
        }
        Event e = c.next;
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
        if (!queue.isEmpty()) {
            return InputStatus.MORE_AVAILABLE;
        }
        return noMoreSplits ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
    }

    private void throttle(int activeSplits) throws InterruptedException {
        double allowedPerSecond = recordsPerSecondPerSplit * activeSplits;
        long dueNanos = startNanos + (long) (emitted / allowedPerSecond * 1e9);
        long wait = dueNanos - System.nanoTime();
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }

    private static boolean advance(Cursor c) {
        if (c.it.hasNext()) {
            c.next = c.it.next();
            return true;
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
