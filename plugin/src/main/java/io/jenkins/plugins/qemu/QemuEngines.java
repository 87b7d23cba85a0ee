package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.ExtensionList;
import hudson.init.Terminator;
import hudson.model.TaskListener;
import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.cloud.CapacityLedger;
import io.jenkins.plugins.qemu.engine.cloud.ProvisioningBackoff;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.state.ServiceUnit;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.AgentJar;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import hudson.slaves.Cloud;
import jenkins.model.Jenkins;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The controller-wide home of what must outlive a {@link QemuCloud} object: Jenkins replaces
 * cloud objects on every configuration save, but running VMs, the VMs counted against a cap and
 * a failing template's back-off must not be forgotten by that. Engines are kept per
 * {@link EngineConfig} (images and state directory), ledgers per cloud id. It is an
 * {@link Extension} singleton rather than static state so Jenkins owns its lifetime. An engine is
 * started outside this object's lock (starting probes QEMU, which takes seconds, and the
 * retention check asks for VMs under the queue lock); no engine is started once
 * {@link #shutdown()} began, and engines no cloud uses any more are closed once their VMs are gone.
 */
@Extension
public final class QemuEngines {
    private static final Logger LOGGER = Logger.getLogger(QemuEngines.class.getName());

    private final Map<EngineConfig, CompletableFuture<QemuEngine>> engines = new HashMap<>();
    /** Whether the controller's systemd service was checked for a kill mode that takes leased VMs with it. */
    private final java.util.concurrent.atomic.AtomicBoolean serviceChecked = new java.util.concurrent.atomic.AtomicBoolean();
    private final Map<String, CapacityLedger> ledgers = new HashMap<>();
    private final ProvisioningBackoff backoff = new ProvisioningBackoff(Clock.systemUTC());
    private boolean closed;
    private volatile AgentJar remoting;
    /** Readiness answers by template key, reused for a few seconds: the queue asks for every waiting build at every pass. */
    private final Map<String, Readiness> readiness = new ConcurrentHashMap<>();
    private static final long READINESS_TTL_MILLIS = 5_000;

    private record Readiness(long atMillis, String problem) {}

    /** Loaded at the first cleanup pass; empty where libc cannot be loaded. */
    private final AtomicReference<Optional<InheritedZombieCollector>> zombies = new AtomicReference<>();

    public static QemuEngines get() {
        return ExtensionList.lookupSingleton(QemuEngines.class);
    }

    /**
     * {@code spec} (one VM of a template) with Jenkins' own remoting.jar as its agent jar, started
     * with the template's {@code jvmOptions}. Every VM a template boots (agent, Test button,
     * warm-up) asks with the same jar and options, so all of them match the same warm snapshot,
     * which carries the jar and the agent already started with those options.
     */
    VmSpec withRemotingJar(VmSpec spec, @CheckForNull String jvmOptions) throws IOException {
        return spec.toBuilder().agentJar(remotingJar(jvmOptions)).build();
    }

    /** {@link #remotingJar()} started with a template's own JVM options (blank: none). */
    AgentJar remotingJar(@CheckForNull String jvmOptions) throws IOException {
        return remotingJar().withOptions(jvmOptions == null ? java.util.List.of() : java.util.List.of(jvmOptions.trim()));
    }

    /**
     * Hashed once per jar file, with the controller's jars for the agent's jar cache
     * ({@link AgentJarCacheSeeds}); remoting.jar, the core and the plugins only change with a
     * restart.
     */
    AgentJar remotingJar() throws IOException {
        java.nio.file.Path file = hudson.remoting.Which.jarFile(hudson.remoting.Channel.class).toPath();
        AgentJar jar = remoting;
        if (jar == null || !jar.file().equals(file)) {
            jar = AgentJar.of(file).withCachedJars(AgentJarCacheSeeds.find());
            remoting = jar;
        }
        return jar;
    }

    /** Failure streaks and refusals of every template of every QEMU cloud, by {@link QemuCloud#templateKey}. */
    public ProvisioningBackoff backoff() {
        return backoff;
    }

    /** Why a template cannot boot ({@code check}'s answer, null when it can), computed at most every few seconds per template. */
    @CheckForNull
    String readiness(@NonNull String templateKey, Supplier<String> check) {
        long now = System.currentTimeMillis();
        Readiness r = readiness.get(templateKey);
        if (r == null || now - r.atMillis() > READINESS_TTL_MILLIS) {
            r = new Readiness(now, check.get());
            readiness.put(templateKey, r);
        }
        return r.problem();
    }

    /** Forgets what was kept about a template that is gone for good (a build's one-off template). */
    void forgetTemplate(@NonNull String templateKey) {
        readiness.remove(templateKey);
        backoff.succeeded(templateKey);
    }

    /** The engine for these directories, started on first use (by the first caller, without holding this object's lock). */
    public QemuEngine engine(@NonNull EngineConfig config) throws IOException {
        CompletableFuture<QemuEngine> future;
        boolean starter = false;
        synchronized (this) {
            if (closed) {
                throw new IOException("Jenkins is shutting down; no QEMU engine is started any more");
            }
            future = engines.get(config);
            if (future == null || future.isCompletedExceptionally()) {
                future = new CompletableFuture<>();
                engines.put(config, future);
                starter = true;
            }
        }
        if (starter) {
            try {
                QemuEngine engine = new QemuEngine(config, prep -> bookSnapshotBoot(config, prep));
                LOGGER.info(() -> "Started QEMU engine for images " + config.imagesDir() + ", state " + config.stateDir()
                        + ", owner " + config.ownerId());
                if (serviceChecked.compareAndSet(false, true)) {
                    // Said once, where the admin looks first: leased VMs cannot survive a restart that kills them.
                    ServiceUnit.ofThisProcess().flatMap(ServiceUnit::leaseWarning).ifPresent(LOGGER::warning);
                }
                future.complete(engine);
            } catch (IOException | RuntimeException e) {
                future.completeExceptionally(e);
                throw e;
            }
            boolean lateStart;
            synchronized (this) {
                lateStart = closed;
            }
            if (lateStart) {
                closeQuietly(future.join());
                throw new IOException("Jenkins is shutting down; the QEMU engine started meanwhile was closed again");
            }
        }
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while the QEMU engine for " + config.stateDir() + " starts", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof IOException io ? io : new IOException(cause.getMessage(), cause);
        }
    }

    /**
     * Books a warm-snapshot boot in the ledger of the cloud whose template it is for (same
     * directories, image and size), like an agent of that template; a boot no cloud claims (the
     * cloud was removed meanwhile) is admitted unbooked, as it has no cap left to overshoot.
     */
    private Optional<AutoCloseable> bookSnapshotBoot(EngineConfig config, VmSpec prep) {
        Jenkins jenkins = Jenkins.getInstanceOrNull();
        if (jenkins == null) {
            return Optional.empty();
        }
        for (Cloud c : jenkins.clouds) {
            if (!(c instanceof QemuCloud cloud)) {
                continue;
            }
            try {
                if (!cloud.engineConfig().equals(config)) {
                    continue;
                }
            } catch (InvalidInputException e) {
                continue; // a cloud with invalid directories has no engine, so no snapshot to book
            }
            for (QemuTemplate t : cloud.getTemplates()) {
                try {
                    TemplateSpec spec = t.toSpec();
                    if (!spec.image().equals(prep.image()) || spec.cpus() != prep.cpus() || spec.memoryMiB() != prep.memoryMiB()) {
                        continue;
                    }
                    CapacityLedger ledger = ledger(cloud.getId(), cloud.limits());
                    CapacityLedger.Claim claim = new CapacityLedger.Claim(cloud.templateKey(t), spec.instanceCap(), spec.cpus(),
                            spec.memoryMiB(), CapacityLedger.Purpose.SNAPSHOT_BUILD);
                    Optional<CapacityLedger.Reservation> r = ledger.tryReserve(prep.vmId(), claim);
                    if (r.isEmpty()) {
                        LOGGER.fine(() -> "Warm snapshot of " + prep.image() + " not built now: " + ledger.refusal(claim));
                        return Optional.empty();
                    }
                    CapacityLedger.Reservation booked = r.get();
                    return Optional.of(booked::release);
                } catch (InvalidInputException e) {
                    // an invalid template (or cap) has no snapshot to book
                }
            }
        }
        return Optional.of(() -> { });
    }

    public synchronized List<EngineConfig> engineConfigs() {
        return new ArrayList<>(engines.keySet());
    }

    /**
     * Closes the engines whose directories no cloud uses any more and that hold no VM (a removed
     * cloud, a changed state directory), so their threads and sockets go too.
     */
    void releaseUnused(Set<EngineConfig> inUse) {
        List<QemuEngine> unused = new ArrayList<>();
        synchronized (this) {
            for (var it = engines.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                QemuEngine engine = e.getValue().getNow(null);
                if (!inUse.contains(e.getKey()) && engine != null && engine.vms().isEmpty()) {
                    it.remove();
                    unused.add(engine);
                }
            }
        }
        for (QemuEngine engine : unused) {
            LOGGER.info(() -> "Closing the QEMU engine for state " + engine.config().stateDir() + ": no cloud uses it any more");
            closeQuietly(engine);
        }
    }

    /**
     * The ledger of a cloud, by its {@link QemuCloud#getId() id} (kept across renames and
     * configuration reloads), created on first use; its limits follow the cloud's configuration.
     */
    public synchronized CapacityLedger ledger(@NonNull String cloudId, @NonNull CapacityLedger.Limits limits) {
        CapacityLedger ledger = ledgers.computeIfAbsent(cloudId, n -> new CapacityLedger(limits));
        ledger.setLimits(limits);
        return ledger;
    }

    /** Gives back the room of a VM, whichever cloud ledger holds it; true if something was released. */
    public boolean release(@CheckForNull String cloudId, @NonNull String vmId) {
        List<CapacityLedger> all;
        synchronized (this) {
            CapacityLedger own = cloudId == null ? null : ledgers.get(cloudId);
            if (own != null && own.holds(vmId)) {
                return own.release(vmId);
            }
            all = new ArrayList<>(ledgers.values());
        }
        boolean released = false;
        for (CapacityLedger l : all) {
            released |= l.release(vmId);
        }
        return released;
    }

    public synchronized boolean isReserved(@NonNull String vmId) {
        for (CapacityLedger l : ledgers.values()) {
            if (l.holds(vmId)) {
                return true;
            }
        }
        return false;
    }

    public synchronized Map<String, CapacityLedger> ledgers() {
        return new HashMap<>(ledgers);
    }

    /** Whether an engine of this controller is still booting {@code vmId}; the engines' own VM lists are the only record of that. */
    public boolean isBooting(@NonNull String vmId) {
        for (QemuEngine e : runningEngines()) {
            if (e.isBooting(vmId)) {
                return true;
            }
        }
        return false;
    }

    /** The live VM with this id in any engine of this controller, if there is one. */
    @CheckForNull
    public Vm findVm(@NonNull String vmId) {
        for (Vm vm : allVms()) {
            if (vm.id().equals(vmId)) {
                return vm;
            }
        }
        return null;
    }

    /** Whether {@code vmId} is an engine's own boot of a template for its warm snapshot (no agent ever has it). */
    public boolean isWarmSnapshotBoot(@NonNull String vmId) {
        for (QemuEngine e : runningEngines()) {
            if (e.isWarmSnapshotBoot(vmId)) {
                return true;
            }
        }
        return false;
    }

    /** Every VM the engines of this controller hold (booting, running or being destroyed). */
    public List<Vm> allVms() {
        List<Vm> vms = new ArrayList<>();
        for (QemuEngine e : runningEngines()) {
            vms.addAll(e.vms());
        }
        return vms;
    }

    /** The engines that have started, copied, so they are asked about their VMs without this object's lock. */
    private synchronized List<QemuEngine> runningEngines() {
        List<QemuEngine> running = new ArrayList<>();
        for (CompletableFuture<QemuEngine> f : engines.values()) {
            QemuEngine e = f.isDone() && !f.isCompletedExceptionally() ? f.getNow(null) : null;
            if (e != null) {
                running.add(e);
            }
        }
        return running;
    }

    /** Collects the exited VMs this process inherited from the JVM before a safe restart (see {@link InheritedZombieCollector}). */
    void collectInheritedZombies(TaskListener listener) {
        if (zombies.get() == null) {
            zombies.compareAndSet(null, Optional.ofNullable(InheritedZombieCollector.forThisProcess()));
        }
        zombies.get().ifPresent(c -> c.collect(listener));
    }

    /** Whether Jenkins is shutting down (our terminator ran): agents are left alone, not terminated, from then on. */
    synchronized boolean shuttingDown() {
        return closed;
    }

    /**
     * Closes every engine and refuses to start new ones. Agent VMs are leased, and are left
     * running for the controller's next start (a restart, safe or not), which re-attaches them;
     * VMs still booting and warm-snapshot boots are destroyed. Jenkins closes the agents' channels
     * after this; nothing here destroys an agent's VM or removes its node.
     */
    void closeAll() {
        List<QemuEngine> snapshot;
        synchronized (this) {
            closed = true;
            snapshot = runningEngines();
            engines.clear();
        }
        for (QemuEngine e : snapshot) {
            try {
                e.closeLeavingLeasedRunning();
            } catch (IOException | RuntimeException x) {
                LOGGER.log(Level.WARNING, "Failed to close a QEMU engine cleanly", x);
            }
        }
    }

    private static void closeQuietly(QemuEngine e) {
        try {
            e.close();
        } catch (IOException | RuntimeException x) {
            LOGGER.log(Level.WARNING, "Failed to close a QEMU engine cleanly", x);
        }
    }

    @Terminator
    public static void shutdown() {
        ExtensionList<QemuEngines> all = ExtensionList.lookup(QemuEngines.class);
        for (QemuEngines engines : all) {
            engines.closeAll();
        }
    }
}
