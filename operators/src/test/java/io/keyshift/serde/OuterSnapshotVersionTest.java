package io.keyshift.serde;

import io.keyshift.migration.OwnedAccumulatorSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The snapshots of the window contents' and accumulators' serializers refuse a format of a later build (outer
 * snapshot version 2), as the routing key's does: such a savepoint's state would be read with this build's layout,
 * garbage or an EOF deep in the restore. They took any version and reported it compatible as it was.
 */
class OuterSnapshotVersionTest {
    @Test
    void aLaterFormatIsRefusedWhenItsSnapshotIsRead() throws Exception {
        // the window contents' format 2 (2026-12-06) marks late copies in the role byte; format 1 reads as it is
        TypeSerializer<?> envelopes = new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE);
        TypeSerializer<?> accumulators = new OwnedAccumulatorSerializer<>(LongSerializer.INSTANCE);
        for (Object[] sv : new Object[][] {{envelopes, 2}, {accumulators, 1}}) {
            TypeSerializer<?> s = (TypeSerializer<?>) sv[0];
            int version = (Integer) sv[1];
            byte[] current = write(s.snapshotConfiguration());
            // this build's own snapshot reads back
            assertThat(read(current)).isNotNull();
            byte[] later = withOuterVersion(current, version, version + 1);
            assertThatThrownBy(() -> read(later)).as(s.getClass().getSimpleName())
                    .isInstanceOf(IOException.class).hasMessageContaining("format " + (version + 1));
        }
        byte[] format1 = withOuterVersion(write(envelopes.snapshotConfiguration()), 2, 1);
        @SuppressWarnings("unchecked")
        TypeSerializerSnapshot<Object> old = (TypeSerializerSnapshot<Object>) read(format1);
        @SuppressWarnings("unchecked")
        TypeSerializerSnapshot<Object> now = (TypeSerializerSnapshot<Object>) envelopes.snapshotConfiguration();
        assertThat(now.resolveSchemaCompatibility(old).isCompatibleAsIs()).as("format 1 window contents").isTrue();
    }

    private static byte[] write(TypeSerializerSnapshot<?> snapshot) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snapshot);
        return out.getCopyOfBuffer();
    }

    private static TypeSerializerSnapshot<?> read(byte[] bytes) throws IOException {
        return TypeSerializerSnapshot.readVersionedSnapshot(new DataInputDeserializer(bytes),
                OuterSnapshotVersionTest.class.getClassLoader());
    }

    /** The bytes with the outer version (the int after the composite snapshot's magic number 911108) replaced. */
    private static byte[] withOuterVersion(byte[] bytes, int from, int version) {
        ByteBuffer b = ByteBuffer.wrap(bytes.clone());
        for (int i = 0; i + 8 <= bytes.length; i++) {
            if (b.getInt(i) == 911108 && b.getInt(i + 4) == from) {
                b.putInt(i + 4, version);
                return b.array();
            }
        }
        throw new AssertionError("no outer snapshot version in the snapshot's bytes");
    }
}
