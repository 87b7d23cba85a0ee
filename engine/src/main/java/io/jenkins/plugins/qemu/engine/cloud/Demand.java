package io.jenkins.plugins.qemu.engine.cloud;

/**
 * Turns Jenkins' "excess workload" (executors wanted) into VMs to plan. Jenkins may ask for more
 * than the cap allows; the ledger decides how many of these actually get booked.
 */
public final class Demand {
    private Demand() {}

    /** How many VMs to plan for this many waiting executors when each VM brings {@code executorsPerVm}. */
    public static int vmsFor(int excessWorkload, int executorsPerVm) {
        if (excessWorkload <= 0) {
            return 0;
        }
        int per = Math.max(1, executorsPerVm);
        return (excessWorkload + per - 1) / per;
    }
}
