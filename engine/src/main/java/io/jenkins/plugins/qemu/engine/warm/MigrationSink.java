package io.jenkins.plugins.qemu.engine.warm;

import com.fasterxml.jackson.databind.JsonNode;
import io.jenkins.plugins.qemu.engine.qmp.QmpClient;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * Receives QEMU's outgoing migration stream into a file: we listen on a Unix socket in the VM's
 * owner-only folder and QEMU connects to it ({@code migrate unix:...}). This avoids QEMU's
 * {@code exec:} transport, which runs a shell (and which {@code -sandbox spawn=deny} forbids),
 * and fd passing, which the JDK's Unix sockets cannot do.
 */
final class MigrationSink {
    private MigrationSink() {}

    static void receive(QmpClient qmp, Path socket, Path stateFile, Instant deadline) throws IOException, InterruptedException {
        long bytes = 0;
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                Selector selector = Selector.open()) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
            qmp.execute("migrate", Map.of("uri", "unix:" + socket), Duration.ofSeconds(10));
            SocketChannel ch = null;
            while (ch == null) {
                waitFor(selector, deadline, "QEMU to connect its migration stream");
                ch = server.accept();
            }
            try (SocketChannel in = ch;
                    FileChannel out = FileChannel.open(stateFile, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
                in.configureBlocking(false);
                selector.keys().forEach(SelectionKey::cancel);
                selector.selectNow();
                in.register(selector, SelectionKey.OP_READ);
                ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
                while (true) {
                    int n = in.read(buf);
                    if (n < 0) {
                        break;
                    }
                    if (n == 0 && buf.position() == 0) {
                        waitFor(selector, deadline, "the migration stream (" + bytes + " bytes so far)");
                        continue;
                    }
                    if (n == 0 || !buf.hasRemaining()) {
                        bytes += drain(buf, out);
                    }
                }
                bytes += drain(buf, out);
            }
        } finally {
            Files.deleteIfExists(socket);
        }
        awaitCompleted(qmp, deadline, bytes);
    }

    private static long drain(ByteBuffer buf, FileChannel out) throws IOException {
        buf.flip();
        long n = buf.remaining();
        while (buf.hasRemaining()) {
            out.write(buf);
        }
        buf.clear();
        return n;
    }

    private static void waitFor(Selector selector, Instant deadline, String what) throws IOException, InterruptedException {
        long left = Duration.between(Instant.now(), deadline).toMillis();
        if (left <= 0) {
            throw new IOException("timed out waiting for " + what);
        }
        if (Thread.interrupted()) {
            throw new InterruptedException("cancelled while waiting for " + what);
        }
        selector.select(Math.min(left, 500));
        selector.selectedKeys().clear();
    }

    /** The stream ended; QEMU must also say the migration completed, or the file is worthless. */
    private static void awaitCompleted(QmpClient qmp, Instant deadline, long bytes) throws IOException, InterruptedException {
        while (true) {
            JsonNode m = qmp.execute("query-migrate", null, Duration.ofSeconds(10));
            String status = m.path("status").asText();
            switch (status) {
                case "completed":
                    return;
                case "failed":
                case "cancelled":
                    throw new IOException("saving the VM state failed after " + bytes + " bytes: " + m.path("error-desc").asText(status));
                default:
                    if (!Instant.now().isBefore(deadline)) {
                        throw new IOException("saving the VM state did not complete (status " + status + ", " + bytes + " bytes)");
                    }
                    Thread.sleep(20);
            }
        }
    }
}
