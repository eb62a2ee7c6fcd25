package io.keyshift.savepoint;

import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The savepoint readers collect the forecaster's engine as one record: a few hundred series (369 in a 5-minute-window
 * stage of 500 users after a week of windows) were 2.4 MB, beyond Flink's default collect batch of 2 MB, and
 * {@code inspect-savepoint} failed with "Record size is too large for CollectSinkFunction".
 */
class StageSavepointCollectTest {
    @Test
    void aRecordBeyondFlinksDefaultCollectBatchIsCollected() throws Exception {
        StreamExecutionEnvironment env = LocalReader.environment();
        env.setParallelism(1);
        byte[] big = new byte[3 * 1024 * 1024];
        big[big.length - 1] = 7;
        List<byte[]> out = new ArrayList<>();
        StageSavepoint.collect(env.fromData(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO, big), out);
        assertThat(out).hasSize(1);
        assertThat(out.get(0)).hasSize(big.length);
        assertThat(out.get(0)[big.length - 1]).isEqualTo((byte) 7);
    }
}
