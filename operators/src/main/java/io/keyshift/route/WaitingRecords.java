package io.keyshift.route;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Records that wait for a routing-plan lease, with their event times. Records usually arrive in event-time order:
 * those go to a FIFO queue and are released from its head in O(1) each; a record older than the queue's tail (out of
 * order) goes to a priority queue by event time, O(log n). Releasing the records before a lease end never scans the
 * records that stay, and hands them on in their arrival order (as {@code keyBy} would have seen them), whichever queue
 * holds them. Memory: the records plus about 48 bytes each.
 *
 * @param <T> the user's record type
 */
final class WaitingRecords<T> {
    /** A waiting record, its event time and its place in the arrival order (increasing with arrival). */
    record Waiting<T>(long timestamp, long arrival, T value) {}

    /** Receives released records. */
    interface Release<T> {
        void accept(long timestamp, long arrival, T value) throws Exception;
    }

    private static final Comparator<Waiting<?>> BY_ARRIVAL = Comparator.comparingLong(Waiting::arrival);

    private final ArrayDeque<Waiting<T>> inOrder = new ArrayDeque<>();
    private final PriorityQueue<Waiting<T>> late = new PriorityQueue<>(
            Comparator.<Waiting<T>>comparingLong(Waiting::timestamp).thenComparingLong(Waiting::arrival));

    /** Adds a record; {@code arrival} must exceed every earlier record's (the caller's count of its records). */
    void add(long timestamp, long arrival, T value) {
        Waiting<T> w = new Waiting<>(timestamp, arrival, value);
        Waiting<T> tail = inOrder.peekLast();
        if (tail == null || timestamp >= tail.timestamp()) {
            inOrder.addLast(w);
        } else {
            late.add(w);
        }
    }

    /** Hands every record with event time before {@code end} to {@code release}, in their arrival order. */
    void releaseBefore(long end, Release<T> release) throws Exception {
        if (late.isEmpty() || late.peek().timestamp() >= end) {
            while (!inOrder.isEmpty() && inOrder.peekFirst().timestamp() < end) {
                Waiting<T> w = inOrder.pollFirst();
                release.accept(w.timestamp(), w.arrival(), w.value());
            }
            return;
        }
        List<Waiting<T>> lateOnes = new ArrayList<>();
        while (!late.isEmpty() && late.peek().timestamp() < end) {
            lateOnes.add(late.poll());
        }
        lateOnes.sort(BY_ARRIVAL);
        int i = 0;
        while (!inOrder.isEmpty() && inOrder.peekFirst().timestamp() < end) {
            Waiting<T> next = inOrder.peekFirst();
            while (i < lateOnes.size() && lateOnes.get(i).arrival() < next.arrival()) {
                Waiting<T> w = lateOnes.get(i++);
                release.accept(w.timestamp(), w.arrival(), w.value());
            }
            inOrder.pollFirst();
            release.accept(next.timestamp(), next.arrival(), next.value());
        }
        for (; i < lateOnes.size(); i++) {
            Waiting<T> w = lateOnes.get(i);
            release.accept(w.timestamp(), w.arrival(), w.value());
        }
    }

    int size() {
        return inOrder.size() + late.size();
    }

    boolean isEmpty() {
        return inOrder.isEmpty() && late.isEmpty();
    }

    /** The earliest waiting event time, or Long.MAX_VALUE. */
    long firstTimestamp() {
        long a = inOrder.isEmpty() ? Long.MAX_VALUE : inOrder.peekFirst().timestamp();
        long b = late.isEmpty() ? Long.MAX_VALUE : late.peek().timestamp();
        return Math.min(a, b);
    }

    /**
     * Every waiting record, in their arrival order: added again in this order, they are released as they would have
     * been (a checkpoint's records, restored at the same parallelism).
     */
    List<Waiting<T>> toList() {
        List<Waiting<T>> out = new ArrayList<>(inOrder);
        out.addAll(late);
        out.sort(BY_ARRIVAL);
        return out;
    }
}
