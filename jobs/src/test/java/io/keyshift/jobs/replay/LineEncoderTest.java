package io.keyshift.jobs.replay;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** Each element as UTF-8 and a line feed, in one write to the part file's stream. */
class LineEncoderTest {
    @Test
    void anElementIsItsUtf8TextAndALineFeedInOneWrite() throws IOException {
        int[] writes = new int[1];
        ByteArrayOutputStream bytes = new ByteArrayOutputStream() {
            @Override
            public synchronized void write(byte[] b, int off, int len) {
                writes[0]++;
                super.write(b, off, len);
            }

            @Override
            public synchronized void write(int b) {
                writes[0]++;
                super.write(b);
            }
        };
        LineEncoder encoder = new LineEncoder();
        encoder.encode("Kearny, São Paulo", bytes);
        encoder.encode("1,2\n3,4", bytes);
        encoder.encode("", bytes);
        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo("Kearny, São Paulo\n1,2\n3,4\n\n");
        assertThat(writes[0]).isEqualTo(3);
    }
}
