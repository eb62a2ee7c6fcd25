package io.keyshift.route;

import io.keyshift.avro.RoutingPlan;
import io.keyshift.plan.PlanEvent;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Routing plans decoded once per JVM for all router subtasks of one stage: every router subtask gets every plan
 * version as the same Avro bytes (an operator event, or the answer to its long poll), so the first subtask that needs
 * a version decodes it and indexes it ({@link RoutingTable}) and the others in the same JVM (a TaskManager's slots, a
 * local MiniCluster) take both. A replay of a year of hourly windows at p = 8 decoded 70,080 plans for 8,760 versions.
 *
 * <p>Both are read-only once made (routers never change a plan they apply). A version is matched by its bytes, not
 * its number alone, so a plan made anew after a restore under the same number is decoded anew. Scopes are per job and
 * operator ({@link #acquire}), and this class is part of the job's code: a class loader of its own per job on a
 * cluster, so a table's key objects are always of the classes the router that takes them uses. A scope keeps the last
 * {@value #RECENT} versions (none while it has one router) and is dropped when its last router closes.
 */
final class SharedPlans {
    /** Versions kept per scope: a router more than this many versions behind the others decodes its own. */
    static final int RECENT = 8;
    /** Scopes by name, guarded by itself. */
    private static final Map<String, Scope> SCOPES = new HashMap<>();

    private SharedPlans() {}

    /** A decoded plan and its routing table. */
    record Decoded<K>(RoutingPlan plan, RoutingTable<K> table) {}

    /**
     * The scope of {@code name} (job id, operator id and whatever else makes two routers' tables differ), with one
     * user more; {@link #release} it when the router closes.
     */
    static Scope acquire(String name) {
        synchronized (SCOPES) {
            Scope s = SCOPES.computeIfAbsent(name, Scope::new);
            s.users++;
            return s;
        }
    }

    /** One user less; the scope goes when it has none. */
    static void release(Scope s) {
        synchronized (SCOPES) {
            if (--s.users == 0) {
                SCOPES.remove(s.name, s);
            }
        }
    }

    /** Scopes open (for tests). */
    static int scopes() {
        synchronized (SCOPES) {
            return SCOPES.size();
        }
    }

    /** The last versions decoded for one stage's routers in this JVM. */
    static final class Scope {
        private final String name;
        /** Routers of the scope (changed under {@link #SCOPES}; read without it, only to decide on caching). */
        private volatile int users;
        private final byte[][] bytes = new byte[RECENT][];
        private final Decoded<?>[] decoded = new Decoded<?>[RECENT];
        private int next;
        private long hits;

        private Scope(String name) {
            this.name = name;
        }

        /**
         * The plan of {@code plan} (Avro binary, {@link PlanEvent#encode}) and its table: decoded and indexed by
         * {@code index} here unless a router of this scope did so already for the same bytes. Other routers of the
         * scope wait while one decodes (they need the same version).
         */
        @SuppressWarnings("unchecked")
        synchronized <K> Decoded<K> decode(byte[] plan, Function<RoutingPlan, RoutingTable<K>> index) {
            for (int i = 0; i < RECENT; i++) {
                if (bytes[i] != null && Arrays.equals(bytes[i], plan)) {
                    hits++;
                    return (Decoded<K>) decoded[i];
                }
            }
            RoutingPlan p = PlanEvent.decode(plan);
            Decoded<K> d = new Decoded<>(p, index.apply(p));
            if (users <= 1) {
                // the stage's only router in this JVM: nobody to share with, nothing kept
                return d;
            }
            bytes[next] = plan;
            decoded[next] = d;
            next = (next + 1) % RECENT;
            return d;
        }

        /** Decodes taken from another router (for tests). */
        synchronized long hits() {
            return hits;
        }
    }
}
