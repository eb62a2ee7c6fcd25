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
 * they were written, the order they arrived in). A split this assigner handed out that comes back (a regional
 * failover of the reader: Flink's enumerator gives it back through {@link #addSplits}, as it gives a new listing's)
 * goes ahead of the files that arrived since, as it arrived before them (appended, a {@code freeze} read again after
 * an {@code unfreeze} written during the restart applied last, and the job stayed frozen); splits that come back
 * together keep the order they were handed out in. A split is known by its path and offset, not its id: Flink's
 * enumerator numbers splits from 1 again whenever it is made anew (a restore), while its continuous enumeration
 * never lists a path twice.
 */
public final class NameOrderSplitAssigner implements FileSplitAssigner {
    private static final Comparator<FileSourceSplit> BY_NAME = Comparator
            .comparing((FileSourceSplit s) -> s.path().toUri().toString())
            .thenComparingLong(FileSourceSplit::offset);

    /** Most split ids remembered as handed out (a watched directory's files: commands are few). */
    static final int MAX_REMEMBERED = 100_000;

    private final ArrayDeque<FileSourceSplit> queue = new ArrayDeque<>();
    /** The splits handed out (path and offset), oldest first (at most {@link #MAX_REMEMBERED}), by hand-out number. */
    private final java.util.LinkedHashMap<String, Long> handedOut = new java.util.LinkedHashMap<>();
    private long handOuts;

    public NameOrderSplitAssigner(Collection<FileSourceSplit> initial) {
        addSplits(initial);
    }

    /** The provider a {@code FileSource} builder takes ({@code setSplitAssigner}). */
    public static Provider provider() {
        return NameOrderSplitAssigner::new;
    }

    @Override
    public Optional<FileSourceSplit> getNext(String hostname) {
        FileSourceSplit next = queue.pollFirst();
        if (next != null) {
            handedOut.remove(known(next));
            handedOut.put(known(next), handOuts++);
            if (handedOut.size() > MAX_REMEMBERED) {
                handedOut.remove(handedOut.keySet().iterator().next());
            }
        }
        return Optional.ofNullable(next);
    }

    @Override
    public void addSplits(Collection<FileSourceSplit> splits) {
        List<FileSourceSplit> returned = new ArrayList<>();
        java.util.Map<FileSourceSplit, Long> handedOutAs = new java.util.IdentityHashMap<>();
        List<FileSourceSplit> arrived = new ArrayList<>();
        for (FileSourceSplit split : splits) {
            Long n = handedOut.remove(known(split));
            if (n != null) {
                handedOutAs.put(split, n);
                returned.add(split);
            } else {
                arrived.add(split);
            }
        }
        returned.sort(Comparator.comparingLong(handedOutAs::get));
        for (int i = returned.size() - 1; i >= 0; i--) {
            queue.addFirst(returned.get(i));
        }
        arrived.sort(BY_NAME);
        queue.addAll(arrived);
    }

    private static String known(FileSourceSplit split) {
        return split.path().toUri() + "@" + split.offset();
    }

    @Override
    public Collection<FileSourceSplit> remainingSplits() {
        return new ArrayList<>(queue);
    }
}
