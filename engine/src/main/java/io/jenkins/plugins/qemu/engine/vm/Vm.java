package io.jenkins.plugins.qemu.engine.vm;

import io.jenkins.plugins.qemu.engine.image.BaseImage;
import io.jenkins.plugins.qemu.engine.image.ImageProbe;
import io.jenkins.plugins.qemu.engine.net.GuestNetwork;
import io.jenkins.plugins.qemu.engine.qmp.QmpClient;
import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import io.jenkins.plugins.qemu.engine.state.VmDir;
import io.jenkins.plugins.qemu.engine.state.VmRecord;
import io.jenkins.plugins.qemu.engine.usage.NicCounters;
import io.jenkins.plugins.qemu.engine.usage.UsageTracker;
import io.jenkins.plugins.qemu.engine.usage.VmUsage;
import java.security.PublicKey;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One throw-away VM and the single owner of everything it uses: its state folder, overlay,
 * seed, QEMU process, QMP connection and forwarded port. {@link #boot()} runs the boot steps
 * ({@link VmBoot}) in the caller's thread: prepare, then either the restore of a warm snapshot
 * or a cold boot; {@link #destroy()} may be called from any thread at any time, also while the
 * boot is still running (which cancels it), and releases everything exactly once, last in first out.
 */
public final class Vm implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Vm.class.getName());
    private static final int TAIL_LINES = 25;
    private static final Duration RESTORE_BUDGET = Duration.ofMinutes(2);

    private final VmSpec spec;
    private final Consumer<String> progress;
    private final Consumer<Vm> onDestroyed;
    private final VmBoot b;
    private final AtomicBoolean bootStarted = new AtomicBoolean();
    private final CompletableFuture<Void> destroyed = new CompletableFuture<>();
    /** Set for the one boot per template that is saved as its warm snapshot. */
    private final boolean warmPrep;
    /** Null when the engine has no warm starts; never consulted for a warm-snapshot boot. */
    private final WarmStart warm;
    private volatile WarmStart.Restore restoredFrom;
    private volatile String coldReason;
    /** Where what a boot finds out about its image is kept (see learnImage). */
    private final io.jenkins.plugins.qemu.engine.image.ImageCatalog catalog;
    private final UsageTracker usage;
    private final GuestNicCounters nics;

    public Vm(VmSpec spec, EngineContext ctx, Consumer<String> progress, Consumer<Vm> onDestroyed, WarmStart warm, boolean warmPrep) {
        this.spec = spec;
        this.progress = progress == null ? s -> { } : progress;
        this.onDestroyed = onDestroyed;
        this.warm = warm;
        this.warmPrep = warmPrep;
        this.b = new VmBoot(spec, ctx, warmPrep);
        this.catalog = ctx.catalog();
        this.nics = new GuestNicCounters(b::keptSession);
        this.usage = UsageTracker.onHost(this::pid, () -> b.qmp, b.dir, nics);
    }

    /**
     * Takes over the leased VM of the proven record {@code r} (the reaper's {@code proveAdoptable}),
     * logging in with the keys it was booted with, which the caller kept. On failure what was taken
     * over is released, which ends the VM, and the exception says why.
     */
    public static Vm adopt(VmRecord r, SshKeyPair clientKey, PublicKey hostKey, EngineContext ctx, Consumer<Vm> onDestroyed,
            Duration timeout) throws IOException, InterruptedException {
        Vm vm = new Vm(LeasedVms.specOf(r), ctx, null, onDestroyed, null, false);
        vm.bootStarted.set(true);
        try {
            LeasedVms.adopt(vm.b, r, clientKey, hostKey, timeout);
            vm.usage.begin(null); // booted or restored, and when: its NIC counters cannot be told apart
        } catch (InterruptedException e) {
            vm.destroy();
            throw e;
        } catch (Exception e) {
            vm.destroy();
            throw new IOException("adopting VM " + r.vmId() + " failed: " + e.getMessage(), e);
        }
        LOG.info("[" + vm.id() + "] adopted: QEMU pid " + vm.pid() + ", SSH on 127.0.0.1:" + vm.sshPort() + ", lease "
                + r.lease().toSeconds() + " s, renewed by this engine from now on");
        return vm;
    }

    public VmSpec spec() { return spec; }
    /** Whether this VM outlives its engine for a lease (see {@link VmSpec#lease()}). */
    public boolean leased() { return b.leased; }

    public String id() { return spec.vmId(); }
    public Phase phase() { return b.phase; }
    public PhaseTimings timings() { return b.timings; }
    public Path stateDir() { return b.dir.path(); }
    /** The folder's files, for the warm layer that saves this VM. */
    public VmDir folder() { return b.dir; }
    public Path consoleFile() { return b.keptConsole != null ? b.keptConsole : b.dir.console(); }
    public AccelDecision accelerator() { return b.accel; }
    /** The base image as resolved at boot. */
    public BaseImage baseImage() { return b.image; }
    /** Whether this VM is the engine's own boot of a template, to be saved as its warm snapshot. */
    public boolean warmSnapshotBoot() { return warmPrep; }
    /** Whether this VM was restored from a warm snapshot rather than booted. */
    public boolean restored() { return restoredFrom != null; }
    /** Whether the guest was configured by cloud-init from a seed (not by the fast path or a restore). */
    public boolean usedCloudInit() { return b.cloudInit; }
    /** Why a VM that asked for a warm start was booted cold; null if it was not. */
    public String coldBootReason() { return coldReason; }
    /** The forwarded SSH port on 127.0.0.1, once known. */
    public int sshPort() { return b.sshPort; }
    /** The client key that logs in as the agent user; held in memory only. */
    public SshKeyPair clientKey() { return b.clientKey; }
    public GuestSsh.Target sshTarget() { return b.sshTarget(); }

    /** The guest's host key as we generated and pinned it, e.g. for Jenkins' key verification. */
    public String hostKeyLine() {
        SshKeyPair k = b.hostKey;
        return k == null ? null : SshKeyPair.publicKeyLine(k.publicKey());
    }

    public long pid() {
        VmProcess p = b.process;
        return p == null ? -1 : p.pid();
    }

    public boolean isAlive() {
        VmProcess p = b.process;
        return p != null && p.isAlive() && !b.cancelled;
    }

    /**
     * What this VM used ({@link VmUsage}): sampled now while it runs, else as sampled last (after a
     * destroy: as the destroy began; if QEMU died, at the last tick); null if never sampled.
     */
    public VmUsage usage() {
        return b.phase == Phase.RUNNING ? usage.sample() : usage.last();
    }

    /** The QMP connection of a running VM, for the warm layer that saves it; null before QMP is up. */
    public QmpClient monitor() { return b.qmp; }
    /** The VM's own disk layer (its overlay file), which a saved VM keeps as its frozen layer. */
    public Path diskFile() { return b.overlay.file(); }
    /** The guest's NIC counters now, over the kept connection only; null if they cannot be read. */
    public NicCounters.Totals nicCounters() { return nics.read(); }

    /** The network helper's pid (passt), or -1 if this VM has none. */
    public long helperPid() {
        GuestNetwork n = b.network;
        return n == null ? -1 : n.helperPid();
    }

    /** Waits up to {@code timeout} for QEMU to exit; true if it has. */
    public boolean awaitExit(Duration timeout) throws InterruptedException {
        VmProcess p = b.process;
        return p == null || p.waitFor(timeout);
    }

    /** Runs a command in the guest over SSH, streaming its output; returns its exit status. */
    public int exec(String command, OutputStream out, OutputStream err, Duration timeout) throws IOException {
        if (b.phase != Phase.RUNNING) {
            throw new IllegalStateException("VM " + id() + " is not running (phase " + b.phase + ")");
        }
        try (GuestSsh.Connection c = b.connection(timeout)) {
            return c.exec(command, null, out, err, timeout);
        }
    }

    /**
     * An SSH connection to the running guest for several commands, e.g. an agent's launch: the
     * login's own connection while the guest keeps it open, so no new sshd, key exchange or PAM
     * session is paid for. Closing what is returned leaves the VM's connection open.
     */
    public GuestSsh.Connection connect(Duration timeout) throws IOException {
        if (b.phase != Phase.RUNNING) {
            throw new IllegalStateException("VM " + id() + " is not running (phase " + b.phase + ")");
        }
        return b.connection(timeout);
    }

    /** Ends the login's kept connection (see {@link #connect}), e.g. before the guest is saved with its sessions. */
    public void dropConnection() {
        b.dropSession();
    }

    /**
     * Puts the spec's agent jar in place ({@link AgentJar#place}) unless this VM was restored from
     * a warm snapshot, whose key includes the jar's hash, so it carries exactly that jar and its
     * archive already and not even a check is needed. Returns whether the jar was copied.
     */
    public boolean placeAgentJar(GuestSsh.Connection ssh, Duration timeout) throws IOException {
        AgentJar jar = spec.agentJar();
        if (jar == null) {
            throw new IllegalStateException("VM " + id() + " has no agent jar in its spec");
        }
        return !restored() && jar.place(ssh, timeout);
    }

    /**
     * Boots the VM to a verified SSH login. On any failure, everything is released before the
     * exception is thrown, and the exception names the VM, the phase and the tails of QEMU's
     * stderr and the guest console.
     */
    public void boot() throws VmBootException, InterruptedException {
        if (!bootStarted.compareAndSet(false, true)) {
            throw new IllegalStateException("VM " + id() + " was already booted");
        }
        Instant start = Instant.now();
        Instant deadline = start.plus(spec.bootTimeout());
        try {
            b.run(b.prepare());
            boolean online = false;
            if (!warmPrep && spec.warmStart() && warm != null) {
                WarmStart.Plan plan = warm.plan(spec, b.image, b.accel);
                if (plan.restore() != null) {
                    online = tryRestore(plan.restore(), deadline);
                } else {
                    coldReason = plan.coldReason();
                    say(Level.INFO, "cold boot: " + plan.coldReason());
                }
            }
            if (!online) {
                b.run(b.cold(deadline));
            }
            b.relayHostPorts(deadline);
            // A destroy that began during the last SSH attempt wins; never report it as running.
            b.resources.whileOpen(() -> b.phase = Phase.RUNNING);
            usage.begin(restoredFrom == null ? NicCounters.Totals.AT_BOOT : restoredFrom.nicsAtSave());
            say(Level.INFO, "online on 127.0.0.1:" + b.sshPort + " in " + PhaseTimings.millis(b.timings.timeToOnline())
                    + " (" + (restoredFrom != null ? "restored from warm snapshot " + restoredFrom.slot() + ", " : "cold boot, ")
                    + b.accel.accel() + "; " + b.timings + ")");
            if (!warmPrep && restoredFrom == null && b.cloudInit) {
                ImageLearning.learn(this, catalog, b.image);
            }
        } catch (Exception e) {
            Duration elapsed = Duration.between(start, Instant.now());
            Phase failed = b.bootPhase;
            String reason = BootReason.of(b, e, deadline);
            String stderr = Tail.of(b.dir.stderr(), TAIL_LINES);
            String console = Tail.of(b.dir.console(), TAIL_LINES);
            VmBootException ex = new VmBootException(id(), failed, elapsed, reason, stderr, console, e);
            LOG.log(Level.WARNING, "[" + id() + "] boot failed in phase " + failed + " after " + PhaseTimings.millis(elapsed) + ": " + reason);
            progress.accept("[" + id() + "] boot failed while " + failed.description() + ": " + reason);
            destroy();
            if (e instanceof InterruptedException && !b.cancelled) {
                Thread.currentThread().interrupt();
            }
            throw ex;
        }
    }

    /**
     * Restores {@code saved}; on failure releases what the attempt made and returns false so the
     * caller boots cold. A snapshot QEMU refused to load is discarded and rebuilt. A cancel is not
     * a failure of the snapshot and is passed on.
     */
    private boolean tryRestore(WarmStart.Restore saved, Instant deadline) throws Exception {
        // Leave the cold boot most of the budget: a restore that has not worked by then will not.
        Instant restoreStart = Instant.now();
        Instant restoreDeadline = deadline.isBefore(restoreStart.plus(RESTORE_BUDGET)) ? deadline : restoreStart.plus(RESTORE_BUDGET);
        int mark = b.resources.mark();
        try {
            b.run(b.restore(saved, restoreDeadline));
            restoredFrom = saved;
            return true;
        } catch (Exception e) {
            if (b.cancelled || e instanceof InterruptedException) {
                throw e;
            }
            // QEMU dead while loading means it rejected the state; anything else is no verdict on the
            // snapshot. It may still be exiting when its QMP connection drops, hence the short wait.
            VmProcess p = b.process;
            boolean rejected = b.bootPhase == Phase.RESTORE && p != null && p.waitFor(Duration.ofSeconds(3));
            String why = "while " + b.bootPhase.description() + ": " + (Instant.now().isBefore(restoreDeadline)
                    ? BootReason.of(b, e, restoreDeadline)
                    : "no login within the restore budget of " + Duration.between(restoreStart, restoreDeadline).toSeconds() + " s: " + e.getMessage());
            String stderr = Tail.of(b.dir.stderr(), 5).strip();
            if (!stderr.isEmpty()) {
                why += " (QEMU: " + stderr.replace('\n', ' ') + ")";
            }
            coldReason = "restore failed " + why;
            say(Level.WARNING, "warm snapshot " + saved.slot() + " did not restore " + why + "; falling back to a cold boot");
            b.releaseAttempt(mark);
            warm.restoreFailed(saved, why, spec, rejected);
            return false;
        }
    }

    /** A line for both the log and the caller's progress output. */
    private void say(Level level, String message) {
        String line = "[" + id() + "] " + message;
        LOG.log(level, line);
        progress.accept(line);
    }

    /**
     * Stops QEMU and removes every file of this VM. Graceful first ({@code system_powerdown}
     * with a bounded wait), then {@code quit}, then SIGKILL. Idempotent and thread-safe: later
     * callers wait for the first to finish.
     */
    public void destroy() {
        b.cancelled = true;
        Phase was;
        synchronized (b.resources) {
            if (!b.resources.beginClosing()) {
                was = null;
            } else {
                was = b.phase;
                b.phase = Phase.DESTROY;
            }
        }
        if (was == null) {
            destroyed.join();
            return;
        }
        Instant start = Instant.now();
        try {
            b.graceful = was == Phase.RUNNING;
            usage.finish(); // while QEMU and QMP are still there
            b.resources.releaseAll();
            b.timings.record(Phase.DESTROY, Duration.between(start, Instant.now()));
            LOG.info("[" + id() + "] destroyed in " + PhaseTimings.millis(b.timings.get(Phase.DESTROY)));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "[" + id() + "] destroy failed", e);
            throw e;
        } finally {
            destroyed.complete(null);
            onDestroyed.accept(this);
        }
    }

    /** Pushes the lease end forward when due (see {@link LeasedVms#renew}); a no-op for a VM without a lease or not running. */
    public void renewLease(Instant now) {
        try {
            LeasedVms.renew(b, now);
        } catch (InterruptedException e) { // "cancelled": a destroy or leave-running began; neither needs a lease
        } catch (Exception e) {
            LOG.log(Level.WARNING, "[" + id() + "] renewing the lease failed; trying again", e);
        }
    }

    /**
     * For an engine that closes while this leased VM runs: lets go of what ties the VM to this
     * JVM (QMP connection, SSH sessions) and leaves QEMU, its network helper, its folder and its
     * record in place, so an engine of the same owner id can adopt it until the lease ends (after
     * which the reaper removes it). A VM that is not leased or not running is destroyed instead.
     * Returns whether the VM was left running.
     */
    public boolean leaveRunning() {
        boolean leave;
        synchronized (b.resources) {
            leave = b.leased && b.phase == Phase.RUNNING && b.resources.beginClosing();
            if (leave) {
                b.cancelled = true;
                b.phase = Phase.LEFT_RUNNING;
            }
        }
        if (!leave) {
            destroy();
            return false;
        }
        try {
            VmRecord r = b.currentRecord();
            if (r != null) {
                // Says "let go on purpose": adoptable even by an engine in this same JVM (a restart inside it).
                writeQuietly(r.withReleased());
            }
            b.resources.detachAll();
            LOG.info("[" + id() + "] left running for the next engine of its owner id; its lease ends at " + (r == null ? "?" : r.leaseUntil()));
        } finally {
            destroyed.complete(null);
            onDestroyed.accept(this);
        }
        return true;
    }

    private void writeQuietly(VmRecord r) {
        try {
            b.ctx().states().write(r);
        } catch (IOException e) {
            LOG.warning("[" + id() + "] cannot mark the VM as released in its record: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        destroy();
    }

    @Override
    public String toString() {
        int port = b.sshPort;
        return "Vm[" + id() + " " + b.phase + (port > 0 ? " 127.0.0.1:" + port : "") + "]";
    }
}
