package io.keyshift.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.SecurityOptions;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * A small client of Flink's REST API (the same one Flink's web UI uses), for a session cluster at {@code base}
 * (e.g. {@code http://127.0.0.1:8081}): stop with a savepoint, job state, operator metrics,
 * rescaling through the adaptive scheduler's resource requirements ({@link JobSubmitter} submits jobs). Errors are
 * IOExceptions with Flink's message.
 */
public final class FlinkRest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String base;
    private final HttpClient http;

    /** A client of the cluster at {@code base}; an https address is verified against the JDK's trusted CAs. */
    public FlinkRest(String base) {
        this(base, null);
    }

    /**
     * A client of the cluster at {@code base}; an https address is verified with the REST trust store (and, with
     * {@code security.ssl.rest.authentication-enabled}, presents the key store) that {@code conf} sets, as Flink's own
     * REST client does ({@code security.ssl.rest.truststore}, ...), else against the JDK's trusted CAs. Unlike Flink's
     * client (whose {@code security.ssl.rest.verify-hostname} is off by default), the JDK's client always checks that
     * the certificate names the address's host.
     *
     * @param conf the client's Flink configuration (config.yaml), or null
     * @throws IllegalArgumentException if {@code conf}'s trust store or key store cannot be read, naming the option
     */
    public FlinkRest(String base, Configuration conf) {
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        javax.net.ssl.SSLContext tls = base.regionMatches(true, 0, "https:", 0, 6) ? restTls(conf) : null;
        if (tls != null) {
            b.sslContext(tls);
        }
        this.http = b.build();
    }

    /** The REST client's TLS context from {@code conf}'s trust store and key store, or null where it sets neither. */
    static javax.net.ssl.SSLContext restTls(Configuration conf) {
        if (conf == null || (conf.getOptional(SecurityOptions.SSL_REST_TRUSTSTORE).isEmpty()
                && conf.getOptional(SecurityOptions.SSL_TRUSTSTORE).isEmpty())) {
            return null;
        }
        Configuration c = new Configuration(conf);
        c.set(SecurityOptions.SSL_REST_ENABLED, true);
        try {
            return org.apache.flink.runtime.net.SSLUtils.createRestSSLContext(c, true);
        } catch (Exception e) {
            throw new IllegalArgumentException(SecurityOptions.SSL_REST_TRUSTSTORE.key() + " / "
                    + SecurityOptions.SSL_REST_KEYSTORE.key() + ": " + (e.getMessage() != null ? e.getMessage()
                    : e.getClass().getSimpleName()), e);
        }
    }

    public String base() {
        return base;
    }

    /** {@code GET /jobs/:jobid}. */
    public JsonNode job(String jobId) throws IOException, InterruptedException {
        return get("/jobs/" + jobId);
    }

    /** The job's state (RUNNING, FINISHED, FAILED, CANCELED, ...). */
    public String jobState(String jobId) throws IOException, InterruptedException {
        return job(jobId).path("state").asText();
    }

    /**
     * A job-scope metric of the JobManager ({@code GET /jobs/:jobid/metrics?get=<name>}), e.g. {@code numRestarts};
     * NaN while the JobManager lists no such metric for the job (its metric fetcher has not run yet) or its value is
     * not a number.
     */
    public double jobMetric(String jobId, String name) throws IOException, InterruptedException {
        for (JsonNode m : get("/jobs/" + jobId + "/metrics?get=" + URLEncoder.encode(name, StandardCharsets.UTF_8))) {
            if (name.equals(m.path("id").asText())) {
                try {
                    return Double.parseDouble(m.path("value").asText());
                } catch (NumberFormatException e) {
                    return Double.NaN;
                }
            }
        }
        return Double.NaN;
    }

    /**
     * Sum over subtasks of an operator metric, over every vertex of the job whose metric list has it (NaN if none).
     * Metric ids of an operator's group are {@code <operator name>.<metric>}; {@code metricSuffix} matches the end.
     */
    public double operatorMetricSum(String jobId, String metricSuffix) throws IOException, InterruptedException {
        return operatorMetric(jobId, metricSuffix, "sum");
    }

    /**
     * An operator metric aggregated over subtasks and vertices: {@code agg} is {@code sum} or {@code max} (NaN if no
     * vertex has the metric). A routing table, held whole by every router subtask, is a max; records a sum.
     */
    public double operatorMetric(String jobId, String metricSuffix, String agg) throws IOException, InterruptedException {
        if (!agg.equals("sum") && !agg.equals("max")) {
            throw new IllegalArgumentException("agg must be sum or max, was " + agg);
        }
        double total = agg.equals("sum") ? 0 : Double.NEGATIVE_INFINITY;
        boolean found = false;
        for (JsonNode v : job(jobId).path("vertices")) {
            String vid = v.path("id").asText();
            JsonNode available = get("/jobs/" + jobId + "/vertices/" + vid + "/subtasks/metrics");
            StringBuilder ids = new StringBuilder();
            for (JsonNode m : available) {
                String id = m.path("id").asText();
                if (id.endsWith("." + metricSuffix) || id.equals(metricSuffix)) {
                    ids.append(ids.length() == 0 ? "" : ",").append(id);
                }
            }
            if (ids.length() == 0) {
                continue;
            }
            JsonNode values = get("/jobs/" + jobId + "/vertices/" + vid + "/subtasks/metrics?agg=" + agg + "&get="
                    + URLEncoder.encode(ids.toString(), StandardCharsets.UTF_8));
            for (JsonNode m : values) {
                if (m.has(agg)) {
                    double x = m.path(agg).asDouble();
                    total = agg.equals("sum") ? total + x : Math.max(total, x);
                    found = true;
                }
            }
        }
        return found ? total : Double.NaN;
    }

    /** Stop-with-savepoint ({@code POST /jobs/:jobid/stop}); waits and returns the savepoint's location. */
    public String stopWithSavepoint(String jobId, String targetDirectory, Duration timeout)
            throws IOException, InterruptedException {
        return stopWithSavepoint(jobId, targetDirectory, timeout, url -> { });
    }

    /**
     * As {@link #stopWithSavepoint(String, String, Duration)}; {@code accepted} is given the operation's status URL
     * ({@code GET} it for the savepoint's location) once the cluster has taken the request, before the wait.
     */
    public String stopWithSavepoint(String jobId, String targetDirectory, Duration timeout,
            java.util.function.Consumer<String> accepted) throws IOException, InterruptedException {
        ObjectNode req = JSON.createObjectNode();
        if (targetDirectory != null) {
            req.put("targetDirectory", targetDirectory);
        }
        req.put("drain", false);
        // the operation's id is ours (Flink's REST API takes one): whatever becomes of the request's answer, its
        // status can be asked for under it
        String trigger = UUID.randomUUID().toString().replace("-", "");
        req.put("triggerId", trigger);
        String where = targetDirectory != null ? targetDirectory : "execution.checkpointing.savepoint-dir";
        try {
            String given = post("/jobs/" + jobId + "/stop", req).path("request-id").asText();
            if (given.matches("[0-9a-f]{32}")) {
                trigger = given;
            }
        } catch (HttpStatusException e) {
            // the cluster answered and refused (a job id it does not know, a job that is not running)
            throw e;
        } catch (IOException e) {
            // no answer, or one cut off (a timeout, a reset connection, a JobManager that went down): the cluster may
            // have taken the request all the same, and nobody should restore an older checkpoint
            throw new IOException("stop-with-savepoint of " + jobId + ": " + e.getMessage() + "; the cluster may have "
                    + "started it all the same: GET " + base + "/jobs/" + jobId + "/savepoints/" + trigger + " tells "
                    + "whether it did and where its savepoint is (directory " + where + "), GET " + base + "/jobs/"
                    + jobId + " whether the job stops", e);
        }
        accepted.accept(base + "/jobs/" + jobId + "/savepoints/" + trigger);
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException lastPoll = null;
        while (System.nanoTime() < deadline) {
            JsonNode st;
            try {
                st = get("/jobs/" + jobId + "/savepoints/" + trigger);
            } catch (HttpStatusException e) {
                if (e.status() == 404) {
                    // the cluster knows no such operation or job (a JobManager failover forgets its operations): no
                    // answer would ever come
                    throw new IOException("stop-with-savepoint of " + jobId + ": the cluster no longer knows the "
                            + "operation (" + e.getMessage() + "; a JobManager failover forgets its operations): GET "
                            + base + "/jobs/" + jobId + " tells whether the job still runs, and a savepoint, if one "
                            + "was completed, is in " + where, e);
                }
                lastPoll = e;
                Thread.sleep(1000);
                continue;
            } catch (IOException e) {
                // a poll that fails (a timeout, a JobManager that does not answer for a moment) does not end the
                // wait: the stop goes on at the cluster, and the message below says where its savepoint is found
                lastPoll = e;
                Thread.sleep(1000);
                continue;
            }
            if ("COMPLETED".equals(st.path("status").path("id").asText())) {
                JsonNode op = st.path("operation");
                if (op.has("location")) {
                    return op.path("location").asText();
                }
                // the cause as Flink's REST API gives it: its class and a stack trace; the trace's first line
                JsonNode cause = op.path("failure-cause");
                String trace = cause.path("stack-trace").asText("");
                String created = createdSavepoint(trace);
                if (created != null) {
                    // the adaptive scheduler's StopWithSavepointStoppingException: the savepoint is there, the job
                    // failed while stopping (its innermost cause alone dropped the savepoint's path)
                    throw new IOException("stop-with-savepoint of " + jobId + ": " + created + " (the job failed "
                            + "while stopping: " + innermostCause(trace) + "; GET " + base + "/jobs/" + jobId
                            + " tells whether it still runs)");
                }
                throw new IOException("stop-with-savepoint of " + jobId + " failed: " + (trace.isBlank()
                        ? cause.path("class").asText("(no cause given)") : innermostCause(trace)) + " (GET " + base
                        + "/jobs/" + jobId + " tells whether the job still runs)");
            }
            Thread.sleep(250);
        }
        // the savepoint goes on at the cluster: say where to find it, so that nobody restores an older checkpoint
        // (which would write the results committed since again)
        throw new IOException("stop-with-savepoint of " + jobId + " did not complete within " + org.apache.flink.util.TimeUtils.formatWithHighestUnit(timeout)
                + (lastPoll != null ? " (the last poll failed: " + lastPoll.getMessage() + ")" : "")
                + "; it goes on at the cluster: GET " + base + "/jobs/" + jobId + "/savepoints/" + trigger
                + " gives its location once done (directory " + where + ")");
    }

    /** Waits until the job reaches a terminal state; returns it. */
    public String awaitTerminal(String jobId, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String state = "";
        while (System.nanoTime() < deadline) {
            state = jobState(jobId);
            if (List.of("FINISHED", "FAILED", "CANCELED").contains(state)) {
                return state;
            }
            Thread.sleep(500);
        }
        throw new IOException("job " + jobId + " still " + state + " after " + org.apache.flink.util.TimeUtils.formatWithHighestUnit(timeout));
    }

    /**
     * The root exception of a failed job ({@code GET /jobs/:jobid/exceptions}), with the failing task and its stack
     * trace; an empty string if the job has none.
     */
    public String rootException(String jobId) throws IOException, InterruptedException {
        JsonNode last = newestException(jobId);
        if (last == null) {
            return "";
        }
        return last.path("taskName").asText("") + " " + last.path("location").asText("") + "\n"
                + last.path("stacktrace").asText(last.path("exceptionName").asText(""));
    }

    /**
     * The message of the innermost cause of a failed job's root exception, in one line (the failing task's name and
     * the stack trace are in the job's exception history); an empty string if the job has none.
     */
    public String rootCause(String jobId) throws IOException, InterruptedException {
        JsonNode last = newestException(jobId);
        if (last == null) {
            return "";
        }
        // the stack trace itself, not rootException's text: a global failure (a checkpoint failure threshold, say)
        // names no task and no location, and skipping rootException's first line then dropped the exception's own
        // line, so a trace without "Caused by:" gave a stack frame
        String trace = last.path("stacktrace").asText("");
        return innermostCause(trace.isBlank() ? last.path("exceptionName").asText("") : trace);
    }

    /** The newest entry of the job's exception history, or null if it has none. */
    private JsonNode newestException(String jobId) throws IOException, InterruptedException {
        JsonNode entries = get("/jobs/" + jobId + "/exceptions").path("exceptionHistory").path("entries");
        return !entries.isArray() || entries.isEmpty() ? null : entries.get(0);
    }

    public JsonNode get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    public JsonNode post(String path, JsonNode body) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
    }

    public JsonNode put(String path, JsonNode body) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
    }

    /**
     * Whether the cluster knows job {@code jobId} (running or ended): false only where it answers that it does not.
     *
     * @throws IOException where it cannot be reached or answers otherwise
     */
    public boolean knowsJob(String jobId) throws IOException, InterruptedException {
        HttpResponse<String> r = call(HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId)).GET());
        if (r.statusCode() == 404) {
            return false;
        }
        if (r.statusCode() >= 300) {
            throw new IOException("Flink REST GET /jobs/" + jobId + ": HTTP " + r.statusCode());
        }
        return true;
    }

    private HttpResponse<String> call(HttpRequest.Builder b) throws IOException, InterruptedException {
        HttpRequest request = b.timeout(REQUEST_TIMEOUT).build();
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (java.net.ConnectException | java.net.http.HttpConnectTimeoutException e) {
            throw new IOException("cannot reach Flink's REST API at " + base + " (" + (e.getMessage() != null
                    ? e.getMessage() : e.getClass().getSimpleName()) + ")", e);
        } catch (java.net.http.HttpTimeoutException e) {
            // (the JDK's "request timed out" named neither the request nor how long it waited)
            java.net.http.HttpTimeoutException named = new java.net.http.HttpTimeoutException("no answer to "
                    + request.method() + " " + request.uri() + " within " + REQUEST_TIMEOUT.toSeconds() + " s");
            named.initCause(e);
            throw named;
        } catch (javax.net.ssl.SSLException e) {
            boolean plaintext = String.valueOf(e.getMessage()).contains("plaintext connection");
            if (!(e instanceof javax.net.ssl.SSLHandshakeException)
                    && !(e instanceof javax.net.ssl.SSLPeerUnverifiedException) && !plaintext) {
                // a TLS error after the request was sent: the cluster may have taken it
                throw new IOException(request.method() + " " + request.uri() + " got no complete answer ("
                        + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()) + ")", e);
            }
            if (plaintext) {
                throw new IOException("no TLS connection to Flink's REST API at " + base + ": it answered in plain "
                        + "text (is its REST endpoint http, not https?)", e);
            }
            // a handshake refused (a certificate the trust store does not vouch for, or one for another host name):
            // nothing reached the cluster
            throw new IOException("no TLS connection to Flink's REST API at " + base + " (" + (e.getMessage() != null
                    ? e.getMessage() : e.getClass().getSimpleName()) + "; the REST trust store is "
                    + SecurityOptions.SSL_REST_TRUSTSTORE.key() + " in config.yaml, and the certificate must name the "
                    + "address's host)", e);
        } catch (IOException e) {
            // a connection closed or reset once the request was on its way: the cluster may have taken it
            throw new IOException(request.method() + " " + request.uri() + " got no complete answer ("
                    + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()) + ")", e);
        }
    }

    /** How long a request waits for its answer. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    /** The cluster answered a request with an HTTP error status ({@link #status()}). */
    public static final class HttpStatusException extends IOException {
        private final int status;

        public HttpStatusException(int status, String message) {
            super(message);
            this.status = status;
        }

        /** The HTTP status of the answer (300 and above). */
        public int status() {
            return status;
        }
    }

    private JsonNode send(HttpRequest.Builder b) throws IOException, InterruptedException {
        HttpResponse<String> r = call(b);
        HttpRequest request = r.request();
        JsonNode body;
        try {
            body = r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(request.method() + " " + request.uri() + ": HTTP " + r.statusCode()
                    + " with a reply that is not JSON: is " + base + " Flink's REST address?", e);
        }
        if (r.statusCode() >= 300) {
            throw new HttpStatusException(r.statusCode(), "Flink REST " + r.request().method() + " "
                    + r.request().uri() + ": HTTP " + r.statusCode() + " " + errors(body.path("errors")));
        }
        return body;
    }

    /**
     * The first line of each of a reply's errors ("Job 0123 not found"): Flink's REST handlers put the whole server-side
     * stack trace into each, which is not for a user's terminal.
     */
    static String errors(JsonNode errors) {
        List<String> out = new java.util.ArrayList<>();
        for (JsonNode e : errors) {
            List<String> lines = e.asText().strip().lines().toList();
            String first = lines.isEmpty() ? "" : lines.get(0);
            if (first.startsWith("<Exception on server side:") && lines.size() > 1) {
                // an unhandled exception of the handler (Flink's "Internal server error."): its innermost cause
                first = innermostCause(String.join("\n", lines.subList(1, lines.size())));
            }
            out.add(message(first));
        }
        return out.isEmpty() ? "(no error message)" : String.join("; ", out);
    }

    /**
     * Flink's message that a savepoint was created although the stop failed ("A savepoint has been created at: PATH,
     * but the corresponding job ... failed during stopping ..."), from a stack trace as text; null if it holds none.
     */
    static String createdSavepoint(String trace) {
        for (String l : trace.strip().lines().toList()) {
            int at = l.indexOf("A savepoint has been created at:");
            if (at >= 0) {
                return l.substring(at).strip();
            }
        }
        return null;
    }

    /**
     * The message of the innermost cause of a Java stack trace as text (its last "Caused by:" line, else its first
     * line), without exception class names.
     */
    public static String innermostCause(String trace) {
        List<String> lines = trace.strip().lines().toList();
        String first = lines.isEmpty() ? "" : lines.get(0);
        for (String l : lines) {
            if (l.startsWith("Caused by: ")) {
                first = l.substring("Caused by: ".length());
            }
        }
        return message(first);
    }

    /**
     * "org.apache.flink.runtime.rest.NotFoundException: Job 0123 not found": the message, not the class (nor the
     * classes of the wrappers before it).
     */
    private static String message(String line) {
        String m = line;
        int colon = m.indexOf(": ");
        while (colon > 0 && m.substring(0, colon).matches("[\\w.$]+(Exception|Error)")) {
            m = m.substring(colon + 2);
            colon = m.indexOf(": ");
        }
        return m;
    }
}
