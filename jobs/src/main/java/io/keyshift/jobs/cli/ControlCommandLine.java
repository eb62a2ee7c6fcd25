package io.keyshift.jobs.cli;

import io.keyshift.control.ControlCommand;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code keyshift control COMMAND [ARG]}: writes one control command for a job's planner: appended to a file that a
 * replay or job reads once ({@code --control FILE}), or as a new file in the directory a running job watches
 * ({@code --control-dir DIR}). The command is checked before it is written.
 */
@Command(name = "control",
        header = "Writes a control command (pin, freeze, rollback, scale, ...) for a job or a replay.",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Writes a control command for a keyshift job: pin KEY, unpin KEY, freeze, unfreeze,",
            "rollback VERSION, scale N (force the scaling decisions to parallelism N), unscale, anomaly-z Z (the",
            "forecaster's anomaly threshold), sampling-rate R (the routers' sampling rate, in (0, 1]). It holds",
            "for the plans whose migrations start at or after --at (anomaly-z: the windows that end after it;",
            "sampling-rate: the windows that start at or after it).",
            "A running job reads new commands only from the directory it watches (--dir): it read its --control",
            "file once, when it started, and a resume refuses a file that changed since.",
            "Exit status: 0 written, 1 the file or directory could not be written (an I/O error while writing),",
            "2 bad command or options (among them a --file whose directory is missing or not writable, a --dir",
            "that is not a writable directory)."},
        footer = {"", "Examples:",
            "  bin/keyshift control --file control.csv --at 2014-03-01T00:00:00Z pin 'Market at 4th'",
            "  bin/keyshift control --dir /flink-data/control freeze        # a running job, from its next plan",
            "  bin/keyshift control --file control.csv --at 2014-09-01T00:00:00Z sampling-rate 0.25"})
