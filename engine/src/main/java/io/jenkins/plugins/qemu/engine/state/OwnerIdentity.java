package io.jenkins.plugins.qemu.engine.state;

import java.lang.management.ManagementFactory;

/**
 * One incarnation of an engine owner: the configured owner id (a controller, a CLI run) plus the
 * pid and start time of the JVM that runs it, the host boot it runs in, and when that JVM image
 * started ({@code jvmStart}, epoch millis; 0 in records written before it existed). A controller
 * that is restarted keeps its owner id but is a new incarnation, so it reaps (or, within a VM's
 * lease, adopts) what its predecessor left. The JVM start is what tells the incarnations apart
 * when a restart re-executes the JVM in the same process (Jenkins' safe restart): pid and process
 * start time survive an {@code exec}, the JVM's own start does not.
 */
public record OwnerIdentity(String ownerId, long pid, long startTime, String bootId, long jvmStart) {

    /** An identity without a known JVM start, as records written before it existed read. */
    public OwnerIdentity(String ownerId, long pid, long startTime, String bootId) {
        this(ownerId, pid, startTime, bootId, 0);
    }

    /** This JVM as the owner {@code ownerId}. */
    public static OwnerIdentity current(String ownerId, ProcFs proc) {
        ProcessStat self = proc.self();
        return new OwnerIdentity(ownerId, self.pid(), self.startTime(), proc.bootId(),
                ManagementFactory.getRuntimeMXBean().getStartTime());
    }

    /** The same incarnation under another owner id. */
    public OwnerIdentity as(String otherOwnerId) {
        return new OwnerIdentity(otherOwnerId, pid, startTime, bootId, jvmStart);
    }

    /** True while exactly this incarnation still runs (same boot, same pid, same start time). */
    public boolean isAlive(ProcFs proc, String currentBootId) {
        if (!bootId.equals(currentBootId)) {
            return false;
        }
        return proc.stat(pid).map(s -> !s.zombie() && s.startTime() == startTime).orElse(false);
    }

    /**
     * As {@link #isAlive(ProcFs, String)}, seen from {@code viewer} (the engine asking): an
     * incarnation of the viewer's own process whose JVM start differs is an earlier JVM image of
     * it, i.e. gone, although its pid and start time still match.
     */
    public boolean isAlive(ProcFs proc, String currentBootId, OwnerIdentity viewer) {
        if (sameIncarnation(viewer)) {
            return true;
        }
        if (pid == viewer.pid && startTime == viewer.startTime && jvmStart != 0 && viewer.jvmStart != 0 && jvmStart != viewer.jvmStart) {
            return false;
        }
        return isAlive(proc, currentBootId);
    }

    /** True when this incarnation is the calling JVM itself. */
    public boolean isThisProcess(ProcFs proc) {
        ProcessStat self = proc.self();
        return pid == self.pid() && startTime == self.startTime();
    }

    /** Same process and, where both know it, same JVM image; the owner id is not compared. */
    public boolean sameIncarnation(OwnerIdentity other) {
        return pid == other.pid && startTime == other.startTime && bootId.equals(other.bootId)
                && (jvmStart == 0 || other.jvmStart == 0 || jvmStart == other.jvmStart);
    }

    @Override
    public String toString() {
        return ownerId + " (pid " + pid + ")";
    }
}
