package io.jenkins.plugins.qemu.engine.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A scripted QMP peer on a real AF_UNIX socket: the test thread plays QEMU's side step by step, so each test
 * controls exactly how bytes are chunked and when replies, events and EOF arrive.
 */
final class FakeQmpServer implements AutoCloseable {
    static final String GREETING = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7},"
            + " \"package\": \"Debian 1:7.2+dfsg-7+deb12u7\"}, \"capabilities\": [\"oob\"]}}";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    final Path path;
    private final ServerSocketChannel server;
    private SocketChannel conn;
    private BufferedReader reader;

    FakeQmpServer(Path path) throws IOException {
        this.path = path;
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        server.configureBlocking(false);
    }

    /** Accepts the client's connection, polling so a broken test fails instead of hanging. */
    void accept(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while ((conn = server.accept()) == null) {
            if (System.nanoTime() > deadline) {
                throw new IOException("no client connected to " + path + " within " + timeout);
            }
            Thread.sleep(2);
        }
        conn.configureBlocking(true);
        reader = new BufferedReader(new InputStreamReader(Channels.newInputStream(conn), StandardCharsets.UTF_8));
    }

    /** Accept, greet, expect {@code qmp_capabilities} and acknowledge it: the server half of connect(). */
    void handshake() throws IOException, InterruptedException {
        accept(Duration.ofSeconds(5));
        sendLine(GREETING);
        JsonNode caps = readCommand();
        assertEquals("qmp_capabilities", caps.path("execute").asText());
        reply(caps, "{}");
    }

    void send(String raw) throws IOException {
        send(raw.getBytes(StandardCharsets.UTF_8));
    }

    void send(byte[] raw) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(raw);
        while (b.hasRemaining()) {
            conn.write(b);
        }
    }

    /** QEMU's monitor ends every message with CRLF, so the fake does too. */
    void sendLine(String json) throws IOException {
        send(json + "\r\n");
    }

    /** Writes {@code raw} in {@code chunk}-byte pieces with pauses, so the client sees many partial reads. */
    void sendInPieces(String raw, int chunk) throws IOException, InterruptedException {
        byte[] bytes = raw.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i += chunk) {
            send(java.util.Arrays.copyOfRange(bytes, i, Math.min(bytes.length, i + chunk)));
            if ((i / chunk) % 8 == 0) {
                Thread.sleep(1);
            }
        }
    }

    JsonNode readCommand() throws IOException {
        String line = reader.readLine();
        assertNotNull(line, "client closed the connection");
        return MAPPER.readTree(line);
    }

    static String replyJson(JsonNode cmd, String returnJson) {
        return "{\"return\": " + returnJson + ", \"id\": " + cmd.get("id") + "}";
    }

    void reply(JsonNode cmd, String returnJson) throws IOException {
        sendLine(replyJson(cmd, returnJson));
    }

    void error(JsonNode cmd, String errorClass, String desc) throws IOException {
        sendLine("{\"id\": " + cmd.get("id") + ", \"error\": {\"class\": \"" + errorClass + "\", \"desc\": \"" + desc
                + "\"}}");
    }

    static String eventJson(String name, String data) {
        return "{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 123456}, \"event\": \"" + name + "\""
                + (data == null ? "" : ", \"data\": " + data) + "}";
    }

    void event(String name, String data) throws IOException {
        sendLine(eventJson(name, data));
    }

    /** Simulates QEMU exiting: the client must see end-of-file. */
    void closeConnection() throws IOException {
        if (conn != null) {
            conn.close();
        }
    }

    @Override
    public void close() throws IOException {
        closeConnection();
        server.close();
        Files.deleteIfExists(path);
    }
}
