package io.keyshift.api;

import org.apache.flink.api.common.typeinfo.BasicArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.EitherTypeInfo;
import org.apache.flink.api.java.typeutils.EnumTypeInfo;
import org.apache.flink.api.java.typeutils.GenericTypeInfo;
import org.apache.flink.api.java.typeutils.ListTypeInfo;
import org.apache.flink.api.java.typeutils.MapTypeInfo;
import org.apache.flink.api.java.typeutils.ObjectArrayTypeInfo;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.api.java.typeutils.SetTypeInfo;
import org.apache.flink.api.java.typeutils.TupleTypeInfoBase;

import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.HashSet;
import java.util.Set;

/**
 * Finds a part of a key type whose {@code hashCode} is not the same in every JVM: an enum (Object's identity hash), an
 * array (identity hash), or a class that keeps {@code Object.hashCode}, anywhere in the key: its own type, the fields
 * of a Tuple or Row, the components of a record, the elements of a List, Set or Map, either side of an Either, the type
 * arguments of a generic (Kryo) class. Plain {@code keyBy} refuses such a type at the top level and in Tuples and Rows,
 * not inside a POJO or record; behind keyBy a key whose hash differs between JVMs fails loudly (its key group is
 * computed again on the receiving side). keyshift stores the routing key's hash with the key
 * ({@link io.keyshift.route.RoutingKey}), so nothing would fail: routers in different TaskManagers, and every run after
 * a restore, would put one key in several key groups, each with its own state and its own results.
 *
 * <p>A class that declares its own {@code hashCode} is trusted as its author wrote it, and so is a record that
 * overrides the implicit one (told from it by its bytecode: the implicit {@code hashCode} is an {@code invokedynamic}
 * of {@code java.lang.runtime.ObjectMethods}, JLS §8.10.3); a record with the implicit one is judged by its components.
 */
final class KeyHashes {
    private KeyHashes() {}

    /**
     * A description of the first part of {@code type} with a JVM-dependent hashCode, e.g. "its field region is an
     * enum (...)"; null: none.
     */
    static String unstable(TypeInformation<?> type) {
        return unstable(type, "", new Walk());
    }

    /**
     * The parts of {@code type} declared as an interface, an abstract class or {@code Object} (a sealed interface
     * that enums implement, a field of type {@code Serializable}), whose values' own classes decide their hashCode and
     * cannot be checked here (paths, e.g. "its field region is declared as ..."); empty for none. Interfaces of
     * {@code java.*} other than {@code Serializable}, {@code Comparable} and {@code Constable} are not listed: the
     * JDK's collections define their hashCode over their elements, whose declared types are checked.
     */
    static java.util.List<String> undeclaredParts(TypeInformation<?> type) {
        Walk w = new Walk();
        unstable(type, "", w);
        return w.undeclared;
    }

    /** The types seen on one walk over a key type, and the parts whose declared type leaves the class open. */
    private static final class Walk extends HashSet<Object> {
        final java.util.List<String> undeclared = new java.util.ArrayList<>();
    }

    private static boolean open(Class<?> c) {
        if (c == Object.class || c == java.io.Serializable.class || c == Comparable.class
                || c == java.lang.constant.Constable.class) {
            return true;
        }
        return (c.isInterface() || Modifier.isAbstract(c.getModifiers())) && !c.isPrimitive() && !c.isArray()
                && !c.getName().startsWith("java.") && !c.getName().startsWith("javax.")
                && !c.getName().startsWith("scala.") && !c.getName().startsWith("org.apache.flink.")
                && !c.getName().startsWith("org.apache.avro.");
    }

    /**
     * The enum or array fields (paths) under a class that declares its own hashCode, which is trusted: an IDE's or
     * Lombok's generated hashCode over an enum field uses the enum's identity hash; empty for none.
     */
    static java.util.List<String> trustedOverEnums(TypeInformation<?> type) {
        java.util.List<String> out = new java.util.ArrayList<>();
        trustedOverEnums(type, "", out);
        return out;
    }

    /**
     * The parts of {@code type} that Flink types generically (Kryo) by a generic class whose type arguments it does
     * not keep, where no declared type shows them: the key type itself, a field of a Tuple or Row, an element of a
     * List, Set or Map, a side of an Either ({@code Tuple2<String, Optional<Tier>>}: Flink keeps {@code Optional}
     * alone). Their hashCode hashes values of types nobody can check here: an enum among them would make it differ
     * between JVMs. A POJO's or record's field is not listed: its declared type shows the arguments, which
     * {@link #unstable} checks. Empty for none.
     */
    static java.util.List<String> unseenTypeArguments(TypeInformation<?> type) {
        java.util.List<String> out = new java.util.ArrayList<>();
        unseenTypeArguments(type, "", out);
        return out;
    }

