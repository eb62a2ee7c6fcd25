package io.keyshift.control;

import io.keyshift.route.KeyPseudonymizer;

import org.apache.flink.api.common.functions.MapFunction;

/**
 * With {@code keyshift.privacy.key-secret}: turns the key of each pin, unpin and revert command into its pseudonym
 * ({@link KeyPseudonymizer}) before any keyshift operator sees or stores it. A key already in the form of a pseudonym
 * (as reports show it) is kept. Other lines, malformed ones included, pass as they are (the planner refuses those
 * with the reason). Stateless.
 */
public final class ControlKeyPseudonyms implements MapFunction<String, String> {
    private static final long serialVersionUID = 1L;
    private final KeyPseudonymizer pseudonymizer;

    public ControlKeyPseudonyms(KeyPseudonymizer pseudonymizer) {
        this.pseudonymizer = pseudonymizer;
    }

    @Override
    public String map(String line) {
        return ControlCommand.mapKey(line, k -> KeyPseudonymizer.isPseudonym(k) ? k : pseudonymizer.pseudonym(k));
    }
}
