package io.keyshift.forecast;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * The last {@code capacity} observations of one load series, in a ring: the one copy of the series' past that the
 * models reading lagged values (seasonal naive, autoregression) and the seasonal MASE scale of a
 * {@link SeriesForecaster} share, instead of each keeping its own season of values.
 *
 * <p>Values are kept as {@code float}. Loads are whole record counts, and every integer of magnitude up to
 * 2^24 = 16,777,216 is exact as a float, so for such loads the lagged values, and every forecast computed from them,
 * are the same as with doubles. Other values (a hot key's load estimated from a sample, scaled) are rounded to the
 * nearest float, a relative error of at most 2^-24 (about 6e-8).
 *
 * <p>Memory: {@code 4 * capacity} bytes of values; {@link #write} takes {@code 12 + 4 * min(count, capacity)}
 * bytes.
 */
public final class SeriesHistory {
    private final float[] ring;
    private long count;

    /** @param capacity number of observations kept (the largest lag read + 1), >= 1 */
    public SeriesHistory(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, was " + capacity);
        }
        this.ring = new float[capacity];
    }

    /** Number of observations kept: lags 0 .. capacity - 1 can be read. */
    public int capacity() {
        return ring.length;
    }

    /** Number of observations appended so far. */
    public long count() {
        return count;
    }

    /** Appends the next observation y(t) (stored as a float, see the class comment). */
    public void add(double y) {
        ring[(int) (count % ring.length)] = (float) y;
        count++;
    }

    /**
     * y(t - lag), where t is the last appended observation: {@code get(0)} is the last one, {@code get(m)} the one a
     * season m earlier.
     *
     * @param lag 0 .. min(count, capacity) - 1
     */
    public double get(int lag) {
        if (lag < 0 || lag >= ring.length || lag >= count) {
            throw new IndexOutOfBoundsException("lag " + lag + " of a history with " + Math.min(count, ring.length)
                    + " observations (capacity " + ring.length + ")");
        }
        return ring[(int) ((count - 1 - lag) % ring.length)];
    }

    /** Writes capacity, count and the kept observations (oldest first, as floats). */
    public void write(DataOutputStream out) throws IOException {
        out.writeInt(ring.length);
        out.writeLong(count);
        int kept = (int) Math.min(count, ring.length);
        for (long t = count - kept; t < count; t++) {
            out.writeFloat(ring[(int) (t % ring.length)]);
        }
    }

    /** Number of chunks of {@code chunk} values the ring is stored in, entry by entry ({@link #writeChunk}). */
    int chunks(int chunk) {
        return (ring.length + chunk - 1) / chunk;
    }

    /** The chunk that holds observation t (t = 0 for the first one appended). */
    int chunkOf(long t, int chunk) {
        return (int) (t % ring.length) / chunk;
    }

    /** Writes ring positions {@code c * chunk} .. of chunk c as floats (ring order, not time order). */
    void writeChunk(int c, int chunk, DataOutputStream out) throws IOException {
        for (int i = c * chunk; i < Math.min(ring.length, (c + 1) * chunk); i++) {
            out.writeFloat(ring[i]);
        }
    }

    /** Reads what {@link #writeChunk} wrote for chunk c. */
    void readChunk(int c, int chunk, DataInputStream in) throws IOException {
        for (int i = c * chunk; i < Math.min(ring.length, (c + 1) * chunk); i++) {
            ring[i] = in.readFloat();
        }
    }

    /** Sets the observation count of a history whose ring is restored chunk by chunk; clears the ring. */
    void resetTo(long count) {
        if (count < 0) {
            throw new IllegalArgumentException("negative observation count " + count);
        }
        this.count = count;
        java.util.Arrays.fill(ring, 0f);
    }

    /** Restores what {@link #write} wrote; the capacity must be this history's. */
    public void read(DataInputStream in) throws IOException {
        int capacity = in.readInt();
        if (capacity != ring.length) {
            throw io.keyshift.config.JobOptions.unrecoverable(LoadForecastEngine.HISTORY_MISMATCH_WORDS + capacity
                    + " observations per series, this"
                    + " configuration " + ring.length + "; restore with the same keyshift.forecast.* options (model, seasons, calendar)");
        }
        long c = in.readLong();
        if (c < 0) {
            throw new IOException("corrupt forecaster state: negative observation count " + c);
        }
        count = c;
        java.util.Arrays.fill(ring, 0f);
        int kept = (int) Math.min(count, ring.length);
        for (long t = count - kept; t < count; t++) {
            ring[(int) (t % ring.length)] = in.readFloat();
        }
    }
}
