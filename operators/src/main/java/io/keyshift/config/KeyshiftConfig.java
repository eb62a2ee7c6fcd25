package io.keyshift.config;

import io.keyshift.forecast.ForecastModelKind;
import io.keyshift.forecast.LoadForecastEngine;
import io.keyshift.forecast.ModelSpec;
import io.keyshift.plan.RepartitionPlanner;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Every {@code keyshift.*} option of the library, checked in one place, and the stage settings built from them.
 *
 * <p>{@link #validate(Configuration, Set)} fails fast, before a job is built, with an {@link IllegalArgumentException}
 * whose message names the option: an unknown {@code keyshift.*} key (with the closest known one), a value that does
 * not parse, or a value outside the option's documented range; {@link #validate(ReadableConfig)} checks the values
 * alone (a {@code ReadableConfig} cannot list its keys).
 */
public final class KeyshiftConfig {
    private KeyshiftConfig() {}

    private static final List<Class<?>> OPTION_CLASSES = List.of(JobOptions.class, ProfilerOptions.class,
            ForecastOptions.class, PlanOptions.class, RouteOptions.class, ScalingOptions.class, PrivacyOptions.class,
            RocksDbOptions.class);

    /** Every library option, by key. */
    public static Map<String, ConfigOption<?>> options() {
        Map<String, ConfigOption<?>> out = new TreeMap<>();
        for (Class<?> c : OPTION_CLASSES) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) && ConfigOption.class.isAssignableFrom(f.getType())) {
                    try {
                        ConfigOption<?> o = (ConfigOption<?>) f.get(null);
                        out.put(o.key(), o);
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }
        return out;
    }

    /**
     * Keys of the {@code keyshift} command line's own options (its input limits and lateness, the control file or
     * directory, the bench's and the fault injection's): a cluster's {@code config.yaml} may hold them for the command
     * line, so a stage configured from the environment's configuration takes them as known and ignores them. The
     * command line defines them ({@code Workload.toolOptions()}; a test there keeps both lists equal).
     */
    public static final Set<String> COMMAND_LINE_KEYS = Set.of("keyshift.allowed-lateness",
            "keyshift.bench.latency-id", "keyshift.bench.service-time", "keyshift.control.directory",
            "keyshift.control.directory-interval", "keyshift.control.file", "keyshift.fault.corrupt-shadow-key",
            "keyshift.fault.id", "keyshift.fault.window-failure-times", "keyshift.input.max-event-time-ahead",
            "keyshift.input.max-event-time-gap", "keyshift.scaling.internal.replay-gate");

    /**
     * Checks every {@code keyshift.*} key of {@code config} against the library's options (unknown keys fail; keys in
     * {@code alsoKnown} are allowed, e.g. a tool's own options) and every option's value against its range.
     */
    public static void validate(Configuration config, Set<String> alsoKnown) {
        checkKnown(config, alsoKnown);
        validate(config);
    }

    /**
     * Checks every {@code keyshift.*} key of {@code config} against the library's options (unknown keys fail; keys in
     * {@code alsoKnown} are allowed) and that every value parses, but not the ranges that depend on other options
     * (those hold for the options together: {@link #validate(ReadableConfig)} on the merged configuration).
     */
    public static void checkKnown(Configuration config, Set<String> alsoKnown) {
        Map<String, ConfigOption<?>> known = options();
        for (String key : config.keySet()) {
            if (key.startsWith("keyshift.") && !known.containsKey(key) && !alsoKnown.contains(key)) {
                // the caller's own keys too (the command line's keyshift.allowed-lateness, keyshift.input.*)
                Set<String> all = new java.util.TreeSet<>(known.keySet());
                all.addAll(alsoKnown);
                throw new IllegalArgumentException("unknown option '" + key + "'" + suggestion(key, all));
            }
            String meant = key.startsWith("keyshift.") ? null : misspelledPrefix(key, known.keySet(), alsoKnown);
            if (meant != null) {
                // Flink ignores a key it does not know: keyshfit.scaling.capacity ran the job without its scaling
                // stage, without a word
                throw new IllegalArgumentException("unknown option '" + key + "' (did you mean '" + meant + "'?)");
            }
        }
        for (ConfigOption<?> o : known.values()) {
            try {
                config.getOptional(o);
            } catch (IllegalArgumentException e) {
                throw unparsable(o, e);
            }
        }
    }

    /** A value of {@code o} that does not parse: the option, Flink's reason and, for a choice, the choices. */
    private static IllegalArgumentException unparsable(ConfigOption<?> o, IllegalArgumentException e) {
        String choices = "";
        if (o.hasDefaultValue() && o.defaultValue() instanceof Enum<?> d) {
            choices = " (one of " + java.util.Arrays.stream(d.getDeclaringClass().getEnumConstants())
                    .map(Object::toString).collect(java.util.stream.Collectors.joining(", ")) + ")";
        }
        return new IllegalArgumentException(o.key() + ": " + e.getMessage() + choices, e);
    }

    /** Checks the values of every library option in {@code config}. */
    public static void validate(ReadableConfig config) {
        for (ConfigOption<?> o : options().values()) {
            try {
                config.getOptional(o);
            } catch (IllegalArgumentException e) {
                throw unparsable(o, e);
            }
        }
        wholeMillis(config, JobOptions.WINDOW, 1);
        range(config, JobOptions.DEFAULT_MAX_PARALLELISM, 1, 32768);
        range(config, JobOptions.RESULTS_PATH_PARALLELISM, 0, 32768);
        int sketch = config.get(ProfilerOptions.SKETCH_SIZE);
        if (sketch < 8 || sketch > MAX_SKETCH_SIZE || Integer.bitCount(sketch) != 1) {
            throw bad(ProfilerOptions.SKETCH_SIZE, sketch, "a power of 2 in 8.." + MAX_SKETCH_SIZE);
        }
        double rate = config.get(ProfilerOptions.SAMPLING_RATE);
        if (!(rate > 0 && rate <= 1)) {
            throw bad(ProfilerOptions.SAMPLING_RATE, rate, "in (0, 1]");
        }
        range(config, ProfilerOptions.TOP_K, 1, 1_000_000);
        int topK = config.get(ProfilerOptions.TOP_K);
        if (topK > sketch / 4 * 3) {
            // the merged heavy-hitter sketch keeps at most 0.75 x its size keys: a larger top-k would be cut silently
            throw new IllegalArgumentException(ProfilerOptions.TOP_K.key() + " must be at most 0.75 x "
                    + ProfilerOptions.SKETCH_SIZE.key() + " (" + sketch / 4 * 3 + ", the most keys the heavy-hitter "
                    + "sketch keeps), was " + topK + ": raise " + ProfilerOptions.SKETCH_SIZE.key() + " too");
        }
        range(config, PlanOptions.ON_MISMATCH_LAG_WINDOWS, 1, 10_000);
        range(config, PlanOptions.CONTROL_ROLLBACK_VERSIONS, 1, Integer.MAX_VALUE);
        // whole milliseconds: 500us was taken as 0 where the stage was half built, in a message naming no option
        wholeMillis(config, PlanOptions.ON_MISMATCH_HOLD, 1);
        range(config, ProfilerOptions.AGE_OUT_WINDOWS, 1, Integer.MAX_VALUE);
        models(config.get(ForecastOptions.MODEL), seasons(config, config.get(JobOptions.WINDOW).toMillis()));
        for (int m : config.getOptional(ForecastOptions.SEASONS).orElse(List.of())) {
            if (m < 0 || m > MAX_SEASON_WINDOWS) {
                // every series keeps one value per window of its longest season (a day in milliseconds instead of
                // windows would take 86,400,000 floats per series, and run the task out of memory)
                throw bad(ForecastOptions.SEASONS, m, "0.." + MAX_SEASON_WINDOWS + " windows a season (each "
                        + "series keeps one value per window of the longest)");
            }
        }
        above(config, ForecastOptions.INTERVAL_Z, 0);
        above(config, ForecastOptions.ANOMALY_Z, 0);
        config.getOptional(ForecastOptions.SELECTION_DECAY).ifPresent(d -> {
            if (!(d > 0 && d <= 1)) {
                throw bad(ForecastOptions.SELECTION_DECAY, d, "in (0, 1]");
            }
        });
        calendar(config, config.get(JobOptions.WINDOW).toMillis());
        range(config, PlanOptions.LEASE_LEAD, 1, 1000);
        range(config, PlanOptions.HORIZON, 1, 1000);
        atLeast(config, PlanOptions.IMPROVEMENT_THRESHOLD, 0);
        atLeast(config, PlanOptions.SHRINKAGE, 0);
        range(config, PlanOptions.LONG_RUN_WINDOWS, 1, Integer.MAX_VALUE);
        atLeast(config, PlanOptions.ALPHA, 0);
        atLeast(config, PlanOptions.BETA, 0);
        range(config, PlanOptions.MAX_CONCURRENT_MIGRATIONS, 0, Integer.MAX_VALUE);
        range(config, PlanOptions.MAX_ROUTING_ENTRIES, 1, Integer.MAX_VALUE);
        range(config, PlanOptions.VALIDATION_SAMPLE_EVERY, 1, Integer.MAX_VALUE);
        atLeast(config, PlanOptions.SPLIT_THRESHOLD, 0);
        atLeast(config, PlanOptions.CAPACITY, 0);
        double in = config.get(PlanOptions.UTILIZATION_SCALE_IN);
        double high = config.get(PlanOptions.UTILIZATION_HIGH);
        double critical = config.get(PlanOptions.UTILIZATION_CRITICAL);
        if (!(0 < in && in <= high && high <= critical)) {
            throw new IllegalArgumentException(PlanOptions.UTILIZATION_SCALE_IN.key() + ", "
                    + PlanOptions.UTILIZATION_HIGH.key() + ", " + PlanOptions.UTILIZATION_CRITICAL.key()
                    + ": need 0 < scale-in <= high <= critical, were " + in + ", " + high + ", " + critical);
        }
        range(config, PlanOptions.MIN_WINDOWS_BETWEEN_MOVES, 0, Integer.MAX_VALUE);
        Duration budget = config.get(PlanOptions.TIME_BUDGET);
        if (budget.isNegative() || budget.compareTo(MAX_DURATION) > 0) {
            throw bad(PlanOptions.TIME_BUDGET, budget, ">= 0 and at most " + MAX_DURATION.toDays() + "d");
        }
        range(config, RouteOptions.MAX_WAITING_RECORDS, 1, Integer.MAX_VALUE);
        if (config.getOptional(RouteOptions.HASH_FORMAT).isPresent()) {
            range(config, RouteOptions.HASH_FORMAT, io.keyshift.route.KeyGroupHashTable.FORMAT_PREIMAGE_TABLE,
                    io.keyshift.route.KeyGroupHashTable.FORMAT_INVERTED_MURMUR);
        }
        // under 1 ms it would be 0, which means never
        wholeMillis(config, RouteOptions.NO_WATERMARK_TIMEOUT, 0);
        atLeast(config, ScalingOptions.CAPACITY, 0);
        range(config, ScalingOptions.MIN_PARALLELISM, 1, 32768);
        range(config, ScalingOptions.MAX_PARALLELISM, 0, 32768);
        range(config, ScalingOptions.HORIZON, 1, 1000);
        if (forecastHorizon(config) > MAX_FORECAST_STEPS) {
            // every series is forecast this many steps each window (a recursive model at O(steps^2)), and the scaling
            // operator holds and checkpoints the forecasts
            throw new IllegalArgumentException(PlanOptions.LEASE_LEAD.key() + " + max(" + PlanOptions.HORIZON.key()
                    + ", " + ScalingOptions.HORIZON.key() + ") must be at most " + MAX_FORECAST_STEPS
                    + " (the forecaster's steps each window), was " + forecastHorizon(config));
        }
        range(config, ScalingOptions.COOLDOWN_WINDOWS, 0, Integer.MAX_VALUE);
        range(config, ScalingOptions.SCALE_IN_WINDOWS, 1, Integer.MAX_VALUE);
        int minScale = config.get(ScalingOptions.MIN_PARALLELISM);
        int maxScale = config.get(ScalingOptions.MAX_PARALLELISM);
        if (maxScale > 0 && minScale > maxScale) {
            throw new IllegalArgumentException(ScalingOptions.MIN_PARALLELISM.key() + " must be <= "
                    + ScalingOptions.MAX_PARALLELISM.key() + ", were " + minScale + " and " + maxScale);
        }
        int resultsPath = config.get(JobOptions.RESULTS_PATH_PARALLELISM);
        if (config.get(ScalingOptions.CAPACITY) > 0 && resultsPath > Math.max(1, minScale)) {
            // scaled, the keyed stage may run below a fixed results path: the autoscaler, which tells the parallel
            // vertices by their largest parallelism, then rescaled the results path and never the stage, and a
            // scaled replay's local cluster (max-parallelism slots) could not run it at all
            throw new IllegalArgumentException(JobOptions.RESULTS_PATH_PARALLELISM.key() + " (" + resultsPath
                    + ") must be at most " + ScalingOptions.MIN_PARALLELISM.key() + " (" + minScale + ") when "
                    + ScalingOptions.CAPACITY.key() + " is set: a scaled keyed stage may run below it; leave it 0 "
                    + "(one subtask per 8 of the keyed stage) or raise the minimum");
        }
        ScalingOptions.policy(config);
        long manifest = config.get(RocksDbOptions.MAX_MANIFEST_FILE_SIZE).getBytes();
        if (manifest < 1024) {
            throw bad(RocksDbOptions.MAX_MANIFEST_FILE_SIZE, manifest + " bytes", "at least 1kb");
        }
        config.getOptional(PrivacyOptions.KEY_SECRET).ifPresent(secret -> {
            if (secret.length() < io.keyshift.route.KeyPseudonymizer.MIN_SECRET_LENGTH) {
                throw new IllegalArgumentException(PrivacyOptions.KEY_SECRET.key() + " must have at least "
                        + io.keyshift.route.KeyPseudonymizer.MIN_SECRET_LENGTH + " characters, had "
                        + secret.length());
            }
        });
    }

    /**
     * Checks that a scaled keyed stage ({@code keyshift.scaling.capacity} > 0) starts within its scaling bounds: below
     * {@code keyshift.scaling.min-parallelism} the scaling planner would take the minimum for the parallelism in force
     * (and size every decision for it), and the results path, at most the minimum, could run above the stage, where
     * the autoscaler, which tells the vertices by their largest parallelism, would rescale it instead of the stage.
     *
     * @param parallelism the keyed stage's parallelism, >= 1
     * @throws IllegalArgumentException naming {@code keyshift.scaling.min-parallelism} and {@code max-parallelism}
     */
    public static void checkScaledParallelism(ReadableConfig config, int parallelism) {
        if (config.get(ScalingOptions.CAPACITY) <= 0) {
            return;
        }
        int min = config.get(ScalingOptions.MIN_PARALLELISM);
        int max = config.get(ScalingOptions.MAX_PARALLELISM);
        if (parallelism < min || max > 0 && parallelism > max) {
            throw new IllegalArgumentException("the keyed parallelism " + parallelism + " is outside the scaling "
                    + "bounds " + ScalingOptions.MIN_PARALLELISM.key() + " (" + min + ") .. "
                    + ScalingOptions.MAX_PARALLELISM.key() + " (" + (max > 0 ? Integer.toString(max) : "unset")
                    + "): start the stage within them, or change them");
        }
    }

    /**
     * Checks that predictive scaling ({@code keyshift.scaling.capacity} > 0) stays within the job's {@code
     * maxParallelism} key groups: a stage's build refuses it, and the command line checks it before any job runs.
     *
     * @throws IllegalArgumentException naming {@code keyshift.scaling.min-parallelism} and {@code max-parallelism}
     */
    public static void checkScalingBounds(ReadableConfig config, int maxParallelism) {
        if (config.get(ScalingOptions.CAPACITY) > 0 && (config.get(ScalingOptions.MAX_PARALLELISM) > maxParallelism
                || config.get(ScalingOptions.MIN_PARALLELISM) > maxParallelism)) {
            throw new IllegalArgumentException(ScalingOptions.MIN_PARALLELISM.key() + " and "
                    + ScalingOptions.MAX_PARALLELISM.key() + " must be at most the job's max parallelism (key "
                    + "groups), " + maxParallelism + ", were " + config.get(ScalingOptions.MIN_PARALLELISM) + " and "
                    + config.get(ScalingOptions.MAX_PARALLELISM));
        }
    }

    private static IllegalArgumentException bad(ConfigOption<?> o, Object value, String expected) {
        return new IllegalArgumentException(o.key() + " must be " + expected + ", was " + value);
    }

    /**
     * The longest duration a keyshift option takes (100 years): event times plus it, and it in nanoseconds, stay
     * within a long.
     */
    public static final Duration MAX_DURATION = Duration.ofDays(36_500);

    /**
     * Checks a duration option that keyshift uses in whole milliseconds: at least {@code minMillis} ms, at most
     * {@link #MAX_DURATION}, no fraction of a millisecond (which {@code toMillis()} would drop: 500us became 0).
     */
    private static void wholeMillis(ReadableConfig c, ConfigOption<Duration> o, long minMillis) {
        Duration d = c.get(o);
        if (d.isNegative() || d.compareTo(MAX_DURATION) > 0 || d.getNano() % 1_000_000 != 0
                || d.toMillis() < minMillis) {
            throw bad(o, d, "a whole number of milliseconds, " + (minMillis == 0 ? ">= 0 (0: never)"
                    : "at least " + minMillis + "ms") + ", at most " + MAX_DURATION.toDays() + "d");
        }
    }

    private static void range(ReadableConfig c, ConfigOption<Integer> o, int min, int max) {
        int v = c.get(o);
        if (v < min || v > max) {
            throw bad(o, v, max == Integer.MAX_VALUE ? ">= " + min : "in [" + min + ", " + max + "]");
        }
    }

    private static void atLeast(ReadableConfig c, ConfigOption<Double> o, double min) {
        double v = c.get(o);
        if (!(v >= min) || Double.isInfinite(v)) {
            throw bad(o, v, ">= " + min);
        }
    }

    private static void above(ReadableConfig c, ConfigOption<Double> o, double min) {
        double v = c.get(o);
        if (!(v > min) || Double.isInfinite(v)) {
            throw bad(o, v, "> " + min);
        }
    }

    /**
     * The keyshift option that {@code key}, which does not begin with {@code keyshift.}, misspells, or null: a key
     * whose first dot-separated part, in lower case, is one edit from {@code keyshift} (a letter added, dropped,
     * changed, or two neighbours swapped: {@code keyshfit.plan.lease-lead}, {@code keyshif.window}; any case:
     * {@code Keyshift.window}), or a key one or two edits from an option's ({@code keyshift-plan.lease-lead}).
     * A user's own keys further from those ({@code dayshift.start}) are not judged. Returns the nearest option (of
     * equally near ones the first in order).
     */
    public static String misspelledPrefix(String key, Set<String> known, Set<String> alsoKnown) {
        int dot = key.indexOf('.');
        boolean nearPrefix = dot > 0 && oneEditOrSwap(key.substring(0, dot).toLowerCase(Locale.ROOT), "keyshift");
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (Set<String> keys : List.of(known, alsoKnown)) {
            for (String k : keys) {
                int d = distance(key, k);
                if (d < bestDistance || d == bestDistance && k.compareTo(best) < 0) {
                    best = k;
                    bestDistance = d;
                }
            }
        }
        if (nearPrefix) {
            return best != null ? best : "keyshift." + key.substring(dot + 1);
        }
        return bestDistance <= 2 ? best : null;
    }

    /** Whether {@code a} is {@code b}, or one insertion, deletion, substitution or swap of neighbours from it. */
    private static boolean oneEditOrSwap(String a, String b) {
        if (distance(a, b) <= 1) {
            return true;
        }
        if (a.length() != b.length()) {
            return false;
        }
        int first = -1;
        for (int i = 0; i < a.length(); i++) {
            if (a.charAt(i) != b.charAt(i)) {
                first = i;
                break;
            }
        }
        return first >= 0 && first + 1 < a.length() && a.charAt(first) == b.charAt(first + 1)
                && a.charAt(first + 1) == b.charAt(first)
                && a.substring(first + 2).equals(b.substring(first + 2));
    }

    private static String suggestion(String key, Set<String> known) {
        String best = known.stream().min(Comparator.comparingInt(k -> distance(k, key))).orElse(null);
        return best != null && distance(best, key) <= Math.max(3, key.length() / 4) ? " (did you mean '" + best + "'?)"
                : " (keyshift options: " + String.join(", ", known) + ")";
    }

    /** Levenshtein distance (insertions, deletions, substitutions); also the command line's suggestions. */
    public static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1], prev[j]) + 1,
                        prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** The library options' keys of {@code config} copied into a new Configuration (only keys set there). */
    public static Configuration libraryOptions(ReadableConfig config) {
        Configuration out = new Configuration();
        for (ConfigOption<?> o : options().values()) {
            copy(config, out, o);
        }
        return out;
    }

    private static <X> void copy(ReadableConfig from, Configuration to, ConfigOption<X> o) {
        from.getOptional(o).ifPresent(v -> to.set(o, v));
    }

    // --- stage settings ---

    /**
     * The planner's capacity and move constraints from {@code config}. With {@link PrivacyOptions#KEY_SECRET}, the
     * pinned keys are their pseudonyms (a key given as a pseudonym stays as it is).
     */
    public static RepartitionPlanner.Constraints constraints(ReadableConfig config) {
        java.util.Set<String> pinned = new HashSet<>(config.get(PlanOptions.PINNED_KEYS));
        String secret = config.getOptional(PrivacyOptions.KEY_SECRET).orElse(null);
        if (secret != null) {
            io.keyshift.route.KeyPseudonymizer ps = io.keyshift.route.KeyPseudonymizer.fromSecret(secret);
            java.util.Set<String> named = new HashSet<>();
            pinned.forEach(k -> named.add(io.keyshift.route.KeyPseudonymizer.isPseudonym(k) ? k : ps.pseudonym(k)));
            pinned = named;
        }
        return new RepartitionPlanner.Constraints(config.get(PlanOptions.CAPACITY),
                config.get(PlanOptions.UTILIZATION_HIGH), config.get(PlanOptions.UTILIZATION_CRITICAL),
                config.get(PlanOptions.UTILIZATION_SCALE_IN), config.get(PlanOptions.MIN_WINDOWS_BETWEEN_MOVES),
                pinned, config.get(PlanOptions.TIME_BUDGET));
    }

    /**
     * The planner's settings for a keyed stage.
     *
     * @param stateHorizonMillis how far the stage's state reaches back (window size + lateness, or the declared horizon)
     * @param splitThreshold 0 for stages that cannot merge partials, else the configured threshold
     * @param windowsAligned the stage's windows align with planning windows (splits need no pre-roll)
     * @param processFunction the stage is a keyed process function (each stay of a key is kept apart by its epoch)
     */
    public static RepartitionPlanner.Settings planSettings(ReadableConfig config, int maxParallelism, int parallelism,
                                                           long stateHorizonMillis, double splitThreshold,
                                                           boolean windowsAligned, boolean processFunction) {
        return planSettings(config, maxParallelism, parallelism, stateHorizonMillis, splitThreshold, windowsAligned,
                processFunction, null);
    }

    /**
     * The planner's settings of a stage with {@code config}, whose windows are {@code windows} (null: for a window
     * stage, tumbling windows of the planning window; ignored for a keyed process function).
     */
    public static RepartitionPlanner.Settings planSettings(ReadableConfig config, int maxParallelism, int parallelism,
                                                           long stateHorizonMillis, double splitThreshold,
                                                           boolean windowsAligned, boolean processFunction,
                                                           RepartitionPlanner.ComparedWindows windows) {
        long window = config.get(JobOptions.WINDOW).toMillis();
        long horizon = Math.max(window, stateHorizonMillis);
        long shadow = (horizon + window - 1) / window * window;
        return new RepartitionPlanner.Settings(maxParallelism, parallelism, window, horizon,
                config.get(PlanOptions.LEASE_LEAD), config.get(PlanOptions.HORIZON),
                config.get(PlanOptions.IMPROVEMENT_THRESHOLD), config.get(PlanOptions.ALPHA),
                config.get(PlanOptions.BETA), config.get(PlanOptions.MAX_CONCURRENT_MIGRATIONS),
                config.get(PlanOptions.MAX_ROUTING_ENTRIES), splitThreshold, constraints(config),
                windowsAligned ? 0L : shadow, processFunction,
                // tumbling windows aligned with the planning window: no window straddles a switch-over, so
                // correctness needs no shadow phase (DESIGN "which result counts"); validation may still ask for one
                windowsAligned && !processFunction ? 0L : shadow, validation(config),
                // cold moved keys go home unless a capacity model plans or scales the job
                config.get(PlanOptions.CAPACITY) <= 0 && config.get(ScalingOptions.CAPACITY) <= 0,
                config.get(PlanOptions.COST), config.get(PlanOptions.SHRINKAGE),
                config.get(PlanOptions.LONG_RUN_WINDOWS),
                // a keyed process function's outputs are compared from T0 + its declared horizon on
                processFunction ? stateHorizonMillis : 0, processFunction ? null : windows);
    }

    /** The validation policy of {@code config}. */
    public static io.keyshift.plan.ValidationPolicy validation(ReadableConfig config) {
        return new io.keyshift.plan.ValidationPolicy(config.get(PlanOptions.VALIDATION),
                config.get(PlanOptions.VALIDATION_SAMPLE_EVERY));
    }

    /** The forecaster's settings of a stage with {@code config} (what decoding or writing its state needs too). */
    public static LoadForecastEngine.Settings forecastSettings(ReadableConfig config, int maxParallelism) {
        return forecastSettings(config, maxParallelism, config.get(JobOptions.WINDOW).toMillis(),
                forecastHorizon(config));
    }

    /**
     * Forecast steps of a stage with {@code config}: the lease lead plus the larger of the planning horizon (what the
     * planner balances) and the scaling horizon (what a predictive scaling decision looks ahead over).
     */
    public static int forecastHorizon(ReadableConfig config) {
        return config.get(PlanOptions.LEASE_LEAD)
                + Math.max(config.get(PlanOptions.HORIZON), config.get(ScalingOptions.HORIZON));
    }

    /**
     * The most forecast steps a stage's forecaster makes for its planner ({@link #forecastHorizon(ReadableConfig,
     * RepartitionPlanner.Settings)}): a recursive forecast costs each series O(steps^2) per window. A stage whose
     * shadow phase is longer (a keyed process function or sliding windows whose state reaches back more than about
     * this many windows) is planned from this step's forecast, not from the first window a move owns.
     */
    public static final int MAX_PLANNER_FORECAST_STEPS = 48;

    /**
     * The most forecast steps the options may ask for ({@link #forecastHorizon(ReadableConfig)}: the lease lead plus
     * the larger of the planning and scaling horizons); {@link #validate(ReadableConfig)} refuses more.
     */
    public static final int MAX_FORECAST_STEPS = 100;

    /**
     * Forecast steps of a stage with {@code config} and planner settings {@code plan}: {@link
     * #forecastHorizon(ReadableConfig)}, or more if the planner reads further (a shadow phase longer than one window
     * puts the first window a move owns later), up to {@link #MAX_PLANNER_FORECAST_STEPS}.
     */
    public static int forecastHorizon(ReadableConfig config, RepartitionPlanner.Settings plan) {
        return Math.max(forecastHorizon(config), Math.min(MAX_PLANNER_FORECAST_STEPS, plan.forecastStepsNeeded()));
    }

    /** The forecaster's settings from {@code config} for the given planning window and forecast horizon. */
    public static LoadForecastEngine.Settings forecastSettings(ReadableConfig config, int maxParallelism,
                                                               long windowMillis, int horizon) {
        List<Integer> seasons = seasons(config, windowMillis);
        List<ModelSpec> models = models(config.get(ForecastOptions.MODEL), seasons);
        int scaleSeason = seasons.stream().filter(s -> s >= 2).findFirst().orElse(0);
        io.keyshift.forecast.ForecastCalendar calendar = calendar(config, windowMillis);
        // the reference days of a marked window lie up to reachDays() before it
        int calendarHistory = calendar == null ? 0
                : (int) (Duration.ofDays(calendar.reachDays()).toMillis() / windowMillis) + 1;
        return new LoadForecastEngine.Settings(maxParallelism, config.get(ProfilerOptions.TOP_K),
                config.get(ProfilerOptions.AGE_OUT_WINDOWS), models, scaleSeason, horizon,
                ForecastOptions.selectionDecay(config, scaleSeason), config.get(ForecastOptions.INTERVAL_Z),
                config.get(ForecastOptions.ANOMALY_Z), calendar, calendarHistory);
    }

    /**
     * The calendar of {@code config} ({@link ForecastOptions#CALENDAR}, read now), or null if none is set.
     *
     * @throws IllegalArgumentException naming the option: a file that is missing or does not parse, an unknown time
     *                                  zone or day, or windows longer than a day
     */
    public static io.keyshift.forecast.ForecastCalendar calendar(ReadableConfig config, long windowMillis) {
        java.util.Optional<String> file = config.getOptional(ForecastOptions.CALENDAR);
        if (file.isEmpty() || file.get().isBlank()) {
            for (ConfigOption<?> sub : List.of(ForecastOptions.CALENDAR_TIME_ZONE, ForecastOptions.CALENDAR_LIKE_DAYS,
                    ForecastOptions.CALENDAR_REFERENCE_DAYS, ForecastOptions.CALENDAR_OBSERVE)) {
                if (config.getOptional(sub).isPresent()) {
                    // a sub-option alone changes nothing: the user meant a calendar that is not there
                    throw new IllegalArgumentException(sub.key() + " is set but " + ForecastOptions.CALENDAR.key()
                            + " is not: set the calendar file, or remove " + sub.key());
                }
            }
            return null;
        }
        java.time.ZoneId zone;
        try {
            zone = java.time.ZoneId.of(config.get(ForecastOptions.CALENDAR_TIME_ZONE).trim());
        } catch (java.time.DateTimeException e) {
            throw bad(ForecastOptions.CALENDAR_TIME_ZONE, config.get(ForecastOptions.CALENDAR_TIME_ZONE),
                    "a time zone id such as UTC or America/Los_Angeles");
        }
        List<java.time.DayOfWeek> like = new ArrayList<>();
        for (String day : config.get(ForecastOptions.CALENDAR_LIKE_DAYS)) {
            try {
                like.add(java.time.DayOfWeek.valueOf(day.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw bad(ForecastOptions.CALENDAR_LIKE_DAYS, day, "days of week, MONDAY .. SUNDAY");
            }
        }
        if (like.isEmpty()) {
            throw bad(ForecastOptions.CALENDAR_LIKE_DAYS, "empty", "at least one day of week");
        }
        int referenceDays = config.get(ForecastOptions.CALENDAR_REFERENCE_DAYS);
        if (referenceDays < 1) {
            throw bad(ForecastOptions.CALENDAR_REFERENCE_DAYS, referenceDays, ">= 1");
        }
        String observe = config.get(ForecastOptions.CALENDAR_OBSERVE).trim().toLowerCase(Locale.ROOT);
        if (!observe.equals("actual") && !observe.equals("missing")) {
            throw bad(ForecastOptions.CALENDAR_OBSERVE, observe, "actual or missing");
        }
        if (windowMillis > Duration.ofDays(1).toMillis()) {
            throw new IllegalArgumentException(ForecastOptions.CALENDAR.key() + " needs windows of at most a day, "
                    + JobOptions.WINDOW.key() + " is " + Duration.ofMillis(windowMillis));
        }
        io.keyshift.forecast.ForecastCalendar calendar;
        try {
            calendar = io.keyshift.forecast.ForecastCalendar.read(java.nio.file.Path.of(file.get().trim()), zone, like,
                    referenceDays, observe.equals("missing"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ForecastOptions.CALENDAR.key() + ": " + e.getMessage(), e);
        }
        long reach = Duration.ofDays(calendar.reachDays()).toMillis() / windowMillis + 1;
        if (reach > MAX_SEASON_WINDOWS) {
            // every series keeps the windows back to its reference days
            throw new IllegalArgumentException(ForecastOptions.CALENDAR_REFERENCE_DAYS.key() + " " + referenceDays
                    + " reaches " + calendar.reachDays() + " days back, " + reach + " windows of " + JobOptions.WINDOW
                    .key() + " " + Duration.ofMillis(windowMillis) + ", more than the " + MAX_SEASON_WINDOWS
                    + " each series may keep: fewer reference days or a longer window");
        }
        return calendar;
    }

    /** Candidate models for option value {@code model} ('auto' or one model name). */
    public static List<ModelSpec> models(String model, List<Integer> seasons) {
        String m = model.trim().toLowerCase(Locale.ROOT);
        if (m.equals("auto")) {
            return ModelSpec.candidates(seasons);
        }
        try {
            return List.of(ModelSpec.of(ForecastModelKind.parse(m), seasons));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ForecastOptions.MODEL.key() + ": '" + model + "': " + e.getMessage()
                    + " (valid: auto, naive, seasonal-naive, ses, holt, holt-winters, holt-winters-multiplicative, ar)");
        }
    }

    /**
     * Longest season, in windows, and longest history a series keeps for the calendar: 100,000 windows (400 KB of
     * history per series; the forecaster keeps up to 2 x top-k + max parallelism series).
     */
    public static final int MAX_SEASON_WINDOWS = 100_000;

    /** Largest {@link ProfilerOptions#SKETCH_SIZE}: 2^26 (up to 48M keys per sampler subtask and window). */
    public static final int MAX_SKETCH_SIZE = 1 << 26;

    /** The configured seasons, or {@link #defaultSeasons}. */
    public static List<Integer> seasons(ReadableConfig config, long windowMillis) {
        return config.getOptional(ForecastOptions.SEASONS).orElseGet(() -> defaultSeasons(windowMillis));
    }

    /**
     * Default seasons in windows: a week for windows of a day or longer; a day and a week for windows from an hour
     * up to a day; a day for windows shorter than an hour. Periods that are not a whole number of windows, or longer
     * than {@link #MAX_SEASON_WINDOWS} windows (a day of windows under 0.864 s), are left out.
     */
    public static List<Integer> defaultSeasons(long windowMillis) {
        long day = Duration.ofDays(1).toMillis();
        long week = 7 * day;
        List<Integer> out = new ArrayList<>();
        if (windowMillis >= day) {
            addSeason(out, week, windowMillis);
        } else {
            addSeason(out, day, windowMillis);
            if (windowMillis >= Duration.ofHours(1).toMillis()) {
                addSeason(out, week, windowMillis);
            }
        }
        return out;
    }

    private static void addSeason(List<Integer> out, long period, long windowMillis) {
        if (period % windowMillis == 0 && period / windowMillis >= 2 && period / windowMillis <= MAX_SEASON_WINDOWS) {
            out.add((int) (period / windowMillis));
        }
    }
}
