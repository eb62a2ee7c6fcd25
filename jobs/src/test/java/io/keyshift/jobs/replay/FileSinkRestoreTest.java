package io.keyshift.jobs.replay;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A job restored into a new output directory writes its lines there. Flink's file sink keeps each bucket's path in
 * its state: with one bucket id for every directory, the restored sink went on writing into the old directory for as
 * long as lines came every checkpoint interval (dead letters, late records, results of short windows).
 */
class FileSinkRestoreTest {

    /** Lines as fast as 2 ms apart each, for ever, into {@code dir}. */
    private static JobClient start(Path dir, String savepoint) throws Exception {
        Configuration conf = new Configuration();
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(200));
        if (savepoint != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        var lines = env.fromSequence(0, Long.MAX_VALUE).uid("numbers").map(n -> {
            Thread.sleep(2);
            return "line " + n;
        }).returns(Types.STRING).uid("lines");
        ReplayJob.sink(lines, dir, "lines", 1);
        return env.executeAsync("file sink restore");
    }

    private static List<Path> committed(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith("."))
                    .toList();
        }
    }

    private static void waitForCommitted(Path dir) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (committed(dir).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
    }

    @Test
    void aJobRestoredIntoANewDirectoryWritesThereAndNotIntoTheOldOne(@TempDir Path tmp) throws Exception {
        Path first = tmp.resolve("first");
        Path second = tmp.resolve("second");
        JobClient job = start(first, null);
        waitForCommitted(first);
        String savepoint = job.stopWithSavepoint(false, tmp.resolve("savepoints").toUri().toString(),
                SavepointFormatType.CANONICAL).get();
        List<Path> before = committed(first);
        assertThat(before).isNotEmpty();

        JobClient restored = start(second, savepoint);
        try {
            waitForCommitted(second);
            // several checkpoints with lines in every interval
            Thread.sleep(1_500);
        } finally {
            restored.cancel().get();
        }
        assertThat(committed(second)).isNotEmpty();
        assertThat(committed(first)).as("the old directory's files after the restore").containsExactlyInAnyOrderElementsOf(before);
        try (Stream<Path> files = Files.list(first)) {
            assertThat(files.filter(f -> f.getFileName().toString().startsWith(".")).toList())
                    .as("in-progress files in the old directory").isEmpty();
        }
    }

    /** The bucket's path is the output directory, also where a top directory's name holds a colon (a URI scheme). */
    @Test
    void theBucketIsTheOutputDirectory() {
        for (String dir : List.of("/tmp/out/results", "/backup-2024-05-01T10:00/out/results", "/a b/c:d/results")) {
            Path p = Path.of(dir);
            org.apache.flink.core.fs.Path bucket = new org.apache.flink.core.fs.Path(
                    new org.apache.flink.core.fs.Path(p.getRoot().toUri()), ReplayJob.bucketId(p));
            assertThat(bucket.toUri().getPath()).as(dir).isEqualTo(dir);
            assertThat(bucket).as(dir).isEqualTo(new org.apache.flink.core.fs.Path(p.toUri()));
        }
    }
}
