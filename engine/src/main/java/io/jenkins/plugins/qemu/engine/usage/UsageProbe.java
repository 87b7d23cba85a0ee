package io.jenkins.plugins.qemu.engine.usage;

import com.fasterxml.jackson.databind.JsonNode;
import io.jenkins.plugins.qemu.engine.qmp.QmpClient;
import io.jenkins.plugins.qemu.engine.qmp.QmpException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Takes one {@link VmUsage} of a running QEMU: CPU and memory from {@code /proc} of its process,
 * and, through the VM's QMP connection when the caller holds one, the vCPU threads' ids
 * ({@code query-cpus-fast}), the guest's disk writes ({@code query-blockstats}) and its own
 * memory in use ({@link BalloonStats}). Without QMP (a VM of another process, whose owner holds
 * its one monitor connection) the vCPU threads are found by the names QEMU gives them, and the
 * disk writes and guest memory stay unknown. Three QMP queries and a few small files: cheap
 * enough for a periodic tick over every VM. The network figures are not the probe's: they come
 * from inside the guest (see {@link UsageTracker}).
 */
public final class UsageProbe {
    /** The drive id of the VM's disk on QEMU's command line ({@code QemuCommand}). */
    public static final String DISK_ID = "disk0";
    /** The id of the VM's virtio-balloon device on QEMU's command line ({@code QemuCommand}). */
    public static final String BALLOON_ID = "balloon0";
    /** A QEMU that does not answer this fast is hung; its destroy must not wait on figures. */
    private static final Duration QMP_TIMEOUT = Duration.ofSeconds(1);

    private final ProcReader proc;
    private final Clock clock;

    public UsageProbe(ProcReader proc, Clock clock) {
        this.proc = proc;
        this.clock = clock;
    }

    /** The start time that pins {@code pid} (see {@link #sample}); UNKNOWN if it is gone. */
    public long startTime(long pid) {
        return pid <= 0 ? VmUsage.UNKNOWN : proc.startTime(pid);
    }

    /**
     * Has QEMU poll the guest's memory statistics from now on (see {@link BalloonStats}); false if
     * it cannot, and the guest's memory figures then stay UNKNOWN.
     */
    public boolean startGuestStats(QmpClient qmp) throws InterruptedException {
        return qmp != null && BalloonStats.start(qmp, QMP_TIMEOUT);
    }

    /**
     * The figures of QEMU {@code pid}, which must still have {@code startTime} (else the pid may
     * name another process by now, and null is returned, as it is when the process is gone).
     * {@code qmp} may be null; {@code overlay} is the VM's overlay file and {@code overlayAtStart}
     * its size when counting began, or UNKNOWN.
     */
    public VmUsage sample(long pid, long startTime, QmpClient qmp, Path overlay, long overlayAtStart)
            throws InterruptedException {
        if (pid <= 0 || proc.startTime(pid) != startTime) {
            return null;
        }
        List<Long> vcpus = qmp != null ? vcpuThreads(qmp) : null;
        // One failed query is enough: a second would only double the wait on a hung QEMU.
        long written = vcpus != null ? diskWritten(qmp) : VmUsage.UNKNOWN;
        long guestUsed = vcpus != null ? BalloonStats.usedBytes(qmp, clock.instant(), QMP_TIMEOUT) : VmUsage.UNKNOWN;
        if (vcpus == null) {
            vcpus = proc.namedVcpuThreads(pid);
        }
        long vcpuNanos = vcpus.isEmpty() ? VmUsage.UNKNOWN : 0;
        long waitNanos = vcpuNanos;
        for (long tid : vcpus) {
            vcpuNanos = sum(vcpuNanos, proc.threadCpuNanos(pid, tid));
            waitNanos = sum(waitNanos, proc.threadWaitNanos(pid, tid));
        }
        long cpu = proc.processCpuNanos(pid);
        long[] mem = proc.residentBytes(pid);
        long size = fileSize(overlay);
        // Read last: a process that ended meanwhile may have left figures of a dying process.
        if (proc.startTime(pid) != startTime) {
            return null;
        }
        long growth = size == VmUsage.UNKNOWN || overlayAtStart == VmUsage.UNKNOWN ? VmUsage.UNKNOWN
                : Math.max(0, size - overlayAtStart);
        long rss = mem[0];
        long peak = mem[1] == VmUsage.UNKNOWN || rss == VmUsage.UNKNOWN ? mem[1] : Math.max(rss, mem[1]);
        return new VmUsage(clock.instant(), vcpuNanos, waitNanos, cpu, rss, peak, written, size, growth,
                guestUsed, guestUsed, VmUsage.UNKNOWN, VmUsage.UNKNOWN);
    }

    /** A total stays UNKNOWN once one part is. */
    private static long sum(long total, long part) {
        return total == VmUsage.UNKNOWN || part == VmUsage.UNKNOWN ? VmUsage.UNKNOWN : total + part;
    }

    /**
     * The length of the overlay file, or UNKNOWN. A qcow2 file grows by whole clusters appended as
     * the guest first writes them, so its length is what the guest's writes allocated on the host,
     * without asking {@code qemu-img} (which would need the image lock QEMU holds).
     */
    public static long fileSize(Path file) {
        if (file == null) {
            return VmUsage.UNKNOWN;
        }
        try {
            return Files.size(file);
        } catch (IOException e) {
            return VmUsage.UNKNOWN;
        }
    }

    /**
     * The distinct host thread ids of the vCPUs (single-threaded TCG runs them all on one);
     * null if QMP failed.
     */
    static List<Long> vcpuThreads(QmpClient qmp) throws InterruptedException {
        try {
            return threadIds(qmp.execute("query-cpus-fast", QMP_TIMEOUT));
        } catch (QmpException e) {
            return null;
        }
    }

    static List<Long> threadIds(JsonNode cpus) {
        TreeSet<Long> tids = new TreeSet<>();
        for (JsonNode c : cpus) {
            long tid = c.path("thread-id").asLong(0);
            if (tid > 0) {
                tids.add(tid);
            }
        }
        return tids.isEmpty() ? null : new ArrayList<>(tids);
    }

    private static long diskWritten(QmpClient qmp) throws InterruptedException {
        try {
            return writtenBytes(qmp.execute("query-blockstats", QMP_TIMEOUT), DISK_ID);
        } catch (QmpException e) {
            return VmUsage.UNKNOWN;
        }
    }

    /** {@code wr_bytes} of the drive {@code id} in a {@code query-blockstats} reply, or UNKNOWN. */
    static long writtenBytes(JsonNode blockstats, String id) {
        for (JsonNode d : blockstats) {
            if (id.equals(d.path("device").asText())) {
                JsonNode w = d.path("stats").path("wr_bytes");
                return w.canConvertToLong() && w.asLong() >= 0 ? w.asLong() : VmUsage.UNKNOWN;
            }
        }
        return VmUsage.UNKNOWN;
    }
}
