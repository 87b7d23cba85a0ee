package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Computer;
import hudson.model.Node;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import jenkins.model.NodeListener;

/**
 * Catches agents removed without {@code terminate()} (the "Delete agent" REST call, a script):
 * their VM is destroyed and their capacity released all the same.
 */
@Extension
public final class QemuNodeListener extends NodeListener {
    @Override
    protected void onDeleted(@NonNull Node node) {
        if (!(node instanceof QemuAgent agent)) {
            return;
        }
        QemuEngines engines = QemuEngines.get();
        if (agent.getHost() != null) {
            // Its VM is on a host: destroyed there (a no-op when terminate() already did), off the caller's thread.
            Computer.threadPoolForRemoting.submit(() -> {
                QemuHosts.get().destroy(agent, new hudson.util.LogTaskListener(java.util.logging.Logger.getLogger(QemuNodeListener.class.getName()),
                        java.util.logging.Level.INFO));
                engines.release(agent.getCloudId(), agent.getVmId());
            });
            return;
        }
        Vm vm = engines.findVm(agent.getVmId());
        if (vm != null) {
            // Destroying may wait for a graceful guest shutdown; not on the caller's thread.
            Computer.threadPoolForRemoting.submit(() -> {
                vm.destroy();
                engines.release(agent.getCloudId(), agent.getVmId());
            });
        } else {
            engines.release(agent.getCloudId(), agent.getVmId());
        }
    }
}
