package io.jenkins.plugins.qemu.engine.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A one-connection HTTP server on 127.0.0.1 that announces more bytes in Content-Length than it
 * sends and then hangs up (a truncated download) or keeps the connection open without sending
 * more (a stalled one). A raw socket, because com.sun.net.httpserver cannot be made to do either.
 */
final class TruncatingServer implements AutoCloseable {
    private final ServerSocket socket;
    private final Thread thread;

    private final boolean hang;

    TruncatingServer(Path file, long missing) throws IOException {
        this(file, missing, false);
    }

    TruncatingServer(Path file, long missing, boolean hang) throws IOException {
        this.hang = hang;
        socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        thread = new Thread(() -> serve(file, missing), "truncating-server");
        thread.setDaemon(true);
        thread.start();
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/truncated.qcow2.gz");
    }

    private void serve(Path file, long missing) {
        try (Socket s = socket.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            // Read the request head up to the blank line.
            int state = 0;
            while (state < 4) {
                int c = in.read();
                if (c < 0) {
                    return;
                }
                state = (c == '\r' && state % 2 == 0) || (c == '\n' && state % 2 == 1) ? state + 1 : 0;
            }
            long size = Files.size(file);
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + (size + missing)
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            Files.copy(file, out);
            out.flush();
            if (hang) {
                in.read(); // until the client gives up and closes
            }
        } catch (IOException closed) {
            // The test is over or the client gave up.
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
