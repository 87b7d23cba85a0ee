package io.jenkins.plugins.qemu.engine.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The probe's reading of QMP replies and its pinning of a process by start time, without QEMU. */
class UsageProbeTest {
    private static final Instant T = Instant.parse("2026-12-03T12:00:00Z");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path root;

    @Test
    void vcpuThreadIdsAreDistinct() throws Exception {
        // Single-threaded TCG runs every vCPU on one thread: it must be counted once.
        JsonNode cpus = JSON.readTree("[{\"cpu-index\":0,\"thread-id\":77},{\"cpu-index\":1,\"thread-id\":77}]");
        assertEquals(List.of(77L), UsageProbe.threadIds(cpus));
        cpus = JSON.readTree("[{\"cpu-index\":0,\"thread-id\":80},{\"cpu-index\":1,\"thread-id\":79}]");
        assertEquals(List.of(79L, 80L), UsageProbe.threadIds(cpus));
        assertNull(UsageProbe.threadIds(JSON.readTree("[]")));
    }

    @Test
    void diskWritesAreTheVmsDiskOnly() throws Exception {
        JsonNode stats = JSON.readTree("[{\"device\":\"seed0\",\"stats\":{\"wr_bytes\":5}},"
                + "{\"device\":\"disk0\",\"stats\":{\"wr_bytes\":209715200,\"rd_bytes\":1}}]");
        assertEquals(209715200L, UsageProbe.writtenBytes(stats, "disk0"));
        assertEquals(VmUsage.UNKNOWN, UsageProbe.writtenBytes(stats, "disk1"));
    }

    @Test
    void aSampleComesFromProcAndTheOverlayAndRefusesAReusedPid() throws Exception {
        Files.createDirectories(root.resolve("42/task/43"));
        String stat = "42 (qemu) S 1 42 42 0 -1 0 0 0 0 0 150 50 0 0 20 0 3 0 777 0 0 0\n";
        Files.writeString(root.resolve("42/stat"), stat);
        Files.writeString(root.resolve("42/status"), "VmHWM:\t 4 kB\nVmRSS:\t 2 kB\n");
        Files.writeString(root.resolve("42/task/43/comm"), "CPU 0/TCG\n");
        Files.writeString(root.resolve("42/task/43/schedstat"), "900000000 40000000 1\n");
        Path overlay = Files.write(root.resolve("overlay.qcow2"), new byte[3000]);
        UsageProbe probe = new UsageProbe(new ProcReader(root, 100), Clock.fixed(T, ZoneOffset.UTC));

        assertEquals(new VmUsage(T, 900_000_000L, 40_000_000L, 2_000_000_000L, 2048, 4096, VmUsage.UNKNOWN, 3000, 1000),
                probe.sample(42, 777, null, overlay, 2000));
        assertEquals(VmUsage.UNKNOWN, probe.sample(42, 777, null, overlay, VmUsage.UNKNOWN).overlayGrowthBytes());
        assertNull(probe.sample(42, 778, null, overlay, 2000), "the pid names another process by now");
        assertNull(probe.sample(41, 777, null, overlay, 2000), "gone");
    }

    @Test
    void guestMemoryInUseIsTotalMinusAvailableFromFreshStatistics() throws Exception {
        Instant now = Instant.ofEpochSecond(1_800_000_000L);
        String fresh = "{\"last-update\":1799999990,\"stats\":{\"stat-total-memory\":1000000000,"
                + "\"stat-available-memory\":600000000,\"stat-free-memory\":100000000}}";
        assertEquals(400_000_000L, BalloonStats.usedBytes(JSON.readTree(fresh), now));
        assertEquals(VmUsage.UNKNOWN, BalloonStats.usedBytes(JSON.readTree(fresh), now.plusSeconds(60)),
                "a guest that stopped answering: stale figures say nothing about now");
        // Before the guest's first report, and a kernel that does not send "available" (QEMU: 2^64-1).
        assertEquals(VmUsage.UNKNOWN, BalloonStats.usedBytes(JSON.readTree(
                "{\"last-update\":0,\"stats\":{\"stat-total-memory\":18446744073709551615}}"), now));
        assertEquals(VmUsage.UNKNOWN, BalloonStats.usedBytes(JSON.readTree("{\"last-update\":1799999990,\"stats\":"
                + "{\"stat-total-memory\":1000000000,\"stat-available-memory\":18446744073709551615}}"), now));
    }
}
