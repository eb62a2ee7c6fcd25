package io.keyshift.jobs.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The report's {@code jvm} section: which JIT compilers the JVM that measured records/s ran with. */
class ReplayReportJvmTest {
    @Test
    void tieredStopBeforeLevelFourIsC1OnlyUnlessTieredCompilationIsOff() {
        assertThat(ReplayReport.c1Only(List.of("-Xmx4g", "-XX:TieredStopAtLevel=1"))).isTrue();
        assertThat(ReplayReport.c1Only(List.of("-XX:TieredStopAtLevel=3"))).isTrue();
        assertThat(ReplayReport.c1Only(List.of("-Xmx4g"))).isFalse();
        assertThat(ReplayReport.c1Only(List.of("-XX:TieredStopAtLevel=4"))).isFalse();
        assertThat(ReplayReport.c1Only(List.of("-XX:TieredStopAtLevel=1", "-XX:TieredStopAtLevel=4"))).isFalse();
        assertThat(ReplayReport.c1Only(List.of("-XX:TieredStopAtLevel=4", "-XX:TieredStopAtLevel=1"))).isTrue();
        // without tiered compilation the JVM compiles with C2 alone and ignores the level
        assertThat(ReplayReport.c1Only(List.of("-XX:TieredStopAtLevel=1", "-XX:-TieredCompilation"))).isFalse();
        assertThat(ReplayReport.c1Only(List.of("-XX:-TieredCompilation", "-XX:+TieredCompilation",
                "-XX:TieredStopAtLevel=1"))).isTrue();
    }

    @Test
    void theSectionNamesThisJvm() {
        ObjectNode n = new ObjectMapper().createObjectNode();
        ReplayReport.jvm(n);
        assertThat(n.get("java_version").asText()).isEqualTo(Runtime.version().toString());
        assertThat(n.get("compilers").asText()).isIn("C1", "C1+C2");
        assertThat(n.get("max_heap_bytes").asLong()).isEqualTo(Runtime.getRuntime().maxMemory());
    }
}
