package io.jenkins.plugins.qemu.engine.state;

import java.io.IOException;
import java.util.List;

/**
 * Finds the exited children this process inherited from the program it ran before an exec. Jenkins'
 * safe restart re-executes the JVM in place (same pid), so the QEMU processes and network helpers
 * the old JVM started stay children of the new one; the new JVM has no {@link Process} for them, so
 * Java never collects them, and each one destroyed after the restart would stay a zombie entry until
 * the controller exits. A child counts as inherited when it started before every thread of the
 * running program other than the main one, the only thread an exec keeps (with its start time).
 * Only those may be collected: a child this program started has a {@link Process} whose own reaper
 * waits for it, and collecting it first would take its exit status away.
 */
public final class InheritedZombies {
    private final ProcFs proc;
    private final long self;

    public InheritedZombies(ProcFs proc, long self) {
        this.proc = proc;
        this.self = self;
    }

    /** For the running JVM. */
    public static InheritedZombies ofThisProcess() {
        return new InheritedZombies(new ProcFs(), ProcessHandle.current().pid());
    }

    /** The pids of the inherited children that have exited and wait to be collected. */
    public List<Long> find() throws IOException {
        long programStart = programStart();
        return proc.children(self).stream()
                .filter(c -> c.zombie() && c.startTime() < programStart)
                .map(ProcessStat::pid)
                .toList();
    }

    /**
     * When the running program began, in clock ticks since boot: the earliest start of a thread
     * other than the main one. A program with no other thread started nothing of its own yet, so
     * nothing it did not start can be told apart; then no child counts as inherited.
     */
    long programStart() throws IOException {
        return proc.threads(self).stream()
                .filter(t -> t.pid() != self)
                .mapToLong(ProcessStat::startTime)
                .min()
                .orElse(Long.MIN_VALUE);
    }
}
