package io.jenkins.plugins.qemu;

import edu.umd.cs.findbugs.annotations.NonNull;
import hudson.Extension;
import hudson.model.Descriptor;
import hudson.model.TaskListener;
import hudson.remoting.Channel;
import hudson.remoting.Pipe;
import hudson.slaves.ComputerLauncher;
import hudson.slaves.SlaveComputer;
import java.io.IOException;

/**
 * Connects the agent of a VM that runs on a QEMU host. For a host agent, the host starts the
 * agent JVM in the VM over its engine's pinned-key SSH session and bridges its standard streams
 * to remoting {@link Pipe}s ({@link HostAgentStart}); their controller ends become the agent's
 * channel, so the VM's SSH port stays on the host's 127.0.0.1 and its key never leaves the host.
 * For the controller's own host (built-in) the same start runs here and the process's streams
 * are the channel. Nothing is persisted but the host's name: a host's VMs end with the host's
 * connection, so after a controller restart there is no VM to reconnect to and the agent goes.
 */
public class QemuHostLauncher extends ComputerLauncher {
    private static final java.util.logging.Logger LOGGER = java.util.logging.Logger.getLogger(QemuHostLauncher.class.getName());
    private final String host;
    private final String remoteFs;

    QemuHostLauncher(String host, String remoteFs) {
        this.host = host;
        this.remoteFs = remoteFs;
    }

    public String getHost() {
        return host;
    }

    @Override
    public boolean isLaunchSupported() {
        return true;
    }

    @Override
    public void launch(SlaveComputer computer, TaskListener listener) throws IOException, InterruptedException {
        if (!(computer instanceof QemuComputer qemu) || qemu.getNode() == null) {
            listener.error("Not a QEMU agent: " + computer.getName());
            return;
        }
        qemu.printProvisioningLog(listener);
        QemuAgent agent = qemu.getNode();
        if (!agent.isVmAlive()) {
            listener.getLogger().println("VM " + agent.getVmId() + " on host " + host + " is gone (its host's connection ended"
                    + " or the controller restarted); the agent will be removed.");
            return;
        }
        try {
            connect(computer, agent, listener);
        } catch (IOException | RuntimeException e) {
            // Jenkins puts the stack trace in the agent's log only, which goes with the agent; one line stays here.
            LOGGER.warning("VM " + agent.getVmId() + " on host " + host + ": launching its agent failed: " + e);
            throw e;
        }
    }

    private void connect(SlaveComputer computer, QemuAgent agent, TaskListener listener) throws IOException, InterruptedException {
        long start = System.nanoTime();
        QemuHosts hosts = QemuHosts.get();
        if (QemuHosts.BUILT_IN.equals(host)) {
            GuestAgent guest = GuestAgent.start(hosts.builtInSide(agent.getCloudName()), agent.getVmId(), remoteFs, listener.getLogger());
            try {
                computer.setChannel(guest.stdout(), guest.stdin(), listener.getLogger(), closer(guest));
            } catch (IOException | RuntimeException | InterruptedException e) {
                guest.close();
                throw e;
            }
        } else {
            RemoteHost remote = hosts.remote(host);
            if (remote == null) {
                throw new IOException("host " + host + " of VM " + agent.getVmId() + " is offline; the VM went with its connection");
            }
            Pipe toController = Pipe.createRemoteToLocal();
            Pipe fromController = Pipe.createLocalToRemote();
            remote.channel().call(new HostAgentStart(remote.setup(), agent.getVmId(), remoteFs, toController, fromController, listener));
            computer.setChannel(toController.getIn(), fromController.getOut(), listener.getLogger(), null);
        }
        listener.getLogger().println("VM " + agent.getVmId() + " on host " + host + ": agent connected "
                + (System.nanoTime() - start) / 1_000_000 + " ms after the launch began");
    }

    private static Channel.Listener closer(GuestAgent guest) {
        return new Channel.Listener() {
            @Override
            public void onClosed(Channel channel, IOException cause) {
                guest.close();
            }
        };
    }

    /** Hidden from every launcher list (see {@link HiddenDescriptors}); exists so Jenkins can describe the launcher. */
    @Extension
    public static final class DescriptorImpl extends Descriptor<ComputerLauncher> {
        @NonNull
        @Override
        public String getDisplayName() {
            return "Launch the agent in a QEMU VM through its QEMU host";
        }
    }
}
