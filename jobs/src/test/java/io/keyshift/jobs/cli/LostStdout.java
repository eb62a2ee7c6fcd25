package io.keyshift.jobs.cli;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs a command as {@code bin/keyshift} does with a standard output that cannot be written (a full disk, a closed pipe). */
final class LostStdout {
    /** The command's exit status and what it printed on stderr. */
    record Result(int exit, String err) { }

    private LostStdout() { }

    static Result execute(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(OutputStream.nullOutputStream(), true) {
                @Override
                public boolean checkError() {
                    return true;
                }
            });
            System.setErr(new PrintStream(errBytes, true));
            exit = KeyshiftCli.execute(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new Result(exit, errBytes.toString(StandardCharsets.UTF_8));
    }
}
