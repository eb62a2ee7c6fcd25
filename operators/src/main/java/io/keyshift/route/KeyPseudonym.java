package io.keyshift.route;

/**
 * A key as the router counts and looks it up when keys are pseudonymized ({@link KeyPseudonymizer}): the 64 bits of
 * its pseudonym and the natural key group of the key itself (which a pseudonym does not tell). Equal when the
 * pseudonyms are; its written form ({@link #id()}) is made only when asked for (samples, once per window and key).
 *
 * @param hash the pseudonym's 64 bits
 * @param keyGroup the key's natural key group, in [0, maxParallelism), or -1 where it is not known (a plan's index)
 */
public record KeyPseudonym(long hash, int keyGroup) {
    /** The pseudonym of a key id ({@link KeyPseudonymizer#parse}); key group unknown. */
    public static KeyPseudonym of(String pseudonym) {
        return new KeyPseudonym(KeyPseudonymizer.parse(pseudonym), -1);
    }

    /** The pseudonym as plans and samples write it. */
    public String id() {
        return KeyPseudonymizer.format(hash);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyPseudonym other && hash == other.hash;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(hash);
    }

    @Override
    public String toString() {
        return id();
    }
}
