package io.keyshift.jobs.deploy;

import io.keyshift.jobs.KeyshiftJob;
import io.keyshift.jobs.cli.FlinkConfig;
import io.keyshift.state.BoundedManifestRocksDBOptionsFactory;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Volume;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.HighAvailabilityOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.kubernetes.operator.api.FlinkDeployment;
import org.apache.flink.kubernetes.operator.api.spec.FlinkDeploymentSpec;
import org.apache.flink.kubernetes.operator.api.spec.JobSpec;
import org.apache.flink.kubernetes.operator.api.spec.JobState;
import org.apache.flink.kubernetes.operator.api.spec.UpgradeMode;
import org.apache.flink.metrics.prometheus.PrometheusReporterFactory;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.apache.flink.state.rocksdb.RocksDBConfigurableOptions;
import org.apache.flink.state.rocksdb.RocksDBOptions;
import org.apache.flink.state.rocksdb.sstmerge.RocksDBManualCompactionOptions;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * deploy/: the FlinkDeployment manifest parsed into the Flink Kubernetes Operator's own model classes
 * ({@code flink-kubernetes-operator-api}; unknown fields fail the parse), and every field keyshift relies on checked:
 * application mode with the job jar of the Dockerfile, RocksDB with incremental checkpoints and savepoints, the adaptive
 * scheduler, Flink's Prometheus reporter, keyshift's options valid, the job's arguments accepted by its command line.
 *
 * <p>The newest operator API on Maven Central here is 1.10.0, whose {@code FlinkVersion} ends at {@code v1_20}; the
 * manifest names {@code v2_3} (operator 1.15 and later), so that one field is read as text and checked against the
 * Flink version keyshift is built with.
 */
class FlinkDeploymentManifestTest {

