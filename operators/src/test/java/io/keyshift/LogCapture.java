package io.keyshift;

import org.junit.jupiter.api.function.Executable;

import java.util.List;

/** What a class's logger writes while a piece of test code runs ("LEVEL message" per event). */
public final class LogCapture {
    private LogCapture() {}

    /**
     * Runs {@code body} with the logger of {@code source} at INFO and captured (the test class path may configure
     * logging off: Flink's test jars bring a log4j2-test.properties), and returns its lines.
     */
    public static List<String> of(Class<?> source, Executable body) throws Throwable {
        List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        var logger = (org.apache.logging.log4j.core.Logger) org.apache.logging.log4j.LogManager.getLogger(source);
        var appender = new org.apache.logging.log4j.core.appender.AbstractAppender("capture", null, null, true,
                org.apache.logging.log4j.core.config.Property.EMPTY_ARRAY) {
            @Override
            public void append(org.apache.logging.log4j.core.LogEvent e) {
                lines.add(e.getLevel() + " " + e.getMessage().getFormattedMessage());
            }
        };
        appender.start();
        org.apache.logging.log4j.Level before = logger.getLevel();
        org.apache.logging.log4j.core.config.Configurator.setLevel(logger.getName(), org.apache.logging.log4j.Level.INFO);
        logger.addAppender(appender);
        try {
            body.execute();
        } finally {
            logger.removeAppender(appender);
            org.apache.logging.log4j.core.config.Configurator.setLevel(logger.getName(), before);
        }
        return lines;
    }
}
