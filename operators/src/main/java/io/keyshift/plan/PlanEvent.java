package io.keyshift.plan;

import io.keyshift.avro.RoutingPlan;
import io.keyshift.config.AvroTrust;
import io.keyshift.serde.AvroCoders;

import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A routing-plan version on its way from the planner to the routers through their operator coordinators (see
 * {@link PlanChannel}): the plan in Avro's binary encoding (written and read with Avro's generated coders,
 * {@link AvroCoders}).
 */
public final class PlanEvent implements OperatorEvent {
    private static final long serialVersionUID = 1L;

    private final byte[] plan;
    private final long keepFrom;

    private PlanEvent(byte[] plan, long keepFrom) {
        this.plan = plan;
        this.keepFrom = keepFrom;
    }

    /**
     * A plan on its way.
     *
     * @param keepFrom the oldest version the planner keeps: plans before it are needed by no router any more
     */
    public static PlanEvent of(RoutingPlan plan, long keepFrom) {
        return new PlanEvent(encode(plan), keepFrom);
    }

    public long keepFrom() {
        return keepFrom;
    }

    public RoutingPlan plan() {
        return decode(plan);
    }

    /** The plan's Avro binary encoding. */
    public byte[] bytes() {
        return plan;
    }

    /** An event of an already encoded plan. */
    public static PlanEvent ofBytes(byte[] plan) {
        return new PlanEvent(plan, 0);
    }

    /** The plan's Avro binary encoding. */
    public static byte[] encode(RoutingPlan plan) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(256);
            BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
            AvroCoders.writer(RoutingPlan.class).write(plan, enc);
            enc.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The version of a plan written by {@link #encode}, read without decoding the rest: {@code version} is the
     * schema's first field, a long in Avro's zig-zag varint encoding at the start.
     *
     * @throws UncheckedIOException if the bytes end within it
     */
    public static long version(byte[] bytes) {
        try {
            return DecoderFactory.get().binaryDecoder(bytes, 0, Math.min(bytes.length, 10), null).readLong();
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt routing plan event", e);
        }
    }

    /** Reads a plan written by {@link #encode}. */
    public static RoutingPlan decode(byte[] bytes) {
        AvroTrust.install();
        try {
            BinaryDecoder dec = DecoderFactory.get().binaryDecoder(bytes, null);
            return AvroCoders.reader(RoutingPlan.class).read(null, dec);
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt routing plan event", e);
        }
    }

    /**
     * A plan lost on its way to a task that failed is harmless: the restarted task restores its own plan and the
     * planner publishes its plan again after the restore. (Without this Flink would fail the job over once more.)
     */
    @Override
    public boolean isLossTolerant() {
        return true;
    }

    @Override
    public String toString() {
        return "PlanEvent{" + plan.length + " bytes}";
    }
}
