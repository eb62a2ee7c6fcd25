package io.keyshift.profiler;

import io.keyshift.avro.HeavyHitter;
import io.keyshift.avro.KeyLoadSample;
import io.keyshift.avro.WindowLoad;
import io.keyshift.avro.WindowSample;
import io.keyshift.config.AvroTrust;
import io.keyshift.route.KeyCodec;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.util.OutputTag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The router's {@link KeySampler} (exact key-group counts, sketch and sample-and-hold estimates, deterministic
 * sampling) and the {@link KeyDistributionProfiler} that merges its reports (a window closes once every active router
 * subtask is past it; empty windows are filled, idle subtasks passed by, loads summed).
 */
class SamplerProfilerTest {
    static {
        AvroTrust.install();
    }

    private static final int MAX_P = 128;
    private static final long W = 1000;
    private static final KeyCodec<String> CODEC = KeyCodec.forType(Types.STRING, new SerializerConfigImpl());
    private static final OutputTag<WindowLoad> LOADS =
            new OutputTag<>("loads", new AvroTypeInfo<>(WindowLoad.class));

    private static int kg(String key) {
        return KeyGroupRangeAssignment.assignToKeyGroup(key, MAX_P);
    }

    private static KeySampler<String> sampler(int sketchSize, double rate, long seed) {
        return new KeySampler<>(W, sketchSize, rate, MAX_P, CODEC, seed);
    }

    private static void add(KeySampler<String> s, String key, long t) {
        s.add(key, kg(key), t);
    }

    /** Exact records per natural key group of {@code keys}. */
    private static long[] counts(String... keys) {
        long[] c = new long[MAX_P];
        for (String k : keys) {
            c[kg(k)]++;
        }
        return c;
    }

    private static long[] toArray(List<Long> l) {
        return l.stream().mapToLong(Long::longValue).toArray();
    }

    /** The sample's estimate of {@code key}, or -1 if it lists no such key. */
    private static long estimate(WindowSample s, String key) {
        return s.getHeavyHitters().stream().filter(h -> h.getKey().equals(key)).mapToLong(HeavyHitter::getEstimate)
                .findFirst().orElse(-1);
    }

    /** One window's sample of one subtask that saw {@code keys} (sampling rate 1), as the router takes it. */
    private static WindowSample sampleOf(long windowStart, long seed, String... keys) {
        KeySampler<String> s = sampler(64, 1.0, seed);
        for (int i = 0; i < keys.length; i++) {
            add(s, keys[i], windowStart + i);
        }
        List<WindowSample> out = s.closeUpTo(windowStart + W - 1);
        assertThat(out).hasSize(1);
        return out.get(0);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // KeySampler

    /**
     * A late record of a window the sampler had closed reopened it: the window's sample went out a second time, and
     * whether the profile counted the record depended on when the other subtasks' reports reached the profiler.
     */
    @Test
    void aLateRecordOfAClosedWindowIsLeftOutAndCounted() {
        KeySampler<String> s = sampler(64, 1.0, 0);
        add(s, "a", 100);
        add(s, "b", W + 100);
        assertThat(s.closeUpTo(W + 200)).singleElement().satisfies(w -> assertThat(w.getRecords()).isEqualTo(1));
        add(s, "late", 200);
        add(s, "late", W - 1);
        // behind the watermark, but its window is still open: counted
        add(s, "b", W + 150);
        assertThat(s.lateRecords()).isEqualTo(2);
        assertThat(s.openWindows()).isEqualTo(1);
        assertThat(s.closeUpTo(Long.MAX_VALUE)).singleElement().satisfies(w -> {
            assertThat(w.getWindowStart()).isEqualTo(W);
            assertThat(w.getRecords()).isEqualTo(2);
            assertThat(estimate(w, "late")).isEqualTo(-1);
        });
    }

    /**
     * The keys preserved for the next window keep their places in its hold: cold keys sampled before a hot key's first
     * record of the window filled the hold, and the hot key went to the overflow sketch, its count no longer exact.
     */
    @Test
    void preservedKeysKeepTheirPlacesInTheNextWindowsHold() {
        // sketch 8: 6 held keys per window, the 3 largest preserved
        KeySampler<String> s = sampler(8, 0.5, 3);
        for (int i = 0; i < 300; i++) {
            add(s, "hot-" + (i % 3), 10 + i);
        }
        s.closeUpTo(W - 1);
        coldKeysFirstThenTheHotOnesExact(s);
    }

    /** 40 cold keys, then 33 records of each of the 3 hot keys in window [W, 2W): the hot keys' counts are exact. */
    private static void coldKeysFirstThenTheHotOnesExact(KeySampler<String> s) {
        for (int i = 0; i < 40; i++) {
            add(s, "cold-" + i, W + 10 + i);
        }
        for (int i = 0; i < 99; i++) {
            add(s, "hot-" + (i % 3), W + 100 + i);
        }
        assertThat(s.closeUpTo(2 * W - 1)).singleElement().satisfies(w -> {
            for (int k = 0; k < 3; k++) {
                assertThat(estimate(w, "hot-" + k)).as("hot-" + k).isEqualTo(33);
            }
        });
    }

    /**
     * A window taken before it closed (an input that turned idle) and then continued keeps the hold: its preserved
     * keys keep their places in the continued part (cold keys sampled first had filled it: the hot keys went to the
     * overflow sketch).
     */
    @Test
    void aHoldWindowTakenBeforeItClosedKeepsThePreservedKeysPlaces() {
        KeySampler<String> s = sampler(8, 0.5, 3);
        for (int i = 0; i < 300; i++) {
            add(s, "hot-" + (i % 3), 10 + i);
        }
        add(s, "hot-0", W + 5);
        assertThat(s.takeOpen()).hasSize(2);
        coldKeysFirstThenTheHotOnesExact(s);
    }

    /**
     * A key first sampled within a window and held is counted exactly from then on, also across an idle spell that
     * took the window's first part (its hold started empty in the continued part, and the key lost records to being
     * sampled again). Its parts' estimates add up to the uninterrupted window's.
     */
    @Test
    void aKeyHeldBeforeAnIdleSpellStaysHeldInTheContinuedPart() {
        KeySampler<String> uninterrupted = sampler(64, 0.1, 5);
        KeySampler<String> interrupted = sampler(64, 0.1, 5);
        for (int i = 0; i < 100; i++) {
            add(uninterrupted, "x", 10 + i);
            add(interrupted, "x", 10 + i);
        }
        List<WindowSample> parts = new ArrayList<>(interrupted.takeOpen());
        for (int i = 0; i < 100; i++) {
            add(uninterrupted, "x", 200 + i);
            add(interrupted, "x", 200 + i);
        }
        parts.addAll(interrupted.closeUpTo(W - 1));
        List<WindowSample> whole = uninterrupted.closeUpTo(W - 1);
        long expected = estimateOf(whole, "x");
        assertThat(expected).as("held from its first sampled record").isGreaterThan(150);
        assertThat(estimateOf(parts, "x")).isEqualTo(expected);
        // no row of a key held on without a record since
        assertThat(parts).allSatisfy(w -> assertThat(w.getHeavyHitters())
                .allSatisfy(h -> assertThat(h.getEstimate()).isPositive()));
    }

    /**
     * A hold state written at a larger sketch size keeps at most half the smaller hold's places for preserved keys (all
     * of them took every place of the next window, and no key newly sampled there could be held).
     */
    @Test
    void preservedKeysOfALargerSketchAreTrimmedToHalfTheHoldAtARestore() throws Exception {
        KeySampler<String> large = sampler(64, 0.5, 7);
        for (int i = 0; i < 800; i++) {
            add(large, "k" + (i % 40), 10 + i);
        }
        add(large, "k0", W + 1);
        byte[] hold = large.snapshotHold(0, 1);
        assertThat(preservedIn(hold)).isGreaterThan(3);
        KeySampler<String> small = sampler(8, 0.5, 7);
        large.snapshot().forEach(small::restore);
        assertThat(small.restoreHold(hold, 0, 1)).isTrue();
        // 0.75 x 8 = 6 places, 3 preserved
        assertThat(preservedIn(small.snapshotHold(0, 1))).isEqualTo(3);
    }

    /** The number of preserved keys in a hold state (format, subtask, subtasks, then their count). */
    private static int preservedIn(byte[] hold) throws Exception {
        java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(hold));
        in.readInt();
        in.readInt();
        in.readInt();
        return in.readInt();
    }

    private static long estimateOf(List<WindowSample> samples, String key) {
        return samples.stream().flatMap(w -> w.getHeavyHitters().stream())
                .filter(h -> h.getKey().equals(key)).mapToLong(HeavyHitter::getEstimate).sum();
    }

    /**
     * A checkpoint after an idle input's {@code takeOpen} split the hold window: the part taken before it still counts
     * towards the keys preserved into the next window after a restore, as it does without the restore (the taken
     * part's held counts were left out of the checkpoint until 2026-12-03, and the restored sampler preserved other
     * keys).
     */
    @Test
    void aHoldWindowSplitByTakeOpenBeforeACheckpointPreservesAsWithoutTheRestore() throws Exception {
        java.util.function.Consumer<KeySampler<String>> untilTheCut = s -> {
            for (int i = 0; i < 60; i++) {
                add(s, "c" + (i % 3), 10 + i);
            }
            // the hold window: the "a" keys before the input turned idle, fewer records of the "b" keys after
            for (int i = 0; i < 300; i++) {
                add(s, "a" + (i % 3), W + 10 + i);
            }
            assertThat(s.takeOpen()).hasSize(2);
            for (int i = 0; i < 90; i++) {
                add(s, "b" + (i % 3), W + 400 + i);
            }
        };
        java.util.function.Function<KeySampler<String>, List<WindowSample>> rest = s -> {
            for (int i = 0; i < 600; i++) {
                add(s, (i % 2 == 0 ? "a" : "b") + (i / 2 % 3), 2 * W + 10 + i);
            }
            return s.closeUpTo(Long.MAX_VALUE - W);
        };
        KeySampler<String> uninterrupted = sampler(16, 0.5, 3);
        untilTheCut.accept(uninterrupted);
        List<WindowSample> expected = rest.apply(uninterrupted);

        KeySampler<String> before = sampler(16, 0.5, 3);
        untilTheCut.accept(before);
        KeySampler<String> restored = sampler(16, 0.5, 3);
        before.snapshot().forEach(restored::restore);
        assertThat(restored.restoreHold(before.snapshotHold(0, 1), 0, 1)).isTrue();
        List<WindowSample> got = rest.apply(restored);

        // the "a" keys, preserved from the taken part, are counted exactly in window 2 from their first record
        assertThat(expected).hasSize(2);
        for (int k = 0; k < 3; k++) {
            assertThat(estimate(expected.get(1), "a" + k)).as("a%d", k).isEqualTo(100);
        }
        assertThat(got).isEqualTo(expected);
    }

