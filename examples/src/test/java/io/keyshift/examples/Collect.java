package io.keyshift.examples;

import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.functions.sink.legacy.SinkFunction;

import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Collects a stream of a MiniCluster job into this JVM without back pressure (Flink's collect sink blocks once its
 * buffer is full until the client reads, which a test that reads after the job ends never does).
 */
final class Collect {
    private static final Map<String, Queue<Object>> QUEUES = new ConcurrentHashMap<>();

    private Collect() {}

    /** Adds a sink to {@code stream}; the returned handle lists what it received. */
    static <T> Handle<T> of(DataStream<T> stream) {
        String id = UUID.randomUUID().toString();
        QUEUES.put(id, new ConcurrentLinkedQueue<>());
        stream.addSink(new Into<>(id)).name("test collect");
        return new Handle<>(id);
    }

    /** What one sink received. */
    static final class Handle<T> {
        private final String id;

        Handle(String id) {
            this.id = id;
        }

        @SuppressWarnings("unchecked")
        List<T> list() {
            return (List<T>) List.copyOf(QUEUES.get(id));
        }
    }

    private static final class Into<T> implements SinkFunction<T> {
        private static final long serialVersionUID = 1L;
        private final String id;

        Into(String id) {
            this.id = id;
        }

        @Override
        public void invoke(T value, Context context) {
            QUEUES.get(id).add(value);
        }
    }
}
