package io.keyshift.jobs.source;

import io.keyshift.jobs.event.Event;

import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A FLIP-27 source over an {@link EventSpace} in event-time order, split by stride: split j of n reads events
 * j, j + n, j + 2n, ... so every split is in time order and all splits advance through event time together.
 * A reader holding several splits (after a restore at lower parallelism) merges them by event time, so each
 * reader's output is in time order and monotonous watermarks hold.
 *
 * <p>Splits are assigned when readers register: split j to reader {@code j mod parallelism}. Optionally throttled
 * to {@code recordsPerSecond} in total (spread evenly over the splits, also after a restore at another parallelism:
 * each split takes its share by the number of splits it was made among).
 */
public class StridedSource implements Source<Event, StrideSplit, List<StrideSplit>> {
    private static final long serialVersionUID = 1L;

    private final EventSpace space;
    private final int splits;
    private final double recordsPerSecond;
    private final String progressId;
    private String gateId;

    /**
     * @param space the events
     * @param splits number of splits, usually the source parallelism, >= 1
     * @param recordsPerSecond total rate limit, or <= 0 for none
     * @param progressId name under which readers count emitted records in {@link Progress}, or null
     */
    public StridedSource(EventSpace space, int splits, double recordsPerSecond, String progressId) {
        if (splits < 1) {
            throw new IllegalArgumentException("splits must be >= 1, was " + splits);
        }
        this.space = space;
        this.splits = splits;
        this.recordsPerSecond = recordsPerSecond;
        this.progressId = progressId;
    }

    /** The splits the space is read in (each a stride of it). */
    public int splits() {
        return splits;
    }

    /**
     * Readers wait at the {@link io.keyshift.jobs.replay.ReplayScalingGate} {@code id} (a lockstep replay with a
     * simulated scaling actuator); null for none.
     */
    public StridedSource withGate(String id) {
        this.gateId = id;
        return this;
    }

    @Override
    public Boundedness getBoundedness() {
        return space.size() == Long.MAX_VALUE ? Boundedness.CONTINUOUS_UNBOUNDED : Boundedness.BOUNDED;
    }

    @Override
    public SplitEnumerator<StrideSplit, List<StrideSplit>> createEnumerator(SplitEnumeratorContext<StrideSplit> ctx) {
        List<StrideSplit> all = new ArrayList<>();
        for (int j = 0; j < splits; j++) {
            all.add(new StrideSplit(j, splits, 0, space.fingerprint()));
        }
        return new StrideEnumerator(ctx, all);
    }

    @Override
    public SplitEnumerator<StrideSplit, List<StrideSplit>> restoreEnumerator(SplitEnumeratorContext<StrideSplit> ctx,
                                                                             List<StrideSplit> checkpoint) {
        // splits restored here are checked by the reader they are assigned to (an exception in the coordinator's
        // reset need not fail the job)
        return new StrideEnumerator(ctx, new ArrayList<>(checkpoint));
    }

    @Override
    public SimpleVersionedSerializer<StrideSplit> getSplitSerializer() {
        return StrideSplit.Serializer.INSTANCE;
    }

    @Override
    public SimpleVersionedSerializer<List<StrideSplit>> getEnumeratorCheckpointSerializer() {
        return new SimpleVersionedSerializer<>() {
            @Override
            public int getVersion() {
                // 2: its splits in StrideSplit's version 2
                return 2;
            }

            @Override
            public byte[] serialize(List<StrideSplit> list) throws IOException {
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                try (DataOutputStream out = new DataOutputStream(b)) {
                    out.writeInt(list.size());
                    for (StrideSplit s : list) {
                        byte[] bytes = StrideSplit.Serializer.INSTANCE.serialize(s);
                        out.writeInt(bytes.length);
                        out.write(bytes);
                    }
                }
                return b.toByteArray();
            }

            @Override
            public List<StrideSplit> deserialize(int version, byte[] bytes) throws IOException {
                if (version != 1 && version != 2) {
                    throw new IOException("unknown enumerator checkpoint version " + version);
                }
                List<StrideSplit> out = new ArrayList<>();
                try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
                    int n = in.readInt();
                    for (int i = 0; i < n; i++) {
                        byte[] s = new byte[in.readInt()];
                        in.readFully(s);
                        out.add(StrideSplit.Serializer.INSTANCE.deserialize(version, s));
                    }
                }
                return out;
            }
        };
    }

    /**
     * Fails without restarts (a restart would restore the same positions) where a restored split was read from a space
     * of another fingerprint: its position counts events that are not the ones this space holds there, so reading on
     * would skip or repeat records and mix the outputs of two inputs.
     */
    static void refuseAnotherSpace(StrideSplit s, EventSpace space) {
        if (s.fingerprint() != 0 && space.fingerprint() != 0 && s.fingerprint() != space.fingerprint()) {
            throw new org.apache.flink.runtime.execution.SuppressRestartsException(new IllegalStateException(
                    "the restored source read another input: split " + s.splitId() + " had read " + s.position()
                    + " events of an input with fingerprint " + Long.toHexString(s.fingerprint()) + ", and this job's "
                    + "input has fingerprint " + Long.toHexString(space.fingerprint()) + " (its --input, input options "
                    + "or generator options changed): restore with the input the savepoint's job read, or start a new "
                    + "job, without the savepoint, into a new --out"));
        }
    }

    @Override
    public SourceReader<Event, StrideSplit> createReader(SourceReaderContext ctx) {
        return new StridedSourceReader(space, Math.max(0, recordsPerSecond), progressId, gateId);
    }
}
