package io.keyshift.control;

import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Carries the user's control input's watermark in band, as a record, past the union with the shadow validation's
 * reverts ({@code keyshift.migration.on-mismatch=REVERT}). A union's watermark is the minimum of its inputs', and the
 * reverts trail the routing by design, so after the union the planner could not tell how far the user's commands are
 * known: it would plan once the reverts had caught up, with or without a user's command whose time lies between the
 * reverts' progress and the plan's start (two replays with the same control file could then differ). With this hop in
 * front of the union the planner waits for the user's commands up to a plan's start and for the reverts up to a
 * window before it, each on its own progress.
 *
 * <p>Forwards every line as it is (one that begins with a NUL character, which no command does, with U+FFFD in its
 * place, so that the planner refuses it rather than take it for progress); on each watermark it first emits {@link #line(long)} of it (timestamped with it),
 * then forwards the watermark. Runs at parallelism 1 (its input's watermark is then the minimum over the user's
 * control subtasks). Stateless.
 */
public final class ControlProgress extends AbstractStreamOperator<String>
        implements OneInputStreamOperator<String, String> {
    private static final long serialVersionUID = 1L;

    /** The start of a progress line: a NUL character, which no control command begins with. */
    private static final String PREFIX = "\u0000control-watermark,";

    @Override
    public void processElement(StreamRecord<String> element) {
        String line = element.getValue();
        if (line != null && line.startsWith("\u0000")) {
            // a user's line that could pass for progress: the planner refuses it as the command it is not
            element.replace("\uFFFD" + line.substring(1));
        }
        output.collect(element);
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        output.collect(new StreamRecord<>(line(mark.getTimestamp()), mark.getTimestamp()));
        super.processWatermark(mark);
    }

    /** The in-band line for the user's control input's watermark {@code watermark} (ms). */
    public static String line(long watermark) {
        return PREFIX + watermark;
    }

    /**
     * The watermark (ms) that {@code line} carries, or {@code Long.MIN_VALUE} when it is not a progress line (a
     * command, a comment, or anything else a user sent).
     */
    public static long watermarkOf(String line) {
        if (line == null || !line.startsWith(PREFIX)) {
            return Long.MIN_VALUE;
        }
        try {
            return Long.parseLong(line.substring(PREFIX.length()));
        } catch (NumberFormatException e) {
            return Long.MIN_VALUE;
        }
    }
}
