package io.keyshift.jobs.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * The replay report's pictures, drawn with XChart: per-subtask load over time for each strategy (one scale),
 * imbalance over time with the lower bound and the all-knowing greedy, forecast against observed for the top keys with
 * prediction intervals, and the migration timeline. Writes {@code charts/*.png} and one self-contained
 * {@code report.html} (images embedded as data URIs, no network).
 */
public final class ReportCharts {
    private static final int WIDTH = 1000;
    private static final int HEIGHT = 340;

    private ReportCharts() {}

    /**
     * One point of a key's forecast series: window start (ms, where the other charts put a window), observed (estimated), and the +1
     * forecast made one window before.
     */
    public record ForecastPoint(long windowStart, double actual, double forecast, double lower, double upper) {}

    /** One migration: key, start of its shadow phase, switch-over (ms). */
    public record MigrationSpan(String key, long shadowFrom, long switchAt) {}

    /** Everything the charts show. */
    public record Data(String title, List<String> summary,
                       Map<String, SortedMap<Long, long[]>> loads,
                       Map<String, SortedMap<Long, Double>> imbalance,
                       Map<String, List<ForecastPoint>> forecasts,
                       Map<String, List<MigrationSpan>> migrations,
                       Map<String, SortedMap<Long, Double>> parallelism, long windowMillis) {
        /** Without the window's length: guessed from the loads' window starts. */
        public Data(String title, List<String> summary, Map<String, SortedMap<Long, long[]>> loads,
                    Map<String, SortedMap<Long, Double>> imbalance, Map<String, List<ForecastPoint>> forecasts,
                    Map<String, List<MigrationSpan>> migrations, Map<String, SortedMap<Long, Double>> parallelism) {
            this(title, summary, loads, imbalance, forecasts, migrations, parallelism, 0);
        }
    }

    /** Draws the charts into {@code out/charts} and writes {@code out/report.html}. */
    public static void write(Path out, Data d) throws IOException {
        Path dir = out.resolve("charts");
        Files.createDirectories(dir);
        Map<String, XYChart> charts = new LinkedHashMap<>();
        if (d.loads().values().stream().allMatch(Map::isEmpty)) {
            // no record in any window (an empty input): the report has its summary and no charts
            d = new Data(d.title(), d.summary(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), d.windowMillis());
        }
        double maxLoad = 1;
        for (SortedMap<Long, long[]> m : d.loads().values()) {
            for (long[] a : m.values()) {
                for (long v : a) {
                    maxLoad = Math.max(maxLoad, v);
                }
            }
        }
        // windows without records are missing from the data: drawn as such (0 records, no imbalance, no forecast),
        // not bridged by a line as if they had the load of their neighbours (the flights' night hours)
        long window = windowOf(d);
        for (Map.Entry<String, SortedMap<Long, long[]>> e : d.loads().entrySet()) {
            XYChart c = chart("Records processed per subtask and window: " + e.getKey(), "records");
            c.getStyler().setYAxisMax(maxLoad * 1.05);
            c.getStyler().setYAxisMin(0.0);
            c.getStyler().setLegendVisible(false);
            int p = e.getValue().isEmpty() ? 0 : e.getValue().values().iterator().next().length;
            for (int s = 0; s < p; s++) {
                SortedMap<Long, Double> values = new java.util.TreeMap<>();
                for (Map.Entry<Long, long[]> w : e.getValue().entrySet()) {
                    values.put(w.getKey(), (double) w.getValue()[s]);
                }
                List<Date> x = new ArrayList<>();
                List<Double> y = new ArrayList<>();
                series(values, window, 0.0, x, y);
                line(c, "subtask " + s, x, y);
            }
            charts.put("load-" + e.getKey(), c);
        }
        XYChart imb = chart("Imbalance per window (max / mean subtask load)", "imbalance");
        for (Map.Entry<String, SortedMap<Long, Double>> e : d.imbalance().entrySet()) {
            List<Date> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            series(e.getValue(), window, null, x, y);
            line(imb, e.getKey(), x, y);
        }
        charts.put("imbalance", imb);
        for (Map.Entry<String, List<ForecastPoint>> e : d.forecasts().entrySet()) {
            XYChart c = chart("Forecast (+1 window) against observed: " + e.getKey(), "records per window");
            SortedMap<Long, Double> actualAt = new java.util.TreeMap<>();
            SortedMap<Long, Double> forecastAt = new java.util.TreeMap<>();
            SortedMap<Long, Double> lowerAt = new java.util.TreeMap<>();
            SortedMap<Long, Double> upperAt = new java.util.TreeMap<>();
            for (ForecastPoint pt : e.getValue()) {
                actualAt.put(pt.windowStart(), pt.actual());
                forecastAt.put(pt.windowStart(), pt.forecast());
                lowerAt.put(pt.windowStart(), pt.lower());
                upperAt.put(pt.windowStart(), pt.upper());
            }
            List<Date> x = new ArrayList<>();
            List<Double> actual = new ArrayList<>();
            series(actualAt, window, null, x, actual);
            List<Double> f = new ArrayList<>();
            series(forecastAt, window, null, new ArrayList<>(), f);
            List<Double> lo = new ArrayList<>();
            series(lowerAt, window, null, new ArrayList<>(), lo);
            List<Double> hi = new ArrayList<>();
            series(upperAt, window, null, new ArrayList<>(), hi);
            if (!x.isEmpty()) {
                // the profiler's estimate (sampled, a sketch's count), as the forecaster saw it: not an exact count
                line(c, "observed (profiler's estimate)", x, actual);
                line(c, "forecast", x, f);
                line(c, "interval low", x, lo).setLineStyle(SeriesLinesDashed.DASHED);
                line(c, "interval high", x, hi).setLineStyle(SeriesLinesDashed.DASHED);
                charts.put("forecast-" + e.getKey(), c);
            }
        }
        for (Map.Entry<String, List<MigrationSpan>> e : d.migrations().entrySet()) {
            XYChart c = chart("Migrations (" + e.getKey() + "): shadow phase start and switch-over per moved key", "key (by first move)");
            c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            c.getStyler().setMarkerSize(4);
            Map<String, Integer> index = new LinkedHashMap<>();
            List<Date> sx = new ArrayList<>();
            List<Double> sy = new ArrayList<>();
            List<Date> wx = new ArrayList<>();
            List<Double> wy = new ArrayList<>();
            for (MigrationSpan m : e.getValue()) {
                int k = index.computeIfAbsent(m.key(), x -> index.size());
                sx.add(new Date(m.shadowFrom()));
                sy.add((double) k);
                wx.add(new Date(m.switchAt()));
                wy.add((double) k);
            }
            if (!sx.isEmpty()) {
                c.addSeries("shadow phase starts", sx, sy).setMarker(SeriesMarkers.CIRCLE);
                c.addSeries("switch-over", wx, wy).setMarker(SeriesMarkers.DIAMOND);
                charts.put("migrations-" + e.getKey(), c);
            }
        }
        if (!d.parallelism().isEmpty()) {
            XYChart c = chart("Parallelism over time (scaling runs; the parallelism the load needed at the capacity)",
                    "subtasks");
            c.getStyler().setYAxisMin(0.0);
            for (Map.Entry<String, SortedMap<Long, Double>> e : d.parallelism().entrySet()) {
                List<Date> x = new ArrayList<>();
                List<Double> y = new ArrayList<>();
                for (Map.Entry<Long, Double> w : e.getValue().entrySet()) {
                    x.add(new Date(w.getKey()));
                    y.add(w.getValue());
                }
                if (!x.isEmpty()) {
                    XYSeries s = line(c, e.getKey(), x, y);
                    if (e.getKey().startsWith("needed")) {
                        s.setLineStyle(SeriesLinesDashed.DASHED);
                    }
                }
            }
            charts.put("parallelism", c);
        }
        StringBuilder html = new StringBuilder();
        html.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>").append(esc(d.title()))
                .append("</title><style>body{font-family:sans-serif;margin:24px;max-width:1060px}pre{background:#f4f4f4;"
                        + "padding:8px;overflow-x:auto}img{display:block;margin:12px 0;border:1px solid #ddd}</style>"
                        + "</head><body><h1>").append(esc(d.title())).append("</h1><pre>");
        for (String line : d.summary()) {
            html.append(esc(line)).append('\n');
        }
        html.append("</pre>");
        charts.values().removeIf(c -> c.getSeriesMap().isEmpty());
        // each chart drawn once, the charts in parallel (each on its own image); the same PNG goes to its file and
        // into the page
        List<Map.Entry<String, XYChart>> entries = new ArrayList<>(charts.entrySet());
        byte[][] pngs = new byte[entries.size()][];
        try {
            java.util.stream.IntStream.range(0, entries.size()).parallel().forEach(i -> {
                try {
                    pngs[i] = BitmapEncoder.getBitmapBytes(entries.get(i).getValue(), BitmapEncoder.BitmapFormat.PNG);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
        List<String> names = fileNames(entries.stream().map(Map.Entry::getKey).toList());
        for (int i = 0; i < entries.size(); i++) {
            Map.Entry<String, XYChart> e = entries.get(i);
            String name = names.get(i);
            byte[] png = pngs[i];
            Files.write(dir.resolve(name + ".png"), png);
            html.append("<img class=\"chart\" id=\"").append(name).append("\" alt=\"").append(esc(e.getValue().getTitle()))
                    .append("\" src=\"data:image/png;base64,").append(Base64.getEncoder().encodeToString(png))
                    .append("\">\n");
        }
        // After loading, the page records which charts decoded and where they sit (a headless browser test reads it).
        html.append("<script>window.addEventListener('load',function(){var imgs=document.querySelectorAll('img.chart');"
                + "var drawn=0,boxes=[];imgs.forEach(function(i){if(i.complete&&i.naturalWidth>0){drawn++;}"
                + "var r=i.getBoundingClientRect();boxes.push(i.id+':'+Math.round(r.left+scrollX)+','+Math.round(r.top+scrollY)"
                + "+','+Math.round(r.width)+','+Math.round(r.height));});"
                + "document.body.setAttribute('data-charts-drawn',drawn+'/'+imgs.length);"
                + "document.body.setAttribute('data-chart-boxes',boxes.join(';'));});</script>\n");
        html.append("</body></html>\n");
        Files.writeString(out.resolve("report.html"), html, StandardCharsets.UTF_8);
    }

    /**
     * Distinct file names for charts named {@code titles}, in order ({@link #fileName}): a title that differs from an
     * earlier one only in characters a file name cannot hold ("A/B St", "A B St") gets a hash of itself, so neither
     * file overwrites the other and the page's ids stay unique.
     */
    static List<String> fileNames(List<String> titles) {
        java.util.Set<String> used = new java.util.HashSet<>();
        List<String> names = new java.util.ArrayList<>(titles.size());
        for (String title : titles) {
            String name = fileName(title);
            for (int n = 0; !used.add(name); n++) {
                name = fileName(title) + "_" + Integer.toHexString(title.hashCode() + n);
            }
            names.add(name);
        }
        return names;
    }

    /**
     * A file name for a chart named {@code title} (which may hold a key of any length and characters): letters,
     * digits, '_' and '-' only, at most 80 characters (a longer one keeps its first 60 and a hash of the whole).
     */
    static String fileName(String title) {
        String name = title.replaceAll("[^A-Za-z0-9_-]", "_");
        if (name.length() <= 80) {
            return name;
        }
        return name.substring(0, 60) + "_" + Integer.toHexString(title.hashCode());
    }

    /** Dashed-line style for interval bounds. */
    private static final class SeriesLinesDashed {
        static final java.awt.BasicStroke DASHED = new java.awt.BasicStroke(1f, java.awt.BasicStroke.CAP_BUTT,
                java.awt.BasicStroke.JOIN_MITER, 10f, new float[] {4f, 4f}, 0f);
    }

    static XYChart chart(String title, String yTitle) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("event time (UTC)")
                .yAxisTitle(yTitle).build();
        c.getStyler().setDatePattern("yyyy-MM-dd HH:mm");
        // as every time of the report (XChart's default is the JVM's zone)
        c.getStyler().setTimezone(java.util.TimeZone.getTimeZone("UTC"));
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        c.getStyler().setMarkerSize(0);
        c.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        return c;
    }

    /**
     * A line; a series none of whose points has a neighbour to draw a line to (a run of one window) gets markers,
     * since XChart draws a line only between two points (the chart of a one-window run showed its axes and no data).
     */
    private static XYSeries line(XYChart c, String name, List<Date> x, List<Double> y) {
        XYSeries s = c.addSeries(name, x, y);
        if (onlyIsolatedPoints(y)) {
            s.setMarker(SeriesMarkers.CIRCLE);
            c.getStyler().setMarkerSize(6);
        } else {
            s.setMarker(SeriesMarkers.NONE);
        }
        return s;
    }

    /** Whether {@code y} has a value and none next to another (null: a gap): XChart would draw nothing of it. */
    static boolean onlyIsolatedPoints(List<Double> y) {
        boolean any = false;
        for (int i = 0; i < y.size(); i++) {
            if (y.get(i) != null) {
                any = true;
                if (i + 1 < y.size() && y.get(i + 1) != null) {
                    return false;
                }
            }
        }
        return any;
    }

    /**
     * The planning window's length in ms: the report's, else the shortest step between two windows with loads (a
     * guess: where records fall in every other window it is twice the window, and the charts bridged the empty ones).
     */
    static long windowOf(Data d) {
        if (d.windowMillis() > 0) {
            return d.windowMillis();
        }
        List<java.util.Collection<Long>> starts = new ArrayList<>();
        d.loads().values().forEach(m -> starts.add(m.keySet()));
        return windowLength(starts);
    }

    /**
     * The length of the windows: the smallest distance between two consecutive window starts of any of
     * {@code starts} (ms; 0 with no two).
     */
    static long windowLength(List<? extends java.util.Collection<Long>> starts) {
        long w = 0;
        for (java.util.Collection<Long> c : starts) {
            Long previous = null;
            for (long t : new java.util.TreeSet<>(c)) {
                if (previous != null && t > previous && (w == 0 || t - previous < w)) {
                    w = t - previous;
                }
                previous = t;
            }
        }
        return w;
    }

    /**
     * {@code values} by window start into {@code x} and {@code y}, the windows missing between two starts (more than
     * {@code window} ms apart) drawn: with {@code fill}, its value at the first and the last missing window (a flat
     * line there); with {@code fill} null, a break (XChart draws no line through a null).
     */
    static void series(SortedMap<Long, Double> values, long window, Double fill, List<Date> x, List<Double> y) {
        Long previous = null;
        for (Map.Entry<Long, Double> e : values.entrySet()) {
            long t = e.getKey();
            if (previous != null && window > 0 && t - previous > window) {
                x.add(new Date(previous + window));
                y.add(fill);
                if (fill != null && t - window > previous + window) {
                    x.add(new Date(t - window));
                    y.add(fill);
                }
            }
            x.add(new Date(t));
            y.add(e.getValue());
            previous = t;
        }
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
