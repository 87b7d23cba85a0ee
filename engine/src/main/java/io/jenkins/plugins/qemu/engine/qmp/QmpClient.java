package io.jenkins.plugins.qemu.engine.qmp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jenkins.plugins.qemu.engine.config.UnixSocketPath;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One QMP connection to one QEMU process over its Unix domain socket. {@link #connect} performs the handshake
 * (greeting, {@code qmp_capabilities}); {@link #execute} may then be called from any thread, concurrently: each
 * command carries a unique {@code id} and its reply is matched by that id, so replies may arrive in any order and
 * interleaved with events, which are skipped (the engine watches QEMU's exit on the process, not on SHUTDOWN).
 * All socket I/O happens on the shared {@link QmpReactor}. When QEMU exits or closes the socket every outstanding
 * command fails at once with a {@link QmpException}; nothing waits for a timeout to notice a dead VM.
 */
public final class QmpClient implements AutoCloseable {
    private static final Logger LOGGER = Logger.getLogger(QmpClient.class.getName());
    /** Far above {@code query-qmp-schema} (~200 KB); only a runaway peer gets near it. */
    static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

    private final Path socket;
    private final SocketChannel channel;
    private final QmpReactor reactor;
    private final ObjectMapper mapper;
    private final JsonLineFramer framer = new JsonLineFramer(MAX_MESSAGE_BYTES); // reactor thread only
    private final ConcurrentLinkedQueue<ByteBuffer> outbound = new ConcurrentLinkedQueue<>();
    private final ConcurrentHashMap<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final CompletableFuture<JsonNode> greeting = new CompletableFuture<>();
    /** Null while open; one atomic reference so "closed" and "why" can never be observed apart. */
    private final AtomicReference<Closed> closed = new AtomicReference<>();
    private volatile SelectionKey key; // set once by the reactor thread

    private record Closed(Throwable cause) {
    }

    private static final class Pending {
        final long id;
        final String command;
        final CompletableFuture<JsonNode> future = new CompletableFuture<>();

        Pending(long id, String command) {
            this.id = id;
            this.command = command;
        }
    }

    private QmpClient(Path socket, SocketChannel channel, QmpReactor reactor) {
        this.socket = socket;
        this.channel = channel;
        this.reactor = reactor;
        this.mapper = reactor.mapper();
    }

    /**
     * Connects to QEMU's QMP socket and completes the handshake. QEMU creates the socket shortly after it starts,
     * so a missing or not-yet-listening socket is retried (with short back-off) until {@code timeout}, which
     * bounds the whole handshake.
     *
     * @throws QmpTimeoutException if the socket did not accept, greet and negotiate within {@code timeout}
     * @throws QmpException if the handshake failed otherwise; the message names the socket
     */
    public static QmpClient connect(Path socket, Duration timeout, QmpReactor reactor)
            throws QmpException, InterruptedException {
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(reactor, "reactor");
        requirePositive(timeout);
        int pathBytes = UnixSocketPath.bytes(socket);
        if (pathBytes > UnixSocketPath.MAX_BYTES) {
            throw new QmpException("QMP socket path " + socket + " is " + pathBytes + " bytes; AF_UNIX allows at most "
                    + UnixSocketPath.MAX_BYTES, socket, null, null);
        }
        if (!reactor.isOpen()) {
            throw new QmpException("cannot connect to QMP socket " + socket + ": " + reactor + " is closed", socket,
                    null, null);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        SocketChannel channel = QmpSocket.open(socket, timeout, deadline);
        QmpClient client = new QmpClient(socket, channel, reactor);
        if (!reactor.attach(client, channel)) {
            client.close();
            throw new QmpException("cannot connect to QMP socket " + socket + ": " + reactor + " is closed", socket,
                    null, null);
        }
        try {
            client.handshake(deadline, timeout);
            return client;
        } catch (QmpException | InterruptedException | RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /** The socket this client is connected to. */
    public Path socket() {
        return socket;
    }

    /** {@code true} until the connection was closed locally or by QEMU. */
    public boolean isOpen() {
        return closed.get() == null;
    }

    /** {@link #execute(String, Map, Duration)} without arguments. */
    public JsonNode execute(String command, Duration timeout) throws QmpException, InterruptedException {
        return execute(command, null, timeout);
    }

    /**
     * Runs a QMP command and returns its {@code return} value (often an empty object). Safe to call from any
     * thread except the reactor's, concurrently with other commands.
     *
     * @param arguments the command's {@code arguments} object, serialised with Jackson; null for none
     * @throws QmpException for an error reply (with {@link QmpException#errorClass()}/{@code errorDesc()}) or
     *     when the connection ends while waiting
     * @throws QmpTimeoutException if no reply arrived within {@code timeout}; a late reply is discarded
     */
    public JsonNode execute(String command, Map<String, ?> arguments, Duration timeout)
            throws QmpException, InterruptedException {
        requirePositive(timeout);
        if (reactor.inReactorThread()) {
            throw new IllegalStateException("blocking QMP call '" + command + "' on the reactor thread would deadlock");
        }
        Pending p = send(command, arguments);
        try {
            return p.future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            QmpTimeoutException te = QmpTimeoutException.forCommand(socket, command, timeout);
            pending.remove(p.id, p);
            if (p.future.completeExceptionally(te)) {
                throw te;
            }
            // The reply (or the close) won the race by a hair; the future is done, so join() does not block.
            try {
                return p.future.join();
            } catch (CompletionException | CancellationException e2) {
                throw asQmpException(e2 instanceof CompletionException && e2.getCause() != null ? e2.getCause() : e2, command);
            }
        } catch (InterruptedException e) {
            abandon(p);
            throw e;
        } catch (ExecutionException e) {
            throw asQmpException(e.getCause(), command);
        }
    }

    /**
     * Closes the connection: outstanding commands fail with a {@link QmpException}. Idempotent and safe from any
     * thread.
     * Does not stop QEMU; send {@code quit} first for that.
     */
    @Override
    public void close() {
        terminate(null);
    }

    @Override
    public String toString() {
        return "QmpClient[" + socket + (isOpen() ? "" : ", closed") + "]";
    }

    private void handshake(long deadline, Duration timeout) throws QmpException, InterruptedException {
        JsonNode g;
        try {
            g = greeting.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new QmpTimeoutException("connected to QMP socket " + socket + " but QEMU sent no greeting within "
                    + QmpTimeoutException.format(timeout)
                    + " (another client may hold the monitor: QEMU serves one QMP client per socket)", socket, null,
                    timeout, null);
        } catch (ExecutionException e) {
            throw asQmpException(e.getCause(), null);
        }
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
            throw new QmpTimeoutException("QMP handshake on " + socket + " did not complete within "
                    + QmpTimeoutException.format(timeout), socket, "qmp_capabilities", timeout, null);
        }
        try {
            execute("qmp_capabilities", null, Duration.ofNanos(remaining));
        } catch (QmpTimeoutException e) {
            throw new QmpTimeoutException("QMP handshake on " + socket + " did not complete within "
                    + QmpTimeoutException.format(timeout) + " (no reply to qmp_capabilities)", socket,
                    "qmp_capabilities", timeout, e);
        }
    }

    private Pending send(String command, Map<String, ?> arguments) throws QmpException {
        Objects.requireNonNull(command, "command");
        Pending p = new Pending(ids.incrementAndGet(), command);
        byte[] json;
        try {
            ObjectNode msg = mapper.createObjectNode();
            msg.put("execute", command);
            if (arguments != null) {
                msg.set("arguments", mapper.valueToTree(arguments));
            }
            msg.put("id", p.id);
            json = mapper.writeValueAsBytes(msg);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new QmpException("cannot serialise arguments of QMP command '" + command + "' for " + socket + ": "
                    + e.getMessage(), socket, command, e);
        }
        ByteBuffer frame = ByteBuffer.allocate(json.length + 1).put(json).put((byte) '\n').flip();
        pending.put(p.id, p);
        // Put-then-check pairs with terminate()'s set-then-drain: either it fails this command or we see it closed.
        Closed c = closed.get();
        if (c != null) {
            pending.remove(p.id, p);
            throw closedWhileWaiting(command, c.cause());
        }
        // One element per command: concurrent senders can never interleave bytes of their messages.
        outbound.add(frame);
        reactor.submit(this::flush);
        return p;
    }

    private void abandon(Pending p) {
        if (pending.remove(p.id, p)) {
            p.future.cancel(false);
        }
    }

    // ---------------------------------------------------------------- reactor thread

    void registered(SelectionKey selectionKey) {
        this.key = selectionKey;
        flush(); // commands queued before registration finished
    }

    void flush() {
        SelectionKey k = key;
        if (k == null || !isOpen()) {
            return;
        }
        try {
            ByteBuffer b;
            while ((b = outbound.peek()) != null) {
                channel.write(b);
                if (b.hasRemaining()) {
                    k.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                    return;
                }
                outbound.poll();
            }
            k.interestOps(SelectionKey.OP_READ);
        } catch (IOException | CancelledKeyException e) {
            fail(new QmpException("writing to QMP socket " + socket + " failed: " + e, socket, null, e));
        }
    }

    void received(ByteBuffer data) throws Exception {
        framer.feed(data, this::onMessage);
    }

    void endOfStream() {
        if (framer.pendingBytes() > 0) {
            LOGGER.fine(() -> "QMP socket " + socket + " ended inside a message; dropping " + framer.pendingBytes()
                    + " bytes");
        }
        terminate(new QmpException("QEMU closed the QMP connection on " + socket + " (end of file)", socket, null,
                null));
    }

    /** Ends the connection because of an error; the cause is reported to pending commands. */
    void fail(Throwable t) {
        terminate(t instanceof QmpException ? t
                : new QmpException("QMP connection on " + socket + " failed: " + t, socket, null, t));
    }

    private void onMessage(byte[] buf, int offset, int length) throws QmpException {
        JsonNode msg;
        try {
            msg = mapper.readTree(buf, offset, length);
        } catch (IOException e) {
            // A reply we cannot parse will surface as that command's timeout; the stream stays in sync at '\n'.
            LOGGER.warning(() -> "ignoring malformed QMP message on " + socket + ": " + preview(buf, offset, length));
            return;
        }
        if (msg == null || !msg.isObject()) {
            LOGGER.warning(() -> "ignoring non-object QMP message on " + socket + ": " + preview(buf, offset, length));
            return;
        }
        if (!greeting.isDone()) {
            if (msg.has("QMP")) {
                greeting.complete(msg);
                return;
            }
            throw new QmpException("expected a QMP greeting on " + socket + " but got: " + preview(buf, offset, length),
                    socket, null, null);
        }
        if (msg.has("event")) {
            // No caller of the engine waits for an event: QEMU's exit is watched on the process itself.
            LOGGER.finest(() -> "QMP event on " + socket + ": " + msg.path("event").asText());
        } else if (msg.has("return") || msg.has("error")) {
            onReply(msg);
        } else {
            LOGGER.fine(() -> "ignoring unexpected QMP message on " + socket + ": " + preview(buf, offset, length));
        }
    }

    private void onReply(JsonNode msg) {
        JsonNode id = msg.get("id");
        if (id == null || !id.canConvertToLong()) {
            // QEMU omits the id only when it could not parse the request, which this client never sends.
            LOGGER.warning(() -> "ignoring QMP reply without a usable id on " + socket + ": " + msg);
            return;
        }
        Pending p = pending.remove(id.asLong());
        if (p == null) {
            LOGGER.fine(() -> "dropping QMP reply to abandoned or timed-out command on " + socket + ": id " + id);
            return;
        }
        JsonNode error = msg.get("error");
        if (error != null) {
            p.future.completeExceptionally(QmpException.errorReply(socket, p.command, error.path("class").asText(),
                    error.path("desc").asText()));
        } else {
            p.future.complete(msg.get("return"));
        }
    }

    private void terminate(Throwable cause) {
        if (!closed.compareAndSet(null, new Closed(cause))) {
            return;
        }
        QmpSocket.closeQuietly(channel);
        reactor.detach(this);
        outbound.clear();
        for (Pending p : pending.values()) {
            if (pending.remove(p.id, p)) {
                p.future.completeExceptionally(closedWhileWaiting(p.command, cause));
            }
        }
        greeting.completeExceptionally(closedWhileWaiting("the QMP greeting", null, cause));
        if (cause != null) {
            LOGGER.log(Level.FINE, "QMP connection on " + socket + " ended", cause);
        }
    }

    private QmpException closedWhileWaiting(String command, Throwable cause) {
        return closedWhileWaiting("'" + command + "'", command, cause);
    }

    /** {@code what} is how the message names the awaited thing; {@code command} is null for non-commands. */
    private QmpException closedWhileWaiting(String what, String command, Throwable cause) {
        String why = cause == null ? "closed locally"
                : cause instanceof QmpException ? cause.getMessage() : cause.toString();
        return new QmpException("QMP connection closed while waiting for " + what + " on " + socket + " (" + why + ")",
                socket, command, cause);
    }

    private QmpException asQmpException(Throwable t, String command) {
        if (t instanceof QmpException qe) {
            return qe.rethrowable();
        }
        if (t instanceof CancellationException) {
            return new QmpException("QMP command '" + command + "' on " + socket + " was cancelled", socket, command, t);
        }
        return new QmpException("QMP command '" + command + "' on " + socket + " failed: " + t, socket, command, t);
    }

    private static void requirePositive(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
    }

    private static String preview(byte[] buf, int offset, int length) {
        int n = Math.min(length, 200);
        return new String(buf, offset, n, StandardCharsets.UTF_8) + (n < length ? "... (" + length + " bytes)" : "");
    }
}
