package io.jenkins.plugins.qemu;

import hudson.model.Node;
import hudson.model.TaskListener;
import hudson.slaves.Cloud;
import io.jenkins.plugins.qemu.engine.cloud.CapacityLedger;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import jenkins.model.Jenkins;

/**
 * Makes Jenkins' agents and the host's VMs agree again, at controller start and periodically:
 * removes QEMU agents whose VM is gone (it died, or the controller restarted), releases capacity
 * bookings that no agent or boot claims any more, and has the engine's reaper destroy VMs of this
 * controller that no agent wants. A VM counts as wanted while its engine boots it, while its
 * booking is held, and while an agent names it, so a VM between boot and registration is never reaped.
 */
final class QemuCleanup {
    private static final Logger LOGGER = Logger.getLogger(QemuCleanup.class.getName());
    /** A booking older than the longest boot plus this, with no agent and no boot, is lost. */
    private static final Duration LOST_BOOKING_MARGIN = Duration.ofMinutes(10);

    private QemuCleanup() {}

    static void run(TaskListener listener) {
        Jenkins jenkins = Jenkins.get();
        QemuEngines engines = QemuEngines.get();
        if (engines.shuttingDown()) {
            return; // agents and their leased VMs are kept for the next start
        }
        reattachAgentsFromDisk(jenkins, listener);
        removeAgentsWithoutVm(jenkins, listener);
        Map<String, QemuAgent> agents = agentsByVmId(jenkins);
        releaseLostBookings(jenkins, engines, agents, listener);
        warmUp(jenkins, engines);
        Set<EngineConfig> configured = configuredEngines(jenkins);
        Set<EngineConfig> everyEngine = new LinkedHashSet<>(engines.engineConfigs());
        everyEngine.addAll(configured);
        // Engines started earlier for old settings are reaped too: their VMs may still be around.
        for (EngineConfig config : everyEngine) {
            try {
                // The engine adds what it still wants itself (VMs it is booting, its warm-snapshot boots)
                // and destroys the VMs it reaps in memory too.
                List<String> reaped = engines.engine(config).reap(vmId -> agents.containsKey(vmId) || engines.isReserved(vmId)).reaped();
                if (!reaped.isEmpty()) {
                    listener.getLogger().println("Reaped VMs no agent wants in " + config.stateDir() + ": " + reaped);
                    QemuMetrics.get().record(config, m -> m.reaped(reaped.size()));
                }
            } catch (IOException | RuntimeException e) {
                if (engines.shuttingDown()) {
                    return; // Jenkins began to shut down during this pass: its leased VMs are kept for the next start
                }
                LOGGER.log(Level.WARNING, "Reaping VMs in " + config.stateDir() + " failed", e);
            }
        }
        engines.releaseUnused(configured);
        // The running VMs per template change without an event (an agent removed): the files follow here.
        QemuMetrics.get().writeAll(configured);
        QemuHosts.get().reapHosts(listener);
        engines.collectInheritedZombies(listener);
    }

    /** The directories the configured clouds use now (not the engines started earlier for old settings). */
    private static Set<EngineConfig> configuredEngines(Jenkins jenkins) {
        Set<EngineConfig> configs = new LinkedHashSet<>();
        for (Cloud cloud : jenkins.clouds) {
            // A cloud on hosts uses the controller's engine only when the built-in host is one of them.
            if (cloud instanceof QemuCloud qemu && (!qemu.usesHosts() || qemu.isUseBuiltInHost())) {
                try {
                    configs.add(qemu.engineConfig());
                } catch (InvalidInputException e) {
                    LOGGER.fine(() -> "Cloud " + qemu.name + " has invalid directories: " + e.getMessage());
                }
            }
        }
        return configs;
    }

