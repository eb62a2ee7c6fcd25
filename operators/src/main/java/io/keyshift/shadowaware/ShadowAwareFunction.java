package io.keyshift.shadowaware;

import io.keyshift.event.Event;

import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.util.Collector;

import java.io.Serializable;
import java.time.Duration;

/**
 * Per-key logic that keyshift can migrate: any keyed computation whose state reaches back at most
 * {@link #stateHorizon()} in event time.
 *
 * <p>The same function runs behind plain {@code keyBy(key)} ({@link PlainKeyedAdapter}) and behind keyshift's
 * routing key ({@link ShadowAwareAdapter}). keyshift shadows a migrating key for at least the state horizon, so the
 * new owner has rebuilt every piece of state the function can use by the switch-over; results made from PRIMARY
 * copies are authoritative and equal the plain twin's. The function must be deterministic in its inputs and must
 * not read state older than the horizon.
 *
 * <p>Keyed state is created in {@link #open} from the runtime context and is scoped to the current key by Flink;
 * {@link #clear()} must clear all of it: the adapter calls it once no record has reached the current key for a
 * whole state horizon, which removes the state a key leaves behind in the key group it moved away from.
 *
 * @param <OUT> output type (a Flink POJO or basic type)
 */
public interface ShadowAwareFunction<OUT> extends Serializable {

    /** How far back in event time the function's state reaches (> 0). */
    Duration stateHorizon();

    /** Creates the keyed state handles. */
    void open(RuntimeContext context) throws Exception;

    /** Processes one record of the current key, in event-time order per key. */
    void processElement(Event event, Collector<OUT> out) throws Exception;

    /** Clears every piece of keyed state of the current key. */
    void clear() throws Exception;
}
