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
    /**
     * Windows without records are drawn as such: loads fall to 0 across them, imbalance and forecasts break (the lines
     * ran straight across the flights' night hours, as if those had load).
     */
    @Test
    void windowsWithoutRecordsAreZerosOrGapsNotBridged() {
        long h = 3_600_000L;
        assertThat(ReportCharts.windowLength(List.of(List.of(0L, 5 * h, 6 * h), List.of(2 * h, 9 * h)))).isEqualTo(h);
        assertThat(ReportCharts.windowLength(List.of(List.of(7L)))).isZero();
        // records in every other window: the guess is twice the window; the report's own window is taken
        java.util.SortedMap<Long, long[]> everyOther = new java.util.TreeMap<>(java.util.Map.of(0L, new long[] {1},
                2 * h, new long[] {1}, 4 * h, new long[] {1}));
        ReportCharts.Data guessed = new ReportCharts.Data("t", List.of(), java.util.Map.of("hash", everyOther),
                java.util.Map.of(), java.util.Map.of(), java.util.Map.of(), java.util.Map.of());
        assertThat(ReportCharts.windowOf(guessed)).isEqualTo(2 * h);
        ReportCharts.Data known = new ReportCharts.Data("t", List.of(), java.util.Map.of("hash", everyOther),
                java.util.Map.of(), java.util.Map.of(), java.util.Map.of(), java.util.Map.of(), h);
        assertThat(ReportCharts.windowOf(known)).isEqualTo(h);
        java.util.SortedMap<Long, Double> v = new java.util.TreeMap<>(java.util.Map.of(0L, 5.0, h, 6.0, 5 * h, 7.0));
        List<java.util.Date> x = new java.util.ArrayList<>();
        List<Double> y = new java.util.ArrayList<>();
        ReportCharts.series(v, h, 0.0, x, y);
        assertThat(x).extracting(java.util.Date::getTime).containsExactly(0L, h, 2 * h, 4 * h, 5 * h);
        assertThat(y).containsExactly(5.0, 6.0, 0.0, 0.0, 7.0);
        x.clear();
        y.clear();
        ReportCharts.series(v, h, null, x, y);
        assertThat(x).extracting(java.util.Date::getTime).containsExactly(0L, h, 2 * h, 5 * h);
        assertThat(y).containsExactly(5.0, 6.0, null, 7.0);
        assertThat(ReportCharts.onlyIsolatedPoints(y)).as("5.0 and 6.0 make a line").isFalse();
        assertThat(ReportCharts.onlyIsolatedPoints(java.util.Arrays.asList(1.0, null, 2.0))).isTrue();
        assertThat(ReportCharts.onlyIsolatedPoints(List.of(1.0))).isTrue();
    }

    /** A run of one window draws its point (XChart draws a line only between two points: the charts were empty). */
    @Test
    void aRunOfOneWindowIsDrawn(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.util.SortedMap<Long, long[]> loads = new java.util.TreeMap<>(java.util.Map.of(0L, new long[] {5, 3}));
        java.util.SortedMap<Long, Double> imbalance = new java.util.TreeMap<>(java.util.Map.of(0L, 1.25));
        ReportCharts.write(dir, new ReportCharts.Data("t", List.of(), java.util.Map.of("hash", loads),
                java.util.Map.of("hash", imbalance), java.util.Map.of(), java.util.Map.of(), java.util.Map.of()));
        java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(dir.resolve("charts/imbalance.png").toFile());
        int coloured = 0;
        // the plot, left of the legend: a strongly coloured pixel is a drawn point (axes and grid are grey)
        for (int px = 0; px < img.getWidth() * 3 / 4; px++) {
            for (int py = 0; py < img.getHeight(); py++) {
                java.awt.Color c = new java.awt.Color(img.getRGB(px, py));
                int max = Math.max(c.getRed(), Math.max(c.getGreen(), c.getBlue()));
                int min = Math.min(c.getRed(), Math.min(c.getGreen(), c.getBlue()));
                coloured += max - min > 80 ? 1 : 0;
            }
        }
        assertThat(coloured).isPositive();
    }
}
