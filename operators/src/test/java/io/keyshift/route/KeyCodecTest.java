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

        KeyPseudonymizer ps = KeyPseudonymizer.fromSecret("codec-test-secret-0123456789");
        KeyCodec<Long> pseudonymous = KeyCodec.pseudonymous(longs, ps);
        assertThat(pseudonymous.canonicalId(ps.pseudonym("7"))).isEqualTo(ps.pseudonym("7"));
        // with a key secret, commands reach the planner with pseudonyms: a raw key left names no key of the stage
        assertThatThrownBy(() -> pseudonymous.canonicalId("user-7")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("decimal").hasMessageContaining("pseudonym");
        // raw keys become the pseudonym of their id in the stage's form; no raw text passes the map, whatever it is
        io.keyshift.control.ControlKeyPseudonyms map = new io.keyshift.control.ControlKeyPseudonyms(ps, longs);
        assertThat(io.keyshift.control.ControlCommand.parse(map.map("0,pin,007")).key()).isEqualTo(ps.pseudonym("7"));
        assertThat(io.keyshift.control.ControlCommand.parse(map.map("0,pin,user-7")).key())
                .isEqualTo(ps.pseudonym("user-7"));
        assertThat(map.map("2014-05-01T00:00:00Z,pin,\"12345")).doesNotContain("12345");

        // a serialized key's id whose length prefix asks for 2^31 chars is refused, not a failed task
        KeyCodec<Tuple2<String, String>> tupleIds = KeyCodec.forType(tuple, new SerializerConfigImpl());
        assertThatThrownBy(() -> tupleIds.canonicalId("/////wc")).isInstanceOf(IllegalArgumentException.class);
    }

    /** What a sampler keeps under object reuse: a copy of a mutable key, the key itself for strings and numbers. */
    @Test
    void aKeyThatMayChangeIsKeptAsACopy() {
        KeyCodec<org.apache.flink.api.java.tuple.Tuple2<String, Integer>> tuples = KeyCodec.forType(
                org.apache.flink.api.common.typeinfo.Types.TUPLE(org.apache.flink.api.common.typeinfo.Types.STRING,
                        org.apache.flink.api.common.typeinfo.Types.INT),
                new org.apache.flink.api.common.serialization.SerializerConfigImpl());
        var key = org.apache.flink.api.java.tuple.Tuple2.of("a", 1);
        var kept = tuples.keep(key);
        key.f1 = 2;
        assertThat(kept).isEqualTo(org.apache.flink.api.java.tuple.Tuple2.of("a", 1));
        String s = "station";
        assertThat(KeyCodec.forType(org.apache.flink.api.common.typeinfo.Types.STRING,
                new org.apache.flink.api.common.serialization.SerializerConfigImpl()).keep(s)).isSameAs(s);
    }

    /** A Flink POJO key holding an unsorted set (Flink types the field as a generic type). */
    public static class Tagged {
        public String user;
        public java.util.Set<String> tags;

        public Tagged() {}
    }

    /** A POJO key whose map is sorted, and a list: serialized by their values. */
    public static class SortedTagged {
        public String user;
        public java.util.TreeMap<String, Integer> counts;
        public java.util.List<String> order;

        public SortedTagged() {}
    }

    /** A class Flink cannot analyse as a POJO (no public no-argument constructor): Kryo writes its fields. */
    public static final class Opaque {
        private final java.util.HashMap<String, Integer> weights;

        Opaque(java.util.HashMap<String, Integer> weights) {
            this.weights = weights;
        }
    }

    /** A Kryo class whose sets sit in a list: the list's class holds no field that says so (its array is transient). */
    public static final class NestedOpaque {
        private final java.util.List<java.util.HashSet<String>> groups;

        NestedOpaque(java.util.List<java.util.HashSet<String>> groups) {
            this.groups = groups;
        }
    }

    /** A POJO whose optional set Flink types as a generic type (Optional's value is declared Object). */
    public static class OptionalTags {
        public String user;
        public java.util.Optional<java.util.Set<String>> tags;

        public OptionalTags() {}
    }

    /** A POJO base whose field's type is a type variable, filled in by a subclass. */
    public static class Keyed<T> {
        public String id;
        public T attrs;

        public Keyed() {}
    }

    /** Keyed's T is a Kryo class holding a HashMap: Flink resolves the field to it. */
    public static class OpaqueKey extends Keyed<Opaque> {
        public OpaqueKey() {}
    }

    /** A Kryo class whose field's type is a variable bounded by Map, and one bounded by itself. */
    public static final class Bounded<M extends java.util.Map<String, Integer>, C extends Comparable<C>> {
        private final M values;
        private final C order;

        Bounded(M values, C order) {
            this.values = values;
            this.order = order;
        }
    }

    /** A recursive generic Kryo class: the walk ends. */
    public static final class Node<T extends Comparable<T>> {
        private final java.util.List<Node<T>> children;
        private final T value;

        Node(java.util.List<Node<T>> children, T value) {
            this.children = children;
            this.value = value;
        }
    }

    /**
     * A field Flink resolves from a type variable (Keyed<Opaque>'s attrs), and a variable's bound (M extends Map):
     * found as before the type arguments were walked, and a recursive generic class's walk ends.
     */
    @Test
    void typeVariablesAreResolvedOrBounded() {
        assertThat(KeyCodec.unorderedPart(TypeInformation.of(OpaqueKey.class)))
                .isEqualTo("field weights of field attrs of the key (java.util.HashMap)");
        assertThat(KeyCodec.unorderedPart(TypeInformation.of(Bounded.class)))
                .isEqualTo("field values of the key (java.util.Map)");
        assertThat(KeyCodec.unorderedPart(TypeInformation.of(Node.class))).isNull();
    }

    /** Sets and maps reached through type arguments (a Kryo class's List<HashSet<..>>, a POJO's Optional<Set<..>>). */
    @Test
    void unsortedSetsInTypeArgumentsAreFound() {
        assertThat(KeyCodec.unorderedPart(Types.LIST(TypeInformation.of(NestedOpaque.class))))
                .isEqualTo("field groups of the key's elements's type argument 1 (java.util.HashSet)");
        assertThat(KeyCodec.unorderedPart(TypeInformation.of(OptionalTags.class)))
                .isEqualTo("field tags of the key's type argument 1 (java.util.Set)");
        // a list of strings in a Kryo class, a sorted map of lists: their values' order
        assertThat(KeyCodec.unorderedPart(TypeInformation.of(SortedTagged.class))).isNull();
    }

    /**
     * Types whose serialized form can differ between equal keys (unsorted maps and sets, written in iteration order)
     * are found, at any depth; types whose form follows the value are not.
     */
    @Test
    void keyTypesHoldingUnsortedMapsOrSetsAreFound() {
        assertThat(KeyCodec.unorderedPart(Types.STRING)).isNull();
        assertThat(KeyCodec.unorderedPart(Types.TUPLE(Types.STRING, Types.INT))).isNull();
        assertThat(KeyCodec.unorderedPart(Types.LIST(Types.STRING))).isNull();
        assertThat(KeyCodec.unorderedPart(Types.ROW_NAMED(new String[] {"a", "b"}, Types.STRING, Types.LONG)))
                .isNull();
        assertThat(KeyCodec.unorderedPart(TypeInformation.of(SortedTagged.class))).isNull();
        assertThat(KeyCodec.unorderedPart(TypeInformation.of(java.util.TreeSet.class))).isNull();
        assertThat(KeyCodec.unorderedPart(TypeInformation.of(java.util.EnumSet.class))).isNull();
        assertThat(KeyCodec.unorderedPart(TypeInformation.of(java.util.EnumMap.class))).isNull();

        assertThat(KeyCodec.unorderedPart(Types.MAP(Types.STRING, Types.INT))).isEqualTo("the key (a map)");
        assertThat(KeyCodec.unorderedPart(Types.TUPLE(Types.STRING, Types.MAP(Types.STRING, Types.INT))))
                .isEqualTo("field f1 of the key (a map)");
        assertThat(KeyCodec.unorderedPart(TypeInformation.of(Tagged.class)))
                .isEqualTo("field tags of the key (a set)");
        assertThat(KeyCodec.unorderedPart(TypeInformation.of(java.util.HashSet.class)))
                .isEqualTo("the key (java.util.HashSet)");
        assertThat(KeyCodec.unorderedPart(Types.LIST(TypeInformation.of(Opaque.class))))
                .isEqualTo("field weights of the key's elements (java.util.HashMap)");
    }
}