    @Test
    void samplerCountsKeyGroupsExactlyAndListsTheKeysLargestFirst() {
        KeySampler<String> s = sampler(64, 1.0, 0);
        String[] keys = {"a", "c", "a", "b", "c", "a"};
        for (int i = 0; i < keys.length; i++) {
            add(s, keys[i], 100 + i);
        }
        add(s, "next-window", W + 500);
        assertThat(s.openWindows()).isEqualTo(2);

        // a window closes once the watermark reaches its max timestamp, not before
        assertThat(s.closeUpTo(W - 2)).isEmpty();
        List<WindowSample> out = s.closeUpTo(W - 1);
        assertThat(out).singleElement().satisfies(w -> {
            assertThat(w.getWindowStart()).isZero();
            assertThat(w.getWindowEnd()).isEqualTo(W);
            assertThat(w.getRecords()).isEqualTo(6);
            assertThat(w.getSamplingRate()).isEqualTo(1.0);
            assertThat(w.getKeyGroupCounts()).hasSize(MAX_P);
            assertThat(toArray(w.getKeyGroupCounts())).containsExactly(counts(keys));
            assertThat(w.getHeavyHitters()).extracting(HeavyHitter::getKey).containsExactly("a", "c", "b");
            assertThat(w.getHeavyHitters()).extracting(HeavyHitter::getEstimate).containsExactly(3L, 2L, 1L);
            assertThat(w.getHeavyHitters()).extracting(HeavyHitter::getKeyGroup)
                    .containsExactly(kg("a"), kg("c"), kg("b"));
            // nothing was purged from the sketch: every count is exact
            assertThat(w.getMaxError()).isZero();
        });

        // the later window stays open until its own end
        assertThat(s.openWindows()).isEqualTo(1);
        assertThat(s.closeUpTo(2 * W - 2)).isEmpty();
        assertThat(s.closeUpTo(Long.MAX_VALUE)).singleElement().satisfies(w -> {
            assertThat(w.getWindowStart()).isEqualTo(W);
            assertThat(w.getRecords()).isEqualTo(1);
            assertThat(estimate(w, "next-window")).isEqualTo(1);
        });
        assertThat(s.openWindows()).isZero();
    }

    @Test
    void windowsAreAlignedToTheEpochAlsoForNegativeTimes() {
        assertThat(KeySampler.windowStart(0, W)).isZero();
        assertThat(KeySampler.windowStart(W - 1, W)).isZero();
        assertThat(KeySampler.windowStart(W, W)).isEqualTo(W);
        assertThat(KeySampler.windowStart(-1, W)).isEqualTo(-W);
        assertThat(KeySampler.windowStart(-W, W)).isEqualTo(-W);

        KeySampler<String> s = sampler(64, 1.0, 0);
        add(s, "early", -5);
        assertThat(s.closeUpTo(-2)).isEmpty();
        assertThat(s.closeUpTo(-1)).singleElement().satisfies(w -> {
            assertThat(w.getWindowStart()).isEqualTo(-W);
            assertThat(w.getWindowEnd()).isZero();
        });
    }

    @Test
    void aHeavyKeysEstimateIsWithinTheSaturatedSketchsErrorBound() {
        // a map of 8 keeps at most 6 keys: 200 distinct rare keys force purges
        KeySampler<String> s = sampler(8, 1.0, 0);
        List<String> all = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            add(s, "hot", i);
            all.add("hot");
            if (i % 2 == 0) {
                add(s, "rare-" + i, i);
                all.add("rare-" + i);
            }
        }
        WindowSample w = s.closeUpTo(W - 1).get(0);
        // key-group counts are exact whatever the sketch does
        assertThat(w.getRecords()).isEqualTo(600);
        assertThat(toArray(w.getKeyGroupCounts())).containsExactly(counts(all.toArray(new String[0])));

