package io.jenkins.plugins.qemu.engine;

import io.jenkins.plugins.qemu.engine.image.ImageCatalog;
import io.jenkins.plugins.qemu.engine.image.QemuImg;
import io.jenkins.plugins.qemu.engine.qmp.QmpReactor;
import io.jenkins.plugins.qemu.engine.reaper.PeriodicReaper;
import io.jenkins.plugins.qemu.engine.reaper.ReapReport;
import io.jenkins.plugins.qemu.engine.reaper.Reaper;
import io.jenkins.plugins.qemu.engine.ssh.GuestSsh;
import io.jenkins.plugins.qemu.engine.ssh.SshKeyPair;
import io.jenkins.plugins.qemu.engine.state.VmRecord;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.state.OwnerIdentity;
import io.jenkins.plugins.qemu.engine.state.ProcFs;
import io.jenkins.plugins.qemu.engine.state.StateDirectory;
import io.jenkins.plugins.qemu.engine.state.StateStore;
import io.jenkins.plugins.qemu.engine.vm.AcceleratorProbe;
import io.jenkins.plugins.qemu.engine.vm.EngineContext;
import io.jenkins.plugins.qemu.engine.vm.Phase;
import io.jenkins.plugins.qemu.engine.vm.ProcessSpawner;
import io.jenkins.plugins.qemu.engine.vm.SnapshotBuildGate;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmBootException;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import io.jenkins.plugins.qemu.engine.warm.Snapshot;
import io.jenkins.plugins.qemu.engine.warm.SnapshotStore;
import io.jenkins.plugins.qemu.engine.warm.WarmStarts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The entry point of the engine: makes VMs from specs and owns what they share (one SSH client,
 * one QMP reader thread, the image catalog, the accelerator decision, the thread QEMU is started
 * from and one housekeeping thread for periodic reaping). Closing it destroys every VM it made
 * that is still alive, so an engine shut down cleanly leaves nothing behind; starting it reaps
 * what a predecessor that died uncleanly left in the state directory. QEMU processes die with the
 * JVM (parent-death signal via util-linux {@code setpriv}) unless the system property
 * {@code qemu-agents.pdeathsig} is {@code false}.
 *
 * <p>A VM started with a lease ({@link VmSpec#lease()}) is the exception: it has no parent-death
 * signal, this engine renews its lease on the housekeeping thread, {@link #closeLeavingLeasedRunning()}
 * leaves it running, and a later engine of the same owner id may {@link #adopt} it until the lease
 * ends; after that the reaper removes it like any VM of a dead owner.
 */
public final class QemuEngine implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(QemuEngine.class.getName());

    public static final String PDEATHSIG_PROPERTY = "qemu-agents.pdeathsig";
    /** How often an engine looks for VMs of dead owners sharing its state directory, unasked. */
    public static final Duration BACKGROUND_REAP_INTERVAL = Duration.ofMinutes(10);
    /** How often leased VMs are looked at; a lease is rewritten when a quarter of it has passed (see Vm#renewLease). */
    static final Duration LEASE_TICK = Duration.ofSeconds(5);
    /** How often running VMs' usage is sampled, so a VM whose QEMU dies still has figures (see Vm#usage). */
    static final Duration USAGE_TICK = Duration.ofSeconds(15);

    private final EngineContext ctx;
    private final Set<Vm> vms = ConcurrentHashMap.newKeySet();
    private final Reaper reaper;
    private final ReapReport startupReap;
    private final WarmStarts warm;
    private final PeriodicReaper backgroundReap;
    private final ScheduledExecutorService housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "qemu-agents-housekeeping");
        t.setDaemon(true);
        return t;
    });

    public QemuEngine(EngineConfig config) throws IOException {
        this(config, SnapshotBuildGate.ALWAYS);
    }

    /** An engine whose warm-snapshot boots are each booked through {@code snapshotGate} first (a cloud's cap and budget). */
    public QemuEngine(EngineConfig config, SnapshotBuildGate snapshotGate) throws IOException {
        this(config, snapshotGate, null);
    }

    /**
     * As above, as the given incarnation of the owner instead of this JVM as it is now: for tests
     * that play an earlier incarnation (a controller before its restart) in the same JVM. The
     * identity must be this process's pid and start time; {@code null} is this JVM.
     */
    public QemuEngine(EngineConfig config, SnapshotBuildGate snapshotGate, OwnerIdentity incarnation) throws IOException {
        if (!Files.isExecutable(config.qemuBinary())) {
            throw new IOException("QEMU binary " + config.qemuBinary() + " is missing or not executable (install qemu-system-x86)");
        }
        try {
            StateDirectory.claim(config.stateDir());
        } catch (IOException e) {
            throw new IOException("the state directory " + config.stateDir() + " is not usable: " + e.getMessage(), e);
        }
        String qemuVersion = QemuBinary.version(config.qemuBinary());
        QmpReactor reactor = new QmpReactor("qemu-agents-qmp");
        GuestSsh ssh = null;
        ProcessSpawner spawner = null;
        try {
            ssh = new GuestSsh();
            spawner = new ProcessSpawner(!"false".equals(System.getProperty(PDEATHSIG_PROPERTY)));
            ProcFs proc = new ProcFs();
            this.ctx = new EngineContext(config, new ImageCatalog(config.imagesDir()), new QemuImg(config.qemuImgBinary()),
                    new AcceleratorProbe(config.qemuBinary(), config.stateDir(), Duration.ofSeconds(4), Path.of("/dev/kvm")),
                    ssh, reactor, QemuBinary.supportsSandbox(config.qemuBinary()), proc, new StateStore(config.stateDir()),
                    incarnation != null ? incarnation.as(config.ownerId()) : OwnerIdentity.current(config.ownerId(), proc), spawner);
        } catch (IOException | RuntimeException e) {
            housekeeping.shutdownNow();
            reactor.close();
            if (ssh != null) {
                ssh.close();
            }
            if (spawner != null) {
                closeSpawner(spawner);
            }
            throw e;
        }
        this.warm = new WarmStarts(new SnapshotStore(config.stateDir()), qemuVersion, ctx.catalog(), ctx.probe(), (spec, prep) -> {
            Vm vm = new Vm(spec, ctx, line -> { }, vms::remove, null, prep);
            vms.add(vm);
            return vm;
        }, snapshotGate);
        this.reaper = new Reaper(config, ctx.owner());
        this.startupReap = reapAtStart();
        // Other engines (CLI runs, another controller) may die while this one lives; their VMs are
        // removed here too. Only dead owners: without a caller's predicate, every live VM is wanted.
        this.backgroundReap = reapPeriodically(BACKGROUND_REAP_INTERVAL, id -> true);
        housekeeping.scheduleWithFixedDelay(this::renewLeases, LEASE_TICK.toMillis(), LEASE_TICK.toMillis(), TimeUnit.MILLISECONDS);
        housekeeping.scheduleWithFixedDelay(this::sampleUsage, USAGE_TICK.toMillis(), USAGE_TICK.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Like renewLeases: one pass on the housekeeping thread; a VM not running is not sampled. */
    private void sampleUsage() {
        for (Vm vm : vms) {
            vm.usage();
        }
    }

    /** One pass over every VM on the housekeeping thread: no thread per VM. Never throws (that would end the schedule). */
    private void renewLeases() {
        Instant now = Instant.now();
        for (Vm vm : vms) {
            if (vm.leased()) {
                vm.renewLease(now);
            }
        }
    }

    /**
     * Takes over the leased VM {@code vmId} that an earlier incarnation of this engine's owner id
     * left running (a controller before its restart), once its ownership is proven as the reaper
     * proves it before a kill: same owner id, that incarnation gone, the lease still running, the
     * recorded QEMU pid with its start time naming the VM, and QMP {@code query-name}. The keys are
     * the ones the VM was booted with ({@link Vm#clientKey()}, {@link Vm#hostKeyLine()}), which
     * the caller kept. The VM returned is this engine's like any other: renewed, destroyed on
     * {@link #close()}, reaped when unwanted. A VM this engine already holds is returned as is.
     */
    public Vm adopt(String vmId, String clientPrivateKeyOpenSsh, String hostKeyLine) throws IOException, InterruptedException {
        for (Vm vm : vms) {
            if (vm.id().equals(vmId) && vm.isAlive()) {
                return vm;
            }
        }
        SshKeyPair client = SshKeyPair.fromOpenSsh(clientPrivateKeyOpenSsh, "qemu-agents@" + vmId);
        PublicKey host = SshKeyPair.parsePublicKeyLine(hostKeyLine);
        VmRecord proven = reaper.proveAdoptable(vmId, ctx.owner());
        Vm vm = Vm.adopt(proven, client, host, ctx, vms::remove, Duration.ofSeconds(10));
        vms.add(vm);
        if (!vm.isAlive()) {
            vms.remove(vm);
            throw new IOException("VM " + vmId + " died while it was adopted");
        }
        return vm;
    }

    /** What a previous incarnation left behind is removed before this one starts VMs of its own. */
    private ReapReport reapAtStart() {
        try {
            ReapReport r = reaper.reap(false);
            if (!r.reaped().isEmpty() || !r.skipped().isEmpty()) {
                LOG.info("reaper at engine start:\n" + r.format());
            }
            return r;
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "reaper at engine start failed; continuing", e);
            return new ReapReport(false, List.of());
        }
    }

    /** What the reaper found and did when this engine started. */
    public ReapReport startupReap() {
        return startupReap;
    }

    /** Whether this engine's QEMU processes die with its JVM even when it is SIGKILLed. */
    public boolean parentDeathSignal() {
        return ctx.spawner().parentDeathSignal();
    }

    /**
     * Reaps this engine's state directory once: VMs of dead owners, and VMs of this owner that
     * neither the caller ({@code vmIdStillWanted}) nor the engine wants. The engine always wants the
     * VMs it is still booting (the caller may not know them yet) and its own warm-snapshot boots;
     * a VM of this engine that is reaped is also destroyed here, so its in-memory resources go too.
     * This is the one reap path: the CLI's {@code reap}, the plugin's cleanup and the periodic
     * background reap all come through it or {@link #reapPeriodically}.
     */
    public ReapReport reap(Predicate<String> vmIdStillWanted) {
        ReapReport report = reaper.reap(false, wantedWith(vmIdStillWanted));
        destroyReaped(report);
        return report;
    }

    /** {@link #reap(Predicate)} every {@code interval} on the engine's housekeeping thread until the returned handle or the engine is closed. */
    public PeriodicReaper reapPeriodically(Duration interval, Predicate<String> vmIdStillWanted) {
        return new PeriodicReaper(reaper, housekeeping, interval, wantedWith(vmIdStillWanted), this::destroyReaped);
    }

    private Predicate<String> wantedWith(Predicate<String> vmIdStillWanted) {
        return id -> isBooting(id) || isWarmSnapshotBoot(id) || vmIdStillWanted.test(id);
    }

    private void destroyReaped(ReapReport report) {
        for (Vm vm : new ArrayList<>(vms)) {
            if (report.reaped().contains(vm.id())) {
                vm.destroy();
            }
        }
    }

    /** Whether {@code vmId} is a VM of this engine whose boot has not finished yet. */
    public boolean isBooting(String vmId) {
        for (Vm vm : vms) {
            if (vm.id().equals(vmId) && vm.phase().ordinal() < Phase.RUNNING.ordinal()) {
                return true;
            }
        }
        return false;
    }

    public EngineConfig config() {
        return ctx.config();
    }

    public ImageCatalog catalog() {
        return ctx.catalog();
    }

    /** The warm-start layer of this engine, e.g. for tests that ask which snapshot a spec would get. */
    public WarmStarts warmStarts() {
        return warm;
    }

    /** Where warm snapshots are kept (below the state directory). */
    public SnapshotStore snapshots() {
        return warm.store();
    }

    /**
     * Builds the warm snapshot a spec with {@link VmSpec#warmStart()} would be restored from, if it
     * is missing or stale, and waits for it: for benchmarks, tests and "prepare on save". Without
     * this the first boot of a template builds it in the background and boots cold meanwhile.
     */
    public Snapshot prepareWarmSnapshot(VmSpec spec) throws IOException, InterruptedException {
        return warm.ensure(spec);
    }

    /**
     * Queues a build of {@code spec}'s warm snapshot if it is missing or stale and could be
     * built, and returns at once; a no-op when the snapshot is current or the spec cannot use one.
     * Callers run it periodically for their templates, so a changed image or a new QEMU has a
     * fresh snapshot before the next build asks for one. Returns a description of what it did.
     */
    public String warmUpLater(VmSpec spec) {
        if (!spec.warmStart()) {
            return "warm start is off";
        }
        try {
            WarmStarts.Choice c = warm.chooseOrBuild(spec);
            return c.snapshot() != null ? "warm snapshot " + c.snapshot().key().slot() + " is current" : c.reason();
        } catch (IOException | RuntimeException e) {
            return "cannot check the warm snapshot: " + e.getMessage();
        }
    }

    /** A VM not yet booted: call {@link Vm#boot()}; {@link Vm#destroy()} may cancel it from any thread. */
    public Vm create(VmSpec spec, Consumer<String> progress) {
        Vm vm = new Vm(spec, ctx, progress, vms::remove, warm, false);
        vms.add(vm);
        return vm;
    }

    /** Boots a VM to a verified SSH login; on failure nothing of it is left. */
    public Vm boot(VmSpec spec, Consumer<String> progress) throws VmBootException, InterruptedException {
        Vm vm = create(spec, progress);
        vm.boot();
        return vm;
    }

    /** The VMs callers asked for; the engine's own warm-snapshot boots are not among them. */
    public List<Vm> vms() {
        List<Vm> out = new ArrayList<>();
        for (Vm vm : vms) {
            if (!vm.warmSnapshotBoot()) {
                out.add(vm);
            }
        }
        return out;
    }

    /** Destroys every VM of this engine, its own warm-snapshot boots included (e.g. from a shutdown hook). */
    public void destroyAll() {
        for (Vm vm : new ArrayList<>(vms)) {
            vm.destroy();
        }
    }

    /**
     * Whether {@code vmId} is a VM this engine booted to save as a warm snapshot. Such VMs have no
     * agent; a caller's reaper must count them as wanted, or it would kill a build in progress.
     */
    public boolean isWarmSnapshotBoot(String vmId) {
        for (Vm vm : vms) {
            if (vm.id().equals(vmId) && vm.warmSnapshotBoot()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() throws IOException {
        close(false);
    }

    /**
     * Closes this engine but leaves its running leased VMs running (see {@link Vm#leaveRunning()}),
     * for a controller that shuts down to be restarted: the next engine of the same owner id adopts
     * them, or the reaper removes them once their lease ended. Every other VM is destroyed as by
     * {@link #close()}, and so are leased VMs still booting (nobody has their keys yet).
     */
    public void closeLeavingLeasedRunning() throws IOException {
        close(true);
    }

    private void close(boolean leaveLeased) throws IOException {
        backgroundReap.close();
        housekeeping.shutdownNow();
        int left = 0;
        for (Vm vm : new ArrayList<>(vms)) {
            if (leaveLeased && vm.leased()) {
                left += vm.leaveRunning() ? 1 : 0;
            } else {
                vm.destroy();
            }
        }
        if (left > 0) {
            LOG.info("engine for " + ctx.config().stateDir() + " closed leaving " + left + " leased VM(s) running for the next engine");
        }
        try {
            warm.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // A build that was running has destroyed its VM by now; any left are destroyed here.
        for (Vm vm : new ArrayList<>(vms)) {
            vm.destroy();
        }
        // Only now: ending the spawner thread SIGKILLs every QEMU it started with the parent-death signal (not leased ones).
        closeSpawner(ctx.spawner());
        try {
            ctx.ssh().close();
        } finally {
            ctx.reactor().close();
        }
    }

    private static void closeSpawner(ProcessSpawner spawner) {
        try {
            spawner.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
