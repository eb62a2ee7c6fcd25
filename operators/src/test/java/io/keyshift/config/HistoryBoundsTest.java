package io.keyshift.config;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Options that size what the running job keeps are bounded where the stage is configured, naming the option: a
 * series' history (seasons, the calendar's reach) and the heavy hitters the sketch can deliver.
 */
class HistoryBoundsTest {
    @Test
    void aSeasonBeyondTheBoundIsRefusedNamingTheOption() {
        Configuration c = new Configuration();
        c.set(ForecastOptions.SEASONS, List.of(24, 86_400_000));
        assertThatThrownBy(() -> KeyshiftConfig.validate(c))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.forecast.seasons").hasMessageContaining("86400000")
                .hasMessageContaining("0..100000");
        c.set(ForecastOptions.SEASONS, List.of(24, KeyshiftConfig.MAX_SEASON_WINDOWS));
        KeyshiftConfig.validate(c);
    }

    @Test
    void theDefaultSeasonsLeaveOutADayOfVeryShortWindows() {
        // a day of 10 ms windows would be 8,640,000 values per series
        assertThat(KeyshiftConfig.defaultSeasons(10)).isEmpty();
        assertThat(KeyshiftConfig.defaultSeasons(1_000)).containsExactly(86_400);
        assertThat(KeyshiftConfig.defaultSeasons(60_000)).containsExactly(1_440);
        Configuration c = new Configuration();
        c.set(JobOptions.WINDOW, Duration.ofMillis(10));
        KeyshiftConfig.validate(c);
        assertThat(KeyshiftConfig.forecastSettings(c, 128).models()).extracting(m -> m.season()).containsOnly(0);
    }

    @Test
    void aCalendarReachingBeyondTheBoundIsRefusedNamingReferenceDays(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("holidays.csv"), "date,label\n2014-07-04,Independence Day\n");
        Configuration c = new Configuration();
        c.set(ForecastOptions.CALENDAR, file.toString());
        c.set(JobOptions.WINDOW, Duration.ofMinutes(1));
        KeyshiftConfig.validate(c);
        c.set(ForecastOptions.CALENDAR_REFERENCE_DAYS, 100_000);
        assertThatThrownBy(() -> KeyshiftConfig.validate(c))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.forecast.calendar.reference-days 100000")
                .hasMessageContaining("fewer reference days or a longer window");
        // far larger: the reach in days overflowed an int and passed the bound (then an array of that many days)
        for (int days : new int[] {400_000_000, Integer.MAX_VALUE}) {
            c.set(ForecastOptions.CALENDAR_REFERENCE_DAYS, days);
            c.set(JobOptions.WINDOW, Duration.ofHours(1));
            assertThatThrownBy(() -> KeyshiftConfig.validate(c)).as("%s", days)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("keyshift.forecast.calendar.reference-days " + days)
                    .hasMessageContaining("fewer reference days or a longer window");
        }
    }

    @Test
    void aTopKTheSketchCannotDeliverIsRefusedNamingBothOptions() {
        Configuration c = new Configuration();
        c.set(ProfilerOptions.TOP_K, 769);
        assertThatThrownBy(() -> KeyshiftConfig.validate(c))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.profiler.top-k must be at most 0.75 x keyshift.profiler.sketch-size "
                        + "(768");
        c.set(ProfilerOptions.TOP_K, 768);
        KeyshiftConfig.validate(c);
        c.set(ProfilerOptions.TOP_K, 600_000_000);
        c.set(ProfilerOptions.SKETCH_SIZE, 1 << 30);
        assertThatThrownBy(() -> KeyshiftConfig.validate(c)).hasMessageContaining("keyshift.profiler.sketch-size");
        c.set(ProfilerOptions.SKETCH_SIZE, 1 << 26);
        assertThatThrownBy(() -> KeyshiftConfig.validate(c)).hasMessageContaining("keyshift.profiler.top-k");
    }
}
