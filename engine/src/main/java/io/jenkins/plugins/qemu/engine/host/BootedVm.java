package io.jenkins.plugins.qemu.engine.host;

import java.io.Serializable;
import java.util.List;

/**
 * A VM a host booted, as the controller needs it: where it runs, the SSH port on the host's own
 * 127.0.0.1, the per-VM client key (OpenSSH text; the controller keeps it in memory and never
 * logs it) and the pinned host key line, whether it was restored from a warm snapshot (else why
 * it booted cold), how long it took to come online, and the boot's progress lines as the host's
 * engine wrote them, for the agent's launch log.
 */
public record BootedVm(String host, String vmId, int sshPort, String clientPrivateKeyOpenSsh, String hostKeyLine,
        boolean restored, String coldBootReason, long timeToOnlineMillis, List<String> progress) implements Serializable {
    private static final long serialVersionUID = 1L;

    public BootedVm {
        progress = List.copyOf(progress);
    }

    /** Without the private key, which must not reach a log. */
    @Override
    public String toString() {
        return "BootedVm[" + vmId + " on " + host + ", SSH on 127.0.0.1:" + sshPort + " there, "
                + (restored ? "restored" : "cold: " + coldBootReason) + ", online in " + timeToOnlineMillis + " ms]";
    }
}
