package io.keyshift.jobs.cli;

import io.keyshift.config.PrivacyOptions;
import io.keyshift.route.KeyPseudonymizer;

import org.apache.flink.configuration.Configuration;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code keyshift pseudonym KEY...}: the pseudonyms a job with the same key secret gives these keys. */
@Command(name = "pseudonym",
        header = "Prints the pseudonym of each key under keyshift.privacy.key-secret.",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Prints the pseudonym of each KEY under keyshift.privacy.key-secret (from config.yaml or -D),",
            "as plans, reports and metrics of a job with that secret name it: KEY<TAB>PSEUDONYM, one per line.",
            "KEY is the key as plans name keys without a secret (for String keys the key itself, for integral",
            "keys the decimal number as Java prints it: 7, not 007 or +7). To find a key in a report, run it",
            "over the keys you suspect.",
            "Exit status: 0 done, 2 bad options (no secret, or one shorter than 16 characters)."})
public final class PseudonymCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "KEY", arity = "1..*", description = "Keys to pseudonymize.")
    List<String> keys;

    @Mixin
    FlinkOptions flink;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        Configuration conf = flink.load(cl);
        String secret = conf.getOptional(PrivacyOptions.KEY_SECRET).orElseThrow(() -> new ParameterException(cl,
                PrivacyOptions.KEY_SECRET.key() + " is not set (config.yaml or -D" + PrivacyOptions.KEY_SECRET.key()
                        + "=...)"));
        KeyPseudonymizer p;
        try {
            p = KeyPseudonymizer.fromSecret(secret);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, PrivacyOptions.KEY_SECRET.key() + ": " + e.getMessage());
        }
        for (String k : keys) {
            FlinkOptions.requireDecoded(cl, "KEY", k);
        }
        for (String k : keys) {
            cl.getOut().println(k + "\t" + p.pseudonym(k));
            if (k.matches("[+-]?0\\d+|\\+\\d+|-0")) {
                // an integral key's id is its decimal number as Java prints it: this text names no such key
                cl.getErr().println("keyshift pseudonym: warning: " + k + " is not how plans name an integer key ("
                        + new java.math.BigInteger(k) + "); its pseudonym is that of the text, which an integer-keyed "
                        + "job never gives");
            }
        }
        cl.getErr().flush();
        cl.getOut().flush();
        return 0;
    }
}
