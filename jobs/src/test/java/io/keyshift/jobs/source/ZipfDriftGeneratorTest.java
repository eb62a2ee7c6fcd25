package io.keyshift.jobs.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyshift.jobs.event.Event;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

class ZipfDriftGeneratorTest {

    private static ZipfDriftGenerator generator(int keys, double exponent) {
        return new ZipfDriftGenerator(10_000, 0, 10, keys, exponent, 50, 42);
    }

    /**
     * Every cursor over the same keys and exponent reads one table (each made its own: 8 bytes a key per split, 5 GB
     * for 20 million keys at parallelism 32), and the events are those of a table of its own.
     */
    @Test
    void cursorsShareOneKeyTableAndGiveTheSameEvents() throws Exception {
        ZipfDriftGenerator g = generator(2_000, 1.1);
        assertThat(g.sharedCdf()).isSameAs(generator(2_000, 1.1).sharedCdf()).containsExactly(g.cdf());
        double[] other = generator(2_000, 0.9).sharedCdf();
        assertThat(other).isNotSameAs(g.sharedCdf()).containsExactly(generator(2_000, 0.9).cdf());
        assertThat(generator(1_000, 0.9).sharedCdf()).hasSize(1_000);

        double[] own = g.cdf();
        List<Event> read = new ArrayList<>();
        for (int split = 0; split < 4; split++) {
            try (EventSpace.Cursor c = g.open(split, 4, 0)) {
                while (c.hasNext()) {
                    read.add(c.next());
                }
            }
        }
        assertThat(read).hasSize(10_000);
        for (Event e : read) {
            Event expected = g.event(e.sequence, own);
            assertThat(e.key).isEqualTo(expected.key);
            assertThat(e.timestamp).isEqualTo(expected.timestamp);
        }
    }

    /**
     * Event times never go backwards and follow the cumulative rate: with F = 2 the first 6 hours at the night rate, the
     * day's 36 hours' worth by midnight; with a peak factor just above 1 the constant rate (the ramps' roots cancelled
     * and put events seconds early).
     */
    @Test
    void eventTimesAreNonDecreasingAndFollowTheDailyRate() {
        // (rate, peak factor): 10 events a second near F = 1, where the old roots' error was seconds
        double[][] cases = {{10, 1 + 1e-12}, {10, 1 + 1e-9}, {1 / 3.6, 2}, {1 / 3.6, 1000}};
        for (double[] c : cases) {
            double f = c[1];
            ZipfDriftGenerator g = new ZipfDriftGenerator(Long.MAX_VALUE, 0, c[0], 10, 1.1, 0, 7, 0, f);
            // the first two days' events
            long perDay = Math.round(12 * (1 + f) * 3600 * c[0]);
            long previous = Long.MIN_VALUE;
            for (long i = 0; i < 2 * perDay; i++) {
                long t = g.offsetMillis(i);
                assertThat(t).as("event %d at peak factor %s", i, f).isGreaterThanOrEqualTo(previous);
                previous = t;
            }
        }
        // F just above 1 is the constant rate to the millisecond (the cancelling roots put 7:00's event 3.2 s early)
        ZipfDriftGenerator flat = new ZipfDriftGenerator(Long.MAX_VALUE, 0, 10, 10, 1.1, 0, 7, 0, 1 + 1e-12);
        assertThat(flat.offsetMillis(7 * 36_000)).isCloseTo(7 * 3_600_000L, org.assertj.core.data.Offset.offset(1L));
        assertThat(flat.offsetMillis(21 * 36_000)).isCloseTo(21 * 3_600_000L,
                org.assertj.core.data.Offset.offset(1L));
        ZipfDriftGenerator two = new ZipfDriftGenerator(Long.MAX_VALUE, 0, 1.0 / 3.6, 10, 1.1, 0, 7, 0, 2);
        // 1 event per night-rate millihour: 6,000 by 6:00, 36,000 (a day's worth) by 24:00
        assertThat(two.offsetMillis(6_000)).isEqualTo(6 * 3_600_000L);
        assertThat(two.offsetMillis(36_000)).isEqualTo(24 * 3_600_000L);
        assertThat(two.offsetMillis(21_000)).isEqualTo(15 * 3_600_000L);
    }

    /**
     * A --generator-drift near Integer.MAX_VALUE moves every rank by the same positions around the ring of keys: rank
     * + shift overflowed an int, two ranks landed on one key and one key got none.
     */
    @Test
    void aHugeDriftStillMovesEveryRankOntoItsOwnKey() throws Exception {
        // uniform keys, every event at noon (the day's largest shift, the whole drift)
        ZipfDriftGenerator g = new ZipfDriftGenerator(100_000, 43_200_000L, 1e9, 1000, 0.0, Integer.MAX_VALUE, 7);
        java.util.Set<String> keys = new java.util.HashSet<>();
        try (EventSpace.Cursor c = g.open(0, 1, 0)) {
            while (c.hasNext()) {
                keys.add(c.next().key);
            }
        }
        assertThat(keys).hasSize(1000);
    }
}
