package io.keyshift.api;

import org.apache.flink.api.common.typeinfo.BasicArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.EnumTypeInfo;
import org.apache.flink.api.java.typeutils.GenericTypeInfo;
import org.apache.flink.api.java.typeutils.ListTypeInfo;
import org.apache.flink.api.java.typeutils.MapTypeInfo;
import org.apache.flink.api.java.typeutils.ObjectArrayTypeInfo;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.api.java.typeutils.TupleTypeInfoBase;

import java.util.HashSet;
import java.util.Set;

/**
 * Finds a part of a key type whose {@code hashCode} is not the same in every JVM: an enum (Object's identity hash), an
 * array (identity hash), or a class that keeps {@code Object.hashCode}, anywhere in the key: its own type, the fields
 * of a Tuple or Row, the components of a record, the elements of a List or Map. Plain {@code keyBy} refuses such a
 * type at the top level and in Tuples and Rows, not inside a POJO or record; behind keyBy a key whose hash differs
 * between JVMs fails loudly (its key group is computed again on the receiving side). keyshift stores the routing
 * key's hash with the key ({@link io.keyshift.route.RoutingKey}), so nothing would fail: routers in different
 * TaskManagers, and every run after a restore, would put one key in several key groups, each with its own state and
 * its own results. A POJO (not a record) that declares its own {@code hashCode} is trusted as its author wrote it; a
 * record's is taken to be the implicit one, made of its components' (a record that overrides it over an enum
 * component is refused too: key by the enum's {@code name()}).
 */
final class KeyHashes {
    private KeyHashes() {}

    /** A description of the first part of {@code type} with a JVM-dependent hashCode, e.g. "field region: an enum"; null: none. */
    static String unstable(TypeInformation<?> type) {
        return unstable(type, "", new HashSet<>());
    }

    private static String unstable(TypeInformation<?> type, String path, Set<Class<?>> seen) {
        if (type instanceof EnumTypeInfo<?>) {
            return at(path) + "an enum (" + type.getTypeClass().getName() + ")";
        }
        if (type instanceof BasicArrayTypeInfo<?, ?> || type instanceof PrimitiveArrayTypeInfo<?>
                || type instanceof ObjectArrayTypeInfo<?, ?>) {
            return at(path) + "an array (" + type + ")";
        }
        if (type instanceof TupleTypeInfoBase<?> tuple && !(type instanceof PojoTypeInfo<?>)) {
            for (int i = 0; i < tuple.getArity(); i++) {
                String found = unstable(tuple.getTypeAt(i), path + "." + tuple.getFieldNames()[i], seen);
                if (found != null) {
                    return found;
                }
            }
            return null;
        }
        if (type instanceof PojoTypeInfo<?> pojo) {
            Class<?> c = pojo.getTypeClass();
            if (!c.isRecord()) {
                return ownHashCode(c) ? null : at(path) + "a class that keeps Object's hashCode (" + c.getName() + ")";
            }
            if (!seen.add(c)) {
                return null;
            }
            for (int i = 0; i < pojo.getArity(); i++) {
                String found = unstable(pojo.getPojoFieldAt(i).getTypeInformation(),
                        path + "." + pojo.getPojoFieldAt(i).getField().getName(), seen);
                if (found != null) {
                    return found;
                }
            }
            return null;
        }
        if (type instanceof ListTypeInfo<?> list) {
            return unstable(list.getElementTypeInfo(), path + "[]", seen);
        }
        if (type instanceof MapTypeInfo<?, ?> map) {
            String found = unstable(map.getKeyTypeInfo(), path + "{key}", seen);
            return found != null ? found : unstable(map.getValueTypeInfo(), path + "{value}", seen);
        }
        if (type instanceof GenericTypeInfo<?>) {
            return unstable(type.getTypeClass(), path, seen);
        }
        // basic types (String, boxed numbers, ...), and types of their own (Avro, Scala, ...): their own hashCode
        return null;
    }

    /** The same for a class Flink serializes generically (Kryo): judged by the class and, for records, its components. */
    private static String unstable(Class<?> c, String path, Set<Class<?>> seen) {
        if (c.isEnum() || c.getSuperclass() != null && c.getSuperclass().isEnum()) {
            return at(path) + "an enum (" + c.getName() + ")";
        }
        if (c.isArray()) {
            return at(path) + "an array (" + c.getSimpleName() + ")";
        }
        if (c.isPrimitive() || c.isInterface() || java.lang.reflect.Modifier.isAbstract(c.getModifiers())
                || c == Object.class) {
            // a declared interface or abstract type: the value's own class decides, unknown here
            return null;
        }
        if (c.isRecord()) {
            if (!seen.add(c)) {
                return null;
            }
            for (java.lang.reflect.RecordComponent rc : c.getRecordComponents()) {
                String found = unstable(rc.getType(), path + "." + rc.getName(), seen);
                if (found != null) {
                    return found;
                }
            }
            return null;
        }
        return ownHashCode(c) ? null : at(path) + "a class that keeps Object's hashCode (" + c.getName() + ")";
    }

    private static boolean ownHashCode(Class<?> c) {
        try {
            return c.getMethod("hashCode").getDeclaringClass() != Object.class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    private static String at(String path) {
        return path.isEmpty() ? "the key is " : "its field " + path.substring(1) + " is ";
    }
}
