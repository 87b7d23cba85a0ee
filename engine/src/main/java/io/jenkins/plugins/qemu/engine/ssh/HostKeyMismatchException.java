package io.jenkins.plugins.qemu.engine.ssh;

import java.io.IOException;

/**
 * The guest answered with a host key other than the one we generated and pinned for it. This is
 * never retried: either the guest ignored our seed, or something else answered on the port.
 */
public final class HostKeyMismatchException extends IOException {
    private static final long serialVersionUID = 1L;

    public HostKeyMismatchException(String endpoint, String expectedFingerprint, String actualFingerprint) {
        super("host key of " + endpoint + " does not match the pinned key: expected " + expectedFingerprint
                + " but the server offered " + actualFingerprint
                + " (the guest did not take our cloud-init ssh_keys, or another server answered)");
    }
}
