package io.keyshift.serde;

import java.io.IOException;

/**
 * The check every keyshift composite serializer snapshot makes of its outer snapshot version when it is read: a
 * later build's format would be read with this build's layout (garbage, or an EOF deep in the restore), so any other
 * version is refused, naming the format.
 */
public final class OuterSnapshotFormat {
    private OuterSnapshotFormat() {}

    /**
     * @param what    the format's name in the message ("routing-key", "accumulator", ...)
     * @param version the outer version the savepoint holds
     * @param current the one this build writes and reads
     * @throws IOException if {@code version != current}
     */
    public static void require(String what, int version, int current) throws IOException {
        if (version != current) {
            throw new IOException("keyshift " + what + " format " + version + " in this savepoint; this build reads "
                    + "format " + current);
        }
    }
}
