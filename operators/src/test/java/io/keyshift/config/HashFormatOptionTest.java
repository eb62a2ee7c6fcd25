package io.keyshift.config;

import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HashFormatOptionTest {

    @Test
    void aHashFormatOtherThanOneOrTwoFailsNamingTheOption() {
        Configuration c = new Configuration();
        KeyshiftConfig.validate(c);
        c.set(RouteOptions.HASH_FORMAT, 1);
        KeyshiftConfig.validate(c);
        c.set(RouteOptions.HASH_FORMAT, 2);
        KeyshiftConfig.validate(c);
        c.set(RouteOptions.HASH_FORMAT, 3);
        assertThatThrownBy(() -> KeyshiftConfig.validate(c)).hasMessageContaining("keyshift.route.hash-format");
    }
}
