package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import hudson.Extension;
import hudson.ExtensionList;
import hudson.model.Computer;
import hudson.model.Label;
import hudson.model.Node;
import hudson.model.TaskListener;
import hudson.remoting.VirtualChannel;
import hudson.slaves.Cloud;
import hudson.slaves.NodeProvisioner.PlannedNode;
import io.jenkins.plugins.qemu.engine.cloud.AgentNaming;
import io.jenkins.plugins.qemu.engine.cloud.CapacityLedger;
import io.jenkins.plugins.qemu.engine.cloud.CloudValidation;
import io.jenkins.plugins.qemu.engine.cloud.Demand;
import io.jenkins.plugins.qemu.engine.cloud.HostBudget;
import io.jenkins.plugins.qemu.engine.cloud.HostPlacement;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.host.AgentJarRef;
import io.jenkins.plugins.qemu.engine.host.ConsoleTail;
import io.jenkins.plugins.qemu.engine.host.DestroyVm;
import io.jenkins.plugins.qemu.engine.host.HostChannel;
import io.jenkins.plugins.qemu.engine.host.HostSetup;
import io.jenkins.plugins.qemu.engine.host.HostSide;
import io.jenkins.plugins.qemu.engine.host.InProcessHost;
import io.jenkins.plugins.qemu.engine.host.ReapHost;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.vm.AgentJar;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import jenkins.model.Jenkins;

/**
 * The controller's view of the QEMU hosts of every cloud with a host label: one
 * {@link HostPlacement} per cloud (booking the cloud's ledger and the chosen host's budget in one
 * step), the hosts' last probe answers ({@link HostProbes}), and the ways to reach a host (its
 * agent's channel, or the controller's own engine for the built-in host). A host that goes
 * offline is forgotten at once: its VMs' agents are removed and their room given back; when it
 * comes back it is probed again (its new engine has removed what the old one left). An
 * {@link Extension} singleton, so Jenkins owns its lifetime.
 */
@Extension
public final class QemuHosts {
    private static final Logger LOGGER = Logger.getLogger(QemuHosts.class.getName());
    /** The name of the controller's own machine as a host. */
    static final String BUILT_IN = "built-in";
    /** Boots failing in a row on one host before it is skipped, and for how long. */
    private static final int FAILURES_BEFORE_COOL_DOWN = 3;
    private static final Duration COOL_DOWN = Duration.ofMinutes(5);

    private final Map<String, HostPlacement> placements = new HashMap<>(); // by cloud id; guarded by this
    private final Map<EngineConfig, HostSide> builtIn = new HashMap<>(); // guarded by this
    private final HostProbes probes = new HostProbes(this);
    private final HostWarmUp warmUp = new HostWarmUp();
    /** The agent jar as hosts get it, hashed once per jar (the cached jars' hashes cost seconds); guarded by this. */
    private AgentJar refJar;
    private AgentJarRef ref;

    static QemuHosts get() {
        return ExtensionList.lookupSingleton(QemuHosts.class);
    }

    HostProbes probes() {
        return probes;
    }

    HostWarmUp warmUp() {
        return warmUp;
    }

    /** The reference hosts resolve to their own copies of {@code jar} (see {@link JarSync}). */
    synchronized AgentJarRef agentJarRef(AgentJar jar) throws IOException {
        if (!jar.equals(refJar)) {
            ref = AgentJarRef.of(jar);
            refJar = jar;
        }
        return ref;
    }

    /** The placement of a cloud, made on first use over the cloud's own ledger. */
    synchronized HostPlacement placement(QemuCloud cloud) {
        CapacityLedger ledger = QemuEngines.get().ledger(cloud.getId(), cloud.limits());
        return placements.computeIfAbsent(cloud.getId(), id -> new HostPlacement(ledger, FAILURES_BEFORE_COOL_DOWN, COOL_DOWN, Clock.systemUTC()));
    }

    private synchronized List<HostPlacement> allPlacements() {
        return new ArrayList<>(placements.values());
    }

    /** The Jenkins agents the cloud's host label selects (never a QEMU VM agent, never the controller itself). */
    static List<Node> hostNodes(QemuCloud cloud) {
        List<Node> nodes = new ArrayList<>();
        if (!cloud.usesHosts()) {
            return nodes;
        }
        Label label;
        try {
            label = Label.parseExpression(cloud.getHostLabel());
        } catch (IllegalArgumentException e) {
            LOGGER.fine(() -> "Cloud " + cloud.name + ": host label '" + cloud.getHostLabel() + "' is invalid: " + e.getMessage());
            return nodes;
        }
        for (Node n : label.getNodes()) {
            if (!(n instanceof QemuAgent) && !(n instanceof Jenkins)) {
                nodes.add(n);
            }
        }
        return nodes;
    }

