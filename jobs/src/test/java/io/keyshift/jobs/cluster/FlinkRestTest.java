package io.keyshift.jobs.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** What a user reads of Flink's REST errors: the message, not the server's stack trace. */
class FlinkRestTest {
    @Test
    void anErrorIsItsFirstLineWithoutTheExceptionClass() throws Exception {
        var reply = new ObjectMapper().readTree("{\"errors\": [\"org.apache.flink.runtime.rest.NotFoundException: "
                + "Job 0123 not found\\n\\tat org.apache.flink.runtime.rest.handler.job.AbstractExecutionGraphHandler"
                + ".lambda$handleRequest$1(AbstractExecutionGraphHandler.java:99)\\nCaused by: "
                + "org.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job (0123)\", "
                + "\"Internal server error.\"]}");
        assertThat(FlinkRest.errors(reply.path("errors"))).isEqualTo("Job 0123 not found; Internal server error.");
        assertThat(FlinkRest.errors(new ObjectMapper().readTree("{}").path("errors"))).isEqualTo("(no error message)");
    }

    /**
     * A handler's unhandled exception (HTTP 500) comes as "Internal server error." and the stringified exception: the
     * message of its innermost cause is what the user reads (it was "<Exception on server side:").
     */
    @Test
    void anInternalServerErrorShowsItsInnermostCause() throws Exception {
        var reply = new ObjectMapper().readTree("{\"errors\": [\"Internal server error.\", \"<Exception on server "
                + "side:\\njava.util.concurrent.CompletionException: java.lang.UnsupportedOperationException: The "
                + "DefaultScheduler does not support changing the parallelism without a job restart.\\n\\tat "
                + "java.base/java.util.concurrent.CompletableFuture.encodeThrowable(CompletableFuture.java:315)\\n"
                + "Caused by: java.lang.UnsupportedOperationException: The DefaultScheduler does not support changing "
                + "the parallelism without a job restart.\\n\\t... 12 more\\n\\nEnd of exception on server side>\"]}");
        assertThat(FlinkRest.errors(reply.path("errors"))).isEqualTo("Internal server error.; The DefaultScheduler "
                + "does not support changing the parallelism without a job restart.");
    }

    /**
     * A global failure (no task, no location: the checkpoint failure threshold, say) is reported by its message, as a
     * task's failure is by its innermost cause; the global one's message was a stack frame ("at org.apache...").
     */
    @Test
    void aJobsRootCauseIsItsMessageForGlobalAndTaskFailures() throws Exception {
        java.util.concurrent.atomic.AtomicReference<String> entry = new java.util.concurrent.atomic.AtomicReference<>();
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        answerJson(server, () -> "{\"exceptionHistory\": {\"entries\": [" + entry.get() + "], \"truncated\": false}}");
        server.start();
        try {
            FlinkRest api = new FlinkRest("http://127.0.0.1:" + server.getAddress().getPort());
            entry.set("{\"exceptionName\": \"org.apache.flink.util.FlinkRuntimeException\", \"stacktrace\": "
                    + "\"org.apache.flink.util.FlinkRuntimeException: Exceeded checkpoint tolerable failure threshold."
                    + "\\n\\tat org.apache.flink.runtime.checkpoint.CheckpointFailureManager.checkFailureAgainstCounter"
                    + "(CheckpointFailureManager.java:212)\", \"timestamp\": 1, \"concurrentExceptions\": []}");
            assertThat(api.rootCause("j1")).isEqualTo("Exceeded checkpoint tolerable failure threshold.");
            entry.set("{\"exceptionName\": \"java.lang.RuntimeException\", \"stacktrace\": \"java.lang.RuntimeException: "
                    + "wrapped\\n\\tat a.B.c(B.java:1)\\nCaused by: java.lang.IllegalStateException: the real reason"
                    + "\\n\\t... 3 more\", \"taskName\": \"window (1/2)\", \"location\": \"127.0.0.1:1\", "
                    + "\"timestamp\": 1, \"concurrentExceptions\": []}");
            assertThat(api.rootCause("j1")).isEqualTo("the real reason");
            assertThat(api.rootException("j1")).startsWith("window (1/2) 127.0.0.1:1\n");
            entry.set("{\"exceptionName\": \"java.lang.IllegalStateException\", \"timestamp\": 1}");
            assertThat(api.rootCause("j1")).isEqualTo("java.lang.IllegalStateException");
            entry.set("");
            assertThat(api.rootCause("j1")).isEmpty();
        } finally {
            server.stop(0);
        }
    }

