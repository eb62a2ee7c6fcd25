package io.keyshift.control;

import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Joins the user's control input (input 1) and the shadow validation's reverts (input 2,
 * {@code keyshift.migration.on-mismatch=REVERT}) into the planner's control input, and carries the user's watermark in
 * band, as a record. The joined watermark is the minimum of the two, and the reverts trail the routing by design, so
 * from it alone the planner could not tell how far the user's commands are known: it would plan once the reverts had
 * caught up, with or without a user's command whose time lies between the reverts' progress and the plan's start (two
 * replays with the same control file could then differ). With the user's watermark in band the planner waits for the
 * user's commands up to a plan's start and for the reverts up to a window before it, each on its own progress.
 *
 * <p>Forwards every line of either input as it is (a user's line that begins with a NUL character, which no command
 * does, with U+FFFD in its place, so that the planner refuses it rather than take it for progress); on each watermark
 * of input 1 it first emits {@link #line(long)} of it (timestamped with it), then forwards the joined watermark as a
 * two-input operator does. Runs at parallelism 1 (its input 1's watermark is then the minimum over the user's control
 * subtasks). One operator for both inputs, not a hop in front of a union: it finishes only when the reverts do, at the
 * job's end, so a control input added at a restore never finds a finished operator behind it (Flink refuses to
 * restore a finished vertex whose input is not finished). Stateless.
 */
public final class ControlProgress extends AbstractStreamOperator<String>
        implements TwoInputStreamOperator<String, String, String> {
    private static final long serialVersionUID = 1L;

    /** The start of a progress line: a NUL character, which no control command begins with. */
    private static final String PREFIX = "\u0000control-watermark,";

    @Override
    public void open() throws Exception {
        super.open();
        io.keyshift.config.JobOptions.checkOneSubtask("control progress",
                getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks());
    }

    /** A user's control line. */
    @Override
    public void processElement1(StreamRecord<String> element) {
        String line = element.getValue();
        if (line != null && line.startsWith("\u0000")) {
            // a user's line that could pass for progress: the planner refuses it as the command it is not
            element.replace("\uFFFD" + line.substring(1));
        }
        output.collect(element);
    }

    /** A revert line of the shadow validation. */
    @Override
    public void processElement2(StreamRecord<String> element) {
        output.collect(element);
    }

    /** The user's control input's watermark: as a line, then into the joined watermark. */
    @Override
    public void processWatermark1(Watermark mark) throws Exception {
        output.collect(new StreamRecord<>(line(mark.getTimestamp()), mark.getTimestamp()));
        super.processWatermark1(mark);
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
