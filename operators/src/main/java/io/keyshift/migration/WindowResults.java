package io.keyshift.migration;

import io.keyshift.route.KeyCodec;
import io.keyshift.route.RoutingKey;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.io.Serializable;
import java.util.function.BiConsumer;

/**
 * Decides, for one firing of one window of one routing key, whether its results leave (authoritative), are only
 * checksummed for a shadow check, or are dropped, and runs the user's code accordingly (see {@link Ownership}).
 * Shared by the incremental and the full-window functions of keyshift's keyed stage.
 *
 * @param <K> the user key type
 * @param <R> the result type
 */
final class WindowResults<K, R> implements Serializable {
    private static final long serialVersionUID = 1L;

    private final KeyCodec<K> codec;
    private final TypeSerializer<R> resultSerializer;
    private final OutputTag<ResultCheck> checkTag;
    private final long allowedLateness;
    private transient Checksums<R> checksums;

    WindowResults(KeyCodec<K> codec, TypeSerializer<R> resultSerializer, OutputTag<ResultCheck> checkTag,
                  long allowedLateness) {
        this.codec = codec;
        this.resultSerializer = resultSerializer;
        this.checkTag = checkTag;
        this.allowedLateness = allowedLateness;
    }

    /**
     * Runs {@code compute} (the user's code, writing results to the collector it is given) if the window's results
     * are needed, and routes them.
     *
     * @param output side output of the window function's context, for the check
     */
    <W extends TimeWindow> void fire(RoutingKey<K> key, W window, Ownership ownership, Collector<R> out,
                                     BiConsumer<OutputTag<ResultCheck>, ResultCheck> output,
                                     ThrowingConsumer<Collector<R>> compute) throws Exception {
        long maxTs = window.maxTimestamp();
        boolean owns = ownership.owns(maxTs);
        Ownership.CheckSide side = ownership.checkSide(window.getStart(), maxTs);
        if (!owns && side == null) {
            // the old owner's window that reaches past the switch-over (partial), or a shadow window that began
            // before the shadow phase (incomplete): neither counts nor is compared
            return;
        }
        if (checksums == null) {
            checksums = new Checksums<>(resultSerializer);
        }
        long[] sum = {0L, 0L};
        Collector<R> collector = new Collector<>() {
            @Override
            public void collect(R r) {
                if (side != null) {
                    sum[0] = Checksums.plus(sum[0], checksums.of(r));
                    sum[1]++;
                }
                if (owns) {
                    out.collect(r);
                }
            }

            @Override
            public void close() {}
        };
        boolean before = ShadowScope.enter(!owns);
        try {
            compute.accept(collector);
        } finally {
            ShadowScope.exit(before);
        }
        if (side != null) {
            ResultCheck c = new ResultCheck();
            c.key = codec.id(key.key);
            c.start = window.getStart();
            c.end = window.getEnd();
            c.compareAt = maxTs + allowedLateness;
            c.shadow = side == Ownership.CheckSide.SHADOW;
            c.keyGroup = key.keyGroup;
            c.checksum = sum[0];
            c.results = (int) sum[1];
            c.additive = false;
            c.lateRecord = ownership.lateRecord();
            output.accept(checkTag, c);
        }
    }

    /** A consumer that may throw (user code). */
    interface ThrowingConsumer<X> {
        void accept(X x) throws Exception;
    }
}
