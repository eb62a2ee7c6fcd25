package io.keyshift.config;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/** Options of the dynamic router. */
public final class RouteOptions {
    private RouteOptions() {}

    public static final ConfigOption<Integer> MAX_WAITING_RECORDS = ConfigOptions.key("keyshift.route.max-waiting-records")
            .intType()
            .defaultValue(2_000)
            .withDescription("Records (>= 1) one router subtask holds while they wait for a plan's lease before it "
                    + "paces its event input: beyond this many it waits 1 ms per further record, so that the input "
                    + "backpressures instead of the waiting records growing without bound. Matters when a source "
                    + "runs ahead of the plans: at a cold start, or catching up on a backlog at full speed. In "
                    + "steady state with keyshift.plan.lease-lead 2 nothing waits.");
}
