package io.keyshift.jobs.workload;

import io.keyshift.jobs.event.Event;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The replay's aggregate sums values that cancel to the same result in any order and any merge of partial sums. */
class CountSumTest {

    private static CountSum.Acc sum(CountSum f, List<Double> values) {
        CountSum.Acc acc = f.createAccumulator();
        for (double v : values) {
            acc = f.add(new Event(0, "k", v, 0), acc);
        }
        return acc;
    }

    @Test
    void valuesThatCancelSumToTheExactResultInAnyOrderAndAnyMerge() {
        Random random = new Random(7);
        List<Double> values = new ArrayList<>();
        BigDecimal exact = BigDecimal.ZERO;
        for (int i = 0; i < 2_000; i++) {
            // large values that cancel in pairs, and small ones that carry the result
            double big = (random.nextDouble() + 0.5) * 1e15;
            double small = random.nextDouble() * 10;
            values.add(big);
            values.add(-big);
            values.add(small);
            exact = exact.add(BigDecimal.valueOf(small));
        }
        double expected = exact.doubleValue();
        CountSum f = new CountSum();
        double naiveSpread = 0;
        for (int round = 0; round < 5; round++) {
            Collections.shuffle(values, random);
            CountSum.Acc whole = sum(f, values);
            // as keyshift's split keys: partial sums of three pieces, merged
            int a = values.size() / 3;
            int b = 2 * values.size() / 3;
            CountSum.Acc merged = f.merge(f.merge(sum(f, values.subList(0, a)), sum(f, values.subList(a, b))),
                    sum(f, values.subList(b, values.size())));
            assertThat(whole.count).isEqualTo(merged.count).isEqualTo(values.size());
            assertThat(whole.total()).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-9 * expected));
            assertThat(merged.total()).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-9 * expected));
            double naive = 0;
            for (double v : values) {
                naive += v;
            }
            naiveSpread = Math.max(naiveSpread, Math.abs(naive - expected));
        }
        // the plain sum of these values is far off: this test would not see a plain sum's error otherwise
        assertThat(naiveSpread).isGreaterThan(1e-3 * expected);
    }

    @Test
    void anInfiniteOrOverflowingSumStaysInfinite() {
        CountSum f = new CountSum();
        assertThat(sum(f, List.of(1.0, Double.POSITIVE_INFINITY, 2.0)).total()).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(sum(f, List.of(Double.MAX_VALUE, Double.MAX_VALUE, 1.0)).total()).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(f.merge(sum(f, List.of(-Double.MAX_VALUE)), sum(f, List.of(-Double.MAX_VALUE))).total())
                .isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(sum(f, List.of(Double.NaN, 1.0)).total()).isNaN();
    }

    @Test
    void aSumThatCancelsKeepsWhatAPlainSumLoses() {
        CountSum f = new CountSum();
        CountSum.Acc acc = sum(f, List.of(1e16, 1.0, -1e16, 1.0));
        assertThat(acc.sum).isNotEqualTo(2.0);
        assertThat(acc.total()).isEqualTo(2.0);
    }
}
