package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.CheckForNull;
import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Computer;
import hudson.model.Node;
import hudson.model.TaskListener;
import hudson.slaves.ComputerListener;
import hudson.slaves.OfflineCause;

/**
 * Turns a QEMU host agent's connection events into the hosts' state: a host that goes offline
 * is lost at once ({@link QemuHosts#lost}: its VMs' agents are removed and their room given back,
 * as its VMs ended with its connection), and a host that comes online is probed at once, so it
 * takes VMs without waiting for the next provisioning pass. QEMU VM agents are never hosts.
 */
@Extension
public final class QemuHostListener extends ComputerListener {
    @Override
    public void onOffline(@NonNull Computer c, @CheckForNull OfflineCause cause) {
        if (c instanceof QemuComputer || c.getNode() == null || c.getNode() instanceof jenkins.model.Jenkins) {
            return;
        }
        QemuHosts.get().lost(c.getName(), cause == null ? "its agent disconnected" : String.valueOf(cause));
    }

    @Override
    public void onOnline(Computer c, TaskListener listener) {
        Node node = c.getNode();
        if (c instanceof QemuComputer || node == null || node instanceof jenkins.model.Jenkins) {
            return;
        }
        QemuHosts.get().probes().hostOnline(node);
    }
}