    /**
     * Has each warm-start template's snapshot built (in the engine's background) when it is missing
     * or stale, e.g. after the image was replaced or QEMU upgraded, so the next build restores
     * instead of booting cold. Every template of every QEMU cloud, starting the cloud's engine if
     * it is not running yet; when the snapshot is current the check is a few file stats. A cloud on
     * hosts has each host build its own, booked there ({@link HostWarmUp}).
     */
    private static void warmUp(Jenkins jenkins, QemuEngines engines) {
        for (Cloud cloud : jenkins.clouds) {
            if (!(cloud instanceof QemuCloud qemu)) {
                continue;
            }
            if (qemu.usesHosts()) {
                QemuHosts.get().warmUp().warmUp(qemu); // each host keeps its own snapshots
                continue;
            }
            for (QemuTemplate t : qemu.getTemplates()) {
                try {
                    TemplateSpec spec = t.toSpec();
                    if (!spec.warmStart()) {
                        continue;
                    }
                    String what = engines.engine(qemu.engineConfig()).warmUpLater(engines.withRemotingJar(spec.toVmSpec(VmSpec.newVmId()), spec.jvmOptions()));
                    LOGGER.fine(() -> "Warm snapshot of template '" + t.getLabels() + "' in cloud " + qemu.name + ": " + what);
                } catch (InvalidInputException | IOException e) {
                    LOGGER.log(Level.FINE, "Template '" + t.getLabels() + "' of cloud " + qemu.name + " cannot be warmed up", e);
                }
            }
        }
    }

    /**
     * After a controller restart, the agents read from disk get their leased VMs back before
     * anything decides that their VMs are gone (the first launch may have done it already).
     */
    private static void reattachAgentsFromDisk(Jenkins jenkins, TaskListener listener) {
        for (Node node : jenkins.getNodes()) {
            if (node instanceof QemuAgent agent) {
                agent.reattach(listener);
            }
        }
    }

    /** Agents whose VM is gone never come back; the retention check would remove them too, but only once they are offline long enough. */
    private static void removeAgentsWithoutVm(Jenkins jenkins, TaskListener listener) {
        for (Node node : jenkins.getNodes()) {
            if (node instanceof QemuAgent agent && !agent.isVmAlive() && !QemuEngines.get().isBooting(agent.getVmId())) {
                String why = agent.reattachFailure();
                listener.getLogger().println("Removing agent " + agent.getNodeName() + ": its VM is gone"
                        + (why == null ? "" : " (not re-attached after the controller restart: " + why + ")"));
                try {
                    agent.terminate();
                } catch (IOException | InterruptedException | RuntimeException e) {
                    LOGGER.log(Level.WARNING, "Failed to remove agent " + agent.getNodeName(), e);
                }
            }
        }
    }

    private static void releaseLostBookings(Jenkins jenkins, QemuEngines engines, Map<String, QemuAgent> agents,
            TaskListener listener) {
        for (Map.Entry<String, CapacityLedger> e : engines.ledgers().entrySet()) {
            Duration age = longestBoot(cloudWithId(jenkins, e.getKey())).plus(LOST_BOOKING_MARGIN);
            for (String vmId : e.getValue().unclaimedOlderThan(age, id -> agents.containsKey(id) || engines.isBooting(id))) {
                if (e.getValue().release(vmId)) {
                    listener.getLogger().println("Released the booking of VM " + vmId + " of cloud " + e.getKey()
                            + ": no agent was ever registered for it");
                }
            }
        }
    }

    private static Cloud cloudWithId(Jenkins jenkins, String id) {
        for (Cloud c : jenkins.clouds) {
            if (c instanceof QemuCloud qemu && qemu.getId().equals(id)) {
                return c;
            }
        }
        return null;
    }

    /** The longest a VM of this cloud may take from booking to agent: its boot plus its agent's launch. */
    private static Duration longestBoot(Cloud cloud) {
        Duration longest = Duration.ofMinutes(5);
        if (cloud instanceof QemuCloud qemu) {
            for (QemuTemplate t : qemu.getTemplates()) {
                try {
                    TemplateSpec spec = t.toSpec();
                    Duration both = spec.bootTimeout().plus(spec.launchTimeout());
                    if (both.compareTo(longest) > 0) {
                        longest = both;
                    }
                } catch (InvalidInputException ignored) {
                    // an invalid template cannot boot, so it has no VMs to wait for
                }
            }
        }
        return longest;
    }

    private static Map<String, QemuAgent> agentsByVmId(Jenkins jenkins) {
        Map<String, QemuAgent> agents = new HashMap<>();
        for (Node node : jenkins.getNodes()) {
            if (node instanceof QemuAgent agent) {
                agents.put(agent.getVmId(), agent);
            }
        }
        return agents;
    }
}
