package io.keyshift.jobs.cli;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.AppenderRef;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The command line's watch of Flink's checkpoint failures (KeyshiftCli.watchCheckpoints) keeps what a log
 * configuration printed: a configuration that logs Flink's checkpoints at INFO to an appender it limits to ERRORs
 * gets no more there (the watch had added the appender at the logger's level, INFO, and each failed checkpoint's WARN
 * with its stack trace reached it). It changes the logging configuration of the JVM the unit tests share and puts
 * it back.
 */
class CheckpointWatchTest {

    @Test
    void theWatchKeepsAnAppendersLevelAndSeesTheWarnings() {
        watchUnder(false);
    }

    /**
     * The same limit made of filters: the logger's accepts INFO and up, the reference's denies below ERROR. Log4j
     * applies each on its own (the logger's ACCEPT does not skip the reference's DENY); the watch's CompositeFilter
     * stopped at the first ACCEPT.
     */
    @Test
    void theWatchKeepsTheFiltersOfTheLoggerAndOfTheReference() {
        watchUnder(true);
    }

    private static void watchUnder(boolean filters) {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration config = ctx.getConfiguration();
        List<LogEvent> printed = new CopyOnWriteArrayList<>();
        AbstractAppender list = new AbstractAppender("list", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                printed.add(event.toImmutable());
            }
        };
        list.start();
        config.addAppender(list);
        String name = "org.apache.flink.runtime.checkpoint";
        String watchedName = "org.apache.flink.runtime.checkpoint.CheckpointFailureManager";
        // the unit tests share a JVM: a command run before this test installed the watch under the configuration
        // the tests log with; both loggers are put back as they were at the end
        LoggerConfig original = config.getLoggers().get(name);
        LoggerConfig watchedBefore = config.getLoggers().get(watchedName);
        config.removeLogger(watchedName);
        config.removeLogger(name);
        org.apache.logging.log4j.core.Filter refFilter = filters ? org.apache.logging.log4j.core.filter
                .ThresholdFilter.createFilter(Level.ERROR, org.apache.logging.log4j.core.Filter.Result.NEUTRAL,
                        org.apache.logging.log4j.core.Filter.Result.DENY) : null;
        Level refLevel = filters ? null : Level.ERROR;
        LoggerConfig checkpoints = LoggerConfig.newBuilder().withLoggerName(name).withLevel(Level.INFO)
                .withAdditivity(false).withRefs(new AppenderRef[] {AppenderRef.createAppenderRef("list", refLevel,
                        refFilter)}).withConfig(config)
                .withFilter(filters ? org.apache.logging.log4j.core.filter.ThresholdFilter.createFilter(Level.INFO,
                        org.apache.logging.log4j.core.Filter.Result.ACCEPT,
                        org.apache.logging.log4j.core.Filter.Result.DENY) : null).build();
        checkpoints.addAppender(list, refLevel, refFilter);
        config.addLogger(name, checkpoints);
        ctx.updateLoggers();
        try {
            watchAndLog(printed);
        } finally {
            config.removeLogger(watchedName);
            config.removeLogger(name);
            if (original != null) {
                config.addLogger(name, original);
            }
            if (watchedBefore != null) {
                config.addLogger(watchedName, watchedBefore);
            }
            ctx.updateLoggers();
        }
    }

    private static void watchAndLog(List<LogEvent> printed) {
        KeyshiftCli.watchCheckpoints();
        KeyshiftCli.lastCheckpointFailure = null;
        org.slf4j.Logger manager = org.slf4j.LoggerFactory.getLogger(
                org.apache.flink.runtime.checkpoint.CheckpointFailureManager.class);
        manager.warn("Failed to trigger or complete checkpoint 3", new IllegalStateException("expired"));
        manager.error("an error");
        // (delivered in order, and perhaps on another thread): the WARN before the ERROR, had it been printed
        long deadline = System.nanoTime() + 10_000_000_000L;
        while ((printed.isEmpty() || KeyshiftCli.lastCheckpointFailure == null) && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(KeyshiftCli.lastCheckpointFailure).isEqualTo("expired");
        assertThat(printed).extracting(e -> e.getMessage().getFormattedMessage()).containsExactly("an error");
    }
}
