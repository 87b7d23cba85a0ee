package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import hudson.AbortException;
import hudson.model.Label;
import hudson.model.Node;
import hudson.remoting.VirtualChannel;
import hudson.slaves.NodeProvisioner;
import io.jenkins.plugins.qemu.engine.cloud.HostPlacement;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.host.AgentJarRef;
import io.jenkins.plugins.qemu.engine.host.BootVm;
import io.jenkins.plugins.qemu.engine.host.BootedVm;
import io.jenkins.plugins.qemu.engine.host.DestroyVm;
import io.jenkins.plugins.qemu.engine.host.HostChannel;
import io.jenkins.plugins.qemu.engine.host.JarSync;
import io.jenkins.plugins.qemu.engine.usage.ProvisioningMetrics;
import io.jenkins.plugins.qemu.engine.vm.AgentJar;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.FutureTask;
import java.util.logging.Level;
import java.util.logging.Logger;
import jenkins.model.Jenkins;

/**
 * Boots one VM on the host {@link HostPlacement} chose for it and turns it into a
 * {@link QemuAgent} that remembers its host: the host first gets the agent's jars it lacks
 * ({@link JarSync}, once per host and Jenkins version), then boots the VM ({@link BootVm}; no
 * lease: a host's VMs end with its connection). A failed boot gives the room back and counts
 * against the host (after a few in a row the host cools down); a boot whose agent cannot be made
 * destroys the VM again. Cancelled before it ran, only the booking goes.
 */
final class HostProvisioningTask extends FutureTask<Node> {
    private static final Logger LOGGER = Logger.getLogger(HostProvisioningTask.class.getName());

    private final HostPlacement placement;
    private final String vmId;
    @CheckForNull
    private final Label label;

    HostProvisioningTask(String cloudId, String cloudName, HostChannel host, HostPlacement placement, TemplateSpec template,
            String vmId, String templateKey, @CheckForNull Label label) {
        super(() -> boot(cloudId, cloudName, host, placement, template, vmId, templateKey));
        this.placement = placement;
        this.vmId = vmId;
        this.label = label;
    }

    @Override
    protected void done() {
        if (isCancelled()) {
            placement.release(vmId);
            return;
        }
        Jenkins jenkins = Jenkins.getInstanceOrNull();
        if (jenkins != null) {
            NodeProvisioner provisioner = label == null ? jenkins.unlabeledNodeProvisioner : label.nodeProvisioner;
            provisioner.suggestReviewNow();
        }
    }

    private static Node boot(String cloudId, String cloudName, HostChannel host, HostPlacement placement, TemplateSpec template,
            String vmId, String templateKey) throws Exception {
        ProvisioningLog log = new ProvisioningLog();
        Instant requested = Instant.now();
        BootedVm booted = null;
        try {
            AgentJar jar = QemuEngines.get().remotingJar(template.jvmOptions());
            AgentJarRef ref = QemuHosts.get().agentJarRef(jar);
            int sent = JarSync.send(host, jar, ref);
            if (sent > 0) {
                log.add("Sent " + sent + " agent jar(s) to host " + host.host());
            }
            VmSpec spec = template.toVmSpec(vmId);
            log.add("Provisioning " + spec + " for cloud " + cloudName + " on host " + host.host());
            booted = host.call(new BootVm(spec, ref));
            booted.progress().forEach(log::add);
            String online = "VM " + vmId + " online on host " + host.host() + " after " + booted.timeToOnlineMillis() + " ms ("
                    + (booted.restored() ? "warm restore" : booted.coldBootReason() == null ? "cold boot" : "cold boot: " + booted.coldBootReason()) + "), SSH on the host's 127.0.0.1:"
                    + booted.sshPort();
            log.add(online);
            placement.booted(vmId);
            VirtualChannel channel = host instanceof RemoteHost remote ? remote.channel() : null;
            QemuAgent agent = new QemuAgent(cloudId, cloudName, booted, channel, template, templateKey, log.lines(), requested);
            BootedVm up = booted;
            QemuMetrics.get().recordForCloud(cloudId, m -> m.vmOnline(template.family(), up.restored(),
                    Duration.ofMillis(up.timeToOnlineMillis())));
            LOGGER.info(() -> agent.getNodeName() + ": " + online);
            return agent;
        } catch (InterruptedException e) {
            cleanUp(host, placement, vmId, booted, "interrupted");
            throw e;
        } catch (Exception | Error e) {
            String reason = e.getMessage() == null ? e.toString() : e.getMessage();
            cleanUp(host, placement, vmId, booted, reason);
            QemuMetrics.get().recordForCloud(cloudId, m -> m.failed(template.family(), ProvisioningMetrics.Failure.BOOT));
            String text = "Provisioning VM " + vmId + " of cloud " + cloudName + " on host " + host.host() + " failed: " + reason;
            if (e instanceof Error) {
                throw e;
            }
            LOGGER.log(Level.WARNING, text);
            throw new AbortException(text);
        }
    }

    private static void cleanUp(HostChannel host, HostPlacement placement, String vmId, @CheckForNull BootedVm booted, String reason) {
        if (booted != null) {
            try {
                host.call(new DestroyVm(vmId));
            } catch (Exception e) {
                LOGGER.log(Level.WARNING, "VM " + vmId + " on host " + host.host() + ": destroying it after a failed provisioning"
                        + " failed; the host's cleanup pass removes it", e);
            }
            placement.release(vmId);
        } else {
            placement.bootFailed(vmId, firstLine(reason));
        }
    }

    private static String firstLine(String text) {
        int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl);
    }
}
