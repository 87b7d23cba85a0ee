package io.jenkins.plugins.qemu.engine.vm;

import java.util.List;

/** The accelerator chosen for a VM and the reason, logged once so nobody has to guess. */
public record AccelDecision(Accel accel, String reason) {
    public AccelDecision {
        if (accel == Accel.AUTO) {
            throw new IllegalArgumentException("a decision names KVM or TCG, not AUTO");
        }
    }

    public List<String> qemuArgs() {
        return accel == Accel.KVM
                ? List.of("-accel", "kvm", "-cpu", "host")
                : List.of("-accel", "tcg");
    }
}
