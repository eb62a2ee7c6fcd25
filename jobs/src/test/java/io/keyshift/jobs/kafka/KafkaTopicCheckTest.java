package io.keyshift.jobs.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@link KafkaOptions#checkTopicsExist}: where no broker answers (the machine that builds a job may not reach the
 * brokers the cluster reaches), the topics are left to the running job with a warning, not refused. The refusals of
 * missing topics are in {@code KafkaIdlePartitionIT}, which has a broker.
 */
class KafkaTopicCheckTest {
    @Command(name = "job")
    static final class Job {
        @Mixin
        KafkaOptions kafka;
    }

    /** A loopback port nothing listens on. */
    private static int unusedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** What the topic check prints for a job with these options besides an input and a results topic. */
    private static String check(int port, String... more) {
        Job job = new Job();
        CommandLine cl = new CommandLine(job);
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("--kafka-bootstrap-servers",
                "127.0.0.1:" + port, "--kafka-topic", "trips", "--results-topic", "results"));
        args.addAll(java.util.List.of(more));
        cl.parseArgs(args.toArray(new String[0]));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        job.kafka.checkTopicsExist(cl, new PrintStream(err, true, StandardCharsets.UTF_8));
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void brokersThatDoNotAnswerLeaveTheTopicsToTheRunningJob() throws Exception {
        int port = unusedPort();
        long start = System.nanoTime();
        String printed = check(port);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(printed).contains("warning: no Kafka broker at 127.0.0.1:" + port
                + " answered within " + KafkaOptions.TOPIC_CHECK_SECONDS + " s; the topics are left to the running job");
        // bounded by the check's own timeout, not by Kafka's default of a minute (a generous margin: a shared machine)
        assertThat(seconds).isLessThan(KafkaOptions.TOPIC_CHECK_SECONDS + 20);
    }

    /** With --no-kafka-topic-check no broker is asked: nothing is printed and no client is made. */
    @Test
    void theCheckCanBeTurnedOff() throws Exception {
        assertThat(check(unusedPort(), "--no-kafka-topic-check")).isEmpty();
    }

    /**
     * A misspelt --kafka-starting-offsets is refused by validate, before the brokers are asked and --out is made (it
     * was checked there only beside --kafka-bounded, and otherwise refused when the source was built).
     */
    @Test
    void aMisspeltStartingOffsetIsRefusedBeforeTheJob() {
        for (boolean bounded : new boolean[] {false, true}) {
            Job job = new Job();
            CommandLine cl = new CommandLine(job);
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("--kafka-bootstrap-servers",
                    "127.0.0.1:1", "--kafka-topic", "trips", "--kafka-starting-offsets", "earliset"));
            if (bounded) {
                args.add("--kafka-bounded");
            }
            cl.parseArgs(args.toArray(new String[0]));
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> job.kafka.validate(cl))
                    .isInstanceOf(CommandLine.ParameterException.class)
                    .hasMessage("--kafka-starting-offsets must be committed, earliest or latest, was 'earliset'");
        }
    }
}
