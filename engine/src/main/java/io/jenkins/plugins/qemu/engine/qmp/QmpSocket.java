package io.jenkins.plugins.qemu.engine.qmp;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Opening the Unix socket of a QMP monitor. QEMU creates the socket shortly after it starts, so a
 * missing or not-yet-listening socket is retried with a short back-off until the deadline; the
 * channel is non-blocking, because a blocking connect to a full backlog would ignore the deadline.
 */
final class QmpSocket {
    private static final Logger LOGGER = Logger.getLogger(QmpSocket.class.getName());
    private static final long MAX_CONNECT_BACKOFF_MILLIS = 100;

    private QmpSocket() {}

    /** A connected, non-blocking channel; {@code deadline} is a {@link System#nanoTime()} value. */
    static SocketChannel open(Path socket, Duration timeout, long deadline)
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

    static void closeQuietly(SocketChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException e) {
                LOGGER.log(Level.FINE, "closing QMP channel", e);
            }
        }
    }
}