    private static void unseenTypeArguments(TypeInformation<?> type, String path, java.util.List<String> out) {
        if (type instanceof TupleTypeInfoBase<?> tuple && !(type instanceof PojoTypeInfo<?>)) {
            for (int i = 0; i < tuple.getArity(); i++) {
                unseenTypeArguments(tuple.getTypeAt(i), path + "." + tuple.getFieldNames()[i], out);
            }
        } else if (type instanceof ListTypeInfo<?> list) {
            unseenTypeArguments(list.getElementTypeInfo(), path + "[]", out);
        } else if (type instanceof SetTypeInfo<?> set) {
            unseenTypeArguments(set.getElementTypeInfo(), path + "[]", out);
        } else if (type instanceof MapTypeInfo<?, ?> map) {
            unseenTypeArguments(map.getKeyTypeInfo(), path + "{key}", out);
            unseenTypeArguments(map.getValueTypeInfo(), path + "{value}", out);
        } else if (type instanceof EitherTypeInfo<?, ?> either) {
            unseenTypeArguments(either.getLeftType(), path + "{left}", out);
            unseenTypeArguments(either.getRightType(), path + "{right}", out);
        } else if (type instanceof GenericTypeInfo<?> generic
                && generic.getTypeClass().getTypeParameters().length > 0) {
            out.add(at(path) + "a " + generic.getTypeClass().getName() + " of type arguments Flink does not keep");
        }
    }

    private static void trustedOverEnums(TypeInformation<?> type, String path, java.util.List<String> out) {
        if (type instanceof TupleTypeInfoBase<?> tuple) {
            for (int i = 0; i < tuple.getArity(); i++) {
                trustedOverEnums(tuple.getTypeAt(i), path + "." + tuple.getFieldNames()[i], out);
            }
        } else if (type instanceof PojoTypeInfo<?> pojo && !implicitRecordHashCode(pojo.getTypeClass())
                && !avroSpecificRecord(pojo.getTypeClass())) {
            // Avro hashes an enum by its position in the schema; a generated hash of an array field is Arrays.hashCode
            // over its elements (an array deeper in a field, e.g. in a List, is not: that one is reported), stable
            // unless they are enums, whose hash is their identity
            for (int i = 0; i < pojo.getArity(); i++) {
                Class<?> fieldType = pojo.getPojoFieldAt(i).getField().getType();
                String found = !fieldType.isArray() ? field(pojo.getPojoFieldAt(i), path, new Walk())
                        : fieldType.getComponentType().isEnum()
                                ? at(path + "." + pojo.getPojoFieldAt(i).getField().getName()) + "an array of enums ("
                                        + fieldType.getComponentType().getName() + ")"
                                : null;
                if (found != null) {
                    out.add(found);
                }
            }
        } else if (type instanceof PojoTypeInfo<?> pojo && implicitRecordHashCode(pojo.getTypeClass())) {
            for (int i = 0; i < pojo.getArity(); i++) {
                trustedOverEnums(pojo.getPojoFieldAt(i).getTypeInformation(),
                        path + "." + pojo.getPojoFieldAt(i).getField().getName(), out);
            }
        } else if (type instanceof GenericTypeInfo<?> generic) {
            trustedOverEnums(generic.getTypeClass(), path, out);
        }
    }

