package io.jenkins.plugins.qemu.engine.host;

import io.jenkins.plugins.qemu.engine.config.InvalidInputException;
import io.jenkins.plugins.qemu.engine.vm.Vm;
import io.jenkins.plugins.qemu.engine.vm.VmSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Boots a VM on the host, to a verified SSH login, and answers with what the controller needs to
 * use it ({@link BootedVm}). The agent's jar travels as an {@link AgentJarRef} to the copies the
 * host already has ({@link JarSync}), and becomes the spec's agent jar there. A boot that fails leaves nothing on the host and throws the engine's
 * {@code VmBootException}, with QEMU's and the console's last lines, back to the controller.
 * A spec with a lease is refused: a host's engine lives in its agent's JVM and a controller restart
 * replaces that JVM, so nothing could adopt the VM; it dies with the agent, and the next engine
 * reaps what is left.
 */
public record BootVm(VmSpec spec, AgentJarRef agentJar) implements HostRequest<BootedVm> {
    private static final long serialVersionUID = 1L;

    public BootVm {
        Objects.requireNonNull(spec, "spec");
        if (spec.leased()) {
            throw new InvalidInputException("lease", spec.lease(), "a VM on a host dies with the host's agent, so it takes no lease");
        }
        if (spec.agentJar() != null) {
            throw new InvalidInputException("agentJar", spec.agentJar().file(), "is a file of the controller; send its AgentJarRef instead");
        }
    }

    /** A VM without an agent jar. */
    public BootVm(VmSpec spec) {
        this(spec, null);
    }

    @Override
    public BootedVm runOn(HostSide host) throws IOException, InterruptedException {
        // The engine logs each step on the host; these lines go back for the agent's launch log on the controller.
        List<String> progress = Collections.synchronizedList(new ArrayList<>());
        Vm vm = host.engine().boot(host.withAgentJar(spec, agentJar), progress::add);
        return new BootedVm(host.host(), vm.id(), vm.sshPort(), vm.clientKey().privateKeyOpenSsh(), vm.hostKeyLine(),
                vm.restored(), vm.coldBootReason(), vm.timings().timeToOnline().toMillis(), List.copyOf(progress));
    }
}
