package io.keyshift.jobs.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The report's {@code jvm} section: which JIT compilers the JVM that measured records/s ran with. */
class ReplayReportJvmTest {
    @Test
    void tieredStopBeforeLevelFourIsC1OnlyAndWithoutTieredCompilationC2Alone() {
        assertThat(ReplayReport.compilers(List.of("-Xmx4g", "-XX:TieredStopAtLevel=1"))).isEqualTo("C1");
        assertThat(ReplayReport.compilers(List.of("-XX:TieredStopAtLevel=3"))).isEqualTo("C1");
        assertThat(ReplayReport.compilers(List.of("-Xmx4g"))).isEqualTo("C1+C2");
        assertThat(ReplayReport.compilers(List.of("-XX:TieredStopAtLevel=4"))).isEqualTo("C1+C2");
        assertThat(ReplayReport.compilers(List.of("-XX:TieredStopAtLevel=1", "-XX:TieredStopAtLevel=4")))
                .isEqualTo("C1+C2");
        assertThat(ReplayReport.compilers(List.of("-XX:TieredStopAtLevel=4", "-XX:TieredStopAtLevel=1")))
                .isEqualTo("C1");
        // without tiered compilation the JVM compiles with C2 alone and ignores the level (it said C1+C2)
        assertThat(ReplayReport.compilers(List.of("-XX:TieredStopAtLevel=1", "-XX:-TieredCompilation")))
                .isEqualTo("C2");
        assertThat(ReplayReport.compilers(List.of("-XX:-TieredCompilation", "-XX:+TieredCompilation",
                "-XX:TieredStopAtLevel=1"))).isEqualTo("C1");
        // no compiler at all (it said C1+C2)
        assertThat(ReplayReport.compilers(List.of("-Xint"))).isEqualTo("interpreter");
        assertThat(ReplayReport.compilers(List.of("-XX:TieredStopAtLevel=0"))).isEqualTo("interpreter");
        assertThat(ReplayReport.compilers(List.of("-Xint", "-Xmixed"))).isEqualTo("C1+C2");
        assertThat(ReplayReport.compilers(List.of("-XX:CompilationMode=quick-only"))).isEqualTo("C1");
        assertThat(ReplayReport.compilers(List.of("-XX:CompilationMode=high-only"))).isEqualTo("C2");
        assertThat(ReplayReport.compilers(List.of("-XX:CompilationMode=quick-only", "-XX:TieredStopAtLevel=0")))
                .isEqualTo("interpreter");
        assertThat(ReplayReport.compilers(List.of("-XX:CompilationMode=quick-only", "-XX:-TieredCompilation")))
                .isEqualTo("C1");
        assertThat(ReplayReport.compilers(List.of("-XX:CompilationMode=high-only", "-XX:TieredStopAtLevel=1")))
                .isEqualTo("C1");
    }

    @Test
    void theSectionNamesThisJvm() {
        ObjectNode n = new ObjectMapper().createObjectNode();
        ReplayReport.jvm(n);
        assertThat(n.get("java_version").asText()).isEqualTo(Runtime.version().toString());
        assertThat(n.get("compilers").asText()).isIn("C1", "C2", "C1+C2", "interpreter");
        assertThat(n.get("max_heap_bytes").asLong()).isEqualTo(Runtime.getRuntime().maxMemory());
    }
}
