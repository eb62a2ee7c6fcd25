package io.keyshift.jobs.replay;

import io.keyshift.config.JobOptions;
import io.keyshift.config.ScalingOptions;
import io.keyshift.jobs.source.StridedSource;
import io.keyshift.jobs.source.ZipfDriftGenerator;

import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.transformations.SourceTransformation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A cluster job that autoscale may rescale reads its file or generator input in a split for every reader up to
 * keyshift.scaling.max-parallelism: with one split per submitted subtask, the readers a scale-out added found no split
 * and ended at once, their routers with them, while the job held slots for them.
 */
class RescaledSourceSplitsTest {
    private static int splits(Configuration c, boolean rescaled, Path dir) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2, c);
        env.setMaxParallelism(128);
        ReplayJob.build(env, new ZipfDriftGenerator(1000, 1_767_571_200_000L, 1.0, 100, 1.1, 2, 1, 0.0), Strategy.PREDICTIVE, c, dir, false,
                0, null, null, rescaled);
        ArrayDeque<Transformation<?>> todo = new ArrayDeque<>(env.getTransformations());
        Set<Transformation<?>> seen = new HashSet<>();
        while (!todo.isEmpty()) {
            Transformation<?> t = todo.poll();
            if (!seen.add(t)) {
                continue;
            }
            if (t instanceof SourceTransformation<?, ?, ?> s && s.getSource() instanceof StridedSource strided) {
                return strided.splits();
            }
            todo.addAll(t.getInputs());
        }
        throw new AssertionError("no strided source");
    }

    @Test
    void aRescaledJobsSourceHasASplitForEveryReaderItMayReach(@TempDir Path dir) {
        Configuration c = new Configuration();
        c.set(JobOptions.WINDOW, Duration.ofHours(1));
        c.set(ScalingOptions.CAPACITY, 300.0);
        c.set(ScalingOptions.MAX_PARALLELISM, 8);
        assertThat(splits(c, true, dir.resolve("a"))).isEqualTo(8);
        assertThat(splits(c, false, dir.resolve("b"))).as("a replay without --scale: as submitted").isEqualTo(2);
        Configuration unbounded = new Configuration(c);
        unbounded.removeConfig(ScalingOptions.MAX_PARALLELISM);
        // without a bound, as submitted: a split per possible reader (128) read a file input 128 times over
        assertThat(splits(unbounded, true, dir.resolve("c"))).isEqualTo(2);
    }
}
