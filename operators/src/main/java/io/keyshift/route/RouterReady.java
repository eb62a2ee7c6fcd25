package io.keyshift.route;

import org.apache.flink.runtime.operators.coordination.OperatorEvent;

/**
 * A router subtask's announcement to its coordinator, sent from {@code open()}: this attempt runs its operators and
 * takes plans. A subtask that Flink restores as finished (its input ended before the checkpoint) never opens them and
 * never announces itself; a plan sent to it would fail its task ({@code FinishedOperatorChain} refuses operator
 * events), so the coordinator sends plans to announced attempts only, as Flink's source coordinator sends splits to
 * registered readers only.
 */
public final class RouterReady implements OperatorEvent {
    private static final long serialVersionUID = 1L;
}
