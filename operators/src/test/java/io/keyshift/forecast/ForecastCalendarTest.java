package io.keyshift.forecast;

import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.UnitForecast;
import io.keyshift.config.ForecastOptions;
import io.keyshift.config.JobOptions;
import io.keyshift.config.KeyshiftConfig;
import io.keyshift.profiler.WindowProfile;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The forecast calendar: its file format, which windows it marks, their reference days, and what the forecaster does. */
class ForecastCalendarTest {
    private static final ZoneId LA = ZoneId.of("America/Los_Angeles");
    private static final long DAY = Duration.ofDays(1).toMillis();
    private static final long HOUR = Duration.ofHours(1).toMillis();

    private static ForecastCalendar parse(String text, ZoneId zone, List<DayOfWeek> like, int days) throws Exception {
        return ForecastCalendar.parse(new StringReader(text), "test.csv", zone, like, days, false);
    }

    private static long utcDay(String date) {
        return LocalDate.parse(date).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
    }

    @Test
    void readsDaysRangesOfDaysAndDateTimeRangesInTheCalendarsZone() throws Exception {
        ForecastCalendar c = parse("""
                # comment
                date,label
                2014-07-04,Independence Day
                2014-12-24, 2014-12-26 , winter break
                2014-11-03T18:00,2014-11-03T21:00,"concert, downtown"
                """, LA, List.of(DayOfWeek.SUNDAY), 2);
        assertThat(c.entries()).hasSize(3);
        // midnight to midnight in Los Angeles: 07:00Z to 07:00Z in summer
        assertThat(c.labelAt(Instant.parse("2014-07-04T07:00:00Z").toEpochMilli())).isEqualTo("Independence Day");
        assertThat(c.labelAt(Instant.parse("2014-07-04T06:59:59Z").toEpochMilli())).isNull();
        assertThat(c.labelAt(Instant.parse("2014-12-27T07:59:59Z").toEpochMilli())).isEqualTo("winter break");
        assertThat(c.labelAt(Instant.parse("2014-12-27T08:00:00Z").toEpochMilli())).isNull();
        assertThat(c.labelAt(Instant.parse("2014-11-04T04:59:00Z").toEpochMilli())).isEqualTo("concert, downtown");
        // a UTC day window is marked by the local day that holds its midpoint (12:00Z = 05:00 in Los Angeles)
        assertThat(c.marks(utcDay("2014-07-04"), DAY)).isTrue();
        assertThat(c.marks(utcDay("2014-07-05"), DAY)).isFalse();
        // an hourly window inside the concert, one after it
        assertThat(c.marks(Instant.parse("2014-11-04T03:00:00Z").toEpochMilli(), HOUR)).isTrue();
        assertThat(c.marks(Instant.parse("2014-11-04T05:00:00Z").toEpochMilli(), HOUR)).isFalse();
    }

