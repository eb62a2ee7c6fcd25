package io.keyshift.jobs.report;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders a local HTML page in headless Chromium (Debian's {@code chromium}, which {@code .ci/run} installs): the DOM
 * after load, and a screenshot as PNG. Fails, never skips, when Chromium is missing.
 */
public final class HeadlessChromium {
    private HeadlessChromium() {}

    static Path executable() {
        for (String c : List.of(System.getenv().getOrDefault("CHROMIUM", ""), "/usr/bin/chromium",
                "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
            if (!c.isEmpty() && Files.isExecutable(Path.of(c))) {
                return Path.of(c);
            }
        }
        throw new IllegalStateException("headless Chromium not found: install it (apt-get install chromium; "
                + ".ci/run does) or set CHROMIUM");
    }

    private static List<String> base(Path profile) {
        List<String> cmd = new ArrayList<>(List.of(executable().toString(), "--headless", "--no-sandbox",
                "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--force-device-scale-factor=1",
                "--hide-scrollbars", "--virtual-time-budget=10000", "--user-data-dir=" + profile));
        return cmd;
    }

    private static String run(List<String> cmd, Path log) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("chromium did not finish within 120 s: " + cmd);
        }
        if (p.exitValue() != 0) {
            throw new IOException("chromium exited " + p.exitValue() + ": " + Files.readString(log));
        }
        return out;
    }

    /** The serialized DOM after the page's load event. */
    public static String dumpDom(Path page, Path work) throws IOException, InterruptedException {
        List<String> cmd = base(work.resolve("profile-dom"));
        cmd.add("--dump-dom");
        cmd.add(page.toUri().toString());
        return run(cmd, work.resolve("chromium-dom.log"));
    }

    /** Renders {@code page} at {@code width x height} CSS pixels into {@code png}. */
    public static void screenshot(Path page, Path png, int width, int height, Path work)
            throws IOException, InterruptedException {
        List<String> cmd = base(work.resolve("profile-shot"));
        cmd.add("--window-size=" + width + "," + height);
        cmd.add("--screenshot=" + png.toAbsolutePath());
        cmd.add(page.toUri().toString());
        run(cmd, work.resolve("chromium-shot.log"));
    }

    /** Chart boxes the report's load script recorded: id -> {x, y, width, height} in CSS pixels. */
    public static Map<String, int[]> chartBoxes(String dom) {
        Matcher m = Pattern.compile("data-chart-boxes=\"([^\"]*)\"").matcher(dom);
        Map<String, int[]> out = new LinkedHashMap<>();
        if (m.find()) {
            for (String box : m.group(1).split(";")) {
                String[] idAndBox = box.split(":");
                String[] v = idAndBox[1].split(",");
                out.put(idAndBox[0], new int[] {Integer.parseInt(v[0]), Integer.parseInt(v[1]), Integer.parseInt(v[2]),
                    Integer.parseInt(v[3])});
            }
        }
        return out;
    }

    /** Distinct colours inside a box of the image (a drawn chart has axes, lines, labels: many colours). */
    public static int distinctColours(BufferedImage img, int[] box) {
        Set<Integer> colours = new HashSet<>();
        for (int y = box[1]; y < Math.min(img.getHeight(), box[1] + box[3]); y += 2) {
            for (int x = box[0]; x < Math.min(img.getWidth(), box[0] + box[2]); x += 2) {
                colours.add(img.getRGB(x, y));
            }
        }
        return colours.size();
    }
}
