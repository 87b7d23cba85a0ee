package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.vm.Vm;
import java.io.IOException;
import java.util.Optional;

/** Destroys a VM of the host; answers whether the host still had it (false: it was gone already, which is not an error). */
public record DestroyVm(String vmId) implements HostRequest<Boolean> {
    private static final long serialVersionUID = 1L;

    @Override
    public Boolean runOn(HostSide host) throws IOException {
        Optional<Vm> vm = host.vm(vmId);
        vm.ifPresent(Vm::destroy);
        return vm.isPresent();
    }
}
