package io.keyshift.control;

import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The user's control input joined with the reverts: lines of both pass, each watermark of the user's input comes as a
 * line before the joined watermark, which is the lower of the two.
 */
class ControlProgressTest {
    @Test
    void eachOfTheUsersWatermarksComesAsALineAndTheJoinedWatermarkIsTheLower() throws Exception {
        try (TwoInputStreamOperatorTestHarness<String, String, String> h =
                     new TwoInputStreamOperatorTestHarness<>(new ControlProgress())) {
            h.open();
            h.processElement1(new StreamRecord<>("0,pin,a", 0));
            h.processElement2(new StreamRecord<>("1,revert,b,3", 1));
            h.processWatermark2(new Watermark(2));
            h.processWatermark1(new Watermark(5));
            // a user's line that would pass for progress is changed, so the planner refuses it as a command
            h.processElement1(new StreamRecord<>(ControlProgress.line(9), 6));
            h.processWatermark1(new Watermark(Long.MAX_VALUE));
            h.processWatermark2(new Watermark(Long.MAX_VALUE));
            List<Object> out = new ArrayList<>();
            for (Object o : h.getOutput()) {
                out.add(o instanceof StreamRecord<?> r ? r.getValue() : o);
            }
            assertThat(out).hasSize(7);
            assertThat(out.get(0)).isEqualTo("0,pin,a");
            assertThat(out.get(1)).isEqualTo("1,revert,b,3");
            assertThat(ControlProgress.watermarkOf((String) out.get(2))).isEqualTo(5);
            assertThat(out.get(3)).as("the reverts' watermark holds the joined one").isEqualTo(new Watermark(2));
            assertThat(ControlProgress.watermarkOf((String) out.get(4))).isEqualTo(Long.MIN_VALUE);
            assertThat((String) out.get(4)).startsWith("\uFFFD");
            assertThat(ControlProgress.watermarkOf((String) out.get(5))).isEqualTo(Long.MAX_VALUE);
            assertThat(out.get(6)).isEqualTo(new Watermark(Long.MAX_VALUE));
            assertThat(ControlProgress.watermarkOf("0,pin,a")).isEqualTo(Long.MIN_VALUE);
        }
    }
}
