package io.keyshift.jobs.input;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Reading an input file: RFC 4180 rows whose quoted fields hold line breaks. */
class ReplayInputTest {
    @Test
    void aQuotedFieldWithLineBreaksIsOneRowAndAnUnterminatedOneIsOneDeadLetter(@TempDir Path dir) throws Exception {
        String csv = "id,when,note\n"
                + "a,2024-03-01T00:00:00Z,plain\n"
                + "b,2024-03-01T00:01:00Z,\"two\nlines\"\n"
                + "c,2024-03-01T00:02:00Z,\"three\nlines, with \"\"quotes\"\"\nand a comma\"\n"
                + "d,2024-03-01T00:03:00Z,plain\n"
                + "e,2024-03-01T00:04:00Z,\"never closed\n";
        Path file = Files.writeString(dir.resolve("in.csv"), csv);
        InputSpec spec = new InputSpec(List.of(), "id", List.of("when"), Optional.empty(), Optional.empty());
        ReplayInput.Prepared p = ReplayInput.prepare(file, spec, dir.resolve("events.bin"),
                dir.resolve("dead.csv"), n -> { });
        // five rows: four records, one dead letter (records + dead letters = rows, no fragment taken for a row)
        assertThat(p.stats().records()).isEqualTo(4);
        assertThat(p.stats().deadLetters()).isEqualTo(1);
        assertThat(p.stats().keys()).isEqualTo(4);
        List<String> dead = Files.readAllLines(dir.resolve("dead.csv"));
        assertThat(dead).hasSize(2);
        assertThat(dead.get(1)).contains(",9,").contains("EOF reached before encapsulated token finished");
    }
}
