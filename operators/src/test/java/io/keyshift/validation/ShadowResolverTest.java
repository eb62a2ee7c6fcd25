package io.keyshift.validation;

import io.keyshift.avro.ValidationOutcome;
import io.keyshift.avro.ValidationReport;
import io.keyshift.route.Role;
import io.keyshift.workload.WindowResult;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ShadowResolverTest {

    private static WindowResult result(String key, long count, int keyGroup, Role role) {
        WindowResult r = new WindowResult();
        r.key = key;
        r.windowStart = 0;
        r.windowEnd = 1000;
        r.count = count;
        r.sum = count * 2.0;
        r.keyGroup = keyGroup;
        r.role = role;
        return r;
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, WindowResult, WindowResult> harness() throws Exception {
        return ProcessFunctionTestHarnesses.forKeyedProcessFunction(new ShadowResolver(), r -> r.key, Types.STRING);
    }

    @Test
    void forwardsPrimariesOnceAndChecksShadows() throws Exception {
        try (var h = harness()) {
            h.processElement(result("a", 5, 1, Role.PRIMARY), 999);
            h.processElement(result("a", 5, 9, Role.SHADOW), 999);
            h.processElement(result("b", 3, 2, Role.PRIMARY), 999);
            h.processElement(result("c", 4, 3, Role.PRIMARY), 999);
            h.processElement(result("c", 7, 8, Role.SHADOW), 999);
            assertThat(h.extractOutputValues()).extracting(r -> r.key + ":" + r.role)
                    .containsExactly("a:PRIMARY", "b:PRIMARY", "c:PRIMARY");
            h.processWatermark(999);
            List<ValidationReport> checks = h.getSideOutput(ShadowResolver.VALIDATION).stream()
                    .map(StreamRecord::getValue).toList();
            assertThat(checks).extracting(v -> v.getKey() + ":" + v.getOutcome())
                    .containsExactlyInAnyOrder("a:" + ValidationOutcome.MATCH, "c:" + ValidationOutcome.MISMATCH);
            assertThat(checks).filteredOn(v -> v.getKey().equals("c")).singleElement()
                    .satisfies(v -> {
                        assertThat(v.getPrimaryKeyGroup()).isEqualTo(3);
                        assertThat(v.getShadowKeyGroup()).isEqualTo(8);
                        assertThat(v.getWindowEnd()).isEqualTo(1000);
                    });
        }
    }

    @Test
    void reportsDuplicatePrimaries() throws Exception {
        try (var h = harness()) {
            h.processElement(result("a", 5, 1, Role.PRIMARY), 999);
            h.processElement(result("a", 5, 2, Role.PRIMARY), 999);
            h.processWatermark(999);
            assertThat(h.getSideOutput(ShadowResolver.VALIDATION)).singleElement()
                    .satisfies(r -> assertThat(r.getValue().getOutcome()).isEqualTo(ValidationOutcome.DUPLICATE_PRIMARY));
        }
    }

    @Test
    void mergesTheKeysPartialResultsIntoOnePrimaryAtTheWindowsEnd() throws Exception {
        try (var h = harness()) {
            h.processElement(result("hot", 5, 1, Role.PARTIAL), 999);
            h.processElement(result("hot", 7, 40, Role.PARTIAL), 999);
            h.processElement(result("hot", 2, 90, Role.PARTIAL), 999);
            assertThat(h.extractOutputValues()).isEmpty();
            h.processWatermark(999);
            assertThat(h.extractOutputValues()).singleElement().satisfies(r -> {
                assertThat(r.key).isEqualTo("hot");
                assertThat(r.role).isEqualTo(Role.PRIMARY);
                assertThat(r.count).isEqualTo(14);
                assertThat(r.sum).isEqualTo(28.0);
                assertThat(r.windowStart).isZero();
                assertThat(r.windowEnd).isEqualTo(1000);
            });
            assertThat(h.getSideOutput(ShadowResolver.VALIDATION)).isNull();
        }
    }

    @Test
    void aPartialBesideAPrimaryIsADuplicate() throws Exception {
        try (var h = harness()) {
            h.processElement(result("hot", 5, 1, Role.PRIMARY), 999);
            h.processElement(result("hot", 7, 40, Role.PARTIAL), 999);
            h.processWatermark(999);
            assertThat(h.getSideOutput(ShadowResolver.VALIDATION)).singleElement()
                    .satisfies(r -> assertThat(r.getValue().getOutcome()).isEqualTo(ValidationOutcome.DUPLICATE_PRIMARY));
        }
    }
}
