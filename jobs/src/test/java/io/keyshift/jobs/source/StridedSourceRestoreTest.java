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
import static org.assertj.core.api.Assertions.within;

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

    /**
     * A sorted copy replaced by another input's while a job still names the old one (a recovered job graph after the
     * copy was renamed over): its cursors fail without restarts, naming both counts (they read on, stopping at the
     * old count or failing as truncated at every restart).
     */
    @Test
    void aCursorOverACopyThatAnotherInputReplacedFailsWithoutRestarts(@TempDir Path dir) throws Exception {
        SortedEventFile old = SortedEventFile.write(dir.resolve("e.bin"), events("k", 100));
        SortedEventFile.write(dir.resolve("e.bin"), events("k", 120));
        assertThatThrownBy(() -> old.open(0, 1, 0)).isInstanceOf(SuppressRestartsException.class)
                .hasStackTraceContaining("holds 120 events, not the 100 of the input this job was built with");
        SortedEventFile same = SortedEventFile.open(dir.resolve("e.bin"));
        try (var c = same.open(0, 1, 0)) {
            assertThat(c.hasNext()).isTrue();
        }
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

    /**
     * Replay --scale with two decisions that came together (one watermark closed both windows): the driver applies the
     * first (stop, restore at its parallelism) with the gate still shut for the second. The restored job's new readers
     * emitted one more record past the bound each, which then ran at that intermediate parallelism; they wait now, and
     * read on once the second is applied.
     */
    @Test
    void readersRestoredWhileTheGateStaysShutEmitNothingPastItsBound(@TempDir Path dir) throws Exception {
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            events.add(new Event(i, "k" + i, 1, i));
        }
        SortedEventFile file = SortedEventFile.write(dir.resolve("gate.bin"), events);
        String id = "strided-gate-test";
        io.keyshift.jobs.replay.ReplayScalingGate.Gate g = io.keyshift.jobs.replay.ReplayScalingGate.create(id, 10,
                io.keyshift.avro.ScalingPolicy.PREDICTIVE, 0);
        try {
            StridedSourceReader first = new StridedSourceReader(file, 0, null, id);
            first.addSplits(List.of(new StrideSplit(0, 1, 0, file.fingerprint())));
            var out = new CollectingReaderOutput<Event>();
            while (first.pollNext(out) == org.apache.flink.core.io.InputStatus.MORE_AVAILABLE) {
                // up to the bound and one record past it
            }
            assertThat(out.records).extracting(e -> e.timestamp).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L,
                    9L, 10L);
            List<StrideSplit> cut = first.snapshotState(1);
            first.close();
            // the window [0, 10) and the next closed by one watermark: two decisions, the first applied
            g.onDecision(decision(10));
            g.onDecision(decision(20));
            g.onWatermark(19);
            g.release();
            assertThat(g.bound()).isEqualTo(10);
            StridedSourceReader restored = new StridedSourceReader(file, 0, null, id);
            restored.addSplits(cut);
            var after = new CollectingReaderOutput<Event>();
            assertThat(restored.pollNext(after)).isNotEqualTo(org.apache.flink.core.io.InputStatus.END_OF_INPUT);
            assertThat(after.records).as("nothing past the shut bound").isEmpty();
            // the second applied: the bound moves on and the restored reader reads on from where the first stopped
            g.release();
            while (restored.pollNext(after) == org.apache.flink.core.io.InputStatus.MORE_AVAILABLE) {
                // to the next bound
            }
            assertThat(after.records).extracting(e -> e.timestamp).startsWith(11L, 12L);
            restored.close();
        } finally {
            io.keyshift.jobs.replay.ReplayScalingGate.remove(id);
        }
    }

    private static io.keyshift.avro.ScalingDecision decision(long windowEnd) {
        return io.keyshift.avro.ScalingDecision.newBuilder().setWindowEnd(windowEnd)
                .setPolicy(io.keyshift.avro.ScalingPolicy.PREDICTIVE).setKind(io.keyshift.avro.ScalingKind.SCALE_OUT)
                .setFromParallelism(2).setToParallelism(3).setCapacity(10).setLoad(30).setUtilizationBefore(1.5)
                .setUtilizationAfter(1.0).setReason("test").build();
    }

    /**
     * A reader given several splits after a restore reads rows of equal time in the input's order, as one reader of
     * the whole input does (it read them split by split).
     */
    @Test
    void severalSplitsReadRowsOfEqualTimeInTheInputsOrder(@TempDir Path dir) throws Exception {
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            events.add(new Event(1000L * (i / 10), "k" + i, i, i));
        }
        SortedEventFile file = SortedEventFile.write(dir.resolve("ties.bin"), events);
        StridedSourceReader reader = new StridedSourceReader(file, 0, null, null);
        reader.start();
        reader.addSplits(List.of(new StrideSplit(0, 2, 0, file.fingerprint()),
                new StrideSplit(1, 2, 0, file.fingerprint())));
        reader.notifyNoMoreSplits();
        var out = new CollectingReaderOutput<Event>();
        while (reader.pollNext(out) != org.apache.flink.core.io.InputStatus.END_OF_INPUT) {
            // drained
        }
        assertThat(out.records).extracting(e -> e.sequence).isSorted().hasSize(40);
        reader.close();
    }

    /**
     * --rate is the source's rate in total, also after a restore at another parallelism: a job at parallelism 2
     * restored with the 4 splits of a run at 4 reads 2 of them per reader, each at a quarter of the rate (it took half
     * the rate per split by the new job's count of splits, twice the limit). Timed as a lower bound only: the reader
     * sleeps to keep the rate, and a slow machine only adds time.
     */
    @Test
    void theRateHoldsInTotalAfterARestoreAtAnotherParallelism(@TempDir Path dir) throws Exception {
        SortedEventFile file = SortedEventFile.write(dir.resolve("e.bin"), events("k", 400));
        StridedSource source = new StridedSource(file, 2, 1000, null);
        var reader = source.createReader(null);
        reader.start();
        reader.addSplits(List.of(new StrideSplit(0, 4, 0, file.fingerprint()),
                new StrideSplit(1, 4, 0, file.fingerprint())));
        var out = new CollectingReaderOutput<Event>();
        List<Event> read = out.records;
        long start = System.nanoTime();
        while (read.size() < 200) {
            reader.pollNext(out);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        // 2 of 4 splits at 1,000 records/s in total: 500 records/s here, 200 records in 0.4 s (0.2 s at twice that)
        assertThat(seconds).isGreaterThan(0.35);
        reader.close();
    }

    /**
     * A reader's rate falls when one of its splits ends: the schedule goes on from where it stood (it counted every
     * record so far at the new rate, and the reader slept as long again as it had read); a reader behind its
     * schedule catches up.
     */
    @Test
    void theThrottlesScheduleGoesOnFromWhereItStoodWhenTheRateChanges() {
        long s = 1_000_000_000_000L;
        StridedSourceReader.Schedule schedule = new StridedSourceReader.Schedule(s);
        // 1,000 records at 500 per second: the 1,000th is due 2 s in
        assertThat(schedule.due(1000, 500)).isEqualTo(s + 2_000_000_000L);
        // a split ends: 250 per second from here (the schedule at 500 per second up to this record: 2.002 s), the
        // next one 4 ms after it (not at 1,002 / 250 s = 4.008 s)
        assertThat(schedule.due(1001, 250)).isCloseTo(s + 2_002_000_000L, within(1_000L));
        assertThat(schedule.due(1002, 250)).isCloseTo(s + 2_006_000_000L, within(1_000L));
        // ten seconds of pause: what is due by now goes at once (the rate is an offered load: a backlog)
        assertThat(schedule.due(1003, 250)).isCloseTo(s + 2_010_000_000L, within(1_000L));
    }

    /**
     * A throttled source held back by backpressure hands each record the time its schedule made it due, not the
     * later time it is emitted: the bench's offered-rate latency counts from when the record arrived (it counted from
     * the late emission, and the wait of a backpressured source was nobody's: coordinated omission).
     */
    @Test
    void aThrottledReaderHeldBackHandsEachRecordTheTimeItWasDue(@TempDir Path dir) throws Exception {
        SortedEventFile file = SortedEventFile.write(dir.resolve("e.bin"), events("k", 100));
        List<Long> due = new ArrayList<>();
        List<Long> emitted = new ArrayList<>();
        EventSpace stamped = new EventSpace() {
            @Override
            public long size() {
                return file.size();
            }

            @Override
            public Cursor open(int offset, int stride, long position) throws java.io.IOException {
                return new ForwardingCursor(file.open(offset, stride, position)) {
                    @Override
                    public void emitting(Event e, long dueNanos) {
                        due.add(dueNanos);
                        emitted.add(System.nanoTime());
                    }
                };
            }
        };
        // 1,000 records/s; the output holds the first 40 records 10 ms each (backpressure): 0.4 s for 40 ms of them
        StridedSourceReader reader = new StridedSourceReader(stamped, 1000, null, null);
        reader.start();
        reader.addSplits(List.of(new StrideSplit(0, 1, 0, 0)));
        reader.notifyNoMoreSplits();
        var out = new CollectingReaderOutput<Event>() {
            @Override
            public void collect(Event record, long timestamp) {
                super.collect(record, timestamp);
                if (records.size() <= 40) {
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        };
        while (reader.pollNext(out) != org.apache.flink.core.io.InputStatus.END_OF_INPUT) {
            // drained
        }
        reader.close();
        assertThat(due).hasSize(100).isSorted();
        // the schedule's times: a millisecond apart from the first record on
        assertThat(due.get(40) - due.get(0)).isCloseTo(40_000_000L, within(1_000_000L));
        assertThat(due.get(99) - due.get(0)).isCloseTo(99_000_000L, within(1_000_000L));
        // the 41st left at least 0.4 s after the first, over 0.35 s after it was due
        assertThat(emitted.get(40) - due.get(40)).isGreaterThan(350_000_000L);
        // never before it is due (Thread.sleep on Java 17 rounds to whole milliseconds: at 700 records/s, 1.43 ms
        // apart, records left up to 0.43 ms early)
        List<Long> kept = new ArrayList<>(due);
        due.clear();
        emitted.clear();
        StridedSourceReader paced = new StridedSourceReader(stamped, 700, null, null);
        paced.start();
        paced.addSplits(List.of(new StrideSplit(0, 1, 0, 0)));
        paced.notifyNoMoreSplits();
        while (paced.pollNext(new CollectingReaderOutput<>()) != org.apache.flink.core.io.InputStatus.END_OF_INPUT) {
            // drained
        }
        paced.close();
        assertThat(due).hasSize(100);
        for (int i = 0; i < 100; i++) {
            assertThat(emitted.get(i)).as("record %d", i).isGreaterThanOrEqualTo(due.get(i));
        }
        // a reader at full speed has no schedule
        List<Long> unthrottled = new ArrayList<>(kept);
        due.clear();
        StridedSourceReader fast = new StridedSourceReader(stamped, 0, null, null);
        fast.start();
        fast.addSplits(List.of(new StrideSplit(0, 1, 0, 0)));
        fast.notifyNoMoreSplits();
        while (fast.pollNext(new CollectingReaderOutput<>()) != org.apache.flink.core.io.InputStatus.END_OF_INPUT) {
            // drained
        }
        fast.close();
        assertThat(due).hasSize(100).containsOnly(EventSpace.Cursor.UNSCHEDULED);
        assertThat(unthrottled).doesNotContain(EventSpace.Cursor.UNSCHEDULED);
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

    /**
     * A record whose emission fails (a chained operator throws) leaves no cursor open once the reader is closed: the
     * cursor out of the queue was not closed by close(), and its file stayed open until a garbage collection.
     */
    @Test
    void aFailedEmissionLeavesNoCursorOpen(@TempDir Path dir) throws Exception {
        SortedEventFile file = SortedEventFile.write(dir.resolve("e.bin"), events("k", 10));
        java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();
        EventSpace counted = new EventSpace() {
            @Override
            public long size() {
                return file.size();
            }

            @Override
            public Cursor open(int offset, int stride, long position) throws java.io.IOException {
                open.incrementAndGet();
                return new ForwardingCursor(file.open(offset, stride, position)) {
                    private boolean closed;

                    @Override
                    public void close() throws java.io.IOException {
                        if (!closed) {
                            closed = true;
                            open.decrementAndGet();
                        }
                        super.close();
                    }
                };
            }
        };
        StridedSourceReader reader = new StridedSourceReader(counted, 0, null, null);
        reader.start();
        reader.addSplits(List.of(new StrideSplit(0, 2, 0, 0), new StrideSplit(1, 2, 0, 0)));
        var failing = new CollectingReaderOutput<Event>() {
            @Override
            public void collect(Event record, long timestamp) {
                throw new IllegalStateException("downstream failed");
            }
        };
        assertThatThrownBy(() -> reader.pollNext(failing)).hasMessage("downstream failed");
        assertThat(open.get()).as("cursors opened by the splits").isEqualTo(1);
        reader.close();
        assertThat(open.get()).isZero();
    }
}
