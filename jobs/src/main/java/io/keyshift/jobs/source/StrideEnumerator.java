package io.keyshift.jobs.source;

import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.SplitsAssignment;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Assigns split j to reader j mod parallelism when the reader registers, all of them in one assignment; splits given
 * back are reassigned.
 */
final class StrideEnumerator implements SplitEnumerator<StrideSplit, List<StrideSplit>> {
    private final SplitEnumeratorContext<StrideSplit> ctx;
    private final List<StrideSplit> pending;

    StrideEnumerator(SplitEnumeratorContext<StrideSplit> ctx, List<StrideSplit> pending) {
        this.ctx = ctx;
        this.pending = pending;
    }

    @Override
    public void start() {}

    @Override
    public void handleSplitRequest(int subtaskId, String requesterHostname) {}

    @Override
    public void addSplitsBack(List<StrideSplit> splits, int subtaskId) {
        pending.addAll(splits);
        if (ctx.registeredReaders().containsKey(subtaskId)) {
            assign(subtaskId);
        }
    }

    @Override
    public void addReader(int subtaskId) {
        assign(subtaskId);
    }

    private void assign(int subtaskId) {
        int p = ctx.currentParallelism();
        Iterator<StrideSplit> it = pending.iterator();
        List<StrideSplit> mine = new ArrayList<>();
        while (it.hasNext()) {
            StrideSplit s = it.next();
            if (s.offset() % p == subtaskId) {
                mine.add(s);
                it.remove();
            }
        }
        if (!mine.isEmpty()) {
            // all of a reader's splits in one event: a reader that got them one by one could start reading the first
            // and emit a watermark past the start of the next, whose records would then be late (and dropped by any
            // event-time window behind it)
            ctx.assignSplits(new SplitsAssignment<>(Map.of(subtaskId, mine)));
        }
        ctx.signalNoMoreSplits(subtaskId);
    }

    @Override
    public List<StrideSplit> snapshotState(long checkpointId) {
        return new ArrayList<>(pending);
    }

    @Override
    public void close() {}
}
