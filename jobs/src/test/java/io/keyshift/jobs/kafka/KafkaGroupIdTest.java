package io.keyshift.jobs.kafka;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The input's consumer group is the output directory's own unless --kafka-group-id names one: with one default group
 * for every job, a second job on a topic started, by the default starting offsets (committed), where an earlier job had
 * left off, silently skipping what that job had read; with one group per directory path, so did a new job in a
 * directory of the same path as a deleted one's.
 */
class KafkaGroupIdTest {

    @Test
    void eachOutputDirectoryHasItsOwnGroupUnlessOneIsGiven(@TempDir Path dir) throws Exception {
        KafkaOptions k = new KafkaOptions();
        Path first = dir.resolve("first");
        String group = k.groupId(first, false, false);
        assertThat(group).startsWith("keyshift:" + first.toAbsolutePath() + ":");
        assertThat(k.groupId(dir.resolve("second"), false, false)).isNotEqualTo(group);
        // a job that continues the directory (a restore, a failover) reads its group again
        assertThat(k.groupId(dir.resolve("x/../first"), true, true)).isEqualTo(group);
        assertThat(Files.readString(first.resolve(KafkaOptions.GROUP_ID_FILE)).strip()).isEqualTo(group);
        k.groupId = "payments-skew";
        assertThat(k.groupId(first, false, false)).isEqualTo("payments-skew").isEqualTo(k.groupId(dir.resolve("third"), true, false));
        assertThat(dir.resolve("third")).doesNotExist();
    }

    @Test
    void aNewJobInARecreatedDirectoryGetsANewGroup(@TempDir Path dir) throws Exception {
        KafkaOptions k = new KafkaOptions();
        Path out = dir.resolve("out");
        String earlier = k.groupId(out, false, false);
        Files.delete(out.resolve(KafkaOptions.GROUP_ID_FILE));
        Files.delete(out);
        String later = k.groupId(out, false, false);
        assertThat(later).isNotEqualTo(earlier).startsWith("keyshift:" + out.toAbsolutePath() + ":");
        // a new job in a directory a refused or failed earlier start left behind does not take over its group either
        assertThat(k.groupId(out, false, false)).isNotEqualTo(later);
    }

    @Test
    void aContinuingJobOfAnEarlierBuildKeepsThatBuildsGroup(@TempDir Path dir) throws Exception {
        Path out = Files.createDirectories(dir.resolve("out"));
        KafkaOptions k = new KafkaOptions();
        assertThat(k.groupId(out, true, true)).isEqualTo("keyshift:" + out.toAbsolutePath());
        // ... and writes it down, so that the next restore reads the same
        assertThat(k.groupId(out, true, false)).isEqualTo("keyshift:" + out.toAbsolutePath());
    }

    @Test
    void aRestoreIntoANewDirectoryMakesAndKeepsItsOwnGroup(@TempDir Path dir) throws Exception {
        KafkaOptions k = new KafkaOptions();
        Path out = dir.resolve("restored");
        String group = k.groupId(out, true, false);
        assertThat(group).startsWith("keyshift:" + out.toAbsolutePath() + ":");
        assertThat(k.groupId(out, true, true)).isEqualTo(group);
        Path other = dir.resolve("restored-again");
        assertThat(k.groupId(other, true, false)).isNotEqualTo(group);
    }

