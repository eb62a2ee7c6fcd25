package io.keyshift.route;

/**
 * What the router's sampler counts of a record when keys are pseudonymized ({@link KeyPseudonymizer}): the key's
 * pseudonym and the natural key group of the key itself (which a pseudonym does not tell). Equal when the pseudonyms
 * are.
 *
 * @param id the pseudonym, never null
 * @param keyGroup the key's natural key group, in [0, maxParallelism)
 */
public record KeyPseudonym(String id, int keyGroup) {
    @Override
    public boolean equals(Object o) {
        return o instanceof KeyPseudonym other && id.equals(other.id);
    }

    @Override
    public int hashCode() {
        return id.hashCode();
    }

    @Override
    public String toString() {
        return id;
    }
}
