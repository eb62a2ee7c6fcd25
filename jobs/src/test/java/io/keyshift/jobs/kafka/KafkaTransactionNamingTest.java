package io.keyshift.jobs.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.connector.kafka.sink.TransactionNamingStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@link KafkaOptions#keptTransactionNaming}: Flink's Kafka connector cannot take a restored job's sinks from pooling
 * back to incrementing (every attempt failed, the job restarting for ever), so a restore that does not name the
 * naming takes its directory's pooling, and one that asks for incrementing by name is refused.
 */
class KafkaTransactionNamingTest {
    @Command(name = "job")
    static final class Job {
        @Mixin
        KafkaOptions kafka;
    }

    private record Parsed(Job job, CommandLine cl) {}

    private static Parsed parse(String... more) {
        Job job = new Job();
        CommandLine cl = new CommandLine(job);
        List<String> args = new ArrayList<>(List.of("--kafka-bootstrap-servers", "127.0.0.1:9092",
                "--results-topic", "results"));
        args.addAll(List.of(more));
        cl.parseArgs(args.toArray(new String[0]));
        return new Parsed(job, cl);
    }

    @Test
    void aRestoreWithoutTheOptionKeepsThePoolingItsJobWrote(@TempDir Path out) throws Exception {
        Parsed first = parse("--kafka-transaction-naming", "pooling");
        first.job().kafka.keptTransactionNaming(first.cl(), out, false, new PrintStream(new ByteArrayOutputStream()));
        first.job().kafka.writeTransactionNaming(out);
        assertThat(Files.readString(out.resolve(KafkaOptions.TRANSACTION_NAMING_FILE)).strip()).isEqualTo("pooling");

        Parsed restored = parse();
        ByteArrayOutputStream note = new ByteArrayOutputStream();
        restored.job().kafka.keptTransactionNaming(restored.cl(), out, true,
                new PrintStream(note, true, StandardCharsets.UTF_8));
        assertThat(restored.job().kafka.transactionNaming()).isEqualTo(TransactionNamingStrategy.POOLING);
        assertThat(note.toString(StandardCharsets.UTF_8)).contains("name their transactions with pooling");

        Parsed incrementing = parse("--kafka-transaction-naming", "incrementing");
        assertThatThrownBy(() -> incrementing.job().kafka.keptTransactionNaming(incrementing.cl(), out, true,
                new PrintStream(new ByteArrayOutputStream())))
                .isInstanceOf(CommandLine.ParameterException.class)
                .hasMessageContaining("--kafka-transaction-naming incrementing: the job this one continues")
                .hasMessageContaining("restore with --kafka-transaction-naming pooling");

        // a fresh job in a directory (one whose earlier output was removed) keeps its own, and writes it
        Parsed fresh = parse();
        fresh.job().kafka.keptTransactionNaming(fresh.cl(), out, false, new PrintStream(new ByteArrayOutputStream()));
        assertThat(fresh.job().kafka.transactionNaming()).isEqualTo(TransactionNamingStrategy.INCREMENTING);
        fresh.job().kafka.writeTransactionNaming(out);
        assertThat(Files.readString(out.resolve(KafkaOptions.TRANSACTION_NAMING_FILE)).strip())
                .isEqualTo("incrementing");
    }

    @Test
    void incrementingMaySwitchToPoolingOnARestore(@TempDir Path out) throws Exception {
        Parsed first = parse();
        first.job().kafka.writeTransactionNaming(out);
        Parsed pooling = parse("--kafka-transaction-naming", "pooling");
        pooling.job().kafka.keptTransactionNaming(pooling.cl(), out, true, new PrintStream(new ByteArrayOutputStream()));
        assertThat(pooling.job().kafka.transactionNaming()).isEqualTo(TransactionNamingStrategy.POOLING);
        // a directory of an earlier build, without the file: the option's naming
        Files.delete(out.resolve(KafkaOptions.TRANSACTION_NAMING_FILE));
        Parsed old = parse();
        old.job().kafka.keptTransactionNaming(old.cl(), out, true, new PrintStream(new ByteArrayOutputStream()));
        assertThat(old.job().kafka.transactionNaming()).isEqualTo(TransactionNamingStrategy.INCREMENTING);
    }

