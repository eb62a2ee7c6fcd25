package io.keyshift.route;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Ids a user writes (pinned keys, control commands) are checked against the ids a stage's plans give its keys. */
class KeyCodecTest {
    @Test
    void anIdIsTheFormTheStageWritesOrItIsRefusedSayingHowKeysAreWritten() {
        KeyCodec<Long> longs = KeyCodec.forType(Types.LONG, new SerializerConfigImpl());
        assertThat(longs.canonicalId("70")).isEqualTo("70");
        assertThat(longs.canonicalId("070")).isEqualTo("70");
        assertThatThrownBy(() -> longs.canonicalId("user-7")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'user-7' names no key").hasMessageContaining("decimal");

        KeyCodec<String> strings = KeyCodec.forType(Types.STRING, new SerializerConfigImpl());
        assertThat(strings.canonicalId("(acme,alice)")).isEqualTo("(acme,alice)");

        TypeInformation<Tuple2<String, String>> tuple = Types.TUPLE(Types.STRING, Types.STRING);
        KeyCodec<Tuple2<String, String>> tuples = KeyCodec.forType(tuple, new SerializerConfigImpl());
        String id = tuples.id(Tuple2.of("acme", "alice"));
        assertThat(tuples.canonicalId(id)).isEqualTo(id);
        assertThatThrownBy(() -> tuples.canonicalId("(acme,alice)")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Base64");
        // a valid id with bytes left over names no key either
        String longer = java.util.Base64.getEncoder().withoutPadding().encodeToString(
                (new String(java.util.Base64.getDecoder().decode(id), java.nio.charset.StandardCharsets.ISO_8859_1)
                        + "xyz").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> tuples.canonicalId(longer)).isInstanceOf(IllegalArgumentException.class);

        KeyCodec<Long> pseudonymous = KeyCodec.pseudonymous(longs, KeyPseudonymizer.fromSecret(
                "codec-test-secret-0123456789"));
        assertThat(pseudonymous.canonicalId("anything")).isEqualTo("anything");
    }
}
