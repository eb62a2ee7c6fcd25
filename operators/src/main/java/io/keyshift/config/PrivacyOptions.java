package io.keyshift.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/** Options that keep users' keys out of what keyshift stores and prints. */
public final class PrivacyOptions {
    private PrivacyOptions() {}

    public static final ConfigOption<String> KEY_SECRET = ConfigOptions.key("keyshift.privacy.key-secret")
            .stringType()
            .noDefaultValue()
            .withDescription("A secret of at least 16 random characters. When set, keyshift's control path works on "
                    + "pseudonyms of the keys instead of the keys: SipHash-2-4 of the key's id under a key derived "
                    + "from the secret, written ~ and 16 hex digits (io.keyshift.route.KeyPseudonymizer; for n keys "
                    + "the chance of any collision is at most n^2 / 2^65). No raw key appears in the router's, "
                    + "profiler's, forecaster's, planner's, validator's or control state, in plans, forecasts, "
                    + "profiles, validation reports, metrics, logs or reports; the router computes the pseudonym "
                    + "of every record. Control commands may name a key raw (the stage pseudonymizes it) or by its "
                    + "pseudonym. The results and state of the user's function keep their keys. Not for keyed "
                    + "process functions yet, nor for key types holding an unsorted map or set (both refused when "
                    + "the stage is built). Flink hides options whose key contains 'secret' in its logs "
                    + "and web UI; keep the value out of shell history (config.yaml, or -D from an environment "
                    + "variable).");
}