    /** The line to a host agent while it is online; null when it is not. */
    @CheckForNull
    RemoteHost remote(String host) {
        Jenkins jenkins = Jenkins.get();
        Node node = jenkins.getNode(host);
        Computer c = node == null ? null : node.toComputer();
        VirtualChannel channel = c == null ? null : c.getChannel();
        if (channel == null || node instanceof QemuAgent) {
            return null;
        }
        return new RemoteHost(channel, QemuHostProperty.of(node).setup(host, QemuCloud.ownerId(jenkins)));
    }

    /**
     * Whether a host VM still lives: as long as the host connection that booted it (its engine
     * ends with that connection); the built-in host's as long as the controller's engine has it.
     */
    boolean vmAlive(QemuAgent agent, @CheckForNull VirtualChannel bootedOver) {
        if (BUILT_IN.equals(agent.getHost())) {
            return QemuEngines.get().findVm(agent.getVmId()) != null;
        }
        RemoteHost now = remote(agent.getHost());
        return bootedOver != null && now != null && now.channel() == bootedOver;
    }

    /** The line to one of the cloud's hosts, the built-in one included; null when it is offline. */
    @CheckForNull
    HostChannel channel(QemuCloud cloud, String host) throws IOException {
        return BUILT_IN.equals(host) ? new InProcessHost(builtInSide(cloud.name)) : remote(host);
    }

    /**
     * The controller's own machine as a host of the cloud: a host side over the very engine the
     * cloud uses without hosts ({@link QemuEngines} owns and closes it; this side is never closed).
     */
    HostSide builtInSide(String cloudName) throws IOException {
        QemuCloud cloud = QemuCloud.savedCloudNamed(cloudName);
        if (cloud == null) {
            throw new IOException("cloud " + cloudName + " is gone; its built-in host went with it");
        }
        EngineConfig config = cloud.engineConfig();
        synchronized (this) {
            HostSide side = builtIn.get(config);
            if (side == null) {
                HostSetup setup = new HostSetup(BUILT_IN, CloudValidation.directory("imagesDir", cloud.getImagesDir()),
                        CloudValidation.directory("stateDir", cloud.getStateDir()), QemuCloud.ownerId(Jenkins.get()));
                side = new HostSide(setup, (c, gate) -> QemuEngines.get().engine(c)); // the controller's engine books its own snapshot boots
                builtIn.put(config, side);
            }
            return side;
        }
    }

    /** The budgets of the cloud's hosts now: each host agent's {@link QemuHostProperty}, and the built-in host's the cloud's own. */
    List<HostBudget> budgets(QemuCloud cloud) {
        List<HostBudget> budgets = new ArrayList<>();
        for (Node n : hostNodes(cloud)) {
            try {
                budgets.add(QemuHostProperty.of(n).budget(n.getNodeName()));
            } catch (InvalidInputException e) {
                LOGGER.warning("Cloud " + cloud.name + " skips host " + n.getNodeName() + ": its QEMU host settings are invalid: " + e.getMessage());
            }
        }
        if (cloud.isUseBuiltInHost()) {
            budgets.add(new HostBudget(BUILT_IN, 0, cloud.getHostCpus(), CloudValidation.hostMemoryMiB("hostMemory", cloud.getHostMemory())));
        }
        return budgets;
    }

    /**
     * Plans VMs of {@code template} on the cloud's hosts: each is booked on the cloud's ledger and
     * its host's budget at once and booted there by a {@link HostProvisioningTask}. A VM no host
     * can take is not planned; the reason (every host's) is logged when it changes.
     */
    List<PlannedNode> plan(QemuCloud cloud, QemuTemplate template, TemplateSpec spec, @CheckForNull Label label, int excessWorkload) {
        HostPlacement placement = probes.refresh(cloud);
        String key = cloud.templateKey(template);
        CapacityLedger.Claim claim = new CapacityLedger.Claim(key, spec.instanceCap(), spec.cpus(), spec.memoryMiB(), CapacityLedger.Purpose.AGENT);
        List<PlannedNode> planned = new ArrayList<>();
        int wanted = Demand.vmsFor(excessWorkload, spec.executors());
        for (int i = 0; i < wanted; i++) {
            String vmId = VmSpec.newVmId();
            HostPlacement.Decision d = placement.place(vmId, claim, spec.image());
            if (!d.placed()) {
                probes.refused(cloud, key, d.refusal());
                break;
            }
            HostChannel host;
            try {
                host = channel(cloud, d.host());
            } catch (IOException | RuntimeException e) {
                host = null;
            }
            if (host == null) {
                placement.release(vmId);
                continue;
            }
            probes.refused(cloud, key, null);
            String nodeName = AgentNaming.nodeName(cloud.name, vmId);
            HostProvisioningTask task = new HostProvisioningTask(cloud.getId(), cloud.name, host, placement, spec, vmId, key, label);
            Computer.threadPoolForRemoting.execute(task);
            planned.add(new PlannedNode(nodeName, task, spec.executors()));
            LOGGER.info(() -> "Cloud " + cloud.name + " placed VM " + vmId + " (" + nodeName + ") on host " + d.host()
                    + (d.hostReasons().isEmpty() ? "" : "; skipped: " + d.hostReasons()));
        }
        return planned;
    }

