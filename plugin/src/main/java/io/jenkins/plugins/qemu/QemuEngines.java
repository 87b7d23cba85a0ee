package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.ExtensionList;
import hudson.init.Terminator;
import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.cloud.CapacityLedger;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The controller-wide home of what must outlive a {@link QemuCloud} object: Jenkins replaces
 * cloud objects on every configuration save, but running VMs and the VMs counted against a cap
 * must not be forgotten or destroyed by that. Engines are kept per {@link EngineConfig} (images
 * and state directory), ledgers per cloud name. It is an {@link Extension} singleton rather than
 * static state so Jenkins owns its lifetime; {@link #shutdown()} destroys all VMs when the
 * controller stops, as their agents cannot survive a restart anyway.
 */
@Extension
public final class QemuEngines {
    private static final Logger LOGGER = Logger.getLogger(QemuEngines.class.getName());

    private final Map<EngineConfig, QemuEngine> engines = new HashMap<>();
    private final Map<String, CapacityLedger> ledgers = new HashMap<>();

    public static QemuEngines get() {
        return ExtensionList.lookupSingleton(QemuEngines.class);
    }

    /** The engine for these directories, started on first use. */
    public synchronized QemuEngine engine(@NonNull EngineConfig config) throws IOException {
        QemuEngine engine = engines.get(config);
        if (engine == null) {
            engine = new QemuEngine(config);
            engines.put(config, engine);
            LOGGER.info(() -> "Started QEMU engine for images " + config.imagesDir() + ", state " + config.stateDir()
                    + ", owner " + config.ownerId());
        }
        return engine;
    }

    public synchronized List<EngineConfig> engineConfigs() {
        return new ArrayList<>(engines.keySet());
    }

    /** The ledger of a cloud, created on first use; its limits follow the cloud's current configuration. */
    public synchronized CapacityLedger ledger(@NonNull String cloudName, @NonNull CapacityLedger.Limits limits) {
        CapacityLedger ledger = ledgers.computeIfAbsent(cloudName, n -> new CapacityLedger(limits));
        ledger.setLimits(limits);
        return ledger;
    }

    /** Gives back the room of a VM, whichever cloud ledger holds it; true if something was released. */
    public boolean release(@CheckForNull String cloudName, @NonNull String vmId) {
        List<CapacityLedger> all;
        synchronized (this) {
            CapacityLedger own = cloudName == null ? null : ledgers.get(cloudName);
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

    /** A copy, so engines are asked about their VMs without holding this object's lock. */
    private synchronized List<QemuEngine> runningEngines() {
        return new ArrayList<>(engines.values());
    }

    /** Closes every engine, which destroys its VMs. */
    void closeAll() {
        List<QemuEngine> snapshot;
        synchronized (this) {
            snapshot = new ArrayList<>(engines.values());
            engines.clear();
        }
        for (QemuEngine e : snapshot) {
            try {
                e.close();
            } catch (IOException | RuntimeException x) {
                LOGGER.log(Level.WARNING, "Failed to close a QEMU engine cleanly", x);
            }
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
