package io.jenkins.plugins.qemu.engine.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Protocol and framing behaviour of {@link QmpClient} against {@link FakeQmpServer}; no QEMU needed. */
@Timeout(30)
class QmpClientTest {
    private static final Duration T = Duration.ofSeconds(5);

    @TempDir
    Path tmp;

    private QmpReactor reactor;
    private ExecutorService background;
    private FakeQmpServer server;
    private Path socket;

    @BeforeEach
    void setUp() throws Exception {
        reactor = new QmpReactor("qmp-reactor-test");
        background = Executors.newCachedThreadPool(daemon("qmp-test-bg"));
        socket = tmp.resolve("qmp.sock");
        assertTrue(socket.toString().length() < 100, "temp dir too long for AF_UNIX: " + socket);
    }

    @AfterEach
    void tearDown() throws Exception {
        reactor.close();
        if (server != null) {
            server.close();
        }
        background.shutdownNow();
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Connects while the test thread plays the server's half of the handshake. */
    private QmpClient connect() throws Exception {
        server = new FakeQmpServer(socket);
        CompletableFuture<QmpClient> f = async(() -> QmpClient.connect(socket, T, reactor));
        server.handshake();
        return f.get(5, TimeUnit.SECONDS);
    }

    interface Call<V> {
        V call() throws Exception;
    }

    private <V> CompletableFuture<V> async(Call<V> call) {
        CompletableFuture<V> f = new CompletableFuture<>();
        background.execute(() -> {
            try {
                f.complete(call.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    private static Throwable failure(CompletableFuture<?> f) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void greetingIsParsedAndCapabilitiesNegotiated() throws Exception {
        server = new FakeQmpServer(socket);
        CompletableFuture<QmpClient> f = async(() -> QmpClient.connect(socket, T, reactor));
        server.accept(T);
        server.sendLine(FakeQmpServer.GREETING);
        JsonNode caps = server.readCommand();
        assertEquals("qmp_capabilities", caps.get("execute").asText());
        assertTrue(caps.get("id").isIntegralNumber(), "every command carries an id: " + caps);
        assertFalse(caps.has("arguments"), "no arguments object when none were given: " + caps);
        assertFalse(f.isDone(), "connect must wait for the qmp_capabilities reply");
        server.reply(caps, "{}");
        try (QmpClient client = f.get(5, TimeUnit.SECONDS)) {
            assertTrue(client.isOpen());
            assertEquals(socket, client.socket());
        }
    }

    @Test
    void argumentsAreSentAndReturnValueIsReturned() throws Exception {
        try (QmpClient client = connect()) {
            CompletableFuture<JsonNode> r = async(() -> client.execute("human-monitor-command",
                    Map.of("command-line", "info version"), T));
            JsonNode cmd = server.readCommand();
            assertEquals("human-monitor-command", cmd.get("execute").asText());
            assertEquals("info version", cmd.path("arguments").path("command-line").asText());
            server.reply(cmd, "\"7.2.0\\r\\n\"");
            assertEquals("7.2.0\r\n", r.get(5, TimeUnit.SECONDS).asText());
        }
    }

    @Test
    void repliesAreMatchedByIdWhenOutOfOrder() throws Exception {
        try (QmpClient client = connect()) {
            CompletableFuture<JsonNode> a = async(() -> client.execute("query-a", null, T));
            CompletableFuture<JsonNode> b = async(() -> client.execute("query-b", null, T));
            CompletableFuture<JsonNode> c = async(() -> client.execute("query-c", null, T));
            JsonNode ca = server.readCommand();
            JsonNode cb = server.readCommand();
            JsonNode cc = server.readCommand();
            assertEquals(3, List.of(ca.get("id"), cb.get("id"), cc.get("id")).stream().distinct().count(),
                    "ids must be unique");
            // Senders run on their own threads, so the commands arrive in any order; answer in the reverse order read.
            for (JsonNode cmd : List.of(cc, ca, cb)) {
                server.reply(cmd, "{\"who\": \"" + cmd.get("execute").asText().substring("query-".length()) + "\"}");
            }
            assertEquals("a", a.get(5, TimeUnit.SECONDS).get("who").asText());
            assertEquals("b", b.get(5, TimeUnit.SECONDS).get("who").asText());
            assertEquals("c", c.get(5, TimeUnit.SECONDS).get("who").asText());
        }
    }

    @Test
    void errorReplyBecomesQmpExceptionWithClassAndDesc() throws Exception {
        try (QmpClient client = connect()) {
            CompletableFuture<JsonNode> r = async(() -> client.execute("no-such-command", null, T));
            server.error(server.readCommand(), "CommandNotFound", "The command no-such-command has not been found");
            QmpException e = assertInstanceOf(QmpException.class, failure(r));
            assertFalse(e instanceof QmpTimeoutException);
            assertEquals("CommandNotFound", e.errorClass());
            assertEquals("The command no-such-command has not been found", e.errorDesc());
            assertEquals("no-such-command", e.command());
            assertEquals(socket, e.socket());
            assertTrue(e.getMessage().contains("no-such-command") && e.getMessage().contains(socket.toString()),
                    e.getMessage());
            // The connection survives an error reply.
            CompletableFuture<JsonNode> ok = async(() -> client.execute("query-status", null, T));
            server.reply(server.readCommand(), "{\"status\": \"running\"}");
            assertEquals("running", ok.get(5, TimeUnit.SECONDS).get("status").asText());
        }
    }

    @Test
    void messageSplitAcrossManyWrites() throws Exception {
        server = new FakeQmpServer(socket);
        CompletableFuture<QmpClient> f = async(() -> QmpClient.connect(socket, T, reactor));
        server.accept(T);
        server.sendInPieces(FakeQmpServer.GREETING + "\r\n", 1);
        JsonNode caps = server.readCommand();
        server.sendInPieces(FakeQmpServer.replyJson(caps, "{}") + "\r\n", 2);
        try (QmpClient client = f.get(5, TimeUnit.SECONDS)) {
            CompletableFuture<JsonNode> r = async(() -> client.execute("query-status", null, T));
            JsonNode cmd = server.readCommand();
            String both = FakeQmpServer.eventJson("STOP", "{}") + "\r\n"
                    + FakeQmpServer.replyJson(cmd, "{\"status\": \"paused\", \"running\": false}") + "\r\n";
            server.sendInPieces(both, 3);
            assertEquals("paused", r.get(5, TimeUnit.SECONDS).get("status").asText());
        }
    }

    @Test
    void severalMessagesInOneWrite() throws Exception {
        try (QmpClient client = connect()) {
            List<CompletableFuture<JsonNode>> results = new ArrayList<>();
            List<JsonNode> cmds = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                int n = i;
                results.add(async(() -> client.execute("cmd-" + n, Map.of("n", n), T)));
            }
            for (int i = 0; i < 3; i++) {
                cmds.add(server.readCommand());
            }
            StringBuilder sb = new StringBuilder();
            sb.append(FakeQmpServer.eventJson("E1", "{\"k\": 1}")).append("\r\n");
            sb.append(FakeQmpServer.replyJson(cmds.get(2), "{\"n\": " + cmds.get(2).path("arguments").get("n") + "}"))
                    .append("\r\n");
            sb.append("\r\n"); // blank line in between is tolerated
            sb.append(FakeQmpServer.replyJson(cmds.get(0), "{\"n\": " + cmds.get(0).path("arguments").get("n") + "}"))
                    .append("\n"); // bare LF too
            sb.append(FakeQmpServer.eventJson("E2", "{\"k\": 2}")).append("\r\n");
            sb.append(FakeQmpServer.replyJson(cmds.get(1), "{\"n\": " + cmds.get(1).path("arguments").get("n") + "}"))
                    .append("\r\n");
            server.send(sb.toString());
            for (int i = 0; i < 3; i++) {
                JsonNode cmd = cmds.get(i);
                int n = cmd.path("arguments").get("n").asInt();
                assertEquals("cmd-" + n, cmd.get("execute").asText());
                assertEquals(n, results.get(n).get(5, TimeUnit.SECONDS).get("n").asInt());
            }
        }
    }

    @Test
    void largeMessageOf200KB() throws Exception {
        try (QmpClient client = connect()) {
            CompletableFuture<JsonNode> r = async(() -> client.execute("query-qmp-schema", null, T));
            JsonNode cmd = server.readCommand();
            StringBuilder big = new StringBuilder("[");
            int entries = 0;
            while (big.length() < 200 * 1024) {
                if (entries > 0) {
                    big.append(", ");
                }
                big.append("{\"name\": \"type-").append(entries)
                        .append("\", \"meta-type\": \"object\", \"members\": [{\"name\": \"x\", \"type\": \"int\"}]}");
                entries++;
            }
            big.append("]");
            String line = FakeQmpServer.replyJson(cmd, big.toString());
            assertTrue(line.length() > 200 * 1024);
            // An event right behind the big reply, in the same write, must also come out intact.
            server.send(line + "\r\n" + FakeQmpServer.eventJson("AFTER", "{\"ok\": true}") + "\r\n");
            JsonNode schema = r.get(5, TimeUnit.SECONDS);
            assertEquals(entries, schema.size());
            assertEquals("type-" + (entries - 1), schema.get(entries - 1).get("name").asText());
            // The connection is still in sync after the big message.
            CompletableFuture<JsonNode> next = async(() -> client.execute("query-status", null, T));
            server.reply(server.readCommand(), "{\"status\": \"running\"}");
            assertEquals("running", next.get(5, TimeUnit.SECONDS).get("status").asText());
        }
    }

    @Test
    void commandTimeoutNamesCommandAndTimeoutAndLateReplyIsDropped() throws Exception {
        try (QmpClient client = connect()) {
            long t0 = System.nanoTime();
            CompletableFuture<JsonNode> slow = async(() -> client.execute("query-slow", null, Duration.ofMillis(200)));
            JsonNode cmd = server.readCommand();
            QmpTimeoutException e = assertInstanceOf(QmpTimeoutException.class, failure(slow));
            long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(elapsedMs >= 190 && elapsedMs < 3000, "timed out after " + elapsedMs + " ms");
            assertEquals("query-slow", e.command());
            assertEquals(Duration.ofMillis(200), e.timeout());
            assertTrue(e.getMessage().contains("query-slow") && e.getMessage().contains("200 ms")
                    && e.getMessage().contains(socket.toString()), e.getMessage());
            // QEMU answers eventually; the late reply must not confuse the next command.
            server.reply(cmd, "{\"late\": true}");
            CompletableFuture<JsonNode> next = async(() -> client.execute("query-status", null, T));
            server.reply(server.readCommand(), "{\"status\": \"running\"}");
            assertEquals("running", next.get(5, TimeUnit.SECONDS).get("status").asText());
            assertTrue(client.isOpen());
        }
    }

    @Test
    void serverClosingMidCommandFailsPendingPromptly() throws Exception {
        QmpClient client = connect();
        CompletableFuture<JsonNode> sync = async(() -> client.execute("query-status", null, Duration.ofSeconds(60)));
        CompletableFuture<JsonNode> async = async(() -> client.execute("query-name", null, Duration.ofSeconds(60)));
        server.readCommand();
        server.readCommand();
        server.event("STOP", null);
        long t0 = System.nanoTime();
        server.closeConnection();

        QmpException e = assertInstanceOf(QmpException.class, failure(sync));
        assertFalse(e instanceof QmpTimeoutException);
        assertTrue(e.getMessage().contains("QMP connection closed while waiting for 'query-status'"), e.getMessage());
        assertTrue(e.getMessage().contains(socket.toString()), e.getMessage());
        assertEquals("query-status", e.command());
        assertTrue(e.getMessage().contains("end of file"), e.getMessage());
        QmpException ea = assertInstanceOf(QmpException.class, failure(async));
        assertTrue(ea.getMessage().contains("'query-name'"), ea.getMessage());
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < 3000, "must not wait for the timeout");

        assertFalse(client.isOpen());

        QmpException after = assertThrows(QmpException.class, () -> client.execute("query-status", null, T));
        assertTrue(after.getMessage().contains("closed"), after.getMessage());
        QmpException afterAsync = assertInstanceOf(QmpException.class,
                failure(async(() -> client.execute("query-status", null, T))));
        assertEquals("query-status", afterAsync.command());
        client.close();
    }

    @Test
    void closeIsIdempotentThreadSafeAndFailsPendingCommands() throws Exception {
        QmpClient client = connect();
        CompletableFuture<JsonNode> pending = async(() -> client.execute("query-status", null, Duration.ofSeconds(60)));
        server.readCommand();
        int threads = 4;
        CyclicBarrier barrier = new CyclicBarrier(threads);
        List<CompletableFuture<Void>> closers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            closers.add(async(() -> {
                barrier.await();
                client.close();
                return null;
            }));
        }
        for (CompletableFuture<Void> c : closers) {
            c.get(5, TimeUnit.SECONDS);
        }
        client.close();
        QmpException e = assertInstanceOf(QmpException.class, failure(pending));
        assertTrue(e.getMessage().contains("closed while waiting for 'query-status'"), e.getMessage());
        assertTrue(e.getMessage().contains("closed locally"), e.getMessage());
        assertFalse(client.isOpen());
        assertThrows(QmpException.class, () -> client.execute("query-status", null, T));
    }

    @Test
    void connectTimesOutWhenSocketNeverAppears() {
        Path missing = tmp.resolve("never.sock");
        long t0 = System.nanoTime();
        QmpTimeoutException e = assertThrows(QmpTimeoutException.class,
                () -> QmpClient.connect(missing, Duration.ofMillis(300), reactor));
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(elapsedMs >= 290 && elapsedMs < 3000, "took " + elapsedMs + " ms");
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertEquals(missing, e.socket());
    }

    @Test
    void connectRetriesUntilTheSocketAppears() throws Exception {
        CompletableFuture<QmpClient> f = async(() -> QmpClient.connect(socket, T, reactor));
        Thread.sleep(300);
        assertFalse(f.isDone());
        server = new FakeQmpServer(socket);
        server.handshake();
        try (QmpClient client = f.get(5, TimeUnit.SECONDS)) {
            assertTrue(client.isOpen());
        }
    }

    @Test
    void connectTimesOutWhenServerNeverGreets() throws Exception {
        server = new FakeQmpServer(socket);
        QmpTimeoutException e = assertThrows(QmpTimeoutException.class,
                () -> QmpClient.connect(socket, Duration.ofMillis(300), reactor));
        assertTrue(e.getMessage().contains("no greeting") && e.getMessage().contains(socket.toString()),
                e.getMessage());
    }

    @Test
    void connectFailsPromptlyWhenServerClosesBeforeGreeting() throws Exception {
        server = new FakeQmpServer(socket);
        CompletableFuture<QmpClient> f = async(() -> QmpClient.connect(socket, Duration.ofSeconds(20), reactor));
        server.accept(T);
        server.closeConnection();
        QmpException e = assertInstanceOf(QmpException.class, failure(f));
        assertTrue(e.getMessage().contains("greeting") && e.getMessage().contains(socket.toString()),
                e.getMessage());
    }

    @Test
    void connectRejectsNonQmpPeer() throws Exception {
        server = new FakeQmpServer(socket);
        CompletableFuture<QmpClient> f = async(() -> QmpClient.connect(socket, T, reactor));
        server.accept(T);
        server.sendLine("{\"hello\": \"not qmp\"}");
        QmpException e = assertInstanceOf(QmpException.class, failure(f));
        assertTrue(e.getMessage().contains("expected a QMP greeting"), e.getMessage());
    }

    @Test
    void connectRejectsOverlongSocketPath() {
        Path longPath = tmp.resolve("x".repeat(120) + ".sock");
        QmpException e = assertThrows(QmpException.class,
                () -> QmpClient.connect(longPath, T, reactor));
        assertFalse(e instanceof QmpTimeoutException, "must fail at once, not after retrying");
        assertTrue(e.getMessage().contains("AF_UNIX"), e.getMessage());
    }

    @Test
    void oneReactorThreadServesManyConnections() throws Exception {
        List<FakeQmpServer> servers = new ArrayList<>();
        List<QmpClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                Path p = tmp.resolve("vm" + i + ".sock");
                FakeQmpServer s = new FakeQmpServer(p);
                servers.add(s);
                CompletableFuture<QmpClient> f = async(() -> QmpClient.connect(p, T, reactor));
                s.handshake();
                clients.add(f.get(5, TimeUnit.SECONDS));
            }
            List<CompletableFuture<JsonNode>> results = new ArrayList<>();
            for (QmpClient c : clients) {
                results.add(async(() -> c.execute("query-name", null, T)));
            }
            for (int i = servers.size() - 1; i >= 0; i--) {
                servers.get(i).reply(servers.get(i).readCommand(), "{\"name\": \"vm" + i + "\"}");
            }
            for (int i = 0; i < clients.size(); i++) {
                assertEquals("vm" + i, results.get(i).get(5, TimeUnit.SECONDS).get("name").asText());
            }
            long reactorThreads = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("qmp-reactor-test")).count();
            assertEquals(1, reactorThreads);
        } finally {
            for (QmpClient c : clients) {
                c.close();
            }
            for (FakeQmpServer s : servers) {
                s.close();
            }
        }
    }

