package io.jenkins.plugins.qemu.engine.warm;

import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import io.jenkins.plugins.qemu.engine.usage.NicCounters;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import io.jenkins.plugins.qemu.engine.vm.WarmStart;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * A published warm snapshot: the frozen disk layer (a qcow2 backed by the base image, read-only
 * from now on), the saved RAM and device state, and the key it was made for. Restores open
 * overlays on {@code disk} and feed {@code state} to QEMU's {@code -incoming}; after the
 * restore every clone is given its own identity ({@link CloneIdentity}). {@code nicsAtSave} are
 * the saved guest's NIC counters (null if unread), from which every clone's go on.
 */
public record Snapshot(Path dir, Path disk, Path state, SnapshotKey key, Instant created, long stateBytes,
        NicCounters.Totals nicsAtSave) implements WarmStart.Restore {
    @Override
    public String slot() {
        return key.slot();
    }

    @Override
    public void deliverIdentity(Path socket, VmSpec spec, String authorizedKey, SshKeyPair hostKey, Duration timeout)
            throws IOException, InterruptedException {
        CloneIdentity.of(spec.hostname(), spec.user(), authorizedKey, hostKey).deliver(socket, timeout);
    }
}
