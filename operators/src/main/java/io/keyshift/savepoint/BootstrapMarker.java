package io.keyshift.savepoint;

/**
 * Whether a savepoint is a bootstrap savepoint ({@link ForecasterBootstrap#write}: the forecaster's state alone, marked
 * by the file {@link #MARKER} beside its metadata). Apart from {@link ForecasterBootstrap} because this class needs only
 * Flink's file systems: a job's {@code main} calls it when restored ({@code flink run -s}, a Kubernetes operator's
 * savepoint upgrade), where the State Processor API that {@code ForecasterBootstrap} links against is not on the class
 * path (it is not in a Flink distribution's {@code lib/}, nor in keyshift's job jar).
 */
public final class BootstrapMarker {
    private BootstrapMarker() {}

    /**
     * A file {@link ForecasterBootstrap#write} puts beside the savepoint's metadata: a job started from this savepoint
     * starts its outputs afresh (it continues no earlier run), which the cluster job's check of its {@code --out} needs
     * to know.
     */
    public static final String MARKER = "_keyshift-bootstrap";

    /**
     * The file {@link ForecasterBootstrap} puts beside the metadata of a copy of a job's own savepoint (not a
     * bootstrap) that it added stages to: the same lines as a {@link #MARKER}'s (the stages added and what each was
     * made for), without making the copy a bootstrap (a job started from it continues the base job's run). From
     * 2026-12-06 on; where a savepoint has both, the marker's lines count.
     */
    public static final String STAGES_FILE = "_keyshift-stages";

    /**
     * Whether the savepoint at {@code path} (its directory or its {@code _metadata} file) was written by
     * {@link ForecasterBootstrap#write}; false where that cannot be read.
     */
    public static boolean isBootstrap(String path) {
        return Boolean.TRUE.equals(bootstrapIfKnown(path));
    }

    /**
     * Whether the savepoint at {@code path} (its directory or its {@code _metadata} file) was written by
     * {@link ForecasterBootstrap#write}; null where this JVM cannot tell (no file system for the path's scheme, e.g.
     * {@code s3://} in a client without Flink's plugins, the path unreadable, or no savepoint there as this JVM sees
     * it: a path of the cluster's machines that this client does not have).
     */
    public static Boolean bootstrapIfKnown(String path) {
        try {
            org.apache.flink.core.fs.Path p = new org.apache.flink.core.fs.Path(path);
            if (p.getName().equals("_metadata")) {
                p = p.getParent();
            }
            org.apache.flink.core.fs.FileSystem fs = p.getFileSystem();
            if (!fs.exists(new org.apache.flink.core.fs.Path(p, "_metadata"))) {
                // (a missing marker here said "not a bootstrap" of a savepoint this client cannot see)
                return null;
            }
            return fs.exists(new org.apache.flink.core.fs.Path(p, MARKER));
        } catch (Exception | LinkageError e) {
            return null;
        }
    }

    /** The marker's line prefix that names a stage the savepoint warm-starts (its uid prefix). */
    static final String STAGE = "stage=";

    /**
     * The marker's line prefix of a stage's attribute, {@code stage.<uid prefix>.<name>=<value>}: what the stage's
     * state was made for ({@link #WINDOW_MILLIS}, {@link #MAX_PARALLELISM}, {@link #KEY_TYPE}; bootstraps from
     * 2026-12-06 on), which a job can check before it starts.
     */
    static final String ATTRIBUTE = "stage.";
    /** Attribute: the planning window the forecaster's state was made from, in ms. */
    public static final String WINDOW_MILLIS = "window-ms";
    /** Attribute: the stage's key groups (max parallelism). */
    public static final String MAX_PARALLELISM = "max-parallelism";
    /** Attribute: the stage's key type ({@code TypeInformation#toString()}: a key's key group is its hash as that type). */
    public static final String KEY_TYPE = "key-type";

    /**
     * The attributes the marker of the bootstrap savepoint at {@code path} (or its {@link #STAGES_FILE}) records for
     * stage {@code uidPrefix} (name to value; empty for a marker of an earlier build, no marker, or one that cannot be
     * read).
     */
    public static java.util.Map<String, String> attributes(String path, String uidPrefix) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        String prefix = ATTRIBUTE + uidPrefix + ".";
        for (String line : lines(path)) {
            if (isAttributeOf(line, uidPrefix)) {
                int eq = line.indexOf('=');
                out.put(line.substring(prefix.length(), eq), line.substring(eq + 1).strip());
            }
        }
        return out;
    }

    /**
     * Whether {@code line} is an attribute of stage {@code uidPrefix}: {@code stage.<uidPrefix>.<name>=...} with a name
     * without dots (a uid prefix may hold dots: stage {@code a}'s are not stage {@code a.b}'s).
     */
    static boolean isAttributeOf(String line, String uidPrefix) {
        String prefix = ATTRIBUTE + uidPrefix + ".";
        int eq = line.indexOf('=');
        if (!line.startsWith(prefix) || eq <= prefix.length()) {
            return false;
        }
        int dot = line.indexOf('.', prefix.length());
        return dot < 0 || dot > eq;
    }

    /** The attribute lines of the marker at {@code path} ({@code stage.<prefix>.<name>=<value>}), in order. */
    static java.util.List<String> attributeLines(String path) {
        return lines(path).stream().filter(l -> l.startsWith(ATTRIBUTE)).toList();
    }

    private static java.util.List<String> lines(String path) {
        try {
            org.apache.flink.core.fs.Path p = new org.apache.flink.core.fs.Path(path);
            if (p.getName().equals("_metadata")) {
                p = p.getParent();
            }
            org.apache.flink.core.fs.Path marker = new org.apache.flink.core.fs.Path(p, MARKER);
            if (!marker.getFileSystem().exists(marker)) {
                marker = new org.apache.flink.core.fs.Path(p, STAGES_FILE);
            }
            java.util.List<String> lines = new java.util.ArrayList<>();
            try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(
                    marker.getFileSystem().open(marker), java.nio.charset.StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    lines.add(line);
                }
            }
            return lines;
        } catch (Exception | LinkageError e) {
            return java.util.List.of();
        }
    }

    /**
     * The uid prefixes of the stages whose forecaster the bootstrap savepoint at {@code path} holds, as its marker
     * names them (a marker of a build before 2026-12-06 names none: empty), or, for a job's savepoint that stages were
     * bootstrapped onto, its {@link #STAGES_FILE} names (the stages added, not the job's own); empty too where there
     * is neither or it cannot be read.
     */
    public static java.util.List<String> stages(String path) {
        return lines(path).stream().filter(l -> l.startsWith(STAGE)).map(l -> l.substring(STAGE.length()).strip())
                .toList();
    }
}