    /**
     * Settings that only the running job can check pass the checks made before it: IPv6 bootstrap servers, a client
     * setting of the connector's own, a class found only on the cluster, a secret from a config provider, and
     * enable.auto.commit (Kafka's consumer refuses it without a group, which the job sets); a misspelt choice does not.
     */
    @Test
    void settingsOnlyTheRunningJobCanCheckPassAndAMisspeltChoiceDoesNot() {
        String[] valid = {"--kafka-bootstrap-servers", "[::1]:9092,broker-1.kafka.svc:9093", "--kafka-topic", "t",
            "--results-topic", "r",
            "--kafka-property", "partition.discovery.interval.ms=60000",
            "--kafka-property", "sasl.client.callback.handler.class=software.amazon.msk.auth.iam.IAMClientCallbackHandler",
            "--kafka-property", "sasl.jaas.config=${file:/etc/kafka/creds.properties:jaas}",
            "--kafka-property", "enable.auto.commit=true", "--kafka-property", "acks=all"};
        KafkaOptions k = new KafkaOptions();
        picocli.CommandLine cl = new picocli.CommandLine(k);
        cl.parseArgs(valid);
        k.validate(cl);
        KafkaOptions bad = new KafkaOptions();
        picocli.CommandLine badCl = new picocli.CommandLine(bad);
        badCl.parseArgs("--kafka-bootstrap-servers", "127.0.0.1:9092", "--kafka-topic", "t", "--kafka-property",
                "auto.offset.reset=erliest");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> bad.validate(badCl))
                .isInstanceOf(picocli.CommandLine.ParameterException.class)
                .hasMessageContaining("--kafka-property auto.offset.reset: ");
        // what keyshift sets itself: the source builder overrode auto.offset.reset with a warning on the cluster, and
        // another (de)serializer than bytes failed every record, at every restart
        for (String[] p : new String[][] {{"auto.offset.reset=latest", "--kafka-starting-offsets"},
                {"value.deserializer=org.apache.kafka.common.serialization.StringDeserializer", "as bytes"}}) {
            KafkaOptions set = new KafkaOptions();
            picocli.CommandLine setCl = new picocli.CommandLine(set);
            setCl.parseArgs("--kafka-bootstrap-servers", "127.0.0.1:9092", "--kafka-topic", "t", "--kafka-property",
                    p[0]);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> set.validate(setCl))
                    .isInstanceOf(picocli.CommandLine.ParameterException.class)
                    .hasMessageContaining("set by keyshift itself").hasMessageContaining(p[1]);
        }
    }

    /**
     * A discovery interval given as a config-provider reference (Flink's source reads it itself: no provider resolves
     * it, and the job failed at every start) and retries written "00" (Kafka reads 0, which a transactional producer
     * refuses) passed the checks.
     */
    @Test
    void aDiscoveryIntervalReferenceAndRetriesOfZeroWrittenOtherwiseAreRefused() {
        for (String[] p : new String[][] {{"partition.discovery.interval.ms=${env:DISCOVERY}", "no config provider"},
                {"retries=00", "retries above 0"}, {"retries= +0", "retries above 0"}}) {
            KafkaOptions k = new KafkaOptions();
            picocli.CommandLine cl = new picocli.CommandLine(k);
            cl.parseArgs("--kafka-bootstrap-servers", "127.0.0.1:9092", "--kafka-topic", "t", "--results-topic", "r",
                    "--kafka-property", p[0]);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> k.validate(cl)).as(p[0])
                    .isInstanceOf(picocli.CommandLine.ParameterException.class)
                    .hasMessageContaining(p[0].substring(0, p[0].indexOf('='))).hasMessageContaining(p[1]);
        }
    }

    /**
     * A port beyond 65535 (a typo) and a delivery timeout Kafka's producer refuses beside the others passed the checks
     * of each value alone; every Kafka client of the running job then failed, at every restart.
     */
    @Test
    void aPortOutOfRangeAndADeliveryTimeoutBelowLingerPlusRequestAreRefused() {
        for (String[] args : new String[][] {
            {"--kafka-bootstrap-servers", "127.0.0.1:90920", "--kafka-topic", "t"},
            {"--kafka-bootstrap-servers", "127.0.0.1:99999999999", "--kafka-topic", "t"},
            {"--kafka-bootstrap-servers", "127.0.0.1:9092", "--kafka-topic", "t", "--results-topic", "r",
                "--kafka-property", "delivery.timeout.ms=20000"}}) {
            KafkaOptions k = new KafkaOptions();
            picocli.CommandLine cl = new picocli.CommandLine(k);
            cl.parseArgs(args);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> k.validate(cl)).as(String.join(" ", args))
                    .isInstanceOf(picocli.CommandLine.ParameterException.class)
                    .hasMessageContaining(args.length > 4 ? "delivery.timeout.ms" : "--kafka-bootstrap-servers");
        }
        KafkaOptions k = new KafkaOptions();
        picocli.CommandLine cl = new picocli.CommandLine(k);
        cl.parseArgs("--kafka-bootstrap-servers", "127.0.0.1:9092", "--kafka-topic", "t", "--results-topic", "r",
                "--kafka-property", "delivery.timeout.ms=20000", "--kafka-property", "request.timeout.ms=10000");
        k.validate(cl);
    }
}
