package io.jenkins.plugins.qemu.engine.net;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a Unix socket is listening, read from {@code /proc/net/unix}. Connecting to find out is
 * not an option: passt serves one client only ({@code --one-off}), and a probe would be it.
 */
final class UnixSockets {
    /** {@code __SO_ACCEPTCON}: the socket has called listen(). */
    private static final String LISTENING = "00010000";

    private UnixSockets() {}

    static boolean listening(Path socket) throws IOException {
        String path = socket.toString();
        for (String line : Files.readAllLines(Path.of("/proc/net/unix"), StandardCharsets.UTF_8)) {
            // Num RefCount Protocol Flags Type St Inode Path
            String[] f = line.trim().split("\\s+", 8);
            if (f.length == 8 && f[3].equals(LISTENING) && f[7].equals(path)) {
                return true;
            }
        }
        return false;
    }
}
