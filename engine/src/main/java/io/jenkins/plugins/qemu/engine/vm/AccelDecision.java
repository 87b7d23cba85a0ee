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
    /**
     * How TCG runs a guest's vCPUs: {@code single} (the default) in one host thread, taking turns,
     * or {@code multi}, one thread each (QEMU's own default). Under multi-threaded TCG one vCPU's
     * store can land while another decodes the same bytes, and JIT compilers patch code other
     * threads run: a JVM patches the entry of a compiled method when it replaces it, and a guest
     * JVM on 2+ vCPUs then crashes now and then at exactly those bytes (bench/tcg-jvm/REPORT-14-11.md).
     * One thread makes that impossible, at the cost of parallel guest work; {@code multi} is for
     * whoever measured that cost and accepts the risk.
     */
    public static final String THREAD_PROPERTY = "qemu-agents.tcg.thread";
    static final String DEFAULT_THREAD = "single";

    public AccelDecision {
        if (accel == Accel.AUTO) {
            throw new IllegalArgumentException("a decision names KVM or TCG, not AUTO");
        }
    }

    public List<String> qemuArgs() {
        return accel == Accel.KVM
                ? List.of("-accel", "kvm", "-cpu", "host")
                : List.of("-accel", "tcg,tb-size=" + tbSizeMiB() + ",thread=" + tcgThread());
    }

    static String tcgThread() {
        String v = System.getProperty(THREAD_PROPERTY, DEFAULT_THREAD);
        if (!v.equals("single") && !v.equals("multi")) {
            throw new IllegalArgumentException("system property " + THREAD_PROPERTY + ": '" + v + "' is neither 'single' nor 'multi'");
        }
        return v;
    }

    static int tbSizeMiB() {
        return Integer.getInteger(TB_SIZE_PROPERTY, DEFAULT_TB_SIZE_MIB);
    }
}
