package io.keyshift.route;

import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.BasicTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Base64;

/**
 * The id of a user key in keyshift's control path (samples, forecasts, plans, validation reports): a String that
 * names the key exactly and can be turned back into it (a String key that is not well-formed UTF-16, an unpaired
 * surrogate, is its own id, which Avro writes as UTF-8 with '?' for the surrogate: the id read back names another
 * string; the router's natural key group check keeps that string's own key home, unless it has the same natural key
 * group, where it moves with its state). The control path is type-agnostic Avro; only the router,
 * which looks plans up per record, turns ids back into keys (once per plan version).
 *
 * <ul>
 *   <li>String keys: the key itself;</li>
 *   <li>Integer, Long, Short, Byte keys: decimal ({@code Long.toString});</li>
 *   <li>any other key type: Base64 (RFC 4648, no padding) of the key's serialized form under its own Flink
 *       serializer, which is deterministic for Flink's serializers of POJOs, tuples, rows and Avro records.</li>
 * </ul>
 *
 * @param <K> the user key type
 */
public abstract class KeyCodec<K> implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The id of {@code key}; never null. */
    public abstract String id(K key);

    /**
     * {@code key}, or a copy of it where a key of this type may be changed after it was handed over (under
     * pipeline.object-reuse a record, and the key in it, may be reused by the operator in front): what a sampler may
     * keep. Strings and numbers are immutable and returned as they are.
     */
    public K keep(K key) {
        return key;
    }

    /** Whether {@link #keep} copies: keys of this type may be changed after they were handed over. */
    public boolean keysMayChange() {
        return false;
    }

    /**
     * The key of {@code id}; IllegalArgumentException if {@code id} is not an id of this codec,
     * UnsupportedOperationException for a codec that is not {@link #reversible()}.
     */
    public abstract K key(String id);

    /**
     * The id of the key that {@code id} names, as this codec writes it ("70" for "070" of an integer key), for ids a
     * user writes (pinned keys, control commands). A codec that is not {@link #reversible()} returns {@code id} where
     * it has the form of a pseudonym (which it cannot check further).
     *
     * @throws IllegalArgumentException if {@code id} names no key of this codec's type (of a codec that is not
     *                                  reversible: is no pseudonym); the message says how ids of its keys are written
     */
    public String canonicalId(String id) {
        try {
            return id(key(id));
        } catch (RuntimeException | OutOfMemoryError e) {
            // a user's text read with the key's serializer: a length prefix of 2^31 asks for one array too large to
            // allocate (the heap itself is not exhausted by it), which must refuse the text, not fail the task
            throw new IllegalArgumentException("'" + id + "' names no key of this stage's key type (" + idForm() + ")",
                    e);
        }
    }

    /** How ids of this codec's keys are written, for messages. */
    String idForm() {
        return "a key is written as the key itself";
    }

    /** How this codec names keys ({@link KeyPseudonymizer#naming}): "raw", or a pseudonymizer's fingerprint. */
    public String naming() {
        return KeyPseudonymizer.naming(null);
    }

    /**
     * True if {@link #key} turns ids back into keys; false for {@link #pseudonymous} codecs, whose ids the router
     * computes per record to look plans up by.
     */
    public boolean reversible() {
        return true;
    }

    /**
     * The pseudonym of {@code key} with its natural key group, for a codec that is not {@link #reversible()}:
     * what the router counts and looks plans up by, per record.
     *
     * @throws UnsupportedOperationException for a reversible codec
     */
    public KeyPseudonym pseudonym(K key, int keyGroup) {
        throw new UnsupportedOperationException("keys are not pseudonymized");
    }

    /**
     * The codec whose id of a key is the pseudonym ({@link KeyPseudonymizer}) of its id under {@code base}: what
     * keyshift's control path sees of keys when {@code keyshift.privacy.key-secret} is set. Not reversible.
     */
    public static <K> KeyCodec<K> pseudonymous(KeyCodec<K> base, KeyPseudonymizer pseudonymizer) {
        return new PseudonymousCodec<>(base, pseudonymizer);
    }

    /**
     * Where a key of {@code type} holds a map or a set whose serialized form follows its iteration order (so two equal
     * keys, built in another order or grown to another capacity, can serialize differently): a path such as
     * {@code "field tags (java.util.HashSet)"}, or null where every part's serialized form follows its value (strings,
     * numbers, enums, arrays and lists of such, tuples, rows and POJOs of such, sorted maps and sets, enum maps and
     * sets). Walks Flink's
     * type information, and the declared fields of a class Flink treats as a generic type (Kryo), to any depth, with
     * the type arguments a field declares. Where Flink's type information keeps only the class of a generic type (a
     * tuple's field or the key type itself typed {@code Optional<Set<String>>}), the type arguments are not known here
     * and the class's fields declared by a type variable are taken for their bounds ({@code Object}: not looked into).
     */
    public static String unorderedPart(TypeInformation<?> type) {
        return unorderedPart(type, "the key", new java.util.HashSet<>());
    }

    private static String unorderedPart(TypeInformation<?> type, String path, java.util.Set<Object> seen) {
        if (type instanceof org.apache.flink.api.java.typeutils.MapTypeInfo) {
            return path + " (a map)";
        }
        if (type instanceof org.apache.flink.api.java.typeutils.SetTypeInfo) {
            return path + " (a set)";
        }
        if (type instanceof org.apache.flink.api.java.typeutils.ListTypeInfo<?> list) {
            return unorderedPart(list.getElementTypeInfo(), path + "'s elements", seen);
        }
        if (type instanceof org.apache.flink.api.java.typeutils.ObjectArrayTypeInfo<?, ?> array) {
            return unorderedPart(array.getComponentInfo(), path + "'s elements", seen);
        }
        if (type instanceof org.apache.flink.api.common.typeutils.CompositeType<?> composite) {
            for (int i = 0; i < composite.getArity(); i++) {
                String fieldPath = "field " + composite.getFieldNames()[i] + " of " + path;
                // a POJO's field Flink types as a generic type (Optional<Set<..>>): its declared type arguments too
                // the type Flink resolved (a type variable's argument, Keyed<Attrs>'s Attrs) first
                String part = unorderedPart(composite.getTypeAt(i), fieldPath, seen);
                if (part == null && composite instanceof org.apache.flink.api.java.typeutils.PojoTypeInfo<?> pojo
                        && composite.getTypeAt(i) instanceof org.apache.flink.api.java.typeutils.GenericTypeInfo<?>) {
                    part = unorderedType(pojo.getPojoFieldAt(i).getField().getGenericType(), fieldPath, seen);
                }
                if (part != null) {
                    return part;
                }
            }
            return null;
        }
        if (type instanceof org.apache.flink.api.java.typeutils.GenericTypeInfo<?> generic) {
            return unorderedClass(generic.getTypeClass(), path, seen);
        }
        return null;
    }

    /** {@link #unorderedPart} of a class Kryo serializes field by field (its declared fields, and its supertypes'). */
    private static String unorderedClass(Class<?> c, String path, java.util.Set<Object> seen) {
        if (java.util.SortedMap.class.isAssignableFrom(c) || java.util.SortedSet.class.isAssignableFrom(c)
                || java.util.EnumMap.class.isAssignableFrom(c) || java.util.EnumSet.class.isAssignableFrom(c)) {
            // sorted, or in the enum's declaration order
            return null;
        }
        if (java.util.Map.class.isAssignableFrom(c) || java.util.Set.class.isAssignableFrom(c)) {
            return path + " (" + c.getName() + ")";
        }
        if (c.isPrimitive() || c.isEnum() || c.getName().startsWith("java.lang.") || !seen.add(c)) {
            return null;
        }
        if (c.isArray()) {
            return unorderedClass(c.getComponentType(), path + "'s elements", seen);
        }
        for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
            for (java.lang.reflect.Field f : k.getDeclaredFields()) {
                int m = f.getModifiers();
                if (java.lang.reflect.Modifier.isStatic(m) || java.lang.reflect.Modifier.isTransient(m)) {
                    continue;
                }
                String part = unorderedType(f.getGenericType(), "field " + f.getName() + " of " + path, seen);
                if (part != null) {
                    return part;
                }
            }
        }
        return null;
    }

    /**
     * {@link #unorderedClass} of a field's declared type and of its type arguments, at any depth: Kryo writes a
     * {@code List<HashSet<String>>}'s sets in their iteration order, and the list's class holds no field that says so
     * (its array is transient; {@code Optional}'s value is declared {@code Object}).
     */
    private static String unorderedType(java.lang.reflect.Type t, String path, java.util.Set<Object> seen) {
        if (t instanceof Class<?> c) {
            return unorderedClass(c, path, seen);
        }
        if (t instanceof java.lang.reflect.ParameterizedType pt) {
            String part = pt.getRawType() instanceof Class<?> raw ? unorderedClass(raw, path, seen) : null;
            java.lang.reflect.Type[] args = pt.getActualTypeArguments();
            for (int i = 0; part == null && i < args.length; i++) {
                part = unorderedType(args[i], path + "'s type argument " + (i + 1), seen);
            }
            return part;
        }
        if (t instanceof java.lang.reflect.GenericArrayType array) {
            return unorderedType(array.getGenericComponentType(), path + "'s elements", seen);
        }
        if (t instanceof java.lang.reflect.WildcardType wildcard) {
            for (java.lang.reflect.Type bound : wildcard.getUpperBounds()) {
                String part = unorderedType(bound, path, seen);
                if (part != null) {
                    return part;
                }
            }
        }
        if (t instanceof java.lang.reflect.TypeVariable<?> variable && seen.add(variable)) {
            // what it stands for is not known here, its bounds are (<M extends Map<..>>); each variable once
            // (T extends Comparable<T>)
            for (java.lang.reflect.Type bound : variable.getBounds()) {
                String part = unorderedType(bound, path, seen);
                if (part != null) {
                    return part;
                }
            }
        }
        return null;
    }


    /** The codec for keys of {@code type} (serializers from {@code config} for types other than strings and numbers). */
    @SuppressWarnings("unchecked")
    public static <K> KeyCodec<K> forType(TypeInformation<K> type, SerializerConfig config) {
        if (type.equals(BasicTypeInfo.STRING_TYPE_INFO)) {
            return (KeyCodec<K>) new StringCodec();
        }
        if (type.equals(BasicTypeInfo.LONG_TYPE_INFO)) {
            return (KeyCodec<K>) new IntegralCodec<>(Long::valueOf);
        }
        if (type.equals(BasicTypeInfo.INT_TYPE_INFO)) {
            return (KeyCodec<K>) new IntegralCodec<>(Integer::valueOf);
        }
        if (type.equals(BasicTypeInfo.SHORT_TYPE_INFO)) {
            return (KeyCodec<K>) new IntegralCodec<>(Short::valueOf);
        }
        if (type.equals(BasicTypeInfo.BYTE_TYPE_INFO)) {
            return (KeyCodec<K>) new IntegralCodec<>(Byte::valueOf);
        }
        return new SerializedCodec<>(type.createSerializer(config));
    }

    private static final class PseudonymousCodec<K> extends KeyCodec<K> {
        private static final long serialVersionUID = 1L;
        private final KeyCodec<K> base;
        private final KeyPseudonymizer pseudonymizer;

        PseudonymousCodec(KeyCodec<K> base, KeyPseudonymizer pseudonymizer) {
            this.base = base;
            this.pseudonymizer = pseudonymizer;
        }

        @Override
        public String id(K key) {
            return pseudonymizer.pseudonym(base.id(key));
        }

        @Override
        public KeyPseudonym pseudonym(K key, int keyGroup) {
            return new KeyPseudonym(pseudonymizer.hash(base.id(key)), keyGroup);
        }

        @Override
        public K key(String id) {
            throw new UnsupportedOperationException("keys are pseudonymized (keyshift.privacy.key-secret): a "
                    + "pseudonym cannot be turned back into its key");
        }

        /**
         * {@code id} if it is a pseudonym (commands name keys raw only until {@code ControlKeyPseudonyms} has turned
         * every key of the stage's type into its pseudonym: a raw one left names no key of this stage).
         */
        @Override
        public String canonicalId(String id) {
            if (!KeyPseudonymizer.isPseudonym(id)) {
                throw new IllegalArgumentException("'" + id + "' names no key of this stage's key type ("
                        + base.idForm()
                        + "; with keyshift.privacy.key-secret also its pseudonym)");
            }
            return id;
        }

        @Override
        public boolean reversible() {
            return false;
        }

        @Override
        public String naming() {
            return KeyPseudonymizer.naming(pseudonymizer);
        }
    }

    private static final class StringCodec extends KeyCodec<String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String id(String key) {
            return key;
        }

        @Override
        public String key(String id) {
            return id;
        }

        @Override
        public String canonicalId(String id) {
            return id;
        }
    }

    /** Parses a decimal id; the function is serializable. */
    interface Parser<N> extends Serializable {
        N parse(String s);
    }

    private static final class IntegralCodec<N extends Number> extends KeyCodec<N> {
        private static final long serialVersionUID = 1L;
        private final Parser<N> parser;

        IntegralCodec(Parser<N> parser) {
            this.parser = parser;
        }

        @Override
        public String id(N key) {
            return Long.toString(key.longValue());
        }

        @Override
        public N key(String id) {
            try {
                return parser.parse(id);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a numeric key id: '" + id + "'", e);
            }
        }

        @Override
        String idForm() {
            return "integer keys are written in decimal";
        }
    }

    private static final class SerializedCodec<K> extends KeyCodec<K> {
        private static final long serialVersionUID = 1L;
        private final TypeSerializer<K> serializer;
        private transient DataOutputSerializer buffer;

        SerializedCodec(TypeSerializer<K> serializer) {
            this.serializer = serializer;
        }

        @Override
        public K keep(K key) {
            return serializer.copy(key);
        }

        @Override
        public boolean keysMayChange() {
            return true;
        }

        @Override
        public String id(K key) {
            if (buffer == null) {
                buffer = new DataOutputSerializer(64);
            }
            buffer.clear();
            try {
                serializer.serialize(key, buffer);
            } catch (IOException e) {
                // the key's type only: under a key secret no raw key may reach a log line
                throw new UncheckedIOException("cannot serialize a key of type " + key.getClass().getName(), e);
            }
            return Base64.getEncoder().withoutPadding().encodeToString(buffer.getCopyOfBuffer());
        }

        @Override
        public K key(String id) {
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(id);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("not a serialized key id: '" + id + "'", e);
            }
            try {
                return serializer.deserialize(new DataInputDeserializer(bytes));
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read key id '" + id + "' with " + serializer, e);
            }
        }

        @Override
        public String canonicalId(String id) {
            String canonical = super.canonicalId(id);
            if (!canonical.equals(id)) {
                // bytes left over, or a form the serializer does not write: not an id this codec gives a key
                throw new IllegalArgumentException("'" + id + "' names no key of this stage's key type ("
                        + idForm() + ")");
            }
            return canonical;
        }

        @Override
        String idForm() {
            return "a key of this type is written as the Base64 (RFC 4648, no padding) of its serialized form, as "
                    + "plans and reports show it";
        }
    }
}
