package io.keyshift.jobs.replay;

import org.apache.flink.runtime.checkpoint.CheckpointException;
import org.apache.flink.runtime.checkpoint.CheckpointFailureReason;
import org.apache.flink.util.SerializedThrowable;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The scaled replay's stop-with-savepoint: a savepoint a finishing task declined (the control file's source waiting
 * for the checkpoint after its end, seen on 2026-12-05 as "Checkpoint was declined (task is closing)", which failed
 * the whole replay) is tried again; any other failure ends the replay at once.
 */
class ScaledReplayStopTest {

    /** As the MiniCluster completes a declined stop-with-savepoint: the JobManager's exception, serialized. */
    private static CompletableFuture<String> declinedByAClosingTask() {
        return CompletableFuture.failedFuture(new SerializedThrowable(new CheckpointException(
                "Task name with subtask : Source: control commands (1/1)#0",
                CheckpointFailureReason.CHECKPOINT_DECLINED_TASK_CLOSING)));
    }

    @Test
    void aSavepointDeclinedByAFinishingTaskIsTriedAgain() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        List<Throwable> declined = new ArrayList<>();
        String sp = ScaledReplay.stopWithSavepoint(() -> calls.incrementAndGet() <= 2 ? declinedByAClosingTask()
                : CompletableFuture.completedFuture("file:/sp-1"), () -> false, declined::add, 5, 1);
        assertThat(sp).isEqualTo("file:/sp-1");
        assertThat(calls).hasValue(3);
        assertThat(declined).hasSize(2).allSatisfy(t -> assertThat(ScaledReplay.isCheckpointFailure(t)).isTrue());
    }

    /**
     * A savepoint whose trigger a TaskManager refuses for a task it does not know yet or any more ("Task local
     * checkpoint failure.", at the first stop of a job started two seconds before): it failed a CI run's replay; it is tried again.
     */
    @Test
    void aSavepointThatATaskManagerCouldNotTriggerIsTriedAgain() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        String sp = ScaledReplay.stopWithSavepoint(() -> calls.incrementAndGet() <= 2
                ? CompletableFuture.failedFuture(new java.util.concurrent.CompletionException(new CheckpointException(
                        CheckpointFailureReason.TASK_CHECKPOINT_FAILURE)))
                : CompletableFuture.completedFuture("file:/sp-3"), () -> false, t -> { }, 5, 1);
        assertThat(sp).isEqualTo("file:/sp-3");
        assertThat(calls).hasValue(3);
    }

    /**
     * Decisions that come together: the next stop comes as soon as the restored job is submitted, while it is still
     * initializing (restoring the savepoint), and the Dispatcher answers that it has no JobMaster yet. That failed
     * the replay; it is tried again.
     */
    @Test
    void aStopOfAJobStillInitializingIsTriedAgain() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        String sp = ScaledReplay.stopWithSavepoint(() -> calls.incrementAndGet() <= 2
                ? CompletableFuture.failedFuture(new SerializedThrowable(
                        new org.apache.flink.runtime.dispatcher.UnavailableDispatcherOperationException(
                                "Unable to get JobMasterGateway for initializing job")))
                : CompletableFuture.completedFuture("file:/sp-2"), () -> false, t -> { }, 5, 1);
        assertThat(sp).isEqualTo("file:/sp-2");
        assertThat(calls).hasValue(3);
    }

    @Test
    void anotherFailureEndsTheReplayAtOnceAndTheLastDeclineAfterTheAttempts() {
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> ScaledReplay.stopWithSavepoint(() -> {
            calls.incrementAndGet();
            return CompletableFuture.failedFuture(new IllegalStateException("the job is not running"));
        }, () -> false, t -> { }, 5, 1)).isInstanceOf(ExecutionException.class)
                .hasRootCauseMessage("the job is not running");
        assertThat(calls).hasValue(1);
        // a savepoint that cannot be written is no passing decline: not tried again
        calls.set(0);
        assertThatThrownBy(() -> ScaledReplay.stopWithSavepoint(() -> {
            calls.incrementAndGet();
            return CompletableFuture.failedFuture(new SerializedThrowable(new CheckpointException(
                    CheckpointFailureReason.IO_EXCEPTION)));
        }, () -> false, t -> { }, 5, 1)).isInstanceOf(ExecutionException.class);
        assertThat(calls).hasValue(1);
        calls.set(0);
        assertThatThrownBy(() -> ScaledReplay.stopWithSavepoint(() -> {
            calls.incrementAndGet();
            return declinedByAClosingTask();
        }, () -> false, t -> { }, 3, 1)).isInstanceOf(ExecutionException.class)
                .satisfies(t -> assertThat(ScaledReplay.isCheckpointFailure(t)).isTrue());
        assertThat(calls).hasValue(3);
    }

    @Test
    void aJobThatEndedHasNothingToStop() throws Exception {
        assertThat(ScaledReplay.stopWithSavepoint(ScaledReplayStopTest::declinedByAClosingTask, () -> true, t -> { },
                5, 1)).isNull();
    }
}
