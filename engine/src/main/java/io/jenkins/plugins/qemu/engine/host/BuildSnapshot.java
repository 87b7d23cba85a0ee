package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.warm.Snapshot;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;

/**
 * Builds a template's warm snapshot on the host, if it is missing or stale, and waits for it. The
 * controller sends it while it holds a booking for the snapshot's boot on this host (see
 * {@link SnapshotGrants}); the answer is sent when the snapshot is saved, so the booking lasts as
 * long as the boot. A failed build throws, with the engine's reason.
 */
public record BuildSnapshot(VmSpec spec, AgentJarRef agentJar) implements HostRequest<String> {
    private static final long serialVersionUID = 1L;

    public BuildSnapshot {
        new BootVm(spec, agentJar); // the same rules as a boot's spec
    }

    @Override
    public String runOn(HostSide host) throws IOException, InterruptedException {
        Snapshot s = host.buildSnapshot(host.withAgentJar(spec, agentJar));
        return "warm snapshot " + s.key().slot() + " is current";
    }
}
