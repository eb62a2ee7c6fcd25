package io.keyshift.jobs.event;

import java.util.Objects;

/**
 * One keyed input record as keyshift sees it: a user key, an event time and an optional numeric value.
 *
 * <p>A Flink POJO (public no-arg constructor, public fields) so that it is serialized without Kryo.
 * {@code sequence} identifies the record in its source (the line number of a file, the index of a generated
 * record); it makes sampling decisions and test failures reproducible and is not used for routing.
 */
@org.apache.flink.api.common.typeinfo.TypeInfo(io.keyshift.jobs.event.EventSerializer.Factory.class)
public class Event {
    /** Event time, epoch milliseconds. */
    public long timestamp;
    /** User key, never null or empty. */
    public String key;
    /** Value summed by the workload ({@code --sum-field}); 0 when the input has none. */
    public double value;
    /** Position of the record in its source, 1-based line number for files, 0-based index for generators. */
    public long sequence;

    public Event() {}

    public Event(long timestamp, String key, double value, long sequence) {
        this.timestamp = timestamp;
        this.key = key;
        this.value = value;
        this.sequence = sequence;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof Event)) {
            return false;
        }
        Event e = (Event) o;
        return timestamp == e.timestamp
                && Double.compare(value, e.value) == 0
                && sequence == e.sequence
                && Objects.equals(key, e.key);
    }

    @Override
    public int hashCode() {
        return Objects.hash(timestamp, key, value, sequence);
    }

    @Override
    public String toString() {
        return "Event{t=" + timestamp + ", key=" + key + ", value=" + value + ", seq=" + sequence + '}';
    }
}
