package io.jenkins.plugins.qemu.engine.reaper;

import io.jenkins.plugins.qemu.engine.state.OwnerIdentity;
import io.jenkins.plugins.qemu.engine.state.VmRecord;
import java.time.Instant;

/**
 * The pure part of what a lease decides, kept apart so it can be tested as a table: whether a VM
 * whose owner is gone is kept for a later incarnation to adopt, and whether an engine may adopt
 * a given VM. Process proofs (is the QEMU under the record really this VM?) are not made here.
 */
public final class LeaseVerdict {
    private LeaseVerdict() {}

    /**
     * For a VM whose owner incarnation is gone: null if it is kept (its lease runs, in this host
     * boot), else why it goes ("" for a VM that never had a lease: the plain dead-owner case).
     */
    public static String ofDeadOwner(VmRecord r, Instant now, String currentBootId) {
        if (!r.leased()) {
            return "";
        }
        if (!r.bootId().equals(currentBootId)) {
            return "its lease is from an earlier host boot";
        }
        if (r.leaseHeldAt(now)) {
            return null;
        }
        Instant end = r.leaseEnd();
        return "its lease ended unclaimed at " + (end == null ? "an unreadable time '" + r.leaseUntil() + "'" : end);
    }

    /**
     * Why {@code adopter} may not adopt {@code r} judged on the record alone, or null if it may
     * (the caller still checks that the owner is gone, unless it released the VM, and proves the
     * process). A VM its owner released may be adopted even by an engine in the owner's own JVM.
     */
    public static String refusal(VmRecord r, String vmId, OwnerIdentity adopter, Instant now, String currentBootId) {
        if (!vmId.equals(r.vmId())) {
            return "its record names another VM (" + r.vmId() + ")";
        }
        if (!r.ownerId().equals(adopter.ownerId())) {
            return "it belongs to owner id '" + r.ownerId() + "', not '" + adopter.ownerId() + "'";
        }
        if (!r.released() && r.owner().sameIncarnation(adopter)) {
            return "this engine incarnation owns it already";
        }
        if (!r.leased()) {
            return "it was started without a lease, so it was never meant to outlive its owner";
        }
        String why = ofDeadOwner(r, now, currentBootId);
        if (why != null) {
            return why;
        }
        if (r.qemuPid() <= 0 || r.qemuStartTime() <= 0 || r.sshPort() <= 0) {
            return "its record has no QEMU pid, start time or SSH port (its boot never finished)";
        }
        return null;
    }
}
