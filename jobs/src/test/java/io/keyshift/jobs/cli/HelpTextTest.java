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

    /**
     * The command list gives each command's one-line summary whole (it showed the first line of a description cut
     * mid-sentence, or a whole paragraph), and examples in a command's help come out as written, one per line, so
     * that they copy and paste (picocli's default width of 80 broke them mid-path).
     */
    @Test
    void theCommandListSummarizesEachCommandInOneLineAndExamplesStayWhole() {
        CommandLine cl = KeyshiftCli.commandLine();
        String usage = cl.getUsageMessage(CommandLine.Help.Ansi.OFF);
        for (var e : cl.getSubcommands().entrySet()) {
            if (e.getKey().equals("help")) {
                continue;
            }
            String[] header = e.getValue().getCommandSpec().usageMessage().header();
            assertThat(header).as(e.getKey()).hasSize(1);
            assertThat(header[0]).as(e.getKey()).endsWith(".").hasSizeLessThan(KeyshiftCli.USAGE_WIDTH - 21);
            assertThat(usage.lines()).as(e.getKey()).anyMatch(l -> l.startsWith("  " + e.getKey() + " ")
                    && l.endsWith(header[0]));
        }
        String replay = cl.getSubcommands().get("replay").getUsageMessage(CommandLine.Help.Ansi.OFF);
        assertThat(replay.lines()).contains(
                "  bin/keyshift replay --input ../shared/data/bayarea-bikeshare-2014/batrips.csv.gz --key start_station \\",
                "    --time start_date --time-format 'yyyy-MM-dd HH:mm:ssXXX' --window 1d --parallelism 8 --out out/bikes");
        String control = cl.getSubcommands().get("control").getUsageMessage(CommandLine.Help.Ansi.OFF);
        assertThat(control).contains("pin 'Market at 4th'");
    }

    /** No command, an unknown one or a misspelled option: exit 2, and the closest names where there are some. */
    @Test
    void aMissingOrMisspelledCommandOrOptionExitsTwoSuggestingTheClosest() {
        CliRun none = CliRun.of();
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains("Usage: keyshift").contains("replay");
        assertThat(none.out()).isEmpty();
        CliRun option = CliRun.of("replay", "--paralellism", "8");
        assertThat(option.exit()).isEqualTo(2);
        assertThat(option.err()).contains("Unknown options: '--paralellism'").contains("did you mean --parallelism?");
        CliRun near = CliRun.of("replay", "--generator-hotshare", "0.2");
        assertThat(near.err()).contains("did you mean --generator-hot-share?");
        CliRun command = CliRun.of("replya");
        assertThat(command.exit()).isEqualTo(2);
        assertThat(command.err()).contains("did you mean replay").contains("keyshift --help lists the commands");
        CliRun revert = CliRun.of("control", "--file", "unused.csv", "revert", "k");
        assertThat(revert.exit()).isEqualTo(2);
        assertThat(revert.err()).contains("revert is written by keyshift itself");
        CliRun unknown = CliRun.of("control", "--file", "unused.csv", "teleport");
        assertThat(unknown.err()).contains("unknown command 'teleport'").doesNotContain("revert");
    }

    /** A -D value that is not one of an option's choices names them; the --out it would have used is not left. */
    @Test
    void aBadChoiceNamesTheChoicesAndLeavesNoOutputDirectory(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        java.nio.file.Path out = dir.resolve("new/out");
        CliRun r = CliRun.of("replay", "-Dkeyshift.migration.validation=SOME", "--out", out.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("keyshift.migration.validation").contains("(one of ALL, SAMPLE, NONE)");
        assertThat(dir.resolve("new")).doesNotExist();
        CliRun missing = CliRun.of("replay", "--input", dir.resolve("missing.csv").toString(), "--key", "k",
                "--time", "t", "--out", out.toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("--input");
        assertThat(dir.resolve("new")).doesNotExist();
    }

    private static void collect(CommandLine c, List<CommandLine> out) {
        out.add(c);
        c.getSubcommands().values().forEach(s -> collect(s, out));
    }
}
