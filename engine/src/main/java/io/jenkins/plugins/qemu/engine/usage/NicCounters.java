package io.jenkins.plugins.qemu.engine.usage;

/**
 * Where a VM's network figures come from: the byte counters of the guest's NICs, which only the
 * guest keeps (QEMU's user-mode network and passt count nothing that QEMU reports). The VM reads
 * them inside the guest over the connection it already holds, so this package needs no SSH. The
 * counters are the guest kernel's totals since it booted; {@link UsageTracker} subtracts what a
 * restored guest had counted when its snapshot was saved, so nothing is read as a VM starts.
 */
@FunctionalInterface
public interface NicCounters {
    /** For a VM whose guest cannot be asked (another process's VM, a test without a guest). */
    NicCounters NONE = () -> null;

    /** The counters now, or null if they cannot be read now (no connection, a slow guest). */
    Totals read() throws InterruptedException;

    /** Bytes received and sent, summed over the guest's NICs. */
    record Totals(long rxBytes, long txBytes) {
        /** A booted guest's counters as its kernel started them. */
        public static final Totals AT_BOOT = new Totals(0, 0);

        public Totals {
            if (rxBytes < 0 || txBytes < 0) {
                throw new IllegalArgumentException(
                        "NIC counters must be at least 0, not rxBytes " + rxBytes + ", txBytes " + txBytes);
            }
        }
    }
}
