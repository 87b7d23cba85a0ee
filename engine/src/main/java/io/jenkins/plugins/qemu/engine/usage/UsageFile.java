package io.jenkins.plugins.qemu.engine.usage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;

/**
 * A VM's last sample in its folder, for {@code ps} in another process: the guest's memory, its
 * network and its disk writes are read only through the owner's QMP and SSH connections, which
 * {@code ps} never opens, so the owner leaves its last figures here at every sample. Written to
 * a temporary name and renamed, so a reader sees a whole sample or none; read back as it was.
 */
public final class UsageFile {
    private static final ObjectMapper JSON = new ObjectMapper();

    private UsageFile() {}

    /** Replaces {@code file} with {@code u}, through {@code temp} beside it. */
    public static void write(Path file, Path temp, VmUsage u) throws IOException {
        ObjectNode m = JSON.createObjectNode();
        m.put("sampledAt", u.sampledAt().toString());
        m.put("vcpuNanos", u.vcpuNanos());
        m.put("vcpuWaitNanos", u.vcpuWaitNanos());
        m.put("qemuCpuNanos", u.qemuCpuNanos());
        m.put("rssBytes", u.rssBytes());
        m.put("peakRssBytes", u.peakRssBytes());
        m.put("diskWrittenBytes", u.diskWrittenBytes());
        m.put("overlayBytes", u.overlayBytes());
        m.put("overlayGrowthBytes", u.overlayGrowthBytes());
        m.put("guestMemUsedBytes", u.guestMemUsedBytes());
        m.put("guestMemPeakBytes", u.guestMemPeakBytes());
        m.put("netRxBytes", u.netRxBytes());
        m.put("netTxBytes", u.netTxBytes());
        Files.write(temp, JSON.writeValueAsBytes(m));
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The sample in {@code file}; null if there is none or it cannot be read (a reader never fails on it). */
    public static VmUsage read(Path file) {
        try {
            JsonNode m = JSON.readTree(Files.readAllBytes(file));
            return new VmUsage(Instant.parse(m.path("sampledAt").asText()), figure(m, "vcpuNanos"),
                    figure(m, "vcpuWaitNanos"), figure(m, "qemuCpuNanos"), figure(m, "rssBytes"),
                    figure(m, "peakRssBytes"), figure(m, "diskWrittenBytes"), figure(m, "overlayBytes"),
                    figure(m, "overlayGrowthBytes"), figure(m, "guestMemUsedBytes"),
                    figure(m, "guestMemPeakBytes"), figure(m, "netRxBytes"), figure(m, "netTxBytes"));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static long figure(JsonNode m, String field) {
        JsonNode n = m.path(field);
        return n.canConvertToLong() ? n.asLong() : VmUsage.UNKNOWN;
    }
}
