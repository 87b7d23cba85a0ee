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
 * {@code overlayBytes} its size now. Not measured: network bytes (the user-mode and passt network
 * backends keep no counters QEMU reports) and the guest's own memory peak (that needs balloon
 * statistics, and a cold-booted VM has no balloon, or the guest agent, which has no channel).
 */
public record VmUsage(Instant sampledAt, long vcpuNanos, long vcpuWaitNanos, long qemuCpuNanos,
        long rssBytes, long peakRssBytes, long diskWrittenBytes, long overlayBytes,
        long overlayGrowthBytes) {

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
        if (overlayGrowthBytes != UNKNOWN && overlayBytes == UNKNOWN) {
            throw new IllegalArgumentException(
                    "overlayGrowthBytes " + overlayGrowthBytes + " without overlayBytes");
        }
        if (rssBytes != UNKNOWN && peakRssBytes != UNKNOWN && peakRssBytes < rssBytes) {
            throw new IllegalArgumentException(
                    "peakRssBytes " + peakRssBytes + " is below rssBytes " + rssBytes);
        }
    }

    private static void known(String field, long value) {
        if (value < UNKNOWN) {
            throw new IllegalArgumentException(
                    field + " must be " + UNKNOWN + " (unknown) or at least 0, not " + value);
        }
    }

    /** The same figures with the peak raised to {@code peak} (an earlier sample's) if higher. */
    public VmUsage withPeakAtLeast(long peak) {
        return peak <= peakRssBytes ? this
                : new VmUsage(sampledAt, vcpuNanos, vcpuWaitNanos, qemuCpuNanos, rssBytes, peak,
                        diskWrittenBytes, overlayBytes, overlayGrowthBytes);
    }

    /** One line for a summary: {@code vCPU 12.3 s (waited 0.2 s for a host CPU), QEMU CPU ...}. */
    public String summary() {
        return "vCPU " + seconds(vcpuNanos) + " (waited " + seconds(vcpuWaitNanos) + " for a host CPU)"
                + ", QEMU CPU " + seconds(qemuCpuNanos)
                + ", host RSS " + mib(rssBytes) + " (peak " + mib(peakRssBytes) + ")"
                + ", disk written " + mib(diskWrittenBytes)
                + ", overlay " + signedMib(overlayGrowthBytes) + " (now " + mib(overlayBytes) + ")";
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