    /**
     * The same for a class Flink serializes generically (Kryo: no public no-argument constructor, final fields, as
     * Lombok's {@code @Value} makes them) that declares its own hashCode: its instance fields, its superclasses' too,
     * read by reflection (Flink's type information does not list them).
     */
    private static void trustedOverEnums(Class<?> c, String path, java.util.List<String> out) {
        // Flink's own types (Row hashes its RowKind by its byte value) and the JDK's are not user code to look into
        if (c.isInterface() || c.isArray() || c.isEnum() || c.isPrimitive() || !ownHashCode(c)
                || implicitRecordHashCode(c) || avroSpecificRecord(c) || c.getName().startsWith("java.")
                || c.getName().startsWith("org.apache.flink.")) {
            return;
        }
        for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
            for (java.lang.reflect.Field f : k.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) || f.isSynthetic()) {
                    continue;
                }
                Class<?> t = f.getType();
                if (t.isEnum()) {
                    out.add(at(path + "." + f.getName()) + "an enum (" + t.getName() + ")");
                } else if (t.isArray() && t.getComponentType().isEnum()) {
                    out.add(at(path + "." + f.getName()) + "an array of enums (" + t.getComponentType().getName()
                            + ")");
                }
            }
        }
    }

    /**
     * Whether {@code c} is a protocol buffers message (by the interface's name: protobuf is not a dependency). A
     * generated message's hashCode mixes in its descriptor's hashCode, which is the descriptor object's identity hash.
     */
    private static boolean protobufMessage(Class<?> c) {
        java.util.ArrayDeque<Class<?>> todo = new java.util.ArrayDeque<>();
        todo.add(c);
        while (!todo.isEmpty()) {
            Class<?> k = todo.poll();
            // the full runtime's messages; a lite message (no descriptor) hashes its fields' values, enums by number
            if (k.getName().equals("com.google.protobuf.MessageOrBuilder")) {
                return true;
            }
            if (k.getSuperclass() != null) {
                todo.add(k.getSuperclass());
            }
            todo.addAll(java.util.Arrays.asList(k.getInterfaces()));
        }
        return false;
    }

    private static boolean avroSpecificRecord(Class<?> c) {
        for (Class<?> i = c; i != null; i = i.getSuperclass()) {
            for (Class<?> face : i.getInterfaces()) {
                if (face.getName().equals("org.apache.avro.specific.SpecificRecord")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String unstable(TypeInformation<?> type, String path, Walk seen) {
        if (type instanceof EnumTypeInfo<?>) {
            return at(path) + "an enum (" + type.getTypeClass().getName() + ")";
        }
        if (type instanceof BasicArrayTypeInfo<?, ?> || type instanceof PrimitiveArrayTypeInfo<?>
                || type instanceof ObjectArrayTypeInfo<?, ?>) {
            return at(path) + "an array (" + type + ")";
        }
        if (type instanceof TupleTypeInfoBase<?> tuple) {
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
            if (!implicitRecordHashCode(c)) {
                return ownHashCode(c) ? null : at(path) + "a class that keeps Object's hashCode (" + c.getName() + ")";
            }
            if (!seen.add(pojo)) {
                return null;
            }
            for (int i = 0; i < pojo.getArity(); i++) {
                String found = field(pojo.getPojoFieldAt(i), path, seen);
                if (found != null) {
                    return found;
                }
            }
            return null;
        }
        if (type instanceof ListTypeInfo<?> list) {
            return unstable(list.getElementTypeInfo(), path + "[]", seen);
        }
        if (type instanceof SetTypeInfo<?> set) {
            return unstable(set.getElementTypeInfo(), path + "[]", seen);
        }
        if (type instanceof MapTypeInfo<?, ?> map) {
            String found = unstable(map.getKeyTypeInfo(), path + "{key}", seen);
            return found != null ? found : unstable(map.getValueTypeInfo(), path + "{value}", seen);
        }
        if (type instanceof EitherTypeInfo<?, ?> either) {
            String found = unstable(either.getLeftType(), path + "{left}", seen);
            return found != null ? found : unstable(either.getRightType(), path + "{right}", seen);
        }
        if (type instanceof GenericTypeInfo<?>) {
            return unstable((Type) type.getTypeClass(), path, seen);
        }
        // basic types (String, boxed numbers, ...), and types of their own (Avro, Scala, ...): their own hashCode
        return null;
    }

    /**
     * A POJO or record field: by its type information, or, where Flink types it generically (a field of a generic
     * type whose arguments are not all plain classes: {@code Optional<Tier>}, {@code List<Set<Tier>>}), by its declared
     * type, type arguments included.
     */
    private static String field(org.apache.flink.api.java.typeutils.PojoField f, String path, Walk seen) {
        String at = path + "." + f.getField().getName();
        String found = unstable(f.getTypeInformation(), at, seen);
        // the type information of a type variable is what Flink resolved it to (checked above); a declared generic
        // type's arguments are what Flink's generic type information leaves out
        if (found == null && f.getTypeInformation() instanceof GenericTypeInfo<?>
                && f.getField().getGenericType() instanceof ParameterizedType declared) {
            found = unstable(declared, at, seen);
        }
        return found;
    }

    /**
     * The same for a type Flink serializes generically (Kryo): judged by its class and, for a record with the implicit
     * hashCode, its components' declared types, type arguments included (a {@code List<Tier>} component).
     */
    private static String unstable(Type t, String path, Walk seen) {
        if (t instanceof GenericArrayType) {
            return at(path) + "an array (" + t.getTypeName() + ")";
        }
        if (t instanceof ParameterizedType p) {
            String found = unstable(p.getRawType(), path, seen);
            Type[] args = p.getActualTypeArguments();
            for (int i = 0; found == null && i < args.length; i++) {
                found = unstable(args[i], path + "<" + i + ">", seen);
            }
            return found;
        }
        if (!(t instanceof Class<?> c)) {
            // a type variable or wildcard: the value's own class decides, unknown here
            return null;
        }
        if (c.isEnum() || c.getSuperclass() != null && c.getSuperclass().isEnum()) {
            return at(path) + "an enum (" + c.getName() + ")";
        }
        if (c.isArray()) {
            return at(path) + "an array (" + c.getSimpleName() + ")";
        }
        if (protobufMessage(c)) {
            return at(path) + "a protocol buffers message (" + c.getName() + "; its hashCode mixes in its "
                    + "descriptor's identity hash: key by its fields, or by toByteString())";
        }
        if (c.isPrimitive() || c.isInterface() || Modifier.isAbstract(c.getModifiers()) || c == Object.class) {
            // a declared interface or abstract type: the value's own class decides, unknown here
            if (open(c)) {
                seen.undeclared.add(at(path) + "declared as " + c.getName());
            }
            return null;
        }
        if (implicitRecordHashCode(c)) {
            if (!seen.add(c)) {
                return null;
            }
            for (java.lang.reflect.RecordComponent rc : c.getRecordComponents()) {
                String found = unstable(rc.getGenericType(), path + "." + rc.getName(), seen);
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

    /**
     * Whether {@code c} is a record whose hashCode is the implicit one (its bytecode's {@code hashCode()} calls
     * {@code java.lang.runtime.ObjectMethods}); a record whose class file cannot be read counts as implicit.
     */
    static boolean implicitRecordHashCode(Class<?> c) {
        if (!c.isRecord()) {
            return false;
        }
        String resource = "/" + c.getName().replace('.', '/') + ".class";
        try (java.io.InputStream in = c.getResourceAsStream(resource)) {
            if (in == null) {
                return true;
            }
            boolean[] implicit = {false};
            new org.apache.flink.shaded.asm9.org.objectweb.asm.ClassReader(in).accept(
                    new org.apache.flink.shaded.asm9.org.objectweb.asm.ClassVisitor(
                            org.apache.flink.shaded.asm9.org.objectweb.asm.Opcodes.ASM9) {
                        @Override
                        public org.apache.flink.shaded.asm9.org.objectweb.asm.MethodVisitor visitMethod(
                                int access, String name, String descriptor, String signature, String[] exceptions) {
                            if (!name.equals("hashCode") || !descriptor.equals("()I")) {
                                return null;
                            }
                            return new org.apache.flink.shaded.asm9.org.objectweb.asm.MethodVisitor(
                                    org.apache.flink.shaded.asm9.org.objectweb.asm.Opcodes.ASM9) {
                                @Override
                                public void visitInvokeDynamicInsn(String n, String d,
                                        org.apache.flink.shaded.asm9.org.objectweb.asm.Handle bootstrap,
                                        Object... arguments) {
                                    implicit[0] |= bootstrap.getOwner().equals("java/lang/runtime/ObjectMethods");
                                }
                            };
                        }
                    }, org.apache.flink.shaded.asm9.org.objectweb.asm.ClassReader.SKIP_DEBUG
                            | org.apache.flink.shaded.asm9.org.objectweb.asm.ClassReader.SKIP_FRAMES);
            return implicit[0];
        } catch (java.io.IOException | RuntimeException unreadable) {
            return true;
        }
    }

    /** "the key is", "its field a.b is", or "the key's part a[] is" for elements and type arguments. */
    private static String at(String path) {
        if (path.isEmpty()) {
            return "the key is ";
        }
        String p = path.startsWith(".") ? path.substring(1) : path;
        return p.matches("[\\w.$]+") ? "its field " + p + " is " : "the key's part " + p + " is ";
    }
}
