package io.jenkins.plugins.qemu.engine.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The kernel's limit on a Unix domain socket path. Both the QMP client (any socket it is handed)
 * and the VM folder (every socket it names) apply it, so the number is written once, here.
 */
public final class UnixSocketPath {
    /** {@code sun_path} is 108 bytes on Linux, including the terminating NUL. */
    public static final int MAX_BYTES = 107;

    private UnixSocketPath() {}

    public static int bytes(Path socket) {
        return socket.toString().getBytes(StandardCharsets.UTF_8).length;
    }
}
