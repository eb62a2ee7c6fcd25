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
 * records that stay. Memory: the records plus about 40 bytes each.
 *
 * @param <T> the user's record type
 */
final class WaitingRecords<T> {
    /** A waiting record and its event time. */
    record Waiting<T>(long timestamp, T value) {}

    /** Receives released records. */
    interface Release<T> {
        void accept(long timestamp, T value) throws Exception;
    }

    private final ArrayDeque<Waiting<T>> inOrder = new ArrayDeque<>();
    private final PriorityQueue<Waiting<T>> late = new PriorityQueue<>(Comparator.comparingLong(Waiting::timestamp));

    void add(long timestamp, T value) {
        Waiting<T> w = new Waiting<>(timestamp, value);
        Waiting<T> tail = inOrder.peekLast();
        if (tail == null || timestamp >= tail.timestamp()) {
            inOrder.addLast(w);
        } else {
            late.add(w);
        }
    }

    /** Hands every record with event time before {@code end} to {@code release}, in event-time order per queue. */
    void releaseBefore(long end, Release<T> release) throws Exception {
        while (!inOrder.isEmpty() && inOrder.peekFirst().timestamp() < end) {
            Waiting<T> w = inOrder.pollFirst();
            release.accept(w.timestamp(), w.value());
        }
        while (!late.isEmpty() && late.peek().timestamp() < end) {
            Waiting<T> w = late.poll();
            release.accept(w.timestamp(), w.value());
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

    /** Every waiting record, in event-time order. */
    List<Waiting<T>> toList() {
        List<Waiting<T>> out = new ArrayList<>(inOrder);
        out.addAll(late);
        out.sort(Comparator.comparingLong(Waiting::timestamp));
        return out;
    }
}
