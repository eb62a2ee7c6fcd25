package io.keyshift.jobs.bench;

import io.keyshift.jobs.event.Event;
import io.keyshift.jobs.source.EventSpace;
import io.keyshift.jobs.source.StrideSplit;
import io.keyshift.jobs.source.StridedSource;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bench's latency runs stamp each record with its emission time, after the throttled source's wait for it: the
 * source reads each split one record ahead, and the stamp was taken then, one record (parallelism / rate) early.
 */
class EmissionStampTest {

    /** Events one second of event time apart, key "k". */
    private static final class Seconds implements EventSpace {
        private static final long serialVersionUID = 1L;
        private final long n;

        Seconds(long n) {
            this.n = n;
        }

        @Override
        public long size() {
            return n;
        }

        @Override
        public Cursor open(int offset, int stride, long position) {
            return new Cursor() {
                long i = offset + (long) stride * position;

                @Override
                public boolean hasNext() {
                    return i < n;
                }

                @Override
                public Event next() {
                    Event e = new Event(1000L * i, "k", 0, i);
                    i += stride;
                    return e;
                }

                @Override
                public void close() {}
            };
        }
    }

    /**
     * At 20 records/s record k is due 50 ms × k after the reader starts, and its stamp is not before that (a lower
     * bound: a slow machine only stamps later). Stamped one record ahead, record k carried record k-1's due time.
     */
    @Test
    void aRecordIsStampedWhenItIsEmittedNotWhenItIsReadAhead() throws Exception {
        double rate = 20;
        var reader = new StridedSource(new ThroughputBench.Stamped(new Seconds(8)), 1, rate, null).createReader(null);
        long before = System.nanoTime();
        reader.start();
        reader.addSplits(List.of(new StrideSplit(0, 1, 0, 0)));
        reader.notifyNoMoreSplits();
        var out = new io.keyshift.jobs.source.CollectingReaderOutput<Event>();
        List<Event> read = out.records;
        while (read.size() < 8) {
            reader.pollNext(out);
        }
        reader.close();
        for (Event e : read) {
            long due = before + (long) (e.sequence / rate * 1e9);
            assertThat((long) e.value).as("stamp of record %d", e.sequence).isGreaterThanOrEqualTo(due);
        }
    }
}
