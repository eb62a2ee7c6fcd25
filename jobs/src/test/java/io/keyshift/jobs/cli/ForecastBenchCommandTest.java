package io.keyshift.jobs.cli;

import io.keyshift.jobs.SharedData;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** forecast-bench as a user runs it, on the World Cup log (issue 3, acceptance 2). */
class ForecastBenchCommandTest {

    private static JsonNode bench(Path dir, String samplingRate) throws Exception {
        int exit = KeyshiftCli.commandLine().execute("forecast-bench",
                "--input", SharedData.file("worldcup98-day6-sample/wc_day6_1_sample.csv.gz").toString(),
                "--columns", "ClientID,Date,Time,URL,ResponseCode,Size", "--key", "URL", "--time", "Date,Time",
                "--time-format", "dd/MMM/yyyy HH:mm:ss", "--window", "5min", "--horizon", "1",
                "--out", dir.toString(), "--config", SharedData.flinkConf().toString(),
                "-Dkeyshift.profiler.sampling-rate=" + samplingRate);
        assertThat(exit).isZero();
        return new ObjectMapper().readTree(dir.resolve("forecast.json").toFile());
    }

    @Test
    void worldCupHeavyHitterRecallAtFullAndTenthSampling(@TempDir Path full, @TempDir Path tenth) throws Exception {
        JsonNode all = bench(full, "1.0");
        assertThat(all.get("heavy_hitter_recall").asDouble()).isGreaterThanOrEqualTo(0.95);
        JsonNode sampled = bench(tenth, "0.1");
        assertThat(sampled.get("sampling_rate").asDouble()).isEqualTo(0.1);
        assertThat(sampled.get("heavy_hitter_recall").asDouble()).isGreaterThanOrEqualTo(0.9);
        // the auto-selection stays within 1 % of every single model on the sampled profiles, and beats the naive ones
        double auto = sampled.at("/auto/mase").requireNonNull().asDouble();
        sampled.get("models").forEach(m -> assertThat(auto).isLessThan(1.01 * m.get("mase").asDouble()));
        assertThat(auto).isLessThan(0.9);
    }
}
