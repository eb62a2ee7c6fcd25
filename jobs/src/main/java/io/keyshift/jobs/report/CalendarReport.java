package io.keyshift.jobs.report;

import io.keyshift.forecast.ForecastCalendar;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The replay report's view of a forecast calendar ({@code keyshift.forecast.calendar}): per strategy, the imbalance
 * and the forecast error of the windows the calendar marks, of the windows in the day after them, and of all
 * others, so that a run with the calendar and one without it can be compared on the days that matter.
 *
 * <p>Classes of windows: <em>marked</em> ({@link ForecastCalendar#marks}); <em>after</em>: unmarked windows that
 * start within one day after the end of a marked one; <em>other</em>: the rest. Imbalance: the mean of the windows'
 * imbalance weighted by their input records (as {@code imbalance_mean}: the hash run's records, each counted once).
 * Forecast error: per window, the sum over every series (hot
 * keys and key groups) of |one-step forecast − actual| (the increments of the forecaster's running absolute error
 * sum, which for a marked window scores the calendar's forecast), averaged over the windows of the class; absent for
 * strategies without a forecaster.
 */
public final class CalendarReport {
    private CalendarReport() {}

    /** The window classes, in report order. */
    private static final String[] CLASSES = {"marked", "after", "other"};

    /** Adds {@code calendar} (to report.json and the summary) for the runs under {@code work}. */
    public static void add(ReplayReport report, Path work, ForecastCalendar calendar, long windowMillis)
            throws IOException {
        ReportCharts.Data charts = report.charts();
        ObjectNode root = report.json();
        ObjectNode cal = root.putObject("calendar");
        cal.put("entries", calendar.entries().size());
        cal.put("time_zone", calendar.zone().getId());
        cal.put("like_days", calendar.likeDays().toString());
        cal.put("reference_days", calendar.referenceDays());
        cal.put("observe", calendar.markedAsMissing() ? "missing" : "actual");
        List<String> lines = new ArrayList<>();
        boolean counted = false;
        // weights: the windows' input records, as imbalance_mean's (hash processes each record once); a keyshift
        // run's own loads count its shadow copies too
        SortedMap<Long, long[]> inputLoads = charts.loads().get("hash");
        // the strategies' runs (the imbalance chart also holds the references' series)
        for (Map.Entry<String, SortedMap<Long, long[]>> run : charts.loads().entrySet()) {
            String id = run.getKey();
            SortedMap<Long, long[]> loads = run.getValue();
            SortedMap<Long, Double> imbalances = charts.imbalance().get(id);
            TreeMap<Long, Double> running = runningErrors(work.resolve(id).resolve("forecasts"));
            double[] weighted = new double[3];
            double[] weights = new double[3];
            int[] windows = new int[3];
            // every window of the run's span, those without records too: an empty marked window (a holiday's quiet
            // night hours) still starts the day after it, and a forecast for an empty window still has an error
            Map<Long, Integer> classOf = classes(calendar, windowMillis, imbalances, running, windows);
            for (Map.Entry<Long, Double> w : imbalances.entrySet()) {
                long start = w.getKey();
                int c = classOf.get(start);
                long records = 0;
                for (long l : (inputLoads != null ? inputLoads : loads).getOrDefault(start, new long[0])) {
                    records += l;
                }
                weighted[c] += w.getValue() * records;
                weights[c] += records;
            }
            if (!counted) {
                cal.put("marked_windows", windows[0]);
                cal.put("after_windows", windows[1]);
                counted = true;
            }
            double[] errors = new double[3];
            int[] errorWindows = new int[3];
            boolean hasForecasts = forecastErrors(running, windowMillis, classOf, errors, errorWindows);
            ObjectNode n = ((ObjectNode) root.path("strategies").path(id)).putObject("calendar");
            StringBuilder line = new StringBuilder(String.format("calendar, %-10s imbalance", id));
            for (int c = 0; c < 3; c++) {
                double imbalance = weights[c] > 0 ? weighted[c] / weights[c] : Double.NaN;
                n.put("imbalance_" + CLASSES[c], imbalance);
                line.append(" " + CLASSES[c] + " " + (Double.isNaN(imbalance) ? "-" : String.format("%.3f", imbalance)));
            }
            if (hasForecasts) {
                line.append("; forecast error per window");
                for (int c = 0; c < 3; c++) {
                    double err = errorWindows[c] > 0 ? errors[c] / errorWindows[c] : Double.NaN;
                    n.put("forecast_error_" + CLASSES[c], err);
                    line.append(" " + CLASSES[c] + " " + (Double.isNaN(err) ? "-" : String.format("%.1f", err)));
                }
            }
            lines.add(line.toString());
        }
        lines.add(0, String.format("calendar: %d entries, %d marked windows, %d in the day after them",
                calendar.entries().size(), cal.path("marked_windows").asInt(), cal.path("after_windows").asInt()));
        report.addSummary(lines);
    }

    /**
     * The class (index into {@link #CLASSES}) of every window from the first to the last of {@code imbalances} and of
     * the windows the forecasts {@code running} score (by their ends), records or not; counts them in
     * {@code windows}.
     */
    static Map<Long, Integer> classes(ForecastCalendar calendar, long windowMillis, SortedMap<Long, Double> imbalances,
                                      SortedMap<Long, Double> running, int[] windows) {
        Map<Long, Integer> classOf = new java.util.HashMap<>();
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        if (!imbalances.isEmpty()) {
            first = imbalances.firstKey();
            last = imbalances.lastKey();
        }
        if (!running.isEmpty()) {
            first = Math.min(first, running.firstKey() - windowMillis);
            last = Math.max(last, running.lastKey() - windowMillis);
        }
        long day = 86_400_000L;
        long lastMarkedEnd = Long.MIN_VALUE;
        if (first != Long.MAX_VALUE) {
            // a marked window in the day before the first: the first windows are the days after it (the calendar
            // marks it, whether the input holds it or not); those windows are neither classed nor counted
            long back = (day + windowMillis - 1) / windowMillis;
            for (long start = first - back * windowMillis; start < first; start += windowMillis) {
                if (calendar.marks(start, windowMillis)) {
                    lastMarkedEnd = start + windowMillis;
                }
            }
        }
        for (long start = first; start <= last && first != Long.MAX_VALUE; start += windowMillis) {
            int c;
            if (calendar.marks(start, windowMillis)) {
                c = 0;
                lastMarkedEnd = start + windowMillis;
            } else {
                c = lastMarkedEnd != Long.MIN_VALUE && start < lastMarkedEnd + day ? 1 : 2;
            }
            classOf.put(start, c);
            windows[c]++;
        }
        return classOf;
    }

    /** The forecaster's running absolute error sums by window end ({@code window_end,absolute_error_sum,...}). */
    private static TreeMap<Long, Double> runningErrors(Path dir) throws IOException {
        TreeMap<Long, Double> running = new TreeMap<>();
        for (String line : ReplayReport.lines(dir)) {
            String[] f = line.split(",", 3);
            running.put(Long.parseLong(f[0]), Double.parseDouble(f[1]));
        }
        return running;
    }

    /**
     * Sums, per window class, the one-step absolute forecast error of each window (the increment of the running
     * sum); false if there are none.
     */
    private static boolean forecastErrors(TreeMap<Long, Double> running, long windowMillis, Map<Long, Integer> classOf,
                                          double[] errors, int[] windows) {
        if (running.isEmpty()) {
            return false;
        }
        Double previous = null;
        for (Map.Entry<Long, Double> e : running.entrySet()) {
            if (previous != null) {
                Integer c = classOf.get(e.getKey() - windowMillis);
                if (c != null) {
                    errors[c] += e.getValue() - previous;
                    windows[c]++;
                }
            }
            previous = e.getValue();
        }
        return true;
    }
}
