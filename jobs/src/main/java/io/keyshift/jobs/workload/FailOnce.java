package io.keyshift.jobs.workload;

import java.io.Serializable;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * TEST ONLY ({@link FaultOptions}): fails the built-in aggregate once, per failure time and fault id in this JVM,
 * when it first receives a record at or after a failure time; the restarted task (restored from the last checkpoint)
 * does not fail again. A fault in the user's own function, as a real one would be.
 */
public final class FailOnce implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Set<String> FIRED = ConcurrentHashMap.newKeySet();

    private final List<Long> failureTimes;
    private final String faultId;

    public FailOnce(List<Long> failureTimes, String faultId) {
        this.failureTimes = List.copyOf(failureTimes);
        this.faultId = faultId;
    }

    /** No faults. */
    public static FailOnce none() {
        return new FailOnce(List.of(), "");
    }

    /** How many of the failures named {@code faultId} have fired in this JVM (for tests). */
    public static long fired(String faultId) {
        return FIRED.stream().filter(f -> f.startsWith(faultId + "@")).count();
    }

    /** Throws the first time a record at or after one of the failure times arrives. */
    void check(long timestamp) {
        for (Long t : failureTimes) {
            if (timestamp >= t && FIRED.add(faultId + "@" + t)) {
                throw new IllegalStateException("injected failure (" + FaultOptions.WINDOW_FAILURE_TIMES.key()
                        + ") at event time " + timestamp + " >= " + t);
            }
        }
    }

    boolean isNone() {
        return failureTimes.isEmpty();
    }
}
