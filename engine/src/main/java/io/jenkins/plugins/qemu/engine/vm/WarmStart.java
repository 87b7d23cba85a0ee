package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.image.BaseImage;
import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import io.jenkins.plugins.qemu.engine.usage.NicCounters;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What a booting {@link Vm} asks of the warm-start layer, which implements it (package
 * {@code warm}): whether to restore a saved VM instead of booting cold, how to give a restored
 * clone its own identity, and what to do when a restore fails. The VM knows nothing else about
 * snapshots, so the {@code vm} package never imports {@code warm}.
 */
public interface WarmStart {
    /** The saved VM to restore {@code spec} from, or why it boots cold; may queue a snapshot build. */
    Plan plan(VmSpec spec, BaseImage image, AccelDecision accel);

    /** A restore of {@code restore} failed; {@code rejected} says QEMU refused the saved state itself. */
    void restoreFailed(Restore restore, String why, VmSpec spec, boolean rejected);

    /** A restore to attempt, or null and the reason for a cold boot. */
    record Plan(Restore restore, String coldReason) {}

    /** One saved VM: its frozen disk layer, its RAM and device state, and the clone's identity exchange. */
    interface Restore {
        Path disk();

        Path state();

        /** The snapshot's name for log lines. */
        String slot();

        /**
         * The saved guest's NIC counters, which a clone's go on from (its usage subtracts them);
         * null for a snapshot saved without them.
         */
        NicCounters.Totals nicsAtSave();

        /** After {@code cont}: sends the clone its host name, keys and entropy over the identity socket. */
        void deliverIdentity(Path socket, VmSpec spec, String authorizedKey, SshKeyPair hostKey, Duration timeout)
                throws IOException, InterruptedException;
    }
}
