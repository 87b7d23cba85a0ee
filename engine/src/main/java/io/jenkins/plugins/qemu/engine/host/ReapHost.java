package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.reaper.ReapReport;
import java.io.IOException;
import java.util.Set;

/**
 * One reaper pass on the host: its engine's VMs that are not in {@code wanted} (the controller has
 * no agent for them) go, and so do VMs of dead owners on its state directory, with the same
 * ownership proofs as on the controller. VMs still booting are always kept.
 */
public record ReapHost(Set<String> wanted) implements HostRequest<ReapReport> {
    private static final long serialVersionUID = 1L;

    public ReapHost {
        wanted = Set.copyOf(wanted);
    }

    @Override
    public ReapReport runOn(HostSide host) throws IOException {
        return host.engine().reap(wanted::contains);
    }
}
