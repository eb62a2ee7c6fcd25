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
        for (TypeSerializer<?> s : new TypeSerializer<?>[] {
                new EnvelopeSerializer<>(StringSerializer.INSTANCE, StringSerializer.INSTANCE),
                new OwnedAccumulatorSerializer<>(LongSerializer.INSTANCE)}) {
            byte[] current = write(s.snapshotConfiguration());
            // this build's own snapshot reads back
            assertThat(read(current)).isNotNull();
            byte[] later = withOuterVersion(current, 2);
            assertThatThrownBy(() -> read(later)).as(s.getClass().getSimpleName())
                    .isInstanceOf(IOException.class).hasMessageContaining("format 2");
        }
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
    private static byte[] withOuterVersion(byte[] bytes, int version) {
        ByteBuffer b = ByteBuffer.wrap(bytes.clone());
        for (int i = 0; i + 8 <= bytes.length; i++) {
            if (b.getInt(i) == 911108 && b.getInt(i + 4) == 1) {
                b.putInt(i + 4, version);
                return b.array();
            }
        }
        throw new AssertionError("no outer snapshot version in the snapshot's bytes");
    }
}