    /**
     * A stop-with-savepoint whose status polls fail for a while (a JobManager that does not answer) waits on and
     * returns the savepoint's location; where every poll fails, the message names the trigger to ask for it (it ended
     * with the poll's error alone, and a user could restore an older checkpoint while the stop went on).
     */
    @Test
    void aStopWithSavepointOutlivesFailedPolls() throws Exception {
        java.util.concurrent.atomic.AtomicInteger polls = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean answer = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicInteger notFound = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<String> mode = new java.util.concurrent.atomic.AtomicReference<>("");
        java.util.concurrent.atomic.AtomicReference<String> trigger = new java.util.concurrent.atomic.AtomicReference<>();
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath();
            int status = 200;
            String body;
            if (path.endsWith("/stop")) {
                // Flink's REST API takes the client's trigger id and answers with it
                trigger.set(new ObjectMapper().readTree(ex.getRequestBody()).path("triggerId").asText());
                if (mode.get().equals("no answer")) {
                    ex.close();
                    return;
                }
                body = "{\"request-id\": \"" + trigger.get() + "\"}";
            } else if (mode.get().equals("forgotten")) {
                notFound.incrementAndGet();
                status = 404;
                body = "{\"errors\": [\"Operation not found under key: " + trigger.get() + "\"]}";
            } else if (mode.get().equals("failed while stopping")) {
                // the adaptive scheduler's answer when a task fails after the savepoint is written
                body = "{\"status\": {\"id\": \"COMPLETED\"}, \"operation\": {\"failure-cause\": {\"class\": "
                        + "\"x\", \"stack-trace\": \"org.apache.flink.runtime.scheduler.stopwithsavepoint."
                        + "StopWithSavepointStoppingException: A savepoint has been created at: file:/sp/savepoint-ab12, "
                        + "but the corresponding job j1 failed during stopping. The savepoint is consistent, but might "
                        + "have uncommitted transactions.\\n\\tat x\\nCaused by: java.io.IOException: disk full\\n\\tat y\"}}}";
            } else if (polls.incrementAndGet() <= 2 || !answer.get()) {
                status = 503;
                body = "{\"errors\": [\"not now\"]}";
            } else {
                body = "{\"status\": {\"id\": \"COMPLETED\"}, \"operation\": {\"location\": \"file:/sp/savepoint-1\"}}";
            }
            byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(status, bytes.length);
            ex.getResponseBody().write(bytes);
            ex.close();
        });
        server.start();
        try {
            FlinkRest api = new FlinkRest("http://127.0.0.1:" + server.getAddress().getPort());
            assertThat(api.stopWithSavepoint("j1", "file:/sp", java.time.Duration.ofSeconds(30)))
                    .isEqualTo("file:/sp/savepoint-1");
            assertThat(polls.get()).isEqualTo(3);
            assertThat(trigger.get()).matches("[0-9a-f]{32}");
            answer.set(false);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> api.stopWithSavepoint("j1", "file:/sp",
                    java.time.Duration.ofSeconds(2)))
                    .isInstanceOf(java.io.IOException.class)
                    .hasMessageContaining("did not complete within 2 s (the last poll failed: ")
                    .hasMessageContaining("it goes on at the cluster: GET ")
                    .satisfies(e -> assertThat(e.getMessage()).contains("/jobs/j1/savepoints/" + trigger.get()));
            // the stop request sent and its answer lost (a JobManager gone, a connection reset): the operation's id is
            // the client's, so the message says where its status is (it ended with the transport's error alone, and
            // a user could restore an older checkpoint while the stop went on)
            mode.set("no answer");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> api.stopWithSavepoint("j1", "file:/sp",
                    java.time.Duration.ofSeconds(2)))
                    .isInstanceOf(java.io.IOException.class)
                    .hasMessageContaining("the cluster may have started it all the same: GET ")
                    .satisfies(e -> assertThat(e.getMessage()).contains("/jobs/j1/savepoints/" + trigger.get()));
            // an operation the cluster no longer knows (a JobManager failover forgets them) ends the wait at once
            mode.set("forgotten");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> api.stopWithSavepoint("j1", "file:/sp",
                    java.time.Duration.ofSeconds(30)))
                    .isInstanceOf(java.io.IOException.class)
                    .hasMessageContaining("the cluster no longer knows the operation");
            assertThat(notFound.get()).as("polls answered 404: one, not 30 s of them").isEqualTo(1);
            // a savepoint written, then a task failed while the job stopped: its path is named (only "disk full" was)
            mode.set("failed while stopping");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> api.stopWithSavepoint("j1", "file:/sp",
                    java.time.Duration.ofSeconds(30)))
                    .isInstanceOf(java.io.IOException.class)
                    .hasMessageContaining("A savepoint has been created at: file:/sp/savepoint-ab12")
                    .hasMessageContaining("the job failed while stopping: disk full");
        } finally {
            server.stop(0);
        }
    }
    /**
     * An https REST address is verified with the trust store config.yaml sets (security.ssl.rest.truststore), as
     * Flink's own client does (submit, stop-job and autoscale used the JDK's CAs alone, and a cluster with a private
     * CA failed at the first GET with "got no complete answer"); without it the handshake failure says so.
     */
    @Test
    void anHttpsClusterIsVerifiedWithTheConfiguredTrustStore(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path store = dir.resolve("rest.p12");
        Process keytool = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool")
                .toString(), "-genkeypair", "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass",
                "secret", "-keypass", "secret", "-alias", "rest", "-keyalg", "RSA", "-keysize", "2048", "-dname",
                "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1", "-validity", "2").redirectErrorStream(true).start();
        assertThat(keytool.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(keytool.exitValue()).isZero();
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        try (var in = java.nio.file.Files.newInputStream(store)) {
            ks.load(in, "secret".toCharArray());
        }
        javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
                javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "secret".toCharArray());
        javax.net.ssl.SSLContext serverTls = javax.net.ssl.SSLContext.getInstance("TLS");
        serverTls.init(kmf.getKeyManagers(), null, null);
        com.sun.net.httpserver.HttpsServer server = com.sun.net.httpserver.HttpsServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(serverTls));
        answerJson(server, () -> "[{\"key\":\"jobmanager.scheduler\",\"value\":\"default\"}]");
        server.start();
        try {
            String url = "https://127.0.0.1:" + server.getAddress().getPort();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new FlinkRest(url).get("/config"))
                    .isInstanceOf(java.io.IOException.class)
                    .hasMessageContaining("no TLS connection to Flink's REST API at " + url)
                    .hasMessageContaining("security.ssl.rest.truststore");
            org.apache.flink.configuration.Configuration conf = new org.apache.flink.configuration.Configuration();
            conf.setString("security.ssl.rest.truststore", store.toString());
            conf.setString("security.ssl.rest.truststore-password", "secret");
            conf.setString("security.ssl.rest.truststore-type", "PKCS12");
            assertThat(new FlinkRest(url, conf).get("/config").get(0).path("value").asText()).isEqualTo("default");
            conf.setString("security.ssl.rest.truststore", dir.resolve("missing.p12").toString());
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new FlinkRest(url, conf))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("security.ssl.rest.truststore");
            // plain http ignores it
            assertThat(new FlinkRest("http://127.0.0.1:1", conf).base()).isEqualTo("http://127.0.0.1:1");
        } finally {
            server.stop(0);
        }
    }

    /** Answers every request to {@code server} with HTTP 200 and the JSON {@code body} gives at that time. */
    private static void answerJson(com.sun.net.httpserver.HttpServer server,
                                   java.util.function.Supplier<String> body) {
        server.createContext("/", ex -> {
            byte[] bytes = body.get().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, bytes.length);
            ex.getResponseBody().write(bytes);
            ex.close();
        });
    }
}
