package io.keyshift.migration;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.TimerService;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The watermark floor's entries through restores and checkpoints, at one parallelism and across a rescale. */
class WatermarkFloorTest {
    private static final int MAX_P = 4;

    /** A union list state in memory: what every subtask wrote, as each restored subtask reads it. */
    private static final class Entries implements ListState<long[]> {
        final List<long[]> values = new ArrayList<>();

        @Override
        public Iterable<long[]> get() {
            return new ArrayList<>(values);
        }

        @Override
        public void add(long[] value) {
            values.add(value);
        }

        @Override
        public void update(List<long[]> list) {
            values.clear();
            values.addAll(list);
        }

        @Override
        public void addAll(List<long[]> list) {
            values.addAll(list);
        }

        @Override
        public void clear() {
            values.clear();
        }
    }

    /** A timer service that only knows its watermark. */
    private static TimerService at(long watermark) {
        return new TimerService() {
            @Override
            public long currentProcessingTime() {
                return 0;
            }

            @Override
            public long currentWatermark() {
                return watermark;
            }

            @Override
            public void registerProcessingTimeTimer(long time) {}

            @Override
            public void registerEventTimeTimer(long time) {}

            @Override
            public void deleteProcessingTimeTimer(long time) {}

            @Override
            public void deleteEventTimeTimer(long time) {}
        };
    }

    /** A key whose key group (of {@value #MAX_P}) is {@code group}. */
    private static String keyIn(int group) {
        for (int i = 0; ; i++) {
            String k = "k" + i;
            if (KeyGroupRangeAssignment.assignToKeyGroup(k, MAX_P) == group) {
                return k;
            }
        }
    }

    /**
     * Scaled in from 2 subtasks (floors 100 and 200) to 1, the subtask checkpoints before its watermark reaches them:
     * a restore from that checkpoint keeps each key group's floor (200 for the old second subtask's key groups). Its
     * one entry held the lowest floor of its key groups, 100, and the keys of key groups 2 and 3 were judged at 100.
     */
    @Test
    void aCheckpointAfterAScaleInKeepsEachKeyGroupsFloor() throws Exception {
        Entries union = new Entries();
        union.add(new long[] {0, 2, 100});
        union.add(new long[] {1, 2, 200});
        WatermarkFloor first = WatermarkFloor.of(union, true, 0, 1, MAX_P);
        assertThat(first.at(keyIn(3), at(50))).isEqualTo(200);
        assertThat(first.at(keyIn(0), at(50))).isEqualTo(100);
        first.snapshot();

        WatermarkFloor again = WatermarkFloor.of(union, true, 0, 1, MAX_P);
        assertThat(again.at(keyIn(3), at(60))).isEqualTo(200);
        assertThat(again.at(keyIn(2), at(60))).isEqualTo(200);
        assertThat(again.at(keyIn(0), at(60))).isEqualTo(100);

        // once the watermark has passed every floor, the subtask writes its own entry alone
        assertThat(again.at(keyIn(3), at(250))).isEqualTo(250);
        again.snapshot();
        assertThat(union.values).hasSize(1);
        assertThat(union.values.get(0)).containsExactly(0, 1, 250);
    }

    /** At the same parallelism each subtask writes its one entry: nothing of the others' comes along. */
    @Test
    void withoutARescaleEachSubtaskWritesItsOwnEntryOnly() throws Exception {
        Entries union = new Entries();
        union.add(new long[] {0, 2, 100});
        union.add(new long[] {1, 2, 200});
        WatermarkFloor second = WatermarkFloor.of(union, true, 1, 2, MAX_P);
        assertThat(second.at(keyIn(3), at(50))).isEqualTo(200);
        second.snapshot();
        assertThat(union.values).hasSize(1);
        assertThat(union.values.get(0)).containsExactly(1, 2, 200);
    }

    /**
     * Scaled in from 3 subtasks (of 12 key groups; floors 100, 300, 100) to 2: the old middle entry's key groups are
     * half in each new subtask, whose own floor is the lower 100, so both write it back, and the union holds it twice.
     * A job failing again before its watermark came back restored both copies into each subtask and wrote them all:
     * the copies doubled at every restart. A restore keeps one per writer.
     */
    @Test
    void anOldEntryTwoSubtasksWriteBackIsKeptOnce() throws Exception {
        Entries union = new Entries();
        union.add(new long[] {0, 3, 100});
        union.add(new long[] {1, 3, 300});
        union.add(new long[] {2, 3, 100});
        for (int restart = 0; restart < 5; restart++) {
            List<long[]> written = new ArrayList<>();
            for (int sub = 0; sub < 2; sub++) {
                Entries mine = new Entries();
                mine.values.addAll(union.values);
                WatermarkFloor.of(mine, true, sub, 2, 12).snapshot();
                written.addAll(mine.values);
            }
            union.update(written);
        }
        // each subtask's own entry and its one copy of the old middle entry
        assertThat(union.values).hasSize(4);
        assertThat(union.values).filteredOn(e -> e[1] == 3).allSatisfy(e -> assertThat(e).containsExactly(1, 3, 300));
    }
}
