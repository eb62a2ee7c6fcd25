package io.keyshift.jobs.source;

import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** Assigns split j to reader j mod parallelism when the reader registers; splits given back are reassigned. */
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
        for (StrideSplit s : mine) {
            ctx.assignSplit(s, subtaskId);
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
