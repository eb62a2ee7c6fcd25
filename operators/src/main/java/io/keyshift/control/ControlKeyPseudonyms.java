package io.keyshift.control;

import io.keyshift.route.KeyCodec;
import io.keyshift.route.KeyPseudonymizer;

import org.apache.flink.api.common.functions.MapFunction;

/**
 * With {@code keyshift.privacy.key-secret}: turns the key of each pin, unpin and revert command into its pseudonym
 * ({@link KeyPseudonymizer}) before any keyshift operator sees or stores it, from the key's id in the form the stage
 * writes it ({@link KeyCodec#canonicalId}: "7" for "007" of an integer key). A key already in the form of a pseudonym
 * (as reports show it) is kept; one that names no key of the stage's type stays as it is, and the planner refuses it
 * with the reason, as it does malformed lines. Stateless.
 */
public final class ControlKeyPseudonyms implements MapFunction<String, String> {
    private static final long serialVersionUID = 1L;
    private final KeyPseudonymizer pseudonymizer;
    private final KeyCodec<?> keys;

    /**
     * @param pseudonymizer the stage's pseudonymizer
     * @param keys          the codec of the stage's keys themselves (not the pseudonymous one)
     */
    public ControlKeyPseudonyms(KeyPseudonymizer pseudonymizer, KeyCodec<?> keys) {
        this.pseudonymizer = pseudonymizer;
        this.keys = keys;
    }

    @Override
    public String map(String line) {
        return ControlCommand.mapKey(line, k -> {
            if (KeyPseudonymizer.isPseudonym(k)) {
                return k;
            }
            try {
                return pseudonymizer.pseudonym(keys.canonicalId(k));
            } catch (IllegalArgumentException e) {
                return k;
            }
        });
    }
}
