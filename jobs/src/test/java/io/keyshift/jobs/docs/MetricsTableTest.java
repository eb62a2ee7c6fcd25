package io.keyshift.jobs.docs;

import io.keyshift.jobs.SharedData;
import io.keyshift.metrics.KeyshiftMetrics;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's metrics table names every metric keyshift registers, and no other. */
class MetricsTableTest {
    @Test
    void theReadmesMetricsTableAndTheMetricNamesAgree() throws Exception {
        String readme = Files.readString(SharedData.repositoryRoot().resolve("README.md"));
        int from = readme.indexOf("### Metrics");
        String section = readme.substring(from, readme.indexOf("\n### ", from + 1));
        Set<String> documented = new TreeSet<>();
        Matcher m = Pattern.compile("`(keyshift[A-Z][A-Za-z]*)`").matcher(section);
        while (m.find()) {
            documented.add(m.group(1));
        }
        Set<String> registered = new TreeSet<>();
        for (Field f : KeyshiftMetrics.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class
                    && ((String) f.get(null)).startsWith("keyshift")) {
                registered.add((String) f.get(null));
            }
        }
        assertThat(registered).hasSizeGreaterThan(40);
        assertThat(documented).isEqualTo(registered);
    }
}
