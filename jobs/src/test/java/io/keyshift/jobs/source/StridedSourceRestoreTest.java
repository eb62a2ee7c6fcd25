package io.keyshift.jobs.source;

import io.keyshift.jobs.event.Event;

import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A source restored over other events than the ones its read positions count (a file job's --input changed between
 * the savepoint and the restore) fails without restarts, naming the cause; it had read on at the old positions of the
 * new file, skipping or repeating records into the restored job's output.
 */
class StridedSourceRestoreTest {

    private static List<Event> events(String prefix, int n) {
        List<Event> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new Event(1000L * i, prefix + (i % 7), i, i));
        }
        return out;
    }

    @Test
    void aSortedFilesFingerprintIsItsContent(@TempDir Path dir) throws Exception {
        SortedEventFile a = SortedEventFile.write(dir.resolve("a.bin"), events("k", 100));
        SortedEventFile again = SortedEventFile.write(dir.resolve("again.bin"), events("k", 100));
        SortedEventFile longer = SortedEventFile.write(dir.resolve("longer.bin"), events("k", 101));
        SortedEventFile other = SortedEventFile.write(dir.resolve("other.bin"), events("j", 100));
        assertThat(a.fingerprint()).isNotZero().isEqualTo(again.fingerprint())
                .isEqualTo(SortedEventFile.open(dir.resolve("a.bin")).fingerprint());
        assertThat(longer.fingerprint()).isNotEqualTo(a.fingerprint());
        assertThat(other.fingerprint()).isNotEqualTo(a.fingerprint());
        // the same events in the format before 2026-11-29: the same fingerprint, not readable as a space
        SortedEventFileTestSupport.writeVersionOne(dir.resolve("v1.bin"), dir.resolve("a.bin"));
        SortedEventFile v1 = SortedEventFile.open(dir.resolve("v1.bin"));
        assertThat(v1.fingerprint()).isEqualTo(a.fingerprint());
        assertThat(v1.currentFormat()).isFalse();
        assertThat(a.currentFormat()).isTrue();
        // a damaged key length is an IOException naming the file, not an allocation failure
        byte[] bytes = java.nio.file.Files.readAllBytes(dir.resolve("a.bin"));
        bytes[16 + 8] = (byte) 0x80;
        java.nio.file.Files.write(dir.resolve("damaged.bin"), bytes);
        assertThatThrownBy(() -> SortedEventFile.open(dir.resolve("damaged.bin")))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining("damaged.bin is damaged");
    }

    @Test
    void aGeneratorsFingerprintIsItsParametersButTheCount() {
        ZipfDriftGenerator g = new ZipfDriftGenerator(1000, 0, 100, 50, 1.1, 4, 7);
        assertThat(g.fingerprint()).isNotZero()
                .isEqualTo(new ZipfDriftGenerator(5000, 0, 100, 50, 1.1, 4, 7).fingerprint())
                .isNotEqualTo(new ZipfDriftGenerator(1000, 0, 100, 50, 1.1, 4, 8).fingerprint())
                .isNotEqualTo(new ZipfDriftGenerator(1000, 0, 100, 50, 1.2, 4, 7).fingerprint());
    }

    @Test
    void aSplitOfAnotherInputIsRefusedWithoutRestartsAndOneOfTheSameReadsOn(@TempDir Path dir) throws Exception {
        SortedEventFile before = SortedEventFile.write(dir.resolve("before.bin"), events("k", 100));
        SortedEventFile after = SortedEventFile.write(dir.resolve("after.bin"), events("j", 100));
        StrideSplit restored = new StrideSplit(1, 4, 3, before.fingerprint());

        StridedSourceReader reader = new StridedSourceReader(after, 0, null, null);
        assertThatThrownBy(() -> reader.addSplits(List.of(restored)))
                .isInstanceOf(SuppressRestartsException.class)
                .hasStackTraceContaining("the restored source read another input")
                .hasStackTraceContaining("split 1/4 had read 3 events");
        reader.close();

        // the same input: reads on at the split's position (event 1 + 3 * 4 = 13)
        StridedSourceReader same = new StridedSourceReader(before, 0, null, null);
        same.addSplits(List.of(restored));
        assertThat(same.snapshotState(1)).containsExactly(new StrideSplit(1, 4, 3, before.fingerprint()));
        same.close();
        // a split of a build before fingerprints (0) is not refused, and is snapshotted with the input's
        StridedSourceReader old = new StridedSourceReader(after, 0, null, null);
        old.addSplits(List.of(new StrideSplit(1, 4, 3, 0)));
        assertThat(old.snapshotState(1)).containsExactly(new StrideSplit(1, 4, 3, after.fingerprint()));
        old.close();
    }

    @Test
    void splitsOfVersionOneHaveNoFingerprintAndVersionTwoKeepsIt() throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(b)) {
            out.writeInt(2);
            out.writeInt(8);
            out.writeLong(41);
        }
        assertThat(StrideSplit.Serializer.INSTANCE.deserialize(1, b.toByteArray()))
                .isEqualTo(new StrideSplit(2, 8, 41, 0));
        StrideSplit s = new StrideSplit(2, 8, 41, 0x1234_5678_9ABC_DEF0L);
        assertThat(StrideSplit.Serializer.INSTANCE.getVersion()).isEqualTo(2);
        assertThat(StrideSplit.Serializer.INSTANCE.deserialize(2, StrideSplit.Serializer.INSTANCE.serialize(s)))
                .isEqualTo(s);
        var enumerator = new StridedSource(new ZipfDriftGenerator(10, 0, 1, 1, 1, 0, 1), 1, 0, null)
                .getEnumeratorCheckpointSerializer();
        assertThat(enumerator.deserialize(enumerator.getVersion(), enumerator.serialize(List.of(s))))
                .containsExactly(s);
    }
}
