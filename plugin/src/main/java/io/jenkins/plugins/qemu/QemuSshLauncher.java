package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Descriptor;
import hudson.model.TaskListener;
import hudson.plugins.sshslaves.SSHLauncher;
import hudson.slaves.ComputerLauncher;
import hudson.slaves.SlaveComputer;

/**
 * The launcher agents of earlier versions of this plugin were saved with (ssh-slaves' launcher,
 * with the VM's key in memory only). It is kept so that such an agent still loads after an
 * upgrade; its VM cannot be re-attached, because its key was never kept, so it never launches and
 * the agent is removed. New agents use {@link QemuAgentLauncher}.
 */
public class QemuSshLauncher extends SSHLauncher {
    private QemuSshLauncher() {
        super("127.0.0.1", 22, "qemu-agents-vm-key");
    }

    @Override
    public void launch(SlaveComputer computer, TaskListener listener) {
        listener.getLogger().println("This agent was saved by an earlier version of the QEMU agents plugin, which did not keep"
                + " its VM's key; it cannot be re-attached and will be removed.");
    }

    /** Hidden from every launcher list (see {@link HiddenDescriptors}); exists so Jenkins can describe the launcher. */
    @Extension
    public static final class DescriptorImpl extends Descriptor<ComputerLauncher> {
        @NonNull
        @Override
        public String getDisplayName() {
            return "Launch a QEMU VM agent via SSH (earlier versions)";
        }
    }
}
