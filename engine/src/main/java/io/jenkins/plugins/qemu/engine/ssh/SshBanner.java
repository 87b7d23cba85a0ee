package io.jenkins.plugins.qemu.engine.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Checks whether an SSH server answers on a port by reading its identification line. Behind
 * QEMU's user-mode network a TCP connect always succeeds and is then reset while the guest's sshd
 * is not up; reading the banner tells the two apart in a millisecond, without a full SSH
 * handshake (and its log noise) for every attempt.
 */
final class SshBanner {
    private SshBanner() {}

    static boolean answers(String host, int port, Duration timeout) {
        try (Socket s = new Socket()) {
            int ms = (int) Math.max(1, timeout.toMillis());
            s.connect(new InetSocketAddress(host, port), ms);
            s.setSoTimeout(ms);
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4];
            int n = 0;
            while (n < buf.length) {
                int r = in.read(buf, n, buf.length - n);
                if (r < 0) {
                    return false;
                }
                n += r;
            }
            return new String(buf, StandardCharsets.US_ASCII).equals("SSH-");
        } catch (IOException e) {
            return false;
        }
    }
}
