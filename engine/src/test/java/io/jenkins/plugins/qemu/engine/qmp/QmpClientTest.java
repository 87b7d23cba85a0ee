package io.jenkins.plugins.qemu.engine.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
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
    private ExecutorService callbacks;
    private ExecutorService background;
    private FakeQmpServer server;
    private Path socket;

    @BeforeEach
    void setUp() throws Exception {
        reactor = new QmpReactor("qmp-reactor-test");
        callbacks = Executors.newFixedThreadPool(2, daemon("qmp-test-callback"));
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
        callbacks.shutdownNow();
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
        CompletableFuture<QmpClient> f = async(() -> QmpClient.connect(socket, T, reactor, callbacks));
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

    /** Collects listener callbacks for assertions from the test thread. */
    static final class Recorder implements QmpListener {
        final BlockingQueue<QmpEvent> events = new LinkedBlockingQueue<>();
        final BlockingQueue<Object> closes = new LinkedBlockingQueue<>();
        final AtomicInteger closeCount = new AtomicInteger();

        @Override
        public void onEvent(QmpEvent event) {
            events.add(event);
        }

        @Override
        public void onClosed(Throwable causeOrNull) {
            closeCount.incrementAndGet();
            closes.add(causeOrNull == null ? "null" : causeOrNull);
        }

        QmpEvent nextEvent() throws InterruptedException {
            QmpEvent e = events.poll(5, TimeUnit.SECONDS);
            assertNotNull(e, "no event delivered");
            return e;
        }

        Object closed() throws InterruptedException {
            Object c = closes.poll(5, TimeUnit.SECONDS);
            assertNotNull(c, "onClosed not delivered");
            return c;
        }
    }

    @Test
    void greetingIsParsedAndCapabilitiesNegotiated() throws Exception {
        server = new FakeQmpServer(socket);
        CompletableFuture<QmpClient> f = async(() -> QmpClient.connect(socket, T, reactor, callbacks));
        server.accept(T);
        server.sendLine(FakeQmpServer.GREETING);
        JsonNode caps = server.readCommand();
        assertEquals("qmp_capabilities", caps.get("execute").asText());
        assertTrue(caps.get("id").isIntegralNumber(), "every command carries an id: " + caps);
        assertFalse(caps.has("arguments"), "no arguments object when none were given: " + caps);
        assertFalse(f.isDone(), "connect must wait for the qmp_capabilities reply");
        server.reply(caps, "{}");
        try (QmpClient client = f.get(5, TimeUnit.SECONDS)) {
            assertEquals(new QmpVersion(7, 2, 0, "Debian 1:7.2+dfsg-7+deb12u7"), client.qemuVersion());
            assertTrue(client.qemuVersion().isAtLeast(7, 0));
            assertFalse(client.qemuVersion().isAtLeast(7, 3));
            assertEquals(List.of("oob"), client.capabilities());
            assertTrue(client.greeting().has("QMP"));
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
            CompletableFuture<JsonNode> a = client.executeAsync("query-a", null, T);
            CompletableFuture<JsonNode> b = client.executeAsync("query-b", null, T);
            CompletableFuture<JsonNode> c = client.executeAsync("query-c", null, T);
            JsonNode ca = server.readCommand();
            JsonNode cb = server.readCommand();
            JsonNode cc = server.readCommand();
            assertEquals(3, List.of(ca.get("id"), cb.get("id"), cc.get("id")).stream().distinct().count(),
                    "ids must be unique");
            server.reply(cc, "{\"who\": \"c\"}");
            server.reply(ca, "{\"who\": \"a\"}");
            server.reply(cb, "{\"who\": \"b\"}");
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
            CompletableFuture<JsonNode> ok = client.executeAsync("query-status", null, T);
            server.reply(server.readCommand(), "{\"status\": \"running\"}");
            assertEquals("running", ok.get(5, TimeUnit.SECONDS).get("status").asText());
        }
    }

    @Test
    void asyncErrorReplyFailsTheFuture() throws Exception {
        try (QmpClient client = connect()) {
            CompletableFuture<JsonNode> r = client.executeAsync("device_del", Map.of("id", "nope"), T);
            server.error(server.readCommand(), "DeviceNotFound", "Device 'nope' not found");
            QmpException e = assertInstanceOf(QmpException.class, failure(r));
            assertEquals("DeviceNotFound", e.errorClass());
        }
    }

    @Test
    void eventsInterleavedWithRepliesReachListenersInOrder() throws Exception {
        try (QmpClient client = connect()) {
            Recorder rec = new Recorder();
            client.addListener(rec);
            CompletableFuture<QmpEvent> resume = client.nextEvent("RESUME");
            CompletableFuture<JsonNode> r = client.executeAsync("cont", null, T);
            JsonNode cmd = server.readCommand();
            server.event("STOP", null);
            server.event("RESUME", null);
            server.reply(cmd, "{}");
            server.event("POWERDOWN", "{}");
            assertTrue(r.get(5, TimeUnit.SECONDS).isEmpty());
            QmpEvent stop = rec.nextEvent();
            assertEquals("STOP", stop.name());
            assertTrue(stop.data().isObject() && stop.data().isEmpty(), "missing data becomes an empty object");
            assertEquals(Instant.ofEpochSecond(1700000000, 123456000), stop.timestamp());
            assertEquals("RESUME", rec.nextEvent().name());
            assertEquals("POWERDOWN", rec.nextEvent().name());
            assertEquals("RESUME", resume.get(5, TimeUnit.SECONDS).name());
            assertFalse(client.shutdownSeen());
        }
    }

    @Test
    void shutdownBeforeAnyWaitIsNotLost() throws Exception {
        try (QmpClient client = connect()) {
            CompletableFuture<JsonNode> r = async(() -> client.execute("system_powerdown", null, T));
            JsonNode cmd = server.readCommand();
            server.event("POWERDOWN", null);
            server.event("SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-shutdown\"}");
            server.reply(cmd, "{}");
            r.get(5, TimeUnit.SECONDS);
            // Messages are processed in order, so SHUTDOWN (sent before the reply) is already recorded when
            // execute() returns, although no listener was registered and nobody is waiting yet.
            assertTrue(client.shutdownSeen());
            long t0 = System.nanoTime();
            assertTrue(client.awaitShutdownOrClose(T));
            assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(100), "must not wait");
            assertTrue(client.isOpen(), "SHUTDOWN alone does not close the connection");
        }
    }

    @Test
    void nextEventRegisteredBeforeCommandSeesShutdownWithData() throws Exception {
        try (QmpClient client = connect()) {
            CompletableFuture<QmpEvent> shutdown = client.nextEvent(QmpEvent.SHUTDOWN);
            CompletableFuture<JsonNode> r = client.executeAsync("system_powerdown", null, T);
            // Event before the reply: a client that only listens after execute() returns would miss it.
            server.sendLine(FakeQmpServer.eventJson("SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-shutdown\"}")
                    + "\r\n" + FakeQmpServer.replyJson(server.readCommand(), "{}"));
            r.get(5, TimeUnit.SECONDS);
            QmpEvent e = shutdown.get(5, TimeUnit.SECONDS);
            assertEquals("guest-shutdown", e.data().get("reason").asText());
            assertTrue(e.data().get("guest").asBoolean());
        }
    }

    @Test
    void awaitShutdownOrCloseTimesOutWhenNothingHappens() throws Exception {
        try (QmpClient client = connect()) {
            long t0 = System.nanoTime();
            assertFalse(client.awaitShutdownOrClose(Duration.ofMillis(150)));
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(140));
        }
    }

    @Test
    void messageSplitAcrossManyWrites() throws Exception {
        server = new FakeQmpServer(socket);
        CompletableFuture<QmpClient> f = async(() -> QmpClient.connect(socket, T, reactor, callbacks));
        server.accept(T);
        server.sendInPieces(FakeQmpServer.GREETING + "\r\n", 1);
        JsonNode caps = server.readCommand();
        server.sendInPieces(FakeQmpServer.replyJson(caps, "{}") + "\r\n", 2);
        try (QmpClient client = f.get(5, TimeUnit.SECONDS)) {
            assertEquals(7, client.qemuVersion().major());
            Recorder rec = new Recorder();
            client.addListener(rec);
            CompletableFuture<JsonNode> r = client.executeAsync("query-status", null, T);
            JsonNode cmd = server.readCommand();
            String both = FakeQmpServer.eventJson("STOP", "{}") + "\r\n"
                    + FakeQmpServer.replyJson(cmd, "{\"status\": \"paused\", \"running\": false}") + "\r\n";
            server.sendInPieces(both, 3);
            assertEquals("paused", r.get(5, TimeUnit.SECONDS).get("status").asText());
            assertEquals("STOP", rec.nextEvent().name());
        }
    }

    @Test
    void severalMessagesInOneWrite() throws Exception {
        try (QmpClient client = connect()) {
            Recorder rec = new Recorder();
            client.addListener(rec);
            List<CompletableFuture<JsonNode>> results = new ArrayList<>();
            List<JsonNode> cmds = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                results.add(client.executeAsync("cmd-" + i, Map.of("n", i), T));
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
            assertEquals(1, rec.nextEvent().data().get("k").asInt());
            assertEquals(2, rec.nextEvent().data().get("k").asInt());
        }
    }

    @Test
    void largeMessageOf200KB() throws Exception {
        try (QmpClient client = connect()) {
            CompletableFuture<JsonNode> r = client.executeAsync("query-qmp-schema", null, T);
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
            CompletableFuture<QmpEvent> after = client.nextEvent("AFTER");
            server.send(line + "\r\n" + FakeQmpServer.eventJson("AFTER", "{\"ok\": true}") + "\r\n");
            JsonNode schema = r.get(5, TimeUnit.SECONDS);
            assertEquals(entries, schema.size());
            assertEquals("type-" + (entries - 1), schema.get(entries - 1).get("name").asText());
            // The connection is still in sync after the big message.
            CompletableFuture<JsonNode> next = client.executeAsync("query-status", null, T);
            server.reply(server.readCommand(), "{\"status\": \"running\"}");
            assertEquals("running", next.get(5, TimeUnit.SECONDS).get("status").asText());
            assertTrue(after.get(5, TimeUnit.SECONDS).data().get("ok").asBoolean());
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
            CompletableFuture<JsonNode> next = client.executeAsync("query-status", null, T);
            server.reply(server.readCommand(), "{\"status\": \"running\"}");
            assertEquals("running", next.get(5, TimeUnit.SECONDS).get("status").asText());
            assertTrue(client.isOpen());
        }
    }

    @Test
    void asyncCommandTimeoutIsEnforcedByTheReactor() throws Exception {
        try (QmpClient client = connect()) {
            CompletableFuture<JsonNode> slow = client.executeAsync("query-slow", null, Duration.ofMillis(150));
            server.readCommand();
            QmpTimeoutException e = assertInstanceOf(QmpTimeoutException.class, failure(slow));
            assertEquals("query-slow", e.command());
            assertTrue(e.getMessage().contains("150 ms"), e.getMessage());
        }
    }

    @Test
    void serverClosingMidCommandFailsPendingPromptlyAndNotifiesListener() throws Exception {
        QmpClient client = connect();
        Recorder rec = new Recorder();
        client.addListener(rec);
        CompletableFuture<QmpEvent> never = client.nextEvent("SHUTDOWN");
        CompletableFuture<JsonNode> sync = async(() -> client.execute("query-status", null, Duration.ofSeconds(60)));
        CompletableFuture<JsonNode> async = client.executeAsync("query-name", null, Duration.ofSeconds(60));
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
        QmpException ea = assertInstanceOf(QmpException.class, failure(async));
        assertTrue(ea.getMessage().contains("'query-name'"), ea.getMessage());
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < 3000, "must not wait for the timeout");

        assertEquals("STOP", rec.nextEvent().name(), "events before EOF are still delivered");
        Throwable cause = assertInstanceOf(QmpException.class, rec.closed());
        assertTrue(cause.getMessage().contains("end of file"), cause.getMessage());
        assertInstanceOf(QmpException.class, failure(never));
        client.closeFuture().get(5, TimeUnit.SECONDS);
        assertFalse(client.isOpen());
        assertTrue(client.closeCause().isPresent());
        assertTrue(client.awaitShutdownOrClose(Duration.ofMillis(1)));
        assertFalse(client.shutdownSeen());

        QmpException after = assertThrows(QmpException.class, () -> client.execute("query-status", null, T));
        assertTrue(after.getMessage().contains("closed"), after.getMessage());
        QmpException afterAsync = assertInstanceOf(QmpException.class,
                failure(client.executeAsync("query-status", null, T)));
        assertEquals("query-status", afterAsync.command());
        client.close();
        Thread.sleep(100);
        assertEquals(1, rec.closeCount.get(), "onClosed exactly once");
    }

    @Test
    void closeIsIdempotentThreadSafeAndFailsPendingCommands() throws Exception {
        QmpClient client = connect();
        Recorder rec = new Recorder();
        client.addListener(rec);
        CompletableFuture<JsonNode> pending = client.executeAsync("query-status", null, Duration.ofSeconds(60));
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
        assertEquals("null", rec.closed(), "local close reports a null cause");
        assertTrue(client.closeCause().isEmpty());
        assertThrows(QmpException.class, () -> client.execute("query-status", null, T));

        Recorder late = new Recorder();
        client.addListener(late);
        assertEquals("null", late.closed(), "a listener added after close still learns about it");
        Thread.sleep(100);
        assertEquals(1, rec.closeCount.get());
        assertEquals(1, late.closeCount.get());
        client.closeFuture().get(5, TimeUnit.SECONDS);
    }

    @Test
    void slowListenerDoesNotBlockReplies() throws Exception {
        try (QmpClient client = connect()) {
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch entered = new CountDownLatch(1);
            client.addListener(new QmpListener() {
                @Override
                public void onEvent(QmpEvent event) {
                    entered.countDown();
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            Recorder rec = new Recorder();
            client.addListener(rec);
            server.event("STOP", null);
            assertTrue(entered.await(5, TimeUnit.SECONDS));
            CompletableFuture<JsonNode> r = client.executeAsync("query-status", null, T);
            server.reply(server.readCommand(), "{\"status\": \"paused\"}");
            assertEquals("paused", r.get(5, TimeUnit.SECONDS).get("status").asText());
            assertTrue(rec.events.isEmpty(), "later listeners of the same connection wait their turn");
            release.countDown();
            assertEquals("STOP", rec.nextEvent().name());
        }
    }

    @Test
    void listenerCanExecuteCommandsFromItsCallback() throws Exception {
        try (QmpClient client = connect()) {
            CompletableFuture<JsonNode> fromListener = new CompletableFuture<>();
            client.addListener(new QmpListener() {
                @Override
                public void onEvent(QmpEvent event) {
                    try {
                        fromListener.complete(client.execute("query-status", null, T));
                    } catch (Exception e) {
                        fromListener.completeExceptionally(e);
                    }
                }
            });
            server.event("STOP", null);
            server.reply(server.readCommand(), "{\"status\": \"paused\"}");
            assertEquals("paused", fromListener.get(5, TimeUnit.SECONDS).get("status").asText());
        }
    }

    @Test
    void connectTimesOutWhenSocketNeverAppears() {
        Path missing = tmp.resolve("never.sock");
        long t0 = System.nanoTime();
        QmpTimeoutException e = assertThrows(QmpTimeoutException.class,
                () -> QmpClient.connect(missing, Duration.ofMillis(300), reactor, callbacks));
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(elapsedMs >= 290 && elapsedMs < 3000, "took " + elapsedMs + " ms");
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertEquals(missing, e.socket());
    }

    @Test
    void connectRetriesUntilTheSocketAppears() throws Exception {
        CompletableFuture<QmpClient> f = async(() -> QmpClient.connect(socket, T, reactor, callbacks));
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
                () -> QmpClient.connect(socket, Duration.ofMillis(300), reactor, callbacks));
        assertTrue(e.getMessage().contains("no greeting") && e.getMessage().contains(socket.toString()),
                e.getMessage());
    }

    @Test
    void connectFailsPromptlyWhenServerClosesBeforeGreeting() throws Exception {
        server = new FakeQmpServer(socket);
        CompletableFuture<QmpClient> f = async(() -> QmpClient.connect(socket, Duration.ofSeconds(20), reactor,
                callbacks));
        server.accept(T);
        server.closeConnection();
        QmpException e = assertInstanceOf(QmpException.class, failure(f));
        assertTrue(e.getMessage().contains("greeting") && e.getMessage().contains(socket.toString()),
                e.getMessage());
    }

    @Test
    void connectRejectsNonQmpPeer() throws Exception {
        server = new FakeQmpServer(socket);
        CompletableFuture<QmpClient> f = async(() -> QmpClient.connect(socket, T, reactor, callbacks));
        server.accept(T);
        server.sendLine("{\"hello\": \"not qmp\"}");
        QmpException e = assertInstanceOf(QmpException.class, failure(f));
        assertTrue(e.getMessage().contains("expected a QMP greeting"), e.getMessage());
    }

    @Test
    void connectRejectsOverlongSocketPath() {
        Path longPath = tmp.resolve("x".repeat(120) + ".sock");
        QmpException e = assertThrows(QmpException.class,
                () -> QmpClient.connect(longPath, T, reactor, callbacks));
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
                CompletableFuture<QmpClient> f = async(() -> QmpClient.connect(p, T, reactor, callbacks));
                s.handshake();
                clients.add(f.get(5, TimeUnit.SECONDS));
            }
            List<CompletableFuture<JsonNode>> results = new ArrayList<>();
            for (QmpClient c : clients) {
                results.add(c.executeAsync("query-name", null, T));
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
        Recorder rec = new Recorder();
        client.addListener(rec);
        CompletableFuture<JsonNode> pending = client.executeAsync("query-status", null, Duration.ofSeconds(60));
        server.readCommand();
        reactor.close();
        assertFalse(reactor.isOpen());
        QmpException e = assertInstanceOf(QmpException.class, failure(pending));
        assertTrue(e.getMessage().contains("reactor"), e.getMessage());
        assertInstanceOf(QmpException.class, rec.closed());
        assertFalse(client.isOpen());
        QmpException c = assertThrows(QmpException.class, () -> QmpClient.connect(socket, T, reactor, callbacks));
        assertTrue(c.getMessage().contains("closed"), c.getMessage());
    }

    @Test
    void unserialisableArgumentsFailWithoutSending() throws Exception {
        try (QmpClient client = connect()) {
            Map<String, Object> args = Map.of("bad", new Object());
            QmpException e = assertThrows(QmpException.class, () -> client.execute("x", args, T));
            assertTrue(e.getMessage().contains("'x'"), e.getMessage());
            CompletableFuture<JsonNode> ok = client.executeAsync("query-status", null, T);
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

    @Test
    void eventWithoutTimestampOrData() throws Exception {
        try (QmpClient client = connect()) {
            CompletableFuture<QmpEvent> f = client.nextEvent("RESET");
            server.sendLine("{\"event\": \"RESET\"}");
            QmpEvent e = f.get(5, TimeUnit.SECONDS);
            assertNull(e.timestamp());
            assertTrue(e.data().isEmpty());
        }
    }
}
