package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.Serializable;

/** One VM running on a host, as the host reports it: what it is, how far it got, and what it used so far. */
public record VmSummary(String vmId, String image, int cpus, long memoryMiB, String phase, int sshPort, boolean restored,
        String usage) implements Serializable {
    private static final long serialVersionUID = 1L;

    static VmSummary of(Vm vm) {
        return new VmSummary(vm.id(), vm.spec().image(), vm.spec().cpus(), vm.spec().memoryMiB(), vm.phase().name(),
                vm.sshPort(), vm.restored(), vm.usage().summary());
    }
}
