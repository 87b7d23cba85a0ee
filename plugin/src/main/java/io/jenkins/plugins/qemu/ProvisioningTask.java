package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import hudson.AbortException;
import hudson.model.Label;
import hudson.model.Node;
import hudson.slaves.NodeProvisioner;
import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.cloud.CapacityLedger;
import io.jenkins.plugins.qemu.engine.cloud.ProvisioningBackoff;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.usage.ProvisioningMetrics;
import io.jenkins.plugins.qemu.engine.vm.PhaseTimings;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmBootException;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.FutureTask;
import java.util.logging.Level;
import java.util.logging.Logger;
import jenkins.model.Jenkins;

/**
 * Boots one VM for a planned node and turns it into a {@link QemuAgent}: the future Jenkins'
 * {@code NodeProvisioner} waits on. It runs on {@code Computer.threadPoolForRemoting} because the
 * engine's boot blocks until the guest accepts an SSH login. Whatever goes wrong (boot failure,
 * cancellation before or during the boot) the VM is destroyed, the capacity reservation released
 * and the template's back-off told, and the failure is reported once: as an
 * {@link AbortException}, which the provisioner logs without a second stack trace. When the future
 * is done the label's provisioner is asked to review at once, so the new agent is added in about
 * a second instead of at the provisioner's next periodic pass.
 */
final class ProvisioningTask extends FutureTask<Node> {
    private static final Logger LOGGER = Logger.getLogger(ProvisioningTask.class.getName());

    private final CapacityLedger.Reservation reservation;
    @CheckForNull
    private final Label label;

    ProvisioningTask(String cloudId, String cloudName, EngineConfig config, TemplateSpec template, Duration lease, String vmId,
            CapacityLedger.Reservation reservation, String templateKey, @CheckForNull Label label) {
        super(() -> boot(cloudId, cloudName, config, template, lease, vmId, reservation, templateKey));
        this.reservation = reservation;
        this.label = label;
    }

    @Override
    protected void done() {
        if (isCancelled()) {
            // Cancelled before it ever ran: nothing was booted, only the booking needs to go.
            reservation.release();
            return;
        }
        Jenkins jenkins = Jenkins.getInstanceOrNull();
        if (jenkins != null) {
            NodeProvisioner provisioner = label == null ? jenkins.unlabeledNodeProvisioner : label.nodeProvisioner;
            provisioner.suggestReviewNow();
        }
    }

    private static Node boot(String cloudId, String cloudName, EngineConfig config, TemplateSpec template, Duration lease,
            String vmId, CapacityLedger.Reservation reservation, String templateKey) throws Exception {
        QemuEngines engines = QemuEngines.get();
        ProvisioningBackoff backoff = engines.backoff();
        ProvisioningLog log = new ProvisioningLog();
        Vm vm = null;
        try {
            QemuEngine engine = engines.engine(config);
            Instant requested = Instant.now();
            // Leased: the VM outlives a controller restart, which re-attaches it (QemuAgent#reattach).
            VmSpec spec = engines.withRemotingJar(template.toAgentVmSpec(vmId, lease), template.jvmOptions());
            log.add("Provisioning " + spec + " for cloud " + cloudName);
            vm = engine.create(spec, log::add);
            vm.boot();
            String online = "VM " + vmId + " online after " + PhaseTimings.millis(vm.timings().timeToOnline())
                    + " (" + vm.timings() + "), accelerator " + vm.accelerator().accel() + ", SSH on 127.0.0.1:" + vm.sshPort();
            log.add(online);
            QemuAgent agent = new QemuAgent(cloudId, cloudName, vm, template, templateKey, log.lines(), requested);
            Vm booted = vm;
            QemuMetrics.get().record(config, m -> m.vmOnline(template.family(), booted.restored(), booted.timings().timeToOnline()));
            LOGGER.info(() -> agent.getNodeName() + ": " + online);
            return agent;
        } catch (InterruptedException e) {
            cleanUp(vm, reservation);
            throw e;
        } catch (Exception | Error e) {
            cleanUp(vm, reservation);
            QemuMetrics.get().record(config, m -> m.failed(template.family(), ProvisioningMetrics.Failure.BOOT));
            String reason = e.getMessage() == null ? e.toString() : e.getMessage();
            backoff.failed(templateKey, firstLine(reason));
            String text = "Provisioning VM " + vmId + " of cloud " + cloudName + " failed; the template backs off for "
                    + ProvisioningBackoff.delayAfter(backoff.lastFailure(templateKey).map(b -> b.failuresInARow()).orElse(1)).toSeconds()
                    + " s: " + reason;
            if (e instanceof Error) {
                throw e;
            }
            // Logged here, once: Jenkins' provisioner logs nothing for an AbortException. The engine's
            // message already holds the phase and the tails of QEMU's stderr and the guest console,
            // so only a failure that is not a boot failure (a bug of ours) gets a stack trace.
            if (e instanceof VmBootException) {
                LOGGER.warning(text);
            } else {
                LOGGER.log(Level.WARNING, text, e);
            }
            throw new AbortException(text);
        }
    }

    private static void cleanUp(@CheckForNull Vm vm, CapacityLedger.Reservation reservation) {
        if (vm != null) {
            vm.destroy();
        }
        reservation.release();
    }

    private static String firstLine(String text) {
        int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl);
    }
}
