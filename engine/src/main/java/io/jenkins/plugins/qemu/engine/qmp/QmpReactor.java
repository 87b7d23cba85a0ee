package io.jenkins.plugins.qemu.engine.qmp;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The single I/O thread behind all {@link QmpClient} connections: one {@link Selector} loop on one daemon thread
 * reads, frames and parses every QMP socket, performs all writes, and fires command timeouts, so a controller
 * with fifty VMs has one QMP thread rather than fifty. It never runs user code: replies and events are handed
 * to each client's callback executor. Create one per engine (constructor injection, no static instance), share
 * it between clients, and close it last; closing it closes every client still attached.
 */
public final class QmpReactor implements AutoCloseable {
    private static final Logger LOGGER = Logger.getLogger(QmpReactor.class.getName());
    private static final int READ_BUFFER_BYTES = 64 * 1024;
    /** Reads per readiness event, so one chatty VM cannot starve the others. */
    private static final int MAX_READS_PER_WAKEUP = 16;

    private final Selector selector;
    private final Thread thread;
    private final ObjectMapper mapper = new ObjectMapper();
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Set<QmpClient> clients = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    // Reactor-thread only:
    private final ByteBuffer readBuffer = ByteBuffer.allocate(READ_BUFFER_BYTES);

    /** Starts a reactor whose daemon thread is called {@code qmp-reactor}. */
    public QmpReactor() throws IOException {
        this("qmp-reactor");
    }

    /** Starts a reactor whose daemon thread has the given name. */
    public QmpReactor(String threadName) throws IOException {
        this.selector = Selector.open();
        this.thread = new Thread(this::loop, threadName);
        thread.setDaemon(true);
        thread.start();
    }

    /** {@code false} once {@link #close()} was called or the reactor thread died. */
    public boolean isOpen() {
        return !closed.get() && thread.isAlive();
    }

    /**
     * Stops the reactor thread and closes every client still attached (their pending commands fail, their
     * listeners get {@code onClosed}). Idempotent; waits briefly for the thread unless called on it.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        selector.wakeup();
        if (Thread.currentThread() != thread) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "QmpReactor[" + thread.getName() + ", clients=" + clients.size() + (closed.get() ? ", closed" : "")
                + "]";
    }

    ObjectMapper mapper() {
        return mapper;
    }

    boolean inReactorThread() {
        return Thread.currentThread() == thread;
    }

    /**
     * Attaches a connected, non-blocking channel. Returns false if the reactor is closed; the add-then-check
     * order guarantees that either this method or the shutdown sweep in {@link #loop()} sees the client.
     */
    boolean attach(QmpClient client, SocketChannel channel) {
        clients.add(client);
        if (closed.get()) {
            clients.remove(client);
            return false;
        }
        submit(() -> {
            try {
                client.registered(channel.register(selector, SelectionKey.OP_READ, client));
            } catch (IOException | RuntimeException e) {
                client.fail(e);
            }
        });
        return true;
    }

    void detach(QmpClient client) {
        clients.remove(client);
        // Lets the selector drop the closed channel's key so its file descriptor is actually released.
        selector.wakeup();
    }

    /** Runs {@code task} on the reactor thread (inline if already there). */
    void submit(Runnable task) {
        if (inReactorThread()) {
            task.run();
            return;
        }
        tasks.add(task);
        selector.wakeup();
    }

    private void loop() {
        Throwable death = null;
        try {
            while (!closed.get()) {
                runTasks();
                if (!tasks.isEmpty()) {
                    selector.selectNow();
                } else {
                    selector.select();
                }
                Iterator<SelectionKey> it = selector.selectedKeys().iterator();
                while (it.hasNext()) {
                    SelectionKey key = it.next();
                    it.remove();
                    handle(key);
                }
            }
        } catch (ClosedSelectorException e) {
            // close() raced the loop; fall through to the sweep
        } catch (Throwable t) {
            death = t;
            LOGGER.log(Level.SEVERE, "QMP reactor " + thread.getName() + " died", t);
        } finally {
            closed.set(true);
            QmpException reason = new QmpException(death == null ? "QMP reactor " + thread.getName() + " was closed"
                    : "QMP reactor " + thread.getName() + " failed: " + death, null, null, death);
            for (QmpClient c : clients) {
                c.fail(reason);
            }
            clients.clear();
            tasks.clear();
            try {
                selector.close();
            } catch (IOException e) {
                LOGGER.log(Level.FINE, "closing selector", e);
            }
        }
    }

    private void runTasks() {
        Runnable r;
        while ((r = tasks.poll()) != null) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOGGER.log(Level.WARNING, "QMP reactor task failed", e);
            }
        }
    }

    private void handle(SelectionKey key) {
        QmpClient client = (QmpClient) key.attachment();
        try {
            if (!key.isValid()) {
                return;
            }
            if (key.isReadable()) {
                read(client, (SocketChannel) key.channel());
            }
            if (key.isValid() && key.isWritable()) {
                client.flush();
            }
        } catch (CancelledKeyException e) {
            // closed concurrently by another thread; its close path already did the bookkeeping
        } catch (Exception e) {
            client.fail(e);
        }
    }

    private void read(QmpClient client, SocketChannel channel) throws Exception {
        for (int i = 0; i < MAX_READS_PER_WAKEUP; i++) {
            readBuffer.clear();
            int n = channel.read(readBuffer);
            if (n > 0) {
                readBuffer.flip();
                client.received(readBuffer);
            }
            if (n < 0) {
                client.endOfStream();
                return;
            }
            if (n == 0 || readBuffer.limit() < readBuffer.capacity() || !client.isOpen()) {
                return; // drained (a short read means the kernel buffer is empty)
            }
        }
    }
}
