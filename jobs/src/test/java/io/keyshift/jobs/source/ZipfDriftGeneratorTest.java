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
}
