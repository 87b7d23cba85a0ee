package io.jenkins.plugins.qemu.engine.usage;

import java.time.Instant;
import java.util.Locale;

/**
 * What one VM had used when it was sampled at {@code sampledAt}; every figure is {@link #UNKNOWN}
 * when it could not be read. {@code vcpuNanos} is the CPU time of the vCPU threads (the guest's
 * own work, plus the emulation of it under TCG), {@code vcpuWaitNanos} how long they were ready
 * to run but waited for a busy host's CPUs (the guest, which has no steal time under TCG, counts
 * that as its own CPU time), {@code qemuCpuNanos} the CPU time of the whole QEMU process (vCPUs,
 * I/O threads, main loop), all since QEMU started. {@code rssBytes} and
 * {@code peakRssBytes} are QEMU's resident memory on the host now and at its highest (the
 * kernel's own high-water mark, so no peak is missed between samples). {@code diskWrittenBytes}
 * counts what the guest wrote to its disk since QEMU started (QMP {@code query-blockstats}), and
 * {@code overlayGrowthBytes} how much the VM's overlay file grew since the VM came online, with
 * {@code overlayBytes} its size now. {@code guestMemUsedBytes} is the memory the guest's own
 * kernel counts as in use (total minus available, from its virtio-balloon statistics), and
 * {@code guestMemPeakBytes} the highest of those over the samples taken: the guest keeps no
 * high-water mark, so a spike shorter than the sampling tick can fall between samples.
 * {@code netRxBytes} and {@code netTxBytes} are what the guest's NICs received and sent since its
 * QEMU started (a booted guest: its whole boot; a restored one: since the restore), by the guest
 * kernel's own interface counters: every frame with its headers, including the engine's own SSH
 * traffic (logins, agent connection, commands, file copies, these counters' reading: about 1 KiB
 * a sample) and, with an egress policy, the egress NIC's. A figure the source does not give (a guest without the balloon driver, a VM
 * whose QMP or SSH connection another process holds) is UNKNOWN, never zero.
 */
