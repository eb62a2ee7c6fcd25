package io.keyshift.jobs.replay;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** A strategy's job time: to the first record read, and from there to the job's end. */
class RunTimingTest {
    private static final long S = 1_000_000_000L;

    @Test
    void wallTimeSplitsAtTheFirstRecord() {
        ReplayRunner.RunTiming t = ReplayRunner.RunTiming.of(300_000, 10 * S, 11 * S + S / 2, 14 * S);
        assertThat(t.wallSeconds()).isCloseTo(4.0, within(1e-9));
        assertThat(t.startSeconds()).isCloseTo(1.5, within(1e-9));
        assertThat(t.flowSeconds()).isCloseTo(2.5, within(1e-9));
        assertThat(t.recordsPerSecond()).isCloseTo(75_000, within(1e-6));
        assertThat(t.flowRecordsPerSecond()).isCloseTo(120_000, within(1e-6));
    }

    @Test
    void withoutARecordTheWholeRunIsFlow() {
        ReplayRunner.RunTiming t = ReplayRunner.RunTiming.of(0, 10 * S, null, 12 * S);
        assertThat(t.startSeconds()).isZero();
        assertThat(t.flowSeconds()).isCloseTo(2.0, within(1e-9));
        assertThat(t.flowRecordsPerSecond()).isZero();
    }

    @Test
    void aFirstRecordOutsideTheRunIsClampedToIt() {
        // a reading of another run's clock cannot make a negative start or flow
        assertThat(ReplayRunner.RunTiming.of(10, 10 * S, 9 * S, 12 * S).startSeconds()).isZero();
        assertThat(ReplayRunner.RunTiming.of(10, 10 * S, 13 * S, 12 * S).flowSeconds()).isZero();
    }
}
