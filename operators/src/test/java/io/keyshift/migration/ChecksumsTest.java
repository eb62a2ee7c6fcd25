package io.keyshift.migration;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple3;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ChecksumsTest {

    /**
     * A result its serializer cannot write (a Tuple2 with a null field, which plain keyBy passes to a chained operator
     * without serializing it) is checked by its text instead of failing the task: equal results give equal checksums,
     * different ones different checksums. Until 2026-12-06 the shadow check threw Flink's NullFieldException and the
     * job failed at every restart.
     */
    @Test
    void aResultItsSerializerCannotWriteIsCheckedByItsText() {
        TypeInformation<Tuple2<String, Long>> type = Types.TUPLE(Types.STRING, Types.LONG);
        Checksums<Tuple2<String, Long>> primary = new Checksums<>(type.createSerializer(new SerializerConfigImpl()));
        Checksums<Tuple2<String, Long>> shadow = new Checksums<>(type.createSerializer(new SerializerConfigImpl()));
        long a = primary.of(Tuple2.of("a", null));
        assertThat(shadow.of(Tuple2.of("a", null))).isEqualTo(a);
        assertThat(shadow.of(Tuple2.of("b", null))).isNotEqualTo(a);
        // and one it can write keeps its serialized form's checksum, unlike its text's
        assertThat(primary.of(Tuple2.of("a", 1L))).isEqualTo(shadow.of(Tuple2.of("a", 1L)))
                .isNotEqualTo(primary.of(Tuple2.of("a", 2L)));
    }

    /**
     * A part of such a result that prints Object's "class@hash" (a Tuple field of a class without its own toString)
     * checks alike on both owners: each instance has its own identity hash, as the primary's and the shadow's would.
     */
    @Test
    void aPartThatPrintsItsIdentityHashChecksAlike() {
        TypeInformation<Tuple3<String, Long, Plain>> type = Types.TUPLE(Types.STRING, Types.LONG,
                TypeInformation.of(Plain.class));
        Checksums<Tuple3<String, Long, Plain>> checks = new Checksums<>(type.createSerializer(new SerializerConfigImpl()));
        Plain a = new Plain();
        Plain b = new Plain();
        assertThat(a.toString()).isNotEqualTo(b.toString());
        assertThat(checks.of(Tuple3.of("k", null, a))).isEqualTo(checks.of(Tuple3.of("k", null, b)))
                .isNotEqualTo(checks.of(Tuple3.of("j", null, a)));
    }

    /** A class without a toString of its own. */
    public static final class Plain {
        public int n;
    }

    /** Without a toString of its own (which would name the instance), such a result is checked by its class alone. */
    @Test
    void anUnwritableResultWithoutItsOwnToStringIsCheckedByItsClass() {
        Checksums<Object> checks = new Checksums<>(new Unwritable());
        assertThat(checks.of(new Object())).isEqualTo(new Checksums<>(new Unwritable()).of(new Object()));
    }

    /** A serializer that fails on every record. */
    private static final class Unwritable extends org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton<Object> {
        @Override
        public boolean isImmutableType() {
            return false;
        }

        @Override
        public Object createInstance() {
            return new Object();
        }

        @Override
        public Object copy(Object from) {
            return from;
        }

        @Override
        public Object copy(Object from, Object reuse) {
            return from;
        }

        @Override
        public int getLength() {
            return -1;
        }

        @Override
        public void serialize(Object record, org.apache.flink.core.memory.DataOutputView target) {
            throw new IllegalStateException("cannot write " + record.getClass());
        }

        @Override
        public Object deserialize(org.apache.flink.core.memory.DataInputView source) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Object deserialize(Object reuse, org.apache.flink.core.memory.DataInputView source) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void copy(org.apache.flink.core.memory.DataInputView source,
                         org.apache.flink.core.memory.DataOutputView target) {
            throw new UnsupportedOperationException();
        }

        @Override
        public org.apache.flink.api.common.typeutils.TypeSerializerSnapshot<Object> snapshotConfiguration() {
            throw new UnsupportedOperationException();
        }
    }
}
