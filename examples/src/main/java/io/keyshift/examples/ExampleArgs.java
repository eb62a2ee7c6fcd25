package io.keyshift.examples;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The arguments every example takes: the trips file and an optional parallelism. A mistake fails with an
 * {@link IllegalArgumentException} that gives the usage and says what is wrong; {@code --help} prints the usage and
 * {@link #parse} returns null. No {@code System.exit}: submitted through Flink's web UI, REST API or in application
 * mode, {@code main} runs in the JobManager, which an exit would end (with every other job of a session cluster).
 *
 * @param trips the Bay Area bike-share trips CSV (gzipped or not), e.g. {@code ../shared/data/bayarea-bikeshare-2014/batrips.csv.gz},
 *              or a URI of a file system every Flink process reads ({@code s3://...}, {@code hdfs:/...},
 *              {@code file:/...} on a shared disk)
 * @param parallelism the keyshift stage's parallelism, >= 1 (default 4)
 */
record ExampleArgs(String trips, int parallelism) {
    /**
     * @return the arguments, or null after printing the usage for {@code --help}
     * @throws IllegalArgumentException with the usage and the mistake
     */
    static ExampleArgs parse(String[] args, Class<?> example) {
        String usage = "usage: flink run -c " + example.getName() + " keyshift-examples.jar <trips.csv.gz> [parallelism]";
        if (args.length == 1 && args[0].equals("--help")) {
            System.out.println(usage);
            return null;
        }
        if (args.length < 1 || args.length > 2) {
            throw fail(usage, args.length == 0 ? "the trips file is missing"
                    : "too many arguments (" + args.length + "), at most 2");
        }
        // a URI (scheme:/... or scheme://..., as Flink prints a location) of another file system (s3://, hdfs:/) is
        // Flink's to read: checked where it is opened; a file: URI is a file of this machine, and so is a path after
        // a drive letter (C:/data/trips.csv, which Flink's Path reads as one, not as a URI of scheme "C")
        boolean local = !args[0].matches("[A-Za-z][A-Za-z0-9+.-]+:/.*");
        Path file = local ? Path.of(args[0]) : fileUri(args[0], usage);
        if (file != null && !Files.exists(file)) {
            throw fail(usage, "trips file " + args[0] + " does not exist");
        }
        if (file != null && Files.isDirectory(file)) {
            throw fail(usage, "trips file " + args[0] + " is a directory: give the trips file in it");
        }
        if (file != null && !Files.isReadable(file)) {
            throw fail(usage, "trips file " + args[0] + " cannot be read");
        }
        int parallelism = 4;
        if (args.length == 2) {
            try {
                parallelism = Integer.parseInt(args[1]);
            } catch (NumberFormatException e) {
                parallelism = 0;
            }
            if (parallelism < 1) {
                throw fail(usage, "parallelism must be a positive integer, was " + args[1]);
            }
        }
        // absolute: on a cluster, the JobManager and TaskManagers resolve a relative path against their own
        // working directories
        return new ExampleArgs(local ? Path.of(args[0]).toAbsolutePath().toString() : args[0], parallelism);
    }

    /**
     * The local file of a {@code file:} URI as Flink reads it ({@link org.apache.flink.core.fs.Path}: the text
     * unescaped, {@code %20} is those three characters, a space is a space), null for another scheme.
     *
     * @throws IllegalArgumentException with the usage, for a URI Flink cannot read as a local file (one that names a
     *         host, {@code file://data/trips.csv}, which Flink refuses only once the job runs)
     */
    private static Path fileUri(String uri, String usage) {
        if (!uri.regionMatches(true, 0, "file:", 0, 5)) {
            return null;
        }
        java.net.URI read;
        try {
            read = new org.apache.flink.core.fs.Path(uri).toUri();
        } catch (IllegalArgumentException e) {
            throw fail(usage, "trips file " + uri + " is no path of a file: " + e.getMessage());
        }
        if (read.getAuthority() != null && !read.getAuthority().isEmpty()) {
            throw fail(usage, "trips file " + uri + " names the host '" + read.getAuthority() + "': Flink reads a "
                    + "file: URI of this machine only, file:///path or file:/path");
        }
        try {
            // (through a URI, as a file system of this machine reads one: file:///C:/trips.csv on Windows)
            return Path.of(new java.net.URI("file", null, read.getPath(), null));
        } catch (java.net.URISyntaxException | IllegalArgumentException e) {
            throw fail(usage, "trips file " + uri + " is no path of a file: " + e.getMessage());
        }
    }

    private static IllegalArgumentException fail(String usage, String problem) {
        return new IllegalArgumentException(problem + " (" + usage + ")");
    }
}
