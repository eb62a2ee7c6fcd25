package io.keyshift.jobs.input;

import java.util.List;

/** Test access to {@link EventParser}'s own splitter of regular CSV lines. */
public final class EventParserAccess {
    private EventParserAccess() {}

    public static List<String> regular(String line) {
        return EventParser.regularFields(line);
    }
}
