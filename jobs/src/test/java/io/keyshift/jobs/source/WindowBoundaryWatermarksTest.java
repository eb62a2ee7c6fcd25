package io.keyshift.jobs.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyshift.jobs.event.Event;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

class WindowBoundaryWatermarksTest {

    /** Collects the watermarks emitted. */
    private static final class Marks implements WatermarkOutput {
        final List<Long> marks = new ArrayList<>();

        @Override
        public void emitWatermark(Watermark watermark) {
            marks.add(watermark.getTimestamp());
        }

        @Override
        public void markIdle() {
        }

        @Override
        public void markActive() {
        }
    }

    @Test
    void aRecordOpeningAWindowClosesEveryWindowBeforeIt() {
        WindowBoundaryWatermarks g = new WindowBoundaryWatermarks(1000);
        Marks out = new Marks();
        g.onEvent(null, 500, out);
        g.onEvent(null, 700, out);
        assertThat(out.marks).as("no boundary crossed yet").isEmpty();
        g.onEvent(null, 1500, out);
        // the window [0, 1000) is closed (a router takes a window as passed at its end - 1), not left open at 700
        assertThat(out.marks).containsExactly(999L);
        g.onEvent(null, 4200, out);
        assertThat(out.marks).containsExactly(999L, 3999L);
        g.onEvent(null, 4300, out);
        assertThat(out.marks).hasSize(2);
    }

    @Test
    void negativeTimestampsFloorToTheirWindow() {
        WindowBoundaryWatermarks g = new WindowBoundaryWatermarks(1000);
        Marks out = new Marks();
        g.onEvent(null, -1500, out);
        g.onEvent(null, -200, out);
        assertThat(out.marks).containsExactly(-1001L);
    }

    @Test
    void periodicWatermarksTrailTheLargestTimestamp() {
        WindowBoundaryWatermarks g = new WindowBoundaryWatermarks(1000);
        Marks out = new Marks();
        g.onPeriodicEmit(out);
        assertThat(out.marks).as("nothing before the first record").isEmpty();
        g.onEvent((Event) null, 250, out);
        g.onPeriodicEmit(out);
        assertThat(out.marks).containsExactly(249L);
    }
}
