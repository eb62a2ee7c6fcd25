package io.keyshift.jobs.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkGeneratorSupplier;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.util.clock.ManualClock;
import org.apache.flink.util.clock.RelativeClock;
import org.junit.jupiter.api.Test;

/** The Kafka source's per-partition watermarks ({@link KafkaIo#watermarks}) with records that do not parse. */
class KafkaWatermarksTest {
    /** What a generator emitted. */
    static final class Out implements WatermarkOutput {
        final List<Long> watermarks = new ArrayList<>();
        boolean idle;

        @Override
        public void emitWatermark(Watermark w) {
            watermarks.add(w.getTimestamp());
            idle = false;
        }

        @Override
        public void markIdle() {
            idle = true;
        }

        @Override
        public void markActive() {
            idle = false;
        }
    }

    private static KafkaRecord event(long t) {
        KafkaRecord r = new KafkaRecord();
        r.timestamp = t;
        r.key = "k";
        return r;
    }

    private static KafkaRecord deadLetter() {
        KafkaRecord r = new KafkaRecord();
        r.timestamp = Long.MIN_VALUE;
        r.deadRaw = "{\"not\": \"csv\"}";
        r.deadReason = "expected 2 columns, found 1";
        return r;
    }

    private static WatermarkGenerator<KafkaRecord> generator(Duration idleness, ManualClock clock) {
        return KafkaIo.watermarks(Duration.ZERO, idleness).createWatermarkGenerator(
                new WatermarkGeneratorSupplier.Context() {
                    @Override
                    public MetricGroup getMetricGroup() {
                        return new UnregisteredMetricsGroup();
                    }

                    @Override
                    public RelativeClock getInputActivityClock() {
                        return clock;
                    }
                });
    }

    /**
     * A partition that, after a good record, receives only records that do not parse goes idle after the idleness
     * timeout, as one that receives nothing: dead letters do not keep it active (they had held every window and
     * plan of the job back for as long as they came).
     */
    @Test
    void aPartitionOfDeadLettersGoesIdle() {
        ManualClock clock = new ManualClock();
        WatermarkGenerator<KafkaRecord> g = generator(Duration.ofSeconds(30), clock);
        Out out = new Out();
        g.onEvent(event(1_000), 1_000, out);
        g.onPeriodicEmit(out);
        assertThat(out.watermarks).containsExactly(999L);
        for (int s = 1; s <= 40; s++) {
            clock.advanceTime(Duration.ofSeconds(1));
            g.onEvent(deadLetter(), Long.MIN_VALUE, out);
            g.onPeriodicEmit(out);
        }
        assertThat(out.idle).as("idle after 30 s of dead letters only").isTrue();
        // a good record makes it active again and moves its watermark
        g.onEvent(event(5_000), 5_000, out);
        g.onPeriodicEmit(out);
        assertThat(out.idle).isFalse();
        assertThat(out.watermarks).last().isEqualTo(4_999L);
    }

    /** A partition that keeps receiving good records does not go idle; dead letters between them change nothing. */
    @Test
    void goodRecordsKeepAPartitionActive() {
        ManualClock clock = new ManualClock();
        WatermarkGenerator<KafkaRecord> g = generator(Duration.ofSeconds(30), clock);
        Out out = new Out();
        for (int s = 1; s <= 40; s++) {
            clock.advanceTime(Duration.ofSeconds(1));
            g.onEvent(event(s * 1_000L), s * 1_000L, out);
            g.onEvent(deadLetter(), Long.MIN_VALUE, out);
            g.onPeriodicEmit(out);
        }
        assertThat(out.idle).isFalse();
        assertThat(out.watermarks).last().isEqualTo(39_999L);
    }

    @picocli.CommandLine.Command(name = "job")
    static final class Job {
        @picocli.CommandLine.Mixin
        KafkaOptions kafka;
    }

    private static Duration idleness(String... args) {
        Job job = new Job();
        picocli.CommandLine cl = new picocli.CommandLine(job);
        List<String> all = new ArrayList<>(List.of("--kafka-bootstrap-servers", "127.0.0.1:9092", "--kafka-topic",
                "trips"));
        all.addAll(List.of(args));
        cl.parseArgs(all.toArray(new String[0]));
        return job.kafka.idleness(cl);
    }

    /**
     * A bounded read (a backfill) has no idleness unless --kafka-idleness is given: each partition ends at its end
     * offset, which releases its watermark, and with the 30 s default a partition whose reader delivered nothing for
     * 30 s on a loaded machine was taken for idle, its later records dropped as late (a CI run lost early windows'
     * records that way). An unbounded read keeps the default; a given value is taken either way.
     */
    @Test
    void aBoundedReadHasNoIdlenessUnlessOneIsGiven() {
        assertThat(idleness("--kafka-bounded")).isZero();
        assertThat(idleness()).isEqualTo(Duration.ofSeconds(30));
        assertThat(idleness("--kafka-bounded", "--kafka-idleness", "5s")).isEqualTo(Duration.ofSeconds(5));
        assertThat(idleness("--kafka-idleness", "5s")).isEqualTo(Duration.ofSeconds(5));
    }

}
