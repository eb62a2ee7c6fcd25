package io.keyshift.migration;

import org.apache.flink.api.common.JobInfo;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.api.common.accumulators.Accumulator;
import org.apache.flink.api.common.accumulators.DoubleCounter;
import org.apache.flink.api.common.accumulators.Histogram;
import org.apache.flink.api.common.accumulators.IntCounter;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.cache.DistributedCache;
import org.apache.flink.api.common.externalresource.ExternalResourceInfo;
import org.apache.flink.api.common.functions.BroadcastVariableInitializer;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.AggregatingState;
import org.apache.flink.api.common.state.AggregatingStateDescriptor;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReducingState;
import org.apache.flink.api.common.state.ReducingStateDescriptor;
import org.apache.flink.api.common.state.State;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.metrics.groups.OperatorMetricGroup;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The runtime context a user's keyed process function sees behind keyshift: Flink's own (so its keyed state is
 * scoped to the routing key), which remembers every keyed state the function creates, so that keyshift can clear all
 * of it for a key that has left this key group ({@link #clearAll()}). The state V2 (asynchronous) API is refused:
 * keyshift cannot clear it.
 */
final class StateTrackingContext implements RuntimeContext {
    private final RuntimeContext delegate;
    /** The states the function created, by descriptor name (one each, in creation order). */
    private final java.util.Map<String, State> states = new java.util.LinkedHashMap<>();
    /** Where keyed state is refused (a window function's context), why; null where it is tracked. */
    private final String refusal;

    StateTrackingContext(RuntimeContext delegate) {
        this(delegate, null);
    }

    private StateTrackingContext(RuntimeContext delegate, String refusal) {
        this.delegate = delegate;
        this.refusal = refusal;
    }

    /**
     * The runtime context of a user's window function behind keyshift: Flink's own, but keyed state is refused (it
     * would be scoped to the routing key and left behind by a migration: the new owner would start from empty state,
     * unlike under keyBy), naming what to use instead.
     */
    static StateTrackingContext forWindowFunction(RuntimeContext delegate) {
        return new StateTrackingContext(delegate, "a window function behind keyshift cannot use keyed state from "
                + "getRuntimeContext(): it is not carried when the key migrates, so results would differ from keyBy's; "
                + "keep state across windows in a keyed process function (KeyshiftStream.process with its state "
                + "horizon)");
    }

    /**
     * A keyed state store ({@code CheckpointedFunction#initializeState}'s) whose states are tracked as this context's
     * (or refused, as this context refuses them).
     */
    org.apache.flink.api.common.state.KeyedStateStore track(org.apache.flink.api.common.state.KeyedStateStore store) {
        return new org.apache.flink.api.common.state.KeyedStateStore() {
            @Override
            public <T> ValueState<T> getState(ValueStateDescriptor<T> d) {
                refuse();
                return track(d, store.getState(d));
            }

            @Override
            public <T> ListState<T> getListState(ListStateDescriptor<T> d) {
                refuse();
                return track(d, store.getListState(d));
            }

            @Override
            public <T> ReducingState<T> getReducingState(ReducingStateDescriptor<T> d) {
                refuse();
                return track(d, store.getReducingState(d));
            }

            @Override
            public <IN, ACC, OUT> AggregatingState<IN, OUT> getAggregatingState(
                    AggregatingStateDescriptor<IN, ACC, OUT> d) {
                refuse();
                return track(d, store.getAggregatingState(d));
            }

            @Override
            public <UK, UV> MapState<UK, UV> getMapState(MapStateDescriptor<UK, UV> d) {
                refuse();
                return track(d, store.getMapState(d));
            }

            @Override
            public <T> org.apache.flink.api.common.state.v2.ValueState<T> getValueState(
                    org.apache.flink.api.common.state.v2.ValueStateDescriptor<T> d) {
                throw v2();
            }

            @Override
            public <T> org.apache.flink.api.common.state.v2.ListState<T> getListState(
                    org.apache.flink.api.common.state.v2.ListStateDescriptor<T> d) {
                throw v2();
            }

            @Override
            public <UK, UV> org.apache.flink.api.common.state.v2.MapState<UK, UV> getMapState(
                    org.apache.flink.api.common.state.v2.MapStateDescriptor<UK, UV> d) {
                throw v2();
            }

            @Override
            public <T> org.apache.flink.api.common.state.v2.ReducingState<T> getReducingState(
                    org.apache.flink.api.common.state.v2.ReducingStateDescriptor<T> d) {
                throw v2();
            }

            @Override
            public <IN, ACC, OUT> org.apache.flink.api.common.state.v2.AggregatingState<IN, OUT> getAggregatingState(
                    org.apache.flink.api.common.state.v2.AggregatingStateDescriptor<IN, ACC, OUT> d) {
                throw v2();
            }

            @Override
            public String getBackendTypeIdentifier() {
                return store.getBackendTypeIdentifier();
            }
        };
    }

    /** Number of keyed states the function has created. */
    int size() {
        return states.size();
    }

    /** Clears every keyed state the function has created, for the current key. */
    void clearAll() {
        for (State s : states.values()) {
            s.clear();
        }
    }

    private void refuse() {
        if (refusal != null) {
            throw io.keyshift.config.JobOptions.misuse(new UnsupportedOperationException(refusal));
        }
    }

    /**
     * Tracks a state by its descriptor's name: Flink hands out a new wrapper of the same list or map state at every
     * call (its user-facing states), so a function that reads its state through the context per record must not add a
     * handle per record.
     */
    private <S extends State> S track(org.apache.flink.api.common.state.StateDescriptor<?, ?> d, S s) {
        states.putIfAbsent(d.getName(), s);
        return s;
    }

    @Override
    public <T> ValueState<T> getState(ValueStateDescriptor<T> d) {
        refuse();
        return track(d, delegate.getState(d));
    }

    @Override
    public <T> ListState<T> getListState(ListStateDescriptor<T> d) {
        refuse();
        return track(d, delegate.getListState(d));
    }

    @Override
    public <T> ReducingState<T> getReducingState(ReducingStateDescriptor<T> d) {
        refuse();
        return track(d, delegate.getReducingState(d));
    }

    @Override
    public <IN, ACC, OUT> AggregatingState<IN, OUT> getAggregatingState(AggregatingStateDescriptor<IN, ACC, OUT> d) {
        refuse();
        return track(d, delegate.getAggregatingState(d));
    }

    @Override
    public <UK, UV> MapState<UK, UV> getMapState(MapStateDescriptor<UK, UV> d) {
        refuse();
        return track(d, delegate.getMapState(d));
    }

    private RuntimeException v2() {
        return io.keyshift.config.JobOptions.misuse(new UnsupportedOperationException(refusal != null ? refusal
                : "keyshift's keyed process functions use Flink's synchronous keyed state "
                        + "(org.apache.flink.api.common.state); the state V2 API is not supported behind keyshift"));
    }

    @Override
    public <T> org.apache.flink.api.common.state.v2.ValueState<T> getState(
            org.apache.flink.api.common.state.v2.ValueStateDescriptor<T> d) {
        throw v2();
    }

    @Override
    public <T> org.apache.flink.api.common.state.v2.ListState<T> getListState(
            org.apache.flink.api.common.state.v2.ListStateDescriptor<T> d) {
        throw v2();
    }

    @Override
    public <T> org.apache.flink.api.common.state.v2.ReducingState<T> getReducingState(
            org.apache.flink.api.common.state.v2.ReducingStateDescriptor<T> d) {
        throw v2();
    }

    @Override
    public <IN, ACC, OUT> org.apache.flink.api.common.state.v2.AggregatingState<IN, OUT> getAggregatingState(
            org.apache.flink.api.common.state.v2.AggregatingStateDescriptor<IN, ACC, OUT> d) {
        throw v2();
    }

    @Override
    public <UK, UV> org.apache.flink.api.common.state.v2.MapState<UK, UV> getMapState(
            org.apache.flink.api.common.state.v2.MapStateDescriptor<UK, UV> d) {
        throw v2();
    }

    @Override
    public OperatorMetricGroup getMetricGroup() {
        return delegate.getMetricGroup();
    }

    @Override
    public <T> TypeSerializer<T> createSerializer(TypeInformation<T> typeInformation) {
        return delegate.createSerializer(typeInformation);
    }

    @Override
    public Map<String, String> getGlobalJobParameters() {
        return delegate.getGlobalJobParameters();
    }

    @Override
    public boolean isObjectReuseEnabled() {
        return delegate.isObjectReuseEnabled();
    }

    @Override
    public ClassLoader getUserCodeClassLoader() {
        return delegate.getUserCodeClassLoader();
    }

    @Override
    public void registerUserCodeClassLoaderReleaseHookIfAbsent(String name, Runnable hook) {
        delegate.registerUserCodeClassLoaderReleaseHookIfAbsent(name, hook);
    }

    @Override
    public <V, A extends Serializable> void addAccumulator(String name, Accumulator<V, A> accumulator) {
        delegate.addAccumulator(name, accumulator);
    }

    @Override
    public <V, A extends Serializable> Accumulator<V, A> getAccumulator(String name) {
        return delegate.getAccumulator(name);
    }

    @Override
    public IntCounter getIntCounter(String name) {
        return delegate.getIntCounter(name);
    }

    @Override
    public LongCounter getLongCounter(String name) {
        return delegate.getLongCounter(name);
    }

    @Override
    public DoubleCounter getDoubleCounter(String name) {
        return delegate.getDoubleCounter(name);
    }

    @Override
    public Histogram getHistogram(String name) {
        return delegate.getHistogram(name);
    }

    @Override
    public Set<ExternalResourceInfo> getExternalResourceInfos(String resourceName) {
        return delegate.getExternalResourceInfos(resourceName);
    }

    @Override
    public boolean hasBroadcastVariable(String name) {
        return delegate.hasBroadcastVariable(name);
    }

    @Override
    public <RT> List<RT> getBroadcastVariable(String name) {
        return delegate.getBroadcastVariable(name);
    }

    @Override
    public <T, C> C getBroadcastVariableWithInitializer(String name, BroadcastVariableInitializer<T, C> initializer) {
        return delegate.getBroadcastVariableWithInitializer(name, initializer);
    }

    @Override
    public DistributedCache getDistributedCache() {
        return delegate.getDistributedCache();
    }

    @Override
    public JobInfo getJobInfo() {
        return delegate.getJobInfo();
    }

    @Override
    public TaskInfo getTaskInfo() {
        return delegate.getTaskInfo();
    }
}