        double maxError = w.getMaxError();
        assertThat(maxError).isPositive();
        // DataSketches' a-priori bound: 3.5 / map size x stream length
        assertThat(maxError).isLessThanOrEqualTo(3.5 / 8 * 600);
        assertThat(w.getHeavyHitters().get(0).getKey()).isEqualTo("hot");
        long hot = estimate(w, "hot");
        // the estimate is the upper bound: never below the true count, at most the maximum error above it
        assertThat(hot).isGreaterThanOrEqualTo(400);
        assertThat((double) hot - 400).isLessThanOrEqualTo(maxError);
        assertThat(w.getHeavyHitters()).filteredOn(h -> h.getKey().startsWith("rare-"))
                .allSatisfy(h -> assertThat((double) h.getEstimate() - 1).isLessThanOrEqualTo(maxError));
    }

    @Test
    void samplingIsDeterministicPerSeedAndNearItsRate() {
        int hits = 0;
        int differ = 0;
        for (long p = 0; p < 100_000; p++) {
            boolean x = KeySampler.sampled(0L, p, 0.1);
            // SplitMix64 (Steele, Lea and Flood 2014), the JDK's SplittableRandom: its first draw from the seed
            // (window seed + position x golden gamma), in any JVM
            assertThat(x).isEqualTo(new java.util.SplittableRandom(p * 0x9E3779B97F4A7C15L).nextDouble() < 0.1);
            assertThat(KeySampler.sampled(12_345L, p, 0.1)).isEqualTo(
                    new java.util.SplittableRandom(12_345L + p * 0x9E3779B97F4A7C15L).nextDouble() < 0.1);
            if (x) {
                hits++;
                // one uniform draw per (seed, position): sampled at a rate, sampled at any higher one
                assertThat(KeySampler.sampled(0L, p, 0.5)).isTrue();
            }
            if (x != KeySampler.sampled(12_345L, p, 0.1)) {
                differ++;
            }
        }
        assertThat(hits).isBetween(9_500, 10_500);
        // another window or subtask draws differently
        assertThat(differ).isPositive();

        // the same records in the same order give the same samples
        assertThat(sampleAndHold(0)).isEqualTo(sampleAndHold(0));
    }

    /** Window 0: "hot" 1000 records among 300 records of 100 rare keys; window 1: "hot" 300, "new" 200. */
    private static List<WindowSample> sampleAndHold(long seed) {
        KeySampler<String> s = sampler(64, 0.1, seed);
        for (int i = 0; i < 1000; i++) {
            add(s, "hot", i);
            if (i < 300) {
                add(s, "rare-" + (i % 100), i);
            }
        }
        for (int i = 0; i < 300; i++) {
            add(s, "hot", W + i);
            if (i < 200) {
                add(s, "new", W + i);
            }
        }
        return s.closeUpTo(2 * W - 1);
    }

    @Test
    void sampleAndHoldCountsAKeyExactlyOnceItIsHeldAndKeepsHeavyKeysHeldIntoTheNextWindow() {
        List<WindowSample> out = sampleAndHold(0);
        assertThat(out).hasSize(2);
        WindowSample first = out.get(0);
        WindowSample second = out.get(1);
        // key-group counts and records count every record, sampled or not
        assertThat(first.getRecords()).isEqualTo(1300);
        assertThat(second.getRecords()).isEqualTo(500);
        assertThat(toArray(second.getKeyGroupCounts()).length).isEqualTo(MAX_P);
        assertThat(second.getKeyGroupCounts().stream().mapToLong(Long::longValue).sum()).isEqualTo(500);
        assertThat(second.getKeyGroupCounts().get(kg("hot"))).isGreaterThanOrEqualTo(300L);
        assertThat(first.getSamplingRate()).isEqualTo(0.1);

        // first sampled after a geometric(0.1) prefix, counted exactly from then on: short, never over
        assertThat(estimate(first, "hot")).isBetween(1000L - 80, 1000L);
        assertThat(first.getHeavyHitters().get(0).getKey()).isEqualTo("hot");
        assertThat(first.getHeavyHitters()).filteredOn(h -> h.getKey().startsWith("rare-"))
                .allSatisfy(h -> assertThat(h.getEstimate()).isBetween(1L, 3L));
        // held from the next window's start: exact
        assertThat(estimate(second, "hot")).isEqualTo(300);
        // a new key is sampled within the window: short by its prefix
        assertThat(estimate(second, "new")).isBetween(200L - 80, 200L);
        assertThat(estimate(second, "rare-0")).isEqualTo(-1);
    }

    @Test
    void restoredWindowsAddUpWithWhatComesAfterTheRestore() {
        KeySampler<String> a = sampler(64, 1.0, 0);
        for (String k : new String[] {"a", "a", "a", "b"}) {
            add(a, k, 10);
        }
        KeySampler<String> b = sampler(64, 1.0, 1);
        for (String k : new String[] {"a", "a", "c"}) {
            add(b, k, 20);
        }
        // a snapshot leaves the windows open
        List<WindowSample> fromA = a.snapshot();
        assertThat(a.openWindows()).isEqualTo(1);
        List<WindowSample> fromB = b.snapshot();

        // after a rescale one subtask gets both subtasks' open windows
        KeySampler<String> restored = sampler(64, 1.0, 0);
        fromA.forEach(restored::restore);
        fromB.forEach(restored::restore);
        add(restored, "a", 30);
        add(restored, "d", 40);
        WindowSample w = restored.closeUpTo(W - 1).get(0);
        assertThat(w.getRecords()).isEqualTo(9);
        assertThat(toArray(w.getKeyGroupCounts()))
                .containsExactly(counts("a", "a", "a", "b", "a", "a", "c", "a", "d"));
        assertThat(estimate(w, "a")).isEqualTo(6);
        assertThat(estimate(w, "b")).isEqualTo(1);
        assertThat(estimate(w, "c")).isEqualTo(1);
        assertThat(estimate(w, "d")).isEqualTo(1);
        assertThat(w.getHeavyHitters().get(0).getKey()).isEqualTo("a");
    }

    /**
     * At rate 1 a window restored mid-way from its sample and the sampler's hold (no rescale) ends with the samples of
     * a run that never stopped, also where its sketch overflowed and purged (many more keys than it keeps) before and
     * after the checkpoint, and over two restores: the planner then sees what it would have seen (DESIGN: a recovery
     * routes as the first run did). From the samples alone (another subtask's hold, after a rescale) the estimates
     * keep the bound of both parts.
     */
    @Test
    void aRestoreMidWindowAtRateOneContinuesAsIfTheSamplerHadNotStopped() throws Exception {
        for (int sketchSize : new int[] {64, 1024}) {
            java.util.SplittableRandom r = new java.util.SplittableRandom(sketchSize);
            int keys = sketchSize * 8;
            List<String> records = new ArrayList<>();
            for (int n = 0; n < 40 * keys; n++) {
                // skewed over many keys: a few heavy ones, a long tail that keeps the sketch purging
                int k = r.nextInt(4) == 0 ? r.nextInt(8) : r.nextInt(keys);
                records.add("k" + k);
            }
            KeySampler<String> uninterrupted = sampler(sketchSize, 1.0, 3);
            records.forEach(k -> add(uninterrupted, k, 10));
            WindowSample expected = uninterrupted.closeUpTo(W - 1).get(0);

            KeySampler<String> first = sampler(sketchSize, 1.0, 3);
            int a = records.size() / 3;
            int b = 2 * records.size() / 3;
            records.subList(0, a).forEach(k -> add(first, k, 10));
            KeySampler<String> second = sampler(sketchSize, 1.0, 3);
            first.snapshot().forEach(second::restore);
            assertThat(second.restoreHold(first.snapshotHold(0, 1), 0, 1)).isTrue();
            records.subList(a, b).forEach(k -> add(second, k, 10));
            KeySampler<String> third = sampler(sketchSize, 1.0, 3);
            second.snapshot().forEach(third::restore);
            assertThat(third.restoreHold(second.snapshotHold(0, 1), 0, 1)).isTrue();
            records.subList(b, records.size()).forEach(k -> add(third, k, 10));
            WindowSample restored = third.closeUpTo(W - 1).get(0);

            assertThat(expected.getMaxError()).as("the sketch purged (size %d)", sketchSize).isPositive();
            assertThat(restored).as("sketch size %d", sketchSize).isEqualTo(expected);

            KeySampler<String> fromSamples = sampler(sketchSize, 1.0, 3);
            first.snapshot().forEach(fromSamples::restore);
            assertThat(fromSamples.restoreHold(first.snapshotHold(1, 2), 0, 1)).isFalse();
            records.subList(a, records.size()).forEach(k -> add(fromSamples, k, 10));
            WindowSample merged = fromSamples.closeUpTo(W - 1).get(0);
            assertThat(merged.getRecords()).isEqualTo(expected.getRecords());
            assertThat(merged.getMaxError()).as("the restored part's bound counts (size %d)", sketchSize)
                    .isGreaterThanOrEqualTo(first.snapshot().get(0).getMaxError());
        }
    }

    /**
     * Below rate 1 (sample and hold) a sampler restored from its windows' samples and its hold continues as if it had
     * not stopped: held keys' exact counts, the overflow sketch, and the keys preserved into the next window, at
     * checkpoints mid-window, right after a window change (the closed window's held keys not yet preserved), and with
     * pseudonymized keys. Another subtask's hold (after a rescale) is not taken.
     */
    @Test
    void belowRateOneARestoreWithTheHoldContinuesAsIfTheSamplerHadNotStopped() throws Exception {
        io.keyshift.route.KeyPseudonymizer ps = io.keyshift.route.KeyPseudonymizer.fromSecret("sampler-secret-0123");
        for (boolean pseudonymized : new boolean[] {false, true}) {
            KeyCodec<String> codec = pseudonymized ? KeyCodec.pseudonymous(CODEC, ps) : CODEC;
            java.util.SplittableRandom r = new java.util.SplittableRandom(11);
            List<String> keys = new ArrayList<>();
            List<Long> times = new ArrayList<>();
            for (int window = 0; window < 3; window++) {
                for (int n = 0; n < 3_000; n++) {
                    int k = r.nextInt(3) == 0 ? r.nextInt(6) : r.nextInt(400);
                    keys.add("k" + k);
                    times.add(window * W + n * W / 3_000);
                }
            }
            java.util.function.Supplier<KeySampler<String>> fresh = () -> new KeySampler<>(W, 64, 0.2, MAX_P, codec, 5);
            java.util.function.BiConsumer<KeySampler<String>, Integer> feed = (s, i) -> s.add(
                    pseudonymized ? codec.pseudonym(keys.get(i), kg(keys.get(i))) : keys.get(i), kg(keys.get(i)),
                    times.get(i));
            KeySampler<String> uninterrupted = fresh.get();
            List<WindowSample> expected = new ArrayList<>();
            for (int i = 0; i < keys.size(); i++) {
                feed.accept(uninterrupted, i);
            }
            expected.addAll(uninterrupted.closeUpTo(Long.MAX_VALUE - W));

            // checkpoints mid-window 0, right after window 1 opened (window 0 still open), and mid-window 2
            int[] cuts = {1_234, 3_001, 7_777};
            KeySampler<String> current = fresh.get();
            List<WindowSample> got = new ArrayList<>();
            int from = 0;
            for (int cut : cuts) {
                for (int i = from; i < cut; i++) {
                    feed.accept(current, i);
                }
                if (cut == 7_777) {
                    // windows 0 and 1 closed before this checkpoint; window 1 is the hold window, closed
                    got.addAll(current.closeUpTo(2 * W - 1));
                }
                List<WindowSample> samples = current.snapshot();
                byte[] hold = current.snapshotHold(0, 1);
                assertThat(hold).isNotNull();
                KeySampler<String> restored = fresh.get();
                samples.forEach(restored::restore);
                assertThat(restored.restoreHold(hold, 0, 1)).isTrue();
                current = restored;
                from = cut;
            }
            for (int i = from; i < keys.size(); i++) {
                feed.accept(current, i);
            }
            got.addAll(current.closeUpTo(Long.MAX_VALUE - W));
            assertThat(got).as("pseudonymized %s", pseudonymized).hasSize(3).isEqualTo(expected);

            // after a rescale (another subtask's hold, or another number of subtasks) the hold is not taken
            KeySampler<String> other = fresh.get();
            assertThat(other.restoreHold(uninterruptedHold(fresh, feed, keys.size()), 1, 2)).isFalse();
        }
    }

    /**
     * Below rate 1, a window whose overflow sketch purged every counter it had (all of them 1) before a checkpoint
     * keeps what it purged in its error after the restore: the restored window has no sketch until its next overflow
     * record, and its sample's maximum error left the purged total out (the profile's upper bounds too tight).
     */
    @Test
    void aRestoredWindowWhoseSketchPurgedEverythingKeepsItsErrorBound() throws Exception {
        java.util.function.Supplier<KeySampler<String>> fresh = () -> new KeySampler<>(W, 8, 0.99, MAX_P, CODEC, 3);
        boolean purged = false;
        // checkpoints after the last record of 1 to 30 keys seen once (the hold full): some right after a purge that
        // left the sketch empty
        for (int once = 1; once <= 30; once++) {
            List<String> keys = new ArrayList<>();
            for (int round = 0; round < 4; round++) {
                for (int h = 0; h < 6; h++) {
                    keys.add("held" + h);
                }
            }
            for (int o = 0; o < once; o++) {
                keys.add("once" + o);
            }
            KeySampler<String> uninterrupted = fresh.get();
            KeySampler<String> before = fresh.get();
            for (int i = 0; i < keys.size(); i++) {
                add(uninterrupted, keys.get(i), i);
                add(before, keys.get(i), i);
            }
            List<WindowSample> expected = uninterrupted.closeUpTo(W - 1);
            purged |= expected.get(0).getMaxError() > 0;
            KeySampler<String> restored = fresh.get();
            before.snapshot().forEach(restored::restore);
            assertThat(restored.restoreHold(before.snapshotHold(0, 1), 0, 1)).isTrue();
            assertThat(restored.closeUpTo(W - 1)).as("%d keys seen once", once).isEqualTo(expected);
        }
        assertThat(purged).isTrue();
    }

    /**
     * A window restored from two subtasks' samples after a rescale, then checkpointed again at the new parallelism,
     * continues as the rescaled sampler would have without the second restore: at rate 0.2 the keys held since the
     * rescale keep their exact counts and are preserved into the next window (they were left out of the hold, so the
     * next window started with nothing preserved), and at rate 1 the restored estimates and the window's own sketch
     * come back as they were.
     */
    @Test
    void aWindowRestoredAfterARescaleRestoresExactlyAtTheNextCheckpoint() throws Exception {
        for (double rate : new double[] {0.2, 1.0}) {
            java.util.SplittableRandom r = new java.util.SplittableRandom(13);
            List<String> keys = new ArrayList<>();
            List<Long> times = new ArrayList<>();
            for (int window = 0; window < 2; window++) {
                for (int n = 0; n < 3_000; n++) {
                    keys.add("k" + (r.nextInt(3) == 0 ? r.nextInt(6) : r.nextInt(400)));
                    times.add(window * W + n * W / 3_000);
                }
            }
            java.util.function.Supplier<KeySampler<String>> fresh = () -> new KeySampler<>(W, 64, rate, MAX_P, CODEC, 5);
            // two subtasks before the rescale, each with half of the first third of window 0
            KeySampler<String> a = fresh.get();
            KeySampler<String> b = fresh.get();
            for (int i = 0; i < 1_000; i++) {
                add(i % 2 == 0 ? a : b, keys.get(i), times.get(i));
            }
            java.util.function.Supplier<KeySampler<String>> rescaled = () -> {
                KeySampler<String> s = fresh.get();
                a.snapshot().forEach(s::restore);
                b.snapshot().forEach(s::restore);
                return s;
            };
            KeySampler<String> uninterrupted = rescaled.get();
            KeySampler<String> current = rescaled.get();
            for (int i = 1_000; i < 2_000; i++) {
                add(uninterrupted, keys.get(i), times.get(i));
                add(current, keys.get(i), times.get(i));
            }
            // a checkpoint at the new parallelism, mid-window 0
            KeySampler<String> restored = fresh.get();
            current.snapshot().forEach(restored::restore);
            assertThat(restored.restoreHold(current.snapshotHold(0, 1), 0, 1)).isTrue();
            for (int i = 2_000; i < keys.size(); i++) {
                add(uninterrupted, keys.get(i), times.get(i));
                add(restored, keys.get(i), times.get(i));
            }
            List<WindowSample> expected = uninterrupted.closeUpTo(Long.MAX_VALUE - W);
            assertThat(expected).hasSize(2);
            assertThat(restored.closeUpTo(Long.MAX_VALUE - W)).as("rate %s", rate).isEqualTo(expected);
        }
    }

    /**
     * A window merged from parts (restored estimates after a rescale, and the window's own sketch since) bounds the
     * error of every key by both parts' errors: its maxError is at least what the own sketch alone purged plus the
     * restored part's (it had counted the restored part and the merge's purges only, 0 here).
     */
    @Test
    void aMergedWindowsMaxErrorCoversItsOwnSketchAsWellAsTheRestoredPart() {
        KeySampler<String> a = sampler(64, 1.0, 3);
        add(a, "restored", 1);
        KeySampler<String> merged = sampler(64, 1.0, 3);
        a.snapshot().forEach(merged::restore);
        KeySampler<String> own = sampler(64, 1.0, 3);
        // 1,000 distinct keys after the rescale: the window's own sketch of 64 purges
        java.util.SplittableRandom r = new java.util.SplittableRandom(2);
        for (int n = 0; n < 5_000; n++) {
            String key = r.nextInt(20) == 0 ? "hot" : "k" + r.nextInt(1_000);
            add(merged, key, 10);
            add(own, key, 10);
        }
        double ownError = own.closeUpTo(W - 1).get(0).getMaxError();
        assertThat(ownError).isPositive();
        assertThat(merged.closeUpTo(W - 1).get(0).getMaxError())
                .isGreaterThanOrEqualTo(ownError + a.snapshot().get(0).getMaxError());
    }

    /**
     * Holds of formats 1 and 2 (earlier builds': no flag for restored estimates after each window, no taken part of
     * the hold window at the end) restore as their format-3 counterpart does.
     */
    @Test
    void holdsOfFormatsOneAndTwoStillRestore() throws Exception {
        KeySampler<String> s = sampler(64, 0.2, 3);
        for (int i = 0; i < 500; i++) {
            add(s, "k" + i % 37, 10 + i);
        }
        byte[] v3 = s.snapshotHold(0, 1);
        // one open window, restored from no sample, and no taken part: format 3 ends with the window's 'no restored
        // estimates' flag and the 'no taken part' flag, format 2 without the last, format 1 without both
        assertThat(v3[v3.length - 1]).isZero();
        assertThat(v3[v3.length - 2]).isZero();
        byte[] v2 = java.util.Arrays.copyOf(v3, v3.length - 1);
        java.nio.ByteBuffer.wrap(v2).putInt(0, 2);
        byte[] v1 = java.util.Arrays.copyOf(v3, v3.length - 2);
        java.nio.ByteBuffer.wrap(v1).putInt(0, 1);
        List<List<WindowSample>> outs = new ArrayList<>();
        for (byte[] hold : List.of(v1, v2, v3)) {
            KeySampler<String> restored = sampler(64, 0.2, 3);
            s.snapshot().forEach(restored::restore);
            assertThat(restored.restoreHold(hold, 0, 1)).isTrue();
            for (int i = 0; i < 500; i++) {
                add(restored, "k" + i % 41, 600 + i);
            }
            outs.add(restored.closeUpTo(Long.MAX_VALUE - W));
        }
        assertThat(outs.get(0)).isNotEmpty().isEqualTo(outs.get(2));
        assertThat(outs.get(1)).isEqualTo(outs.get(2));
    }

    /** A damaged hold state (a key length beyond its bytes) fails with an IOException, not an out-of-memory error. */
    @Test
    void aDamagedHoldStateFailsWithAnIOException() throws Exception {
        KeySampler<String> s = sampler(64, 0.2, 3);
        for (int i = 0; i < 100; i++) {
            add(s, "k" + i % 7, 10);
        }
        byte[] hold = s.snapshotHold(0, 1);
        // the first preserved or held key's length sits after format, subtask, subtasks, preserved count (empty)
        // and the hold window: make the first held key of the open window impossibly long
        java.nio.ByteBuffer.wrap(hold).putInt(4 * 4 + 8 + 1 + 4 + 8 + 4, Integer.MAX_VALUE);
        KeySampler<String> restored = sampler(64, 0.2, 3);
        s.snapshot().forEach(restored::restore);
        assertThatThrownBy(() -> restored.restoreHold(hold, 0, 1)).isInstanceOf(java.io.IOException.class)
                .hasMessageContaining("damaged");
    }

    private static byte[] uninterruptedHold(java.util.function.Supplier<KeySampler<String>> fresh,
                                            java.util.function.BiConsumer<KeySampler<String>, Integer> feed, int n)
            throws Exception {
        KeySampler<String> s = fresh.get();
        for (int i = 0; i < n / 2; i++) {
            feed.accept(s, i);
        }
        return s.snapshotHold(0, 2);
    }

    /**
     * After a restore the rate in force (the keyshiftSamplingRate gauge) is that of the latest window restored, not
     * the configured one, until a new window opens.
     */
    @Test
    void aRestoredSamplerReportsTheRateOfItsLatestWindow() {
        KeySampler<String> a = sampler(64, 1.0, 0);
        a.rateFrom(W, 0.25);
        add(a, "x", 10);
        add(a, "y", W + 10);
        assertThat(a.lastRate()).isEqualTo(0.25);
        KeySampler<String> restored = sampler(64, 1.0, 0);
        List<WindowSample> windows = new java.util.ArrayList<>(a.snapshot());
        java.util.Collections.reverse(windows);
        windows.forEach(restored::restore);
        assertThat(restored.lastRate()).isEqualTo(0.25);
    }

    /** With pseudonymized keys: samples name pseudonyms with the keys' own key groups, also after a restore. */
    @Test
    void pseudonymsKeepTheirKeysKeyGroupsThroughARestore() {
        io.keyshift.route.KeyPseudonymizer ps = io.keyshift.route.KeyPseudonymizer.fromSecret("sampler-secret-0123");
        KeyCodec<String> codec = KeyCodec.pseudonymous(CODEC, ps);
        for (double rate : new double[] {1.0, 0.5}) {
            KeySampler<String> a = new KeySampler<>(W, 64, rate, MAX_P, codec, 0);
            for (String k : new String[] {"a", "a", "a", "b"}) {
                a.add(codec.pseudonym(k, kg(k)), kg(k), 10);
            }
            KeySampler<String> restored = new KeySampler<>(W, 64, rate, MAX_P, codec, 0);
            a.snapshot().forEach(restored::restore);
            restored.add(codec.pseudonym("a", kg("a")), kg("a"), 30);
            WindowSample w = restored.closeUpTo(W - 1).get(0);
            assertThat(w.getRecords()).isEqualTo(5);
            assertThat(w.getHeavyHitters()).isNotEmpty().allSatisfy(h -> {
                String key = h.getKey().equals(ps.pseudonym("a")) ? "a" : "b";
                assertThat(h.getKey()).isEqualTo(ps.pseudonym(key));
                assertThat(h.getKeyGroup()).isEqualTo(kg(key));
            });
            if (rate == 1.0) {
                assertThat(w.getHeavyHitters().get(0).getKey()).isEqualTo(ps.pseudonym("a"));
                assertThat(w.getHeavyHitters().get(0).getEstimate()).isEqualTo(4);
            }
        }
    }

    /** A sampling-rate command: windows that start at or after its time and open after it are sampled at its rate. */
    @Test
    void aCommandedRateHoldsForTheWindowsFromItsTime() {
        KeySampler<String> s = sampler(64, 1.0, 0);
        add(s, "a", 10);
        s.rateFrom(2 * W, 0.5);
        add(s, "a", W + 10);
        add(s, "a", 20);
        for (int i = 0; i < 100; i++) {
            add(s, "k" + (i % 7), 2 * W + i);
        }
        assertThat(s.lastRate()).isEqualTo(0.5);
        List<WindowSample> closed = s.closeUpTo(3 * W - 1);
        assertThat(closed).extracting(WindowSample::getSamplingRate).containsExactly(1.0, 1.0, 0.5);
        assertThat(closed.get(0).getRecords()).isEqualTo(2);
        assertThat(closed.get(2).getRecords()).isEqualTo(100);
        assertThatThrownBy(() -> s.rateFrom(0, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void samplerRejectsInvalidSettings() {
        assertThatThrownBy(() -> new KeySampler<>(0, 64, 1.0, MAX_P, CODEC, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new KeySampler<>(W, 64, 0.0, MAX_P, CODEC, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new KeySampler<>(W, 64, 1.5, MAX_P, CODEC, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new KeySampler<>(W, 48, 1.0, MAX_P, CODEC, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new KeySampler<>(W, 4, 1.0, MAX_P, CODEC, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // KeyDistributionProfiler

    private static OneInputStreamOperatorTestHarness<KeyLoadSample, WindowProfile> profiler(
            OperatorSubtaskState restore) throws Exception {
        var h = new OneInputStreamOperatorTestHarness<KeyLoadSample, WindowProfile>(
                new KeyDistributionProfiler(W, 2, MAX_P, LOADS), 1, 1, 0);
        h.setup();
        if (restore != null) {
            h.initializeState(restore);
        }
        h.open();
        return h;
    }

    /** What router subtask {@code subtask} of 2 reports: its input watermark and, optionally, a window's sample. */
    private static KeyLoadSample report(int subtask, long watermark, boolean idle, WindowSample window) {
        return KeyLoadSample.newBuilder().setSubtask(subtask).setSubtasks(2).setWatermark(watermark)
                .setOutputWatermark(Long.MIN_VALUE).setIdle(idle).setMaxParallelism(MAX_P).setWindow(window)
                .setLoad(null).build();
    }

    /** A report of the copies a subtask routed in a window, with its input and output watermarks. */
    private static KeyLoadSample loadReport(int subtask, long watermark, long outputWatermark, WindowLoad load) {
        return KeyLoadSample.newBuilder().setSubtask(subtask).setSubtasks(2).setWatermark(watermark)
                .setOutputWatermark(outputWatermark).setIdle(false).setMaxParallelism(MAX_P).setWindow(null)
                .setLoad(load).build();
    }

    private static void send(OneInputStreamOperatorTestHarness<KeyLoadSample, WindowProfile> h, KeyLoadSample r)
            throws Exception {
        h.processElement(r, Math.max(0L, Math.min(r.getWatermark(), Long.MAX_VALUE - 1)));
    }

    private static WindowLoad load(long start, Map<Integer, Long> routed, Map<Integer, Long> shadow) {
        List<Long> r = new ArrayList<>(Collections.nCopies(MAX_P, 0L));
        List<Long> s = new ArrayList<>(Collections.nCopies(MAX_P, 0L));
        routed.forEach(r::set);
        shadow.forEach(s::set);
        return WindowLoad.newBuilder().setWindowStart(start).setWindowEnd(start + W).setParallelism(2)
                .setRoutedKeyGroupCounts(r).setShadowKeyGroupCounts(s).build();
    }

    private static List<WindowProfile> profiles(OneInputStreamOperatorTestHarness<?, WindowProfile> h) {
        List<WindowProfile> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                out.add((WindowProfile) r.getValue());
            }
        }
        return out;
    }

    private static List<Long> watermarks(OneInputStreamOperatorTestHarness<?, ?> h) {
        List<Long> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof Watermark w) {
                out.add(w.getTimestamp());
            }
        }
        return out;
    }

    /**
     * A router subtask idle at the checkpoint is live after the restore (it starts not idle and reports with its first
     * watermark): its restored row no longer passes it by as idle, so a window closes with its sample in (the first
     * report of the other subtask closed it, and the sample was dropped as late).
     */
    @Test
    void aRouterIdleAtTheCheckpointIsWaitedForAfterTheRestore() throws Exception {
        OperatorSubtaskState snap;
        try (var h = profiler(null)) {
            send(h, report(0, W - 1, false, sampleOf(0, 0, "a")));
            send(h, report(1, W - 1, false, sampleOf(0, 1, "b")));
            send(h, report(1, W - 1, true, null));
            snap = h.snapshot(1, 1);
        }
        try (var h = profiler(snap)) {
            send(h, report(0, 2 * W - 1, false, sampleOf(W, 0, "a")));
            assertThat(profiles(h)).as("window W waits for subtask 1").isEmpty();
            send(h, report(1, 2 * W - 1, false, sampleOf(W, 1, "x", "x")));
            assertThat(profiles(h)).singleElement().satisfies(p -> {
                assertThat(p.windowStart).isEqualTo(W);
                assertThat(p.hotKeys).contains("x");
            });
        }
    }

    /**
     * A subtask's estimate is its sketch's upper bound; the profile printed the merged sketch's bounds, which held
     * none of the subtasks' errors: [E, E] with E above the true count. The bounds now hold it, and the other
     * subtask's possible purge.
     */
    @Test
    void aProfilesBoundsHoldTheTrueCountOfASaturatedSubtasksKey() throws Exception {
        KeySampler<String> saturated = sampler(8, 1.0, 0);
        for (int i = 0; i < 400; i++) {
            add(saturated, "hot", i);
            if (i % 2 == 0) {
                add(saturated, "rare-" + i, i);
            }
        }
        WindowSample w = saturated.closeUpTo(W - 1).get(0);
        // a rare key (one record) listed above its count: what the bounds must take in
        HeavyHitter over = w.getHeavyHitters().stream().filter(x -> x.getKey().toString().startsWith("rare-"))
                .max(java.util.Comparator.comparingLong(HeavyHitter::getEstimate)).orElseThrow();
        assertThat(over.getEstimate()).isGreaterThan(1);
        try (var h = profiler(null)) {
            send(h, report(0, W - 1, false, w));
            send(h, report(1, W - 1, false, sampleOf(0, 1, "hot", "other")));
            WindowProfile p = profiles(h).get(0);
            assertThat(p.hotKeys).containsExactly("hot", over.getKey().toString());
            // 401 records of "hot" in all, 1 of the rare key
            assertThat(p.hotLowerBounds[0]).isBetween(1.0, 401.0);
            assertThat(p.hotUpperBounds[0]).isGreaterThanOrEqualTo(401);
            assertThat(p.hotEstimates[1]).isGreaterThan(1);
            assertThat(p.hotLowerBounds[1]).isLessThanOrEqualTo(1);
            assertThat(p.hotUpperBounds[1]).isGreaterThanOrEqualTo(1);
            assertThat(p.hotUpperBounds[0] - p.hotLowerBounds[0]).isLessThanOrEqualTo(2 * p.maxError);
        }
    }

    /**
     * Two subtasks list 40 keys each (10 records apiece) and one key both list: the profile lists all 81 with their
     * sums. Merged into a sketch of the routers' size (64: 48 rows), the rows purged once more than 48 keys had come,
     * the keys inserted after a purge carried its offset (listed heavier than their counts), and the first subtask's
     * keys were dropped: a profile that depended on which subtask listed a key.
     */
    @Test
    void theSubtasksRowsAreSummedExactlyWhateverTheirNumber() throws Exception {
        List<WindowSample> samples = new ArrayList<>();
        for (int sub = 0; sub < 2; sub++) {
            List<HeavyHitter> rows = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                String key = (sub == 0 ? "a" : "b") + i;
                rows.add(HeavyHitter.newBuilder().setKey(key).setKeyGroup(kg(key)).setEstimate(10).build());
            }
            rows.add(HeavyHitter.newBuilder().setKey("shared").setKeyGroup(kg("shared")).setEstimate(5 + sub).build());
            List<Long> counts = new ArrayList<>(Collections.nCopies(MAX_P, 0L));
            counts.set(0, 405L + sub);
            samples.add(WindowSample.newBuilder().setWindowStart(0).setWindowEnd(W).setRecords(405 + sub)
                    .setSamplingRate(1.0).setKeyGroupCounts(counts).setHeavyHitters(rows).setMaxError(0).build());
        }
        try (var h = new OneInputStreamOperatorTestHarness<KeyLoadSample, WindowProfile>(
                new KeyDistributionProfiler(W, 100, MAX_P, LOADS), 1, 1, 0)) {
            h.setup();
            h.open();
            send(h, report(1, W - 1, false, samples.get(1)));
            send(h, report(0, W - 1, false, samples.get(0)));
            WindowProfile p = profiles(h).get(0);
            assertThat(p.hotKeys).hasSize(81);
            assertThat(p.hotKeys[0]).isEqualTo("shared");
            assertThat(p.hotEstimates[0]).isEqualTo(11);
            for (int i = 1; i < 81; i++) {
                assertThat(p.hotEstimates[i]).as(p.hotKeys[i]).isEqualTo(10);
                assertThat(p.hotLowerBounds[i]).isEqualTo(10);
                assertThat(p.hotUpperBounds[i]).isEqualTo(10);
            }
            // ties by key
            assertThat(p.hotKeys[1]).isEqualTo("a0");
            assertThat(p.hotKeys[80]).isEqualTo("b9");
            assertThat(p.maxError).isZero();
        }
    }

    /** A window without records said sampling rate 1.0 whatever the rate in force. */
    @Test
    void anEmptyWindowsProfileSaysTheSamplingRateInForce() throws Exception {
        WindowSample quarter = WindowSample.newBuilder(sampleOf(0, 0, "a", "b")).setSamplingRate(0.25).build();
        try (var h = profiler(null)) {
            send(h, report(0, W - 1, false, quarter));
            send(h, report(1, W - 1, false, WindowSample.newBuilder(sampleOf(0, 1, "c")).setSamplingRate(0.25)
                    .build()));
            send(h, report(0, 2 * W + 5, false, null));
            send(h, report(1, 2 * W + 5, false, null));
            List<WindowProfile> all = profiles(h);
            assertThat(all).hasSize(2);
            assertThat(all).extracting(p -> p.samplingRate).containsExactly(0.25, 0.25);
            var state = h.snapshot(1, 1);
            try (var again = profiler(state)) {
                send(again, report(0, 3 * W + 5, false, null));
                send(again, report(1, 3 * W + 5, false, null));
                assertThat(profiles(again)).singleElement().satisfies(p -> {
                    assertThat(p.windowStart).isEqualTo(2 * W);
                    assertThat(p.samplingRate).isEqualTo(0.25);
                });
            }
        }
    }

    @Test
    void profilerMergesTheSubtasksOnceTheSlowestActiveSubtaskHasPassedTheWindowAndFillsEmptyWindows()
            throws Exception {
        WindowSample s0 = sampleOf(0, 0, "a", "a", "b");
        WindowSample s1 = sampleOf(0, 1, "a", "c");
        try (var h = profiler(null)) {
            send(h, report(0, W - 1, false, s0));
            // subtask 1 has not reported at all: nothing closes, no watermark
            assertThat(profiles(h)).isEmpty();
            assertThat(watermarks(h)).isEmpty();

            send(h, report(1, W - 2, false, null));
            // subtask 1 is one ms short of the window's end
            assertThat(profiles(h)).isEmpty();
            assertThat(watermarks(h)).containsExactly(W - 2);

            send(h, report(1, W - 1, false, s1));
            assertThat(profiles(h)).singleElement().satisfies(p -> {
                assertThat(p.windowStart).isZero();
                assertThat(p.windowEnd).isEqualTo(W);
                assertThat(p.records).isEqualTo(5);
                assertThat(p.samplingRate).isEqualTo(1.0);
                assertThat(p.keyGroupCounts).containsExactly(counts("a", "a", "b", "a", "c"));
                // the two largest of a = 3, b = 1, c = 1 (ties by key)
                assertThat(p.hotKeys).containsExactly("a", "b");
                assertThat(p.hotEstimates).containsExactly(3.0, 1.0);
                assertThat(p.hotKeyGroups).containsExactly(kg("a"), kg("b"));
                assertThat(p.hotLowerBounds).containsExactly(3.0, 1.0);
                assertThat(p.hotUpperBounds).containsExactly(3.0, 1.0);
                assertThat(p.maxError).isZero();
            });
            assertThat(watermarks(h)).containsExactly(W - 2, W - 1);
            // the profile, stamped with the window's max timestamp, comes before the watermark that passes it
            List<Object> out = new ArrayList<>(h.getOutput());
            assertThat(out.get(out.size() - 1)).isEqualTo(new Watermark(W - 1));
            assertThat(((StreamRecord<?>) out.get(out.size() - 2)).getTimestamp()).isEqualTo(W - 1);

            // two windows without records pass: empty profiles, in order, once both subtasks are past them
            send(h, report(0, 3 * W + 5, false, null));
            assertThat(profiles(h)).hasSize(1);
            send(h, report(1, 3 * W + 5, false, null));
            List<WindowProfile> all = profiles(h);
            assertThat(all).hasSize(3);
            assertThat(all.subList(1, 3)).extracting(p -> p.windowStart).containsExactly(W, 2 * W);
            assertThat(all.subList(1, 3)).allSatisfy(p -> {
                assertThat(p.windowEnd).isEqualTo(p.windowStart + W);
                assertThat(p.records).isZero();
                assertThat(p.hotKeys).isEmpty();
                assertThat(p.keyGroupCounts).hasSize(MAX_P).containsOnly(0L);
            });
            assertThat(watermarks(h)).last().isEqualTo(3 * W + 5);
        }
    }

    /** A profiler that bounds gaps at 5 empty windows, seasonal period 7, with window 0 profiled (key "a"). */
    private static OneInputStreamOperatorTestHarness<KeyLoadSample, WindowProfile> gapProfilerAfterWindowZero()
            throws Exception {
        var h = new OneInputStreamOperatorTestHarness<KeyLoadSample, WindowProfile>(
                new KeyDistributionProfiler(W, 2, MAX_P, LOADS, 5, 7), 1, 1, 0);
        h.setup();
        h.open();
        send(h, report(0, W - 1, false, sampleOf(0, 0, "a")));
        send(h, report(1, W - 1, false, sampleOf(0, 1, "a")));
        return h;
    }

    /**
     * A gap longer than the bound of empty windows (5 here) is skipped by whole seasonal periods (7 windows here) and
     * the empty windows left over are profiled: the forecaster counts windows, so window 100 must come as the profile
     * that a count from window 0 puts at the same place in the period (without this a stream that paused for two days
     * shifted the daily season's phase for good).
     */
    @Test
    void aLongGapIsSkippedByWholeSeasonalPeriodsSoTheSeasonsKeepTheirPhase() throws Exception {
        try (var h = gapProfilerAfterWindowZero()) {
            long resumed = 100 * W;
            send(h, report(0, resumed + W - 1, false, sampleOf(resumed, 0, "b")));
            send(h, report(1, resumed + W - 1, false, sampleOf(resumed, 1, "b")));
            List<Long> windows = profiles(h).stream().map(p -> p.windowStart / W).toList();
            assertThat(windows).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 97L, 98L, 99L, 100L);
            assertThat((windows.size() - 1) % 7).isEqualTo(100 % 7);
            assertThat(profiles(h).get(windows.size() - 1).hotKeys).containsExactly("b");
        }
    }

    /**
     * While a long gap waits for the window after it, the watermark stays before the empty windows that will be
     * profiled once that window is in: it went to the routers' minimum, and those profiles (97 to 99 here) came after
     * it, late for every consumer of forecasts and plans downstream.
     */
    @Test
    void noProfileComesAfterAWatermarkPastIt() throws Exception {
        try (var h = gapProfilerAfterWindowZero()) {
            send(h, report(0, 100 * W + W / 2, false, null));
            send(h, report(1, 100 * W + W / 2, false, null));
            send(h, report(0, 101 * W - 1, false, sampleOf(100 * W, 0, "b")));
            send(h, report(1, 101 * W - 1, false, sampleOf(100 * W, 1, "b")));
            long watermark = Long.MIN_VALUE;
            int profiled = 0;
            for (Object o : h.getOutput()) {
                if (o instanceof Watermark w) {
                    assertThat(w.getTimestamp()).isGreaterThanOrEqualTo(watermark);
                    watermark = w.getTimestamp();
                } else if (o instanceof StreamRecord<?> r) {
                    assertThat(r.getTimestamp()).as("profile of window %d", ((WindowProfile) r.getValue())
                            .windowStart / W).isGreaterThan(watermark);
                    profiled++;
                }
            }
            assertThat(profiled).isEqualTo(10);
            assertThat(watermark).isEqualTo(101 * W - 1);
        }
    }

    @Test
    void anIdleSubtaskIsPassedByAndItsLateSampleOfAClosedWindowIsDropped() throws Exception {
        WindowSample s0w0 = sampleOf(0, 0, "a", "a", "b");
        WindowSample s1w0 = sampleOf(0, 1, "x", "x");
        WindowSample s0w1 = sampleOf(W, 0, "a");
        WindowSample s1w1 = sampleOf(W, 1, "y", "y", "y");
        try (var h = profiler(null)) {
            // subtask 1 had a watermark, then went idle
            send(h, report(1, W / 2, true, null));
            send(h, report(0, W - 1, false, s0w0));
            assertThat(profiles(h)).singleElement().satisfies(p -> {
                assertThat(p.windowStart).isZero();
                assertThat(p.records).isEqualTo(3);
                assertThat(p.hotKeys).containsExactly("a", "b");
            });
            assertThat(watermarks(h)).containsExactly(W - 1);

            // subtask 1 comes back with a sample of the window that was closed without it: dropped
            send(h, report(1, W - 1, false, s1w0));
            assertThat(profiles(h)).hasSize(1);
            // and, active again, it holds the next window back
            send(h, report(0, 2 * W - 1, false, s0w1));
            assertThat(profiles(h)).hasSize(1);
            assertThat(watermarks(h)).containsExactly(W - 1);

            send(h, report(1, 2 * W - 1, false, s1w1));
            List<WindowProfile> all = profiles(h);
            assertThat(all).hasSize(2);
            assertThat(all.get(1).windowStart).isEqualTo(W);
            assertThat(all.get(1).records).isEqualTo(4);
            assertThat(all.get(1).hotKeys).containsExactly("y", "a");
            assertThat(all.get(1).keyGroupCounts).containsExactly(counts("a", "y", "y", "y"));
            assertThat(all).allSatisfy(p -> assertThat(p.hotKeys).doesNotContain("x"));
            assertThat(watermarks(h)).containsExactly(W - 1, 2 * W - 1);
        }
    }

    /**
     * A subtask that comes back from idle behind the watermark the profiler has emitted is passed by until it catches
     * up, as Flink's watermark valve passes by such a channel (it held every window, and so every plan, back until it
     * caught up, though the keyed stage drops its records as late anyway).
     */
    @Test
    void aSubtaskBackFromIdleBehindTheEmittedWatermarkIsPassedByUntilItCatchesUp() throws Exception {
        try (var h = profiler(null)) {
            send(h, report(1, W / 2, true, null));
            send(h, report(0, 2 * W - 1, false, sampleOf(W, 0, "a")));
            assertThat(watermarks(h)).containsExactly(2 * W - 1);
            // back, two hours behind, with a sample of a window closed without it
            send(h, report(1, W / 2, false, sampleOf(0, 1, "x")));
            send(h, report(0, 3 * W - 1, false, sampleOf(2 * W, 0, "b", "b")));
            assertThat(watermarks(h)).containsExactly(2 * W - 1, 3 * W - 1);
            assertThat(profiles(h)).last().satisfies(p -> {
                assertThat(p.windowStart).isEqualTo(2 * W);
                assertThat(p.hotKeys).containsExactly("b");
            });
            // caught up: it holds the next window back again
            send(h, report(1, 3 * W - 1, false, null));
            send(h, report(0, 4 * W - 1, false, sampleOf(3 * W, 0, "c")));
            assertThat(watermarks(h)).containsExactly(2 * W - 1, 3 * W - 1);
            send(h, report(1, 4 * W - 1, false, sampleOf(3 * W, 1, "y", "y")));
            assertThat(watermarks(h)).containsExactly(2 * W - 1, 3 * W - 1, 4 * W - 1);
            assertThat(profiles(h)).last().satisfies(p -> assertThat(p.hotKeys).containsExactly("y", "c"));
            assertThat(profiles(h)).allSatisfy(p -> assertThat(p.hotKeys).doesNotContain("x"));
        }
    }

    /**
     * The same before the first profile: a subtask back from idle behind the watermark already emitted (with no
     * profile yet) has its samples of windows the watermark has passed dropped as late, and no profile comes after a
     * watermark past it (windows 0 to 2W were profiled after watermark 3W - 1, their forecasts behind the forecaster's
     * own watermark).
     */
    @Test
    void aSubtaskBehindTheWatermarkBeforeTheFirstProfileIsLateToo() throws Exception {
        try (var h = profiler(null)) {
            send(h, report(1, W / 2, true, null));
            send(h, report(0, 3 * W - 1, false, null));
            assertThat(watermarks(h)).containsExactly(3 * W - 1);
            assertThat(profiles(h)).isEmpty();
            send(h, report(1, W / 2, false, null));
            send(h, report(1, W / 2, false, sampleOf(0, 1, "x")));
            assertThat(profiles(h)).as("profiles after watermark 3W - 1").isEmpty();
            // caught up: it holds the next window back again
            send(h, report(1, 3 * W - 1, false, null));
            send(h, report(0, 4 * W - 1, false, sampleOf(3 * W, 0, "c")));
            assertThat(profiles(h)).isEmpty();
            send(h, report(1, 4 * W - 1, false, sampleOf(3 * W, 1, "y", "y")));
            assertThat(profiles(h)).singleElement().satisfies(p -> {
                assertThat(p.windowStart).isEqualTo(3 * W);
                assertThat(p.hotKeys).containsExactly("y", "c");
            });
            assertThat(watermarks(h)).containsExactly(3 * W - 1, 4 * W - 1);
        }
    }

    /**
     * The routers' channels going idle does not make the profiler's output idle: its watermark comes from their
     * reports, and one emitted on a report that arrives while every channel is idle reaches the forecaster (Flink
     * drops a watermark given to an idle output).
     */
    @Test
    void theRoutersIdlenessDoesNotMakeTheProfilersOutputIdle() throws Exception {
        try (var h = profiler(null)) {
            send(h, report(1, W / 2, true, null));
            h.processWatermarkStatus(org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.IDLE);
            send(h, report(0, 2 * W - 1, false, sampleOf(W, 0, "a")));
            assertThat(watermarks(h)).containsExactly(2 * W - 1);
            assertThat(h.getOutput()).noneMatch(e -> e instanceof
                    org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus);
        }
    }

    /**
     * Every router idle: the windows up to the largest of their input watermarks close, as Flink's watermark valve
     * emits the largest of its channels' once the last active one goes idle (router 0 read three windows ahead and
     * went idle first, its records waiting for a lease; router 1 idled behind it, and no window closed after the first
     * until an input woke: under keyBy those windows fire).
     */
    @Test
    void everyRouterIdleClosesTheWindowsUpToTheLargestWatermark() throws Exception {
        try (var h = profiler(null)) {
            send(h, report(0, W - 1, false, sampleOf(0, 0, "a")));
            send(h, report(0, 2 * W - 1, false, sampleOf(W, 0, "a")));
            send(h, report(0, 3 * W - 1, false, sampleOf(2 * W, 0, "a")));
            send(h, report(1, W - 1, false, sampleOf(0, 1, "b")));
            assertThat(profiles(h)).extracting(p -> p.windowStart).containsExactly(0L);
            send(h, report(0, 3 * W - 1, true, null));
            assertThat(profiles(h)).as("router 1 is active").hasSize(1);
            send(h, report(1, W - 1, true, null));
            assertThat(profiles(h)).extracting(p -> p.windowStart).containsExactly(0L, W, 2 * W);
        }
    }

    /**
     * Every active router back from idle behind the emitted watermark, the others idle: no window closes until it
     * catches up, as Flink's watermark valve holds its output while an active channel is unaligned (the largest
     * watermark closed windows 2W to 4W with router 0's samples alone, and router 2's came late and were dropped).
     */
    @Test
    void anActiveRouterBehindTheWatermarkHoldsTheWindowsWhileTheOthersIdle() throws Exception {
        try (var h = profiler(null)) {
            send(h, of3(report(2, W / 2, true, null)));
            for (int i = 0; i < 5; i++) {
                send(h, of3(report(0, (i + 1) * W - 1, false, sampleOf(i * W, 0, "a"))));
            }
            send(h, of3(report(1, W - 1, false, sampleOf(0, 1, "b"))));
            send(h, of3(report(1, 2 * W - 1, false, sampleOf(W, 1, "b"))));
            assertThat(profiles(h)).extracting(p -> p.windowStart).containsExactly(0L, W);
            assertThat(watermarks(h)).last().isEqualTo(2 * W - 1);
            send(h, of3(report(0, 5 * W - 1, true, null)));
            send(h, of3(report(2, W / 2 + 1, false, null)));
            send(h, of3(report(1, 2 * W - 1, true, null)));
            assertThat(profiles(h)).as("router 2 is active, behind").extracting(p -> p.windowStart)
                    .containsExactly(0L, W);
            assertThat(watermarks(h)).last().isEqualTo(2 * W - 1);
            send(h, of3(report(2, 3 * W - 1, false, sampleOf(2 * W, 2, "z", "z"))));
            assertThat(profiles(h)).extracting(p -> p.windowStart).containsExactly(0L, W, 2 * W);
            assertThat(profiles(h)).last().satisfies(p -> assertThat(p.hotKeys).contains("z"));
        }
    }

    /** {@code r} as a report of one of 3 router subtasks. */
    private static KeyLoadSample of3(KeyLoadSample r) {
        return KeyLoadSample.newBuilder(r).setSubtasks(3).build();
    }

    /**
     * Every router's output idle: the loads up to the largest output watermark close (an output idles only once the
     * loads of what it read were reported); they were held until an input woke.
     */
    @Test
    void everyRoutersOutputIdleClosesTheLoads() throws Exception {
        try (var h = profiler(null)) {
            send(h, loadReport(0, 3 * W - 1, 3 * W - 1, load(0, Map.of(3, 5L), Map.of())));
            send(h, loadReport(1, W / 2, W / 2, null));
            send(h, KeyLoadSample.newBuilder(report(0, 3 * W - 1, true, null)).setOutputWatermark(3 * W - 1)
                    .setOutputIdle(true).build());
            assertThat(h.getSideOutput(LOADS)).as("router 1's output is active").isNullOrEmpty();
            send(h, loadReport(1, W / 2, W / 2, load(0, Map.of(9, 2L), Map.of())));
            send(h, KeyLoadSample.newBuilder(report(1, W / 2, true, null)).setOutputWatermark(W / 2)
                    .setOutputIdle(true).build());
            assertThat(h.getSideOutput(LOADS)).singleElement().satisfies(r -> {
                assertThat(r.getValue().getRoutedKeyGroupCounts().get(3)).isEqualTo(5L);
                assertThat(r.getValue().getRoutedKeyGroupCounts().get(9)).isEqualTo(2L);
            });
        }
    }

    /**
     * A router whose input idles while records wait for a lease passes the samples by (its input is idle) but not the
     * loads: the copies of its waiting records count in them once a lease lets them go. Passed by as idle, the window's
     * load closed without them and their report came late and was dropped.
     */
    @Test
    void anIdleInputWithWaitingRecordsHoldsTheLoadsBackButNotTheProfiles() throws Exception {
        WindowLoad l0 = load(0, Map.of(3, 5L), Map.of());
        WindowLoad l1 = load(0, Map.of(9, 2L), Map.of());
        try (var h = profiler(null)) {
            // subtask 1: its input idles with its output watermark held before the window's end (records wait)
            send(h, KeyLoadSample.newBuilder(report(1, W / 2, true, sampleOf(0, 1, "x", "x")))
                    .setOutputWatermark(W / 2 - 1).setOutputIdle(false).build());
            send(h, report(0, W - 1, false, sampleOf(0, 0, "a")));
            send(h, loadReport(0, W - 1, W - 1, l0));
            // the window's profile closes without it ...
            assertThat(profiles(h)).singleElement().satisfies(p -> assertThat(p.windowStart).isZero());
            // ... its load does not
            assertThat(h.getSideOutput(LOADS)).isNullOrEmpty();

            // a lease lets its records go: their load comes, then the report that its output is idle
            send(h, KeyLoadSample.newBuilder(loadReport(1, W / 2, W / 2 - 1, l1)).setIdle(true).build());
            assertThat(h.getSideOutput(LOADS)).isNullOrEmpty();
            send(h, KeyLoadSample.newBuilder(report(1, W / 2, true, null)).setOutputWatermark(W / 2)
                    .setOutputIdle(true).build());
            assertThat(h.getSideOutput(LOADS)).singleElement().satisfies(r -> {
                assertThat(r.getValue().getRoutedKeyGroupCounts().get(3)).isEqualTo(5L);
                assertThat(r.getValue().getRoutedKeyGroupCounts().get(9)).isEqualTo(2L);
            });
        }
    }

    @Test
    void loadsAreSummedOverSubtasksAndEmittedOnceEveryOutputWatermarkHasPassed() throws Exception {
        WindowLoad l0 = load(0, Map.of(3, 5L, 70, 2L), Map.of(70, 1L));
        WindowLoad l1 = load(0, Map.of(3, 1L), Map.of(9, 4L));
        try (var h = profiler(null)) {
            send(h, loadReport(0, W - 1, W - 1, l0));
            assertThat(h.getSideOutput(LOADS)).isNullOrEmpty();
            // subtask 1 has routed its copies of the window, but its output watermark is not past it yet
            send(h, loadReport(1, W - 1, W - 2, l1));
            assertThat(h.getSideOutput(LOADS)).isNullOrEmpty();

            send(h, loadReport(1, W - 1, W - 1, null));
            Queue<StreamRecord<WindowLoad>> loads = h.getSideOutput(LOADS);
            assertThat(loads).singleElement().satisfies(r -> {
                assertThat(r.getTimestamp()).isEqualTo(W - 1);
                WindowLoad l = r.getValue();
                assertThat(l.getWindowStart()).isZero();
                assertThat(l.getWindowEnd()).isEqualTo(W);
                assertThat(l.getParallelism()).isEqualTo(2);
                assertThat(l.getRoutedKeyGroupCounts()).hasSize(MAX_P);
                assertThat(l.getRoutedKeyGroupCounts().get(3)).isEqualTo(6L);
                assertThat(l.getRoutedKeyGroupCounts().get(70)).isEqualTo(2L);
                assertThat(l.getRoutedKeyGroupCounts().stream().mapToLong(Long::longValue).sum()).isEqualTo(8);
                assertThat(l.getShadowKeyGroupCounts().get(70)).isEqualTo(1L);
                assertThat(l.getShadowKeyGroupCounts().get(9)).isEqualTo(4L);
                assertThat(l.getShadowKeyGroupCounts().stream().mapToLong(Long::longValue).sum()).isEqualTo(5);
            });
            // the subtasks' reports were copied, not summed into
            assertThat(l0.getRoutedKeyGroupCounts().get(3)).isEqualTo(5L);
            // no samples, no profiles
            assertThat(profiles(h)).isEmpty();
        }
    }

    /**
     * A router subtask that had finished before the checkpoint and does not report after the restore (Flink restores
     * a router as finished, never opening it, once all its subtasks had finished): its last report (input at the end
     * of time) is in the checkpoint, so router 1's reports alone close the windows (before, none ever closed).
     */
    @Test
    void aRouterThatFinishedBeforeTheCheckpointDoesNotHoldTheWindowsBackAfterARestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = profiler(null)) {
            send(h, report(0, W - 1, false, sampleOf(0, 0, "a")));
            send(h, report(0, Long.MAX_VALUE, false, null));
            send(h, report(1, W - 1, false, sampleOf(0, 1, "b")));
            assertThat(profiles(h)).hasSize(1);
            snapshot = h.snapshot(1L, 1L);
        }
        try (var h = profiler(snapshot)) {
            send(h, report(1, 2 * W - 1, false, sampleOf(W, 1, "c", "c")));
            assertThat(profiles(h)).singleElement().satisfies(p -> {
                assertThat(p.windowStart).isEqualTo(W);
                assertThat(p.hotKeys).containsExactly("c");
            });
            // and a snapshot before any report keeps the restored rows for the next restore
        }
        try (var h = profiler(snapshot)) {
            OperatorSubtaskState again = h.snapshot(2L, 2L);
            try (var h2 = profiler(again)) {
                send(h2, report(1, 2 * W - 1, false, sampleOf(W, 1, "d")));
                assertThat(profiles(h2)).singleElement().satisfies(p -> assertThat(p.windowStart).isEqualTo(W));
            }
        }
    }

    @Test
    void pendingSamplesAndTheLastClosedWindowSurviveARestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = profiler(null)) {
            send(h, report(0, W - 1, false, sampleOf(0, 0, "a", "b")));
            send(h, report(1, W - 1, false, sampleOf(0, 1, "c")));
            assertThat(profiles(h)).hasSize(1);
            // subtask 0 is done with the next window, subtask 1 is not
            send(h, report(0, 2 * W - 1, false, sampleOf(W, 0, "a", "a", "a")));
            assertThat(profiles(h)).hasSize(1);
            snapshot = h.snapshot(1L, 1L);
        }
        try (var h = profiler(snapshot)) {
            // subtask 1's restored progress (W - 1) holds the next window until it reports again
            send(h, report(0, 2 * W - 1, false, null));
            assertThat(profiles(h)).isEmpty();
            send(h, report(1, 2 * W - 1, false, sampleOf(W, 1, "a", "d")));
            // the window closed before the snapshot is not emitted again; the pending sample is merged in
            assertThat(profiles(h)).singleElement().satisfies(p -> {
                assertThat(p.windowStart).isEqualTo(W);
                assertThat(p.records).isEqualTo(5);
                assertThat(p.hotKeys).containsExactly("a", "d");
                assertThat(p.hotEstimates).containsExactly(4.0, 1.0);
                assertThat(p.keyGroupCounts).containsExactly(counts("a", "a", "a", "a", "d"));
            });
        }
    }

    /**
     * What the routers routed to natural key groups before their first plan (the largest reported) goes with every
     * profile, for the planner's first migrations, and survives a restore.
     */
    @Test
    void theLatestNaturallyRoutedWindowGoesWithTheProfilesAndSurvivesARestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = profiler(null)) {
            send(h, KeyLoadSample.newBuilder(report(0, W - 1, false, sampleOf(0, 0, "a"))).setNaturalUntil(W).build());
            send(h, KeyLoadSample.newBuilder(report(1, W - 1, false, sampleOf(0, 1, "b"))).setNaturalUntil(2 * W)
                    .build());
            assertThat(profiles(h)).singleElement().satisfies(p -> assertThat(p.naturalUntil).isEqualTo(2 * W));
            snapshot = h.snapshot(1L, 1L);
        }
        try (var h = profiler(snapshot)) {
            send(h, report(0, 2 * W - 1, false, null));
            send(h, report(1, 2 * W - 1, false, null));
            assertThat(profiles(h)).singleElement().satisfies(p -> assertThat(p.naturalUntil).isEqualTo(2 * W));
        }
    }

    /**
     * One key reported in two natural key groups (its hashCode differs between the routers' JVMs: an enum field in a
     * key class's hashCode; or a copy read back from state hashes otherwise) is logged as a warning naming the key;
     * the profile comes out as ever.
     */
    @Test
    void aKeyReportedInTwoNaturalKeyGroupsIsWarnedOf() throws Throwable {
        WindowSample zero = sampleOf(0, 0, "k", "k");
        WindowSample one = sampleOf(0, 1, "k", "k");
        int kg = zero.getHeavyHitters().get(0).getKeyGroup();
        one.getHeavyHitters().get(0).setKeyGroup((kg + 1) % 128);
        List<String> lines = io.keyshift.LogCapture.of(KeyDistributionProfiler.class, () -> {
            try (var h = profiler(null)) {
                send(h, report(0, W - 1, false, zero));
                send(h, report(1, W - 1, false, one));
                assertThat(profiles(h)).singleElement().satisfies(p -> assertThat(p.hotKeys).contains("k"));
            }
        });
        assertThat(lines).singleElement().asString().startsWith("WARN keyshift: key k was reported in natural key "
                + "group " + kg).contains("hashCode differs between JVMs");
        // the same key group from both: a profile as ever
        try (var h = profiler(null)) {
            send(h, report(0, W - 1, false, sampleOf(0, 0, "k", "k")));
            send(h, report(1, W - 1, false, sampleOf(0, 1, "k", "k")));
            assertThat(profiles(h)).singleElement().satisfies(p -> assertThat(p.hotKeys).contains("k"));
        }
    }

    /** Planning windows cannot change across a restore: a profiler restored with another keyshift.window fails. */
    @Test
    void aRestoreWithAnotherPlanningWindowFailsNamingTheOption() throws Exception {
        OperatorSubtaskState snapshot;
        try (var h = profiler(null)) {
            send(h, report(0, W - 1, false, sampleOf(0, 0, "a")));
            send(h, report(1, W - 1, false, sampleOf(0, 1, "b")));
            snapshot = h.snapshot(1L, 1L);
        }
        var h = new OneInputStreamOperatorTestHarness<KeyLoadSample, WindowProfile>(
                new KeyDistributionProfiler(2 * W, 2, MAX_P, LOADS), 1, 1, 0);
        h.setup();
        assertThatThrownBy(() -> h.initializeState(snapshot))
                .isInstanceOf(org.apache.flink.runtime.execution.SuppressRestartsException.class)
                .hasStackTraceContaining("but keyshift.window is");
        h.close();
    }

    /**
     * Under object reuse the operator in front may change a key object it handed over: the sampler copies a key the
     * first time it keeps it (held or in the sketch), and counts it again without a copy; the counts are the keys' as
     * they were when read.
     */
    @Test
    void aKeyIsCopiedOnlyWhenFirstKept() {
        KeyCodec<org.apache.flink.api.java.tuple.Tuple1<String>> tuples = KeyCodec.forType(
                Types.TUPLE(Types.STRING), new SerializerConfigImpl());
        for (double rate : new double[] {1.0, 0.999}) {
            KeySampler<org.apache.flink.api.java.tuple.Tuple1<String>> s = new KeySampler<>(W, 64, rate, MAX_P, tuples,
                    7);
            int[] copies = {0};
            s.withKeyCopies(k -> {
                copies[0]++;
                return tuples.keep((org.apache.flink.api.java.tuple.Tuple1<String>) k);
            });
            var reused = new org.apache.flink.api.java.tuple.Tuple1<String>();
            for (int i = 0; i < 300; i++) {
                reused.f0 = "k" + (i % 3);
                s.add(reused, KeyGroupRangeAssignment.assignToKeyGroup(reused, MAX_P), i);
            }
            WindowSample w = s.closeUpTo(W - 1).get(0);
            assertThat(copies[0]).as("rate %s", rate).isEqualTo(3);
            assertThat(w.getHeavyHitters()).extracting(HeavyHitter::getKey).hasSize(3)
                    .containsExactlyInAnyOrderElementsOf(List.of(tuples.id(new org.apache.flink.api.java.tuple.Tuple1<>(
                            "k0")), tuples.id(new org.apache.flink.api.java.tuple.Tuple1<>("k1")),
                            tuples.id(new org.apache.flink.api.java.tuple.Tuple1<>("k2"))));
        }
    }
}
