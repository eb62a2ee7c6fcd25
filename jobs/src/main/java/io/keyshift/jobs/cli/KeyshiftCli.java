package io.keyshift.jobs.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.List;

/** Entry point of {@code bin/keyshift}. */
@Command(name = "keyshift",
        mixinStandardHelpOptions = true,
        version = "keyshift 0.1.0 (Apache Flink 2.3.0)",
        description = "Predictive key repartitioning for Apache Flink jobs.",
        subcommands = {ReplayCommand.class, ForecastBenchCommand.class, PlanBenchCommand.class, BenchCommand.class,
            ClusterCommand.class, SubmitCommand.class, StopJobCommand.class, InspectSavepointCommand.class, BootstrapCommand.class,
            AutoscaleCommand.class, SoakCommand.class, ControlCommandLine.class, ProfileCommand.class, PseudonymCommand.class,
            CommandLine.HelpCommand.class})
public final class KeyshiftCli implements java.util.concurrent.Callable<Integer> {
    /** Width of every command's usage help, in characters. */
    public static final int USAGE_WIDTH = 120;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** No command given: the usage to stderr and exit 2, as for any other mistake in the command line. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }

    public static void main(String[] args) {
        int exit = 1;
        // interrupted (Ctrl-C, SIGTERM) while a command waits on what it has set going at a cluster (a stop with a
        // savepoint, a submitted job starting): the one line that says where it stands, which was otherwise nowhere
        Thread interrupted = new Thread(() -> {
            String u = underway;
            if (u != null) {
                System.err.println("keyshift: interrupted while " + u);
            }
        }, "keyshift: interrupted");
        Runtime.getRuntime().addShutdownHook(interrupted);
        try {
            exit = execute(args);
        } catch (Throwable t) {
            // an Error (e.g. OutOfMemoryError while a local cluster starts) escapes the command: without an explicit
            // exit the cluster's threads would keep the JVM alive with nothing left to end it
            System.err.println("keyshift: " + t.getClass().getSimpleName() + ": " + t.getMessage()
                    + traceFile(t, "error"));
        } finally {
            System.exit(exit);
        }
    }

    /**
     * Runs a command as {@code main} does and returns its exit status: 1 where the command succeeded but its standard
     * output could not be written (a full disk under {@code > file}, a closed pipe), which PrintStream and PrintWriter
     * keep to themselves: {@code savepoint JOB > sp.txt} on a full disk stopped the job, left sp.txt empty and exited
     * 0.
     */
    static int execute(String[] args) {
        watchCheckpoints();
        result = null;
        CommandLine cl = commandLine();
        int exit;
        try {
            exit = cl.execute(args);
        } finally {
            underway = null;
        }
        if (exit == 0 && outputLost(cl) | System.out.checkError()) {
            String done = result;
            System.err.println("keyshift: cannot write standard output (a full disk, a closed pipe?): what the command "
                    + "printed is incomplete" + (done != null ? "; it took effect: " + done : ""));
            return 1;
        }
        return exit;
    }

    /** What the running command has set going at a cluster and waits on: see {@link #underway(String)}. */
    private static volatile String underway;

    /**
     * Records what the running command has set going at a cluster and now waits on ({@code "job J stops with a
     * savepoint: GET URL tells where it is"}), for the one line said on stderr if the process is interrupted before
     * the command ends (Ctrl-C during the wait): the job goes on, and its id or the savepoint's status URL was
     * otherwise printed only at the end. Cleared when the command ends.
     */
    static void underway(String what) {
        underway = what;
    }

    /** What the running command did that stands whatever it prints (a job submitted, stopped): see {@link #result}. */
    private static volatile String result;

    /**
     * Records what the running command has done that stands whatever it prints (a job submitted, a job stopped with
     * a savepoint), for the one line said on stderr when its standard output cannot be written: the job's id or the
     * savepoint's location was otherwise nowhere.
     */
    static void result(String done) {
        result = done;
    }

    /** Whether the standard output writer of {@code cl} or of any of its subcommands failed (each is flushed). */
    private static boolean outputLost(CommandLine cl) {
        boolean lost = cl.getOut().checkError();
        for (CommandLine sub : cl.getSubcommands().values()) {
            lost |= outputLost(sub);
        }
        return lost;
    }

    /** The command line as {@code main} runs it (tests run it the same way). */
    public static CommandLine commandLine() {
        FlinkOptions.forgetCreated();
        CommandLine cl = new CommandLine(new KeyshiftCli());
        // soak sizes its generator from --rate and --minutes and refuses these two (naming them): its help does not
        // offer them
        CommandLine.Model.CommandSpec soak = cl.getSubcommands().get("soak").getCommandSpec();
        for (String sized : java.util.List.of("--generator-records", "--generator-days")) {
            CommandLine.Model.OptionSpec o = soak.findOption(sized);
            soak.remove(o);
            soak.addOption(CommandLine.Model.OptionSpec.builder(o).hidden(true).build());
        }
        cl.registerConverter(java.nio.file.Path.class, FlinkOptions::path);
        cl.setExecutionExceptionHandler(KeyshiftCli::failed);
        cl.setParameterExceptionHandler(KeyshiftCli::badInput);
        // descriptions are written in lines of up to about 110 characters, examples among them: picocli's default
        // width of 80 broke them mid-path (a terminal narrower than this wraps them softly, so they still copy whole)
        cl.setUsageHelpWidth(USAGE_WIDTH);
        // arguments are taken as typed: a key that begins with '@' (control pin @home, pseudonym @home) was read as
        // picocli's argument file, or "@@" as an escaped '@'
        cl.setExpandAtFiles(false);
        // numbers print the same in every locale (the report's table, inspect-savepoint, bootstrap, the benches):
        // a German locale printed "1,128" for 1.128 and "1.234.567 records" beside figures formatted in Locale.ROOT
        java.util.Locale.setDefault(java.util.Locale.Category.FORMAT, java.util.Locale.ROOT);
        return cl;
    }

    /**
     * A mistake in the command line ends with one line that names the option, and a pointer to the help (exit 2),
     * instead of the whole usage message.
     */
    static int badInput(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        String name = cl.getCommandSpec().qualifiedName();
        String hint = "";
        if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            String closest = closest(u.getUnmatched().get(0), cl);
            if (closest != null) {
                hint = "; did you mean " + closest + "?";
            }
        }
        FlinkOptions.removeCreatedIfEmpty();
        cl.getErr().println(name + ": " + e.getMessage() + hint + " (" + name + " --help lists the "
                + (cl.getSubcommands().isEmpty() ? "options" : "commands") + ")");
        return cl.getCommandSpec().exitCodeOnInvalidInput();
    }

    /**
     * The visible option (for a token that begins with '-') or command of {@code cl} closest to {@code token} by edit
     * distance, if within a third of its length (at least 2); else null.
     */
    static String closest(String token, CommandLine cl) {
        String word = token.startsWith("-") && token.contains("=") ? token.substring(0, token.indexOf('=')) : token;
        java.util.List<String> names = new java.util.ArrayList<>();
        if (word.startsWith("-")) {
            for (CommandLine.Model.OptionSpec o : cl.getCommandSpec().options()) {
                if (!o.hidden()) {
                    names.addAll(java.util.List.of(o.names()));
                }
            }
        } else {
            cl.getSubcommands().forEach((name, sub) -> {
                if (!sub.getCommandSpec().usageMessage().hidden()) {
                    names.add(name);
                }
            });
        }
        String best = null;
        int bestDistance = Math.max(2, word.length() / 3) + 1;
        for (String n : names) {
            int d = io.keyshift.config.KeyshiftConfig.distance(word, n);
            if (d < bestDistance) {
                best = n;
                bestDistance = d;
            }
        }
        return best;
    }

    /**
     * A failure of a command ends with one readable line and exit 1; the stack trace goes to a file whose path the
     * line gives.
     */
    static int failed(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        // a message of keyshift's own (an exception with its message, e.g. an IOException naming the file, with or
        // without the cause it wraps) as it is; the root cause's for a wrapper: a RuntimeException around a cause, or
        // one of Flink's (JobExecutionException says only "Job execution failed.")
        // under the wrappers, an exception that itself wraps a cause with a message of its own is keyshift's
        // (an IOException naming the file and line around the EOFException it met), unless Flink threw it (its
        // "Exception while creating StreamOperatorStateContext." around the file it could not read): as it is. Flink's client wraps
        // what a job's main threw in a ProgramInvocationException (submit showed "EOFException: ..." only)
        Throwable own = e;
        while (wrapper(own)) {
            own = own.getCause();
        }
        String message = e instanceof java.nio.file.FileSystemException fs ? fileSystem(fs)
                : e.getMessage() != null && !wrapper(e) ? e.getMessage()
                : own != e && own.getCause() != null && own.getMessage() != null && !thrownByFlink(own)
                        && !(own instanceof java.nio.file.FileSystemException)
                        && !own.getMessage().equals(own.getCause().toString()) ? own.getMessage() : rootMessage(e);
        cl.getErr().println("keyshift " + cl.getCommandName() + ": " + message + traceFile(e, cl.getCommandName()));
        return 1;
    }

    /**
     * A file-system failure in words: Java's message of an {@code AccessDeniedException} or a
     * {@code NoSuchFileException} is only the path.
     */
    static String fileSystem(java.nio.file.FileSystemException e) {
        String what = e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                : e instanceof java.nio.file.NoSuchFileException ? "no such file or directory"
                : e instanceof java.nio.file.FileAlreadyExistsException ? "already exists"
                : e instanceof java.nio.file.NotDirectoryException ? "not a directory"
                : e instanceof java.nio.file.DirectoryNotEmptyException ? "directory not empty"
                : e.getReason() != null ? e.getReason() : e.getClass().getSimpleName();
        String file = e.getFile() != null ? e.getFile() : "";
        return file + (e.getOtherFile() != null ? " -> " + e.getOtherFile() : "") + ": " + what
                + (e.getReason() != null && !what.equals(e.getReason()) ? " (" + e.getReason() + ")" : "");
    }

    /** A RuntimeException around a cause, or one of Flink's exceptions around a cause. */
    private static boolean wrapper(Throwable e) {
        return e.getCause() != null && e.getCause() != e && (e instanceof RuntimeException
                || e.getClass().getName().startsWith("org.apache.flink."));
    }

    /** Whether Flink threw {@code e} (its top frame is in Flink's code): its message is Flink's, not keyshift's. */
    private static boolean thrownByFlink(Throwable e) {
        StackTraceElement[] trace = e.getStackTrace();
        return trace.length > 0 && trace[0].getClassName().startsWith("org.apache.flink.");
    }

    /** "Class: message" of the innermost cause of {@code e}. */
    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        if (t.getMessage() != null && t.getMessage().startsWith(org.apache.flink.runtime.checkpoint
                .CheckpointFailureManager.EXCEEDED_CHECKPOINT_TOLERABLE_FAILURE_MESSAGE)) {
            // Flink's exception has no cause: at most the last failure's reason ("Asynchronous task checkpoint
            // failed."); what failed (a full disk) is only in its log, and a local run's web UI is gone
            String last = lastCheckpointFailure;
            return t.getClass().getSimpleName() + ": " + t.getMessage() + " The last checkpoint failure Flink "
                    + "logged: " + (last != null ? last : "not known here (the JobManager's log has it)")
                    + " (execution.checkpointing.timeout: how long a checkpoint may take; "
                    + "execution.checkpointing.tolerable-failed-checkpoints: how many may fail in a row)";
        }
        return t instanceof java.nio.file.FileSystemException fs ? fileSystem(fs)
                : t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    /** The newest checkpoint failure Flink logged in this JVM (a local run's), or null: see {@link #watchCheckpoints}. */
    static volatile String lastCheckpointFailure;

    /** The logger of Flink's checkpoint failures ({@code CheckpointFailureManager}). */
    private static final String CHECKPOINT_FAILURES = "org.apache.flink.runtime.checkpoint.CheckpointFailureManager";

    /**
     * Keeps the newest checkpoint failure that Flink's {@code CheckpointFailureManager} logs (at WARN, which this
     * command line does not print) for {@link #rootMessage}: a job failed for too many failed checkpoints says only
     * "Exceeded checkpoint tolerable failure threshold.", without a cause (a full disk, a checkpoint that expired).
     * What reaches stderr is as before: that logger's ERRORs. Does nothing where the logging is not Log4j 2's.
     */
    static void watchCheckpoints() {
        try {
            if (!(org.apache.logging.log4j.LogManager.getContext(false)
                    instanceof org.apache.logging.log4j.core.LoggerContext ctx)) {
                return;
            }
            org.apache.logging.log4j.core.config.Configuration config = ctx.getConfiguration();
            if (config.getLoggers().containsKey(CHECKPOINT_FAILURES)) {
                return;
            }
            org.apache.logging.log4j.core.Appender keep = new org.apache.logging.log4j.core.appender.AbstractAppender(
                    "keyshiftCheckpointFailures", null, null, true,
                    org.apache.logging.log4j.core.config.Property.EMPTY_ARRAY) {
                @Override
                public void append(org.apache.logging.log4j.core.LogEvent event) {
                    Throwable thrown = event.getThrown();
                    if (thrown != null) {
                        lastCheckpointFailure = describe(thrown);
                    }
                }
            };
            keep.start();
            // what the logger printed before, at the level it had (ERROR in the shipped configuration; a user's
            // own may print more), to the appenders of the configuration it fell under and of those it adds to
            org.apache.logging.log4j.core.config.LoggerConfig before = config.getLoggerConfig(CHECKPOINT_FAILURES);
            org.apache.logging.log4j.Level printed = before.getLevel();
            org.apache.logging.log4j.core.config.LoggerConfig watched =
                    new org.apache.logging.log4j.core.config.LoggerConfig(CHECKPOINT_FAILURES,
                            printed.isMoreSpecificThan(org.apache.logging.log4j.Level.WARN)
                                    ? org.apache.logging.log4j.Level.WARN : printed, false);
            watched.addAppender(keep, org.apache.logging.log4j.Level.WARN, null);
            // each appender as its reference gave it (its level, no lower than the logger's, and its filter), and
            // the filters of the loggers passed through (Log4j applies a parent's filter to a child's events)
            java.util.Set<String> added = new java.util.HashSet<>();
            java.util.List<org.apache.logging.log4j.core.Filter> filters = new java.util.ArrayList<>();
            for (org.apache.logging.log4j.core.config.LoggerConfig c = before; c != null;
                    c = c.isAdditive() ? c.getParent() : null) {
                if (c.getFilter() != null) {
                    filters.add(c.getFilter());
                }
                java.util.Map<String, org.apache.logging.log4j.core.config.AppenderRef> refs = new java.util.HashMap<>();
                c.getAppenderRefs().forEach(r -> refs.putIfAbsent(r.getRef(), r));
                for (org.apache.logging.log4j.core.Appender a : c.getAppenders().values()) {
                    if (!added.add(a.getName())) {
                        continue;
                    }
                    org.apache.logging.log4j.core.config.AppenderRef ref = refs.get(a.getName());
                    org.apache.logging.log4j.Level refLevel = ref == null ? null : ref.getLevel();
                    org.apache.logging.log4j.core.Filter refFilter = ref == null ? null : ref.getFilter();
                    org.apache.logging.log4j.Level level = refLevel == null || printed.isMoreSpecificThan(refLevel)
                            ? printed : refLevel;
                    List<org.apache.logging.log4j.core.Filter> parts = new java.util.ArrayList<>(filters);
                    if (refFilter != null) {
                        parts.add(refFilter);
                    }
                    watched.addAppender(a, level, parts.isEmpty() ? null : parts.size() == 1 ? parts.get(0)
                            : new AllOf(parts));
                }
            }
            config.addLogger(CHECKPOINT_FAILURES, watched);
            ctx.updateLoggers();
        } catch (RuntimeException | LinkageError e) {
            // another logging backend: the message says where the cause is
        }
    }

    /**
     * The filters of a logger, of the loggers above it and of an appender reference, each applied as Log4j applies it
     * on its own: an event any of them denies is denied (Log4j's CompositeFilter stops at the first that accepts).
     */
    private static final class AllOf extends org.apache.logging.log4j.core.filter.AbstractFilter {
        private final List<org.apache.logging.log4j.core.Filter> parts;

        AllOf(List<org.apache.logging.log4j.core.Filter> parts) {
            this.parts = List.copyOf(parts);
        }

        @Override
        public Result filter(org.apache.logging.log4j.core.LogEvent event) {
            for (org.apache.logging.log4j.core.Filter f : parts) {
                if (f.filter(event) == Result.DENY) {
                    return Result.DENY;
                }
            }
            return Result.NEUTRAL;
        }
    }

    /** A checkpoint failure in words: its message, and its innermost cause's where it has one. */
    static String describe(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = failure.getMessage() != null ? failure.getMessage() : failure.getClass().getSimpleName();
        return root == failure ? message : message + ": " + (root instanceof java.nio.file.FileSystemException fs
                ? fileSystem(fs) : root.getClass().getSimpleName() + ": " + root.getMessage());
    }

    /** Writes {@code e}'s stack trace to a temp file; returns " (stack trace: PATH)", or "" if it cannot. */
    static String traceFile(Throwable e, String command) {
        try {
            java.nio.file.Path log = java.nio.file.Files.createTempFile("keyshift-" + command + "-", ".log");
            java.io.StringWriter trace = new java.io.StringWriter();
            e.printStackTrace(new java.io.PrintWriter(trace));
            java.nio.file.Files.writeString(log, trace.toString());
            return " (stack trace: " + log + ")";
        } catch (java.io.IOException | RuntimeException ignored) {
            return "";
        }
    }
}
