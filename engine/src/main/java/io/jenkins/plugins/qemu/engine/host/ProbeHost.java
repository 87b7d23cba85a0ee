package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.QemuEngine;
import io.jenkins.plugins.qemu.engine.state.ProcFs;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Asks a host whether it can run VMs and what it holds (see {@link HostReport}). It always answers:
 * a host without QEMU says so instead of failing, and is asked again at the next probe.
 */
public record ProbeHost() implements HostRequest<HostReport> {
    private static final long serialVersionUID = 1L;

    @Override
    public HostReport runOn(HostSide host) throws IOException {
        int cpus = Runtime.getRuntime().availableProcessors();
        long memory = new ProcFs().memoryMiB();
        String unusable = host.unusable();
        if (unusable != null) {
            return new HostReport(host.host(), unusable, List.of(), cpus, memory, List.of(), List.of());
        }
        QemuEngine engine = host.engine();
        List<VmSummary> vms = new ArrayList<>();
        engine.vms().forEach(vm -> vms.add(VmSummary.of(vm)));
        return new HostReport(host.host(), null, engine.catalog().names(), cpus, memory, vms, host.reapedAtStart().reaped());
    }
}
