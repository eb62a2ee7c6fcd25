package io.keyshift.config;

import io.keyshift.avro.KeyLoadSample;
import io.keyshift.avro.LoadForecast;
import io.keyshift.avro.Migration;
import io.keyshift.avro.RouteEntry;
import io.keyshift.avro.RoutingPlan;
import io.keyshift.avro.UnitForecast;
import io.keyshift.avro.UnitType;
import io.keyshift.avro.ValidationOutcome;
import io.keyshift.avro.ValidationReport;

import org.apache.avro.util.ClassSecurityValidator;

/**
 * Avro 1.12 deserializes only trusted classes. keyshift adds its own generated schema classes (package
 * {@code io.keyshift.avro}) to the JVM's trusted set, keeping whatever was trusted before, so that neither a
 * replay nor a cluster needs {@code -Dorg.apache.avro.SERIALIZABLE_PACKAGES}. Every keyshift operator calls
 * {@link #install()} before it (de)serializes Avro records; it is idempotent and cheap.
 */
public final class AvroTrust {
    private static volatile boolean installed;

    private AvroTrust() {}

    public static void install() {
        if (installed) {
            return;
        }
        synchronized (AvroTrust.class) {
            if (installed) {
                return;
            }
            ClassSecurityValidator.ClassSecurityPredicate ours = ClassSecurityValidator.builder()
                    .add(KeyLoadSample.class).add(io.keyshift.avro.WindowSample.class).add(io.keyshift.avro.HeavyHitter.class)
                    .add(io.keyshift.avro.WindowLoad.class).add(LoadForecast.class).add(UnitForecast.class).add(UnitType.class)
                    .add(RoutingPlan.class).add(RouteEntry.class).add(Migration.class).add(io.keyshift.avro.Split.class).add(io.keyshift.avro.SplitSpread.class)
                    .add(io.keyshift.avro.PlanControl.class).add(io.keyshift.avro.SamplingRateChange.class)
                    .add(io.keyshift.avro.ScalingDecision.class).add(io.keyshift.avro.ScalingKind.class).add(io.keyshift.avro.ScalingPolicy.class)
                    .add(io.keyshift.avro.ScalingState.class).add(io.keyshift.avro.ScalingPlannerState.class)
                    .add(io.keyshift.avro.PendingLoad.class)
                    .add(ValidationReport.class).add(ValidationOutcome.class)
                    .build();
            ClassSecurityValidator.setGlobal(
                    ClassSecurityValidator.composite(ClassSecurityValidator.getGlobal(), ours));
            installed = true;
        }
    }
}
