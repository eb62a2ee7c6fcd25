package io.keyshift.jobs.cli;

import io.keyshift.route.KeyPseudonymizer;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

/** bin/keyshift pseudonym: the pseudonyms a job with the same secret gives keys; exit 2 without a usable secret. */
class PseudonymCommandTest {

    private static int run(StringWriter out, StringWriter err, String... args) {
        CommandLine cl = KeyshiftCli.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        return cl.execute(args);
    }

    @Test
    void printsThePseudonymsOfTheKeys() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertThat(run(out, err, "pseudonym", "-Dkeyshift.privacy.key-secret=cli-test-secret-0123456",
                "Market at 4th", "42")).as(err.toString()).isZero();
        KeyPseudonymizer p = KeyPseudonymizer.fromSecret("cli-test-secret-0123456");
        assertThat(out.toString().lines()).containsExactly("Market at 4th\t" + p.pseudonym("Market at 4th"),
                "42\t" + p.pseudonym("42"));
        assertThat(err.toString()).isEmpty();
        // an integer written with a leading zero or sign names no integer key as plans name them: said so
        StringWriter err2 = new StringWriter();
        assertThat(run(new StringWriter(), err2, "pseudonym", "-Dkeyshift.privacy.key-secret=cli-test-secret-0123456",
                "007", "+7", "-0", "0", "-7")).isZero();
        assertThat(err2.toString().lines()).hasSize(3).anySatisfy(l -> assertThat(l)
                .contains("007 is not how plans name an integer key (7)"));
    }

    @Test
    void withoutASecretOrWithAShortOneItExitsTwoNamingTheOption() {
        StringWriter err = new StringWriter();
        assertThat(run(new StringWriter(), err, "pseudonym", "x")).isEqualTo(2);
        assertThat(err.toString()).contains("keyshift.privacy.key-secret is not set");
        StringWriter err2 = new StringWriter();
        assertThat(run(new StringWriter(), err2, "pseudonym", "-Dkeyshift.privacy.key-secret=short", "x"))
                .isEqualTo(2);
        assertThat(err2.toString()).contains("keyshift.privacy.key-secret").doesNotContain("=short");
    }
}