    @Test
    void closingTheReactorClosesItsClients() throws Exception {
        QmpClient client = connect();
        CompletableFuture<JsonNode> pending = async(() -> client.execute("query-status", null, Duration.ofSeconds(60)));
        server.readCommand();
        reactor.close();
        assertFalse(reactor.isOpen());
        QmpException e = assertInstanceOf(QmpException.class, failure(pending));
        assertTrue(e.getMessage().contains("reactor"), e.getMessage());
        assertFalse(client.isOpen());
        QmpException c = assertThrows(QmpException.class, () -> QmpClient.connect(socket, T, reactor));
        assertTrue(c.getMessage().contains("closed"), c.getMessage());
    }

    @Test
    void unserialisableArgumentsFailWithoutSending() throws Exception {
        try (QmpClient client = connect()) {
            Map<String, Object> args = Map.of("bad", new Object());
            QmpException e = assertThrows(QmpException.class, () -> client.execute("x", args, T));
            assertTrue(e.getMessage().contains("'x'"), e.getMessage());
            CompletableFuture<JsonNode> ok = async(() -> client.execute("query-status", null, T));
            JsonNode cmd = server.readCommand();
            assertEquals("query-status", cmd.get("execute").asText(), "nothing was sent for the bad command");
            server.reply(cmd, "{}");
            ok.get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void concurrentCommandsFromManyThreadsAreFramedSafely() throws Exception {
        try (QmpClient client = connect()) {
            int n = 200;
            List<CompletableFuture<JsonNode>> results = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                results.add(async(() -> client.execute("echo", Map.of("k", k, "pad", "y".repeat(k * 50)), T)));
            }
            for (int i = 0; i < n; i++) {
                JsonNode cmd = server.readCommand(); // a torn or interleaved write would fail to parse here
                server.reply(cmd, "{\"k\": " + cmd.path("arguments").get("k") + "}");
            }
            for (int i = 0; i < n; i++) {
                assertEquals(i, results.get(i).get(5, TimeUnit.SECONDS).get("k").asInt());
            }
        }
    }

}
