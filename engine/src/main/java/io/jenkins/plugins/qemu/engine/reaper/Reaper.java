package io.jenkins.plugins.qemu.engine.reaper;

import io.jenkins.plugins.qemu.engine.config.Validation;
import io.jenkins.plugins.qemu.engine.reaper.ReapReport.Entry;
import io.jenkins.plugins.qemu.engine.reaper.ReapReport.Outcome;
import io.jenkins.plugins.qemu.engine.reaper.ReapReport.ProcessOutcome;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.state.OwnerIdentity;
import io.jenkins.plugins.qemu.engine.state.ProcFs;
import io.jenkins.plugins.qemu.engine.state.ProcessStat;
import io.jenkins.plugins.qemu.engine.state.StateStore;
import io.jenkins.plugins.qemu.engine.state.VmDir;
import io.jenkins.plugins.qemu.engine.state.VmRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Removes VMs nobody will ever clean up: those whose owning engine incarnation is gone (its JVM
 * died without running cleanup), those older than an optional maximum age, and those their own
 * owner says it no longer wants. Before it kills anything it proves the process is the VM: the
 * pid's start time equals the recorded one, its command line names the VM id, and, where the QMP
 * socket answers, {@code query-name} returns the VM id. Anything else is left running and the log
 * says why. Files are only ever deleted inside the VM's own folder, whatever a record claims.
 */
public final class Reaper {
    private static final Logger LOG = Logger.getLogger(Reaper.class.getName());
    /** A folder without a record may be a VM whose boot is between mkdir and the first record write. */
    public static final Duration DEFAULT_ORPHAN_GRACE = Duration.ofMinutes(2);

    private final EngineConfig config;
    private final StateStore store;
    private final ProcFs proc;
    private final Clock clock;
    private final Duration maxAge;
    private final Duration orphanGrace;
    private final Duration qmpTimeout;
    /** The engine incarnation reaping; null: this JVM as it is now, read from /proc when needed. */
    private final OwnerIdentity self;

    /** A reaper for the state directory of {@code config}, without a maximum age. */
    public Reaper(EngineConfig config) {
        this(config, new ProcFs(), Clock.systemUTC(), null, DEFAULT_ORPHAN_GRACE, Duration.ofSeconds(2), null);
    }

    /**
     * A reaper for an engine that is {@code self}: its own records are its own even where /proc
     * alone could not tell (after a safe restart re-executed the JVM in the same process).
     */
    public Reaper(EngineConfig config, OwnerIdentity self) {
        this(config, new ProcFs(), Clock.systemUTC(), null, DEFAULT_ORPHAN_GRACE, Duration.ofSeconds(2), self);
    }

    Reaper(EngineConfig config, ProcFs proc, Clock clock, Duration maxAge, Duration orphanGrace, Duration qmpTimeout) {
        this(config, proc, clock, maxAge, orphanGrace, qmpTimeout, null);
    }

    Reaper(EngineConfig config, ProcFs proc, Clock clock, Duration maxAge, Duration orphanGrace, Duration qmpTimeout,
            OwnerIdentity self) {
        this.self = self;
        this.config = config;
        this.store = new StateStore(config.stateDir());
        this.proc = proc;
        this.clock = clock;
        this.maxAge = maxAge;
        this.orphanGrace = orphanGrace;
        this.qmpTimeout = qmpTimeout;
    }

    /** The same reaper, also removing VMs older than {@code age} even if their owner still runs. */
    public Reaper withMaxAge(Duration age) {
        return new Reaper(config, proc, clock, Validation.positive("maxAge", age), orphanGrace, qmpTimeout, self);
    }

    Reaper withOrphanGrace(Duration grace) {
        return new Reaper(config, proc, clock, maxAge, grace, qmpTimeout, self);
    }

    public Optional<Duration> maxAge() {
        return Optional.ofNullable(maxAge);
    }

    public EngineConfig config() {
        return config;
    }

    /** {@link #reap(boolean, Predicate)} keeping every VM whose owner is alive and that is young enough. */
    public ReapReport reap(boolean dryRun) {
        return reap(dryRun, id -> true);
    }