    private static Path deploy() {
        Path dir = Path.of("").toAbsolutePath();
        for (int i = 0; i < 3 && dir != null; i++, dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("deploy"))) {
                return dir.resolve("deploy");
            }
        }
        throw new IllegalStateException("deploy/ not found");
    }

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .configure(DeserializationFeature.READ_UNKNOWN_ENUM_VALUES_AS_NULL, true);

    private static FlinkDeployment deployment() throws Exception {
        return YAML.readValue(deploy().resolve("keyshift-flinkdeployment.yaml").toFile(), FlinkDeployment.class);
    }

    /** Keys of the public static ConfigOptions of {@code classes}, and separately their deprecated keys. */
    private static Set<String> currentKeys(Set<String> deprecated, Class<?>... classes) throws Exception {
        Set<String> keys = new HashSet<>();
        for (Class<?> c : classes) {
            for (Field f : c.getFields()) {
                if (Modifier.isStatic(f.getModifiers()) && ConfigOption.class.isAssignableFrom(f.getType())) {
                    ConfigOption<?> o = (ConfigOption<?>) f.get(null);
                    if (f.isAnnotationPresent(Deprecated.class)) {
                        deprecated.add(o.key());
                    } else {
                        keys.add(o.key());
                    }
                    o.fallbackKeys().forEach(k -> deprecated.add(k.getKey()));
                }
            }
        }
        return keys;
    }

    @Test
    void theManifestParsesIntoTheOperatorsModelWithWhatKeyshiftReliesOn() throws Exception {
        FlinkDeployment d = deployment();
        assertThat(d.getApiVersion()).isEqualTo("flink.apache.org/v1beta1");
        assertThat(d.getKind()).isEqualTo("FlinkDeployment");
        FlinkDeploymentSpec spec = d.getSpec();
        assertThat(spec.getImage()).isNotBlank();

        // application mode: the jar the Dockerfile copies, keyshift's cluster job as entry class
        JobSpec job = spec.getJob();
        String dockerfile = Files.readString(deploy().resolve("Dockerfile"));
        Matcher copy = Pattern.compile("(?m)^COPY .*jobs/target/(\\S+\\.jar) (\\S+)$").matcher(dockerfile);
        assertThat(copy.find()).as("the Dockerfile copies the job jar").isTrue();
        assertThat(job.getJarURI()).isEqualTo("local://" + copy.group(2));
        assertThat(copy.group(1)).isEqualTo("keyshift-jobs.jar");
        assertThat(job.getEntryClass()).isEqualTo(KeyshiftJob.class.getName());
        assertThat(job.getUpgradeMode()).isEqualTo(UpgradeMode.SAVEPOINT);
        assertThat(job.getState()).isEqualTo(JobState.RUNNING);
        assertThat(job.getParallelism()).isPositive();

        // the job's arguments are options of its command line, with the Kafka source and exactly-once results
        List<String> args = List.of(job.getArgs());
        CommandLine.ParseResult parsed = new CommandLine(new KeyshiftJob()).parseArgs(args.toArray(String[]::new));
        assertThat(parsed.unmatched()).isEmpty();
        assertThat(parsed.hasMatchedOption("--kafka-topic")).isTrue();
        assertThat(parsed.hasMatchedOption("--results-topic")).isTrue();
        assertThat(parsed.hasMatchedOption("--kafka-transactional-id-prefix")).isTrue();
        String out = parsed.matchedOptionValue("--out", Path.of("")).toString();

        // RocksDB, incremental checkpoints, savepoints, the adaptive scheduler, Prometheus, keyshift's RocksDB options
        Map<String, String> conf = spec.getFlinkConfiguration();
        Configuration c = Configuration.fromMap(conf);
        assertThat(c.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("rocksdb");
        assertThat(c.get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS)).isTrue();
        assertThat(c.get(CheckpointingOptions.CHECKPOINTING_INTERVAL)).isNotNull();
        assertThat(c.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)).isNotBlank();
        assertThat(c.get(CheckpointingOptions.SAVEPOINT_DIRECTORY)).isNotBlank();
        assertThat(c.get(JobManagerOptions.SCHEDULER)).isEqualTo(JobManagerOptions.SchedulerType.Adaptive);
        assertThat(c.get(HighAvailabilityOptions.HA_MODE)).isEqualTo("kubernetes");
        assertThat(conf.get("metrics.reporter.prom.factory.class")).isEqualTo(PrometheusReporterFactory.class.getName());
        assertThat(c.get(RocksDBOptions.OPTIONS_FACTORY)).isEqualTo(BoundedManifestRocksDBOptionsFactory.class.getName());
        assertThat(c.get(RocksDBManualCompactionOptions.MIN_INTERVAL)).isPositive();
        // every keyshift.* option known and valid, as the job checks it when it starts
        FlinkConfig.validate(c);
        assertThat(conf.keySet()).anyMatch(k -> k.startsWith("keyshift."));

        // every Flink key is a current one (no typo, no deprecated key that a later Flink drops)
        Set<String> deprecated = new HashSet<>();
        Set<String> current = currentKeys(deprecated, CheckpointingOptions.class, StateBackendOptions.class,
                StateRecoveryOptions.class, RocksDBOptions.class, RocksDBConfigurableOptions.class,
                RocksDBManualCompactionOptions.class,
                HighAvailabilityOptions.class, JobManagerOptions.class, PipelineOptions.class,
                TaskManagerOptions.class, RestartStrategyOptions.class);
        for (String key : conf.keySet()) {
            if (key.startsWith("keyshift.") || key.startsWith("metrics.reporter.prom.")) {
                continue;
            }
            assertThat(current).as("a current Flink option: " + key).contains(key);
            assertThat(deprecated).as("not a deprecated key: " + key).doesNotContain(key);
        }

        // the volume that holds --out, checkpoints and savepoints is mounted in every pod
        Container main = spec.getPodTemplate().getSpec().getContainers().get(0);
        assertThat(main.getName()).isEqualTo("flink-main-container");
        String mount = main.getVolumeMounts().get(0).getMountPath();
        assertThat(out).startsWith(mount);
        assertThat(c.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)).isEqualTo("file://" + mount + "/checkpoints");
        // savepoints and HA metadata too: every pod must see them
        assertThat(c.get(CheckpointingOptions.SAVEPOINT_DIRECTORY)).startsWith("file://" + mount + "/");
        assertThat(c.get(HighAvailabilityOptions.HA_STORAGE_PATH)).startsWith("file://" + mount + "/");
        Volume volume = spec.getPodTemplate().getSpec().getVolumes().get(0);
        // the mount names the volume (another name: Kubernetes refuses the pods, and the job never starts)
        assertThat(main.getVolumeMounts().get(0).getName()).isEqualTo(volume.getName());
        PersistentVolumeClaim claim = YAML.readValue(deploy().resolve("keyshift-data-pvc.yaml").toFile(),
                PersistentVolumeClaim.class);
        assertThat(volume.getPersistentVolumeClaim().getClaimName()).isEqualTo(claim.getMetadata().getName());
        assertThat(claim.getSpec().getAccessModes()).containsExactly("ReadWriteMany");
        // the default class of a managed cluster offers ReadWriteOnce only: the class is one of the lines to set
        assertThat(claim.getSpec().getStorageClassName()).isNotBlank();
        assertThat(Files.readString(deploy().resolve("keyshift-data-pvc.yaml")))
                .containsPattern("# SET[^\\n]*\\n(\\s*#[^\\n]*\\n)*\\s*storageClassName:");
    }

    /** Paths of {@code raw}'s fields (objects only; arrays by index) that {@code model} does not have. */
    private static void missing(JsonNode raw, JsonNode model, String path, List<String> out) {
        if (raw.isObject()) {
            raw.fieldNames().forEachRemaining(f -> {
                JsonNode m = model == null ? null : model.get(f);
                if (m == null || m.isNull()) {
                    out.add(path + "." + f);
                } else {
                    missing(raw.get(f), m, path + "." + f, out);
                }
            });
        } else if (raw.isArray()) {
            for (int i = 0; i < raw.size(); i++) {
                missing(raw.get(i), model == null ? null : model.get(i), path + "[" + i + "]", out);
            }
        }
    }

    @Test
    void everyFieldOfTheManifestIsAFieldOfTheOperatorsModel() throws Exception {
        JsonNode raw = YAML.readTree(deploy().resolve("keyshift-flinkdeployment.yaml").toFile());
        FlinkDeployment deployment = deployment();
        JsonNode model = YAML.valueToTree(deployment);
        List<String> unknown = new ArrayList<>();
        missing(raw, model, "", unknown);
        // flinkVersion v2_3 is newer than the model's enum (see the class comment); every other field must survive
        assertThat(unknown).containsExactly(".spec.flinkVersion");
        // the pod template's Kubernetes classes keep a field they do not have (volumeMount: for volumeMounts:) in
        // their additional properties and write it back, so the comparison above cannot see it
        assertThat(kept(deployment)).as("fields the Kubernetes model does not have").isEmpty();
        assertThat(kept(YAML.readValue(Files.readString(deploy().resolve("keyshift-flinkdeployment.yaml"))
                .replace("volumeMounts:", "volumeMount:"), FlinkDeployment.class))).as("a misspelt field is found")
                .isNotEmpty();
    }

    /** The additional properties found in {@code deployment}'s pod template (see below). */
    private static List<String> kept(FlinkDeployment deployment) throws Exception {
        List<String> kept = new ArrayList<>();
        additionalProperties(deployment.getSpec().getPodTemplate(), "podTemplate", kept,
                java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>()));
        return kept;
    }

    /**
     * Paths of the fields that fabric8's model objects under {@code o} kept as additional properties (fields their
     * class does not have), walking their getters and lists.
     */
    private static void additionalProperties(Object o, String path, List<String> out, Set<Object> seen)
            throws Exception {
        if (o == null || !seen.add(o)) {
            return;
        }
        if (o instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                additionalProperties(list.get(i), path + "[" + i + "]", out, seen);
            }
            return;
        }
        if (!o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (java.lang.reflect.Method m : o.getClass().getMethods()) {
            if (m.getParameterCount() != 0 || !m.getName().startsWith("get") || m.getDeclaringClass() == Object.class) {
                continue;
            }
            Object v = m.invoke(o);
            if (m.getName().equals("getAdditionalProperties")) {
                if (v instanceof Map<?, ?> extra) {
                    extra.keySet().forEach(k -> out.add(path + "." + k));
                }
            } else {
                additionalProperties(v, path + "." + m.getName().substring(3), out, seen);
            }
        }
    }

    @Test
    void theFlinkVersionOfManifestAndImageIsTheOneKeyshiftIsBuiltWith() throws Exception {
        String flink = EnvironmentInformation.getVersion();
        assertThat(flink).matches("\\d+\\.\\d+\\.\\d+.*");
        String[] v = flink.split("\\.");
        JsonNode raw = YAML.readTree(deploy().resolve("keyshift-flinkdeployment.yaml").toFile());
        assertThat(raw.path("spec").path("flinkVersion").asText()).isEqualTo("v" + v[0] + "_" + v[1]);
        String dockerfile = Files.readString(deploy().resolve("Dockerfile"));
        assertThat(dockerfile).containsPattern("(?m)^ARG FLINK_IMAGE=flink:" + Pattern.quote(flink) + "-java17$");
        assertThat(dockerfile).contains("FROM ${FLINK_IMAGE}");
    }
}
