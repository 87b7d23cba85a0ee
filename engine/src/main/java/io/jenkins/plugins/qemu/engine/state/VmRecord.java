package io.jenkins.plugins.qemu.engine.state;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What the engine writes down about one VM before its QEMU starts, so that whoever finds the VM
 * later (the next engine start, {@code qemu-agents reap}) can tell whose it is, whether its owner
 * still lives, and prove that a running QEMU really is this VM before touching it. A
 * {@code qemuPid} of 0 means QEMU has not been started yet (or its pid was not recorded in time);
 * likewise {@code helperPid} for the VM's network helper (passt), which only some VMs have.
 *
 * <p>Schema 2 adds the owner's JVM start, the image and user (what an adopting engine needs to
 * describe the VM) and the lease: a leased VM ({@code leaseSeconds > 0}) outlives its owner until
 * {@code leaseUntil}, which the live owner keeps pushing forward, so another incarnation of the
 * same owner id can adopt it. {@code released} says the owner let the VM go on purpose (its engine
 * closed leaving it running): it is adoptable even if the owner's process still runs (a controller
 * restarted inside the same JVM, as test harnesses do). Schema 1 records read with these fields
 * empty: no lease. {@code hostPorts} are the host ports relayed into the guest, which an adopting
 * engine relays again; null in a record written before they were recorded. {@code template} is the
 * name of the template a caller asked for the VM by ({@code VmSpec.template()}), for {@code ps};
 * null for none and in a record written before it was recorded.
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
        long helperStartTime,
        long ownerJvmStart,
        String image,
        String user,
        long leaseSeconds,
        String leaseUntil,
        boolean released,
        List<Integer> hostPorts,
        String template) {

    public static final int SCHEMA = 2;

    /** A record without relayed host ports (also what a record written before they were recorded reads as). */
    public VmRecord(int schema, String vmId, String ownerId, long ownerPid, long ownerStartTime, String bootId, long qemuPid,
            long qemuStartTime, String qmpSocket, String overlay, String seed, String console, int sshPort, String createdAt,
            long helperPid, long helperStartTime, long ownerJvmStart, String image, String user, long leaseSeconds, String leaseUntil,
            boolean released) {
        this(schema, vmId, ownerId, ownerPid, ownerStartTime, bootId, qemuPid, qemuStartTime, qmpSocket, overlay, seed, console, sshPort,
                createdAt, helperPid, helperStartTime, ownerJvmStart, image, user, leaseSeconds, leaseUntil, released, null, null);
    }

    /** A record without a network helper (also what a record written before helpers existed reads as). */
    public VmRecord(int schema, String vmId, String ownerId, long ownerPid, long ownerStartTime, String bootId, long qemuPid,
            long qemuStartTime, String qmpSocket, String overlay, String seed, String console, int sshPort, String createdAt) {
        this(schema, vmId, ownerId, ownerPid, ownerStartTime, bootId, qemuPid, qemuStartTime, qmpSocket, overlay, seed, console,
                sshPort, createdAt, 0, 0, 0, null, null, 0, null, false);
    }

    /** The record of a VM about to be started: no process, no port yet, and no lease. */
    public static VmRecord create(String vmId, OwnerIdentity owner, Path qmpSocket, Path overlay, Path seed, Path console,
            Instant createdAt) {
        return new VmRecord(SCHEMA, vmId, owner.ownerId(), owner.pid(), owner.startTime(), owner.bootId(), 0, 0,
                qmpSocket.toString(), overlay.toString(), seed.toString(), console.toString(), -1, createdAt.toString(), 0, 0,
                owner.jvmStart(), null, null, 0, null, false, null, null);
    }

    public VmRecord withQemu(long pid, long startTime) {
        return new VmRecord(schema, vmId, ownerId, ownerPid, ownerStartTime, bootId, pid, startTime, qmpSocket, overlay, seed,
                console, sshPort, createdAt, helperPid, helperStartTime, ownerJvmStart, image, user, leaseSeconds, leaseUntil, released, hostPorts, template);
    }

    public VmRecord withSshPort(int port) {
        return new VmRecord(schema, vmId, ownerId, ownerPid, ownerStartTime, bootId, qemuPid, qemuStartTime, qmpSocket, overlay,
                seed, console, port, createdAt, helperPid, helperStartTime, ownerJvmStart, image, user, leaseSeconds, leaseUntil, released, hostPorts, template);
    }

    /** Set as soon as the helper exists, before QEMU starts; a retried helper replaces the earlier one's pid. */
    public VmRecord withHelper(long pid, long startTime) {
        return new VmRecord(schema, vmId, ownerId, ownerPid, ownerStartTime, bootId, qemuPid, qemuStartTime, qmpSocket, overlay,
                seed, console, sshPort, createdAt, pid, startTime, ownerJvmStart, image, user, leaseSeconds, leaseUntil, released, hostPorts, template);
    }

    /** What the VM runs and who logs in, for an engine that adopts it, and the template it was asked for by (null for none), for {@code ps}. */
    public VmRecord withGuest(String imageName, String userName, String templateName) {
        return new VmRecord(SCHEMA, vmId, ownerId, ownerPid, ownerStartTime, bootId, qemuPid, qemuStartTime, qmpSocket, overlay,
                seed, console, sshPort, createdAt, helperPid, helperStartTime, ownerJvmStart, imageName, userName, leaseSeconds, leaseUntil,
                released, hostPorts, templateName);
    }

    /**
     * The host ports relayed into the guest (its egress policy's {@code allow:PORT}s), so an
     * engine that adopts the VM makes the relays again; they lived in the old owner's SSH session.
     */
    public VmRecord withHostPorts(List<Integer> ports) {
        return new VmRecord(SCHEMA, vmId, ownerId, ownerPid, ownerStartTime, bootId, qemuPid, qemuStartTime, qmpSocket, overlay,
                seed, console, sshPort, createdAt, helperPid, helperStartTime, ownerJvmStart, image, user, leaseSeconds, leaseUntil, released,
                List.copyOf(ports), template);
    }

    /** The relayed host ports; empty for none and for a record written before they were recorded. */
    public List<Integer> relayedHostPorts() {
        return hostPorts == null ? List.of() : hostPorts;
    }

    /** A lease of {@code lease} that runs until {@code until}; written again by the live owner before it ends. */
    public VmRecord withLease(Duration lease, Instant until) {
        return new VmRecord(SCHEMA, vmId, ownerId, ownerPid, ownerStartTime, bootId, qemuPid, qemuStartTime, qmpSocket, overlay,
                seed, console, sshPort, createdAt, helperPid, helperStartTime, ownerJvmStart, image, user, lease.toSeconds(),
                until.toString(), released, hostPorts, template);
    }

    /** The same VM, now owned by {@code owner} (an engine that adopted it). */
    public VmRecord withOwner(OwnerIdentity owner) {
        return new VmRecord(SCHEMA, vmId, owner.ownerId(), owner.pid(), owner.startTime(), owner.bootId(), qemuPid, qemuStartTime,
                qmpSocket, overlay, seed, console, sshPort, createdAt, helperPid, helperStartTime, owner.jvmStart(), image, user,
                leaseSeconds, leaseUntil, false, hostPorts, template);
    }

    /** Written by an owner that closes leaving this leased VM running for its next incarnation. */
    public VmRecord withReleased() {
        return new VmRecord(SCHEMA, vmId, ownerId, ownerPid, ownerStartTime, bootId, qemuPid, qemuStartTime, qmpSocket, overlay,
                seed, console, sshPort, createdAt, helperPid, helperStartTime, ownerJvmStart, image, user, leaseSeconds, leaseUntil, true, hostPorts, template);
    }

    public OwnerIdentity owner() {
        return new OwnerIdentity(ownerId, ownerPid, ownerStartTime, bootId, ownerJvmStart);
    }

    public Instant created() {
        return Instant.parse(createdAt);
    }

    /** Whether this VM was started to outlive its owner for a while. */
    public boolean leased() {
        return leaseSeconds > 0 && leaseUntil != null;
    }

    /** The lease's length; zero without one. */
    public Duration lease() {
        return Duration.ofSeconds(Math.max(0, leaseSeconds));
    }

    /** When the lease ends; null without one, or when the recorded time cannot be read (then there is no lease). */
    public Instant leaseEnd() {
        if (!leased()) {
            return null;
        }
        try {
            return Instant.parse(leaseUntil);
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
    }

    /** Whether the lease still runs at {@code now}: the VM may still be adopted by its owner id. */
    public boolean leaseHeldAt(Instant now) {
        Instant end = leaseEnd();
        return end != null && now.isBefore(end);
    }
}
