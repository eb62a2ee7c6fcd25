package io.keyshift.plan;

import org.apache.flink.runtime.operators.coordination.CoordinationRequest;
import org.apache.flink.streaming.api.operators.collect.CollectCoordinationResponse;

import java.util.List;

/**
 * A router subtask's request for a plan newer than {@code knownVersion} (a long poll: the coordinator answers as soon
 * as one is published). The router sends it while its waiting records are over their bound, and waits for the answer
 * on its own thread, without running the task's mailbox, so that no checkpoint can start while its input is in the
 * middle of emitting a record (see {@link io.keyshift.route.KeyshiftRouter}).
 *
 * <p>The answer travels as a {@link CollectCoordinationResponse} ({@link #TAG}, the plan's version, the plan's Avro
 * bytes): a Flink class, because an RPC's return value is deserialized with Flink's class loader, which does not see
 * the job's classes on a cluster.
 */
public final class PlanRequest implements CoordinationRequest {
    private static final long serialVersionUID = 1L;

    /** The version field of a plan response. */
    public static final String TAG = "keyshift-plan";

    private final long knownVersion;
    private final int subtask;

    /**
     * @param knownVersion the plan version the router has
     * @param subtask the asking router subtask's index: its newer request supersedes this one (-1: none)
     */
    public PlanRequest(long knownVersion, int subtask) {
        this.knownVersion = knownVersion;
        this.subtask = subtask;
    }

    public long knownVersion() {
        return knownVersion;
    }

    /** The asking router subtask's index, or -1. */
    public int subtask() {
        return subtask;
    }

    /** The response carrying {@code plan} (Avro bytes) of {@code version}. */
    public static CollectCoordinationResponse response(long version, byte[] plan) {
        try {
            org.apache.flink.core.memory.DataOutputSerializer out = new org.apache.flink.core.memory.DataOutputSerializer(
                    plan.length + 8);
            org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer.INSTANCE.serialize(plan, out);
            return new CollectCoordinationResponse(TAG, version, List.of(out.getCopyOfBuffer()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The plan bytes of a response made by {@link #response}. */
    public static byte[] plan(CollectCoordinationResponse response) {
        try {
            return response.getResults(org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer.INSTANCE)
                    .get(0);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