public record VmUsage(Instant sampledAt, long vcpuNanos, long vcpuWaitNanos, long qemuCpuNanos,
        long rssBytes, long peakRssBytes, long diskWrittenBytes, long overlayBytes,
        long overlayGrowthBytes, long guestMemUsedBytes, long guestMemPeakBytes, long netRxBytes,
        long netTxBytes) {

    /** A figure that could not be read. */
    public static final long UNKNOWN = -1;

    public VmUsage {
        if (sampledAt == null) {
            throw new IllegalArgumentException("sampledAt is missing");
        }
        known("vcpuNanos", vcpuNanos);
        known("vcpuWaitNanos", vcpuWaitNanos);
        known("qemuCpuNanos", qemuCpuNanos);
        known("rssBytes", rssBytes);
        known("peakRssBytes", peakRssBytes);
        known("diskWrittenBytes", diskWrittenBytes);
        known("overlayBytes", overlayBytes);
        known("overlayGrowthBytes", overlayGrowthBytes);
        known("guestMemUsedBytes", guestMemUsedBytes);
        known("guestMemPeakBytes", guestMemPeakBytes);
        known("netRxBytes", netRxBytes);
        known("netTxBytes", netTxBytes);
        if (overlayGrowthBytes != UNKNOWN && overlayBytes == UNKNOWN) {
            throw new IllegalArgumentException(
                    "overlayGrowthBytes " + overlayGrowthBytes + " without overlayBytes");
        }
        notBelow("peakRssBytes", peakRssBytes, "rssBytes", rssBytes);
        notBelow("guestMemPeakBytes", guestMemPeakBytes, "guestMemUsedBytes", guestMemUsedBytes);
    }

    /** The host-side figures only: nothing read from the guest. */
    public VmUsage(Instant sampledAt, long vcpuNanos, long vcpuWaitNanos, long qemuCpuNanos,
            long rssBytes, long peakRssBytes, long diskWrittenBytes, long overlayBytes,
            long overlayGrowthBytes) {
        this(sampledAt, vcpuNanos, vcpuWaitNanos, qemuCpuNanos, rssBytes, peakRssBytes,
                diskWrittenBytes, overlayBytes, overlayGrowthBytes, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN);
    }

    private static void notBelow(String peakField, long peak, String nowField, long now) {
        if (now != UNKNOWN && peak != UNKNOWN && peak < now) {
            throw new IllegalArgumentException(peakField + " " + peak + " is below " + nowField + " " + now);
        }
    }

    private static void known(String field, long value) {
        if (value < UNKNOWN) {
            throw new IllegalArgumentException(
                    field + " must be " + UNKNOWN + " (unknown) or at least 0, not " + value);
        }
    }

    /**
     * The same figures with each peak raised to {@code earlier}'s if that is higher: the host's
     * high-water mark of a QEMU restarted under the same VM would be lower, and the guest's peak
     * is only ever the highest sample.
     */
    public VmUsage withPeaksOf(VmUsage earlier) {
        long rssPeak = Math.max(peakRssBytes, earlier.peakRssBytes);
        long guestPeak = Math.max(Math.max(guestMemPeakBytes, guestMemUsedBytes), earlier.guestMemPeakBytes);
        return rssPeak == peakRssBytes && guestPeak == guestMemPeakBytes ? this
                : new VmUsage(sampledAt, vcpuNanos, vcpuWaitNanos, qemuCpuNanos, rssBytes, rssPeak,
                        diskWrittenBytes, overlayBytes, overlayGrowthBytes, guestMemUsedBytes, guestPeak,
                        netRxBytes, netTxBytes);
    }

    /**
     * These figures with the guest's memory and network from {@code owner}'s sample (its
     * {@link UsageFile}), which only the VM's owner can read; UNKNOWN where {@code owner} is null.
     */
    public VmUsage withGuestFiguresOf(VmUsage owner) {
        return owner == null ? this : new VmUsage(sampledAt, vcpuNanos, vcpuWaitNanos, qemuCpuNanos, rssBytes,
                peakRssBytes, diskWrittenBytes, overlayBytes, overlayGrowthBytes, owner.guestMemUsedBytes,
                owner.guestMemPeakBytes, owner.netRxBytes, owner.netTxBytes);
    }

    /** The same figures with the network's, read from the guest rather than the host. */
    public VmUsage withNetwork(long rxBytes, long txBytes) {
        return new VmUsage(sampledAt, vcpuNanos, vcpuWaitNanos, qemuCpuNanos, rssBytes, peakRssBytes,
                diskWrittenBytes, overlayBytes, overlayGrowthBytes, guestMemUsedBytes, guestMemPeakBytes,
                rxBytes, txBytes);
    }

    /** One line for a summary: {@code vCPU 12.3 s (waited 0.2 s for a host CPU), QEMU CPU ...}. */
    public String summary() {
        return "vCPU " + seconds(vcpuNanos) + " (waited " + seconds(vcpuWaitNanos) + " for a host CPU)"
                + ", QEMU CPU " + seconds(qemuCpuNanos)
                + ", host RSS " + mib(rssBytes) + " (peak " + mib(peakRssBytes) + ")"
                + ", disk written " + mib(diskWrittenBytes)
                + ", overlay " + signedMib(overlayGrowthBytes) + " (now " + mib(overlayBytes) + ")"
                + ", guest memory " + mib(guestMemUsedBytes) + " (peak " + mib(guestMemPeakBytes) + ")"
                + ", network in " + mib(netRxBytes) + " / out " + mib(netTxBytes);
    }

    static String seconds(long nanos) {
        return nanos == UNKNOWN ? "n/a" : String.format(Locale.ROOT, "%.1f s", nanos / 1e9);
    }

    static String mib(long bytes) {
        return bytes == UNKNOWN ? "n/a" : String.format(Locale.ROOT, "%.0f MiB", bytes / 1048576.0);
    }

    private static String signedMib(long bytes) {
        return bytes == UNKNOWN ? "n/a" : "+" + mib(bytes);
    }
}
