package io.keyshift.jobs;

import java.nio.file.Path;

/** Local paths handed to Flink as strings (checkpoint and savepoint directories, a savepoint to read). */
public final class LocalPaths {
    private LocalPaths() {
    }

    /**
     * {@code p} as a {@code file://} URI string that Flink's {@link org.apache.flink.core.fs.Path} reads back as
     * {@code p}: the path is not percent-encoded, since Flink encodes it once more (from {@link Path#toUri()}, a
     * directory {@code my out} would become {@code my%20out}, a sibling of the one meant). The scheme keeps a
     * configured {@code fs.default-scheme} (HDFS, S3) from taking a local path as its own.
     */
    public static String uri(Path p) {
        return "file://" + resolved(p);
    }

    /**
     * {@code p} for a check whether it lies in a directory ({@link #real} of that directory): its parent's real path
     * and its own name (a file that is a link stays itself: a link in {@code --out} is in it), so that two spellings of
     * one directory (a link to it, the working directory's physical path) compare equal.
     */
    public static Path resolvedForContainment(Path p) {
        Path abs = p.toAbsolutePath();
        Path name = abs.getFileName();
        return name == null || name.toString().equals("..") || name.toString().equals(".") ? real(abs)
                : real(abs.getParent()).resolve(name);
    }

    /**
     * {@code p} absolute and normalized as the file system reads it: where it holds {@code ..}, the part up to the last
     * {@code ..} is resolved through {@link #real} first ({@code link/..} is the link's target's parent; Flink's paths
     * normalize {@code ..} as text, so a command would check one directory and Flink write or read another); a path
     * without {@code ..} keeps its links (a cluster at {@code --rest} may mount a directory that is a link here under
     * the name given).
     */
    public static Path resolved(Path p) {
        Path abs = p.toAbsolutePath();
        int last = -1;
        for (int i = 0; i < abs.getNameCount(); i++) {
            if (abs.getName(i).toString().equals("..")) {
                last = i;
            }
        }
        if (last < 0) {
            return abs.normalize();
        }
        Path head = real(abs.getRoot().resolve(abs.subpath(0, last + 1)));
        return last + 1 < abs.getNameCount() ? head.resolve(abs.subpath(last + 1, abs.getNameCount())).normalize()
                : head;
    }

    /**
     * {@code p} as the file system names it: its nearest existing ancestor's real path (symbolic links resolved, the
     * case a case-insensitive file system keeps) and the names below it, normalized; the absolute, normalized path
     * where that cannot be read. Links are resolved before {@code ..} is: {@code link/..} is the link's target's
     * parent, as the file system reads it (Flink's own paths normalize {@code ..} as text, so a path with it is handed
     * to Flink resolved, or a command would check one directory and Flink write or read another).
     */
    public static Path real(Path p) {
        Path abs = p.toAbsolutePath();
        java.util.ArrayDeque<Path> below = new java.util.ArrayDeque<>();
        Path existing = abs;
        while (existing != null && !java.nio.file.Files.exists(existing)) {
            below.push(existing.getFileName());
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs.normalize();
        }
        try {
            Path real = existing.toRealPath();
            while (!below.isEmpty()) {
                real = real.resolve(below.pop());
            }
            return real.normalize();
        } catch (java.io.IOException e) {
            return abs.normalize();
        }
    }
}
