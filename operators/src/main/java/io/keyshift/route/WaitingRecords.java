package io.keyshift.route;

import io.keyshift.event.Event;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.function.Consumer;

/**
 * Records that wait for a routing-plan lease. Records usually arrive in event-time order (each source split is read
 * in time order): those go to a FIFO queue and are released from its head in O(1) each; a record older than the
 * queue's tail (out of order) goes to a priority queue by event time, O(log n). Releasing the records before a lease
 * end never scans the records that stay (an arrival-ordered list scanned on every plan, with removals in the middle,
 * was quadratic at full speed).
 */
final class WaitingRecords {
    private final ArrayDeque<Event> inOrder = new ArrayDeque<>();
    private final PriorityQueue<Event> late = new PriorityQueue<>(Comparator.comparingLong((Event e) -> e.timestamp));

    void add(Event e) {
        Event tail = inOrder.peekLast();
        if (tail == null || e.timestamp >= tail.timestamp) {
            inOrder.addLast(e);
        } else {
            late.add(e);
        }
    }

    /** Hands every record with event time before {@code end} to {@code emit} and drops it. */
    void releaseBefore(long end, Consumer<Event> emit) {
        while (!inOrder.isEmpty() && inOrder.peekFirst().timestamp < end) {
            emit.accept(inOrder.pollFirst());
        }
        while (!late.isEmpty() && late.peek().timestamp < end) {
            emit.accept(late.poll());
        }
    }

    int size() {
        return inOrder.size() + late.size();
    }

    boolean isEmpty() {
        return inOrder.isEmpty() && late.isEmpty();
    }

    /** The earliest waiting record, or null. */
    Event first() {
        Event a = inOrder.peekFirst();
        Event b = late.peek();
        return a == null ? b : b == null || a.timestamp <= b.timestamp ? a : b;
    }

    /** Every waiting record, in event-time order. */
    List<Event> toList() {
        List<Event> out = new ArrayList<>(inOrder);
        out.addAll(late);
        out.sort(Comparator.comparingLong((Event e) -> e.timestamp));
        return out;
    }
}
