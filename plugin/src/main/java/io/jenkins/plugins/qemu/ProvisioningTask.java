package io.jenkins.plugins.qemu;

import hudson.model.Node;
import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.cloud.CapacityLedger;
import io.jenkins.plugins.qemu.engine.cloud.TemplateSpec;
import io.jenkins.plugins.qemu.engine.state.EngineConfig;
import io.jenkins.plugins.qemu.engine.vm.PhaseTimings;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.util.concurrent.FutureTask;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Boots one VM for a planned node and turns it into a {@link QemuAgent}: the future Jenkins'
 * {@code NodeProvisioner} waits on. It runs on {@code Computer.threadPoolForRemoting} because the
 * engine's boot blocks until the guest accepts an SSH login. Whatever goes wrong (boot failure,
 * cancellation before or during the boot) the VM is destroyed and the capacity reservation
 * released, so a failed VM never counts against the cap.
 */
final class ProvisioningTask extends FutureTask<Node> {
    private static final Logger LOGGER = Logger.getLogger(ProvisioningTask.class.getName());

    private final CapacityLedger.Reservation reservation;

    ProvisioningTask(String cloudName, EngineConfig config, TemplateSpec template, String vmId,
            CapacityLedger.Reservation reservation) {
        super(() -> boot(cloudName, config, template, vmId, reservation));
        this.reservation = reservation;
    }

    /** Cancelled before it ever ran: nothing was booted, only the booking needs to go. */
    @Override
    protected void done() {
        if (isCancelled()) {
            reservation.release();
        }
    }

    private static Node boot(String cloudName, EngineConfig config, TemplateSpec template, String vmId,
            CapacityLedger.Reservation reservation) throws Exception {
        QemuEngines engines = QemuEngines.get();
        ProvisioningLog log = new ProvisioningLog();
        Vm vm = null;
        try {
            QemuEngine engine = engines.engine(config);
            VmSpec spec = template.toVmSpec(vmId);
            log.add("Provisioning " + spec + " for cloud " + cloudName);
            vm = engine.create(spec, log::add);
            vm.boot();
            String online = "VM " + vmId + " online after " + PhaseTimings.millis(vm.timings().timeToOnline())
                    + " (" + vm.timings() + "), accelerator " + vm.accelerator().accel() + ", SSH on 127.0.0.1:" + vm.sshPort();
            log.add(online);
            QemuAgent agent = new QemuAgent(cloudName, vm, template, log.lines());
            LOGGER.info(() -> agent.getNodeName() + ": " + online);
            return agent;
        } catch (Exception | Error e) {
            LOGGER.log(Level.WARNING, "Provisioning VM " + vmId + " of cloud " + cloudName + " failed", e);
            if (vm != null) {
                vm.destroy();
            }
            reservation.release();
            throw e;
        }
    }
}
