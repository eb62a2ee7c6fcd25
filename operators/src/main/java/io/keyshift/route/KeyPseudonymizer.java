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
 * {@code Hashing.sipHash24}) of the UTF-8 bytes of the key's id, under a 128-bit key: the first 16 bytes of SHA-256 of
 * the secret's UTF-8 bytes, read as two little-endian longs. SipHash is a pseudorandom function: without the secret,
 * a pseudonym reveals nothing of its key and cannot be recomputed from a guessed key. Give a secret of at least 16
 * random characters (it is not stretched like a password).
 *
 * <p><b>Form</b>: {@code ~} followed by the 64-bit output as 16 lowercase hexadecimal digits, e.g.
 * {@code ~3f9a0c1e55d2b781}.
 *
 * <p><b>Collisions</b>: for {@code n} distinct keys, the probability that any two share a pseudonym is at most
 * {@code n (n - 1) / 2^65} (the birthday bound of a 64-bit PRF): 2.7e-8 for a million keys, 2.7e-4 for 10^8. Two keys
 * with one pseudonym are counted, forecast and moved together; every record is still routed by a function of its key,
 * so results stay exact.
 *
 * <p>Thread-safe and serializable (it carries the derived 128-bit key, never the secret).
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
        return f.hashString(id, StandardCharsets.UTF_8).asLong();
    }

    /**
     * The 64 bits of {@code pseudonym}.
     *
     * @throws IllegalArgumentException if it is not in the form of a pseudonym
     */
    public static long parse(String pseudonym) {
        if (!isPseudonym(pseudonym)) {
            throw new IllegalArgumentException("not a key pseudonym (~ and 16 lowercase hex digits): '" + pseudonym
                    + "'");
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
