package io.jenkins.plugins.qemu.engine.vm;

import java.util.List;

/** The accelerator chosen for a VM and the reason, logged once so nobody has to guess. */
public record AccelDecision(Accel accel, String reason) {
    /**
     * TCG's translation cache in MiB. QEMU's default on a 64-bit host is 1 GiB (and a quarter of
     * the guest's RAM at most only on small hosts), and QEMU asks for transparent huge pages on it,
     * so a VM that runs a JVM fills hundreds of MiB of host memory with translated code it mostly
     * never runs again. See the README's Performance section for the measured knee; the system
     * property exists to measure it again.
     */
    public static final String TB_SIZE_PROPERTY = "qemu-agents.tcg.tb-size";
    static final int DEFAULT_TB_SIZE_MIB = 64;

    public AccelDecision {
        if (accel == Accel.AUTO) {
            throw new IllegalArgumentException("a decision names KVM or TCG, not AUTO");
        }
    }

    public List<String> qemuArgs() {
        return accel == Accel.KVM
                ? List.of("-accel", "kvm", "-cpu", "host")
                : List.of("-accel", "tcg,tb-size=" + tbSizeMiB());
    }

    static int tbSizeMiB() {
        return Integer.getInteger(TB_SIZE_PROPERTY, DEFAULT_TB_SIZE_MIB);
    }
}
