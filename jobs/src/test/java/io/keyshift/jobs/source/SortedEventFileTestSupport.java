package io.keyshift.jobs.source;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a sorted event file in the format before 2026-11-29 (version 1: keys by writeUTF), for restore tests. */
public final class SortedEventFileTestSupport {
    private SortedEventFileTestSupport() {}

    /** Copies {@code current} (a file of the current format) into {@code target} in version 1. */
    public static void writeVersionOne(Path target, Path current) throws IOException {
        try (DataInputStream in = new DataInputStream(Files.newInputStream(current));
             DataOutputStream out = new DataOutputStream(Files.newOutputStream(target))) {
            out.writeInt(in.readInt());
            in.readInt();
            out.writeInt(1);
            long n = in.readLong();
            out.writeLong(n);
            for (long i = 0; i < n; i++) {
                out.writeLong(in.readLong());
                byte[] key = new byte[in.readInt()];
                in.readFully(key);
                out.writeUTF(new String(key, java.nio.charset.StandardCharsets.UTF_8));
                out.writeDouble(in.readDouble());
                out.writeLong(in.readLong());
            }
        }
    }
}
