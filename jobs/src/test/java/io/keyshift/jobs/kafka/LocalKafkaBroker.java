package io.keyshift.jobs.kafka;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * An in-process single-node Kafka 4.2 broker in KRaft mode (broker and controller in one), for tests: every listener
 * binds 127.0.0.1 only (Kafka's own test kit, KafkaClusterTestKit, binds the wildcard address). The log directory is
 * formatted as {@code kafka-storage.sh format} does, and deleted on {@link #close}.
 */
public final class LocalKafkaBroker implements AutoCloseable {
    private static final String HOST = "127.0.0.1";
    private static final int NODE_ID = 1;
    private final Map<String, String> overrides;
    private KafkaRaftServer server;
    private Path logDir;
    private int brokerPort = -1;

    public LocalKafkaBroker() { this(Map.of()); }
    public LocalKafkaBroker(Map<String, String> overrides) { this.overrides = Map.copyOf(overrides); }

    public synchronized LocalKafkaBroker start() throws Exception {
        if (server != null) throw new IllegalStateException("already started");
        // KafkaRaftServer always uses StandardFaultHandlerFactory: fatal faults call Exit.halt(1) (Runtime.halt),
        // which would kill the Surefire fork. Make them throw instead (JVM-global, "for testing" API).
        Exit.setHaltProcedure((code, msg) -> { throw new IllegalStateException("Kafka halt(" + code + "): " + msg); });
        Exit.setExitProcedure((code, msg) -> { throw new IllegalStateException("Kafka exit(" + code + "): " + msg); });
        for (int attempt = 1; ; attempt++) {
            int[] ports = freeLoopbackPorts(2);                   // [0] PLAINTEXT, [1] CONTROLLER
            Path dir = Files.createTempDirectory("local-kafka-").toAbsolutePath();
            KafkaRaftServer candidate = null;
            try {
                format(dir);
                candidate = new KafkaRaftServer(KafkaConfig.fromProps(props(dir, ports[0], ports[1]), false), Time.SYSTEM);
                candidate.startup();        // returns once the broker is unfenced and its acceptors run
                server = candidate; logDir = dir; brokerPort = ports[0];
                return this;
            } catch (Exception e) {
                if (candidate != null) {
                    try { candidate.shutdown(); candidate.awaitShutdown(); } catch (Exception s) { e.addSuppressed(s); }
                }
                try { deleteRecursively(dir); } catch (IOException io) { e.addSuppressed(io); }
                if (attempt >= 3 || !isBindFailure(e)) throw e;    // retry only the free-port race
            }
        }
    }

    public String bootstrapServers() {
        if (brokerPort < 0) throw new IllegalStateException("not started");
        return HOST + ":" + brokerPort;
    }

    @Override
    public synchronized void close() throws IOException {
        if (server == null) return;
        try { server.shutdown(); server.awaitShutdown(); }       // broker first, then controller
        finally { server = null; brokerPort = -1; deleteRecursively(logDir); }
    }

    private Properties props(Path dir, int brokerPort, int controllerPort) {
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", String.valueOf(NODE_ID));
        p.setProperty("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);  // static quorum
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("listeners", "PLAINTEXT://" + HOST + ":" + brokerPort + ",CONTROLLER://" + HOST + ":" + controllerPort);
        p.setProperty("advertised.listeners", "PLAINTEXT://" + HOST + ":" + brokerPort);
        p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.setProperty("inter.broker.listener.name", "PLAINTEXT");
        p.setProperty("log.dirs", dir.toString());           // metadata.log.dir defaults to first log dir
        p.setProperty("num.partitions", "1");
        p.setProperty("offsets.topic.replication.factor", "1");
        p.setProperty("offsets.topic.num.partitions", "1");   // default 50
        p.setProperty("transaction.state.log.replication.factor", "1");
        p.setProperty("transaction.state.log.min.isr", "1");
        p.setProperty("transaction.state.log.num.partitions", "1");
        p.setProperty("share.coordinator.state.topic.replication.factor", "1");  // default 3
        p.setProperty("share.coordinator.state.topic.min.isr", "1");             // default 2
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        p.setProperty("log.cleaner.dedupe.buffer.size", "2097152"); // default 128 MiB heap at startup
        p.setProperty("server.max.startup.time.ms", "60000");       // default Long.MAX_VALUE
        // the tests replay history: records carry their event time (2014) as Kafka timestamp, and time-based
        // retention (log.retention.hours = 168, first checked log.initial.task.delay.ms = 30 s after start) would
        // delete every segment older than a week, input and results topics alike, half a minute into the test
        p.setProperty("log.retention.ms", "-1");
        overrides.forEach(p::setProperty);
        return p;
    }

    /** What `kafka-storage.sh format -t <id> -c server.properties` does for a static-voters node. */
    private static void format(Path dir) throws Exception {
        try (PrintStream quiet = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8)) {
            new Formatter().setPrintStream(quiet)
                .setNodeId(NODE_ID)
                .setClusterId(Uuid.randomUuid().toString())
                .setDirectories(List.of(dir.toString()))
                .setMetadataLogDirectory(dir.toString())
                .setControllerListenerName("CONTROLLER")
                .setHasDynamicQuorum(false)                             // voters set => kraft.version 0
                .setReleaseVersion(MetadataVersion.latestProduction())  // IBP_4_2_IV1 (= default if omitted)
                .run();
        }
    }

    private static int[] freeLoopbackPorts(int n) throws IOException {
        InetAddress loopback = InetAddress.getByName(HOST);   // IP literal: no DNS
        ServerSocket[] sockets = new ServerSocket[n];
        int[] ports = new int[n];
        try {
            for (int i = 0; i < n; i++) {                       // all held open at once => distinct ports
                sockets[i] = new ServerSocket();
                sockets[i].bind(new InetSocketAddress(loopback, 0));
                ports[i] = sockets[i].getLocalPort();
            }
        } finally {
            for (ServerSocket s : sockets) if (s != null) s.close();
        }
        return ports;
    }

    private static boolean isBindFailure(Throwable t) {
        for (; t != null; t = t.getCause())
            if (t instanceof BindException || String.valueOf(t.getMessage()).contains("failed to bind")) return true;
        return false;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) return;
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
