package io.jenkins.plugins.qemu.engine.warm;

import io.jenkins.plugins.qemu.engine.seed.FwCfgIdentity;
import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The identity of a VM restored from a warm snapshot. Every clone of one snapshot starts with the
 * same RAM, so it is given its own host name, host key, authorized key, the current time and
 * fresh host entropy and a machine id of its own after the restore, over a virtio-serial port whose host end is a Unix socket
 * of QEMU's in the VM's owner-only state directory: nothing on the network can reach it. The
 * guest's {@code qemu-agents-identity} service (images/guest/qemu-agents-identity) reads lines of
 * {@code key base64(value)} and {@code %key escaped(value)} up to {@code end} (the first for
 * services of images built before the second existed, the second decodes without a fork), applies
 * them, makes sure sshd serves the new host key and answers {@code ok <hostname>}.
 */
public final class CloneIdentity {

    private static final SecureRandom RANDOM = new SecureRandom();
    private final Map<String, String> values;
    private final String hostname;

    private CloneIdentity(Map<String, String> values, String hostname) {
        this.values = values;
        this.hostname = hostname;
    }

    public static CloneIdentity of(String hostname, String user, String authorizedKey, SshKeyPair hostKey) {
        byte[] entropy = new byte[64];
        RANDOM.nextBytes(entropy);
        byte[] machineId = new byte[16];
        RANDOM.nextBytes(machineId);
        Map<String, String> v = FwCfgIdentity.items(hostname, user, authorizedKey, hostKey);
        v.put("entropy", new String(entropy, StandardCharsets.ISO_8859_1));
        v.put("machine_id", HexFormat.of().formatHex(machineId) + "\n");
        return new CloneIdentity(v, hostname);
    }

    /** The message as the guest reads it; the time is taken at sending, not at creation. */
    String message(Instant now) {
        StringBuilder b = new StringBuilder();
        Base64.Encoder enc = Base64.getEncoder();
        Map<String, String> all = new LinkedHashMap<>(values);
        all.put("time", now.getEpochSecond() + "." + String.format("%09d", now.getNano()));
        // The escaped part first, read by the current service up to "%end"; the base64 part is for
        // services of older images, which read up to "end". The guest reads a byte per system call,
        // so the clock goes last in each part: it is set right after it was read, not a whole
        // message later.
        all.forEach((k, v) -> b.append('%').append(k).append(' ').append(escaped(bytes(k, v))).append('\n'));
        b.append("%end\n");
        all.forEach((k, v) -> b.append(k).append(' ').append(enc.encodeToString(bytes(k, v))).append('\n'));
        return b.append("end\n").toString();
    }

    private static byte[] bytes(String key, String value) {
        return value.getBytes(key.equals("entropy") ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
    }

    /**
     * {@code bytes} for bash's {@code printf '%b'}, a builtin, so the guest decodes without a fork:
     * letters, digits and a few safe marks as they are, every other byte (space, backslash, line
     * ends, NUL) as {@code \xHH}, so the value is one word that {@code read -r} keeps intact.
     */
    static String escaped(byte[] bytes) {
        StringBuilder b = new StringBuilder(bytes.length * 2);
        for (byte x : bytes) {
            int c = x & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "+/=-_.:@".indexOf(c) >= 0) {
                b.append((char) c);
            } else {
                b.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
            }
        }
        return b.toString();
    }

    /**
     * Sends the identity to the guest through QEMU's socket and waits for its answer. Fails with
     * the guest's own words if it reports an error, and when {@code timeout} passes.
     */
    public void deliver(Path socket, Duration timeout) throws IOException, InterruptedException {
        Instant deadline = Instant.now().plus(timeout);
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                Selector selector = Selector.open()) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer out = ByteBuffer.wrap(message(Instant.now()).getBytes(StandardCharsets.US_ASCII));
            while (out.hasRemaining()) {
                ch.write(out);
            }
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_READ);
            StringBuilder reply = new StringBuilder();
            ByteBuffer in = ByteBuffer.allocate(512);
            while (reply.indexOf("\n") < 0) {
                long left = Duration.between(Instant.now(), deadline).toMillis();
                if (left <= 0) {
                    throw new IOException("the guest's identity service did not answer within " + timeout.toSeconds()
                            + " s" + (reply.isEmpty() ? "" : " (got '" + reply + "')"));
                }
                if (Thread.interrupted()) {
                    throw new InterruptedException("cancelled while giving the clone its identity");
                }
                selector.select(Math.min(left, 200));
                selector.selectedKeys().clear();
                in.clear();
                int n = ch.read(in);
                if (n < 0) {
                    throw new IOException("the guest's identity channel closed before it answered"
                            + (reply.isEmpty() ? "" : " (got '" + reply + "')"));
                }
                reply.append(new String(in.array(), 0, n, StandardCharsets.UTF_8));
            }
            String line = reply.substring(0, reply.indexOf("\n")).strip();
            if (!line.equals("ok " + hostname)) {
                throw new IOException("the guest's identity service answered '" + line + "' instead of 'ok " + hostname + "'");
            }
        }
    }
}
