package io.keyshift.jobs.cli;

import io.keyshift.config.JobOptions;
import io.keyshift.jobs.savepoint.SavepointInspector;
import io.keyshift.jobs.replay.Strategy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code keyshift inspect-savepoint PATH [--json]}: what a keyshift savepoint holds (State Processor API). */
@Command(name = "inspect-savepoint",
        header = "Prints the routing plan, forecaster and keyed state size of a savepoint.",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Reads a keyshift job's savepoint with Flink's State Processor API and prints the current",
            "routing plan (version, lease, every moved unit with from/to key groups and subtasks), the forecaster's",
            "series and chosen models, and the keyed state size per key group. Pass the job's --window and -D",
            "options: the forecaster's state is decoded with the job's settings (a --strategy reactive job's,",
            "the naive model alone, is recognised as such).",
            "A library job's savepoint may name its record and key types: put the job's jar on the classpath",
            "with KEYSHIFT_CLASSPATH=/path/to/job.jar.",
            "Exit status: 0 done, 1 a savepoint whose state cannot be decoded or that holds no stage of",
            "--uid-prefix, 2 bad options or a PATH that is no readable savepoint (missing, without metadata, or its",
            "metadata cut short)."})
public final class InspectSavepointCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PATH", description = "Savepoint directory (file:/... or a path).")
    String path;

    @Option(names = "--json", description = "Print everything as JSON (every series and key group).")
    boolean json;

    @Option(names = "--window", paramLabel = "DURATION",
            description = "The job's window. Default: the window the forecaster's state was made from (1h if it "
                    + "has no forecaster state or does not record it).")
    String window;

    @Option(names = "--uid-prefix", paramLabel = "PREFIX", defaultValue = "keyshift",
            description = "The uid prefix of the stage to read (KeyshiftStream#uidPrefix). Default: ${DEFAULT-VALUE}, "
                    + "the command line's.")
    String uidPrefix;

    @Mixin
    FlinkOptions flink;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        Duration w = FlinkOptions.window(cl, "--window", window == null ? "1h" : window);
        // before the savepoint is read: a prefix no stage can have ("clicks " pasted with a space) ended as a stage
        // not found, exit 1
        FlinkOptions.uidPrefix(cl, "--uid-prefix", uidPrefix);
        // a failure ends as every command's does: one line with the root cause (KeyshiftCli), the trace in a file
        String p = FlinkOptions.savepoint(cl, "PATH", path);
        try {
            org.apache.flink.state.api.runtime.SavepointLoader.loadSavepointMetadata(p);
        } catch (java.io.IOException | RuntimeException e) {
            // a _metadata cut short (a copy interrupted, a savepoint still being written) failed in Flink's reader
            // with "EOFException: null"
            throw new ParameterException(cl, "PATH: " + p + " is not a readable Flink savepoint or checkpoint: "
                    + (e instanceof java.io.EOFException || e.getMessage() == null
                    ? "its metadata ends early (a copy cut short, or a savepoint still being written)"
                    : e.getMessage()));
        }
        ObjectNode r;
        try {
            r = read(cl, p, w);
        } catch (Exception e) {
            if (!REACTIVE_MODELS.equals(stateModels(e))) {
                throw e;
            }
            // a --strategy reactive job's (its forecaster runs the naive model alone, without a calendar, options the
            // job sets itself): read as that job reads it, the window's checks as before
            reactive = true;
            r = read(cl, p, w);
        }
        return print(r);
    }

    /**
     * The savepoint's report under planning window {@code w} (--window, or the default), or, without --window, the
     * window its forecaster's state was made from; a --window that does not fit is refused naming the one that does.
     */
    private ObjectNode read(CommandLine cl, String p, Duration w) throws Exception {
        ObjectNode r;
        try {
            r = inspect(p, settings(cl, w));
        } catch (Exception e) {
            Duration made = stateWindow(e);
            if (made == null || made.equals(w)) {
                throw e;
            }
            if (window != null) {
                throw new ParameterException(cl, "--window " + window + ": the forecaster's state was made from "
                        + "windows of " + flinkDuration(made) + "; inspect it with --window "
                        + flinkDuration(made) + " and the job's -D options");
            }
            // no --window: read it as its own window's job would
            w = made;
            r = inspect(p, settings(cl, made));
        }
        Duration learnt = r.at("/forecaster/window").isTextual()
                ? Duration.parse(r.at("/forecaster/window").asText()) : null;
        if (learnt != null && !learnt.equals(w)) {
            // the state decoded under other windows, where the models and seasons come out the same (explicit
            // -Dkeyshift.forecast.seasons): without --window it is read as its own window's job would read it;
            // a --window given is refused, as a restore with it would fail
            if (window != null) {
                throw new ParameterException(cl, "--window " + window + ": the forecaster's state was made from "
                        + "windows of " + flinkDuration(learnt) + "; inspect it with --window "
                        + flinkDuration(learnt) + " and the job's -D options");
            }
            r = inspect(p, settings(cl, learnt));
        }
        return r;
    }

    private int print(ObjectNode r) throws Exception {
        checkNaming(r);
        if (json) {
            System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(r));
        } else {
            SavepointInspector.print(r, System.out);
        }
        return 0;
    }

    /**
     * Warns of a {@code keyshift.privacy.key-secret} given (as "pass the job's -D options" says) where the savepoint's
     * plan names keys otherwise, raw or under another secret: it printed the keys as they are, without a word, and
     * {@code pseudonym} under the secret given never matched them.
     */
    private void checkNaming(ObjectNode r) {
        CommandLine cl = spec.commandLine();
        String found = r.at("/plan/key_naming").asText(null);
        if (keySecret == null || found == null) {
            return;
        }
        String expected;
        try {
            expected = io.keyshift.route.KeyPseudonymizer.naming(
                    io.keyshift.route.KeyPseudonymizer.fromSecret(keySecret));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, io.keyshift.config.PrivacyOptions.KEY_SECRET.key() + ": "
                    + e.getMessage());
        }
        if ("raw".equals(found) && "end of input".equals(r.at("/plan/valid_until").asText())) {
            // a final lease of a build before 2026-12-03 set no naming, read as the default "raw" (the planner and
            // routers do not judge it either)
            return;
        }
        if (!expected.equals(found)) {
            // a warning, not a refusal: a config.yaml's secret (the cluster job's) cannot be unset on the command line,
            // and the report is of the savepoint as it is
            cl.getErr().println("keyshift inspect-savepoint: warning: " + io.keyshift.config.PrivacyOptions.KEY_SECRET
                    .key() + " is set, but the savepoint's plan names keys " + ("raw".equals(found)
                    ? "raw (its job had no key secret): the keys below are raw" : "by pseudonyms under another key "
                    + "secret (" + found + "): pseudonym under the secret given does not match them"));
            cl.getErr().flush();
        }
    }

    /** The {@code keyshift.privacy.key-secret} given (-D, config.yaml), or null. */
    private String keySecret;

    /** The candidate models of a {@code --strategy reactive} job's forecaster (the naive model alone). */
    static final String REACTIVE_MODELS = "naive";

    /** Whether the state is read as a {@code --strategy reactive} job's (model naive, no calendar). */
    private boolean reactive;

    /** The candidate models the forecaster's state was made with, as its refusal in {@code e} names them, or null. */
    static String stateModels(Throwable e) {
        String words = "with the candidate models [";
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage();
            int i = m == null ? -1 : m.indexOf(words);
            int end = i < 0 ? -1 : m.indexOf(']', i);
            if (end >= 0) {
                return m.substring(i + words.length(), end);
            }
        }
        return null;
    }

    /**
     * {@link SavepointInspector#inspect}; a state that names a class missing from this JVM's classpath (a library
     * job's record or key type: Flink restores every state of an operator to read one, the router's records held for a
     * lease among them) ends in a line naming the class and {@code KEYSHIFT_CLASSPATH}.
     */
    private ObjectNode inspect(String p, io.keyshift.forecast.LoadForecastEngine.Settings settings) throws Exception {
        try {
            return SavepointInspector.inspect(p, settings, uidPrefix);
        } catch (Exception e) {
            String missing = missingClass(e);
            if (missing == null) {
                throw e;
            }
            throw new java.io.IOException("the savepoint's state of stage " + uidPrefix + " names the class "
                    + missing + ", which is not on keyshift's classpath (a type of your job's records or keys): "
                    + "give your job's jar with KEYSHIFT_CLASSPATH=/path/to/job.jar bin/keyshift inspect-savepoint ...",
                    e);
        }
    }

    /** The class named by a {@link ClassNotFoundException} in {@code e}'s causes, or null. */
    static String missingClass(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ClassNotFoundException c) {
                return c.getMessage();
            }
        }
        return null;
    }

    /** The forecaster's settings of a job with planning window {@code w} and this command's -D options. */
    private io.keyshift.forecast.LoadForecastEngine.Settings settings(CommandLine cl, Duration w) throws Exception {
        // without --window the state's own window is read: a config.yaml's keyshift.window is no conflict
        Configuration conf = flink.load(cl, w, window != null);
        if (reactive) {
            io.keyshift.jobs.replay.Workload.reacting(conf);
        }
        keySecret = conf.getOptional(io.keyshift.config.PrivacyOptions.KEY_SECRET).orElse(null);
        int maxP = conf.getOptional(PipelineOptions.MAX_PARALLELISM).orElse(conf.get(JobOptions.DEFAULT_MAX_PARALLELISM));
        return io.keyshift.config.KeyshiftConfig.forecastSettings(conf, maxP);
    }

    /** {@code d} as a command line takes it: 1d, 5min, 90s, or milliseconds. */
    static String flinkDuration(Duration d) {
        long ms = d.toMillis();
        if (ms % 86_400_000L == 0) {
            return ms / 86_400_000L + "d";
        }
        if (ms % 3_600_000L == 0) {
            return ms / 3_600_000L + "h";
        }
        if (ms % 60_000L == 0) {
            return ms / 60_000L + "min";
        }
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }

    /** The planning window a refused forecaster state was made from, if the refusal names it; else null. */
    static Duration stateWindow(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage();
            int i = m == null ? -1 : m.indexOf(io.keyshift.forecast.LoadForecastEngine.STATE_WINDOW_WORDS);
            if (i >= 0) {
                String rest = m.substring(i + io.keyshift.forecast.LoadForecastEngine.STATE_WINDOW_WORDS.length());
                int end = rest.indexOf(' ');
                try {
                    return Duration.parse(end < 0 ? rest : rest.substring(0, end));
                } catch (java.time.format.DateTimeParseException notADuration) {
                    return null;
                }
            }
        }
        return null;
    }
}
