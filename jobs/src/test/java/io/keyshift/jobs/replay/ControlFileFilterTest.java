package io.keyshift.jobs.replay;

import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.enumerate.NonSplittingRecursiveEnumerator;
import org.apache.flink.core.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.util.Collection;

import static org.assertj.core.api.Assertions.assertThat;

/** The control source reads the file or directory the user named, whatever its name. */
class ControlFileFilterTest {
    @TempDir
    java.nio.file.Path dir;

    private Collection<FileSourceSplit> splits(java.nio.file.Path root) throws Exception {
        return new NonSplittingRecursiveEnumerator(Workload.controlFileFilter(root))
                .enumerateSplits(new Path[] {new Path(root.toUri())}, 1);
    }

    /**
     * A gzipped control file's lines, known before the job starts, are its commands, as the file source reads them
     * (its raw bytes gave none: its sampling rates reached the routers only with a plan, a {@code now} one late).
     */
    @Test
    void aGzippedControlFileIsKnownInAdvanceAsTheSourceReadsIt() throws Exception {
        String text = "2014-09-01T00:00:00Z,sampling-rate,0.25\nnow,pin,\"Market at 4th\"\n";
        java.nio.file.Path plain = Files.writeString(dir.resolve("steer.csv"), text);
        java.nio.file.Path gzipped = dir.resolve("steer.csv.gz");
        try (java.io.OutputStream out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(gzipped))) {
            out.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        assertThat(Workload.controlFileLines(plain.toString())).containsExactly(
                "2014-09-01T00:00:00Z,sampling-rate,0.25", "now,pin,\"Market at 4th\"");
        assertThat(Workload.controlFileLines(gzipped.toString()))
                .isEqualTo(Workload.controlFileLines(plain.toString()));
    }

    @Test
    void aControlFileNamedWithAnUnderscoreOrADotIsRead() throws Exception {
        for (String name : new String[] {"_steer.csv", ".steer.csv", "steer.csv"}) {
            java.nio.file.Path file = Files.writeString(dir.resolve(name), "2014-03-01T00:00:00Z,freeze\n");
            assertThat(splits(file)).as(name).singleElement()
                    .satisfies(s -> assertThat(s.path().getName()).isEqualTo(name));
        }
    }

    @Test
    void aControlDirectoryNamedSoIsReadButItsFilesBeingWrittenAreNot() throws Exception {
        java.nio.file.Path control = Files.createDirectories(dir.resolve("_control"));
        Files.writeString(control.resolve("commands-1.csv"), "2014-03-01T00:00:00Z,freeze\n");
        Files.writeString(control.resolve(".commands-2.csv.inprogress"), "2014-03-01T00:00:00Z,unfreeze\n");
        Files.writeString(control.resolve("_commands-3.csv"), "2014-03-01T00:00:00Z,unfreeze\n");
        assertThat(splits(control)).singleElement()
                .satisfies(s -> assertThat(s.path().getName()).isEqualTo("commands-1.csv"));
    }

    /**
     * A watched directory's files directly in it only (Flink's enumerator remembers paths: a file moved into a
     * subdirectory once applied was read again, and its commands applied twice), without editors' autosaves and
     * backups, and only once a file has not changed for the listing interval (a file written in place under its final
     * name was read half-written: a cut-off command applied, its later lines lost).
     */
    @Test
    void aWatchedDirectorysFilesAreItsOwnSettledOnes() throws Exception {
        java.nio.file.Path control = Files.createDirectories(dir.resolve("control"));
        java.nio.file.Path done = Files.createDirectories(control.resolve("done"));
        Files.writeString(done.resolve("control-1.csv"), "2014-03-01T00:00:00Z,rollback,90\n");
        Files.writeString(control.resolve("#control-2.csv#"), "now,freeze\n");
        Files.writeString(control.resolve("control-2.csv~"), "now,freeze\n");
        java.nio.file.Path settled = Files.writeString(control.resolve("control-3.csv"), "now,freeze\n");
        java.nio.file.Path writing = Files.writeString(control.resolve("control-4.csv"), "now,roll");
        java.nio.file.attribute.FileTime minuteAgo = java.nio.file.attribute.FileTime.fromMillis(
                System.currentTimeMillis() - 60_000);
        Files.setLastModifiedTime(settled, minuteAgo);
        Files.setLastModifiedTime(done.resolve("control-1.csv"), minuteAgo);
        java.util.function.Function<Long, java.util.List<String>> names = quiet -> {
            try {
                return new NonSplittingRecursiveEnumerator(Workload.controlFileFilter(control, quiet))
                        .enumerateSplits(new Path[] {new Path(control.toUri())}, 1).stream()
                        .map(s -> s.path().getName()).sorted().toList();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        assertThat(names.apply(5_000L)).containsExactly("control-3.csv");
        assertThat(names.apply(0L)).containsExactly("control-3.csv", "control-4.csv");
        Files.setLastModifiedTime(writing, minuteAgo);
        assertThat(names.apply(5_000L)).containsExactly("control-3.csv", "control-4.csv");
    }
}
