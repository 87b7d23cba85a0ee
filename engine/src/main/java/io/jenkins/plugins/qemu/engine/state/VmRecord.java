package io.jenkins.plugins.qemu.engine.state;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.nio.file.Path;
import java.time.Instant;

/**
 * What the engine writes down about one VM before its QEMU starts, so that whoever finds the VM
 * later (the next engine start, {@code qemu-agents reap}) can tell whose it is, whether its owner
 * still lives, and prove that a running QEMU really is this VM before touching it. A
 * {@code qemuPid} of 0 means QEMU has not been started yet (or its pid was not recorded in time);
 * likewise {@code helperPid} for the VM's network helper (passt), which only some VMs have.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record VmRecord(
        int schema,
        String vmId,
        String ownerId,
        long ownerPid,
        long ownerStartTime,
        String bootId,
        long qemuPid,
        long qemuStartTime,
        String qmpSocket,
        String overlay,
        String seed,
        String console,
        int sshPort,
        String createdAt,
        long helperPid,
        long helperStartTime) {

    public static final int SCHEMA = 1;

    /** A record without a network helper (also what a record written before helpers existed reads as). */
    public VmRecord(int schema, String vmId, String ownerId, long ownerPid, long ownerStartTime, String bootId, long qemuPid,
            long qemuStartTime, String qmpSocket, String overlay, String seed, String console, int sshPort, String createdAt) {
        this(schema, vmId, ownerId, ownerPid, ownerStartTime, bootId, qemuPid, qemuStartTime, qmpSocket, overlay, seed, console,
                sshPort, createdAt, 0, 0);
    }

    /** The record of a VM about to be started: no process, no port yet. */
    public static VmRecord create(String vmId, OwnerIdentity owner, Path qmpSocket, Path overlay, Path seed, Path console,
            Instant createdAt) {
        return new VmRecord(SCHEMA, vmId, owner.ownerId(), owner.pid(), owner.startTime(), owner.bootId(), 0, 0,
                qmpSocket.toString(), overlay.toString(), seed.toString(), console.toString(), -1, createdAt.toString());
    }

    public VmRecord withQemu(long pid, long startTime) {
        return new VmRecord(schema, vmId, ownerId, ownerPid, ownerStartTime, bootId, pid, startTime, qmpSocket, overlay, seed,
                console, sshPort, createdAt, helperPid, helperStartTime);
    }

    public VmRecord withSshPort(int port) {
        return new VmRecord(schema, vmId, ownerId, ownerPid, ownerStartTime, bootId, qemuPid, qemuStartTime, qmpSocket, overlay,
                seed, console, port, createdAt, helperPid, helperStartTime);
    }

    /** Set as soon as the helper exists, before QEMU starts; a retried helper replaces the earlier one's pid. */
    public VmRecord withHelper(long pid, long startTime) {
        return new VmRecord(schema, vmId, ownerId, ownerPid, ownerStartTime, bootId, qemuPid, qemuStartTime, qmpSocket, overlay,
                seed, console, sshPort, createdAt, pid, startTime);
    }

    public OwnerIdentity owner() {
        return new OwnerIdentity(ownerId, ownerPid, ownerStartTime, bootId);
    }

    public Instant created() {
        return Instant.parse(createdAt);
    }
}