    /**
     * A restore into a new --out finds no record of its savepoint's naming: without the option it took incrementing,
     * and a pooling job's savepoint failed every attempt; now refused, asking for the option. With it, either naming
     * is taken; a restore into a directory that holds an earlier job's output is unaffected.
     */
    @Test
    void aRestoreIntoANewDirectoryMustNameTheTransactionNaming(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("new-out");
        Parsed restored = parse();
        assertThatThrownBy(() -> restored.job().kafka.keptTransactionNaming(restored.cl(), out, true, true,
                new PrintStream(new ByteArrayOutputStream())))
                .isInstanceOf(CommandLine.ParameterException.class)
                .hasMessageContaining("--kafka-transaction-naming: a job restored into a new --out")
                .hasMessageContaining("give --kafka-transaction-naming pooling or incrementing");
        for (String naming : List.of("pooling", "incrementing")) {
            Parsed named = parse("--kafka-transaction-naming", naming);
            named.job().kafka.keptTransactionNaming(named.cl(), out, true, true,
                    new PrintStream(new ByteArrayOutputStream()));
            assertThat(named.job().kafka.transactionNaming().name()).isEqualToIgnoringCase(naming);
        }
        Parsed fresh = parse();
        fresh.job().kafka.keptTransactionNaming(fresh.cl(), out, false, true,
                new PrintStream(new ByteArrayOutputStream()));
        assertThat(fresh.job().kafka.transactionNaming()).isEqualTo(TransactionNamingStrategy.INCREMENTING);
        assertThat(io.keyshift.jobs.KeyshiftJob.isNewDirectory(out)).isTrue();
        Files.createDirectories(out);
        assertThat(io.keyshift.jobs.KeyshiftJob.isNewDirectory(out)).isTrue();
        Files.writeString(out.resolve("results.csv"), "x\n");
        assertThat(io.keyshift.jobs.KeyshiftJob.isNewDirectory(out)).isFalse();
        // nothing of an earlier job in it (a volume's lost+found, a refused submit's group id file): no record of a
        // naming, as in a new directory (it was taken for an earlier job's, and incrementing went unasked)
        Path volume = dir.resolve("volume");
        Files.createDirectories(volume.resolve("lost+found"));
        Files.writeString(volume.resolve(KafkaOptions.GROUP_ID_FILE), "keyshift-abc\n");
        assertThat(io.keyshift.jobs.KeyshiftJob.holdsNoTransactionNaming(volume)).isTrue();
        Files.writeString(volume.resolve(KafkaOptions.TRANSACTION_NAMING_FILE), "pooling\n");
        assertThat(io.keyshift.jobs.KeyshiftJob.holdsNoTransactionNaming(volume)).isFalse();
        // an earlier build's directory without the file but with its job's output: as before
        Path earlier = dir.resolve("earlier");
        Files.createDirectories(earlier.resolve("results"));
        Files.writeString(earlier.resolve("results").resolve("part-0"), "x\n");
        assertThat(io.keyshift.jobs.KeyshiftJob.holdsNoTransactionNaming(earlier)).isFalse();
    }

    /**
     * The default transactional-id prefix is one per job, not one per topic: two jobs that wrote one results topic
     * shared their transactional ids and fenced each other's transactions. A restore into the job's --out takes the
     * prefix the directory keeps; any other job takes a new one (never the topic-only default of builds before
     * 2026-12-06, which begins every newer job's prefix on the topic: its sink would abort their transactions).
     */
    @Test
    void theDefaultTransactionalIdPrefixIsTheJobsOwnAndKeptForItsRestores(@TempDir Path root) throws Exception {
        Path a = root.resolve("a");
        Path b = root.resolve("b");
        Files.createDirectories(a);
        Files.createDirectories(b);
        KafkaOptions first = parse("--validation-topic", "checks").job().kafka;
        first.keptTransactionalIds(a, false);
        KafkaOptions second = parse().job().kafka;
        second.keptTransactionalIds(b, false);
        String prefixA = first.transactionalIdPrefix();
        String prefixB = second.transactionalIdPrefix();
        assertThat(prefixA).startsWith("keyshift:results:").endsWith(":").isNotEqualTo(prefixB);
        assertThat(prefixB).startsWith("keyshift:results:").endsWith(":");
        // the sink aborts lingering transactions by prefix: neither may begin with the other
        assertThat(prefixA.startsWith(prefixB) || prefixB.startsWith(prefixA)).isFalse();
        assertThat(first.transactionalIdPrefix("validation")).isEqualTo("validation:" + prefixA);

        // kept once submitted, read again by a restore into the same --out (and by Flink's rerun of main)
        first.writeTransactionalIds(a);
        second.writeTransactionalIds(b);
        KafkaOptions restored = parse().job().kafka;
        restored.keptTransactionalIds(a, true);
        assertThat(restored.transactionalIdPrefix()).isEqualTo(prefixA);
        Files.setLastModifiedTime(a.resolve(KafkaOptions.TRANSACTIONAL_ID_FILE),
                java.nio.file.attribute.FileTime.fromMillis(1_000_000L));
        long before = 1_000_000L;
        restored.writeTransactionalIds(a);
        assertThat(Files.readString(a.resolve(KafkaOptions.TRANSACTIONAL_ID_FILE)).strip())
                .isEqualTo(prefixA.substring("keyshift:results:".length(), prefixA.length() - 1));
        assertThat(Files.getLastModifiedTime(a.resolve(KafkaOptions.TRANSACTIONAL_ID_FILE)).toMillis())
                .isEqualTo(before);

        // a restore into an --out that keeps no id (an earlier build's, a job that gave its own prefix or had no
        // Kafka sink) or into a new one takes an id of its own, never the topic-only default (Flink's sink aborts
        // the lingering transactions of its savepoint's prefix too), and keeps it for the next restore
        Path old = root.resolve("old");
        Files.createDirectories(old.resolve("results"));
        KafkaOptions continuingOld = parse().job().kafka;
        continuingOld.keptTransactionalIds(old, true);
        String prefixOld = continuingOld.transactionalIdPrefix();
        assertThat(prefixOld).startsWith("keyshift:results:").isNotEqualTo("keyshift:results:")
                .isNotIn(prefixA, prefixB);
        continuingOld.writeTransactionalIds(old);
        KafkaOptions again = parse().job().kafka;
        again.keptTransactionalIds(old, true);
        assertThat(again.transactionalIdPrefix()).isEqualTo(prefixOld);

        // a prefix given is used as given and not recorded
        Path given = root.resolve("given");
        Files.createDirectories(given);
        KafkaOptions own = parse("--kafka-transactional-id-prefix", "team-x:").job().kafka;
        own.keptTransactionalIds(given, false);
        own.writeTransactionalIds(given);
        assertThat(own.transactionalIdPrefix()).isEqualTo("team-x:");
        assertThat(given.resolve(KafkaOptions.TRANSACTIONAL_ID_FILE)).doesNotExist();
    }
}
