package io.keyshift.profiler;

import io.keyshift.avro.KeyLoadSample;
import io.keyshift.event.Event;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SamplerProfilerTest {
    private static final int MAX_P = 16;
    private static final long W = 1000;

    @SuppressWarnings("unchecked")
    private static <T> List<T> records(OneInputStreamOperatorTestHarness<?, T> h) {
        List<T> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                out.add((T) r.getValue());
            }
        }
        return out;
    }

    private static List<KeyLoadSample> sample(int subtask, String... keysInWindow0) throws Exception {
        try (var h = new OneInputStreamOperatorTestHarness<Event, KeyLoadSample>(new KeySampler(W, 64, 1.0), MAX_P, 2, subtask)) {
            h.open();
            long seq = 0;
            for (String k : keysInWindow0) {
                h.processElement(new Event(100 + seq, k, 1, seq), 100 + seq);
                seq++;
            }
            h.processElement(new Event(1500, "late-window", 1, seq), 1500);
            h.processWatermark(new Watermark(998));
            assertThat(records(h)).isEmpty();
            h.processWatermark(new Watermark(999));
            List<KeyLoadSample> out = records(h);
            // the sample is emitted before the watermark that closed the window
            List<Object> all = new ArrayList<>(h.getOutput());
            assertThat(all.get(all.size() - 1)).isInstanceOf(Watermark.class);
            return out;
        }
    }

    @Test
    void samplerCountsKeyGroupsExactlyAndSketchesKeys() throws Exception {
        List<KeyLoadSample> out = sample(0, "a", "a", "a", "b");
        assertThat(out).singleElement().satisfies(s -> {
            assertThat(s.getWindowStart()).isEqualTo(0);
            assertThat(s.getWindowEnd()).isEqualTo(W);
            assertThat(s.getRecords()).isEqualTo(4);
            assertThat(s.getKeyGroupCounts().get(KeyGroupRangeAssignment.assignToKeyGroup("a", MAX_P)))
                    .isGreaterThanOrEqualTo(3L);
            assertThat(s.getKeyGroupCounts().stream().mapToLong(Long::longValue).sum()).isEqualTo(4);
            byte[] b = new byte[s.getHeavyHitters().remaining()];
            s.getHeavyHitters().duplicate().get(b);
            assertThat(HeavyHitters.fromBytes(b).getEstimate("a")).isEqualTo(3);
        });
    }

    @Test
    void profilerMergesSubtasksAndFillsEmptyWindows() throws Exception {
        List<KeyLoadSample> samples = new ArrayList<>(sample(0, "a", "a", "b"));
        samples.addAll(sample(1, "a", "c"));
        try (var h = new OneInputStreamOperatorTestHarness<KeyLoadSample, WindowProfile>(
                new KeyDistributionProfiler(W, 64, 2), 1, 1, 0)) {
            h.open();
            for (KeyLoadSample s : samples) {
                h.processElement(s, s.getWindowEnd() - 1);
            }
            h.processWatermark(new Watermark(2 * W + 5));
            List<WindowProfile> profiles = records(h);
            assertThat(profiles).hasSize(2);
            WindowProfile p = profiles.get(0);
            assertThat(p.records).isEqualTo(5);
            assertThat(p.hotKeys).containsExactly("a", "b");
            assertThat(p.hotEstimates).containsExactly(3.0, 1.0);
            assertThat(profiles.get(1).windowStart).isEqualTo(W);
            assertThat(profiles.get(1).records).isZero();
        }
    }

    @Test
    void samplingIsDeterministicAndNearTheRate() {
        int hits = 0;
        for (long s = 0; s < 100_000; s++) {
            if (KeySampler.sampled(s, 0.1)) {
                hits++;
            }
            assertThat(KeySampler.sampled(s, 0.1)).isEqualTo(KeySampler.sampled(s, 0.1));
        }
        assertThat(hits).isBetween(9_500, 10_500);
    }

    private static long estimate(KeyLoadSample s, String key) {
        byte[] b = new byte[s.getHeavyHitters().remaining()];
        s.getHeavyHitters().duplicate().get(b);
        return HeavyHitters.fromBytes(b).getEstimate(key);
    }

    @Test
    void sampleAndHoldEstimatesFirstWindowAndCountsPreservedKeysExactly() throws Exception {
        try (var h = new OneInputStreamOperatorTestHarness<Event, KeyLoadSample>(new KeySampler(W, 64, 0.1), MAX_P, 2, 0)) {
            h.open();
            long seq = 0;
            // window 0: "hot" 300 records among 300 records of 100 rare keys
            for (int i = 0; i < 300; i++) {
                h.processElement(new Event(i, "hot", 1, seq), i);
                seq++;
                h.processElement(new Event(i, "rare-" + (i % 100), 1, seq), i);
                seq++;
            }
            h.processWatermark(new Watermark(W - 1));
            // window 1: "hot" 120 records, "new" 50 records
            for (int i = 0; i < 120; i++) {
                h.processElement(new Event(W + i, "hot", 1, seq), W + i);
                seq++;
                if (i < 50) {
                    h.processElement(new Event(W + i, "new", 1, seq), W + i);
                    seq++;
                }
            }
            h.processWatermark(new Watermark(2 * W - 1));
            List<KeyLoadSample> out = records(h);
            assertThat(out).hasSize(2);
            // first sampled after a geometric(0.1) prefix, counted exactly from then on
            assertThat(estimate(out.get(0), "hot")).isBetween(300L - 40, 300L);
            // held from the window's start: exact
            assertThat(estimate(out.get(1), "hot")).isEqualTo(120);
            assertThat(estimate(out.get(1), "new")).isBetween(50L - 40, 50L);
            assertThat(out.get(1).getRecords()).isEqualTo(170);
        }
    }
}
