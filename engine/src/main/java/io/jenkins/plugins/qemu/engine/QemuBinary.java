package io.jenkins.plugins.qemu.engine;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/** What the engine asks the QEMU binary once at start (its version, whether it has {@code -sandbox}). */
final class QemuBinary {
    private static final Logger LOG = Logger.getLogger(QemuBinary.class.getName());

    private QemuBinary() {}

    /** A warm snapshot is only valid for the QEMU that saved it; its version is part of the snapshot's key. */
    static String version(Path qemu) throws IOException {
        String out = output(qemu, "-version").strip();
        return out.isEmpty() ? "unknown" : out.lines().findFirst().orElse("unknown");
    }

    /** QEMU built without seccomp rejects -sandbox; ask it once instead of failing every boot. */
    static boolean supportsSandbox(Path qemu) throws IOException {
        boolean supported = output(qemu, "-help").contains("-sandbox");
        if (!supported) {
            LOG.warning(qemu + " has no -sandbox support (built without seccomp); VMs run without it");
        }
        return supported;
    }

    /** What QEMU prints (stdout and stderr) for an informational option such as -help. */
    private static String output(Path qemu, String option) throws IOException {
        Process p = new ProcessBuilder(qemu.toString(), option).redirectErrorStream(true).start();
        try (InputStream in = p.getInputStream()) {
            String out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + qemu + " " + option, e);
        } finally {
            p.destroyForcibly();
        }
    }
}
