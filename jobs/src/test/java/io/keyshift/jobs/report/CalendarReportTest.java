package io.keyshift.jobs.report;

import io.keyshift.forecast.ForecastCalendar;

import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** The calendar classes of the replay report's windows (marked, in the day after a marked one, other). */
class CalendarReportTest {
    private static final long H = 3_600_000L;

    /** A calendar that marks 2024-03-18 (UTC) a holiday. */
    private static ForecastCalendar holiday() throws Exception {
        return ForecastCalendar.parse(new StringReader("2024-03-18,holiday\n"), "test.csv", ZoneOffset.UTC,
                List.of(DayOfWeek.SUNDAY), 4, false);
    }

    private static long at(String instant) {
        return Instant.parse(instant).toEpochMilli();
    }

    /**
     * A holiday whose last two hours had no records (no imbalance for them): its marked windows still end at midnight,
     * so the windows of the next day up to 23:00 are "after" (they were "other" from 22:00 on, counted from the last
     * window that had records), and a forecast scored on an empty marked hour still counts as marked.
     */
    @Test
    void emptyWindowsHaveTheirClassesToo() throws Exception {
        ForecastCalendar holiday = holiday();
        TreeMap<Long, Double> imbalances = new TreeMap<>();
        for (long t = at("2024-03-17T00:00:00Z"); t < at("2024-03-21T00:00:00Z"); t += H) {
            if (t < at("2024-03-18T22:00:00Z") || t >= at("2024-03-19T00:00:00Z")) {
                imbalances.put(t, 1.2);
            }
        }
        // the forecasts' running error sums by window end: one for the empty 23:00 hour of the holiday
        TreeMap<Long, Double> running = new TreeMap<>(Map.of(at("2024-03-18T23:00:00Z"), 10.0,
                at("2024-03-19T00:00:00Z"), 50.0));
        int[] windows = new int[3];
        Map<Long, Integer> classOf = CalendarReport.classes(holiday, H, imbalances, running, windows);
        assertThat(windows).containsExactly(24, 24, 48);
        assertThat(classOf.get(at("2024-03-18T23:00:00Z"))).isZero();
        assertThat(classOf.get(at("2024-03-19T22:00:00Z"))).as("22:00 the day after").isEqualTo(1);
        assertThat(classOf.get(at("2024-03-19T23:00:00Z"))).isEqualTo(1);
        assertThat(classOf.get(at("2024-03-20T00:00:00Z"))).isEqualTo(2);
        assertThat(classOf.get(at("2024-03-17T23:00:00Z"))).as("before the holiday").isEqualTo(2);
    }

    /**
     * An input that starts right after a holiday: its first day is the day after a marked one (the calendar marks the
     * holiday, though the input does not hold it), not "other".
     */
    @Test
    void theDayAfterAHolidayBeforeTheInputIsAfter() throws Exception {
        ForecastCalendar holiday = holiday();
        TreeMap<Long, Double> imbalances = new TreeMap<>();
        for (long t = at("2024-03-19T00:00:00Z"); t < at("2024-03-21T00:00:00Z"); t += H) {
            imbalances.put(t, 1.2);
        }
        int[] windows = new int[3];
        Map<Long, Integer> classOf = CalendarReport.classes(holiday, H, imbalances, new TreeMap<>(), windows);
        assertThat(windows).containsExactly(0, 24, 24);
        assertThat(classOf.get(at("2024-03-19T00:00:00Z"))).isEqualTo(1);
        assertThat(classOf.get(at("2024-03-20T00:00:00Z"))).isEqualTo(2);
        assertThat(classOf).doesNotContainKey(at("2024-03-18T23:00:00Z"));
    }
}
