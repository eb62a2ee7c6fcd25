package io.keyshift.savepoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The bootstrap marker's per-stage attributes, for uid prefixes that hold dots. */
class BootstrapMarkerTest {
    /**
     * Stage {@code a}'s attributes are not stage {@code a.b}'s (a uid prefix may hold dots): a bootstrap of {@code a}
     * onto one of {@code a.b} dropped every attribute of {@code a.b} as its own.
     */
    @Test
    void aStagesAttributesAreNotThoseOfAStageWhosePrefixItBegins(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(BootstrapMarker.MARKER), "written by keyshift bootstrap\nstage=a.b\nstage=a\n"
                + "stage.a.b.window-ms=60000\nstage.a.b.key-type=Long\nstage.a.window-ms=3600000\n"
                + "stage.a.max-parallelism=128\nstage.a.key-type=Tuple2<String, Integer>\n");
        String sp = dir.toUri().toString();
        assertThat(BootstrapMarker.attributes(sp, "a")).containsOnlyKeys("window-ms", "max-parallelism", "key-type")
                .containsEntry("window-ms", "3600000").containsEntry("key-type", "Tuple2<String, Integer>");
        assertThat(BootstrapMarker.attributes(sp, "a.b")).containsOnlyKeys("window-ms", "key-type")
                .containsEntry("window-ms", "60000").containsEntry("key-type", "Long");
        assertThat(BootstrapMarker.isAttributeOf("stage.a.b.window-ms=60000", "a")).isFalse();
        assertThat(BootstrapMarker.isAttributeOf("stage.a.window-ms=3.5", "a")).isTrue();
        assertThat(BootstrapMarker.attributes(dir.resolve("none").toUri().toString(), "a")).isEmpty();
    }
}
