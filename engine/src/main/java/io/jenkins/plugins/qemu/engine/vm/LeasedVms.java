package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.qmp.QmpClient;
import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import io.jenkins.plugins.qemu.engine.state.VmRecord;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * What a lease adds to a VM's life (see {@link VmSpec#lease()}): renewing it while the engine
 * lives, and taking over a leased VM an earlier incarnation of the same owner left running.
 * Takeover assumes the ownership proof was made (the reaper's {@code proveAdoptable}); it then
 * holds the running processes by pid and start time, connects QMP and checks the VM's name,
 * writes the record as this engine's and relays the VM's host ports again. Every piece goes to the VM's {@link Resources} as it is
 * taken, so a destroy, or a takeover that fails half-way, releases exactly what was taken.
 */
final class LeasedVms {
    private LeasedVms() {}

    /**
     * Writes a new lease end once less than three quarters of the lease are left, so a record is
     * rewritten about every quarter lease and an owner that dies leaves at most one lease behind.
     */
    static void renew(VmBoot b, Instant now) throws Exception {
        if (!b.leased || b.phase != Phase.RUNNING) {
            return;
        }
        VmRecord r = b.currentRecord();
        Duration lease = b.spec.lease();
        Instant end = r == null ? null : r.leaseEnd();
        if (r == null || end != null && Duration.between(now, end).compareTo(lease.multipliedBy(3).dividedBy(4)) > 0) {
            return;
        }
        b.writeRecord(r.withLease(lease, now.plus(lease)));
    }

    /** Takes over the proven VM of record {@code r}; the caller destroys the VM if this throws. */
    static void adopt(VmBoot b, VmRecord r, SshKeyPair clientKey, PublicKey hostKey, Duration timeout) throws Exception {
        EngineContext ctx = b.ctx();
        String vmId = r.vmId();
        b.dir.takeOver();
        b.resources.add("state folder " + b.dir, b::removeFolder);
        // The record goes first: from here on the reaper sees this engine as the owner, with a fresh lease.
        b.writeRecord(r.withOwner(ctx.owner()).withLease(r.lease(), Instant.now().plus(r.lease())));
        if (r.helperPid() > 0) {
            Optional<VmProcess> helper = VmProcess.adopt(r.helperPid(), r.helperStartTime(), ctx.proc(), b.dir.netStderr());
            if (helper.isPresent()) {
                VmProcess h = helper.get();
                b.resources.add("network helper pid " + h.pid(), h::kill);
            }
        }
        VmProcess p = VmProcess.adopt(r.qemuPid(), r.qemuStartTime(), ctx.proc(), b.dir.stderr()).orElseThrow(() ->
                new IOException("QEMU pid " + r.qemuPid() + " of VM " + vmId + " is gone or no longer has start time " + r.qemuStartTime()));
        b.resources.add("QEMU pid " + p.pid(), () -> QemuControl.kill(vmId, p));
        b.process = p;
        Path socket = b.dir.qmpSocket();
        QmpClient q = QmpClient.connect(socket, timeout, ctx.reactor());
        b.resources.add("QMP " + socket, () -> {
            try {
                QemuControl.stop(vmId, p, q, b.graceful ? b.spec.shutdownGrace() : null);
            } finally {
                q.close();
            }
        }, q::close);
        b.qmp = q;
        String name = q.execute("query-name", timeout).path("name").asText("");
        if (!name.equals(vmId)) {
            throw new IOException("the QMP socket " + socket + " answers query-name with '" + name + "', not " + vmId);
        }
        // The boot's decision died with the old engine; the running QEMU says which accelerator it uses
        // (the launcher picks the agent JVM's options by it, and null there failed every re-attached launch).
        boolean kvm = q.execute("query-kvm", timeout).path("enabled").asBoolean(false);
        b.accel = new AccelDecision(kvm ? Accel.KVM : Accel.TCG, "adopted VM: QEMU's query-kvm says KVM is " + (kvm ? "enabled" : "not enabled"));
        b.sshPort = r.sshPort();
        b.clientKey = clientKey;
        b.adoptedHostKey = hostKey;
        b.resources.whileOpen(() -> b.phase = Phase.RUNNING);
        // The relays lived in the old owner's SSH session, gone with it; the guest expects its ports.
        b.relayHostPorts(Instant.now().plus(timeout));
    }

    /**
     * What the record says of the VM, as a spec: image, user, lease and the host ports relayed into
     * it. Its NICs were set up at boot and stay; only the relays are this engine's to make again.
     */
    static VmSpec specOf(VmRecord r) {
        return VmSpec.builder().vmId(r.vmId()).image(r.image()).user(r.user()).lease(r.lease())
                .egress(new io.jenkins.plugins.qemu.engine.net.EgressPolicy(false, r.relayedHostPorts())).build();
    }
}
