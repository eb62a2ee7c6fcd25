package io.keyshift.jobs.report;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.List;

class ReportChartsTest {
    /**
     * Chart titles that differ only in characters a file name cannot hold ("A/B St", "A B St") get distinct file
     * names: the second had overwritten the first's PNG and repeated its id in report.html.
     */
    @Test
    void titlesThatSanitizeAlikeGetDistinctFileNames() {
        List<String> names = ReportCharts.fileNames(List.of("forecast-A/B St", "forecast-A B St", "forecast-A_B_St",
                "loads"));
        assertThat(names).doesNotHaveDuplicates().hasSize(4);
        assertThat(names.get(0)).isEqualTo("forecast-A_B_St");
        assertThat(names.get(3)).isEqualTo("loads");
        assertThat(names).allSatisfy(n -> assertThat(n).matches("[A-Za-z0-9_-]+"));
    }

    /** The report's times are UTC; XChart drew its time axes in the JVM's zone (Los Angeles: 16:00 for a day at 0:00Z). */
    @Test
    void chartsDrawTimesInUtcWhateverTheJvmsZone() {
        java.util.TimeZone before = java.util.TimeZone.getDefault();
        try {
            java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("America/Los_Angeles"));
            org.knowm.xchart.XYChart c = ReportCharts.chart("t", "y");
            assertThat(c.getStyler().getTimezone().getID()).isEqualTo("UTC");
            assertThat(c.getXAxisTitle()).contains("UTC");
        } finally {
            java.util.TimeZone.setDefault(before);
        }
    }
}
