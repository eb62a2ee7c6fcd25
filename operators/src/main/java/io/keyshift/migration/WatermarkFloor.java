package io.keyshift.migration;

import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.TimerService;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The watermark an operator had reached when its last checkpoint was taken, per key group, as a floor under the
 * watermark of a restored subtask.
 *
 * <p>Flink does not checkpoint watermarks: a restored operator's {@code currentWatermark()} is Long.MIN_VALUE until
 * the first watermark reaches it, and processing-time timers that came due while the job was down fire before that.
 * keyshift judges such calls in event time (is the key owned here, has its stay been cleaned up, was a check
 * compared already); judged at Long.MIN_VALUE, a new owner would suppress a timer's output it owns and an old owner
 * would emit one it no longer owns. With this floor they are judged at {@code max(currentWatermark(), floor)}, the
 * floor being the watermark of the subtask that held the key's key group at the checkpoint (it had already judged
 * every call up to that watermark), also after a rescale.
 *
 * <p>State: operator union list state {@code keyshift-watermark-floor} (a name reserved in the keyed stage's operator
 * state, which a user's {@code CheckpointedFunction} shares), one {@code [subtask, parallelism, watermark]} entry per
 * subtask (about 30 bytes each; every subtask restores all of them), after a rescale also the restored entries of its
 * key groups until its watermark passes their floors. A savepoint without it (taken before this state
 * existed) restores with no floor, as before; an entry at Long.MAX_VALUE (a drained stop's end of input) sets none.
 */
final class WatermarkFloor {
    static final String STATE_NAME = "keyshift-watermark-floor";

    private final ListState<long[]> state;
    private final int subtask;
    private final int parallelism;
    private final int maxParallelism;
    /** Floor per key group (index: key group); null when restored from nothing, or once the watermark passed them. */
    private long[] floors;
    /** The highest floor: once the operator's watermark reaches it, no floor matters any more. */
    private final long highestFloor;
    /** The lowest floor of this subtask's key groups (Long.MIN_VALUE without floors). */
    private final long ownFloor;
    /**
     * The restored entries whose key groups meet this subtask's: written again with its own while their floors matter
     * (after a rescale its own entry holds the lowest floor of its key groups only).
     */
    private final List<long[]> restoredEntries;
    /** The operator's timer service, once a call showed it: its watermark is read when a checkpoint is taken. */
    private TimerService timers;

    private WatermarkFloor(ListState<long[]> state, int subtask, int parallelism, int maxParallelism, long[] floors,
                           long ownFloor, List<long[]> restoredEntries) {
        this.state = state;
        this.restoredEntries = restoredEntries;
        this.subtask = subtask;
        this.parallelism = parallelism;
        this.maxParallelism = maxParallelism;
        this.floors = floors;
        this.ownFloor = ownFloor;
        this.highestFloor = floors == null ? Long.MIN_VALUE : Arrays.stream(floors).max().orElse(Long.MIN_VALUE);
    }

    /** Registers the state and reads the floors of a restored subtask (from {@code initializeState}). */
    static WatermarkFloor initialize(FunctionInitializationContext context, RuntimeContext runtime) throws Exception {
        ListState<long[]> state = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>(STATE_NAME, PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        return of(state, context.isRestored(), runtime.getTaskInfo().getIndexOfThisSubtask(),
                runtime.getTaskInfo().getNumberOfParallelSubtasks(),
                runtime.getTaskInfo().getMaxNumberOfParallelSubtasks());
    }

    /**
     * The floors of subtask {@code subtask} of {@code parallelism} from {@code state}, the union of every subtask's
     * entries ({@code restored}: read them; else none).
     */
    static WatermarkFloor of(ListState<long[]> state, boolean restored, int subtask, int parallelism,
                             int maxParallelism) throws Exception {
        long[] floors = null;
        long ownFloor = Long.MIN_VALUE;
        // one entry per (subtask, parallelism) it was written by, the highest: after a rescale two subtasks may both
        // write an old entry back, and without this every restore before the watermark came back doubled its copies
        java.util.Map<List<Long>, long[]> kept = new java.util.LinkedHashMap<>();
        if (restored) {
            KeyGroupRange own = KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(
                    maxParallelism, parallelism, subtask);
            for (long[] e : state.get()) {
                if (e == null || e.length != 3 || e[1] < 1 || e[0] < 0 || e[0] >= e[1] || e[1] > maxParallelism
                        || e[2] == Long.MAX_VALUE) {
                    // Long.MAX_VALUE: the end of the input (a drained stop), not a watermark a resumed job has reached
                    continue;
                }
                if (floors == null) {
                    floors = new long[maxParallelism];
                    Arrays.fill(floors, Long.MIN_VALUE);
                }
                KeyGroupRange was = KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(
                        maxParallelism, (int) e[1], (int) e[0]);
                for (int g = was.getStartKeyGroup(); g <= was.getEndKeyGroup(); g++) {
                    floors[g] = Math.max(floors[g], e[2]);
                }
                if (was.getIntersection(own).getNumberOfKeyGroups() > 0) {
                    kept.merge(List.of(e[0], e[1]), e.clone(), (a, b) -> a[2] >= b[2] ? a : b);
                }
            }
            if (floors != null) {
                ownFloor = Long.MAX_VALUE;
                for (int g = own.getStartKeyGroup(); g <= own.getEndKeyGroup(); g++) {
                    ownFloor = Math.min(ownFloor, floors[g]);
                }
            }
        }
        return new WatermarkFloor(state, subtask, parallelism, maxParallelism, floors, ownFloor,
                new ArrayList<>(kept.values()));
    }

    /**
     * The watermark to judge a call for {@code key} (the operator's current key) at: {@code max(watermark, floor of
     * its key group)}, {@code watermark} being the operator's current one from {@code timers}, its timer service
     * (kept: the next checkpoint reads its watermark when it is taken).
     */
    long at(Object key, TimerService timers) {
        this.timers = timers;
        long watermark = timers.currentWatermark();
        if (floors == null) {
            return watermark;
        }
        if (watermark >= highestFloor) {
            // the watermark has come back: no floor matters from here on
            floors = null;
            return watermark;
        }
        return Math.max(watermark, floors[KeyGroupRangeAssignment.assignToKeyGroup(key, maxParallelism)]);
    }

    /**
     * Keeps the operator's timer service (from a timer's context): a subtask that only fires timers after a restore,
     * no call reaching it, must still write the watermark they fired at.
     */
    void seen(TimerService timers) {
        this.timers = timers;
    }

    /**
     * Writes this subtask's entry (from {@code snapshotState}), and, while restored floors above its watermark still
     * matter, the restored entries of its key groups that hold them: after a rescale its own entry holds the lowest
     * floor of its key groups, and a checkpoint taken before the watermark came back lost the higher floors of the
     * others (a restore from it judged their keys' calls below the watermark their old owner had judged them at).
     * Rewriting an entry that also covers other subtasks' key groups is sound: it is a floor their subtasks restored
     * too, and a restore takes the highest entry per key group.
     */
    void snapshot() throws Exception {
        long watermark = timers == null ? Long.MIN_VALUE : timers.currentWatermark();
        List<long[]> entries = new ArrayList<>();
        entries.add(new long[] {subtask, parallelism, Math.max(watermark, ownFloor)});
        if (floors != null && watermark < highestFloor) {
            for (long[] e : restoredEntries) {
                if (e[2] > Math.max(watermark, ownFloor)) {
                    entries.add(e);
                }
            }
        }
        state.update(entries);
    }
}
