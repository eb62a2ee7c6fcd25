package io.keyshift.jobs.replay;

import io.keyshift.config.JobOptions;
import io.keyshift.jobs.event.Event;
import io.keyshift.jobs.source.EventSpace;
import io.keyshift.jobs.source.StridedSource;
import io.keyshift.jobs.workload.WindowResult;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * keyshift behind a source with Flink's watermark alignment, whose readers end at different event times: the reader
 * that ends first must not leave the other paused behind its last watermark. (The router used to wait in
 * {@code finish()} for the planner's final lease, which needs every reader to end; a source whose task is still
 * finishing does not report its end to the alignment, so the second reader stayed paused for ever.)
 */
class WatermarkAlignmentTest {
    private static final Duration WINDOW = Duration.ofHours(1);
    private static final long START = 1_767_571_200_000L;

    /** Even indices span 5 hours of event time, odd ones 10 hours: with 2 readers, reader 0 ends first. */
    static final class Uneven implements EventSpace {
        private static final long serialVersionUID = 1L;
        static final long SIZE = 120_000;

        @Override
        public long size() {
            return SIZE;
        }

        static Event event(long i) {
            long step = i % 2 == 0 ? 300 : 600;
            return new Event(START + (i / 2) * step, "k" + (i * 7919 % 61), 1.0, i);
        }

        @Override
        public Cursor open(int offset, int stride, long position) {
            return new Cursor() {
                long next = offset + stride * position;

                @Override
                public boolean hasNext() {
                    return next < SIZE;
                }

                @Override
                public Event next() {
                    Event e = event(next);
                    next += stride;
                    return e;
                }

                @Override
                public void close() { }
            };
        }
    }

    static Map<String, Long> run(Strategy strategy) throws Exception {
        Configuration c = new Configuration();
        c.set(JobOptions.WINDOW, WINDOW);
        c.set(PipelineOptions.AUTO_WATERMARK_INTERVAL, Duration.ofMillis(20));
        c.setString("state.backend.type", "hashmap");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, c);
        env.setMaxParallelism(128);
        var events = env.fromSource(new StridedSource(new Uneven(), 2, 0, null),
                WatermarkStrategy.<Event>forMonotonousTimestamps().withTimestampAssigner((e, ts) -> e.timestamp)
                        .withWatermarkAlignment("aligned", WINDOW, Duration.ofMillis(20)),
                "uneven").uid(ReplayJob.SOURCE_UID);
        Workload.Outputs out = Workload.build(events, strategy, c, 2);
        Map<String, Long> counts = new TreeMap<>();
        List<WindowResult> results = new ArrayList<>();
        try (var it = out.results().executeAndCollect("alignment " + strategy.id())) {
            it.forEachRemaining(results::add);
        }
        for (WindowResult r : results) {
            assertThat(counts.put(r.key + "@" + r.windowStart, r.count)).as("one result per key and window").isNull();
        }
        return counts;
    }

    /** Names of the job graph's vertices (each a chain) for the predictive workload behind the uneven source. */
    static List<String> vertices(boolean aligned) {
        Configuration c = new Configuration();
        c.set(JobOptions.WINDOW, WINDOW);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, c);
        env.setMaxParallelism(128);
        WatermarkStrategy<Event> strategy = WatermarkStrategy.<Event>forMonotonousTimestamps()
                .withTimestampAssigner((e, ts) -> e.timestamp);
        if (aligned) {
            strategy = strategy.withWatermarkAlignment("aligned", WINDOW, Duration.ofMillis(20));
        }
        var events = env.fromSource(new StridedSource(new Uneven(), 2, 0, null), strategy, "uneven")
                .uid(ReplayJob.SOURCE_UID);
        Workload.build(events, Strategy.PREDICTIVE, c, 2).results().sinkTo(new org.apache.flink.streaming.api.functions
                .sink.v2.DiscardingSink<>());
        List<String> names = new ArrayList<>();
        env.getStreamGraph().getJobGraph().getVertices().forEach(v -> names.add(v.getName()));
        return names;
    }

    @Test
    void behindAnAlignedSourceTheRouterRunsInATaskOfItsOwn() {
        // chained to its source, a router waiting for a lease at the end of the input keeps the source's task, and
        // with it the alignment of every other reader, from finishing
        assertThat(vertices(true)).anySatisfy(n -> assertThat(n).startsWith("Source: uneven").doesNotContain("router"));
        assertThat(vertices(false)).anySatisfy(n -> assertThat(n).startsWith("Source: uneven").contains("router"));
    }

    @Test
    void aReaderThatEndsFirstDoesNotHoldAnAlignedReaderPaused() throws Exception {
        Map<String, Long> hash = run(Strategy.HASH);
        assertThat(hash.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(Uneven.SIZE);
        assertThat(run(Strategy.PREDICTIVE)).isEqualTo(hash);
    }
}
