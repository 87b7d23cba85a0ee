package io.jenkins.plugins.qemu.engine.qmp;

import io.jenkins.plugins.qemu.engine.config.UnixSocketPath;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One QMP connection to one QEMU process over its Unix domain socket. {@link #connect} performs the handshake
 * (greeting, {@code qmp_capabilities}); {@link #execute} and {@link #executeAsync} may then be called from any
 * thread, concurrently: each command carries a unique {@code id} and its reply is matched by that id, so replies
 * may arrive in any order and interleaved with events. All socket I/O happens on the shared {@link QmpReactor};
 * listener callbacks and completions of returned futures run on the callback executor given to {@code connect}.
 * When QEMU exits or closes the socket every outstanding command fails at once with a {@link QmpException}, and
 * listeners get {@link QmpListener#onClosed}; nothing waits for a timeout to notice a dead VM. For the common
 * "power down, then wait for SHUTDOWN" sequence use {@link #awaitShutdownOrClose} (SHUTDOWN is remembered, so
 * an event that arrived before the wait started is not lost) or register {@link #nextEvent} before the command.
 */
public final class QmpClient implements AutoCloseable {
    private static final Logger LOGGER = Logger.getLogger(QmpClient.class.getName());
    /** Far above {@code query-qmp-schema} (~200 KB); only a runaway peer gets near it. */
    static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
    private static final long MAX_CONNECT_BACKOFF_MILLIS = 100;

    private final Path socket;
    private final SocketChannel channel;
    private final QmpReactor reactor;
    private final ObjectMapper mapper;
    private final Executor callbackExecutor;
    private final SerialExecutor listenerExecutor;
    private final JsonLineFramer framer = new JsonLineFramer(MAX_MESSAGE_BYTES); // reactor thread only
    private final ConcurrentLinkedQueue<ByteBuffer> outbound = new ConcurrentLinkedQueue<>();
    private final ConcurrentHashMap<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final CopyOnWriteArrayList<ListenerSlot> listeners = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<EventWaiter> eventWaiters = new ConcurrentLinkedQueue<>();
    private final CompletableFuture<JsonNode> greeting = new CompletableFuture<>();
    /** Internal, completed on whatever thread ends the connection; never handed to callers. */
    private final CompletableFuture<Void> shutdownOrClosed = new CompletableFuture<>();
    /** Public; completed via the callback executor so caller stages never run on the reactor thread. */
    private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
    /** Null while open; one atomic reference so "closed" and "why" can never be observed apart. */
    private final AtomicReference<Closed> closed = new AtomicReference<>();
    private volatile boolean shutdownSeen;
    private volatile SelectionKey key; // set once by the reactor thread
    // Set by connect() before the client is returned; volatile because callers may hand it to other threads.
    private volatile QmpVersion version;
    private volatile List<String> capabilities = List.of();

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

    private static final class EventWaiter {
        final String name;
        final CompletableFuture<QmpEvent> future = new CompletableFuture<>();

        EventWaiter(String name) {
            this.name = name;
        }
    }

    private static final class ListenerSlot {
        final QmpListener listener;
        private boolean closedDelivered; // only touched inside the serial listener executor

        ListenerSlot(QmpListener listener) {
            this.listener = listener;
        }

        void event(QmpEvent event) {
            if (closedDelivered) {
                return;
            }
            try {
                listener.onEvent(event);
            } catch (RuntimeException e) {
                LOGGER.log(Level.WARNING, "QMP listener " + listener + " failed on event " + event.name(), e);
            }
        }

        void closed(Throwable cause) {
            if (closedDelivered) {
                return;
            }
            closedDelivered = true;
            try {
                listener.onClosed(cause);
            } catch (RuntimeException e) {
                LOGGER.log(Level.WARNING, "QMP listener " + listener + " failed in onClosed", e);
            }
        }
    }

    private QmpClient(Path socket, SocketChannel channel, QmpReactor reactor, Executor callbackExecutor) {
        this.socket = socket;
        this.channel = channel;
        this.reactor = reactor;
        this.mapper = reactor.mapper();
        this.callbackExecutor = callbackExecutor;
        this.listenerExecutor = new SerialExecutor(callbackExecutor);
    }

    /**
     * Connects to QEMU's QMP socket and completes the handshake. QEMU creates the socket shortly after it starts,
     * so a missing or not-yet-listening socket is retried (with short back-off) until {@code timeout}, which
     * bounds the whole handshake. Listener callbacks and completions of futures returned by this client run on
     * {@code callbackExecutor}; per connection, listener callbacks are serialised and ordered.
     *
     * @throws QmpTimeoutException if the socket did not accept, greet and negotiate within {@code timeout}
     * @throws QmpException if the handshake failed otherwise; the message names the socket
     */
    public static QmpClient connect(Path socket, Duration timeout, QmpReactor reactor, Executor callbackExecutor)
            throws QmpException, InterruptedException {
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(reactor, "reactor");
        Objects.requireNonNull(callbackExecutor, "callbackExecutor");
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
        SocketChannel channel = openWithRetry(socket, timeout, deadline);
        QmpClient client = new QmpClient(socket, channel, reactor, callbackExecutor);
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

    /**
     * Like {@link #connect(Path, Duration, QmpReactor, Executor)} with callbacks on the common fork-join pool;
     * fine for short, non-blocking listeners. Pass a dedicated executor if listeners block.
     */
    public static QmpClient connect(Path socket, Duration timeout, QmpReactor reactor)
            throws QmpException, InterruptedException {
        return connect(socket, timeout, reactor, ForkJoinPool.commonPool());
    }

    /** The socket this client is connected to. */
    public Path socket() {
        return socket;
    }

    /** The QEMU version from the greeting. */
    public QmpVersion qemuVersion() {
        return version;
    }

    /** The capabilities QEMU offered in the greeting (e.g. {@code oob}); none are enabled by this client. */
    public List<String> capabilities() {
        return capabilities;
    }

    /** A copy of the raw greeting message, {@code {"QMP": {...}}}. */
    public JsonNode greeting() {
        return greeting.join().deepCopy();
    }

    /** {@code true} until the connection was closed locally or by QEMU. */
    public boolean isOpen() {
        return closed.get() == null;
    }

    /**
     * Why the connection ended: empty while open and after a local {@link #close()}, else the cause (for QEMU
     * closing the socket, a {@link QmpException} saying so).
     */
    public Optional<Throwable> closeCause() {
        Closed c = closed.get();
        return c == null ? Optional.empty() : Optional.ofNullable(c.cause());
    }

    /** Completes (normally, whatever the cause) once the connection has ended; see {@link #closeCause()}. */
    public CompletableFuture<Void> closeFuture() {
        return closeFuture;
    }

    /** {@code true} once a {@code SHUTDOWN} event has been received on this connection, at any time. */
    public boolean shutdownSeen() {
        return shutdownSeen;
    }

    /**
     * Waits until a {@code SHUTDOWN} event has been received (before or during this call) or the connection has
     * ended, whichever comes first; {@code false} if neither happened within {@code timeout}. Race-free after
     * {@code execute("system_powerdown")} because SHUTDOWN is remembered rather than only broadcast.
     */
    public boolean awaitShutdownOrClose(Duration timeout) throws InterruptedException {
        requirePositive(timeout);
        try {
            shutdownOrClosed.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true; // never completed exceptionally, but "ended" is the honest answer
        }
    }

    /**
     * The next event named {@code name} that arrives after this call. Fails with a {@link QmpException} if the
     * connection ends first; callers bound the wait themselves (e.g. {@code get(timeout)}). Register before
     * issuing the command that triggers the event. Cancelling the future unregisters it.
     */
    public CompletableFuture<QmpEvent> nextEvent(String name) {
        Objects.requireNonNull(name, "name");
        EventWaiter w = new EventWaiter(name);
        eventWaiters.add(w);
        w.future.whenComplete((r, e) -> eventWaiters.remove(w));
        Closed c = closed.get();
        if (c != null && eventWaiters.remove(w)) {
            w.future.completeExceptionally(closedWhileWaiting("event " + name, null, c.cause()));
        }
        return w.future;
    }

    /**
     * Registers a listener for events and the end of the connection. A listener added after the connection has
     * ended immediately gets {@link QmpListener#onClosed}; events that arrived before it was added are not
     * replayed (use {@link #shutdownSeen()} / {@link #nextEvent} for those).
     */
    public void addListener(QmpListener listener) {
        ListenerSlot slot = new ListenerSlot(Objects.requireNonNull(listener, "listener"));
        listeners.add(slot);
        Closed c = closed.get();
        if (c != null) {
            // Harmless if the close broadcast also reaches this slot: delivery is once-only and serialised.
            listenerExecutor.execute(() -> slot.closed(c.cause()));
        }
    }

    /** Unregisters {@code listener}; callbacks already queued for it may still run. */
    public void removeListener(QmpListener listener) {
        listeners.removeIf(s -> s.listener == listener);
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
                throw asQmpException(unwrap(e2), command);
            }
        } catch (InterruptedException e) {
            abandon(p);
            throw e;
        } catch (ExecutionException e) {
            throw asQmpException(e.getCause(), command);
        }
    }

    /**
     * Asynchronous {@link #execute(String, Map, Duration)}: the future completes on the callback executor with
     * the {@code return} value, or exceptionally with a {@link QmpException} / {@link QmpTimeoutException}. The
     * timeout is enforced by the reactor, so nobody has to block. Cancelling the future abandons the command.
     */
    public CompletableFuture<JsonNode> executeAsync(String command, Map<String, ?> arguments, Duration timeout) {
        requirePositive(timeout);
        Pending p;
        try {
            p = send(command, arguments);
        } catch (QmpException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<JsonNode> result = new CompletableFuture<>();
        p.future.whenComplete((r, e) -> handOff(result, r, unwrap(e)));
        result.whenComplete((r, e) -> {
            if (e instanceof CancellationException) {
                abandon(p);
            }
        });
        // The timer captures the id, not the Pending, so a completed command's result is not kept alive by a
        // timer that may sit in the reactor's queue for the rest of a long timeout.
        long id = p.id;
        reactor.schedule(timeout.toNanos(), () -> {
            Pending timedOut = pending.remove(id);
            if (timedOut != null) {
                timedOut.future.completeExceptionally(QmpTimeoutException.forCommand(socket, command, timeout));
            }
        });
        return result;
    }

    /**
     * Closes the connection: outstanding commands fail with a {@link QmpException}, {@code nextEvent} futures fail,
     * listeners get {@code onClosed(null)}. Idempotent and safe from any thread, including listener callbacks.
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

    // ---------------------------------------------------------------- connection setup

    private static SocketChannel openWithRetry(Path socket, Duration timeout, long deadline)
            throws QmpException, InterruptedException {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(socket);
        IOException last = null;
        long backoff = 5;
        while (true) {
            SocketChannel ch = null;
            try {
                ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                // Non-blocking: a blocking connect to a listener with a full backlog would ignore our deadline.
                ch.configureBlocking(false);
                if (ch.connect(address) || finishConnect(ch, deadline)) {
                    return ch;
                }
                last = new IOException("connection still pending");
            } catch (IOException e) {
                last = e;
            }
            closeQuietly(ch);
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                String why = Files.exists(socket) ? "last error: " + last.getMessage() : "the socket does not exist";
                throw new QmpTimeoutException("QMP socket " + socket + " did not accept a connection within "
                        + QmpTimeoutException.format(timeout) + " (" + why + ")", socket, null, timeout, last);
            }
            Thread.sleep(Math.min(backoff, TimeUnit.NANOSECONDS.toMillis(remaining) + 1));
            backoff = Math.min(backoff * 2, MAX_CONNECT_BACKOFF_MILLIS);
        }
    }

    private static boolean finishConnect(SocketChannel ch, long deadline) throws IOException, InterruptedException {
        while (!ch.finishConnect()) {
            if (deadline - System.nanoTime() <= 0) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
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
        JsonNode qmp = g.get("QMP");
        version = QmpVersion.fromGreeting(qmp);
        List<String> caps = new ArrayList<>();
        qmp.path("capabilities").forEach(c -> caps.add(c.asText()));
        capabilities = Collections.unmodifiableList(caps);
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

    // ---------------------------------------------------------------- sending

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

    /** Ends the connection because of an error; the cause is reported to pending commands and listeners. */
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
            onEvent(QmpEvent.fromMessage(msg));
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

    private void onEvent(QmpEvent event) {
        if (QmpEvent.SHUTDOWN.equals(event.name())) {
            shutdownSeen = true;
            shutdownOrClosed.complete(null);
        }
        for (EventWaiter w : eventWaiters) {
            if (w.name.equals(event.name()) && eventWaiters.remove(w)) {
                handOff(w.future, event, null);
            }
        }
        if (!listeners.isEmpty()) {
            listenerExecutor.execute(() -> {
                for (ListenerSlot s : listeners) {
                    s.event(event);
                }
            });
        }
    }

    // ---------------------------------------------------------------- shutdown

    private void terminate(Throwable cause) {
        if (!closed.compareAndSet(null, new Closed(cause))) {
            return;
        }
        closeQuietly(channel);
        reactor.detach(this);
        outbound.clear();
        for (Pending p : pending.values()) {
            if (pending.remove(p.id, p)) {
                p.future.completeExceptionally(closedWhileWaiting(p.command, cause));
            }
        }
        greeting.completeExceptionally(closedWhileWaiting("the QMP greeting", null, cause));
        for (EventWaiter w : eventWaiters) {
            if (eventWaiters.remove(w)) {
                handOff(w.future, null, closedWhileWaiting("event " + w.name, null, cause));
            }
        }
        shutdownOrClosed.complete(null);
        handOff(closeFuture, null, null);
        listenerExecutor.execute(() -> {
            for (ListenerSlot s : listeners) {
                s.closed(cause);
            }
        });
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

    // ---------------------------------------------------------------- helpers

    private <T> void handOff(CompletableFuture<T> future, T value, Throwable error) {
        Runnable complete = () -> {
            if (error != null) {
                future.completeExceptionally(error);
            } else {
                future.complete(value);
            }
        };
        try {
            callbackExecutor.execute(complete);
        } catch (RejectedExecutionException e) {
            // A shut-down executor must not leave callers hanging; completing inline is the lesser evil.
            complete.run();
        }
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

    private static Throwable unwrap(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    private static void requirePositive(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException e) {
                LOGGER.log(Level.FINE, "closing QMP channel", e);
            }
        }
    }

    private static String preview(byte[] buf, int offset, int length) {
        int n = Math.min(length, 200);
        return new String(buf, offset, n, StandardCharsets.UTF_8) + (n < length ? "... (" + length + " bytes)" : "");
    }

    /**
     * Runs tasks one at a time, in submission order, on a shared executor: per-connection ordering (events, then
     * onClosed) without a thread per connection.
     */
    private static final class SerialExecutor implements Executor {
        private final Executor delegate;
        private final ArrayDeque<Runnable> queue = new ArrayDeque<>();
        private boolean scheduled;

        SerialExecutor(Executor delegate) {
            this.delegate = delegate;
        }

        @Override
        public void execute(Runnable task) {
            synchronized (queue) {
                queue.add(task);
                if (scheduled) {
                    return;
                }
                scheduled = true;
            }
            try {
                delegate.execute(this::drain);
            } catch (RejectedExecutionException e) {
                drain();
            }
        }

        private void drain() {
            while (true) {
                Runnable next;
                synchronized (queue) {
                    next = queue.poll();
                    if (next == null) {
                        scheduled = false;
                        return;
                    }
                }
                try {
                    next.run();
                } catch (RuntimeException e) {
                    LOGGER.log(Level.WARNING, "QMP callback failed", e);
                }
            }
        }
    }
}
