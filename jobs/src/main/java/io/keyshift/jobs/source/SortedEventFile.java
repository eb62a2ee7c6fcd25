package io.keyshift.jobs.source;

import io.keyshift.jobs.event.Event;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Events sorted by event time in a binary file (the replay's prepared input), read as an {@link EventSpace}.
 *
 * <p>Format, version 2: magic "KSEV", int version, long count, then per event: long timestamp, int key length and the
 * key in UTF-8, double value, long sequence (version 1, until 2026-11-29, wrote the key with writeUTF; {@link #open}
 * and {@link #convert} read it). Written once by {@link #write}; a truncated or foreign file fails with an IOException
 * naming the path.
 */
public final class SortedEventFile implements EventSpace {
    private static final long serialVersionUID = 1L;
    private static final int MAGIC = 0x4B534556;
    private static final int VERSION = 2;

    private final String path;
    private final long size;
    /** CRC-32C of the events' fields, mixed with their count (see {@link #fingerprint()}). */
    private final long fingerprint;
    private final boolean currentFormat;

    private SortedEventFile(String path, long size, long fingerprint, boolean currentFormat) {
        this.path = path;
        this.size = size;
        this.fingerprint = fingerprint;
        this.currentFormat = currentFormat;
    }

    /** Writes {@code events} (must be sorted by timestamp) to {@code file} and returns the space over it. */
    public static SortedEventFile write(Path file, List<Event> events) throws IOException {
        long last = Long.MIN_VALUE;
        Digest digest = new Digest();
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16))) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeLong(events.size());
            for (Event e : events) {
                if (e.timestamp < last) {
                    throw new IllegalArgumentException("events are not sorted by time at sequence " + e.sequence);
                }
                last = e.timestamp;
                out.writeLong(e.timestamp);
                // length-prefixed UTF-8: writeUTF refuses keys over 65,535 bytes
                byte[] key = e.key.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                out.writeInt(key.length);
                out.write(key);
                out.writeDouble(e.value);
                out.writeLong(e.sequence);
                digest.add(e.timestamp, key, e.value, e.sequence);
            }
        }
        return new SortedEventFile(file.toAbsolutePath().toString(), events.size(), digest.fingerprint(events.size()),
                true);
    }

    /**
     * Moves this space's file to {@code to} (replacing a file there, by an atomic rename: a reader opening {@code to}
     * meanwhile finds the old file or the new one, never none; both in one directory) and returns the space over it
     * there: the same events, size and fingerprint, without reading the file again.
     */
    public SortedEventFile moveTo(Path to) throws IOException {
        // (without ATOMIC_MOVE the JDK unlinks the target first, then renames)
        Files.move(Path.of(path), to, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return new SortedEventFile(to.toAbsolutePath().toString(), size, fingerprint, currentFormat);
    }

    /**
     * Opens an existing file written by {@link #write}, reading it whole for its fingerprint: of this format or of
     * version 1 (keys in modified UTF-8, until 2026-11-29), which has the same fingerprint as the same events written
     * now but cannot be read as a space ({@link #currentFormat()}). An IOException names a file that is not one, of an
     * unknown version, truncated or damaged.
     */
    public static SortedEventFile open(Path file) throws IOException {
        Digest digest = new Digest();
        long[] size = {0};
        boolean current = readAll(file, (t, key, value, sequence) -> {
            digest.add(t, key, value, sequence);
            size[0]++;
        });
        return new SortedEventFile(file.toAbsolutePath().toString(), size[0], digest.fingerprint(size[0]), current);
    }

    /**
     * Writes the events of {@code from} (of either version) to {@code to} in the current format, in their order: the
     * same events, so read positions into {@code from} hold in {@code to}.
     */
    public static SortedEventFile convert(Path from, Path to) throws IOException {
        List<Event> events = new java.util.ArrayList<>();
        readAll(from, (t, key, value, sequence) -> events.add(
                new Event(t, new String(key, java.nio.charset.StandardCharsets.UTF_8), value, sequence)));
        return write(to, events);
    }

    /** One event's fields, as read. */
    private interface EventSink {
        void accept(long timestamp, byte[] key, double value, long sequence);
    }

    /**
     * Reads every event of a file of version 1 or 2 into {@code sink}; true for the current version. An IOException
     * names a file that is not one, of an unknown version, truncated or damaged (a count or key length the file cannot
     * hold, bytes after the last event).
     */
    private static boolean readAll(Path file, EventSink sink) throws IOException {
        long bytes = Files.size(file);
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            if (in.readInt() != MAGIC) {
                throw new IOException(file + " is not a keyshift sorted event file");
            }
            int version = in.readInt();
            if (version != 1 && version != VERSION) {
                throw new IOException(file + ": unknown sorted event file version " + version);
            }
            long size = in.readLong();
            // an event takes at least 26 bytes (time, value, sequence and a key's length, 2 bytes in version 1)
            if (size < 0 || size > (bytes - 16) / 26) {
                throw new IOException(file + " is damaged: a count of " + size + " events");
            }
            long consumed = 16;
            for (long i = 0; i < size; i++) {
                long t = in.readLong();
                byte[] key;
                if (version == 1) {
                    key = in.readUTF().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                } else {
                    int length = in.readInt();
                    if (length < 0 || length > bytes - consumed - 28) {
                        throw new IOException(file + " is damaged: a key of " + length + " bytes");
                    }
                    key = new byte[length];
                    in.readFully(key);
                    consumed += 28 + length;
                }
                sink.accept(t, key, in.readDouble(), in.readLong());
            }
            if (in.read() != -1) {
                throw new IOException(file + " is damaged: bytes after its " + size + " events");
            }
            return version == VERSION;
        } catch (EOFException e) {
            throw new IOException(file + " is truncated", e);
        }
    }

    /** Whether this file is of the format {@link #open(int, int, long)} reads (a version-1 file is not). */
    public boolean currentFormat() {
        return currentFormat;
    }

    /** CRC-32C over the events' fields (not the file's bytes: a format change keeps the fingerprint of equal events). */
    private static final class Digest {
        private final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        private final java.nio.ByteBuffer fields = java.nio.ByteBuffer.allocate(28);

        void add(long timestamp, byte[] key, double value, long sequence) {
            fields.clear();
            fields.putLong(timestamp).putInt(key.length).putDouble(value).putLong(sequence).flip();
            crc.update(fields);
            crc.update(key);
        }

        long fingerprint(long size) {
            long f = crc.getValue() ^ size * 0x9E3779B97F4A7C15L;
            return f == 0 ? 1 : f;
        }
    }

    /** The CRC-32C of the events' fields (time, key, value, sequence) mixed with their count; never 0. */
    @Override
    public long fingerprint() {
        return fingerprint;
    }

    private static long readHeader(DataInputStream in, String path) throws IOException {
        if (in.readInt() != MAGIC) {
            throw new IOException(path + " is not a keyshift sorted event file");
        }
        int v = in.readInt();
        if (v != VERSION) {
            throw new IOException(path + ": unknown sorted event file version " + v);
        }
        return in.readLong();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public Cursor open(int offset, int stride, long position) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(Path.of(path)), 1 << 16));
        long first = offset + position * stride;
        Event head;
        try {
            long count = readHeader(in, path);
            if (count != size) {
                // another sorted input renamed over this one (a job's copy replaced while a recovered job graph still
                // names the old): read on, it would stop at the old count or fail as truncated at every restart
                throw new org.apache.flink.runtime.execution.SuppressRestartsException(new IllegalStateException(
                        path + " holds " + count + " events, not the " + size + " of the input this job was built "
                        + "with: another input replaced it; restore with the input the job read, or start a new job "
                        + "into a new --out"));
            }
            for (long i = 0; i < Math.min(first, size); i++) {
                read(in);
            }
            head = first < size ? readOrFail(in) : null;
        } catch (IOException | RuntimeException e) {
            // a truncated or foreign file: the stream must not outlive the failed open (one per split and restart)
            in.close();
            throw e;
        }
        return new Cursor() {
            long index = first;
            Event next = head;

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public Event next() {
                if (next == null) {
                    throw new NoSuchElementException();
                }
                Event e = next;
                long target = index + stride;
                try {
                    for (long i = index + 1; i < Math.min(target, size); i++) {
                        read(in);
                    }
                    index = target;
                    next = index < size ? readOrFail(in) : null;
                } catch (IOException ex) {
                    throw new java.io.UncheckedIOException(path + ": cannot read event " + target, ex);
                }
                return e;
            }

            @Override
            public void close() throws IOException {
                in.close();
            }
        };
    }

    private Event readOrFail(DataInputStream in) {
        try {
            return read(in);
        } catch (EOFException e) {
            throw new java.io.UncheckedIOException(path + " is truncated", e);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Event read(DataInputStream in) throws IOException {
        long t = in.readLong();
        int length = in.readInt();
        if (length < 0) {
            throw new IOException("damaged: a key of " + length + " bytes");
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        String key = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        double v = in.readDouble();
        long seq = in.readLong();
        return new Event(t, key, v, seq);
    }
}
