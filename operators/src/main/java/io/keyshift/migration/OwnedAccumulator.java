package io.keyshift.migration;

/**
 * The accumulator of a user's aggregate in a window of keyshift's keyed stage: the user's accumulator and the
 * window's {@link Ownership}. Serialized by {@link OwnedAccumulatorSerializer} with the user's accumulator serializer.
 *
 * @param <ACC> the user's accumulator type
 */
public final class OwnedAccumulator<ACC> {
    /** The user's accumulator. */
    public ACC acc;
    public final Ownership ownership;

    public OwnedAccumulator(ACC acc, Ownership ownership) {
        this.acc = acc;
        this.ownership = ownership;
    }

    @Override
    public String toString() {
        return "OwnedAccumulator{" + acc + ", " + ownership + '}';
    }
}
