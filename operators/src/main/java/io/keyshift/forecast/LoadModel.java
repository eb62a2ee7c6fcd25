package io.keyshift.forecast;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * One forecasting model of one load series (records per window), updated online one observation at a time.
 *
 * <p>Contract: {@link #forecast(int)} may be called before any observation (it returns 0) and for any horizon
 * {@code h >= 1}; forecasts are point forecasts (the conditional mean), never negative. Implementations keep O(m)
 * doubles for season m, O(1) otherwise.
 */
public interface LoadModel {

    ForecastModelKind kind();

    /** Adds the next observation y(t+1); {@code y} must be finite and >= 0. */
    void observe(double y);

    /** Point forecast {@code h >= 1} windows after the last observation, >= 0. */
    double forecast(int h);

    /** Writes the model's state (not its parameters) for a checkpoint. */
    void write(DataOutputStream out) throws IOException;

    /** Restores the state written by {@link #write}. */
    void read(DataInputStream in) throws IOException;
}
