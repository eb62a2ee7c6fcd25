package io.keyshift.control;

import io.keyshift.route.KeyCodec;
import io.keyshift.route.KeyPseudonymizer;

import org.apache.flink.api.common.functions.MapFunction;

/**
 * With {@code keyshift.privacy.key-secret}: turns the key of each pin, unpin and revert command into its pseudonym
 * ({@link KeyPseudonymizer}) before any keyshift operator sees or stores it: the key of a well-formed command from its
 * id in the form the stage writes it ({@link KeyCodec#canonicalId}: "7" for "007" of an integer key), any other key
 * as written (one that names no key of the stage's type then pins nothing). A key already in the form of a pseudonym
 * (as reports show it) is kept. Every field of a malformed line that could be a key becomes its pseudonym too
 * ({@link ControlCommand#mapKey}): no raw text that may be a key gets past this map. Stateless.
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
        if (line == null) {
            // names no key; the planner refuses it ("no line")
            return null;
        }
        boolean wellFormed;
        try {
            ControlCommand.parse(line);
            wellFormed = true;
        } catch (IllegalArgumentException e) {
            wellFormed = false;
        }
        boolean canonical = wellFormed;
        String mapped = ControlCommand.mapKey(line, k -> {
            if (KeyPseudonymizer.isPseudonym(k)) {
                return k;
            }
            String id = k;
            if (canonical) {
                try {
                    id = keys.canonicalId(k);
                } catch (IllegalArgumentException e) {
                    // not a key of this stage's type: its pseudonym names no key here, and no raw text goes on
                }
            }
            return pseudonymizer.pseudonym(id);
        });
        // a line refused for U+FFFD (bytes that were not UTF-8) in its key: the key's pseudonym parses, and would pin
        // a key no record has; the mark stays, so the planner refuses the line, which names no raw key
        return line.indexOf('\uFFFD') >= 0 && mapped.indexOf('\uFFFD') < 0 ? "\uFFFD" + mapped : mapped;
    }
}
