package io.keyshift.control;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import java.io.Serializable;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One command of a keyshift stage's control input ({@code KeyshiftStream#control}): what the people who run a job
 * tell its planner, from an event time on. A command is one line of text, comma-separated, fields with a comma or a
 * quote in double quotes (RFC 4180):
 *
 * <pre>
 * AT,pin,KEY            the key stays on the key group it is on (it starts no migration, is not split, never goes home)
 * AT,unpin,KEY          the key may move again
 * AT,freeze             no migration starts (in-flight ones finish; leases still advance)
 * AT,unfreeze           planning moves keys again
 * AT,rollback,VERSION   every key goes back to the key group plan VERSION routed it to, as ordinary migrations with
 *                       their shadow phases; no other migration starts until all have switched over (pinned keys stay)
 * AT,scale,N           the stage's scaling decisions go to parallelism N (within keyshift.scaling.min/max-parallelism)
 *                       and stay there, whatever the scaling policy would decide
 * AT,unscale            the scaling policy decides again
 * AT,anomaly-z,Z        the forecaster flags a window's load as anomalous beyond Z standard deviations of its one-step
 *                       error (keyshift.forecast.anomaly-z), for the windows that end after AT
 * AT,sampling-rate,R    the routers sample keys at rate R in (0, 1] (keyshift.profiler.sampling-rate) in the planning
 *                       windows that start at or after AT (see KeyshiftStream#controlKnownInAdvance for when exactly)
 * AT,revert,KEY,KEY_GROUP[,IF_AT,SINCE[,REASON]]
 *                       the key goes back to KEY_GROUP (the one it came from) and is not moved again for
 *                       keyshift.migration.on-mismatch.hold; with IF_AT (a key group) and SINCE (a time) only if the
 *                       key has been routed to IF_AT since SINCE (else the revert is stale and dropped). With
 *                       keyshift.migration.on-mismatch=REVERT the planner writes these itself from the shadow
 *                       validation's mismatches (IF_AT = the shadow's key group, SINCE = the checked window's start)
 * # a comment line, and blank lines, are skipped
 * </pre>
 *
 * AT is an ISO-8601 instant ({@code 2014-03-01T00:00:00Z}), a date-time with offset ({@code 2014-03-01T00:00-08:00}),
 * or epoch milliseconds. A command holds for every plan whose migrations start at or after AT (a plan's migrations
 * start at its previous lease, see {@link io.keyshift.plan.RepartitionPlanner}). KEY is the key as plans name it
 * (for {@code String} keys, the key itself). Commands with the same AT apply in input order.
 */
public record ControlCommand(long at, Type type, String key, long version, String line) implements Serializable {

    /** The commands. */
    public enum Type {
        PIN, UNPIN, FREEZE, UNFREEZE, ROLLBACK, REVERT, SCALE, UNSCALE, ANOMALY_Z, SAMPLING_RATE;

        /** The command's name in a line: {@code pin}, ..., {@code anomaly-z}. */
        public String token() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** For ANOMALY_Z: the number of standard deviations ({@code key} holds its text). */
    public double anomalyZ() {
        return Double.parseDouble(key);
    }

    /** For SAMPLING_RATE: the rate, in (0, 1] ({@code key} holds its text). */
    public double samplingRate() {
        return Double.parseDouble(key);
    }

    /** For SCALE: the parallelism forced ({@code version} holds it). */
    public int parallelism() {
        return (int) version;
    }

    /** For REVERT: the key group to go back to ({@code version} holds it). */
    public int keyGroup() {
        return (int) version;
    }

    /** For REVERT: the reason given (the seventh field), or "". */
    public String reason() {
        if (type != Type.REVERT) {
            return "";
        }
        List<String> f = fields(line);
        return f.size() > 6 ? f.get(6) : "";
    }

    /** For REVERT with IF_AT: the time since which the key must have been routed to it (ms), else Long.MIN_VALUE. */
    public long ifSince() {
        if (type != Type.REVERT) {
            return Long.MIN_VALUE;
        }
        List<String> f = fields(line);
        return f.size() > 5 && !f.get(5).isBlank() ? timeAsGiven(f.get(5).strip()) : Long.MIN_VALUE;
    }

    /** For REVERT: the key group the key must still be routed to for the revert to apply, or -1 (always). */
    public int ifAtKeyGroup() {
        if (type != Type.REVERT) {
            return -1;
        }
        List<String> f = fields(line);
        return f.size() > 4 && !f.get(4).isBlank() ? Integer.parseInt(f.get(4).strip()) : -1;
    }

    /**
     * Parses one line.
     *
     * @return the command, or null for a blank or comment line
     * @throws IllegalArgumentException with the reason when the line is not a command
     */
    public static ControlCommand parse(String line) {
        return parse(line, true);
    }

    /**
     * A command line kept in state, restored: parsed as the build that accepted it did (a line holding U+FFFD, a
     * revert whose condition holds since now, a time outside the years 0001..9999, a number in hexadecimal or with a
     * Java suffix, a line of several lines joined into one), where {@link #parse(String)} would refuse it as it
     * arrives and so fail every restore.
     *
     * @throws IllegalArgumentException for a line no build accepted
     */
    public static ControlCommand parseKept(String line) {
        try {
            return parse(line, false);
        } catch (IllegalArgumentException e) {
            String oneLine = line.replaceAll("\\R", " ");
            if (oneLine.equals(line)) {
                throw e;
            }
            return parse(oneLine, false);
        }
    }

    /**
     * As {@link #parse(String)}; with {@code refuseReplacement} false a line holding U+FFFD, or a revert whose
     * condition holds since now, is parsed as any other (a command an earlier build accepted and kept in state,
     * restored: refused now, it would fail every restore).
     */
    static ControlCommand parse(String line, boolean refuseReplacement) {
        if (line == null) {
            throw new IllegalArgumentException("no line");
        }
        // a byte order mark (a file saved as "UTF-8 with BOM") is no part of the first command
        String trimmed = (line.startsWith("\uFEFF") ? line.substring(1) : line).strip();
        if (trimmed.startsWith("#") && (trimmed.indexOf('\n') >= 0 || trimmed.indexOf('\r') >= 0)) {
            // a value of several lines (a Kafka record, a library element) that begins with a comment: taken as a
            // comment whole, its commands were dropped without a word
            throw new IllegalArgumentException("one command per line");
        }
        if (trimmed.isEmpty() || trimmed.startsWith("#")) {
            return null;
        }
        if (refuseReplacement && trimmed.indexOf('\uFFFD') >= 0) {
            // what a decoder puts for bytes that are not UTF-8 (a Kafka record, a file in another encoding), and what
            // ControlProgress puts for a line's leading NUL: a pin of that key would name a key no record has
            throw new IllegalArgumentException("holds U+FFFD, the replacement for bytes that are not UTF-8 (or for a "
                    + "NUL at the line's start): write commands as UTF-8 text");
        }
        List<String> f = fields(trimmed);
        if (f.size() < 2) {
            throw new IllegalArgumentException("expected AT,COMMAND[,ARGUMENT]");
        }
        // a command kept in state by an earlier build, which took any time, is restored as it was
        long at = refuseReplacement ? time(f.get(0).strip()) : timeAsGiven(f.get(0).strip());
        String name = f.get(1).strip().toLowerCase(Locale.ROOT);
        Type type;
        try {
            type = Type.valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown command '" + f.get(1).strip()
                    + "' (pin, unpin, freeze, unfreeze, rollback, revert, scale, unscale, anomaly-z, "
                    + "sampling-rate)");
        }
        switch (type) {
            case PIN, UNPIN -> {
                if (f.size() != 3 || f.get(2).isEmpty() && !quotedEmpty(trimmed, 2)) {
                    throw new IllegalArgumentException(name + " needs one argument, the key");
                }
                return new ControlCommand(at, type, f.get(2), 0, trimmed);
            }
            case SCALE -> {
                if (f.size() != 3) {
                    throw new IllegalArgumentException("scale needs one argument, the parallelism");
                }
                int n;
                String given = f.get(2).strip();
                if (refuseReplacement && !WHOLE.matcher(given).matches()) {
                    // (Integer.parseInt took other scripts' digits and a minus sign)
                    throw new IllegalArgumentException(given.matches("-[0-9]+")
                            ? "scale: parallelism must be >= 1, was " + given
                            : "scale: parallelism '" + given + "' is not a whole number in decimal digits");
                }
                try {
                    n = Integer.parseInt(given);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("scale: parallelism " + given + " is out of range (at most "
                            + Integer.MAX_VALUE + ")");
                }
                if (n < 1) {
                    throw new IllegalArgumentException("scale: parallelism must be >= 1, was " + n);
                }
                return new ControlCommand(at, type, null, n, trimmed);
            }
            case ANOMALY_Z -> {
                number(f, "anomaly-z", "the number of standard deviations", "a number > 0", Double.POSITIVE_INFINITY,
                        refuseReplacement);
                return new ControlCommand(at, type, f.get(2).strip(), 0, trimmed);
            }
            case SAMPLING_RATE -> {
                number(f, "sampling-rate", "the rate in (0, 1]", "in (0, 1]", 1.0, refuseReplacement);
                return new ControlCommand(at, type, f.get(2).strip(), 0, trimmed);
            }
            case FREEZE, UNFREEZE, UNSCALE -> {
                if (f.size() != 2) {
                    throw new IllegalArgumentException(name + " takes no argument");
                }
                return new ControlCommand(at, type, null, 0, trimmed);
            }
            case ROLLBACK -> {
                if (f.size() != 3) {
                    throw new IllegalArgumentException("rollback needs one argument, the plan version");
                }
                long v;
                String given = f.get(2).strip();
                if (refuseReplacement && !WHOLE.matcher(given).matches()) {
                    throw new IllegalArgumentException(given.matches("-[0-9]+")
                            ? "rollback: plan version must be >= 1, was " + given
                            : "rollback: plan version '" + given + "' is not a whole number in decimal digits");
                }
                try {
                    v = Long.parseLong(given);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("rollback: plan version " + given + " is out of range (at most "
                            + Long.MAX_VALUE + ")");
                }
                if (v < 1) {
                    throw new IllegalArgumentException("rollback: plan version must be >= 1, was " + v);
                }
                return new ControlCommand(at, type, null, v, trimmed);
            }
            case REVERT -> {
                if (f.size() < 4 || f.size() == 5 || f.size() > 7 || f.get(2).isEmpty() && !quotedEmpty(trimmed, 2)) {
                    throw new IllegalArgumentException("revert needs the key and the key group to go back to "
                            + "(and may give the key group it must still be at with the time since when, and a "
                            + "reason)");
                }
                if (f.size() > 5 && !f.get(5).isBlank()) {
                    if (timeAsGiven(f.get(5).strip()) == NOW && refuseReplacement) {
                        // read back as "no time" (Long.MIN_VALUE): the condition would hold since any time
                        throw new IllegalArgumentException("revert: the time since when the key must have been at "
                                + "its key group is an event time, not now");
                    }
                }
                if (f.size() > 4 && !f.get(4).isBlank()) {
                    try {
                        // (decimal digits in ASCII where a line is read: parseInt takes other scripts' too; a line
                        // kept in a savepoint by an earlier build is read as that build read it)
                        if (refuseReplacement && !DIGITS.matcher(f.get(4).strip()).matches()
                                || Integer.parseInt(f.get(4).strip()) < 0) {
                            throw new NumberFormatException();
                        }
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("revert: key group '" + f.get(4).strip()
                                + "' is not a number >= 0");
                    }
                }
                int kg;
                try {
                    if (refuseReplacement && !DIGITS.matcher(f.get(3).strip()).matches()
                            && !f.get(3).strip().startsWith("-")) {
                        throw new NumberFormatException();
                    }
                    kg = Integer.parseInt(f.get(3).strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("revert: key group '" + f.get(3).strip() + "' is not a number");
                }
                if (kg < 0) {
                    throw new IllegalArgumentException("revert: key group must be >= 0, was " + kg);
                }
                return new ControlCommand(at, type, f.get(2), kg, trimmed);
            }
            default -> throw new IllegalStateException(type.toString());
        }
    }

    /** The mark the shadow validation's revert lines start with: a NUL character, which no user's line keeps. */
    private static final String GENERATED = "\u0000revert:";

    /** {@code line} (a {@link #revertLine}) marked as the shadow validation's own, for {@link #parseGenerated}. */
    public static String generatedRevert(String line) {
        return GENERATED + line;
    }

    /** Whether {@code line} is marked as the shadow validation's own revert ({@link #generatedRevert}). */
    public static boolean isGeneratedRevert(String line) {
        return line != null && line.startsWith(GENERATED);
    }

    /** {@code line} without its {@link #generatedRevert} mark. */
    public static String withoutGeneratedMark(String line) {
        return isGeneratedRevert(line) ? line.substring(GENERATED.length()) : line;
    }

    /**
     * Parses a line keyshift wrote itself (the shadow validation's revert): as {@link #parse}, but a key holding
     * U+FFFD is taken as it is (it names a key of the stream, not bytes that were not UTF-8).
     */
    public static ControlCommand parseGenerated(String line) {
        return parse(line, false);
    }

    /**
     * A revert line: {@code key} back to {@code keyGroup} from {@code at} if it is still routed to {@code ifAt}
     * (-1: always), with the reason.
     */
    public static String revertLine(long at, String key, int keyGroup, int ifAt, long since, String reason) {
        return line(at, Type.REVERT, key) + "," + keyGroup + "," + (ifAt >= 0 ? Integer.toString(ifAt) : "") + ","
                + (ifAt >= 0 ? Instant.ofEpochMilli(since).toString() : "") + "," + quoteField(reason);
    }

    /**
     * {@code line} with the key of a pin, unpin or revert command replaced by {@code f} of it, and a revert's reason
     * too (the other fields as they were); other commands, blank and comment lines as they are. A malformed line may
     * name a key anywhere: it keeps only what cannot be one (first an ISO time or now, not bare digits, which may be a
     * numeric key typed first; a command's name second; a plain decimal or time as the one argument of a command that
     * takes one and names no key; a revert's key groups and times) and has {@code f} of every other field; a line
     * that is not even CSV becomes {@code f} of itself. The planner refuses both, with the reason. A null line stays
     * null.
     */
    public static String mapKey(String line, java.util.function.UnaryOperator<String> f) {
        if (line == null) {
            // names no key; the planner refuses it
            return null;
        }
        ControlCommand c;
        try {
            c = parse(line);
        } catch (IllegalArgumentException e) {
            List<String> fs;
            try {
                fs = fields(line.strip());
            } catch (IllegalArgumentException notCsv) {
                return f.apply(line);
            }
            Type type = fs.size() > 1 ? typeOf(fs.get(1)) : null;
            for (int i = 0; i < fs.size(); i++) {
                String v = fs.get(i);
                boolean keep;
                if (i == 0) {
                    // an ISO time or now; bare digits (epoch milliseconds) may as well be a numeric key typed first
                    keep = isTime(v) && !v.strip().matches("-?[0-9]+");
                } else if (i == 1) {
                    keep = type != null;
                } else if (type == null || type == Type.PIN || type == Type.UNPIN) {
                    keep = false;
                } else if (type == Type.REVERT) {
                    // its key groups (fields 3 and 4) and time (5); the key, the reason and any further field go
                    keep = (i == 3 || i == 4) && (v.isBlank() || v.strip().matches("-?[0-9]+"))
                            || i == 5 && (v.isBlank() || isTime(v));
                } else {
                    // a command that names no key: its one argument is the value that was wrong, kept where it is a
                    // plain decimal or a time (what arguments are); other text, a command without arguments'
                    // argument and any further field may be a key typed in the wrong place
                    keep = i == 2 && type != Type.FREEZE && type != Type.UNFREEZE && type != Type.UNSCALE
                            && (v.isBlank() || isTime(v) || v.strip().matches("-?[0-9]+(\\.[0-9]+)?"));
                }
                if (!keep && !v.isBlank()) {
                    // a blank field stays blank: a key missing from a malformed line must not become the
                    // pseudonym of the empty key, which parses
                    fs.set(i, f.apply(v));
                }
            }
            return join(fs);
        }
        if (c == null || c.key() == null || !(c.type() == Type.PIN || c.type() == Type.UNPIN
                || c.type() == Type.REVERT)) {
            return line;
        }
        List<String> fs = fields(c.line());
        fs.set(2, f.apply(c.key()));
        if (c.type() == Type.REVERT && fs.size() > 6 && !fs.get(6).isBlank()) {
            // a revert's reason, as written into a control input, is free text that may name the key (the
            // validation's own reverts join the planner's input behind this map, with reasons that name none)
            fs.set(6, f.apply(fs.get(6)));
        }
        return join(fs);
    }

    /** The command named {@code token}, or null. */
    private static Type typeOf(String token) {
        try {
            return Type.valueOf(token.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static boolean isTime(String s) {
        try {
            timeAsGiven(s.strip());
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean isNumber(String s) {
        try {
            Double.parseDouble(s.strip());
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** The one argument of {@code name}, a number in (0, max] (finite); else the reason. */
    private static double number(List<String> f, String name, String argument, String range, double max,
                                 boolean strict) {
        if (f.size() != 3) {
            throw new IllegalArgumentException(name + " needs one argument, " + argument);
        }
        double v;
        String given = f.get(2).strip();
        if (given.startsWith("-") && DECIMAL.matcher(given.substring(1)).matches()) {
            throw new IllegalArgumentException(name + " must be " + range + ", was " + given);
        }
        if (strict && !DECIMAL.matcher(given).matches()) {
            // (Double.parseDouble took hexadecimal, 0x1p-2, and Java's suffixes, 0.25d)
            throw new IllegalArgumentException(name + ": '" + given + "' is not a decimal number");
        }
        try {
            v = Double.parseDouble(given);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": '" + given + "' is not a number");
        }
        if (Double.isInfinite(v)) {
            // (a number past a double's range: 1e400)
            throw new IllegalArgumentException(name + " must be a finite number, was " + f.get(2).strip());
        }
        if (!(v > 0 && v <= max)) {
            throw new IllegalArgumentException(name + " must be " + range + ", was " + f.get(2).strip());
        }
        return v;
    }

    private static String join(List<String> fs) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < fs.size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            // an empty field stays unquoted: a key missing from a malformed line must not become the empty-string
            // key ("", which parses)
            b.append(fs.get(i).isEmpty() ? "" : quoteField(fs.get(i)));
        }
        // a line of one empty field ("") stays a line, refused as before, not a blank one ignored without a word
        return b.length() == 0 && !fs.isEmpty() ? "\"\"" : b.toString();
    }

    /** {@code s} as one CSV field (RFC 4180 quoting where needed: separators, quotes, line breaks, outer blanks). */
    public static String quoteField(String s) {
        return s.contains(",") || s.contains("\"") || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0
                || !s.equals(s.strip()) || s.isEmpty() ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    /**
     * This command with its key replaced by {@code key} in the command and in its line (the other fields of the line
     * as they were), so that the line parses back to the same command, as a checkpoint of the waiting commands does.
     *
     * @throws IllegalStateException for a command without a key
     */
    public ControlCommand withKey(String key) {
        if (this.key == null) {
            throw new IllegalStateException(type.token() + " has no key");
        }
        List<String> f = new ArrayList<>(fields(line.strip()));
        f.set(2, key);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < f.size(); i++) {
            b.append(i == 0 ? "" : ",").append(quoteField(f.get(i)));
        }
        return new ControlCommand(at, type, key, version, b.toString());
    }

    /**
     * The time of a command written {@code now}: it holds from the first plan made after the command arrives (from
     * that plan's start for a sampling rate; from the next window for anomaly-z), whatever the event time, after the
     * timed commands due there; in a file read from the start (a replay), from the first plan (a sampling rate known
     * in advance, {@code KeyshiftStream#controlKnownInAdvance}: from the first window).
     */
    public static final long NOW = Long.MIN_VALUE;

    /** This command as a line that {@link #parse} reads back. */
    public static String line(long at, Type type, String argument) {
        StringBuilder b = new StringBuilder(at == NOW ? "now" : Instant.ofEpochMilli(at).toString()).append(',')
                .append(type.token());
        if (argument != null) {
            b.append(',').append(quoteField(argument));
        }
        return b.toString();
    }

    /**
     * An event time as commands give it: an ISO-8601 instant, a date-time with offset, epoch milliseconds, or
     * {@code now} ({@link #NOW}).
     *
     * @throws IllegalArgumentException saying which forms are accepted
     */
    public static long time(String s) {
        if (s.equalsIgnoreCase("now")) {
            return NOW;
        }
        long t = timeAsGiven(s);
        if (t != NOW && (t < MIN_TIME || t > MAX_TIME)) {
            // as a record's event time (a dead letter there): a command for the year 46,000 (epoch microseconds
            // taken for milliseconds) waited for ever, neither applied nor refused
            throw new IllegalArgumentException("time '" + s + "' is outside the years 0001..9999 (UTC), as event "
                    + "times are (epoch milliseconds are expected: epoch microseconds make a time that never comes)");
        }
        return t;
    }

    /** As {@link #time} without the bound of the years 0001..9999 (what an earlier build took). */
    private static long timeAsGiven(String s) {
        return s.equalsIgnoreCase("now") ? NOW : instant(s, ", nor now");
    }

    /** Earliest time of a command, epoch ms: 0001-01-01T00:00:00Z (as a record's event time). */
    public static final long MIN_TIME = Instant.parse("0001-01-01T00:00:00Z").toEpochMilli();
    /** Latest time of a command, epoch ms: 9999-12-31T23:59:59.999Z (as a record's event time). */
    public static final long MAX_TIME = Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli();

    /** Decimal digits in ASCII, as a whole number of a command is written. */
    private static final java.util.regex.Pattern WHOLE = java.util.regex.Pattern.compile("\\+?[0-9]+");
    /** Decimal digits in ASCII (a key group). */
    private static final java.util.regex.Pattern DIGITS = java.util.regex.Pattern.compile("[0-9]+");
    /**
     * A decimal number in ASCII (no hexadecimal, no Java suffix such as {@code d} or {@code f}). Possessive: a run of
     * digits is never split between two quantifiers, so a long argument that fails to match fails in linear time
     * (with {@code [0-9]+\\.?[0-9]*} a line of 300,000 digits and a letter took some 10^10 steps on the planner's
     * task thread, and the job stalled on that record at every restart).
     */
    private static final java.util.regex.Pattern DECIMAL =
            java.util.regex.Pattern.compile("\\+?(?:[0-9]++(?:\\.[0-9]*+)?|\\.[0-9]++)(?:[eE][+-]?[0-9]++)?");

    /**
     * An event time in epoch milliseconds from an ISO-8601 instant ({@code 2014-03-01T00:00:00Z}), a date-time with
     * offset or epoch milliseconds (no {@code now}: a time range of windows, as {@code keyshift profile} reads one).
     *
     * @throws IllegalArgumentException saying which forms are accepted, or that the time is beyond epoch milliseconds
     */
    public static long instant(String s) {
        return instant(s, "");
    }

    private static long instant(String s, String orNow) {
        if (s.matches("-?\\d+")) {
            long t;
            try {
                t = Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("time '" + s + "' is beyond the range of epoch milliseconds");
            }
            if (t == NOW) {
                // the sentinel of now: as a time it would have been read as now
                throw new IllegalArgumentException("time '" + s + "' is beyond the range of event times");
            }
            return t;
        }
        long t;
        try {
            t = Instant.parse(s).toEpochMilli();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("time '" + s + "' is beyond the range of epoch milliseconds");
        } catch (DateTimeParseException e) {
            try {
                t = OffsetDateTime.parse(s).toInstant().toEpochMilli();
            } catch (ArithmeticException e2) {
                throw new IllegalArgumentException("time '" + s + "' is beyond the range of epoch milliseconds");
            } catch (DateTimeParseException e2) {
                throw new IllegalArgumentException("time '" + s + "' is neither an ISO-8601 instant "
                        + "(2014-03-01T00:00:00Z), a date-time with offset" + (orNow.isEmpty() ? " nor" : ",")
                        + " epoch milliseconds" + orNow);
            }
        }
        if (t == NOW) {
            // the sentinel of now, spelt as an instant (-292275055-05-16T16:47:04.192Z): read as now before
            throw new IllegalArgumentException("time '" + s + "' is beyond the range of event times");
        }
        return t;
    }

    /**
     * Whether field {@code index} of {@code line} is a quoted empty field ({@code ""}: the empty-string key, as
     * {@link #quoteField} writes it), not a missing one (nothing between the separators).
     */
    private static boolean quotedEmpty(String line, int index) {
        // a strict quote mode reads an unquoted empty field as null and a quoted one as ""
        try (CSVParser p = CSVParser.parse(line, CSVFormat.RFC4180.builder().setIgnoreSurroundingSpaces(true)
                .setQuoteMode(org.apache.commons.csv.QuoteMode.ALL_NON_NULL).build())) {
            List<CSVRecord> records = p.getRecords();
            return records.size() == 1 && records.get(0).size() > index && "".equals(records.get(0).get(index));
        } catch (java.io.IOException | java.io.UncheckedIOException | IllegalStateException e) {
            return false;
        }
    }

    /** RFC 4180 fields of one line (Commons CSV), each stripped of surrounding blanks. */
    private static List<String> fields(String line) {
        try (CSVParser p = CSVParser.parse(line, CSVFormat.RFC4180.builder().setIgnoreSurroundingSpaces(true).build())) {
            List<CSVRecord> records = p.getRecords();
            if (records.size() != 1) {
                throw new IllegalArgumentException("one command per line");
            }
            List<String> out = new ArrayList<>();
            records.get(0).forEach(out::add);
            return out;
        } catch (java.io.IOException | java.io.UncheckedIOException | IllegalStateException e) {
            throw new IllegalArgumentException("not a CSV line: " + e.getMessage());
        }
    }
}
