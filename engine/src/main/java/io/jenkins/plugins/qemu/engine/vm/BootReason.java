package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.net.GuestNetwork;
import java.time.Instant;

/** Why a boot failed, in the words its error and log lines use; apart from {@link VmBoot} to keep each file to one concern. */
final class BootReason {
    private BootReason() {}

    /** Why a boot failed, in words: a cancel, QEMU's exit, the deadline, or the error itself. */
    static String of(VmBoot b, Exception e, Instant deadline) {
        VmProcess p = b.process;
        if (b.cancelled) {
            return "cancelled (destroy was called during boot)";
        }
        if (p != null && !p.isAlive()) {
            return "QEMU exited with code " + p.exitCode() + " (" + e.getMessage() + ")";
        }
        GuestNetwork n = b.network;
        if (n != null && n.failure() != null) {
            return "the guest's network is gone: " + n.failure() + " (" + e.getMessage() + ")";
        }
        if (!Instant.now().isBefore(deadline)) {
            return "timed out after " + b.spec.bootTimeout().toSeconds() + " s: " + e.getMessage();
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

}
