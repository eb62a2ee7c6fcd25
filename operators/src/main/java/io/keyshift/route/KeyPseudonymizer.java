package io.keyshift.route;

import com.google.common.hash.HashFunction;
import com.google.common.hash.Hashing;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The pseudonyms of {@code keyshift.privacy.key-secret}: a keyed hash of a key's id ({@link KeyCodec}) that
 * keyshift's control path (samples, profiles, forecasts, plans, validation reports, control state, reports) uses in
 * place of the key.
 *
 * <p><b>Function</b>: SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", INDOCRYPT 2012; Guava's
 * {@code Hashing.sipHash24}) of the key's id as UTF-16 code units, little-endian (Guava's
 * {@code hashUnencodedChars}: no encoding step, so no two ids share an input), under a 128-bit key: the first 16
 * bytes of SHA-256 of the secret's UTF-8 bytes, read as two little-endian longs. SipHash is a pseudorandom function: without the secret,
 * a pseudonym reveals nothing of its key and cannot be recomputed from a guessed key. Give a secret of at least 16
 * random characters (it is not stretched like a password).
 *
 * <p><b>Form</b>: {@code ~} followed by the 64-bit output as 16 lowercase hexadecimal digits, e.g.
 * {@code ~3f9a0c1e55d2b781}.
 *
 * <p><b>Collisions</b>: for {@code n} distinct keys, the probability that any two share a pseudonym is at most
 * {@code n (n - 1) / 2^65} (the birthday bound of a 64-bit PRF): 2.7e-8 for a million keys, 2.7e-4 for 10^8. Two keys
 * with one pseudonym are counted and forecast together; a plan's entry for it moves only the keys of the entry's
 * natural key group ({@link RoutingTable}), so every record is still routed by a function of its own key and results
 * stay exact.
 *
 * <p>Thread-safe and serializable. It carries the derived 128-bit key, not the secret, but that key pseudonymizes as
 * well as the secret does: the job graph that holds it (Flink's blob store, HA storage) deserves the secret's care.
 */
public final class KeyPseudonymizer implements Serializable {
    private static final long serialVersionUID = 1L;
    /** The shortest secret accepted, in characters. */
    public static final int MIN_SECRET_LENGTH = 16;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final long k0;
    private final long k1;
    private transient HashFunction siphash;

    private KeyPseudonymizer(long k0, long k1) {
        this.k0 = k0;
        this.k1 = k1;
    }

    /**
     * The pseudonymizer of {@code secret}.
     *
     * @throws IllegalArgumentException if the secret is shorter than {@link #MIN_SECRET_LENGTH} characters
     */
    public static KeyPseudonymizer fromSecret(String secret) {
        if (secret == null || secret.length() < MIN_SECRET_LENGTH) {
            throw new IllegalArgumentException("the key secret must have at least " + MIN_SECRET_LENGTH
                    + " characters (random ones), had " + (secret == null ? 0 : secret.length()));
        }
        byte[] digest;
        try {
            digest = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
        ByteBuffer b = ByteBuffer.wrap(digest).order(ByteOrder.LITTLE_ENDIAN);
        return new KeyPseudonymizer(b.getLong(0), b.getLong(8));
    }

    /** The pseudonym of the key whose id ({@link KeyCodec#id}) is {@code id}. */
    public String pseudonym(String id) {
        return format(hash(id));
    }

    /** The 64 bits of the pseudonym of the key whose id is {@code id} (what the router computes per record). */
    public long hash(String id) {
        HashFunction f = siphash;
        if (f == null) {
            f = Hashing.sipHash24(k0, k1);
            siphash = f;
        }
        return f.hashUnencodedChars(id).asLong();
    }

    /**
     * The 64 bits of {@code pseudonym}.
     *
     * @throws IllegalArgumentException if it is not in the form of a pseudonym
     */
    public static long parse(String pseudonym) {
        if (!isPseudonym(pseudonym)) {
            // not echoed: it may be a raw key
            throw new IllegalArgumentException("not a key pseudonym (~ and 16 lowercase hex digits; "
                    + (pseudonym == null ? "null" : pseudonym.length() + " characters") + ")");
        }
        return Long.parseUnsignedLong(pseudonym.substring(1), 16);
    }

    /** The written form of the 64-bit pseudonym {@code h}. */
    public static String format(long h) {
        char[] out = new char[17];
        out[0] = '~';
        for (int i = 16; i >= 1; i--) {
            out[i] = HEX[(int) (h & 0xF)];
            h >>>= 4;
        }
        return new String(out);
    }

    /**
     * How keys are named under {@code pseudonymizer} (null: raw): a fingerprint that plans carry, so that a job
     * restored under another key secret, or with or without one, is refused instead of routing by names it cannot
     * match. "raw", or the pseudonym of a fixed text (which tells nothing of the secret).
     */
    public static String naming(KeyPseudonymizer pseudonymizer) {
        return pseudonymizer == null ? "raw" : pseudonymizer.pseudonym("keyshift:key-naming");
    }

    /** The message for {@code what} (state of a savepoint) naming keys {@code found} where this job names them so. */
    public static String namingMismatch(String what, String found, String expected) {
        return what + " names keys " + describe(found) + ", but this job names them " + describe(expected)
                + ": keyshift.privacy.key-secret must stay as it was for the whole life of a job's keyshift state "
                + "(restore with the secret the savepoint was taken with, or start the keyshift stage afresh)";
    }

    private static String describe(String naming) {
        return "raw".equals(naming) ? "raw (no key secret)" : "by pseudonyms (key secret " + naming + ")";
    }

    /** True if {@code s} has the form of a pseudonym ({@code ~} and 16 lowercase hexadecimal digits). */
    public static boolean isPseudonym(String s) {
        if (s == null || s.length() != 17 || s.charAt(0) != '~') {
            return false;
        }
        for (int i = 1; i < 17; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }
}
