package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;

/**
 * Asks the host to build a template's warm snapshot in the background if its own is missing or
 * stale (each host keeps its own snapshots: they are only valid for the QEMU and image that saved
 * them), as the controller does for its own engine; answers what the host did, for the cloud page.
 */
public record WarmUpLater(VmSpec spec, AgentJarRef agentJar) implements HostRequest<String> {
    private static final long serialVersionUID = 1L;

    public WarmUpLater {
        new BootVm(spec, agentJar); // the same rules as a boot's spec
    }

    @Override
    public String runOn(HostSide host) throws IOException {
        return host.engine().warmUpLater(host.withAgentJar(spec, agentJar));
    }
}
