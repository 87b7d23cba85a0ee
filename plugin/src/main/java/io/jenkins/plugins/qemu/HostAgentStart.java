package io.jenkins.plugins.qemu;

import hudson.model.TaskListener;
import hudson.remoting.Pipe;
import io.jenkins.plugins.qemu.engine.host.HostSetup;
import java.io.IOException;
import jenkins.security.MasterToSlaveCallable;

/**
 * Runs on a QEMU host's agent: starts the agent JVM in one of the host's VMs ({@link GuestAgent})
 * and bridges its standard output and input to two remoting {@link Pipe}s whose other ends are on
 * the controller, where they become the VM agent's channel. The VM's SSH port stays bound to the
 * host's 127.0.0.1 and the VM's key stays in the host's engine; no port is opened anywhere.
 * Returns once the bridge runs; the bridge ends with either side.
 */
final class HostAgentStart extends MasterToSlaveCallable<Void, IOException> {
    private static final long serialVersionUID = 1L;

    private final HostSetup setup;
    private final String vmId;
    private final String remoteFs;
    private final Pipe toController;
    private final Pipe fromController;
    private final TaskListener listener;

    HostAgentStart(HostSetup setup, String vmId, String remoteFs, Pipe toController, Pipe fromController, TaskListener listener) {
        this.setup = setup;
        this.vmId = vmId;
        this.remoteFs = remoteFs;
        this.toController = toController;
        this.fromController = fromController;
        this.listener = listener;
    }

    @Override
    public Void call() throws IOException {
        GuestAgent agent = GuestAgent.start(HostCall.sideOf(getOpenChannelOrFail(), setup).side(), vmId, remoteFs, listener.getLogger());
        agent.bridge(toController.getOut(), fromController.getIn());
        return null;
    }
}
