package io.keyshift.route;

import io.keyshift.control.ControlCommand;
import io.keyshift.control.ControlKeyPseudonyms;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Pseudonyms of keyshift.privacy.key-secret, and control lines that name keys. */
class KeyPseudonymizerTest {
    static {
        // plans are Avro records with nested schema classes: trusted as in a job
        io.keyshift.config.AvroTrust.install();
    }

    private static final KeyPseudonymizer P = KeyPseudonymizer.fromSecret("unit-test-secret-0123");

    @Test
    void aPseudonymIsAFunctionOfKeyAndSecretInItsForm() throws Exception {
        String a = P.pseudonym("Market at 4th");
        assertThat(a).matches("~[0-9a-f]{16}");
        assertThat(KeyPseudonymizer.isPseudonym(a)).isTrue();
        assertThat(P.pseudonym("Market at 4th")).isEqualTo(a);
        // after Java serialization (as in a job graph): the same function
        KeyPseudonymizer copy = InstantiationUtil.clone(P);
        assertThat(copy.pseudonym("Market at 4th")).isEqualTo(a);
        assertThat(P.pseudonym("Market at 5th")).isNotEqualTo(a);
        assertThat(KeyPseudonymizer.fromSecret("unit-test-secret-0124").pseudonym("Market at 4th")).isNotEqualTo(a);
        // 100,000 keys: no collision (bound 100000^2 / 2^65 = 2.7e-10)
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 100_000; i++) {
            assertThat(seen.add(P.pseudonym("user-" + i))).isTrue();
        }
        assertThat(KeyPseudonymizer.isPseudonym("Market at 4th")).isFalse();
        assertThat(KeyPseudonymizer.isPseudonym("~47B8EFD4F1380FA8")).isFalse();
        assertThatThrownBy(() -> KeyPseudonymizer.parse("Market at 4th")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aShortSecretIsRefusedNamingTheOptionButNotTheSecret() {
        assertThatThrownBy(() -> KeyPseudonymizer.fromSecret("short"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 16 characters");
        org.apache.flink.configuration.Configuration c = new org.apache.flink.configuration.Configuration();
        c.set(io.keyshift.config.PrivacyOptions.KEY_SECRET, "tooShort");
        assertThatThrownBy(() -> io.keyshift.config.KeyshiftConfig.validate(c))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keyshift.privacy.key-secret").hasMessageNotContaining("tooShort");
    }

    @Test
    void configuredPinnedKeysArePseudonymizedToo() {
        org.apache.flink.configuration.Configuration c = new org.apache.flink.configuration.Configuration();
        c.set(io.keyshift.config.PlanOptions.PINNED_KEYS, java.util.List.of("Market at 4th", P.pseudonym("x")));
        assertThat(io.keyshift.config.KeyshiftConfig.constraints(c).pinned())
                .containsExactlyInAnyOrder("Market at 4th", P.pseudonym("x"));
        c.set(io.keyshift.config.PrivacyOptions.KEY_SECRET, "unit-test-secret-0123");
        assertThat(io.keyshift.config.KeyshiftConfig.constraints(c).pinned())
                .containsExactlyInAnyOrder(P.pseudonym("Market at 4th"), P.pseudonym("x"));
    }

    @Test
    void aPseudonymousCodecNamesKeysByPseudonymAndCannotTurnThemBack() {
        KeyCodec<Long> codec = KeyCodec.pseudonymous(KeyCodec.forType(Types.LONG, new SerializerConfigImpl()), P);
        assertThat(codec.reversible()).isFalse();
        assertThat(codec.id(42L)).isEqualTo(P.pseudonym("42"));
        assertThatThrownBy(() -> codec.key(codec.id(42L))).isInstanceOf(UnsupportedOperationException.class);
        // a routing table of pseudonyms is looked up by pseudonym
        RoutingTable<Long> t = RoutingTable.of(Plans.plan(3, 50, 128, Plans.migrating(codec.id(42L), 5, 9, 10, 20)),
                codec);
        RoutingTable.Route r = new RoutingTable.Route();
        assertThat(codec.pseudonym(42L, 5).id()).isEqualTo(codec.id(42L));
        assertThat(KeyPseudonymizer.format(KeyPseudonymizer.parse(codec.id(42L)))).isEqualTo(codec.id(42L));
        t.route(codec.pseudonym(42L, 5), 15, 5, 0, r);
        assertThat(r.role).isEqualTo(Role.MIGRATING);
        assertThat(r.shadow).isEqualTo(9);
        t.route(codec.pseudonym(43L, 77), 15, 77, 0, r);
        assertThat(r.role).isEqualTo(Role.PRIMARY);
        assertThat(r.primary).isEqualTo(77);
    }

    @Test
    void controlLinesNameKeysByPseudonym() throws Exception {
        ControlKeyPseudonyms map = new ControlKeyPseudonyms(P, KeyCodec.forType(
                org.apache.flink.api.common.typeinfo.Types.STRING,
                new org.apache.flink.api.common.serialization.SerializerConfigImpl()));
        String pin = map.map("2014-03-01T00:00:00Z,pin,\"Powell at Post (Union Square)\"");
        ControlCommand c = ControlCommand.parse(pin);
        assertThat(c.type()).isEqualTo(ControlCommand.Type.PIN);
        assertThat(c.key()).isEqualTo(P.pseudonym("Powell at Post (Union Square)"));
        assertThat(pin).doesNotContain("Powell");
        // a pseudonym (as a report shows it) stays as it is
        assertThat(ControlCommand.parse(map.map("2014-03-01T00:00:00Z,unpin," + c.key())).key()).isEqualTo(c.key());
        // a revert keeps its other fields but the reason, free text that may name the key
        ControlCommand revert = ControlCommand.parse(map.map(
                "2014-03-02T00:00:00Z,revert,\"Market, at 4th\",12,40,2014-03-01T00:00:00Z,a reason"));
        assertThat(revert.key()).isEqualTo(P.pseudonym("Market, at 4th"));
        assertThat(revert.keyGroup()).isEqualTo(12);
        assertThat(revert.ifAtKeyGroup()).isEqualTo(40);
        assertThat(revert.reason()).isEqualTo(P.pseudonym("a reason"));
        // a key holding U+FFFD (bytes that were not UTF-8) is refused, by its pseudonym too (which parses)
        String notText = map.map("2014-03-01T00:00:00Z,pin,Caf\uFFFD");
        assertThat(notText).doesNotContain("Caf");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ControlCommand.parse(notText))
                .hasMessageContaining("U+FFFD");
        // commands without keys, comments: unchanged
        assertThat(map.map("2014-06-01T00:00:00Z,freeze")).isEqualTo("2014-06-01T00:00:00Z,freeze");
        assertThat(map.map("# pin Market at 4th")).isEqualTo("# pin Market at 4th");
        // malformed lines keep their first two fields and lose the rest to pseudonyms; the planner still refuses them
        // an unknown command's name could be a key too
        String bad = map.map("2014-05-01T00:00:00Z,teleport,Market at 4th");
        assertThat(bad).isEqualTo("2014-05-01T00:00:00Z," + P.pseudonym("teleport") + ","
                + P.pseudonym("Market at 4th"));
        assertThatThrownBy(() -> ControlCommand.parse(bad))
                .hasMessageContaining("unknown command '" + P.pseudonym("teleport") + "'");
        String notCsv = map.map("2014-05-01T00:00:00Z,pin,\"Market at 4th");
        assertThat(notCsv).isEqualTo(P.pseudonym("2014-05-01T00:00:00Z,pin,\"Market at 4th"));
        // fewer fields: a line without commas, one without a time
        assertThat(map.map("2014-03-01T00:00:00Z pin Market at 4th")).doesNotContain("Market")
                .isEqualTo(P.pseudonym("2014-03-01T00:00:00Z pin Market at 4th"));
        assertThat(map.map("pin,Market at 4th")).isEqualTo(P.pseudonym("pin") + "," + P.pseudonym("Market at 4th"));
        assertThat(map.map("2014-03-01T00:00:00Z,Market at 4th"))
                .isEqualTo("2014-03-01T00:00:00Z," + P.pseudonym("Market at 4th"));
        // bare digits first (epoch milliseconds, or an integer key typed where the time goes): not kept
        assertThat(map.map("4711,pin")).doesNotContain("4711").isEqualTo(P.pseudonym("4711") + ",pin");
        assertThat(map.map("4711")).isEqualTo(P.pseudonym("4711"));
        // a null element of a library job's control stream names no key: it stays null (the task failed here)
        assertThat(map.map(null)).isNull();
        // a command that names no key keeps a number or time that was wrong, so that its refusal says what it was; any
        // other text may be a key typed in the wrong place
        assertThat(map.map("2014-03-01T00:00:00Z,scale,0")).isEqualTo("2014-03-01T00:00:00Z,scale,0");
        assertThat(map.map("2014-03-01T00:00:00Z,sampling-rate,1.5"))
                .isEqualTo("2014-03-01T00:00:00Z,sampling-rate,1.5");
        assertThat(map.map("2014-03-01T00:00:00Z,scale,four"))
                .isEqualTo("2014-03-01T00:00:00Z,scale," + P.pseudonym("four"));
        assertThat(map.map("now,freeze,Market at 4th")).isEqualTo("now,freeze," + P.pseudonym("Market at 4th"));
        assertThat(map.map("now,anomaly-z,Market at 4th")).isEqualTo("now,anomaly-z," + P.pseudonym("Market at 4th"));
        // a number where a command takes none, a field after the argument, a number only Java reads: maybe a key
        assertThat(map.map("now,freeze,12345")).isEqualTo("now,freeze," + P.pseudonym("12345"));
        assertThat(map.map("now,scale,4,12345")).isEqualTo("now,scale,4," + P.pseudonym("12345"));
        assertThat(map.map("now,sampling-rate,NaN")).isEqualTo("now,sampling-rate," + P.pseudonym("NaN"));
        // a malformed revert keeps its key groups and times, not its key or reason
        assertThat(map.map("2014-03-02T00:00:00Z,revert,Market at 4th,x,40,2014-03-01T00:00:00Z,why Market at 4th"))
                .isEqualTo("2014-03-02T00:00:00Z,revert," + P.pseudonym("Market at 4th") + "," + P.pseudonym("x")
                        + ",40,2014-03-01T00:00:00Z," + P.pseudonym("why Market at 4th"));
        // and loses any further field, a number too (an integer key), and a key group only Java reads as a number
        assertThat(map.map("2014-03-02T00:00:00Z,revert,7,0x1p3,40,2014-03-01T00:00:00Z,why,12345"))
                .isEqualTo("2014-03-02T00:00:00Z,revert," + P.pseudonym("7") + "," + P.pseudonym("0x1p3")
                        + ",40,2014-03-01T00:00:00Z," + P.pseudonym("why") + "," + P.pseudonym("12345"));
    }

    @Test
    void aKeySharingAPseudonymWithAKeyOfAnotherNaturalKeyGroupStaysHome() {
        KeyCodec<String> codec = KeyCodec.pseudonymous(KeyCodec.forType(Types.STRING, new SerializerConfigImpl()), P);
        String id = P.pseudonym("a");
        io.keyshift.avro.RouteEntry moved = io.keyshift.avro.RouteEntry.newBuilder().setKey(id)
                .setNaturalKeyGroup(5).setKeyGroup(9).setMigration(null).build();
        RoutingTable<String> t = RoutingTable.of(Plans.plan(3, 50, 128, moved), codec);
        RoutingTable.Route r = new RoutingTable.Route();
        t.route(new KeyPseudonym(KeyPseudonymizer.parse(id), 5), 15, 5, 0, r);
        assertThat(r.primary).isEqualTo(9);
        // another key with the same pseudonym (a collision) of natural key group 7: not the entry's key
        t.route(new KeyPseudonym(KeyPseudonymizer.parse(id), 7), 15, 7, 0, r);
        assertThat(r.primary).isEqualTo(7);
    }

    @Test
    void namingsTellRawFromEachSecretAndTheMismatchMessageNamesTheOption() {
        assertThat(KeyPseudonymizer.naming(null)).isEqualTo("raw");
        assertThat(KeyPseudonymizer.naming(P)).isEqualTo(P.pseudonym("keyshift:key-naming"))
                .isNotEqualTo(KeyPseudonymizer.naming(KeyPseudonymizer.fromSecret("unit-test-secret-0124")));
        assertThat(KeyCodec.pseudonymous(KeyCodec.forType(Types.STRING, new SerializerConfigImpl()), P).naming())
                .isEqualTo(KeyPseudonymizer.naming(P));
        assertThat(KeyPseudonymizer.namingMismatch("plan 3", "raw", KeyPseudonymizer.naming(P)))
                .contains("plan 3 names keys raw").contains("keyshift.privacy.key-secret");
        assertThatThrownBy(() -> KeyPseudonymizer.parse("Market at 4th")).hasMessageNotContaining("Market");
    }
}
