package io.keyshift.jobs.kafka;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The input's consumer group is the output directory's own unless --kafka-group-id names one: with one default group
 * for every job, a second job on a topic started, by the default starting offsets (committed), where an earlier job had
 * left off, silently skipping what that job had read.
 */
class KafkaGroupIdTest {

    @Test
    void eachOutputDirectoryHasItsOwnGroupUnlessOneIsGiven(@TempDir Path dir) {
        KafkaOptions k = new KafkaOptions();
        Path first = dir.resolve("first");
        assertThat(k.groupId(first)).isEqualTo("keyshift:" + first.toAbsolutePath());
        assertThat(k.groupId(dir.resolve("second"))).isNotEqualTo(k.groupId(first));
        assertThat(k.groupId(dir.resolve("x/../first"))).isEqualTo(k.groupId(first));
        k.groupId = "payments-skew";
        assertThat(k.groupId(first)).isEqualTo("payments-skew").isEqualTo(k.groupId(dir.resolve("second")));
    }
}