    /**
     * One pass over the state directory. {@code vmIdStillWanted} is asked only about VMs of this
     * config's owner id (another owner's VMs are not ours to judge while it lives); a VM it
     * rejects is reaped. In a dry run the same proofs are made but nothing is killed or deleted.
     */
    public ReapReport reap(boolean dryRun, Predicate<String> vmIdStillWanted) {
        List<Entry> entries = new ArrayList<>();
        String bootId = proc.bootId();
        List<Path> dirs;
        try {
            dirs = store.vmDirs();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "reaper: cannot list " + store.stateDir(), e);
            return new ReapReport(dryRun, entries);
        }
        try (QmpNameProbe qmp = new QmpNameProbe(qmpTimeout)) {
            for (Path dir : dirs) {
                Entry e;
                try {
                    e = examine(dir, dryRun, vmIdStillWanted, bootId, qmp);
                } catch (IOException | RuntimeException ex) {
                    e = new Entry(dir.getFileName().toString(), Outcome.SKIPPED, ProcessOutcome.NONE, 0, "error: " + ex);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    break;
                }
                if (e != null) {
                    log(e, dryRun);
                    entries.add(e);
                }
            }
        }
        return new ReapReport(dryRun, entries);
    }

    private Entry examine(Path dir, boolean dryRun, Predicate<String> wanted, String bootId, QmpNameProbe qmp)
            throws IOException, InterruptedException {
        String vmId = dir.getFileName().toString();
        Optional<VmRecord> found;
        String unreadable = null;
        try {
            found = store.read(dir);
        } catch (IOException e) {
            found = Optional.empty();
            unreadable = e.getMessage();
        }
        if (found.isEmpty() || !vmId.equals(found.get().vmId())) {
            return withoutRecord(dir, vmId, dryRun, unreadable != null ? unreadable
                    : found.isPresent() ? "record names another VM (" + found.get().vmId() + ")" : "no record");
        }
        VmRecord r = found.get();
        String why = whyReap(r, wanted, bootId);
        if (why == null) {
            if (r.released() || !ownerAlive(r, bootId)) {
                return new Entry(vmId, Outcome.KEPT, ProcessOutcome.LEFT_RUNNING, r.qemuPid(), "owner " + r.owner()
                        + (r.released() ? " let it go" : " is gone") + " but the VM's lease runs until " + r.leaseUntil()
                        + ": owner id " + r.ownerId() + " may adopt it");
            }
            return new Entry(vmId, Outcome.KEPT, ProcessOutcome.LEFT_RUNNING, r.qemuPid(), "owner " + r.owner() + " is alive"
                    + (maxAge == null ? "" : " and the VM is younger than " + maxAge));
        }
        ProcessProof.Finding f = new ProcessProof(proc).find(dir, r, bootId, qmp);
        switch (f.outcome) {
            case NONE:
            case GONE:
            case PID_REUSED:
                return removeWithHelper(dir, r, bootId, dryRun, f.outcome, f.pid, why + "; " + f.detail);
            case NOT_OURS:
                if (f.usesOurFiles) {
                    return new Entry(vmId, Outcome.SKIPPED, f.outcome, f.pid, why + "; " + f.detail + "; its files are left too");
                }
                return removeWithHelper(dir, r, bootId, dryRun, f.outcome, f.pid, why + "; " + f.detail);
            case UNPROVEN:
                return new Entry(vmId, Outcome.SKIPPED, f.outcome, f.pid, why + "; " + f.detail);
            case KILLED:
                if (!dryRun && !kill(f.pid, f.startTime)) {
                    return new Entry(vmId, Outcome.SKIPPED, ProcessOutcome.KILLED, f.pid, why + "; pid " + f.pid + " did not die after SIGKILL");
                }
                return removeWithHelper(dir, r, bootId, dryRun, ProcessOutcome.KILLED, f.pid, why + "; " + f.detail);
            default:
                throw new IllegalStateException(f.outcome.toString());
        }
    }

    /**
     * Removes the VM's folder once its network helper (passt) is gone too. A helper is ours if its
     * command line names this folder's socket as its own ({@code --socket}; the folder is
     * owner-only and named by the VM id, so no other process serves it), whether or not the JVM
     * lived to record its pid; it is killed only while it still has the start time seen with that
     * proof. One that will not die keeps the folder, so the next pass tries again.
     */
    private Entry removeWithHelper(Path dir, VmRecord r, String bootId, boolean dryRun, ProcessOutcome outcome, long pid,
            String reason) throws IOException, InterruptedException {
        String vmId = r.vmId();
        StringBuilder detail = new StringBuilder();
        if (r.bootId().equals(bootId)) {
            String socket = dir.resolve(VmDir.NET_SOCKET).toString();
            for (long h : proc.pidsMatching(argv -> servesSocket(argv, socket))) {
                Optional<ProcessStat> st = proc.stat(h);
                if (st.isEmpty() || st.get().zombie()) {
                    continue;
                }
                if (!dryRun && !kill(h, st.get().startTime())) {
                    return new Entry(vmId, Outcome.SKIPPED, outcome, pid, reason + "; network helper pid " + h + " did not die after SIGKILL");
                }
                detail.append("; killed network helper pid ").append(h).append(" (its command line serves ").append(socket).append(')');
            }
        }
        remove(dir, dryRun);
        return new Entry(vmId, Outcome.REAPED, outcome, pid, reason + detail);
    }

    /** passt is started with {@code --socket <vmDir>/net.sock}. */
    static boolean servesSocket(List<String> argv, String socket) {
        for (int i = 0; i + 1 < argv.size(); i++) {
            if ((argv.get(i).equals("--socket") || argv.get(i).equals("-s")) && argv.get(i + 1).equals(socket)) {
                return true;
            }
        }
        return false;
    }

    /** Why this VM should go, or null if it stays. */
    private String whyReap(VmRecord r, Predicate<String> wanted, String bootId) {
        Instant now = clock.instant();
        // A released VM waits for its adopter like one whose owner died, even while that owner's process runs on.
        if (r.released() || !ownerAlive(r, bootId)) {
            String leaseVerdict = LeaseVerdict.ofDeadOwner(r, now, bootId);
            if (leaseVerdict == null && (maxAge == null || !r.created().plus(maxAge).isBefore(now))) {
                return null;
            }
            return "owner " + r.owner() + (r.released() ? " let it go" : " is gone") + (leaseVerdict == null || leaseVerdict.isEmpty() ? "" : " and " + leaseVerdict);
        }
        if (maxAge != null && r.created().plus(maxAge).isBefore(now)) {
            return "older than the maximum age " + maxAge + " (created " + r.createdAt() + ")";
        }
        // Only this very incarnation (same owner id, pid and start time) may say a VM is unwanted:
        // another live process under the same owner id (a controller started from a copy of the
        // same JENKINS_HOME, a second CLI run) knows nothing of this one's agents.
        if (r.ownerId().equals(config.ownerId()) && (self == null ? r.owner().isThisProcess(proc) : r.owner().sameIncarnation(self))) {
            boolean keep;
            try {
                keep = wanted.test(r.vmId());
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "reaper: asking whether " + r.vmId() + " is still wanted failed; keeping it", e);
                keep = true;
            }
            if (!keep) {
                return "no longer wanted by its owner " + r.ownerId();
            }
        }
        return null;
    }

    private boolean ownerAlive(VmRecord r, String bootId) {
        return self == null ? r.owner().isAlive(proc, bootId) : r.owner().isAlive(proc, bootId, self);
    }

    /**
     * The record of {@code vmId} once it is proven adoptable by {@code adopter}: same owner id, its
     * owner incarnation gone, its lease still running, and its QEMU provably this VM (start time,
     * command line and, where QMP answers, {@code query-name}, as before a kill). Otherwise an
     * exception saying which of these failed; nothing is touched either way.
     */
    public VmRecord proveAdoptable(String vmId, OwnerIdentity adopter) throws IOException, InterruptedException {
        Path dir = store.vmDir(Validation.hostname("vmId", vmId));
        VmRecord r = store.read(dir).orElseThrow(() -> new IOException("VM " + vmId + " has no record in " + dir + "; it is gone"));
        String bootId = proc.bootId();
        String refusal = LeaseVerdict.refusal(r, vmId, adopter, clock.instant(), bootId);
        if (refusal == null && !r.released() && r.owner().isAlive(proc, bootId, adopter)) {
            refusal = "its owner " + r.owner() + " still runs";
        }
        if (refusal != null) {
            throw new IOException("VM " + vmId + " cannot be adopted: " + refusal);
        }
        try (QmpNameProbe qmp = new QmpNameProbe(qmpTimeout)) {
            ProcessProof.Finding f = new ProcessProof(proc).find(dir, r, bootId, qmp);
            if (f.outcome != ProcessOutcome.KILLED || f.startTime != r.qemuStartTime()) {
                throw new IOException("VM " + vmId + " cannot be adopted: its QEMU is not provably this VM (" + f.detail + ")");
            }
        }
        return r;
    }

    /** A record-less folder: removed once it is older than the grace period and nothing uses it. */
    private Entry withoutRecord(Path dir, String vmId, boolean dryRun, String why) throws IOException {
        if (!VmDir.foreignFiles(dir).isEmpty()) {
            return null; // not a VM folder (someone else's files in our state directory): not ours to judge
        }
        Duration age = Duration.between(newest(dir), clock.instant());
        if (age.compareTo(orphanGrace) < 0) {
            return new Entry(vmId, Outcome.KEPT, ProcessOutcome.NONE, 0, why + "; only " + age.toSeconds() + " s old, may still be booting");
        }
        List<Long> users = proc.pidsMatching(argv -> ProcessProof.namesVm(argv, vmId) || ProcessProof.mentions(argv, dir));
        if (!users.isEmpty()) {
            return new Entry(vmId, Outcome.SKIPPED, ProcessOutcome.UNPROVEN, users.get(0), why + "; pid " + users.get(0)
                    + " refers to it but there is no record to prove ownership; not touched");
        }
        remove(dir, dryRun);
        return new Entry(vmId, Outcome.REAPED, ProcessOutcome.NONE, 0, why + "; files without a process, " + age.toMinutes() + " min old");
    }

    private static Instant newest(Path dir) throws IOException {
        FileTime t = Files.getLastModifiedTime(dir);
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                try {
                    FileTime m = Files.getLastModifiedTime(p);
                    t = m.compareTo(t) > 0 ? m : t;
                } catch (IOException gone) {
                    // Removed while we looked.
                }
            }
        }
        return t.toInstant();
    }

    /** SIGKILL, but only if the pid still has the proven start time; true once it is gone. */
    private boolean kill(long pid, long startTime) throws InterruptedException {
        Optional<ProcessStat> now = proc.stat(pid);
        if (now.isEmpty() || now.get().zombie() || now.get().startTime() != startTime) {
            return true;
        }
        // ProcessHandle re-checks the start time itself before signalling, closing the reuse window further.
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<ProcessStat> s = proc.stat(pid);
            if (s.isEmpty() || s.get().zombie() || s.get().startTime() != startTime) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    private static void remove(Path dir, boolean dryRun) throws IOException {
        if (!dryRun) {
            VmDir.delete(dir);
        }
    }

    private static void log(Entry e, boolean dryRun) {
        String prefix = "reaper" + (dryRun ? " (dry run)" : "") + ": " + e.vmId() + " ";
        switch (e.outcome()) {
            case KEPT:
                LOG.fine(() -> prefix + "kept: " + e.reason());
                break;
            case REAPED:
                // A foreign process was involved: worth a warning even though only our record went.
                Level level = e.process() == ProcessOutcome.NOT_OURS || e.process() == ProcessOutcome.PID_REUSED ? Level.WARNING : Level.INFO;
                LOG.log(level, prefix + (dryRun ? "would be reaped: " : "reaped: ") + e.reason());
                break;
            default:
                LOG.warning(prefix + "skipped: " + e.reason());
        }
    }
}
