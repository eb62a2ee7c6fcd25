package io.keyshift.migration;

import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import java.io.IOException;

/**
 * Checksums of results for shadow checks: 64-bit FNV-1a over each result's serialized form (its own Flink
 * serializer), so results with equal serialized forms have equal checksums (a type whose form depends on insertion
 * order, such as a HashMap with colliding keys, can give equal results unequal ones). Combined order-free (a sum of per-result hashes,
 * mixed with their timestamps for a keyed process function's outputs): the order of one window firing's outputs
 * follows its records' arrival, which differs between the old and the new owner (each gets a key's records from
 * several router subtasks, interleaved differently), and so does that of a process function's outputs.
 *
 * @param <R> the result type
 */
public final class Checksums<R> {
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;
    private static final long NULL_MARKER = 0x6E756C6CL;
    private static final long TEXT_MARKER = 0x74657874L;
    /** Object#toString's "class@hash" within a text. */
    private static final java.util.regex.Pattern IDENTITY_HASH =
            java.util.regex.Pattern.compile("([A-Za-z_$][\\w$]*(?:\\.[A-Za-z_$][\\w$]*)*)@[0-9a-f]{1,8}\\b");
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Checksums.class);

    private final TypeSerializer<R> serializer;
    private final DataOutputSerializer buffer = new DataOutputSerializer(128);
    private boolean warned;

    public Checksums(TypeSerializer<R> serializer) {
        this.serializer = serializer;
    }

    /** Checksums of results by their text only (for a type no serializer can be made for). */
    public static <R> Checksums<R> byText() {
        Checksums<R> c = new Checksums<>(null);
        c.warned = true;
        return c;
    }

    /**
     * FNV-1a of the result's serialized form; a null result (which a window function may pass on, as in Flink, though
     * most serializers cannot write it) has a fixed checksum of its own: the checksum of no bytes with a marker. A
     * result its serializer cannot write (a {@code Tuple2} with a null field, an Avro record missing a required field:
     * plain {@code keyBy} never serializes a result that goes to a chained operator, so the job runs there) is
     * checked by its {@code toString()} instead (its class's name where it has no {@code toString} of its own, which
     * would name the instance, and so for each part of it that prints Object's "class@hash"), with a warning in the log once per operator: the shadow check must not fail a job
     * that {@code keyBy} runs.
     */
    public long of(R result) {
        if (result == null) {
            return FNV_OFFSET ^ NULL_MARKER;
        }
        if (serializer == null) {
            return fnv(textOf(result).getBytes(java.nio.charset.StandardCharsets.UTF_8), TEXT_MARKER);
        }
        buffer.clear();
        try {
            serializer.serialize(result, buffer);
        } catch (IOException | RuntimeException e) {
            if (!warned) {
                warned = true;
                LOG.warn("A result of type {} cannot be serialized by its serializer ({}): shadow checks compare such "
                        + "results by their toString()", result.getClass().getName(), e.toString());
            }
            return fnv(textOf(result).getBytes(java.nio.charset.StandardCharsets.UTF_8), TEXT_MARKER);
        }
        byte[] b = buffer.getSharedBuffer();
        long h = FNV_OFFSET;
        for (int i = 0; i < buffer.length(); i++) {
            h = (h ^ (b[i] & 0xff)) * FNV_PRIME;
        }
        return h;
    }

    /** The text a result that its serializer cannot write is checked by. */
    private static String textOf(Object result) {
        try {
            if (result.getClass().getMethod("toString").getDeclaringClass() == Object.class) {
                return result.getClass().getName();
            }
            // a part without a toString of its own (a field of a Tuple) prints its identity hash, which differs
            // between the primary's and the shadow's JVM: its class name stays
            return IDENTITY_HASH.matcher(String.valueOf(result)).replaceAll("$1");
        } catch (NoSuchMethodException | RuntimeException e) {
            return result.getClass().getName();
        }
    }

    private static long fnv(byte[] b, long marker) {
        long h = FNV_OFFSET ^ marker;
        for (byte x : b) {
            h = (h ^ (x & 0xff)) * FNV_PRIME;
        }
        return h;
    }

    /** FNV-1a of a text's UTF-8 bytes (a side output's tag id, mixed into its values' checksums). */
    public static long text(String s) {
        return fnv(s.getBytes(java.nio.charset.StandardCharsets.UTF_8), TEXT_MARKER);
    }

    /**
     * Order-free combination of one window firing's checksum so far with the next result's: the firing's outputs are
     * compared as a multiset.
     */
    public static long plus(long sofar, long next) {
        return sofar + unordered(next, 0L);
    }

    /** A result's contribution to an order-free sum: its checksum mixed with its timestamp (SplitMix64 finalizer). */
    public static long unordered(long checksum, long timestamp) {
        long z = checksum + timestamp * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
