package io.keyshift.plan;

import java.io.Serializable;

/**
 * Which migrations get a shadow phase for validation, beyond what correctness needs.
 *
 * <p>A migration's shadow phase is what correctness needs for the stage (none for tumbling windows that align with
 * the planning window: every window then lies wholly at one owner) or, if the migration is validated, long enough for
 * the new owner to compute whole windows (a keyed process function: its outputs from its horizon on) that are compared
 * with the old owner's results, in whole planning windows: for a keyed process function the least number longer than
 * its declared horizon (its outputs are compared from {@code T0 +} horizon to the switch-over); for a window stage at
 * least the state horizon's and enough that one of the user's windows lies wholly inside it from the migration's own
 * start ({@code RepartitionPlanner.Settings#shadowMillis}); either covers what correctness needs. {@link Mode#ALL} validates every migration, {@link Mode#NONE}
 * none, {@link Mode#SAMPLE} a deterministic 1-in-{@code sampleEvery} sample by a hash of (key, plan version): the same input gives the same
 * sample at any replay speed and after any recovery.
 *
 * @param sampleEvery for SAMPLE: validate one migration in this many on average (>= 1)
 */
public record ValidationPolicy(Mode mode, int sampleEvery) implements Serializable {
    /** Validation modes. */
    public enum Mode { ALL, SAMPLE, NONE }

    /** Every migration validated (the behaviour before validation policies). */
    public static final ValidationPolicy ALL = new ValidationPolicy(Mode.ALL, 1);

    public ValidationPolicy {
        if (mode == null || sampleEvery < 1) {
            throw new IllegalArgumentException("validation mode must be set and sample-every >= 1, was " + sampleEvery);
        }
    }

    /** True if every migration is validated: ALL, or SAMPLE of one in 1. */
    public boolean validatesEvery() {
        return mode == Mode.ALL || mode == Mode.SAMPLE && sampleEvery == 1;
    }

    /** True if the migration of {@code key} planned in plan {@code version} is validated. */
    public boolean validates(String key, long version) {
        return switch (mode) {
            case ALL -> true;
            case NONE -> false;
            case SAMPLE -> sampleEvery == 1 || Math.floorMod(mix(key.hashCode(), version), sampleEvery) == 0;
        };
    }

    /** A 64-bit finalizer (MurmurHash3's fmix64) of the key's String hash and the plan version. */
    static long mix(int keyHash, long version) {
        long h = keyHash * 0x9E3779B97F4A7C15L + version;
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        h ^= h >>> 33;
        return h;
    }
}
