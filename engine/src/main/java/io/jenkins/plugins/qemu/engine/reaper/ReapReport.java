package io.jenkins.plugins.qemu.engine.reaper;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;

/**
 * What one reaper pass found and did, one entry per VM folder. {@link #reaped()} lists the VMs
 * that are gone afterwards (record and files removed, QEMU killed where it was proven ours), so a
 * caller can drop whatever it still associates with them; in a dry run it lists what would go.
 */
public record ReapReport(boolean dryRun, List<Entry> entries) implements Serializable {
    private static final long serialVersionUID = 1L;

    public ReapReport {
        entries = List.copyOf(entries);
    }

    /** What happened to a VM's record and files. */
    public enum Outcome {
        /** Owner alive, young enough and wanted: left alone. */
        KEPT,
        /** Record and files removed (or would be, in a dry run). */
        REAPED,
        /** Should go, but touching it was not safe; nothing was changed. */
        SKIPPED
    }

    /** What happened to the VM's process. */
    public enum ProcessOutcome {
        /** No process was recorded or found. */
        NONE,
        /** The recorded QEMU no longer runs. */
        GONE,
        /** Ownership was proven and the process was killed (or would be, in a dry run). */
        KILLED,
        /** The recorded pid now belongs to another process (different start time): not touched. */
        PID_REUSED,
        /** A process runs under the recorded pid but is not this VM: not touched. */
        NOT_OURS,
        /** A process may be this VM but ownership could not be proven: not touched. */
        UNPROVEN,
        /** The VM was kept, and its QEMU with it. */
        LEFT_RUNNING
    }

    /** One VM folder: its id, what was done, the pid concerned (0 if none) and why. */
    public record Entry(String vmId, Outcome outcome, ProcessOutcome process, long pid, String reason) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    public List<String> reaped() {
        return ids(Outcome.REAPED);
    }

    public List<String> kept() {
        return ids(Outcome.KEPT);
    }

    public List<String> skipped() {
        return ids(Outcome.SKIPPED);
    }

    /** Pids the reaper killed (in a dry run: would kill). Every one was proven to be our QEMU. */
    public List<Long> killedPids() {
        return entries.stream().filter(e -> e.process() == ProcessOutcome.KILLED).map(Entry::pid).toList();
    }

    /** Processes the reaper found under a record but left alone because they were not provably ours. */
    public List<Entry> untouchedProcesses() {
        return entries.stream().filter(e -> e.process() == ProcessOutcome.NOT_OURS || e.process() == ProcessOutcome.PID_REUSED
                || e.process() == ProcessOutcome.UNPROVEN).toList();
    }

    private List<String> ids(Outcome o) {
        return entries.stream().filter(e -> e.outcome() == o).map(Entry::vmId).toList();
    }

    /** A few lines for a person: one per VM, then the totals. */
    public String format() {
        StringBuilder b = new StringBuilder();
        if (dryRun) {
            b.append("dry run: nothing was changed; 'reaped' means 'would be reaped'\n");
        }
        for (Entry e : entries) {
            b.append(String.format(Locale.ROOT, "%-16s %-8s process %-12s %s%n", e.vmId(), e.outcome().name().toLowerCase(Locale.ROOT),
                    e.process().name().toLowerCase(Locale.ROOT).replace('_', '-') + (e.pid() > 0 ? " " + e.pid() : ""), e.reason()));
        }
        b.append(String.format(Locale.ROOT, "%d VM folders: %d reaped, %d kept, %d skipped; %d processes killed, %d foreign processes left alone%n",
                entries.size(), reaped().size(), kept().size(), skipped().size(), killedPids().size(), untouchedProcesses().size()));
        return b.toString();
    }
}
