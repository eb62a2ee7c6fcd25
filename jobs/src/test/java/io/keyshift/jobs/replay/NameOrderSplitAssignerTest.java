package io.keyshift.jobs.replay;

import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.core.fs.Path;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The control source's files apply in arrival order, one listing's by name: Flink's default assigner handed a
 * listing's files out last in, first out, so that an unpin written after a pin could apply first.
 */
class NameOrderSplitAssignerTest {
    private static FileSourceSplit split(String name) {
        return new FileSourceSplit(name, new Path("file:/control/" + name), 0, 10, 0, 10);
    }

    private static List<String> drain(NameOrderSplitAssigner a) {
        List<String> names = new ArrayList<>();
        for (Optional<FileSourceSplit> s = a.getNext(null); s.isPresent(); s = a.getNext(null)) {
            names.add(s.get().path().getName());
        }
        return names;
    }

    @Test
    void oneListingGoesByNameAndLaterListingsAfterIt() {
        NameOrderSplitAssigner a = (NameOrderSplitAssigner) NameOrderSplitAssigner.provider().create(List.of(
                split("control-1700000000002-7.csv"), split("control-1700000000001-9.csv")));
        a.addSplits(List.of(split("control-1700000000004-3.csv"), split("control-1700000000003-3.csv")));
        // a file of a later listing whose name sorts first still comes after the earlier listings' files
        a.addSplits(List.of(split("a-late-arrival.csv")));
        assertThat(a.remainingSplits()).hasSize(5);
        assertThat(drain(a)).containsExactly("control-1700000000001-9.csv", "control-1700000000002-7.csv",
                "control-1700000000003-3.csv", "control-1700000000004-3.csv", "a-late-arrival.csv");
        assertThat(a.remainingSplits()).isEmpty();
    }

    /**
     * A split handed out and given back (a regional failover of the reader) goes ahead of the files that arrived
     * while the reader restarted, in the order the splits were handed out: appended, a freeze read again after an
     * unfreeze written during the restart applied last; sorted by name, an unfreeze of one listing and a freeze of the
     * next, both given back, went freeze first. A split is known by its path, not its id, which Flink's enumerator
     * numbers from 1 again when it is made anew.
     */
    @Test
    void splitsGivenBackGoAheadOfTheFilesThatArrivedSinceInTheOrderTheyWereHandedOut() {
        NameOrderSplitAssigner a = new NameOrderSplitAssigner(List.of(split("z-unfreeze.csv", "1")));
        FileSourceSplit first = a.getNext(null).orElseThrow();
        a.addSplits(List.of(split("a-freeze.csv", "2")));
        FileSourceSplit second = a.getNext(null).orElseThrow();
        a.addSplits(List.of(split("m-pin.csv", "3")));
        a.addSplits(List.of(second, first));
        assertThat(drain(a)).containsExactly("z-unfreeze.csv", "a-freeze.csv", "m-pin.csv");
        // a new file whose id a restored enumerator gave again (its counter starts at 1) is a new listing's
        a.addSplits(List.of(split("b-late.csv", "1")));
        a.addSplits(List.of(split("c-later.csv", "2")));
        assertThat(drain(a)).containsExactly("b-late.csv", "c-later.csv");
    }

    private static FileSourceSplit split(String name, String id) {
        return new FileSourceSplit(id, new Path("file:/control/" + name), 0, 10, 0, 10);
    }
}
