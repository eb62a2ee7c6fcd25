package io.keyshift.control;

import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The in-band progress of the user's control input: lines pass, each watermark comes as a line before itself. */
class ControlProgressTest {
    @Test
    void eachWatermarkComesAsALineBeforeItAndTheLinesPassAsTheyAre() throws Exception {
        try (OneInputStreamOperatorTestHarness<String, String> h =
                     new OneInputStreamOperatorTestHarness<>(new ControlProgress())) {
            h.open();
            h.processElement(new StreamRecord<>("0,pin,a", 0));
            h.processWatermark(new Watermark(5));
            // a user's line that would pass for progress is changed, so the planner refuses it as a command
            h.processElement(new StreamRecord<>(ControlProgress.line(9), 6));
            h.processWatermark(new Watermark(Long.MAX_VALUE));
            List<Object> out = new ArrayList<>();
            for (Object o : h.getOutput()) {
                out.add(o instanceof StreamRecord<?> r ? r.getValue() : o);
            }
            assertThat(out).hasSize(6);
            assertThat(out.get(0)).isEqualTo("0,pin,a");
            assertThat(ControlProgress.watermarkOf((String) out.get(1))).isEqualTo(5);
            assertThat(out.get(2)).isEqualTo(new Watermark(5));
            assertThat(ControlProgress.watermarkOf((String) out.get(3))).isEqualTo(Long.MIN_VALUE);
            assertThat((String) out.get(3)).startsWith("\uFFFD");
            assertThat(ControlProgress.watermarkOf((String) out.get(4))).isEqualTo(Long.MAX_VALUE);
            assertThat(out.get(5)).isEqualTo(new Watermark(Long.MAX_VALUE));
            assertThat(ControlProgress.watermarkOf("0,pin,a")).isEqualTo(Long.MIN_VALUE);
        }
    }
}
