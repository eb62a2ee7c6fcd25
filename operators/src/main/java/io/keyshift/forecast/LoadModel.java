package io.keyshift.forecast;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * One forecasting model of one load series (records per window), updated online one observation at a time.
 *
 * <p>Contract: {@link #forecast(int)} may be called before any observation (it returns 0) and for any horizon
 * {@code h >= 1}; forecasts are point forecasts (the conditional mean), never negative.
 *
 * <p>Lagged values: models that read past observations (seasonal naive, autoregression) read them from a
 * {@link SeriesHistory} given to their constructor (see {@link Models#create(ModelSpec, SeriesHistory)} and
 * {@link Models#historyLength}). Such a history is shared: its owner (a {@link SeriesForecaster}) appends each
 * observation y to it <em>before</em> calling {@code observe(y)} on its models, and writes and reads it once, so a
 * model's {@link #write}/{@link #read} cover only the model's own state. A model built without a history keeps a
 * private one, appends to it in {@code observe} and includes it in {@code write}/{@code read}.
 *
 * <p>Memory: O(1) per model, except Holt-Winters ({@code 8 * m} bytes of seasonal terms for season m, offered only
 * for {@code m <= } {@link ModelSpec#MAX_SMOOTHING_SEASON}) and a private history ({@code 4} bytes per kept
 * observation).
 */
public interface LoadModel {

    ForecastModelKind kind();

    /** Adds the next observation y(t+1); {@code y} must be finite and >= 0. */
    void observe(double y);

    /** Point forecast {@code h >= 1} windows after the last observation, >= 0. */
    double forecast(int h);

    /**
     * The factor by which the one-step forecast error's standard deviation widens at horizon {@code h >= 1}:
     * sqrt(h) (a random walk's, which the smoothing models' own stay below with their parameters here); a model whose
     * errors compound faster (an autoregression with momentum) gives its own, never below sqrt(h).
     */
    default double intervalFactor(int h) {
        return Math.sqrt(h);
    }

    /** Writes the model's state (not its parameters) for a checkpoint. */
    void write(DataOutputStream out) throws IOException;

    /** Restores the state written by {@link #write}. */
    void read(DataInputStream in) throws IOException;
}
