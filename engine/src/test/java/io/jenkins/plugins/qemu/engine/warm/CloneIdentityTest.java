package io.jenkins.plugins.qemu.engine.warm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host side of the clone identity exchange, against a stand-in for the guest's service. */
class CloneIdentityTest {
    @TempDir
    Path dir;

    private static Map<String, String> parse(String message) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : message.split("\n")) {
            if (line.equals("end")) {
                break;
            }
            if (line.equals("%end")) {
                continue;
            }
            String[] kv = line.split(" ", 2);
            m.put(kv[0], kv[1]);
        }
        return m;
    }

    @Test
    void theMessageCarriesEveryValueAsOneBase64WordPerLine() throws Exception {
        SshKeyPair host = SshKeyPair.generate("root@x");
        CloneIdentity id = CloneIdentity.of("qa-x", "jenkins", "ssh-ed25519 AAAA test", host);
        String msg = id.message(Instant.ofEpochSecond(1700000000L, 5));
        assertTrue(msg.endsWith("\nend\n"));
        Map<String, String> m = parse(msg);
        Base64.Decoder d = Base64.getDecoder();
        assertEquals("qa-x", new String(d.decode(m.get("hostname")), StandardCharsets.UTF_8));
        assertEquals("jenkins", new String(d.decode(m.get("user")), StandardCharsets.UTF_8));
        assertEquals("ssh-ed25519 AAAA test\n", new String(d.decode(m.get("authorized_key")), StandardCharsets.UTF_8));
        assertEquals("1700000000.000000005", new String(d.decode(m.get("time")), StandardCharsets.UTF_8));
        assertEquals(64, d.decode(m.get("entropy")).length);
        assertTrue(new String(d.decode(m.get("machine_id")), StandardCharsets.UTF_8).matches("[0-9a-f]{32}\n"));
        assertEquals(host.privateKeyOpenSsh(), new String(d.decode(m.get("host_key")), StandardCharsets.UTF_8));
        for (String line : msg.split("\n")) {
            assertTrue(line.matches("[a-z_.]+ [A-Za-z0-9+/=]+|%[a-z_.]+ [A-Za-z0-9+/=\\-_.:@\\\\]+|%end|end"), line);
        }
        // The current service stops at %end and never reads the base64 part, and each part ends with
        // the clock, so the guest sets it right after reading it (it reads a byte per system call).
        List<String> lines = List.of(msg.split("\n"));
        int split = lines.indexOf("%end");
        assertTrue(lines.subList(0, split).stream().allMatch(l -> l.startsWith("%")), msg);
        assertTrue(lines.subList(split + 1, lines.size()).stream().noneMatch(l -> l.startsWith("%")), msg);
        assertTrue(lines.get(split - 1).startsWith("%time "), msg);
        assertTrue(lines.get(lines.size() - 2).startsWith("time "), msg);
        assertEquals("qa-x", m.get("%hostname"));
        assertEquals("ssh-ed25519\\x20AAAA\\x20test\\x0a", m.get("%authorized_key"));
        // Two clones never get the same entropy.
        assertNotEquals(m.get("entropy"), parse(CloneIdentity.of("qa-x", "jenkins", "k", host).message(Instant.now())).get("entropy"));
    }

    /** What the guest's service does with a "%key" line: bash's read -r, then the builtin printf '%b'. */
    @Test
    void escapedValuesComeBackByteForByteThroughBashReadAndPrintf() throws Exception {
        byte[] all = new byte[256 * 2];
        new java.security.SecureRandom().nextBytes(all);
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i; // every byte value once, NUL and backslash included, then random ones
        }
        for (byte[] value : new byte[][] {all, " lead and trail ".getBytes(StandardCharsets.US_ASCII), "\\x41%s\\".getBytes(StandardCharsets.US_ASCII)}) {
            Process p = new ProcessBuilder("bash", "-c", "IFS=' ' read -r key val; printf '%b' \"$val\"").start();
            p.getOutputStream().write(("%k " + CloneIdentity.escaped(value) + "\n").getBytes(StandardCharsets.US_ASCII));
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            assertEquals(0, p.waitFor());
            assertEquals(java.util.HexFormat.of().formatHex(value), java.util.HexFormat.of().formatHex(out));
        }
    }

    private CompletableFuture<String> guest(Path socket, String answer) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        return CompletableFuture.supplyAsync(() -> {
            try (server; SocketChannel c = server.accept()) {
                StringBuilder got = new StringBuilder();
                ByteBuffer b = ByteBuffer.allocate(4096);
                while (!got.toString().endsWith("\nend\n")) {
                    b.clear();
                    if (c.read(b) < 0) {
                        break;
                    }
                    got.append(new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII));
                }
                if (answer != null) {
                    c.write(ByteBuffer.wrap(answer.getBytes(StandardCharsets.US_ASCII)));
                    Thread.sleep(200);
                }
                return got.toString();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    @Test
    void deliveryWaitsForTheGuestsOk() throws Exception {
        Path socket = dir.resolve("ident.sock");
        CompletableFuture<String> g = guest(socket, "ok qa-x\n");
        CloneIdentity.of("qa-x", "jenkins", "k", SshKeyPair.generate("h")).deliver(socket, Duration.ofSeconds(10));
        assertTrue(g.get().contains("hostname " + Base64.getEncoder().encodeToString("qa-x".getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void aGuestErrorIsQuoted() throws Exception {
        Path socket = dir.resolve("ident.sock");
        guest(socket, "error sshd did not come back\n");
        IOException e = assertThrows(IOException.class,
                () -> CloneIdentity.of("qa-x", "jenkins", "k", SshKeyPair.generate("h")).deliver(socket, Duration.ofSeconds(10)));
        assertTrue(e.getMessage().contains("'error sshd did not come back'"), e.getMessage());
    }

    @Test
    void aSilentGuestTimesOut() throws Exception {
        Path socket = dir.resolve("ident.sock");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        try (server) {
            IOException e = assertThrows(IOException.class,
                    () -> CloneIdentity.of("qa-x", "jenkins", "k", SshKeyPair.generate("h")).deliver(socket, Duration.ofMillis(500)));
            assertTrue(e.getMessage().contains("did not answer within"), e.getMessage());
        }
    }
}
