package io.keyshift.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.keyshift.jobs.KeyshiftJob;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every command's {@code --help} renders: picocli formats descriptions with String.format, so a bare '%' (as in
 * "a 5% change") made {@code plan-bench --help} print a "picocli WARN ... Could not format" line and a raw text.
 */
class HelpTextTest {

    @Test
    void everyUsageMessageRendersWithoutPicocliWarnings() {
        List<CommandLine> commands = new ArrayList<>();
        collect(new CommandLine(new KeyshiftCli()), commands);
        collect(new CommandLine(new KeyshiftJob()), commands);
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        List<String> usages = new ArrayList<>();
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            for (CommandLine c : commands) {
                usages.add(c.getUsageMessage(CommandLine.Help.Ansi.OFF));
            }
        } finally {
            System.setErr(err);
        }
        assertThat(commands).hasSizeGreaterThan(10);
        assertThat(captured.toString(StandardCharsets.UTF_8)).doesNotContain("picocli WARN");
        assertThat(usages).allMatch(u -> u.contains("Usage: ")).noneMatch(u -> u.contains("%n"));
    }

    private static void collect(CommandLine c, List<CommandLine> out) {
        out.add(c);
        c.getSubcommands().values().forEach(s -> collect(s, out));
    }
}
