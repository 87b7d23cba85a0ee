package io.jenkins.plugins.qemu;

import hudson.model.Computer;
import hudson.model.Node;
import io.jenkins.plugins.qemu.engine.cloud.CapacityLedger;
import io.jenkins.plugins.qemu.engine.cloud.HostPlacement;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.host.AgentJarRef;
import io.jenkins.plugins.qemu.engine.host.BuildSnapshot;
import io.jenkins.plugins.qemu.engine.host.CheckSnapshot;
import io.jenkins.plugins.qemu.engine.host.JarSync;
import io.jenkins.plugins.qemu.engine.host.SnapshotState;
import io.jenkins.plugins.qemu.engine.vm.AgentJar;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps each QEMU host's warm snapshots current for the warm-start templates of the clouds that
 * use it, at every cleanup pass, so that builds on a host restore instead of booting cold. Each
 * host keeps its own snapshots (they are only valid for the QEMU and image that saved them) and
 * its engine builds one only on request: the snapshot's boot is a whole VM, so it is first booked
 * on that host and against the cloud's and template's caps ({@link HostPlacement#placeOn}), and
 * the booking is held until the host answers that the snapshot is saved. A host without room now
 * is asked again at the next pass; one build per host and template at a time.
 */
final class HostWarmUp {
    private static final Logger LOGGER = Logger.getLogger(HostWarmUp.class.getName());

    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();

    /** Checks, and builds where needed, every warm-start template's snapshot on each online host of {@code cloud}, in the background. */
    void warmUp(QemuCloud cloud) {
        QemuHosts hosts = QemuHosts.get();
        for (QemuTemplate t : cloud.getTemplates()) {
            TemplateSpec spec;
            try {
                spec = t.toSpec();
            } catch (InvalidInputException e) {
                continue; // the template's own check says why; it boots nothing
            }
            if (!spec.warmStart()) {
                continue;
            }
            for (Node n : QemuHosts.hostNodes(cloud)) {
                RemoteHost host = hosts.remote(n.getNodeName());
                String key = cloud.getId() + " " + n.getNodeName() + " " + cloud.templateKey(t);
                if (host != null && inFlight.add(key)) {
                    Computer.threadPoolForRemoting.submit(() -> {
                        try {
                            warmUpOn(cloud, t, spec, host);
                        } finally {
                            inFlight.remove(key);
                        }
                    });
                }
            }
        }
    }

    /** What {@code host} says of the template's warm snapshot, as a VM of the template would restore it. */
    static SnapshotState check(TemplateSpec spec, RemoteHost host) throws IOException, InterruptedException {
        return host.call(new CheckSnapshot(spec.toVmSpec(VmSpec.newVmId()), sendJar(spec, host)));
    }

    /** The agent's jar is part of the snapshot (it is started in it), so the host gets it first, as for a boot. */
    private static AgentJarRef sendJar(TemplateSpec spec, RemoteHost host) throws IOException, InterruptedException {
        AgentJar jar = QemuEngines.get().remotingJar(spec.jvmOptions());
        AgentJarRef ref = QemuHosts.get().agentJarRef(jar);
        JarSync.send(host, jar, ref);
        return ref;
    }

    private static void warmUpOn(QemuCloud cloud, QemuTemplate t, TemplateSpec spec, RemoteHost host) {
        String what = "Cloud " + cloud.name + ", template '" + t.getLabels() + "', host " + host.host();
        try {
            AgentJarRef ref = sendJar(spec, host);
            VmSpec vm = spec.toVmSpec(VmSpec.newVmId());
            SnapshotState state = host.call(new CheckSnapshot(vm, ref));
            if (state.current() || !state.buildable()) {
                LOGGER.fine(() -> what + ": " + state.text());
                return;
            }
            // Brought up to date as for a build's VM: the cloud's hosts and budgets, and each host's last probe.
            HostPlacement placement = QemuHosts.get().probes().refresh(cloud);
            CapacityLedger.Claim claim = new CapacityLedger.Claim(cloud.templateKey(t), spec.instanceCap(), spec.cpus(), spec.memoryMiB(),
                    CapacityLedger.Purpose.SNAPSHOT_BUILD);
            HostPlacement.Decision d = placement.placeOn(vm.vmId(), claim, spec.image(), host.host());
            if (!d.placed()) {
                LOGGER.fine(() -> what + ": the warm snapshot is not built now (" + state.text() + "): " + d.refusal());
                return;
            }
            long start = System.nanoTime();
            try {
                LOGGER.info(() -> what + ": building the host's warm snapshot (" + state.text() + "), booked as " + vm.vmId());
                String done = host.call(new BuildSnapshot(vm, ref));
                LOGGER.info(() -> what + ": " + done + " after " + (System.nanoTime() - start) / 1_000_000_000 + " s");
            } finally {
                placement.release(vm.vmId());
            }
        } catch (IOException | RuntimeException e) {
            LOGGER.log(Level.WARNING, what + ": building the host's warm snapshot failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
