package io.keyshift.migration;

import io.keyshift.route.Envelope;
import io.keyshift.route.Role;

import org.apache.flink.api.common.functions.AggregateFunction;

/**
 * The user's {@link AggregateFunction} over envelopes: adds each copy's record with the user's {@code add} and its
 * role and migration times to the window's {@link Ownership}. Its result is the accumulator itself: the window
 * function decides whether to take the user's {@code getResult} (authoritative or shadow) or to pass the accumulator
 * on as a split key's partial, to be merged with the user's {@code merge}.
 *
 * @param <T> the user's record type
 * @param <K> the user key type
 * @param <ACC> the user's accumulator type
 */
public final class EnvelopeAggregate<T, K, ACC>
        implements AggregateFunction<Envelope<T, K>, OwnedAccumulator<ACC>, OwnedAccumulator<ACC>> {
    private static final long serialVersionUID = 1L;
    private final AggregateFunction<T, ACC, ?> user;

    public EnvelopeAggregate(AggregateFunction<T, ACC, ?> user) {
        this.user = user;
    }

    @Override
    public OwnedAccumulator<ACC> createAccumulator() {
        return new OwnedAccumulator<>(user.createAccumulator(), new Ownership());
    }

    @Override
    public OwnedAccumulator<ACC> add(Envelope<T, K> e, OwnedAccumulator<ACC> acc) {
        if (e.role == Role.SHADOW) {
            // only a shadow sets the thread-local flag (it is clear outside keyshift's calls): one lookup saved per
            // primary record
            boolean before = ShadowScope.enter(true);
            try {
                acc.acc = user.add(e.value, acc.acc);
            } finally {
                ShadowScope.exit(before);
            }
        } else {
            acc.acc = user.add(e.value, acc.acc);
        }
        acc.ownership.observe(e);
        return acc;
    }

    @Override
    public OwnedAccumulator<ACC> getResult(OwnedAccumulator<ACC> acc) {
        return acc;
    }

    @Override
    public OwnedAccumulator<ACC> merge(OwnedAccumulator<ACC> a, OwnedAccumulator<ACC> b) {
        a.acc = user.merge(a.acc, b.acc);
        a.ownership.merge(b.ownership);
        return a;
    }
}
