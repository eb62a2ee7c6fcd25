package io.keyshift.jobs.kafka;

/**
 * One Kafka record as the source emits it: a parsed event, or a dead letter with its reason. A Flink POJO (public
 * fields, no-arg constructor) so that it is serialized without Kryo.
 *
 * <p>Exactly one of the two holds: {@code deadReason == null} means an event ({@code timestamp}, {@code key},
 * {@code value}, {@code sequence}); otherwise {@code deadRaw} is the record's value as text (Latin-1 if it was not
 * UTF-8) and {@code timestamp} is {@link Long#MIN_VALUE}, so that a dead letter never moves a watermark.
 */
public class KafkaRecord {
    /** Event time, epoch ms; {@link Long#MIN_VALUE} for a dead letter. */
    public long timestamp;
    public String key;
    public double value;
    /** {@code partition << 40 | offset}: unique within a topic of up to 2^23 partitions and 2^40 records each. */
    public long sequence;
    public int partition;
    public long offset;
    public String deadRaw;
    public String deadReason;

    public KafkaRecord() {}

    /** {@code partition << 40 | offset}, the sequence keyshift's sampling uses for a Kafka record. */
    public static long sequence(int partition, long offset) {
        return ((long) partition << 40) | (offset & ((1L << 40) - 1));
    }

    /** The partition of a {@link #sequence}. */
    public static int partition(long sequence) {
        return (int) (sequence >>> 40);
    }

    /** The offset of a {@link #sequence} (its low 40 bits). */
    public static long offset(long sequence) {
        return sequence & ((1L << 40) - 1);
    }

    public boolean isDead() {
        return deadReason != null;
    }
}
