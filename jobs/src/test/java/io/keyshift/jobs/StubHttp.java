package io.keyshift.jobs;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * A stand-in for an HTTP endpoint in tests (Flink's REST API, a Prometheus reporter): a JDK {@link HttpServer} on the
 * loopback address at a free port, started. The caller stops it ({@code stop(0)}).
 */
public final class StubHttp {
    private StubHttp() {}

    /** A started server whose context {@code path} (e.g. "/") is answered by {@code handler}. */
    public static HttpServer start(String path, HttpHandler handler) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext(path, handler);
        server.start();
        return server;
    }

    /** A started server that answers every request with 200 and {@code body} of the request's path. */
    public static HttpServer answering(Function<String, String> body) throws IOException {
        return start("/", ex -> respond(ex, 200, body.apply(ex.getRequestURI().getPath())));
    }

    /** Answers {@code ex} with {@code status} and {@code body} (null: no body) and closes it. */
    public static void respond(HttpExchange ex, int status, String body) throws IOException {
        if (body == null) {
            ex.sendResponseHeaders(status, -1);
        } else {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, bytes.length);
            ex.getResponseBody().write(bytes);
        }
        ex.close();
    }

    /** The base address of {@code server} ({@code http://127.0.0.1:PORT}). */
    public static String address(HttpServer server) {
        return "http://" + server.getAddress().getAddress().getHostAddress() + ":" + server.getAddress().getPort();
    }
}
