package io.jenkins.plugins.qemu.engine.state;

/**
 * One incarnation of an engine owner: the configured owner id (a controller, a CLI run) plus the
 * pid and start time of the JVM that runs it and the host boot it runs in. A controller that is
 * restarted keeps its owner id but is a new incarnation, so it reaps what its predecessor left.
 */
public record OwnerIdentity(String ownerId, long pid, long startTime, String bootId) {

    /** This JVM as the owner {@code ownerId}. */
    public static OwnerIdentity current(String ownerId, ProcFs proc) {
        ProcessStat self = proc.self();
        return new OwnerIdentity(ownerId, self.pid(), self.startTime(), proc.bootId());
    }

    /** True while exactly this incarnation still runs (same boot, same pid, same start time). */
    public boolean isAlive(ProcFs proc, String currentBootId) {
        if (!bootId.equals(currentBootId)) {
            return false;
        }
        return proc.stat(pid).map(s -> !s.zombie() && s.startTime() == startTime).orElse(false);
    }

    /** True when this incarnation is the calling JVM itself. */
    public boolean isThisProcess(ProcFs proc) {
        ProcessStat self = proc.self();
        return pid == self.pid() && startTime == self.startTime();
    }

    @Override
    public String toString() {
        return ownerId + " (pid " + pid + ")";
    }
}
