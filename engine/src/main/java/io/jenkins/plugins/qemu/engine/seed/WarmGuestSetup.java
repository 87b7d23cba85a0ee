package io.jenkins.plugins.qemu.engine.seed;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the one boot that makes a warm snapshot installs through cloud-init into an image that does
 * not carry our identity service (any stock cloud image): the service's script, the same file our
 * own image is built with ({@code images/guest/qemu-agents-identity}), and a systemd unit that
 * waits on the virtio-serial port the warm device model adds, started at once by {@code runcmd}.
 * Stock udev already names the port under {@code /dev/virtio-ports/}, which the unit binds to. The
 * base image is never written: all of it lands in the snapshot's overlay.
 */
public final class WarmGuestSetup {
    static final String SCRIPT_PATH = "/usr/local/lib/qemu-agents/identity";
    static final String UNIT_PATH = "/etc/systemd/system/qemu-agents-identity.service";
    private static final String RESOURCE = "/io/jenkins/plugins/qemu/engine/guest/qemu-agents-identity";
    private static final String SCRIPT = read();
    // No kernel command-line condition (images booted by firmware have none of ours): the unit only
    // exists in snapshot boots, which always have the port.
    private static final String UNIT = String.join("\n",
            "[Unit]",
            "Description=QEMU Agents identity for a restored warm snapshot (virtio-serial)",
            "BindsTo=dev-virtio\\x2dports-io.jenkins.qemu\\x2dagents.0.device",
            "After=dev-virtio\\x2dports-io.jenkins.qemu\\x2dagents.0.device ssh.service sshd.service",
            "",
            "[Service]",
            "Type=simple",
            "ExecStart=" + SCRIPT_PATH,
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "");

    private WarmGuestSetup() {}

    /** Changes whenever what is installed changes, so snapshots made with an older version are stale. */
    public static String fingerprint() {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(SCRIPT.getBytes(StandardCharsets.UTF_8));
            d.update(UNIT.getBytes(StandardCharsets.UTF_8));
            return "cloud-init write_files " + HexFormat.of().formatHex(d.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** cloud-config {@code write_files} entries. */
    static List<Map<String, Object>> writeFiles() {
        return List.of(file(SCRIPT_PATH, "0755", SCRIPT), file(UNIT_PATH, "0644", UNIT));
    }

    /** cloud-config {@code runcmd}: argv lists, no shell. */
    static List<List<String>> runcmd() {
        return List.of(List.of("systemctl", "daemon-reload"),
                List.of("systemctl", "enable", "--now", "qemu-agents-identity.service"));
    }

    private static Map<String, Object> file(String path, String mode, String content) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("path", path);
        f.put("permissions", mode);
        f.put("owner", "root:root");
        f.put("content", content);
        return f;
    }

    private static String read() {
        try (InputStream in = WarmGuestSetup.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the engine jar lacks " + RESOURCE);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