public final class ControlCommandLine implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The commands a person writes (revert is keyshift's own). */
    static final List<String> COMMANDS = List.of("pin", "unpin", "freeze", "unfreeze", "rollback", "scale", "unscale",
            "anomaly-z", "sampling-rate");

    @Parameters(index = "0", paramLabel = "COMMAND", description = "pin, unpin, freeze, unfreeze, rollback, scale, "
            + "unscale, anomaly-z or sampling-rate.")
    String command;

    @Parameters(index = "1", arity = "0..1", paramLabel = "ARG", description = "The key (pin, unpin), the plan "
            + "version (rollback), the parallelism (scale), the z (anomaly-z) or the rate (sampling-rate).")
    String argument;

    @Option(names = "--at", paramLabel = "TIME", description = "Event time the command holds from: an ISO-8601 "
            + "instant, epoch milliseconds, or now: from the next plan the job makes after it reads the command, "
            + "whatever its event time (in a replay, from the first plan). Default: now.")
    String at;

    @Option(names = "--file", paramLabel = "FILE", description = "Append to this file (for the --control FILE of a replay or of a job "
            + "not yet started; a running job does not read it again).")
    Path file;

    @Option(names = "--dir", paramLabel = "DIR", description = "Write a new file into this directory (for a job's "
            + "--control-dir DIR).")
    Path dir;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if ((file == null) == (dir == null)) {
            throw new ParameterException(cl, "give exactly one of --file and --dir");
        }
        // as control files read a command: any case, '_' for '-', spaces around it
        String commandName = command.strip().toLowerCase(Locale.ROOT).replace('_', '-');
        if (commandName.equals("revert")) {
            // the validator's fallback loop writes it (with the key group and the reason); a person moves a key by pin
            throw new ParameterException(cl, "revert is written by keyshift itself (keyshift.migration.on-mismatch="
                    + "revert); to keep a key where it is, pin it");
        }
        if (!COMMANDS.contains(commandName)) {
            throw new ParameterException(cl, "unknown command '" + command + "' (" + String.join(", ", COMMANDS)
                    + ")");
        }
        if (argument != null && (argument.indexOf('\n') >= 0 || argument.indexOf('\r') >= 0)) {
            // the job reads its control input line by line: such a key would arrive as two refused lines
            throw new ParameterException(cl, "a key with a line break cannot be sent as a control command (the job "
                    + "reads one command per line)");
        }
        FlinkOptions.requireDecoded(cl, "the key", argument);
        if (at != null) {
            try {
                // one field: joined into the line below, "now,pin" made --at freeze a pin of a key named "freeze"
                ControlCommand.time(at.strip());
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, "--at: " + e.getMessage());
            }
        }
        String time = at != null ? at : "now";
        List<String> fields = new ArrayList<>(List.of(time, commandName));
        ControlCommand parsed;
        try {
            String probe = argument == null ? String.join(",", fields)
                    : String.join(",", fields) + "," + ControlCommand.quoteField(argument);
            parsed = ControlCommand.parse(probe);
        } catch (IllegalArgumentException e) {
            // the time is --at's: say so when it is the time that does not parse
            throw new ParameterException(cl, (at != null && e.getMessage() != null && e.getMessage().contains("'" + at
                    + "'") ? "--at: " : "") + e.getMessage());
        }
        if (parsed.at() != ControlCommand.NOW && (parsed.at() < io.keyshift.jobs.input.EventParser.MIN_EVENT_TIME
                || parsed.at() > io.keyshift.jobs.input.EventParser.MAX_EVENT_TIME)) {
            // as a record's event time: a command for the year 3170843 would wait for ever
            throw new ParameterException(cl, "--at must lie in the years 0001..9999 (UTC), as event times do, was "
                    + at);
        }
        String line = ControlCommand.line(parsed.at(), parsed.type(), parsed.key() != null ? parsed.key()
                : parsed.type() == ControlCommand.Type.ROLLBACK || parsed.type() == ControlCommand.Type.SCALE
                        ? Long.toString(parsed.version()) : null) + "\n";
        if (file != null) {
            if (Files.exists(file) && !Files.isRegularFile(file)) {
                throw new ParameterException(cl, "--file: not a regular file: " + file);
            }
            if (org.apache.flink.connector.file.src.compression.StandardDeCompressors
                    .getDecompressorForFileName(file.getFileName().toString()) != null) {
                // a job reads such a file decompressed, and text after the compressed stream is ignored: the command
                // was appended without a word and never applied
                throw new ParameterException(cl, "--file " + file + " is compressed (a job reads it decompressed): "
                        + "a command cannot be appended to it; steer with a plain control file or --dir");
            }
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) {
                throw new ParameterException(cl, "--file: no such directory: " + parent);
            }
            if (Files.exists(file) ? !Files.isWritable(file) : parent != null && !Files.isWritable(parent)) {
                throw new ParameterException(cl, "--file: not writable: " + (Files.exists(file) ? file : parent));
            }
            if (endsWithoutNewline(file)) {
                // a file edited by hand may lack its last line's newline: the new command must not join that line
                line = "\n" + line;
            }
            Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            KeyshiftCli.result("appended to " + file + ": " + line.strip());
            System.out.println("appended to " + file + ": " + line.strip());
        } else {
            if (!Files.isDirectory(dir)) {
                throw new ParameterException(cl, "--dir: not a directory: " + dir);
            }
            if (!Files.isWritable(dir)) {
                throw new ParameterException(cl, "--dir: not writable: " + dir);
            }
            // written under a hidden name and renamed, so that the job never reads half a file
            // a random part too: two commands of one millisecond from processes of the same PID (containers sharing
            // the directory) had one name, and the second's rename replaced the first's file before it was read
            String name = "control-" + System.currentTimeMillis() + "-" + ProcessHandle.current().pid() + "-"
                    + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong() >>> 1) + ".csv";
            Path tmp = dir.resolve("." + name);
            try {
                // on disk before it is named and said written: a crash after "wrote" could leave an empty file the
                // job read as no command
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp,
                        StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
                    while (bytes.hasRemaining()) {
                        ch.write(bytes);
                    }
                    ch.force(true);
                }
                Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
                try (java.nio.channels.FileChannel d = java.nio.channels.FileChannel.open(dir,
                        StandardOpenOption.READ)) {
                    d.force(true);
                } catch (java.io.IOException | UnsupportedOperationException e) {
                    // a file system (or an OS) that cannot sync a directory: the rename stands as the OS keeps it
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
            KeyshiftCli.result("wrote " + dir.resolve(name) + ": " + line.strip());
            System.out.println("wrote " + dir.resolve(name) + ": " + line.strip());
        }
        return 0;
    }

    /** True if {@code file} exists, is not empty and its last byte is not a line feed. */
    static boolean endsWithoutNewline(Path file) throws java.io.IOException {
        if (!Files.isRegularFile(file) || Files.size(file) == 0) {
            return false;
        }
        try (java.nio.channels.SeekableByteChannel ch = Files.newByteChannel(file)) {
            ch.position(ch.size() - 1);
            java.nio.ByteBuffer last = java.nio.ByteBuffer.allocate(1);
            ch.read(last);
            return last.get(0) != '\n';
        }
    }
}
