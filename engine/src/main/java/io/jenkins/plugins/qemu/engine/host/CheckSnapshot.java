package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.warm.WarmStarts;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;

/**
 * Asks a host whether its own warm snapshot for a template is current, and if not whether one
 * could be built there (each host keeps its own: a snapshot is only valid for the QEMU and image
 * that saved it). Cheap (a few file stats), so the controller asks before it books a build.
 */
public record CheckSnapshot(VmSpec spec, AgentJarRef agentJar) implements HostRequest<SnapshotState> {
    private static final long serialVersionUID = 1L;

    public CheckSnapshot {
        new BootVm(spec, agentJar); // the same rules as a boot's spec
    }

    @Override
    public SnapshotState runOn(HostSide host) throws IOException {
        if (!spec.warmStart()) {
            return new SnapshotState(false, false, "warm start is off");
        }
        WarmStarts.Choice c = host.engine().warmStarts().choose(host.withAgentJar(spec, agentJar));
        return c.snapshot() != null
                ? new SnapshotState(true, false, "warm snapshot " + c.snapshot().key().slot() + " is current")
                : new SnapshotState(false, c.buildable(), c.reason());
    }
}