    /**
     * The cloud page's view of its hosts: what each one's VMs take and why it would take no VM
     * (of the smallest size, any image) now; null in {@code skipped} when it would.
     */
    List<HostPlacement.HostView> views(QemuCloud cloud) {
        return probes.refresh(cloud).hosts(CapacityLedger.Claim.agent(1, 1), null);
    }

    /**
     * A host is gone (its agent went offline): every placement forgets it and gives its VMs' room
     * back, and the agents of its VMs are removed now, off the caller's thread; their builds end
     * instead of waiting for a VM that went with the host's connection.
     */
    void lost(String host, String why) {
        probes.forget(host);
        Set<String> vmIds = new HashSet<>();
        for (HostPlacement p : allPlacements()) {
            vmIds.addAll(p.hostLost(host, why));
        }
        Jenkins jenkins = Jenkins.get();
        for (Node n : jenkins.getNodes()) {
            if (n instanceof QemuAgent agent && (host.equals(agent.getHost()) || vmIds.contains(agent.getVmId()))) {
                LOGGER.warning("Host " + host + " went offline (" + why + "): removing agent " + agent.getNodeName() + " of VM " + agent.getVmId());
                Computer.threadPoolForRemoting.submit(() -> {
                    try {
                        agent.terminate("its QEMU host " + host + " went offline (" + why + "); its VMs went with it");
                    } catch (IOException | RuntimeException e) {
                        LOGGER.log(Level.WARNING, "Removing agent " + agent.getNodeName() + " of lost host " + host + " failed", e);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
        }
    }

    /** Destroys a host VM of an agent being removed; a host that is offline took its VMs with its connection. */
    void destroy(QemuAgent agent, TaskListener listener) {
        String host = agent.getHost();
        try {
            QemuCloud cloud = QemuCloud.savedCloudNamed(agent.getCloudName());
            HostChannel channel = cloud != null ? channel(cloud, host) : BUILT_IN.equals(host) ? null : remote(host);
            if (channel == null) {
                listener.getLogger().println("VM " + agent.getVmId() + ": host " + host + " is offline; its VMs ended with its connection");
                return;
            }
            boolean had = channel.call(new DestroyVm(agent.getVmId()));
            listener.getLogger().println(had ? "Destroyed VM " + agent.getVmId() + " on host " + host
                    : "VM " + agent.getVmId() + " was already gone from host " + host);
        } catch (IOException | RuntimeException e) {
            listener.getLogger().println("Destroying VM " + agent.getVmId() + " on host " + host + " failed (" + e
                    + "); the host's next cleanup pass removes it");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            for (HostPlacement p : allPlacements()) {
                p.release(agent.getVmId());
            }
        }
    }

    /** The tail of a host VM's serial console, for the console page; null when its host is offline. */
    @CheckForNull
    String consoleTail(QemuAgent agent, int maxBytes) throws IOException, InterruptedException {
        QemuCloud cloud = QemuCloud.savedCloudNamed(agent.getCloudName());
        HostChannel channel = cloud == null ? null : channel(cloud, agent.getHost());
        return channel == null ? null : channel.call(new ConsoleTail(agent.getVmId(), maxBytes));
    }

    /**
     * The cleanup's pass on every online host of every cloud with hosts: VMs no agent wants (and no
     * booking holds) are destroyed there, with the engine's ownership proofs.
     */
    void reapHosts(TaskListener listener) {
        Jenkins jenkins = Jenkins.get();
        Set<String> wanted = new HashSet<>();
        for (Node n : jenkins.getNodes()) {
            if (n instanceof QemuAgent agent) {
                wanted.add(agent.getVmId());
            }
        }
        QemuEngines engines = QemuEngines.get();
        for (Cloud c : jenkins.clouds) {
            if (!(c instanceof QemuCloud cloud) || !cloud.usesHosts()) {
                continue;
            }
            for (Node n : hostNodes(cloud)) {
                RemoteHost host = remote(n.getNodeName());
                if (host == null) {
                    continue;
                }
                try {
                    Set<String> keep = new HashSet<>(wanted);
                    for (CapacityLedger l : engines.ledgers().values()) {
                        keep.addAll(l.vmIds());
                    }
                    List<String> reaped = host.call(new ReapHost(keep)).reaped();
                    if (!reaped.isEmpty()) {
                        listener.getLogger().println("Reaped VMs no agent wants on host " + host.host() + ": " + reaped);
                    }
                } catch (IOException | RuntimeException e) {
                    LOGGER.log(Level.WARNING, "Reaping VMs on host " + host.host() + " failed", e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
