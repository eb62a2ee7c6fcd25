package io.keyshift.jobs.replay;

import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.assigners.FileSplitAssigner;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Hands out the control source's files first in, first out, and the files of one listing in the order of their names
 * (then offsets): commands of the same time apply in the order they arrive, and {@code bin/keyshift control --dir}
 * names its files by the time it wrote them. Flink's default, {@code LocalityAwareSplitAssigner}, hands splits out
 * last in, first out, and the files present at the start in no fixed order: a {@code pin} and an {@code unpin} that
 * arrived in one listing could apply the other way round. Flink makes a restored assigner from the files still to be
 * read, as one batch: they are read by name from there (for {@code bin/keyshift control}'s files, named by the time
 * they were written, the order they arrived in).
 */
public final class NameOrderSplitAssigner implements FileSplitAssigner {
    private static final Comparator<FileSourceSplit> BY_NAME = Comparator
            .comparing((FileSourceSplit s) -> s.path().toUri().toString())
            .thenComparingLong(FileSourceSplit::offset);

    private final ArrayDeque<FileSourceSplit> queue = new ArrayDeque<>();

    public NameOrderSplitAssigner(Collection<FileSourceSplit> initial) {
        addSplits(initial);
    }

    /** The provider a {@code FileSource} builder takes ({@code setSplitAssigner}). */
    public static Provider provider() {
        return NameOrderSplitAssigner::new;
    }

    @Override
    public Optional<FileSourceSplit> getNext(String hostname) {
        return Optional.ofNullable(queue.pollFirst());
    }

    @Override
    public void addSplits(Collection<FileSourceSplit> splits) {
        List<FileSourceSplit> sorted = new ArrayList<>(splits);
        sorted.sort(BY_NAME);
        queue.addAll(sorted);
    }

    @Override
    public Collection<FileSourceSplit> remainingSplits() {
        return new ArrayList<>(queue);
    }
}
