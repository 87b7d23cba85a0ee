package io.jenkins.plugins.qemu;

import hudson.model.TaskListener;
import hudson.slaves.Cloud;
import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.cloud.CapacityLedger;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.IOException;
import java.util.Optional;
import java.util.logging.Logger;
import jenkins.model.Jenkins;

/**
 * Re-attaches the VM of a {@link QemuAgent} read from disk after a controller restart: finds the
 * agent's cloud and its engine, has the engine adopt the leased VM (which proves ownership
 * itself, see {@code QemuEngine.adopt}) with the key and host key the agent kept, and books the
 * VM in the cloud's ledger again, so it counts against the caps like any running agent.
 */
final class QemuReattach {
    private static final Logger LOGGER = Logger.getLogger(QemuReattach.class.getName());

    private QemuReattach() {}

    static Vm adopt(QemuAgent agent, QemuAgentLauncher launcher, TaskListener listener) throws IOException, InterruptedException {
        String key = launcher.privateKeyText();
        String hostKey = launcher.hostKeyLine();
        if (key == null || hostKey == null) {
            throw new IOException("agent " + agent.getNodeName() + " was saved without its VM's key (by an earlier version of the plugin)");
        }
        QemuCloud cloud = cloudOf(agent);
        EngineConfig config;
        try {
            config = cloud.engineConfig();
        } catch (InvalidInputException e) {
            throw new IOException("cloud " + cloud.name + " has invalid directories: " + e.getMessage(), e);
        }
        QemuEngine engine = QemuEngines.get().engine(config);
        Vm vm = engine.adopt(agent.getVmId(), key, hostKey);
        if (vm.sshPort() != launcher.getPort()) {
            LOGGER.warning(() -> "VM " + vm.id() + " forwards SSH on port " + vm.sshPort() + " but agent " + agent.getNodeName()
                    + " was saved with port " + launcher.getPort());
        }
        String booked = book(cloud, agent);
        String line = "Re-attached VM " + vm.id() + " (QEMU pid " + vm.pid() + ", SSH on 127.0.0.1:" + vm.sshPort()
                + ") after the controller restart; " + booked;
        LOGGER.info(() -> agent.getNodeName() + ": " + line);
        listener.getLogger().println(line);
        return vm;
    }

    private static QemuCloud cloudOf(QemuAgent agent) throws IOException {
        QemuCloud byName = null;
        for (Cloud c : Jenkins.get().clouds) {
            if (c instanceof QemuCloud q) {
                if (q.getId().equals(agent.getCloudId())) {
                    return q;
                }
                if (q.name.equals(agent.getCloudName())) {
                    byName = q;
                }
            }
        }
        if (byName == null) {
            throw new IOException("its cloud '" + agent.getCloudName() + "' no longer exists");
        }
        return byName;
    }

    /**
     * Books the running VM against its template's claim (found by image and labels) so the caps
     * stay true. A VM that no longer fits (the caps were lowered meanwhile) keeps running: it
     * exists whether or not it is counted, and refusing it would end a build.
     */
    private static String book(QemuCloud cloud, QemuAgent agent) {
        QemuEngines engines = QemuEngines.get();
        if (engines.isReserved(agent.getVmId())) {
            return "it is already counted against the cloud's caps";
        }
        // One-off templates of qemu steps count too, once their step has resumed and registered them again.
        for (QemuTemplate t : cloud.candidates()) {
            try {
                TemplateSpec spec = t.toSpec();
                if (!spec.image().equals(agent.getImage()) || !spec.labels().equals(agent.getLabelString())) {
                    continue;
                }
                CapacityLedger ledger = engines.ledger(cloud.getId(), cloud.limits());
                CapacityLedger.Claim claim = new CapacityLedger.Claim(cloud.templateKey(t), spec.instanceCap(), spec.cpus(),
                        spec.memoryMiB(), CapacityLedger.Purpose.AGENT);
                Optional<CapacityLedger.Reservation> r = ledger.tryReserve(agent.getVmId(), claim);
                return r.isPresent() ? "counted against the cloud's caps again"
                        : "not counted against the cloud's caps (" + ledger.refusal(claim) + ")";
            } catch (InvalidInputException e) {
                // an invalid template made no agent; try the next one
            }
        }
        return "no template of cloud " + cloud.name + " matches it any more, so it is not counted against the caps";
    }
}
