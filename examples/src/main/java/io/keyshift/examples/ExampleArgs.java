package io.keyshift.examples;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The arguments every example takes: the trips file and an optional parallelism. A mistake prints the usage and one
 * line saying what is wrong, and exits with status 2.
 *
 * @param trips the Bay Area bike-share trips CSV (gzipped or not), e.g. {@code ../shared/data/bayarea-bikeshare-2014/batrips.csv.gz}
 * @param parallelism the keyshift stage's parallelism, >= 1 (default 4)
 */
record ExampleArgs(String trips, int parallelism) {
    static ExampleArgs parse(String[] args, Class<?> example) {
        String usage = "usage: flink run -c " + example.getName() + " keyshift-examples.jar <trips.csv.gz> [parallelism]";
        if (args.length < 1 || args.length > 2 || args[0].equals("--help")) {
            // --help: the usage alone, exit 0
            fail(usage, args.length == 0 ? "the trips file is missing"
                    : args.length > 2 ? "too many arguments (" + args.length + "), at most 2" : null);
        }
        if (!Files.isRegularFile(Path.of(args[0]))) {
            fail(usage, "trips file " + args[0] + " does not exist");
        }
        int parallelism = 4;
        if (args.length == 2) {
            try {
                parallelism = Integer.parseInt(args[1]);
            } catch (NumberFormatException e) {
                parallelism = 0;
            }
            if (parallelism < 1) {
                fail(usage, "parallelism must be a positive integer, was " + args[1]);
            }
        }
        // absolute: on a cluster, the JobManager and TaskManagers resolve a relative path against their own
        // working directories
        return new ExampleArgs(java.nio.file.Path.of(args[0]).toAbsolutePath().toString(), parallelism);
    }

    private static void fail(String usage, String problem) {
        System.err.println(usage);
        if (problem != null) {
            System.err.println("error: " + problem);
        }
        System.exit(problem == null ? 0 : 2);
    }
}
