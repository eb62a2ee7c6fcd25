package io.keyshift.jobs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 17: the cluster job refuses an --out that already holds results of another job (a second submission used to
 * add every result line again), and a bad argument is the exception's message. No job starts in these tests.
 */
class KeyshiftJobTest {

    @Test
    void anOutputDirectoryWithResultsOfAnotherJobIsRefused(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        Files.createDirectories(out.resolve("results/2014-09-01--00"));
        Files.writeString(out.resolve("results/2014-09-01--00/part-0-0"), "70,1409529600000,12\n");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out", out.toString()}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--out " + out.toAbsolutePath() + " already holds results of another job");
    }

    /**
     * An --out the job cannot make (a file on its path) is refused naming --out, before the job is built (it failed with
     * exit 1 and a file system's message once every check had passed, the brokers' question too).
     */
    @Test
    void anOutputDirectoryThatCannotBeMadeIsRefusedNamingOut(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("plain"), "a file");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out",
                file.resolve("out").toString(), "-Dexecution.checkpointing.interval=5s"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--out " + file.resolve("out").toAbsolutePath())
                .hasMessageContaining("is not a writable directory");
        assertThat(file).hasContent("a file");
        // a dangling symbolic link (a mount this machine lacks): refused alike, the link kept
        Path link = Files.createSymbolicLink(dir.resolve("linked"), dir.resolve("missing/x"));
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out",
                link.toString(), "-Dexecution.checkpointing.interval=5s"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--out " + link.toAbsolutePath())
                .hasMessageContaining("is not a writable directory");
        assertThat(Files.isSymbolicLink(link)).isTrue();
    }

    /**
     * A job started from a bootstrap savepoint (the forecaster's state alone) continues no earlier run: an --out that
     * holds another job's results is refused as for a fresh job (restoring from a savepoint let it in, and the two
     * runs' lines mixed).
     */
    @Test
    void aJobStartedFromABootstrapSavepointIsRefusedAnOutputDirectoryWithResults(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        Files.createDirectories(out.resolve("results/2014-09-01--00"));
        Files.writeString(out.resolve("results/2014-09-01--00/part-0-0"), "70,1409529600000,12\n");
        Path savepoint = Files.createDirectories(dir.resolve("savepoint"));
        Files.writeString(savepoint.resolve("_metadata"), "not read here");
        Files.writeString(savepoint.resolve(io.keyshift.savepoint.ForecasterBootstrap.MARKER), "bootstrap\n");
        assertThat(io.keyshift.savepoint.ForecasterBootstrap.isBootstrap(savepoint.resolve("_metadata").toString()))
                .isTrue();
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out", out.toString(),
                "-Dexecution.state-recovery.path=" + savepoint.toUri()}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("already holds results of another job");
    }

    /**
     * A savepoint that holds the split merger's state (a job that split keys) restored into a job with
     * {@code keyshift.plan.split-threshold} 0, or predictive scaling's into a job without its capacity: refused before
     * any job starts, naming the option (Flink refused the job on the cluster, naming a hex operator id); the same
     * savepoint passes the check where the options keep the operators.
     */
    @Test
    void aSavepointWithStateOfAnOperatorAnOptionLeavesOutIsRefusedNamingTheOption(@TempDir Path dir)
            throws Exception {
        Path csv = dir.resolve("trips.csv");
        Files.writeString(csv, "station,start\nA,2014-09-01 08:00:00\nB,2014-09-01 09:30:00\n");
        for (String[] c : new String[][] {
            {io.keyshift.api.StageUids.splitMerger("keyshift"), "-Dkeyshift.plan.split-threshold=0",
                "keyshift.plan.split-threshold"},
            {io.keyshift.api.StageUids.scaling("keyshift"), "-Dkeyshift.plan.split-threshold=1",
                "keyshift.scaling.capacity"}}) {
            Path savepoint = dir.resolve("savepoint-" + c[2]);
            SavepointFixtures.withOperatorState(savepoint, c[0]);
            Path out = dir.resolve("out-" + c[2]);
            assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--input", csv.toString(), "--key", "station",
                    "--time", "start", "--out", out.toString(), c[1], "-Dexecution.checkpointing.interval=5s",
                    "-Dexecution.state-recovery.path=" + savepoint.toUri()}))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("the savepoint " + savepoint.toUri())
                    .hasMessageContaining(c[2]);
            assertThat(out.resolve(KeyshiftJob.STARTED_MARKER)).doesNotExist();
        }
        var cl = new picocli.CommandLine(new KeyshiftJob());
        KeyshiftJob.refuseStateWithoutOperator(cl, dir.resolve("savepoint-keyshift.plan.split-threshold").toUri()
                .toString(), true, false);
        KeyshiftJob.refuseStateWithoutOperator(cl, dir.resolve("savepoint-keyshift.scaling.capacity").toUri()
                .toString(), false, true);
        // a path this machine cannot read is left to Flink
        KeyshiftJob.refuseStateWithoutOperator(cl, dir.resolve("none").toUri().toString(), false, false);
    }

    @Test
    void anOutputDirectoryWithPlansOfAnotherJobIsRefusedToo(@TempDir Path dir) throws Exception {
        // with the results on Kafka only the side outputs are files: a second job must not interleave its plans
        Path out = dir.resolve("out");
        Files.createDirectories(out.resolve("plans/2026-01-05--00"));
        Files.writeString(out.resolve("plans/2026-01-05--00/part-0-0"), "{}\n");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out", out.toString()}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("already holds results of another job, running or ended (plans/)");
    }

    /**
     * With high availability in application mode Flink runs main() again after a JobManager failover, with the job's
     * fixed id: the same job's output is not "another job's"; a different id's still is.
     */
    @Test
    void theSameJobRunAgainAfterAFailoverKeepsItsOutputAndAnotherIsRefused(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        Files.createDirectories(out.resolve("results/2014-09-01--00"));
        Files.writeString(out.resolve("results/2014-09-01--00/part-0-0"), "70,1409529600000,12\n");
        String id = "00000000000000000000000000000001";
        Files.writeString(out.resolve(KeyshiftJob.JOB_ID_MARKER), id);
        String checkpoints = dir.resolve("checkpoints").toUri().toString();
        // the id alone is not enough: a later deployment with the same HA cluster id gets it too
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.sameJob(out, id, checkpoints, true)).isFalse();
        Files.createDirectories(dir.resolve("checkpoints").resolve(id).resolve("shared"));
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.sameJob(out, id, checkpoints, true)).isFalse();
        // the job that wrote there has a completed checkpoint: its recovery continues its own output
        Files.createDirectories(dir.resolve("checkpoints").resolve(id).resolve("chk-3"));
        // begun, not completed (Flink makes chk-N when a checkpoint starts, _metadata when it completes): a
        // JobManager lost in the middle of one left it, and a later deployment with the id took it for the job's
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.sameJob(out, id, checkpoints, true)).isFalse();
        Files.writeString(dir.resolve("checkpoints").resolve(id).resolve("chk-3").resolve("_metadata"), "done");
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.sameJob(out, id, checkpoints, true)).isTrue();
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.sameJob(out, "00000000000000000000000000000002",
                checkpoints, true)).isFalse();
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.sameJob(out, null, checkpoints, true)).isFalse();
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.sameJob(out, id, null, true)).isFalse();
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.sameJob(dir.resolve("empty"), id, checkpoints, true))
                .isFalse();
        // with execution.checkpointing.create-subdir false, Flink writes <dir>/chk-N (no job id level)
        Path flat = Files.createDirectories(dir.resolve("flat"));
        String flatUri = flat.toUri().toString();
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.sameJob(out, id, flatUri, false)).isFalse();
        Files.writeString(Files.createDirectories(flat.resolve("chk-4")).resolve("_metadata"), "done");
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.sameJob(out, id, flatUri, false)).isTrue();
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.sameJob(out, id, flatUri, true)).isFalse();
    }

    /**
     * The Kafka input's group when main runs again in a directory its fixed id marked, with no checkpoint: a
     * JobManager failover before the first checkpoint (Flink recovers the first attempt's job, whose group the
     * directory keeps on record) or a new deployment under a reused HA id after the earlier job ended, which must not
     * start at that job's committed offsets: a group of its own either way, and the record is left alone. With a
     * checkpoint (continuing) the recorded group is read.
     */
    @Test
    void mainAgainWithoutACheckpointReadsUnderAGroupOfItsOwnAndLeavesTheRecordedOne(@TempDir Path dir)
            throws Exception {
        io.keyshift.jobs.kafka.KafkaOptions kafka = new io.keyshift.jobs.kafka.KafkaOptions();
        Path out = dir.resolve("out");
        Path file = out.resolve(io.keyshift.jobs.kafka.KafkaOptions.GROUP_ID_FILE);
        String id = "00000000000000000000000000000004";
        String first = KeyshiftJob.kafkaGroup(kafka, out, false, id, "");
        KeyshiftJob.mark(out, id, "", KeyshiftJob.argsDigest(java.util.List.of()));
        String again = KeyshiftJob.kafkaGroup(kafka, out, false, id, "");
        org.assertj.core.api.Assertions.assertThat(again).isNotEqualTo(first)
                .startsWith("keyshift:" + out.toAbsolutePath() + ":");
        org.assertj.core.api.Assertions.assertThat(Files.readString(file).strip()).isEqualTo(first);
        // with a checkpoint (a failover that resumes, a restore) the recorded group is read
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.kafkaGroup(kafka, out, true, id, "")).isEqualTo(first);
        // from another savepoint under the same id and not continuing; another id; no fixed id: new and recorded
        String fromOther = KeyshiftJob.kafkaGroup(kafka, out, false, id, "file:/savepoints/sp-1");
        org.assertj.core.api.Assertions.assertThat(fromOther).isNotEqualTo(first).isNotEqualTo(again);
        org.assertj.core.api.Assertions.assertThat(Files.readString(file).strip()).isEqualTo(fromOther);
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.kafkaGroup(kafka, out, false,
                "00000000000000000000000000000005", "")).isNotEqualTo(fromOther);
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.kafkaGroup(kafka, out, false, null, ""))
                .isNotEqualTo(fromOther);
        // a restore into a new directory, where only its own started marker is (taken before the group is chosen):
        // a group of its own, not the shared group of builds before 2026-12-02 that an earlier job's output implies
        Path restored = Files.createDirectories(dir.resolve("restored"));
        Files.writeString(restored.resolve(KeyshiftJob.STARTED_MARKER), "2026-12-04T00:00:00Z\n");
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.kafkaGroup(kafka, restored, true, null, ""))
                .startsWith("keyshift:" + restored.toAbsolutePath() + ":");
    }

    /**
     * The same job's main run again by Flink (HA) after a JobManager failover that came while it was being built: only
     * its started marker is there, naming its fixed id, and it is let in; a job of another id is refused.
     */
    @Test
    void aStartedMarkerNamingTheFixedIdIsTheSameJobs(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("out"));
        String id = "00000000000000000000000000000006";
        Files.writeString(out.resolve(KeyshiftJob.STARTED_MARKER), "2026-12-04T00:00:00Z\n" + id + "\n");
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.startedBy(out, id)).isTrue();
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.startedBy(out, null)).isFalse();
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.startedBy(out, "00000000000000000000000000000007"))
                .isFalse();
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out", out.toString(),
                "-D" + KeyshiftJob.FIXED_JOB_ID + "=00000000000000000000000000000007"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("already holds results of another job, running or ended (.keyshift-job-started)");
        // a marker of a job without a fixed id names none
        Files.writeString(out.resolve(KeyshiftJob.STARTED_MARKER), "2026-12-04T00:00:00Z\n");
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.startedBy(out, id)).isFalse();
        // the same job's main again, refused before it is submitted (no valid row): the marker of its first main, which
        // never reached its HA marker (so never submitted), goes with it, and a corrected job is not refused for it
        Files.writeString(out.resolve(KeyshiftJob.STARTED_MARKER), "2026-12-04T00:00:00Z\n" + id + "\n");
        Path csv = Files.writeString(dir.resolve("bad.csv"), "station,start\nA,notatime\n");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--input", csv.toString(), "--key", "station",
                "--time", "start", "--out", out.toString(), "-Dexecution.checkpointing.interval=5s",
                "-D" + KeyshiftJob.FIXED_JOB_ID + "=" + id}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("has no valid row");
        assertThat(out.resolve(KeyshiftJob.STARTED_MARKER)).doesNotExist();
    }

    /** A file sink's in-progress part (hidden; no checkpoint committed it) is not a result of another job. */
    @Test
    void aRunningJobsInProgressPartsOrSortedInputHoldTheOutput(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.createDirectories(out.resolve("results/2014-09-01--00"));
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.heldOutput(out)).isNull();
        // a live job before its first commit: only a hidden in-progress part
        Files.writeString(out.resolve("results/2014-09-01--00/.part-0-0.inprogress.1234"), "70,1409529600000,12\n");
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.heldOutput(out)).isEqualTo("results");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out", out.toString()}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("already holds results of another job, running or ended (results/)");
        // a file input's job reads its sorted copy from --out: a second main must not rewrite it
        Path other = Files.createDirectories(dir.resolve("other"));
        Files.writeString(other.resolve(".events.bin"), "x");
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.heldOutput(other)).isEqualTo(".events.bin");
        // a job submitted before any sink of its wrote a file (a live topic, or a paced generator, in its first window)
        Path started = Files.createDirectories(dir.resolve("started"));
        Files.writeString(started.resolve(KeyshiftJob.STARTED_MARKER), "2026-12-04T00:00:00Z\n");
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.heldOutput(started)).isEqualTo(".keyshift-job-started");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out",
                started.toString()}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("already holds results of another job, running or ended (.keyshift-job-started)");
        // the same job's main run again after a JobManager failover before its first checkpoint: nothing committed
        String id = "00000000000000000000000000000002";
        Files.writeString(out.resolve(KeyshiftJob.JOB_ID_MARKER), id);
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.markedBy(out, id)).isTrue();
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.markedBy(out, "00000000000000000000000000000003"))
                .isFalse();
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.heldOutput(out, false)).isNull();
        Files.writeString(out.resolve("results/2014-09-01--00/part-0-0"), "70,1409529600000,12\n");
        org.assertj.core.api.Assertions.assertThat(KeyshiftJob.heldOutput(out, false)).isEqualTo("results");
    }

    /**
     * A file whose every row is a dead letter (a --time-format that fits no row) is refused before any job, as by the
     * replay, and leaves no sorted input behind: the corrected rerun into the same --out is not refused as holding
     * another job's output (the job had been submitted to do nothing, and the rerun refused).
     */
    @Test
    void aFileWithNoValidRowIsRefusedAndTheCorrectedRerunIsNot(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("trips.csv");
        Files.writeString(csv, "station,start\nA,2014-09-01 08:00:00\nB,2014-09-01 09:30:00\n");
        Path out = dir.resolve("out");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--input", csv.toString(), "--key", "station",
                "--time", "start", "--time-format", "yyyy-MM-dd HH:mm", "--out", out.toString(),
                "-Dexecution.checkpointing.interval=5s"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("has no valid row (2 dead letters")
                .hasMessageContaining("unparsable time").hasMessageContaining("no job was started");
        assertThat(out.resolve(".events.bin")).doesNotExist();
        assertThat(KeyshiftJob.heldOutput(out)).isNull();
        // a window that splits the records' span too finely: refused the same way
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--input", csv.toString(), "--key", "station",
                "--time", "start", "--window", "1ms", "--out", out.toString(),
                "-Dexecution.checkpointing.interval=5s"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("planning windows")
                .hasMessageContaining("no job was started");
        assertThat(KeyshiftJob.heldOutput(out)).isNull();
        // the refused run's dead letters stay for their reasons; a generator job into that --out then removes them
        // (beside its results they read as its own)
        assertThat(out.resolve("dead-letters.csv")).exists();
        KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out", out.toString(),
            "-Dexecution.checkpointing.interval=5s"});
        assertThat(out.resolve("dead-letters.csv")).doesNotExist();
        assertThat(out.resolve("results")).isDirectory();
    }

    /**
     * A job restored into the --out of the job it continues reads on from that job's positions in the sorted input
     * there: an --input that sorts into other records is refused before any job (it had resumed at the old positions of
     * the re-sorted file, and the two inputs' results mixed in one output), and the sorted input and dead letters are
     * left as they were; the same input passes.
     */
    @Test
    void aRestoreWithAnotherInputIsRefusedAndWithTheSameOnePasses(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("trips.csv");
        Files.writeString(csv, "station,start\nA,2014-09-01 08:00:00\nB,2014-09-01 09:30:00\nC,x\n");
        Path out = Files.createDirectories(dir.resolve("out"));
        sortInto(csv, out);
        Files.createDirectories(out.resolve("results/2014-09-01--00"));
        Files.writeString(out.resolve("results/2014-09-01--00/part-0-0"), "A,1409558400000,1409562000000,1\n");
        byte[] sorted = Files.readAllBytes(out.resolve(".events.bin"));
        byte[] deadLetters = Files.readAllBytes(out.resolve("dead-letters.csv"));
        Path savepoint = Files.createDirectories(dir.resolve("savepoint"));
        Path changed = dir.resolve("changed.csv");
        Files.writeString(changed, "station,start\nA,2014-09-01 08:00:00\nD,2014-09-01 09:30:00\n");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--input", changed.toString(), "--key", "station",
                "--time", "start", "--out", out.toString(), "-Dexecution.checkpointing.interval=5s",
                "-Dexecution.state-recovery.path=" + savepoint.toUri()}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--input " + changed + " is not the input of the job this one restores")
                .hasMessageContaining("no job was started");
        assertThat(Files.readAllBytes(out.resolve(".events.bin"))).isEqualTo(sorted);
        assertThat(Files.readAllBytes(out.resolve("dead-letters.csv"))).isEqualTo(deadLetters);
        try (var files = Files.list(out)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactlyInAnyOrder(".events.bin",
                    "dead-letters.csv", "results");
        }
        // the same input passes the check: the job then fails on the empty savepoint directory, as Flink fails it
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--input", csv.toString(), "--key", "station",
                "--time", "start", "--out", out.toString(), "-Dexecution.checkpointing.interval=5s",
                "-Dexecution.state-recovery.path=" + savepoint.toUri()}))
                .satisfies(e -> assertThat(e).hasStackTraceContaining("_metadata")
                        .hasStackTraceContaining(savepoint.toString()))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("is not the input"));
        assertThat(Files.readAllBytes(out.resolve(".events.bin"))).isEqualTo(sorted);
        // the job failed before Flink took it (the savepoint): no marker left to refuse the corrected rerun
        assertThat(out.resolve(KeyshiftJob.STARTED_MARKER)).doesNotExist();

        // a restore of the wrong input into a new --out left only its sorted copy there (its job failed at once):
        // the retry with the right input sorts it again in place rather than refusing it as not that copy's input
        Path retry = Files.createDirectories(dir.resolve("retry"));
        sortInto(changed, retry);
        // ... and the marker of its submitted job: not output beside the copy
        Files.writeString(retry.resolve(KeyshiftJob.STARTED_MARKER), "2026-12-04T00:00:00Z\n");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--input", csv.toString(), "--key", "station",
                "--time", "start", "--out", retry.toString(), "-Dexecution.checkpointing.interval=5s",
                "-Dexecution.state-recovery.path=" + savepoint.toUri()}))
                .satisfies(e -> assertThat(e).hasStackTraceContaining("_metadata"))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("is not the input"));
        // this run's own copy, and its job never submitted: removed, as for any job that never started
        assertThat(retry.resolve(".events.bin")).doesNotExist();
    }

    /**
     * The same job's main run again after a JobManager failover (HA: its fixed id in --out, a completed checkpoint)
     * reads on in the sorted copy it read, though rows were appended to --input since and no output exists yet (1h
     * windows, nothing fired), and though it was itself restored from a savepoint at first: the copy is neither
     * compared nor sorted again (the appended rows would have changed it, and the restored readers refused it).
     */
    @Test
    void aFailoverReadsOnInItsSortedCopyWhateverTheInputHoldsNow(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("trips.csv");
        Path out = dir.resolve("out");
        String id = "00000000000000000000000000000007";
        Path savepoint = Files.createDirectories(dir.resolve("savepoint"));
        // the marker the job's first main wrote: its id and the savepoint it was started from; no checkpoint yet
        byte[] sorted = sortedThenAppended(csv, out, id + "\n" + savepoint.toUri() + "\n");
        String[] failover = {"--input", csv.toString(), "--key", "station",
            "--time", "start", "--out", out.toString(), "-Dexecution.checkpointing.interval=5s",
            "-D" + KeyshiftJob.FIXED_JOB_ID + "=" + id,
            "-Dexecution.checkpointing.dir=" + dir.resolve("checkpoints").toUri(),
            "-Dexecution.state-recovery.path=" + savepoint.toUri()};
        // (its arguments' digest: Flink runs main again with the same ones)
        KeyshiftJob.mark(out, id, savepoint.toUri().toString(), KeyshiftJob.argsDigest(java.util.List.of(failover)));
        assertThatThrownBy(() -> KeyshiftJob.main(failover))
                // the job then fails on the empty savepoint directory, as Flink fails it
                .satisfies(e -> assertThat(e).hasStackTraceContaining("_metadata"))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("is not the input"));
        assertThat(Files.readAllBytes(out.resolve(".events.bin"))).isEqualTo(sorted);
        // with a checkpoint and output: the same
        Files.writeString(Files.createDirectories(dir.resolve("checkpoints").resolve(id).resolve("chk-2")).resolve("_metadata"), "completed");
        Files.createDirectories(out.resolve("results/2014-09-01--00"));
        Files.writeString(out.resolve("results/2014-09-01--00/part-0-0"), "A,1409558400000,1409562000000,1\n");
        assertThatThrownBy(() -> KeyshiftJob.main(failover))
                .satisfies(e -> assertThat(e).hasStackTraceContaining("_metadata"))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("is not the input")
                        .doesNotContain("already holds"));
        assertThat(Files.readAllBytes(out.resolve(".events.bin"))).isEqualTo(sorted);
        // the input moved away since the job sorted it: the failover reads on in its copy all the same (it failed
        // with "--input: not a readable file", and an HA job could not recover)
        Path moved = Files.move(csv, dir.resolve("trips.csv.moved"));
        assertThatThrownBy(() -> KeyshiftJob.main(failover))
                .satisfies(e -> assertThat(e).hasStackTraceContaining("_metadata"))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("not a readable file"));
        // ... but not in a damaged copy: one readable line, nothing started (it was a NoSuchFileException's trace)
        byte[] whole = Files.readAllBytes(out.resolve(".events.bin"));
        Files.write(out.resolve(".events.bin"), java.util.Arrays.copyOf(whole, 7));
        assertThatThrownBy(() -> KeyshiftJob.main(failover)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--input " + csv)
                .hasMessageContaining("cannot be read or is of an earlier format");
        Files.write(out.resolve(".events.bin"), whole);
        // the input there but truncated (a log rotation's copytruncate), or another file's header: the failover reads
        // on in its copy (it failed with "is empty: no header row" / "unknown column", and the job did not recover)
        for (String now : java.util.List.of("", "a,b\n1,2\n")) {
            Files.writeString(csv, now);
            assertThatThrownBy(() -> KeyshiftJob.main(failover))
                    .satisfies(e -> assertThat(e).hasStackTraceContaining("_metadata"))
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("no header row")
                            .doesNotContain("unknown column"));
        }
        Files.delete(csv);
        Files.move(moved, csv);
        // a restore from another savepoint under the reused id (checkpoints retained) is a restore: compared
        Path later = Files.createDirectories(dir.resolve("savepoint-2"));
        String[] restore = failover.clone();
        restore[restore.length - 1] = "-Dexecution.state-recovery.path=" + later.toUri();
        assertThatThrownBy(() -> KeyshiftJob.main(restore)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not the input of the job this one restores");
        assertThat(Files.readAllBytes(out.resolve(".events.bin"))).isEqualTo(sorted);
        // the refused run left the marker as it was: the same command is refused again (not taken for a failover)
        assertThat(Files.readString(out.resolve(KeyshiftJob.JOB_ID_MARKER))).contains(savepoint.toUri().toString());
        assertThatThrownBy(() -> KeyshiftJob.main(restore)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not the input of the job this one restores");
    }

    /**
     * The same job's main run again after a JobManager failover before its first checkpoint (HA: its fixed id in
     * --out, no checkpoint yet), or a new deployment under the same id after a job that never checkpointed: the input
     * is sorted aside; the copy stays as it is where it holds the same records, and is replaced by a rename where
     * rows were appended since, never rewritten in place (that changed it under a recovered job's open readers).
     */
    @Test
    void aFailoverBeforeTheFirstCheckpointNeverRewritesTheSortedCopyInPlace(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("trips.csv");
        Path out = dir.resolve("out");
        String id = "00000000000000000000000000000008";
        byte[] sorted = sortedThenAppended(csv, out, id + "\n\n");
        Path copy = out.resolve(".events.bin");
        Object before = Files.readAttributes(copy, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        String[] args = {"--input", csv.toString(), "--key", "station", "--time", "start", "--out", out.toString(),
            "-Dexecution.checkpointing.interval=5s", "-D" + KeyshiftJob.FIXED_JOB_ID + "=" + id,
            "-Dexecution.checkpointing.dir=" + dir.resolve("checkpoints").toUri()};
        try (java.nio.channels.FileChannel reader = java.nio.channels.FileChannel.open(copy)) {
            KeyshiftJob.main(args);
            // a reader that had it open reads the old copy whole
            java.nio.ByteBuffer old = java.nio.ByteBuffer.allocate(sorted.length + 1);
            reader.read(old, 0);
            assertThat(old.position()).isEqualTo(sorted.length);
            assertThat(java.util.Arrays.copyOf(old.array(), sorted.length)).isEqualTo(sorted);
        }
        Object after = Files.readAttributes(copy, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        assertThat(after).isNotEqualTo(before);
        assertThat(io.keyshift.jobs.source.SortedEventFile.open(copy).size()).isEqualTo(3);
        assertThat(out.resolve(".events.bin.rerun")).doesNotExist();
        assertThat(out.resolve(".dead-letters.csv.rerun")).doesNotExist();
    }

    /**
     * A sorted copy of the format before 2026-11-29 (keys in modified UTF-8) is rewritten from its own events in the
     * format the source reads: the savepoint's positions point into exactly those, and parsing has changed since, so
     * --input is not compared with them.
     */
    @Test
    void aRestoreOverACopyOfTheEarlierFormatReadsOnInItsOwnEvents(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("trips.csv");
        Files.writeString(csv, "station,start\nA,2014-09-01 08:00:00\nB,2014-09-01 09:30:00\n");
        Path out = Files.createDirectories(dir.resolve("out"));
        io.keyshift.jobs.input.InputSpec spec = new io.keyshift.jobs.input.InputSpec(java.util.List.of(), "station",
                java.util.List.of("start"), java.util.Optional.empty(), java.util.Optional.empty());
        var prepared = io.keyshift.jobs.input.ReplayInput.prepare(csv, spec, dir.resolve("now.bin"),
                dir.resolve("dl.csv"), n -> { });
        io.keyshift.jobs.source.SortedEventFileTestSupport.writeVersionOne(out.resolve(".events.bin"),
                dir.resolve("now.bin"));
        Files.createDirectories(out.resolve("results/2014-09-01--00"));
        Files.writeString(out.resolve("results/2014-09-01--00/part-0-0"), "A,1409558400000,1409562000000,1\n");
        Path savepoint = Files.createDirectories(dir.resolve("savepoint"));
        Path changed = dir.resolve("changed.csv");
        Files.writeString(changed, "station,start\nA,2014-09-01 08:00:00\nD,2014-09-01 09:30:00\n");
        assertThat(io.keyshift.jobs.source.SortedEventFile.open(out.resolve(".events.bin")).currentFormat()).isFalse();
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--input", changed.toString(), "--key", "station",
                "--time", "start", "--out", out.toString(), "-Dexecution.checkpointing.interval=5s",
                "-Dexecution.state-recovery.path=" + savepoint.toUri()}))
                .satisfies(e -> assertThat(e).hasStackTraceContaining("_metadata"))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("is not the input"));
        assertThat(Files.readAllBytes(out.resolve(".events.bin"))).isEqualTo(Files.readAllBytes(dir.resolve("now.bin")));
        try (var files = Files.list(out)) {
            assertThat(files.map(f -> f.getFileName().toString())).doesNotContain(".events.bin.check");
        }
        assertThat(prepared.space().fingerprint())
                .isEqualTo(io.keyshift.jobs.source.SortedEventFile.open(out.resolve(".events.bin")).fingerprint());
    }

    /**
     * A restore continues the --out of the job it restores: given the --out of a job of another input (another
     * generator's events, or a file where a generator ran) it is refused before anything runs (it wrote its results
     * beside that job's); the same input is let in.
     */
    @Test
    void aRestoreIntoTheOutOfAJobOfAnotherInputIsRefused(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out");
        KeyshiftJob.main(new String[] {"--generator-records", "2000", "--out", out.toString(),
            "-Dexecution.checkpointing.interval=1s"});
        assertThat(Files.readString(out.resolve(KeyshiftJob.INPUT_FILE))).startsWith("generator ");
        String recovery = "-Dexecution.state-recovery.path="
                + Files.createDirectories(dir.resolve("savepoint")).toUri();
        String interval = "-Dexecution.checkpointing.interval=1s";
        // the same generator: let in (the job then fails on the empty savepoint directory, as Flink fails it)
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "2000", "--out",
                out.toString(), recovery, interval}))
                .satisfies(e -> assertThat(e).hasStackTraceContaining("_metadata"))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("holds the output"));
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "2000", "--generator-keys",
                "77", "--out", out.toString(), recovery, interval})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("holds the output of a job that read the generator, and this job")
                .hasMessageContaining("reads the generator with other --generator-* options");
        // the same generator with a --sum-field: its results lines would gain a sum column in the middle of results/
        assertThat(Files.readString(out.resolve(KeyshiftJob.SUM_FIELD_FILE)).strip()).isEqualTo("sum-field=");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "2000", "--sum-field", "bytes",
                "--out", out.toString(), recovery, interval})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--sum-field: the job this one continues wrote its results without a sum")
                .hasMessageContaining("resume with no --sum-field");
        // the same generator with another --window: the restored windows fire at the old length, the new records go
        // into windows of the new one, both into results/ (a hash job has no keyshift state that refuses it)
        assertThat(Files.readString(out.resolve(KeyshiftJob.WINDOW_FILE)).strip()).isEqualTo("window-ms=3600000");
        for (String strategy : java.util.List.of("hash", "predictive")) {
            assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "2000", "--strategy",
                strategy, "--window", "1d", "--out", out.toString(), recovery, interval}))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("--window: the job this one continues wrote its results in windows of "
                            + "3600000 ms, and this one would write windows of 86400000 ms");
        }
        Path csv = Files.writeString(dir.resolve("trips.csv"), "station,start\nA,2014-09-01 08:00:00\n");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--input", csv.toString(), "--key", "station",
                "--time", "start", "--out", out.toString(), recovery, interval}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reads --input " + csv);
        assertThat(out.resolve(".events.bin")).doesNotExist();
        assertThat(Files.readString(out.resolve(KeyshiftJob.INPUT_FILE))).startsWith("generator ");
        // a Kafka job restored into it, and a generator job into a Kafka job's --out (its .input, or, of a build
        // that did not write one, its input topic): refused (it appended to the other job's results)
        String[] kafkaJob = {"--kafka-bootstrap-servers", "127.0.0.1:1", "--kafka-topic", "trips", "--key", "k",
            "--time", "t", "--columns", "k,t", "--no-kafka-topic-check", "--out", out.toString(), recovery, interval};
        assertThatThrownBy(() -> KeyshiftJob.main(kafkaJob)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("holds the output of a job that read the generator, and this job")
                .hasMessageContaining("reads Kafka topic trips");
        Path kafkaOut = Files.createDirectories(dir.resolve("kafka-out"));
        Files.createDirectories(kafkaOut.resolve("results"));
        Files.writeString(kafkaOut.resolve("results").resolve("part-0-0"), "k,0,3600000,1\n");
        Files.writeString(kafkaOut.resolve(KeyshiftJob.KAFKA_TOPICS_FILE), "topic=trips\ncontrol-topic=\n");
        for (String record : java.util.Arrays.asList(null, "kafka trips")) {
            if (record != null) {
                Files.writeString(kafkaOut.resolve(KeyshiftJob.INPUT_FILE), record + "\n");
            }
            assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "2000", "--out",
                    kafkaOut.toString(), recovery, interval})).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("holds the output of a job that read a Kafka topic, and this job");
        }
        // a file job's --out whose sorted copy is gone, restored with another file: the input is sorted aside and
        // compared with the record, and the refusal leaves that --out as it was (its dead letters were overwritten)
        Path fileOut = dir.resolve("file-out");
        Path trips = Files.writeString(dir.resolve("trips-a.csv"),
                "station,start\nA,2014-09-01 08:00:00\nB,2014-09-01 09:30:00\nbad row\n");
        KeyshiftJob.main(new String[] {"--input", trips.toString(), "--key", "station", "--time", "start", "--out",
            fileOut.toString(), interval});
        assertThat(Files.readString(fileOut.resolve(KeyshiftJob.INPUT_FILE))).startsWith("file ");
        byte[] deadLetters = Files.readAllBytes(fileOut.resolve("dead-letters.csv"));
        Files.delete(fileOut.resolve(".events.bin"));
        Path other = Files.writeString(dir.resolve("trips-b.csv"), "station,start\nC,2014-09-01 10:00:00\n");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--input", other.toString(), "--key", "station",
            "--time", "start", "--out", fileOut.toString(), recovery, interval}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("holds the output of a job that read an input file")
                .hasMessageContaining("reads --input " + other + " (other events)");
        assertThat(fileOut.resolve("dead-letters.csv")).hasBinaryContent(deadLetters);
        try (var files = Files.list(fileOut)) {
            assertThat(files.map(f -> f.getFileName().toString()))
                    .noneMatch(n -> n.equals(".events.bin") || n.endsWith(".rerun"));
        }
    }

    /**
     * Two trips in {@code csv}, sorted into {@code out} as a job's main does, with {@code marker} as its HA marker; then
     * a third row appended to {@code csv}, as after the job started. Returns the sorted copy's bytes.
     */
    private static byte[] sortedThenAppended(Path csv, Path out, String marker) throws java.io.IOException {
        Files.writeString(csv, "station,start\nA,2014-09-01 08:00:00\nB,2014-09-01 09:30:00\n");
        Files.createDirectories(out);
        sortInto(csv, out);
        Files.writeString(out.resolve(KeyshiftJob.JOB_ID_MARKER), marker);
        Files.writeString(csv, "C,2014-09-01 10:00:00\n", java.nio.file.StandardOpenOption.APPEND);
        return Files.readAllBytes(out.resolve(".events.bin"));
    }

    private static void sortInto(Path csv, Path out) throws java.io.IOException {
        io.keyshift.jobs.input.ReplayInput.prepare(csv, new io.keyshift.jobs.input.InputSpec(java.util.List.of(),
                "station", java.util.List.of("start"), java.util.Optional.empty(), java.util.Optional.empty()),
                out.resolve(".events.bin"), out.resolve("dead-letters.csv"), n -> { });
    }

    /**
     * A control directory listed every 0 s, every 500 µs (0 ms to Flink's split enumerator, which failed the source's
     * coordinator at every restart) or beyond a long of milliseconds: refused naming the option.
     */
    @Test
    void aControlDirectoryIntervalOfZeroIsRefused(@TempDir Path dir) throws Exception {
        Path ctl = Files.createDirectories(dir.resolve("ctl"));
        for (String every : new String[] {"0s", "500µs", "1500micros", "200000000000d"}) {
            assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--control-dir",
                    ctl.toString(), "--out", dir.resolve("out").toString(),
                    "-Dkeyshift.control.directory-interval=" + every}))
                    .as(every).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("keyshift.control.directory-interval must be whole milliseconds, at least "
                            + "1ms and at most 36500d, with --control-dir");
        }
    }

    /**
     * An empty --control-dir (the working directory) or one that holds --out: the job would read its own results and
     * rejected commands as commands, each rejection a new file read again. Refused naming the option, nothing written.
     */
    @Test
    void aControlDirectoryThatHoldsTheOutputIsRefused(@TempDir Path dir) {
        for (String[] args : new String[][] {
                {"--generator-records", "1000", "--control-dir", "", "--out", dir.resolve("a").toString()},
                {"--generator-records", "1000", "--control-dir", dir.toString(), "--out", dir.resolve("b").toString()},
                {"--generator-records", "1000", "--control-dir", dir.toString(), "--out", dir.toString()}}) {
            assertThatThrownBy(() -> KeyshiftJob.main(args)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("--control-dir");
        }
        assertThat(dir.resolve("a")).doesNotExist();
        assertThat(dir.resolve("b")).doesNotExist();
    }

    /** parallelism.default above the key groups: refused before the input is read, naming it (exit 1, unnamed). */
    @Test
    void aDefaultParallelismAboveTheKeyGroupsIsRefusedNamingIt(@TempDir Path dir) {
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out",
                dir.resolve("out").toString(), "-Dexecution.checkpointing.interval=1s", "-Dparallelism.default=8",
                "-Dpipeline.max-parallelism=4"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("parallelism.default 8").hasMessageContaining("max parallelism 4");
        assertThat(dir.resolve("out")).doesNotExist();
    }

    /**
     * A bounded generator whose days split into millions of planning windows (replay refuses it; the job planned
     * them all); and --version, which submit routes to the job, printed an empty line.
     */
    @Test
    void aBoundedGeneratorInTooManyWindowsIsRefusedAndVersionPrintsOne(@TempDir Path dir) {
        Path out = dir.resolve("out");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "336000", "--window",
            "100ms", "--out", out.toString(), "-Dexecution.checkpointing.interval=5s"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("planning windows, more than");
        assertThat(out).doesNotExist();
        java.io.StringWriter version = new java.io.StringWriter();
        picocli.CommandLine cl = new picocli.CommandLine(new KeyshiftJob());
        cl.setOut(new java.io.PrintWriter(version));
        assertThat(cl.execute("--version")).isZero();
        assertThat(version.toString()).contains("keyshift-job 0.1.0");
    }

    @Test
    void aMissingControlFileAndAWindowTheOptionsDoNotFitAreRefusedBeforeAnythingIsWritten(@TempDir Path dir) {
        Path out = dir.resolve("out");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--control",
                dir.resolve("nosuch.csv").toString(), "--out", out.toString(),
                "-Dexecution.checkpointing.interval=5s"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--control: not a readable file");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--window", "1min",
                "-Dkeyshift.forecast.model=holt-winters", "--out", out.toString(),
                "-Dexecution.checkpointing.interval=5s"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keyshift.forecast.model");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--window", "1ns",
                "--out", out.toString()}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--window must be a whole number of milliseconds");
        // event times beyond a long's range (the replay refused it for its windows; the job went on)
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "100000", "--generator-days",
                "1e12", "--out", out.toString(), "-Dexecution.checkpointing.interval=5s"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--generator-days must be > 0 and at most 2912438 (the year 9999)");
        // nor past the year 9999, the latest event time keyshift takes (a control command cannot name later ones)
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "100000", "--generator-days",
                "3000000", "--out", out.toString(), "-Dexecution.checkpointing.interval=5s"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--generator-days");
        // the planning window is --window's: a -D of it would have been overridden without a word
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out",
                out.toString(), "-Dkeyshift.window=5min", "-Dexecution.checkpointing.interval=5s"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-Dkeyshift.window: the job takes the planning window from --window");
        org.assertj.core.api.Assertions.assertThat(out).doesNotExist();
    }

    /**
     * A job reads its --control file once: a submitted job keeps the file's digest in --out, and a resume given the
     * file changed is refused (its changed lines reached no plan, while the routers took a changed sampling rate
     * from it at once, the file being read again where the job is built); the same file passes the check.
     */
    @Test
    // (a job whose control source finds no file restarts for ever: a regression fails here instead of hanging)
    @org.junit.jupiter.api.Timeout(value = 5, unit = java.util.concurrent.TimeUnit.MINUTES)
    void aResumeWithAChangedControlFileIsRefused(@TempDir Path dir) throws Exception {
        Path control = Files.writeString(dir.resolve("steer.csv"), "2026-01-05T00:00:00Z,freeze\n");
        Path out = dir.resolve("out");
        KeyshiftJob.main(new String[] {"--generator-records", "2000", "--control", control.toString(), "--out",
                out.toString(), "-Dexecution.checkpointing.interval=1s"});
        assertThat(Files.readString(out.resolve(KeyshiftJob.CONTROL_DIGEST_FILE)).strip())
                .isEqualTo(KeyshiftJob.controlFileDigest(control));
        // and a copy of the file, which a failover reads where the file is gone
        assertThat(out.resolve(KeyshiftJob.CONTROL_COPY_FILE)).hasSameBinaryContentAs(control);
        Files.writeString(control, "2026-01-05T00:00:00Z,freeze\n2026-01-06T00:00:00Z,sampling-rate,0.1\n");
        Path savepoint = Files.createDirectories(dir.resolve("savepoint"));
        String[] resume = {"--generator-records", "2000", "--control", control.toString(), "--out", out.toString(),
            "-Dexecution.checkpointing.interval=1s", "-Dexecution.state-recovery.path=" + savepoint.toUri()};
        assertThatThrownBy(() -> KeyshiftJob.main(resume))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--control " + control + " is not the file the job this one continues started "
                        + "with");
        // a resume that swaps the file for a watched directory: the restored source is finished and never lists it
        assertThat(Files.readString(out.resolve(KeyshiftJob.CONTROL_SOURCE_FILE)).strip()).isEqualTo("file");
        Path controlDir = Files.createDirectories(dir.resolve("control"));
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "2000", "--control-dir",
                controlDir.toString(), "--out", out.toString(), "-Dexecution.checkpointing.interval=1s",
                "-Dexecution.state-recovery.path=" + savepoint.toUri()}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--control-dir: the job this one continues read its commands from --control "
                        + "FILE");
        // the file as it was passes: the job then fails on the empty savepoint directory, as Flink fails it
        Files.writeString(control, "2026-01-05T00:00:00Z,freeze\n");
        assertThatThrownBy(() -> KeyshiftJob.main(resume))
                .satisfies(e -> assertThat(e).hasStackTraceContaining("_metadata"))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("is not the file"));
        // a watched directory is known by its path: a resume watching another (or the same by another path) would
        // read every file there as new and apply its commands again
        Path otherDir = Files.createDirectories(dir.resolve("control-2"));
        String[] resumeDir = {"--generator-records", "2000", "--control-dir", controlDir.toString(), "--out",
            out.toString(), "-Dexecution.checkpointing.interval=1s",
            "-Dexecution.state-recovery.path=" + savepoint.toUri()};
        Files.writeString(out.resolve(KeyshiftJob.CONTROL_SOURCE_FILE), "directory\n" + otherDir + "\n");
        assertThatThrownBy(() -> KeyshiftJob.main(resumeDir))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--control-dir " + controlDir + " is not the directory the job this one "
                        + "continues watched (" + otherDir + ")");
        for (String kept : new String[] {"directory\n" + controlDir + "\n", "directory\n"}) {
            // the same directory, or a job of an earlier build that kept the kind alone: on to the savepoint
            Files.writeString(out.resolve(KeyshiftJob.CONTROL_SOURCE_FILE), kept);
            assertThatThrownBy(() -> KeyshiftJob.main(resumeDir))
                    .satisfies(e -> assertThat(e).hasStackTraceContaining("_metadata"))
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("is not the directory"));
        }
        // a job given the copy in its own --out as its --control (a resume after the file moved away): the copy
        // stays and is read (it was deleted, then copied onto itself, and the job's source found no file)
        Path other = Files.createDirectories(dir.resolve("out-2"));
        Path kept = Files.copy(control, other.resolve(KeyshiftJob.CONTROL_COPY_FILE));
        KeyshiftJob.main(new String[] {"--generator-records", "2000", "--control", kept.toString(), "--out",
            other.toString(), "-Dexecution.checkpointing.interval=1s"});
        assertThat(kept).hasSameBinaryContentAs(control);
        assertThat(other.resolve("results")).isDirectory();
    }

    /**
     * Flink's rerun of main after a JobManager failover of a job started from a savepoint (HA: the same id, the same
     * recovery path, a checkpoint) recovers whatever its --control file holds now: refused as a resume with a changed
     * file, the application failed instead of recovering from its checkpoints.
     */
    @Test
    void aFailoverOfASavepointStartedJobIsNotRefusedForAChangedControlFile(@TempDir Path dir) throws Exception {
        String id = "00000000000000000000000000000009";
        Path savepoint = Files.createDirectories(dir.resolve("savepoint"));
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.writeString(out.resolve(KeyshiftJob.JOB_ID_MARKER), id + "\n" + savepoint.toUri() + "\n");
        Files.writeString(out.resolve(KeyshiftJob.CONTROL_DIGEST_FILE), "0".repeat(64) + "\n");
        Files.writeString(Files.createDirectories(dir.resolve("checkpoints").resolve(id).resolve("chk-2")).resolve("_metadata"), "completed");
        Path control = Files.writeString(dir.resolve("steer.csv"), "2026-01-05T00:00:00Z,freeze\n");
        String[] failover = {"--generator-records", "2000", "--control", control.toString(), "--out", out.toString(),
            "-Dexecution.checkpointing.interval=1s", "-D" + KeyshiftJob.FIXED_JOB_ID + "=" + id,
            "-Dexecution.checkpointing.dir=" + dir.resolve("checkpoints").toUri(),
            "-Dexecution.state-recovery.path=" + savepoint.toUri()};
        KeyshiftJob.mark(out, id, savepoint.toUri().toString(), KeyshiftJob.argsDigest(java.util.List.of(failover)));
        assertThatThrownBy(() -> KeyshiftJob.main(failover))
                // the job then fails on the empty savepoint directory, as Flink fails it
                .satisfies(e -> assertThat(e).hasStackTraceContaining("_metadata"))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("is not the file"));
        // the file moved away since the job started: the failover reads the copy kept in --out (it was refused as
        // "not a readable file", and an HA job could not recover); without a copy it is refused
        Path moved = Files.move(control, dir.resolve("steer.csv.moved"));
        assertThatThrownBy(() -> KeyshiftJob.main(failover)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--control: not a readable file");
        // (kept compressed where the file was: read as the file source reads it)
        Files.write(out.resolve(KeyshiftJob.CONTROL_COPY_FILE + ".gz"), gzip(Files.readAllBytes(moved)));
        assertThatThrownBy(() -> KeyshiftJob.main(failover))
                .satisfies(e -> assertThat(e).hasStackTraceContaining("_metadata"))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("not a readable file"));
        Files.move(moved, control);
        // back where it was, changed since the job started (the kept digest is another content's): the failover reads
        // the copy too, as its restored source read the file (the routers took the changed file's sampling rates,
        // which no plan knew)
        var printed = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stdout = System.out;
        System.setOut(new java.io.PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            assertThatThrownBy(() -> KeyshiftJob.main(failover))
                    .satisfies(e -> assertThat(e).hasStackTraceContaining("_metadata"));
        } finally {
            System.setOut(stdout);
        }
        assertThat(printed.toString(java.nio.charset.StandardCharsets.UTF_8))
                .contains("--control " + control + " changed since the job started; reading the copy kept then, "
                        + out.resolve(KeyshiftJob.CONTROL_COPY_FILE + ".gz"));
        // a restore from another savepoint is a restore: the changed file is refused
        Path later = Files.createDirectories(dir.resolve("savepoint-2"));
        String[] restore = failover.clone();
        restore[restore.length - 1] = "-Dexecution.state-recovery.path=" + later.toUri();
        assertThatThrownBy(() -> KeyshiftJob.main(restore)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not the file the job this one continues started with");
    }

    /**
     * Flink's rerun of main after a JobManager failover before the job's first checkpoint (HA: the same id, the same
     * recovery path, no checkpoint yet), its --control file moved away since: the rerun reads the copy kept in --out
     * and runs, the copy's commands in force.
     */
    @Test
    @org.junit.jupiter.api.Timeout(value = 5, unit = java.util.concurrent.TimeUnit.MINUTES)
    void aRerunBeforeTheFirstCheckpointReadsTheControlCopy(@TempDir Path dir) throws Exception {
        String id = "0000000000000000000000000000000a";
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.writeString(out.resolve(KeyshiftJob.JOB_ID_MARKER), id + "\n\n");
        String commands = "2026-01-05T00:00:00Z,freeze\n";
        Files.writeString(out.resolve(KeyshiftJob.CONTROL_COPY_FILE), commands);
        Path control = dir.resolve("steer.csv");
        String[] rerun = {"--generator-records", "2000", "--control", control.toString(), "--out", out.toString(),
            "-Dexecution.checkpointing.interval=1s", "-D" + KeyshiftJob.FIXED_JOB_ID + "=" + id,
            "-Dexecution.checkpointing.dir=" + dir.resolve("checkpoints").toUri()};
        KeyshiftJob.main(rerun);
        assertThat(out.resolve("results")).isDirectory();
        assertThat(out.resolve(KeyshiftJob.CONTROL_COPY_FILE)).hasContent(commands);
        java.util.List<String> plans = new java.util.ArrayList<>();
        try (var files = Files.walk(out.resolve("plans"))) {
            for (Path f : files.filter(Files::isRegularFile)
                    .filter(f -> !f.getFileName().toString().startsWith(".")).toList()) {
                plans.addAll(Files.readAllLines(f));
            }
        }
        assertThat(plans).isNotEmpty().allMatch(l -> l.contains("\"frozen\":true"));
        // without the copy it is refused, naming the option
        Path bare = Files.createDirectories(dir.resolve("bare"));
        Files.writeString(bare.resolve(KeyshiftJob.JOB_ID_MARKER), id + "\n\n");
        String[] withoutCopy = rerun.clone();
        withoutCopy[5] = bare.toString();
        assertThatThrownBy(() -> KeyshiftJob.main(withoutCopy)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--control: not a readable file");
    }

    /**
     * A bootstrap savepoint of another stage (bootstrap --uid-prefix clicks) is refused before anything starts: Flink
     * refused its state in a line naming a hex operator id, and with --allow-non-restored-state the job started cold
     * without a word. One whose marker names no stage (a build before 2026-12-06) or this job's stage passes this check.
     */
    @Test
    void aBootstrapOfAnotherStageIsRefused(@TempDir Path dir) throws Exception {
        Path sp = Files.createDirectories(dir.resolve("sp"));
        // (a savepoint as this client sees one: its metadata there; it is not read before the checks)
        Files.writeString(sp.resolve("_metadata"), "not read here");
        Files.writeString(sp.resolve(io.keyshift.savepoint.BootstrapMarker.MARKER),
                "written by keyshift bootstrap: a job started from this savepoint continues no earlier run\n"
                        + "stage=clicks\n");
        String[] args = {"--generator-records", "1000", "--out", dir.resolve("out").toString(),
            "-Dexecution.checkpointing.interval=1s", "-Dexecution.state-recovery.path=" + sp.toUri()};
        assertThatThrownBy(() -> KeyshiftJob.main(args)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is a bootstrap of stage clicks")
                .hasMessageContaining("bootstrap with --uid-prefix keyshift");
        assertThat(dir.resolve("out")).doesNotExist();
        Files.writeString(sp.resolve(io.keyshift.savepoint.BootstrapMarker.MARKER),
                "written by keyshift bootstrap: a job started from this savepoint continues no earlier run\n"
                        + "stage=clicks\nstage=keyshift\n");
        // (then Flink fails on the directory without metadata, as it fails it)
        assertThatThrownBy(() -> KeyshiftJob.main(args))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("is a bootstrap of stage"));
        // a bootstrap made for another window, other key groups or another key type is refused before anything is
        // written (another window failed the job once it ran; another key type put the hot keys in other groups)
        String[] made = {"--generator-records", "1000", "--out", dir.resolve("out-made").toString(),
            "-Dexecution.checkpointing.interval=1s", "-Dexecution.state-recovery.path=" + sp.toUri()};
        for (String[] c : new String[][] {{"stage.keyshift.window-ms=1800000", "planning windows of 1800000 ms"},
                {"stage.keyshift.max-parallelism=7", "was made for 7 key groups"},
                {"stage.keyshift.key-type=Long", "keys of type Long, and this job keys by String"}}) {
            Files.writeString(sp.resolve(io.keyshift.savepoint.BootstrapMarker.MARKER), "written by keyshift "
                    + "bootstrap: a job started from this savepoint continues no earlier run\nstage=keyshift\n"
                    + c[0] + "\n");
            assertThatThrownBy(() -> KeyshiftJob.main(made)).as(c[0]).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(c[1]);
            assertThat(dir.resolve("out-made")).doesNotExist();
        }
        // a stage bootstrapped onto a job's own savepoint (no marker: the job continues that run) is checked too, by
        // the copy's stages file (it wrote nothing, and a job of another window failed once it ran)
        Path onto = Files.createDirectories(dir.resolve("onto"));
        Files.writeString(onto.resolve("_metadata"), "not read here");
        Files.writeString(onto.resolve(io.keyshift.savepoint.BootstrapMarker.STAGES_FILE), "written by keyshift "
                + "bootstrap onto a job's savepoint\nstage=keyshift\nstage.keyshift.window-ms=1800000\n");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out",
                dir.resolve("out-onto").toString(), "-Dexecution.checkpointing.interval=1s",
                "-Dexecution.state-recovery.path=" + onto.toUri()}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("planning windows of 1800000 ms");
        assertThat(dir.resolve("out-onto")).doesNotExist();
        // and its forecaster is predictive's, as a bootstrap's: hash dropped it without a word (under
        // --allow-non-restored-state), reactive failed once it ran on models it had not set
        Files.writeString(onto.resolve(io.keyshift.savepoint.BootstrapMarker.STAGES_FILE), "written by keyshift "
                + "bootstrap onto a job's savepoint\nstage=keyshift\n");
        for (String strategy : new String[] {"hash", "reactive"}) {
            assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--strategy", strategy, "--generator-records",
                    "1000", "--out", dir.resolve("out-onto-" + strategy).toString(),
                    "-Dexecution.checkpointing.interval=1s", "-Dexecution.state-recovery.path=" + onto.toUri()}))
                    .as(strategy).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("holds a forecaster bootstrapped onto it")
                    .hasMessageContaining("--strategy " + strategy);
            assertThat(dir.resolve("out-onto-" + strategy)).doesNotExist();
        }
        Files.writeString(sp.resolve(io.keyshift.savepoint.BootstrapMarker.MARKER), "written by keyshift bootstrap: a "
                + "job started from this savepoint continues no earlier run\nstage=keyshift\n"
                + "stage.keyshift.window-ms=3600000\nstage.keyshift.key-type=String\nstage.other.window-ms=5\n");
        assertThatThrownBy(() -> KeyshiftJob.main(args))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("bootstrap savepoint"));
        // a bootstrap warm-starts predictive's forecaster: hash has none (Flink named a hex operator id, and with
        // --allow-non-restored-state the job started without it), reactive forecasts with the naive model alone
        for (String strategy : new String[] {"hash", "reactive"}) {
            String[] other = {"--strategy", strategy, "--generator-records", "1000", "--out",
                dir.resolve("out-" + strategy).toString(), "-Dexecution.checkpointing.interval=1s",
                "-Dexecution.state-recovery.path=" + sp.toUri()};
            assertThatThrownBy(() -> KeyshiftJob.main(other)).as(strategy)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("warm-starts the forecaster of --strategy predictive; --strategy " + strategy);
            assertThat(dir.resolve("out-" + strategy)).doesNotExist();
        }
    }

    @Test
    void anOutputPathThatIsAFileIsRefused(@TempDir Path dir) throws Exception {
        Path out = Files.writeString(dir.resolve("out"), "x");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out", out.toString()}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is a file");
    }

    @Test
    void aBadArgumentIsTheMessage(@TempDir Path dir) {
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--strategy", "nope", "--out", dir.toString()}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--strategy");
    }

    /**
     * A bounded Kafka backfill restored from a savepoint would never finish (a restored KafkaSource enumerator never
     * tells its readers that no more splits come, FLINK-31006): refused before anything starts, naming the option.
     */
    @Test
    void aBoundedKafkaReadIsNotRestored(@TempDir Path dir) throws Exception {
        // a savepoint as this client sees one, and a path it does not have (a cluster's: taken for a restore, as the
        // warning says; it was let through)
        Path savepoint = Files.createDirectories(dir.resolve("savepoint"));
        Files.writeString(savepoint.resolve("_metadata"), "not read here");
        for (Path restore : new Path[] {savepoint, dir.resolve("not-here")}) {
            assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                    "--kafka-topic", "t", "--key", "k", "--time", "t", "--columns", "k,t", "--kafka-bounded",
                    "--out", dir.resolve("out").toString(), "-Dexecution.checkpointing.interval=5s",
                    "-Dexecution.state-recovery.path=" + restore.toUri()}))
                    .as(restore.toString())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("--kafka-bounded cannot be restored from a savepoint")
                    .hasMessageContaining("FLINK-31006");
            assertThat(dir.resolve("out")).doesNotExist();
        }
        // a redeployment under the fixed id of a job with a checkpoint (the Operator's last-state upgrade) with other
        // arguments recovers that checkpoint without a savepoint path: refused as well (it was let in)
        String id = "0000000000000000000000000000000c";
        Path out = Files.createDirectories(dir.resolve("out-2"));
        KeyshiftJob.mark(out, id, "", KeyshiftJob.argsDigest(java.util.List.of("--earlier")));
        Files.writeString(Files.createDirectories(dir.resolve("checkpoints").resolve(id).resolve("chk-1")).resolve("_metadata"), "completed");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "t", "--key", "k", "--time", "t", "--columns", "k,t", "--kafka-bounded",
                "--out", out.toString(), "-Dexecution.checkpointing.interval=5s",
                "-D" + KeyshiftJob.FIXED_JOB_ID + "=" + id,
                "-Dexecution.checkpointing.dir=" + dir.resolve("checkpoints").toUri()}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-bounded cannot be restored from a savepoint or checkpoint (the "
                        + "checkpoints of job " + id + ")");
    }

    /**
     * A --kafka-idleness at or above keyshift.route.no-watermark-timeout is refused before anything starts, naming both:
     * a quiet partition would hold the watermark back until the no-watermark timeout failed the job, and again after
     * every restart.
     */
    @Test
    void aKafkaIdlenessNotShorterThanTheNoWatermarkTimeoutIsRefused(@TempDir Path dir) {
        String[] common = {"--kafka-bootstrap-servers", "127.0.0.1:1", "--kafka-topic", "t", "--key", "k", "--time",
            "t", "--columns", "k,t", "--out", dir.resolve("out").toString(), "-Dexecution.checkpointing.interval=5s"};
        assertThatThrownBy(() -> KeyshiftJob.main(concat(common, "--kafka-idleness", "15min")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-idleness (15 min) must be shorter than "
                        + "keyshift.route.no-watermark-timeout (10 min)");
        assertThatThrownBy(() -> KeyshiftJob.main(concat(common, "--kafka-idleness", "2min",
                "-Dkeyshift.route.no-watermark-timeout=2min"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-idleness (2 min) must be shorter");
        // Flink's watermark strategies keep milliseconds: 500us was an out-of-orderness of 0
        assertThatThrownBy(() -> KeyshiftJob.main(concat(common, "--max-out-of-orderness", "500 micro")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--max-out-of-orderness must be a whole number of milliseconds");
        assertThatThrownBy(() -> KeyshiftJob.main(concat(common, "--kafka-idleness", "1500000ns")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-idleness must be a whole number of milliseconds");
        assertThat(dir.resolve("out")).doesNotExist();
    }

    /** A misspelled Flink -D key gets replay's "did you mean" warning in the cluster job too (it was ignored silently). */
    @Test
    void aMisspelledFlinkKeyIsNamedWithTheKeyMeant(@TempDir Path dir) {
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream before = System.err;
        System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            // refused right after the warning (the window comes from --window): no job runs
            assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "100", "--out",
                dir.resolve("out").toString(), "-Dexecution.checkpointing.intervall=1s", "-Dkeyshift.window=1h"}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-Dkeyshift.window");
        } finally {
            System.setErr(before);
        }
        assertThat(err.toString(java.nio.charset.StandardCharsets.UTF_8))
                .contains("warning: -Dexecution.checkpointing.intervall is not a Flink option; did you mean "
                        + "execution.checkpointing.interval?");
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /**
     * An input in --out under a name the job writes there is refused before anything runs (an --input at
     * --out/dead-letters.csv was truncated while it was read; a --control-dir at --out/results read the results as
     * commands); one elsewhere in --out is let in.
     */
    @Test
    void anInputInOutUnderANameTheJobWritesIsRefused(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("out"));
        Path input = Files.writeString(out.resolve("dead-letters.csv"), "station,start\nA,2014-09-01 08:00:00\n");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--input", input.toString(), "--key", "station",
            "--time", "start", "--out", out.toString(), "-Dexecution.checkpointing.interval=1s"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--input: " + input + " lies in --out " + out + " under a name the job writes "
                        + "there itself (dead-letters.csv)");
        assertThat(input).hasContent("station,start\nA,2014-09-01 08:00:00\n");
        Path results = Files.createDirectories(out.resolve("results"));
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "100", "--control-dir",
            results.toString(), "--out", out.toString(), "-Dexecution.checkpointing.interval=1s"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--control-dir: " + results + " lies in --out");
        Path control = Files.writeString(out.resolve(".input"), "2026-01-05T00:00:00Z,freeze\n");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "100", "--control",
            control.toString(), "--out", out.toString(), "-Dexecution.checkpointing.interval=1s"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--control: " + control + " lies in --out");
        // elsewhere in --out: read as any input
        Path out2 = Files.createDirectories(dir.resolve("out2"));
        Path trips = Files.writeString(out2.resolve("trips.csv"), "station,start\nA,2014-09-01 08:00:00\n");
        KeyshiftJob.main(new String[] {"--input", trips.toString(), "--key", "station", "--time", "start", "--out",
            out2.toString(), "-Dexecution.checkpointing.interval=1s"});
        assertThat(out2.resolve("results")).isDirectory();
        assertThat(trips).hasContent("station,start\nA,2014-09-01 08:00:00\n");
    }

    /**
     * A bounded Kafka read cannot be continued: resumed without --kafka-bounded, its restored splits keep the end
     * offsets of the bounded read and the job read nothing more without a word (with it, FLINK-31006, refused
     * before); and under the adaptive scheduler, which restores the whole job from its last checkpoint at every
     * rescale and restart, it never finishes: refused before the job starts, naming the option.
     */
    @Test
    void aBoundedKafkaReadIsNotContinuedNorRunUnderTheAdaptiveScheduler(@TempDir Path dir) throws Exception {
        Path savepoint = Files.createDirectories(dir.resolve("savepoint"));
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.writeString(out.resolve(KeyshiftJob.KAFKA_TOPICS_FILE), "topic=trips\ncontrol-topic=\nbounded=true\n");
        String[] common = {"--kafka-bootstrap-servers", "127.0.0.1:1", "--kafka-topic", "trips", "--key", "k",
            "--time", "t", "--columns", "k,t", "-Dexecution.checkpointing.interval=5s"};
        java.util.function.Function<String[], String[]> with = extra -> java.util.stream.Stream
                .concat(java.util.Arrays.stream(common), java.util.Arrays.stream(extra)).toArray(String[]::new);
        assertThatThrownBy(() -> KeyshiftJob.main(with.apply(new String[] {"--out", out.toString(),
            "-Dexecution.state-recovery.path=" + savepoint.toUri()})))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-bounded: the job this one continues read topic trips as a bounded "
                        + "range");
        // a continued unbounded read passes this check (the job then fails on the empty savepoint directory)
        Files.writeString(out.resolve(KeyshiftJob.KAFKA_TOPICS_FILE), "topic=trips\ncontrol-topic=\n");
        assertThatThrownBy(() -> KeyshiftJob.main(with.apply(new String[] {"--out", out.toString(),
            "-Dexecution.state-recovery.path=" + savepoint.toUri(), "--no-kafka-topic-check"})))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("bounded range"));
        assertThatThrownBy(() -> KeyshiftJob.main(with.apply(new String[] {"--out", dir.resolve("new").toString(),
            "--kafka-bounded", "-Djobmanager.scheduler=adaptive"})))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-bounded cannot run under the adaptive scheduler (jobmanager.scheduler: "
                        + "adaptive)");
        assertThat(dir.resolve("new")).doesNotExist();
        // reactive mode runs the adaptive scheduler; =false reads on, unbounded, and passes this check
        assertThatThrownBy(() -> KeyshiftJob.main(with.apply(new String[] {"--out", dir.resolve("new").toString(),
            "--kafka-bounded", "--strategy", "hash", "-Dscheduler-mode=reactive"})))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-bounded cannot run under the adaptive scheduler (scheduler-mode: "
                        + "reactive)");
        // (the job then fails on the empty savepoint directory)
        assertThatThrownBy(() -> KeyshiftJob.main(with.apply(new String[] {"--out", dir.resolve("other").toString(),
            "--kafka-bounded=false", "-Djobmanager.scheduler=adaptive", "--no-kafka-topic-check",
            "-Dexecution.state-recovery.path=" + savepoint.toUri()})))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("cannot run under the adaptive"));
    }

    /**
     * A resume given another --kafka-topic (or --kafka-control-topic) than its job read is refused, naming the option:
     * the restored source reads on in the old topic's partitions and adds the new topic's from the earliest offset,
     * both into the same output.
     */
    @Test
    void aResumeWithAnotherKafkaTopicIsRefused(@TempDir Path dir) throws Exception {
        Path savepoint = Files.createDirectories(dir.resolve("savepoint"));
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.writeString(out.resolve(KeyshiftJob.KAFKA_TOPICS_FILE), "topic=trips\ncontrol-topic=steer\n");
        String[] common = {"--kafka-bootstrap-servers", "127.0.0.1:1", "--key", "k", "--time", "t", "--columns",
            "k,t", "--out", out.toString(), "-Dexecution.checkpointing.interval=5s",
            "-Dexecution.state-recovery.path=" + savepoint.toUri()};
        java.util.function.Function<String[], String[]> with = extra -> java.util.stream.Stream
                .concat(java.util.Arrays.stream(extra), java.util.Arrays.stream(common)).toArray(String[]::new);
        assertThatThrownBy(() -> KeyshiftJob.main(with.apply(new String[] {"--kafka-topic", "trips-v2"})))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-topic trips-v2: the job this one continues read topic trips");
        assertThatThrownBy(() -> KeyshiftJob.main(with.apply(new String[] {"--kafka-topic", "trips",
            "--kafka-control-topic", "steer-2"})))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-control-topic steer-2: the job this one continues read its commands "
                        + "from topic steer");
        // the same topics pass these checks (the job then fails on the empty savepoint directory)
        assertThatThrownBy(() -> KeyshiftJob.main(with.apply(new String[] {"--kafka-topic", "trips",
            "--kafka-control-topic", "steer", "--no-kafka-topic-check"})))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("the job this one continues read"));
        // a sink's topic too: the restored sink commits what it had pending to the old one, then writes the new one
        Files.writeString(out.resolve(KeyshiftJob.KAFKA_TOPICS_FILE),
                "topic=trips\ncontrol-topic=\nresults-topic=counts\nplans-topic=plans\n");
        assertThatThrownBy(() -> KeyshiftJob.main(with.apply(new String[] {"--kafka-topic", "trips",
            "--results-topic", "counts-v2", "--kafka-transaction-naming", "incrementing"})))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--results-topic counts-v2: the job this one continues wrote to topic counts");
        assertThatThrownBy(() -> KeyshiftJob.main(with.apply(new String[] {"--kafka-topic", "trips",
            "--results-topic", "counts", "--plans-topic", "plans-2", "--kafka-transaction-naming", "incrementing"})))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--plans-topic plans-2: the job this one continues wrote to topic plans");
        // the same ones pass, and a sink the job did not have (its topic not kept) is new
        assertThatThrownBy(() -> KeyshiftJob.main(with.apply(new String[] {"--kafka-topic", "trips",
            "--results-topic", "counts", "--plans-topic", "plans", "--validation-topic", "checks",
            "--kafka-transaction-naming", "incrementing", "--no-kafka-topic-check"})))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("the job this one continues"));
        // records read otherwise than the job read them (another key column): its restored windows hold the other
        // keys' counts (refused for a file job by its sorted copy; a Kafka job's reading kept since 2026-12-07)
        Files.writeString(out.resolve(KeyshiftJob.KAFKA_TOPICS_FILE), "topic=trips\ncontrol-topic=\n");
        // (as a build of the same day wrote it: with --columns, and the zone as given)
        Files.writeString(out.resolve(KeyshiftJob.INPUT_FILE), "kafka trips\t--kafka-format=csv\t--columns=k,k2,t"
                + "\t--key=k\t--time=t\t--time-format=\t--time-zone=UTC\n");
        String[] otherKey = {"--kafka-topic", "trips", "--kafka-bootstrap-servers", "127.0.0.1:1", "--key", "k2",
            "--time", "t", "--columns", "k,k2,t", "--out", out.toString(), "-Dexecution.checkpointing.interval=5s",
            "-Dexecution.state-recovery.path=" + savepoint.toUri(), "--no-kafka-topic-check"};
        assertThatThrownBy(() -> KeyshiftJob.main(otherKey))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--key 'k2': the job this one continues read its records with --key 'k'");
        // the same reading passes (then fails on the empty savepoint directory); an --out of an earlier build,
        // whose line names the topic alone, is not checked
        String[] sameKey = otherKey.clone();
        sameKey[java.util.Arrays.asList(sameKey).indexOf("k2")] = "k";
        assertThatThrownBy(() -> KeyshiftJob.main(sameKey))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("the job this one continues"));
        // ... with a field the producer added (its rows were dead letters with the old --columns), and UTC by another
        // name: the same reading
        String[] grown = sameKey.clone();
        grown[java.util.Arrays.asList(grown).indexOf("k,k2,t")] = "k,k2,t,extra";
        String[] etcUtc = java.util.stream.Stream.concat(java.util.Arrays.stream(grown),
                java.util.stream.Stream.of("--time-zone", "Etc/UTC")).toArray(String[]::new);
        assertThatThrownBy(() -> KeyshiftJob.main(etcUtc))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("the job this one continues"));
        // ... but not the fields in another order: a CSV column's name stands for its position
        String[] reordered = sameKey.clone();
        reordered[java.util.Arrays.asList(reordered).indexOf("k,k2,t")] = "k2,k,t";
        assertThatThrownBy(() -> KeyshiftJob.main(reordered))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--columns 'k2,k,t': the job this one continues read its records with --columns "
                        + "'k,k2,t'");
        Files.writeString(out.resolve(KeyshiftJob.INPUT_FILE), "kafka trips\n");
        assertThatThrownBy(() -> KeyshiftJob.main(otherKey))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("the job this one continues"));
    }

    /** Issue 16: Kafka options are checked together, on the client, before any job or connection starts. */
    @Test
    void badKafkaOptionsFailNamingTheOption(@TempDir Path dir) {
        String out = dir.resolve("out").toString();
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-topic", "t", "--key", "k", "--time", "t",
                "--columns", "k,t", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--kafka-bootstrap-servers is required");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "t", "--key", "k", "--time", "t", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--columns is required");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "t", "--key", "nope", "--time", "t", "--columns", "k,t", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown column 'nope'");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "t", "--kafka-format", "xml", "--key", "k", "--time", "t", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--kafka-format must be csv or json");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "t", "--kafka-idleness", "-1s", "--key", "k", "--time", "t", "--columns", "k,t",
                "--out", out}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--kafka-idleness");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "t", "--rate", "100", "--key", "k", "--time", "t", "--columns", "k,t", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--rate paces --input");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--generator-records", "1000", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-bootstrap-servers needs --kafka-topic, --results-topic, "
                        + "--plans-topic");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--plans-topic", "p", "--generator-records", "1000",
                "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-bootstrap-servers is required with");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--validation-topic", " ", "--generator-records", "1000", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--validation-topic must not be blank");
        // Kafka's rule for topic names, before the job (a blank or illegal one failed at run time, then restarted)
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--results-topic", "", "--generator-records", "1000", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--results-topic: ");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "trips/sf", "--key", "k", "--time", "t", "--columns", "k,t", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--kafka-topic: ")
                .hasMessageContaining("trips/sf");
        // a checkpoint interval the sinks' transactions cannot outlast: the broker would abort them, results and all
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--results-topic", "r", "--generator-records", "1000", "--out", out,
                "-Dexecution.checkpointing.interval=20min"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("execution.checkpointing.interval (20 min) plus execution.checkpointing.timeout "
                        + "(10 min) must be shorter than the Kafka sinks' transaction.timeout.ms (15 min)");
        // ... nor the interval and a checkpoint that takes as long as it may: the transaction opened at one
        // checkpoint commits only when the next completes
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--results-topic", "r", "--generator-records", "1000", "--out", out,
                "-Dexecution.checkpointing.interval=5s", "-Dexecution.checkpointing.timeout=30min"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("plus execution.checkpointing.timeout (30 min) must be shorter than the Kafka "
                        + "sinks' transaction.timeout.ms (15 min)");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--plans-topic", "p", "--kafka-property", "transaction.timeout.ms=60000", "--generator-records",
                "1000", "--out", out, "-Dexecution.checkpointing.interval=2min",
                // what a transactional producer takes passes on to the next check
                "--kafka-property", "acks=all", "--kafka-property", "enable.idempotence=true",
                "--kafka-property", "max.in.flight.requests.per.connection=5", "--kafka-property", "retries=3"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must be shorter than the Kafka sinks' transaction.timeout.ms (1 min)");
        // ... nor a failed checkpoint tolerated: the job runs on past it, the transaction open until the next that
        // completes (5 s + 10 min, twice, is above 15 min; it was checked once)
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--results-topic", "r", "--generator-records", "1000", "--out", out,
                "-Dexecution.checkpointing.interval=5s", "-Dexecution.checkpointing.tolerable-failed-checkpoints=1"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("times 1 + execution.checkpointing.tolerable-failed-checkpoints (1), must be "
                        + "shorter than the Kafka sinks' transaction.timeout.ms (15 min)");
        // ... nor a min pause longer than the interval: the next checkpoint starts no sooner
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--results-topic", "r", "--generator-records", "1000", "--out", out,
                "-Dexecution.checkpointing.interval=30s", "-Dexecution.checkpointing.min-pause=6min"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("(or execution.checkpointing.min-pause (6 min) plus the timeout, where the pause "
                        + "is longer) must be shorter than the Kafka sinks' transaction.timeout.ms (15 min)");
        // one topic in two roles: results into the input came back as dead letters
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "trips", "--results-topic", "trips", "--key", "k", "--time", "t", "--columns", "k,t",
                "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-topic and --results-topic name the same topic 'trips'");
        // what Kafka's clients refuse only once the job runs (and then at every restart)
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "kafka",
                "--kafka-topic", "t", "--key", "k", "--time", "t", "--columns", "k,t", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-bootstrap-servers: 'kafka' is not HOST:PORT");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "t", "--kafka-group-id", " ", "--key", "k", "--time", "t", "--columns", "k,t",
                "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-group-id must not be blank");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "t", "--kafka-property", "isolation.level=read_commited", "--key", "k", "--time", "t",
                "--columns", "k,t", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-property isolation.level: ").hasMessageContaining("read_commited");
        // a producer that could not send the largest result the input lets in (a key of 256 KiB, twice): refused
        // before anything starts (such a result failed the job at every restart)
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "t", "--results-topic", "r", "--kafka-property", "max.request.size=524288", "--key",
                "k", "--time", "t", "--columns", "k,t", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-property max.request.size=524288 is below 787584 bytes");
        // the source's own setting, read on the cluster (at every restart)
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "t", "--kafka-property", "partition.discovery.interval.ms=5min", "--key", "k",
                "--time", "t", "--columns", "k,t", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-property partition.discovery.interval.ms: '5min' is not a whole number "
                        + "of milliseconds");
        // read as the enumerator reads it: a space in front failed there too
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "t", "--kafka-property", "partition.discovery.interval.ms= 60000", "--key", "k",
                "--time", "t", "--columns", "k,t", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("partition.discovery.interval.ms: ' 60000' is not a whole number");
        for (String against : java.util.List.of("acks=1", "enable.idempotence=false", "retries=0",
                "max.in.flight.requests.per.connection=6", "transaction.two.phase.commit.enable=true")) {
            // each value is valid alone; a transactional producer refuses it, at every restart of the job
            assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                    "--results-topic", "r", "--kafka-property", against, "--generator-records", "1000", "--out", out}))
                    .as(against).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("--kafka-property " + against + ": the sinks' producers are transactional");
        }
        for (String own : java.util.List.of("group.id=g", "bootstrap.servers=127.0.0.1:2")) {
            assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                    "--kafka-topic", "t", "--kafka-property", own, "--key", "k", "--time", "t", "--columns", "k,t",
                    "--out", out}))
                    .as(own).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("--kafka-property " + own.substring(0, own.indexOf('=')) + ": set by keyshift's own options");
        }
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "t", "--kafka-bounded", "--kafka-starting-offsets", "latest", "--key", "k", "--time",
                "t", "--columns", "k,t", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-bounded with --kafka-starting-offsets latest reads nothing");
        for (String bad : java.util.List.of("soon", "3000000000")) {
            // beyond an int Kafka's producer refused it at every restart
            assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                    "--results-topic", "r", "--kafka-property", "transaction.timeout.ms=" + bad, "--generator-records",
                    "1000", "--out", out}))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("--kafka-property transaction.timeout.ms must be a positive number");
        }
        // a watched control directory never ends: a bounded run with it never finished
        Path commands = dir.resolve("commands");
        assertThat(commands.toFile().mkdirs()).isTrue();
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "trips", "--kafka-bounded", "--key", "k", "--time", "t", "--columns", "k,t",
                "--control-dir", commands.toString(), "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-bounded cannot finish with --control-dir");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--results-topic", "r", "--kafka-transactional-id-prefix", "plans:x", "--generator-records", "1000",
                "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must not begin with 'plans:'");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--plans-topic", "p", "--strategy", "hash", "--generator-records", "1000", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("hash makes no plans");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-control-topic", "c", "--generator-records", "1000", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-control-topic needs --kafka-topic");
        // one source: another source's options would be ignored without a word
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--key", "k", "--time", "t", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--key describes an --input file or a --kafka-topic, and there is neither");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "t", "--key", "k", "--time", "t", "--columns", "k,t", "--generator-keys", "5",
                "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--generator-keys sets the built-in generator, which does not run with "
                        + "--kafka-topic");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "t", "--input", out, "--key", "k", "--time", "t", "--columns", "k,t", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--input and --kafka-topic exclude each other");
        // a JSON record names its fields: columns would be ignored
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "t", "--kafka-format", "json", "--key", "k", "--time", "t", "--columns", "k,t",
                "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--columns names the fields of CSV records, not of --kafka-format json");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-zipf", "-1", "--out", out + "/fresh"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--generator-zipf");
        assertThat(java.nio.file.Path.of(out, "fresh")).as("nothing written before the checks").doesNotExist();
        // options that apply to a topic input, or to the sinks, are refused where they would be ignored
        for (String[] ignored : new String[][] {{"--kafka-bounded"}, {"--kafka-starting-offsets", "earliest"},
                {"--kafka-group-id", "g"}, {"--kafka-format", "json"}, {"--max-out-of-orderness", "5s"},
                {"--kafka-idleness", "1m"}}) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(ignored));
            args.addAll(java.util.List.of("--generator-records", "1000", "--out", out));
            assertThatThrownBy(() -> KeyshiftJob.main(args.toArray(String[]::new))).as(ignored[0])
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(ignored[0] + " applies to a --kafka-topic input only");
        }
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-transactional-id-prefix", "x",
                "--generator-records", "1000", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-transactional-id-prefix applies to the sinks");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-transaction-naming", "incrementing",
                "--generator-records", "1000", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-transaction-naming applies to the sinks");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--results-topic", "r", "--kafka-transaction-naming", "pool", "--generator-records", "1000",
                "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-transaction-naming must be pooling or incrementing, was 'pool'");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-property", "acks=all",
                "--generator-records", "1000", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-property applies with --kafka-topic");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--results-topic", "r", "--kafka-transactional-id-prefix", "plans", "--generator-records", "1000",
                "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must not be the beginning of 'plans:'");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--kafka-bootstrap-servers", "127.0.0.1:1",
                "--kafka-topic", "t", "--kafka-bounded", "--kafka-control-topic", "c", "--key", "k", "--time", "t",
                "--columns", "k,t", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-bounded cannot finish with --kafka-control-topic");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--control", "a",
                "--control-dir", "b", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--control and --control-dir exclude each other");
    }

    /** Options the job would ignore, or honour nowhere a user looks, are refused before anything is written. */
    @Test
    void controlWithHashAMissingControlDirectoryAUriOutputAndNoCheckpointsAreRefused(@TempDir Path dir) {
        String out = dir.resolve("out").toString();
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--strategy", "hash", "--control-dir",
                dir.toString(), "--generator-records", "1000", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("hash has no planner to steer");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--control-dir", dir.resolve("nosuch").toString(),
                "--generator-records", "1000", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--control-dir " + dir.resolve("nosuch") + " is not a directory");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out",
                "s3://bucket/keyshift"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--out takes a local directory");
        // a local environment without config.yaml has no checkpoint interval
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out", out}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("execution.checkpointing.interval is not set");
        // at-least-once checkpoints would count records after a barrier twice after a restore
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out", out,
                "-Dexecution.checkpointing.interval=5s", "-Dexecution.checkpointing.mode=AT_LEAST_ONCE"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("execution.checkpointing.mode is AT_LEAST_ONCE")
                .hasMessageContaining("only with EXACTLY_ONCE checkpoints");
        // no checkpoint after a finite input's end: its last windows' results were never committed
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out", out,
                "-Dexecution.checkpointing.interval=5s",
                "-Dexecution.checkpointing.checkpoints-after-tasks-finish=false"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("checkpoints-after-tasks-finish is false");
        assertThat(dir.resolve("out")).doesNotExist();
    }

    /**
     * Scaling options that cannot work are refused before anything is written: a capacity with the hash strategy
     * (no scaling stage: autoscale said "submit it with keyshift.scaling.capacity set"), and following the job's
     * parallelism on restore under the adaptive scheduler (each rescale's restore set the decisions back, and
     * autoscale undid its own rescales).
     */
    @Test
    void scalingWithHashAndFollowingRestoresUnderTheAdaptiveSchedulerAreRefused(@TempDir Path dir) {
        String out = dir.resolve("out").toString();
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--strategy", "hash", "--generator-records", "1000",
                "--out", out, "-Dexecution.checkpointing.interval=5s", "-Dkeyshift.scaling.capacity=300"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.scaling.capacity needs a keyshift strategy")
                .hasMessageContaining("--strategy hash");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "1000", "--out", out,
                "-Dexecution.checkpointing.interval=5s", "-Dkeyshift.scaling.capacity=300",
                "-Dkeyshift.scaling.follow-job-parallelism-on-restore=true", "-Djobmanager.scheduler=adaptive"}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.scaling.follow-job-parallelism-on-restore=true with "
                        + "jobmanager.scheduler: adaptive");
        assertThat(dir.resolve("out")).doesNotExist();
        assertThat(KeyshiftJob.scalingConflict(org.apache.flink.configuration.Configuration.fromMap(java.util.Map.of(
                "keyshift.scaling.capacity", "300", "keyshift.scaling.follow-job-parallelism-on-restore", "true")),
                false)).as("the default scheduler").isNull();
        assertThat(KeyshiftJob.scalingConflict(org.apache.flink.configuration.Configuration.fromMap(java.util.Map.of(
                "keyshift.scaling.follow-job-parallelism-on-restore", "true", "jobmanager.scheduler", "adaptive")),
                true)).as("no scaling").isNull();
    }

    private static byte[] gzip(byte[] bytes) throws java.io.IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(b)) {
            z.write(bytes);
        }
        return b.toByteArray();
    }

    /**
     * A new deployment that keeps the fixed job id and its checkpoints (the Kubernetes Operator's last-state upgrade:
     * no savepoint path, the latest checkpoint recovered) with changed arguments is a restore, not Flink's rerun of
     * main after a failover (which has the same arguments): a changed --window is refused as on a restore from a
     * savepoint (it was let in, the restored windows firing at the old length beside the new ones). The same arguments
     * are the failover's; a marker of a build before the digest matches any.
     */
    @Test
    void aRedeploymentKeepingTheJobIdWithChangedArgumentsIsCheckedAsARestore(@TempDir Path dir) throws Exception {
        String id = "0000000000000000000000000000000a";
        Path out = Files.createDirectories(dir.resolve("out"));
        String checkpoints = dir.resolve("checkpoints").toUri().toString();
        String[] first = {"--generator-records", "2000", "--out", out.toString(),
            "-Dexecution.checkpointing.interval=1s", "-D" + KeyshiftJob.FIXED_JOB_ID + "=" + id,
            "-Dexecution.checkpointing.dir=" + checkpoints};
        // what the first deployment's main left: its marker, its window, a retained checkpoint
        KeyshiftJob.mark(out, id, "", KeyshiftJob.argsDigest(java.util.List.of(first)));
        Files.writeString(out.resolve(KeyshiftJob.WINDOW_FILE), "window-ms=3600000\n");
        Files.writeString(Files.createDirectories(dir.resolve("checkpoints").resolve(id).resolve("chk-3")).resolve("_metadata"), "completed");
        assertThat(KeyshiftJob.markedArgs(out, KeyshiftJob.argsDigest(java.util.List.of(first)))).isTrue();
        String[] upgraded = java.util.stream.Stream.concat(java.util.Arrays.stream(first),
                java.util.stream.Stream.of("--window", "30min")).toArray(String[]::new);
        assertThat(KeyshiftJob.markedArgs(out, KeyshiftJob.argsDigest(java.util.List.of(upgraded)))).isFalse();
        assertThatThrownBy(() -> KeyshiftJob.main(upgraded)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--window: the job this one continues wrote its results in windows of 3600000");
        // the refused run left the marker as it was
        assertThat(KeyshiftJob.markedArgs(out, KeyshiftJob.argsDigest(java.util.List.of(first)))).isTrue();
        // a marker written before the digest (two lines) is an older build's: a build that reads it is a new
        // deployment (Flink's rerun of main runs the jar that wrote the marker), so it matches no arguments
        Files.writeString(out.resolve(KeyshiftJob.JOB_ID_MARKER), id + "\n\n");
        assertThat(KeyshiftJob.markedArgs(out, KeyshiftJob.argsDigest(java.util.List.of(first)))).isFalse();
        // a file job redeployed with another --input: compared with the sorted copy its checkpoint's read positions
        // point into, and refused (taken for a failover, it read on in the copy and ignored the new input)
        Path csv = dir.resolve("trips.csv");
        Path fileOut = dir.resolve("file-out");
        String fileId = "0000000000000000000000000000000b";
        String[] job = {"--input", csv.toString(), "--key", "station", "--time", "start", "--out", fileOut.toString(),
            "-Dexecution.checkpointing.interval=1s", "-D" + KeyshiftJob.FIXED_JOB_ID + "=" + fileId,
            "-Dexecution.checkpointing.dir=" + checkpoints};
        sortedThenAppended(csv, fileOut, fileId + "\n\n" + KeyshiftJob.argsDigest(java.util.List.of(job)) + "\n");
        Files.createDirectories(fileOut.resolve("results/2014-09-01--00"));
        Files.writeString(fileOut.resolve("results/2014-09-01--00/part-0-0"), "A,1409558400000,1409562000000,1\n");
        Files.writeString(Files.createDirectories(dir.resolve("checkpoints").resolve(fileId).resolve("chk-2")).resolve("_metadata"), "completed");
        Path other = Files.writeString(dir.resolve("other.csv"), "station,start\nZ,2014-09-02 08:00:00\n");
        String[] redeployed = job.clone();
        redeployed[1] = other.toString();
        assertThatThrownBy(() -> KeyshiftJob.main(redeployed)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not the input of the job this one restores");
        // the arguments in an @-file (a ConfigMap), only the file's content changed: the digest is of what picocli
        // read, so the redeployment is compared as well (the file's name alone made it a failover)
        // (the first deployment runs, under the fixed id, and writes its marker itself)
        Path argsFile = dir.resolve("job.args");
        Path atOut = dir.resolve("at-out");
        String atId = "0000000000000000000000000000000e";
        java.util.function.UnaryOperator<String> toAtOut = a -> a.equals(fileOut.toString()) ? atOut.toString()
                : a.replace(fileId, atId);
        Files.write(argsFile, java.util.Arrays.stream(job).map(toAtOut).map(a -> "\"" + a + "\"").toList());
        KeyshiftJob.main(new String[] {"@" + argsFile});
        assertThat(atOut.resolve("results")).isDirectory();
        Files.writeString(Files.createDirectories(dir.resolve("checkpoints").resolve(atId).resolve("chk-5")).resolve("_metadata"), "completed");
        Files.write(argsFile, java.util.Arrays.stream(redeployed).map(toAtOut).map(a -> "\"" + a + "\"").toList());
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"@" + argsFile}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not the input of the job this one restores");
        // a generator job redeployed with other generator options: the message names the checkpoints it recovers
        Path genOut = Files.createDirectories(dir.resolve("gen-out"));
        String genId = "0000000000000000000000000000000d";
        Files.writeString(genOut.resolve(KeyshiftJob.INPUT_FILE), "generator 1234\n");
        KeyshiftJob.mark(genOut, genId, "", KeyshiftJob.argsDigest(java.util.List.of("--earlier")));
        Files.writeString(Files.createDirectories(dir.resolve("checkpoints").resolve(genId).resolve("chk-1")).resolve("_metadata"), "completed");
        assertThatThrownBy(() -> KeyshiftJob.main(new String[] {"--generator-records", "2000", "--seed",
            "7", "--out", genOut.toString(), "-Dexecution.checkpointing.interval=1s",
            "-D" + KeyshiftJob.FIXED_JOB_ID + "=" + genId, "-Dexecution.checkpointing.dir=" + checkpoints}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("restored from the checkpoints of job " + genId)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("null"));
    }

}
