package io.keyshift.route;

/**
 * A migration that a newer plan folded into its entry, kept by the router for the event times before its switch-over
 * that may still arrive (a plan can overtake older records on their way from the source). Flink POJO.
 */
public class RetiredRoute {
    public String key;
    /** Key group that owned the key before the migration. */
    public int keyGroup;
    /** Key group that owns the key from switchAt on. */
    public int toKeyGroup;
    public long shadowFrom;
    public long switchAt;

    public RetiredRoute() {}

    public RetiredRoute(String key, int keyGroup, int toKeyGroup, long shadowFrom, long switchAt) {
        this.key = key;
        this.keyGroup = keyGroup;
        this.toKeyGroup = toKeyGroup;
        this.shadowFrom = shadowFrom;
        this.switchAt = switchAt;
    }

    /** The route at {@code t < switchAt}, packed as in {@link RoutingTable#route}. */
    long route(long t) {
        return t < shadowFrom ? RoutingTable.pack(keyGroup, -1) : RoutingTable.pack(keyGroup, toKeyGroup);
    }

    boolean sameAs(RetiredRoute o) {
        return key.equals(o.key) && shadowFrom == o.shadowFrom && switchAt == o.switchAt && toKeyGroup == o.toKeyGroup;
    }
}
