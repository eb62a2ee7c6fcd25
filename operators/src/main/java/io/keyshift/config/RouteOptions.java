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
                    + "paces its event input, so that the input backpressures instead of the waiting records growing "
                    + "without bound (a source running ahead of the plans: at a cold start, or catching up on a "
                    + "backlog at full speed). Beyond this many, once a plan exists and the event watermark has "
                    + "passed the lease's end, the router pauses 1 ms after each further waiting record; otherwise "
                    + "1 ms after every 50. With keyshift.plan.lease-lead 2 or more, records rarely wait in steady "
                    + "state.");
}
