package io.keyshift.jobs.source;

import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * Split {@code offset} of {@code stride}: the events {@code offset, offset + stride, offset + 2 * stride, ...} of an
 * {@link EventSpace}, of which the first {@code position} have been emitted, and the {@link EventSpace#fingerprint()}
 * of the space they were read from (0: not known, a checkpoint of a build before fingerprints).
 */
public record StrideSplit(int offset, int stride, long position, long fingerprint) implements SourceSplit {
    @Override
    public String splitId() {
        return offset + "/" + stride;
    }

    /** Versioned serializer (version 2: offset, stride, position, fingerprint; version 1 had no fingerprint). */
    public static final class Serializer implements SimpleVersionedSerializer<StrideSplit> {
        public static final Serializer INSTANCE = new Serializer();

        @Override
        public int getVersion() {
            return 2;
        }

        @Override
        public byte[] serialize(StrideSplit split) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream(16);
            try (DataOutputStream out = new DataOutputStream(b)) {
                out.writeInt(split.offset());
                out.writeInt(split.stride());
                out.writeLong(split.position());
                out.writeLong(split.fingerprint());
            }
            return b.toByteArray();
        }

        @Override
        public StrideSplit deserialize(int version, byte[] bytes) throws IOException {
            if (version != 1 && version != 2) {
                throw new IOException("unknown StrideSplit serializer version " + version);
            }
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
                return new StrideSplit(in.readInt(), in.readInt(), in.readLong(), version == 1 ? 0 : in.readLong());
            }
        }
    }
}
