package io.keyshift.api;

import io.keyshift.migration.ShadowScope;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.typeutils.TypeExtractor;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * keyshift's front door: where a job had {@code stream.keyBy(key)}, it has {@code Keyshift.keyBy(stream, key, type)}
 * and keeps its window or keyed process function as it was:
 *
 * <pre>{@code
 * KeyshiftStream<Click, String> users = Keyshift.keyBy(clicks, Click::user, Types.STRING)
 *         .configure(conf)          // keyshift.* options, checked here
 *         .uidPrefix("clicks");     // several keyshift stages per job
 * DataStream<Total> totals = users
 *         .window(SlidingEventTimeWindows.of(Duration.ofMinutes(3), Duration.ofMinutes(1)))
 *         .allowedLateness(Duration.ofSeconds(30))
 *         .aggregate(new SumBytes(), new ToTotal());   // the same output as clicks.keyBy(Click::user)...
 * // one terminal call per stage: a second keyed function on the same stream is a second stage
 * DataStream<Alert> alerts = Keyshift.keyBy(clicks, Click::user, Types.STRING)
 *         .configure(conf)
 *         .uidPrefix("alarms")
 *         .process(new RateAlarm(), Duration.ofMinutes(10));   // state horizon
 * }</pre>
 *
 * The stream must carry event-time timestamps and watermarks: keyshift routes by event time. Keys may be of any type
 * Flink can use as a key whose {@code hashCode} is deterministic across JVMs (String, Long, Integer, records, POJOs
 * and tuples of such fields; not enums or arrays): a key type plain {@code keyBy} refuses is refused here, with its
 * message, and so is one with an enum, an array or a class keeping Object's hashCode inside a record, a List, Set,
 * Map or Either, a generic class without a {@code hashCode} of its own, or a protocol buffers message (keyBy looks
 * into Tuples and Rows only): routing keys carry their hash, so such a key would land in several key groups.
 */
public final class Keyshift {
    private Keyshift() {}

    /**
     * keyshift in front of {@code input}'s keyed logic, keyed by {@code key} of type {@code keyType}.
     *
     * @throws NullPointerException naming a null argument
     * @throws IllegalArgumentException for a key type Flink cannot key by, or one plain {@code keyBy} refuses
     * @throws org.apache.flink.api.common.functions.InvalidTypesException where {@code input}'s type is not known (a
     *         lambda's erased generic result: give it with {@code returns}), as with {@code keyBy}
     */
    public static <T, K> KeyshiftStream<T, K> keyBy(DataStream<T> input, KeySelector<T, K> key,
                                                    TypeInformation<K> keyType) {
        return new KeyshiftStream<>(input, key, keyType);
    }

    /**
     * As {@link #keyBy(DataStream, KeySelector, TypeInformation)}, with the key type extracted from the selector.
     *
     * @throws org.apache.flink.api.common.functions.InvalidTypesException where the key type cannot be extracted (a
     *         lambda returning a generic type): give it with the three-argument overload
     */
    public static <T, K> KeyshiftStream<T, K> keyBy(DataStream<T> input, KeySelector<T, K> key) {
        java.util.Objects.requireNonNull(input, "input");
        java.util.Objects.requireNonNull(key, "key selector");
        return keyBy(input, key, TypeExtractor.getKeySelectorTypes(key, input.getType()));
    }

    /**
     * True while keyshift runs the caller (a user function) for a <em>shadow copy</em>: a migrating key's records at
     * its new owner before the switch-over, whose results are compared with the old owner's and then dropped. A
     * function with side effects outside Flink (a database write, an alert, a metric of its own) should skip them
     * when this is true, or they happen twice during a migration. Never let keyed state depend on it: what an
     * aggregate adds or a process function stores in keyed state for a shadow copy is the new owner's state after the
     * switch-over. What is per subtask, not per key (operator state, a field of the function, a counter of its own),
     * sees a shadowed record at both owners: skip it for a shadow copy, as a side effect, to count as under
     * {@code keyBy}. It is true
     * in an {@code AggregateFunction#add} of a shadow copy, in {@code getResult} and the window function of a result
     * that will be dropped, and in a {@code KeyedProcessFunction} call whose outputs will be dropped.
     */
    public static boolean isShadowCopy() {
        return ShadowScope.active();
    }
}