    @Test
    void aBadLineFailsWithTheFileAndLineAndAnEmptyCalendarFails() {
        assertThatThrownBy(() -> parse("2014-07-04,holiday\n2014-13-01,bad\n", LA, List.of(DayOfWeek.SUNDAY), 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("test.csv line 2");
        assertThatThrownBy(() -> parse("2014-07-04\n", LA, List.of(DayOfWeek.SUNDAY), 1))
                .hasMessageContaining("line 1").hasMessageContaining("1 fields");
        // a range without its label marked its first day alone, labelled with the last
        assertThatThrownBy(() -> parse("2014-12-24,2014-12-26\n", LA, List.of(DayOfWeek.SUNDAY), 1))
                .hasMessageContaining("line 1").hasMessageContaining("is a date, not a label");
        assertThatThrownBy(() -> parse("2014-07-05,2014-07-04,backwards\n", LA, List.of(DayOfWeek.SUNDAY), 1))
                .hasMessageContaining("before first day");
        assertThatThrownBy(() -> parse("# nothing\n", LA, List.of(DayOfWeek.SUNDAY), 1))
                .hasMessageContaining("no entries");
        // years past epoch milliseconds or LocalDate: the file and line (it was "long overflow", exit 1)
        for (String far : List.of("+300000000-01-01,far\n", "+999999999-12-31,last\n",
                "+300000000-01-01T00:00,+300000000-01-02T00:00,far\n")) {
            assertThatThrownBy(() -> parse(far, LA, List.of(DayOfWeek.SUNDAY), 1)).as(far)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("test.csv line 1");
        }
    }

    @Test
    void aLastLineWithoutALineBreakIsNamedByItsOwnNumber() {
        assertThatThrownBy(() -> parse("date,label\n2014-07-04,x\nbad", LA, List.of(DayOfWeek.SUNDAY), 1))
                .hasMessageContaining("test.csv line 3");
    }

    @Test
    void aByteOrderMarkAndAFirstLastLabelHeaderAreRead() throws Exception {
        ForecastCalendar bom = parse("\uFEFFdate,label\n2014-07-04,holiday", LA, List.of(DayOfWeek.SUNDAY), 1);
        assertThat(bom.marks(utcDay("2014-07-04"), DAY)).isTrue();
        ForecastCalendar range = parse("first,last,label\n2014-12-24,2014-12-26,xmas\n", LA,
                List.of(DayOfWeek.SUNDAY), 1);
        assertThat(range.marks(utcDay("2014-12-25"), DAY)).isTrue();
        assertThat(range.marks(utcDay("2014-12-27"), DAY)).isFalse();
    }

    @Test
    void aMarkedWindowIsForecastLikeTheLastUnmarkedLikeDaysAtTheSameLocalTime() throws Exception {
        ForecastCalendar c = parse("2014-07-04,Independence Day\n2014-06-29,parade\n", LA,
                List.of(DayOfWeek.SUNDAY), 2);
        // Friday July 4 (UTC day window): Sunday June 29 is marked itself, so June 22 and June 15
        assertThat(c.referenceStarts(utcDay("2014-07-04"), DAY))
                .containsExactly(utcDay("2014-06-22"), utcDay("2014-06-15"));
        // hourly, across the change to daylight time on Sunday March 9: Monday March 10, 09:00 PDT (16:00Z) is
        // forecast like Sunday March 9, 09:00 PDT (16:00Z) and Sunday March 2, 09:00 PST (17:00Z)
        ForecastCalendar h = parse("2014-03-10,closure\n", LA, List.of(DayOfWeek.SUNDAY), 2);
        assertThat(h.referenceStarts(Instant.parse("2014-03-10T16:00:00Z").toEpochMilli(), HOUR)).containsExactly(
                Instant.parse("2014-03-09T16:00:00Z").toEpochMilli(),
                Instant.parse("2014-03-02T17:00:00Z").toEpochMilli());
        // several like-days: the most recent first
        ForecastCalendar w = parse("2014-07-04,Independence Day\n", ZoneOffset.UTC,
                List.of(DayOfWeek.SATURDAY, DayOfWeek.SUNDAY), 3);
        assertThat(w.referenceStarts(utcDay("2014-07-04"), DAY))
                .containsExactly(utcDay("2014-06-29"), utcDay("2014-06-28"), utcDay("2014-06-22"));
    }

    /** Daily profiles of one key group: 100 records on weekdays, 10 on Sundays, 40 on Saturdays; 0 on 2014-07-04. */
    private static WindowProfile day(LocalDate d) {
        long start = d.atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
        WindowProfile p = WindowProfile.empty(start, start + DAY, 8, 1.0);
        long load = d.equals(LocalDate.of(2014, 7, 4)) ? 0
                : d.getDayOfWeek() == DayOfWeek.SUNDAY ? 10 : d.getDayOfWeek() == DayOfWeek.SATURDAY ? 40 : 100;
        p.keyGroupCounts[3] = load;
        p.records = load;
        return p;
    }

    private static LoadForecastEngine engine(ForecastCalendar calendar) {
        return new LoadForecastEngine(new LoadForecastEngine.Settings(8, 4, 48, ModelSpec.candidates(List.of(7)), 7, 2,
                0.99, 1.96, 4.0, calendar, calendar == null ? 0 : calendar.reachDays() + 1));
    }

    private static double forecast(LoadForecast f, int step) {
        UnitForecast u = f.getUnits().get(0);
        return u.getForecast().get(step - 1);
    }

    @Test
    void theForecasterForecastsAHolidayLikeItsReferenceDaysAndLearnsFromItAsConfigured() throws Exception {
        String text = "2014-07-04,Independence Day\n";
        ForecastCalendar actual = parse(text, ZoneOffset.UTC, List.of(DayOfWeek.SUNDAY), 2);
        ForecastCalendar missing = ForecastCalendar.parse(new StringReader(text), "test.csv", ZoneOffset.UTC,
                List.of(DayOfWeek.SUNDAY), 2, true);
        LoadForecastEngine none = engine(null);
        LoadForecastEngine withActual = engine(actual);
        LoadForecastEngine withMissing = engine(missing);
        LoadForecast[] atHoliday = new LoadForecast[3];
        LoadForecastEngine[] engines = {none, withActual, withMissing};
        for (LocalDate d = LocalDate.of(2014, 6, 2); !d.isAfter(LocalDate.of(2014, 7, 4)); d = d.plusDays(1)) {
            for (int i = 0; i < 3; i++) {
                LoadForecast f = engines[i].observe(day(d));
                if (d.equals(LocalDate.of(2014, 7, 2))) {
                    atHoliday[i] = f;
                }
            }
        }
        // after Wednesday July 2, step 2 is Friday July 4: like the mean of Sundays June 29 and June 22 (10 records)
        assertThat(forecast(atHoliday[1], 2)).isEqualTo(10.0);
        assertThat(forecast(atHoliday[2], 2)).isEqualTo(10.0);
        assertThat(forecast(atHoliday[0], 2)).isGreaterThan(50.0);
        // the window before it is an ordinary Thursday for everyone
        assertThat(forecast(atHoliday[1], 1)).isEqualTo(forecast(atHoliday[0], 1));
        // the holiday's error is scored against the calendar's forecast: |10 - 0| in the absolute error sum, where
        // the run without a calendar was out by its Thursday-like forecast
        double errorNone = none.errorSums()[0];
        double errorActual = withActual.errorSums()[0];
        double errorMissing = withMissing.errorSums()[0];
        assertThat(errorNone - errorActual).isGreaterThan(40.0);
        assertThat(errorMissing).isEqualTo(errorActual);
        // 'actual': the series learnt the holiday's 0; 'missing': its own ordinary-Friday forecast instead
        assertThat(withActual.series().get(0).lastObserved()).isEqualTo(0.0);
        assertThat(withMissing.series().get(0).lastObserved()).isGreaterThan(50.0);
    }

    /**
     * After a gap the profiler skipped (by whole seasonal periods, which need not be weeks), reference days before it
     * are no fixed number of windows back in the history: out of reach, so the holiday is forecast by the models, as
     * without the calendar (positions counted across the gap read other days: here June 19 and 12, a 155 mean).
     * Kept across a checkpoint.
     */
    @Test
    void referenceDaysBeforeASkippedGapAreOutOfReach() throws Exception {
        ForecastCalendar calendar = parse("2014-07-04,Independence Day\n", ZoneOffset.UTC, List.of(DayOfWeek.SUNDAY), 2);
        LoadForecastEngine none = engine(null);
        LoadForecastEngine withCalendar = engine(calendar);
        List<LocalDate> days = new java.util.ArrayList<>();
        for (LocalDate d = LocalDate.of(2014, 6, 2); !d.isAfter(LocalDate.of(2014, 6, 20)); d = d.plusDays(1)) {
            days.add(d);
        }
        // ten days without records, skipped
        days.add(LocalDate.of(2014, 7, 1));
        for (LocalDate d : days) {
            none.observe(trend(d));
            withCalendar.observe(trend(d));
        }
        LoadForecastEngine restored = engine(calendar);
        restored.restore(withCalendar.toBytes());
        LoadForecast expected = none.observe(trend(LocalDate.of(2014, 7, 2)));
        // step 2 is Friday July 4; its Sundays June 29 and 22 lie in the gap
        assertThat(forecast(withCalendar.observe(trend(LocalDate.of(2014, 7, 2))), 2)).isEqualTo(forecast(expected, 2))
                .isNotEqualTo(155.0);
        assertThat(forecast(restored.observe(trend(LocalDate.of(2014, 7, 2))), 2)).isEqualTo(forecast(expected, 2));
    }

    /** A daily profile of one key group with 10 records per day of the month. */
    private static WindowProfile trend(LocalDate d) {
        long start = d.atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
        WindowProfile p = WindowProfile.empty(start, start + DAY, 8, 1.0);
        p.keyGroupCounts[3] = 10L * d.getDayOfMonth();
        p.records = p.keyGroupCounts[3];
        return p;
    }

    /**
     * A bootstrap's state (the engine's bytes) of another window, whose models are the same (explicit seasons) but
     * whose history per series is not (a calendar's reach in windows), is refused naming the window it was made from,
     * as the keyed form's refusal does: it named only the observations per series, and inspect-savepoint without
     * --window could not read the state again with its own window.
     */
    @Test
    void aBootstrapStateOfAnotherWindowIsRefusedNamingItsWindow(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("holidays.csv");
        Files.writeString(file, "2014-07-04,Independence Day\n");
        Configuration halfHourly = new Configuration();
        halfHourly.set(JobOptions.WINDOW, Duration.ofMinutes(30));
        halfHourly.set(ForecastOptions.CALENDAR, file.toString());
        halfHourly.setString(ForecastOptions.SEASONS.key(), "24");
        Configuration hourly = halfHourly.clone();
        hourly.set(JobOptions.WINDOW, Duration.ofHours(1));
        LoadForecastEngine made = new LoadForecastEngine(KeyshiftConfig.forecastSettings(halfHourly, 8));
        long start = java.time.Instant.parse("2014-06-01T00:00:00Z").toEpochMilli();
        for (int i = 0; i < 5; i++) {
            WindowProfile p = WindowProfile.empty(start + i * 1_800_000L, start + (i + 1) * 1_800_000L, 8, 1.0);
            p.keyGroupCounts[3] = 10;
            p.records = 10;
            made.observe(p);
        }
        byte[] state = made.toBytes();
        LoadForecastEngine job = new LoadForecastEngine(KeyshiftConfig.forecastSettings(hourly, 8));
        assertThatThrownBy(() -> job.restore(state))
                .satisfies(e -> assertThat(e.getCause()).hasMessageContaining(LoadForecastEngine.STATE_WINDOW_WORDS
                        + "PT30M").hasMessageContaining("observations per series"));
        new LoadForecastEngine(KeyshiftConfig.forecastSettings(halfHourly, 8)).restore(state);
    }

    @Test
    void badCalendarOptionsFailFastNamingTheOption(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("holidays.csv");
        Files.writeString(file, "2014-07-04,Independence Day\n");
        Configuration c = new Configuration();
        c.set(JobOptions.WINDOW, Duration.ofDays(1));
        c.set(ForecastOptions.CALENDAR, file.toString());
        KeyshiftConfig.validate(c);
        ForecastCalendar read = KeyshiftConfig.forecastSettings(c, 128).calendar();
        assertThat(read.likeDays()).containsExactly(DayOfWeek.SUNDAY);
        assertThat(read.referenceDays()).isEqualTo(2);
        assertThat(KeyshiftConfig.forecastSettings(c, 128).calendarHistory()).isEqualTo(read.reachDays() + 1);

        Configuration missing = c.clone();
        missing.set(ForecastOptions.CALENDAR, dir.resolve("nope.csv").toString());
        assertThatThrownBy(() -> KeyshiftConfig.validate(missing)).hasMessageContaining("keyshift.forecast.calendar")
                .hasMessageContaining("does not exist");
        Configuration day = c.clone();
        day.set(ForecastOptions.CALENDAR_LIKE_DAYS, List.of("SUNDAYS"));
        assertThatThrownBy(() -> KeyshiftConfig.validate(day))
                .hasMessageContaining("keyshift.forecast.calendar.like-days");
        Configuration zone = c.clone();
        zone.set(ForecastOptions.CALENDAR_TIME_ZONE, "Mars/Olympus");
        assertThatThrownBy(() -> KeyshiftConfig.validate(zone))
                .hasMessageContaining("keyshift.forecast.calendar.time-zone");
        Configuration observe = c.clone();
        observe.set(ForecastOptions.CALENDAR_OBSERVE, "ignore");
        assertThatThrownBy(() -> KeyshiftConfig.validate(observe))
                .hasMessageContaining("keyshift.forecast.calendar.observe");
        Configuration week = c.clone();
        week.set(JobOptions.WINDOW, Duration.ofDays(7));
        assertThatThrownBy(() -> KeyshiftConfig.validate(week)).hasMessageContaining("at most a day");
    }

    @Test
    void aCalendarSubOptionWithoutTheCalendarFailsFastNamingBoth() {
        Configuration none = new Configuration();
        none.set(JobOptions.WINDOW, Duration.ofHours(1));
        KeyshiftConfig.validate(none);
        assertThat(KeyshiftConfig.forecastSettings(none, 128).calendar()).isNull();
        for (String[] sub : new String[][] {{"keyshift.forecast.calendar.time-zone", "America/Los_Angeles"},
                {"keyshift.forecast.calendar.like-days", "SATURDAY;SUNDAY"},
                {"keyshift.forecast.calendar.reference-days", "3"},
                {"keyshift.forecast.calendar.observe", "missing"}}) {
            Configuration c = none.clone();
            c.setString(sub[0], sub[1]);
            assertThatThrownBy(() -> KeyshiftConfig.validate(c)).as(sub[0])
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(sub[0] + " is set but keyshift.forecast.calendar is not");
        }
    }
}
