package io.keyshift.route;

import io.keyshift.event.Event;

/**
 * A record on its way from the {@link DynamicRouter} to the keyed operator: the event, its routing key (user key
 * plus chosen key group) and its role. Flink POJO.
 */
@org.apache.flink.api.common.typeinfo.TypeInfo(io.keyshift.serde.EnvelopeSerializer.Factory.class)
public class Envelope {
    public RoutingKey routingKey;
    public Event event;
    public Role role;

    public Envelope() {}

    public Envelope(RoutingKey routingKey, Event event, Role role) {
        this.routingKey = routingKey;
        this.event = event;
        this.role = role;
    }

    /** Key selector target for {@code keyBy}. */
    public RoutingKey routingKey() {
        return routingKey;
    }

    @Override
    public String toString() {
        return "Envelope{" + routingKey + ", " + role + ", " + event + '}';
    }
}
