package io.jenkins.plugins.qemu;

import hudson.Util;
import hudson.util.FormValidation;
import io.jenkins.plugins.qemu.engine.cloud.CapacityLedger;
import io.jenkins.plugins.qemu.engine.cloud.HostPlacement;
import io.jenkins.plugins.qemu.engine.cloud.TemplateReadiness;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.host.AgentJarRef;
import io.jenkins.plugins.qemu.engine.host.BootVm;
import io.jenkins.plugins.qemu.engine.host.BootedVm;
import io.jenkins.plugins.qemu.engine.host.CommandResult;
import io.jenkins.plugins.qemu.engine.host.DestroyVm;
import io.jenkins.plugins.qemu.engine.host.HostChannel;
import io.jenkins.plugins.qemu.engine.host.JarSync;
import io.jenkins.plugins.qemu.engine.host.RunInVm;
import io.jenkins.plugins.qemu.engine.vm.AgentJar;
import io.jenkins.plugins.qemu.engine.vm.VmBootException;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;
import java.time.Duration;

/**
 * The template's "Test" button for a cloud on hosts ({@link TemplateTrial} is the controller's
 * own machine): the VM is placed like an agent's (the saved cloud's hosts, caps and budgets,
 * booked for the trial's length), booted on that host, checked there (the agent's Java starts
 * with the template's JVM options, the remote root directory is writable) over the host engine's
 * SSH session, and destroyed. The answer names the host, or says why no host could take it.
 */
final class HostTrial {
    private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(30);

    private HostTrial() {}

    static FormValidation run(QemuCloud cloud, TemplateSpec template) throws InterruptedException {
        QemuHosts hosts = QemuHosts.get();
        HostPlacement placement = hosts.probes().refresh(cloud);
        String vmId = VmSpec.newVmId();
        CapacityLedger.Claim claim = new CapacityLedger.Claim(TemplateReadiness.key(cloud.getId(), template), 0, template.cpus(),
                template.memoryMiB(), CapacityLedger.Purpose.TRIAL);
        HostPlacement.Decision d = placement.place(vmId, claim, template.image());
        if (!d.placed()) {
            return FormValidation.warning("Not tested now: " + d.refusal() + ". (Hosts are asked in the background; a host that"
                    + " just connected is usable a few seconds later.)");
        }
        HostChannel host = null;
        BootedVm booted = null;
        try {
            host = hosts.channel(cloud, d.host());
            if (host == null) {
                return FormValidation.warning("Not tested now: host " + d.host() + " went offline");
            }
            AgentJar jar = QemuEngines.get().remotingJar(template.jvmOptions());
            AgentJarRef ref = hosts.agentJarRef(jar);
            JarSync.send(host, jar, ref);
            booted = host.call(new BootVm(template.toVmSpec(vmId), ref));
            placement.booted(vmId);
            String summary = "Online on host " + d.host() + " after " + booted.timeToOnlineMillis() + " ms"
                    + (booted.restored() ? " (restored from the host's warm snapshot)" : "");
            String options = template.jvmOptions() == null || template.jvmOptions().isBlank() ? "" : template.jvmOptions() + " ";
            CommandResult java = host.call(new RunInVm(vmId, "java " + options + "-version", CHECK_TIMEOUT));
            if (java.exitCode() != 0) {
                return FormValidation.warning(summary + ", but 'java " + options + "-version' failed in the guest (status "
                        + java.exitCode() + "): " + java.stderr().strip());
            }
            CommandResult dir = host.call(new RunInVm(vmId, "mkdir -p " + template.remoteFs() + " && test -w " + template.remoteFs(),
                    CHECK_TIMEOUT));
            if (dir.exitCode() != 0) {
                return FormValidation.warning(summary + ", but the agent user cannot create the remote root directory "
                        + template.remoteFs() + " in the guest.");
            }
            String version = java.stderr().strip().isEmpty() ? java.stdout().strip() : java.stderr().strip();
            int nl = version.indexOf('\n');
            return FormValidation.ok(summary + ". Guest Java: " + (nl < 0 ? version : version.substring(0, nl)) + "; "
                    + template.remoteFs() + " is writable.");
        } catch (VmBootException e) {
            placement.bootFailed(vmId, e.getMessage());
            return FormValidation.errorWithMarkup("<pre>" + Util.escape("On host " + d.host() + ": " + e.getMessage()) + "</pre>");
        } catch (IOException | RuntimeException e) {
            return FormValidation.error("Could not boot the template on host " + d.host() + ": " + e.getMessage());
        } finally {
            if (booted != null) {
                try {
                    host.call(new DestroyVm(vmId));
                } catch (IOException | RuntimeException e) {
                    // the host's next cleanup pass removes it: no agent and no booking want it
                }
            }
            placement.release(vmId);
        }
    }
}
